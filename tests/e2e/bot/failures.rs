//! Telegram saying no: blocked bots, deleted messages, upgraded groups; sites that do not
//! exist.

use std::sync::Arc;
use std::time::Duration;

use linkdigest::cache::CacheConfig;
use linkdigest::digest::Service;
use linkdigest::fetch::Fetcher;
use linkdigest::summarize::Extractive;
use serde_json::json;
use tempfile::TempDir;

use crate::support::bot::{PATIENCE, TestBot, replies, site};
use crate::support::fake_telegram::{Chat, Failure, FakeTelegram, User};
use crate::support::{DeadDns, fetch_config, pages};

#[tokio::test]
async fn a_blocked_bot_or_deleted_message_is_dropped_and_others_are_still_served() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let link = site.url("/council");

    tg.fail_next(
        "SendMessage",
        Failure::new(403, "Forbidden: bot was blocked by the user"),
    );
    tg.send_text(&Chat::private(1), &User::new(1, "Ann"), link.as_str());
    tg.wait_for("SendMessage", 1, PATIENCE).await;

    let group = Chat::group(-2);
    tg.fail_next(
        "SendMessage",
        Failure::new(400, "Bad Request: message to be replied not found"),
    );
    tg.send_text(&group, &User::new(2, "Bob"), link.as_str());
    // Each message's reply is made in its own task: let the failure reach the group's reply.
    tg.wait_for("SendMessage", 2, PATIENCE).await;
    tg.send_text(&Chat::private(3), &User::new(3, "Cy"), link.as_str());
    let served = &replies(&tg, 3, 1).await[0];
    assert!(served.text.contains("City council"));
    // The blocked send and the reply to a deleted message were each tried once, not retried.
    tg.send_text(&group, &User::new(2, "Bob"), "/settings");
    replies(&tg, group.id, 1).await;
    assert_eq!(
        tg.calls("SendMessage").len(),
        4,
        "{:#?}",
        tg.calls("SendMessage")
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_keeps_its_settings() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let (group, supergroup) = (Chat::group(-77), Chat::supergroup(-100_077));
    let admin = User::new(1, "Ada");
    tg.set_member_status(group.id, admin.id, "administrator");
    tg.send_text(&group, &admin, "/length short");
    replies(&tg, group.id, 1).await;

    tg.send_message_json(json!({
        "chat": group.to_json(),
        "from": admin.to_json(),
        "migrate_to_chat_id": supergroup.id,
    }));
    tg.send_text(&group, &admin, "/settings");
    replies(&tg, group.id, 2).await;
    tg.send_text(&supergroup, &admin, "/settings");
    let settings = &replies(&tg, supergroup.id, 1).await[0];
    assert!(settings.text.contains("Length: short"), "{}", settings.text);
    bot.stop().await;
}

#[tokio::test]
async fn a_name_that_does_not_exist_is_a_dead_link_and_a_silent_dns_is_asked_again() {
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    // No DNS packet leaves the test: the resolver is in memory.
    let dns = Arc::new(DeadDns::default());
    let fetcher = Fetcher::with_resolver(fetch_config(), dns.clone()).expect("a fetcher");
    let cache = CacheConfig {
        transient_failure_ttl: Duration::from_millis(200),
        failure_ttl: Duration::from_secs(60),
        ..CacheConfig::default()
    };
    let digests = Service::from_parts(fetcher, Arc::new(Extractive::new()), cache);
    let bot = TestBot::start_with_digests(&tg, &dir.path().join("db"), digests).await;
    let (chat, ann) = (Chat::private(5), User::new(5, "Ann"));
    let (gone, flaky) = ("http://gone.invalid/story", "http://flaky.invalid/story");

    tg.send_text(&chat, &ann, gone);
    let dead = replies(&tg, chat.id, 1).await.remove(0);
    assert_eq!(
        dead.text,
        "Couldn't summarize gone.invalid/story: the site could not be found."
    );
    tg.send_text(&chat, &ann, flaky);
    let silent = replies(&tg, chat.id, 2).await.remove(1);
    assert_eq!(
        silent.text,
        "Couldn't summarize flaky.invalid/story: the site could not be reached."
    );

    // Past the transient-failure time: the silent DNS is asked again, the dead name is not.
    tokio::time::sleep(Duration::from_millis(400)).await;
    tg.send_text(&chat, &ann, gone);
    tg.send_text(&chat, &ann, flaky);
    let again = replies(&tg, chat.id, 4).await;
    assert_eq!(again[2].text, dead.text);
    assert_eq!(again[3].text, silent.text);
    assert_eq!(dns.lookups("gone.invalid"), 1, "a dead name is remembered");
    assert_eq!(dns.lookups("flaky.invalid"), 2, "a DNS failure may pass");
    bot.stop().await;
}

#[tokio::test]
async fn replies_waiting_for_a_group_that_kicked_the_bot_are_dropped_after_the_first_refusal() {
    use crate::support::fake_telegram::BOT_ID;
    let page = pages::council_article();
    let site = site(&[("/a", page.clone()), ("/b", page.clone()), ("/c", page)]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let bot = TestBot::start(&tg, &dir.path().join("db")).await;
    let group = Chat::group(-7);
    // Removed while the digests were being made; each send takes a while to be refused.
    tg.set_member_status(group.id, BOT_ID, "kicked");
    tg.slow_down("SendMessage", Duration::from_millis(300));
    let links = ["/a", "/b", "/c"].map(|path| site.url(path).to_string());
    tg.send_text(&group, &User::new(2, "Bob"), &links.join(" "));

    tg.wait_for("SendMessage", 1, PATIENCE).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sends = tg.calls("SendMessage");
    assert_eq!(sends.len(), 1, "one refusal is enough: {sends:#?}");
    bot.stop().await;
}
