//! Self-tests of the fake Bot API: the real teloxide client parses every answer it gives.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, ChatAction, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions,
    MessageEntityKind, MessageId, ParseMode, ReplyParameters, UpdateKind,
};
use teloxide::{ApiError, RequestError};

use serde_json::json;

use crate::support::fake_telegram::{Button, Chat, Failure, FakeTelegram, User, text_message};

const WAIT: Duration = Duration::from_secs(5);

fn bot(fake: &FakeTelegram) -> Bot {
    Bot::new("123456:TEST").set_api_url(fake.url())
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

#[tokio::test]
async fn get_me_reports_the_configured_username_and_privacy_mode() {
    let fake = FakeTelegram::start().await;
    fake.set_username("linkdigest_test_bot");
    fake.set_can_read_all_group_messages(false);

    let me = bot(&fake).get_me().await.expect("getMe parses");

    assert_eq!(me.username(), "linkdigest_test_bot");
    assert!(!me.can_read_all_group_messages);
    assert_eq!(fake.calls("GetMe").len(), 1);
}

#[tokio::test]
async fn webhook_calls_parse() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);

    bot.delete_webhook().await.expect("deleteWebhook parses");
    let info = bot.get_webhook_info().await.expect("getWebhookInfo parses");

    assert!(info.url.is_none());
    assert_eq!(fake.calls("deleteWebhook").len(), 1);
}

#[tokio::test]
async fn a_queued_text_arrives_with_its_url_entity_at_the_utf16_offset() {
    let fake = FakeTelegram::start().await;
    let text = "🎉 read https://example.com/a?b=1, then /help";
    let sent_id = fake.send_text(&Chat::group(-42), &User::new(7, "Ann"), text);

    let updates = bot(&fake)
        .get_updates()
        .timeout(1)
        .await
        .expect("getUpdates parses");

    assert_eq!(updates.len(), 1);
    let UpdateKind::Message(message) = &updates[0].kind else {
        panic!("not a message: {:?}", updates[0])
    };
    assert_eq!(message.id, MessageId(sent_id));
    assert_eq!(message.text(), Some(text));
    assert_eq!(message.from.as_ref().map(|u| u.id), Some(UserId(7)));
    let entities = message.entities().expect("entities");
    // The emoji is two UTF-16 code units, so the link starts at 2 + " read ".len().
    assert_eq!(
        (
            entities[0].kind.clone(),
            entities[0].offset,
            entities[0].length
        ),
        (MessageEntityKind::Url, 8, 25)
    );
    let parsed = message.parse_entities().expect("entities parse");
    assert_eq!(parsed[0].text(), "https://example.com/a?b=1");
}

#[tokio::test]
async fn get_updates_waits_for_an_update_and_forgets_acknowledged_ones() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);

    let empty = bot
        .get_updates()
        .timeout(1)
        .await
        .expect("an empty poll parses");
    assert!(empty.is_empty());

    let poll = tokio::spawn(bot.get_updates().timeout(10).send());
    fake.wait_for("GetUpdates", 2, WAIT).await;
    let chat = Chat::private(7);
    fake.send_text(&chat, &User::new(7, "Ann"), "hello");
    let updates = poll.await.expect("poll task").expect("getUpdates parses");
    assert_eq!(updates.len(), 1);

    let again = bot.get_updates().await.expect("getUpdates parses");
    assert_eq!(again.len(), 1, "an update stays queued until acknowledged");

    let next = updates[0].id.as_offset();
    let rest = bot
        .get_updates()
        .offset(next)
        .timeout(0)
        .await
        .expect("getUpdates parses");
    assert!(rest.is_empty());
    assert_eq!(fake.acknowledged_offset(), i64::from(next));
}

#[tokio::test]
async fn send_message_is_recorded_with_its_reply_target_buttons_and_options() {
    let fake = FakeTelegram::start().await;
    let chat = Chat::supergroup(-1001);
    let link_id = fake.send_text(&chat, &User::new(7, "Ann"), "https://example.com/");
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        "Expand",
        "x:0123456789abcdef",
    )]]);

    let reply = bot(&fake)
        .send_message(ChatId(chat.id), "<b>Title</b> &amp; more")
        .parse_mode(ParseMode::Html)
        .reply_parameters(ReplyParameters::new(MessageId(link_id)))
        .reply_markup(keyboard)
        .link_preview_options(no_preview())
        .await
        .expect("sendMessage parses");

    assert_eq!(reply.chat.id, ChatId(chat.id));
    assert_eq!(
        reply.reply_to_message().map(|m| m.id),
        Some(MessageId(link_id))
    );
    assert!(reply.reply_markup().is_some());
    let sent = fake.sent_messages(chat.id);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, reply.id.0);
    assert_eq!(sent[0].text, "<b>Title</b> &amp; more");
    assert_eq!(sent[0].visible_text(), "Title & more");
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent[0].reply_to, Some(link_id));
    assert!(sent[0].link_preview_disabled);
    let expand = Button {
        text: "Expand".into(),
        callback_data: Some("x:0123456789abcdef".into()),
        url: None,
    };
    assert_eq!(sent[0].buttons, vec![vec![expand]]);

    // A chat no update came from yet gets its type from the id's range.
    let unseen_group = bot(&fake).send_message(ChatId(-77), "hi").await;
    assert!(unseen_group.is_ok_and(|m| m.chat.is_group()));
}

#[tokio::test]
async fn a_pressed_button_arrives_as_a_callback_query_on_the_bots_message() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let chat = Chat::private(7);
    let sent = bot
        .send_message(ChatId(7), "digest")
        .await
        .expect("sendMessage parses");

    let query_id = fake.press_button(&chat, &User::new(7, "Ann"), sent.id.0, "x:1");
    let updates = bot
        .get_updates()
        .timeout(1)
        .await
        .expect("getUpdates parses");

    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("not a callback: {:?}", updates[0])
    };
    assert_eq!(query.id.0, query_id);
    assert_eq!(query.data.as_deref(), Some("x:1"));
    assert_eq!(query.regular_message().map(|m| m.id), Some(sent.id));
    bot.answer_callback_query(query.id.clone())
        .await
        .expect("answerCallbackQuery parses");
    assert_eq!(fake.calls("AnswerCallbackQuery").len(), 1);

    fake.press_button(&chat, &User::new(7, "Ann"), 999, "x:1");
    let updates = bot
        .get_updates()
        .offset(updates[0].id.as_offset())
        .timeout(1)
        .await;
    let updates = updates.expect("getUpdates parses");
    let UpdateKind::CallbackQuery(old) = &updates[0].kind else {
        panic!("not a callback: {:?}", updates[0])
    };
    let message = old.message.as_ref().expect("a callback on a message");
    assert!(message.regular_message().is_none());
    assert_eq!(message.id(), MessageId(999));
}

#[tokio::test]
async fn edits_change_the_message_and_report_telegrams_errors() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let sent = bot
        .send_message(ChatId(7), "short")
        .await
        .expect("sendMessage parses");

    let edited = bot
        .edit_message_text(ChatId(7), sent.id, "long")
        .await
        .expect("editMessageText parses");
    assert_eq!(edited.text(), Some("long"));
    assert_eq!(fake.sent_messages(7)[0].text, "long");
    assert_eq!(fake.sent_messages(7)[0].edits, 1);

    let same = bot.edit_message_text(ChatId(7), sent.id, "long").await;
    assert!(
        matches!(same, Err(RequestError::Api(ApiError::MessageNotModified))),
        "{same:?}"
    );
    let unknown = bot.edit_message_text(ChatId(7), MessageId(999), "x").await;
    assert!(
        matches!(
            unknown,
            Err(RequestError::Api(ApiError::MessageToEditNotFound))
        ),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn send_message_refuses_texts_telegram_refuses() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let html = |n: usize| "<b>&amp;é</b>".repeat(n);

    let too_long = bot
        .send_message(ChatId(7), html(2049))
        .parse_mode(ParseMode::Html)
        .await;
    let fits = bot
        .send_message(ChatId(7), html(2048))
        .parse_mode(ParseMode::Html)
        .await;
    let empty = bot
        .send_message(ChatId(7), "<b></b>")
        .parse_mode(ParseMode::Html)
        .await;

    assert!(
        matches!(too_long, Err(RequestError::Api(ApiError::MessageIsTooLong))),
        "{too_long:?}"
    );
    assert!(fits.is_ok(), "{fits:?}");
    assert!(
        matches!(empty, Err(RequestError::Api(ApiError::MessageTextIsEmpty))),
        "{empty:?}"
    );
    assert_eq!(fake.sent_messages(7).len(), 1);
}

#[tokio::test]
async fn injected_failures_map_to_teloxides_errors_then_calls_succeed() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    fake.fail_next("SendMessage", Failure::retry_after(1));
    for description in [
        "Forbidden: bot was blocked by the user",
        "Forbidden: bot was kicked from the supergroup chat",
        "Forbidden: bot was kicked from the group chat",
        "Bad Request: message to be replied not found",
    ] {
        let code = if description.starts_with("Forbidden") {
            403
        } else {
            400
        };
        fake.fail_next("sendMessage", Failure::new(code, description));
    }

    let mut results = Vec::new();
    for _ in 0..6 {
        results.push(bot.send_message(ChatId(7), "digest").await.map(|m| m.id));
    }

    let retry =
        |r: &Result<_, _>| matches!(r, Err(RequestError::RetryAfter(s)) if s.seconds() == 1);
    assert!(retry(&results[0]), "{:?}", results[0]);
    let api_errors: Vec<_> = results[1..5]
        .iter()
        .map(|r| match r {
            Err(RequestError::Api(e)) => e.clone(),
            other => panic!("not an API error: {other:?}"),
        })
        .collect();
    // teloxide has no variant for the basic-group text, so it arrives as Unknown.
    let kicked_from_group =
        ApiError::Unknown("Forbidden: bot was kicked from the group chat".into());
    let expected = [
        ApiError::BotBlocked,
        ApiError::BotKickedFromSupergroup,
        kicked_from_group,
        ApiError::MessageToReplyNotFound,
    ];
    assert_eq!(api_errors, expected);
    assert!(results[5].is_ok(), "{:?}", results[5]);
    assert_eq!(fake.calls("SendMessage").len(), 6);
    assert_eq!(fake.sent_messages(7).len(), 1);
}

#[tokio::test]
async fn fail_ratio_fails_that_share_of_calls() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    fake.fail_ratio("SendChatAction", 0.25, Failure::retry_after(1));

    let mut failures = 0;
    for _ in 0..8 {
        let result = bot.send_chat_action(ChatId(7), ChatAction::Typing).await;
        failures += usize::from(matches!(result, Err(RequestError::RetryAfter(_))));
    }

    assert_eq!(failures, 2);
    fake.fail_next(
        "SendChatAction",
        Failure::new(400, "Bad Request: chat not found"),
    );
    let once = bot.send_chat_action(ChatId(7), ChatAction::Typing).await;
    assert!(
        matches!(once, Err(RequestError::Api(ApiError::ChatNotFound))),
        "{once:?}"
    );
}

#[tokio::test]
async fn raw_messages_from_bots_and_forum_topics_parse_and_replies_stay_in_the_topic() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let forum = Chat::forum(-1002);
    let other_bot = User::bot(99, "other_bot");
    let mut topic_post = text_message(
        &forum,
        &User::new(7, "Ann"),
        "/summarize@digest_bot https://a.example/ @digest_bot",
    );
    topic_post["message_thread_id"] = json!(5);
    topic_post["is_topic_message"] = json!(true);
    let post_id = fake.send_message_json(topic_post);
    fake.send_text(&forum, &other_bot, "https://b.example/");

    let updates = bot
        .get_updates()
        .timeout(1)
        .await
        .expect("getUpdates parses");
    let messages: Vec<&Message> = updates
        .iter()
        .filter_map(|u| match &u.kind {
            UpdateKind::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].is_topic_message);
    let kinds: Vec<_> = messages[0]
        .entities()
        .unwrap_or_default()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            MessageEntityKind::BotCommand,
            MessageEntityKind::Url,
            MessageEntityKind::Mention
        ]
    );
    assert_eq!(
        messages[1].from.as_ref().map(|u| (u.id, u.is_bot)),
        Some((UserId(other_bot.id), true))
    );

    let thread = messages[0].thread_id.expect("a topic message has a thread");
    bot.send_message(ChatId(forum.id), "digest")
        .message_thread_id(thread)
        .reply_parameters(ReplyParameters::new(MessageId(post_id)))
        .await
        .expect("sendMessage parses");
    assert_eq!(fake.sent_messages(forum.id)[0].message_thread_id, Some(5));
}

#[tokio::test]
async fn get_chat_member_reports_the_configured_status() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let chat = ChatId(-100);
    fake.set_member_status(chat.0, 1, "creator");
    fake.set_member_status(chat.0, 2, "administrator");

    let mut privileged = Vec::new();
    for user in [1, 2, 3] {
        let member = bot
            .get_chat_member(chat, UserId(user))
            .await
            .expect("getChatMember parses");
        assert_eq!(member.user.id, UserId(user));
        privileged.push((
            member.kind.is_owner(),
            member.kind.is_administrator(),
            member.kind.is_privileged(),
        ));
    }

    assert_eq!(
        privileged,
        [
            (true, false, true),
            (false, true, true),
            (false, false, false)
        ]
    );
}

#[tokio::test]
async fn other_methods_answer_true_and_wait_for_lists_them() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let commands = [teloxide::types::BotCommand::new(
        "help",
        "what the bot does",
    )];

    bot.set_my_commands(commands)
        .await
        .expect("setMyCommands parses");

    let calls = fake.wait_for("SetMyCommands", 1, WAIT).await;
    assert_eq!(calls[0]["commands"][0]["command"], "help");
    let missing = tokio::spawn(async move {
        fake.wait_for("SendMessage", 1, Duration::from_millis(50))
            .await
    });
    let panic = missing
        .await
        .expect_err("wait_for panics on timeout")
        .into_panic();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("for 1 SendMessage call(s)"), "{message}");
    assert!(message.contains("SetMyCommands"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_dispatcher_gets_updates_at_once_and_stops_within_a_poll() {
    let fake = FakeTelegram::start().await;
    let handler = Update::filter_message().endpoint(|bot: Bot, message: Message| async move {
        bot.send_message(message.chat.id, "pong").await?;
        respond(())
    });
    let mut dispatcher = Dispatcher::builder(bot(&fake), handler).build();
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });
    fake.wait_for("GetUpdates", 1, WAIT).await;

    let chat = Chat::private(7);
    for n in 1..=3 {
        fake.send_text(&chat, &User::new(7, "Ann"), "ping");
        fake.wait_for_sent(chat.id, n, WAIT).await;
    }
    // The future shutdown() returns can miss the dispatcher's "done" signal when it is first
    // polled late (teloxide 0.17), so the test waits for dispatch() itself to return.
    drop(shutdown.shutdown().expect("the dispatcher is running"));
    let stopped = tokio::time::timeout(WAIT, running).await;
    stopped
        .expect("the dispatcher stops within a poll")
        .expect("no panic");

    // No webhook is set (getWebhookInfo parsed), so teloxide skips deleteWebhook.
    assert_eq!(fake.calls("GetWebhookInfo").len(), 1);
    assert!(fake.calls("DeleteWebhook").is_empty());
    assert_eq!(fake.sent_messages(7).len(), 3);
    assert_eq!(fake.acknowledged_offset(), 4);
}

#[tokio::test]
async fn updates_of_kinds_the_bot_did_not_ask_for_never_arrive() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let (chat, ann) = (Chat::private(7), User::new(7, "Ann"));
    let only_messages = [AllowedUpdate::Message];
    let first = bot.get_updates().allowed_updates(only_messages).await;
    assert!(first.expect("getUpdates parses").is_empty());

    fake.press_button(&chat, &ann, 1, "x:1");
    fake.send_text(&chat, &ann, "hello");
    let updates = bot.get_updates().await.expect("getUpdates parses");

    assert_eq!(updates.len(), 1);
    assert!(matches!(updates[0].kind, UpdateKind::Message(_)));
}

#[tokio::test]
async fn a_message_from_an_anonymous_admin_carries_the_group_as_sender_chat() {
    let fake = FakeTelegram::start().await;
    let group = Chat::supergroup(-1003);
    let mut message = text_message(&group, &User::group_anonymous_bot(), "/length short");
    message["sender_chat"] = group.to_json();
    fake.send_message_json(message);

    let updates = bot(&fake).get_updates().await.expect("getUpdates parses");

    let UpdateKind::Message(message) = &updates[0].kind else {
        panic!("not a message: {:?}", updates[0])
    };
    assert_eq!(
        message.sender_chat.as_ref().map(|c| c.id),
        Some(ChatId(group.id))
    );
    assert!(message.from.as_ref().is_some_and(|u| u.is_anonymous()));
}

#[tokio::test]
async fn html_is_parsed_into_plain_text_and_entities_and_bad_markup_is_refused() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let chat = ChatId(61);

    let sent = bot
        .send_message(
            chat,
            "🎉 <b>Bold</b> &amp; <a href=\"https://e.org/a\">site</a>",
        )
        .parse_mode(ParseMode::Html)
        .await
        .expect("valid HTML is sent");
    assert_eq!(sent.text(), Some("🎉 Bold & site"));
    let entities = sent.entities().expect("entities");
    assert_eq!((entities[0].offset, entities[0].length), (3, 4));
    assert_eq!(entities[0].kind, MessageEntityKind::Bold);
    assert!(
        matches!(&entities[1].kind, MessageEntityKind::TextLink { url } if url.as_str() == "https://e.org/a")
    );
    let recorded = &fake.sent_messages(61)[0];
    assert_eq!(recorded.visible_text(), "🎉 Bold & site");
    assert_eq!(
        recorded.links(),
        vec![("site".to_owned(), "https://e.org/a".to_owned())]
    );

    for bad in ["<b>unclosed", "a <div>b</div>", "1 < 2", "<br>"] {
        let refused = bot
            .send_message(chat, bad)
            .parse_mode(ParseMode::Html)
            .await;
        let error = refused.expect_err(bad).to_string();
        assert!(error.contains("can't parse entities"), "{bad}: {error}");
    }
    let long = "é".repeat(4097);
    let refused = bot.send_message(chat, long).await.expect_err("too long");
    assert!(refused.to_string().contains("too long"), "{refused}");
    assert_eq!(fake.sent_messages(61).len(), 1);
}

#[tokio::test]
async fn callback_data_outside_1_to_64_bytes_is_refused() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    for data in [String::new(), "x".repeat(65)] {
        let keyboard =
            InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Tap", data.clone())]]);
        let refused = bot
            .send_message(ChatId(62), "text")
            .reply_markup(keyboard)
            .await;
        let error = refused.expect_err("refused").to_string();
        assert!(error.contains("BUTTON_DATA_INVALID"), "{error}");
    }
    let keyboard =
        InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Tap", "x".repeat(64))]]);
    let sent = bot
        .send_message(ChatId(62), "text")
        .reply_markup(keyboard)
        .await;
    assert!(sent.is_ok(), "64 bytes are fine");
}

#[tokio::test]
async fn a_reply_to_a_missing_message_needs_allow_sending_without_reply() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let chat = Chat::private(63);
    let id = fake.send_text(&chat, &User::new(63, "Ann"), "hello");
    fake.delete_message(chat.id, id);

    let refused = bot
        .send_message(ChatId(63), "reply")
        .reply_parameters(ReplyParameters::new(MessageId(id)))
        .await;
    assert!(matches!(
        refused,
        Err(RequestError::Api(ApiError::MessageToReplyNotFound))
    ));
    let sent = bot
        .send_message(ChatId(63), "reply")
        .reply_parameters(ReplyParameters::new(MessageId(id)).allow_sending_without_reply())
        .await;
    assert!(sent.is_ok(), "{sent:?}");
}

#[tokio::test]
async fn a_migrated_group_answers_with_its_new_id() {
    let fake = FakeTelegram::start().await;
    let (group, supergroup) = (Chat::group(-64), Chat::supergroup(-100_064));
    fake.migrate_chat(&group, &supergroup);
    let refused = bot(&fake).send_message(ChatId(-64), "hi").await;
    assert!(
        matches!(
            refused,
            Err(RequestError::MigrateToChatId(ChatId(-100_064)))
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn set_and_delete_webhook_are_recorded_and_polling_conflicts_with_a_webhook() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    bot.set_webhook("https://bot.example.org/tg".parse().expect("a URL"))
        .secret_token("s3cret".to_owned())
        .allowed_updates(vec![AllowedUpdate::Message])
        .await
        .expect("setWebhook");
    let webhook = fake.webhook().expect("a webhook is set");
    assert_eq!(webhook["url"], json!("https://bot.example.org/tg"));
    assert_eq!(webhook["secret_token"], json!("s3cret"));
    assert_eq!(webhook["allowed_updates"], json!(["message"]));
    let info = bot.get_webhook_info().await.expect("getWebhookInfo");
    assert_eq!(
        info.url.map(|u| u.to_string()).as_deref(),
        Some("https://bot.example.org/tg")
    );
    let conflict = bot
        .get_updates()
        .await
        .expect_err("no polling with a webhook");
    assert!(
        conflict.to_string().contains("webhook is active"),
        "{conflict}"
    );

    bot.delete_webhook().await.expect("deleteWebhook");
    assert!(fake.webhook().is_none());
    let methods: Vec<String> = fake.webhook_calls().into_iter().map(|(m, _)| m).collect();
    assert_eq!(methods.len(), 2);
    assert!(methods[0].eq_ignore_ascii_case("setWebhook"));
    assert!(methods[1].eq_ignore_ascii_case("deleteWebhook"));
}

#[tokio::test]
async fn a_button_press_is_answered_once() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let chat = Chat::private(65);
    let shown = fake.send_text(&chat, &User::new(65, "Ann"), "pick");
    let id = fake.press_button(&chat, &User::new(65, "Ann"), shown, "x:1");
    bot.answer_callback_query(teloxide::types::CallbackQueryId(id.clone()))
        .await
        .expect("the first answer");
    let again = bot
        .answer_callback_query(teloxide::types::CallbackQueryId(id))
        .await;
    assert!(again.is_err(), "a second answer is refused");
}

#[tokio::test]
async fn inline_queries_are_answered_once_with_valid_results_then_sent_and_edited() {
    use teloxide::types::{
        InlineQueryId, InlineQueryResult, InlineQueryResultArticle, InputMessageContent,
        InputMessageContentText,
    };
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let ann = User::new(7, "Ann");
    let article = |id: &str, html: &str| {
        let content = InputMessageContentText::new(html).parse_mode(ParseMode::Html);
        let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Go", "s:1")]]);
        InlineQueryResult::Article(
            InlineQueryResultArticle::new(id, "Title", InputMessageContent::Text(content))
                .reply_markup(keyboard),
        )
    };
    let refused = |result: Result<_, RequestError>| {
        assert!(matches!(result, Err(RequestError::Api(_))), "{result:?}");
    };

    let first = fake.inline_query(&ann, "https://example.org");
    let updates = bot.get_updates().await.expect("getUpdates parses");
    assert!(
        matches!(&updates[0].kind, UpdateKind::InlineQuery(q) if q.query == "https://example.org")
    );
    let id = InlineQueryId(first.clone());
    let too_many: Vec<_> = (0..51).map(|i| article(&format!("r{i}"), "x")).collect();
    refused(bot.answer_inline_query(id.clone(), too_many).await);
    refused(
        bot.answer_inline_query(id.clone(), [article("a", "x"), article("a", "y")])
            .await,
    );
    refused(
        bot.answer_inline_query(id.clone(), [article(&"a".repeat(65), "x")])
            .await,
    );
    refused(
        bot.answer_inline_query(id.clone(), [article("a", "<b>open")])
            .await,
    );
    bot.answer_inline_query(id, [article("a", "fine")])
        .await
        .expect("refused answers leave the query open");
    assert!(fake.inline_answer(&first).is_some());

    let query = fake.inline_query(&ann, "https://example.org/b");
    let id = InlineQueryId(query.clone());
    bot.answer_inline_query(id.clone(), [article("p:1", "<b>Hello</b>")])
        .await
        .expect("a valid answer is taken");
    refused(bot.answer_inline_query(id, [article("p:1", "again")]).await);

    let sent = fake
        .choose_inline_result(&ann, &query, "p:1")
        .expect("sent");
    assert_eq!(fake.inline_message(&sent).unwrap().visible_text(), "Hello");
    let updates = bot
        .get_updates()
        .offset(updates[0].id.as_offset())
        .await
        .unwrap();
    let chosen = updates.iter().find_map(|u| match &u.kind {
        UpdateKind::ChosenInlineResult(c) => Some(c.clone()),
        _ => None,
    });
    let chosen = chosen.expect("a chosen_inline_result");
    assert_eq!(chosen.inline_message_id.as_deref(), Some(sent.as_str()));
    assert_eq!(chosen.query, "https://example.org/b");

    bot.edit_message_text_inline(&sent, "<i>Digest</i>")
        .parse_mode(ParseMode::Html)
        .await
        .expect("an inline edit parses");
    let edited = fake.inline_message(&sent).unwrap();
    assert_eq!(
        (edited.visible_text().as_str(), edited.edits),
        ("Digest", 1)
    );
    refused(bot.edit_message_text_inline("im404", "x").await);

    fake.press_inline_button(&ann, &sent, "x:1");
    let updates = bot
        .get_updates()
        .offset(chosen_offset(&updates))
        .await
        .unwrap();
    let press = updates.iter().find_map(|u| match &u.kind {
        UpdateKind::CallbackQuery(q) => Some(q.clone()),
        _ => None,
    });
    let press = press.expect("a callback_query");
    assert_eq!(press.inline_message_id.as_deref(), Some(sent.as_str()));
    assert!(press.message.is_none());
}

fn chosen_offset(updates: &[Update]) -> i32 {
    updates.last().map_or(0, |u| u.id.as_offset())
}

#[tokio::test]
async fn queued_updates_are_posted_to_the_webhook_with_the_secret_and_resent_when_refused() {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, StatusCode};

    type Received = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;
    let received: Received = Arc::default();
    let record = {
        let received = received.clone();
        move |headers: HeaderMap, axum::Json(update): axum::Json<serde_json::Value>| async move {
            let secret = headers
                .get("x-telegram-bot-api-secret-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut received = received.lock().unwrap();
            received.push((secret, update));
            // The first delivery is refused, as by a bot busy restarting.
            if received.len() == 1 {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/tg", axum::routing::post(record));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let fake = FakeTelegram::start().await;
    let delivery = fake.deliver_to_webhook();
    let (chat, ann) = (Chat::private(66), User::new(66, "Ann"));
    // Queued before any webhook: it waits for one.
    fake.send_text(&chat, &ann, "before");
    bot(&fake)
        .set_webhook(format!("http://{addr}/tg").parse().unwrap())
        .secret_token("s3cret".to_owned())
        .allowed_updates(vec![AllowedUpdate::Message])
        .await
        .expect("setWebhook");
    fake.push_update("edited_message", text_message(&chat, &ann, "not asked for"));
    fake.send_text(&chat, &ann, "after");

    let deadline = tokio::time::Instant::now() + WAIT;
    while received.lock().unwrap().len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    delivery.abort();
    server.abort();
    let received = received.lock().unwrap().clone();
    let mut texts: Vec<&str> = received
        .iter()
        .map(|(_, u)| u["message"]["text"].as_str().unwrap_or("(not a message)"))
        .collect();
    // Several connections at once: the resent update may come after a later one.
    texts.sort();
    assert_eq!(texts, ["after", "before", "before"], "{received:#?}");
    assert!(
        received
            .iter()
            .all(|(secret, _)| secret.as_deref() == Some("s3cret"))
    );
}

#[tokio::test]
async fn an_unknown_method_is_not_found_as_telegram_answers() {
    let fake = FakeTelegram::start().await;
    let url = format!("{}bot123456:TEST/sendMesage", fake.url());
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({"chat_id": 1, "text": "hi"}))
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );
}

#[tokio::test]
async fn set_my_commands_refuses_what_telegram_refuses() {
    use teloxide::types::BotCommand;
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let refused = |commands: Vec<BotCommand>| {
        let request = bot.set_my_commands(commands);
        async move { request.await.expect_err("refused").to_string() }
    };
    let long = "a".repeat(33);
    for bad in ["Help", "help-me", "", long.as_str()] {
        let why = refused(vec![BotCommand::new(bad, "what it does")]).await;
        assert!(why.contains("BOT_COMMAND_INVALID"), "{bad:?}: {why}");
    }
    for bad in [String::new(), "d".repeat(257)] {
        let why = refused(vec![BotCommand::new("help", bad)]).await;
        assert!(why.contains("BOT_COMMAND_DESCRIPTION_INVALID"), "{why}");
    }
    let many = (0..101).map(|i| BotCommand::new(format!("c{i}"), "a command"));
    let why = refused(many.collect()).await;
    assert!(why.contains("BOT_COMMANDS_TOO_MUCH"), "{why}");
    let fine = (0..100).map(|i| BotCommand::new(format!("c_{i}"), "d".repeat(256)));
    bot.set_my_commands(fine.collect::<Vec<_>>())
        .await
        .expect("100 valid commands are taken");
}

#[tokio::test]
async fn a_topic_is_refused_outside_forums() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let group = Chat::supergroup(-1_003);
    fake.send_text(&group, &User::new(7, "Ann"), "hello");
    let thread = teloxide::types::ThreadId(MessageId(5));
    let sent = bot
        .send_message(ChatId(group.id), "digest")
        .message_thread_id(thread)
        .await;
    let why = sent.expect_err("no topics here").to_string();
    assert!(why.contains("message thread not found"), "{why}");
    let typing = bot
        .send_chat_action(ChatId(group.id), ChatAction::Typing)
        .message_thread_id(thread)
        .await;
    assert!(typing.is_err(), "typing in a topic of a plain group");
    assert!(fake.sent_messages(group.id).is_empty());
}

#[tokio::test]
async fn a_press_answered_too_late_is_refused() {
    let fake = FakeTelegram::start().await;
    fake.set_callback_answer_window(Duration::from_millis(50));
    let bot = bot(&fake);
    let chat = Chat::private(66);
    let shown = fake.send_text(&chat, &User::new(66, "Ann"), "pick");
    let id = fake.press_button(&chat, &User::new(66, "Ann"), shown, "x:1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let late = bot
        .answer_callback_query(teloxide::types::CallbackQueryId(id))
        .await;
    let why = late.expect_err("too late").to_string();
    assert!(why.contains("query is too old"), "{why}");
}

#[tokio::test]
async fn a_chat_that_removed_the_bot_answers_403_as_telegram_does() {
    use crate::support::fake_telegram::BOT_ID;
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let (group, member) = (Chat::supergroup(-100_500), User::new(5, "Ann"));
    fake.send_text(&group, &member, "hello");
    let sent = bot
        .send_message(ChatId(group.id), "digest")
        .await
        .expect("sent while a member");

    fake.set_member_status(group.id, BOT_ID, "kicked");
    let kicked = bot.send_message(ChatId(group.id), "digest").await;
    assert!(
        matches!(
            kicked,
            Err(RequestError::Api(ApiError::BotKickedFromSupergroup))
        ),
        "{kicked:?}"
    );
    let edit = bot.edit_message_text(ChatId(group.id), sent.id, "x").await;
    assert!(matches!(edit, Err(RequestError::Api(_))), "{edit:?}");
    let typing = bot
        .send_chat_action(ChatId(group.id), ChatAction::Typing)
        .await;
    assert!(matches!(typing, Err(RequestError::Api(_))), "{typing:?}");

    fake.set_member_status(7, BOT_ID, "kicked");
    let blocked = bot.send_message(ChatId(7), "digest").await;
    assert!(
        matches!(blocked, Err(RequestError::Api(ApiError::BotBlocked))),
        "{blocked:?}"
    );
    assert_eq!(fake.sent_messages(group.id).len(), 1);
    assert!(fake.sent_messages(7).is_empty());
}
