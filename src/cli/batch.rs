//! The `--jsonl` batch modes: one JSON object per stdin line in, one per line out.
//!
//! A bad line gets `{"id", "error"}` and the batch goes on.

use anyhow::Context;
use linkdigest::digest::{Digest, Service};
use linkdigest::extract;
use linkdigest::links::NormalizedUrl;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use url::Url;

use super::summarize::Selection;

/// One input line.
#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    id: Value,
    text: Option<String>,
    html: Option<String>,
    url: Option<String>,
}

/// Summarizes each stdin line, printing `{"id","title","summary"}` or `{"id","error"}`.
pub async fn summarize(service: &Service, selection: Selection) -> anyhow::Result<()> {
    for_each_line(|line| async move {
        let line = line?;
        let id = line.id.clone();
        match summarize_line(service, line).await {
            Ok(digest) => Ok(json!({
                "id": id,
                "title": digest.title,
                "summary": selection.sentences(&digest).join("\n"),
            })),
            Err(e) => Err((id, e)),
        }
    })
    .await
}

async fn summarize_line(service: &Service, line: Line) -> anyhow::Result<Digest> {
    if let Some(text) = line.text {
        return Ok(service.digest_text(text, None).await?);
    }
    if let Some(html) = line.html {
        let url = line.url.as_deref().and_then(|u| Url::parse(u).ok());
        return Ok(service.digest_html(html, url).await?);
    }
    if let Some(url) = line.url {
        let url = NormalizedUrl::parse(&url).with_context(|| url.clone())?;
        return Ok(service
            .get(&url, linkdigest::digest::Requester::local())
            .await?
            .as_ref()
            .clone());
    }
    anyhow::bail!("the line has none of \"text\", \"html\" or \"url\"")
}

/// Extracts each stdin line `{"id","html","url"?}`, printing `{"id","title","text"}`.
pub async fn extract() -> anyhow::Result<()> {
    for_each_line(|line| async move {
        let line = line?;
        let id = line.id.clone();
        let Some(html) = line.html else {
            return Err((id, anyhow::anyhow!("the line has no \"html\"")));
        };
        let url = line.url.as_deref().and_then(|u| Url::parse(u).ok());
        match extract::article(&html, url.as_ref()) {
            Ok(article) => Ok(json!({"id": id, "title": article.title, "text": article.text()})),
            Err(e) => Err((id, e.into())),
        }
    })
    .await
}

/// Reads stdin line by line, runs `work` on each parsed line and prints its result.
async fn for_each_line<F, Fut>(work: F) -> anyhow::Result<()>
where
    F: Fn(Result<Line, (Value, anyhow::Error)>) -> Fut,
    Fut: Future<Output = Result<Value, (Value, anyhow::Error)>>,
{
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut number = 0;
    while let Some(raw) = lines.next_line().await.context("cannot read stdin")? {
        number += 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Line>(&raw).map_err(|e| {
            (
                Value::Null,
                anyhow::anyhow!("line {number} is not a JSON object: {e}"),
            )
        });
        let out = match work(parsed).await {
            Ok(value) => value,
            Err((id, e)) => json!({"id": id, "error": format!("{e:#}")}),
        };
        println!("{out}");
    }
    Ok(())
}
