//! Messages with links: find them, make the digests, reply.

use std::sync::Arc;

use futures_util::future::join_all;
use teloxide::prelude::*;
use teloxide::types::{Me, MessageEntity, MessageEntityKind};

use super::HandlerResult;
use crate::bot::limits::sender_of;
use crate::bot::outbound::Outgoing;
use crate::bot::{App, keyboards, work};
use crate::digest::Length;
use crate::links::{self, Entity, EntityKind, NormalizedUrl};
use crate::settings::Mode;
use crate::{ops, render};

/// Answers an ordinary message: a digest for each new link, as the chat's mode allows. The
/// checks that may ask the store or Redis run in the chat's lane, after the chat's earlier
/// updates.
pub async fn handle(bot: Bot, msg: Message, me: Me, app: Arc<App>) -> HandlerResult {
    if let Some(to) = msg.migrate_to_chat_id() {
        migrate(&app, msg.chat.id.0, to.0);
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
    let lane = Arc::clone(&app);
    app.lanes.push(msg.chat.id.0, "links", async move {
        if let Err(e) = decide(bot, msg, me, lane, urls).await {
            tracing::warn!(error = %e, "could not answer a message");
        }
    });
    Ok(())
}

/// Moves a group's settings to the supergroup it became, off the dispatcher: in the new
/// chat's lane, so the supergroup's first updates read the moved settings. Telegram sends
/// this once per group, so when the lanes are full it runs on its own rather than be lost.
fn migrate(app: &Arc<App>, from: i64, to: i64) {
    let job = |app: Arc<App>| async move {
        match app.store.migrate_chat(from, to).await {
            Ok(()) => tracing::info!(from, to, "group upgraded to a supergroup"),
            Err(e) => tracing::warn!(from, to, error = %e, "could not move a group's settings"),
        }
    };
    if !app.lanes.push(to, "migration", job(Arc::clone(app))) {
        tokio::spawn(job(Arc::clone(app)));
    }
}

/// The part of [`handle`] run in the chat's lane: the mode, the repeat check and the limits
/// (each may ask the store or Redis), then the links go to the work queue.
async fn decide(
    bot: Bot,
    msg: Message,
    me: Me,
    app: Arc<App>,
    urls: Vec<NormalizedUrl>,
) -> HandlerResult {
    let settings = app.store.settings(msg.chat.id.0).await?;
    match settings.mode {
        Mode::Off => return Ok(()),
        Mode::Manual if !mentions(&msg, &me) => return Ok(()),
        Mode::Auto | Mode::Manual => {}
    }
    let chat = msg.chat.id.0;
    let urls = if msg.chat.is_private() {
        urls
    } else {
        // In a group the first digest of a link is still there; don't post it again.
        let mut fresh = Vec::with_capacity(urls.len());
        for url in urls {
            if app.recent.first_time(chat, &url.key()).await {
                fresh.push(url);
            }
        }
        fresh
    };
    if urls.is_empty() {
        return Ok(());
    }
    let forget = async |app: &App, urls: &[NormalizedUrl]| {
        for url in urls {
            app.recent.forget(chat, &url.key()).await;
        }
    };
    if !within_link_limits(&app, &msg, urls.len()).await {
        forget(&app, &urls).await;
        if msg.chat.is_private() {
            let item = Outgoing::reply(&msg, SLOW_DOWN, None).coalescing("slow down");
            app.outbox.send(&bot, item);
        }
        return Ok(());
    }
    let announce_failures = msg.chat.is_private();
    let (worker, bot_, msg_, urls_) = (Arc::clone(&app), bot.clone(), msg.clone(), urls.clone());
    let queued = app.work.push("links", async move {
        answer(
            &bot_,
            &msg_,
            &worker,
            &urls_,
            settings.length,
            announce_failures,
        )
        .await;
    });
    if !queued {
        forget(&app, &urls).await;
        if announce_failures {
            let item = Outgoing::reply(&msg, BUSY, None).coalescing("busy");
            app.outbox.send(&bot, item);
        }
    }
    Ok(())
}

/// Takes `links` from the sender's and the chat's allowance; false (logged) when either is
/// spent. With Redis this asks it: call it from the chat's lane, not from a handler.
pub(super) async fn within_link_limits(app: &App, msg: &Message, links: usize) -> bool {
    let allowed = app.links.allow_message(msg, links).await;
    if !allowed {
        let sender = sender_of(msg);
        tracing::info!(chat = msg.chat.id.0, sender, links, "rate limited");
    }
    allowed
}

/// The answer to someone over their links-a-minute allowance.
pub const SLOW_DOWN: &str =
    "You're sending links faster than I can read them. Try again in a minute.";

/// The answer when the bot has more work waiting than it takes.
pub const BUSY: &str = "I'm busy reading other links. Try again in a minute.";

/// Makes a digest for each link (showing "typing…" meanwhile) and puts the replies in the
/// chat's outbox; failures get a short reason when `announce_failures`, else are only
/// logged. A link whose digest or reply failed is forgotten by the group's repeat check.
pub async fn answer(
    bot: &Bot,
    msg: &Message,
    app: &Arc<App>,
    urls: &[NormalizedUrl],
    length: Length,
    announce_failures: bool,
) {
    if urls.is_empty() {
        return;
    }
    // Cached digests answer at once; "typing…" is only for links that need fetching.
    let uncached = urls.iter().any(|url| app.digests.cached(url).is_none());
    let typing = uncached
        .then(|| app.outbox.typing(bot, msg, app.config.typing_interval))
        .flatten();
    // Anonymous admins and channel posts share one user id across all groups; their sender
    // chat keeps one group's links from queueing behind another's.
    let who = crate::digest::Requester::new(sender_of(msg), msg.chat.id.0);
    let results = join_all(urls.iter().map(|url| app.digests.get(url, who)));
    // A page to fetch, or one another job is loading: wait without holding a work slot.
    let results = if uncached {
        work::waiting(results).await
    } else {
        results.await
    };
    drop(typing);
    let chat = msg.chat.id.0;
    for (url, result) in urls.iter().zip(results) {
        let key = url.key();
        match result {
            Ok(digest) => {
                // Expand on another instance then finds the digest by the link as posted.
                app.store
                    .remember_redirected(&key, url.as_str(), &digest)
                    .await;
                let html = render::digest(&digest, &digest.view(length, false));
                let worker = Arc::clone(app);
                let item =
                    Outgoing::reply(msg, html, Some(keyboards::expand(&key))).then(move |sent| {
                        if sent {
                            metrics::counter!(ops::DIGESTS).increment(1);
                        } else {
                            // Not in the chat after all: a repost should be answered. The
                            // mark may live in Redis, so it is removed off the outbox.
                            tokio::spawn(async move { worker.recent.forget(chat, &key).await });
                        }
                    });
                app.outbox.send(bot, item);
            }
            Err(e) => {
                tracing::info!(url = %crate::fetch::guard::loggable(url.url()), chat, kind = e.kind(), reason = %e, "no digest");
                app.recent.forget(chat, &key).await;
                if announce_failures {
                    let text = format!("Couldn't summarize {}: {e}.", short_link(url));
                    app.outbox
                        .send(bot, Outgoing::reply(msg, render::notice(&text), None));
                }
            }
        }
    }
}

/// A message the bot should ignore: its own, other bots', and service messages from
/// channels; an anonymous admin (the chat itself as sender) is not ignored.
pub(super) fn from_a_bot(msg: &Message, me: &Me) -> bool {
    if msg
        .sender_chat
        .as_ref()
        .is_some_and(|c| c.id == msg.chat.id)
    {
        return false;
    }
    msg.from
        .as_ref()
        .is_some_and(|user| user.is_bot || user.id == me.id)
        || msg.via_bot.is_some()
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

/// Whether the message names the bot (`@username`, whole and in any case, or a text
/// mention of it) or replies to one of its messages.
fn mentions(msg: &Message, me: &Me) -> bool {
    let replies_to_me = msg
        .reply_to_message()
        .and_then(|m| m.from.as_ref())
        .is_some_and(|u| u.id == me.id);
    replies_to_me || text_of(msg).is_some_and(|(text, entities)| names(text, entities, me))
}

/// Whether `text` names the bot: by its entities when Telegram gave any (it marks every
/// `@username`), else by a whole-word `@username`.
fn names(text: &str, entities: &[MessageEntity], me: &Me) -> bool {
    let handle = format!("@{}", me.username());
    if !entities.is_empty() {
        return entities.iter().any(|e| match &e.kind {
            MessageEntityKind::Mention => links::utf16_slice(text, e.offset, e.length)
                .is_some_and(|named| named.eq_ignore_ascii_case(&handle)),
            MessageEntityKind::TextMention { user } => user.id == me.id,
            _ => false,
        });
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices('@').any(|(at, _)| {
        let after = &text[at..];
        let starts_word = text[..at].chars().next_back().is_none_or(|c| !word(c));
        starts_word
            && after
                .get(..handle.len())
                .is_some_and(|named| named.eq_ignore_ascii_case(&handle))
            && after[handle.len()..]
                .chars()
                .next()
                .is_none_or(|c| !word(c))
    })
}

/// The link as a person would say it: host and path, without the scheme.
pub(super) fn short_link(url: &NormalizedUrl) -> String {
    let text = url.as_str();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    crate::truncate::truncate_at_word(text.trim_end_matches('/'), 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Me {
        serde_json::from_value(serde_json::json!({
            "id": 123456, "is_bot": true, "first_name": "Digest", "username": "digest_bot",
            "can_join_groups": true, "can_read_all_group_messages": true,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        }))
        .expect("a Me")
    }

    #[test]
    fn only_the_whole_username_is_a_mention_without_entities() {
        let me = me();
        assert!(names("@digest_bot look", &[], &me));
        assert!(names("hey @Digest_Bot, look", &[], &me));
        assert!(!names("@digest_bot2 look", &[], &me));
        assert!(!names("mail@digest_bot look", &[], &me));
        assert!(!names("@digest_bo", &[], &me));
    }

    #[test]
    fn entities_decide_when_present() {
        let me = me();
        let mention = |offset, length| MessageEntity {
            kind: MessageEntityKind::Mention,
            offset,
            length,
        };
        assert!(names("🎉 @DIGEST_BOT x", &[mention(3, 11)], &me));
        assert!(!names("@digest_bot2 x", &[mention(0, 12)], &me));
    }
}
