//! Moving bytes: the pooled HTTP client with timeouts and retries, error-body decoding, and the framing
//! decoders that cut response bodies into events.

pub mod cassette;
pub mod error_body;
pub mod http;
pub mod ndjson;
pub mod retry;
pub mod sse;
