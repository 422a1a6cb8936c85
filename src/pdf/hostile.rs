//! Hostile PDF documents built byte by byte, for the tests, the fuzz seeds and the cost
//! example (`examples/pdf_cost.rs`): each targets one way a parser can be made to hang,
//! allocate without bound or overflow its stack.

use std::io::{Read, Write};

/// A named hostile document.
pub struct Sample {
    /// What the document does to a reader.
    pub name: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Every hostile sample: deep object nesting, a huge stream, compression bombs (in a page, in
/// an object stream, behind two filters, in a cross-reference stream), a reference loop, a
/// self-parented page and a form that draws itself.
pub fn samples() -> Vec<Sample> {
    vec![
        Sample {
            name: "deep nesting (100k arrays)",
            bytes: deep_nesting(100_000),
        },
        Sample {
            name: "huge stream (12 MB of operators)",
            bytes: huge_stream(12 << 20),
        },
        Sample {
            name: "large stream (3.9 MB of text, under the cap)",
            bytes: huge_stream((4 << 20) - (128 << 10)),
        },
        Sample {
            name: "compression bomb (256 MB page)",
            bytes: compression_bomb(256 << 20),
        },
        Sample {
            name: "object-stream bomb (256 MB)",
            bytes: object_stream_bomb(256 << 20),
        },
        Sample {
            name: "object-stream bomb behind two filters (64 MB)",
            bytes: chained_object_stream_bomb(64 << 20),
        },
        Sample {
            name: "cross-reference stream bomb (64 MB)",
            bytes: xref_stream_bomb(64 << 20),
        },
        Sample {
            name: "reference loop",
            bytes: reference_loop(),
        },
        Sample {
            name: "self-drawing form",
            bytes: self_drawing_form(),
        },
    ]
}

/// A one-page document whose content stream shows `lines` of text (ASCII, no parentheses).
pub fn text_page(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 11 Tf 14 TL 72 720 Td\n");
    for line in lines {
        content.push_str(&format!("({line}) Tj T*\n"));
    }
    content.push_str("ET\n");
    document(&[
        catalog(),
        pages(),
        page("/Contents 5 0 R"),
        font(),
        stream("", content.as_bytes()),
    ])
}

/// Assembles numbered objects (the first is object 1) into a file with a cross-reference table.
pub fn document(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.5\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn catalog() -> Vec<u8> {
    b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()
}

fn pages() -> Vec<u8> {
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>".to_vec()
}

fn page(rest: &str) -> Vec<u8> {
    format!("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> {rest} >>")
        .into_bytes()
}

fn font() -> Vec<u8> {
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec()
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< /Length {} {dict} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

fn zlib(mut data: impl std::io::Read) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let mut chunk = vec![0u8; 1 << 20];
    while let Ok(n) = data.read(&mut chunk) {
        if n == 0 || encoder.write_all(&chunk[..n]).is_err() {
            break;
        }
    }
    encoder.finish().unwrap_or_default()
}

/// A text page plus an object of `depth` nested arrays.
pub fn deep_nesting(depth: usize) -> Vec<u8> {
    let mut nested = "[".repeat(depth).into_bytes();
    nested.extend_from_slice("]".repeat(depth).as_bytes());
    let mut objects = vec![
        catalog(),
        pages(),
        page("/Contents 5 0 R /Extra 6 0 R"),
        font(),
        stream("", b"BT /F1 11 Tf 72 720 Td (A page of ordinary text printed next to a very deep object.) Tj ET"),
    ];
    objects.push(nested);
    document(&objects)
}

/// One page whose uncompressed content stream is `bytes` long.
pub fn huge_stream(bytes: usize) -> Vec<u8> {
    let op = b"BT /F1 11 Tf 72 700 Td (Again and again.) Tj ET\n";
    let data: Vec<u8> = op.iter().copied().cycle().take(bytes).collect();
    document(&[
        catalog(),
        pages(),
        page("/Contents 5 0 R"),
        font(),
        stream("", &data),
    ])
}

/// One page whose flate content stream inflates to `bytes` of spaces.
pub fn compression_bomb(bytes: usize) -> Vec<u8> {
    let data = zlib(std::io::repeat(b' ').take(bytes as u64));
    document(&[
        catalog(),
        pages(),
        page("/Contents 5 0 R"),
        font(),
        stream("/Filter /FlateDecode", &data),
    ])
}

/// A text page plus an object stream that inflates to `bytes` (lopdf inflates those whole
/// while loading).
pub fn object_stream_bomb(bytes: usize) -> Vec<u8> {
    let data = zlib(std::io::repeat(b' ').take(bytes as u64));
    document(&[
        catalog(),
        pages(),
        page("/Contents 5 0 R"),
        font(),
        stream("", b"BT /F1 11 Tf 72 720 Td (A page beside a bomb.) Tj ET"),
        stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &data),
    ])
}

/// An object stream inflating to `bytes` behind two Flate filters: the first layer is small.
pub fn chained_object_stream_bomb(bytes: usize) -> Vec<u8> {
    let data = zlib(zlib(std::io::repeat(b' ').take(bytes as u64)).as_slice());
    document(&[
        catalog(),
        pages(),
        page("/Contents 5 0 R"),
        font(),
        stream("", b"BT /F1 11 Tf 72 720 Td (A page beside a bomb.) Tj ET"),
        stream(
            "/Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /FlateDecode]",
            &data,
        ),
    ])
}

/// A hybrid file whose trailer names a cross-reference stream inflating to `bytes` (lopdf
/// inflates it whole while it reads the cross-references).
pub fn xref_stream_bomb(bytes: usize) -> Vec<u8> {
    let data = zlib(std::io::repeat(0).take(bytes as u64));
    let mut out = document(&[
        catalog(),
        pages(),
        page("/Contents 5 0 R"),
        font(),
        stream("", b"BT /F1 11 Tf 72 720 Td (A page beside a bomb.) Tj ET"),
        stream("/Type /XRef /Size 7 /W [1 4 2] /Filter /FlateDecode", &data),
    ]);
    let at = out
        .windows(7)
        .position(|w| w == b"6 0 obj")
        .unwrap_or_default();
    let trailer = out
        .windows(14)
        .rposition(|w| w == b"/Root 1 0 R >>")
        .unwrap_or_default();
    // The trailer comes after every object: lengthening it moves no offset.
    out.splice(
        trailer..trailer + 14,
        format!("/Root 1 0 R /XRefStm {at} >>").into_bytes(),
    );
    out
}

/// References that point at each other: the contents, the page's parent and the pages' kids.
pub fn reference_loop() -> Vec<u8> {
    document(&[
        catalog(),
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 /MediaBox [0 0 612 792] /Parent 2 0 R >>"
            .to_vec(),
        b"<< /Type /Page /Parent 3 0 R /Contents 5 0 R >>".to_vec(),
        font(),
        b"6 0 R".to_vec(),
        b"5 0 R".to_vec(),
    ])
}

/// A page drawing a form XObject whose resources name the form itself.
pub fn self_drawing_form() -> Vec<u8> {
    document(&[
        catalog(),
        pages(),
        b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> /XObject << /Fm1 6 0 R >> >> /Contents 5 0 R >>".to_vec(),
        font(),
        stream("", b"/Fm1 Do"),
        stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> /XObject << /Fm1 6 0 R >> >>",
            b"BT /F1 11 Tf 72 700 Td (Forever.) Tj ET /Fm1 Do",
        ),
    ])
}
