//! Which sentences of a digest the user asked for, and how they print.

use linkdigest::digest::{Digest, Length};
use serde::Serialize;

use super::SummarizeArgs;

/// Which sentences of a digest the user asked for.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    length: Length,
    expanded: bool,
    sentences: Option<usize>,
}

impl From<&SummarizeArgs> for Selection {
    fn from(args: &SummarizeArgs) -> Self {
        Selection {
            length: args.length.into(),
            expanded: args.expanded,
            sentences: args.sentences.map(usize::from),
        }
    }
}

/// The `--json` output of one digest.
#[derive(Serialize)]
pub struct DigestJson<'a> {
    title: &'a str,
    site: &'a str,
    url: Option<&'a str>,
    lang: Option<&'a str>,
    reading_minutes: u32,
    /// The page shows only a paid article's preview.
    preview_only: bool,
    digest: Vec<String>,
    expanded: Vec<String>,
}

impl Selection {
    /// The chosen sentences in article order.
    pub fn sentences(&self, digest: &Digest) -> Vec<String> {
        match self.sentences {
            Some(n) => digest.top(n),
            None => digest.view(self.length, self.expanded),
        }
    }

    /// The `--json` output of the digest.
    pub fn json<'a>(&self, digest: &'a Digest) -> DigestJson<'a> {
        DigestJson {
            title: &digest.title,
            site: &digest.site,
            url: digest.url.as_deref(),
            lang: digest.lang.as_deref(),
            reading_minutes: digest.reading_minutes,
            preview_only: digest.preview_only,
            digest: self.sentences(digest),
            expanded: digest.view(self.length, true),
        }
    }

    /// The digest as a person reads it in a terminal.
    pub fn text(&self, digest: &Digest) -> String {
        let mut out = String::new();
        if !digest.title.is_empty() {
            out.push_str(&digest.title);
            out.push('\n');
        }
        let mut about = vec![format!("{} min read", digest.reading_minutes)];
        if !digest.site.is_empty() {
            about.insert(0, digest.site.clone());
        }
        if digest.preview_only {
            about.push(linkdigest::render::PREVIEW_ONLY.to_owned());
        }
        out.push_str(&about.join(" · "));
        out.push_str("\n\n");
        for sentence in self.sentences(digest) {
            out.push_str("• ");
            out.push_str(&sentence);
            out.push('\n');
        }
        if let Some(url) = &digest.url {
            out.push('\n');
            out.push_str(url);
            out.push('\n');
        }
        out
    }
}
