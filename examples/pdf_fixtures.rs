//! Writes the PDF fixtures in `tests/fixtures/pdf/` (our own text) with lopdf.
//!
//! Run by `scripts/pdf_fixtures.sh`, which then encrypts two copies with qpdf. The output is
//! committed; tests never run this. `cargo run --example pdf_fixtures -- tests/fixtures/pdf`
#![allow(
    clippy::too_many_lines,
    reason = "the 80-line limit is for src/; test and example drivers read top-down"
)]

use std::path::{Path, PathBuf};

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, StringFormat, dictionary};

/// Page size (US Letter) in points.
const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;

/// One block of the body.
enum Item {
    Heading(&'static str),
    Para(&'static str),
}

/// One placed line: position, font resource name, size, text.
struct Line {
    x: f32,
    y: f32,
    font: &'static str,
    size: f32,
    text: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "tests/fixtures/pdf".into()),
    );
    std::fs::create_dir_all(&dir)?;
    write(&dir.join("report.pdf"), report())?;
    write(&dir.join("paper.pdf"), paper())?;
    write(&dir.join("scanned.pdf"), scanned())?;
    write(&dir.join("padded.pdf"), padded()?)?;
    println!(
        "wrote report.pdf, paper.pdf, scanned.pdf, padded.pdf in {}",
        dir.display()
    );
    Ok(())
}

fn write(path: &Path, mut doc: Document) -> Result<(), Box<dyn std::error::Error>> {
    doc.compress();
    doc.save(path)?;
    Ok(())
}

/// Wraps `text` into lines of at most `width` characters, hyphenating long words at line ends.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        let room = width.saturating_sub(len + usize::from(len > 0));
        if word.chars().count() <= room {
            if len > 0 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        let alpha = word.chars().all(char::is_alphabetic);
        if alpha && word.len() >= 9 && room >= 5 && word.len() - (room - 1) >= 3 {
            // split so both halves have at least three letters
            let cut = room - 1;
            if len > 0 {
                line.push(' ');
            }
            line.push_str(&word[..cut]);
            line.push('-');
            lines.push(std::mem::take(&mut line));
            line.push_str(&word[cut..]);
            continue;
        }
        lines.push(std::mem::take(&mut line));
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays `items` out in columns (`xs` are the columns' left edges) from `top` down to `bottom`,
/// returning the lines of each page.
fn flow(
    items: &[Item],
    xs: &[f32],
    chars: usize,
    first_top: f32,
    top: f32,
    bottom: f32,
    size: f32,
) -> Vec<Vec<Line>> {
    let leading = size * 1.3;
    let mut pages: Vec<Vec<Line>> = vec![Vec::new()];
    let mut col = 0;
    let mut y = first_top;
    let mut place = |text: String, font: &'static str, fsize: f32, gap_before: f32| {
        y -= gap_before;
        if y < bottom {
            col += 1;
            if col == xs.len() {
                col = 0;
                pages.push(Vec::new());
            }
            y = if pages.len() == 1 { first_top } else { top };
        }
        if let Some(page) = pages.last_mut() {
            page.push(Line {
                x: xs[col],
                y,
                font,
                size: fsize,
                text,
            });
        }
        y -= leading;
    };
    for item in items {
        match item {
            Item::Heading(text) => place((*text).to_owned(), "F2", size + 1.5, leading * 0.8),
            Item::Para(text) => {
                for (i, line) in wrap(text, chars).into_iter().enumerate() {
                    place(line, "F1", size, if i == 0 { leading * 0.5 } else { 0.0 });
                }
            }
        }
    }
    pages
}

/// A document of the given pages; each page's content stream writes its lines in the order
/// given by `order`, plus a running header and a page number.
fn build(title: Option<&str>, pages: Vec<Vec<Line>>, header: &str, interleave: bool) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let f1 = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let f2 = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => f1, "F2" => f2 },
    });
    let count = pages.len();
    let mut kids = Vec::new();
    for (n, mut lines) in pages.into_iter().enumerate() {
        if interleave {
            lines = alternate_columns(lines);
        }
        lines.push(Line {
            x: 72.0,
            y: PAGE_H - 40.0,
            font: "F1",
            size: 8.0,
            text: header.to_owned(),
        });
        lines.push(Line {
            x: PAGE_W / 2.0,
            y: 36.0,
            font: "F1",
            size: 8.0,
            text: format!("{}", n + 1),
        });
        let mut operations = Vec::new();
        for line in &lines {
            operations.push(Operation::new("BT", vec![]));
            operations.push(Operation::new(
                "Tf",
                vec![line.font.into(), line.size.into()],
            ));
            operations.push(Operation::new(
                "Tm",
                vec![
                    1.into(),
                    0.into(),
                    0.into(),
                    1.into(),
                    line.x.into(),
                    line.y.into(),
                ],
            ));
            operations.push(Operation::new(
                "Tj",
                vec![Object::String(win_ansi(&line.text), StringFormat::Literal)],
            ));
            operations.push(Operation::new("ET", vec![]));
        }
        let content = Content { operations }.encode().unwrap_or_default();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        })));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count as i64,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut info = dictionary! { "Producer" => Object::string_literal("linkdigest fixtures") };
    if let Some(title) = title {
        info.set("Title", Object::string_literal(title));
    }
    let info = doc.add_object(info);
    doc.trailer.set("Info", info);
    doc
}

/// Orders a page's lines left column, right column, left, right… so that only a reader that
/// looks at positions gets the reading order right.
fn alternate_columns(lines: Vec<Line>) -> Vec<Line> {
    let (mut left, mut right): (Vec<Line>, Vec<Line>) =
        lines.into_iter().partition(|l| l.x < PAGE_W / 2.0);
    let mut out = Vec::new();
    left.reverse();
    right.reverse();
    while !left.is_empty() || !right.is_empty() {
        out.extend(left.pop());
        out.extend(right.pop());
    }
    out
}

/// Text to the single-byte encoding of the standard fonts (our text is ASCII plus a few marks).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{2019}' => 0x92,
            '\u{2014}' => 0x97,
            '\u{00b7}' => 0xb7,
            c if c.is_ascii() => c as u8,
            _ => b'?',
        })
        .collect()
}

/// A one-column, two-page report with a title in the document info.
/// Bytes of the string object `padded` hangs off the catalog.
const PADDING_BYTES: usize = 8 << 20;

/// `report()` with an 8 MiB string object beside it: once qpdf packs the objects into an
/// object stream, that stream inflates past the reader's 4 MiB cap (the script keeps only
/// qpdf's output, a few kilobytes).
fn padded() -> Result<Document, lopdf::Error> {
    let mut doc = report();
    let padding = doc.add_object(Object::String(
        vec![b'x'; PADDING_BYTES],
        StringFormat::Literal,
    ));
    doc.catalog_mut()?.set("Padding", padding);
    Ok(doc)
}

fn report() -> Document {
    let items = [
        Item::Heading("Summary of findings"),
        Item::Para(
            "The Riverside Water Board tested drinking water at forty sampling stations between January and March. \
             Every station met the national limits for lead, nitrate and bacteria during the quarter. \
             Chlorine levels were steadier than last year because the new dosing pumps at the Eastbank plant \
             respond to changes in flow within minutes rather than hours.",
        ),
        Item::Para(
            "Turbidity rose briefly in February after the heavy snowmelt, when the intake at Millpond Creek carried \
             more silt than usual. Operators switched to the reserve intake for six days and the treated water \
             stayed clear throughout. The board recommends a permanent silt screen for the Millpond intake before next winter.",
        ),
        Item::Heading("Maintenance and repairs"),
        Item::Para(
            "Crews replaced eleven kilometres of cast iron mains in the Old Town district, which removes the last \
             section of pipe laid before the war. Leakage across the network fell to nine percent of the water \
             produced, down from thirteen percent a year earlier. Customer complaints about pressure dropped by a \
             quarter once the Hillcrest pumping station was rebuilt with variable speed motors.",
        ),
        Item::Para(
            "Two reservoirs were inspected by divers and found to be in good condition. The older reservoir at \
             Gallows Hill needs new roof membranes within three years, and the board has set aside funds for \
             this work in the capital programme.",
        ),
        Item::Heading("Outlook"),
        Item::Para(
            "Demand is expected to grow by two percent next year as the new housing at Station Fields is occupied. \
             The board will publish the results of its customer survey in the next quarterly report, together \
             with a plan for replacing lead service connections at the remaining three hundred homes.",
        ),
        Item::Para(
            "Residents can read the full sampling tables on the board's website and can ask for a free test of \
             their own tap water by calling the customer service line during office hours.",
        ),
    ];
    let pages = flow(&items, &[72.0], 84, 700.0, 740.0, 430.0, 11.0);
    let mut pages = pages;
    if let Some(first) = pages.first_mut() {
        first.insert(
            0,
            Line {
                x: 72.0,
                y: 730.0,
                font: "F2",
                size: 18.0,
                text: "Quarterly Water Quality Report".into(),
            },
        );
    }
    build(
        Some("Riverside Water Board: Quarterly Water Quality Report"),
        pages,
        "Riverside Water Board \u{00b7} Quarterly Report \u{00b7} First quarter",
        false,
    )
}

/// A two-column paper with an abstract, running headers, references and an appendix; its
/// title is only on the page (not in the document info).
fn paper() -> Document {
    let items = [
        Item::Heading("Abstract"),
        Item::Para(
            "We describe a method for counting migrating songbirds from the sound of their night flight calls. \
             A network of twelve rooftop microphones recorded every night for two autumn seasons, and a small \
             classifier separated thrush calls from warbler calls with ninety percent agreement with human listeners. \
             The counts track radar estimates of migration intensity closely, which suggests that cheap acoustic \
             stations can fill the gaps between weather radars.",
        ),
        Item::Heading("1 Introduction"),
        Item::Para(
            "Most songbirds migrate at night, and their numbers are hard to measure from the ground. Weather radars \
             see the mass of birds aloft but cannot tell species apart, while volunteers at dawn counting sites see \
             only the birds that land nearby. Many species give short contact calls in flight, and these calls \
             carry to the ground on calm nights.",
        ),
        Item::Para(
            "Earlier studies used a single microphone and counted calls by ear, which limits the work to a few \
             nights and a few listeners. We ask whether an inexpensive network of microphones with automatic \
             classification can produce nightly counts that agree with radar over a whole season.",
        ),
        Item::Heading("2 Recording network"),
        Item::Para(
            "Each station is a weatherproof box with a measurement microphone, a single board computer and a \
             solar panel. Stations recorded from sunset to sunrise at twenty four kilohertz and uploaded compressed \
             audio each morning over the mobile network. The twelve stations were spaced about fifteen kilometres \
             apart along the river valley, which funnels migrants in the autumn.",
        ),
        Item::Para(
            "Wind noise was the main source of false detections. Stations on flat roofs behind a parapet recorded \
             far fewer gusts than stations on pitched roofs, and we moved three stations after the first month.",
        ),
        Item::Heading("3 Classification"),
        Item::Para(
            "Candidate calls were found with an energy detector in the band between two and ten kilohertz. A \
             convolutional classifier trained on four thousand labelled calls then sorted each candidate into \
             thrushes, warblers, sparrows or noise. On a held out set of nights the classifier agreed with two \
             experienced listeners on ninety percent of calls, about as often as the listeners agreed with each other.",
        ),
        Item::Heading("4 Results"),
        Item::Para(
            "Over both seasons the network recorded one hundred and eighty thousand flight calls. Nightly call \
             counts followed the radar estimates of birds aloft with a correlation of 0.82, and the agreement was \
             best on clear nights with light northerly winds. Thrush calls peaked in early October and warbler calls \
             a month earlier, matching the timing known from ringing stations.",
        ),
        Item::Para(
            "On overcast nights birds flew lower and called more often, so counts rose faster than the radar \
             estimates. A simple correction for cloud cover removed most of this bias.",
        ),
        Item::Heading("5 Conclusion"),
        Item::Para(
            "A dozen inexpensive stations produced nightly migration counts that agree with radar and add the \
             species detail that radar lacks. We publish the station design and the classifier so that other \
             groups can extend the network to new valleys.",
        ),
        Item::Heading("References"),
        Item::Para(
            "[1] A. Fieldfare and B. Redwing. Night calls of thrushes over lowland valleys. Journal of Imaginary Results, 1:1-12, 2021.",
        ),
        Item::Para(
            "[2] C. Chiffchaff. Radar measures of autumn migration in river corridors. Proceedings of the Notional Society, 4:22-31, 2023.",
        ),
        Item::Para(
            "[3] D. Wren. Counting birds by ear: the reliability of listeners. Invented Ornithology Letters, 7:5-9, 2024.",
        ),
        Item::Heading("Appendix A Station parts list"),
        Item::Para(
            "The parts list gives the microphone capsule, the enclosure, the computer board and the solar regulator \
             with their prices in the year of purchase, and the wiring of the power supply in full detail.",
        ),
    ];
    let mut pages = flow(&items, &[56.0, 316.0], 46, 640.0, 740.0, 72.0, 9.5);
    if let Some(first) = pages.first_mut() {
        first.insert(
            0,
            Line {
                x: 56.0,
                y: 700.0,
                font: "F2",
                size: 18.0,
                text: "Counting Night Migrants by Their Flight Calls".into(),
            },
        );
        first.insert(
            1,
            Line {
                x: 56.0,
                y: 676.0,
                font: "F1",
                size: 11.0,
                text: "Ada Lark and Ben Starling, Valley Bird Observatory".into(),
            },
        );
    }
    build(
        None,
        pages,
        "Journal of Imaginary Results \u{00b7} Volume 3 \u{00b7} 2026",
        true,
    )
}

/// One page holding only a greyscale image, as a scanner makes: no text layer.
fn scanned() -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let (w, h) = (120u32, 160u32);
    let pixels: Vec<u8> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            if y % 8 < 2 && x > 10 && x < 110 {
                40
            } else {
                235
            }
        })
        .collect();
    let image = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        pixels,
    ));
    let content = Content {
        operations: vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    500.into(),
                    0.into(),
                    0.into(),
                    700.into(),
                    56.into(),
                    46.into(),
                ],
            ),
            Operation::new("Do", vec!["Im1".into()]),
            Operation::new("Q", vec![]),
        ],
    }
    .encode()
    .unwrap_or_default();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc
}
