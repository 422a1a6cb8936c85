//! `linkdigest extract`: the cleaned article text the summarizer reads.

use std::process::ExitCode;
use std::time::Instant;

use linkdigest::config::Config;
use linkdigest::extract::{self, Article};
use linkdigest::fetch::{Fetcher, PageKind};
use linkdigest::pdf;
use serde::Serialize;

use super::ExtractArgs;
use super::batch::{self, Threads};
use super::input::{self, Source};

/// Prints the article of each input; one failing input does not stop the others.
pub async fn run(config: &Config, args: ExtractArgs) -> anyhow::Result<ExitCode> {
    if args.jsonl {
        batch::extract(config, Threads::new(args.workers, config)).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let fetcher = Fetcher::new(config.fetch.clone())?;
    let mut code = ExitCode::SUCCESS;
    for (i, arg) in args.inputs.iter().enumerate() {
        match article_of(arg, &fetcher, config).await {
            Ok(article) if args.json => println!("{}", serde_json::to_string(&json(&article))?),
            Ok(article) => {
                if i > 0 {
                    println!();
                }
                print!("{}", text(&article));
            }
            Err(e) => {
                eprintln!("linkdigest: {arg}: {e:#}");
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}

async fn article_of(arg: &str, fetcher: &Fetcher, config: &Config) -> anyhow::Result<Article> {
    let doc = input::load(Source::parse(arg)?, fetcher).await?;
    let article = match doc.kind {
        PageKind::Html => extract::article_within(&doc.text, doc.url.as_ref(), &config.markup)?,
        PageKind::PlainText => extract::plain_text(&doc.text, None)?,
        PageKind::Pdf => {
            let deadline = Instant::now() + config.fetch.timeout;
            pdf::read(&doc.bytes, &config.pdf, deadline)?.article
        }
    };
    Ok(article)
}

/// The title, a blank line, then each paragraph or heading separated by blank lines.
pub fn text(article: &Article) -> String {
    let mut out = String::new();
    if !article.title.is_empty() {
        out.push_str(&article.title);
        out.push_str("\n\n");
    }
    out.push_str(&article.text());
    out.push('\n');
    out
}

/// The `--json` output of one article.
#[derive(Serialize)]
struct ArticleJson<'a> {
    title: &'a str,
    site: Option<&'a str>,
    byline: Option<&'a str>,
    published: Option<&'a str>,
    lang: Option<&'a str>,
    canonical_url: Option<&'a str>,
    /// The page shows only a paid article's preview.
    preview_only: bool,
    text: String,
}

fn json(article: &Article) -> ArticleJson<'_> {
    ArticleJson {
        title: &article.title,
        site: article.site_name.as_deref(),
        byline: article.byline.as_deref(),
        published: article.published.as_deref(),
        lang: article.lang.as_deref(),
        canonical_url: article.canonical_url.as_deref(),
        preview_only: article.preview_only,
        text: article.text(),
    }
}
