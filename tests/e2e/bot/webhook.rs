//! Webhook mode: Telegram posts updates to the bot, which checks the secret token.

use serde_json::json;
use tempfile::TempDir;

use crate::support::bot::{PATIENCE, TestBot, replies, site};
use crate::support::fake_telegram::{Chat, FakeTelegram, User, text_message};
use crate::support::pages;

#[tokio::test]
async fn updates_posted_with_the_secret_are_answered_and_others_refused() {
    let site = site(&[("/council", pages::council_article())]).await;
    let tg = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let (bot, addr) = TestBot::start_webhook(&tg, &dir.path().join("db"), "s3cret").await;
    // setWebhook is a multipart request (it may carry a certificate): the fake records the call.
    tg.wait_for("SetWebhook", 1, PATIENCE).await;

    let mut message = text_message(
        &Chat::private(21),
        &User::new(21, "Ann"),
        site.url("/council").as_str(),
    );
    message["message_id"] = json!(1);
    message["date"] = json!(1_700_000_000);
    let update = json!({"update_id": 1, "message": message});
    let http = reqwest::Client::new();
    let post = |secret: Option<&str>| {
        let mut request = http.post(format!("http://{addr}/tg")).json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(post(Some("s3cret")).await.unwrap().status(), 200);
    let reply = &replies(&tg, 21, 1).await[0];
    assert!(reply.text.contains("City council approves"));
    assert_eq!(reply.reply_to, Some(1));

    let health = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok\n");
    let metrics = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("linkdigest_updates_total"), "{metrics}");
    assert!(metrics.contains("linkdigest_digests_total"), "{metrics}");
    bot.stop().await;
    // A rolling stop: the other instances behind the URL keep receiving updates.
    assert!(tg.calls("DeleteWebhook").is_empty());
}
