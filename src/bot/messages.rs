//! Messages with links: find them, make the digests, reply.

use std::sync::Arc;

use futures_util::future::join_all;
use teloxide::prelude::*;
use teloxide::types::{Me, MessageEntity, MessageEntityKind};

use super::telegram::Typing;
use super::{App, HandlerResult, TgBot, from_a_bot, keyboards};
use crate::digest::Length;
use crate::links::{self, Entity, EntityKind, NormalizedUrl};
use crate::settings::Mode;
use crate::{ops, render};

/// Answers an ordinary message: a digest for each new link, as the chat's mode allows.
pub async fn handle(bot: TgBot, msg: Message, me: Me, app: Arc<App>) -> HandlerResult {
    if let Some(to) = msg.migrate_to_chat_id() {
        app.store.migrate_chat(msg.chat.id.0, to.0).await?;
        tracing::info!(
            from = msg.chat.id.0,
            to = to.0,
            "group upgraded to a supergroup"
        );
        return Ok(());
    }
    if from_a_bot(&msg, &me) || text_of(&msg).is_some_and(|(text, _)| text.starts_with('/')) {
        // Other bots' messages, and commands meant for another bot.
        return Ok(());
    }
    let urls = links_in(&msg, app.config.max_links_per_message);
    if urls.is_empty() {
        return Ok(());
    }
    let settings = app.store.settings(msg.chat.id.0).await?;
    match settings.mode {
        Mode::Off => return Ok(()),
        Mode::Manual if !mentions(&msg, &me) => return Ok(()),
        Mode::Auto | Mode::Manual => {}
    }
    let urls = if msg.chat.is_private() {
        urls
    } else {
        // In a group the first digest of a link is still there; don't post it again.
        let mut fresh = Vec::with_capacity(urls.len());
        for url in urls {
            if app.recent.first_time(msg.chat.id.0, &url.key()).await {
                fresh.push(url);
            }
        }
        fresh
    };
    if urls.is_empty() {
        return Ok(());
    }
    if !app.within_limits(&msg, urls.len()).await {
        for url in &urls {
            app.recent.forget(msg.chat.id.0, &url.key()).await;
        }
        if msg.chat.is_private() {
            app.reply(&bot, &msg, SLOW_DOWN, None).await;
        }
        return Ok(());
    }
    let announce_failures = msg.chat.is_private();
    let worker = Arc::clone(&app);
    app.spawn(async move {
        answer(
            &bot,
            &msg,
            &worker,
            &urls,
            settings.length,
            announce_failures,
        )
        .await;
    })
    .await;
    Ok(())
}

/// The answer to someone over their links-a-minute allowance.
pub const SLOW_DOWN: &str =
    "You're sending links faster than I can read them. Try again in a minute.";

/// Replies to `msg` with a digest for each link, showing "typing…" meanwhile; failures get
/// a short reason when `announce_failures`, else they are only logged.
pub async fn answer(
    bot: &TgBot,
    msg: &Message,
    app: &App,
    urls: &[NormalizedUrl],
    length: Length,
    announce_failures: bool,
) {
    if urls.is_empty() {
        return;
    }
    // Cached digests answer at once; "typing…" is only for links that need fetching.
    let typing = urls
        .iter()
        .any(|url| app.digests.cached(url).is_none())
        .then(|| Typing::start(bot, msg, app.config.typing_interval));
    let results = join_all(urls.iter().map(|url| app.digests.get(url))).await;
    drop(typing);
    for (url, result) in urls.iter().zip(results) {
        match result {
            Ok(digest) => {
                let key = url.key();
                if let Err(e) = app.store.save_digest(&key, url.as_str(), &digest).await {
                    tracing::warn!(error = %e, "could not persist a digest");
                }
                let html = render::digest(&digest, &digest.view(length, false));
                if app
                    .reply(bot, msg, &html, Some(keyboards::expand(&key)))
                    .await
                    .is_some()
                {
                    metrics::counter!(ops::DIGESTS).increment(1);
                } else {
                    // The digest never reached the group: a repost may try again.
                    app.recent.forget(msg.chat.id.0, &key).await;
                }
            }
            Err(e) => {
                tracing::info!(url = %url, chat = msg.chat.id.0, kind = e.kind(), reason = %e, "no digest");
                app.recent.forget(msg.chat.id.0, &url.key()).await;
                if announce_failures {
                    let text = format!("Couldn't summarize {}: {e}.", short_link(url));
                    app.reply(bot, msg, &render::notice(&text), None).await;
                }
            }
        }
    }
}

/// The article links of a message's text or caption, at most `max`.
pub fn links_in(msg: &Message, max: usize) -> Vec<NormalizedUrl> {
    let Some((text, entities)) = text_of(msg) else {
        return Vec::new();
    };
    let entities: Vec<Entity> = entities.iter().map(entity).collect();
    let mut urls = links::find(text, &entities);
    urls.truncate(max);
    urls
}

fn text_of(msg: &Message) -> Option<(&str, &[MessageEntity])> {
    if let Some(text) = msg.text() {
        return Some((text, msg.entities().unwrap_or_default()));
    }
    msg.caption()
        .map(|caption| (caption, msg.caption_entities().unwrap_or_default()))
}

fn entity(e: &MessageEntity) -> Entity {
    let kind = match &e.kind {
        MessageEntityKind::Url => EntityKind::Url,
        MessageEntityKind::TextLink { url } => EntityKind::TextLink(url.to_string()),
        _ => EntityKind::Other,
    };
    Entity {
        kind,
        offset: e.offset,
        length: e.length,
    }
}

/// Whether the message names the bot (`@username`) or replies to one of its messages.
fn mentions(msg: &Message, me: &Me) -> bool {
    let replies_to_me = msg
        .reply_to_message()
        .and_then(|m| m.from.as_ref())
        .is_some_and(|u| u.id == me.id);
    let handle = format!("@{}", me.username()).to_lowercase();
    replies_to_me || text_of(msg).is_some_and(|(text, _)| text.to_lowercase().contains(&handle))
}

/// The link as a person would say it: host and path, without the scheme.
fn short_link(url: &NormalizedUrl) -> String {
    let text = url.as_str();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    crate::digest::truncate_at_word(text.trim_end_matches('/'), 60)
}
