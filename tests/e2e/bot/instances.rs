//! Several instances behind one load balancer, sharing a real Redis.

use linkdigest::shared::Shared;
use tempfile::TempDir;

use crate::support::bot::{TestBot, post_update, replies, site};
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
    let shared = || async { Some(Shared::connect(&redis.url).await.expect("redis")) };
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
    let shared = Shared::connect(&redis.url).await.expect("redis");
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
