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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};

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

enum Msg {
    Record(Box<CallRecord>),
    Shutdown(oneshot::Sender<Result<(), RecorderError>>),
}

/// Queues call records and writes them in batches in the background. Cheap
/// to clone; all clones feed the same queue.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Msg>,
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
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            store: store.clone(),
            config,
            counters: counters.clone(),
        };
        let handle = tokio::spawn(worker.run(rx));
        Self {
            tx,
            store,
            counters,
            worker: Arc::new(Mutex::new(Some(handle))),
        }
    }

    /// Queues a record. Returns at once while the queue has room; waits for
    /// room when it is full (backpressure, never a drop).
    pub async fn record(&self, record: CallRecord) -> Result<(), RecorderError> {
        let msg = Msg::Record(Box::new(record));
        let msg = match self.tx.try_send(msg) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Err(mpsc::error::TrySendError::Full(msg)) => msg,
            Err(mpsc::error::TrySendError::Closed(msg)) => return Err(closed(msg)),
        };
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
        match self.tx.send(msg).await {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::SendError(msg)) => Err(closed(msg)),
        }
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
        // The queue may be full: this waits behind the records, which is the point.
        let result = if self.tx.send(Msg::Shutdown(done_tx)).await.is_ok() {
            done_rx.await.unwrap_or(Ok(()))
        } else {
            Ok(())
        };
        if let Err(e) = handle.await {
            tracing::error!("the call recorder task failed: {e}");
        }
        result
    }
}

fn closed(msg: Msg) -> RecorderError {
    match msg {
        Msg::Record(r) => RecorderError::Closed(r),
        // Only `record` sends records; shutdown messages never come back here.
        Msg::Shutdown(_) => RecorderError::Unwritten {
            count: 0,
            last_error: "recorder closed".into(),
        },
    }
}

struct Worker {
    store: Store,
    config: RecorderConfig,
    counters: Arc<Counters>,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Msg>) {
        let batch_size = self.config.batch_size.max(1);
        let mut batch: Vec<CallRecord> = Vec::with_capacity(batch_size);
        // Set when the last drain stopped at `batch_size` with more queued:
        // the next batch is written without lingering.
        let mut backlog = false;
        loop {
            let Some(first) = rx.recv().await else {
                // Every sender dropped without a shutdown: write what is left.
                let _ = self.write(&mut batch, None).await;
                return;
            };
            let mut shutdown = None;
            match first {
                Msg::Record(r) => batch.push(*r),
                Msg::Shutdown(done) => shutdown = Some(done),
            }
            // Linger by sleeping, not by waiting on the queue: a task parked
            // on `recv` is woken by every `record` (a cross-thread wake-up on
            // the caller's path), while a sleeping one costs callers only the
            // queue push. The queue is drained once the linger is over.
            if shutdown.is_none() && !backlog && !self.config.linger.is_zero() {
                tokio::time::sleep(self.config.linger).await;
            }
            backlog = false;
            while shutdown.is_none() {
                if batch.len() >= batch_size {
                    backlog = !rx.is_empty();
                    break;
                }
                match rx.try_recv() {
                    Ok(Msg::Record(r)) => batch.push(*r),
                    Ok(Msg::Shutdown(done)) => shutdown = Some(done),
                    // Empty, or every sender dropped (the outer loop then
                    // writes and returns).
                    Err(_) => break,
                }
            }
            if let Some(done) = shutdown {
                // Refuse new records, then drain what raced in before the close.
                rx.close();
                while let Some(msg) = rx.recv().await {
                    if let Msg::Record(r) = msg {
                        batch.push(*r);
                    }
                }
                let deadline = Instant::now() + self.config.shutdown_timeout;
                let mut result = Ok(());
                for chunk in std::mem::take(&mut batch).chunks(batch_size) {
                    let mut chunk = chunk.to_vec();
                    if let Err(e) = self.write(&mut chunk, Some(deadline)).await {
                        result = Err(e);
                    }
                }
                let _ = done.send(result);
                return;
            }
            let _ = self.write(&mut batch, None).await;
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
