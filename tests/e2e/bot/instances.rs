//! Several instances behind one load balancer, sharing a real Redis.

use std::sync::Arc;
use std::time::Duration;

use linkdigest::bot::BotConfig;
use linkdigest::bot::webhook::WebhookLimits;
use linkdigest::cache::CacheConfig;
use linkdigest::config::{RedisTimeouts, SingleFlightLimits};
use linkdigest::digest::{Requester, Service};
use linkdigest::links::NormalizedUrl;
use linkdigest::redis_state::{Lock, RedisState};
use linkdigest::settings::{ChatSettings, Length, Mode};
use linkdigest::summarize::Extractive;
use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::ResponseTemplate;

use crate::support::bot::{
    PATIENCE, TestBot, bot_config, edited, fetcher, first_callback, inline_edited, post_raw_update,
    post_update, replies, site,
};
use crate::support::fake_site::FakeSite;
use crate::support::fake_telegram::{Chat, FakeTelegram, User, text_message};
use crate::support::pages;
use crate::support::redis::RedisServer;

const SECRET: &str = "shared-secret";

#[tokio::test]
async fn two_instances_share_digests_and_settings() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let shared = || async { Some(RedisState::connect(&redis.url).await.expect("redis")) };
    let (one, at_one) =
        TestBot::start_instance(&tg, &dir.path().join("1.db"), SECRET, shared().await).await;
    let (two, at_two) =
        TestBot::start_instance(&tg, &dir.path().join("2.db"), SECRET, shared().await).await;
    let (ann, bob) = (User::new(31, "Ann"), User::new(32, "Bob"));
    let link = site.url("/council");

    post_update(
        at_one,
        SECRET,
        1,
        text_message(&Chat::private(31), &ann, link.as_str()),
    )
    .await;
    assert!(replies(&tg, 31, 1).await[0].text.contains("City council"));
    post_update(
        at_two,
        SECRET,
        2,
        text_message(&Chat::private(32), &bob, link.as_str()),
    )
    .await;
    assert!(replies(&tg, 32, 1).await[0].text.contains("City council"));
    assert_eq!(
        site.hits("/council").await,
        1,
        "the second instance used the shared digest"
    );

    post_update(
        at_one,
        SECRET,
        3,
        text_message(&Chat::private(31), &ann, "/length short"),
    )
    .await;
    assert_eq!(
        replies(&tg, 31, 2).await[1].text,
        "Digests in this chat are now short."
    );
    post_update(
        at_two,
        SECRET,
        4,
        text_message(&Chat::private(31), &ann, "/settings"),
    )
    .await;
    assert!(replies(&tg, 31, 3).await[2].text.contains("Length: short"));
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn losing_redis_degrades_to_local_caching_without_losing_a_reply() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[
        ("/a", pages::council_article()),
        ("/b", pages::council_article()),
    ])
    .await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let shared = RedisState::connect(&redis.url).await.expect("redis");
    let (bot, addr) =
        TestBot::start_instance(&tg, &dir.path().join("db"), SECRET, Some(shared)).await;
    let ann = User::new(41, "Ann");
    post_update(
        addr,
        SECRET,
        1,
        text_message(&Chat::private(41), &ann, site.url("/a").as_str()),
    )
    .await;
    replies(&tg, 41, 1).await;

    redis.kill();
    post_update(
        addr,
        SECRET,
        2,
        text_message(&Chat::private(41), &ann, site.url("/b").as_str()),
    )
    .await;
    post_update(
        addr,
        SECRET,
        3,
        text_message(&Chat::private(41), &ann, "/settings"),
    )
    .await;
    // The digest is made beside the chat's queue, so /settings may be answered first.
    let sent = replies(&tg, 41, 3).await;
    let digest_b = sent.iter().any(|m| m.text.contains("/b\">Daily Test</a>"));
    assert!(digest_b, "the link was answered without Redis: {sent:#?}");
    assert!(sent.iter().any(|m| m.text.contains("Length: medium")));
    bot.stop().await;
}

#[tokio::test]
async fn a_setting_saved_through_another_instance_holds_while_redis_is_away() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let [(one, at_one), (two, at_two)] = two_instances(&tg, &redis, &dir, bot_config()).await;
    let (chat, ann) = (Chat::private(97), User::new(97, "Ann"));
    post_update(at_two, SECRET, 1, text_message(&chat, &ann, "/mode off")).await;
    replies(&tg, chat.id, 1).await;
    post_update(at_one, SECRET, 2, text_message(&chat, &ann, "/settings")).await;
    assert!(replies(&tg, chat.id, 2).await[1].text.contains("Mode: off"));
    // The first instance keeps its copy in the background; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;

    redis.kill();
    post_update(at_one, SECRET, 3, text_message(&chat, &ann, "/settings")).await;
    let settings = replies(&tg, chat.id, 3).await.remove(2);
    assert!(
        settings.text.contains("Mode: off"),
        "the other instance's change is still known: {}",
        settings.text
    );
    one.stop().await;
    two.stop().await;
}

/// Two instances on one Redis, each with its own database, with `config`.
async fn two_instances(
    tg: &FakeTelegram,
    redis: &RedisServer,
    dir: &TempDir,
    config: BotConfig,
) -> [(TestBot, std::net::SocketAddr); 2] {
    let mut started = Vec::new();
    for name in ["1.db", "2.db"] {
        let shared = RedisState::connect(&redis.url).await.expect("redis");
        let db = dir.path().join(name);
        started.push(
            TestBot::start_instance_with(tg, &db, SECRET, Some(shared), config.clone()).await,
        );
    }
    let second = started.pop().expect("two");
    let first = started.pop().expect("two");
    [first, second]
}

#[tokio::test]
async fn the_same_link_posted_through_two_instances_gets_one_digest() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let [(one, at_one), (two, at_two)] = two_instances(&tg, &redis, &dir, bot_config()).await;
    let group = Chat::supergroup(-100_700);
    let (ann, bob) = (User::new(71, "Ann"), User::new(72, "Bob"));
    let link = site.url("/council");

    // Both members post the link at once; the load balancer sends one to each instance.
    tokio::join!(
        post_update(at_one, SECRET, 1, text_message(&group, &ann, link.as_str())),
        post_update(at_two, SECRET, 2, text_message(&group, &bob, link.as_str())),
    );
    assert!(
        replies(&tg, group.id, 1).await[0]
            .text
            .contains("City council")
    );
    // A later link through the second instance shows it has worked through its queue.
    let other = site.url("/council?page=2");
    post_update(
        at_two,
        SECRET,
        3,
        text_message(&group, &bob, other.as_str()),
    )
    .await;
    replies(&tg, group.id, 2).await;
    one.stop().await;
    two.stop().await;
    let digests_of_link: Vec<_> = tg
        .sent_messages(group.id)
        .into_iter()
        .filter(|m| m.reply_to == Some(1) || m.reply_to == Some(2))
        .collect();
    assert_eq!(digests_of_link.len(), 1, "{digests_of_link:#?}");
}

#[tokio::test]
async fn a_persons_command_allowance_holds_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        user_commands_per_minute: 2,
        chat_commands_per_minute: 0,
        ..bot_config()
    };
    let [(one, at_one), (two, at_two)] = two_instances(&tg, &redis, &dir, config).await;
    let chat = Chat::private(61);
    let ann = User::new(61, "Ann");
    post_update(at_one, SECRET, 1, text_message(&chat, &ann, "/help")).await;
    replies(&tg, chat.id, 1).await;
    post_update(at_two, SECRET, 2, text_message(&chat, &ann, "/settings")).await;
    replies(&tg, chat.id, 2).await;
    // The third command is over the allowance both instances share: no reply. The link
    // after it has an allowance of its own, and its digest comes after the command's turn.
    post_update(at_one, SECRET, 3, text_message(&chat, &ann, "/mode")).await;
    let link = site.url("/council");
    post_update(at_one, SECRET, 4, text_message(&chat, &ann, link.as_str())).await;
    let sent = replies(&tg, chat.id, 3).await;
    assert!(sent[2].text.contains("City council"), "{sent:#?}");
    one.stop().await;
    two.stop().await;
    let answered: Vec<_> = tg
        .sent_messages(chat.id)
        .iter()
        .map(|m| m.reply_to)
        .collect();
    assert_eq!(answered, [Some(1), Some(2), Some(4)]);
}

/// A fake site with the same article at `/{prefix}0` to `/{prefix}5`; those paths.
async fn six_articles(prefix: &str) -> (FakeSite, Vec<String>) {
    let paths: Vec<String> = (0..6).map(|i| format!("/{prefix}{i}")).collect();
    let pages: Vec<(&str, String)> = paths
        .iter()
        .map(|p| (p.as_str(), pages::council_article()))
        .collect();
    (site(&pages).await, paths)
}

/// Asserts that no `window` holds more than two of the send `times` (a little slack for the
/// way from the bot to the fake).
fn at_most_two_in_any(window: Duration, mut times: Vec<std::time::Instant>) {
    times.sort();
    for (i, later) in times.iter().enumerate().skip(2) {
        let gap = *later - times[i - 2];
        assert!(
            gap >= window - Duration::from_millis(50),
            "sends {} and {i} only {gap:?} apart",
            i - 2
        );
    }
}

#[tokio::test]
async fn a_groups_pacing_holds_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (site, paths) = six_articles("news").await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let window = Duration::from_millis(600);
    let config = BotConfig {
        sends_per_minute_per_chat: 2,
        sends_window: window,
        user_links_per_minute: 0,
        chat_links_per_minute: 0,
        ..bot_config()
    };
    let instances = two_instances(&tg, &redis, &dir, config).await;
    let group = Chat::supergroup(-100_800);
    let ann = User::new(81, "Ann");
    for (i, path) in paths.iter().enumerate() {
        let (_, addr) = &instances[i % 2];
        let message = text_message(&group, &ann, site.url(path).as_str());
        post_update(*addr, SECRET, i as i64 + 1, message).await;
    }
    let sent = replies(&tg, group.id, paths.len()).await;
    // Whichever instance sent them.
    at_most_two_in_any(window, sent.iter().map(|m| m.sent_at).collect());
    for (bot, _) in instances {
        bot.stop().await;
    }
}

#[tokio::test]
async fn the_bots_overall_send_limit_holds_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (site, paths) = six_articles("world").await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    // Telegram counts the overall limit per bot, whichever instance sends.
    let config = BotConfig {
        sends_per_second: 2,
        user_links_per_minute: 0,
        chat_links_per_minute: 0,
        ..bot_config()
    };
    let instances = two_instances(&tg, &redis, &dir, config).await;
    for (i, path) in paths.iter().enumerate() {
        let (_, addr) = &instances[i % 2];
        let reader = User::new(90 + i as u64, "Reader");
        let message = text_message(
            &Chat::private(reader.id as i64),
            &reader,
            site.url(path).as_str(),
        );
        post_update(*addr, SECRET, i as i64 + 1, message).await;
    }
    let mut times = Vec::new();
    for i in 0..paths.len() {
        let chat = 90 + i as i64;
        let sent = tg.wait_for_sent(chat, 1, Duration::from_secs(20)).await;
        times.extend(sent.iter().map(|m| m.sent_at));
    }
    at_most_two_in_any(Duration::from_secs(1), times);
    for (bot, _) in instances {
        bot.stop().await;
    }
}

#[tokio::test]
async fn an_instance_started_while_redis_was_away_shares_once_it_answers() {
    let port = crate::support::redis::free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let late = RedisState::connect_later(&url, RedisTimeouts::default()).expect("a Redis URL");
    let chat = -100_900;
    assert_eq!(late.settings(chat).await, None, "alone while Redis is away");
    let Some(_redis) = RedisServer::start_on(port) else {
        return;
    };
    let early = RedisState::connect(&url).await.expect("redis");
    let chosen = ChatSettings {
        length: Length::Short,
        mode: Mode::Manual,
    };
    early.save_settings(chat, chosen).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while late.settings(chat).await != Some(chosen) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the late instance never joined"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_expired_lock_cannot_be_released_or_extended_by_its_old_holder() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (one, two) = (
        RedisState::connect(&redis.url).await.expect("redis"),
        RedisState::connect(&redis.url).await.expect("redis"),
    );
    let lease = Duration::from_millis(100);
    let Lock::Acquired(old) = one.lock("link", lease).await else {
        panic!("the first lock is free");
    };
    assert_eq!(two.lock("link", lease).await, Lock::Busy);
    tokio::time::sleep(lease * 2).await;
    let Lock::Acquired(new) = two.lock("link", Duration::from_secs(30)).await else {
        panic!("an expired lock is free again");
    };
    assert!(
        !one.unlock(&old).await,
        "the old holder released the new lock"
    );
    assert!(
        !one.extend(&old, lease).await,
        "the old holder extended the new lock"
    );
    assert_eq!(
        one.lock("link", lease).await,
        Lock::Busy,
        "the new lock is intact"
    );
    assert!(two.unlock(&new).await);
    assert!(matches!(one.lock("link", lease).await, Lock::Acquired(_)));
}

#[tokio::test]
async fn a_lock_is_kept_while_slow_work_runs() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (one, two) = (
        RedisState::connect(&redis.url).await.expect("redis"),
        RedisState::connect(&redis.url).await.expect("redis"),
    );
    let lease = Duration::from_millis(150);
    let Lock::Acquired(held) = one.lock("slow", lease).await else {
        panic!("the lock is free");
    };
    let work = async {
        tokio::time::sleep(lease * 4).await;
        two.lock("slow", lease).await
    };
    let during = one.while_locked(&held, lease, work).await;
    assert_eq!(during, Lock::Busy, "the lock expired while its work ran");
    assert!(
        matches!(two.lock("slow", lease).await, Lock::Acquired(_)),
        "released after the work"
    );
}

#[tokio::test]
async fn stopping_one_webhook_instance_leaves_the_webhook_to_the_others() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let [(one, _), (two, at_two)] = two_instances(&tg, &redis, &dir, bot_config()).await;
    let registered = tg.wait_for("SetWebhook", 2, PATIENCE).await;
    for call in &registered {
        assert_eq!(call["secret_token"], SECRET, "{call}");
        assert_eq!(
            call["allowed_updates"],
            serde_json::json!([
                "message",
                "callback_query",
                "inline_query",
                "chosen_inline_result"
            ]),
            "{call}"
        );
    }

    one.stop().await;
    assert!(
        tg.calls("DeleteWebhook").is_empty(),
        "a rolling stop must not cut off the other instances"
    );
    let ann = User::new(91, "Ann");
    let link = site.url("/council");
    post_update(
        at_two,
        SECRET,
        1,
        text_message(&Chat::private(91), &ann, link.as_str()),
    )
    .await;
    assert!(replies(&tg, 91, 1).await[0].text.contains("City council"));
    two.stop().await;
    assert!(tg.calls("DeleteWebhook").is_empty());
}

#[tokio::test]
async fn the_webhook_checks_the_secret_before_the_body_and_bounds_the_body() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let (bot, addr) = TestBot::start_webhook(&tg, &dir.path().join("db"), SECRET).await;
    let http = reqwest::Client::new();
    let post = |secret: Option<&str>, body: Vec<u8>| {
        let mut request = http
            .post(format!("http://{addr}/tg"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send()
    };
    let message = text_message(&Chat::private(95), &User::new(95, "Ann"), "/help");
    let mut message = message;
    message["message_id"] = json!(1);
    message["date"] = json!(1_700_000_000);
    let update = serde_json::to_vec(&json!({"update_id": 1, "message": message})).unwrap();
    // Two megabytes of an update: more than Telegram ever sends.
    let mut huge = json!({"update_id": 2, "message": message});
    huge["message"]["text"] = json!("x".repeat(2 * 1024 * 1024));
    let huge = serde_json::to_vec(&huge).unwrap();

    let status = |r: reqwest::Result<reqwest::Response>| r.expect("an answer").status().as_u16();
    assert_eq!(status(post(None, update.clone()).await), 401);
    assert_eq!(status(post(Some("wrong"), update.clone()).await), 401);
    assert_eq!(
        status(post(None, huge.clone()).await),
        401,
        "the secret is checked first"
    );
    assert_eq!(status(post(Some(SECRET), huge).await), 413);
    assert_eq!(
        status(post(Some(SECRET), b"{not json".to_vec()).await),
        200,
        "not resent for ever"
    );
    assert_eq!(status(post(Some(SECRET), update).await), 200);
    assert!(!replies(&tg, 95, 1).await[0].text.is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn strangers_trickling_bytes_or_posting_without_the_secret_cannot_shut_telegram_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let limits = WebhookLimits {
        max_connections: 1,
        open_connections: 3,
        read_timeout: Duration::from_millis(400),
        ..WebhookLimits::default()
    };
    let (bot, addr) =
        TestBot::start_webhook_limited(&tg, &dir.path().join("db"), SECRET, limits).await;
    // Every connection the bot will hold, each sending its headers a byte at a time, never
    // silent long enough for the idle cut-off.
    let mut tricklers = Vec::new();
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        tricklers.push(tokio::spawn(async move {
            for byte in b"POST /tg HTTP/1.1\r\nHost: x\r\nX-Padding: "
                .iter()
                .cycle()
                .take(60)
            {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut message = text_message(&Chat::private(96), &User::new(96, "Ann"), "/help");
    message["message_id"] = json!(1);
    message["date"] = json!(1_700_000_000);
    let update = json!({"update_id": 1, "message": message});
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let taken = http
        .post(format!("http://{addr}/tg"))
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .json(&update)
        .send()
        .await
        .expect("Telegram's post is taken while strangers trickle");
    assert_eq!(taken.status().as_u16(), 200);
    assert!(!replies(&tg, 96, 1).await[0].text.is_empty());

    // A post without the secret is answered, and its connection closed rather than kept.
    let mut stranger = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = "{}";
    let request = format!(
        "POST /tg HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stranger.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), stranger.read_to_end(&mut answer));
    read.await
        .expect("the connection is closed after the answer")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    for trickler in tricklers {
        trickler.abort();
    }
    bot.stop().await;
}

#[tokio::test]
async fn webhook_delete_removes_the_webhook_on_purpose() {
    let tg = FakeTelegram::start().await;
    let api = tg.url().to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_linkdigest"))
            .args(["webhook", "delete"])
            .env("TELOXIDE_TOKEN", "123456:TEST")
            .env("TELOXIDE_API_URL", api)
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("webhook deleted"), "{stdout}");
    assert_eq!(tg.calls("DeleteWebhook").len(), 1);
}

#[tokio::test]
async fn metrics_move_to_their_own_listener_when_one_is_given() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let (bot, addr, ops) =
        TestBot::start_webhook_with_ops(&tg, &dir.path().join("db"), SECRET).await;
    let message = text_message(&Chat::private(97), &User::new(97, "Ann"), "/help");
    post_update(addr, SECRET, 1, message).await;
    replies(&tg, 97, 1).await;
    let get = |at: std::net::SocketAddr, path: &str| reqwest::get(format!("http://{at}{path}"));
    let health = get(ops, "/healthz").await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok\n");
    let metrics = get(ops, "/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains("linkdigest_updates_total"), "{metrics}");
    assert_eq!(
        get(addr, "/metrics").await.unwrap().status(),
        404,
        "not on the webhook"
    );
    bot.stop().await;
}

#[tokio::test]
async fn changes_of_different_settings_through_two_instances_at_once_both_survive() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let [(one, at_one), (two, at_two)] = two_instances(&tg, &redis, &dir, bot_config()).await;
    // Several chats, so that two changes meeting in Redis is all but certain somewhere.
    let chats: Vec<(Chat, User)> = (0..8)
        .map(|n| (Chat::private(90 + n), User::new(90 + n as u64, "Ann")))
        .collect();
    let mut update = 0;
    for (chat, ann) in &chats {
        update += 2;
        tokio::join!(
            post_update(
                at_one,
                SECRET,
                update - 1,
                text_message(chat, ann, "/length long")
            ),
            post_update(at_two, SECRET, update, text_message(chat, ann, "/mode off")),
        );
    }
    for (n, (chat, ann)) in chats.iter().enumerate() {
        replies(&tg, chat.id, 2).await;
        update += 1;
        let at = if n % 2 == 0 { at_one } else { at_two };
        post_update(at, SECRET, update, text_message(chat, ann, "/settings")).await;
        let settings = replies(&tg, chat.id, 3).await.remove(2);
        assert_eq!(
            settings.text, "Settings for this chat:\nLength: long\nMode: off (no links)",
            "chat {}",
            chat.id
        );
    }
    one.stop().await;
    two.stop().await;
}

/// Posts `payload` as update `update_id` of `kind` to the instance at `addr`.
async fn post(addr: std::net::SocketAddr, update_id: i64, kind: &str, payload: Value) {
    let mut update = json!({"update_id": update_id});
    update[kind] = payload;
    post_raw_update(addr, SECRET, update).await;
}

#[tokio::test]
async fn an_inline_link_offered_by_one_instance_is_summarized_and_expanded_by_the_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    tg.set_inline_feedback(false);
    let dir = TempDir::new().unwrap();
    let [(one, at_one), (two, at_two)] = two_instances(&tg, &redis, &dir, bot_config()).await;
    let ann = User::new(81, "Ann");

    let query = tg.open_inline_query(&ann, site.url("/council").as_str());
    let query_id = query["id"].as_str().unwrap().to_owned();
    post(at_one, 1, "inline_query", query).await;
    let answer = tg
        .wait_until("the inline answer", PATIENCE, |tg| {
            tg.inline_answer(&query_id)
        })
        .await;
    let result_id = answer["results"][0]["id"].as_str().unwrap().to_owned();
    let sent = tg
        .choose_inline_result(&ann, &query_id, &result_id)
        .unwrap();
    let placeholder = tg.inline_message(&sent).unwrap();

    // The load balancer hands the Summarize press to the instance that did not answer.
    let press = tg.open_inline_button_press(&ann, &sent, &first_callback(&placeholder));
    post(at_two, 2, "callback_query", press).await;
    let digest = inline_edited(&tg, &sent, 1).await;
    assert!(
        digest.visible_text().contains("twelve percent"),
        "{}",
        digest.text
    );
    assert_eq!(digest.buttons[0][0].text, "Expand");

    // And Expand to the first, which never made the digest.
    let press = tg.open_inline_button_press(&ann, &sent, &first_callback(&digest));
    post(at_one, 3, "callback_query", press).await;
    let expanded = inline_edited(&tg, &sent, 2).await;
    assert_eq!(expanded.buttons[0][0].text, "Collapse");
    assert_eq!(site.hits("/council").await, 1, "the shared digest was used");
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn expand_on_the_other_instance_uses_the_shared_digest_of_a_redirected_link() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = site(&[("/council", pages::council_article())]).await;
    site.redirect("/short", site.url("/council").as_str()).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let [(one, at_one), (two, at_two)] = two_instances(&tg, &redis, &dir, bot_config()).await;
    let chat = Chat::private(82);
    let ann = User::new(82, "Ann");

    let short = site.url("/short");
    post_update(at_one, SECRET, 1, text_message(&chat, &ann, short.as_str())).await;
    let digest = replies(&tg, chat.id, 1).await.remove(0);
    let press = tg.open_button_press(&chat, &ann, digest.message_id, &first_callback(&digest));
    post(at_two, 2, "callback_query", press).await;
    let expanded = edited(&tg, chat.id, digest.message_id, 1).await;
    assert_eq!(expanded.buttons[0][0].text, "Collapse");
    assert_eq!(
        site.hits("/council").await,
        1,
        "expanding fetched nothing again"
    );
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn an_instance_stops_waiting_for_another_after_its_patience() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let site = FakeSite::start().await;
    let page = ResponseTemplate::new(200)
        .set_body_raw(pages::council_article(), "text/html; charset=utf-8")
        .set_delay(Duration::from_millis(1500));
    site.serve("/slow", page).await;
    async fn service(redis: &RedisServer, wait: Duration) -> Service {
        let shared = RedisState::connect(&redis.url).await.expect("redis");
        Service::from_parts(
            fetcher(),
            Arc::new(Extractive::new()),
            CacheConfig::default(),
        )
        .with_shared(shared)
        .with_single_flight(SingleFlightLimits {
            wait,
            poll: Duration::from_millis(20),
            ..SingleFlightLimits::default()
        })
    }
    let (patient, impatient) = (
        service(&redis, PATIENCE).await,
        service(&redis, Duration::from_millis(200)).await,
    );
    let link = NormalizedUrl::parse(site.url("/slow").as_str()).expect("a link");
    let first = patient.get(&link, Requester::new(1, 1));
    let second = async {
        // the patient instance holds the link's lock once its fetch has reached the site
        while site.hits("/slow").await == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        impatient.get(&link, Requester::new(2, 2)).await
    };
    let (first, second) = tokio::time::timeout(PATIENCE, async { tokio::join!(first, second) })
        .await
        .expect("both instances answer within their patience");
    for digest in [first, second] {
        assert!(digest.expect("a digest").title.contains("City council"));
    }
    assert_eq!(
        site.hits("/slow").await,
        2,
        "after 200 ms the second instance fetched the page itself"
    );
}
