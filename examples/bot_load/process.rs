//! The bot as a separate process: `linkdigest run` with its settings, its peak memory sampled.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A running `linkdigest run`.
pub struct BotProcess {
    child: Child,
    peak_kib: Arc<AtomicU64>,
    sampler: tokio::task::JoinHandle<()>,
}

impl BotProcess {
    /// Starts `binary run` in `dir` (no `.env` there) with `env` on top of a clean set of
    /// settings, logging to `log`.
    pub fn start(binary: &Path, dir: &Path, log: &Path, env: &[(String, String)]) -> Self {
        Self::start_with_args(binary, &[], dir, log, env)
    }

    /// [`BotProcess::start`] with `args` after `run` (e.g. `--webhook URL --listen ADDR`).
    pub fn start_with_args(
        binary: &Path,
        args: &[String],
        dir: &Path,
        log: &Path,
        env: &[(String, String)],
    ) -> Self {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        let mut command = Command::new(binary);
        command
            .arg("run")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        for (name, _) in std::env::vars() {
            if name.starts_with("LINKDIGEST_") || name.starts_with("TELOXIDE_") {
                command.env_remove(name);
            }
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let status = PathBuf::from(format!("/proc/{}/status", child.id()));
        let peak = peak_kib.clone();
        // VmHWM only grows, so the last reading before exit is the process's peak.
        let sampler = tokio::spawn(async move {
            loop {
                if let Some(kib) = vm_hwm_kib(&status) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Self {
            child,
            peak_kib,
            sampler,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (`kill -TERM`), as a service manager stopping the bot does.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            eprintln!("kill -TERM {} failed", self.pid());
        }
    }

    /// Waits for the process to exit (killing it after `patience`); returns its peak RSS in
    /// MiB, how long it took to stop, and whether it exited cleanly by itself.
    pub async fn wait(mut self, patience: Duration) -> (f64, Duration, bool) {
        let start = Instant::now();
        let mut clean = false;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    clean = status.success();
                    break;
                }
                Ok(None) if start.elapsed() < patience => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ => {
                    eprintln!(
                        "bot {} did not stop in {patience:?}; killing it",
                        self.pid()
                    );
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        self.sampler.abort();
        let peak = self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0;
        (peak, start.elapsed(), clean)
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

fn vm_hwm_kib(status: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The settings every measured bot starts with: its token, the fake Bot API, a database in
/// `dir`, the fake site's loopback address allowed, and `log_level`; callers add their own.
pub fn base_env(api_url: &str, dir: &Path, token: &str, log_level: &str) -> Vec<(String, String)> {
    [
        ("TELOXIDE_TOKEN", token.to_owned()),
        ("TELOXIDE_API_URL", api_url.to_owned()),
        ("LINKDIGEST_ALLOW_PRIVATE_ADDRESSES", "true".to_owned()),
        ("LINKDIGEST_DB", dir.join("bot.db").display().to_string()),
        ("RUST_LOG", log_level.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
