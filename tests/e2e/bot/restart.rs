//! What survives a restart on the same database.

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
