//! The `linkdigest` command as a user runs it: offline, on files and stdin.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn linkdigest(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_linkdigest"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run linkdigest");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("linkdigest output")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn summarize_prints_title_site_time_and_bullets() {
    let out = linkdigest(&["summarize", "tests/fixtures/seed.html"], "");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Belarus and Russia in a regional security stance")
    );
    assert!(
        lines.next().is_some_and(|l| l.ends_with("min read")),
        "{text}"
    );
    let bullets = text.lines().filter(|l| l.starts_with("• ")).count();
    assert!((2..=3).contains(&bullets), "{text}");
}

#[test]
fn summarize_json_has_the_digest_and_the_expanded_view() {
    let out = linkdigest(
        &[
            "summarize",
            "--json",
            "--length",
            "short",
            "tests/fixtures/seed.html",
        ],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json["title"],
        "Belarus and Russia in a regional security stance"
    );
    assert_eq!(json["lang"], "en");
    let digest = json["digest"].as_array().expect("digest[]");
    let expanded = json["expanded"].as_array().expect("expanded[]");
    assert!((1..=2).contains(&digest.len()));
    assert!(expanded.len() > digest.len());
    assert!(json["reading_minutes"].as_u64().is_some_and(|m| m >= 1));
}

#[test]
fn summarize_sentences_gives_exactly_that_many() {
    let seed = linkdigest(
        &[
            "summarize",
            "--json",
            "--sentences",
            "4",
            "tests/fixtures/seed.html",
        ],
        "",
    );
    let json: serde_json::Value = serde_json::from_slice(&seed.stdout).expect("JSON");
    assert_eq!(json["digest"].as_array().map(Vec::len), Some(4));
}

#[test]
fn jsonl_batches_survive_a_bad_line() {
    let input = [
        r#"{"id": 1, "text": "The council met on Monday. It approved the budget. Schools get more money. The vote was close."}"#,
        "this is not json",
        r#"{"id": "b", "html": "<html><body><nav>Home</nav></body></html>"}"#,
        r#"{"id": 3}"#,
    ]
    .join("\n");
    let out = linkdigest(&["summarize", "--jsonl", "--sentences", "2"], &input);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(
        lines[0]["summary"].as_str().map(|s| s.lines().count()),
        Some(2)
    );
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("line 2"))
    );
    assert_eq!(lines[2]["id"], "b");
    assert_eq!(lines[2]["error"], "no article text found on that page");
    assert_eq!(lines[3]["id"], 3);
    assert!(lines[3]["error"].is_string());
}

#[test]
fn extract_prints_the_article_as_the_summarizer_reads_it() {
    let out = linkdigest(&["extract", "tests/fixtures/seed.html"], "");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let expected = include_str!("../fixtures/seed.expected.txt");
    assert_eq!(text.trim_end(), expected.trim_end());
}

#[test]
fn extract_json_carries_the_metadata() {
    let out = linkdigest(&["extract", "--json", "tests/fixtures/seed.html"], "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json["title"],
        "Belarus and Russia in a regional security stance"
    );
    assert_eq!(json["lang"], "en");
    assert!(
        json["text"]
            .as_str()
            .is_some_and(|t| t.contains("Lukashenko"))
    );
}

#[test]
fn bad_input_gets_a_short_message_not_a_panic() {
    let out = linkdigest(&["summarize", "no/such/file.html"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("linkdigest: no/such/file.html: no such file"),
        "{err}"
    );
    let out = linkdigest(&["summarize", "ftp://example.org/a"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("only http and https"));
    let out = linkdigest(&["summarize", "-"], "%PDF-1.7 binary");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PDF"),
        "{out:?}"
    );
}

#[test]
fn a_paywalled_teaser_is_summarized_and_marked_as_a_preview() {
    let page = r#"<html lang="en"><head><title>Rates rise</title>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Rates rise", "isAccessibleForFree": false}</script>
</head><body><article><h1>Rates rise</h1>
<p>The central bank raised its main interest rate by half a point on Tuesday, the largest step in a decade.</p>
<p>Officials said inflation had stayed above target for too long and that more rises were possible.</p>
</article></body></html>"#;
    let out = linkdigest(&["summarize", "--json", "-"], page);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["preview_only"], true);
    assert!(
        json["digest"][0]
            .as_str()
            .is_some_and(|s| s.contains("half a point")),
        "{json}"
    );
    let out = linkdigest(&["summarize", "-"], page);
    assert!(
        stdout(&out).contains("1 min read · preview only (paywalled)\n"),
        "{}",
        stdout(&out)
    );
    let out = linkdigest(&["extract", "--json", "-"], page);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["preview_only"], true);

    let free = page.replace(
        "\"isAccessibleForFree\": false",
        "\"isAccessibleForFree\": true",
    );
    let out = linkdigest(&["summarize", "--json", "-"], &free);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["preview_only"], false);
}

#[test]
fn the_html_parsers_warnings_stay_out_of_a_users_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("table.html");
    let paragraph = "The council approved a new budget for public libraries on Tuesday. ";
    let html = format!(
        "<html><body><article><table>stray text in a table<tr><td>x</td></tr></table>\
         <p>{}</p></article></body></html>",
        paragraph.repeat(4)
    );
    std::fs::write(&page, html).expect("write page");
    let out = linkdigest(&["extract", page.to_str().expect("utf-8 path")], "");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("foster"), "{err}");
}

#[test]
fn summarize_json_of_a_hostile_page_stays_small() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("endless.html");
    let html = crate::support::hostile::endless_sentences(12, 4 * 1024 * 1024);
    std::fs::write(&page, html).expect("write page");
    let out = linkdigest(
        &["summarize", "--json", page.to_str().expect("utf-8 path")],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.len() < 64 * 1024, "{} bytes", out.stdout.len());
}
