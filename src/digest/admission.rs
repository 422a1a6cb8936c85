//! Fair admission to a limited stage (fetching, CPU work): a global number of slots, caps
//! per user, per chat and per site, and a round-robin queue between requesters, so one
//! person's many links wait behind their own earlier links, not in front of everyone else's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// Who asked for a link: the Telegram user and chat, or the local command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Requester {
    /// The Telegram user id (0 for the command line).
    pub user: i64,
    /// The Telegram chat id (0 for the command line).
    pub chat: i64,
}

impl Requester {
    /// A request from `user` in `chat`.
    pub fn new(user: i64, chat: i64) -> Self {
        Requester { user, chat }
    }

    /// The command line and other local callers: the only requester there, so the caps per
    /// user and per chat do not apply to it (a batch may use every slot).
    pub fn local() -> Self {
        Requester { user: 0, chat: 0 }
    }

    fn is_local(&self) -> bool {
        *self == Self::local()
    }
}

/// The settings' slot counts, named for this module.
pub use crate::config::SlotLimits as Limits;

impl Limits {
    /// Every cap at least 1 and none above `total`.
    fn sane(self) -> Self {
        let total = self.total.max(1);
        Limits {
            total,
            per_user: self.per_user.clamp(1, total),
            per_chat: self.per_chat.clamp(1, total),
            per_site: self.per_site.clamp(1, total),
        }
    }
}

/// One waiting request.
struct Waiter {
    chat: i64,
    site: Option<String>,
    wake: oneshot::Sender<()>,
}

#[derive(Default)]
struct State {
    in_use: usize,
    users: HashMap<i64, usize>,
    chats: HashMap<i64, usize>,
    sites: HashMap<String, usize>,
    /// Waiting requests per user, and the users in round-robin order.
    queues: HashMap<i64, VecDeque<Waiter>>,
    turn: VecDeque<i64>,
    /// Slots handed out since the stage was made.
    granted: u64,
}

/// A stage with fair admission; clone-free, shared behind an `Arc`.
pub struct Admission {
    limits: Limits,
    state: Mutex<State>,
}

/// A held slot; dropping it lets the next request in.
pub struct Slot {
    admission: Arc<Admission>,
    user: i64,
    chat: i64,
    site: Option<String>,
}

impl Admission {
    /// A stage with these limits.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Admission {
            limits: limits.sane(),
            state: Mutex::new(State::default()),
        })
    }

    /// The stage's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many slots the stage has handed out since it was made (for metrics and tests).
    pub fn granted(&self) -> u64 {
        self.lock().granted
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // a panic while holding the lock leaves counts that are still consistent
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a slot for `who` on `site` (a registrable domain; `None` for no site).
    pub async fn enter(self: &Arc<Self>, who: Requester, site: Option<String>) -> Slot {
        let (wake, woken) = oneshot::channel();
        {
            let mut state = self.lock();
            let queue = state.queues.entry(who.user).or_default();
            queue.push_back(Waiter {
                chat: who.chat,
                site: site.clone(),
                wake,
            });
            if queue.len() == 1 {
                state.turn.push_back(who.user);
            }
            self.dispatch(&mut state);
        }
        let mut pending = Pending {
            admission: self,
            woken: Some(woken),
            who,
            site: site.clone(),
        };
        if let Some(woken) = pending.woken.as_mut() {
            // The sender is only dropped after a grant.
            let _ = woken.await;
        }
        pending.woken = None;
        Slot {
            admission: Arc::clone(self),
            user: who.user,
            chat: who.chat,
            site,
        }
    }

    /// Grants free slots to waiting requests, one user at a time in turn.
    fn dispatch(&self, state: &mut State) {
        let l = self.limits;
        let mut idle_rounds = 0;
        while state.in_use < l.total && !state.turn.is_empty() && idle_rounds < state.turn.len() {
            let Some(user) = state.turn.pop_front() else {
                break;
            };
            let user_count = state.users.get(&user).copied().unwrap_or(0);
            let local = Requester::new(user, user).is_local();
            let (per_user, per_chat) = if local {
                (l.total, l.total)
            } else {
                (l.per_user, l.per_chat)
            };
            let mut granted = false;
            if let Some(queue) = state.queues.get_mut(&user) {
                queue.retain(|w| !w.wake.is_closed());
                if user_count < per_user {
                    let chats = &state.chats;
                    let sites = &state.sites;
                    let pick = queue.iter().position(|w| {
                        chats.get(&w.chat).copied().unwrap_or(0) < per_chat
                            && w.site
                                .as_ref()
                                .is_none_or(|s| sites.get(s).copied().unwrap_or(0) < l.per_site)
                    });
                    if let Some(waiter) = pick.and_then(|i| queue.remove(i))
                        && waiter.wake.send(()).is_ok()
                    {
                        granted = true;
                        state.granted += 1;
                        state.in_use += 1;
                        *state.users.entry(user).or_default() += 1;
                        *state.chats.entry(waiter.chat).or_default() += 1;
                        if let Some(site) = waiter.site {
                            *state.sites.entry(site).or_default() += 1;
                        }
                    }
                }
            }
            let waiting = state.queues.get(&user).is_some_and(|q| !q.is_empty());
            if waiting {
                state.turn.push_back(user);
            } else {
                state.queues.remove(&user);
            }
            // a user whose queue emptied leaves the turn, so the round is shorter, not idle
            if granted {
                idle_rounds = 0;
            } else if waiting {
                idle_rounds += 1;
            }
        }
    }

    fn leave(&self, user: i64, chat: i64, site: Option<&str>) {
        let mut state = self.lock();
        state.in_use = state.in_use.saturating_sub(1);
        decrement(&mut state.users, &user);
        decrement(&mut state.chats, &chat);
        if let Some(site) = site {
            let site = site.to_owned();
            decrement(&mut state.sites, &site);
        }
        self.dispatch(&mut state);
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

/// A request still waiting; if it is given up after its grant was sent, the slot goes back.
struct Pending<'a> {
    admission: &'a Arc<Admission>,
    woken: Option<oneshot::Receiver<()>>,
    who: Requester,
    site: Option<String>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(mut woken) = self.woken.take() {
            woken.close();
            if woken.try_recv().is_ok() {
                self.admission
                    .leave(self.who.user, self.who.chat, self.site.as_deref());
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission
            .leave(self.user, self.chat, self.site.as_deref());
    }
}

/// The registrable domain of `host` ("news.bbc.co.uk" → "bbc.co.uk"), so every subdomain of a
/// site shares its limit; an IP address or an unknown suffix is its own site.
pub fn site_of(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    psl::domain_str(&host).map_or_else(|| host.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(total: usize, per_user: usize) -> Limits {
        Limits {
            total,
            per_user,
            per_chat: total,
            per_site: total,
        }
    }

    #[test]
    fn subdomains_are_one_site() {
        assert_eq!(site_of("news.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(site_of("a.b.example.com"), "example.com");
        assert_eq!(site_of("Example.COM."), "example.com");
        assert_eq!(site_of("127.0.0.1"), "127.0.0.1");
        assert_eq!(site_of("[::1]"), "[::1]");
    }

    /// The order in which requests get a slot of a one-slot stage.
    async fn order(requests: Vec<(Requester, Option<&'static str>)>, l: Limits) -> Vec<usize> {
        let admission = Admission::new(l);
        let first = admission.enter(Requester::new(99, 99), None).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for (i, (who, site)) in requests.into_iter().enumerate() {
            let (admission, tx) = (Arc::clone(&admission), tx.clone());
            tokio::spawn(async move {
                let _slot = admission.enter(who, site.map(str::to_owned)).await;
                let _ = tx.send(i);
                tokio::time::sleep(Duration::from_millis(5)).await;
            });
            tokio::task::yield_now().await;
        }
        drop(first);
        drop(tx);
        let mut got = Vec::new();
        while let Some(i) = rx.recv().await {
            got.push(i);
        }
        got
    }

    #[tokio::test]
    async fn requesters_take_turns() {
        let alice = Requester::new(1, 1);
        let bob = Requester::new(2, 2);
        let requests = vec![
            (alice, None),
            (alice, None),
            (alice, None),
            (bob, None),
            (bob, None),
        ];
        assert_eq!(order(requests, limits(1, 1)).await, vec![0, 3, 1, 4, 2]);
    }

    #[tokio::test]
    async fn one_user_cannot_hold_every_slot() {
        let admission = Admission::new(limits(4, 2));
        let alice = Requester::new(1, 1);
        let _a = admission.enter(alice, None).await;
        let _b = admission.enter(alice, None).await;
        let third = tokio::time::timeout(Duration::from_millis(50), admission.enter(alice, None));
        assert!(third.await.is_err(), "a third slot for one user");
        let bob = tokio::time::timeout(
            Duration::from_millis(50),
            admission.enter(Requester::new(2, 2), None),
        );
        assert!(bob.await.is_ok(), "another user waits behind the first");
    }

    #[tokio::test]
    async fn the_command_line_may_use_every_slot() {
        let admission = Admission::new(limits(3, 1));
        let _a = admission.enter(Requester::local(), None).await;
        let _b = admission.enter(Requester::local(), None).await;
        let third = tokio::time::timeout(
            Duration::from_millis(50),
            admission.enter(Requester::local(), None),
        );
        assert!(third.await.is_ok());
    }

    #[tokio::test]
    async fn a_busy_site_does_not_hold_up_other_sites() {
        let l = Limits {
            total: 4,
            per_user: 4,
            per_chat: 4,
            per_site: 1,
        };
        let admission = Admission::new(l);
        let alice = Requester::new(1, 1);
        let _held = admission.enter(alice, Some("slow.example".into())).await;
        let same = tokio::time::timeout(
            Duration::from_millis(50),
            admission.enter(alice, Some("slow.example".into())),
        );
        assert!(same.await.is_err());
        let other = tokio::time::timeout(
            Duration::from_millis(50),
            admission.enter(alice, Some("fast.example".into())),
        );
        assert!(other.await.is_ok());
    }

    #[tokio::test]
    async fn a_request_given_up_frees_its_place() {
        let admission = Admission::new(limits(1, 1));
        let held = admission.enter(Requester::new(1, 1), None).await;
        let gone = tokio::time::timeout(
            Duration::from_millis(20),
            admission.enter(Requester::new(2, 2), None),
        );
        assert!(gone.await.is_err());
        drop(held);
        let next = tokio::time::timeout(
            Duration::from_millis(50),
            admission.enter(Requester::new(3, 3), None),
        );
        assert!(next.await.is_ok(), "the abandoned request kept the slot");
    }
}
