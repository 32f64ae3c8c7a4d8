//! Record and replay: test your application offline against real provider exchanges.
//!
//! In record mode every exchange goes to the network as usual and is also written to a cassette file
//! (JSON): the request's method, path and body, and the response's status, a few headers and its body as
//! the chunks that arrived. Credentials never reach the file: request headers are not recorded at all,
//! and key-bearing query parameters are redacted. In replay mode nothing touches the network: each
//! request is matched against the cassette (by method, path and body, configurable) and answered with
//! the recorded response, streamed chunk by chunk, so streams, errors and retries behave as they did.
//!
//! ```no_run
//! use celeste::{Cassette, Client};
//!
//! // Record once with real keys…
//! let client = Client::builder().cassette(Cassette::record("tests/cassettes/hello.json")).build()?;
//! // …then replay in CI, without network or keys.
//! let client = Client::builder().cassette(Cassette::replay("tests/cassettes/hello.json")?).build()?;
//! # Ok::<(), celeste::Error>(())
//! ```
//!
//! Or set `CELESTE_CASSETTE=path` and `CELESTE_CASSETTE_MODE=record|replay` for clients built with the
//! default configuration.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures::Stream as FuturesStream;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which parts of a request must equal the recorded one for it to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchOn {
    /// The HTTP method.
    pub method: bool,
    /// The path (with query, key-bearing parameters redacted).
    pub path: bool,
    /// The body (compared as JSON when both are JSON, else byte for byte).
    pub body: bool,
}

impl Default for MatchOn {
    fn default() -> Self {
        MatchOn { method: true, path: true, body: true }
    }
}

impl MatchOn {
    /// Whether the method must match.
    pub fn method(mut self, on: bool) -> Self {
        self.method = on;
        self
    }

    /// Whether the path must match.
    pub fn path(mut self, on: bool) -> Self {
        self.path = on;
        self
    }

    /// Whether the body must match.
    pub fn body(mut self, on: bool) -> Self {
        self.body = on;
        self
    }
}

/// One recorded chunk: UTF-8 text when it is, base64 otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Chunk {
    Text(String),
    Binary { base64: String },
}

impl Chunk {
    fn from_bytes(b: &[u8]) -> Chunk {
        match std::str::from_utf8(b) {
            Ok(s) => Chunk::Text(s.to_string()),
            Err(_) => Chunk::Binary { base64: base64::engine::general_purpose::STANDARD.encode(b) },
        }
    }

    fn to_bytes(&self) -> Bytes {
        match self {
            Chunk::Text(s) => Bytes::from(s.clone()),
            Chunk::Binary { base64 } => {
                Bytes::from(base64::engine::general_purpose::STANDARD.decode(base64).unwrap_or_default())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RecordedRequest {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RecordedResponse {
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
    chunks: Vec<Chunk>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Interaction {
    request: RecordedRequest,
    response: RecordedResponse,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    interactions: Vec<Interaction>,
}

#[derive(Debug)]
enum Mode {
    Record,
    Replay { used: Vec<bool> },
}

#[derive(Debug)]
struct State {
    mode: Mode,
    interactions: Vec<Interaction>,
}

/// A cassette: where exchanges are recorded to, or replayed from.
///
/// Clones share the cassette. Recording is safe from concurrent calls: the file is rewritten whole
/// after each exchange, one writer at a time, through a temporary file renamed over it, so it always
/// parses and the last write holds every exchange.
#[derive(Debug, Clone)]
pub struct Cassette {
    path: PathBuf,
    match_on: MatchOn,
    state: Arc<Mutex<State>>,
    /// Held while the file is written, so that writes neither interleave nor land out of order.
    writer: Arc<Mutex<()>>,
}

/// Response headers worth keeping (they change client behaviour); everything else is dropped.
const KEPT_HEADERS: &[&str] =
    &["content-type", "retry-after", "retry-after-ms", "x-should-retry", "x-request-id", "request-id"];

impl Cassette {
    /// Record to `path` (created or overwritten as exchanges complete).
    pub fn record(path: impl Into<PathBuf>) -> Self {
        Cassette {
            path: path.into(),
            match_on: MatchOn::default(),
            state: Arc::new(Mutex::new(State { mode: Mode::Record, interactions: Vec::new() })),
            writer: Arc::default(),
        }
    }

    /// Replay from `path`.
    pub fn replay(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::invalid_input(format!("cannot read cassette {}: {e}", path.display())))?;
        let file: File = serde_json::from_str(&text)
            .map_err(|e| Error::invalid_input(format!("cassette {} is not valid: {e}", path.display())))?;
        let used = vec![false; file.interactions.len()];
        Ok(Cassette {
            path: path.to_path_buf(),
            match_on: MatchOn::default(),
            state: Arc::new(Mutex::new(State { mode: Mode::Replay { used }, interactions: file.interactions })),
            writer: Arc::default(),
        })
    }

    /// The cassette named by `CELESTE_CASSETTE` / `CELESTE_CASSETTE_MODE` (default mode: replay).
    pub fn from_env() -> Result<Option<Self>> {
        let Ok(path) = std::env::var("CELESTE_CASSETTE") else { return Ok(None) };
        match std::env::var("CELESTE_CASSETTE_MODE").as_deref().unwrap_or("replay") {
            "record" => Ok(Some(Cassette::record(path))),
            "replay" => Cassette::replay(path).map(Some),
            other => {
                Err(Error::invalid_input(format!("CELESTE_CASSETTE_MODE must be record or replay, not `{other}`")))
            }
        }
    }

    /// Choose what a request must match to replay (default: method, path and body).
    pub fn match_on(mut self, m: MatchOn) -> Self {
        self.match_on = m;
        self
    }

    /// Whether this cassette replays (no network).
    pub fn is_replay(&self) -> bool {
        matches!(self.lock().mode, Mode::Replay { .. })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The recorded response for a request, as a real `reqwest::Response` whose body streams the
    /// recorded chunks.
    pub(crate) fn replay_response(&self, method: &str, url: &str, body: Option<&[u8]>) -> Result<reqwest::Response> {
        let want = request_record(method, url, body);
        let mut state = self.lock();
        let State { mode: Mode::Replay { used }, interactions } = &mut *state else {
            return Err(Error::invalid_input("the cassette is recording, not replaying"));
        };
        let found = interactions.iter().enumerate().position(|(i, it)| !used[i] && self.matches(&it.request, &want));
        let Some(i) = found else {
            return Err(Error::invalid_input(format!(
                "cassette {}: no unused recorded exchange matches {method} {}",
                self.path.display(),
                want.path
            )));
        };
        used[i] = true;
        let rec = interactions[i].response.clone();
        drop(state);
        let mut builder = http::Response::builder().status(rec.status);
        for (k, v) in &rec.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let chunks: Vec<std::result::Result<Bytes, std::io::Error>> =
            rec.chunks.iter().map(|c| Ok(c.to_bytes())).collect();
        let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
        let resp = builder.body(body).map_err(|e| Error::invalid_input(format!("cassette response: {e}")))?;
        Ok(reqwest::Response::from(resp))
    }

    fn matches(&self, have: &RecordedRequest, want: &RecordedRequest) -> bool {
        (!self.match_on.method || have.method == want.method)
            && (!self.match_on.path || have.path == want.path)
            && (!self.match_on.body || have.body == want.body)
    }

    /// Wrap a live response so its body is recorded as it is read.
    pub(crate) fn record_response(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        resp: reqwest::Response,
    ) -> reqwest::Response {
        let request = request_record(method, url, body);
        let status = resp.status();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut builder = http::Response::builder().status(status);
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let tee = Tee {
            inner: Box::pin(resp.bytes_stream()),
            chunks: Vec::new(),
            pending: Some(Pending { cassette: self.clone(), request, status: status.as_u16(), headers }),
        };
        match builder.body(reqwest::Body::wrap_stream(tee)) {
            Ok(r) => reqwest::Response::from(r),
            // The status and headers came from a valid response, so this cannot fail; an empty 502
            // would still be an honest answer if it did.
            Err(_) => reqwest::Response::from(http::Response::new(reqwest::Body::from(Vec::new()))),
        }
    }

    fn save(&self, interaction: Interaction) {
        // The exchange is added in the writer's turn, and each writer writes everything added so far:
        // whichever write lands last holds every exchange before it.
        let _turn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let file = {
            let mut state = self.lock();
            state.interactions.push(interaction);
            File { interactions: state.interactions.clone() }
        };
        let written = serde_json::to_string_pretty(&file)
            .map_err(std::io::Error::other)
            .and_then(|t| write_atomically(&self.path, &t));
        if let Err(e) = written {
            tracing::error!(path = %self.path.display(), error = %e, "could not write the cassette");
        }
    }
}

/// Write `text` to `path` through a temporary file in the same folder renamed over it: a reader (or a
/// crash) sees the old file or the new one, never a mix.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the cassette path names no file"))?;
    // Unique per process and write, so that nothing else can be writing the same temporary file.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A request as the cassette keeps it: the path with key-bearing parameters redacted, the body as JSON.
fn request_record(method: &str, url: &str, body: Option<&[u8]>) -> RecordedRequest {
    let redacted = super::redact::redact_url(url);
    let path = match reqwest::Url::parse(&redacted) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => redacted,
    };
    let body = body.map(|b| {
        serde_json::from_slice(b).unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(b).into_owned()))
    });
    RecordedRequest { method: method.to_string(), path, body }
}

/// Passes a body through while keeping a copy of each chunk; writes the exchange when the body ends
/// or is dropped (a consumer that stops early records what it read).
struct Tee {
    inner: std::pin::Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>,
    chunks: Vec<Chunk>,
    pending: Option<Pending>,
}

/// What a [`Tee`] writes once its body is over.
struct Pending {
    cassette: Cassette,
    request: RecordedRequest,
    status: u16,
    headers: Vec<(String, String)>,
}

impl Tee {
    fn flush(&mut self) {
        if let Some(Pending { cassette, request, status, headers }) = self.pending.take() {
            let response = RecordedResponse { status, headers, chunks: std::mem::take(&mut self.chunks) };
            cassette.save(Interaction { request, response });
        }
    }
}

impl FuturesStream for Tee {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = futures::ready!(self.inner.as_mut().poll_next(cx));
        match &item {
            Some(Ok(b)) => self.chunks.push(Chunk::from_bytes(b)),
            Some(Err(_)) | None => self.flush(),
        }
        Poll::Ready(item)
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.flush();
    }
}
