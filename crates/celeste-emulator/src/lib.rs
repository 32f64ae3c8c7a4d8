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
//! ## Image APIs
//!
//! Every answer carries real images that decode: PNG, JPEG, WebP (and TIFF for Topaz), in the
//! format the request asks for. Their size follows the requested size or aspect ratio, scaled
//! down so that the longest side is [`image::MAX_SIDE`] (16) pixels: `1536x1024` gives 16x11,
//! `"9:16"` gives 9x16, sizes already within 16 pixels are kept, edits and upscales start from
//! the uploaded image's size. Size fields in the JSON (OpenAI `size`, BytePlus `size`, Topaz
//! `output_width`) echo the nominal size that was asked for.
//!
//! | API | Requests | Answer |
//! |---|---|---|
//! | OpenAI `gpt-image-*` | `POST /v1/images/generations` (JSON); `POST /v1/images/edits` (multipart `image` / `image[]`, `mask`, fields; or JSON `images: [{image_url}]`) | `{created, data: [{b64_json}], usage, size, quality, output_format, background}`; `n` images; with `stream: true`, SSE `image_generation.partial_image` x `partial_images` then `image_generation.completed` per image (`image_edit.*` for edits) |
//! | xAI Grok Imagine (a `grok*` model on the OpenAI paths) | JSON generations and edits (`image: {url}` / `images: [{url}]`) | `{data: [{url \| b64_json, mime_type, revised_prompt}]}`, JPEG; URLs served by the emulator |
//! | BytePlus Seedream | `POST /api/v3/images/generations` | `{model, created, data: [{url \| b64_json, size} \| {error}], usage}`; with `stream: true`, SSE `image_generation.partial_succeeded` / `partial_failed` per image, `image_generation.completed`, `[DONE]` |
//! | Gemini image models | generateContent (both path forms) with `responseModalities` `IMAGE` or a `-image` model | an `inlineData {mimeType, data}` PNG part (after the text part when `TEXT` is asked for) |
//! | Gemini Interactions | `POST /v1beta/interactions` with `response_format: {type: "image"}` | `{type: "image", data, mime_type}` content of the `model_output` step (one `step.delta` when streaming) |
//! | BFL Flux | `POST /v1/{model}` (`flux*`), then `GET /v1/get_result?id=` | `{id, polling_url, cost, ...}`; polls answer `Pending`, then `Ready` with `result.sample` (a URL the emulator serves) or the failure status; unknown ids `Task not found` |
//! | Ollama | `POST /api/generate` | NDJSON progress lines (`completed` / `total`), then `{image, done: true}` |
//! | Topaz Labs | multipart `POST /image/v1/{enhance,enhance-gen,tool,sharpen,...}/async`, `GET /image/v1/status/{id}`, `GET /image/v1/download/{id}` | `{process_id, eta}`; statuses `Pending`, `Processing`, then `Completed` or the failure status; the download answers `{download_url, head_url, expiry}` and the URL serves the bytes |
//!
//! Stored images are served from `GET /files/{id}/{name}` with their image `Content-Type`.
//! Obviously wrong requests (missing prompt, unknown output format, a file that is not an
//! image, a Topaz catalog model on another tool's endpoint, `"True"` for a boolean form field)
//! get a 400 in the provider's error shape (BFL: 422 with FastAPI's `detail` list).
//!
//! ### Job lifecycles
//!
//! A [`Reply`] scripts the image job its request submits, in code or in JSON:
//!
//! - `pending_polls` ([`Reply::pending_polls`]): polls answered pending before the job settles
//!   (default 0);
//! - `job_failure` ([`Reply::job_failure`]): the job then fails with this message and status
//!   (BFL `Error` and Topaz `Failed` by default, or any status such as `"Request Moderated"`);
//!   BytePlus answers an error item / `partial_failed` event and Ollama an `error` line;
//! - `poll_retry_after` ([`Reply::poll_retry_after`]): the `Retry-After` header of pending polls.
//!
//! Polls and downloads go through scenario matching like any request, so every [`Fault`] applies
//! to them too (scope such scenarios with a `path`, e.g. `"/v1/get_result"`). A poll answered by
//! a fault is counted but does not advance the job.
//!
//! ### Inspecting jobs
//!
//! [`Emulator::jobs`] and [`Emulator::job`] (over HTTP: `GET /_emulator/jobs` and
//! `GET /_emulator/jobs/{id}`) report each BFL / Topaz job: `polls` (every request received at
//! its status URL), `answered_polls`, `pending_polls`, `state` (`pending`, `ready`, `failed`) and
//! `downloads` of its result, so a test can assert that a client stopped polling a job it
//! dropped.
//!
//! ```json
//! {"scenarios": [
//!   {"name": "slow flux",
//!    "match": {"path": "/v1/flux-dev"},
//!    "responses": [
//!      {"pending_polls": 3, "poll_retry_after": "1"},
//!      {"job_failure": {"status": "Request Moderated", "message": "Flagged by moderation."}}
//!    ]}
//! ]}
//! ```
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
// The plumbing of the WebSocket routes; unused until the first of them lands.
#[allow(dead_code)]
mod ws;

pub use config::{
    Config, ConfigError, DEFAULT_TEXT, Fault, FaultKind, JobFailure, Match, Reply, Scenario, StatusFault, Step,
    ToolCall, Usage,
};
pub use jobs::{JobInfo, JobState};
pub use server::{Emulator, RecordedRequest, serve_forever};
