//! # celeste-emulator
//!
//! A fast local HTTP/1.1 server that speaks the wire APIs of the providers celeste-ai talks to,
//! answering from scripted [`Scenario`]s with timing and fault injection. It is meant for
//! integration tests, demos and benchmarks: no network, no API keys.
//!
//! ```no_run
//! use celeste_emulator::{Config, Emulator, Fault, Reply, Scenario};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let config = Config::default().scenario(
//!     Scenario::new("flaky weather")
//!         .path("/v1/chat/completions")
//!         .contains("weather")
//!         .then(Fault::status(503).retry_after("0"))
//!         .then(Reply::text("Sunny, 21 °C.").chunk_size(4)),
//! );
//! let emulator = Emulator::start(config).await?;
//! let base_url = format!("{}/v1", emulator.url());
//! // ... point a client at base_url ...
//! assert!(emulator.requests().is_empty());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## Wire APIs
//!
//! Routed by path; a request streams when its JSON body has `"stream": true` (Gemini: the
//! `:streamGenerateContent` path; Ollama: unless `"stream": false`).
//!
//! | API | Path | Stream framing |
//! |---|---|---|
//! | OpenAI Responses | `POST /v1/responses` | SSE with `event:` lines |
//! | Chat Completions | `POST /v1/chat/completions`, `/openai/v1/chat/completions`, `/chat/completions` | SSE, `data: [DONE]` |
//! | Anthropic Messages | `POST /v1/messages` | SSE with `event:` lines |
//! | Gemini | `POST /v1beta/models/{m}:generateContent`, `:streamGenerateContent` (also `/v1/projects/.../models/{m}:...`) | SSE with `?alt=sse`, else a streamed JSON array |
//! | Cohere v2 | `POST /v2/chat` | SSE with `event:` lines |
//! | Ollama | `POST /api/chat` | NDJSON |
//! | Gemini Interactions | `POST /v1beta/interactions` | SSE (`data:` only) |
//!
//! Unknown paths get a 404 JSON error, invalid JSON bodies a 400 in the API's error shape.
//! `GET /_emulator/health` and `GET|DELETE /_emulator/requests` expose health and the journal
//! over HTTP (these requests are not journaled).
//!
//! ## Scenario files
//!
//! See [`Config::from_json`]; a step is a [`Reply`] or a [`Fault`] (see [`Step`] for how JSON
//! tells them apart):
//!
//! ```json
//! {"scenarios": [
//!   {"name": "retry then answer",
//!    "match": {"path": "/v1/messages", "model": "claude-sonnet-4-5", "contains": "hello"},
//!    "responses": [
//!      {"status": 529, "retry_after": "1"},
//!      {"text": "Hello!", "reasoning": "Greet back.", "chunk_size": 3, "delay_ms": 5}
//!    ]}
//! ]}
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod body;
mod config;
pub mod image;
mod jobs;
mod multipart;
mod plan;
mod server;
mod wire;

pub use config::{
    Config, ConfigError, DEFAULT_TEXT, Fault, FaultKind, JobFailure, Match, Reply, Scenario, StatusFault, Step,
    ToolCall, Usage,
};
pub use jobs::{JobInfo, JobState};
pub use server::{Emulator, RecordedRequest, serve_forever};
