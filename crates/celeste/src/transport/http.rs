//! The HTTP client: one pooled reqwest client per configuration, per-phase timeouts, and retries.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use super::{Attempt, AttemptObserver};
use crate::error::{Error, Origin, Result, TimeoutPhase};
use crate::transport::cassette::Cassette;
use crate::transport::error_body::http_error;
use crate::transport::retry::RetryPolicy;

/// Time limits for each phase of a request.
///
/// The defaults are chosen so that no limit cuts a healthy LLM call short (see "Timeouts" in
/// ARCHITECTURE.md):
///
/// - a unary call's response headers come only when the whole reply has been generated, so the
///   header limit is the generation limit, and a unary call waits for its headers up to the larger of
///   [`headers`](Self::headers) and [`total`](Self::total): a total never ends a unary call early
///   through the header phase;
/// - a stream is governed by the gap between chunks ([`idle`](Self::idle)): a long generation that
///   keeps producing is never cut, and there is no overall deadline unless one is set (here, or per
///   call with `timeout`);
/// - a request that was sent and got no answer is not sent again by default (see
///   [`RetryPolicy`](crate::RetryPolicy)), so a slow reasoning call is neither billed twice nor
///   left to time out once per attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Establishing the connection (default 10 s).
    pub connect: Duration,
    /// From sending the request to receiving the status and headers (default 600 s). For a unary call
    /// this is the time to generate the whole reply; a stream's headers come with its first event.
    pub headers: Duration,
    /// The longest gap between two chunks of a body (default 120 s). This is what ends a stream whose
    /// server stopped sending; reasoning models can think for a minute or more before their first
    /// visible chunk, so keep it generous.
    pub idle: Duration,
    /// The whole operation, retries and body included, unary calls and streams alike (default `None`:
    /// no overall limit; the header and idle limits bound every wait).
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            headers: Duration::from_secs(600),
            idle: Duration::from_secs(120),
            total: None,
        }
    }
}

impl Timeouts {
    /// Set the connect limit.
    pub fn with_connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }

    /// Set the response-headers limit.
    pub fn with_headers(mut self, d: Duration) -> Self {
        self.headers = d;
        self
    }

    /// Set the idle-gap limit.
    pub fn with_idle(mut self, d: Duration) -> Self {
        self.idle = d;
        self
    }

    /// Set (or remove) the total limit.
    pub fn with_total(mut self, d: Option<Duration>) -> Self {
        self.total = d;
        self
    }
}

/// A request body that can be sent again on retry.
#[derive(Clone)]
pub(crate) enum RequestBody {
    /// No body (GET).
    Empty,
    /// A JSON document, already serialised.
    Json(Bytes),
    /// A multipart form, rebuilt for each attempt because reqwest consumes forms.
    Multipart(Arc<dyn Fn() -> reqwest::multipart::Form + Send + Sync>),
}

/// One logical request, replayable for retries.
#[derive(Clone)]
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: RequestBody,
    /// The call's configured total limit, named when it runs out (measured from the deadline when
    /// absent: polls and downloads).
    pub total: Option<Duration>,
}

/// The shared HTTP machinery of a client.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    cassette: Option<Cassette>,
}

impl Transport {
    pub fn new(timeouts: Timeouts, retry: RetryPolicy, cassette: Option<Cassette>) -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("celeste-rs/", env!("CARGO_PKG_VERSION")))
            // Provider APIs answer, they do not redirect, and the reference (httpx) does not follow
            // redirects either: a 3xx surfaces as an HTTP error. Following them would also re-send
            // credentials to wherever a response points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::invalid_input(format!("could not build the HTTP client: {e}")))?;
        Ok(Transport { client, timeouts, retry, cassette })
    }

    /// The deadline for an operation starting now (none when the limit is too far to represent).
    pub fn deadline(&self) -> Option<Instant> {
        self.timeouts.total.and_then(|t| Instant::now().checked_add(t))
    }

    /// Send a unary request, retrying per the policy, until a success status arrives. A non-success
    /// status is read (bounded) and returned as [`Error::Http`]. The response headers are awaited up
    /// to the larger of the header limit and the call's total limit: they come only when the reply
    /// has been generated.
    pub async fn send(
        &self,
        origin: Origin,
        req: &HttpRequest,
        deadline: Option<Instant>,
        observer: &impl AttemptObserver,
    ) -> Result<reqwest::Response> {
        self.send_unary(origin, req, deadline, observer, false).await
    }

    /// As [`send`](Self::send), but a redirect (a 3xx with a `Location`) is returned as the response
    /// rather than as an error: for downloads that follow redirects themselves, deciding at each hop
    /// which credentials go (the client follows none).
    pub async fn send_redirectable(
        &self,
        origin: Origin,
        req: &HttpRequest,
        deadline: Option<Instant>,
        observer: &impl AttemptObserver,
    ) -> Result<reqwest::Response> {
        self.send_unary(origin, req, deadline, observer, true).await
    }

    /// [`send`](Self::send) and [`send_redirectable`](Self::send_redirectable): the headers wait up
    /// to the larger of the header limit and the call's total limit.
    async fn send_unary(
        &self,
        origin: Origin,
        req: &HttpRequest,
        deadline: Option<Instant>,
        observer: &impl AttemptObserver,
        redirectable: bool,
    ) -> Result<reqwest::Response> {
        let total = deadline.map(|d| req.total.unwrap_or_else(|| total_limit(d)));
        let headers = total.map_or(self.timeouts.headers, |t| self.timeouts.headers.max(t));
        self.send_within(origin, req, (deadline, total), headers, observer, redirectable).await
    }

    /// Send a request whose body is a stream: as [`send`](Self::send), with the header limit as set
    /// (a stream's headers come with its first event, not at the end of the generation).
    pub async fn open_stream(
        &self,
        origin: Origin,
        req: &HttpRequest,
        deadline: Option<Instant>,
        observer: &impl AttemptObserver,
    ) -> Result<reqwest::Response> {
        let total = deadline.map(|d| req.total.unwrap_or_else(|| total_limit(d)));
        self.send_within(origin, req, (deadline, total), self.timeouts.headers, observer, false).await
    }

    async fn send_within(
        &self,
        origin: Origin,
        req: &HttpRequest,
        (deadline, total): Limits,
        headers: Duration,
        observer: &impl AttemptObserver,
        redirects: bool,
    ) -> Result<reqwest::Response> {
        let mut retry = 0;
        loop {
            let err = match self.attempt(origin, req, (deadline, total), headers, observer, (retry, redirects)).await {
                Ok(mut resp) => {
                    // The body is read later, by whoever takes the response: it names the limit too.
                    if let Some(t) = total {
                        resp.extensions_mut().insert(TotalLimit(t));
                    }
                    return Ok(resp);
                }
                Err(e) => e,
            };
            if !self.retry.retries(&err) {
                return Err(err);
            }
            let server_asked = match &err {
                Error::Http(h) => h.retry_after,
                _ => None,
            };
            let Some(wait) = self.retry.wait(retry, server_asked) else {
                return Err(err);
            };
            // `max_wait` is the caller's and may be huge: an unrepresentable instant is past any deadline.
            if deadline.is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|at| at >= d)) {
                return Err(err);
            }
            let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            tracing::debug!(%origin, retry = retry + 1, wait_ms, error = %err, "retrying");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// One attempt: send and wait for headers within the header limit (and the total deadline).
    async fn attempt(
        &self,
        origin: Origin,
        req: &HttpRequest,
        limits: Limits,
        headers_limit: Duration,
        observer: &impl AttemptObserver,
        (resend, redirects): (u32, bool),
    ) -> Result<reqwest::Response> {
        let mut http_span = observer.attempt(req.method.as_str(), &req.url, resend);
        let mut headers = req.headers.clone();
        http_span.inject(&mut headers);
        let json_body = match &req.body {
            RequestBody::Json(b) => Some(&b[..]),
            _ => None,
        };
        let resp = match &self.cassette {
            Some(c) if c.is_replay() => c.replay_response(req.method.as_str(), &req.url, json_body),
            _ => self.network(origin, req, headers, limits, headers_limit).await,
        };
        let resp = match (&self.cassette, resp) {
            (Some(c), Ok(r)) if !c.is_replay() => Ok(c.record_response(req.method.as_str(), &req.url, json_body, r)),
            (_, r) => r,
        };
        let resp = resp.inspect_err(|e| http_span.error(e))?;
        let status = resp.status();
        http_span.status(status.as_u16());
        let redirected = redirects && status.is_redirection() && resp.headers().contains_key(reqwest::header::LOCATION);
        if status.is_success() || redirected {
            return Ok(resp);
        }
        Err(self.error_response(origin, req, status, resp, limits).await)
    }

    /// Send one request over the network and wait for the response headers within the limits.
    async fn network(
        &self,
        origin: Origin,
        req: &HttpRequest,
        headers: reqwest::header::HeaderMap,
        limits: Limits,
        headers_limit: Duration,
    ) -> Result<reqwest::Response> {
        // A URL that cannot be sent to comes from the caller's base URL: their input, not a network
        // failure. The message names the problem, never the URL (it may hold a key).
        let url = super::urls::check(&req.url)
            .map_err(|why| Error::invalid_input(format!("the request URL is not usable: {why}; check base_url")))?;
        let mut builder = self.client.request(req.method.clone(), url).headers(headers);
        builder = match &req.body {
            RequestBody::Empty => builder,
            RequestBody::Json(b) => {
                builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(b.clone())
            }
            RequestBody::Multipart(form) => builder.multipart(form()),
        };
        let (limit, phase, after) = phase_limit(headers_limit, TimeoutPhase::Headers, limits);
        match tokio::time::timeout(limit, builder.send()).await {
            Err(_) => Err(Error::Timeout { origin, phase, after }),
            Ok(Err(e)) => Err(transport_error(origin, e, self.timeouts.connect)),
            Ok(Ok(r)) => Ok(r),
        }
    }

    /// Read an error response's body (at most 1 MiB, within the idle limit) into [`Error::Http`],
    /// without any credential of `req` the server echoed back ("Incorrect API key provided: …").
    async fn error_response(
        &self,
        origin: Origin,
        req: &HttpRequest,
        status: StatusCode,
        resp: reqwest::Response,
        limits: Limits,
    ) -> Error {
        let headers = resp.headers().clone();
        // An unreadable error body must not hide the status: keep whatever arrived.
        let body = self.read_body_limited(origin, resp, 1 << 20, limits).await.unwrap_or_default();
        let mut error = http_error(origin, status.as_u16(), &headers, &body);
        super::redact::scrub_http_error(&mut error, &super::redact::secrets_in(&req.url, &req.headers));
        Error::Http(Box::new(error))
    }

    /// Read a whole body with the idle limit between chunks and the total deadline.
    pub async fn read_body(&self, origin: Origin, resp: reqwest::Response, deadline: Option<Instant>) -> Result<Bytes> {
        let total = resp.extensions().get::<TotalLimit>().map(|t| t.0);
        self.read_body_limited(origin, resp, usize::MAX, (deadline, total)).await
    }

    async fn read_body_limited(
        &self,
        origin: Origin,
        resp: reqwest::Response,
        max: usize,
        limits: Limits,
    ) -> Result<Bytes> {
        // `content-length` is the server's claim, not a promise: it only sizes the first allocation,
        // within reason, so a lying header cannot make us reserve gigabytes (or overflow) up front.
        const MAX_HINT: u64 = 16 << 20;
        let hint = usize::try_from(resp.content_length().unwrap_or(0).min(MAX_HINT)).unwrap_or(0).min(max);
        let mut stream = resp.bytes_stream();
        let mut first: Option<Bytes> = None;
        let mut buf = BytesMut::new();
        loop {
            let (limit, phase, after) = phase_limit(self.timeouts.idle, TimeoutPhase::Idle, limits);
            let next = match tokio::time::timeout(limit, stream.next()).await {
                Err(_) => {
                    return Err(Error::Timeout { origin, phase, after });
                }
                Ok(n) => n,
            };
            match next {
                None => break,
                Some(Err(e)) => return Err(transport_error(origin, e, self.timeouts.connect)),
                Some(Ok(chunk)) => {
                    // The common single-chunk body is handed on without a copy.
                    if first.is_none() && buf.is_empty() {
                        first = Some(chunk);
                    } else {
                        if let Some(f) = first.take() {
                            buf.reserve(hint.max(f.len() + chunk.len()));
                            buf.extend_from_slice(&f);
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    if first.as_ref().map_or(buf.len(), Bytes::len) >= max {
                        break;
                    }
                }
            }
        }
        Ok(first.unwrap_or_else(|| buf.freeze()))
    }
}

/// A call's total deadline, and its total limit as [`total_limit`] measured it.
type Limits = (Option<Instant>, Option<Duration>);

/// The total limit of a call, carried in its response's extensions from [`Transport::send`] to
/// whatever reads the body, so that a total timeout names the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TotalLimit(pub Duration);

/// The total limit of a call whose deadline is `deadline`, measured as sending begins.
///
/// Callers take the deadline (now + the configured limit) immediately before sending, so the time left
/// here is the configured limit less the microseconds in between. Rounded up to the millisecond, it
/// is the configured limit itself for any limit in whole milliseconds: what a timeout should report,
/// rather than the time left when it fired (always about zero).
fn total_limit(deadline: Instant) -> Duration {
    let left = deadline.saturating_duration_since(Instant::now());
    u64::try_from(left.as_nanos().div_ceil(1_000_000)).map_or(left, Duration::from_millis)
}

/// How long to wait in a phase: its own limit, or less if the total deadline comes first. Also the
/// phase to report and the limit to name if the wait runs out: the total limit (when known) once the
/// deadline is what cut the wait short.
fn phase_limit(limit: Duration, phase: TimeoutPhase, (deadline, total): Limits) -> (Duration, TimeoutPhase, Duration) {
    match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left < limit { (left, TimeoutPhase::Total, total.unwrap_or(left)) } else { (limit, phase, limit) }
        }
        None => (limit, phase, limit),
    }
}

/// A reqwest error as our error, with the URL removed (it can carry key-bearing query parameters).
pub(crate) fn transport_error(origin: Origin, e: reqwest::Error, connect_limit: Duration) -> Error {
    let e = e.without_url();
    if e.is_timeout() && e.is_connect() {
        return Error::Timeout { origin, phase: TimeoutPhase::Connect, after: connect_limit };
    }
    let connect = e.is_connect();
    let mut message = e.to_string();
    // reqwest's top-level message is generic; the cause says what happened (refused, reset, ...).
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Transport { origin, message, connect, source: Some(Box::new(e)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::enums::Provider;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Accept one connection, read one request (headers and `content-length` body), answer 200 with
    /// `body`, and hand back what was received.
    async fn one_shot(body: &'static [u8]) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
            sock.write_all(head.as_bytes()).await.unwrap();
            sock.write_all(body).await.unwrap();
            got
        });
        (url, task)
    }

    fn transport() -> Transport {
        Transport::new(Timeouts::default(), RetryPolicy::none(), None).unwrap()
    }

    #[tokio::test]
    async fn get_with_query_downloads_binary() {
        let (url, server) = one_shot(&[0, 159, 146, 150]).await;
        let t = transport();
        let origin = Origin::Provider(Provider::OpenAi);
        let req = HttpRequest {
            method: Method::GET,
            url: format!("{url}/v1/files/f1/content?variant=full&n=2"),
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
            total: None,
        };
        let resp = t.send(origin, &req, None, &()).await.unwrap();
        assert_eq!(&t.read_body(origin, resp, None).await.unwrap()[..], &[0, 159, 146, 150]);
        let got = String::from_utf8_lossy(&server.await.unwrap()).into_owned();
        assert!(got.starts_with("GET /v1/files/f1/content?variant=full&n=2 HTTP/1.1"), "{got}");
    }

    #[tokio::test]
    async fn multipart_post_sends_fields_and_files() {
        let (url, server) = one_shot(b"{}").await;
        let t = transport();
        let origin = Origin::Provider(Provider::OpenAi);
        let form = || {
            let file =
                reqwest::multipart::Part::bytes(b"RIFFdata".to_vec()).file_name("a.wav").mime_str("audio/wav").unwrap();
            reqwest::multipart::Form::new().text("model", "whisper-1").part("file", file)
        };
        let req = HttpRequest {
            method: Method::POST,
            url: format!("{url}/v1/audio/transcriptions"),
            headers: HeaderMap::new(),
            body: RequestBody::Multipart(Arc::new(form)),
            total: None,
        };
        t.send(origin, &req, None, &()).await.unwrap();
        let got = String::from_utf8_lossy(&server.await.unwrap()).into_owned();
        assert!(got.to_ascii_lowercase().contains("content-type: multipart/form-data; boundary="), "{got}");
        assert!(got.contains("name=\"model\"") && got.contains("whisper-1"), "{got}");
        assert!(got.contains("filename=\"a.wav\"") && got.contains("RIFFdata"), "{got}");
    }
}
