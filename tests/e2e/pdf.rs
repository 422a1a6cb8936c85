//! PDF links and files: the committed fixtures served by the fake site and read by the CLI.

use std::process::{Command, Output};

use tempfile::TempDir;
use wiremock::ResponseTemplate;

use crate::support::bot::{PATIENCE, TestBot, bullets, edited, replies};
use crate::support::fake_site::FakeSite;
use crate::support::fake_telegram::{Chat, FakeTelegram, User};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/pdf/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fake site serving every fixture as `application/pdf` at `/NAME`, and the report once
/// more as `application/octet-stream` at `/download`.
async fn pdf_site() -> FakeSite {
    let site = FakeSite::start().await;
    for name in [
        "paper.pdf",
        "report.pdf",
        "scanned.pdf",
        "encrypted-empty.pdf",
        "encrypted-password.pdf",
        "encrypted-objstm-bomb.pdf",
    ] {
        site.serve(
            &format!("/{name}"),
            ResponseTemplate::new(200).set_body_raw(fixture(name), "application/pdf"),
        )
        .await;
    }
    site.serve(
        "/download",
        ResponseTemplate::new(200).set_body_raw(fixture("report.pdf"), "application/octet-stream"),
    )
    .await;
    site
}

#[tokio::test]
async fn a_paper_gets_a_digest_that_opens_with_its_abstract_and_expands() {
    let site = pdf_site().await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let (chat, ann) = (Chat::private(31), User::new(31, "Ann"));

    tg.send_text(&chat, &ann, site.url("/paper.pdf").as_str());
    let digest = replies(&tg, 31, 1).await.remove(0);
    assert!(
        digest
            .text
            .starts_with("<b>Counting Night Migrants by Their Flight Calls</b>\n"),
        "{}",
        digest.text
    );
    let first = digest.text.split("\n• ").nth(1).unwrap_or_default();
    assert!(
        first.starts_with("We describe a method for counting migrating songbirds"),
        "the abstract opens the digest: {}",
        digest.text
    );
    for gone in ["Journal of Imaginary Results", "Fieldfare", "Ada Lark"] {
        assert!(!digest.text.contains(gone), "{gone}: {}", digest.text);
    }
    let expand = digest.buttons[0][0].callback_data.clone().unwrap();
    assert_eq!(digest.buttons[0][0].text, "Expand");

    tg.press_button(&chat, &ann, digest.message_id, &expand);
    let expanded = edited(&tg, 31, digest.message_id, 1).await;
    assert!(bullets(&expanded) > bullets(&digest), "{}", expanded.text);
    assert!(
        expanded.text.contains("Most songbirds migrate at night"),
        "the body is summarized too: {}",
        expanded.text
    );
    assert!(!expanded.text.contains("parts list"), "{}", expanded.text);
    bot.stop().await;
}

#[tokio::test]
async fn an_unlabelled_pdf_and_one_with_an_empty_password_are_read() {
    let site = pdf_site().await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(32, "Ann");

    tg.send_text(&Chat::private(32), &ann, site.url("/download").as_str());
    tg.send_text(
        &Chat::private(32),
        &ann,
        site.url("/encrypted-empty.pdf").as_str(),
    );
    let sent = replies(&tg, 32, 2).await;
    for reply in &sent {
        assert!(
            reply
                .text
                .starts_with("<b>Riverside Water Board: Quarterly Water Quality Report</b>\n"),
            "{}",
            reply.text
        );
        assert!(
            reply.text.contains("Riverside Water Board"),
            "{}",
            reply.text
        );
        assert!(!reply.text.contains("First quarter"), "{}", reply.text);
    }
    bot.stop().await;
}

#[tokio::test]
async fn a_scan_or_a_locked_pdf_gets_its_reason_in_private_and_silence_in_a_group() {
    let site = pdf_site().await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(33, "Ann");

    tg.send_text(&Chat::private(33), &ann, site.url("/scanned.pdf").as_str());
    let reason = &replies(&tg, 33, 1).await[0];
    assert!(
        reason.text.ends_with("that PDF has no text layer."),
        "{}",
        reason.text
    );
    assert!(reason.buttons.is_empty());
    tg.send_text(
        &Chat::private(33),
        &ann,
        site.url("/encrypted-password.pdf").as_str(),
    );
    let reason = &replies(&tg, 33, 2).await[1];
    assert!(
        reason.text.ends_with("that PDF is encrypted."),
        "{}",
        reason.text
    );
    tg.send_text(
        &Chat::private(33),
        &ann,
        site.url("/encrypted-objstm-bomb.pdf").as_str(),
    );
    let reason = &replies(&tg, 33, 3).await[2];
    assert!(
        reason.text.ends_with("that PDF is too complex to read."),
        "{}",
        reason.text
    );

    let group = Chat::group(-3300);
    tg.send_text(&group, &ann, site.url("/scanned.pdf?again").as_str());
    tg.send_text(&group, &ann, "/settings");
    let said = replies(&tg, group.id, 1).await;
    tokio::time::sleep(PATIENCE / 20).await;
    let said_later = tg.sent_messages(group.id);
    assert_eq!(said_later.len(), 1, "only the command: {said_later:#?}");
    assert!(said[0].text.starts_with("Settings for this chat:"));
    bot.stop().await;
}

fn linkdigest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linkdigest"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("LINKDIGEST_ALLOW_PRIVATE_ADDRESSES", "true")
        .output()
        .expect("run linkdigest")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_cli_summarizes_and_extracts_pdf_files() {
    let out = linkdigest(&["summarize", "tests/fixtures/pdf/paper.pdf"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Counting Night Migrants by Their Flight Calls")
    );
    assert!(
        text.contains("• We describe a method for counting migrating songbirds"),
        "{text}"
    );

    let out = linkdigest(&["extract", "tests/fixtures/pdf/report.pdf"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "Riverside Water Board: Quarterly Water Quality Report\n\nSummary of findings\n\n"
        ),
        "{text}"
    );
    assert!(!text.contains("First quarter"), "{text}");

    let out = linkdigest(&["extract", "tests/fixtures/pdf/scanned.pdf"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "linkdigest: tests/fixtures/pdf/scanned.pdf: that PDF has no text layer"
    );
}

#[tokio::test]
async fn summarize_jsonl_reads_a_pdf_link() {
    let site = pdf_site().await;
    let line = format!("{{\"id\":1,\"url\":\"{}\"}}\n", site.url("/paper.pdf"));
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_linkdigest"))
            .args(["summarize", "--jsonl"])
            .env_remove("RUST_LOG")
            .env("LINKDIGEST_ALLOW_PRIVATE_ADDRESSES", "true")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run linkdigest");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(line.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("output")
    })
    .await
    .expect("join");
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON line");
    assert_eq!(json["id"], 1);
    assert_eq!(
        json["title"],
        "Counting Night Migrants by Their Flight Calls"
    );
    assert!(
        json["summary"]
            .as_str()
            .is_some_and(|s| s.contains("We describe a method")),
        "{json}"
    );
}
