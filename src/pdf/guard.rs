//! Bounds on what a PDF can make the reader do: object streams checked before lopdf inflates
//! them, every other stream capped once loaded (images emptied, bombs dropped), form XObjects
//! that draw themselves cut, and page trees that loop skipped.

use std::collections::HashSet;
use std::io::Read;
use std::time::Instant;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::{PdfError, PdfLimits};

/// The largest expansion of any filter chain we do not measure (LZW reaches ~2700:1).
const WORST_RATIO: usize = 4096;

/// Form XObjects nested deeper than this are not drawn.
const MAX_FORM_DEPTH: usize = 12;

/// Page-tree parents followed before a page counts as looping.
const MAX_PARENTS: usize = 64;

/// How many bytes a zlib stream inflates to, stopping once it passes `cap`.
fn inflated_len(data: &[u8], cap: usize) -> usize {
    let limit = cap as u64 + 1;
    let mut sink = std::io::sink();
    let n = std::io::copy(
        &mut flate2::read::ZlibDecoder::new(data).take(limit),
        &mut sink,
    );
    match n {
        Ok(n) => n as usize,
        // lopdf retries a broken zlib header as raw deflate: measure that too.
        Err(_) if data.len() > 2 => std::io::copy(
            &mut flate2::read::DeflateDecoder::new(&data[2..]).take(limit),
            &mut sink,
        )
        .map_or(0, |n| n as usize),
        Err(_) => 0,
    }
}

/// Checks the object streams in the raw bytes before lopdf loads them (lopdf inflates them
/// whole while loading): one that inflates past the cap, or all of them past the total
/// budget, refuses the document.
pub(crate) fn prescan(bytes: &[u8], limits: &PdfLimits, deadline: Instant) -> Result<(), PdfError> {
    let mut total = 0usize;
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], b"stream") {
        let keyword = from + at;
        from = keyword + 6;
        // "endstream" also contains "stream"; the data starts after the keyword's end of line.
        if keyword >= 3 && &bytes[keyword - 3..keyword] == b"end" {
            continue;
        }
        let head_start = keyword.saturating_sub(1024);
        let head = &bytes[head_start..keyword];
        let head = match rfind(head, b"obj") {
            Some(i) => &head[i..],
            None => head,
        };
        if find(head, b"/ObjStm").is_none() || find(head, b"/FlateDecode").is_none() {
            continue;
        }
        let mut start = from;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let end = find(&bytes[start..], b"endstream").map_or(bytes.len(), |i| start + i);
        if Instant::now() >= deadline {
            return Err(PdfError::TimedOut);
        }
        let n = inflated_len(&bytes[start..end], limits.max_stream_bytes);
        total += n;
        if n > limits.max_stream_bytes || total > limits.max_total_stream_bytes() {
            return Err(PdfError::TooComplex);
        }
        from = end;
    }
    Ok(())
}

/// Bounds every stream of a loaded document: image data is emptied (the reader needs none
/// and pdf-extract would parse it as drawing operators), streams that decode past the cap are
/// emptied, flate streams are inflated once here, and self-drawing forms are cut.
pub(crate) fn sanitize(
    doc: &mut Document,
    limits: &PdfLimits,
    deadline: Instant,
) -> Result<(), PdfError> {
    let cap = limits.max_stream_bytes;
    let mut total = 0usize;
    for (i, object) in doc.objects.values_mut().enumerate() {
        if i % 64 == 0 && Instant::now() >= deadline {
            return Err(PdfError::TimedOut);
        }
        let Object::Stream(stream) = object else {
            continue;
        };
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"Image");
        let filters: Vec<Vec<u8>> = stream
            .filters()
            .map(|f| f.into_iter().map(<[u8]>::to_vec).collect())
            .unwrap_or_default();
        let decoded = if is_image {
            None
        } else if filters.is_empty() {
            Some(stream.content.len()).filter(|&n| n <= cap)
        } else if filters == [b"FlateDecode".to_vec()] && stream.dict.get(b"DecodeParms").is_err() {
            let mut out = Vec::new();
            let n = flate2::read::ZlibDecoder::new(stream.content.as_slice())
                .take(cap as u64 + 1)
                .read_to_end(&mut out);
            match n {
                Ok(n) if n <= cap => {
                    stream.dict.remove(b"Filter");
                    stream.set_content(out);
                    Some(n)
                }
                Ok(_) => None,
                // Broken zlib: let lopdf's own fallback try, within the measured bound.
                Err(_) => Some(inflated_len(&stream.content, cap)).filter(|&n| n <= cap),
            }
        } else if filters.iter().any(|f| f == b"FlateDecode") {
            Some(inflated_len(&stream.content, cap) * 2).filter(|&n| n <= cap)
        } else {
            Some(stream.content.len().saturating_mul(WORST_RATIO)).filter(|&n| n <= cap)
        };
        match decoded {
            Some(n) => total += n,
            None => {
                stream.dict.remove(b"Filter");
                stream.dict.remove(b"DecodeParms");
                stream.set_content(Vec::new());
            }
        }
        if total > limits.max_total_stream_bytes() {
            return Err(PdfError::TooComplex);
        }
    }
    cut_form_cycles(doc);
    Ok(())
}

/// Empties form XObjects that would draw themselves (directly, through other forms, or
/// through inherited resources) or nest too deep: pdf-extract follows `Do` by recursion.
fn cut_form_cycles(doc: &mut Document) {
    let forms: Vec<ObjectId> = doc
        .objects
        .iter()
        .filter_map(|(&id, object)| match object {
            Object::Stream(s)
                if s.dict
                    .get(b"Subtype")
                    .and_then(Object::as_name)
                    .is_ok_and(|n| n == b"Form") =>
            {
                Some(id)
            }
            _ => None,
        })
        .collect();
    let mut cut: HashSet<ObjectId> = HashSet::new();
    for &form in &forms {
        let mut stack = Vec::new();
        visit(doc, form, &mut stack, &mut cut);
    }
    for id in cut {
        if let Some(Object::Stream(stream)) = doc.objects.get_mut(&id) {
            stream.dict.remove(b"Filter");
            stream.dict.remove(b"DecodeParms");
            stream.set_content(Vec::new());
        }
    }
}

fn visit(doc: &Document, form: ObjectId, stack: &mut Vec<ObjectId>, cut: &mut HashSet<ObjectId>) {
    if cut.contains(&form) {
        return;
    }
    if stack.contains(&form) || stack.len() >= MAX_FORM_DEPTH {
        if let Some(&parent) = stack.last() {
            cut.insert(parent);
        }
        return;
    }
    let Ok(Object::Stream(stream)) = doc.get_object(form) else {
        return;
    };
    let resources = stream
        .dict
        .get(b"Resources")
        .ok()
        .and_then(|r| doc.dereference(r).ok())
        .and_then(|(_, r)| r.as_dict().ok());
    let Some(resources) = resources else {
        // Without resources of its own a form draws with its caller's: any `Do` may be itself.
        if has_operator(&stream.content, b"Do") {
            cut.insert(form);
        }
        return;
    };
    stack.push(form);
    for child in xobjects(doc, resources) {
        visit(doc, child, stack, cut);
    }
    stack.pop();
}

/// The object ids of the XObjects named in a resource dictionary.
fn xobjects(doc: &Document, resources: &Dictionary) -> Vec<ObjectId> {
    let Some(dict) = resources
        .get(b"XObject")
        .ok()
        .and_then(|x| doc.dereference(x).ok())
        .and_then(|(_, x)| x.as_dict().ok())
    else {
        return Vec::new();
    };
    dict.iter()
        .filter_map(|(_, v)| v.as_reference().ok())
        .collect()
}

/// Whether a content stream uses `op` as an operator (a whole token).
fn has_operator(content: &[u8], op: &[u8]) -> bool {
    content
        .split(|b| b.is_ascii_whitespace() || b"[]()<>/".contains(b))
        .any(|token| token == op)
}

/// Whether a page's chain of parents ends without looping (pdf-extract follows it by recursion).
pub(crate) fn page_is_sound(doc: &Document, page: ObjectId) -> bool {
    let mut seen = HashSet::new();
    let mut current = Some(page);
    while let Some(id) = current {
        if !seen.insert(id) || seen.len() > MAX_PARENTS {
            return false;
        }
        current = doc
            .get_object(id)
            .and_then(Object::as_dict)
            .ok()
            .and_then(|d| d.get(b"Parent").ok())
            .and_then(|p| p.as_reference().ok());
    }
    true
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflating_stops_just_past_the_cap() {
        let bomb = zlib(&vec![0u8; 4 << 20]);
        assert_eq!(inflated_len(&bomb, 1000), 1001);
        assert_eq!(inflated_len(&zlib(b"hello"), 1000), 5);
        assert_eq!(inflated_len(b"not zlib at all", 1000), 0);
    }

    #[test]
    fn operators_are_whole_tokens() {
        assert!(has_operator(b"q /Fm1 Do Q", b"Do"));
        assert!(!has_operator(b"/Done gs", b"Do"));
    }
}
