//! Inline mode: `@bot <link>` typed in any chat, even one the bot is not in.
//!
//! A query is answered at once from what is known: the cached digest, else a placeholder
//! ("Summarize: <site>") whose buttons let the bot find the inline message again. The fetch
//! starts only when the person sends the placeholder (`chosen_inline_result`) or taps its
//! button; the bot then edits the inline message into the digest or the reason it failed.
//! Telegram sends a query per keystroke: queries never fetch, and a user's newer answer
//! replaces an older one still waiting in their outbox.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{
    ChosenInlineResult, InlineQuery, InlineQueryResult, InlineQueryResultArticle,
    InlineQueryResultsButton, InlineQueryResultsButtonKind, InputMessageContent,
    InputMessageContentText, ParseMode, User,
};

use super::callbacks::TOO_MANY_TAPS;
use super::messages::{BUSY, SLOW_DOWN, short_link};
use super::{HandlerResult, NOT_AVAILABLE};
use crate::bot::outbound::{InlineAnswer, Outgoing, no_preview};
use crate::bot::{App, keyboards, work};
use crate::callback_data::Callback;
use crate::digest::{Digest, Length, Requester};
use crate::fetch::guard::loggable;
use crate::links::{self, NormalizedUrl};
use crate::ops;
use crate::render;

/// The label of the button above an empty answer, shown while the query holds no link.
pub const TYPE_A_LINK: &str = "Type or paste a link to summarize";

/// The deep-link parameter of that button: it opens the bot's private chat with `/start`.
const START_PARAMETER: &str = "inline";

/// How long Telegram may reuse an answer holding a digest (it does not change).
const DIGEST_CACHE_SECS: u32 = 300;

/// How long Telegram may reuse the empty answer to a query without a link.
const EMPTY_CACHE_SECS: u32 = 60;

/// Digests sent inline have this length: there is no chat to read a setting from.
const INLINE_LENGTH: Length = Length::Medium;

/// Answers an inline query at once: the cached digest, a placeholder, or "type a link".
pub async fn query(bot: Bot, q: InlineQuery, app: Arc<App>) -> HandlerResult {
    let user = user_id(&q.from);
    let Some(url) = links::find(&q.query, &[]).into_iter().next() else {
        let answer = InlineAnswer {
            query: q.id,
            results: Vec::new(),
            button: Some(InlineQueryResultsButton {
                text: TYPE_A_LINK.to_owned(),
                kind: InlineQueryResultsButtonKind::StartParameter(START_PARAMETER.to_owned()),
            }),
            cache_time: EMPTY_CACHE_SECS,
            personal: false,
        };
        app.outbox.send(&bot, Outgoing::answer_inline(user, answer));
        return Ok(());
    };
    let key = url.key();
    // The same digest for everyone; a placeholder is never cached, as the digest may be
    // ready by the next keystroke.
    let (result, cache_time, personal) = match app.digests.cached(&url) {
        Some(digest) => (digest_result(&digest, &key), DIGEST_CACHE_SECS, false),
        None => (placeholder_result(&url, &key), 0, true),
    };
    let answer = InlineAnswer {
        query: q.id,
        results: vec![result],
        button: None,
        cache_time,
        personal,
    };
    let (outbox, store) = (app.outbox.clone(), app.store.clone());
    let item = Outgoing::answer_inline(user, answer).then(move |sent| {
        if !sent {
            return;
        }
        // The buttons of the message the person may send carry only the link's key.
        outbox.in_background("remember an inline link", async move {
            if let Err(e) = store.save_inline_link(&key, url.as_str()).await {
                tracing::warn!(error = %e, "could not remember an inline link");
            }
        });
    });
    app.outbox.send(&bot, item);
    Ok(())
}

/// Starts the digest of a placeholder the person just sent (Telegram's inline feedback).
pub async fn chosen(bot: Bot, chosen: ChosenInlineResult, app: Arc<App>) -> HandlerResult {
    let Some(inline_id) = chosen.inline_message_id else {
        // Only a message with buttons has an id; every result the bot gives has buttons.
        return Ok(());
    };
    let Some(key) = chosen.result_id.strip_prefix("p:") else {
        // A cached digest was sent as it is.
        return Ok(());
    };
    let url = links::find(&chosen.query, &[])
        .into_iter()
        .next()
        .filter(|url| url.key() == key);
    let Some(url) = url else {
        tracing::info!(
            result = chosen.result_id,
            "chosen inline result without its link"
        );
        return Ok(());
    };
    start(&bot, &app, user_id(&chosen.from), inline_id, url);
    Ok(())
}

/// Handles a button under an inline message: Summarize, Expand or Collapse; every press is
/// answered (once counted against the person's command allowance, in their lane), the work
/// goes to the work queue.
pub fn button(bot: Bot, q: CallbackQuery, inline_id: String, app: Arc<App>) {
    let action = q.data.as_deref().and_then(Callback::parse);
    let user = user_id(&q.from);
    let answer = |app: &App, q: &CallbackQuery, text: Option<&str>| {
        app.outbox.answer_callback(&bot, q, text.map(str::to_owned));
    };
    if !app.config.inline {
        answer(&app, &q, Some(NOT_AVAILABLE));
        return;
    }
    let tap = match action {
        Some(Callback::Expand(key)) => Tap::Toggle(key, true),
        Some(Callback::Collapse(key)) => Tap::Toggle(key, false),
        Some(Callback::Summarize(key)) => Tap::Summarize(key),
        Some(Callback::SetLength(_) | Callback::SetMode(_)) | None => {
            let gone = "This button no longer works.";
            answer(&app, &q, Some(gone));
            return;
        }
    };
    // Taps share the person's command allowance (an inline message has no chat), checked in
    // their lane as commands are: Summarize too, or one person tapping it could fill the
    // work queue and spend an edit from the bot's overall sends on every refusal.
    let (lane, bot_, q_) = (Arc::clone(&app), bot.clone(), q.clone());
    let queued = app.lanes.push(user, "inline button", async move {
        if !lane.commands.allow_sender(user, 1).await {
            let text = Some(TOO_MANY_TAPS.to_owned());
            lane.outbox.answer_callback(&bot_, &q, text);
            return;
        }
        lane.outbox.answer_callback(&bot_, &q, None);
        let worker = Arc::clone(&lane);
        match tap {
            Tap::Toggle(key, expanded) => {
                lane.work.push("inline expand or collapse", async move {
                    toggle(&bot_, &worker, user, inline_id, &key, expanded).await;
                });
            }
            Tap::Summarize(key) => {
                lane.work.push("inline summarize button", async move {
                    match link_of(&worker, &key).await {
                        Some(url) => start(&bot_, &worker, user, inline_id, url),
                        None => tracing::info!(key, "inline link unknown"),
                    }
                });
            }
        }
    });
    if !queued {
        answer(&app, &q_, Some(BUSY));
    }
}

/// What a tap on an inline message's button asks for.
enum Tap {
    /// Expand (true) or collapse the digest with this link key.
    Toggle(String, bool),
    /// Make the digest of the placeholder with this link key.
    Summarize(String),
}

/// Edits an inline digest into its expanded or collapsed form.
async fn toggle(bot: &Bot, app: &App, user: i64, inline_id: String, key: &str, expanded: bool) {
    let Some(digest) = find_digest(app, key, user).await else {
        tracing::info!(key, "inline digest gone and its link unknown");
        return;
    };
    let html = render::digest(&digest, &digest.view(INLINE_LENGTH, expanded));
    let keyboard = if expanded {
        keyboards::collapse(key)
    } else {
        keyboards::expand(key)
    };
    let edit = Outgoing::edit_inline(user, inline_id, html, Some(keyboard));
    app.outbox.send(bot, edit);
}

/// Queues the fetch; in the queue it is counted against the person's allowance (with Redis
/// that is a network call, so never in the handler). The inline message shows why when it
/// cannot start.
fn start(bot: &Bot, app: &Arc<App>, user: i64, inline_id: String, url: NormalizedUrl) {
    let (worker, bot_, id, url_) = (Arc::clone(app), bot.clone(), inline_id.clone(), url.clone());
    let queued = app.work.push("inline link", async move {
        if !worker.links.allow_sender(user, 1).await {
            // Inline messages have no chat, so only the person's count applies.
            tracing::info!(sender = user, "inline link rate limited");
            refuse(&bot_, &worker, user, id, &url_, SLOW_DOWN);
            return;
        }
        make(&bot_, &worker, user, id, &url_).await;
    });
    if !queued {
        refuse(bot, app, user, inline_id, &url, BUSY);
    }
}

/// Edits the placeholder to say why its digest did not start, keeping its Summarize button.
fn refuse(bot: &Bot, app: &App, user: i64, inline_id: String, url: &NormalizedUrl, why: &str) {
    let retry = keyboards::summarize(&url.key());
    let edit = Outgoing::edit_inline(user, inline_id, placeholder_html(url, why), Some(retry));
    app.outbox.send(bot, edit);
}

/// Makes the digest and edits the inline message into it, or into the reason it failed.
async fn make(bot: &Bot, app: &App, user: i64, inline_id: String, url: &NormalizedUrl) {
    let key = url.key();
    let made = work::waiting(app.digests.get(url, Requester::new(user, user))).await;
    let edit = match made {
        Ok(digest) => {
            let html = render::digest(&digest, &digest.view(INLINE_LENGTH, false));
            Outgoing::edit_inline(user, inline_id, html, Some(keyboards::expand(&key))).then(
                |sent| {
                    if sent {
                        metrics::counter!(ops::DIGESTS).increment(1);
                    }
                },
            )
        }
        Err(e) => {
            tracing::info!(url = %loggable(url.url()), user, kind = e.kind(), reason = %e, "no inline digest");
            let text = format!("Couldn't summarize {}: {e}.", short_link(url));
            Outgoing::edit_inline(user, inline_id, render::notice(&text), None)
        }
    };
    app.outbox.send(bot, edit);
}

/// The digest behind an inline message's button: stored, else made again from its link.
async fn find_digest(app: &App, key: &str, user: i64) -> Option<Digest> {
    match app.store.digest(key).await {
        Ok(Some((_, digest))) => return Some(digest),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not read a stored digest"),
    }
    let url = link_of(app, key).await?;
    match work::waiting(app.digests.get(&url, Requester::new(user, user))).await {
        Ok(digest) => Some(digest.as_ref().clone()),
        Err(e) => {
            tracing::info!(url = %loggable(url.url()), reason = %e, "inline digest could not be made again");
            None
        }
    }
}

/// The link an inline message's buttons stand for, as remembered when it was offered.
async fn link_of(app: &App, key: &str) -> Option<NormalizedUrl> {
    match app.store.inline_link(key).await {
        Ok(url) => url.and_then(|url| NormalizedUrl::parse(&url).ok()),
        Err(e) => {
            tracing::warn!(error = %e, "could not read an inline link");
            None
        }
    }
}

/// The result holding a cached digest, at the inline length, with its Expand button.
fn digest_result(digest: &Digest, key: &str) -> InlineQueryResult {
    let html = render::digest(digest, &digest.view(INLINE_LENGTH, false));
    let title = if digest.title.trim().is_empty() {
        &digest.site
    } else {
        &digest.title
    };
    let article = InlineQueryResultArticle::new(format!("d:{key}"), title, html_content(html))
        .description(format!("Digest · {}", digest.site))
        .reply_markup(keyboards::expand(key));
    InlineQueryResult::Article(article)
}

/// The result "Summarize: <site>": a short message with the link and a Summarize button.
fn placeholder_result(url: &NormalizedUrl, key: &str) -> InlineQueryResult {
    let site = url
        .url()
        .host_str()
        .map(|host| host.trim_start_matches("www.").to_owned())
        .unwrap_or_else(|| short_link(url));
    let html = placeholder_html(url, "Summary on its way…");
    let article = InlineQueryResultArticle::new(
        format!("p:{key}"),
        format!("Summarize: {site}"),
        html_content(html),
    )
    .description(short_link(url))
    .reply_markup(keyboards::summarize(key));
    InlineQueryResult::Article(article)
}

/// The placeholder's text: the link, then `status`.
fn placeholder_html(url: &NormalizedUrl, status: &str) -> String {
    format!(
        "🔗 <a href=\"{}\">{}</a>\n{}",
        render::escape(url.as_str()),
        render::escape(&short_link(url)),
        render::escape(status)
    )
}

fn html_content(html: String) -> InputMessageContent {
    InputMessageContent::Text(
        InputMessageContentText::new(html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview()),
    )
}

fn user_id(user: &User) -> i64 {
    i64::try_from(user.id.0).unwrap_or(i64::MAX)
}
