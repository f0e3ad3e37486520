//! Per-host request rates (`[network.rate_limits]` in a policy), shared by
//! every call of a plugin.
//!
//! Each call runs in a fresh instance, so a plugin cannot pace itself across
//! calls; the runtime does it. Requests of one plugin to the hosts of one
//! `allow` entry are spaced `1 / rate` seconds apart: each request reserves
//! the next free start time and waits for it. This is a token bucket holding
//! a single token, which keeps every one-second window at or under the
//! service's limit (a larger bucket would let bursts of twice the rate
//! through at a window's edge). Waiting requests keep their order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The pacing state of every (plugin, allow entry) with a rate limit; owned
/// by the [`Runtime`](super::Runtime), so it outlives calls.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    next_free: Mutex<HashMap<RateKey, Instant>>,
}

/// Whose requests share one pace: the plugin and the `allow` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RateKey {
    pub(crate) plugin: Arc<str>,
    pub(crate) pattern: String,
}

/// A request could not be given a start time before the call's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PastDeadline {
    /// When the request could have started.
    pub(crate) earliest: Instant,
}

impl RateLimiter {
    /// Reserves the start time of one request at `per_second` (at least 1):
    /// the later of `now` and the key's next free time. When that is after
    /// `deadline`, nothing is reserved (so an abandoned request does not
    /// delay later calls) and the error says when it would have been.
    pub(crate) fn reserve(
        &self,
        key: &RateKey,
        per_second: u32,
        now: Instant,
        deadline: Instant,
    ) -> Result<Instant, PastDeadline> {
        let interval = Duration::from_secs(1) / per_second.max(1);
        let mut map = self.next_free.lock();
        let next = map.entry(key.clone()).or_insert(now);
        let start = (*next).max(now);
        if start > deadline {
            return Err(PastDeadline { earliest: start });
        }
        *next = start + interval;
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(plugin: &str, pattern: &str) -> RateKey {
        RateKey {
            plugin: plugin.into(),
            pattern: pattern.into(),
        }
    }

    #[test]
    fn requests_are_spaced_by_the_interval() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(3600);
        let k = key("ncbi", "eutils.ncbi.nlm.nih.gov");
        let ms = |i: Instant| i.duration_since(t0).as_millis();
        // Four requests at once at 4/s start 0, 250, 500 and 750 ms later.
        let starts: Vec<u128> = (0..4)
            .map(|_| ms(rl.reserve(&k, 4, t0, far).unwrap()))
            .collect();
        assert_eq!(starts, [0, 250, 500, 750]);
        // A request after the queue has drained starts at once.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(rl.reserve(&k, 4, later, far).unwrap(), later);
        // ... and the one right after it waits one interval.
        assert_eq!(
            rl.reserve(&k, 4, later, far).unwrap(),
            later + Duration::from_millis(250)
        );
    }

    #[test]
    fn keys_are_independent() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(3600);
        let a = key("ncbi", "eutils.ncbi.nlm.nih.gov");
        assert_eq!(rl.reserve(&a, 1, t0, far).unwrap(), t0);
        assert_eq!(
            rl.reserve(&a, 1, t0, far).unwrap(),
            t0 + Duration::from_secs(1)
        );
        // Another plugin, or another entry of the same plugin, has its own pace.
        assert_eq!(
            rl.reserve(&key("other", "eutils.ncbi.nlm.nih.gov"), 1, t0, far)
                .unwrap(),
            t0
        );
        assert_eq!(
            rl.reserve(&key("ncbi", "*.uniprot.org"), 1, t0, far)
                .unwrap(),
            t0
        );
    }

    #[test]
    fn a_start_past_the_deadline_is_refused_and_not_reserved() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let k = key("ncbi", "eutils.ncbi.nlm.nih.gov");
        let deadline = t0 + Duration::from_millis(600);
        // 2/s: starts at 0 and 500 ms fit, 1000 ms does not.
        assert!(rl.reserve(&k, 2, t0, deadline).is_ok());
        assert!(rl.reserve(&k, 2, t0, deadline).is_ok());
        let err = rl.reserve(&k, 2, t0, deadline).unwrap_err();
        assert_eq!(err.earliest, t0 + Duration::from_secs(1));
        // The refused request did not push the queue further back.
        let far = t0 + Duration::from_secs(60);
        assert_eq!(
            rl.reserve(&k, 2, t0, far).unwrap(),
            t0 + Duration::from_secs(1)
        );
    }

    #[test]
    fn the_rate_in_force_is_used_per_request() {
        // The same key at a higher rate (an API key appeared) paces faster
        // from the next request on.
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        let k = key("ncbi", "eutils.ncbi.nlm.nih.gov");
        assert_eq!(rl.reserve(&k, 10, t0, far).unwrap(), t0);
        assert_eq!(
            rl.reserve(&k, 10, t0, far).unwrap(),
            t0 + Duration::from_millis(100)
        );
        // Zero is treated as one per second rather than dividing by zero.
        assert_eq!(rl.reserve(&key("x", "y"), 0, t0, far).unwrap(), t0);
        assert_eq!(
            rl.reserve(&key("x", "y"), 0, t0, far).unwrap(),
            t0 + Duration::from_secs(1)
        );
    }
}
