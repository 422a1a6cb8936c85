use std::time::Duration;

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/pdf/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

fn read_fixture(name: &str) -> Result<PdfArticle, PdfError> {
    read(&fixture(name), &PdfLimits::default(), soon())
}

#[test]
fn the_report_reads_as_paragraphs_under_its_info_title() {
    let pdf = read_fixture("report.pdf").unwrap();
    let article = &pdf.article;
    assert_eq!(
        article.title,
        "Riverside Water Board: Quarterly Water Quality Report"
    );
    assert_eq!(article.lang.as_deref(), Some("en"));
    let text = article.text();
    assert!(
        text.starts_with("Summary of findings\n\nThe Riverside Water Board tested drinking water"),
        "{text}"
    );
    assert!(
        !text.contains("Quarterly Report ·"),
        "running header kept: {text}"
    );
    assert!(
        !text.contains("-\n") && !text.contains("- "),
        "hyphen kept: {text}"
    );
    assert!(
        text.contains("Residents can read the full sampling tables"),
        "{text}"
    );
    assert_eq!(pdf.abstract_text, None);
}

#[test]
fn the_two_column_paper_reads_column_by_column_without_its_back_matter() {
    let pdf = read_fixture("paper.pdf").unwrap();
    let article = &pdf.article;
    assert_eq!(
        article.title,
        "Counting Night Migrants by Their Flight Calls"
    );
    let text = article.text();
    assert!(
        text.contains(
            "Most songbirds migrate at night, and their numbers are hard to measure from the ground."
        ),
        "{text}"
    );
    assert!(
        text.contains("Each station is a weatherproof box with a measurement microphone"),
        "{text}"
    );
    for gone in [
        "Journal of Imaginary Results",
        "Fieldfare",
        "parts list",
        "Ada Lark",
    ] {
        assert!(!text.contains(gone), "{gone:?} kept: {text}");
    }
    let abstract_text = pdf.abstract_text.as_deref().unwrap();
    assert!(
        abstract_text.starts_with("We describe a method for counting migrating songbirds")
            && abstract_text.ends_with("fill the gaps between weather radars."),
        "{abstract_text}"
    );
    let order: Vec<usize> = [
        "Abstract",
        "1 Introduction",
        "2 Recording",
        "3 Classification",
        "4 Results",
        "5 Conclusion",
    ]
    .iter()
    .map(|h| {
        text.find(h)
            .unwrap_or_else(|| panic!("{h} missing: {text}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}: {text}");
}

#[test]
fn a_scan_has_no_text_layer() {
    assert_eq!(read_fixture("scanned.pdf"), Err(PdfError::NoTextLayer));
}

#[test]
fn an_empty_user_password_is_opened_and_a_real_one_is_refused() {
    let report = read_fixture("report.pdf").unwrap().article.text();
    for name in ["encrypted-empty.pdf", "encrypted-objstm.pdf"] {
        let opened = read_fixture(name).unwrap();
        assert_eq!(opened.article.text(), report, "{name}");
    }
    assert_eq!(
        read_fixture("encrypted-password.pdf"),
        Err(PdfError::Encrypted)
    );
}

#[test]
fn pages_past_the_limit_are_not_read() {
    let limits = PdfLimits {
        max_pages: 1,
        ..PdfLimits::default()
    };
    let pdf = read(&fixture("report.pdf"), &limits, soon()).unwrap();
    let text = pdf.article.text();
    assert!(text.contains("Summary of findings"), "{text}");
    assert!(!text.contains("Residents can read"), "{text}");
}

#[test]
fn a_passed_deadline_reads_nothing() {
    let past = Instant::now() - Duration::from_millis(1);
    let err = read(&fixture("report.pdf"), &PdfLimits::default(), past).unwrap_err();
    assert_eq!(err, PdfError::TimedOut);
}

#[test]
fn garbage_and_truncated_files_are_broken_not_panics() {
    let limits = PdfLimits::default();
    assert_eq!(read(b"hello", &limits, soon()), Err(PdfError::Broken));
    let paper = fixture("paper.pdf");
    for cut in [10, paper.len() / 3, paper.len() / 2, paper.len() - 10] {
        let result = read(&paper[..cut], &limits, soon());
        if let Err(e) = result {
            assert!(
                matches!(e, PdfError::Broken | PdfError::NoTextLayer),
                "cut at {cut}: {e:?}"
            );
        }
    }
}

#[test]
fn a_plain_text_page_is_read() {
    let bytes = hostile::text_page(&[
        "A short page written by hand for this test.",
        "It has two lines of text and nothing else.",
    ]);
    let pdf = read(&bytes, &PdfLimits::default(), soon()).unwrap();
    assert_eq!(
        pdf.article.text(),
        "A short page written by hand for this test. It has two lines of text and nothing else."
    );
}

#[test]
fn every_hostile_sample_gets_an_answer() {
    let limits = PdfLimits::default();
    for sample in hostile::samples() {
        let result = read(&sample.bytes, &limits, soon());
        match sample.name {
            n if n.starts_with("deep nesting") => assert_eq!(
                result.map(|p| p.article.text()),
                Ok("A page of ordinary text printed next to a very deep object.".to_owned()),
                "{n}"
            ),
            n if n.starts_with("large stream") => {
                // Thousands of glyphs drawn on one spot: some text, read within the glyph cap.
                let text = result.map(|p| p.article.text()).unwrap_or_default();
                assert!(
                    text.len() > 1000 && text.len() < 40_000,
                    "{n}: {}",
                    text.len()
                );
            }
            n if n.starts_with("huge stream") || n.starts_with("compression bomb") => {
                assert_eq!(result, Err(PdfError::NoTextLayer), "{n}")
            }
            n if n.starts_with("object-stream bomb") || n.starts_with("cross-reference") => {
                assert_eq!(result, Err(PdfError::TooComplex), "{n}")
            }
            n => assert!(
                matches!(result, Err(PdfError::NoTextLayer | PdfError::Broken)),
                "{n}: {result:?}"
            ),
        }
    }
}

#[test]
fn an_object_stream_past_the_cap_is_refused_before_it_is_inflated_even_when_encrypted() {
    // The report beside an object stream that inflates to 8 MiB (qpdf's packing of an 8 MiB
    // string): in a plain file the raw bytes show it; in an encrypted one only after decryption.
    for name in ["objstm-bomb.pdf", "encrypted-objstm-bomb.pdf"] {
        assert_eq!(
            read_fixture(name).map(|pdf| pdf.article.title),
            Err(PdfError::TooComplex),
            "{name}"
        );
    }
}
