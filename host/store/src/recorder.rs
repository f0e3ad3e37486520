//! Recording tool calls off the hot path.
//!
//! [`Recorder::record`] puts a [`CallRecord`] on a bounded queue and returns;
//! a background task takes everything queued (up to `batch_size`) and writes
//! it with [`Store::write_calls`]: one transaction per batch holding the
//! `tool_calls` rows and their `usage_events`. Under load batches grow, so the
//! cost per record falls as the rate rises.
//!
//! No record is dropped silently:
//!
//! - **Queue full** (the database is slower than the calls): `record` waits
//!   for room. That is backpressure on the callers, counted in
//!   [`RecorderStats::backpressure_waits`] and logged, instead of lost
//!   billing data or unbounded memory.
//! - **Transient write failure** (connection lost, database restarting): the
//!   batch is kept and retried with exponential backoff (100 ms to 5 s).
//!   Writes are idempotent (record and event ids are unique; conflicts are
//!   skipped), so a retry after an unseen commit stores nothing twice.
//! - **Permanent failure** (a record the database refuses, e.g. a user that
//!   does not exist or a project of another tenant): the batch is split and
//!   written record by record, so one bad record cannot hold up the others;
//!   each refused record is logged at `error` level with its full JSON and
//!   counted in [`RecorderStats::rejected`].
//! - **Shutdown**: [`Recorder::shutdown`] stops accepting records, writes
//!   everything queued before it, and returns only when that is stored (or,
//!   if the database stays unreachable past `shutdown_timeout`, logs every
//!   unwritten record as JSON at `error` level and returns
//!   [`RecorderError::Unwritten`]).
//! - **After shutdown**: `record` returns [`RecorderError::Closed`] with the
//!   record, for the caller to log.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Notify, Semaphore, TryAcquireError, oneshot};

use crate::model::CallRecord;
use crate::{Store, StoreError};

/// Recorder tuning.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Records that may wait in the queue before `record` waits for room.
    pub capacity: usize,
    /// The most records written in one transaction.
    pub batch_size: usize,
    /// How long the first record of a batch waits for more before the batch
    /// is written: at low call rates this turns one transaction per call
    /// into one per interval, keeping database work off the calls' CPU.
    /// A shutdown (or dropping the last `Recorder`) cuts it short.
    pub linger: Duration,
    /// How long shutdown keeps retrying an unreachable database.
    pub shutdown_timeout: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            capacity: 65_536,
            batch_size: 1_000,
            linger: Duration::from_millis(50),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a record could not be taken or written.
#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    /// The recorder was shut down; the record was not queued.
    #[error("the call recorder is shut down; the record of call {} was not stored", .0.id)]
    Closed(Box<CallRecord>),
    /// Shutdown gave up on an unreachable database; the records are in the log.
    #[error(
        "{count} call record(s) could not be written before shutdown ({last_error}); they are logged as JSON at error level"
    )]
    Unwritten {
        /// How many.
        count: usize,
        /// The last database error.
        last_error: String,
    },
}

/// Counters since the recorder started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Records accepted by `record`.
    pub accepted: u64,
    /// Records written (stored, or found already stored).
    pub written: u64,
    /// Usage events newly stored.
    pub events_written: u64,
    /// Records the database refused (logged).
    pub rejected: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Times `record` had to wait because the queue was full.
    pub backpressure_waits: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    written: AtomicU64,
    events_written: AtomicU64,
    rejected: AtomicU64,
    batches: AtomicU64,
    backpressure_waits: AtomicU64,
}

/// The records waiting for the writer. Queueing one is an atomic
/// operation on `room` and a push under an uncontended lock; the writer
/// takes a whole batch per lock. (A tokio channel of boxed records cost a
/// heap allocation per call, freed on the writer's thread.)
struct Queue {
    state: std::sync::Mutex<QueueState>,
    /// Wakes the writer when a record arrives in an empty queue, or on
    /// shutdown (once per batch, not per record).
    ready: Notify,
    /// One permit per free place in the queue: a caller takes one per
    /// record, the writer gives back as many as it took. Callers waiting
    /// for room are served first come, first served.
    room: Semaphore,
}

#[derive(Default)]
struct QueueState {
    /// Oldest first. A deque: under a backlog the writer takes
    /// `batch_size` from the front of a long queue, which a vector would
    /// pay for by moving everything behind them, holding the lock.
    records: VecDeque<CallRecord>,
    /// No more records are taken: shut down, or every `Recorder` dropped.
    /// Kept here, not read from `room`'s closed state: a push must see the
    /// close in the same lock section as the writer's last take, or a
    /// record could be accepted after the final flush.
    closed: bool,
    /// Set by `shutdown`: where the writer reports the final flush.
    shutdown: Option<oneshot::Sender<Result<(), RecorderError>>>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // Nothing that holds the lock can panic mid-update (pushes and
        // swaps only), so a poisoned lock's state is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Shared by every clone of one [`Recorder`]: when the last clone goes
/// away without a shutdown, the writer stores what is queued and stops.
struct Producers(Arc<Queue>);

impl Drop for Producers {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_one();
    }
}

/// Queues call records and writes them in batches in the background. Cheap
/// to clone; all clones feed the same queue.
#[derive(Clone)]
pub struct Recorder {
    queue: Arc<Producers>,
    store: Store,
    counters: Arc<Counters>,
    /// Serializes shutdown; holds the worker until it is joined.
    worker: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Recorder {
    /// Starts the background writer on the current tokio runtime.
    pub fn spawn(store: Store, config: RecorderConfig) -> Self {
        let queue = Arc::new(Queue {
            state: std::sync::Mutex::default(),
            ready: Notify::new(),
            room: Semaphore::new(config.capacity.clamp(1, Semaphore::MAX_PERMITS)),
        });
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            store: store.clone(),
            config,
            counters: counters.clone(),
            queue: queue.clone(),
        };
        let handle = tokio::spawn(worker.run());
        Self {
            queue: Arc::new(Producers(queue)),
            store,
            counters,
            worker: Arc::new(Mutex::new(Some(handle))),
        }
    }

    /// Queues a record. Returns at once while the queue has room; waits for
    /// room when it is full (backpressure, never a drop).
    pub async fn record(&self, record: CallRecord) -> Result<(), RecorderError> {
        let room = &self.queue.0.room;
        match room.try_acquire() {
            Ok(place) => place.forget(),
            Err(TryAcquireError::Closed) => return Err(RecorderError::Closed(Box::new(record))),
            Err(TryAcquireError::NoPermits) => {
                let waits = self
                    .counters
                    .backpressure_waits
                    .fetch_add(1, Ordering::Relaxed);
                if waits.is_power_of_two() {
                    tracing::warn!(
                        waits = waits + 1,
                        "the call-record queue is full: the database is not keeping up, calls wait for the recorder"
                    );
                }
                match room.acquire().await {
                    Ok(place) => place.forget(),
                    Err(_) => return Err(RecorderError::Closed(Box::new(record))),
                }
            }
        }
        self.push(record)
    }

    /// Queues `record`, for which a place was taken, unless the queue closed.
    fn push(&self, record: CallRecord) -> Result<(), RecorderError> {
        let queue = &self.queue.0;
        let mut state = queue.lock();
        if state.closed {
            return Err(RecorderError::Closed(Box::new(record)));
        }
        let first = state.records.is_empty();
        state.records.push_back(record);
        drop(state);
        if first {
            queue.ready.notify_one();
        }
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The store records are written to (one pool shared with the host:
    /// a second SQLite pool on the same file would fight this one for the
    /// write lock).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Counters so far.
    pub fn stats(&self) -> RecorderStats {
        let c = &self.counters;
        RecorderStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            events_written: c.events_written.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            backpressure_waits: c.backpressure_waits.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting records and writes every record accepted before, then
    /// returns. Calling it again (or from a clone) returns `Ok` at once.
    pub async fn shutdown(&self) -> Result<(), RecorderError> {
        let mut worker = self.worker.lock().await;
        let Some(handle) = worker.take() else {
            return Ok(());
        };
        let (done_tx, done_rx) = oneshot::channel();
        {
            let queue = &self.queue.0;
            let mut state = queue.lock();
            state.closed = true;
            state.shutdown = Some(done_tx);
            drop(state);
            queue.ready.notify_one();
            // Callers waiting for room get `Closed` back instead.
            queue.room.close();
        }
        // The writer stores everything queued before it answers.
        let result = done_rx.await.unwrap_or(Ok(()));
        if let Err(e) = handle.await {
            tracing::error!("the call recorder task failed: {e}");
        }
        result
    }
}

struct Worker {
    store: Store,
    config: RecorderConfig,
    counters: Arc<Counters>,
    queue: Arc<Queue>,
}

impl Worker {
    async fn run(self) {
        let batch_size = self.config.batch_size.max(1);
        // Set when the last batch left records queued: the next one is
        // written without lingering.
        let mut backlog = false;
        loop {
            // Wait for a first record (or the end).
            loop {
                let ready = {
                    let state = self.queue.lock();
                    !state.records.is_empty() || state.closed
                };
                if ready {
                    break;
                }
                // A notification sent since the check is kept as a permit.
                self.queue.ready.notified().await;
            }
            // Linger by sleeping: records queued meanwhile join this batch,
            // and callers pay only the push (the writer is woken once per
            // batch, not per record).
            if !backlog && !self.config.linger.is_zero() {
                self.linger().await;
            }
            let (batch, closed, done) = {
                let mut state = self.queue.lock();
                let batch = if state.closed || state.records.len() <= batch_size {
                    std::mem::take(&mut state.records)
                } else {
                    state.records.drain(..batch_size).collect()
                };
                backlog = !state.records.is_empty();
                (batch, state.closed, state.shutdown.take())
            };
            // Made contiguous outside the lock.
            let mut batch = Vec::from(batch);
            self.queue.room.add_permits(batch.len());
            if !closed {
                let _ = self.write(&mut batch, None).await;
                continue;
            }
            // Closed: nothing more can be queued; store everything taken.
            let deadline = done
                .is_some()
                .then(|| Instant::now() + self.config.shutdown_timeout);
            let mut result = Ok(());
            // Moved out chunk by chunk, in order, not copied.
            let mut records = batch.into_iter();
            loop {
                let mut chunk: Vec<_> = records.by_ref().take(batch_size).collect();
                if chunk.is_empty() {
                    break;
                }
                if let Err(e) = self.write(&mut chunk, deadline).await {
                    result = Err(e);
                }
            }
            if let Some(done) = done {
                let _ = done.send(result);
            }
            return;
        }
    }

    /// Waits out the linger, or less if the queue is closed meanwhile (a
    /// shutdown, or the last `Recorder` dropped, should not wait for it).
    async fn linger(&self) {
        let until = tokio::time::Instant::now() + self.config.linger;
        loop {
            if self.queue.lock().closed {
                return;
            }
            // Closing notifies `ready`; so may a push from before this batch
            // (a stale permit), after which the closed check runs again.
            tokio::select! {
                () = tokio::time::sleep_until(until) => return,
                () = self.queue.ready.notified() => {}
            }
        }
    }

    /// Writes and clears `batch`. Retries transient errors (until `deadline`,
    /// if any); splits the batch to isolate records the database refuses.
    async fn write(
        &self,
        batch: &mut Vec<CallRecord>,
        deadline: Option<Instant>,
    ) -> Result<(), RecorderError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.store.write_calls(batch).await {
                Ok(events) => {
                    self.counters
                        .written
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    self.counters
                        .events_written
                        .fetch_add(events, Ordering::Relaxed);
                    self.counters.batches.fetch_add(1, Ordering::Relaxed);
                    batch.clear();
                    return Ok(());
                }
                Err(e) if permanent(&e) => {
                    self.write_one_by_one(std::mem::take(batch)).await;
                    return Ok(());
                }
                Err(e) => {
                    if deadline.is_some_and(|d| Instant::now() + backoff > d) {
                        for r in batch.iter() {
                            tracing::error!(
                                record = %serde_json::to_string(r).unwrap_or_default(),
                                "call record not written before shutdown"
                            );
                        }
                        let count = batch.len();
                        batch.clear();
                        return Err(RecorderError::Unwritten {
                            count,
                            last_error: e.to_string(),
                        });
                    }
                    tracing::warn!(
                        records = batch.len(),
                        retry_in_ms = backoff.as_millis() as u64,
                        "writing call records failed, will retry: {e}"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Writes records singly after a batch was refused; logs the refused ones.
    async fn write_one_by_one(&self, batch: Vec<CallRecord>) {
        for r in batch {
            let one = std::slice::from_ref(&r);
            let mut backoff = Duration::from_millis(100);
            loop {
                match self.store.write_calls(one).await {
                    Ok(events) => {
                        self.counters.written.fetch_add(1, Ordering::Relaxed);
                        self.counters
                            .events_written
                            .fetch_add(events, Ordering::Relaxed);
                        self.counters.batches.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Err(e) if permanent(&e) => {
                        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(
                            record = %serde_json::to_string(&r).unwrap_or_default(),
                            "the database refused a call record: {e}"
                        );
                        break;
                    }
                    Err(e) => {
                        tracing::warn!("writing a call record failed, will retry: {e}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
    }
}

/// Errors that retrying the same data cannot fix.
fn permanent(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Invalid(_) | StoreError::Refused(_) | StoreError::Conflict(_)
    )
}
