//! Button presses: Expand/Collapse under a digest, and the settings choices.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{MessageEntityKind, User};

use super::telegram::{self, with_retry};
use super::{App, HandlerResult, TgBot, keyboards};
use crate::digest::Digest;
use crate::links::NormalizedUrl;
use crate::render::{self, Callback};

/// Handles a button press; every press is answered, even when the digest is gone.
pub async fn handle(bot: TgBot, q: CallbackQuery, app: Arc<App>) -> HandlerResult {
    let action = q.data.as_deref().and_then(Callback::parse);
    let message = q.regular_message();
    match (action, message) {
        (Some(Callback::Expand(key)), Some(msg)) => {
            answer(&bot, &q, None).await;
            toggle(&bot, &app, msg, &key, true).await?;
        }
        (Some(Callback::Collapse(key)), Some(msg)) => {
            answer(&bot, &q, None).await;
            toggle(&bot, &app, msg, &key, false).await?;
        }
        (Some(Callback::SetLength(length)), Some(msg)) => {
            let done = format!("Digests in this chat are now {length}.");
            let keyboard = keyboards::lengths(length);
            let text = format!("Digest length in this chat: {length}.");
            set(
                &bot,
                &app,
                &q,
                msg,
                |s| s.length = length,
                &done,
                &text,
                keyboard,
            )
            .await?;
        }
        (Some(Callback::SetMode(mode)), Some(msg)) => {
            let done = format!("Mode is now {mode}.");
            let keyboard = keyboards::modes(mode);
            let text = format!("Mode in this chat: {mode}.");
            set(
                &bot,
                &app,
                &q,
                msg,
                |s| s.mode = mode,
                &done,
                &text,
                keyboard,
            )
            .await?;
        }
        _ => answer(&bot, &q, Some("This button no longer works.")).await,
    }
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
    match app.digests.get(&url).await {
        Ok(digest) => {
            if let Err(e) = app.store.save_digest(key, url.as_str(), &digest).await {
                tracing::warn!(error = %e, "could not persist a digest");
            }
            Some(digest.as_ref().clone())
        }
        Err(e) => {
            tracing::info!(url = %url, reason = %e, "digest could not be made again");
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

/// Changes a setting from a button if the presser may, answering the press either way.
#[allow(clippy::too_many_arguments)]
async fn set(
    bot: &TgBot,
    app: &App,
    q: &CallbackQuery,
    msg: &Message,
    update: impl FnOnce(&mut crate::settings::ChatSettings),
    done: &str,
    text: &str,
    keyboard: teloxide::types::InlineKeyboardMarkup,
) -> HandlerResult {
    let presser: &User = &q.from;
    let allowed = app
        .admins
        .may_change_settings(bot, &msg.chat, Some(presser), None)
        .await;
    if !allowed {
        answer(bot, q, Some("Only group admins can change settings.")).await;
        return Ok(());
    }
    let mut settings = app.store.settings(msg.chat.id.0).await?;
    update(&mut settings);
    app.store.save_settings(msg.chat.id.0, settings).await?;
    answer(bot, q, Some(done)).await;
    telegram::edit(bot, msg.chat.id, msg.id, &render::notice(text), keyboard).await;
    Ok(())
}
