//! When to retry a provider request and how long to wait first.
//!
//! Rate limits (429), server errors (5xx, including Anthropic's 529
//! "overloaded") and failed connections are retried with exponential backoff;
//! a `Retry-After` header the provider sent wins over the backoff.

use std::time::Duration;

/// The wait before the first retry; it doubles per attempt.
const BASE: Duration = Duration::from_millis(250);
/// The longest computed backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured; a provider asking for more is asked
/// again after this long (and still counts against `max_retries`).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Whether an HTTP status is worth retrying.
pub(crate) fn retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// The wait before retry number `retry` (0 for the first retry), given the
/// provider's `Retry-After` header if any.
pub(crate) fn delay(retry: u32, retry_after: Option<&str>) -> Duration {
    if let Some(d) = retry_after.and_then(parse_retry_after) {
        return d.min(MAX_RETRY_AFTER);
    }
    let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
    BASE.saturating_mul(factor).min(MAX_BACKOFF)
}

/// `Retry-After` as seconds (`"2"`, also `"1.5"`, which some providers
/// send). HTTP dates are not honoured: the backoff applies then.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(delay(0, None), Duration::from_millis(250));
        assert_eq!(delay(1, None), Duration::from_millis(500));
        assert_eq!(delay(3, None), Duration::from_secs(2));
        assert_eq!(delay(40, None), MAX_BACKOFF);
    }

    #[test]
    fn retry_after_wins_when_readable() {
        assert_eq!(delay(5, Some("1")), Duration::from_secs(1));
        assert_eq!(delay(0, Some(" 0.5 ")), Duration::from_millis(500));
        assert_eq!(delay(0, Some("0")), Duration::ZERO);
        assert_eq!(delay(0, Some("100000")), MAX_RETRY_AFTER);
        assert_eq!(
            delay(1, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Duration::from_millis(500)
        );
        assert_eq!(delay(0, Some("-3")), Duration::from_millis(250));
    }

    #[test]
    fn which_statuses_are_retried() {
        for s in [429, 500, 502, 503, 529] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
