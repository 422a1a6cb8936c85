//! One group floods the bot with commands; does anyone else notice? Runs the release bot
//! (`linkdigest run`) as a separate process against a fake Bot API and a fake site, both in
//! this process on 127.0.0.1, twice: idle, then while one group sends 300 `/settings` in a
//! burst. Prints the latency of links in 20 other chats (n = 200 replies each run), the ratio
//! flooded p99 / idle p99 (target <= 1.5) and each run's peak RSS (target: within 10 MB).
//! `--mode polling` (the default): the bot long-polls the fake. `--mode webhook`: the bot runs
//! with `--webhook URL --listen 127.0.0.1:PORT` and the fake POSTs each update to it with the
//! secret header, as Telegram does. Never run in CI.
//!
//! ```sh
//! cargo build --release --bins --examples
//! cargo run --release --example flood -- [--mode polling|webhook] [--bot PATH]
//! ```
#![allow(
    clippy::too_many_lines,
    reason = "the 80-line limit is for src/; test and example drivers read top-down"
)]

#[allow(dead_code)]
#[path = "../tests/e2e/support/autolink.rs"]
mod autolink;
#[allow(dead_code)]
#[path = "../tests/e2e/support/fake_telegram.rs"]
mod fake_telegram;
#[allow(dead_code)]
#[path = "../tests/e2e/support/pages.rs"]
mod pages;
#[allow(dead_code)]
#[path = "bot_load/process.rs"]
mod process;
#[allow(dead_code)]
#[path = "bot_load/site.rs"]
mod site;
#[allow(dead_code)]
#[path = "../tests/e2e/support/tg_html.rs"]
mod tg_html;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fake_telegram::{Chat, FakeTelegram, User};
use process::BotProcess;
use site::{Kind, Site};

/// Chats posting links, one link each per round.
const CHATS: usize = 20;
/// Rounds of links; CHATS × ROUNDS replies are measured.
const ROUNDS: usize = 10;
/// Between rounds: more than Telegram's one message a second per chat, so pacing adds
/// nothing to a link's latency and only the flood can.
const ROUND_GAP: Duration = Duration::from_millis(1200);
/// Commands in the flood.
const FLOOD: usize = 300;

/// How the bot receives updates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Polling,
    Webhook,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Polling => "polling",
            Mode::Webhook => "webhook",
        }
    }
}

/// The secret token the bot and the fake's deliveries share in webhook mode.
const SECRET: &str = "flood-secret";

/// What one run measured.
struct Run {
    latencies: Vec<Duration>,
    peak_mib: f64,
    flood_answers: usize,
}

#[tokio::main]
async fn main() {
    let (mode, binary) = args();
    if !binary.exists() {
        eprintln!(
            "{} not found: build the bot first with `cargo build --release` (or pass --bot PATH)",
            binary.display()
        );
        std::process::exit(2);
    }
    println!(
        "flood, {}: links in {CHATS} chats ({ROUNDS} rounds, n = {}), idle and while one group sends {FLOOD} /settings",
        mode.name(),
        CHATS * ROUNDS
    );
    let idle = run(&binary, mode, false).await;
    let flooded = run(&binary, mode, true).await;
    let (idle_p50, idle_p99) = (
        quantile(&idle.latencies, 0.5),
        quantile(&idle.latencies, 0.99),
    );
    let (flood_p50, flood_p99) = (
        quantile(&flooded.latencies, 0.5),
        quantile(&flooded.latencies, 0.99),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  idle     p50 {:>7.1} ms  p99 {:>7.1} ms  (n={})  peak RSS {:.1} MiB",
        ms(idle_p50),
        ms(idle_p99),
        idle.latencies.len(),
        idle.peak_mib
    );
    println!(
        "  flooded  p50 {:>7.1} ms  p99 {:>7.1} ms  (n={})  peak RSS {:.1} MiB",
        ms(flood_p50),
        ms(flood_p99),
        flooded.latencies.len(),
        flooded.peak_mib
    );
    println!(
        "  flooded p99 / idle p99: {:.2} (target <= 1.5)",
        ms(flood_p99) / ms(idle_p99).max(f64::MIN_POSITIVE)
    );
    println!(
        "  peak RSS flooded - idle: {:+.1} MiB (target within 10 MB)",
        flooded.peak_mib - idle.peak_mib
    );
    println!(
        "  the flooding group got {} answer(s) to {FLOOD} commands",
        flooded.flood_answers
    );
}

/// Starts a bot, warms the cache with one link per chat, then measures ROUNDS rounds of
/// links (with the flood queued just before the first round when `flood`).
async fn run(binary: &Path, mode: Mode, flood: bool) -> Run {
    let site = Site::start(vec![Kind::Ok; CHATS]).await.expect("fake site");
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("bot.log");
    // Production pacing and limits; only the fake site's address needs allowing.
    let mut env = process::base_env(fake.url().as_str(), dir.path(), "123456:FLOOD", "warn");
    let (bot, delivery) = match mode {
        Mode::Polling => {
            let bot = BotProcess::start(binary, dir.path(), &log, &env);
            wait_for_polling(&fake).await;
            (bot, None)
        }
        Mode::Webhook => {
            let listen = free_port().await;
            env.push(("LINKDIGEST_WEBHOOK_SECRET".into(), SECRET.into()));
            let args = [
                "--webhook".to_owned(),
                format!("http://{listen}/tg"),
                "--listen".to_owned(),
                listen.to_string(),
            ];
            let bot = BotProcess::start_with_args(binary, &args, dir.path(), &log, &env);
            fake.wait_for("SetWebhook", 1, Duration::from_secs(20))
                .await;
            (bot, Some(fake.deliver_to_webhook()))
        }
    };

    let chats: Vec<(Chat, User)> = (0..CHATS)
        .map(|c| {
            let id = 7000 + c as i64;
            (Chat::private(id), User::new(id as u64, "Reader"))
        })
        .collect();
    // Warm-up: every page fetched once, so the measured links are cached and only the
    // bot's own handling shows in their latency.
    let warm: Vec<(i64, i32)> = chats
        .iter()
        .enumerate()
        .map(|(c, (chat, user))| (chat.id, fake.send_text(chat, user, &site.url(c))))
        .collect();
    wait_for_replies(&fake, &warm, Duration::from_secs(60)).await;
    tokio::time::sleep(ROUND_GAP).await;

    let group = Chat::supergroup(-1_000_000_000_777);
    if flood {
        let flooder = User::new(777, "Flooder");
        for _ in 0..FLOOD {
            fake.send_text(&group, &flooder, "/settings");
        }
    }
    let mut queued = Vec::with_capacity(CHATS * ROUNDS);
    for round in 0..ROUNDS {
        for (c, (chat, user)) in chats.iter().enumerate() {
            let page = (c + round + 1) % CHATS;
            let text = format!("Round {round}: {}", site.url(page));
            let id = fake.send_text(chat, user, &text);
            queued.push((chat.id, id, Instant::now()));
            // Spread over the round, under the 30 messages a second the bot may send
            // overall, so that limit adds nothing either.
            tokio::time::sleep(ROUND_GAP / CHATS as u32).await;
        }
    }
    let ids: Vec<(i64, i32)> = queued.iter().map(|(c, id, _)| (*c, *id)).collect();
    wait_for_replies(&fake, &ids, Duration::from_secs(60)).await;

    let sent = fake.all_sent_messages();
    let latencies = queued
        .iter()
        .filter_map(|(chat, id, at)| {
            let reply = sent
                .iter()
                .find(|m| m.chat_id == *chat && m.reply_to == Some(*id))?;
            Some(reply.sent_at.saturating_duration_since(*at))
        })
        .collect::<Vec<_>>();
    if latencies.len() < queued.len() {
        eprintln!(
            "  {} of {} links got no reply in time",
            queued.len() - latencies.len(),
            queued.len()
        );
    }
    let flood_answers = fake.sent_messages(group.id).len();
    if let Some(delivery) = delivery {
        delivery.abort();
    }
    bot.terminate();
    let (peak_mib, _, clean) = bot.wait(Duration::from_secs(30)).await;
    if !clean {
        eprintln!(
            "  the bot did not exit cleanly; its log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    Run {
        latencies,
        peak_mib,
        flood_answers,
    }
}

/// Waits until each (chat, message) has a reply, or `patience` runs out.
async fn wait_for_replies(fake: &FakeTelegram, messages: &[(i64, i32)], patience: Duration) {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        let sent = fake.all_sent_messages();
        let answered = messages.iter().all(|(chat, id)| {
            sent.iter()
                .any(|m| m.chat_id == *chat && m.reply_to == Some(*id))
        });
        if answered {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until a newly started bot polls for updates.
async fn wait_for_polling(fake: &FakeTelegram) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.calls("GetUpdates").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A free local address for the bot's webhook listener (free when asked; the bot binds it
/// right after).
async fn free_port() -> std::net::SocketAddr {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free local port");
    probe.local_addr().expect("a bound address")
}

/// The `q` quantile of `values` (nearest rank); zero when empty.
fn quantile(values: &[Duration], q: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn args() -> (Mode, PathBuf) {
    let mut mode = Mode::Polling;
    let mut binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/linkdigest");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--mode", Some(m)) if m == "polling" => mode = Mode::Polling,
            ("--mode", Some(m)) if m == "webhook" => mode = Mode::Webhook,
            ("--bot", Some(path)) => binary = PathBuf::from(path),
            _ => {
                eprintln!("usage: flood [--mode polling|webhook] [--bot PATH]");
                std::process::exit(2);
            }
        }
    }
    (mode, binary)
}
