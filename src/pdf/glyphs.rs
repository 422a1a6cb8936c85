//! Collects the glyphs pdf-extract draws on a page, with their positions, for the layout step.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// One drawn character: where its baseline starts, how far it advances, how tall it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glyph {
    /// Left edge in page space (points from the left).
    pub x: f64,
    /// Baseline in page space (points from the bottom).
    pub y: f64,
    /// Horizontal advance in page space.
    pub advance: f64,
    /// Font size in page space.
    pub size: f64,
    /// The decoded text (usually one character).
    pub text: String,
}

/// An [`OutputDev`] that keeps the glyphs of the page being read, up to a bound.
pub(crate) struct Collector {
    /// The glyphs of the current page, in drawing order.
    pub glyphs: Vec<Glyph>,
    /// Glyphs beyond this many on one page are dropped (a page of millions of glyphs is hostile).
    max_glyphs: usize,
}

impl Collector {
    /// A collector that keeps at most `max_glyphs` glyphs of one page.
    pub fn new(max_glyphs: usize) -> Self {
        Collector {
            glyphs: Vec::new(),
            max_glyphs,
        }
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.glyphs.clear();
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        if self.glyphs.len() >= self.max_glyphs {
            // Stops the page's content stream: the rest of a hostile page is not read.
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        let scale_x = trm.m11.hypot(trm.m12);
        let scale_y = trm.m21.hypot(trm.m22);
        let glyph = Glyph {
            x: trm.m31,
            y: trm.m32,
            advance: (width * font_size + spacing) * scale_x,
            size: (font_size * scale_y).abs(),
            text: char.to_owned(),
        };
        if glyph.x.is_finite() && glyph.y.is_finite() && glyph.size.is_finite() {
            self.glyphs.push(glyph);
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
