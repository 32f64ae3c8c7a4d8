//! # celeste
//!
//! The primitive layer for multi-modal AI in Rust: one typed interface to every modality on every major
//! provider, over plain HTTP, with streaming and OpenTelemetry GenAI telemetry.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod transport;
pub mod types;

pub use error::{Error, Result};
pub use types::enums::{Domain, InputType, Modality, Operation, Protocol, Provider, Role};
