//! The real bot, started in-process against the fake Bot API and a fake site.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use linkdigest::bot::webhook::{Webhook, WebhookLimits};
use linkdigest::bot::{self, App, BotConfig, RunError, Updates};
use linkdigest::cache::CacheConfig;
use linkdigest::digest::Service;
use linkdigest::fetch::{FetchConfig, Fetcher};
use linkdigest::redis_state::RedisState;
use linkdigest::store::{Store, StoreLimits};
use linkdigest::summarize::Extractive;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::fake_site::FakeSite;
use super::fake_telegram::{FakeTelegram, SentMessage};

/// How long a test waits for the bot to act before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A running bot; `stop` shuts it down the way SIGTERM does.
pub struct TestBot {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RunError>>,
}

/// Settings for tests: the fake site is on 127.0.0.1, limits are short, pacing is generous.
pub fn bot_config() -> BotConfig {
    BotConfig {
        sends_per_second: 1000,
        sends_per_second_per_chat: 100,
        sends_per_minute_per_chat: 1000,
        typing_interval: Duration::from_millis(500),
        ..BotConfig::default()
    }
}

/// A fetcher allowed to reach the fake site on loopback, with test-sized timeouts.
pub fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig {
        allow_private_addresses: true,
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
        ..FetchConfig::default()
    })
    .expect("a fetcher")
}

impl TestBot {
    /// Starts the bot on the database at `db` with the default test settings.
    pub async fn start(tg: &FakeTelegram, db: &Path) -> Self {
        Self::start_with(tg, db, bot_config()).await
    }

    /// Starts the bot with the given Telegram-side settings.
    pub async fn start_with(tg: &FakeTelegram, db: &Path, config: BotConfig) -> Self {
        Self::start_receiving(tg, db, config, Updates::Polling { ops: None }, None).await
    }

    /// Starts the bot with the given digest cache settings (a short TTL, say).
    pub async fn start_with_cache(tg: &FakeTelegram, db: &Path, cache: CacheConfig) -> Self {
        let updates = Updates::Polling { ops: None };
        Self::start_cached(tg, db, bot_config(), updates, None, cache).await
    }

    /// Starts the bot in webhook mode on 127.0.0.1; returns it and its web address.
    pub async fn start_webhook(tg: &FakeTelegram, db: &Path, secret: &str) -> (Self, SocketAddr) {
        Self::start_instance(tg, db, secret, None).await
    }

    /// Starts one of several instances in webhook mode, sharing `shared` (Redis) when given.
    pub async fn start_instance(
        tg: &FakeTelegram,
        db: &Path,
        secret: &str,
        shared: Option<RedisState>,
    ) -> (Self, SocketAddr) {
        Self::start_instance_with(tg, db, secret, shared, bot_config()).await
    }

    /// [`TestBot::start_instance`] with the given Telegram-side settings.
    pub async fn start_instance_with(
        tg: &FakeTelegram,
        db: &Path,
        secret: &str,
        shared: Option<RedisState>,
        config: BotConfig,
    ) -> (Self, SocketAddr) {
        Self::start_webhook_on(tg, db, secret, shared, config, WebhookLimits::default()).await
    }

    /// Starts the bot in webhook mode (secret `secret`) with the given connection and time
    /// limits; returns it and the webhook's address.
    pub async fn start_webhook_limited(
        tg: &FakeTelegram,
        db: &Path,
        secret: &str,
        limits: WebhookLimits,
    ) -> (Self, SocketAddr) {
        Self::start_webhook_on(tg, db, secret, None, bot_config(), limits).await
    }

    /// The webhook instance both starters above describe, on a free loopback port.
    async fn start_webhook_on(
        tg: &FakeTelegram,
        db: &Path,
        secret: &str,
        shared: Option<RedisState>,
        config: BotConfig,
        limits: WebhookLimits,
    ) -> (Self, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let updates = Updates::Webhook(Webhook {
            url: format!("http://{addr}/tg").parse().expect("a URL"),
            secret: secret.to_owned(),
            listener,
            ops: None,
            limits,
        });
        let bot = Self::start_receiving(tg, db, config, updates, shared).await;
        (bot, addr)
    }

    /// Starts the bot in webhook mode with `/healthz` and `/metrics` on a listener of their
    /// own; returns it, the webhook's address and the operations address.
    pub async fn start_webhook_with_ops(
        tg: &FakeTelegram,
        db: &Path,
        secret: &str,
    ) -> (Self, SocketAddr, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let ops = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (addr, ops_addr) = (
            listener.local_addr().expect("address"),
            ops.local_addr().expect("address"),
        );
        let updates = Updates::Webhook(Webhook {
            url: format!("http://{addr}/tg").parse().expect("a URL"),
            secret: secret.to_owned(),
            listener,
            ops: Some(ops),
            limits: WebhookLimits::default(),
        });
        let bot = Self::start_receiving(tg, db, bot_config(), updates, None).await;
        (bot, addr, ops_addr)
    }

    async fn start_receiving(
        tg: &FakeTelegram,
        db: &Path,
        config: BotConfig,
        updates: Updates,
        shared: Option<RedisState>,
    ) -> Self {
        Self::start_cached(tg, db, config, updates, shared, CacheConfig::default()).await
    }

    /// Starts the bot with a digest service of the test's own (its own DNS, say).
    pub async fn start_with_digests(tg: &FakeTelegram, db: &Path, digests: Service) -> Self {
        let store = Store::open(db, StoreLimits::default()).expect("open the database");
        let digests = Arc::new(digests.with_archive(Arc::new(store.clone())));
        let app = App::new(digests, store, bot_config());
        Self::launch(tg, app, Updates::Polling { ops: None })
    }

    async fn start_cached(
        tg: &FakeTelegram,
        db: &Path,
        config: BotConfig,
        updates: Updates,
        shared: Option<RedisState>,
        cache: CacheConfig,
    ) -> Self {
        let mut store = Store::open(db, StoreLimits::default()).expect("open the database");
        let mut digests = Service::from_parts(fetcher(), Arc::new(Extractive::new()), cache);
        if let Some(shared) = shared {
            store = store.with_shared(shared.clone());
            digests = digests.with_shared(shared);
        }
        // As `run` does: digests made before a restart answer again within the cache TTL.
        let digests = Arc::new(digests.with_archive(Arc::new(store.clone())));
        let app = App::new(digests, store, config);
        Self::launch(tg, app, updates)
    }

    /// Runs `app` against the fake Bot API until [`TestBot::stop`].
    fn launch(tg: &FakeTelegram, app: App, updates: Updates) -> Self {
        let client = bot::client("123456:TEST", Some(&tg.url()));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(bot::run(client, app, updates, async {
            let _ = rx.await;
        }));
        TestBot {
            shutdown: Some(tx),
            task,
        }
    }

    /// Asks the bot to stop and waits until it has finished its work.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let finished = tokio::time::timeout(PATIENCE, &mut self.task).await;
        match finished {
            Ok(Ok(Ok(()))) => {}
            other => panic!("the bot did not stop cleanly: {other:?}"),
        }
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until the bot has sent at least `count` messages to `chat` and returns them all.
pub async fn replies(tg: &FakeTelegram, chat: i64, count: usize) -> Vec<SentMessage> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let sent = tg.sent_messages(chat);
        if sent.len() >= count {
            return sent;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("waited for {count} message(s) in chat {chat}, got {sent:#?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until message `id` in `chat` has been edited `edits` times and returns it.
pub async fn edited(tg: &FakeTelegram, chat: i64, id: i32, edits: usize) -> SentMessage {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = tg
            .sent_messages(chat)
            .into_iter()
            .find(|m| m.message_id == id);
        if let Some(m) = found.filter(|m| m.edits >= edits) {
            return m;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("message {id} in chat {chat} was not edited {edits} time(s)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until inline message `id` was edited `edits` times.
pub async fn inline_edited(tg: &FakeTelegram, id: &str, edits: usize) -> SentMessage {
    let what = format!("{edits} edit(s) of inline message {id}");
    tg.wait_until(&what, PATIENCE, |tg| {
        tg.inline_message(id).filter(|m| m.edits >= edits)
    })
    .await
}

/// The callback data of a message's first button.
pub fn first_callback(message: &SentMessage) -> String {
    message.buttons[0][0]
        .callback_data
        .clone()
        .expect("a callback button")
}

/// A fake website on 127.0.0.1 serving `pages` as HTML (path → body).
/// The pop-up text the bot answered button press `id` with (`None`: a silent answer), among
/// the `answerCallbackQuery` calls `answers` the fake recorded.
pub fn tap_answer(answers: &[Value], id: &str) -> Option<String> {
    let answer = answers
        .iter()
        .find(|a| a["callback_query_id"] == id)
        .unwrap_or_else(|| panic!("no answer to {id}"));
    answer["text"].as_str().map(str::to_owned)
}

pub async fn site(pages: &[(&str, String)]) -> FakeSite {
    let site = FakeSite::start().await;
    for (at, html) in pages {
        site.html(at, html).await;
    }
    site
}

/// The number of bullet sentences in a digest message.
pub fn bullets(message: &SentMessage) -> usize {
    message.text.matches("\n• ").count()
}

/// Posts `message` as update `update_id` to a bot in webhook mode, as Telegram would.
pub async fn post_update(addr: SocketAddr, secret: &str, update_id: i64, mut message: Value) {
    if message["message_id"].is_null() {
        message["message_id"] = json!(update_id);
    }
    if message["date"].is_null() {
        message["date"] = json!(1_700_000_000);
    }
    let status = reqwest::Client::new()
        .post(format!("http://{addr}/tg"))
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .json(&json!({"update_id": update_id, "message": message}))
        .send()
        .await
        .expect("the bot's web server answers")
        .status();
    assert_eq!(status, 200);
}

/// Posts a whole update (`{"update_id": …, "inline_query": …}`, say) to a bot in webhook
/// mode, as Telegram would.
pub async fn post_raw_update(addr: SocketAddr, secret: &str, update: Value) {
    let status = reqwest::Client::new()
        .post(format!("http://{addr}/tg"))
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .json(&update)
        .send()
        .await
        .expect("the bot's web server answers")
        .status();
    assert_eq!(status, 200);
}
