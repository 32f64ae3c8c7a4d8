//! When and how long to wait before trying a request again.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The retry policy for unary requests and for opening streams (never after a stream has produced a
/// chunk: a half-consumed stream is not replayed).
///
/// Retried: statuses 408, 409, 429, 500, 502, 503, 504 and 529, and failures to connect, unless the
/// server says `x-should-retry: false` (and a `x-should-retry: true` makes any status retryable).
///
/// Not retried unless [`retry_after_send`](Self::retry_after_send) is set: a request that was sent and
/// got no answer (the response headers did not arrive within [`Timeouts::headers`](crate::Timeouts),
/// or the connection broke before they did). The provider may still be generating that reply, and
/// sending it again would bill the generation twice (and, for a slow reasoning call, time out again). The wait is exponential with full jitter, or what the server asked for with
/// `Retry-After` (seconds or an HTTP date) or `retry-after-ms` (read defensively, capped at
/// [`MAX_RETRY_AFTER`]). A server that asks for more than
/// [`max_wait`](Self::max_wait) is not retried: the error (with its `retry_after`) goes to the caller
/// at once instead of blocking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2, so at most 3 attempts).
    pub max_retries: u32,
    /// The first backoff (default 500 ms); doubles each retry.
    pub initial_backoff: Duration,
    /// The cap on computed backoff (default 8 s).
    pub max_backoff: Duration,
    /// The longest server-requested wait honoured (default 60 s).
    pub max_wait: Duration,
    /// Whether a request that was sent and got no answer is sent again (default `false`; see above).
    pub retry_after_send: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
            retry_after_send: false,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..Self::default() }
    }

    /// Set the number of retries.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Set the first backoff.
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Set the cap on computed backoff.
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Set the longest server-requested wait honoured.
    pub fn with_max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// Also re-send a request that was sent and got no answer (a header timeout, a connection lost
    /// before the response): for idempotent or cheap calls, where a second run costs nothing that
    /// matters.
    pub fn with_retry_after_send(mut self, on: bool) -> Self {
        self.retry_after_send = on;
        self
    }

    /// Whether `err`, from one attempt, is worth another under this policy (the attempt count and
    /// the wait are [`wait`](Self::wait)'s).
    pub(crate) fn retries(&self, err: &crate::error::Error) -> bool {
        err.is_retryable() || (self.retry_after_send && err.may_have_been_processed())
    }

    /// The wait before retry number `retry` (0-based), or `None` to stop retrying.
    pub(crate) fn wait(&self, retry: u32, server_asked: Option<Duration>) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        if let Some(d) = server_asked {
            return (d <= self.max_wait).then_some(d);
        }
        let exp = self.initial_backoff.saturating_mul(2u32.saturating_pow(retry));
        let cap = exp.min(self.max_backoff);
        // Full jitter spreads retries of many clients hit by the same outage.
        // `mul_f64` would panic when `cap` is near `Duration::MAX` (the product rounds past it).
        let jittered = Duration::try_from_secs_f64(cap.as_secs_f64() * (0.5 + fastrand::f64() * 0.5)).unwrap_or(cap);
        Some(jittered)
    }
}

/// The longest server-requested wait recorded in [`HttpError::retry_after`](crate::error::HttpError::retry_after):
/// a `Retry-After` or `retry-after-ms` beyond it (`1e20`, a date in the year 9999) is read as this
/// much. A server asking for a day or more is asking not to be retried now, and a day is far above
/// any sensible [`RetryPolicy::max_wait`], so the policy hands the error back at once; and the value
/// stays a `Duration` that any `Instant` can be added to.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait the server asked for: `retry-after-ms`, then `Retry-After` as seconds or an HTTP date.
///
/// Header values are untrusted: a negative, NaN, infinite or unparseable value counts as absent (the
/// next header, or the policy's own backoff, decides), and a finite one beyond [`MAX_RETRY_AFTER`]
/// is capped to it.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(d) = text("retry-after-ms").and_then(|v| seconds(v, 1000.0)) {
        return Some(d);
    }
    let v = text("retry-after")?;
    if let Some(d) = seconds(v, 1.0) {
        return Some(d);
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

/// A non-negative finite number of `per_second` units as a wait, capped at [`MAX_RETRY_AFTER`].
fn seconds(text: &str, per_second: f64) -> Option<Duration> {
    let n = text.parse::<f64>().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    // Compared before converting: `Duration::from_secs_f64` panics on values it cannot hold.
    let secs = n / per_second;
    if secs >= MAX_RETRY_AFTER.as_secs_f64() {
        return Some(MAX_RETRY_AFTER);
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// The server's `x-should-retry` verdict.
pub(crate) fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_seconds_ms_and_dates() {
        assert_eq!(retry_after(&headers(&[("retry-after", "2")])), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&headers(&[("retry-after", "0.5")])), Some(Duration::from_millis(500)));
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "150"), ("retry-after", "9")])),
            Some(Duration::from_millis(150))
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = retry_after(&headers(&[("retry-after", &future)])).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30), "{d:?}");
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&[("retry-after", &past)])), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn absurd_values_are_capped_or_absent_never_a_panic() {
        let cap = Some(MAX_RETRY_AFTER);
        for (name, value, want) in [
            ("retry-after", "1e20", cap),
            ("retry-after", "86400", cap),
            ("retry-after", "86399.5", Some(Duration::from_millis(86_399_500))),
            ("retry-after-ms", "1e300", cap),
            ("retry-after-ms", "1.7976931348623157e308", cap),
            ("retry-after", "-0.5", None),
            ("retry-after-ms", "-1e300", None),
            ("retry-after", "NaN", None),
            ("retry-after", "inf", None),
            ("retry-after-ms", "infinity", None),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT", cap),
            ("retry-after", "", None),
        ] {
            assert_eq!(retry_after(&headers(&[(name, value)])), want, "{name}: {value}");
        }
        // An unusable `retry-after-ms` leaves the decision to `Retry-After`.
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "NaN"), ("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn a_huge_backoff_cap_does_not_panic() {
        let p = RetryPolicy::default().with_initial_backoff(Duration::MAX).with_max_backoff(Duration::MAX);
        for retry in 0..2 {
            assert!(p.wait(retry, None).is_some());
        }
    }

    #[test]
    fn backoff_is_exponential_jittered_and_capped() {
        let p = RetryPolicy::default().with_max_retries(10);
        for retry in 0..10 {
            let d = p.wait(retry, None).unwrap();
            let full = Duration::from_millis(500).saturating_mul(1 << retry).min(Duration::from_secs(8));
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?}");
        }
        assert_eq!(p.wait(10, None), None);
    }

    #[test]
    fn server_wait_is_honoured_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait(0, Some(Duration::from_secs(3))), Some(Duration::from_secs(3)));
        assert_eq!(p.wait(0, Some(Duration::from_secs(3600))), None);
        assert_eq!(RetryPolicy::none().wait(0, Some(Duration::ZERO)), None);
    }

    #[test]
    fn should_retry_header() {
        assert_eq!(should_retry(&headers(&[("x-should-retry", "false")])), Some(false));
        assert_eq!(should_retry(&headers(&[("x-should-retry", "true")])), Some(true));
        assert_eq!(should_retry(&headers(&[("x-should-retry", "maybe")])), None);
    }
}
