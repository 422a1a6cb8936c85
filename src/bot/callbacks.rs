//! Button presses: Expand/Collapse under a digest, and the settings choices.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, MessageEntityKind};

use super::commands::{ONLY_ADMINS, change_settings};
use super::telegram::{self, with_retry};
use super::{App, HandlerResult, TgBot, keyboards};
use crate::digest::Digest;
use crate::links::NormalizedUrl;
use crate::render::{self, Callback};
use crate::settings::ChatSettings;

/// Handles a button press; every press is answered, even when the digest is gone.
pub async fn handle(bot: TgBot, q: CallbackQuery, app: Arc<App>) -> HandlerResult {
    let action = q.data.as_deref().and_then(Callback::parse);
    let Some((action, msg)) = action.zip(q.regular_message().cloned()) else {
        answer(&bot, &q, Some("This button no longer works.")).await;
        return Ok(());
    };
    let (key, expanded) = match action {
        Callback::Expand(key) => (key, true),
        Callback::Collapse(key) => (key, false),
        Callback::SetLength(length) => {
            let view = Choice {
                done: format!("Digests in this chat are now {length}."),
                text: format!("Digest length in this chat: {length}."),
                keyboard: keyboards::lengths(length),
            };
            return set(&bot, &app, &q, &msg, |s| s.length = length, view).await;
        }
        Callback::SetMode(mode) => {
            let view = Choice {
                done: format!("Mode is now {mode}."),
                text: format!("Mode in this chat: {mode}."),
                keyboard: keyboards::modes(mode),
            };
            return set(&bot, &app, &q, &msg, |s| s.mode = mode, view).await;
        }
    };
    // Answered before the work: a digest made again can take seconds.
    answer(&bot, &q, None).await;
    let worker = Arc::clone(&app);
    app.spawn(async move {
        if let Err(e) = toggle(&bot, &worker, &msg, &key, expanded).await {
            tracing::warn!(error = %e, "could not expand or collapse a digest");
        }
    })
    .await;
    Ok(())
}

async fn answer(bot: &TgBot, q: &CallbackQuery, text: Option<&str>) {
    let result = with_retry(|| {
        let mut request = bot.answer_callback_query(q.id.clone());
        if let Some(text) = text {
            request = request.text(text);
        }
        request.into_future()
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not answer a button press");
    }
}

/// Edits a digest message into its expanded or collapsed form, at the chat's length.
async fn toggle(bot: &TgBot, app: &App, msg: &Message, key: &str, expanded: bool) -> HandlerResult {
    let Some(digest) = find_digest(app, msg, key).await else {
        tracing::info!(
            chat = msg.chat.id.0,
            key,
            "digest gone and its link unknown"
        );
        return Ok(());
    };
    let length = app.store.settings(msg.chat.id.0).await?.length;
    let html = render::digest(&digest, &digest.view(length, expanded));
    let keyboard = if expanded {
        keyboards::collapse(key)
    } else {
        keyboards::expand(key)
    };
    telegram::edit(bot, msg.chat.id, msg.id, &html, keyboard).await;
    Ok(())
}

/// The digest behind a button: from the store, else made again from the message's link.
async fn find_digest(app: &App, msg: &Message, key: &str) -> Option<Digest> {
    match app.store.digest(key).await {
        Ok(Some((_, digest))) => return Some(digest),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not read a stored digest"),
    }
    let url = source_link(msg)?;
    // The message is the bot's own, so its chat stands for the requester.
    let who = crate::digest::Requester::new(msg.chat.id.0, msg.chat.id.0);
    match app.digests.get(&url, who).await {
        Ok(digest) => {
            if let Err(e) = app.store.save_digest(key, url.as_str(), &digest).await {
                tracing::warn!(error = %e, "could not persist a digest");
            }
            Some(digest.as_ref().clone())
        }
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
    bot: &TgBot,
    app: &App,
    q: &CallbackQuery,
    msg: &Message,
    update: impl FnOnce(&mut ChatSettings),
    view: Choice,
) -> HandlerResult {
    // The answer says whether it worked, so it waits for the admin check (one cached call).
    if !change_settings(bot, app, &msg.chat, Some(&q.from), None, update).await? {
        answer(bot, q, Some(ONLY_ADMINS)).await;
        return Ok(());
    }
    answer(bot, q, Some(&view.done)).await;
    telegram::edit(
        bot,
        msg.chat.id,
        msg.id,
        &render::notice(&view.text),
        view.keyboard,
    )
    .await;
    Ok(())
}
