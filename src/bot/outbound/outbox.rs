//! A bounded outbox per chat, drained by its own task: handlers drop a reply in and move on.
//! A reply of the same kind as one still waiting replaces it (a burst of `/settings` gets the
//! latest answer); a full outbox drops the new reply. Every drop is logged. Inline answers and
//! edits of inline messages belong to no chat: they wait in their user's outbox and take only
//! the bot's overall slot.

use std::collections::VecDeque;
use std::sync::Arc;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use teloxide::prelude::*;
use teloxide::types::{CallbackQueryId, InlineKeyboardMarkup, MessageId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use super::pacing::Pacer;
use super::request::{InlineAnswer, What};
use super::telegram::{self, Sent};
use crate::config::BotConfig;
use crate::perkey::PerKey;

/// What to do once a reply was sent (true) or given up (false).
type Done = Box<dyn FnOnce(bool) + Send + Sync>;

/// Whose outbox an item waits in: a chat's, or (for inline mode) a user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lane {
    Chat(ChatId),
    Inline(i64),
}

/// One reply or edit waiting in a chat's outbox.
pub struct Outgoing {
    lane: Lane,
    what: What,
    coalesce: Option<String>,
    done: Option<Done>,
}

impl Outgoing {
    /// A reply to `msg` with HTML text, in its forum topic, without a link preview.
    pub fn reply(
        msg: &Message,
        html: impl Into<String>,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Self {
        let thread = msg.thread_id.filter(|_| msg.is_topic_message);
        Outgoing {
            lane: Lane::Chat(msg.chat.id),
            what: What::Reply {
                to: msg.id,
                thread,
                html: html.into(),
                keyboard,
            },
            coalesce: None,
            done: None,
        }
    }

    /// New text and buttons for message `message` in `chat`; a newer edit of the same
    /// message still waiting replaces an older one.
    pub fn edit(
        chat: ChatId,
        message: MessageId,
        html: impl Into<String>,
        keyboard: InlineKeyboardMarkup,
    ) -> Self {
        Outgoing {
            lane: Lane::Chat(chat),
            what: What::Edit {
                message,
                html: html.into(),
                keyboard,
            },
            coalesce: Some(format!("edit {}", message.0)),
            done: None,
        }
    }

    /// New text and buttons for the inline message `id` that `user` sent; a newer edit of
    /// it still waiting replaces an older one.
    pub fn edit_inline(
        user: i64,
        id: String,
        html: impl Into<String>,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Self {
        Outgoing {
            lane: Lane::Inline(user),
            coalesce: Some(format!("edit inline {id}")),
            what: What::EditInline {
                id,
                html: html.into(),
                keyboard,
            },
            done: None,
        }
    }

    /// The answer to `user`'s inline query; it replaces the answer to an older query of
    /// theirs still waiting (Telegram sends one per keystroke, only the latest matters).
    pub fn answer_inline(user: i64, answer: InlineAnswer) -> Self {
        Outgoing {
            lane: Lane::Inline(user),
            what: What::AnswerInline(answer),
            coalesce: Some("inline answer".to_owned()),
            done: None,
        }
    }

    /// Lets a later reply of the same `kind` to the same chat replace this one while it waits.
    pub fn coalescing(mut self, kind: &str) -> Self {
        self.coalesce = Some(kind.to_owned());
        self
    }

    /// Calls `done` with true once sent, or false when it was dropped or failed for good.
    pub fn then(mut self, done: impl FnOnce(bool) + Send + Sync + 'static) -> Self {
        self.done = Some(Box::new(done));
        self
    }

    fn finish(self, sent: bool) {
        if let Some(done) = self.done {
            done(sent);
        }
    }
}

/// Every chat's outbox, and the pacer their drains share.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    pacer: Pacer,
    per_chat: usize,
    /// Waiting items per chat; a chat has an entry exactly while its drain task runs.
    chats: DashMap<Lane, VecDeque<Outgoing>>,
    /// Groups that became supergroups: old id → new id.
    moved: DashMap<i64, ChatId>,
    /// Admin look-ups and other short calls in flight.
    calls: Arc<Semaphore>,
    /// Button answers in flight: a pool of their own, so look-ups never crowd them out.
    answers: Arc<Semaphore>,
    tasks: TaskTracker,
}

/// A place among the background calls, taken before the work is handed over, so that a
/// refusal can still be answered by the caller.
pub struct BackgroundSlot {
    permit: OwnedSemaphorePermit,
    tasks: TaskTracker,
}

impl BackgroundSlot {
    /// Runs `job` in its own task, holding the place until it ends.
    pub fn spawn(self, job: impl Future<Output = ()> + Send + 'static) {
        let permit = self.permit;
        self.tasks.spawn(async move {
            job.await;
            drop(permit);
        });
    }
}

/// Migrations remembered; a group migrates once, so this only guards against abuse.
const MAX_MOVED: usize = 100_000;

impl Outbox {
    /// Outboxes holding `outbox_per_chat` items each, paced to the configured limits; with
    /// `shared` (Redis), each chat's send windows count every instance's sends.
    pub fn new(config: &BotConfig, shared: Option<Arc<dyn PerKey>>) -> Self {
        Outbox {
            inner: Arc::new(Inner {
                pacer: Pacer::new(
                    config.sends_per_second,
                    config.sends_per_second_per_chat,
                    config.sends_per_minute_per_chat,
                )
                .windowed(config.sends_window, shared),
                per_chat: config.outbox_per_chat.max(1),
                chats: DashMap::new(),
                moved: DashMap::new(),
                calls: Arc::new(Semaphore::new(config.max_background_calls.max(1))),
                answers: Arc::new(Semaphore::new(config.max_background_calls.max(1))),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// Puts `item` in its chat's outbox without waiting; drops it (logged) when full.
    pub fn send(&self, bot: &Bot, item: Outgoing) {
        let lane = item.lane;
        let chat = match lane {
            Lane::Chat(chat) => chat.0,
            Lane::Inline(user) => user,
        };
        let mut replaced = Vec::new();
        let mut refused = None;
        let start = {
            let (queue, start) = match self.inner.chats.entry(lane) {
                Entry::Occupied(entry) => (entry.into_ref(), false),
                Entry::Vacant(entry) => (entry.insert(VecDeque::new()), true),
            };
            let mut queue = queue;
            if let Some(kind) = &item.coalesce {
                let mut i = 0;
                while i < queue.len() {
                    if queue[i].coalesce.as_ref() == Some(kind) {
                        replaced.extend(queue.remove(i));
                    } else {
                        i += 1;
                    }
                }
            }
            if queue.len() >= self.inner.per_chat {
                refused = Some(item);
            } else {
                queue.push_back(item);
            }
            start
        };
        for old in replaced {
            tracing::info!(
                chat,
                kind = old.coalesce.as_deref(),
                "reply dropped: a newer one of its kind replaces it"
            );
            old.finish(false);
        }
        if let Some(item) = refused {
            tracing::warn!(chat, "reply dropped: the chat's outbox is full");
            item.finish(false);
        }
        if start {
            let (inner, bot) = (Arc::clone(&self.inner), bot.clone());
            self.inner.tasks.spawn(drain(inner, bot, lane));
        }
    }

    /// Answers a button press in the background (answers are not paced per chat).
    pub fn answer_callback(&self, bot: &Bot, id: CallbackQueryId, text: Option<String>) {
        let bot = bot.clone();
        let Ok(permit) = Arc::clone(&self.inner.answers).try_acquire_owned() else {
            tracing::warn!("button answer dropped: too many answers to Telegram in flight");
            return;
        };
        let slot = BackgroundSlot {
            permit,
            tasks: self.inner.tasks.clone(),
        };
        slot.spawn(async move {
            telegram::answer_callback(&bot, id, text.as_deref()).await;
        });
    }

    /// Runs a short Telegram call (a button answer, an admin look-up and what follows it) in
    /// its own task; drops it (logged as `what`) when too many are in flight. Never waits.
    pub fn in_background(
        &self,
        what: &'static str,
        job: impl Future<Output = ()> + Send + 'static,
    ) -> bool {
        match self.background_slot(what) {
            Some(slot) => {
                slot.spawn(job);
                true
            }
            None => false,
        }
    }

    /// A place for a short background call, or `None` (logged as `what`) when too many are
    /// in flight. Never waits.
    pub fn background_slot(&self, what: &'static str) -> Option<BackgroundSlot> {
        let Ok(permit) = Arc::clone(&self.inner.calls).try_acquire_owned() else {
            tracing::warn!(what, "dropped: too many calls to Telegram in flight");
            return None;
        };
        Some(BackgroundSlot {
            permit,
            tasks: self.inner.tasks.clone(),
        })
    }

    /// Waits until every outbox is empty and every background call has ended.
    pub async fn close(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

/// Sends a lane's waiting items one by one, each in its paced slot, until none is left. An
/// item leaves the outbox only once its slot has come, so until then a newer item of its
/// kind can still replace it (a chat's reply to the same command, a user's inline answer).
async fn drain(inner: Arc<Inner>, bot: Bot, lane: Lane) {
    loop {
        let waiting = match inner.chats.get(&lane) {
            Some(queue) => !queue.is_empty(),
            None => return,
        };
        if !waiting {
            // Removed only while still empty: an item pushed meanwhile is sent by this task.
            if inner
                .chats
                .remove_if(&lane, |_, queue| queue.is_empty())
                .is_some()
            {
                return;
            }
            continue;
        }
        let chat = match lane {
            Lane::Chat(chat) => chat,
            Lane::Inline(_) => {
                // Inline messages have no chat: only the overall slot applies.
                inner.pacer.wait_overall().await;
                let next = inner.chats.get_mut(&lane).and_then(|mut q| q.pop_front());
                let Some(item) = next else { continue };
                let sent = telegram::deliver_inline(&bot, &item.what).await;
                item.finish(matches!(sent, Sent::Done));
                continue;
            }
        };
        let to = inner.moved.get(&chat.0).map_or(chat, |to| *to);
        inner.pacer.wait(to.0).await;
        let next = inner.chats.get_mut(&lane).and_then(|mut q| q.pop_front());
        let Some(item) = next else { continue };
        let sent = match telegram::deliver(&bot, to, &item.what).await {
            Sent::Done => true,
            Sent::Failed => false,
            Sent::Moved(new) => {
                tracing::info!(from = to.0, to = new.0, "the group became a supergroup");
                if inner.moved.len() < MAX_MOVED {
                    inner.moved.insert(chat.0, new);
                }
                inner.pacer.wait(new.0).await;
                // The old message ids mean nothing in the new chat: send without the reply.
                matches!(
                    telegram::deliver_unthreaded(&bot, new, &item.what).await,
                    Sent::Done
                )
            }
        };
        item.finish(sent);
    }
}
