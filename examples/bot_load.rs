//! Load on the real bot: `linkdigest run` as a separate process against a fake Bot API and a
//! fake news site, both in this process on 127.0.0.1. Prints figures; never run in CI.
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example bot_load -- --scenario cached|faults|cache|all
//! ```
//!
//! `cached` (issue 3): 1,000 link messages over 100 chats and 50 pages, latency for cached
//! links and peak RSS. `faults` (issue 6): 10,000 link messages over 1,000 chats and 500
//! pages (some slow, 404 or huge) with 5% of sends answered 429, then the same with a SIGTERM
//! in the middle and a restart on the same database; `cache` (part of `faults`): peak RSS
//! over 6,000 distinct pages with the default cache capacity and with 100.
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
#[path = "bot_load/process.rs"]
mod process;
#[path = "bot_load/site.rs"]
mod site;
#[allow(dead_code)]
#[path = "../tests/e2e/support/tg_html.rs"]
mod tg_html;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fake_telegram::{Chat, Failure, FakeTelegram, SentMessage, User};
use process::BotProcess;
use site::{Kind, Rng, Site};

/// The reply to someone over their links-a-minute allowance (src/bot/messages.rs).
const SLOW_DOWN: &str = "faster than I can read them";
/// How a private-chat reply about an unreadable link starts.
const NOTICE: &str = "Couldn't summarize";

/// What a message should get back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A digest (or, in a private chat, the slow-down answer when over the limit).
    Digest,
    /// A short reason (private chat, unreadable link).
    Notice,
    /// Nothing (group, unreadable link: no spam).
    Nothing,
}

/// One message to queue: who sends which page where.
struct Planned {
    chat: Chat,
    user: User,
    page: usize,
    expect: Expect,
}

/// A scenario's traffic.
struct Plan {
    title: &'static str,
    kinds: Vec<Kind>,
    messages: Vec<Planned>,
    /// Messages queued per second.
    rate: usize,
    /// Share of `sendMessage` calls answered 429 retry_after 1.
    fail_sends: f64,
    /// Settings on top of the common ones.
    env: Vec<(String, String)>,
    /// Queue index at which the bot gets SIGTERM and is restarted on the same database.
    restart_at: Option<usize>,
    /// How long to wait for the replies after the last message is queued.
    patience: Duration,
}

/// Issue 3: 1,000 link messages over 100 chats (70 private, 30 groups) and 50 fast pages.
/// Each group gets 10 different links (a repeat in a group is not answered by design);
/// private chats repeat links freely. Default per-user and per-chat limits: nobody exceeds them.
fn cached_plan() -> Plan {
    let pages = 50;
    let chats: Vec<(Chat, bool)> = (0..100)
        .map(|c| {
            if c < 70 {
                (Chat::private(1000 + c), true)
            } else {
                (Chat::group(-5000 - c), false)
            }
        })
        .collect();
    let mut rng = Rng(42);
    let messages = (0..1000)
        .map(|i| {
            let (chat, private) = chats[i % 100].clone();
            let round = i / 100;
            let page = if private {
                rng.below(pages)
            } else {
                (i % 100 * 7 + round * 3) % pages
            };
            let user = if private {
                User::new(chat.id as u64, "Reader")
            } else {
                User::new(200_000 + (i % 100 * 3 + round % 3) as u64, "Member")
            };
            Planned {
                chat,
                user,
                page,
                expect: Expect::Digest,
            }
        })
        .collect();
    Plan {
        title: "cached: 1,000 links, 100 chats, 50 pages",
        kinds: vec![Kind::Ok; pages],
        messages,
        rate: 200,
        fail_sends: 0.0,
        env: Vec::new(),
        restart_at: None,
        patience: Duration::from_secs(60),
    }
}

/// Issue 6: 10,000 link messages over 1,000 chats (700 private, 300 groups) and 500 pages:
/// 10% slow (1-3 s), 5% 404, 2% huge (> 5 MiB). Groups get distinct links. Every 50th message
/// comes from one of 4 private "spammers" (50 links each) who exceed the default 20 links a
/// minute on purpose; their refusals are counted apart.
fn faults_plan() -> Plan {
    let pages = 500;
    let kinds: Vec<Kind> = (0..pages)
        .map(|n| match n {
            _ if n % 50 == 7 => Kind::Huge,
            _ if n % 20 == 3 => Kind::Missing,
            _ if n % 10 == 5 => Kind::Slow(1000 + (n as u64 * 37) % 2000),
            _ => Kind::Ok,
        })
        .collect();
    let spammers: Vec<Chat> = (0..4).map(|s| Chat::private(900 + s)).collect();
    let mut sent_to_chat = vec![0usize; 1000];
    let mut rng = Rng(7);
    let messages = (0..10_000)
        .map(|i| {
            let (chat, user, page, private) = if i % 50 == 0 {
                let chat = spammers[i / 50 % 4].clone();
                let user = User::new(chat.id as u64, "Spammer");
                (chat, user, rng.below(pages), true)
            } else {
                let c = i % 1000;
                let k = sent_to_chat[c];
                sent_to_chat[c] += 1;
                if c < 700 {
                    let chat = Chat::private(10_000 + c as i64);
                    let user = User::new(chat.id as u64, "Reader");
                    (chat, user, rng.below(pages), true)
                } else {
                    let chat = Chat::supergroup(-1_000_000_000_000 - c as i64);
                    let user = User::new(300_000 + (c * 3 + k % 3) as u64, "Member");
                    (chat, user, (c * 13 + k * 41) % pages, false)
                }
            };
            let expect = match (kinds[page].summarizable(), private) {
                (true, _) => Expect::Digest,
                (false, true) => Expect::Notice,
                (false, false) => Expect::Nothing,
            };
            Planned {
                chat,
                user,
                page,
                expect,
            }
        })
        .collect();
    Plan {
        title: "faults: 10,000 links, 1,000 chats, 500 pages, 5% of sends 429",
        kinds,
        messages,
        rate: 500,
        fail_sends: 0.05,
        env: Vec::new(),
        restart_at: None,
        patience: Duration::from_secs(180),
    }
}

/// Cache bound: 6,000 distinct fast pages, one message each over 600 private chats, no
/// faults; run once with the default capacity (10,000) and once with `capacity`.
fn cache_plan(capacity: Option<usize>) -> Plan {
    let pages = 6000;
    let messages = (0..pages)
        .map(|i| {
            let chat = Chat::private(50_000 + (i % 600) as i64);
            let user = User::new(chat.id as u64, "Reader");
            Planned {
                chat,
                user,
                page: i,
                expect: Expect::Digest,
            }
        })
        .collect();
    let (title, env) = match capacity {
        Some(n) => (
            "cache bound: 6,000 distinct pages, LINKDIGEST_CACHE_CAPACITY=100",
            vec![("LINKDIGEST_CACHE_CAPACITY".to_string(), n.to_string())],
        ),
        None => (
            "cache bound: 6,000 distinct pages, default capacity (10,000)",
            Vec::new(),
        ),
    };
    Plan {
        title,
        kinds: vec![Kind::Ok; pages],
        messages,
        rate: 300,
        fail_sends: 0.0,
        env,
        restart_at: None,
        patience: Duration::from_secs(120),
    }
}

/// What one run measured.
struct Outcome {
    rows: Vec<(String, String)>,
}

impl Outcome {
    fn row(&mut self, name: &str, value: impl std::fmt::Display) {
        self.rows.push((name.to_string(), value.to_string()));
    }

    fn print(&self, title: &str) {
        let width = self.rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        println!("\n== {title}");
        for (name, value) in &self.rows {
            println!("  {name:<width$}  {value}");
        }
    }
}

/// A queued message: its chat, its message id, when it was queued.
type Queued = (i64, i32, Instant);

async fn run(plan: &Plan, binary: &Path) -> Outcome {
    let site = Site::start(plan.kinds.clone()).await.expect("fake site");
    let fake = Arc::new(FakeTelegram::start().await);
    if plan.fail_sends > 0.0 {
        fake.fail_ratio("SendMessage", plan.fail_sends, Failure::retry_after(1));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("bot.log");
    let mut env = process::base_env(fake.url().as_str(), dir.path(), "123456:LOAD", "info");
    env.extend(
        [
            ("LINKDIGEST_SENDS_PER_SECOND", "2000"),
            ("LINKDIGEST_SENDS_PER_SECOND_PER_CHAT", "100"),
            ("LINKDIGEST_SENDS_PER_MINUTE_PER_CHAT", "1000"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env.extend(plan.env.iter().cloned());

    let mut bot = BotProcess::start(binary, dir.path(), &log, &env);
    wait_for_polling(&fake).await;
    let started = Instant::now();

    let sent = Arc::new(AtomicUsize::new(0));
    let sender = tokio::spawn(queue_messages(
        fake.clone(),
        plan.messages
            .iter()
            .map(|m| (m.chat.clone(), m.user.clone(), site.url(m.page)))
            .collect(),
        plan.rate,
        sent.clone(),
    ));

    let mut first = None;
    if let Some(at) = plan.restart_at {
        while sent.load(Ordering::Relaxed) < at {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        bot.terminate();
        let stopped = Instant::now();
        let (peak, stop_time, clean) = bot.wait(Duration::from_secs(120)).await;
        let acked = fake.acknowledged_offset();
        let hits = site.hits();
        bot = BotProcess::start(binary, dir.path(), &log, &env);
        wait_for_polling(&fake).await;
        first = Some((peak, stop_time, clean, stopped, acked, hits));
    }

    let queued = sender.await.expect("sender");
    let all_queued = Instant::now();
    let deadline = all_queued + plan.patience;
    loop {
        let sent = fake.all_sent_messages();
        let replies = replies_by_message(&sent);
        let waiting = (plan.messages.iter().zip(&queued))
            .filter(|(m, (chat, id, _))| {
                m.expect != Expect::Nothing && !replies.contains_key(&(*chat, *id))
            })
            .count();
        if waiting == 0 || Instant::now() >= deadline || bot.exited() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answered_in = all_queued.duration_since(started);
    // Late or duplicate replies still have a moment to show up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    bot.terminate();
    let (peak, stop_time, clean) = bot.wait(Duration::from_secs(60)).await;

    let mut out = Outcome { rows: Vec::new() };
    report(
        &mut out,
        plan,
        &fake,
        &site,
        &queued,
        first.as_ref().map(|f| f.3),
    );
    out.row(
        "time to queue everything",
        format!("{:.1} s", answered_in.as_secs_f64()),
    );
    if let Some((peak1, stop1, clean1, _, acked1, hits1)) = &first {
        restart_report(
            &mut out,
            plan,
            &fake,
            &queued,
            *acked1,
            (hits1, &site.hits()),
        );
        out.row(
            "bot 1: peak RSS / SIGTERM to exit / clean exit",
            format!("{peak1:.1} MiB / {:.2} s / {clean1}", stop1.as_secs_f64()),
        );
    }
    out.row(
        "bot: peak RSS (VmHWM) / SIGTERM to exit / clean exit",
        format!("{peak:.1} MiB / {:.2} s / {clean}", stop_time.as_secs_f64()),
    );
    out.row(
        "acknowledged offset at the end / updates queued",
        format!("{} / {}", fake.acknowledged_offset(), queued.len()),
    );
    if std::env::var_os("BOT_LOAD_KEEP_LOG").is_some() {
        let kept = std::env::temp_dir().join(format!("bot_load_{}.log", std::process::id()));
        let _ = std::fs::copy(&log, &kept);
        out.row("bot log", kept.display());
    }
    out
}

/// Waits until a newly started bot polls for updates.
async fn wait_for_polling(fake: &FakeTelegram) {
    let before = fake.calls("GetUpdates").len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.calls("GetUpdates").len() <= before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Queues the messages at `rate` a second; returns each one's chat, id and queue time.
async fn queue_messages(
    fake: Arc<FakeTelegram>,
    messages: Vec<(Chat, User, String)>,
    rate: usize,
    sent: Arc<AtomicUsize>,
) -> Vec<Queued> {
    let mut queued = Vec::with_capacity(messages.len());
    let start = tokio::time::Instant::now();
    for (i, (chat, user, url)) in messages.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due).await;
        let text = format!("Have a look at this: {url}");
        let id = fake.send_text(&chat, &user, &text);
        queued.push((chat.id, id, Instant::now()));
        sent.store(i + 1, Ordering::Relaxed);
    }
    queued
}

fn replies_by_message(sent: &[SentMessage]) -> HashMap<(i64, i32), Vec<&SentMessage>> {
    let mut by_message: HashMap<(i64, i32), Vec<&SentMessage>> = HashMap::new();
    for message in sent {
        if let Some(to) = message.reply_to {
            by_message
                .entry((message.chat_id, to))
                .or_default()
                .push(message);
        }
    }
    by_message
}

fn quantiles(mut values: Vec<Duration>) -> String {
    if values.is_empty() {
        return "-".into();
    }
    values.sort();
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0)),
        values.len()
    )
}

fn report(
    out: &mut Outcome,
    plan: &Plan,
    fake: &FakeTelegram,
    site: &Site,
    queued: &[Queued],
    down_at: Option<Instant>,
) {
    let sent = fake.all_sent_messages();
    let replies = replies_by_message(&sent);
    let (mut digests, mut notices, mut refused) = (0, 0, 0);
    let (mut missing, mut unexpected, mut twice) = (0, 0, 0);
    let (mut all, mut cached, mut first_seen) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = vec![false; plan.kinds.len()];
    for (m, (chat, id, at)) in plan.messages.iter().zip(queued) {
        let got = replies.get(&(*chat, *id)).map_or(&[][..], Vec::as_slice);
        let repeat = std::mem::replace(&mut seen[m.page], true);
        if got.len() > 1 {
            twice += 1;
        }
        let Some(reply) = got.first() else {
            if m.expect != Expect::Nothing {
                missing += 1;
            }
            continue;
        };
        let text = reply.visible_text();
        if text.contains(SLOW_DOWN) {
            refused += 1;
        } else if text.starts_with(NOTICE) {
            notices += 1;
            if m.expect != Expect::Notice {
                unexpected += 1;
            }
        } else {
            digests += 1;
            if m.expect != Expect::Digest {
                unexpected += 1;
            }
        }
        // Updates queued after SIGTERM wait for the restart: not the running bot's latency.
        if down_at.is_some_and(|down| *at >= down) {
            continue;
        }
        let latency = reply.sent_at.saturating_duration_since(*at);
        all.push(latency);
        if repeat {
            cached.push(latency);
        } else {
            first_seen.push(latency);
        }
    }
    let expecting = (plan.messages.iter())
        .filter(|m| m.expect != Expect::Nothing)
        .count();
    let send_calls = fake.calls("SendMessage").len();
    out.row("updates queued", queued.len());
    out.row(
        "messages expecting a reply (all private, groups' readable links)",
        expecting,
    );
    out.row("replies received (successful sendMessage)", sent.len());
    out.row("  digests", digests);
    out.row("  'couldn't summarize' notices (private chats)", notices);
    out.row(
        "  refused by the per-user limit (private 'slow down')",
        refused,
    );
    out.row("replies MISSING", missing);
    out.row("messages answered more than once", twice);
    out.row("replies of the wrong kind", unexpected);
    out.row(
        "sendMessage calls answered 429 (retried)",
        send_calls.saturating_sub(sent.len()),
    );
    let scope = if down_at.is_some() {
        "latency, update queued -> reply (queued before SIGTERM)"
    } else {
        "latency, update queued -> reply (all)"
    };
    out.row(scope, quantiles(all));
    out.row(
        "  cached link (2nd+ time the URL is seen)",
        quantiles(cached),
    );
    out.row("  first time the URL is seen", quantiles(first_seen));
    let hits = site.hits();
    let mut fetches: HashMap<&str, Vec<u64>> = HashMap::new();
    for (n, kind) in plan.kinds.iter().enumerate() {
        if !seen[n] {
            continue;
        }
        let label = match kind {
            Kind::Ok => "fast",
            Kind::Slow(_) => "slow",
            Kind::Missing => "404",
            Kind::Huge => "huge",
        };
        fetches.entry(label).or_default().push(hits[n]);
    }
    let mut labels: Vec<_> = fetches.into_iter().collect();
    labels.sort();
    for (label, counts) in labels {
        let total: u64 = counts.iter().sum();
        let max = counts.iter().max().copied().unwrap_or(0);
        let min = counts.iter().min().copied().unwrap_or(0);
        out.row(
            &format!("fetches per distinct URL, {label} pages"),
            format!(
                "{} URLs, {total} fetches, min {min} max {max}",
                counts.len()
            ),
        );
    }
}

/// For the run with a restart: every update bot 1 acknowledged was answered, none twice.
fn restart_report(
    out: &mut Outcome,
    plan: &Plan,
    fake: &FakeTelegram,
    queued: &[Queued],
    acked: i64,
    (hits_before, hits_after): (&[u64], &[u64]),
) {
    let sent = fake.all_sent_messages();
    let replies = replies_by_message(&sent);
    let (mut answered, mut lost, mut twice) = (0, 0, 0);
    // Update ids are 1, 2, … in queue order; offset N acknowledges every id below N.
    let acknowledged = (acked.max(1) - 1) as usize;
    for (m, (chat, id, _)) in plan.messages.iter().zip(queued).take(acknowledged) {
        let got = replies.get(&(*chat, *id)).map_or(0, Vec::len);
        match (got, m.expect) {
            (0, Expect::Nothing) => {}
            (0, _) => lost += 1,
            (1, _) => answered += 1,
            _ => twice += 1,
        }
    }
    out.row(
        "bot 1 acknowledged (offset - 1) / queued before SIGTERM",
        format!("{acknowledged} / {}", plan.restart_at.unwrap_or(0)),
    );
    out.row("  of those answered once", answered);
    out.row("  of those LOST (acknowledged, never answered)", lost);
    out.row("  of those answered twice", twice);
    let fetched = (plan.kinds.iter().enumerate())
        .filter(|(n, k)| k.summarizable() && hits_before[*n] > 0)
        .count();
    out.row("summarizable pages fetched by bot 1", fetched);
    // Bot 2 finds bot 1's digests in the database: none of those pages is fetched again.
    let again = (plan.kinds.iter().enumerate())
        .filter(|(n, k)| {
            k.summarizable() && hits_before[*n] > 0 && hits_after[*n] > hits_before[*n]
        })
        .count();
    out.row(
        "  of those fetched again by bot 2 (after the restart)",
        again,
    );
}

fn args() -> (String, PathBuf) {
    let mut scenario = "all".to_string();
    let mut binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/linkdigest");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scenario" => scenario = args.next().unwrap_or_default(),
            "--bot" => binary = args.next().map(PathBuf::from).unwrap_or(binary),
            _ => {
                eprintln!("usage: bot_load [--scenario cached|faults|cache|all] [--bot PATH]");
                std::process::exit(2);
            }
        }
    }
    (scenario, binary)
}

#[tokio::main]
async fn main() {
    let (scenario, binary) = args();
    if !binary.exists() {
        eprintln!(
            "{} not found: build the bot first with `cargo build --release` (or pass --bot PATH)",
            binary.display()
        );
        std::process::exit(2);
    }
    println!("bot under load: {}", binary.display());
    if matches!(scenario.as_str(), "cached" | "all") {
        let plan = cached_plan();
        run(&plan, &binary).await.print(plan.title);
    }
    if matches!(scenario.as_str(), "faults" | "all") {
        let plan = faults_plan();
        run(&plan, &binary).await.print(plan.title);

        let mut restart = faults_plan();
        restart.title =
            "faults with SIGTERM after 5,000 updates and a restart on the same database";
        restart.restart_at = Some(5000);
        run(&restart, &binary).await.print(restart.title);
    }
    if matches!(scenario.as_str(), "cache" | "faults" | "all") {
        for capacity in [None, Some(100)] {
            let plan = cache_plan(capacity);
            run(&plan, &binary).await.print(plan.title);
        }
    }
}
