//! Which responses are web pages: the Content-Type rules, and sniffing when it is missing.

use super::{FetchError, PageKind};

/// What the Content-Type header says about a response, before its body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declared {
    /// A type we read.
    Page(PageKind),
    /// No useful type: decide from the first bytes of the body.
    Sniff,
}

/// Applies the content-type rules to a Content-Type header value (or its absence).
pub(crate) fn from_header(value: Option<&str>) -> Result<Declared, FetchError> {
    let essence = value.map(essence).unwrap_or_default();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Ok(Declared::Page(PageKind::Html)),
        "text/plain" => Ok(Declared::Page(PageKind::PlainText)),
        "application/pdf" | "application/x-pdf" => Ok(Declared::Page(PageKind::Pdf)),
        "" | "application/octet-stream" | "application/unknown" | "unknown/unknown" | "*/*" => {
            Ok(Declared::Sniff)
        }
        _ => Err(FetchError::UnsupportedContent(essence)),
    }
}

/// The `charset` parameter of a Content-Type header value, if any.
pub(crate) fn charset_param(value: &str) -> Option<&str> {
    value.split(';').skip(1).find_map(|param| {
        let (name, val) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| val.trim().trim_matches(|c| c == '"' || c == '\''))
            .filter(|v| !v.is_empty())
    })
}

/// How many leading bytes [`sniff`] looks at.
pub(crate) const SNIFF_BYTES: usize = 1024;

/// Decides from the first bytes of a body served without a useful Content-Type.
pub(crate) fn sniff(body: &[u8]) -> Result<PageKind, FetchError> {
    let head = &body[..body.len().min(SNIFF_BYTES)];
    let start = head
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(head)
        .trim_ascii_start();
    if start.starts_with(b"%PDF-") {
        return Ok(PageKind::Pdf);
    }
    let lower = start.to_ascii_lowercase();
    if lower.starts_with(b"<!doctype html") || contains(&lower, b"<html") {
        return Ok(PageKind::Html);
    }
    // NUL bytes do not occur in text in the encodings we decode without a BOM.
    if head.contains(&0) {
        return Err(FetchError::UnsupportedContent(
            "application/octet-stream".to_owned(),
        ));
    }
    Ok(PageKind::PlainText)
}

/// The lowercased `type/subtype` of a Content-Type value, without parameters.
fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_page_types_are_read_whatever_their_parameters() {
        let cases = [
            ("text/html", PageKind::Html),
            ("text/html; charset=utf-8", PageKind::Html),
            ("TEXT/HTML;charset=windows-1251", PageKind::Html),
            ("application/xhtml+xml", PageKind::Html),
            ("text/plain; charset=us-ascii", PageKind::PlainText),
        ];
        for (value, kind) in cases {
            assert_eq!(
                from_header(Some(value)),
                Ok(Declared::Page(kind)),
                "{value}"
            );
        }
    }

    #[test]
    fn pdfs_are_read_and_other_types_refused_with_their_own_reason() {
        assert_eq!(
            from_header(Some("application/pdf")),
            Ok(Declared::Page(PageKind::Pdf))
        );
        let err = from_header(Some("image/jpeg")).unwrap_err();
        assert_eq!(err.to_string(), "that link is an image, not a web page");
        let err = from_header(Some("application/json; charset=utf-8")).unwrap_err();
        assert_eq!(err.to_string(), "that link is JSON data, not a web page");
        let err = from_header(Some("text/xml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "that link is an XML document, not a web page"
        );
    }

    #[test]
    fn missing_or_generic_types_are_sniffed() {
        assert_eq!(from_header(None), Ok(Declared::Sniff));
        assert_eq!(from_header(Some("")), Ok(Declared::Sniff));
        assert_eq!(
            from_header(Some("application/octet-stream")),
            Ok(Declared::Sniff)
        );
    }

    #[test]
    fn sniffing_finds_html_pdf_text_and_binary() {
        assert_eq!(
            sniff(b"  <!DOCTYPE html><title>x</title>"),
            Ok(PageKind::Html)
        );
        assert_eq!(
            sniff(b"\xEF\xBB\xBF<HTML lang=en><body>hi"),
            Ok(PageKind::Html)
        );
        assert_eq!(sniff(b"<!-- a comment --><html>"), Ok(PageKind::Html));
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3"), Ok(PageKind::Pdf));
        assert_eq!(
            sniff(b"Just some words.\nAnd more."),
            Ok(PageKind::PlainText)
        );
        let err = sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err();
        assert_eq!(
            err.to_string(),
            "that link is a binary file, not a web page"
        );
    }

    #[test]
    fn charset_parameter_is_found_in_any_spelling() {
        assert_eq!(
            charset_param("text/html; charset=windows-1251"),
            Some("windows-1251")
        );
        assert_eq!(
            charset_param("text/html;Charset=\"KOI8-R\""),
            Some("KOI8-R")
        );
        assert_eq!(
            charset_param("text/html; boundary=x; charset=utf-8 "),
            Some("utf-8")
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("text/html; charset="), None);
    }
}
