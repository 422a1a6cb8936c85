//! Settings from the environment or `.env`, validated once at start.
//!
//! Only the binary reads the environment; everything else receives a [`Config`] (tests build
//! one directly), so every timeout and limit can be shortened in tests. Each part's settings
//! struct is defined here (in `sections`) and imported by that part: `config` imports none of
//! the parts it configures.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use url::Url;

mod sections;

pub use sections::{
    BotConfig, CacheConfig, DEFAULT_CONCURRENT_FETCHES, FetchConfig, MarkupLimits, OpenAiConfig,
    PdfLimits, RedisTimeouts, SingleFlightLimits, SlotLimits, StoreLimits, WebhookLimits,
    WorkLimits,
};

/// Which summarizer writes the digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SummarizerKind {
    /// The built-in extractive summarizer: no key, any language.
    #[default]
    Extractive,
    /// An LLM behind an OpenAI-compatible endpoint, falling back to extractive.
    OpenAi,
}

/// Every setting of the program, parsed and valid; its `Debug` hides the secrets.
#[derive(Clone)]
pub struct Config {
    /// Limits and policy of the page fetcher.
    pub fetch: FetchConfig,
    /// Lifetime and size of the digest cache.
    pub cache: CacheConfig,
    /// Pages and stream sizes a PDF may use (its byte limit is in `fetch`).
    pub pdf: PdfLimits,
    /// How much markup of a web page the HTML parser sees.
    pub markup: MarkupLimits,
    /// Pages fetched at once; further links wait their turn.
    pub max_concurrent_fetches: usize,
    /// Fetch and CPU slots per user, chat and site, and the CPU deadline of one link.
    pub work: WorkLimits,
    /// The summarizer that writes digests.
    pub summarizer: SummarizerKind,
    /// The LLM endpoint, used when `summarizer` is `OpenAi`.
    pub openai: OpenAiConfig,
    /// The bot token (`TELOXIDE_TOKEN`); only `run` needs it.
    pub telegram_token: Option<String>,
    /// Another Bot API server (`TELOXIDE_API_URL`): a local one, or a test fake.
    pub telegram_api_url: Option<Url>,
    /// The SQLite file for chat settings and persisted digests.
    pub db_path: PathBuf,
    /// How many persisted digests are kept, and for how long.
    pub store: StoreLimits,
    /// The Telegram side: pacing, links per message, allowed chats.
    pub bot: BotConfig,
    /// The public HTTPS address for webhook mode; polling when `None`.
    pub webhook_url: Option<Url>,
    /// Where the web server listens in webhook mode.
    pub listen: SocketAddr,
    /// The secret token Telegram sends with every webhook request.
    pub webhook_secret: Option<String>,
    /// Where `/healthz` and `/metrics` are served: in polling mode, if anywhere; in webhook
    /// mode, instead of the webhook's listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Queue, connection, body and time limits of the webhook's web server.
    pub webhook_limits: WebhookLimits,
    /// Redis shared by several instances (`redis://host:6379/0`); one instance alone when `None`.
    pub redis_url: Option<String>,
    /// How instances sharing Redis wait for each other's digest of a link.
    pub single_flight: SingleFlightLimits,
    /// How long a Redis call may take before this instance works alone.
    pub redis_timeouts: RedisTimeouts,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fetch: FetchConfig::default(),
            cache: CacheConfig::default(),
            pdf: PdfLimits::default(),
            markup: MarkupLimits::default(),
            max_concurrent_fetches: DEFAULT_CONCURRENT_FETCHES,
            work: WorkLimits::default(),
            summarizer: SummarizerKind::Extractive,
            openai: OpenAiConfig::default(),
            telegram_token: None,
            telegram_api_url: None,
            db_path: PathBuf::from("linkdigest.db"),
            store: StoreLimits::default(),
            bot: BotConfig::default(),
            webhook_url: None,
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            webhook_secret: None,
            metrics_listen: None,
            webhook_limits: WebhookLimits::default(),
            redis_url: None,
            single_flight: SingleFlightLimits::default(),
            redis_timeouts: RedisTimeouts::default(),
        }
    }
}

/// A setting that is present but not usable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The value could not be parsed as the setting's type.
    #[error("{name}={value:?} is not valid: expected {expected}")]
    Invalid {
        /// The environment variable.
        name: &'static str,
        /// What it was set to.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// The `.env` file exists but cannot be read.
    #[error(".env cannot be read: {0}")]
    DotEnv(String),
    /// A setting that another setting needs is not set.
    #[error("{name} is not set: {why}")]
    Missing {
        /// The environment variable.
        name: &'static str,
        /// Which choice needs it.
        why: &'static str,
    },
}

impl Config {
    /// Loads `.env` from the working directory into the environment, if there is one;
    /// variables already set win over the file.
    pub fn load_dotenv() -> Result<(), ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => Ok(()),
            Err(e) if e.not_found() => Ok(()),
            Err(e) => Err(ConfigError::DotEnv(e.to_string())),
        }
    }

    /// Reads the settings from the process environment (after loading `.env`, if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load_dotenv()?;
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which maps a variable name to its value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let mut config = Config::default();
        config.read_fetch(&env)?;
        config.read_work(&env)?;
        config.read_cache(&env)?;
        config.read_storage(&env)?;
        config.read_bot(&env)?;
        config.read_webhook(&env)?;
        config.read_summarizer(&env)?;
        config.read_single_flight(&env)?;
        Ok(config)
    }

    /// The fetcher's limits and policy, the PDF page limit and the fetch slots.
    fn read_fetch(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        self.fetch.allow_private_addresses = env.bool(
            "LINKDIGEST_ALLOW_PRIVATE_ADDRESSES",
            self.fetch.allow_private_addresses,
        )?;
        self.fetch.timeout = env.secs("LINKDIGEST_FETCH_TIMEOUT_SECS", self.fetch.timeout)?;
        self.fetch.max_body_bytes =
            env.number("LINKDIGEST_MAX_PAGE_BYTES", self.fetch.max_body_bytes)?;
        self.fetch.max_pdf_bytes =
            env.number("LINKDIGEST_MAX_PDF_BYTES", self.fetch.max_pdf_bytes)?;
        self.pdf.max_pages = env.number("LINKDIGEST_MAX_PDF_PAGES", self.pdf.max_pages)?;
        self.markup.max_bytes = env.number("LINKDIGEST_MAX_MARKUP_BYTES", self.markup.max_bytes)?;
        self.max_concurrent_fetches = env.number(
            "LINKDIGEST_MAX_CONCURRENT_FETCHES",
            self.max_concurrent_fetches,
        )?;
        if let Some(ports) = env.get("LINKDIGEST_ALLOWED_PORTS") {
            self.fetch.allowed_ports = parse_ports(&ports).ok_or(ConfigError::Invalid {
                name: "LINKDIGEST_ALLOWED_PORTS",
                value: ports,
                expected: "port numbers separated by commas, e.g. 80,443,8080",
            })?;
        }
        self.fetch.max_bytes_in_flight = env.number(
            "LINKDIGEST_MAX_BYTES_IN_FLIGHT",
            self.fetch.max_bytes_in_flight,
        )?;
        Ok(())
    }

    /// Fetch and CPU slots per user, chat and site, and the CPU deadline.
    fn read_work(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        let work = &mut self.work;
        work.fetches.per_user =
            env.number("LINKDIGEST_MAX_FETCHES_PER_USER", work.fetches.per_user)?;
        work.fetches.per_chat =
            env.number("LINKDIGEST_MAX_FETCHES_PER_CHAT", work.fetches.per_chat)?;
        work.fetches.per_site =
            env.number("LINKDIGEST_MAX_FETCHES_PER_SITE", work.fetches.per_site)?;
        work.cpu.total = env.number("LINKDIGEST_CPU_WORKERS", work.cpu.total)?;
        work.cpu.per_chat = work.cpu.total;
        work.cpu.per_site = work.cpu.total;
        work.cpu.per_user = env.number("LINKDIGEST_CPU_WORKERS_PER_USER", work.cpu.per_user)?;
        work.cpu_deadline = Duration::from_millis(env.number(
            "LINKDIGEST_CPU_DEADLINE_MS",
            work.cpu_deadline.as_millis() as usize,
        )? as u64);
        Ok(())
    }

    /// The digest cache's lifetime and bounds.
    fn read_cache(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        self.cache.ttl = env.secs("LINKDIGEST_CACHE_TTL_SECS", self.cache.ttl)?;
        self.cache.max_bytes = env.number("LINKDIGEST_CACHE_MAX_BYTES", self.cache.max_bytes)?;
        self.cache.capacity = env.number("LINKDIGEST_CACHE_CAPACITY", self.cache.capacity)?;
        self.cache.transient_failure_ttl = env.secs(
            "LINKDIGEST_TRANSIENT_FAILURE_SECS",
            self.cache.transient_failure_ttl,
        )?;
        Ok(())
    }

    /// The Bot API token and server, the database and how long digests are kept.
    fn read_storage(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        self.telegram_token = env.get("TELOXIDE_TOKEN");
        if let Some(url) = env.get("TELOXIDE_API_URL") {
            self.telegram_api_url = Some(Url::parse(&url).map_err(|_| ConfigError::Invalid {
                name: "TELOXIDE_API_URL",
                value: url,
                expected: "an http(s) URL",
            })?);
        }
        if let Some(path) = env.get("LINKDIGEST_DB") {
            self.db_path = PathBuf::from(path);
        }
        let retention_days = env.positive(
            "LINKDIGEST_DIGEST_RETENTION_DAYS",
            (self.store.retention.as_secs() / 86_400) as u32,
        )?;
        self.store.retention = Duration::from_secs(u64::from(retention_days) * 86_400);
        self.store.max_digests =
            env.number("LINKDIGEST_DIGEST_MAX_ROWS", self.store.max_digests)?;
        Ok(())
    }

    /// The Telegram side: allowed chats, inline mode, repeat window, limits and queues.
    fn read_bot(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        self.bot.allowed_chats = env.chat_ids("LINKDIGEST_ALLOWED_CHATS")?;
        // A bot fenced into some chats must not let strangers spend it through inline queries.
        self.bot.inline = env.bool("LINKDIGEST_INLINE", self.bot.allowed_chats.is_none())?;
        self.bot.repeat_window =
            env.secs("LINKDIGEST_REPEAT_WINDOW_SECS", self.bot.repeat_window)?;
        self.bot.user_links_per_minute = env.count(
            "LINKDIGEST_USER_LINKS_PER_MINUTE",
            self.bot.user_links_per_minute,
        )?;
        self.bot.chat_links_per_minute = env.count(
            "LINKDIGEST_CHAT_LINKS_PER_MINUTE",
            self.bot.chat_links_per_minute,
        )?;
        self.bot.sends_per_second =
            env.positive("LINKDIGEST_SENDS_PER_SECOND", self.bot.sends_per_second)?;
        self.bot.sends_per_second_per_chat = env.positive(
            "LINKDIGEST_SENDS_PER_SECOND_PER_CHAT",
            self.bot.sends_per_second_per_chat,
        )?;
        self.bot.sends_per_minute_per_chat = env.positive(
            "LINKDIGEST_SENDS_PER_MINUTE_PER_CHAT",
            self.bot.sends_per_minute_per_chat,
        )?;
        self.bot.max_pending_work =
            env.number("LINKDIGEST_MAX_PENDING_WORK", self.bot.max_pending_work)?;
        self.bot.max_queued_work =
            env.number("LINKDIGEST_MAX_QUEUED_WORK", self.bot.max_queued_work)?;
        self.bot.max_waiting_work =
            env.number("LINKDIGEST_MAX_WAITING_WORK", self.bot.max_waiting_work)?;
        self.bot.outbox_per_chat =
            env.number("LINKDIGEST_OUTBOX_PER_CHAT", self.bot.outbox_per_chat)?;
        self.bot.max_background_calls = env.number(
            "LINKDIGEST_MAX_BACKGROUND_CALLS",
            self.bot.max_background_calls,
        )?;
        self.bot.user_commands_per_minute = env.count(
            "LINKDIGEST_USER_COMMANDS_PER_MINUTE",
            self.bot.user_commands_per_minute,
        )?;
        self.bot.chat_commands_per_minute = env.count(
            "LINKDIGEST_CHAT_COMMANDS_PER_MINUTE",
            self.bot.chat_commands_per_minute,
        )?;
        // teloxide's HTTP client gives up on any call after 17 s, a long poll included.
        let poll = env.secs("LINKDIGEST_POLL_TIMEOUT_SECS", self.bot.poll_timeout)?;
        if poll > Duration::from_secs(15) {
            return Err(ConfigError::Invalid {
                name: "LINKDIGEST_POLL_TIMEOUT_SECS",
                value: poll.as_secs().to_string(),
                expected: "a whole number from 1 to 15 (the Bot API client gives up after 17 s)",
            });
        }
        self.bot.poll_timeout = poll;
        Ok(())
    }

    /// Webhook mode, the operators' listener, the webhook's limits and Redis.
    fn read_webhook(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        self.webhook_url = env.url("LINKDIGEST_WEBHOOK_URL")?;
        if let Some(listen) = env.addr("LINKDIGEST_LISTEN")? {
            self.listen = listen;
        }
        self.metrics_listen = env.addr("LINKDIGEST_METRICS_LISTEN")?;
        self.webhook_secret = env.get("LINKDIGEST_WEBHOOK_SECRET");
        self.webhook_limits.queue =
            env.number("LINKDIGEST_WEBHOOK_QUEUE", self.webhook_limits.queue)?;
        let connections = env.positive(
            "LINKDIGEST_WEBHOOK_MAX_CONNECTIONS",
            u32::from(self.webhook_limits.max_connections),
        )?;
        self.webhook_limits.max_connections = u8::try_from(connections)
            .ok()
            .filter(|n| *n <= 100)
            .ok_or(ConfigError::Invalid {
                name: "LINKDIGEST_WEBHOOK_MAX_CONNECTIONS",
                value: connections.to_string(),
                expected: "a whole number from 1 to 100",
            })?;
        let open = u32::try_from(self.webhook_limits.open_connections).unwrap_or(u32::MAX);
        self.webhook_limits.open_connections =
            env.positive("LINKDIGEST_WEBHOOK_OPEN_CONNECTIONS", open)? as usize;
        self.redis_url = env.get("LINKDIGEST_REDIS_URL");
        if let Some(secret) = &self.webhook_secret {
            let valid = secret.len() <= 256
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(ConfigError::Invalid {
                    name: "LINKDIGEST_WEBHOOK_SECRET",
                    value: "(hidden)".to_owned(),
                    expected: "1-256 characters of A-Z, a-z, 0-9, _ and -",
                });
            }
        }
        Ok(())
    }

    /// The summarizer and its LLM endpoint; the OpenAI API needs a key.
    fn read_summarizer(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        self.summarizer = match env.get("LINKDIGEST_SUMMARIZER").as_deref() {
            None | Some("extractive") => SummarizerKind::Extractive,
            Some("openai") => SummarizerKind::OpenAi,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LINKDIGEST_SUMMARIZER",
                    value: other.to_owned(),
                    expected: "extractive or openai",
                });
            }
        };
        self.openai.api_key = env.get("OPENAI_API_KEY");
        if let Some(url) = env.get("OPENAI_BASE_URL") {
            self.openai.base_url = Url::parse(&url).map_err(|_| ConfigError::Invalid {
                name: "OPENAI_BASE_URL",
                value: url,
                expected: "an http(s) URL such as http://127.0.0.1:11434/v1",
            })?;
        }
        if let Some(model) = env.get("LINKDIGEST_LLM_MODEL") {
            self.openai.model = model;
        }
        self.openai.timeout = env.secs("LINKDIGEST_LLM_TIMEOUT_SECS", self.openai.timeout)?;
        self.openai.max_input_chars = env.number(
            "LINKDIGEST_LLM_MAX_INPUT_CHARS",
            self.openai.max_input_chars,
        )?;
        self.openai.max_retry_after = env.secs(
            "LINKDIGEST_LLM_MAX_RETRY_AFTER_SECS",
            self.openai.max_retry_after,
        )?;
        self.openai.fallback_deadline = env.millis(
            "LINKDIGEST_LLM_FALLBACK_DEADLINE_MS",
            self.openai.fallback_deadline,
        )?;
        let official = self.openai.base_url.host_str() == Some("api.openai.com");
        if self.summarizer == SummarizerKind::OpenAi && official && self.openai.api_key.is_none() {
            return Err(ConfigError::Missing {
                name: "OPENAI_API_KEY",
                why: "LINKDIGEST_SUMMARIZER=openai uses the OpenAI API unless OPENAI_BASE_URL names another server",
            });
        }
        Ok(())
    }

    /// How long instances sharing Redis wait for another's digest, and each lock's lease.
    fn read_single_flight(&mut self, env: &Env<'_>) -> Result<(), ConfigError> {
        let limits = &mut self.single_flight;
        limits.wait = env.secs("LINKDIGEST_SHARED_WAIT_SECS", limits.wait)?;
        limits.lock_lease = env.secs("LINKDIGEST_LOCK_LEASE_SECS", limits.lock_lease)?;
        Ok(())
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("fetch", &self.fetch)
            .field("cache", &self.cache)
            .field("pdf", &self.pdf)
            .field("markup", &self.markup)
            .field("max_concurrent_fetches", &self.max_concurrent_fetches)
            .field("work", &self.work)
            .field("summarizer", &self.summarizer)
            .field("openai", &self.openai)
            .field("telegram_token", &redacted(self.telegram_token.as_deref()))
            .field("telegram_api_url", &self.telegram_api_url)
            .field("db_path", &self.db_path)
            .field("store", &self.store)
            .field("bot", &self.bot)
            .field("webhook_url", &self.webhook_url)
            .field("listen", &self.listen)
            .field("webhook_secret", &redacted(self.webhook_secret.as_deref()))
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(redact_url_password),
            )
            .field("single_flight", &self.single_flight)
            .field("redis_timeouts", &self.redis_timeouts)
            .finish()
    }
}

/// How a secret shows in `Debug`: whether it is set, never its value.
pub(crate) fn redacted(secret: Option<&str>) -> Option<&'static str> {
    secret.map(|_| "(hidden)")
}

/// A URL with its password (and user name) replaced, for logs and `Debug`.
fn redact_url_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(Some("hidden"));
            }
            parsed.to_string()
        }
        Err(_) => "(hidden)".to_owned(),
    }
}

/// `80,443,8080` as ports; `None` when any entry is not a port.
fn parse_ports(text: &str) -> Option<Vec<u16>> {
    text.split(',')
        .map(|p| p.trim().parse::<u16>().ok().filter(|p| *p > 0))
        .collect()
}

/// Typed access to optional environment variables.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: v,
                    expected: "true or false",
                }),
            },
        }
    }

    fn number(&self, name: &'static str, default: usize) -> Result<usize, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: v,
                    expected: "a whole number above 0",
                }),
            },
        }
    }

    fn url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        self.get(name)
            .map(|v| {
                Url::parse(&v)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or(ConfigError::Invalid {
                        name,
                        value: v,
                        expected: "an http(s) URL",
                    })
            })
            .transpose()
    }

    fn addr(&self, name: &'static str) -> Result<Option<SocketAddr>, ConfigError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| ConfigError::Invalid {
                    name,
                    value: v,
                    expected: "an address and port, e.g. 0.0.0.0:8443",
                })
            })
            .transpose()
    }

    /// A count above 0 that fits in 32 bits.
    fn positive(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: v,
                    expected: "a whole number from 1 to 4294967295",
                }),
            },
        }
    }

    /// A count where 0 is allowed (it turns a limit off).
    fn count(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().map_err(|_| ConfigError::Invalid {
                name,
                value: v,
                expected: "a whole number (0 for no limit)",
            }),
        }
    }

    fn chat_ids(&self, name: &'static str) -> Result<Option<HashSet<i64>>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        v.split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| id.parse::<i64>())
            .collect::<Result<HashSet<_>, _>>()
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                name,
                value: v.clone(),
                expected: "comma-separated chat ids, e.g. -1001234567890,42",
            })
    }

    fn secs(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let secs = self.number(name, default.as_secs() as usize)?;
        Ok(Duration::from_secs(secs as u64))
    }

    fn millis(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let millis = self.number(name, default.as_millis() as usize)?;
        Ok(Duration::from_millis(millis as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let config = config(&[
            ("TELOXIDE_TOKEN", "123456:secret-token"),
            ("OPENAI_API_KEY", "sk-secret-key"),
            (
                "LINKDIGEST_REDIS_URL",
                "redis://user:redis-pass@127.0.0.1:6379/0",
            ),
            ("LINKDIGEST_WEBHOOK_SECRET", "hook-secret"),
        ])
        .unwrap();
        let debug = format!("{config:?}");
        for secret in ["secret-token", "sk-secret-key", "redis-pass", "hook-secret"] {
            assert!(!debug.contains(secret), "{secret} shows in {debug}");
        }
        assert!(debug.contains("127.0.0.1:6379"));
    }

    #[test]
    fn ports_and_work_limits_are_read() {
        let c = config(&[
            ("LINKDIGEST_ALLOWED_PORTS", "80, 443,8080"),
            ("LINKDIGEST_CPU_DEADLINE_MS", "1500"),
            ("LINKDIGEST_MAX_FETCHES_PER_USER", "2"),
            ("LINKDIGEST_CACHE_MAX_BYTES", "1000000"),
        ])
        .unwrap();
        assert_eq!(c.fetch.allowed_ports, vec![80, 443, 8080]);
        assert_eq!(c.work.cpu_deadline, Duration::from_millis(1500));
        assert_eq!(c.work.fetches.per_user, 2);
        assert_eq!(c.cache.max_bytes, 1_000_000);
        assert!(config(&[("LINKDIGEST_ALLOWED_PORTS", "80,http")]).is_err());
    }

    #[test]
    fn defaults_match_the_design() {
        let c = config(&[]).unwrap();
        assert!(!c.fetch.allow_private_addresses);
        assert_eq!(c.fetch.timeout, Duration::from_secs(15));
        assert_eq!(c.fetch.max_body_bytes, 5 * 1024 * 1024);
        assert_eq!(c.cache.ttl, Duration::from_secs(86_400));
        assert_eq!(c.cache.capacity, 10_000);
        assert_eq!(c.summarizer, SummarizerKind::Extractive);
        assert_eq!(c.db_path, PathBuf::from("linkdigest.db"));
        assert!(c.telegram_token.is_none() && c.bot.allowed_chats.is_none());
        assert_eq!(c.store.retention, Duration::from_secs(30 * 86_400));
    }

    #[test]
    fn the_repeat_window_and_the_cache_lifetime_are_set_apart() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.bot.repeat_window, Duration::from_secs(86_400));
        let cache = config(&[("LINKDIGEST_CACHE_TTL_SECS", "60")]).unwrap();
        assert_eq!(cache.cache.ttl, Duration::from_secs(60));
        assert_eq!(cache.bot.repeat_window, Duration::from_secs(86_400));
        let repeat = config(&[("LINKDIGEST_REPEAT_WINDOW_SECS", "600")]).unwrap();
        assert_eq!(repeat.bot.repeat_window, Duration::from_secs(600));
        assert_eq!(repeat.cache.ttl, Duration::from_secs(86_400));
        assert!(config(&[("LINKDIGEST_REPEAT_WINDOW_SECS", "0")]).is_err());
    }

    #[test]
    fn inline_mode_is_on_unless_the_bot_is_fenced_in() {
        assert!(config(&[]).unwrap().bot.inline);
        let fenced = config(&[("LINKDIGEST_ALLOWED_CHATS", "42")]).unwrap();
        assert!(!fenced.bot.inline);
        let asked = [
            ("LINKDIGEST_ALLOWED_CHATS", "42"),
            ("LINKDIGEST_INLINE", "on"),
        ];
        assert!(config(&asked).unwrap().bot.inline);
        assert!(!config(&[("LINKDIGEST_INLINE", "off")]).unwrap().bot.inline);
        assert!(config(&[("LINKDIGEST_INLINE", "maybe")]).is_err());
    }

    #[test]
    fn bot_settings_are_read() {
        let c = config(&[
            ("TELOXIDE_TOKEN", "123:abc"),
            ("TELOXIDE_API_URL", "http://127.0.0.1:8081"),
            ("LINKDIGEST_DB", "/tmp/x.db"),
            ("LINKDIGEST_ALLOWED_CHATS", "-100123, 42"),
            ("LINKDIGEST_DIGEST_RETENTION_DAYS", "2"),
            ("LINKDIGEST_DIGEST_MAX_ROWS", "50"),
            ("LINKDIGEST_SENDS_PER_SECOND", "100"),
            ("LINKDIGEST_USER_COMMANDS_PER_MINUTE", "5"),
            ("LINKDIGEST_CHAT_COMMANDS_PER_MINUTE", "0"),
            ("LINKDIGEST_MAX_QUEUED_WORK", "10"),
            ("LINKDIGEST_MAX_WAITING_WORK", "7"),
            ("LINKDIGEST_OUTBOX_PER_CHAT", "4"),
            ("LINKDIGEST_MAX_BACKGROUND_CALLS", "8"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.bot.user_commands_per_minute,
                c.bot.chat_commands_per_minute
            ),
            (5, 0)
        );
        assert_eq!(
            (
                c.bot.max_queued_work,
                c.bot.max_waiting_work,
                c.bot.outbox_per_chat,
                c.bot.max_background_calls
            ),
            (10, 7, 4, 8)
        );
        assert_eq!(c.telegram_token.as_deref(), Some("123:abc"));
        assert_eq!(
            c.telegram_api_url.unwrap().as_str(),
            "http://127.0.0.1:8081/"
        );
        assert_eq!(c.db_path, PathBuf::from("/tmp/x.db"));
        assert_eq!(c.bot.allowed_chats, Some(HashSet::from([-100123, 42])));
        assert_eq!(c.store.retention, Duration::from_secs(2 * 86_400));
        assert_eq!(c.store.max_digests, 50);
        assert_eq!(c.bot.sends_per_second, 100);
        assert!(config(&[("LINKDIGEST_SENDS_PER_SECOND", "4294967296")]).is_err());
        assert!(config(&[("LINKDIGEST_DIGEST_RETENTION_DAYS", "0")]).is_err());
        let err = config(&[("LINKDIGEST_ALLOWED_CHATS", "group")]).unwrap_err();
        assert!(err.to_string().contains("comma-separated chat ids"));
        assert!(config(&[("TELOXIDE_API_URL", "not a url")]).is_err());
    }

    #[test]
    fn values_are_read_and_trimmed() {
        let c = config(&[
            ("LINKDIGEST_ALLOW_PRIVATE_ADDRESSES", " true "),
            ("LINKDIGEST_FETCH_TIMEOUT_SECS", "3"),
            ("LINKDIGEST_MAX_PAGE_BYTES", "1000"),
            ("LINKDIGEST_MAX_PDF_BYTES", "2000"),
            ("LINKDIGEST_MAX_PDF_PAGES", "7"),
            ("LINKDIGEST_CACHE_TTL_SECS", "60"),
            ("LINKDIGEST_CACHE_CAPACITY", "5"),
            ("LINKDIGEST_SUMMARIZER", "extractive"),
        ])
        .unwrap();
        assert!(c.fetch.allow_private_addresses);
        assert_eq!(c.fetch.timeout, Duration::from_secs(3));
        assert_eq!(c.fetch.max_body_bytes, 1000);
        assert_eq!(c.fetch.max_pdf_bytes, 2000);
        assert_eq!(c.pdf.max_pages, 7);
        assert_eq!(c.cache.ttl, Duration::from_secs(60));
        assert_eq!(c.cache.capacity, 5);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = config(&[("LINKDIGEST_CACHE_CAPACITY", "lots")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "LINKDIGEST_CACHE_CAPACITY=\"lots\" is not valid: expected a whole number above 0"
        );
        let err = config(&[("LINKDIGEST_ALLOW_PRIVATE_ADDRESSES", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("true or false"));
        assert!(config(&[("LINKDIGEST_SUMMARIZER", "gpt")]).is_err());
        let err = config(&[("LINKDIGEST_SUMMARIZER", "openai")]).unwrap_err();
        assert!(err.to_string().starts_with("OPENAI_API_KEY is not set"));
        assert!(config(&[("LINKDIGEST_FETCH_TIMEOUT_SECS", "0")]).is_err());
    }

    #[test]
    fn webhook_settings_are_read_and_checked() {
        let c = config(&[
            ("LINKDIGEST_WEBHOOK_URL", "https://bot.example.org/tg"),
            ("LINKDIGEST_LISTEN", "127.0.0.1:9000"),
            ("LINKDIGEST_WEBHOOK_SECRET", "s3cret_-token"),
            ("LINKDIGEST_METRICS_LISTEN", "127.0.0.1:9100"),
            ("LINKDIGEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        ])
        .unwrap();
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379/0"));
        assert_eq!(
            c.webhook_url.unwrap().as_str(),
            "https://bot.example.org/tg"
        );
        assert_eq!(c.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(c.webhook_secret.as_deref(), Some("s3cret_-token"));
        assert_eq!(c.metrics_listen, Some("127.0.0.1:9100".parse().unwrap()));
        assert_eq!(c.webhook_limits, WebhookLimits::default());
        let c = config(&[
            ("LINKDIGEST_WEBHOOK_QUEUE", "50"),
            ("LINKDIGEST_WEBHOOK_MAX_CONNECTIONS", "100"),
            ("LINKDIGEST_WEBHOOK_OPEN_CONNECTIONS", "2000"),
        ])
        .unwrap();
        let limits = &c.webhook_limits;
        assert_eq!(
            (
                limits.queue,
                limits.max_connections,
                limits.open_connections
            ),
            (50, 100, 2000)
        );
        assert!(config(&[("LINKDIGEST_WEBHOOK_MAX_CONNECTIONS", "101")]).is_err());
        assert!(config(&[("LINKDIGEST_WEBHOOK_OPEN_CONNECTIONS", "0")]).is_err());
        assert!(config(&[("LINKDIGEST_WEBHOOK_QUEUE", "0")]).is_err());
        assert_eq!(config(&[]).unwrap().listen, "0.0.0.0:8443".parse().unwrap());
        assert!(config(&[("LINKDIGEST_WEBHOOK_SECRET", "has spaces")]).is_err());
        assert!(config(&[("LINKDIGEST_LISTEN", "8443")]).is_err());
        assert!(config(&[("LINKDIGEST_WEBHOOK_URL", "ftp://x")]).is_err());
    }

    #[test]
    fn llm_settings_are_read() {
        let c = config(&[
            ("LINKDIGEST_SUMMARIZER", "openai"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("LINKDIGEST_LLM_MODEL", "llama3.1"),
        ])
        .unwrap();
        assert_eq!(c.summarizer, SummarizerKind::OpenAi);
        assert!(c.openai.api_key.is_none(), "a local server needs no key");
        assert_eq!(c.openai.model, "llama3.1");
        assert_eq!(c.openai.base_url.as_str(), "http://127.0.0.1:11434/v1");
    }

    #[test]
    fn timeouts_and_limits_are_read() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.openai.fallback_deadline, Duration::from_secs(3));
        assert_eq!(defaults.openai.max_retry_after, Duration::from_secs(10));
        assert_eq!(defaults.single_flight, SingleFlightLimits::default());
        assert_eq!(defaults.single_flight.wait, Duration::from_secs(120));
        assert_eq!(defaults.single_flight.lock_lease, Duration::from_secs(30));
        assert_eq!(defaults.markup.max_bytes, 2 * 1024 * 1024);
        assert_eq!(defaults.bot.poll_timeout, Duration::from_secs(10));
        let c = config(&[
            ("LINKDIGEST_LLM_FALLBACK_DEADLINE_MS", "250"),
            ("LINKDIGEST_LLM_MAX_RETRY_AFTER_SECS", "2"),
            ("LINKDIGEST_SHARED_WAIT_SECS", "20"),
            ("LINKDIGEST_LOCK_LEASE_SECS", "9"),
            ("LINKDIGEST_MAX_MARKUP_BYTES", "65536"),
            ("LINKDIGEST_POLL_TIMEOUT_SECS", "15"),
        ])
        .unwrap();
        assert_eq!(c.openai.fallback_deadline, Duration::from_millis(250));
        assert_eq!(c.openai.max_retry_after, Duration::from_secs(2));
        assert_eq!(c.single_flight.wait, Duration::from_secs(20));
        assert_eq!(c.single_flight.lock_lease, Duration::from_secs(9));
        assert_eq!(c.single_flight.poll, Duration::from_millis(100));
        assert_eq!(c.markup.max_bytes, 65_536);
        assert_eq!(c.markup.max_depth, MarkupLimits::default().max_depth);
        assert_eq!(c.bot.poll_timeout, Duration::from_secs(15));
    }

    #[test]
    fn bad_timeouts_and_limits_name_the_setting() {
        for name in [
            "LINKDIGEST_LLM_FALLBACK_DEADLINE_MS",
            "LINKDIGEST_LLM_MAX_RETRY_AFTER_SECS",
            "LINKDIGEST_SHARED_WAIT_SECS",
            "LINKDIGEST_LOCK_LEASE_SECS",
            "LINKDIGEST_MAX_MARKUP_BYTES",
            "LINKDIGEST_POLL_TIMEOUT_SECS",
        ] {
            for bad in ["0", "-5", "1.5", "soon"] {
                let err = config(&[(name, bad)]).unwrap_err();
                assert_eq!(
                    err.to_string(),
                    format!("{name}={bad:?} is not valid: expected a whole number above 0")
                );
            }
        }
        let err = config(&[("LINKDIGEST_POLL_TIMEOUT_SECS", "16")]).unwrap_err();
        assert!(err.to_string().contains("from 1 to 15"), "{err}");
    }

    #[test]
    fn empty_values_mean_the_default() {
        let c = config(&[("LINKDIGEST_CACHE_CAPACITY", "")]).unwrap();
        assert_eq!(c.cache.capacity, 10_000);
    }
}
