//! `linkdigest summarize`: the digest of one page, as text or JSON.

use std::process::ExitCode;

use linkdigest::config::Config;
use linkdigest::digest::{Digest, Length, Service};
use linkdigest::fetch::PageKind;
use serde::Serialize;

use super::SummarizeArgs;
use super::batch;
use super::input::{self, Document, Source};

/// Prints the digest of the page named by `args`.
pub async fn run(config: &Config, args: SummarizeArgs) -> anyhow::Result<ExitCode> {
    let service = Service::new(config)?;
    let selection = Selection::from(&args);
    let Some(arg) = args.input.as_deref().filter(|_| !args.jsonl) else {
        batch::summarize(&service, selection).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let digest = match Source::parse(arg)? {
        Source::Web(url) => service.get(&url).await?.as_ref().clone(),
        Source::File(path) => digest_document(&service, input::read_local(Some(&path))?).await?,
        Source::Stdin => digest_document(&service, input::read_local(None)?).await?,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&selection.json(&digest))?
        );
    } else {
        print!("{}", selection.text(&digest));
    }
    Ok(ExitCode::SUCCESS)
}

/// Digests a document that did not come through the service's cache.
pub async fn digest_document(service: &Service, doc: Document) -> anyhow::Result<Digest> {
    Ok(match doc.kind {
        PageKind::Html => service.digest_html(doc.text, doc.url).await?,
        PageKind::PlainText => service.digest_text(doc.text, None).await?,
        PageKind::Pdf => service.digest_pdf(doc.bytes, doc.url).await?,
    })
}

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
struct DigestJson<'a> {
    title: &'a str,
    site: &'a str,
    url: Option<&'a str>,
    lang: Option<&'a str>,
    reading_minutes: u32,
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

    fn json<'a>(&self, digest: &'a Digest) -> DigestJson<'a> {
        DigestJson {
            title: &digest.title,
            site: &digest.site,
            url: digest.url.as_deref(),
            lang: digest.lang.as_deref(),
            reading_minutes: digest.reading_minutes,
            digest: self.sentences(digest),
            expanded: digest.view(self.length, true),
        }
    }

    /// The digest as a person reads it in a terminal.
    fn text(&self, digest: &Digest) -> String {
        let mut out = String::new();
        if !digest.title.is_empty() {
            out.push_str(&digest.title);
            out.push('\n');
        }
        let mut about = vec![format!("{} min read", digest.reading_minutes)];
        if !digest.site.is_empty() {
            about.insert(0, digest.site.clone());
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
