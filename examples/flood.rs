//! One group floods the bot with commands; does anyone else notice? Runs the release bot
//! (`linkdigest run`) as a separate process against a fake Bot API and a fake site on
//! 127.0.0.1. One bot process serves `--rounds` rounds (default 5); each round has an idle
//! phase and a flooded phase (their order alternates, so drift and other load on the machine
//! fall on both alike). In a phase, 20 chats post a link each, 10 times over (200 replies);
//! in a flooded phase a fresh group sends 300 `/settings` in a burst just before. Prints the
//! pooled idle and flooded p50/p99 (n = 200 × rounds each), the ratio flooded p99 / idle p99
//! (target <= 1.5), the median and spread of the per-round ratios, the peak RSS before any
//! flood and during the flooded phases (target: within 10 MB), and the CPU time the bot, the
//! fake servers, this load generator and the rest of the machine used per phase.
//! `--mode polling` (the default): the bot long-polls the fake. `--mode webhook`: the bot runs
//! with `--webhook URL --listen 127.0.0.1:PORT` and the fake POSTs each update to it with the
//! secret header, as Telegram does. Never run in CI.
//!
//! ```sh
//! cargo build --release --bins --examples
//! cargo run --release --example flood -- [--mode polling|webhook] [--rounds N] [--bot PATH]
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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fake_telegram::{Chat, FakeTelegram, User};
use process::BotProcess;
use site::{Kind, Site};

/// Chats posting links, one link each per wave.
const CHATS: usize = 20;
/// Waves of links per phase; CHATS × WAVES replies are measured per phase.
const WAVES: usize = 10;
/// Between waves: more than Telegram's one message a second per chat, so pacing adds
/// nothing to a link's latency and only the flood can.
const WAVE_GAP: Duration = Duration::from_millis(1200);
/// Commands in a flood.
const FLOOD: usize = 300;
/// The name of the fake servers' threads, so their CPU time can be told from the generator's.
const FAKE_THREADS: &str = "fake";

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

/// What the command line asked for.
struct Args {
    mode: Mode,
    rounds: usize,
    binary: PathBuf,
}

/// What one phase measured.
struct Phase {
    latencies: Vec<Duration>,
    /// Each measured link's time in the fake's queue before the bot took it.
    queued: Vec<Duration>,
    /// Each measured link's time from the bot taking it to its reply.
    in_bot: Vec<Duration>,
    /// The slowest links: (place in the phase, latency, until taken, in the bot).
    slowest: Vec<(usize, Duration, Duration, Duration)>,
    missing: usize,
    cpu: Cpu,
    peak_rss_mib: f64,
    flood_answers: usize,
}

/// CPU time used during a phase, in milliseconds.
#[derive(Clone, Copy, Default)]
struct Cpu {
    bot: f64,
    fake: f64,
    generator: f64,
    /// Every other process on the machine (other builds, other runs).
    others: f64,
    /// The phase's wall-clock time.
    wall: f64,
}

impl std::ops::AddAssign for Cpu {
    fn add_assign(&mut self, other: Cpu) {
        self.bot += other.bot;
        self.fake += other.fake;
        self.generator += other.generator;
        self.others += other.others;
        self.wall += other.wall;
    }
}

fn main() {
    let args = args();
    if !args.binary.exists() {
        eprintln!(
            "{} not found: build the bot first with `cargo build --release` (or pass --bot PATH)",
            args.binary.display()
        );
        std::process::exit(2);
    }
    // The fake Bot API and the fake site get a runtime (and threads) of their own, so their
    // CPU time is read apart from the load generator's.
    let fake_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(FAKE_THREADS)
        .enable_all()
        .build()
        .expect("the fake servers' runtime");
    let generator = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the generator's runtime");
    let (site, fake) = fake_rt.block_on(async {
        let site = Site::start(vec![Kind::Ok; CHATS]).await.expect("fake site");
        (site, FakeTelegram::start().await)
    });
    generator.block_on(measure(&args, &site, &fake, fake_rt.handle()));
    drop(fake);
    fake_rt.shutdown_background();
}

async fn measure(args: &Args, site: &Site, fake: &FakeTelegram, fake_rt: &tokio::runtime::Handle) {
    let Args { mode, rounds, .. } = *args;
    println!(
        "flood, {}: links in {CHATS} chats, {rounds} rounds of an idle and a flooded phase \
         ({} replies each), one group sending {FLOOD} /settings per flooded phase",
        mode.name(),
        CHATS * WAVES
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("bot.log");
    // Production pacing and limits; only the fake site's address needs allowing.
    let mut env = process::base_env(fake.url().as_str(), dir.path(), "123456:FLOOD", "warn");
    let (bot, delivery) = match mode {
        Mode::Polling => {
            let bot = BotProcess::start(&args.binary, dir.path(), &log, &env);
            wait_for_polling(fake).await;
            (bot, None)
        }
        Mode::Webhook => {
            let listen = free_port().await;
            env.push(("LINKDIGEST_WEBHOOK_SECRET".into(), SECRET.into()));
            let bot_args = [
                "--webhook".to_owned(),
                format!("http://{listen}/tg"),
                "--listen".to_owned(),
                listen.to_string(),
            ];
            let bot = BotProcess::start_with_args(&args.binary, &bot_args, dir.path(), &log, &env);
            fake.wait_for("SetWebhook", 1, Duration::from_secs(20))
                .await;
            let _on_fake_threads = fake_rt.enter();
            (bot, Some(fake.deliver_to_webhook()))
        }
    };
    let rss = RssSampler::start(bot.pid());

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
    wait_for_replies(fake, warm.len(), 0, Duration::from_secs(60)).await;
    tokio::time::sleep(WAVE_GAP).await;
    let warm_peak = rss.take_peak_mib();

    let mut idle = Vec::new();
    let mut flooded = Vec::new();
    let mut first_idle_peak = None;
    for round in 0..rounds {
        // Idle first in even rounds, flooded first in odd ones.
        for flood in [round % 2 == 1, round % 2 == 0] {
            let phase = phase(fake, site, &chats, &rss, bot.pid(), round, flood).await;
            if flood {
                flooded.push(phase);
            } else {
                first_idle_peak.get_or_insert(phase.peak_rss_mib);
                idle.push(phase);
            }
        }
    }

    if let Some(delivery) = delivery {
        delivery.abort();
    }
    bot.terminate();
    let (hwm_mib, _, clean) = bot.wait(Duration::from_secs(30)).await;
    if !clean {
        eprintln!(
            "  the bot did not exit cleanly; its log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    report(
        &idle,
        &flooded,
        warm_peak,
        first_idle_peak.unwrap_or(0.0),
        hwm_mib,
    );
}

/// One phase: (when `flood`) a fresh group sends FLOOD commands, then WAVES waves of a link
/// in every chat; waits for every reply, then for the chats' pacing windows to pass.
async fn phase(
    fake: &FakeTelegram,
    site: &Site,
    chats: &[(Chat, User)],
    rss: &RssSampler,
    bot: u32,
    round: usize,
    flood: bool,
) -> Phase {
    let before = CpuReading::now(bot);
    rss.take_peak_mib();
    let sent_before = fake.sent_count();
    let group = Chat::supergroup(-1_000_000_000_777 - round as i64);
    if flood {
        let flooder = User::new(777 + round as u64, "Flooder");
        for _ in 0..FLOOD {
            fake.send_text(&group, &flooder, "/settings");
        }
    }
    let mut queued = Vec::with_capacity(CHATS * WAVES);
    for wave in 0..WAVES {
        for (c, (chat, user)) in chats.iter().enumerate() {
            let page = (c + wave + round + 1) % CHATS;
            let text = format!("Round {round} wave {wave}: {}", site.url(page));
            let id = fake.send_text(chat, user, &text);
            queued.push((chat.id, id, Instant::now()));
            // Spread over the wave, under the 30 messages a second the bot may send
            // overall, so that limit adds nothing either.
            tokio::time::sleep(WAVE_GAP / CHATS as u32).await;
        }
    }
    wait_for_replies(fake, queued.len(), sent_before, Duration::from_secs(60)).await;
    let after = CpuReading::now(bot);
    let peak_rss_mib = rss.take_peak_mib();

    let sent = fake.all_sent_messages();
    let replies: HashMap<(i64, i32), Instant> = sent[sent_before.min(sent.len())..]
        .iter()
        .filter_map(|m| Some(((m.chat_id, m.reply_to?), m.sent_at)))
        .collect();
    let mut latencies = Vec::with_capacity(queued.len());
    let (mut waited, mut in_bot, mut slowest) = (Vec::new(), Vec::new(), Vec::new());
    for (place, (chat, id, at)) in queued.iter().enumerate() {
        let Some(reply) = replies.get(&(*chat, *id)) else {
            continue;
        };
        let latency = reply.saturating_duration_since(*at);
        latencies.push(latency);
        if let Some(taken) = fake.handed_out_at(*chat, *id) {
            let (until, inside) = (
                taken.saturating_duration_since(*at),
                reply.saturating_duration_since(taken),
            );
            waited.push(until);
            in_bot.push(inside);
            slowest.push((place, latency, until, inside));
        }
    }
    slowest.sort_by_key(|&(_, latency, ..)| std::cmp::Reverse(latency));
    slowest.truncate(3);
    let flood_answers = sent.iter().filter(|m| m.chat_id == group.id).count();
    // Every chat's per-second window passes before the next phase.
    tokio::time::sleep(WAVE_GAP).await;
    Phase {
        missing: queued.len() - latencies.len(),
        latencies,
        queued: waited,
        in_bot,
        slowest,
        cpu: after.since(&before),
        peak_rss_mib,
        flood_answers,
    }
}

fn report(idle: &[Phase], flooded: &[Phase], warm_peak: f64, first_idle_peak: f64, hwm: f64) {
    let pooled = |phases: &[Phase]| -> Vec<Duration> {
        phases.iter().flat_map(|p| p.latencies.clone()).collect()
    };
    let (idle_all, flood_all) = (pooled(idle), pooled(flooded));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (name, all, phases) in [("idle", &idle_all, idle), ("flooded", &flood_all, flooded)] {
        let missing: usize = phases.iter().map(|p| p.missing).sum();
        let peak = phases.iter().map(|p| p.peak_rss_mib).fold(0.0, f64::max);
        println!(
            "  {name:<8} p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  (n={}{})  peak RSS {peak:.1} MiB",
            ms(quantile(all, 0.5)),
            ms(quantile(all, 0.99)),
            ms(quantile(all, 1.0)),
            all.len(),
            if missing > 0 {
                format!(", {missing} unanswered")
            } else {
                String::new()
            },
        );
    }
    // Where the time went: waiting on the fake's side until the bot took the update, then
    // inside the bot until the reply arrived.
    for (name, phases) in [("idle", idle), ("flooded", flooded)] {
        let queued: Vec<Duration> = phases.iter().flat_map(|p| p.queued.clone()).collect();
        let in_bot: Vec<Duration> = phases.iter().flat_map(|p| p.in_bot.clone()).collect();
        println!(
            "    {name:<8} until taken p50 {:>6.1} p99 {:>6.1} max {:>6.1} ms; in the bot p50 {:>6.1} p99 {:>6.1} max {:>6.1} ms",
            ms(quantile(&queued, 0.5)),
            ms(quantile(&queued, 0.99)),
            ms(quantile(&queued, 1.0)),
            ms(quantile(&in_bot, 0.5)),
            ms(quantile(&in_bot, 0.99)),
            ms(quantile(&in_bot, 1.0)),
        );
        let slowest: Vec<String> = phases
            .iter()
            .flat_map(|p| &p.slowest)
            .map(|&(place, latency, until, inside)| {
                format!(
                    "#{place} {:.0}={:.0}+{:.0}",
                    ms(latency),
                    ms(until),
                    ms(inside)
                )
            })
            .collect();
        println!(
            "      slowest 3 a phase (place: total=taken+bot ms): {}",
            slowest.join(" ")
        );
    }
    let ratio =
        ms(quantile(&flood_all, 0.99)) / ms(quantile(&idle_all, 0.99)).max(f64::MIN_POSITIVE);
    println!("  flooded p99 / idle p99: {ratio:.2} (target <= 1.5)");
    let mut per_round: Vec<f64> = idle
        .iter()
        .zip(flooded)
        .map(|(i, f)| {
            ms(quantile(&f.latencies, 0.99))
                / ms(quantile(&i.latencies, 0.99)).max(f64::MIN_POSITIVE)
        })
        .collect();
    per_round.sort_by(f64::total_cmp);
    let listed: Vec<String> = per_round.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "  per-round p99 ratios (n={} each): median {:.2}, min {:.2}, max {:.2} [{}]",
        CHATS * WAVES,
        per_round.get(per_round.len() / 2).copied().unwrap_or(0.0),
        per_round.first().copied().unwrap_or(0.0),
        per_round.last().copied().unwrap_or(0.0),
        listed.join(" ")
    );
    let flood_peak = flooded.iter().map(|p| p.peak_rss_mib).fold(0.0, f64::max);
    println!(
        "  peak RSS: after warm-up {warm_peak:.1} MiB, first idle phase {first_idle_peak:.1} MiB, \
         flooded phases {flood_peak:.1} MiB, whole run {hwm:.1} MiB"
    );
    println!(
        "  peak RSS flooded - idle: {:+.1} MiB (target within 10 MB)",
        flood_peak - first_idle_peak
    );
    let answers: Vec<String> = flooded
        .iter()
        .map(|p| p.flood_answers.to_string())
        .collect();
    println!(
        "  each flooding group got [{}] answer(s) to its {FLOOD} commands",
        answers.join(" ")
    );
    println!(
        "  CPU per phase (ms, mean over rounds): bot / fake servers / generator / other processes / wall"
    );
    for (name, phases) in [("idle", idle), ("flooded", flooded)] {
        let mut sum = Cpu::default();
        for p in phases {
            sum += p.cpu;
        }
        let n = phases.len().max(1) as f64;
        println!(
            "    {name:<8} {:>6.0} / {:>6.0} / {:>6.0} / {:>6.0} / {:>6.0}",
            sum.bot / n,
            sum.fake / n,
            sum.generator / n,
            sum.others / n,
            sum.wall / n
        );
    }
    let spread = |phases: &[Phase]| {
        let cpu: Vec<String> = phases.iter().map(|p| format!("{:.0}", p.cpu.bot)).collect();
        cpu.join(" ")
    };
    println!(
        "    bot CPU per phase, idle [{}], flooded [{}]",
        spread(idle),
        spread(flooded)
    );
}

/// CPU counters at one moment: the bot's, this process's threads by kind, the machine's.
struct CpuReading {
    at: Instant,
    bot: u64,
    fake: u64,
    generator: u64,
    machine_busy: u64,
}

impl CpuReading {
    fn now(bot: u32) -> Self {
        let (mut fake, mut generator) = (0, 0);
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let Some((name, ticks)) = ticks_of(&task.path().join("stat")) else {
                    continue;
                };
                if name.starts_with(FAKE_THREADS) {
                    fake += ticks;
                } else {
                    generator += ticks;
                }
            }
        }
        CpuReading {
            at: Instant::now(),
            bot: ticks_of(Path::new(&format!("/proc/{bot}/stat"))).map_or(0, |(_, t)| t),
            fake,
            generator,
            machine_busy: machine_busy_ticks(),
        }
    }

    fn since(&self, before: &CpuReading) -> Cpu {
        let ms = |ticks: u64| ticks as f64 * 1000.0 / clock_ticks_per_second();
        let (bot, fake, generator) = (
            self.bot.saturating_sub(before.bot),
            self.fake.saturating_sub(before.fake),
            self.generator.saturating_sub(before.generator),
        );
        let busy = self.machine_busy.saturating_sub(before.machine_busy);
        Cpu {
            bot: ms(bot),
            fake: ms(fake),
            generator: ms(generator),
            others: ms(busy.saturating_sub(bot + fake + generator)),
            wall: (self.at - before.at).as_secs_f64() * 1000.0,
        }
    }
}

/// A process's or thread's name and its user + system CPU ticks, from its `stat` file.
fn ticks_of(stat: &Path) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(stat).ok()?;
    let (head, rest) = text.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// Busy ticks of the whole machine (every CPU, all but idle and iowait), from `/proc/stat`.
fn machine_busy_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    total.saturating_sub(idle)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), 100 when it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Samples the bot's resident memory every 20 ms and keeps the peak since it was last taken.
struct RssSampler {
    peak_kib: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let peak_kib = Arc::new(AtomicU64::new(0));
        let peak = peak_kib.clone();
        let status = PathBuf::from(format!("/proc/{pid}/status"));
        let task = tokio::spawn(async move {
            loop {
                if let Some(kib) = vm_rss_kib(&status) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        RssSampler { peak_kib, task }
    }

    /// The peak since the last call, in MiB; starts a new period.
    fn take_peak_mib(&self) -> f64 {
        self.peak_kib.swap(0, Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn vm_rss_kib(status: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until the bot has sent `count` messages after the first `from`, or `patience` runs
/// out.
async fn wait_for_replies(fake: &FakeTelegram, count: usize, from: usize, patience: Duration) {
    let deadline = Instant::now() + patience;
    while fake.sent_count() < from + count && Instant::now() < deadline {
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

fn args() -> Args {
    let mut parsed = Args {
        mode: Mode::Polling,
        rounds: 5,
        binary: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/linkdigest"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--mode", Some(m)) if m == "polling" => parsed.mode = Mode::Polling,
            ("--mode", Some(m)) if m == "webhook" => parsed.mode = Mode::Webhook,
            ("--rounds", Some(n)) if n.parse::<usize>().is_ok_and(|n| n > 0) => {
                parsed.rounds = n.parse().unwrap_or(5);
            }
            ("--bot", Some(path)) => parsed.binary = PathBuf::from(path),
            _ => {
                eprintln!("usage: flood [--mode polling|webhook] [--rounds N] [--bot PATH]");
                std::process::exit(2);
            }
        }
    }
    parsed
}
