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

pub mod auth;
pub mod blocking;
mod call;
pub mod catalog;
pub mod client;
pub mod domains;
pub mod error;
pub mod providers;
pub mod stream;
pub(crate) mod structured;
pub mod telemetry;
#[cfg(test)]
mod testing;
pub mod text;
pub mod transport;
pub mod types;
pub mod vertex;
pub(crate) mod wire;

pub use auth::{Auth, AuthProvider, Credentials, SecretString};
pub use client::{Client, ClientBuilder};
pub use domains::{Embeddings, MediaCall, audio, documents, images, videos};
pub use error::{Error, Origin, Result};
pub use stream::Stream;
pub use telemetry::{CaptureContent, TelemetryConfig};
pub use transport::http::Timeouts;
pub use transport::retry::RetryPolicy;
pub use types::enums::{Domain, InputType, Modality, Operation, Protocol, Provider, Role};
pub use types::{
    Artifact, Chunk, FinishKind, FinishReason, FunctionTool, Item, Message, Output, Part, Tool, ToolCall, ToolChoice,
    ToolResult, Usage,
};

/// The README's examples, compiled as doc tests so they cannot rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
