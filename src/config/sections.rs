//! The settings of each part of the program, as plain structs with their defaults. They live
//! here, beside [`super::Config`] that holds them, so the settings depend on no part they
//! configure: each part imports its own struct from `config` (and re-exports it).

use std::collections::HashSet;
use std::time::Duration;

use url::Url;

// The fetcher (`fetch`).

/// Limits and policy of the fetcher; tests shorten the timeouts and allow private addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    /// Time allowed to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for the whole request: connection, redirects, headers and body.
    pub timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: usize,
    /// Largest PDF accepted (PDFs are larger than web pages).
    pub max_pdf_bytes: usize,
    /// Let the fetcher reach loopback, private and other non-public addresses and any port
    /// (tests and local development only).
    pub allow_private_addresses: bool,
    /// Ports a link may name (80 and 443 by default).
    pub allowed_ports: Vec<u16>,
    /// Bytes of bodies being downloaded at once, across all fetches; a fetch waits (within
    /// its own time limit) for room. At least `max_body_bytes` and `max_pdf_bytes`.
    pub max_bytes_in_flight: usize,
    /// The User-Agent header: names the bot and where to learn about it.
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            max_body_bytes: 5 * 1024 * 1024,
            max_pdf_bytes: 20 * 1024 * 1024,
            allow_private_addresses: false,
            allowed_ports: vec![80, 443],
            max_bytes_in_flight: 24 * 1024 * 1024,
            user_agent: "linkdigest/0.1 (+https://github.com/linkdigest/linkdigest)".to_owned(),
        }
    }
}

// The PDF reader (`pdf`).

/// The limits of one PDF read; the byte limit is the fetcher's (`LINKDIGEST_MAX_PDF_BYTES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfLimits {
    /// Pages read from the start of the document; the rest are skipped.
    pub max_pages: usize,
    /// Largest decoded size of one stream; a larger stream is left out (compression bombs).
    pub max_stream_bytes: usize,
    /// Glyphs kept from one page; the rest of a page with more is not read.
    pub max_glyphs_per_page: usize,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_pages: 50,
            max_stream_bytes: 4 * 1024 * 1024,
            max_glyphs_per_page: 20_000,
        }
    }
}

// The HTML pre-scan (`extract`).

/// Bounds on the markup the HTML parser sees: its cost grows with the square of the nesting
/// depth and of the attributes in one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkupLimits {
    /// Markup given to the parser: an article fits many times over, a bomb is cut short.
    pub max_bytes: usize,
    /// Open elements nested deeper than this are dropped (with their end tags).
    pub max_depth: usize,
    /// Attributes kept per tag; an article's tags carry a handful.
    pub max_attributes: usize,
    /// Bytes kept per tag (name and attributes); a longer attribute is dropped whole.
    pub max_tag_bytes: usize,
}

impl Default for MarkupLimits {
    fn default() -> Self {
        MarkupLimits {
            max_bytes: 2 * 1024 * 1024,
            max_depth: 2_000,
            max_attributes: 32,
            max_tag_bytes: 4096,
        }
    }
}

// The pipeline's fair slots (`digest`).

/// How many slots a stage has in all and per requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLimits {
    /// Slots in all.
    pub total: usize,
    /// Slots one user may hold at once.
    pub per_user: usize,
    /// Slots one chat may hold at once.
    pub per_chat: usize,
    /// Slots one site (registrable domain) may hold at once.
    pub per_site: usize,
}

/// How much work one link may cause, and how it is shared between the people asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkLimits {
    /// Pages fetched at once, in all and per user, chat and site (registrable domain).
    pub fetches: SlotLimits,
    /// Pages extracted and summarized at once (the CPU pool), in all and per user and chat.
    pub cpu: SlotLimits,
    /// CPU time one link's extraction and summary may take before it is given up.
    pub cpu_deadline: Duration,
}

impl Default for WorkLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        WorkLimits {
            fetches: SlotLimits {
                total: DEFAULT_CONCURRENT_FETCHES,
                per_user: 4,
                per_chat: 8,
                per_site: 4,
            },
            cpu: SlotLimits {
                total: cores,
                per_user: 1,
                per_chat: cores,
                per_site: cores,
            },
            cpu_deadline: Duration::from_secs(3),
        }
    }
}

/// How instances sharing Redis make a link's digest once: one holds the link's lock while
/// the others wait for its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SingleFlightLimits {
    /// How long an instance waits for another's digest before making it itself; the holder
    /// extends its lock while it works, so this is only the patience of the others.
    pub wait: Duration,
    /// How often a waiting instance looks for the digest.
    pub poll: Duration,
    /// How long a lock lives unless its holder extends it (every third of it): a holder
    /// that dies frees the link this long after.
    pub lock_lease: Duration,
}

impl Default for SingleFlightLimits {
    fn default() -> Self {
        SingleFlightLimits {
            wait: Duration::from_secs(120),
            poll: Duration::from_millis(100),
            lock_lease: Duration::from_secs(30),
        }
    }
}

/// How long a Redis call may take: past either, it counts as a failure and the instance
/// works alone until Redis answers again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisTimeouts {
    /// Time allowed to connect (at start, and each reconnection).
    pub connect: Duration,
    /// Time allowed for one call's answer.
    pub response: Duration,
}

impl Default for RedisTimeouts {
    fn default() -> Self {
        RedisTimeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_millis(500),
        }
    }
}

/// Pages fetched and processed at once unless the settings say otherwise.
pub const DEFAULT_CONCURRENT_FETCHES: usize = 16;

// The digest cache (`cache`).

/// How long entries live and how many the cache holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// How long a loaded value stays fresh.
    pub ttl: Duration,
    /// How long a failed load is remembered before the key is tried again, for failures that
    /// will not change soon (a missing page, not an article, too large, a refused address).
    pub failure_ttl: Duration,
    /// How long a failure that may pass by itself (a timeout, a 5xx, a 429, our own "busy")
    /// is remembered: only long enough that a burst of requests shares one attempt.
    pub transient_failure_ttl: Duration,
    /// The most entries (values and failures) kept at once.
    pub capacity: usize,
    /// The most bytes of values kept at once, as the cache's `Weight` counts them.
    pub max_bytes: usize,
}

impl Default for CacheConfig {
    /// A day for values, a minute for lasting failures, five seconds for transient ones, ten
    /// thousand entries in 32 MiB (a digest is at most 16 KiB, so the bot stays well under
    /// 100 MB however large the pages).
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(24 * 60 * 60),
            failure_ttl: Duration::from_secs(60),
            transient_failure_ttl: Duration::from_secs(5),
            capacity: 10_000,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

// The LLM summarizer (`summarize::openai`).

/// How to reach the LLM; its `Debug` hides the key.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Sent as a bearer token; local servers often need none.
    pub api_key: Option<String>,
    /// The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: Url,
    /// The model name the server knows.
    pub model: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// The article text sent is cut to this many characters, at a sentence boundary.
    pub max_input_chars: usize,
    /// Retries after a 429 or 5xx answer.
    pub max_retries: u32,
    /// The first retry's wait; each later one doubles it.
    pub backoff: Duration,
    /// Longest Retry-After honoured before a retry; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// CPU time checking the answer (or the extractive fallback) may take when the
    /// summarizer is called directly; the digest service uses the link's own deadline.
    pub fallback_deadline: Duration,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        OpenAiConfig {
            api_key: None,
            base_url: Url::parse("https://api.openai.com/v1").expect("a valid constant URL"),
            model: "gpt-4o-mini".to_owned(),
            timeout: Duration::from_secs(30),
            max_input_chars: 12_000,
            max_retries: 2,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(10),
            fallback_deadline: Duration::from_secs(3),
        }
    }
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("api_key", &super::redacted(self.api_key.as_deref()))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("max_input_chars", &self.max_input_chars)
            .field("max_retries", &self.max_retries)
            .field("backoff", &self.backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("fallback_deadline", &self.fallback_deadline)
            .finish()
    }
}

// Persisted digests (`store`).

/// How many digests the store keeps, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Digests older than this are deleted.
    pub retention: Duration,
    /// At most this many digests (and as many inline links) are kept; the oldest go first.
    pub max_digests: usize,
    /// How long a database call waits for another connection's write lock.
    pub busy_timeout: Duration,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            retention: Duration::from_secs(30 * 86_400),
            max_digests: 100_000,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

// The Telegram side (`bot`).

/// Settings of the Telegram side.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// Links answered per message; the rest are ignored.
    pub max_links_per_message: usize,
    /// How long an admin check is trusted before asking Telegram again.
    pub admin_cache_ttl: Duration,
    /// A link posted again in the same group within this time gets no second digest.
    pub repeat_window: Duration,
    /// How often "typing…" is repeated while a digest is being made.
    pub typing_interval: Duration,
    /// Messages a second across all chats (Telegram allows about 30).
    pub sends_per_second: u32,
    /// Messages a second in one chat (Telegram allows about 1).
    pub sends_per_second_per_chat: u32,
    /// Messages a minute in one group (Telegram allows about 20).
    pub sends_per_minute_per_chat: u32,
    /// The window `sends_per_minute_per_chat` counts in (a minute; tests shorten it).
    pub sends_window: Duration,
    /// Chats allowed to use the bot; `None` allows every chat.
    pub allowed_chats: Option<HashSet<i64>>,
    /// Links one person may have answered a minute (0: no limit).
    pub user_links_per_minute: u32,
    /// Links one chat may have answered a minute (0: no limit).
    pub chat_links_per_minute: u32,
    /// Commands one person may have answered a minute (0: no limit); more get no reply.
    pub user_commands_per_minute: u32,
    /// Commands one chat may have answered a minute (0: no limit); more get no reply.
    pub chat_commands_per_minute: u32,
    /// The window the link and command limits refill over (a minute; tests shorten it).
    pub link_limit_window: Duration,
    /// Messages being answered at once (fetching, summarizing).
    pub max_pending_work: usize,
    /// Messages waiting for a free slot beyond those, and updates waiting for their chat's
    /// turn to be checked (limits, repeats); more are dropped (and logged).
    pub max_queued_work: usize,
    /// Updates of one chat waiting for their turn to be checked; more of that chat's are
    /// dropped (and logged), so one flooding chat cannot fill every chat's places.
    pub max_queued_per_chat: usize,
    /// Messages that gave their slot back while they wait for pages being fetched or
    /// processed; when every place is taken, a waiting message keeps its slot.
    pub max_waiting_work: usize,
    /// Replies and edits waiting to be sent to one chat; more are dropped (and logged).
    pub outbox_per_chat: usize,
    /// Button answers and admin look-ups in flight at once; more are dropped (and logged).
    pub max_background_calls: usize,
    /// Inline mode (`@bot <link>` in any chat): answers inline queries and asks for them.
    pub inline: bool,
    /// How long one getUpdates call waits for updates (long polling); under the Bot API
    /// client's own 17 s limit on a call.
    pub poll_timeout: Duration,
    /// Updates one chat may have waiting for its handler before the dispatcher waits for it
    /// (teloxide's default is 64: a burst of 300 commands in one group held up everyone).
    pub updates_queued_per_chat: usize,
    /// Keys of link allowances, repeat marks and send windows kept before expired ones are
    /// swept (and, if still over, the soonest to expire).
    pub per_key_capacity: usize,
    /// Admin answers remembered before expired ones are swept.
    pub admin_cache_capacity: usize,
    /// Chats whose send slots the pacer keeps before expired ones are swept.
    pub pacer_capacity: usize,
    /// Group-to-supergroup migrations remembered (a group migrates once; this only bounds
    /// abuse).
    pub migrations_remembered: usize,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            max_links_per_message: 3,
            admin_cache_ttl: Duration::from_secs(300),
            repeat_window: Duration::from_secs(86_400),
            typing_interval: Duration::from_secs(4),
            sends_per_second: 30,
            sends_per_second_per_chat: 1,
            sends_per_minute_per_chat: 20,
            sends_window: Duration::from_secs(60),
            allowed_chats: None,
            user_links_per_minute: 20,
            chat_links_per_minute: 20,
            user_commands_per_minute: 20,
            chat_commands_per_minute: 60,
            link_limit_window: Duration::from_secs(60),
            max_pending_work: 256,
            max_queued_work: 4096,
            max_queued_per_chat: 64,
            max_waiting_work: 4096,
            outbox_per_chat: 32,
            max_background_calls: 512,
            inline: true,
            poll_timeout: Duration::from_secs(10),
            updates_queued_per_chat: 1024,
            per_key_capacity: 200_000,
            admin_cache_capacity: 100_000,
            pacer_capacity: 200_000,
            migrations_remembered: 100_000,
        }
    }
}

// The webhook's web server (`bot::webhook`).

/// Limits of the webhook's web server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookLimits {
    /// Updates received but not yet taken by the dispatcher; beyond it Telegram gets 503.
    pub queue: usize,
    /// Connections Telegram may open at once (sent to it as `max_connections`, 1-100).
    pub max_connections: u8,
    /// Connections held open at once from anyone; more wait to be accepted. Larger than
    /// `max_connections`, so strangers holding connections cannot shut Telegram out.
    pub open_connections: usize,
    /// The largest update body read, in bytes (Telegram escapes non-ASCII as `\uXXXX`).
    pub body_limit: usize,
    /// How long a connection may send nothing while a read waits, and how long one request
    /// (headers and body, from its first byte) may take to arrive.
    pub read_timeout: Duration,
}

impl Default for WebhookLimits {
    fn default() -> Self {
        WebhookLimits {
            queue: 1024,
            max_connections: 40,
            open_connections: 512,
            body_limit: 1024 * 1024,
            read_timeout: Duration::from_secs(10),
        }
    }
}
