//! What one call consumed: the input to billing and to the cost sidebar.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Resources one tool call consumed.
///
/// Fuel is the billing unit for computation: wasmtime charges roughly one unit
/// per executed WebAssembly operator, so it is deterministic for a given input
/// and does not count time spent waiting in host calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Meters {
    /// Fuel consumed by the guest.
    pub fuel: u64,
    /// Highest total linear memory the call's instance held at once, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall-clock time from store creation to the end of the call.
    #[serde(serialize_with = "as_micros", rename = "wall_us")]
    pub wall: Duration,
    /// Outgoing HTTP requests and socket connections the call made (allowed ones only).
    pub net_requests: u64,
    /// Bytes sent on outgoing connections (including TLS and HTTP framing).
    pub net_bytes_out: u64,
    /// Bytes received on outgoing connections.
    pub net_bytes_in: u64,
}

fn as_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Network counters shared between a call's store and the connections it opens.
#[derive(Debug, Default)]
pub struct NetCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
}

impl NetCounters {
    pub(crate) fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_out(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn fill(&self, meters: &mut Meters) {
        meters.net_requests = self.requests.load(Ordering::Relaxed);
        meters.net_bytes_out = self.bytes_out.load(Ordering::Relaxed);
        meters.net_bytes_in = self.bytes_in.load(Ordering::Relaxed);
    }
}
