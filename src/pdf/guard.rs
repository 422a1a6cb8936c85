//! Bounds on what a PDF can make the reader do: object streams checked before lopdf inflates
//! them, every other stream capped once loaded (images emptied, bombs dropped), form XObjects
//! that draw themselves cut, and page trees that loop skipped.

use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
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

/// A stream lopdf inflates whole while it loads the file (an object stream or a
/// cross-reference stream), as byte ranges of its dictionary and its data.
struct LoadedStream {
    head: Range<usize>,
    data: Range<usize>,
    object_stream: bool,
}

/// How a stream's dictionary says it is encoded, as far as lopdf's loader goes.
#[derive(Debug, PartialEq, Eq)]
enum Encoding {
    /// No filter lopdf decodes: read as stored, no larger than the file.
    Stored,
    /// One FlateDecode: measured by inflating it against the cap.
    Flate,
    /// LZW, or Flate chained with another filter: not measured, so refused.
    Unmeasured,
}

fn encoding(head: &[u8]) -> Encoding {
    let count = |needle: &[u8]| head.windows(needle.len()).filter(|w| *w == needle).count();
    let filters = count(b"Decode").saturating_sub(count(b"DecodeParms"));
    let flate = count(b"/FlateDecode");
    if count(b"/LZWDecode") > 0 || (flate > 0 && filters > 1) {
        Encoding::Unmeasured
    } else if flate == 1 {
        Encoding::Flate
    } else {
        Encoding::Stored
    }
}

/// The object and cross-reference streams in the raw bytes.
fn loaded_streams(bytes: &[u8]) -> Vec<LoadedStream> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], b"stream") {
        let keyword = from + at;
        from = keyword + 6;
        // "endstream" also contains "stream"; the data starts after the keyword's end of line.
        if keyword >= 3 && &bytes[keyword - 3..keyword] == b"end" {
            continue;
        }
        let head_start = keyword.saturating_sub(1024);
        let head_start =
            rfind(&bytes[head_start..keyword], b"obj").map_or(head_start, |i| head_start + i);
        let head = &bytes[head_start..keyword];
        let object_stream = find(head, b"/ObjStm").is_some();
        if !object_stream && find(head, b"/XRef").is_none() {
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
        found.push(LoadedStream {
            head: head_start..keyword,
            data: start..end,
            object_stream,
        });
        from = end;
    }
    found
}

/// Checks the streams lopdf inflates whole while loading (object and cross-reference streams)
/// before it loads them: one that inflates past the cap, or all of them past the total
/// budget, refuses the document, and so does one encoded in a way that cannot be measured.
/// In an encrypted file the object streams are measured once decrypted.
pub(crate) fn prescan(bytes: &[u8], limits: &PdfLimits, deadline: Instant) -> Result<(), PdfError> {
    let streams = loaded_streams(bytes);
    let mut total = 0usize;
    for stream in &streams {
        match encoding(&bytes[stream.head.clone()]) {
            Encoding::Stored => continue,
            Encoding::Unmeasured => return Err(PdfError::TooComplex),
            Encoding::Flate => {}
        }
        if Instant::now() >= deadline {
            return Err(PdfError::TimedOut);
        }
        // An encrypted object stream is ciphertext here (it measures 0): see below.
        total += measured(&bytes[stream.data.clone()], limits, total)?;
    }
    if streams.iter().any(|s| s.object_stream) && find(bytes, b"/Encrypt").is_some() {
        measure_decrypted(bytes, &streams, limits, deadline, total)?;
    }
    Ok(())
}

/// The inflated size of one flate stream, or `TooComplex` past the cap or, with the
/// `total` before it, past the document's budget.
fn measured(data: &[u8], limits: &PdfLimits, total: usize) -> Result<usize, PdfError> {
    let n = inflated_len(data, limits.max_stream_bytes);
    if n > limits.max_stream_bytes || total + n > limits.max_total_stream_bytes() {
        return Err(PdfError::TooComplex);
    }
    Ok(n)
}

/// Measures the object streams of an encrypted file: lopdf loads a copy in which their
/// filter is renamed (same length, so every offset holds), so it decrypts them but cannot
/// inflate them, and each is measured before the real load inflates it.
fn measure_decrypted(
    bytes: &[u8],
    streams: &[LoadedStream],
    limits: &PdfLimits,
    deadline: Instant,
    mut total: usize,
) -> Result<(), PdfError> {
    let mut copy = bytes.to_vec();
    for stream in streams.iter().filter(|s| s.object_stream) {
        let head = &mut copy[stream.head.clone()];
        while let Some(at) = find(head, b"/FlateDecode") {
            head[at + b"/FlateDecod".len()] = b'X';
        }
    }
    let doc = Document::load_mem(&copy).map_err(super::load_error)?;
    for object in doc.objects.values() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let is_object_stream = stream
            .dict
            .get(b"Type")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"ObjStm");
        if !is_object_stream {
            continue;
        }
        if Instant::now() >= deadline {
            return Err(PdfError::TimedOut);
        }
        total += measured(&stream.content, limits, total)?;
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
    fn only_a_single_flate_filter_is_measured_and_chains_are_refused() {
        for (head, expected) in [
            (&b"7 0 obj << /Type /ObjStm /N 3 >>"[..], Encoding::Stored),
            (
                b"<< /Type /ObjStm /Filter /FlateDecode /DecodeParms << >> >>",
                Encoding::Flate,
            ),
            (b"<< /Type /XRef /Filter [/FlateDecode] >>", Encoding::Flate),
            (
                b"<< /Type /ObjStm /Filter /ASCII85Decode >>",
                Encoding::Stored,
            ),
            (
                b"<< /Type /ObjStm /Filter /LZWDecode >>",
                Encoding::Unmeasured,
            ),
            (
                b"<< /Filter [/FlateDecode /FlateDecode] >>",
                Encoding::Unmeasured,
            ),
            (
                b"<< /Filter [/ASCII85Decode /FlateDecode] >>",
                Encoding::Unmeasured,
            ),
        ] {
            assert_eq!(
                encoding(head),
                expected,
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn operators_are_whole_tokens() {
        assert!(has_operator(b"q /Fm1 Do Q", b"Do"));
        assert!(!has_operator(b"/Done gs", b"Do"));
    }
}
