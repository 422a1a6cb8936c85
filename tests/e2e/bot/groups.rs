//! Groups: admins, repeats, modes, other bots, forum topics, quiet failures.

use serde_json::json;
use tempfile::TempDir;

use crate::support::bot::{TestBot, bullets, replies, site};
use crate::support::fake_telegram::{Chat, FakeTelegram, User, text_message};
use crate::support::pages;

#[tokio::test]
async fn only_admins_change_settings_in_groups() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::supergroup(-100_200);
    let (member, admin, owner) = (User::new(1, "Mia"), User::new(2, "Ada"), User::new(3, "Oz"));
    tg.set_member_status(group.id, admin.id, "administrator");
    tg.set_member_status(group.id, owner.id, "creator");

    tg.send_text(&group, &member, "/length short");
    assert_eq!(
        replies(&tg, group.id, 1).await[0].text,
        "Only group admins can change settings."
    );
    tg.send_text(&group, &member, "/settings");
    assert!(
        replies(&tg, group.id, 2).await[1]
            .text
            .contains("Length: medium"),
        "nothing changed"
    );

    tg.send_text(&group, &admin, "/length@digest_bot long");
    assert_eq!(
        replies(&tg, group.id, 3).await[2].text,
        "Digests in this chat are now long."
    );
    tg.send_text(&group, &owner, "/mode manual");
    assert!(
        replies(&tg, group.id, 4).await[3]
            .text
            .starts_with("Mode is now manual.")
    );

    // An anonymous admin writes as the group itself.
    let mut anonymous = text_message(
        &group,
        &User::bot(1087968824, "GroupAnonymousBot"),
        "/length short",
    );
    anonymous["sender_chat"] = group.to_json();
    tg.send_message_json(anonymous);
    assert_eq!(
        replies(&tg, group.id, 5).await[4].text,
        "Digests in this chat are now short."
    );

    tg.send_text(&group, &member, "/settings");
    let settings = &replies(&tg, group.id, 6).await[5];
    assert!(settings.text.contains("Length: short") && settings.text.contains("Mode: manual"));
    bot.stop().await;
}

#[tokio::test]
async fn a_repost_in_a_group_gets_no_second_digest_but_a_private_chat_answers_again() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let link = site.url("/council").to_string();
    let (group, ann, bob) = (Chat::group(-300), User::new(1, "Ann"), User::new(2, "Bob"));

    tg.send_text(&group, &ann, &link);
    replies(&tg, group.id, 1).await;
    tg.send_text(&group, &bob, &format!("{link}#comments"));
    tg.send_text(&group, &bob, "/settings");
    let said = replies(&tg, group.id, 2).await;
    assert!(
        said[1].text.starts_with("Settings"),
        "no second digest: {said:#?}"
    );

    let private = Chat::private(1);
    tg.send_text(&private, &ann, &link);
    tg.send_text(&private, &ann, &link);
    assert_eq!(replies(&tg, private.id, 2).await.len(), 2);
    assert_eq!(site.hits("/council").await, 1);
    bot.stop().await;
}

#[tokio::test]
async fn modes_decide_which_links_are_answered() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-400);
    let admin = User::new(1, "Ada");
    tg.set_member_status(group.id, admin.id, "administrator");

    tg.send_text(&group, &admin, "/mode manual");
    replies(&tg, group.id, 1).await;
    tg.send_text(&group, &admin, site.url("/council?x=1").as_str());
    tg.send_text(
        &group,
        &admin,
        &format!("@digest_bot {}", site.url("/council?x=2")),
    );
    let sent = replies(&tg, group.id, 2).await;
    assert!(
        sent[1].text.contains("City council"),
        "the mention is answered"
    );
    tg.send_text(
        &group,
        &admin,
        &format!("/summarize {}", site.url("/council?x=3")),
    );
    assert!(
        replies(&tg, group.id, 3).await[2]
            .text
            .contains("City council")
    );

    tg.send_text(&group, &admin, "/mode off");
    replies(&tg, group.id, 4).await;
    tg.send_text(
        &group,
        &admin,
        &format!("@digest_bot {}", site.url("/council?x=4")),
    );
    tg.send_text(&group, &admin, "/settings");
    let sent = replies(&tg, group.id, 5).await;
    assert!(
        sent[4].text.contains("Mode: off"),
        "the link was not answered: {sent:#?}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn other_bots_edits_and_channel_posts_are_ignored() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-600);
    let link = site.url("/council").to_string();
    tg.send_text(&group, &User::bot(99, "other_bot"), &link);
    let mut edit = text_message(&group, &User::new(1, "Ann"), &link);
    edit["message_id"] = json!(1);
    edit["date"] = json!(0);
    edit["edit_date"] = json!(1);
    tg.push_update("edited_message", edit);
    let mut post = text_message(&Chat::supergroup(-100_601), &User::new(1, "Ann"), &link);
    post.as_object_mut().map(|m| m.remove("from"));
    post["message_id"] = json!(5);
    post["date"] = json!(1);
    tg.push_update("channel_post", post);
    tg.send_text(&group, &User::new(1, "Ann"), "/settings");
    let sent = replies(&tg, group.id, 1).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(site.hits("/council").await, 0);
    bot.stop().await;
}

#[tokio::test]
async fn replies_stay_in_the_forum_topic() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let forum = Chat::forum(-100_700);
    let mut message = text_message(&forum, &User::new(1, "Ann"), site.url("/council").as_str());
    message["message_thread_id"] = json!(42);
    message["is_topic_message"] = json!(true);
    tg.send_message_json(message);
    let reply = &replies(&tg, forum.id, 1).await[0];
    assert_eq!(reply.message_thread_id, Some(42));
    assert!(bullets(reply) >= 2);
    bot.stop().await;
}

#[tokio::test]
async fn summarize_in_reply_to_a_message_reads_its_link() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-800);
    let ann = User::new(1, "Ann");
    let admin = User::new(2, "Ada");
    tg.set_member_status(group.id, admin.id, "administrator");
    tg.send_text(&group, &admin, "/mode off");
    replies(&tg, group.id, 1).await;
    let original = text_message(&group, &ann, &format!("read {}", site.url("/council")));
    let original_id = tg.send_message_json(original.clone());
    let mut ask = text_message(&group, &User::new(3, "Bob"), "/summarize");
    let mut replied = original;
    replied["message_id"] = json!(original_id);
    replied["date"] = json!(0);
    ask["reply_to_message"] = replied;
    let ask_id = tg.send_message_json(ask);
    let reply = &replies(&tg, group.id, 2).await[1];
    assert!(reply.text.contains("City council"));
    assert_eq!(reply.reply_to, Some(ask_id));

    tg.send_text(&group, &ann, "/summarize");
    let hint = &replies(&tg, group.id, 3).await[2];
    assert!(
        hint.text.starts_with("Send /summarize with a link"),
        "{}",
        hint.text
    );
    bot.stop().await;
}
