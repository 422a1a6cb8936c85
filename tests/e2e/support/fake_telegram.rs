//! A fake Telegram Bot API server on 127.0.0.1:0 that the real teloxide client talks to.
//!
//! Each test starts its own [`FakeTelegram`], queues updates (`send_text`, `press_button`),
//! runs the bot against [`FakeTelegram::url`], then asserts on the recorded calls and on the
//! messages the bot sent. teloxide posts JSON to `/bot{token}/{Method}`; method names match
//! case-insensitively. Answers use the real API's shapes and error texts, so teloxide maps them
//! to the same `ApiError`/`RequestError` variants as in production.
//!
//! It is as strict as Telegram where the bot can go wrong: `parse_mode=HTML` is parsed by
//! [`tg_html::parse`] (bad markup is refused, the stored message holds the plain text and its
//! entities, as Telegram returns it, with the URLs, e-mails, mentions, commands, hashtags and
//! cashtags its clients make live in plain text), text over 4096 UTF-16 units or empty is refused, as is
//! callback data outside 1-64 bytes, a reply to a missing message without
//! `allow_sending_without_reply`, a send to a group that became a supergroup, a second
//! answer to one button press, and `getUpdates` while a webhook is set.
//!
//! Inline mode: `inline_query` queues a query, `choose_inline_result` sends one of its answered
//! results as the person would (creating the inline message and, when the result has buttons,
//! the `chosen_inline_result` update), `press_inline_button` presses a button under it.
//! `answerInlineQuery` is checked as Telegram does: the query answered once and within 10 s,
//! at most 50 results with unique ids of 1-64 bytes, each message text valid.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::{Json, Router, body::Bytes, http::StatusCode, routing::post};
use regex::Regex;
use serde_json::{Value, json};

use super::{autolink, tg_html};

/// The bot's user id, matching the token `123456:TEST` the tests give teloxide.
pub const BOT_ID: u64 = 123456;
/// The longest a `getUpdates` call waits for an update, whatever timeout the bot asks for.
const MAX_POLL: Duration = Duration::from_secs(1);

/// A chat that updates come from; `to_json` gives Telegram's `Chat` object.
#[derive(Clone, Debug)]
pub struct Chat {
    /// The chat id (negative for groups, `-100…` for supergroups).
    pub id: i64,
    json: Value,
}

impl Chat {
    /// A private chat with the user whose id is `id`.
    pub fn private(id: i64) -> Self {
        let json = json!({"id": id, "type": "private", "first_name": format!("User {id}")});
        Self { id, json }
    }
    /// A basic group titled "Group {id}".
    pub fn group(id: i64) -> Self {
        let json = json!({"id": id, "type": "group", "title": format!("Group {id}")});
        Self { id, json }
    }
    /// A supergroup titled "Supergroup {id}".
    pub fn supergroup(id: i64) -> Self {
        let json = json!({"id": id, "type": "supergroup", "title": format!("Supergroup {id}")});
        Self { id, json }
    }
    /// A supergroup with forum topics (messages then carry a `message_thread_id`).
    pub fn forum(id: i64) -> Self {
        let mut chat = Self::supergroup(id);
        chat.json["is_forum"] = json!(true);
        chat
    }
    /// Telegram's `Chat` object.
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }
}

/// A user (or another bot) who sends messages and presses buttons.
#[derive(Clone, Debug)]
pub struct User {
    /// The user id.
    pub id: u64,
    json: Value,
}

impl User {
    /// A human user.
    pub fn new(id: u64, first_name: &str) -> Self {
        let json = json!({"id": id, "is_bot": false, "first_name": first_name});
        Self { id, json }
    }
    /// Another bot, whose messages the bot under test should ignore.
    pub fn bot(id: u64, username: &str) -> Self {
        let json = json!({"id": id, "is_bot": true, "first_name": username, "username": username});
        Self { id, json }
    }
    /// The `from` of a message an anonymous group admin sent (its `sender_chat` is the group).
    pub fn group_anonymous_bot() -> Self {
        let mut user = Self::bot(1087968824, "GroupAnonymousBot");
        user.json["first_name"] = json!("Group");
        user
    }
    /// Telegram's `User` object.
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }
}

/// An error the fake answers instead of the real result (see [`FakeTelegram::fail_next`]).
#[derive(Clone, Debug)]
pub struct Failure(Value);

impl Failure {
    /// An error with Telegram's code and description, e.g. 403 "Forbidden: bot was blocked by
    /// the user". Codes of 500 and up make teloxide sleep 10 s before it returns.
    pub fn new(error_code: u16, description: &str) -> Self {
        Self(json!({"ok": false, "error_code": error_code, "description": description}))
    }
    /// A 429 "Too Many Requests" asking to retry after `seconds`.
    pub fn retry_after(seconds: u32) -> Self {
        let mut failure = Self::new(429, &format!("Too Many Requests: retry after {seconds}"));
        failure.0["parameters"] = json!({"retry_after": seconds});
        failure
    }
}

/// One inline keyboard button as the bot sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct Button {
    /// The label.
    pub text: String,
    /// The callback data of a callback button.
    pub callback_data: Option<String>,
    /// The link of a URL button.
    pub url: Option<String>,
}

/// A message the bot sent, as it is now (after any edits).
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// The chat it was sent to.
    pub chat_id: i64,
    /// Its id in that chat.
    pub message_id: i32,
    /// The text as the bot sent it, markup included.
    pub text: String,
    /// The text a user sees: markup parsed away as Telegram does.
    pub plain_text: String,
    /// The entities Telegram made of the markup (`type`, `offset`, `length` in UTF-16
    /// units, `url` of a `text_link`).
    pub entities: Vec<Value>,
    /// The `parse_mode` of the latest send or edit.
    pub parse_mode: Option<String>,
    /// The message it replies to.
    pub reply_to: Option<i32>,
    /// The inline keyboard, row by row.
    pub buttons: Vec<Vec<Button>>,
    /// The forum topic it was sent to.
    pub message_thread_id: Option<i32>,
    /// Whether the latest send or edit disabled the link preview.
    pub link_preview_disabled: bool,
    /// How many edits succeeded.
    pub edits: usize,
    /// When the fake accepted the first send (edits keep it).
    pub sent_at: Instant,
}

impl SentMessage {
    /// The text a user sees: markup removed and HTML entities decoded.
    pub fn visible_text(&self) -> String {
        self.plain_text.clone()
    }

    /// The parts of the visible text that are links (`text_link` entities): (text, url).
    pub fn links(&self) -> Vec<(String, String)> {
        let units: Vec<u16> = self.plain_text.encode_utf16().collect();
        self.entities
            .iter()
            .filter(|e| e["type"] == "text_link")
            .filter_map(|e| {
                let start = e["offset"].as_u64()? as usize;
                let end = start + e["length"].as_u64()? as usize;
                let text = String::from_utf16(units.get(start..end)?).ok()?;
                Some((text, e["url"].as_str()?.to_owned()))
            })
            .collect()
    }
}

/// One recorded API call.
#[derive(Clone, Debug)]
pub struct Call {
    /// The method name as requested (e.g. `SendMessage`).
    pub method: String,
    /// The JSON body (`{}` when empty or not JSON).
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

/// A failure waiting for its method: once (`ratio` None) or on a share of the calls.
struct Fault {
    method: String,
    failure: Failure,
    ratio: Option<f64>,
    seen: u64,
}

#[derive(Default)]
struct Inner {
    username: String,
    reads_all_group_messages: bool,
    next_update_id: i64,
    updates: Vec<Value>,
    acknowledged: i64,
    allowed_updates: Vec<String>,
    last_message_id: HashMap<i64, i32>,
    chats: HashMap<i64, Value>,
    messages: HashMap<(i64, i32), Value>,
    sent: Vec<SentMessage>,
    members: HashMap<(i64, u64), String>,
    faults: Vec<Fault>,
    /// Extra time before answering, by lowercase method name (a slow network).
    latency: HashMap<String, Duration>,
    calls: Vec<Call>,
    /// The webhook as the latest setWebhook left it (`url`, `secret_token`,
    /// `allowed_updates`, `max_connections`); `None` after deleteWebhook.
    webhook: Option<Value>,
    /// Groups that became supergroups: old id → new id.
    migrated: HashMap<i64, i64>,
    /// Button presses queued and not yet answered, with when they were made.
    open_queries: HashMap<String, Instant>,
    /// Presses and queries opened for a test to post itself (their ids' numbers).
    next_open: u64,
    /// How long after a press Telegram still takes its answer (~15 s).
    callback_answer_window: Duration,
    /// Inline queries not yet answered: id → (when queued, the query text).
    open_inline: HashMap<String, (Instant, String)>,
    /// Inline queries answered: id → (query text, the answer's body).
    inline_answers: HashMap<String, (String, Value)>,
    /// Inline feedback turned off at BotFather: no `chosen_inline_result` is sent.
    no_inline_feedback: bool,
    /// Messages sent in inline mode, by `inline_message_id`, as they are now.
    inline_messages: HashMap<String, SentMessage>,
    /// When each message update was first handed to the bot (by getUpdates or a webhook
    /// delivery), by (chat id, message id): how long it waited on Telegram's side.
    handed_out: HashMap<(i64, i32), Instant>,
}

/// How long after a press Telegram takes the answer to it.
const CALLBACK_ANSWER_WINDOW: Duration = Duration::from_secs(15);

/// How long Telegram waits for the answer to an inline query.
const INLINE_ANSWER_WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Shared {
    inner: Mutex<Inner>,
    new_update: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked mid-request must not hide the state from later assertions.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running fake Bot API server; it stops when dropped.
pub struct FakeTelegram {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
    started: Instant,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTelegram {
    /// Starts a fake for the bot `@digest_bot` with privacy mode off, on a free local port.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        shared.lock().username = "digest_bot".into();
        shared.lock().reads_all_group_messages = true;
        shared.lock().callback_answer_window = CALLBACK_ANSWER_WINDOW;
        let app = Router::new().route("/{token}/{method}", post(handle));
        let app = app.with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Self {
            addr,
            shared,
            server,
            started: Instant::now(),
        }
    }

    /// The `api_url` to give teloxide (`Bot::set_api_url`, `TELOXIDE_API_URL`).
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr)).expect("a socket address is a URL")
    }

    /// Sets the username `getMe` reports (without `@`).
    pub fn set_username(&self, username: &str) {
        self.shared.lock().username = username.into();
    }

    /// Sets `getMe.can_read_all_group_messages`; false means privacy mode is on.
    pub fn set_can_read_all_group_messages(&self, yes: bool) {
        self.shared.lock().reads_all_group_messages = yes;
    }

    /// Sets what `getChatMember` answers for a user: `creator`, `administrator`, `member`
    /// (the default), `left` or `kicked`. For [`BOT_ID`], `kicked` and `left` make sends,
    /// edits and chat actions there fail with Telegram's 403 (in a private chat `kicked` is
    /// the person blocking the bot).
    pub fn set_member_status(&self, chat_id: i64, user_id: u64, status: &str) {
        self.shared
            .lock()
            .members
            .insert((chat_id, user_id), status.into());
    }

    /// Deletes a message, as its author or an admin would; replies to it then need
    /// `allow_sending_without_reply`.
    pub fn delete_message(&self, chat_id: i64, message_id: i32) {
        self.shared.lock().messages.remove(&(chat_id, message_id));
    }

    /// Makes the group `from` a supergroup `to`: sends to `from` fail with
    /// `migrate_to_chat_id`, as Telegram answers after the upgrade.
    pub fn migrate_chat(&self, from: &Chat, to: &Chat) {
        let mut inner = self.shared.lock();
        inner.migrated.insert(from.id, to.id);
        inner.chats.insert(to.id, to.to_json());
    }

    /// The webhook as the latest setWebhook left it (`url`, `secret_token`,
    /// `allowed_updates`, `max_connections`), or `None` when none is set (never set, or deleted).
    pub fn webhook(&self) -> Option<Value> {
        self.shared.lock().webhook.clone()
    }

    /// The setWebhook and deleteWebhook calls so far, in order: (method, body).
    pub fn webhook_calls(&self) -> Vec<(String, Value)> {
        let calls = self.all_calls().into_iter();
        calls
            .filter(|c| {
                c.method.eq_ignore_ascii_case("setWebhook")
                    || c.method.eq_ignore_ascii_case("deleteWebhook")
            })
            .map(|c| (c.method, c.body))
            .collect()
    }

    /// Queues a text message with the entities Telegram would add; returns its message id.
    pub fn send_text(&self, chat: &Chat, from: &User, text: &str) -> i32 {
        self.send_message_json(text_message(chat, from, text))
    }

    /// Queues any `Message` object, filling in `message_id` and `date` when missing.
    pub fn send_message_json(&self, mut message: Value) -> i32 {
        let mut inner = self.shared.lock();
        let chat_id = message["chat"]["id"].as_i64().expect("message.chat.id");
        inner.chats.insert(chat_id, message["chat"].clone());
        let message_id = match message["message_id"].as_i64() {
            Some(id) => {
                // Keeps the bot's later messages from reusing a raw message's id.
                let last = inner.last_message_id.entry(chat_id).or_insert(0);
                *last = (*last).max(id as i32);
                id as i32
            }
            None => next_message_id(&mut inner, chat_id),
        };
        message["message_id"] = json!(message_id);
        if message["date"].is_null() {
            message["date"] = json!(unix_now());
        }
        inner
            .messages
            .insert((chat_id, message_id), message.clone());
        drop(inner);
        self.push_update("message", message);
        message_id
    }

    /// Queues a press of an inline button under message `message_id`; returns the query id.
    /// A message the fake does not know arrives as inaccessible (`date` 0), like a very old one.
    pub fn press_button(&self, chat: &Chat, from: &User, message_id: i32, data: &str) -> String {
        let query = self.open_button_press(chat, from, message_id, data);
        queue_update(&mut self.shared.lock(), "callback_query", query.clone());
        self.shared.new_update.notify_waiters();
        string(&query["id"]).unwrap_or_default()
    }

    /// A press of a button under message `message_id` in `chat`, open for an answer but not
    /// queued: the `callback_query` payload, for a test to post to the instance it picks.
    pub fn open_button_press(
        &self,
        chat: &Chat,
        from: &User,
        message_id: i32,
        data: &str,
    ) -> Value {
        let mut inner = self.shared.lock();
        let inaccessible = json!({"message_id": message_id, "date": 0, "chat": chat.to_json()});
        let known = inner.messages.get(&(chat.id, message_id)).cloned();
        let message = known.unwrap_or(inaccessible);
        inner.next_open += 1;
        let id = format!("cq-open{}", inner.next_open);
        inner.open_queries.insert(id.clone(), Instant::now());
        json!({"id": id, "from": from.to_json(), "message": message,
            "chat_instance": format!("ci{}", chat.id), "data": data})
    }

    /// Queues an inline query `@digest_bot {query}` typed by `from`; returns the query id.
    pub fn inline_query(&self, from: &User, query: &str) -> String {
        let mut inner = self.shared.lock();
        let id = format!("iq{}", inner.next_update_id + 1);
        let payload = open_inline_query(&mut inner, id.clone(), from, query);
        queue_update(&mut inner, "inline_query", payload);
        drop(inner);
        self.shared.new_update.notify_waiters();
        id
    }

    /// An inline query open for an answer but not queued: the `inline_query` payload, for a
    /// test to post to the instance it picks.
    pub fn open_inline_query(&self, from: &User, query: &str) -> Value {
        let mut inner = self.shared.lock();
        inner.next_open += 1;
        let id = format!("iq-open{}", inner.next_open);
        open_inline_query(&mut inner, id, from, query)
    }

    /// A press of a button under inline message `inline_message_id`, open for an answer but
    /// not queued: the `callback_query` payload, for a test to post to the instance it picks.
    pub fn open_inline_button_press(
        &self,
        from: &User,
        inline_message_id: &str,
        data: &str,
    ) -> Value {
        let mut inner = self.shared.lock();
        inner.next_open += 1;
        let id = format!("cq-open{}", inner.next_open);
        inner.open_queries.insert(id.clone(), Instant::now());
        json!({"id": id, "from": from.to_json(), "inline_message_id": inline_message_id,
            "chat_instance": "ci-inline", "data": data})
    }

    /// The body of the bot's accepted answer to inline query `id`, if it answered.
    pub fn inline_answer(&self, id: &str) -> Option<Value> {
        let inner = self.shared.lock();
        inner.inline_answers.get(id).map(|(_, body)| body.clone())
    }

    /// Sends result `result_id` of the answered query `query_id` as `from` would: the inline
    /// message is created and, as the result has buttons (Telegram gives an
    /// `inline_message_id` only then), a `chosen_inline_result` is queued. Returns the inline
    /// message id, or `None` when the query was not answered with that result. With inline
    /// feedback off (or a result without buttons) the message is made but nothing queued.
    pub fn choose_inline_result(
        &self,
        from: &User,
        query_id: &str,
        result_id: &str,
    ) -> Option<String> {
        let mut inner = self.shared.lock();
        let (query, answer) = inner.inline_answers.get(query_id)?.clone();
        let result = answer["results"]
            .as_array()?
            .iter()
            .find(|r| r["id"] == json!(result_id))?
            .clone();
        let content = &result["input_message_content"];
        let body = json!({"text": content["message_text"], "parse_mode": content["parse_mode"],
            "link_preview_options": content["link_preview_options"],
            "reply_markup": result["reply_markup"]});
        let shown = shown_text(&body).ok()?;
        let id = format!("im{}", inner.inline_messages.len() + 1);
        let message = sent_message(0, 0, &body, &shown);
        inner.inline_messages.insert(id.clone(), message);
        if result["reply_markup"].is_null() || inner.no_inline_feedback {
            return Some(id);
        }
        let payload = json!({"result_id": result_id, "from": from.to_json(), "query": query,
            "inline_message_id": id});
        queue_update(&mut inner, "chosen_inline_result", payload);
        drop(inner);
        self.shared.new_update.notify_waiters();
        Some(id)
    }

    /// Queues a press of a button under inline message `inline_message_id`; the query
    /// carries no message, as Telegram sends it. Returns the query id.
    pub fn press_inline_button(&self, from: &User, inline_message_id: &str, data: &str) -> String {
        let mut inner = self.shared.lock();
        let id = format!("cq{}", inner.next_update_id + 1);
        inner.open_queries.insert(id.clone(), Instant::now());
        let query = json!({"id": id, "from": from.to_json(), "inline_message_id": inline_message_id,
            "chat_instance": "ci-inline", "data": data});
        queue_update(&mut inner, "callback_query", query);
        drop(inner);
        self.shared.new_update.notify_waiters();
        id
    }

    /// Takes answers to button presses only within `window` of the press (Telegram: ~15 s),
    /// so a test can see a late answer refused without waiting that long.
    pub fn set_callback_answer_window(&self, window: Duration) {
        self.shared.lock().callback_answer_window = window;
    }

    /// Turns BotFather's inline feedback (`/setinlinefeedback`) on or off; it is on (100%)
    /// by default.
    pub fn set_inline_feedback(&self, on: bool) {
        self.shared.lock().no_inline_feedback = !on;
    }

    /// The inline message `id` as it is now (after edits); `chat_id` and `message_id` are 0.
    pub fn inline_message(&self, id: &str) -> Option<SentMessage> {
        self.shared.lock().inline_messages.get(id).cloned()
    }

    /// Queues an update of any kind (`edited_message`, `channel_post`, …); returns its id.
    /// Kinds missing from the bot's latest `allowed_updates` list are dropped, as Telegram does.
    pub fn push_update(&self, kind: &str, payload: Value) -> i64 {
        let id = queue_update(&mut self.shared.lock(), kind, payload);
        self.shared.new_update.notify_waiters();
        id
    }

    /// Answers the next call of `method` with `failure` instead of its result.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        let fault = Fault {
            method: method.into(),
            failure,
            ratio: None,
            seen: 0,
        };
        self.shared.lock().faults.push(fault);
    }

    /// Answers every later call of `method` only after `latency`, as over a slow network.
    pub fn slow_down(&self, method: &str, latency: Duration) {
        let mut inner = self.shared.lock();
        inner.latency.insert(method.to_ascii_lowercase(), latency);
    }

    /// Answers a share (0.0-1.0) of the calls of `method` with `failure`, evenly spread.
    pub fn fail_ratio(&self, method: &str, ratio: f64, failure: Failure) {
        let fault = Fault {
            method: method.into(),
            failure,
            ratio: Some(ratio),
            seen: 0,
        };
        self.shared.lock().faults.push(fault);
    }

    /// The bodies of every call of `method` so far, failed ones included, in order.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        let calls = self.all_calls().into_iter();
        calls
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .map(|c| c.body)
            .collect()
    }

    /// Every call so far, in order.
    pub fn all_calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Waits until at least `count` calls of `method` arrived and returns their bodies;
    /// on timeout, panics with a listing of every call.
    pub async fn wait_for(&self, method: &str, count: usize, timeout: Duration) -> Vec<Value> {
        let what = format!("{count} {method} call(s)");
        self.wait_until(&what, timeout, |fake| {
            let calls = fake.calls(method);
            (calls.len() >= count).then_some(calls)
        })
        .await
    }

    /// Waits until the bot has sent at least `count` messages to a chat and returns them.
    pub async fn wait_for_sent(
        &self,
        chat_id: i64,
        count: usize,
        timeout: Duration,
    ) -> Vec<SentMessage> {
        let what = format!("{count} message(s) sent to chat {chat_id}");
        self.wait_until(&what, timeout, |fake| {
            let sent = fake.sent_messages(chat_id);
            (sent.len() >= count).then_some(sent)
        })
        .await
    }

    /// Checks `ready` every 20 ms until it gives a value; on timeout, panics naming `what`
    /// and listing every call, with its time since the fake started.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&Self) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = ready(self) {
                return value;
            }
            if Instant::now() >= deadline {
                let calls = self.all_calls().into_iter();
                let since_start = |c: &Call| (c.at - self.started).as_millis();
                let listing: Vec<String> = calls
                    .map(|c| format!("  {:>5} ms {} {}", since_start(&c), c.method, c.body))
                    .collect();
                panic!(
                    "waited {timeout:?} for {what}; calls:\n{}",
                    listing.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The messages the bot sent to a chat, in order, as they are now (after edits).
    pub fn sent_messages(&self, chat_id: i64) -> Vec<SentMessage> {
        let inner = self.shared.lock();
        inner
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// When the message `message_id` in `chat_id` was first handed to the bot, if it was.
    pub fn handed_out_at(&self, chat_id: i64, message_id: i32) -> Option<Instant> {
        self.shared
            .lock()
            .handed_out
            .get(&(chat_id, message_id))
            .copied()
    }

    /// How many messages the bot has sent so far (cheap to poll, unlike the messages).
    pub fn sent_count(&self) -> usize {
        self.shared.lock().sent.len()
    }

    /// Every message the bot sent, in order, as it is now (after edits).
    pub fn all_sent_messages(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// The highest `offset` the bot has passed to `getUpdates` (0 before any).
    pub fn acknowledged_offset(&self) -> i64 {
        self.shared.lock().acknowledged
    }

    /// Delivers queued updates to the webhook the bot registered, as Telegram does: each one
    /// POSTed as JSON to its URL with `X-Telegram-Bot-Api-Secret-Token`, at most the webhook's
    /// `max_connections` (default 40) at once, kinds not in its `allowed_updates` dropped, and
    /// an update the bot does not answer with 2xx sent again (up to 10 tries). Updates wait
    /// while no webhook is set. Runs until the returned task is aborted.
    pub fn deliver_to_webhook(&self) -> tokio::task::JoinHandle<()> {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut connections: Option<(u64, Arc<tokio::sync::Semaphore>)> = None;
            loop {
                // Created before looking at the queue, so an update pushed in between wakes us.
                let notified = shared.new_update.notified();
                let due = {
                    let mut inner = shared.lock();
                    inner.webhook.clone().map(|webhook| {
                        let updates = std::mem::take(&mut inner.updates);
                        (webhook, updates)
                    })
                };
                let Some((webhook, updates)) = due.filter(|(_, u)| !u.is_empty()) else {
                    // setWebhook does not notify: look again soon in any case.
                    let _ = tokio::time::timeout(Duration::from_millis(20), notified).await;
                    continue;
                };
                let max = webhook["max_connections"]
                    .as_u64()
                    .or_else(|| webhook["max_connections"].as_str()?.parse().ok())
                    .unwrap_or(40)
                    .clamp(1, 100);
                let permits = match &connections {
                    Some((n, permits)) if *n == max => permits.clone(),
                    _ => {
                        let permits = Arc::new(tokio::sync::Semaphore::new(max as usize));
                        connections = Some((max, permits.clone()));
                        permits
                    }
                };
                let url = webhook["url"].as_str().unwrap_or_default().to_owned();
                let secret = webhook["secret_token"].as_str().map(str::to_owned);
                let allowed: Vec<String> = webhook["allowed_updates"]
                    .as_array()
                    .map(|kinds| {
                        let kinds = kinds.iter().filter_map(Value::as_str);
                        kinds.map(str::to_owned).collect()
                    })
                    .unwrap_or_default();
                for update in updates {
                    if !allowed.is_empty() && !allowed.iter().any(|k| update.get(k).is_some()) {
                        continue;
                    }
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        return;
                    };
                    let (http, url, secret) = (http.clone(), url.clone(), secret.clone());
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let _permit = permit;
                        note_handed_out(&mut shared.lock(), std::slice::from_ref(&update));
                        for _ in 0..10 {
                            let mut request = http.post(&url).json(&update);
                            if let Some(secret) = &secret {
                                request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
                            }
                            let sent = request.send().await;
                            if sent.is_ok_and(|r| r.status().is_success()) {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    });
                }
            }
        })
    }
}

/// A text `Message` object with Telegram's entities, to adjust before `send_message_json`.
pub fn text_message(chat: &Chat, from: &User, text: &str) -> Value {
    json!({"chat": chat.to_json(), "from": from.to_json(), "text": text, "entities": entities(text)})
}

/// The `url`, `mention` and `bot_command` entities of a text, counted in UTF-16 code units.
pub fn entities(text: &str) -> Vec<Value> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"https?://\S+|@\w{5,32}|/\w+(?:@\w+)?").expect("entity pattern")
    });
    let utf16 = |s: &str| s.encode_utf16().count();
    let mut found = Vec::new();
    for m in PATTERN.find_iter(text) {
        let starts_word = text[..m.start()]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let kind = match m.as_str().as_bytes()[0] {
            b'h' => "url",
            b'@' if starts_word => "mention",
            b'/' if starts_word => "bot_command",
            _ => continue,
        };
        // Like Telegram, trailing punctuation ends the sentence rather than the link.
        let matched = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
        let (offset, length) = (utf16(&text[..m.start()]), utf16(matched));
        found.push(json!({"type": kind, "offset": offset, "length": length}));
    }
    found
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Opens inline query `id` for an answer and returns its payload.
fn open_inline_query(inner: &mut Inner, id: String, from: &User, query: &str) -> Value {
    inner
        .open_inline
        .insert(id.clone(), (Instant::now(), query.to_owned()));
    json!({"id": id, "from": from.to_json(), "query": query, "offset": "", "chat_type": "sender"})
}

fn queue_update(inner: &mut Inner, kind: &str, payload: Value) -> i64 {
    inner.next_update_id += 1;
    let id = inner.next_update_id;
    inner.updates.push(json!({"update_id": id, kind: payload}));
    id
}

fn next_message_id(inner: &mut Inner, chat_id: i64) -> i32 {
    let id = inner.last_message_id.entry(chat_id).or_insert(0);
    *id += 1;
    *id
}

/// A chat the bot writes to before any update came from it, guessed from the id's range.
fn chat_for(id: i64) -> Value {
    let chat = match id {
        1.. => Chat::private(id),
        ..=-1_000_000_000_000 => Chat::supergroup(id),
        _ => Chat::group(id),
    };
    chat.to_json()
}

fn bot_json(inner: &Inner) -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Digest", "username": inner.username})
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

/// What the bot asked for in a `sendMessage` or `editMessageText` body, with the text and
/// entities Telegram made of it.
fn sent_message(chat_id: i64, message_id: i32, body: &Value, shown: &Shown) -> SentMessage {
    let rows = body["reply_markup"]["inline_keyboard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let button = |b: &Value| Button {
        text: string(&b["text"]).unwrap_or_default(),
        callback_data: string(&b["callback_data"]),
        url: string(&b["url"]),
    };
    let row = |row: &Value| {
        row.as_array()
            .map_or(Vec::new(), |r| r.iter().map(button).collect())
    };
    SentMessage {
        chat_id,
        message_id,
        text: string(&body["text"]).unwrap_or_default(),
        plain_text: shown.text.clone(),
        entities: shown.entities.clone(),
        parse_mode: string(&body["parse_mode"]),
        reply_to: reply_target(body),
        buttons: rows.iter().map(row).collect(),
        message_thread_id: body["message_thread_id"].as_i64().map(|id| id as i32),
        link_preview_disabled: body["link_preview_options"]["is_disabled"] == json!(true)
            || body["disable_web_page_preview"] == json!(true),
        edits: 0,
        sent_at: Instant::now(),
    }
}

fn reply_target(body: &Value) -> Option<i32> {
    let id = body["reply_parameters"]["message_id"].as_i64();
    id.or(body["reply_to_message_id"].as_i64())
        .map(|id| id as i32)
}

fn bad_request<T>(description: &str) -> Result<T, Failure> {
    Err(Failure::new(400, &format!("Bad Request: {description}")))
}

/// The entities Telegram's clients make live in plain text (`url`, `email`, `mention`,
/// `bot_command`, `hashtag`, `cashtag`), in UTF-16 units, except inside a link, code or pre
/// entity the markup already made: there the markup wins, as in Telegram.
fn autolinks(text: &str, markup: &[tg_html::Entity]) -> Vec<Value> {
    let mut unit_at_char = Vec::with_capacity(text.len() + 1);
    let mut units = 0;
    for c in text.chars() {
        unit_at_char.push(units);
        units += c.len_utf16();
    }
    unit_at_char.push(units);
    let covered = |start: usize, end: usize| {
        markup.iter().any(|e| {
            matches!(e.kind.as_str(), "text_link" | "code" | "pre")
                && e.offset <= start
                && end <= e.offset + e.length
        })
    };
    autolink::detect(text)
        .into_iter()
        .filter_map(|found| {
            let (start, end) = (unit_at_char[found.start], unit_at_char[found.end]);
            (!covered(start, end))
                .then(|| json!({"type": found.kind, "offset": start, "length": end - start}))
        })
        .collect()
}

/// A message's text as Telegram shows and returns it.
struct Shown {
    text: String,
    entities: Vec<Value>,
}

/// Checks and parses the `text` of a sendMessage or editMessageText body as Telegram does.
fn shown_text(body: &Value) -> Result<Shown, Failure> {
    let raw = body["text"].as_str().unwrap_or_default();
    let html = body["parse_mode"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("html"));
    let shown = if html {
        let parsed = tg_html::parse(raw).or_else(|e| bad_request(&e))?;
        let mut entities: Vec<Value> = parsed
            .entities
            .iter()
            .map(tg_html::Entity::to_json)
            .collect();
        entities.extend(autolinks(&parsed.text, &parsed.entities));
        entities.sort_by_key(|e| e["offset"].as_u64());
        Shown {
            text: parsed.text,
            entities,
        }
    } else {
        let entities = body["entities"].as_array().cloned().unwrap_or_default();
        Shown {
            text: raw.to_owned(),
            entities,
        }
    };
    if shown.text.trim().is_empty() {
        return bad_request("message text is empty");
    }
    if shown.text.encode_utf16().count() > 4096 {
        return bad_request("message is too long");
    }
    Ok(shown)
}

/// Refuses an inline keyboard with callback data outside 1-64 bytes, as Telegram does.
fn check_keyboard(body: &Value) -> Result<(), Failure> {
    let rows = body["reply_markup"]["inline_keyboard"].as_array();
    let buttons = rows.into_iter().flatten().filter_map(Value::as_array);
    for button in buttons.flatten() {
        if let Some(data) = button.get("callback_data") {
            let size = data.as_str().map_or(0, str::len);
            if !(1..=64).contains(&size) {
                return bad_request("BUTTON_DATA_INVALID");
            }
        }
    }
    Ok(())
}

/// The fields of a `multipart/form-data` body (teloxide sends setWebhook that way) as a JSON
/// object; values that are JSON (lists, objects) are parsed, the rest kept as strings.
fn form_fields(content_type: &str, body: &[u8]) -> Option<Value> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let body = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let parsed = match value.as_bytes().first() {
            Some(b'[' | b'{') => serde_json::from_str(value).unwrap_or_else(|_| json!(value)),
            _ => json!(value),
        };
        fields.insert(name.to_owned(), parsed);
    }
    Some(Value::Object(fields))
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((_token, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let form = content_type
        .starts_with("multipart/form-data")
        .then(|| form_fields(content_type, &body))
        .flatten();
    let body: Value = form
        .or_else(|| serde_json::from_slice(&body).ok())
        .unwrap_or_else(|| json!({}));
    let fault = {
        let mut inner = shared.lock();
        let call = Call {
            method: method.clone(),
            body: body.clone(),
            at: Instant::now(),
        };
        inner.calls.push(call);
        take_fault(&mut inner, &method)
    };
    let latency = shared
        .lock()
        .latency
        .get(&method.to_ascii_lowercase())
        .copied();
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    let webhook_set = shared.lock().webhook.is_some();
    let outcome = match fault {
        Some(failure) => Err(failure),
        None if method.eq_ignore_ascii_case("GetUpdates") && webhook_set => Err(Failure::new(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        )),
        None if method.eq_ignore_ascii_case("GetUpdates") => Ok(get_updates(&shared, &body).await),
        None => answer(&mut shared.lock(), &method.to_ascii_lowercase(), &body),
    };
    match outcome {
        Ok(result) => (StatusCode::OK, Json(json!({"ok": true, "result": result}))),
        Err(Failure(error)) => {
            let code = error["error_code"]
                .as_u64()
                .and_then(|c| StatusCode::from_u16(c as u16).ok());
            (code.unwrap_or(StatusCode::BAD_REQUEST), Json(error))
        }
    }
}

fn take_fault(inner: &mut Inner, method: &str) -> Option<Failure> {
    let matching = |f: &Fault| f.method.eq_ignore_ascii_case(method);
    // A one-shot failure goes first, even while a ratio for the same method is active.
    let once = inner
        .faults
        .iter()
        .position(|f| matching(f) && f.ratio.is_none());
    let index = once.or_else(|| inner.faults.iter().position(matching))?;
    let fault = &mut inner.faults[index];
    let Some(ratio) = fault.ratio else {
        return Some(inner.faults.remove(index).failure);
    };
    fault.seen += 1;
    // Call n fails when n * ratio crosses an integer: deterministic and evenly spread.
    let crosses = (fault.seen as f64 * ratio).floor() > ((fault.seen - 1) as f64 * ratio).floor();
    crosses.then(|| fault.failure.clone())
}

/// Notes when each message update in `batch` was first handed to the bot.
fn note_handed_out(inner: &mut Inner, batch: &[Value]) {
    let now = Instant::now();
    for update in batch {
        let message = &update["message"];
        if let (Some(chat), Some(id)) = (
            message["chat"]["id"].as_i64(),
            message["message_id"].as_i64(),
        ) {
            inner.handed_out.entry((chat, id as i32)).or_insert(now);
        }
    }
}

/// Long poll: answers at once when updates are queued, else when one arrives or the wait ends.
async fn get_updates(shared: &Shared, body: &Value) -> Value {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100) as usize;
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0)).min(MAX_POLL);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Created before looking at the queue, so an update pushed in between still wakes us.
        let notified = shared.new_update.notified();
        {
            let mut inner = shared.lock();
            if let Some(kinds) = body["allowed_updates"].as_array() {
                let kinds = kinds.iter().filter_map(Value::as_str).map(str::to_string);
                inner.allowed_updates = kinds.collect();
            }
            let (acknowledged, allowed) = (
                inner.acknowledged.max(offset),
                inner.allowed_updates.clone(),
            );
            inner.acknowledged = acknowledged;
            // Like Telegram: acknowledged updates are gone, and kinds not asked for never arrive.
            inner.updates.retain(|u| {
                u["update_id"].as_i64() >= Some(acknowledged)
                    && (allowed.is_empty() || allowed.iter().any(|kind| u.get(kind).is_some()))
            });
            if !inner.updates.is_empty() || tokio::time::Instant::now() >= deadline {
                let batch: Vec<Value> = inner.updates.iter().take(limit).cloned().collect();
                note_handed_out(&mut inner, &batch);
                return batch.into();
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

fn answer(inner: &mut Inner, method: &str, body: &Value) -> Result<Value, Failure> {
    match method {
        "getme" => Ok(json!({"id": BOT_ID, "is_bot": true, "first_name": "Digest",
            "username": inner.username, "can_join_groups": true,
            "can_read_all_group_messages": inner.reads_all_group_messages,
            "supports_inline_queries": true, "has_main_web_app": false})),
        "getwebhookinfo" => {
            let url = inner
                .webhook
                .as_ref()
                .map_or(json!(""), |w| w["url"].clone());
            Ok(json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "setwebhook" => {
            if body["url"].as_str().is_none_or(str::is_empty) {
                return bad_request("bad webhook: An HTTPS URL must be provided for webhook");
            }
            let fields = ["url", "secret_token", "allowed_updates", "max_connections"];
            let webhook = fields.map(|f| (f.to_owned(), body[f].clone()));
            inner.webhook = Some(Value::Object(webhook.into_iter().collect()));
            Ok(json!(true))
        }
        "deletewebhook" => {
            inner.webhook = None;
            Ok(json!(true))
        }
        "answercallbackquery" => {
            let id = body["callback_query_id"].as_str().unwrap_or_default();
            let pressed = inner.open_queries.remove(id);
            if pressed.is_none_or(|at| at.elapsed() > inner.callback_answer_window) {
                return bad_request(
                    "query is too old and response timeout expired or query ID is invalid",
                );
            }
            if body["text"]
                .as_str()
                .is_some_and(|t| t.chars().count() > 200)
            {
                return bad_request("MESSAGE_TOO_LONG");
            }
            Ok(json!(true))
        }
        "answerinlinequery" => answer_inline_query(inner, body),
        "getchatmember" => Ok(chat_member(inner, body)),
        "sendmessage" => send_message(inner, body),
        "editmessagetext" => edit_message_text(inner, body),
        "setmycommands" => check_commands(body).map(|()| json!(true)),
        "sendchataction" => send_chat_action(inner, body),
        "deletemycommands" | "logout" | "close" => Ok(json!(true)),
        _ => Err(Failure::new(404, "Not Found")),
    }
}

/// Telegram's checks of setMyCommands: at most 100 commands, each 1-32 characters of
/// `a-z`, `0-9` and `_`, with a description of 1-256 characters.
fn check_commands(body: &Value) -> Result<(), Failure> {
    let Some(commands) = body["commands"].as_array() else {
        return bad_request("field \"commands\" must be an Array");
    };
    if commands.len() > 100 {
        return bad_request("BOT_COMMANDS_TOO_MUCH");
    }
    for command in commands {
        let name = command["command"].as_str().unwrap_or_default();
        let name_ok = (1..=32).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return bad_request("BOT_COMMAND_INVALID");
        }
        let description = command["description"].as_str().unwrap_or_default();
        if !(1..=256).contains(&description.chars().count()) {
            return bad_request("BOT_COMMAND_DESCRIPTION_INVALID");
        }
    }
    Ok(())
}

/// sendChatAction: a known chat and action, and a topic only in a forum.
fn send_chat_action(inner: &Inner, body: &Value) -> Result<Value, Failure> {
    const ACTIONS: [&str; 11] = [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ];
    let Some(chat_id) = body["chat_id"].as_i64() else {
        return bad_request("chat not found");
    };
    if !body["action"]
        .as_str()
        .is_some_and(|a| ACTIONS.contains(&a))
    {
        return bad_request("wrong parameter action in request");
    }
    check_member(inner, chat_id)?;
    check_thread(inner, chat_id, body)?;
    Ok(json!(true))
}

/// Telegram's 403 for a chat the bot can no longer write to: kicked from or not in a group
/// (`set_member_status` of [`BOT_ID`] to `kicked` or `left`), or blocked by the person in a
/// private chat (`kicked` there).
fn check_member(inner: &Inner, chat_id: i64) -> Result<(), Failure> {
    let status = inner.members.get(&(chat_id, BOT_ID)).map(String::as_str);
    let kind = if chat_id > 0 {
        "private"
    } else {
        let chat = inner.chats.get(&chat_id).cloned();
        match chat.as_ref().and_then(|c| c["type"].as_str()) {
            Some("supergroup") => "supergroup",
            Some("channel") => "channel",
            Some(_) => "group",
            None if chat_id < -1_000_000_000_000 => "supergroup",
            None => "group",
        }
    };
    let description = match (status, kind) {
        (Some("kicked"), "private") => "Forbidden: bot was blocked by the user".to_owned(),
        (Some("kicked"), kind) => format!("Forbidden: bot was kicked from the {kind} chat"),
        (Some("left"), kind) if kind != "private" => {
            format!("Forbidden: bot is not a member of the {kind} chat")
        }
        _ => return Ok(()),
    };
    Err(Failure::new(403, &description))
}

/// A `message_thread_id` is refused in a chat that is not a forum.
fn check_thread(inner: &Inner, chat_id: i64, body: &Value) -> Result<(), Failure> {
    if body["message_thread_id"].is_null() {
        return Ok(());
    }
    let forum = inner
        .chats
        .get(&chat_id)
        .is_some_and(|chat| chat["is_forum"] == json!(true));
    if forum {
        Ok(())
    } else {
        bad_request("message thread not found")
    }
}

fn chat_member(inner: &Inner, body: &Value) -> Value {
    let (chat_id, user_id) = (
        body["chat_id"].as_i64().unwrap_or(0),
        body["user_id"].as_u64().unwrap_or(0),
    );
    let status = inner
        .members
        .get(&(chat_id, user_id))
        .map_or("member", String::as_str);
    let user = json!({"id": user_id, "is_bot": false, "first_name": format!("User {user_id}")});
    let mut member = json!({"status": status, "user": user});
    // The fields teloxide requires for each status; an admin may only manage the chat.
    let flags = match status {
        "creator" => "is_anonymous",
        "administrator" => {
            "is_anonymous can_be_edited can_manage_chat can_change_info \
            can_delete_messages can_manage_video_chats can_invite_users can_restrict_members \
            can_promote_members"
        }
        _ => "",
    };
    for flag in flags.split_whitespace() {
        member[flag] = json!(flag == "can_manage_chat");
    }
    if status == "kicked" {
        member["until_date"] = json!(0);
    }
    member
}

fn send_message(inner: &mut Inner, body: &Value) -> Result<Value, Failure> {
    let Some(chat_id) = body["chat_id"].as_i64() else {
        return bad_request("chat not found");
    };
    if let Some(&to) = inner.migrated.get(&chat_id) {
        let mut failure = Failure::new(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
        );
        failure.0["parameters"] = json!({"migrate_to_chat_id": to});
        return Err(failure);
    }
    check_member(inner, chat_id)?;
    check_thread(inner, chat_id, body)?;
    let shown = shown_text(body)?;
    check_keyboard(body)?;
    let without_reply = body["reply_parameters"]["allow_sending_without_reply"] == json!(true)
        || body["allow_sending_without_reply"] == json!(true);
    if let Some(target) = reply_target(body)
        && !inner.messages.contains_key(&(chat_id, target))
        && !without_reply
    {
        return bad_request("message to be replied not found");
    }
    let reply_to = reply_target(body);
    let message_id = next_message_id(inner, chat_id);
    let chat = inner
        .chats
        .get(&chat_id)
        .cloned()
        .unwrap_or_else(|| chat_for(chat_id));
    let mut message = json!({"message_id": message_id, "date": unix_now(), "chat": chat,
        "from": bot_json(inner), "text": shown.text});
    if !shown.entities.is_empty() {
        message["entities"] = json!(shown.entities);
    }
    for field in ["message_thread_id", "reply_markup", "link_preview_options"] {
        if !body[field].is_null() {
            message[field] = body[field].clone();
        }
    }
    if let Some(mut target) = reply_to.and_then(|id| inner.messages.get(&(chat_id, id)).cloned()) {
        target.as_object_mut().map(|t| t.remove("reply_to_message"));
        message["reply_to_message"] = target;
    }
    inner
        .messages
        .insert((chat_id, message_id), message.clone());
    inner
        .sent
        .push(sent_message(chat_id, message_id, body, &shown));
    Ok(message)
}

fn answer_inline_query(inner: &mut Inner, body: &Value) -> Result<Value, Failure> {
    let id = body["inline_query_id"].as_str().unwrap_or_default();
    // A refused answer leaves the query open: the bot may answer it again, correctly.
    let Some((queued, query)) = inner.open_inline.get(id).cloned() else {
        return bad_request("query is too old and response timeout expired or query ID is invalid");
    };
    if queued.elapsed() > INLINE_ANSWER_WINDOW {
        return bad_request("query is too old and response timeout expired or query ID is invalid");
    }
    let results = body["results"].as_array().cloned().unwrap_or_default();
    if results.len() > 50 {
        return bad_request("RESULTS_TOO_MUCH");
    }
    let mut ids = std::collections::HashSet::new();
    for result in &results {
        let result_id = result["id"].as_str().unwrap_or_default();
        if !(1..=64).contains(&result_id.len()) {
            return bad_request("RESULT_ID_INVALID");
        }
        if !ids.insert(result_id.to_owned()) {
            return bad_request("RESULT_ID_DUPLICATE");
        }
        if result["title"].as_str().is_none_or(|t| t.trim().is_empty()) {
            return bad_request("RESULT_TITLE_EMPTY");
        }
        let content = &result["input_message_content"];
        let message = json!({"text": content["message_text"], "parse_mode": content["parse_mode"]});
        shown_text(&message)?;
        check_keyboard(result)?;
    }
    if let Some(start) = body["button"]["start_parameter"].as_str() {
        let valid = (1..=64).contains(&start.len())
            && start
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return bad_request("START_PARAM_INVALID");
        }
    }
    inner.open_inline.remove(id);
    inner
        .inline_answers
        .insert(id.to_owned(), (query, body.clone()));
    Ok(json!(true))
}

/// Edits a message sent in inline mode (`inline_message_id`); Telegram answers `true`.
fn edit_inline_message(inner: &mut Inner, id: &str, body: &Value) -> Result<Value, Failure> {
    let shown = shown_text(body)?;
    check_keyboard(body)?;
    let Some(stored) = inner.inline_messages.get_mut(id) else {
        return bad_request("MESSAGE_ID_INVALID");
    };
    let markup = |m: &SentMessage| m.buttons.clone();
    let edited = sent_message(0, 0, body, &shown);
    if stored.plain_text == edited.plain_text
        && stored.entities == edited.entities
        && markup(stored) == markup(&edited)
    {
        return bad_request(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        );
    }
    *stored = SentMessage {
        edits: stored.edits + 1,
        sent_at: stored.sent_at,
        ..edited
    };
    Ok(json!(true))
}

fn edit_message_text(inner: &mut Inner, body: &Value) -> Result<Value, Failure> {
    if let Some(id) = body["inline_message_id"].as_str() {
        return edit_inline_message(inner, id, body);
    }
    let chat_id = body["chat_id"].as_i64().unwrap_or(0);
    let message_id = body["message_id"].as_i64().unwrap_or(0) as i32;
    check_member(inner, chat_id)?;
    let shown = shown_text(body)?;
    check_keyboard(body)?;
    let Some(stored) = inner.messages.get_mut(&(chat_id, message_id)) else {
        return bad_request("message to edit not found");
    };
    if stored["from"]["id"] != json!(BOT_ID) {
        return bad_request("message can't be edited");
    }
    let entities = (!shown.entities.is_empty()).then(|| json!(shown.entities));
    // Telegram compares what the user sees: the text, its entities and the keyboard (none
    // when omitted).
    if stored["text"] == json!(shown.text)
        && stored.get("entities") == entities.as_ref()
        && stored["reply_markup"] == body["reply_markup"]
    {
        return bad_request(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        );
    }
    let fields = stored
        .as_object_mut()
        .expect("a stored message is an object");
    fields.insert("text".into(), json!(shown.text));
    match entities {
        Some(entities) => fields.insert("entities".into(), entities),
        None => fields.remove("entities"),
    };
    fields.insert("edit_date".into(), json!(unix_now()));
    match &body["reply_markup"] {
        Value::Null => fields.remove("reply_markup"),
        markup => fields.insert("reply_markup".into(), markup.clone()),
    };
    let message = stored.clone();
    if let Some(sent) = inner
        .sent
        .iter_mut()
        .find(|m| (m.chat_id, m.message_id) == (chat_id, message_id))
    {
        let (reply_to, thread, edits) = (sent.reply_to, sent.message_thread_id, sent.edits);
        *sent = SentMessage {
            reply_to,
            message_thread_id: thread,
            edits: edits + 1,
            sent_at: sent.sent_at,
            ..sent_message(chat_id, message_id, body, &shown)
        };
    }
    Ok(message)
}
