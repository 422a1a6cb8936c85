//! Button presses: Expand/Collapse under a digest, and the settings choices. Every press is
//! answered (a refused chat, a gone digest and a failed store included), off the dispatcher.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, MessageEntityKind};

use super::messages::BUSY;
use super::settings::{self, Asker, Changed, NOT_SAVED, ONLY_ADMINS};
use super::{HandlerResult, NOT_AVAILABLE, inline};
use crate::bot::outbound::Outgoing;
use crate::bot::{App, keyboards};
use crate::callback_data::Callback;
use crate::digest::Digest;
use crate::links::NormalizedUrl;
use crate::render;
use crate::settings::Setting;

/// The answer to an Expand or Collapse press over the presser's or the chat's allowance.
pub const TOO_MANY_TAPS: &str = "Too many taps, try again in a minute.";

/// Handles a button press; every press is answered, even when the digest is gone.
pub async fn handle(bot: Bot, q: CallbackQuery, app: Arc<App>) -> HandlerResult {
    if let Some(inline_id) = q.inline_message_id.clone() {
        inline::button(bot, q, inline_id, app);
        return Ok(());
    }
    let chat_allowed = q
        .regular_message()
        .is_none_or(|msg| app.chat_allowed(msg.chat.id));
    if !chat_allowed {
        app.outbox
            .answer_callback(&bot, &q, Some(NOT_AVAILABLE.to_owned()));
        return Ok(());
    }
    let action = q.data.as_deref().and_then(Callback::parse);
    let Some((action, msg)) = action.zip(q.regular_message().cloned()) else {
        let gone = "This button no longer works.".to_owned();
        app.outbox.answer_callback(&bot, &q, Some(gone));
        return Ok(());
    };
    let press = match action {
        Callback::Expand(key) => Press::Toggle(key, true),
        Callback::Collapse(key) => Press::Toggle(key, false),
        Callback::Summarize(_) => {
            // Only inline placeholders carry it.
            let gone = "This button no longer works.".to_owned();
            app.outbox.answer_callback(&bot, &q, Some(gone));
            return Ok(());
        }
        Callback::SetLength(length) => Press::Set(
            Setting::Length(length),
            Choice {
                done: format!("Digests in this chat are now {length}."),
                text: format!("Digest length in this chat: {length}."),
                keyboard: keyboards::lengths(length),
            },
        ),
        Callback::SetMode(mode) => Press::Set(
            Setting::Mode(mode),
            Choice {
                done: format!("Mode is now {mode}."),
                text: format!("Mode in this chat: {mode}."),
                keyboard: keyboards::modes(mode),
            },
        ),
    };
    // Every tap waits in the chat's lane: the allowance and the store may ask Redis, and a
    // settings tap writes to the store, which the dispatcher must never wait for.
    let (lane, bot_, chat, q_) = (Arc::clone(&app), bot.clone(), msg.chat.id.0, q.clone());
    let queued = app.lanes.push(chat, "button press", async move {
        // Taps share the commands' allowances (with Redis a network call: in the lane).
        if !within_tap_limits(&lane, &q, chat).await {
            let text = Some(TOO_MANY_TAPS.to_owned());
            lane.outbox.answer_callback(&bot_, &q, text);
            return;
        }
        let (key, expanded) = match press {
            Press::Toggle(key, expanded) => (key, expanded),
            Press::Set(change, view) => {
                set(&bot_, &lane, q, &msg, change, view).await;
                return;
            }
        };
        // Answered before the work: a digest made again can take seconds.
        lane.outbox.answer_callback(&bot_, &q, None);
        let worker = Arc::clone(&lane);
        lane.work.push("expand or collapse", async move {
            toggle(&bot_, &worker, &msg, &key, expanded).await;
        });
    });
    if !queued {
        app.outbox.answer_callback(&bot, &q_, Some(BUSY.to_owned()));
    }
    Ok(())
}

/// What a press on a button under a chat message asks for.
enum Press {
    /// Expand (true) or collapse the digest with this link key.
    Toggle(String, bool),
    /// Change a setting, then show the settings message this way.
    Set(Setting, Choice),
}

/// Takes one tap from the presser's and the chat's command allowance; false (logged once a
/// second) when either is spent.
async fn within_tap_limits(app: &App, q: &CallbackQuery, chat: i64) -> bool {
    let presser = i64::try_from(q.from.id.0).unwrap_or(i64::MAX);
    let allowed = app.commands.allow(presser, chat, 1).await;
    static DROPS: crate::bot::outbound::DropLog = crate::bot::outbound::DropLog::new();
    if !allowed && let Some(unlogged) = DROPS.due() {
        tracing::info!(
            chat,
            presser,
            unlogged,
            "tap refused: over the command limit"
        );
    }
    allowed
}

/// Puts the edit of a digest message into its expanded or collapsed form, at the chat's
/// length, in the chat's outbox.
async fn toggle(bot: &Bot, app: &App, msg: &Message, key: &str, expanded: bool) {
    let Some(digest) = find_digest(app, msg, key).await else {
        tracing::info!(
            chat = msg.chat.id.0,
            key,
            "digest gone and its link unknown"
        );
        return;
    };
    let length = match app.store.settings(msg.chat.id.0).await {
        Ok(settings) => settings.length,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the settings; using the default length");
            Default::default()
        }
    };
    let html = render::digest(&digest, &digest.view(length, expanded));
    let keyboard = if expanded {
        keyboards::collapse(key)
    } else {
        keyboards::expand(key)
    };
    app.outbox
        .send(bot, Outgoing::edit(msg.chat.id, msg.id, html, keyboard));
}

/// The digest behind a button: from the store, else made again from its link (as posted
/// when known, else the message's).
async fn find_digest(app: &App, msg: &Message, key: &str) -> Option<Digest> {
    match app.store.digest(key).await {
        Ok(Some((_, digest))) => return Some(digest),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not read a stored digest"),
    }
    // The link as posted (shared through Redis) finds the shared digest; the message's own
    // link is where it redirected to.
    let url = match app.store.inline_link(key).await {
        Ok(Some(url)) => NormalizedUrl::parse(&url).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "could not read a link");
            None
        }
    };
    let url = url.or_else(|| source_link(msg))?;
    // The message is the bot's own, so its chat stands for the requester.
    let who = crate::digest::Requester::new(msg.chat.id.0, msg.chat.id.0);
    match crate::bot::work::waiting(app.digests.get(&url, who)).await {
        Ok(digest) => Some(digest.as_ref().clone()),
        Err(e) => {
            tracing::info!(url = %crate::fetch::guard::loggable(url.url()), reason = %e, "digest could not be made again");
            None
        }
    }
}

/// The source link of a digest message: the site name under the title links to it.
fn source_link(msg: &Message) -> Option<NormalizedUrl> {
    msg.entities()?.iter().find_map(|e| match &e.kind {
        MessageEntityKind::TextLink { url } => NormalizedUrl::parse(url.as_str()).ok(),
        _ => None,
    })
}

/// What a settings message shows once a choice is made.
struct Choice {
    /// The short confirmation in the button's pop-up.
    done: String,
    /// The settings message's new text.
    text: String,
    /// Its buttons, the new choice ticked.
    keyboard: InlineKeyboardMarkup,
}

/// Changes a setting from a button if the presser may, answering the press either way.
async fn set(
    bot: &Bot,
    app: &Arc<App>,
    q: CallbackQuery,
    msg: &Message,
    change: Setting,
    view: Choice,
) {
    let from = q.from.clone();
    let asker = Asker {
        chat: &msg.chat,
        user: Some(&from),
        sender_chat: None,
    };
    let (bot_, chat, message) = (bot.clone(), msg.chat.id, msg.id);
    let answer = move |app: &App, outcome: Changed| {
        let text = match outcome {
            Changed::Saved => view.done,
            Changed::NotAllowed => ONLY_ADMINS.to_owned(),
            Changed::NotSaved => NOT_SAVED.to_owned(),
        };
        app.outbox.answer_callback(&bot_, &q, Some(text));
        if matches!(outcome, Changed::Saved) {
            let edit = Outgoing::edit(chat, message, render::notice(&view.text), view.keyboard);
            app.outbox.send(&bot_, edit);
        }
    };
    settings::change(app, bot, asker, change, answer).await;
}
