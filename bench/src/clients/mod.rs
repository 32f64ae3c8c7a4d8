//! The clients under test, each wired to the emulator the way its documentation says, with its
//! default settings otherwise.
//!
//! Each client is behind its own cargo feature, and `bench-runner` builds one `bench-client` per
//! feature ("flavor") in a separate cargo invocation. Built together, the clients would share one
//! feature-unified dependency graph: genai turns on serde_json's `preserve_order` (every
//! `serde_json::Value` map becomes an IndexMap) and rig-core its `float_roundtrip`, and the peers
//! add their TLS stacks to everyone's reqwest. Each client would then be measured with
//! dependencies its own users never get.

#[cfg(feature = "async-openai")]
pub mod async_openai;
#[cfg(feature = "celeste")]
pub mod celeste;
#[cfg(feature = "genai")]
pub mod genai;
#[cfg(feature = "rig")]
pub mod rig;
