//! The `--jsonl` batch modes as a user runs them: many lines through one process, answers in
//! input order, one answer per line whatever goes wrong with a line.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::support::fake_site::FakeSite;
use crate::support::pages;

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_linkdigest"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("LINKDIGEST_ALLOW_PRIVATE_ADDRESSES", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run linkdigest")
}

/// Runs linkdigest with `lines` on stdin, written from another thread while it runs.
fn batch(args: &[&str], lines: Vec<String>) -> Output {
    let mut input = Vec::new();
    for line in lines {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    batch_bytes(args, input)
}

/// Runs linkdigest with `input` on stdin, written from another thread while it runs.
fn batch_bytes(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        stdin.write_all(&input).expect("write stdin");
    });
    let out = child.wait_with_output().expect("linkdigest output");
    writer.join().expect("stdin writer");
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// An article page whose title says which one it is, `paragraphs` paragraphs long.
fn page(n: usize, paragraphs: usize) -> String {
    let text = format!(
        "Story {n} goes on with a sentence long enough to count as the text of an article."
    );
    let body = vec![text.as_str(); paragraphs];
    pages::article(&format!("Story number {n}"), &body)
}

#[test]
fn extract_jsonl_keeps_input_order_when_the_work_is_uneven() {
    // Big and tiny pages interleaved on three workers: later small ones finish first.
    let lines: Vec<String> = (0..60)
        .map(|n| {
            let paragraphs = if n % 7 == 0 { 3_000 } else { 3 };
            json!({"id": n, "html": page(n, paragraphs)}).to_string()
        })
        .collect();
    let out = json_lines(&batch(&["extract", "--jsonl", "--workers", "3"], lines));
    assert_eq!(out.len(), 60);
    for (n, line) in out.iter().enumerate() {
        assert_eq!(line["id"], n, "{line}");
        assert_eq!(line["title"], format!("Story number {n}"), "{line}");
        assert!(
            line["text"]
                .as_str()
                .is_some_and(|t| t.contains(&format!("Story {n} goes on")))
        );
    }
}

#[test]
fn extract_jsonl_answers_a_bad_line_in_the_middle_and_goes_on() {
    let lines = vec![
        json!({"id": "a", "html": page(1, 4)}).to_string(),
        "{\"id\": \"broken\", \"html\": ".to_owned(),
        String::new(),
        json!({"id": "nav", "html": "<html><body><nav>Home</nav></body></html>"}).to_string(),
        json!({"id": "empty"}).to_string(),
        json!({"id": "z", "html": page(2, 4)}).to_string(),
    ];
    let out = json_lines(&batch(&["extract", "--jsonl"], lines));
    assert_eq!(out.len(), 5, "{out:?}");
    assert_eq!(out[0]["title"], "Story number 1");
    assert_eq!(out[1]["id"], Value::Null);
    assert!(
        out[1]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("line 2 is not a JSON object"))
    );
    assert_eq!(out[2]["id"], "nav");
    assert_eq!(out[2]["error"], "no article text found on that page");
    assert_eq!(out[3]["id"], "empty");
    assert_eq!(out[3]["error"], "the line has neither \"html\" nor \"url\"");
    assert_eq!(out[4]["title"], "Story number 2");
}

#[test]
fn extract_jsonl_reads_crlf_lines_escapes_and_unusual_shapes_and_refuses_bytes_that_are_not_utf8() {
    let html = page(1, 4);
    let mut input = Vec::new();
    // CRLF endings, written by hand with spaces and escapes serde_json would not write
    let escaped = serde_json::to_string(&html)
        .expect("JSON")
        .replace('<', "\\u003c")
        .replace('/', "\\/");
    input.extend_from_slice(format!("{{ \"id\" : 1 , \"html\" : {escaped} }}\r\n").as_bytes());
    // a key the batch does not know and an id that is an object: read all the same
    let other = json!({"id": {"n": 2}, "lang": "en", "html": page(2, 4)});
    input.extend_from_slice(format!("{other}\r\n").as_bytes());
    // a line that is not UTF-8, then a raw tab inside a string (not JSON)
    input.extend_from_slice(b"{\"id\": 3, \"html\": \"<p>caf\xe9</p>\"}\r\n");
    input.extend_from_slice(b"{\"id\": 4, \"html\": \"<p>a\tb</p>\"}\n");
    input.extend_from_slice(json!({"id": 5, "html": page(5, 4)}).to_string().as_bytes());
    let out = json_lines(&batch_bytes(&["extract", "--jsonl"], input));
    assert_eq!(out.len(), 5, "{out:?}");
    assert_eq!(out[0]["id"], 1);
    assert_eq!(out[0]["title"], "Story number 1");
    assert_eq!(out[1]["id"], json!({"n": 2}));
    assert_eq!(out[1]["title"], "Story number 2");
    assert_eq!(out[2], json!({"id": null, "error": "line 3 is not UTF-8"}));
    assert_eq!(out[3]["id"], Value::Null);
    assert!(
        out[3]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("line 4 is not a JSON object: control character")),
        "{}",
        out[3]
    );
    assert_eq!(out[4]["title"], "Story number 5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_jsonl_fetches_url_lines_and_keeps_their_place() {
    let site = FakeSite::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_raw(page(1, 5).into_bytes(), "text/html; charset=utf-8")
        .set_delay(Duration::from_millis(400));
    site.serve("/slow", slow).await;
    site.html("/fast", &page(3, 5)).await;
    let lines = vec![
        json!({"id": 1, "url": site.url("/slow").as_str()}).to_string(),
        json!({"id": 2, "html": page(2, 5)}).to_string(),
        json!({"id": 3, "url": site.url("/fast").as_str()}).to_string(),
        json!({"id": 4, "url": site.url("/gone").as_str()}).to_string(),
        json!({"id": 5, "url": "ftp://example.org/a"}).to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || batch(&["extract", "--jsonl"], lines))
        .await
        .expect("batch");
    let out = json_lines(&out);
    let ids: Vec<&Value> = out.iter().map(|l| &l["id"]).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(out[0]["title"], "Story number 1");
    assert_eq!(out[1]["title"], "Story number 2");
    assert_eq!(out[2]["title"], "Story number 3");
    assert!(out[3]["error"].is_string(), "{}", out[3]);
    assert!(out[4]["error"].is_string(), "{}", out[4]);
}

#[test]
fn summarize_jsonl_answers_each_line_in_order() {
    let lines: Vec<String> = (0..12)
        .map(|n| match n % 3 {
            0 => json!({"id": n, "html": pages::council_article()}).to_string(),
            1 => json!({"id": n, "text": "The council met on Monday. It approved the budget. Schools get more money. The vote was close."}).to_string(),
            _ => format!("not json {n}"),
        })
        .collect();
    let out = json_lines(&batch(&["summarize", "--jsonl", "--sentences", "2"], lines));
    assert_eq!(out.len(), 12);
    for (n, line) in out.iter().enumerate() {
        match n % 3 {
            0 => {
                assert_eq!(line["id"], n);
                assert_eq!(
                    line["title"],
                    "City council approves new budget for schools"
                );
                assert_eq!(line["summary"].as_str().map(|s| s.lines().count()), Some(2));
            }
            1 => assert_eq!(line["id"], n),
            _ => assert!(
                line["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(&format!("line {} ", n + 1))),
                "{line}"
            ),
        }
    }
}

#[test]
fn a_large_input_is_streamed_each_answer_before_the_next_line_is_sent() {
    // The test sends line k+1 only after reading the answer to line k: a batch that waited
    // for the end of its input (or held its output back) would never answer.
    let mut child = spawn(&["extract", "--jsonl"]);
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (answers, answered) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if answers.send(line).is_err() {
                return;
            }
        }
    });
    let big = page(0, 400);
    for n in 0..200 {
        let html = if n % 10 == 0 { big.clone() } else { page(n, 3) };
        let line = json!({"id": n, "html": html}).to_string();
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush stdin");
        let answer = answered
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no answer to line {n} before the next was sent"));
        let answer: Value = serde_json::from_str(&answer).expect("a JSON line");
        assert_eq!(answer["id"], n);
    }
    drop(stdin);
    assert!(child.wait().expect("exit").success());
}

#[test]
fn extract_jsonl_sees_as_much_markup_as_extract_file_under_the_markup_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("long.html");
    std::fs::write(&path, page(1, 2_000)).expect("write page");
    let html = std::fs::read_to_string(&path).expect("read page");
    let limit = [("LINKDIGEST_MAX_MARKUP_BYTES", "65536")];
    let run = |args: &[&str], input: Vec<u8>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_linkdigest"))
            .args(args)
            .env_remove("RUST_LOG")
            .envs(limit)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run linkdigest");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&input).expect("write stdin");
        drop(stdin);
        child.wait_with_output().expect("linkdigest output")
    };
    let file = run(
        &["extract", "--json", path.to_str().expect("a UTF-8 path")],
        Vec::new(),
    );
    let file: Value = serde_json::from_slice(&file.stdout).expect("a JSON object");
    let line = json!({"id": "long", "html": html}).to_string() + "\n";
    let batch = json_lines(&run(&["extract", "--jsonl"], line.into_bytes()));
    let text = file["text"].as_str().expect("text");
    // the limit cut the page: far fewer than its 2,000 paragraphs were read
    assert!(text.matches("Story 1 goes on").count() < 1_000, "{text}");
    assert_eq!(batch[0]["text"].as_str(), Some(text));
}
