//! The journal of a step in flight, so that a step re-run after a host
//! restart neither repeats nor re-bills what it already did.
//!
//! A role's step is not atomic: it may call tools and the LLM several times
//! before it hands off, and the host may stop in between. The run's state
//! is persisted only at the handoff, so after a restart the step runs again
//! from the start. Roles are deterministic given the answers they get, so
//! the re-run makes the same calls in the same order: each call is numbered
//! (`seq`) and its answer journaled in the store together with its charge
//! and trace events ([`bioai_store::Store::journal_call`]); the re-run gets
//! the journaled answers back without executing, charging or tracing them
//! again. If the re-run asks something else (a role that is not
//! deterministic), the journal is abandoned from that call on and the rest
//! runs live, numbered after the journaled entries so no charge collides.

use std::collections::BTreeMap;

use bioai_store::{JournalEntry, Uuid};
use parking_lot::Mutex;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Answers larger than this are journaled without their content: a re-run
/// executes that call again (it is still charged once).
pub(super) const MAX_JOURNALED_BYTES: usize = 16 << 20;

/// The journal of one step, shared by the step's host handles.
#[derive(Debug)]
pub(super) struct StepJournal {
    /// The step's number: the run's persisted steps + 1.
    pub(super) step: i32,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    next_seq: i32,
    /// What the previous run of this step journaled, by seq; emptied when
    /// the re-run diverges.
    replay: BTreeMap<i32, JournalEntry>,
}

/// What to do with the next call.
#[derive(Debug, PartialEq)]
pub(super) enum Next {
    /// Journaled before: answer with this (None: it was too large to keep,
    /// so execute it again, without charging or tracing it).
    Replay(Option<Value>),
    /// Not journaled: execute it and journal it.
    Live,
}

impl StepJournal {
    /// The journal of step `step`, with the entries a previous run of it left.
    pub(super) fn new(step: i32, entries: Vec<JournalEntry>) -> Self {
        StepJournal {
            step,
            inner: Mutex::new(Inner {
                next_seq: 0,
                replay: entries.into_iter().map(|e| (e.seq, e)).collect(),
            }),
        }
    }

    /// Numbers the next call (`kind`, with `request_hash`) and says whether
    /// it was journaled before.
    pub(super) fn next(&self, kind: &str, request_hash: &str) -> (i32, Next) {
        let mut inner = self.inner.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let Some(entry) = inner.replay.remove(&seq) else {
            return (seq, Next::Live);
        };
        if entry.kind == kind && entry.request_hash == request_hash {
            return (seq, Next::Replay(entry.response));
        }
        // Diverged: live from here on, numbered after everything journaled.
        let last = inner.replay.keys().next_back().copied().unwrap_or(seq);
        tracing::warn!(
            step = self.step,
            seq,
            "a re-run step asked something else than its journal records; running the rest live"
        );
        inner.replay.clear();
        let seq = last.max(seq) + 1;
        inner.next_seq = seq + 1;
        (seq, Next::Live)
    }

    /// True while entries of a previous run are left to replay.
    pub(super) fn replaying(&self) -> bool {
        !self.inner.lock().replay.is_empty()
    }
}

/// The hash of a request: its kind and parts, unambiguously separated.
pub(super) fn request_hash(kind: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The `tool_calls` id of call `seq` of step `step` of `run` (`seq` None:
/// the role's own call), the same on every re-run.
pub(super) fn call_id(run: Uuid, step: i32, seq: Option<i32>) -> Uuid {
    let name = match seq {
        Some(s) => format!("step/{step}/call/{s}"),
        None => format!("step/{step}/role"),
    };
    Uuid::new_v5(&run, name.as_bytes())
}

/// `response`, or `None` when it is too large to journal.
pub(super) fn keep(response: Value) -> Option<Value> {
    let size = serde_json::to_vec(&response).map_or(usize::MAX, |v| v.len());
    (size <= MAX_JOURNALED_BYTES).then_some(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(seq: i32, kind: &str, hash: &str) -> JournalEntry {
        JournalEntry {
            seq,
            kind: kind.into(),
            request_hash: hash.into(),
            response: Some(json!(seq)),
        }
    }

    #[test]
    fn replays_matching_calls_then_runs_live() {
        let j = StepJournal::new(3, vec![entry(0, "llm", "a"), entry(1, "tool", "b")]);
        assert!(j.replaying());
        assert_eq!(j.next("llm", "a"), (0, Next::Replay(Some(json!(0)))));
        assert_eq!(j.next("tool", "b"), (1, Next::Replay(Some(json!(1)))));
        assert!(!j.replaying());
        assert_eq!(j.next("tool", "c"), (2, Next::Live));
    }

    #[test]
    fn a_divergent_call_runs_live_after_the_journal() {
        let j = StepJournal::new(
            1,
            vec![
                entry(0, "llm", "a"),
                entry(1, "tool", "b"),
                entry(2, "tool", "c"),
            ],
        );
        assert_eq!(j.next("llm", "a"), (0, Next::Replay(Some(json!(0)))));
        // Something else than entry 1: numbered after entry 2, never colliding.
        assert_eq!(j.next("tool", "x"), (3, Next::Live));
        assert_eq!(j.next("tool", "c"), (4, Next::Live));
        assert!(!j.replaying());
    }

    #[test]
    fn hashes_and_ids_are_stable_and_distinct() {
        assert_eq!(
            request_hash("tool", &["a", "bc"]),
            request_hash("tool", &["a", "bc"])
        );
        assert_ne!(
            request_hash("tool", &["a", "bc"]),
            request_hash("tool", &["ab", "c"])
        );
        let run = Uuid::now_v7();
        assert_eq!(call_id(run, 1, Some(0)), call_id(run, 1, Some(0)));
        assert_ne!(call_id(run, 1, Some(0)), call_id(run, 2, Some(0)));
        assert_ne!(call_id(run, 1, None), call_id(run, 1, Some(0)));
        assert_eq!(keep(json!("small")), Some(json!("small")));
    }
}
