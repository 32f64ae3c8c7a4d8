//! `celeste::live`: realtime audio sessions over one WebSocket (Gemini Live, OpenAI Live).
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! use futures::StreamExt;
//! let mut session = celeste::live::connect("gemini-3.8-live").voice("Kore").instructions("Be brief.").await?;
//! session.send("Say hello")?;
//! while let Some(chunk) = session.next().await {
//!     let chunk = chunk?;
//!     if let Some(t) = &chunk.transcript {
//!         print!("{}", t.text());
//!     }
//!     if chunk.finish_reason.is_some() {
//!         session.end()?;
//!     }
//! }
//! let out = session.output()?;
//! std::fs::write("answer.pcm", out.content.bytes()?).map_err(|e| celeste::Error::InvalidInput(e.to_string()))?;
//! # Ok(())
//! # }
//! ```
//!
//! A session is a [`futures::Stream`] of [`LiveChunk`]s and a sender at once; [`LiveSession::split`]
//! gives a [`LiveSender`] (cloneable) and a [`LiveReceiver`] for two tasks. As in the reference:
//!
//! - `connect(...).await` checks everything (model, parameters against the catalog, seed messages,
//!   tools, credentials) and sends nothing; the socket opens when the session is first polled, and
//!   items sent before that are queued and sent in order after the handshake;
//! - the handshake's acknowledgement is the first chunk (`setup_complete`); every server event is a
//!   chunk after it;
//! - what a provider cannot take mid-session is an error at `send` (OpenAI Live: text and images),
//!   as are audio in a format the session did not negotiate, a tool result for a call the session
//!   never received, and anything sent after [`end`](LiveSender::end);
//! - [`end`](LiveSender::end) closes the session the provider's way (OpenAI: `session.close`, then
//!   the socket after 15 s if the server has not closed it; Google: the socket); the stream runs until
//!   the server has finished;
//! - the output ([`LiveSession::output`]) exists once the stream is exhausted: one audio artifact, the
//!   usage (Google: summed over turns; OpenAI: billed seconds), the last finish reason, the tool calls
//!   and the messages exchanged during the session.
//!
//! **Telemetry.** One span per session, named by the GenAI conventions' operation
//! (`generate_content {model}`, output type `speech`; the reference names it `celeste.live {model}`),
//! started when the socket opens and ended exactly once: with the output when the stream is
//! exhausted, with `error.type` on an error, as `cancelled` when the session is dropped early. Time to
//! first chunk is the time to the handshake's acknowledgement (the session is usable from then on),
//! not to the first audio. Each usage report is an event `celeste.live.usage` (per turn on Google,
//! cumulative seconds on OpenAI) and the span's usage is the session's total; the duration metric
//! covers the whole session. Output content is recorded by reference (`{type: blob, mime_type}`), never as
//! bytes, and the session's messages are not recorded.
//!
//! **Errors.** A close frame with an error code or a socket dropped mid-session ends the stream with
//! the typed error (never the WebSocket library's own); after `end()` a broken close is the end,
//! not an error. Every error closes the socket.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::auth::Auth;
use crate::call::CallOptions;
use crate::catalog::Model;
use crate::client::Client;
use crate::error::{Error, Origin, Result, ValidationError};
use crate::telemetry::{CallInfo, CallSpan};
use crate::transport::ws::{self, WsMessage, WsOptions, WsReceiver, WsSender};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation, Role};
use crate::types::message::{Item, Message, Part};
use crate::types::output::{Metadata, Output};
use crate::types::tool::{Tool, ToolCall};
use crate::types::usage::{FinishReason, Usage};
use crate::wire::live::{LiveApi, LiveRequest, LiveState};

pub use crate::types::live::{AudioFormat, LiveChunk, LiveInput, LiveOutput};

/// How long OpenAI Live gets to answer `session.close` before the socket is closed (the reference's
/// `CLOSE_TIMEOUT`).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);

/// The span event of each usage report (Google: a turn's; OpenAI: the billed seconds so far).
const USAGE_EVENT: &str = "celeste.live.usage";

/// Open a live session with `model`. Configure it, then `.await` it for the [`LiveSession`].
pub fn connect(model: impl Into<String>) -> LiveConnect {
    LiveConnect {
        opts: CallOptions::default(),
        model: model.into(),
        params: Map::new(),
        audio_format: None,
        tools: Vec::new(),
        seed: Vec::new(),
        reference_images: Vec::new(),
        idle_timeout: None,
    }
}

/// A live session being configured. `.await` it (or [`start`](Self::start)) for the session; nothing
/// is sent until the session is polled.
#[must_use = "a session does nothing until it is awaited and polled"]
#[derive(Clone)]
pub struct LiveConnect {
    opts: CallOptions,
    model: String,
    params: Map<String, Value>,
    audio_format: Option<String>,
    tools: Vec<Tool>,
    seed: Vec<Item>,
    reference_images: Vec<Artifact>,
    idle_timeout: Option<Option<Duration>>,
}

impl fmt::Debug for LiveConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveConnect")
            .field("opts", &self.opts)
            .field("model", &self.model)
            .field("params", &self.params)
            .field("audio_format", &self.audio_format)
            .field("tools", &self.tools.len())
            .field("seed", &self.seed.len())
            .finish_non_exhaustive()
    }
}

impl LiveConnect {
    crate::call::call_setters!(opts; client, provider, base_url, api_key, auth, extra_body, header);

    /// The voice, by id or name, checked against the model's voices (`"Kore"`, `"Marin"`).
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.params.insert("voice".into(), Value::from(voice.into()));
        self
    }

    /// The session's audio format, in and out (OpenAI Live): `audio/pcm` (24 kHz),
    /// `audio/pcm;rate=16000`, `audio/pcmu`, `audio/pcma`.
    pub fn audio_format(mut self, format: impl Into<String>) -> Self {
        self.audio_format = Some(format.into());
        self
    }

    /// A system instruction (seeded at connect).
    pub fn instructions(self, text: impl Into<String>) -> Self {
        self.message(Message::system(text))
    }

    /// One message of the conversation seeded at connect.
    pub fn message(mut self, item: impl Into<Item>) -> Self {
        self.seed.push(item.into());
        self
    }

    /// The conversation seeded at connect.
    pub fn messages(mut self, items: impl IntoIterator<Item = Item>) -> Self {
        self.seed.extend(items);
        self
    }

    /// A tool the model may call (functions, web search, raw tool objects).
    pub fn tool(mut self, tool: impl Into<Tool>) -> Self {
        self.tools.push(tool.into());
        self
    }

    /// An image seeded as context (Google Live).
    pub fn reference_image(mut self, image: Artifact) -> Self {
        self.reference_images.push(image);
        self
    }

    /// Sampling temperature (Google Live).
    pub fn temperature(mut self, t: f64) -> Self {
        self.params.insert("temperature".into(), Value::from(t));
        self
    }

    /// Output token limit per turn (Google Live).
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.params.insert("max_tokens".into(), Value::from(n));
        self
    }

    /// Sampling seed (Google Live).
    pub fn seed(mut self, seed: i64) -> Self {
        self.params.insert("seed".into(), Value::from(seed));
        self
    }

    /// Thinking level (`LOW`, `MEDIUM`, `HIGH`) on the models that think.
    pub fn thinking_level(mut self, level: impl Into<String>) -> Self {
        self.params.insert("thinking_level".into(), Value::from(level.into()));
        self
    }

    /// The longest wait for the next server event before the session fails with an idle timeout
    /// (default: the client's idle limit); `None` waits forever (a session where the caller is
    /// expected to speak next may be silent for long).
    pub fn idle_timeout(mut self, limit: Option<Duration>) -> Self {
        self.idle_timeout = Some(limit);
        self
    }

    /// Check and prepare the session (no I/O besides fetching credentials).
    pub async fn start(self) -> Result<LiveSession> {
        let prepared = prepare(self).await?;
        Ok(LiveSession::new(prepared))
    }
}

impl IntoFuture for LiveConnect {
    type Output = Result<LiveSession>;
    type IntoFuture = BoxFuture<'static, Result<LiveSession>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.start())
    }
}

/// A checked session, ready to open.
struct Prepared {
    client: Client,
    api: LiveApi,
    req: LiveRequest,
    url: String,
    headers: HeaderMap,
    format: AudioFormat,
    /// The audio MIME types the model takes (`None`: any, the model is not in the catalog).
    audio_types: Option<Vec<String>>,
    options: WsOptions,
    telemetry: CallInfo,
}

async fn prepare(c: LiveConnect) -> Result<Prepared> {
    let opts = c.opts;
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    let client = crate::call::client_or_shared(opts.client)?;
    let mut model_id = c.model;
    crate::call::name_default_model(&mut model_id, Modality::Live, Operation::Connect, opts.target.provider)?;
    let resolved = client.resolve_media(&model_id, &opts.target, Modality::Live, Operation::Connect)?;
    let origin = resolved.origin;
    let unsupported =
        |what: String| Error::unsupported(Some(origin), Some(Modality::Live), Some(Operation::Connect), what);
    let api = LiveApi::of(resolved.provider).ok_or_else(|| unsupported(format!("live sessions on {origin}")))?;
    // Check: the model, the parameters, the seed's media.
    let mut params = c.params;
    if let Some(f) = &c.audio_format {
        let f = AudioFormat::parse(f)?;
        params.insert("audio_format".into(), serde_json::json!({"type": f.mime, "rate": f.rate}));
    }
    let mut audio_types = None;
    if let Some(model) = &resolved.model {
        if !model.supports(Modality::Live, Operation::Connect) {
            return Err(unsupported(format!("model {} does not support live sessions", model.id)));
        }
        params = model.validate(&params)?;
        check_seed_media(model, &c.seed, origin)?;
        audio_types = accepted_audio(model);
    }
    let format = match params.get("audio_format") {
        Some(f) => AudioFormat::new(
            f.get("type").and_then(Value::as_str).unwrap_or("audio/pcm"),
            f.get("rate").and_then(Value::as_u64).and_then(|r| u32::try_from(r).ok()).unwrap_or(24_000),
        ),
        None => AudioFormat::pcm24k(),
    };
    // Where, and with which credentials.
    let mut headers = HeaderMap::new();
    let (base, path, vertex_resource, provider_name) = match &resolved.auth {
        Auth::Vertex(v) => {
            let (resource, project) = v.live_resource(resolved.provider, &model_id).await?;
            v.apply_to(&mut headers, &project, resolved.provider).await?;
            (resolved.base.clone(), live_path(api, true), Some(resource), "gcp.vertex_ai")
        }
        auth => {
            auth.apply(&mut headers).await?;
            (resolved.base.clone(), live_path(api, false), None, crate::call::telemetry_name(origin))
        }
    };
    let url = ws_url(&crate::providers::join_url(&base, path))?;
    for (k, v) in &opts.extra_headers {
        headers.insert(k.clone(), v.clone());
    }
    let req = LiveRequest {
        model: model_id.clone(),
        origin,
        params,
        tools: c.tools,
        seed: c.seed,
        reference_images: c.reference_images,
        extra_body: opts.extra_body,
        vertex_resource,
    };
    // Build once now, so a bad seed, tool or parameter fails here, before any I/O.
    api.opening(&req)?;
    let timeouts = client.transport().timeouts;
    let options = WsOptions::default()
        .with_connect_timeout(timeouts.connect)
        .with_idle_timeout(c.idle_timeout.unwrap_or(Some(timeouts.idle)));
    let capture = client.telemetry().capture.unwrap_or_default() != crate::telemetry::CaptureContent::Off;
    let telemetry = CallInfo {
        modality: Modality::Live,
        operation: Operation::Connect,
        provider_name,
        model: model_id,
        url: url.clone(),
        stream: true,
        output_type: Some("speech"),
        content: capture.then(|| {
            crate::telemetry::content::input_messages(&req.seed, &req.tools, client.telemetry().max_content_chars)
        }),
        params: Default::default(),
    };
    Ok(Prepared { client, api, req, url, headers, format, audio_types, options, telemetry })
}

fn live_path(api: LiveApi, vertex: bool) -> &'static str {
    let _ = vertex; // Only Google has a Vertex path.
    match api {
        #[cfg(feature = "google")]
        LiveApi::Google if vertex => crate::wire::live::google::VERTEX_PATH,
        #[cfg(feature = "google")]
        LiveApi::Google => crate::wire::live::google::PATH,
        #[cfg(feature = "openai")]
        LiveApi::OpenAi => crate::wire::live::openai::PATH,
    }
}

/// `https://` → `wss://`, `http://` → `ws://`.
fn ws_url(url: &str) -> Result<String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| Error::invalid_input("the base URL has no scheme"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "wss",
        "http" | "ws" => "ws",
        _ => return Err(Error::invalid_input("the base URL must start with http://, https://, ws:// or wss://")),
    };
    Ok(format!("{scheme}://{rest}"))
}

/// The MIME types a model's `audio` constraint lists (`None`: any).
fn accepted_audio(model: &Model) -> Option<Vec<String>> {
    match model.constraints.get("audio")? {
        crate::catalog::Constraint::Audio { mime_types } | crate::catalog::Constraint::Audios { mime_types, .. } => {
            mime_types.clone()
        }
        _ => None,
    }
}

/// A seed message carrying media the model does not take is refused before connecting.
fn check_seed_media(model: &Model, seed: &[Item], origin: Origin) -> Result<()> {
    let accepted = model.optional_input_types();
    for item in seed {
        let Item::Message(m) = item else { continue };
        for p in &m.content {
            if matches!(p, Part::Text { .. }) {
                continue;
            }
            let t = p.input_type();
            if !accepted.contains(&t) {
                return Err(Error::unsupported(
                    Some(origin),
                    Some(Modality::Live),
                    Some(Operation::Connect),
                    format!("{t} input with model {}", model.id),
                ));
            }
        }
    }
    Ok(())
}

/// What the sender and the receiver share.
struct Shared {
    api: LiveApi,
    req: LiveRequest,
    format: AudioFormat,
    audio_types: Option<Vec<String>>,
    ended: AtomicBool,
    /// The output audio format, once the server confirmed it or sent audio.
    out_format: Mutex<Option<AudioFormat>>,
    /// The conversation exchanged during the session.
    messages: Mutex<Vec<Item>>,
    /// Tool calls received, by id (with their names, which Google's tool responses carry).
    calls: Mutex<HashMap<String, String>>,
}

impl Shared {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

enum Command {
    Frame(String),
    End,
}

/// The sending half of a live session. Cheap to clone; usable from any task.
#[derive(Clone)]
pub struct LiveSender {
    tx: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
}

impl fmt::Debug for LiveSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSender").field("model", &self.shared.req.model).finish_non_exhaustive()
    }
}

impl LiveSender {
    /// Send an item: a string or [`Message`] (a user turn), a [`ToolResult`](crate::ToolResult),
    /// audio ([`LiveInput::Audio`]), an image ([`LiveInput::Image`]) or a raw frame
    /// ([`LiveInput::Raw`]).
    ///
    /// It is checked and serialised now, and queued: items sent before the socket opens go out, in
    /// order, right after the handshake. The queue is not bounded, as the reference's: a caller sends
    /// at the pace of its audio source, and the socket drains faster than real time.
    pub fn send(&self, item: impl Into<LiveInput>) -> Result<()> {
        let item = item.into();
        let s = &self.shared;
        if s.ended.load(Ordering::SeqCst) {
            return Err(Error::invalid_input("the live session has ended: nothing more can be sent"));
        }
        let item = self.check(item)?;
        let frame = s.api.serialize(&s.req, &item)?;
        if self.tx.send(Command::Frame(frame.to_string())).is_err() {
            return Err(Error::invalid_input("the live session has ended: nothing more can be sent"));
        }
        match item {
            LiveInput::Message(m) => Shared::lock(&s.messages).push(Item::Message(m)),
            LiveInput::ToolResult(r) => Shared::lock(&s.messages).push(Item::ToolResult(r)),
            _ => {}
        }
        Ok(())
    }

    /// Check an item against the session: the audio format negotiated, tool-call ids received.
    fn check(&self, item: LiveInput) -> Result<LiveInput> {
        let s = &self.shared;
        Ok(match item {
            LiveInput::Audio(a) => {
                let mime = a.mime().map(|m| m.to_string()).unwrap_or_else(|| s.format.mime.clone());
                let rate = a.metadata.get("sample_rate").and_then(Value::as_u64);
                let (allowed, rate_ok, what) = if s.api.negotiates_format() {
                    let ok = rate.is_none_or(|r| r == u64::from(s.format.rate));
                    (vec![s.format.mime.clone()], ok, s.format.to_string())
                } else {
                    let types = s.audio_types.clone().unwrap_or_else(|| vec![mime.clone()]);
                    let what = types.join(", ");
                    (types, true, what)
                };
                if !allowed.contains(&mime) || !rate_ok {
                    return Err(ValidationError {
                        model: Some(s.req.model.clone()),
                        parameter: "audio".into(),
                        value: match rate {
                            Some(r) => format!("{mime} at {r} Hz"),
                            None => mime,
                        },
                        allowed: format!("audio in the session's format: {what}"),
                    }
                    .into());
                }
                LiveInput::Audio(if a.mime_type.is_none() { a.with_mime_type(s.format_mime()?) } else { a })
            }
            LiveInput::ToolResult(mut r) => {
                let calls = Shared::lock(&s.calls);
                let seeded = s
                    .req
                    .seed
                    .iter()
                    .any(|i| matches!(i, Item::Message(m) if m.tool_calls.iter().any(|c| c.id == r.tool_call_id)));
                match calls.get(&r.tool_call_id) {
                    Some(name) => {
                        r.name.get_or_insert_with(|| name.clone());
                    }
                    None if seeded => {}
                    None => {
                        return Err(Error::invalid_input(format!(
                            "no tool call with id {:?} was received in this session",
                            r.tool_call_id
                        )));
                    }
                }
                LiveInput::ToolResult(r)
            }
            other => other,
        })
    }

    /// End the session the provider's way; the stream runs on until the server has finished. Ending
    /// twice is a no-op.
    pub fn end(&self) -> Result<()> {
        if !self.shared.ended.swap(true, Ordering::SeqCst) {
            // A session whose socket is gone has nothing to close.
            let _ = self.tx.send(Command::End);
        }
        Ok(())
    }

    /// Whether [`end`](Self::end) has been called.
    pub fn is_ended(&self) -> bool {
        self.shared.ended.load(Ordering::SeqCst)
    }
}

impl Shared {
    fn format_mime(&self) -> Result<crate::types::mime::MimeType> {
        self.format.mime.parse().map_err(|_| Error::invalid_input(format!("bad audio MIME type {}", self.format.mime)))
    }
}

/// The receiving half of a live session: a stream of [`LiveChunk`]s, with the session's output once
/// it is exhausted.
pub struct LiveReceiver {
    inner: BoxStream<'static, Result<(LiveChunk, Instant)>>,
    shared: Arc<Shared>,
    span: Option<CallSpan>,
    start: Option<(Client, CallInfo)>,
    agg: Aggregate,
    done: bool,
    output: Option<LiveOutput>,
}

impl fmt::Debug for LiveReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveReceiver").field("model", &self.shared.req.model).field("done", &self.done).finish()
    }
}

/// A live session: a stream of [`LiveChunk`]s and a sender. See the [module docs](self).
pub struct LiveSession {
    sender: LiveSender,
    receiver: LiveReceiver,
}

impl fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSession").field("receiver", &self.receiver).finish_non_exhaustive()
    }
}

impl LiveSession {
    fn new(p: Prepared) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            api: p.api,
            req: p.req,
            format: p.format,
            audio_types: p.audio_types,
            ended: AtomicBool::new(false),
            out_format: Mutex::new(None),
            messages: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
        });
        let driver = Driver {
            shared: shared.clone(),
            url: p.url,
            headers: p.headers,
            options: p.options,
            commands: Some(rx),
            conn: None,
            pending: VecDeque::new(),
            state: LiveState::default(),
            opened: false,
            finished: false,
        };
        let inner = futures::stream::unfold(driver, |mut d| async move {
            let item = d.step().await?;
            Some((item, d))
        })
        .boxed();
        LiveSession {
            sender: LiveSender { tx, shared: shared.clone() },
            receiver: LiveReceiver {
                inner,
                shared,
                span: None,
                start: Some((p.client, p.telemetry)),
                agg: Aggregate::default(),
                done: false,
                output: None,
            },
        }
    }

    /// The sender and receiver halves, for two tasks.
    pub fn split(self) -> (LiveSender, LiveReceiver) {
        (self.sender, self.receiver)
    }

    /// Send an item (see [`LiveSender::send`]).
    pub fn send(&self, item: impl Into<LiveInput>) -> Result<()> {
        self.sender.send(item)
    }

    /// End the session (see [`LiveSender::end`]).
    pub fn end(&self) -> Result<()> {
        self.sender.end()
    }

    /// A sender for another task.
    pub fn sender(&self) -> LiveSender {
        self.sender.clone()
    }

    /// The session's output, once the stream is exhausted.
    pub fn output(&self) -> Result<&LiveOutput> {
        self.receiver.output()
    }

    /// The session's output, once the stream is exhausted.
    pub fn into_output(self) -> Result<LiveOutput> {
        self.receiver.into_output()
    }
}

impl Stream for LiveSession {
    type Item = Result<LiveChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

impl LiveReceiver {
    /// The session's output, once the stream is exhausted.
    pub fn output(&self) -> Result<&LiveOutput> {
        self.output.as_ref().ok_or(Error::StreamNotExhausted)
    }

    /// The session's output, once the stream is exhausted.
    pub fn into_output(mut self) -> Result<LiveOutput> {
        self.output.take().ok_or(Error::StreamNotExhausted)
    }

    fn finish_ok(&mut self) {
        let s = &self.shared;
        let format = s.format_out();
        let mut audio = Artifact::from_bytes(std::mem::take(&mut self.agg.audio).freeze());
        if let Ok(m) = format.mime.parse() {
            audio = audio.with_mime_type(m);
        }
        audio = audio.with_metadata("sample_rate", format.rate);
        let reports: Vec<(Option<&Usage>, bool)> = self.agg.usage.iter().map(|(u, end)| (u.as_ref(), *end)).collect();
        let mut out = Output::new(audio, Metadata::new(s.req.model.clone(), Some(s.req.origin), Modality::Live));
        out.usage = s.api.total_usage(&reports);
        out.finish_reason = self.agg.finish.take();
        out.tool_calls = std::mem::take(&mut self.agg.tool_calls);
        let messages = std::mem::take(&mut *Shared::lock(&s.messages));
        if let Some(span) = self.span.as_mut() {
            span.end_ok(&out);
        }
        self.output = Some(LiveOutput {
            output: out,
            messages,
            audio_format: format,
            events: std::mem::take(&mut self.agg.events),
        });
    }

    fn record(&mut self, chunk: &LiveChunk) {
        let agg = &mut self.agg;
        agg.audio.extend_from_slice(&chunk.audio);
        agg.usage.push((chunk.usage.clone(), chunk.finish_reason.is_some()));
        agg.events.push(chunk.event.clone());
        let mut messages = Shared::lock(&self.shared.messages);
        if let Some(t) = &chunk.transcript {
            let merge = agg.open.is_some_and(|i| i + 1 == messages.len())
                && matches!(messages.last(), Some(Item::Message(m)) if m.role == t.role);
            match messages.last_mut() {
                Some(Item::Message(m)) if merge => {
                    if let Some(Part::Text { text }) = m.content.last_mut() {
                        text.push_str(&t.text());
                    }
                }
                _ => {
                    messages.push(Item::Message(t.clone()));
                    agg.open = Some(messages.len() - 1);
                }
            }
        }
        if !chunk.tool_calls.is_empty() {
            messages
                .push(Item::Message(Message::new(Role::Assistant, vec![]).with_tool_calls(chunk.tool_calls.clone())));
            agg.open = None;
            let mut calls = Shared::lock(&self.shared.calls);
            for c in &chunk.tool_calls {
                calls.insert(c.id.clone(), c.name.clone());
            }
            agg.tool_calls.extend(chunk.tool_calls.iter().cloned());
        }
        if let Some(f) = &chunk.finish_reason {
            agg.finish = Some(f.clone());
            agg.open = None;
        }
    }
}

impl Stream for LiveReceiver {
    type Item = Result<LiveChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some((client, info)) = self.start.take() {
            // The span starts when the session is first polled: that is when it opens.
            self.span = Some(CallSpan::start(client.telemetry(), &info));
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok((chunk, received)))) => {
                if let Some(span) = self.span.as_mut() {
                    span.chunk(received);
                    if let Some(u) = &chunk.usage {
                        span.usage_event(USAGE_EVENT, u);
                    }
                }
                self.record(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                self.shared.ended.store(true, Ordering::SeqCst);
                if let Some(span) = self.span.as_mut() {
                    span.end_err(&e);
                }
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                self.done = true;
                self.shared.ended.store(true, Ordering::SeqCst);
                self.finish_ok();
                Poll::Ready(None)
            }
        }
    }
}

impl Shared {
    /// The output audio format: the server's confirmed one, else the first audio MIME type seen,
    /// else the session's.
    fn format_out(&self) -> AudioFormat {
        Shared::lock(&self.out_format).clone().unwrap_or_else(|| self.format.clone())
    }
}

/// What the receiver accumulates.
#[derive(Default)]
struct Aggregate {
    audio: BytesMut,
    usage: Vec<(Option<Usage>, bool)>,
    events: Vec<Value>,
    tool_calls: Vec<ToolCall>,
    finish: Option<FinishReason>,
    /// The index in the messages of the transcript still open for merging.
    open: Option<usize>,
}

/// The socket side of a session: connects on its first step, then turns frames into chunks.
struct Driver {
    shared: Arc<Shared>,
    url: String,
    headers: HeaderMap,
    options: WsOptions,
    commands: Option<mpsc::UnboundedReceiver<Command>>,
    conn: Option<Conn>,
    pending: VecDeque<LiveChunk>,
    state: LiveState,
    opened: bool,
    finished: bool,
}

struct Conn {
    rx: WsReceiver,
    writer: tokio::task::JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The writer owns the sending half: aborting it drops that half, which closes the socket.
        self.writer.abort();
    }
}

impl Driver {
    /// The next chunk, an error, or the end (`None`). After an error or the end, always `None`.
    async fn step(&mut self) -> Option<Result<(LiveChunk, Instant)>> {
        if self.finished {
            return None;
        }
        let r = self.next_chunk().await;
        match r {
            Ok(Some(c)) => Some(Ok((c, Instant::now()))),
            Ok(None) => {
                self.finished = true;
                self.conn = None;
                None
            }
            Err(e) => {
                self.finished = true;
                self.conn = None;
                Some(Err(e))
            }
        }
    }

    async fn next_chunk(&mut self) -> Result<Option<LiveChunk>> {
        if !self.opened {
            self.opened = true;
            return self.open().await.map(Some);
        }
        loop {
            if let Some(c) = self.pending.pop_front() {
                return Ok(Some(c));
            }
            let Some(conn) = self.conn.as_mut() else { return Ok(None) };
            let frame = match conn.rx.recv().await {
                Ok(Some(WsMessage::Text(t))) => t,
                // No live protocol sends binary frames: kept as an event of its own.
                Ok(Some(WsMessage::Binary(b))) => {
                    return Ok(Some(LiveChunk { audio: b, ..LiveChunk::default() }));
                }
                Ok(None) => return Ok(None),
                // After `end()`, a broken close is the end, not an error (as the reference).
                Err(_) if self.shared.ended.load(Ordering::SeqCst) => return Ok(None),
                Err(e) => return Err(e),
            };
            let value: Value =
                serde_json::from_str(&frame).map_err(|e| Error::decode("live server event", e, frame.as_bytes()))?;
            let (chunks, terminal) = self.shared.api.parse(&mut self.state, value)?;
            if let Some(mime) = &self.state.audio_mime {
                let mut out = Shared::lock(&self.shared.out_format);
                if out.is_none() {
                    *out = AudioFormat::parse(mime).ok();
                }
            }
            self.pending.extend(chunks);
            if terminal {
                // The session is over: the socket closes once the queued chunks are out.
                if let Some(c) = self.conn.take() {
                    drop(c);
                }
                self.shared.ended.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Connect, send the opening, read the acknowledgement, then start the writer.
    async fn open(&mut self) -> Result<LiveChunk> {
        let s = self.shared.clone();
        let opening = s.api.opening(&s.req)?;
        let conn = ws::connect(&self.url, &self.headers, s.req.origin, &self.options).await?;
        let (mut tx, mut rx) = conn.split();
        tx.send_text(opening.setup.to_string()).await?;
        let ack = match rx.recv().await? {
            Some(WsMessage::Text(t)) => t,
            Some(WsMessage::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            None => {
                return Err(Error::StreamTruncated {
                    origin: s.req.origin,
                    reason: "the server closed the socket before acknowledging the session".into(),
                });
            }
        };
        let ack_value: Value =
            serde_json::from_str(&ack).map_err(|e| Error::decode("live acknowledgement", e, ack.as_bytes()))?;
        let confirmed = match s.api.ack(&s.req, &ack_value) {
            Ok(a) => a,
            Err(e) => {
                let _ = tx.close().await;
                return Err(e);
            }
        };
        if let Some(f) = confirmed.format {
            *Shared::lock(&s.out_format) = Some(f);
        }
        for frame in opening.after_ack {
            tx.send_text(frame.to_string()).await?;
        }
        let commands = self.commands.take().expect("the command queue is taken once, at open");
        let writer = tokio::spawn(write_loop(tx, commands, s.api));
        self.conn = Some(Conn { rx, writer });
        Ok(LiveChunk { setup_complete: true, event: ack_value, ..LiveChunk::default() })
    }
}

/// Drain the queue in order; on `End`, close the provider's way.
async fn write_loop(mut tx: WsSender, mut commands: mpsc::UnboundedReceiver<Command>, api: LiveApi) {
    while let Some(cmd) = commands.recv().await {
        match cmd {
            Command::Frame(f) => {
                if tx.send_text(f).await.is_err() {
                    return;
                }
            }
            Command::End => {
                match api.end_frame() {
                    Some(frame) => {
                        if tx.send_text(frame.to_string()).await.is_err() {
                            return;
                        }
                        // The server answers with `session.closed` and closes; if it does not, close.
                        tokio::time::sleep(CLOSE_TIMEOUT).await;
                        let _ = tx.close().await;
                    }
                    None => {
                        let _ = tx.close().await;
                    }
                }
                return;
            }
        }
    }
}

/// The blocking twin: the same session for code without an async runtime.
pub mod blocking {
    use super::*;

    /// Open a live session (see [`super::connect`]); configure it, then [`LiveConnectBlocking::start`].
    pub fn connect(model: impl Into<String>) -> LiveConnectBlocking {
        LiveConnectBlocking { inner: super::connect(model) }
    }

    /// A blocking live session being configured.
    #[derive(Debug, Clone)]
    #[must_use = "a session does nothing until it is started"]
    pub struct LiveConnectBlocking {
        inner: LiveConnect,
    }

    impl LiveConnectBlocking {
        /// Configure the underlying async builder (every setter of [`LiveConnect`]).
        pub fn with(self, f: impl FnOnce(LiveConnect) -> LiveConnect) -> Self {
            LiveConnectBlocking { inner: f(self.inner) }
        }

        /// Check and prepare the session; it opens on the first `next()`.
        pub fn start(self) -> Result<Session> {
            let session = crate::blocking::block_on(self.inner.start())??;
            Ok(Session { inner: session })
        }
    }

    /// A blocking live session: an iterator over the chunks of the same [`LiveSession`], and a
    /// sender ([`LiveSender`] is not async: send from any thread).
    #[derive(Debug)]
    pub struct Session {
        inner: LiveSession,
    }

    impl Session {
        /// A sender, for another thread.
        pub fn sender(&self) -> LiveSender {
            self.inner.sender()
        }

        /// Send an item (see [`LiveSender::send`]).
        pub fn send(&self, item: impl Into<LiveInput>) -> Result<()> {
            self.inner.send(item)
        }

        /// End the session (see [`LiveSender::end`]).
        pub fn end(&self) -> Result<()> {
            self.inner.end()
        }

        /// The output, once the iterator is exhausted.
        pub fn output(&self) -> Result<&LiveOutput> {
            self.inner.output()
        }
    }

    impl Iterator for Session {
        type Item = Result<LiveChunk>;

        fn next(&mut self) -> Option<Self::Item> {
            match crate::blocking::block_on(self.inner.next()) {
                Ok(item) => item,
                Err(e) => Some(Err(e)),
            }
        }
    }
}
