//! # celeste
//!
//! The primitive layer for multi-modal AI in Rust: one typed interface to every modality on every major
//! provider, over plain HTTP, with streaming and OpenTelemetry GenAI telemetry.
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! let out = celeste::text::generate("Explain quantum computing", "gpt-5-mini").await?;
//! println!("{}", out.content);
//! # Ok(())
//! # }
//! ```
//!
//! Start with [`text`] (async), [`blocking`] (no runtime needed) and [`Client`] (configuration).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod audio;
mod auth;
pub mod blocking;
mod call;
pub mod catalog;
mod client;
mod decision;
mod domains;
mod embeddings;
mod error;
pub mod images;
mod jobs;
pub mod live;
#[cfg(test)]
mod parity;
pub mod providers;
mod segmentation;
mod stream;
pub(crate) mod structured;
mod telemetry;
#[cfg(test)]
mod testing;
pub mod text;
mod transport;
pub mod types;
mod vertex;
pub mod videos;
pub(crate) mod wire;

pub use audio::{AudioCall, AudioOps, AudioStream, TranscribeCall};
pub use auth::{Auth, AuthProvider, Credentials, SecretString};
pub use client::{Client, ClientBuilder, TextOps};
pub use decision::Decide;
pub use domains::documents;
pub use embeddings::EmbedCall;
pub use error::{
    CredentialsError, Error, HttpError, JobError, Origin, OutputValidationError, Result, StreamEventError,
    TimeoutPhase, UnexpectedBodyError, UnsupportedError, ValidationError,
};
pub use images::{ImageCall, ImageOps, ImageStream};
pub use segmentation::SegmentCall;
pub use stream::Stream;
#[cfg(feature = "telemetry")]
pub use telemetry::set_global_meter_provider;
pub use telemetry::{CaptureContent, TelemetryConfig};
pub use transport::cassette::{Cassette, MatchOn};
pub use transport::http::Timeouts;
pub use transport::retry::{MAX_RETRY_AFTER, RetryPolicy};
pub use types::enums::{Domain, InputType, Modality, Operation, Protocol, Provider, Role};
pub use types::{
    Artifact, Chunk, FinishKind, FinishReason, FunctionTool, Item, Message, Output, Part, RawJson, Tool, ToolCall,
    ToolChoice, ToolResult, Usage,
};
pub use vertex::Vertex;
pub use videos::{Downloadable, VideoCall, VideoOps};
pub use wire::embeddings::{EmbedInput, Embeddings, EmbeddingsApi};

/// The framing decoders the library cuts response bodies with, for callers who read event streams of
/// their own: push bytes in, pull complete events out; linear in the input and bounded.
pub mod framing {
    pub use crate::transport::ndjson::NdjsonDecoder;
    pub use crate::transport::sse::{SseDecoder, SseEvent};
}

/// The README's examples, compiled as doc tests so they cannot rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
