//! A bounded outbox per chat, drained by its own task: handlers drop a reply in and move on.
//! A reply of the same kind as one still waiting replaces it (a burst of `/settings` gets the
//! latest answer); a full outbox drops the new reply. Every drop is logged (each kind at most
//! once a second, with the count of those in between). Inline answers and edits of inline
//! messages belong to no chat: they wait in their user's outbox; edits take only the bot's
//! overall slot, answers (no message) go at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, InlineKeyboardMarkup, MessageId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use super::drop_log::DropLog;
use super::pacing::Pacer;
use super::request::{InlineAnswer, What};
use super::telegram::{self, Sent, Typing};
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

    /// Whether this edits a message in a chat (it takes no slot of a group's minute).
    fn is_edit(&self) -> bool {
        matches!(self.what, What::Edit { .. })
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
    /// Migrations remembered; a group migrates once, so this only guards against abuse.
    max_moved: usize,
    /// Admin look-ups and other short calls in flight.
    calls: Arc<Semaphore>,
    /// Button answers in flight: a pool of their own, so look-ups never crowd them out.
    answers: Arc<Semaphore>,
    /// Button answers in flight per presser and per chat, so one flood of taps takes only
    /// its share of `answers`.
    answering: Arc<DashMap<Presser, usize>>,
    /// At most this many answers in flight per person, and per chat.
    per_user: usize,
    per_chat_answers: usize,
    /// "typing…" indicators shown at once: each repeats a request every few seconds, and
    /// jobs waiting on pages without a work slot may be many.
    typing: Arc<Semaphore>,
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

/// The share of the bot's button answers in flight that one person may hold (1/8).
const USER_SHARE: usize = 8;
/// The share of the bot's button answers in flight that one chat may hold (1/4).
const CHAT_SHARE: usize = 4;

/// Whose button answers are counted: a person's or a chat's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Presser {
    User(u64),
    Chat(i64),
}

/// One answer counted against a presser's share; gives it back when dropped.
struct Turn {
    counts: Arc<DashMap<Presser, usize>>,
    key: Presser,
}

impl Turn {
    /// Counts one more answer for `key`, or `None` when it already has `most` in flight.
    fn take(counts: &Arc<DashMap<Presser, usize>>, key: Presser, most: usize) -> Option<Turn> {
        let mut count = counts.entry(key).or_insert(0);
        if *count >= most {
            return None;
        }
        *count += 1;
        drop(count);
        Some(Turn {
            counts: Arc::clone(counts),
            key,
        })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        // The entry goes once its last answer is done, so the map holds only live pressers.
        self.counts.remove_if_mut(&self.key, |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
    }
}

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
                .windowed(config.sends_window, shared)
                .keeping(config.pacer_capacity),
                per_chat: config.outbox_per_chat.max(1),
                chats: DashMap::new(),
                moved: DashMap::new(),
                max_moved: config.migrations_remembered,
                calls: Arc::new(Semaphore::new(config.max_background_calls.max(1))),
                answers: Arc::new(Semaphore::new(config.max_background_calls.max(1))),
                answering: Arc::new(DashMap::new()),
                per_user: (config.max_background_calls / USER_SHARE).max(1),
                per_chat_answers: (config.max_background_calls / CHAT_SHARE).max(1),
                typing: Arc::new(Semaphore::new(config.max_pending_work.max(1))),
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
            static REPLACED: DropLog = DropLog::new();
            if let Some(unlogged) = REPLACED.due() {
                tracing::info!(
                    chat,
                    kind = old.coalesce.as_deref(),
                    unlogged,
                    "reply dropped: a newer one of its kind replaces it"
                );
            }
            old.finish(false);
        }
        if let Some(item) = refused {
            static FULL: DropLog = DropLog::new();
            if let Some(unlogged) = FULL.due() {
                tracing::warn!(chat, unlogged, "reply dropped: the chat's outbox is full");
            }
            item.finish(false);
        }
        if start {
            let (inner, bot) = (Arc::clone(&self.inner), bot.clone());
            self.inner.tasks.spawn(drain(inner, bot, lane));
        }
    }

    /// Answers a button press in the background (answers are not paced per chat). One person
    /// may have at most an eighth of the bot's answers in flight, one chat a quarter, so a
    /// flood of taps cannot take every place and leave someone else's tap unanswered; a
    /// press beyond that is dropped (logged, its button spins until Telegram gives up on it).
    pub fn answer_callback(&self, bot: &Bot, q: &CallbackQuery, text: Option<String>) {
        let user = Presser::User(q.from.id.0);
        let chat = q.message.as_ref().map(|m| Presser::Chat(m.chat().id.0));
        let Some((user_turn, chat_turn, permit)) = self.answer_turns(user, chat) else {
            static DROPS: DropLog = DropLog::new();
            if let Some(unlogged) = DROPS.due() {
                tracing::warn!(
                    user = q.from.id.0,
                    unlogged,
                    "button answer dropped: too many in flight for this person, chat or bot"
                );
            }
            return;
        };
        let slot = BackgroundSlot {
            permit,
            tasks: self.inner.tasks.clone(),
        };
        let (bot, id) = (bot.clone(), q.id.clone());
        slot.spawn(async move {
            telegram::answer_callback(&bot, id, text.as_deref()).await;
            drop((user_turn, chat_turn));
        });
    }

    /// A presser's, a chat's and the bot's place for one more answer, or `None` when one of
    /// them has no room left.
    fn answer_turns(
        &self,
        user: Presser,
        chat: Option<Presser>,
    ) -> Option<(Turn, Option<Turn>, OwnedSemaphorePermit)> {
        let user_turn = Turn::take(&self.inner.answering, user, self.inner.per_user)?;
        let chat_turn = match chat {
            Some(chat) => Some(Turn::take(
                &self.inner.answering,
                chat,
                self.inner.per_chat_answers,
            )?),
            None => None,
        };
        let permit = Arc::clone(&self.inner.answers).try_acquire_owned().ok()?;
        Some((user_turn, chat_turn, permit))
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
            static DROPS: DropLog = DropLog::new();
            if let Some(unlogged) = DROPS.due() {
                tracing::warn!(
                    what,
                    unlogged,
                    "dropped: too many calls to Telegram in flight"
                );
            }
            return None;
        };
        Some(BackgroundSlot {
            permit,
            tasks: self.inner.tasks.clone(),
        })
    }

    /// Shows "typing…" in `msg`'s chat every `every` until the returned guard is dropped;
    /// `None` (no indicator) when as many indicators run as there are work slots.
    pub fn typing(&self, bot: &Bot, msg: &Message, every: Duration) -> Option<Typing> {
        let place = Arc::clone(&self.inner.typing).try_acquire_owned().ok()?;
        Some(Typing::start(bot, msg, every, place))
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
                // An answer to an inline query is no message: it goes at once, whatever the
                // chats are sending (Telegram drops it after about 10 s). Edits of inline
                // messages have no chat: only the overall slot applies.
                let answer = inner.chats.get(&lane).is_some_and(|q| {
                    q.front()
                        .is_some_and(|item| matches!(item.what, What::AnswerInline(_)))
                });
                if !answer {
                    inner.pacer.wait_overall().await;
                }
                let next = inner.chats.get_mut(&lane).and_then(|mut q| q.pop_front());
                let Some(item) = next else { continue };
                let sent = telegram::deliver_inline(&bot, &item.what).await;
                item.finish(matches!(sent, Sent::Done));
                continue;
            }
        };
        let to = inner.moved.get(&chat.0).map_or(chat, |to| *to);
        let edit = inner
            .chats
            .get(&lane)
            .and_then(|q| q.front().map(Outgoing::is_edit));
        if edit == Some(true) {
            inner.pacer.wait_edit(to.0).await;
        } else {
            inner.pacer.wait(to.0).await;
        }
        let next = inner.chats.get_mut(&lane).and_then(|mut q| q.pop_front());
        let Some(item) = next else { continue };
        let sent = match telegram::deliver(&bot, to, &item.what).await {
            Sent::Done => true,
            Sent::Failed => false,
            Sent::Gone => {
                // Kicked or blocked: what waits for the chat would be refused one paced
                // request at a time, each taking a slot of the bot's overall sends.
                give_up_waiting(&inner, lane);
                false
            }
            Sent::Moved(new) => {
                tracing::info!(from = to.0, to = new.0, "the group became a supergroup");
                if inner.moved.len() < inner.max_moved {
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

/// Drops every item waiting in `lane` (logged): its chat can no longer be written to.
fn give_up_waiting(inner: &Inner, lane: Lane) {
    let dropped: Vec<Outgoing> = inner
        .chats
        .get_mut(&lane)
        .map(|mut queue| queue.drain(..).collect())
        .unwrap_or_default();
    if !dropped.is_empty() {
        tracing::info!(
            ?lane,
            dropped = dropped.len(),
            "replies dropped: the bot can no longer write to the chat"
        );
    }
    for item in dropped {
        item.finish(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn typing_indicators_are_bounded_by_the_work_slots() {
        let config = BotConfig {
            max_pending_work: 2,
            ..BotConfig::default()
        };
        let outbox = Outbox::new(&config, None);
        // Port 9 (discard) on loopback: any request is refused there, nothing leaves the host.
        let url = "http://127.0.0.1:9/".parse().expect("a URL");
        let bot = Bot::new("1:TEST").set_api_url(url);
        let msg: Message = serde_json::from_value(serde_json::json!({
            "message_id": 1, "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private", "first_name": "Ann"},
            "from": {"id": 5, "is_bot": false, "first_name": "Ann"},
            "text": "https://example.org/a"
        }))
        .expect("a message");
        let every = Duration::from_secs(60);
        let first = outbox.typing(&bot, &msg, every);
        let second = outbox.typing(&bot, &msg, every);
        assert!(first.is_some() && second.is_some());
        assert!(outbox.typing(&bot, &msg, every).is_none(), "two at most");
        drop(first);
        assert!(
            outbox.typing(&bot, &msg, every).is_some(),
            "a place came free"
        );
    }
}
