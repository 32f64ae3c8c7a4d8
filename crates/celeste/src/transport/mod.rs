//! Moving bytes: the pooled HTTP client with timeouts and retries, error-body decoding, record and
//! replay, and the framing decoders that cut response bodies into events.
//!
//! The framing decoders are push-style and synchronous: feed them the body's chunks and pull complete
//! frames, so the same code serves any async runtime, and tests need none.

pub mod cassette;
pub mod error_body;
pub mod http;
mod lines;
pub mod ndjson;
pub(crate) mod redact;
pub mod retry;
pub mod sse;
pub(crate) mod urls;
// Used by the live sessions and WebSocket TTS; unused until the first of them lands.
#[allow(dead_code)]
pub(crate) mod ws;

use reqwest::header::HeaderMap;

use crate::error::Error;

/// What watches the HTTP attempts of one request: the call's span implements it (telemetry depends on
/// transport, never the other way round), `()` watches nothing.
pub(crate) trait AttemptObserver {
    /// One attempt's watcher.
    type Attempt: Attempt;
    /// An attempt is starting (`resend_count` 0 for the first).
    fn attempt(&self, method: &str, url: &str, resend_count: u32) -> Self::Attempt;
}

/// The watcher of one HTTP attempt.
pub(crate) trait Attempt {
    /// Add headers for this attempt (trace context).
    fn inject(&self, headers: &mut HeaderMap);
    /// The response status arrived.
    fn status(&mut self, status: u16);
    /// The attempt failed before a status arrived.
    fn error(&mut self, err: &Error);
}

impl AttemptObserver for () {
    type Attempt = ();
    fn attempt(&self, _method: &str, _url: &str, _resend_count: u32) {}
}

impl Attempt for () {
    fn inject(&self, _headers: &mut HeaderMap) {}
    fn status(&mut self, _status: u16) {}
    fn error(&mut self, _err: &Error) {}
}
