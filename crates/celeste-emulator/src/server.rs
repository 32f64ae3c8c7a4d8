//! The HTTP server: accept loop, routing, scenario matching, the request journal.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::body::{EmuBody, End};
use crate::config::{Config, Fault, FaultKind, Reply, Scenario, Step};
use crate::jobs::{JobInfo, Store};
use crate::multipart;
use crate::plan::{Plan, RequestFacts};
use crate::wire::gemini::ImageAsk;
use crate::wire::images::{self, Answer, AnswerBody, Call, ImageApi, Payload};
use crate::wire::{self, Api, BodyKind, ErrorInfo, Events, Rendered, Route, Service};

/// Sequence for the request-id response headers.
static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// The model reported when a request names none.
const DEFAULT_MODEL: &str = "emulator";

/// One request as the emulator received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The HTTP method (`"POST"`).
    pub method: String,
    /// The path with its query string, if any (`"/v1beta/models/m:streamGenerateContent?alt=sse"`).
    pub path: String,
    /// The headers in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The raw request body.
    pub body: Bytes,
    /// The name of the scenario that answered, or `None` for the default reply and errors.
    pub scenario: Option<String>,
}

impl RecordedRequest {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) struct Shared {
    config: Config,
    addr: SocketAddr,
    store: Store,
    counters: Vec<AtomicUsize>,
    journal: Mutex<Vec<RecordedRequest>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    /// WebSocket sessions whose script is running (the client has not closed, or not been seen to).
    open_sockets: AtomicUsize,
}

/// Counts a request as in flight until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running emulator. It stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds `config.bind` and serves on the current tokio runtime.
    pub async fn start(config: Config) -> io::Result<Emulator> {
        let (listener, shared) = bind(config).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        Ok(Emulator { addr, shared, stop, task: Some(task), thread: None })
    }

    /// Like [`Emulator::start`], for callers without a runtime: serves from a background thread
    /// with its own single-threaded runtime.
    ///
    /// Also the right choice for one emulator shared by many `#[tokio::test]`s (say in a
    /// `static OnceLock`): each test has its own runtime, and a server started with
    /// [`Emulator::start`] dies with the runtime that started it.
    pub fn start_blocking(config: Config) -> io::Result<Emulator> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = watch::channel(false);
        let thread = std::thread::Builder::new().name("celeste-emulator".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let bound = async {
                    let (listener, shared) = bind(config).await?;
                    let addr = listener.local_addr()?;
                    Ok::<_, io::Error>((listener, shared, addr))
                }
                .await;
                match bound {
                    Ok((listener, shared, addr)) => {
                        let _ = tx.send(Ok((addr, shared.clone())));
                        accept_loop(listener, shared, stop_rx).await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })?;
        let (addr, shared) = rx.recv().map_err(|_| io::Error::other("emulator thread exited before binding"))??;
        Ok(Emulator { addr, shared, stop, task: None, thread: Some(thread) })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far (except the `/_emulator/` control endpoints), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.journal.lock().expect("journal lock").clone()
    }

    /// The most requests the server was answering at the same time (from receipt to the response's
    /// headers), for tests of a client's concurrency bound.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak_in_flight.load(Ordering::SeqCst)
    }

    /// How many WebSocket sessions (live, Gradium) are open now: a session counts from its upgrade
    /// until its script has ended, which a client's close frame or a dropped connection ends. For
    /// tests that a client closes its socket.
    pub fn open_sockets(&self) -> usize {
        self.shared.open_sockets.load(Ordering::SeqCst)
    }

    /// Empties the journal.
    pub fn clear_requests(&self) {
        self.shared.journal.lock().expect("journal lock").clear();
    }

    /// Every asynchronous image job (BFL, Topaz) submitted so far, oldest first, with its poll
    /// count. Also served as `GET /_emulator/jobs`.
    pub fn jobs(&self) -> Vec<JobInfo> {
        self.shared.store.list()
    }

    /// One job by id (BFL `id`, Topaz `process_id`). Also served as `GET /_emulator/jobs/{id}`.
    pub fn job(&self, id: &str) -> Option<JobInfo> {
        self.shared.store.info(id)
    }

    /// Stops accepting, closes open connections, and waits for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves `config` until Ctrl-C, printing `listening on http://ADDR` on stdout once bound.
pub async fn serve_forever(config: Config) -> io::Result<()> {
    let emulator = Emulator::start(config).await?;
    println!("listening on {}", emulator.url());
    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    Ok(())
}

async fn bind(config: Config) -> io::Result<(TcpListener, Arc<Shared>)> {
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let counters = config.scenarios.iter().map(|_| AtomicUsize::new(0)).collect();
    let shared = Arc::new(Shared {
        config,
        addr,
        store: Store::default(),
        counters,
        journal: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        peak_in_flight: AtomicUsize::new(0),
        open_sockets: AtomicUsize::new(0),
    });
    Ok((listener, shared))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let mut stopped = stop.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, shared.clone(), stop.clone()));
                }
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = stopped_signal(&mut stopped) => break,
        }
    }
}

/// Resolves once the stop flag is set (or the emulator is gone).
async fn stopped_signal(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await.map(|_| ());
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let abort = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(AbortableStream { inner: stream, abort: abort.clone() });
    let service = service_fn(move |req| handle(shared.clone(), abort.clone(), req));
    let conn = http1::Builder::new().timer(TokioTimer::new()).serve_connection(io, service).with_upgrades();
    tokio::select! {
        _ = conn => {}
        _ = stopped_signal(&mut stop) => {}
    }
}

/// A TCP stream that is reset (SO_LINGER 0) instead of closed when its abort flag is set.
struct AbortableStream {
    inner: TcpStream,
    abort: Arc<AtomicBool>,
}

impl AbortableStream {
    fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }
}

impl Drop for AbortableStream {
    fn drop(&mut self) {
        if self.aborted() {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for AbortableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for AbortableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.aborted() {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.aborted() {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.aborted() {
            // No FIN: the socket is about to be reset.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The request fields the emulator reads; everything else is ignored (but must be valid JSON).
#[derive(Deserialize, Default)]
struct Probe {
    #[serde(default)]
    model: Option<Value>,
    #[serde(default)]
    stream: Option<Value>,
    #[serde(default)]
    stream_options: Option<Value>,
    /// Gemini: asks for image output (`responseModalities`, `imageConfig`).
    #[serde(default, rename = "generationConfig", alias = "generation_config")]
    generation_config: Option<Value>,
    /// Interactions: `{type: "image"}` asks for image output.
    #[serde(default)]
    response_format: Option<Value>,
}

fn json_response(status: u16, body: Vec<u8>) -> Response<EmuBody> {
    let mut resp = Response::new(EmuBody::full(body));
    *resp.status_mut() = status_code(status);
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A request body read as its route expects.
struct Parsed {
    /// The fields the text APIs read (JSON bodies).
    probe: Option<Probe>,
    /// The whole body, for the image APIs.
    payload: Payload,
    /// Why the body does not fit its route, for the 400.
    error: Option<String>,
}

fn parse_body(route: Option<&Route>, headers: &hyper::HeaderMap, body: &Bytes) -> Parsed {
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let probe = || -> Option<Probe> { if is_object { serde_json::from_slice(body).ok() } else { None } };
    let json_error = || {
        if body.is_empty() {
            "The request body is empty; expected a JSON object.".to_string()
        } else {
            "We could not parse the JSON body of your request.".to_string()
        }
    };
    let boundary = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(multipart::boundary);
    let form = |boundary: &str| match multipart::parse(body, boundary) {
        Ok(form) => Parsed { probe: None, payload: Payload::Form(form), error: None },
        Err(e) => Parsed { probe: None, payload: Payload::Empty, error: Some(format!("Invalid multipart body: {e}.")) },
    };
    let image = route.is_some_and(|r| r.api().is_none());
    match route.map(Route::body_kind) {
        None => Parsed { probe: probe(), payload: Payload::Empty, error: None },
        Some(BodyKind::None) => Parsed { probe: None, payload: Payload::Empty, error: None },
        Some(BodyKind::Form) => match &boundary {
            Some(b) => form(b),
            None => Parsed {
                probe: None,
                payload: Payload::Empty,
                error: Some("The request must be multipart/form-data.".into()),
            },
        },
        Some(BodyKind::JsonOrForm) if boundary.is_some() => form(boundary.as_deref().unwrap_or_default()),
        Some(BodyKind::Json | BodyKind::JsonOrForm) if image => {
            match serde_json::from_slice::<Value>(body).ok().filter(Value::is_object) {
                Some(v) => Parsed { probe: probe(), payload: Payload::Json(v), error: None },
                None => Parsed { probe: None, payload: Payload::Empty, error: Some(json_error()) },
            }
        }
        Some(_) => match probe() {
            Some(p) => Parsed { probe: Some(p), payload: Payload::Empty, error: None },
            None => Parsed { probe: None, payload: Payload::Empty, error: Some(json_error()) },
        },
    }
}

/// A scripted WebSocket session (a live protocol, Gradium's text-to-speech): the upgrade request is
/// journaled as a `GET`, each frame the client sends as a `WS` request on the same path.
fn ws_upgrade<F, Fut>(shared: &Arc<Shared>, req: Request<Incoming>, script: F) -> Response<EmuBody>
where
    F: FnOnce(crate::ws::WsSession) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let path = req.uri().path_and_query().map_or_else(|| req.uri().path().to_string(), |pq| pq.as_str().to_string());
    let record: Option<crate::ws::FrameRecorder> = shared.config.record_requests.then(|| {
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let request = move |method: &str, headers, body| RecordedRequest {
            method: method.into(),
            path: path.clone(),
            headers,
            body,
            scenario: None,
        };
        shared.journal.lock().expect("journal lock").push(request("GET", headers, Bytes::new()));
        let shared = shared.clone();
        let recorder: crate::ws::FrameRecorder = Arc::new(move |frame: &[u8]| {
            let r = request("WS", Vec::new(), Bytes::copy_from_slice(frame));
            shared.journal.lock().expect("journal lock").push(r);
        });
        recorder
    });
    let open = shared.clone();
    crate::ws::accept(req, record, move |ws| async move {
        open.open_sockets.fetch_add(1, Ordering::SeqCst);
        script(ws).await;
        open.open_sockets.fetch_sub(1, Ordering::SeqCst);
    })
}

async fn handle(
    shared: Arc<Shared>,
    abort: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<EmuBody>, Infallible> {
    let _in_flight = InFlight::new(&shared);
    if crate::ws::is_upgrade(&req) {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let Some(protocol) = wire::live::protocol(req.uri().path()) {
            let fault = header("x-emulator-live-fault").as_deref().and_then(wire::live::Fault::parse);
            return Ok(ws_upgrade(&shared, req, move |ws| wire::live::session(protocol, fault, ws)));
        }
        if req.uri().path() == wire::audio::gradium::PATH {
            use wire::audio::gradium;
            let fault = header(gradium::FAULT_HEADER).as_deref().and_then(gradium::Fault::parse);
            return Ok(ws_upgrade(&shared, req, move |ws| gradium::session(fault, ws)));
        }
    }
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        return Ok(control(&shared, &parts.method, rest));
    }

    let mut route = wire::route(&path, query.as_deref());
    let mut parsed = parse_body(route.as_ref(), &parts.headers, &body);
    let model = parsed
        .probe
        .as_ref()
        .and_then(|p| p.model.as_ref())
        .and_then(|m| m.as_str().map(str::to_string))
        .or_else(|| match &parsed.payload {
            Payload::Form(f) => f.text("model").map(str::to_string),
            _ => None,
        })
        .or_else(|| route.as_ref().and_then(|r| r.path_model.clone()));
    // xAI serves the OpenAI image paths; its model ids tell the two apart.
    if let Some(Route { service: Service::Image(api @ ImageApi::OpenAi, _), .. }) = &mut route
        && model.as_deref().is_some_and(|m| m.starts_with("grok"))
    {
        *api = ImageApi::Xai;
    }

    // Gemini omni models make videos on the Interactions path; their model ids tell them apart.
    if route.as_ref().and_then(Route::api) == Some(Api::Interactions)
        && model.as_deref().is_some_and(|m| m.starts_with("gemini-omni"))
    {
        route = Some(wire::videos::omni_route());
        parsed = parse_body(route.as_ref(), &parts.headers, &body);
    }
    // Interactions asked for audio (Gemini TTS, Lyria) is served by the audio module.
    if let Some(r) = &mut route
        && r.service == Service::Text(Api::Interactions)
        && parsed
            .probe
            .as_ref()
            .and_then(|p| p.response_format.as_ref())
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
            == Some("audio")
    {
        r.service = Service::Image(ImageApi::Audio(wire::audio::AudioApi::Google), images::Endpoint::Create);
        parsed = parse_body(route.as_ref(), &parts.headers, &body);
    }

    let expected = if route.as_ref().is_some_and(Route::is_get) { Method::GET } else { Method::POST };
    // HEAD reads what GET reads (Topaz hands out a `head_url`); hyper sends no body for it.
    let method_ok = parts.method == expected || (expected == Method::GET && parts.method == Method::HEAD);
    let valid = route.is_none() || (method_ok && parsed.error.is_none());
    let matched = if valid {
        shared
            .config
            .scenarios
            .iter()
            .enumerate()
            .find(|(_, s)| matches(s, &path, model.as_deref(), &body, &parts.headers))
    } else {
        None
    };

    if shared.config.record_requests {
        let path_q = parts.uri.path_and_query().map_or_else(|| path.clone(), |pq| pq.as_str().to_string());
        let headers = parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        shared.journal.lock().expect("journal lock").push(RecordedRequest {
            method: parts.method.to_string(),
            path: path_q,
            headers,
            body: body.clone(),
            scenario: matched.map(|(_, s)| s.name.clone()),
        });
    }

    // Request-level errors come first.
    if let Some(route) = &route {
        if !method_ok {
            let err = ErrorInfo::new(405, format!("Method {} not allowed on {path}.", parts.method));
            return Ok(json_response(405, route.error_body(&err)));
        }
        if let Some(msg) = &parsed.error {
            let mut err = ErrorInfo::new(400, msg.clone());
            err.code = Some(if msg.contains("multipart") { "invalid_multipart" } else { "invalid_json" }.into());
            return Ok(json_response(400, route.error_body(&err)));
        }
        // Every request at a job's status URL counts as a poll, whatever answers it.
        if let Service::Image(_, endpoint) = &route.service
            && let Some(id) = endpoint.polled_job()
        {
            shared.store.count_poll(id);
        }
    }

    let step = matched.and_then(|(i, s)| {
        if s.responses.is_empty() {
            return None;
        }
        let n = shared.counters[i].fetch_add(1, Ordering::Relaxed);
        Some(&s.responses[n.min(s.responses.len() - 1)])
    });

    let probe = parsed.probe.unwrap_or_default();
    let image_ask = match route.as_ref().and_then(Route::api) {
        Some(Api::Gemini) => wire::gemini::image_ask(model.as_deref(), probe.generation_config.as_ref()),
        Some(Api::Interactions) => wire::interactions::image_ask(model.as_deref(), probe.response_format.as_ref()),
        _ => None,
    };
    let facts = RequestFacts {
        model,
        body_len: body.len(),
        include_usage: probe
            .stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    let base_url = match parts.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}"),
        None => format!("http://{}", shared.addr),
    };

    let ctx = Ctx {
        shared: &shared,
        route: route.as_ref(),
        stream: route.as_ref().is_some_and(|r| {
            r.path_stream.unwrap_or_else(|| match probe.stream.as_ref() {
                Some(v) => v.as_bool().unwrap_or(false),
                None => r.api() == Some(Api::Ollama),
            })
        }),
        facts: &facts,
        abort,
        path: &path,
        payload: &parsed.payload,
        image_ask,
        body: &body,
        base_url: &base_url,
        headers: &parts.headers,
    };
    let resp = match step {
        Some(Step::Fault(fault)) => ctx.fault(fault).await,
        Some(Step::Reply(reply)) => ctx.reply(reply, None).await,
        None => ctx.reply(&shared.config.default_reply, None).await,
    };
    Ok(resp)
}

fn matches(s: &Scenario, path: &str, model: Option<&str>, body: &[u8], headers: &hyper::HeaderMap) -> bool {
    let m = &s.matcher;
    if let Some(p) = &m.path {
        let ok = match p.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == p,
        };
        if !ok {
            return false;
        }
    }
    if let Some(want) = &m.model
        && model != Some(want.as_str())
    {
        return false;
    }
    if let Some(needle) = &m.contains
        && !contains(body, needle.as_bytes())
    {
        return false;
    }
    if let Some((name, value)) = &m.header {
        let found = headers.get_all(name.as_str()).iter().any(|v| v.as_bytes() == value.as_bytes());
        if !found {
            return false;
        }
    }
    true
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `/_emulator/health`, `/_emulator/requests` (GET lists, DELETE clears), `/_emulator/jobs` and
/// `/_emulator/jobs/{id}` (GET: image jobs and their poll counts).
fn control(shared: &Shared, method: &Method, what: &str) -> Response<EmuBody> {
    if method == Method::GET
        && let Some(id) = what.strip_prefix("jobs/")
    {
        return match shared.store.info(id) {
            Some(info) => json_response(200, wire::to_vec(&info.to_json())),
            None => {
                let mut err = ErrorInfo::new(404, format!("No job {id:?}."));
                err.code = Some("not_found".into());
                json_response(404, wire::openai_error_body(&err))
            }
        };
    }
    match (method, what) {
        (&Method::GET, "jobs") => {
            let list: Vec<Value> = shared.store.list().iter().map(JobInfo::to_json).collect();
            json_response(200, wire::to_vec(&Value::Array(list)))
        }
        (&Method::GET, "health") => json_response(200, br#"{"status":"ok"}"#.to_vec()),
        (&Method::GET, "requests") => {
            let journal = shared.journal.lock().expect("journal lock");
            let list: Vec<Value> = journal
                .iter()
                .map(|r| {
                    json!({
                        "method": r.method,
                        "path": r.path,
                        "headers": r.headers,
                        "body": r.json().unwrap_or_else(|| Value::String(r.body_text())),
                        "scenario": r.scenario,
                    })
                })
                .collect();
            json_response(200, wire::to_vec(&Value::Array(list)))
        }
        (&Method::DELETE, "requests") => {
            shared.journal.lock().expect("journal lock").clear();
            json_response(200, br#"{"cleared":true}"#.to_vec())
        }
        _ => not_found(None, what),
    }
}

fn not_found(api: Option<Api>, path: &str) -> Response<EmuBody> {
    let mut err =
        ErrorInfo::new(404, format!("Invalid URL (POST {path}): the celeste emulator does not serve this path."));
    err.code = Some("unknown_url".into());
    let body = match api {
        Some(api) => api.error_body(&err),
        None => wire::openai_error_body(&err),
    };
    json_response(404, body)
}

/// Everything needed to answer one request.
struct Ctx<'a> {
    shared: &'a Shared,
    route: Option<&'a Route>,
    stream: bool,
    facts: &'a RequestFacts,
    abort: Arc<AtomicBool>,
    path: &'a str,
    payload: &'a Payload,
    /// A Gemini or Interactions request that asks for an image.
    image_ask: Option<ImageAsk>,
    body: &'a Bytes,
    base_url: &'a str,
    /// The request's headers (TypeSafe's danger-zone header).
    headers: &'a hyper::HeaderMap,
}

/// A fault-shaped body, and the `Content-Length` to announce when the body is cut short of it.
type Shaped = (EmuBody, Option<usize>);

impl Ctx<'_> {
    fn error_body(&self, err: &ErrorInfo) -> Vec<u8> {
        match self.route {
            Some(route) => route.error_body(err),
            None => wire::openai_error_body(err),
        }
    }

    fn plan(&self, reply: &Reply, event_bytes: Option<usize>) -> Plan {
        Plan::with_event_bytes(reply, self.facts, DEFAULT_MODEL, event_bytes.or(reply.event_bytes))
    }

    fn decorate(&self, resp: &mut Response<EmuBody>, content_type: &'static str) {
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(name) = self.route.and_then(Route::request_id_header) {
            let n = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
            let id = format!("req_emulator_{n:08x}");
            if let Ok(v) = HeaderValue::from_str(&id) {
                h.insert(name, v);
            }
        }
    }

    /// Events shaped by a stream fault; `error_tail` renders the API's in-stream error after
    /// the first `keep` events.
    fn stream_body(
        &self,
        rendered: Rendered,
        delay: Duration,
        fault: Option<&FaultKind>,
        error_tail: impl FnOnce(usize, &ErrorInfo) -> Events,
    ) -> EmuBody {
        let total = rendered.len();
        let last = total.saturating_sub(1);
        match fault {
            Some(FaultKind::ResetAfterEvents(n)) => {
                EmuBody::events(rendered, delay).cut_after((*n).min(last), End::Reset, self.abort.clone())
            }
            Some(FaultKind::TruncateAfterEvents(n)) => {
                EmuBody::events(rendered, delay).cut_after((*n).min(last), End::Clean, self.abort.clone())
            }
            Some(FaultKind::StallAfterEvents { after_events, stall_ms }) => {
                EmuBody::events(rendered, delay).stall_after(*after_events, Duration::from_millis(*stall_ms))
            }
            Some(FaultKind::MalformedEventAt(i)) => {
                EmuBody::events(rendered.edited(total, (*i).min(last), wire::corrupt), delay)
            }
            Some(FaultKind::StreamErrorAt { after_events, message }) => {
                let keep = (*after_events).min(last);
                let err = ErrorInfo::new(
                    500,
                    message.clone().unwrap_or_else(|| {
                        "The server had an error while processing your request (emulated in-stream error).".into()
                    }),
                );
                let tail = error_tail(keep, &err);
                EmuBody::events(rendered.with_tail(keep, tail), delay)
            }
            _ => EmuBody::events(rendered, delay),
        }
    }

    /// A complete body shaped by a stream fault: reset, truncate and stall cut it in the middle,
    /// malformed sends its first half. `Err` is the response that replaces it: a stream error on
    /// a unary request is an HTTP 500 with the API's error body.
    fn unary_body(&self, bytes: Vec<u8>, fault: Option<&FaultKind>) -> Result<Shaped, Box<Response<EmuBody>>> {
        let full_len = bytes.len();
        Ok(match fault {
            Some(FaultKind::ResetAfterEvents(_)) => {
                (EmuBody::halves(bytes).cut_after(1, End::Reset, self.abort.clone()), Some(full_len))
            }
            Some(FaultKind::TruncateAfterEvents(_)) => {
                (EmuBody::halves(bytes).cut_after(1, End::Clean, self.abort.clone()), None)
            }
            Some(FaultKind::StallAfterEvents { stall_ms, .. }) => {
                (EmuBody::halves(bytes).stall_after(1, Duration::from_millis(*stall_ms)), Some(full_len))
            }
            Some(FaultKind::MalformedEventAt(_)) => {
                let half = bytes.len() / 2;
                (EmuBody::full(bytes[..half].to_vec()), None)
            }
            Some(FaultKind::StreamErrorAt { message, .. }) => {
                let err = ErrorInfo::new(500, message.clone().unwrap_or_else(|| wire::default_message(500)));
                return Err(Box::new(json_response(500, self.error_body(&err))));
            }
            _ => (EmuBody::full(bytes), None),
        })
    }

    /// A normal answer, optionally shaped by a stream fault.
    async fn reply(&self, reply: &Reply, fault: Option<&FaultKind>) -> Response<EmuBody> {
        let Some(route) = self.route else {
            return not_found(None, self.path);
        };
        let api = match &route.service {
            Service::Text(api) => *api,
            Service::Image(api, endpoint) => return self.image_reply(*api, endpoint, reply, fault).await,
            Service::Decision => return self.decision_reply(reply, fault).await,
        };
        let oversize = match fault {
            Some(FaultKind::OversizeEventBytes(n)) => Some(*n),
            _ => None,
        };
        let mut plan = self.plan(reply, oversize);
        if let Some(ask) = self.image_ask {
            let seed = String::from_utf8_lossy(&self.body[..self.body.len().min(4096)]);
            ask.apply(&mut plan, &seed, reply.usage.output_tokens.is_some());
        }
        let status = status_code(reply.status);
        if self.stream {
            let framing = route.framing;
            let rendered = api.stream(&mut plan, framing);
            let delay = Duration::from_millis(reply.delay_ms);
            let body =
                self.stream_body(rendered, delay, fault, |keep, err| api.stream_error(&mut plan, framing, keep, err));
            let mut resp = Response::new(body);
            *resp.status_mut() = status;
            self.decorate(&mut resp, api.stream_content_type(framing));
            resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        } else {
            if reply.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(reply.delay_ms)).await;
            }
            let (body, announce) = match self.unary_body(api.unary(&mut plan), fault) {
                Ok(shaped) => shaped,
                Err(resp) => return *resp,
            };
            let mut resp = Response::new(body);
            *resp.status_mut() = status;
            self.decorate(&mut resp, "application/json");
            if let Some(len) = announce {
                resp.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
            resp
        }
    }

    /// An image API's answer, shaped by a stream fault like the text APIs' answers.
    async fn image_reply(
        &self,
        api: ImageApi,
        endpoint: &images::Endpoint,
        reply: &Reply,
        fault: Option<&FaultKind>,
    ) -> Response<EmuBody> {
        let call = Call {
            api,
            endpoint,
            payload: self.payload,
            model: self.facts.model.as_deref(),
            reply,
            store: &self.shared.store,
            base_url: self.base_url,
            created: crate::plan::unix_now(),
        };
        let Answer { status, content_type, headers, body } = images::answer(&call);
        let delay = Duration::from_millis(reply.delay_ms);
        let (body, announce, streamed) = match body {
            AnswerBody::Unary(bytes) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                match self.unary_body(bytes, fault) {
                    Ok((body, announce)) => (body, announce, false),
                    Err(resp) => return *resp,
                }
            }
            AnswerBody::Stream(rendered) => {
                (self.stream_body(rendered, delay, fault, |_, err| api.stream_error(err)), None, true)
            }
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status_code(status);
        self.decorate(&mut resp, content_type);
        let h = resp.headers_mut();
        if streamed {
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
        if let Some(len) = announce {
            h.insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        resp
    }

    /// A TypeSafe decision, shaped by a stream fault like the other unary answers.
    async fn decision_reply(&self, reply: &Reply, fault: Option<&FaultKind>) -> Response<EmuBody> {
        let danger_zone = self.headers.get(wire::typesafe::DANGER_ZONE).and_then(|v| v.to_str().ok());
        let Answer { status, content_type, body, .. } = wire::typesafe::answer(self.payload, danger_zone, reply.status);
        if reply.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(reply.delay_ms)).await;
        }
        let bytes = match body {
            AnswerBody::Unary(bytes) => bytes,
            AnswerBody::Stream(r) => r.buf.to_vec(),
        };
        let (body, announce) = match self.unary_body(bytes, fault) {
            Ok(shaped) => shaped,
            Err(resp) => return *resp,
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status_code(status);
        self.decorate(&mut resp, content_type);
        if let Some(len) = announce {
            resp.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        resp
    }

    async fn fault(&self, fault: &Fault) -> Response<EmuBody> {
        let reply = fault.reply.as_ref().unwrap_or(&self.shared.config.default_reply);
        match &fault.kind {
            FaultKind::Status(s) => {
                let mut err =
                    ErrorInfo::new(s.status, s.message.clone().unwrap_or_else(|| wire::default_message(s.status)));
                err.kind = s.error_type.clone();
                err.code = s.code.clone();
                err.retry_after = s.retry_after.clone();
                let mut resp = json_response(s.status, self.error_body(&err));
                let h = resp.headers_mut();
                if let Some(v) = &s.retry_after
                    && let Ok(v) = HeaderValue::from_str(v)
                {
                    h.insert("retry-after", v);
                }
                if let Some(ms) = s.retry_after_ms {
                    h.insert("retry-after-ms", HeaderValue::from(ms));
                }
                if let Some(retry) = s.should_retry {
                    h.insert("x-should-retry", HeaderValue::from_static(if retry { "true" } else { "false" }));
                }
                for (k, v) in &s.headers {
                    if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                        h.insert(k, v);
                    }
                }
                resp
            }
            FaultKind::HtmlError(status) => {
                let code = status_code(*status);
                let title = format!("{} {}", code.as_u16(), code.canonical_reason().unwrap_or("Error"));
                let html = format!(
                    "<!DOCTYPE html>\r\n<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
                     <center><h1>{title}</h1></center>\r\n<hr><center>celeste-emulator</center>\r\n\
                     </body>\r\n</html>\r\n"
                );
                let mut resp = Response::new(EmuBody::full(html.into_bytes()));
                *resp.status_mut() = code;
                resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                resp
            }
            FaultKind::EmptyError(status) => {
                let mut resp = Response::new(EmuBody::full(Bytes::new()));
                *resp.status_mut() = status_code(*status);
                resp
            }
            FaultKind::BinaryError(status) => {
                // Not UTF-8, not JSON: a gzip magic number followed by arbitrary bytes.
                let bytes: Vec<u8> = [0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0xc3, 0x28]
                    .into_iter()
                    .chain((0..=255u8).rev())
                    .collect();
                let mut resp = Response::new(EmuBody::full(bytes));
                *resp.status_mut() = status_code(*status);
                resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
                resp
            }
            FaultKind::HeadersDelayMs(ms) => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                self.reply(reply, None).await
            }
            kind => self.reply(reply, Some(kind)).await,
        }
    }
}
