//! Links in, digests out: the reply, its buttons, its length, its failures.

use std::time::Duration;

use linkdigest::bot::BotConfig;
use linkdigest::cache::CacheConfig;
use tempfile::TempDir;
use wiremock::ResponseTemplate;

use crate::support::bot::{PATIENCE, TestBot, bot_config, bullets, edited, replies, site};
use crate::support::fake_site::FakeSite;
use crate::support::fake_telegram::{Chat, Failure, FakeTelegram, User};
use crate::support::pages;

#[tokio::test]
async fn a_link_in_a_private_chat_gets_a_digest_reply_with_an_expand_button() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;

    let chat = Chat::private(7);
    let link = site.url("/council?utm_source=tg").to_string();
    let asked = tg.send_text(
        &chat,
        &User::new(7, "Ann"),
        &format!("have a look 👀 {link}"),
    );

    let reply = &replies(&tg, 7, 1).await[0];
    assert_eq!(reply.reply_to, Some(asked));
    assert_eq!(reply.parse_mode.as_deref(), Some("HTML"));
    assert!(reply.link_preview_disabled);
    assert!(
        reply
            .text
            .starts_with("<b>City council approves new budget for schools</b>\n"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains(">Daily Test</a> · 1 min read"),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("twelve percent"), "{}", reply.text);
    for boilerplate in ["cookies", "Related articles", "Copyright", "Sport"] {
        assert!(
            !reply.text.contains(boilerplate),
            "{boilerplate} in {}",
            reply.text
        );
    }
    assert!((2..=3).contains(&bullets(reply)), "{}", reply.text);
    let button = &reply.buttons[0][0];
    assert_eq!(button.text, "Expand");
    let data = button.callback_data.as_deref().unwrap();
    assert!(data.starts_with("x:") && data.len() <= 64, "{data}");
    assert!(
        !data.contains("council"),
        "callback data is a key, not the URL"
    );
    assert!(!tg.calls("SendChatAction").is_empty(), "typing… was shown");
    bot.stop().await;
}

#[tokio::test]
async fn expand_and_collapse_edit_the_reply() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let chat = Chat::private(8);
    let ann = User::new(8, "Ann");
    tg.send_text(&chat, &ann, site.url("/council").as_str());
    let digest = replies(&tg, 8, 1).await.remove(0);
    let expand = digest.buttons[0][0].callback_data.clone().unwrap();

    let query = tg.press_button(&chat, &ann, digest.message_id, &expand);
    let expanded = edited(&tg, 8, digest.message_id, 1).await;
    let answered = tg.wait_for("AnswerCallbackQuery", 1, PATIENCE).await;
    assert_eq!(answered[0]["callback_query_id"], query.as_str());
    assert!(bullets(&expanded) > bullets(&digest), "{}", expanded.text);
    assert_eq!(bullets(&expanded), 8, "medium expands to ~8 sentences");
    assert_eq!(expanded.buttons[0][0].text, "Collapse");
    let collapse = expanded.buttons[0][0].callback_data.clone().unwrap();
    assert!(collapse.starts_with("c:"));

    tg.press_button(&chat, &ann, digest.message_id, &collapse);
    let collapsed = edited(&tg, 8, digest.message_id, 2).await;
    assert_eq!(collapsed.text, digest.text);
    assert_eq!(collapsed.buttons[0][0].text, "Expand");

    // A double tap edits to the same text: Telegram says "not modified", which is fine.
    tg.press_button(&chat, &ann, digest.message_id, &collapse);
    tg.wait_for("AnswerCallbackQuery", 3, PATIENCE).await;
    assert_eq!(site.hits("/council").await, 1, "buttons never fetch again");
    bot.stop().await;
}

#[tokio::test]
async fn the_digest_follows_the_chat_length_setting() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let chat = Chat::private(9);
    let ann = User::new(9, "Ann");
    let link = site.url("/council").to_string();

    tg.send_text(&chat, &ann, "/length short");
    assert_eq!(
        replies(&tg, 9, 1).await[0].text,
        "Digests in this chat are now short."
    );
    tg.send_text(&chat, &ann, &link);
    let short = replies(&tg, 9, 2).await.remove(1);
    tg.send_text(&chat, &ann, "/length long");
    replies(&tg, 9, 3).await;
    tg.send_text(&chat, &ann, &link);
    let long = replies(&tg, 9, 4).await.remove(3);

    assert!((1..=2).contains(&bullets(&short)), "{}", short.text);
    assert!((4..=5).contains(&bullets(&long)), "{}", long.text);
    assert_eq!(
        site.hits("/council").await,
        1,
        "one cached digest serves every length"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_link_that_cannot_be_read_gets_a_reason_in_private_and_silence_in_a_group() {
    let site = site(&[]).await; // every page is a 404
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(10, "Ann");
    let link = site.url("/gone").to_string();

    tg.send_text(&Chat::private(10), &ann, &link);
    let reason = &replies(&tg, 10, 1).await[0];
    assert!(
        reason.text.starts_with("Couldn't summarize 127.0.0.1:"),
        "{}",
        reason.text
    );
    assert!(
        reason.text.ends_with("the page was not found (HTTP 404)."),
        "{}",
        reason.text
    );
    assert!(reason.buttons.is_empty());

    let group = Chat::group(-500);
    tg.send_text(&group, &ann, &format!("{link}?again"));
    tg.send_text(&group, &ann, "/settings");
    let said = replies(&tg, -500, 1).await;
    assert_eq!(said.len(), 1, "only the command was answered: {said:#?}");
    assert!(said[0].text.starts_with("Settings for this chat:"));
    bot.stop().await;
}

#[tokio::test]
async fn twenty_chats_posting_one_link_cause_one_fetch_and_twenty_replies() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let link = site.url("/council").to_string();
    for chat in 0..20 {
        let id = -1000 - chat;
        tg.send_text(&Chat::group(id), &User::new(20 + chat as u64, "Ann"), &link);
    }
    for chat in 0..20 {
        let reply = &replies(&tg, -1000 - chat, 1).await[0];
        assert!(reply.text.contains("City council approves"));
    }
    assert_eq!(site.hits("/council").await, 1);
    bot.stop().await;
}

#[tokio::test]
async fn a_429_from_telegram_still_delivers_the_reply() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    tg.fail_next("SendMessage", Failure::retry_after(1));
    tg.send_text(
        &Chat::private(11),
        &User::new(11, "Ann"),
        site.url("/council").as_str(),
    );
    let reply = &replies(&tg, 11, 1).await[0];
    assert!(reply.text.contains("City council approves"));
    assert_eq!(
        tg.calls("SendMessage").len(),
        2,
        "one refused, one delivered"
    );
    bot.stop().await;
}

#[tokio::test]
async fn only_three_links_of_a_message_are_answered() {
    let paths = ["/a", "/b", "/c", "/d"];
    let pages: Vec<(&str, String)> = paths
        .iter()
        .map(|p| (*p, pages::council_article()))
        .collect();
    let site = site(&pages).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let config = BotConfig {
        max_links_per_message: 3,
        ..bot_config()
    };
    let bot = TestBot::start_with(&tg, &dir.path().join("db"), config).await;
    let text: Vec<String> = paths.iter().map(|p| site.url(p).to_string()).collect();
    tg.send_text(
        &Chat::private(12),
        &User::new(12, "Ann"),
        &text.join(" and "),
    );
    replies(&tg, 12, 3).await;
    tg.send_text(&Chat::private(12), &User::new(12, "Ann"), "/settings");
    assert_eq!(
        replies(&tg, 12, 4).await.len(),
        4,
        "3 digests and the settings"
    );
    assert_eq!(site.hits("/d").await, 0);
    bot.stop().await;
}

#[tokio::test]
async fn page_text_is_escaped_in_the_reply() {
    let html = pages::article(
        "Q&amp;A: why &lt;rates&gt; rise",
        &[
            "Rates rose by 5% &amp; more in <b>three</b> cities, the bank said on Monday.",
            "Analysts expect the rise to continue into the next year as prices climb.",
            "Borrowers with variable loans will pay more each month from January.",
        ],
    );
    let site = site(&[("/qa", html)]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    tg.send_text(
        &Chat::private(13),
        &User::new(13, "Ann"),
        site.url("/qa").as_str(),
    );
    let reply = &replies(&tg, 13, 1).await[0];
    assert!(
        reply
            .text
            .starts_with("<b>Q&amp;A: why &lt;rates&gt; rise</b>"),
        "{}",
        reply.text
    );
    assert!(reply.visible_text().starts_with("Q&A: why <rates> rise\n"));
    assert!(
        reply.text.contains("5% &amp; more in three cities"),
        "{}",
        reply.text
    );
    bot.stop().await;
}

/// A paid article's page: JSON-LD marks it not free, and only `teaser` is in front of the wall.
fn paid_article(teaser: &[&str]) -> String {
    let paragraphs: String = teaser.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Central bank raises rates | Daily Test</title>
<meta property="og:site_name" content="Daily Test">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "Central bank raises rates",
 "isAccessibleForFree": false,
 "hasPart": {{"@type": "WebPageElement", "isAccessibleForFree": false, "cssSelector": ".paid"}}}}</script>
</head><body><article><h1>Central bank raises rates</h1>{paragraphs}
<div class="paid">Subscribe to read the rest.</div></article></body></html>"#
    )
}

#[tokio::test]
async fn a_paywalled_teaser_gets_a_preview_digest_and_an_empty_wall_a_reason() {
    let teaser = paid_article(&[
        "The central bank raised its main interest rate by half a point on Tuesday, the largest step in a decade.",
        "Officials said inflation had stayed above target for too long and that further rises were possible this year.",
    ]);
    let wall = paid_article(&[]);
    let site = site(&[("/teaser", teaser), ("/wall", wall)]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let ann = User::new(11, "Ann");

    tg.send_text(&Chat::private(11), &ann, site.url("/teaser").as_str());
    let reply = &replies(&tg, 11, 1).await[0];
    assert!(
        reply
            .text
            .contains("· 1 min read\npreview only (paywalled)\n\n• "),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("half a point"), "{}", reply.text);

    tg.send_text(&Chat::private(11), &ann, site.url("/wall").as_str());
    let reason = &replies(&tg, 11, 2).await[1];
    assert!(
        reason.text.ends_with("that article is behind a paywall."),
        "{}",
        reason.text
    );
    assert!(reason.buttons.is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn page_text_never_becomes_a_live_link_or_mention_in_the_reply() {
    let html = pages::article(
        "Log in at secure-bank.com/verify now",
        &[
            "Your account is locked, so log in at https://evil.example.com/login to keep it open.",
            "Write to help@secure-bank.com or ping @support_team, then send /start to the bot.",
            "Everyone is talking about #breaking news and $BTC prices this week, the bank said.",
        ],
    );
    let site = site(&[("/locked", html)]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let link = site.url("/locked");
    tg.send_text(&Chat::private(21), &User::new(21, "Ann"), link.as_str());
    let reply = &replies(&tg, 21, 1).await[0];
    // The words are all there for a person to read...
    let seen = reply.visible_text().replace('\u{2060}', "");
    assert!(
        seen.contains("log in at https://evil.example.com/login"),
        "{seen}"
    );
    assert!(
        seen.contains("help@secure-bank.com or ping @support_team"),
        "{seen}"
    );
    // ...but the only thing Telegram makes live is the bot's own source link.
    let live: Vec<&serde_json::Value> = reply
        .entities
        .iter()
        .filter(|e| e["type"] != "bold")
        .collect();
    assert_eq!(live.len(), 1, "{live:#?}\n{}", reply.visible_text());
    assert_eq!(live[0]["type"], "text_link");
    assert_eq!(live[0]["url"], link.as_str());
    bot.stop().await;
}

#[tokio::test]
async fn a_site_that_failed_once_is_tried_again_seconds_later() {
    let site = FakeSite::start().await;
    site.serve_first("/council", ResponseTemplate::new(503), 1)
        .await;
    site.html("/council", &pages::council_article()).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let (chat, ann) = (Chat::private(11), User::new(11, "Ann"));
    let link = site.url("/council").to_string();

    tg.send_text(&chat, &ann, &link);
    let reason = &replies(&tg, chat.id, 1).await[0];
    assert!(
        reason.text.ends_with("the site had an error (HTTP 503)."),
        "{}",
        reason.text
    );
    // A transient failure is kept a few seconds (a burst shares one try), not a minute.
    tokio::time::sleep(CacheConfig::default().transient_failure_ttl + Duration::from_millis(300))
        .await;
    tg.send_text(&chat, &ann, &link);
    let digest = &replies(&tg, chat.id, 2).await[1];
    assert!(digest.text.contains("City council"), "{}", digest.text);
    assert_eq!(site.hits("/council").await, 2);
    bot.stop().await;
}
