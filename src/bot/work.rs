//! Work beside the dispatcher. Slow work (fetching, summarizing) gets a fixed number of slots
//! and a bounded queue in front of them; the checks that decide on an update (limits, repeat
//! marks, which may ask Redis) run in its chat's lane, one after another, so a chat's answers
//! keep their order. Pushing never waits; a full queue drops the job (logged, at most once a
//! second with the count of the drops in between).
//!
//! A slot is for a job's own quick work (the cache, the store, rendering). A job whose page
//! is not cached yet gives its slot back with [`waiting`] while the page is fetched and
//! processed, by it or by another job (the digest service's fetch and CPU stages bound that
//! work themselves), and takes one of a bounded number of waiting places instead, so links
//! already read are answered while slow pages load; when every waiting place is taken the
//! job keeps its slot, as if there were none.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use super::outbound::DropLog;

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs jobs with at most `slots` working at once; up to `queued` more wait for a slot, and
/// up to `parked` that gave their slot back wait on others' work.
pub struct WorkQueue {
    inner: Arc<Inner>,
}

struct Inner {
    slots: Arc<Semaphore>,
    capacity: usize,
    waiting: Mutex<VecDeque<Job>>,
    /// Places for jobs that gave their slot back (see [`waiting`]).
    parked: Arc<Semaphore>,
    tasks: TaskTracker,
}

impl Inner {
    fn waiting(&self) -> MutexGuard<'_, VecDeque<Job>> {
        // A poisoned lock only means a panic elsewhere; the queue itself is intact.
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts queued jobs while slots are free. Called after every push and every slot
    /// given back; it looks at the queue again after giving back a slot it found no job
    /// for, so a job pushed meanwhile is never left behind.
    fn pump(self: &Arc<Self>) {
        loop {
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                return;
            };
            let next = self.waiting().pop_front();
            match next {
                Some(job) => {
                    self.tasks.spawn(run(Arc::clone(self), job, slot));
                }
                None => {
                    drop(slot);
                    if self.waiting().is_empty() {
                        return;
                    }
                }
            }
        }
    }
}

/// What a running job holds: its slot, or a waiting place once it gave the slot back.
enum Place {
    Slot { _permit: OwnedSemaphorePermit },
    Parked { _permit: OwnedSemaphorePermit },
    Done,
}

/// The running job's place, so that [`waiting`] can trade its slot for a waiting place.
#[derive(Clone)]
struct Held {
    inner: Arc<Inner>,
    place: Arc<Mutex<Place>>,
}

impl Held {
    fn place(&self) -> MutexGuard<'_, Place> {
        // A poisoned lock only means a panic elsewhere; the place itself is intact.
        self.place
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Gives the slot back for a waiting place, if one is free; true once parked.
    fn park(&self) -> bool {
        let mut place = self.place();
        if !matches!(*place, Place::Slot { .. }) {
            return matches!(*place, Place::Parked { .. });
        }
        let Ok(parked) = Arc::clone(&self.inner.parked).try_acquire_owned() else {
            return false;
        };
        let slot = std::mem::replace(&mut *place, Place::Parked { _permit: parked });
        drop(place);
        drop(slot);
        self.inner.pump();
        true
    }

    /// Gives back whatever the job holds and starts the next queued job.
    fn release(&self) {
        let held = std::mem::replace(&mut *self.place(), Place::Done);
        drop(held);
        self.inner.pump();
    }
}

tokio::task_local! {
    static HELD: Held;
}

/// Awaits `work` as a job that does not need its slot meanwhile: the slot goes to the next
/// queued job and this one waits in a waiting place (for the rest of its run). With every
/// waiting place taken, or outside a [`WorkQueue`] job, it simply awaits `work`.
pub async fn waiting<T>(work: impl Future<Output = T>) -> T {
    if let Ok(false) = HELD.try_with(Held::park) {
        static FULL: DropLog = DropLog::new();
        if let Some(unlogged) = FULL.due() {
            tracing::info!(
                unlogged,
                "every waiting place is taken: a waiting job keeps its slot"
            );
        }
    }
    work.await
}

impl WorkQueue {
    /// A queue running `slots` jobs at once with room for `queued` waiting for a slot and
    /// `parked` waiting on others' work.
    pub fn new(slots: usize, queued: usize, parked: usize) -> Self {
        WorkQueue {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(slots.max(1))),
                capacity: queued,
                waiting: Mutex::new(VecDeque::new()),
                parked: Arc::new(Semaphore::new(parked)),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// Starts `job` in a free slot, or queues it; false (and the job dropped, logged as
    /// `what`) when the queue is full. Never waits.
    pub fn push(&self, what: &'static str, job: impl Future<Output = ()> + Send + 'static) -> bool {
        {
            let mut waiting = self.inner.waiting();
            if waiting.len() >= self.inner.capacity.max(1) {
                drop(waiting);
                static DROPS: DropLog = DropLog::new();
                if let Some(unlogged) = DROPS.due() {
                    tracing::warn!(
                        what,
                        unlogged,
                        "work dropped: every slot is busy and the queue is full"
                    );
                }
                return false;
            }
            waiting.push_back(Box::pin(job));
        }
        self.inner.pump();
        true
    }

    /// Waits until every job pushed so far (queued ones included) has run.
    pub async fn close(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

/// Runs `job` holding `slot`, in a task of its own so a panic stays in its job; then gives
/// back what it holds and starts the next queued job.
async fn run(inner: Arc<Inner>, job: Job, slot: OwnedSemaphorePermit) {
    let held = Held {
        inner: Arc::clone(&inner),
        place: Arc::new(Mutex::new(Place::Slot { _permit: slot })),
    };
    if let Err(e) = inner.tasks.spawn(HELD.scope(held.clone(), job)).await {
        tracing::error!(error = %e, "a job panicked");
    }
    held.release();
}

/// Short jobs in per-chat lanes: one chat's jobs run one after another, in the order pushed;
/// chats run concurrently. At most `capacity` jobs wait across all lanes.
pub struct Lanes {
    inner: Arc<LanesInner>,
}

struct LanesInner {
    capacity: usize,
    waiting: AtomicUsize,
    /// Waiting jobs per chat; a chat has an entry exactly while its lane task runs.
    chats: Mutex<HashMap<i64, VecDeque<Job>>>,
    tasks: TaskTracker,
}

impl LanesInner {
    fn chats(&self) -> MutexGuard<'_, HashMap<i64, VecDeque<Job>>> {
        // A poisoned lock only means a panic elsewhere; the lanes themselves are intact.
        self.chats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Lanes {
    /// Lanes holding at most `capacity` waiting jobs in all.
    pub fn new(capacity: usize) -> Self {
        Lanes {
            inner: Arc::new(LanesInner {
                capacity: capacity.max(1),
                waiting: AtomicUsize::new(0),
                chats: Mutex::new(HashMap::new()),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// Runs `job` after the jobs pushed before it for `chat`; false (and the job dropped,
    /// logged as `what`) when the lanes are full. Never waits.
    pub fn push(
        &self,
        chat: i64,
        what: &'static str,
        job: impl Future<Output = ()> + Send + 'static,
    ) -> bool {
        let inner = &self.inner;
        if inner.waiting.fetch_add(1, Ordering::SeqCst) >= inner.capacity {
            inner.waiting.fetch_sub(1, Ordering::SeqCst);
            static DROPS: DropLog = DropLog::new();
            if let Some(unlogged) = DROPS.due() {
                tracing::warn!(
                    chat,
                    what,
                    unlogged,
                    "update dropped: too many are waiting for their chat's turn"
                );
            }
            return false;
        }
        let start = match inner.chats().entry(chat) {
            Entry::Occupied(mut lane) => {
                lane.get_mut().push_back(Box::pin(job));
                false
            }
            Entry::Vacant(lane) => {
                lane.insert(VecDeque::from([Box::pin(job) as Job]));
                true
            }
        };
        if start {
            inner.tasks.spawn(run_lane(Arc::clone(inner), chat));
        }
        true
    }

    /// Waits until every job pushed so far has run.
    pub async fn close(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

/// Runs a chat's jobs in order until its lane is empty, each in its own task so a panic
/// stays in its job.
async fn run_lane(inner: Arc<LanesInner>, chat: i64) {
    loop {
        let next = {
            let mut chats = inner.chats();
            match chats.get_mut(&chat).map(VecDeque::pop_front) {
                Some(Some(job)) => job,
                // Removed under the same lock a push takes: a later job starts a new lane.
                Some(None) => {
                    chats.remove(&chat);
                    return;
                }
                None => return,
            }
        };
        let job = next;
        inner.waiting.fetch_sub(1, Ordering::SeqCst);
        if let Err(e) = inner.tasks.spawn(job).await {
            tracing::error!(chat, error = %e, "a job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn jobs_beyond_the_slots_wait_and_all_run() {
        let queue = WorkQueue::new(2, 10, 0);
        let done = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        for _ in 0..8 {
            let (done, running, most) = (done.clone(), running.clone(), most.clone());
            assert!(queue.push("test", async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        queue.close().await;
        assert_eq!(done.load(Ordering::SeqCst), 8);
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn a_full_queue_drops_the_job_without_waiting() {
        let queue = WorkQueue::new(1, 2, 0);
        let gate = Arc::new(tokio::sync::Notify::new());
        let blocker = gate.clone();
        assert!(queue.push("block", async move { blocker.notified().await }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(queue.push("a", async {}));
        assert!(queue.push("b", async {}));
        assert!(!queue.push("c", async {}), "the queue holds two");
        gate.notify_one();
        queue.close().await;
    }

    #[tokio::test]
    async fn a_job_waiting_on_others_work_gives_its_slot_to_the_next_one() {
        let queue = WorkQueue::new(1, 10, 10);
        let gate = Arc::new(tokio::sync::Notify::new());
        let order = Arc::new(Mutex::new(Vec::new()));
        let (blocker, seen) = (gate.clone(), order.clone());
        assert!(queue.push("slow page", async move {
            waiting(blocker.notified()).await;
            seen.lock().unwrap().push("slow");
        }));
        let seen = order.clone();
        assert!(queue.push("cached page", async move {
            seen.lock().unwrap().push("cached");
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            *order.lock().unwrap(),
            ["cached"],
            "the slot was given back"
        );
        gate.notify_one();
        queue.close().await;
        assert_eq!(*order.lock().unwrap(), ["cached", "slow"]);
    }

    #[tokio::test]
    async fn with_every_waiting_place_taken_a_waiting_job_keeps_its_slot() {
        let queue = WorkQueue::new(1, 10, 1);
        let (first, second) = (
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(tokio::sync::Notify::new()),
        );
        let order = Arc::new(Mutex::new(Vec::new()));
        for (name, gate) in [("first", first.clone()), ("second", second.clone())] {
            let seen = order.clone();
            assert!(queue.push("waits", async move {
                waiting(gate.notified()).await;
                seen.lock().unwrap().push(name);
            }));
        }
        let seen = order.clone();
        assert!(queue.push("third", async move {
            seen.lock().unwrap().push("third");
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            order.lock().unwrap().is_empty(),
            "one place: the second job keeps the only slot while it waits"
        );
        second.notify_one();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(*order.lock().unwrap(), ["second", "third"]);
        first.notify_one();
        queue.close().await;
        assert_eq!(*order.lock().unwrap(), ["second", "third", "first"]);
    }

    #[tokio::test]
    async fn a_panic_after_giving_the_slot_back_frees_the_waiting_place() {
        let queue = WorkQueue::new(1, 10, 1);
        assert!(queue.push("boom", async {
            waiting(async {}).await;
            panic!("boom")
        }));
        queue.close().await;
        assert_eq!(queue.inner.parked.available_permits(), 1);
        assert_eq!(queue.inner.slots.available_permits(), 1);
    }

    #[tokio::test]
    async fn a_chats_jobs_run_in_order_beside_other_chats() {
        let lanes = Lanes::new(100);
        let order = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Notify::new());
        let (blocker, seen) = (gate.clone(), order.clone());
        assert!(lanes.push(1, "slow", async move {
            blocker.notified().await;
            seen.lock().unwrap().push("1a");
        }));
        for (chat, name) in [(1, "1b"), (2, "2a"), (1, "1c")] {
            let seen = order.clone();
            assert!(lanes.push(chat, "test", async move {
                seen.lock().unwrap().push(name);
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            *order.lock().unwrap(),
            ["2a"],
            "chat 2 did not wait for chat 1"
        );
        gate.notify_one();
        lanes.close().await;
        assert_eq!(*order.lock().unwrap(), ["2a", "1a", "1b", "1c"]);
    }

    #[tokio::test]
    async fn full_lanes_drop_the_job_and_a_panic_stays_in_its_job() {
        let lanes = Lanes::new(2);
        let gate = Arc::new(tokio::sync::Notify::new());
        let blocker = gate.clone();
        assert!(lanes.push(1, "block", async move { blocker.notified().await }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let done = Arc::new(AtomicUsize::new(0));
        assert!(lanes.push(1, "boom", async { panic!("boom") }));
        let counted = done.clone();
        assert!(lanes.push(2, "after", async move {
            counted.fetch_add(1, Ordering::SeqCst);
        }));
        assert!(!lanes.push(3, "c", async {}), "two wait already");
        gate.notify_one();
        lanes.close().await;
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_stop_the_others() {
        let queue = WorkQueue::new(1, 10, 0);
        let done = Arc::new(AtomicUsize::new(0));
        assert!(queue.push("boom", async { panic!("boom") }));
        let counted = done.clone();
        assert!(queue.push("after", async move {
            counted.fetch_add(1, Ordering::SeqCst);
        }));
        queue.close().await;
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
