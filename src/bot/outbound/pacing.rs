//! Pacing replies to Telegram's limits: each send reserves the next free slot of its chat and
//! of the whole bot, then waits for it. A send with room goes out at once; a 429 for one
//! chat holds up only that send (see `telegram::with_retry`), not the whole bot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::perkey::{Local, PerKey};

const MINUTE: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);
/// The key of the bot's overall send slots (chat keys are numbers).
const OVERALL: &str = "pace:overall";

/// The send slots of every chat and of the bot as a whole.
pub struct Pacer {
    per_second: u32,
    chat_gap: Duration,
    group_per_minute: usize,
    /// Each chat's slots and the bot's overall ones in this instance, in the same per-key
    /// state as the shared ones.
    chats: Local,
    window: Duration,
    /// Chat windows shared with other instances (Redis), reserved before the local slot.
    shared: Option<Arc<dyn PerKey>>,
}

impl Pacer {
    /// At most `per_second` sends overall, `per_second_per_chat` in one chat, and
    /// `per_minute_per_group` in one group.
    pub fn new(per_second: u32, per_second_per_chat: u32, per_minute_per_group: u32) -> Self {
        let gap = |per_second: u32| Duration::from_secs(1) / per_second.max(1);
        Pacer {
            per_second: per_second.max(1),
            chat_gap: gap(per_second_per_chat),
            group_per_minute: per_minute_per_group.max(1) as usize,
            chats: Local::default(),
            window: MINUTE,
            shared: None,
        }
    }

    /// Keeps the send slots of `chats` chats before expired ones are swept.
    pub fn keeping(mut self, chats: usize) -> Self {
        self.chats = Local::with_capacity(chats);
        self
    }

    /// Counts a group's sends in `window` instead of a minute, and reserves each chat's
    /// slot and the overall one in `shared` (every instance's sends) before this instance's
    /// own.
    pub fn windowed(mut self, window: Duration, shared: Option<Arc<dyn PerKey>>) -> Self {
        self.window = window;
        self.shared = shared;
        self
    }

    /// Waits until a message may be sent to `chat`: first its chat's turn, then the bot's,
    /// so a group waiting out its minute never holds up other chats.
    pub async fn wait(&self, chat: i64) {
        self.wait_counted(chat, true).await;
    }

    /// Waits until a message of `chat` may be edited: the chat's gap and the bot's slot,
    /// but no slot of a group's messages a minute (Telegram counts messages sent), so
    /// someone tapping Expand and Collapse cannot spend the group's new messages.
    pub async fn wait_edit(&self, chat: i64) {
        self.wait_counted(chat, false).await;
    }

    async fn wait_counted(&self, chat: i64, counted: bool) {
        let limit = if chat < 0 && counted {
            self.group_per_minute as u32
        } else {
            0
        };
        if let Some(shared) = &self.shared {
            let key = format!("pace:{chat}");
            let wait = shared
                .reserve(&key, self.chat_gap, limit, self.window)
                .await;
            tokio::time::sleep(wait).await;
        }
        let slot = self.reserve_chat_within(chat, limit, Instant::now());
        tokio::time::sleep_until(slot.into()).await;
        self.wait_overall().await;
    }

    /// Waits for the bot's next free slot only (every send takes one; inline answers and
    /// inline messages, which belong to no chat, take only this). With `shared`, the second
    /// counts every instance's sends, as Telegram does.
    pub async fn wait_overall(&self) {
        if let Some(shared) = &self.shared {
            let wait = shared
                .reserve(OVERALL, Duration::ZERO, self.per_second, SECOND)
                .await;
            tokio::time::sleep(wait).await;
        }
        let slot = self.reserve_overall(Instant::now());
        tokio::time::sleep_until(slot.into()).await;
    }

    /// Reserves the bot's next free slot at or after `now`: the first instant whose second
    /// (counted back from it) holds fewer than `per_second` slots. Slots never go backwards,
    /// so sends keep the order they reserved in, and a send with room in its second is not
    /// spaced after the one before.
    fn reserve_overall(&self, now: Instant) -> Instant {
        self.chats
            .reserve_at(OVERALL, Duration::ZERO, self.per_second, SECOND, now)
    }

    /// Reserves the chat's first slot at or after `now` within its per-second and (for
    /// groups) per-minute limits.
    #[cfg(test)]
    fn reserve_chat(&self, chat: i64, now: Instant) -> Instant {
        let limit = if chat < 0 {
            self.group_per_minute as u32
        } else {
            0
        };
        self.reserve_chat_within(chat, limit, now)
    }

    /// Reserves the chat's first slot at or after `now` within its per-second limit and
    /// `limit` messages a window (0: none).
    fn reserve_chat_within(&self, chat: i64, limit: u32, now: Instant) -> Instant {
        self.chats
            .reserve_at(&chat.to_string(), self.chat_gap, limit, self.window, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_with_room_go_out_at_once() {
        let pacer = Pacer::new(30, 1, 20);
        let now = Instant::now();
        assert_eq!(pacer.reserve_chat(1, now), now);
        assert_eq!(pacer.reserve_chat(2, now), now);
        assert_eq!(pacer.reserve_overall(now), now);
        assert_eq!(
            pacer.reserve_overall(now),
            now,
            "a second with room is not spread out"
        );
    }

    #[test]
    fn no_second_holds_more_than_the_overall_limit() {
        let pacer = Pacer::new(3, 1, 20);
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let asked = [0, 0, 0, 0, 10, 500, 1500, 1500, 1500, 1500];
        let slots: Vec<Instant> = asked
            .iter()
            .map(|&ms| pacer.reserve_overall(at(ms)))
            .collect();
        let expected = [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000];
        assert_eq!(slots, expected.map(at));
        for (i, slot) in slots.iter().enumerate() {
            let in_its_second = slots[i..]
                .iter()
                .filter(|&&later| later < *slot + SECOND)
                .count();
            assert!(in_its_second <= 3, "{in_its_second} sends within a second");
        }
    }

    #[test]
    fn one_chat_gets_one_message_a_second() {
        let pacer = Pacer::new(1000, 1, 20);
        let now = Instant::now();
        let slots: Vec<Instant> = (0..3).map(|_| pacer.reserve_chat(7, now)).collect();
        assert_eq!(slots[1] - slots[0], Duration::from_secs(1));
        assert_eq!(slots[2] - slots[1], Duration::from_secs(1));
    }

    #[test]
    fn edits_take_no_slot_of_a_groups_minute() {
        let pacer = Pacer::new(1000, 1000, 2);
        let now = Instant::now();
        for _ in 0..5 {
            assert!(pacer.reserve_chat_within(-5, 0, now) < now + MINUTE);
        }
        let sends: Vec<Instant> = (0..3).map(|_| pacer.reserve_chat(-5, now)).collect();
        assert!(
            sends[1] < now + SECOND,
            "the edits left the minute's messages"
        );
        assert!(
            sends[2] >= now + MINUTE,
            "the third message waits for the minute"
        );
    }

    #[test]
    fn a_group_gets_at_most_its_messages_a_minute() {
        let pacer = Pacer::new(1000, 100, 3);
        let now = Instant::now();
        let slots: Vec<Instant> = (0..4).map(|_| pacer.reserve_chat(-5, now)).collect();
        assert!(slots[2] - now < Duration::from_secs(1));
        assert_eq!(
            slots[3],
            slots[0] + MINUTE,
            "the 4th waits for the 1st to age out"
        );
        let private: Vec<Instant> = (0..4).map(|_| pacer.reserve_chat(5, now)).collect();
        assert!(
            private[3] - now < Duration::from_secs(1),
            "private chats have no minute cap"
        );
    }
}
