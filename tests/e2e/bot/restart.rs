//! What survives a restart on the same database.

use std::time::Duration;

use linkdigest::cache::CacheConfig;
use tempfile::TempDir;

use crate::support::bot::{TestBot, bullets, edited, replies, site};
use crate::support::fake_telegram::{Chat, FakeTelegram, User};
use crate::support::pages;

#[tokio::test]
async fn settings_and_expand_survive_a_restart() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("linkdigest.db");
    let (chat, ann) = (Chat::private(5), User::new(5, "Ann"));

    let bot = TestBot::start(&tg, &db).await;
    tg.send_text(&chat, &ann, "/length long");
    replies(&tg, chat.id, 1).await;
    tg.send_text(&chat, &ann, site.url("/council").as_str());
    let digest = replies(&tg, chat.id, 2).await.remove(1);
    bot.stop().await;

    let bot = TestBot::start(&tg, &db).await;
    let expand = digest.buttons[0][0].callback_data.clone().unwrap();
    tg.press_button(&chat, &ann, digest.message_id, &expand);
    let expanded = edited(&tg, chat.id, digest.message_id, 1).await;
    assert_eq!(bullets(&expanded), 10, "long expands to all ten sentences");
    assert_eq!(expanded.buttons[0][0].text, "Collapse");
    assert_eq!(site.hits("/council").await, 1, "the stored digest was used");

    tg.send_text(&chat, &ann, "/settings");
    assert!(
        replies(&tg, chat.id, 3).await[2]
            .text
            .contains("Length: long")
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_link_posted_again_after_a_restart_is_answered_from_the_database() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("linkdigest.db");
    let (ann_chat, ann) = (Chat::private(5), User::new(5, "Ann"));
    let (bob_chat, bob) = (Chat::private(6), User::new(6, "Bob"));

    let bot = TestBot::start(&tg, &db).await;
    tg.send_text(&ann_chat, &ann, site.url("/council").as_str());
    let first = replies(&tg, ann_chat.id, 1).await.remove(0);
    bot.stop().await;
    assert_eq!(site.hits("/council").await, 1);

    let bot = TestBot::start(&tg, &db).await;
    tg.send_text(&bob_chat, &bob, site.url("/council").as_str());
    let again = replies(&tg, bob_chat.id, 1).await.remove(0);
    assert_eq!(again.text, first.text, "the same digest");
    assert_eq!(again.buttons, first.buttons, "with the same Expand button");
    assert_eq!(
        site.hits("/council").await,
        1,
        "the page was not fetched again"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_stored_digest_older_than_the_cache_ttl_is_fetched_again() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("linkdigest.db");
    let (ann_chat, ann) = (Chat::private(5), User::new(5, "Ann"));
    let (bob_chat, bob) = (Chat::private(6), User::new(6, "Bob"));
    let cache = CacheConfig {
        ttl: Duration::from_millis(300),
        ..CacheConfig::default()
    };

    let bot = TestBot::start_with_cache(&tg, &db, cache.clone()).await;
    tg.send_text(&ann_chat, &ann, site.url("/council").as_str());
    let first = replies(&tg, ann_chat.id, 1).await.remove(0);
    bot.stop().await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    let bot = TestBot::start_with_cache(&tg, &db, cache).await;
    tg.send_text(&bob_chat, &bob, site.url("/council").as_str());
    let again = replies(&tg, bob_chat.id, 1).await.remove(0);
    assert_eq!(again.text, first.text);
    assert_eq!(
        site.hits("/council").await,
        2,
        "a stale digest is made again"
    );
    bot.stop().await;
}
