//! Changing a chat's settings from a command or a button: the admin check (from the cache,
//! or asked in a task of its own), then the store, then the answer. Every path answers.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{Chat, User};

use crate::bot::App;
use crate::settings::Setting;

/// The answer to someone who may not change settings.
pub const ONLY_ADMINS: &str = "Only group admins can change settings.";
/// The answer when the store failed to save a change.
pub const NOT_SAVED: &str = "Could not save the setting, try again.";
/// The answer when the store failed to read the settings.
pub const NOT_READ: &str = "Could not read this chat's settings, try again.";

/// How a change ended.
pub enum Changed {
    /// Saved.
    Saved,
    /// The sender may not change settings here; nothing changed.
    NotAllowed,
    /// The store failed; logged.
    NotSaved,
}

/// Who asks for a change: the chat, and the user or the chat they speak as.
pub struct Asker<'a> {
    /// The chat whose settings change.
    pub chat: &'a Chat,
    /// The person asking, if known.
    pub user: Option<&'a User>,
    /// The chat they write as (an anonymous admin writes as the group itself).
    pub sender_chat: Option<&'a Chat>,
}

/// Makes `change` to the chat's settings if the asker may (one atomic store operation, so
/// a concurrent change of another setting survives), then calls `answer` with the outcome.
/// When Telegram must be asked whether they are an admin, the look-up and the rest run in a
/// background task, so the handler returns at once.
pub async fn change(
    app: &Arc<App>,
    bot: &Bot,
    asker: Asker<'_>,
    change: Setting,
    answer: impl FnOnce(&App, Changed) + Send + 'static,
) {
    let chat = asker.chat.id;
    if let Some(allowed) = app
        .admins
        .decided(asker.chat, asker.user, asker.sender_chat)
    {
        let outcome = apply(app, chat, allowed, change).await;
        answer(app, outcome);
        return;
    }
    let Some(user) = asker.user.map(|u| u.id) else {
        answer(app, Changed::NotAllowed);
        return;
    };
    // A look-up that cannot start is still answered: "could not save, try again".
    let Some(slot) = app.outbox.background_slot("admin check") else {
        answer(app, Changed::NotSaved);
        return;
    };
    let (worker, bot) = (Arc::clone(app), bot.clone());
    slot.spawn(async move {
        let allowed = worker.admins.look_up(&bot, chat, user).await;
        let outcome = apply(&worker, chat, allowed, change).await;
        answer(&worker, outcome);
    });
}

async fn apply(app: &App, chat: ChatId, allowed: bool, change: Setting) -> Changed {
    if !allowed {
        return Changed::NotAllowed;
    }
    match app.store.change_setting(chat.0, change).await {
        Ok(_) => Changed::Saved,
        Err(e) => {
            tracing::warn!(chat = chat.0, error = %e, "could not save a setting");
            Changed::NotSaved
        }
    }
}
