//! One chat never stalls the rest, and every tap and typed command is answered: a flood of
//! commands, refused and failing taps, a failing store, deleted and migrated reply targets,
//! a failed send, and mentions by whole username.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use linkdigest::bot::BotConfig;
use serde_json::json;
use tempfile::TempDir;
use wiremock::ResponseTemplate;

use crate::support::bot::{PATIENCE, TestBot, bot_config, replies, site};
use crate::support::fake_telegram::{Chat, Failure, FakeTelegram, User};
use crate::support::pages;

/// Waits until the bot has taken update `updates_sent` and a little more, so a test can
/// assert that something did *not* happen.
async fn settle(tg: &FakeTelegram, updates_sent: i64) {
    let what = format!("update {updates_sent} taken");
    tg.wait_until(&what, PATIENCE, |tg| {
        (tg.acknowledged_offset() > updates_sent).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
}

/// Makes the store fail from now on, as a broken disk would: the settings table is gone.
fn break_the_store(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the bot's database");
    conn.execute("DROP TABLE chat_settings", [])
        .expect("drop the settings table");
}

#[tokio::test]
async fn a_group_flooding_commands_stalls_nobody_and_gets_its_latest_answer() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    // Telegram's real pacing: one message a second per chat, twenty a minute per group.
    let config = BotConfig {
        sends_per_second_per_chat: 1,
        sends_per_minute_per_chat: 20,
        ..bot_config()
    };
    let limit = config.user_commands_per_minute as usize;
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let group = Chat::supergroup(-100_900);
    let flooder = User::new(9, "Flo");

    let commands: Vec<i32> = (0..300)
        .map(|_| tg.send_text(&group, &flooder, "/settings"))
        .collect();
    let reader = Chat::private(77);
    let asked = tg.send_text(
        &reader,
        &User::new(77, "Ann"),
        site.url("/council").as_str(),
    );

    let digest = &replies(&tg, reader.id, 1).await[0];
    assert!(digest.text.contains("City council"), "{}", digest.text);
    assert_eq!(digest.reply_to, Some(asked));

    // The allowed commands that wait for the group's next slot are coalesced, so the latest
    // of them is answered (and perhaps the first, when it left before the others came).
    let latest = commands[limit - 1];
    tg.wait_until("an answer to the latest allowed command", PATIENCE, |tg| {
        let sent = tg.sent_messages(group.id);
        sent.iter()
            .any(|m| m.reply_to == Some(latest))
            .then_some(())
    })
    .await;
    settle(&tg, 301).await;
    let answered = tg.sent_messages(group.id);
    assert!(
        answered
            .iter()
            .all(|m| m.text.starts_with("Settings for this chat"))
    );
    let allowed = &commands[..limit];
    assert!(
        answered
            .iter()
            .all(|m| m.reply_to.is_some_and(|id| allowed.contains(&id))),
        "only commands within the limit are answered: {answered:#?}"
    );
    assert_eq!(
        answered.last().and_then(|m| m.reply_to),
        Some(latest),
        "nothing after the latest command within the limit; the {} beyond it get no answer",
        300 - limit
    );
    assert!(
        answered.len() <= 3,
        "waiting answers were coalesced: {answered:#?}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_tap_in_a_chat_outside_the_allow_list_is_answered_not_available() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        allowed_chats: Some(HashSet::from([41])),
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;

    let stranger = Chat::private(42);
    let shown = tg.send_text(&stranger, &User::new(42, "Eve"), "an old message");
    let query = tg.press_button(&stranger, &User::new(42, "Eve"), shown, "l:short");

    let answers = tg.wait_for("AnswerCallbackQuery", 1, PATIENCE).await;
    assert_eq!(answers[0]["callback_query_id"], json!(query));
    assert_eq!(answers[0]["text"], json!("Not available here."));
    assert!(tg.sent_messages(stranger.id).is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_tap_or_command_whose_setting_cannot_be_saved_is_still_answered() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("db");
    let bot = TestBot::start(&tg, &db).await;
    let (chat, ann) = (Chat::private(43), User::new(43, "Ann"));

    tg.send_text(&chat, &ann, "/length");
    let shown = replies(&tg, chat.id, 1).await.remove(0);
    assert_eq!(shown.text, "Digest length in this chat: medium.");
    break_the_store(&db);

    tg.press_button(&chat, &ann, shown.message_id, "l:short");
    let answers = tg.wait_for("AnswerCallbackQuery", 1, PATIENCE).await;
    assert_eq!(
        answers[0]["text"],
        json!("Could not save the setting, try again.")
    );

    tg.send_text(&chat, &ann, "/length short");
    let said = replies(&tg, chat.id, 2).await;
    assert_eq!(said[1].text, "Could not save the setting, try again.");
    tg.send_text(&chat, &ann, "/settings");
    let said = replies(&tg, chat.id, 3).await;
    assert_eq!(
        said[2].text,
        "Could not read this chat's settings, try again."
    );
    tg.send_text(&chat, &ann, "/mode");
    let said = replies(&tg, chat.id, 4).await;
    assert_eq!(
        said[3].text,
        "Could not read this chat's settings, try again."
    );
    assert_eq!(
        tg.sent_messages(chat.id)[0].edits,
        0,
        "the settings message is unchanged"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_link_whose_message_was_deleted_still_gets_its_digest() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let chat = Chat::private(44);

    let asked = tg.send_text(&chat, &User::new(44, "Ann"), site.url("/council").as_str());
    tg.delete_message(chat.id, asked);

    let digest = &replies(&tg, chat.id, 1).await[0];
    assert!(digest.text.contains("City council"));
    assert_eq!(digest.reply_to, Some(asked));
    bot.stop().await;
}

#[tokio::test]
async fn a_reply_to_a_group_that_became_a_supergroup_goes_to_the_supergroup() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let (group, supergroup) = (Chat::group(-45), Chat::supergroup(-100_045));
    let ann = User::new(45, "Ann");

    tg.send_text(&group, &ann, site.url("/council").as_str());
    tg.migrate_chat(&group, &supergroup);

    let digest = &replies(&tg, supergroup.id, 1).await[0];
    assert!(digest.text.contains("City council"), "{}", digest.text);
    tg.send_text(&group, &ann, "/settings");
    let said = replies(&tg, supergroup.id, 2).await;
    assert!(said[1].text.starts_with("Settings for this chat"));
    assert!(tg.sent_messages(group.id).is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_digest_whose_send_failed_is_sent_when_the_link_is_posted_again() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-46);
    let link = site.url("/council");

    tg.fail_next(
        "SendMessage",
        Failure::new(
            400,
            "Bad Request: not enough rights to send text messages to the chat",
        ),
    );
    tg.send_text(&group, &User::new(1, "Ann"), link.as_str());
    tg.wait_for("SendMessage", 1, PATIENCE).await;
    // The failed send is reported after the request returns; give the outbox a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = tg.send_text(&group, &User::new(2, "Bob"), link.as_str());

    let digest = &replies(&tg, group.id, 1).await[0];
    assert!(digest.text.contains("City council"));
    assert_eq!(digest.reply_to, Some(again));
    bot.stop().await;
}

#[tokio::test]
async fn only_a_mention_of_the_whole_username_asks_for_a_digest() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-47);
    let admin = User::new(1, "Ada");
    tg.set_member_status(group.id, admin.id, "administrator");
    tg.send_text(&group, &admin, "/mode manual");
    replies(&tg, group.id, 1).await;

    let other_bot = format!("@digest_bot2 {}", site.url("/council?x=1"));
    tg.send_text(&group, &admin, &other_bot);
    let ours = format!("@Digest_Bot {}", site.url("/council?x=2"));
    let asked = tg.send_text(&group, &admin, &ours);

    let digest = &replies(&tg, group.id, 2).await[1];
    assert!(digest.text.contains("City council"));
    assert_eq!(digest.reply_to, Some(asked));
    settle(&tg, 3).await;
    assert_eq!(
        tg.sent_messages(group.id).len(),
        2,
        "no digest for @digest_bot2"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_flood_of_taps_in_one_chat_leaves_room_for_a_tap_in_another() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        max_background_calls: 8,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    // A slow network: every answer stays in flight for a while.
    tg.slow_down("AnswerCallbackQuery", Duration::from_millis(1500));
    let (busy, flo) = (Chat::private(46), User::new(46, "Flo"));
    // Taps on a message the fake does not know: each is answered at once with "no longer
    // works", nothing else is done, so only the answers are in flight.
    for _ in 0..40 {
        tg.press_button(&busy, &flo, 1, "l:short");
    }
    tg.wait_for("AnswerCallbackQuery", 1, PATIENCE).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (calm, ann) = (Chat::private(47), User::new(47, "Ann"));
    let query = tg.press_button(&calm, &ann, 1, "l:short");
    let answer = tg
        .wait_until("an answer to the tap in the calm chat", PATIENCE, |tg| {
            let answers = tg.calls("AnswerCallbackQuery");
            answers
                .into_iter()
                .find(|a| a["callback_query_id"] == json!(query))
        })
        .await;
    assert_eq!(answer["text"], json!("This button no longer works."));
    bot.stop().await;
}

#[tokio::test]
async fn a_link_already_read_is_answered_while_slow_pages_load() {
    let site = site(&[("/council", pages::council_article())]).await;
    let slow = pages::article(
        "Harbour reopens",
        &[
            "The harbour reopened on Monday after a month of repairs to the old sea wall.",
            "Fishing boats were the first to return, followed by the evening ferry.",
            "The port authority said the works came in under budget and two weeks early.",
            "Engineers had found cracks in the wall after the winter storms last year.",
            "Local shops near the quay expect the summer season to bring visitors back.",
        ],
    );
    let page = ResponseTemplate::new(200)
        .set_body_raw(slow.into_bytes(), "text/html; charset=utf-8")
        .set_delay(Duration::from_secs(2));
    site.serve("/harbour", page).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    // One work slot: a job waiting for a page must not keep it from the others.
    let config = BotConfig {
        max_pending_work: 1,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let (council, harbour) = (site.url("/council"), site.url("/harbour"));
    let reader = |id: i64| (Chat::private(id), User::new(id as u64, "Reader"));

    let (first, ann) = reader(1);
    tg.send_text(&first, &ann, council.as_str());
    replies(&tg, first.id, 1).await;

    // The slow page, asked for twice: one fetch, and one job waiting on it.
    let ((loader, bob), (waiter, cy)) = (reader(2), reader(3));
    tg.send_text(&loader, &bob, harbour.as_str());
    tg.send_text(&waiter, &cy, harbour.as_str());
    let (late, dee) = reader(4);
    tg.send_text(&late, &dee, council.as_str());
    let answered = replies(&tg, late.id, 1).await.remove(0);
    assert!(answered.text.contains("City council"), "{}", answered.text);
    assert!(
        tg.sent_messages(loader.id).is_empty() && tg.sent_messages(waiter.id).is_empty(),
        "the link already read was answered before the slow page"
    );
    for chat in [loader.id, waiter.id] {
        let digest = replies(&tg, chat, 1).await.remove(0);
        assert!(digest.text.contains("Harbour reopens"), "{}", digest.text);
    }
    assert_eq!(site.hits("/harbour").await, 1);
    bot.stop().await;
}
