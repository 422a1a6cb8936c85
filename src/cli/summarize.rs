//! `linkdigest summarize`: the digest of one page, as text or JSON.

use std::process::ExitCode;

use linkdigest::config::Config;
use linkdigest::digest::{Digest, Service};
use linkdigest::fetch::PageKind;

use super::SummarizeArgs;
use super::batch::{self, Threads};
use super::input::{self, Document, Source};
use super::selection::Selection;

/// Prints the digest of the page named by `args`.
pub async fn run(config: &Config, args: SummarizeArgs) -> anyhow::Result<ExitCode> {
    let service = Service::new(config)?;
    let selection = Selection::from(&args);
    let Some(arg) = args.input.as_deref().filter(|_| !args.jsonl) else {
        let threads = Threads::new(args.workers, config);
        batch::summarize(service, config, selection, threads).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let digest = match Source::parse(arg)? {
        Source::Web(url) => service
            .get(&url, linkdigest::digest::Requester::local())
            .await?
            .as_ref()
            .clone(),
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
    })
}
