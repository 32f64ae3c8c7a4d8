//! Transport: how bytes from the wire become framed messages.
//!
//! The framing decoders here are push-style and synchronous: feed them the body's chunks and pull
//! complete frames, so the same code serves any async runtime, and tests need none.

mod lines;
pub mod ndjson;
pub mod sse;
