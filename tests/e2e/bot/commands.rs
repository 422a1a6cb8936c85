//! Commands and the settings buttons.

use std::time::Duration;

use tempfile::TempDir;

use crate::support::bot::{PATIENCE, TestBot, bot_config, edited, replies, tap_answer};
use crate::support::fake_telegram::{Chat, FakeTelegram, User};

#[tokio::test]
async fn start_registers_commands_and_help_explains_them() {
    let tg = FakeTelegram::start().await;
    tg.set_can_read_all_group_messages(false);
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let registered = tg.wait_for("SetMyCommands", 1, PATIENCE).await;
    let names: Vec<&str> = registered[0]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["start", "help", "summarize", "length", "mode", "settings"]
    );

    tg.send_text(&Chat::private(1), &User::new(1, "Ann"), "/start");
    let help = &replies(&tg, 1, 1).await[0];
    assert!(help.text.contains("/length short|medium|long"));
    assert!(
        !help.text.contains("privacy mode"),
        "no privacy hint in private chats"
    );

    tg.send_text(&Chat::group(-2), &User::new(1, "Ann"), "/help@digest_bot");
    let help = &replies(&tg, -2, 1).await[0];
    assert!(help.text.contains("privacy mode off"), "{}", help.text);
    bot.stop().await;
}

#[tokio::test]
async fn bad_arguments_get_a_short_answer() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let (chat, ann) = (Chat::private(3), User::new(3, "Ann"));
    tg.send_text(&chat, &ann, "/length enormous");
    tg.send_text(&chat, &ann, "/mode sometimes");
    tg.send_text(&chat, &ann, "/summarize not a link");
    let sent = replies(&tg, 3, 3).await;
    assert_eq!(sent[0].text, "Length must be short, medium or long.");
    assert_eq!(sent[1].text, "Mode must be auto, manual or off.");
    assert!(
        sent[2].text.starts_with("I found no web link"),
        "{}",
        sent[2].text
    );
    bot.stop().await;
}

#[tokio::test]
async fn length_buttons_change_the_setting_for_admins_only() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-4);
    let (member, admin) = (User::new(1, "Mia"), User::new(2, "Ada"));
    tg.set_member_status(group.id, admin.id, "administrator");
    tg.send_text(&group, &member, "/length");
    let shown = replies(&tg, group.id, 1).await.remove(0);
    assert_eq!(shown.text, "Digest length in this chat: medium.");
    let labels: Vec<&str> = shown.buttons[0].iter().map(|b| b.text.as_str()).collect();
    assert_eq!(labels, ["short", "✓ medium", "long"]);

    tg.press_button(&group, &member, shown.message_id, "l:long");
    let refused = tg.wait_for("AnswerCallbackQuery", 1, PATIENCE).await;
    assert_eq!(refused[0]["text"], "Only group admins can change settings.");

    tg.press_button(&group, &admin, shown.message_id, "l:long");
    let changed = edited(&tg, group.id, shown.message_id, 1).await;
    assert_eq!(changed.text, "Digest length in this chat: long.");
    assert_eq!(changed.buttons[0][2].text, "✓ long");
    let answers = tg.wait_for("AnswerCallbackQuery", 2, PATIENCE).await;
    assert_eq!(answers[1]["text"], "Digests in this chat are now long.");
    bot.stop().await;
}

#[tokio::test]
async fn two_admins_changing_different_settings_at_once_both_keep_their_change() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let (member, ada, bo) = (User::new(1, "Mia"), User::new(2, "Ada"), User::new(3, "Bo"));
    // Several groups, so that two changes meeting in the store is all but certain somewhere.
    let groups: Vec<Chat> = (0..8).map(|g| Chat::group(-600 - g)).collect();
    let mut shown = Vec::new();
    for group in &groups {
        tg.set_member_status(group.id, ada.id, "administrator");
        tg.set_member_status(group.id, bo.id, "administrator");
        tg.send_text(group, &member, "/length");
        shown.push(replies(&tg, group.id, 1).await.remove(0).message_id);
    }
    // Neither admin is known yet, so both are looked up and both changes run at once.
    for (group, message) in groups.iter().zip(&shown) {
        tg.press_button(group, &ada, *message, "l:long");
        tg.press_button(group, &bo, *message, "m:manual");
    }
    let answers = tg
        .wait_for("AnswerCallbackQuery", 2 * groups.len(), PATIENCE)
        .await;
    assert!(
        answers
            .iter()
            .all(|a| a["text"] != "Could not save the setting, try again."),
        "{answers:?}"
    );
    for group in &groups {
        tg.send_text(group, &member, "/settings");
        let settings = replies(&tg, group.id, 2).await.remove(1);
        assert_eq!(
            settings.text,
            "Settings for this chat:\nLength: long\nMode: manual (only /summarize, mentions and replies)",
            "group {}",
            group.id
        );
    }
    bot.stop().await;
}

#[tokio::test]
async fn a_saved_settings_confirmation_is_not_replaced_by_another_members_refusal() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-5);
    let (mia, ada) = (User::new(1, "Mia"), User::new(2, "Ada"));
    tg.set_member_status(group.id, ada.id, "administrator");
    // A slow send keeps the next replies waiting in the group's outbox.
    tg.slow_down("SendMessage", Duration::from_millis(800));
    tg.send_text(&group, &mia, "/help");
    let ada_asked = tg.send_text(&group, &ada, "/length short");
    let mia_asked = tg.send_text(&group, &mia, "/length long");

    let sent = replies(&tg, group.id, 3).await;
    let reply_to = |asked| sent.iter().find(|m| m.reply_to == Some(asked));
    let saved = reply_to(ada_asked).expect("Ada's change is confirmed");
    assert_eq!(saved.text, "Digests in this chat are now short.");
    let refused = reply_to(mia_asked).expect("Mia is told why not");
    assert_eq!(refused.text, "Only group admins can change settings.");
    bot.stop().await;
}

#[tokio::test]
async fn settings_taps_count_against_the_command_allowance() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = linkdigest::bot::BotConfig {
        user_commands_per_minute: 3,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let (chat, ann) = (Chat::private(31), User::new(31, "Ann"));
    tg.send_text(&chat, &ann, "/length");
    let shown = replies(&tg, chat.id, 1).await.remove(0);

    // Each settings tap writes to the store and edits the message: a person tapping them
    // without end gets the refusal once over the allowance (the command took one).
    let ids: Vec<String> = ["l:long", "l:short", "l:long", "l:short"]
        .into_iter()
        .map(|data| tg.press_button(&chat, &ann, shown.message_id, data))
        .collect();
    let answers = tg
        .wait_for("AnswerCallbackQuery", ids.len(), PATIENCE)
        .await;
    let text = |id: &String| tap_answer(&answers, id).unwrap_or_default();
    assert_eq!(text(&ids[0]), "Digests in this chat are now long.");
    assert_eq!(text(&ids[1]), "Digests in this chat are now short.");
    for id in &ids[2..] {
        assert_eq!(text(id), "Too many taps, try again in a minute.");
    }
    bot.stop().await;
}
