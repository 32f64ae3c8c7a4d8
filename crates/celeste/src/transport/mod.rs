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
pub mod retry;
pub mod sse;
pub(crate) mod urls;
