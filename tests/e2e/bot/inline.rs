//! Inline mode: `@digest_bot <link>` typed in any chat, answered at once, then edited.

use std::time::Duration;

use linkdigest::bot::BotConfig;
use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::ResponseTemplate;

use crate::support::bot::{
    PATIENCE, TestBot, bot_config, bullets, first_callback, inline_edited, replies, site,
    tap_answer,
};
use crate::support::fake_telegram::{Chat, FakeTelegram, User};
use crate::support::pages;

/// Waits for the bot's answer to inline query `id`.
async fn answer(tg: &FakeTelegram, id: &str) -> Value {
    tg.wait_until(&format!("the answer to {id}"), PATIENCE, |tg| {
        tg.inline_answer(id)
    })
    .await
}

/// The inline message `from` sends by choosing the bot's one result for `query`: its id.
async fn chosen(tg: &FakeTelegram, from: &User, query: &str) -> String {
    let query_id = tg.inline_query(from, query);
    let answer = answer(tg, &query_id).await;
    let result_id = only_result(&answer)["id"].as_str().unwrap().to_owned();
    tg.choose_inline_result(from, &query_id, &result_id)
        .expect("the chosen result is sent")
}

/// The bot's settings, with each person allowed two commands (and button taps) a minute.
fn two_taps_a_minute() -> BotConfig {
    BotConfig {
        user_commands_per_minute: 2,
        ..bot_config()
    }
}

fn only_result(answer: &Value) -> &Value {
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{answer}");
    &results[0]
}

#[tokio::test]
async fn a_cached_link_is_answered_with_its_digest() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(7, "Ann");
    let link = site.url("/council").to_string();
    tg.send_text(&Chat::private(7), &ann, &link);
    replies(&tg, 7, 1).await;

    let bob = User::new(8, "Bob");
    let query = tg.inline_query(&bob, &format!("read this {link}"));
    let answer = answer(&tg, &query).await;
    let result = only_result(&answer);
    assert_eq!(result["type"], "article");
    assert_eq!(
        result["title"],
        "City council approves new budget for schools"
    );
    let content = &result["input_message_content"];
    assert_eq!(content["parse_mode"], "HTML");
    assert_eq!(content["link_preview_options"]["is_disabled"], json!(true));
    let text = content["message_text"].as_str().unwrap();
    assert!(text.contains("twelve percent"), "{text}");
    let button = &result["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["text"], "Expand");
    assert!(answer["cache_time"].as_u64().unwrap() > 0, "{answer}");
    assert_ne!(
        answer["is_personal"],
        json!(true),
        "a digest is the same for everyone"
    );

    let result_id = result["id"].as_str().unwrap();
    let sent = tg.choose_inline_result(&bob, &query, result_id).unwrap();
    let message = tg.inline_message(&sent).unwrap();
    assert!(message.visible_text().contains("twelve percent"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tg.inline_message(&sent).unwrap().edits,
        0,
        "a digest is left alone"
    );
    assert_eq!(site.hits("/council").await, 1, "the cached digest was used");
    bot.stop().await;
}

#[tokio::test]
async fn a_new_link_gets_a_placeholder_edited_into_the_digest_whose_expand_survives_a_restart() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("db");
    let bot = TestBot::start(&tg, &db).await;
    let ann = User::new(7, "Ann");
    let link = site.url("/council").to_string();

    let query = tg.inline_query(&ann, &link);
    let answer = answer(&tg, &query).await;
    let result = only_result(&answer);
    assert_eq!(result["title"], "Summarize: 127.0.0.1");
    assert_eq!(
        answer["cache_time"],
        json!(0),
        "a placeholder is never cached"
    );
    assert_eq!(site.hits("/council").await, 0, "a query fetches nothing");

    let sent = tg
        .choose_inline_result(&ann, &query, result["id"].as_str().unwrap())
        .unwrap();
    let placeholder = tg.inline_message(&sent).unwrap();
    assert!(
        placeholder.links().iter().any(|(_, url)| *url == link),
        "{placeholder:?}"
    );
    assert_eq!(placeholder.buttons[0][0].text, "Summarize");

    let digest = inline_edited(&tg, &sent, 1).await;
    assert!(
        digest.visible_text().contains("twelve percent"),
        "{}",
        digest.text
    );
    assert!(digest.link_preview_disabled);
    assert_eq!(digest.buttons[0][0].text, "Expand");
    let collapsed = bullets(&digest);

    tg.press_inline_button(&ann, &sent, &first_callback(&digest));
    let expanded = inline_edited(&tg, &sent, 2).await;
    assert!(bullets(&expanded) > collapsed, "{}", expanded.text);
    assert_eq!(expanded.buttons[0][0].text, "Collapse");
    bot.stop().await;

    let bot = TestBot::start(&tg, &db).await;
    tg.press_inline_button(&ann, &sent, &first_callback(&expanded));
    let again = inline_edited(&tg, &sent, 3).await;
    assert_eq!(bullets(&again), collapsed);
    assert_eq!(again.buttons[0][0].text, "Expand");
    assert_eq!(site.hits("/council").await, 1, "one fetch in all");
    bot.stop().await;
}

#[tokio::test]
async fn a_link_digested_before_a_restart_is_shared_inline_without_fetching() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("db");
    let (chat, ann) = (Chat::private(7), User::new(7, "Ann"));
    let link = site.url("/council").to_string();

    let bot = TestBot::start(&tg, &db).await;
    tg.send_text(&chat, &ann, &link);
    replies(&tg, chat.id, 1).await;
    bot.stop().await;

    let bot = TestBot::start(&tg, &db).await;
    let bob = User::new(8, "Bob");
    let query = tg.inline_query(&bob, &link);
    let result = answer(&tg, &query).await;
    let sent = tg
        .choose_inline_result(&bob, &query, only_result(&result)["id"].as_str().unwrap())
        .unwrap();
    let digest = inline_edited(&tg, &sent, 1).await;
    assert!(
        digest.visible_text().contains("twelve percent"),
        "{}",
        digest.text
    );
    assert_eq!(digest.buttons[0][0].text, "Expand");
    assert_eq!(
        site.hits("/council").await,
        1,
        "fetched once, before the restart"
    );
    bot.stop().await;
}

#[tokio::test]
async fn without_inline_feedback_the_summarize_button_starts_the_digest() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    tg.set_inline_feedback(false);
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(7, "Ann");

    let sent = chosen(&tg, &ann, site.url("/council").as_str()).await;
    let placeholder = tg.inline_message(&sent).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(site.hits("/council").await, 0, "nothing told the bot");

    tg.press_inline_button(&ann, &sent, &first_callback(&placeholder));
    let digest = inline_edited(&tg, &sent, 1).await;
    assert!(
        digest.visible_text().contains("twelve percent"),
        "{}",
        digest.text
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_failure_edits_the_placeholder_into_the_reason() {
    let site = site(&[]).await;
    site.serve("/gone", ResponseTemplate::new(404)).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(7, "Ann");

    let sent = chosen(&tg, &ann, site.url("/gone").as_str()).await;
    let failed = inline_edited(&tg, &sent, 1).await;
    let text = failed.visible_text();
    assert!(text.starts_with("Couldn't summarize 127.0.0.1"), "{text}");
    assert!(text.contains("/gone"), "{text}");
    assert!(failed.buttons.is_empty(), "{failed:?}");
    bot.stop().await;
}

#[tokio::test]
async fn a_query_without_a_link_gets_a_type_a_link_button() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let query = tg.inline_query(&User::new(7, "Ann"), "what is this bot");
    let answer = answer(&tg, &query).await;
    assert_eq!(answer["results"], json!([]));
    assert_eq!(
        answer["button"]["text"],
        "Type or paste a link to summarize"
    );
    assert_eq!(answer["button"]["start_parameter"], "inline");
    let asked = tg.calls("GetUpdates")[0]["allowed_updates"].clone();
    assert!(
        asked.as_array().unwrap().contains(&json!("inline_query")),
        "{asked}"
    );
    assert!(
        asked
            .as_array()
            .unwrap()
            .contains(&json!("chosen_inline_result"))
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_inline_answer_does_not_wait_behind_the_chats_replies() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    // One message a second overall: three replies take three seconds.
    let config = BotConfig {
        sends_per_second: 1,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    for id in [81, 82, 83] {
        tg.send_text(&Chat::private(id), &User::new(id as u64, "Reader"), "/help");
    }
    tg.wait_for_sent(81, 1, PATIENCE).await;
    let query = tg.inline_query(&User::new(7, "Ann"), "what is this bot");
    answer(&tg, &query).await;
    for id in [82, 83] {
        tg.wait_for_sent(id, 1, PATIENCE).await;
    }
    let order: Vec<String> = tg
        .all_calls()
        .into_iter()
        .filter(|c| {
            ["sendmessage", "answerinlinequery"].contains(&c.method.to_ascii_lowercase().as_str())
        })
        .map(|c| c.method)
        .collect();
    assert_eq!(
        order[1].to_ascii_lowercase(),
        "answerinlinequery",
        "the answer went before the paced replies: {order:?}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn with_inline_mode_off_the_bot_does_not_ask_for_inline_queries() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        inline: false,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    tg.wait_for("GetUpdates", 1, PATIENCE).await;
    let query = tg.inline_query(&User::new(7, "Ann"), "https://example.org/a");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(tg.inline_answer(&query).is_none());
    let asked = tg.calls("GetUpdates")[0]["allowed_updates"].clone();
    assert_eq!(asked, json!(["message", "callback_query"]));
    bot.stop().await;
}

#[tokio::test]
async fn a_flood_of_keystrokes_fetches_nothing_and_only_the_latest_is_answered() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    tg.wait_for("GetUpdates", 1, PATIENCE).await;
    let ann = User::new(7, "Ann");
    let link = site.url("/council").to_string();

    // Telegram sends a query per keystroke, partial links included.
    let queries: Vec<String> = (1..=link.len())
        .map(|typed| tg.inline_query(&ann, &link[..typed]))
        .collect();
    let last = queries.last().unwrap();
    let answer = answer(&tg, last).await;
    let result = only_result(&answer);
    assert_eq!(result["title"], "Summarize: 127.0.0.1");
    let answered = queries
        .iter()
        .filter(|q| tg.inline_answer(q).is_some())
        .count();
    assert!(
        answered < queries.len() / 2,
        "{answered} of {} keystrokes answered",
        queries.len()
    );
    assert_eq!(site.hits("/council").await, 0, "keystrokes fetch nothing");

    let sent = tg
        .choose_inline_result(&ann, last, result["id"].as_str().unwrap())
        .unwrap();
    let digest = inline_edited(&tg, &sent, 1).await;
    assert!(digest.visible_text().contains("twelve percent"));
    assert_eq!(site.hits("/council").await, 1);
    bot.stop().await;
}

#[tokio::test]
async fn inline_fetches_count_against_the_persons_links_a_minute() {
    let site = site(&[
        ("/council", pages::council_article()),
        ("/other", pages::council_article()),
    ])
    .await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        user_links_per_minute: 1,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let ann = User::new(7, "Ann");
    let mut sent = Vec::new();
    for path in ["/council", "/other"] {
        sent.push(chosen(&tg, &ann, site.url(path).as_str()).await);
        inline_edited(&tg, sent.last().unwrap(), 1).await;
    }
    let first = tg.inline_message(&sent[0]).unwrap();
    assert!(first.visible_text().contains("twelve percent"));
    let second = tg.inline_message(&sent[1]).unwrap();
    assert!(
        second
            .visible_text()
            .contains("faster than I can read them"),
        "{}",
        second.text
    );
    assert_eq!(
        second.buttons[0][0].text, "Summarize",
        "it can be tried again"
    );
    assert_eq!(site.hits("/other").await, 0);
    bot.stop().await;
}

#[tokio::test]
async fn taps_under_an_inline_digest_count_against_the_persons_command_allowance() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), two_taps_a_minute()).await;
    let ann = User::new(7, "Ann");
    let sent = chosen(&tg, &ann, site.url("/council").as_str()).await;
    let expand = first_callback(&inline_edited(&tg, &sent, 1).await);
    let collapse = expand.replacen("x:", "c:", 1);

    let mut texts = Vec::new();
    for (i, data) in [&expand, &collapse, &expand].into_iter().enumerate() {
        let id = tg.press_inline_button(&ann, &sent, data);
        let answered = tg.wait_for("AnswerCallbackQuery", i + 1, PATIENCE).await;
        texts.push(tap_answer(&answered, &id));
    }
    assert_eq!(texts[..2], [None, None], "two taps within the allowance");
    let too_many = "Too many taps, try again in a minute.";
    assert_eq!(texts[2].as_deref(), Some(too_many));
    assert_eq!(
        inline_edited(&tg, &sent, 3).await.buttons[0][0].text,
        "Expand"
    );
    bot.stop().await;
}

#[tokio::test]
async fn taps_on_summarize_count_against_the_persons_command_allowance() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    tg.set_inline_feedback(false);
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), two_taps_a_minute()).await;
    let ann = User::new(7, "Ann");
    let sent = chosen(&tg, &ann, site.url("/council").as_str()).await;
    let summarize = first_callback(&tg.inline_message(&sent).unwrap());

    // A person tapping Summarize again and again: each tap would take a place in the work
    // queue and, once over the links allowance, an edit from the bot's overall sends.
    let ids: Vec<String> = (0..5)
        .map(|_| tg.press_inline_button(&ann, &sent, &summarize))
        .collect();
    let answered = tg
        .wait_for("AnswerCallbackQuery", ids.len(), PATIENCE)
        .await;
    let text = |id: &String| tap_answer(&answered, id);
    let too_many = "Too many taps, try again in a minute.";
    assert_eq!([text(&ids[0]), text(&ids[1])], [None, None]);
    for id in &ids[2..] {
        assert_eq!(text(id).as_deref(), Some(too_many));
    }
    let digest = inline_edited(&tg, &sent, 1).await;
    assert!(digest.visible_text().contains("twelve percent"));
    bot.stop().await;
}
