//! Configuration: scenarios, replies and faults, readable from JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The paragraph served when no scenario matches a request (see [`Config::default_reply`]).
pub const DEFAULT_TEXT: &str = "Hello from the celeste emulator. This reply was not produced by a \
language model: it is a fixed paragraph that a local test server sends whenever no scenario \
matches the request. It is streamed in small pieces, with token usage attached, so that a client \
can be exercised end to end without network access or API keys. Timing, retries and error \
handling can be scripted with scenarios, which match on the path, the model, a header or a \
fragment of the request body, and answer with text, reasoning, tool calls or injected faults.";

/// Everything an [`Emulator`](crate::Emulator) needs to run.
///
/// Build one in code (`Config::default().scenario(..)`) or read it from JSON with
/// [`Config::from_json`] / [`Config::from_file`]. The JSON form is either an object
/// `{"bind": "127.0.0.1:0", "default_reply": {..}, "scenarios": [..]}` (every key optional) or a
/// bare array of scenarios.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:0` (an ephemeral port; read it back with
    /// [`Emulator::addr`](crate::Emulator::addr)).
    pub bind: SocketAddr,
    /// Scenarios, tried in order; the first one whose `match` fits the request wins.
    pub scenarios: Vec<Scenario>,
    /// The reply for requests that match no scenario, and the content streamed by a stream
    /// fault that carries no `reply` of its own. Default: [`DEFAULT_TEXT`].
    pub default_reply: Reply,
    /// Keep a journal of requests (see [`Emulator::requests`](crate::Emulator::requests)).
    /// Default `true`; benchmarks may turn it off to avoid copying request bodies.
    pub record_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            scenarios: Vec::new(),
            default_reply: Reply::text(DEFAULT_TEXT),
            record_requests: true,
        }
    }
}

/// An error reading a [`Config`].
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Io(std::io::Error),
    /// The JSON was malformed or did not describe a valid configuration.
    Json(serde_json::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io(e) => write!(f, "cannot read emulator config: {e}"),
            ConfigError::Json(e) => write!(f, "invalid emulator config: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Io(e) => Some(e),
            ConfigError::Json(e) => Some(e),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigObject {
    #[serde(default)]
    bind: Option<SocketAddr>,
    #[serde(default)]
    scenarios: Vec<Scenario>,
    #[serde(default)]
    default_reply: Option<Reply>,
    #[serde(default)]
    record_requests: Option<bool>,
}

impl Config {
    /// Parses a configuration from JSON text (an object or a bare array of scenarios).
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        // Parse to a Value first so that errors inside scenarios are reported precisely
        // instead of as "did not match any variant".
        let value: Value = serde_json::from_str(text).map_err(ConfigError::Json)?;
        let mut config = Config::default();
        if value.is_array() {
            config.scenarios = serde_json::from_value(value).map_err(ConfigError::Json)?;
            return Ok(config);
        }
        let o: ConfigObject = serde_json::from_value(value).map_err(ConfigError::Json)?;
        if let Some(bind) = o.bind {
            config.bind = bind;
        }
        config.scenarios = o.scenarios;
        if let Some(reply) = o.default_reply {
            config.default_reply = reply;
        }
        if let Some(record) = o.record_requests {
            config.record_requests = record;
        }
        Ok(config)
    }

    /// Reads and parses a JSON configuration file (see [`Config::from_json`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(ConfigError::Io)?;
        Config::from_json(&text)
    }

    /// Sets the listen address.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Appends a scenario.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.scenarios.push(scenario);
        self
    }

    /// Sets the reply used when no scenario matches.
    pub fn default_reply(mut self, reply: Reply) -> Self {
        self.default_reply = reply;
        self
    }

    /// Turns the request journal on or off.
    pub fn record_requests(mut self, on: bool) -> Self {
        self.record_requests = on;
        self
    }
}

/// A named rule: when a request fits `match`, answer with the next step of `responses`.
///
/// Successive matching requests get successive steps; once the list is exhausted the last step
/// repeats. A scenario with no steps answers with the config's default reply.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name recorded in the journal for requests this scenario answered.
    pub name: String,
    /// Which requests this scenario answers. Every field that is set must match.
    #[serde(rename = "match", default)]
    pub matcher: Match,
    /// The steps served in sequence.
    #[serde(default)]
    pub responses: Vec<Step>,
}

impl Scenario {
    /// A scenario that matches every request and has no steps yet.
    pub fn new(name: impl Into<String>) -> Self {
        Scenario { name: name.into(), matcher: Match::default(), responses: Vec::new() }
    }

    /// Matches on the path (without query): exact, or a prefix when it ends with `*`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.matcher.path = Some(path.into());
        self
    }

    /// Matches on the request's model (the body's `model`, or the model in a Gemini path).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.matcher.model = Some(model.into());
        self
    }

    /// Matches when the raw request body contains this substring.
    pub fn contains(mut self, needle: impl Into<String>) -> Self {
        self.matcher.contains = Some(needle.into());
        self
    }

    /// Matches when the request has this header (name case-insensitive, value exact).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.matcher.header = Some((name.into(), value.into()));
        self
    }

    /// Appends a step (a [`Reply`] or a [`Fault`]).
    pub fn then(mut self, step: impl Into<Step>) -> Self {
        self.responses.push(step.into());
        self
    }
}

/// The conditions of a [`Scenario`]. Unset fields match anything.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// The request path without its query: an exact match, or a prefix match when the pattern
    /// ends with `*` (`"/v1beta/models/*"`).
    #[serde(default)]
    pub path: Option<String>,
    /// The model: the body's `"model"` field, or `{model}` in `/models/{model}:generateContent`.
    #[serde(default)]
    pub model: Option<String>,
    /// A substring of the raw request body.
    #[serde(default)]
    pub contains: Option<String>,
    /// `[name, value]`: a header that must be present with exactly this value (the name is
    /// compared case-insensitively).
    #[serde(default)]
    pub header: Option<(String, String)>,
}

/// One answer in a scenario: a normal [`Reply`] or an injected [`Fault`].
///
/// In JSON a step is an object. It is a fault when it has one of the fault keys
/// (`html_error`, `empty_error`, `binary_error`, `reset_after_events`, `stall_after_events`,
/// `malformed_event_at`, `oversize_event_bytes`, `stream_error_at`, `headers_delay_ms`,
/// `truncate_after_events`), or when it has `status` and none of the reply keys; otherwise it is
/// a reply.
#[derive(Clone, Debug)]
pub enum Step {
    /// A successful (or at least well-formed) answer.
    Reply(Reply),
    /// An injected failure.
    Fault(Fault),
}

impl From<Reply> for Step {
    fn from(r: Reply) -> Self {
        Step::Reply(r)
    }
}

impl From<Fault> for Step {
    fn from(f: Fault) -> Self {
        Step::Fault(f)
    }
}

const REPLY_KEYS: &[&str] = &[
    "text",
    "reasoning",
    "tool_calls",
    "usage",
    "finish_reason",
    "chunk_size",
    "delay_ms",
    "chunks",
    "event_bytes",
    "pending_polls",
    "job_failure",
    "poll_retry_after",
    "image_bytes",
    "audio_bytes",
];

const FAULT_KEYS: &[&str] = &[
    "html_error",
    "empty_error",
    "binary_error",
    "reset_after_events",
    "stall_after_events",
    "malformed_event_at",
    "oversize_event_bytes",
    "stream_error_at",
    "headers_delay_ms",
    "truncate_after_events",
];

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(d)?;
        let has = |keys: &[&str]| map.keys().any(|k| keys.contains(&k.as_str()));
        let is_fault = has(FAULT_KEYS) || (map.contains_key("status") && !has(REPLY_KEYS));
        let value = Value::Object(map);
        if is_fault {
            let repr: FaultRepr = serde_json::from_value(value).map_err(D::Error::custom)?;
            repr.into_fault().map(Step::Fault).map_err(D::Error::custom)
        } else {
            serde_json::from_value(value).map(Step::Reply).map_err(D::Error::custom)
        }
    }
}

/// A normal answer: text, optional reasoning and tool calls, usage, and streaming shape.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Reply {
    /// The assistant text.
    pub text: String,
    /// Reasoning / thinking text, streamed before the answer in each API's reasoning form.
    pub reasoning: Option<String>,
    /// Tool (function) calls, after the text.
    pub tool_calls: Vec<ToolCall>,
    /// Token usage; unset counts are derived from the lengths of the request and the reply.
    pub usage: Usage,
    /// Overrides the API's finish / stop reason (`"length"`, `"max_tokens"`, `"MAX_TOKENS"`...).
    /// The value is sent verbatim.
    pub finish_reason: Option<String>,
    /// Characters per streamed text delta. Default 8.
    pub chunk_size: usize,
    /// Milliseconds to wait between stream events. Default 0.
    pub delay_ms: u64,
    /// Exact number of text-delta events: the text is repeated or cut to `chunks * chunk_size`
    /// characters (the default paragraph is used when `text` is empty).
    pub chunks: Option<usize>,
    /// Make the text a single delta of exactly this many bytes (the text is repeated or cut).
    pub event_bytes: Option<usize>,
    /// HTTP status of the response. Default 200.
    pub status: u16,
    /// Image jobs (BFL, Topaz): how many polls report the job as pending before it settles as
    /// ready (or failed, with [`Reply::job_failure`]). Default 0: the first poll settles it.
    pub pending_polls: u32,
    /// Image generation fails with this once the pending polls are over: a BFL or Topaz job
    /// settles with the failure status, a BytePlus image becomes an error item (a
    /// `partial_failed` event when streaming), an Ollama image stream ends with an `error` line.
    pub job_failure: Option<JobFailure>,
    /// Image jobs: the `Retry-After` header value sent on every pending poll response.
    pub poll_retry_after: Option<String>,
    /// OpenAI Images: make every final PNG exactly this many bytes (padded with a private ancillary
    /// chunk, which decoders skip), for benchmarks of large responses. Other formats, partial images
    /// and sizes below the image's own are sent as they are. Default: the image's own size.
    pub image_bytes: Option<usize>,
    /// Speech (OpenAI, ElevenLabs): make the audio about this many bytes instead of a length that
    /// follows the text (capped at 5 s): exactly this many for raw PCM, μ-law and A-law (rounded down
    /// to whole samples), the WAV header included for WAV, whole frames at most this long for MP3.
    pub audio_bytes: Option<usize>,
}

/// How an image job fails (see [`Reply::job_failure`]).
///
/// In JSON either a message (`"job_failure": "GPU exploded"`) or an object
/// (`"job_failure": {"status": "Request Moderated", "message": "Flagged"}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFailure {
    /// The provider's failure status, sent verbatim. Default: BFL `"Error"`, Topaz `"Failed"`.
    pub status: Option<String>,
    /// The failure message.
    pub message: String,
}

impl JobFailure {
    /// A failure with this message and the provider's default failure status.
    pub fn new(message: impl Into<String>) -> Self {
        JobFailure { status: None, message: message.into() }
    }

    /// Sets the provider failure status (BFL `"Request Moderated"`, Topaz `"Cancelled"`...).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }
}

impl<'de> Deserialize<'de> for JobFailure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Message(String),
            Full {
                #[serde(default)]
                status: Option<String>,
                message: String,
            },
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Message(message) => JobFailure { status: None, message },
            Repr::Full { status, message } => JobFailure { status, message },
        })
    }
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            text: String::new(),
            reasoning: None,
            tool_calls: Vec::new(),
            usage: Usage::default(),
            finish_reason: None,
            chunk_size: 8,
            delay_ms: 0,
            chunks: None,
            event_bytes: None,
            status: 200,
            pending_polls: 0,
            job_failure: None,
            poll_retry_after: None,
            image_bytes: None,
            audio_bytes: None,
        }
    }
}

impl Reply {
    /// A reply with this text and default settings.
    pub fn text(text: impl Into<String>) -> Self {
        Reply { text: text.into(), ..Reply::default() }
    }

    /// Adds reasoning text.
    pub fn reasoning(mut self, reasoning: impl Into<String>) -> Self {
        self.reasoning = Some(reasoning.into());
        self
    }

    /// Adds a tool call with these JSON arguments.
    pub fn tool_call(mut self, name: impl Into<String>, arguments: Value) -> Self {
        self.tool_calls.push(ToolCall { id: None, name: name.into(), arguments });
        self
    }

    /// Sets input and output token counts.
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.usage.input_tokens = Some(input_tokens);
        self.usage.output_tokens = Some(output_tokens);
        self
    }

    /// Overrides the finish reason.
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// Sets the characters per text delta.
    pub fn chunk_size(mut self, chars: usize) -> Self {
        self.chunk_size = chars;
        self
    }

    /// Sets the delay between stream events.
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.delay_ms = ms;
        self
    }

    /// Sets the exact number of text-delta events.
    pub fn chunks(mut self, n: usize) -> Self {
        self.chunks = Some(n);
        self
    }

    /// Makes the text one delta of this many bytes.
    pub fn event_bytes(mut self, bytes: usize) -> Self {
        self.event_bytes = Some(bytes);
        self
    }

    /// Sets the HTTP status.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Image jobs: the number of polls answered "pending" before the job settles.
    pub fn pending_polls(mut self, polls: u32) -> Self {
        self.pending_polls = polls;
        self
    }

    /// Image generation fails with this (see [`Reply::job_failure`]); a `&str` is the message.
    pub fn job_failure(mut self, failure: impl Into<JobFailure>) -> Self {
        self.job_failure = Some(failure.into());
        self
    }

    /// Image jobs: the `Retry-After` header on pending poll responses.
    pub fn poll_retry_after(mut self, value: impl Into<String>) -> Self {
        self.poll_retry_after = Some(value.into());
        self
    }

    /// OpenAI Images: pads every final PNG to this many bytes (see [`Reply::image_bytes`]).
    pub fn image_bytes(mut self, bytes: usize) -> Self {
        self.image_bytes = Some(bytes);
        self
    }

    /// Speech: makes the audio about this many bytes long (see [`Reply::audio_bytes`]).
    pub fn audio_bytes(mut self, bytes: usize) -> Self {
        self.audio_bytes = Some(bytes);
        self
    }
}

impl From<&str> for JobFailure {
    fn from(message: &str) -> Self {
        JobFailure::new(message)
    }
}

impl From<String> for JobFailure {
    fn from(message: String) -> Self {
        JobFailure::new(message)
    }
}

/// A tool call in a [`Reply`].
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The call id; generated in the API's style when unset.
    #[serde(default)]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments as a JSON value (sent as a JSON string where the API uses strings).
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Token counts reported by a [`Reply`]. Unset counts are derived: input from the request body
/// size (bytes / 4), reasoning from the reasoning text, output from text + reasoning + tool
/// arguments (about 4 bytes per token); cached defaults to 0.
///
/// `output_tokens` includes the reasoning tokens, as in OpenAI's and Anthropic's accounting.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: Option<u64>,
    /// Completion tokens, reasoning included.
    pub output_tokens: Option<u64>,
    /// Reasoning tokens (part of the output tokens).
    pub reasoning_tokens: Option<u64>,
    /// Cached prompt tokens (part of the input tokens).
    pub cached_tokens: Option<u64>,
}

/// An injected failure, optionally with the reply whose stream it disturbs.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// For faults that stream something first (reset, stall, truncate, malformed, oversize,
    /// stream error, headers delay): the content to stream. Default: the config's default reply.
    pub reply: Option<Reply>,
}

/// The kinds of [`Fault`].
///
/// The event-indexed faults count the events of the wire API's stream (SSE events, NDJSON
/// lines, or array elements for Gemini's non-SSE stream), starting at 0. On a non-streaming
/// request they act on the JSON body instead: reset/truncate/stall cut the body in the middle,
/// malformed sends invalid JSON, stream error becomes an HTTP 500 with the API's error body,
/// and oversize makes the text one huge string. The image routes take the same faults (an image
/// download cut in half no longer decodes); oversize changes only text.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// An error status with the API's JSON error body and optional retry headers.
    Status(StatusFault),
    /// An HTML error page (`text/html`) with this status, as a proxy would send.
    HtmlError(u16),
    /// This status with an empty body.
    EmptyError(u16),
    /// This status with a non-UTF-8 `application/octet-stream` body.
    BinaryError(u16),
    /// Send this many events, then abort the TCP connection (RST) without the terminal event.
    ResetAfterEvents(usize),
    /// Send `after_events` events, go silent for `stall_ms` with the connection open, then
    /// finish the stream normally.
    StallAfterEvents {
        /// Events sent before the stall.
        after_events: usize,
        /// How long the stall lasts.
        stall_ms: u64,
    },
    /// Event number N (from 0) carries invalid JSON.
    MalformedEventAt(usize),
    /// The first text delta is one event carrying at least this many bytes of text.
    OversizeEventBytes(usize),
    /// Send `after_events` events, then the API's in-stream error event, then close.
    StreamErrorAt {
        /// Events sent before the error event.
        after_events: usize,
        /// The error message; a default otherwise.
        message: Option<String>,
    },
    /// Wait this long before sending the status line, then answer normally.
    HeadersDelayMs(u64),
    /// Send this many events, then end the body cleanly without the terminal event.
    TruncateAfterEvents(usize),
}

/// An error response: status, retry hints and the error body's fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusFault {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After` header value (seconds or an HTTP date, sent verbatim).
    pub retry_after: Option<String>,
    /// `retry-after-ms` header value.
    pub retry_after_ms: Option<u64>,
    /// `x-should-retry` header (`true` / `false`).
    pub should_retry: Option<bool>,
    /// The error message; a status-specific default otherwise.
    pub message: Option<String>,
    /// The error type (OpenAI / Anthropic `type`, Gemini `status`); derived from the status
    /// otherwise.
    pub error_type: Option<String>,
    /// The error code (OpenAI `code`); derived from the status otherwise.
    pub code: Option<String>,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Fault { kind, reply: None }
    }

    /// An error status with the API's JSON error body.
    pub fn status(status: u16) -> Self {
        Fault::new(FaultKind::Status(StatusFault { status, ..StatusFault::default() }))
    }

    /// Sets the `Retry-After` header of a status fault.
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let FaultKind::Status(s) = &mut self.kind {
            s.retry_after = Some(value.into());
        }
        self
    }

    /// Sets the `retry-after-ms` header of a status fault.
    pub fn retry_after_ms(mut self, ms: u64) -> Self {
        if let FaultKind::Status(s) = &mut self.kind {
            s.retry_after_ms = Some(ms);
        }
        self
    }

    /// Sets the `x-should-retry` header of a status fault.
    pub fn should_retry(mut self, retry: bool) -> Self {
        if let FaultKind::Status(s) = &mut self.kind {
            s.should_retry = Some(retry);
        }
        self
    }

    /// Sets the message of a status or stream-error fault.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        match &mut self.kind {
            FaultKind::Status(s) => s.message = Some(message.into()),
            FaultKind::StreamErrorAt { message: m, .. } => *m = Some(message.into()),
            _ => {}
        }
        self
    }

    /// An HTML error page with this status.
    pub fn html_error(status: u16) -> Self {
        Fault::new(FaultKind::HtmlError(status))
    }

    /// This status with an empty body.
    pub fn empty_error(status: u16) -> Self {
        Fault::new(FaultKind::EmptyError(status))
    }

    /// This status with a binary body.
    pub fn binary_error(status: u16) -> Self {
        Fault::new(FaultKind::BinaryError(status))
    }

    /// Abort the connection after `events` events.
    pub fn reset_after_events(events: usize) -> Self {
        Fault::new(FaultKind::ResetAfterEvents(events))
    }

    /// Stall for `stall_ms` after `events` events.
    pub fn stall_after_events(events: usize, stall_ms: u64) -> Self {
        Fault::new(FaultKind::StallAfterEvents { after_events: events, stall_ms })
    }

    /// Corrupt event `index`.
    pub fn malformed_event_at(index: usize) -> Self {
        Fault::new(FaultKind::MalformedEventAt(index))
    }

    /// One event of at least `bytes` bytes.
    pub fn oversize_event_bytes(bytes: usize) -> Self {
        Fault::new(FaultKind::OversizeEventBytes(bytes))
    }

    /// The in-stream error event after `events` events.
    pub fn stream_error_at(events: usize) -> Self {
        Fault::new(FaultKind::StreamErrorAt { after_events: events, message: None })
    }

    /// Delay the status line by `ms`.
    pub fn headers_delay_ms(ms: u64) -> Self {
        Fault::new(FaultKind::HeadersDelayMs(ms))
    }

    /// End the body cleanly after `events` events.
    pub fn truncate_after_events(events: usize) -> Self {
        Fault::new(FaultKind::TruncateAfterEvents(events))
    }

    /// Sets the content streamed before the fault strikes.
    pub fn with_reply(mut self, reply: Reply) -> Self {
        self.reply = Some(reply);
        self
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    S(String),
    N(serde_json::Number),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRepr {
    status: Option<u16>,
    retry_after: Option<StringOrNumber>,
    retry_after_ms: Option<u64>,
    should_retry: Option<bool>,
    message: Option<String>,
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    html_error: Option<u16>,
    empty_error: Option<u16>,
    binary_error: Option<u16>,
    reset_after_events: Option<usize>,
    stall_after_events: Option<usize>,
    stall_ms: Option<u64>,
    malformed_event_at: Option<usize>,
    oversize_event_bytes: Option<usize>,
    stream_error_at: Option<usize>,
    headers_delay_ms: Option<u64>,
    truncate_after_events: Option<usize>,
    reply: Option<Reply>,
}

impl FaultRepr {
    fn into_fault(self) -> Result<Fault, String> {
        let mut kinds = Vec::new();
        if let Some(s) = self.html_error {
            kinds.push(FaultKind::HtmlError(s));
        }
        if let Some(s) = self.empty_error {
            kinds.push(FaultKind::EmptyError(s));
        }
        if let Some(s) = self.binary_error {
            kinds.push(FaultKind::BinaryError(s));
        }
        if let Some(n) = self.reset_after_events {
            kinds.push(FaultKind::ResetAfterEvents(n));
        }
        if let Some(n) = self.stall_after_events {
            kinds.push(FaultKind::StallAfterEvents { after_events: n, stall_ms: self.stall_ms.unwrap_or(1000) });
        } else if self.stall_ms.is_some() {
            return Err("`stall_ms` needs `stall_after_events`".into());
        }
        if let Some(n) = self.malformed_event_at {
            kinds.push(FaultKind::MalformedEventAt(n));
        }
        if let Some(n) = self.oversize_event_bytes {
            kinds.push(FaultKind::OversizeEventBytes(n));
        }
        if let Some(n) = self.stream_error_at {
            kinds.push(FaultKind::StreamErrorAt { after_events: n, message: self.message.clone() });
        }
        if let Some(n) = self.headers_delay_ms {
            kinds.push(FaultKind::HeadersDelayMs(n));
        }
        if let Some(n) = self.truncate_after_events {
            kinds.push(FaultKind::TruncateAfterEvents(n));
        }
        let status_fields = self.retry_after.is_some()
            || self.retry_after_ms.is_some()
            || self.should_retry.is_some()
            || self.error_type.is_some()
            || self.code.is_some()
            || self.headers.is_some();
        let is_stream_error = matches!(kinds.as_slice(), [FaultKind::StreamErrorAt { .. }]);
        if let Some(status) = self.status {
            kinds.push(FaultKind::Status(StatusFault {
                status,
                retry_after: self.retry_after.map(|v| match v {
                    StringOrNumber::S(s) => s,
                    StringOrNumber::N(n) => n.to_string(),
                }),
                retry_after_ms: self.retry_after_ms,
                should_retry: self.should_retry,
                message: self.message.clone(),
                error_type: self.error_type,
                code: self.code,
                headers: self.headers.unwrap_or_default(),
            }));
        } else if status_fields || (self.message.is_some() && !is_stream_error) {
            return Err("`retry_after`, `retry_after_ms`, `should_retry`, `message`, `type`, \
                        `code` and `headers` belong to a `status` fault"
                .into());
        }
        if kinds.len() != 1 {
            return Err(format!(
                "a fault step needs exactly one of `status`, {}; found {}",
                FAULT_KEYS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                kinds.len()
            ));
        }
        let kind = kinds.pop().expect("one kind");
        Ok(Fault { kind, reply: self.reply })
    }
}
