//! Abuse: the per-user limit, the chat allow-list and the cap on links per message.

use std::collections::HashSet;
use std::time::Duration;

use linkdigest::bot::BotConfig;
use tempfile::TempDir;

use crate::support::bot::{PATIENCE, TestBot, bot_config, replies, site, tap_answer};
use crate::support::fake_site::FakeSite;
use crate::support::fake_telegram::{Chat, FakeTelegram, SentMessage, User};
use crate::support::pages;

const SLOW_DOWN: &str = "You're sending links faster than I can read them. Try again in a minute.";

/// A site with a distinct article at `/a0`, `/a1`, … `/a{n-1}`.
async fn articles(n: usize) -> FakeSite {
    let pages: Vec<(String, String)> = (0..n)
        .map(|i| {
            let title = format!("Story number {i} about the harbour");
            let html = pages::article(
                &title,
                &[
                    "The harbour authority said on Tuesday that the new pier will open in spring after two years of work.",
                    "Fishing crews had asked for more berths since the storm damaged the old quay last winter.",
                    "The project cost less than planned because the steel was bought before prices rose.",
                ],
            );
            (format!("/a{i}"), html)
        })
        .collect();
    let borrowed: Vec<(&str, String)> =
        pages.iter().map(|(p, h)| (p.as_str(), h.clone())).collect();
    site(&borrowed).await
}

fn is_digest(message: &SentMessage) -> bool {
    message.text.starts_with("<b>Story number")
}

/// Waits until the bot has taken every queued update and handled it, then a little more, so
/// that a test can assert that something did *not* happen.
async fn settle(tg: &FakeTelegram, updates_sent: i64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tg.acknowledged_offset() <= updates_sent {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot never took update {updates_sent}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_user_over_the_limit_is_told_to_slow_down_and_gets_no_digest() {
    let site = articles(4).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        user_links_per_minute: 2,
        chat_links_per_minute: 0,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let chat = Chat::private(31);
    let ann = User::new(31, "Ann");

    for i in 0..2 {
        tg.send_text(&chat, &ann, site.url(&format!("/a{i}")).as_str());
        let reply = replies(&tg, 31, i + 1).await.remove(i);
        assert!(is_digest(&reply), "{}", reply.text);
    }
    let asked = tg.send_text(&chat, &ann, site.url("/a2").as_str());
    let refusal = replies(&tg, 31, 3).await.remove(2);
    assert_eq!(refusal.text, SLOW_DOWN);
    assert_eq!(refusal.reply_to, Some(asked));
    assert!(refusal.buttons.is_empty());

    // Someone else in their own chat is not held back by Ann's allowance.
    let ben = User::new(32, "Ben");
    tg.send_text(&Chat::private(32), &ben, site.url("/a3").as_str());
    assert!(is_digest(&replies(&tg, 32, 1).await[0]));

    assert_eq!(tg.sent_messages(31).len(), 3, "no digest after the refusal");
    assert_eq!(
        site.hits("/a2").await,
        0,
        "the refused link was never fetched"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_user_over_the_limit_in_a_group_is_ignored_quietly() {
    let site = articles(2).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        user_links_per_minute: 1,
        chat_links_per_minute: 0,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let group = Chat::supergroup(-100_310);
    let mia = User::new(33, "Mia");

    tg.send_text(&group, &mia, site.url("/a0").as_str());
    assert!(is_digest(&replies(&tg, group.id, 1).await[0]));
    tg.send_text(&group, &mia, site.url("/a1").as_str());
    settle(&tg, 2).await;

    assert_eq!(
        tg.sent_messages(group.id).len(),
        1,
        "no slow-down notice in a group"
    );
    assert_eq!(site.hits("/a1").await, 0);
    bot.stop().await;
}

#[tokio::test]
async fn a_chat_outside_the_allow_list_gets_no_answer_at_all() {
    let site = articles(2).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        allowed_chats: Some(HashSet::from([41, -100_410])),
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let stranger = Chat::private(42);
    let eve = User::new(42, "Eve");

    tg.send_text(&stranger, &eve, site.url("/a0").as_str());
    tg.send_text(&stranger, &eve, "/help");
    tg.send_text(&stranger, &eve, &format!("/summarize {}", site.url("/a0")));
    let strange_group = Chat::supergroup(-100_420);
    tg.send_text(&strange_group, &eve, site.url("/a0").as_str());
    settle(&tg, 4).await;
    // An allowed chat is answered, which shows the bot is up and reading.
    tg.send_text(
        &Chat::private(41),
        &User::new(41, "Ann"),
        site.url("/a1").as_str(),
    );
    assert!(is_digest(&replies(&tg, 41, 1).await[0]));

    assert!(
        tg.sent_messages(42).is_empty(),
        "{:#?}",
        tg.sent_messages(42)
    );
    assert!(tg.sent_messages(strange_group.id).is_empty());
    let typing_chats: Vec<i64> = tg
        .calls("SendChatAction")
        .iter()
        .filter_map(|call| call["chat_id"].as_i64())
        .collect();
    assert!(
        !typing_chats.contains(&42) && !typing_chats.contains(&strange_group.id),
        "not even typing…: {typing_chats:?}"
    );
    assert_eq!(
        site.hits("/a0").await,
        0,
        "nothing was fetched for a stranger"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_message_with_ten_links_gets_at_most_three_digests() {
    let site = articles(10).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let chat = Chat::private(51);
    let links: Vec<String> = (0..10)
        .map(|i| site.url(&format!("/a{i}")).to_string())
        .collect();

    tg.send_text(&chat, &User::new(51, "Ann"), &links.join(" and "));
    replies(&tg, 51, 3).await;
    settle(&tg, 1).await;

    let sent = tg.sent_messages(51);
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert!(sent.iter().all(is_digest));
    let mut fetched = 0;
    for i in 0..10 {
        fetched += site.hits(&format!("/a{i}")).await;
    }
    assert_eq!(fetched, 3, "only the answered links were fetched");
    bot.stop().await;
}

#[tokio::test]
async fn taps_on_expand_share_the_command_allowance_and_leave_the_groups_messages_alone() {
    let site = articles(2).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        user_commands_per_minute: 3,
        chat_commands_per_minute: 5,
        sends_per_minute_per_chat: 3,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let group = Chat::supergroup(-100_320);
    let (ann, ben) = (User::new(34, "Ann"), User::new(35, "Ben"));
    tg.send_text(&group, &ann, site.url("/a0").as_str());
    let digest = replies(&tg, group.id, 1).await.remove(0);
    let expand = digest.buttons[0][0].callback_data.clone().unwrap();
    let collapse = expand.replacen("x:", "c:", 1);

    let mut answers = Vec::new();
    for (i, who) in [&ann, &ann, &ann, &ann, &ben, &ben, &ben]
        .iter()
        .enumerate()
    {
        let data = if i % 2 == 0 { &expand } else { &collapse };
        let id = tg.press_button(&group, who, digest.message_id, data);
        let answered = tg.wait_for("AnswerCallbackQuery", i + 1, PATIENCE).await;
        answers.push(tap_answer(&answered, &id));
    }
    let too_many = Some("Too many taps, try again in a minute.".to_owned());
    assert_eq!(answers[..3], [None, None, None], "Ann's three taps");
    assert_eq!(answers[3], too_many, "Ann's fourth is over her allowance");
    assert_eq!(answers[4..6], [None, None], "Ben has his own");
    assert_eq!(answers[6], too_many, "the chat's five are spent");

    // The edits took none of the group's three messages a minute: a new link is answered.
    tg.send_text(&group, &ben, site.url("/a1").as_str());
    let latest = replies(&tg, group.id, 2).await.remove(1);
    assert!(is_digest(&latest), "{}", latest.text);
    bot.stop().await;
}
