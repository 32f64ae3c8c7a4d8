//! A WebSocket client for the APIs that stream over one socket (realtime and live sessions, WebSocket
//! text-to-speech).
//!
//! Built on `tokio-tungstenite` with the same TLS stack as the HTTP client (reqwest's `default-tls`:
//! rustls with the aws-lc-rs provider and the platform certificate verifier), so a deployment that
//! trusts a certificate for HTTP trusts it here too.
//!
//! What it adds over the raw socket:
//!
//! - **Time limits.** The TCP connect, TLS and upgrade handshake together are bounded by the connect
//!   limit, and a receive that sees no frame for the idle limit fails with
//!   [`Error::Timeout`] in [`TimeoutPhase::Idle`] (pings count: a server that keeps the socket alive
//!   with pings is not idle).
//! - **Pings.** Answered automatically (tungstenite queues the pong and flushes it on the next read or
//!   write); they are never surfaced to the caller.
//! - **Typed endings.** A refused upgrade is [`Error::Http`] with the server's status and body; a close
//!   frame with an error code (anything but 1000 *normal* and 1001 *going away*) is
//!   [`Error::StreamEvent`] whose type is `websocket_close_{code}` and whose message is the reason; a
//!   socket that drops without a close frame is [`Error::Transport`]. A clean close is `Ok(None)` from
//!   [`WsConnection::recv`]: whether that was early is for the wire protocol to say.
//! - **Secrets.** Header values are never logged or part of an error; URLs in errors are redacted
//!   (`transport/redact.rs`).
//! - **Clean close on drop.** A connection (or sender half) dropped while open sends a close frame
//!   from a background task when a Tokio runtime is running; otherwise the socket is simply closed.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use reqwest::header::HeaderMap;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Origin, Result, StreamEventError, TimeoutPhase, truncate_lossy};
use crate::transport::error_body::http_error;
use crate::transport::redact::{redact_url, scrub_http_error, secrets_in};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a close sent on drop may take before the socket is dropped anyway.
const CLOSE_ON_DROP_LIMIT: Duration = Duration::from_secs(2);

/// Settings of one WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsOptions {
    /// TCP connect, TLS and the upgrade handshake together (default 10 s, as HTTP's connect limit).
    pub connect_timeout: Duration,
    /// The longest wait for the next frame in [`WsConnection::recv`] (default 120 s, as HTTP's idle
    /// limit); `None` waits forever (a session where the caller, not the server, speaks next).
    pub idle_timeout: Option<Duration>,
    /// The largest message accepted (default 64 MiB); a larger one fails the receive.
    pub max_message_size: usize,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(120)),
            max_message_size: 64 << 20,
        }
    }
}

impl WsOptions {
    /// Set the connect limit.
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Set (or remove) the idle limit.
    pub fn with_idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Set the largest message accepted.
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
}

/// One data message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsMessage {
    /// A text message (UTF-8, usually JSON).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// An open WebSocket connection.
pub struct WsConnection {
    sender: WsSender,
    receiver: WsReceiver,
}

impl std::fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConnection").field("origin", &self.receiver.origin).finish_non_exhaustive()
    }
}

/// The sending half of a [`WsConnection`] (see [`WsConnection::split`]). Dropping it while the
/// connection is open sends a close frame.
pub struct WsSender {
    sink: Option<SplitSink<Socket, Message>>,
    origin: Origin,
}

/// The receiving half of a [`WsConnection`] (see [`WsConnection::split`]).
pub struct WsReceiver {
    stream: SplitStream<Socket>,
    origin: Origin,
    idle: Option<Duration>,
    ended: bool,
}

/// The TLS configuration reqwest's `default-tls` uses: rustls, aws-lc-rs, the platform verifier. Built
/// once (loading the platform's roots is not free).
fn tls_config() -> Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            use rustls_platform_verifier::BuilderVerifierExt;
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .and_then(|b| b.with_platform_verifier())
                .map(|b| Arc::new(b.with_no_client_auth()))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::invalid_input(format!("could not build the TLS configuration: {e}")))
}

/// Open a WebSocket to `url` (`ws://` or `wss://`) with `headers` added to the upgrade request.
///
/// Header values are sent as given and never appear in an error. A refused upgrade is
/// [`Error::Http`]; a connection that cannot be made is [`Error::Transport`] with `connect: true`;
/// the connect limit running out is [`Error::Timeout`] in [`TimeoutPhase::Connect`].
pub async fn connect(url: &str, headers: &HeaderMap, origin: Origin, options: &WsOptions) -> Result<WsConnection> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::invalid_input(format!("the WebSocket URL does not parse ({e})")))?;
    if !matches!(parsed.scheme(), "ws" | "wss") {
        return Err(Error::invalid_input(format!(
            "the WebSocket URL {} does not start with ws:// or wss://",
            redact_url(url)
        )));
    }
    let mut request = url.into_client_request().map_err(|e| connect_error(origin, url, headers, e))?;
    for (name, value) in headers {
        request.headers_mut().append(name.clone(), value.clone());
    }
    if !request.headers().contains_key(http::header::USER_AGENT) {
        request.headers_mut().insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(concat!("celeste-rs/", env!("CARGO_PKG_VERSION"))),
        );
    }
    let connector = if parsed.scheme() == "wss" { Connector::Rustls(tls_config()?) } else { Connector::Plain };
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(options.max_message_size);
    config.max_frame_size = Some(options.max_message_size);
    let handshake = tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, Some(connector));
    let (socket, _response) = match tokio::time::timeout(options.connect_timeout, handshake).await {
        Err(_) => return Err(Error::Timeout { origin, phase: TimeoutPhase::Connect, after: options.connect_timeout }),
        Ok(Err(e)) => return Err(connect_error(origin, url, headers, e)),
        Ok(Ok(ok)) => ok,
    };
    let (sink, stream) = socket.split();
    Ok(WsConnection {
        sender: WsSender { sink: Some(sink), origin },
        receiver: WsReceiver { stream, origin, idle: options.idle_timeout, ended: false },
    })
}

/// A failed upgrade as the library's error: the server's refusal as an HTTP error (its body decoded as
/// any error body), anything else as a connect failure. The URL never appears (it can carry a key).
fn connect_error(origin: Origin, url: &str, headers: &HeaderMap, e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            let mut e = http_error(origin, status, response.headers(), body);
            // A server that echoes the key it was sent must not put it in the error.
            scrub_http_error(&mut e, &secrets_in(url, headers));
            Error::Http(Box::new(e))
        }
        tungstenite::Error::Url(u) => Error::invalid_input(format!("bad WebSocket URL {}: {u}", redact_url(url))),
        other => Error::Transport {
            origin,
            message: format!("could not open the WebSocket: {other}"),
            connect: true,
            source: Some(Box::new(other)),
        },
    }
}

/// A broken connection as the library's error.
fn broken(origin: Origin, e: tungstenite::Error) -> Error {
    let message = match &e {
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
            "the connection closed without a WebSocket close frame".to_string()
        }
        tungstenite::Error::Capacity(c) => format!("message too large: {c}"),
        other => format!("WebSocket error: {other}"),
    };
    Error::Transport { origin, message, connect: false, source: Some(Box::new(e)) }
}

/// A close frame as an ending: `None` for a normal one, the typed error for an error code.
fn close_ending(origin: Origin, frame: Option<&CloseFrame>) -> Option<Error> {
    let frame = frame?;
    if matches!(frame.code, CloseCode::Normal | CloseCode::Away) {
        return None;
    }
    let code = u16::from(frame.code);
    let message = if frame.reason.is_empty() {
        format!("the server closed the WebSocket with code {code}")
    } else {
        frame.reason.to_string()
    };
    Some(Error::StreamEvent(Box::new(StreamEventError {
        origin,
        message,
        error_type: Some(format!("websocket_close_{code}")),
        event: truncate_lossy(frame.reason.as_bytes(), 512),
    })))
}

impl WsConnection {
    /// Send a text message.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<()> {
        self.sender.send_text(text).await
    }

    /// Send a binary message.
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<()> {
        self.sender.send_binary(data).await
    }

    /// The next data message; `Ok(None)` once the server closed normally. See [`WsReceiver::recv`].
    pub async fn recv(&mut self) -> Result<Option<WsMessage>> {
        self.receiver.recv().await
    }

    /// Send a normal close frame and wait (up to the idle limit) for the server's answer. A server
    /// that drops the socket instead of answering is not an error here: the connection is over either
    /// way.
    pub async fn close(mut self) -> Result<()> {
        self.sender.close().await?;
        // Drain to the server's close frame, so the closing handshake completes.
        while let Ok(Some(_)) = self.receiver.recv().await {}
        Ok(())
    }

    /// The sender and receiver halves, usable from two tasks at once.
    pub fn split(self) -> (WsSender, WsReceiver) {
        (self.sender, self.receiver)
    }
}

impl WsSender {
    async fn send(&mut self, message: Message) -> Result<()> {
        let origin = self.origin;
        let Some(sink) = self.sink.as_mut() else {
            return Err(Error::invalid_input("the WebSocket is closed: nothing more can be sent"));
        };
        sink.send(message).await.map_err(|e| broken(origin, e))
    }

    /// Send a text message.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<()> {
        self.send(Message::text(text.into())).await
    }

    /// Send a binary message.
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<()> {
        self.send(Message::binary(data.into())).await
    }

    /// Send a normal close frame; nothing can be sent after it. Closing twice is a no-op.
    pub async fn close(&mut self) -> Result<()> {
        let origin = self.origin;
        let Some(mut sink) = self.sink.take() else { return Ok(()) };
        match sink.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }))).await {
            Ok(()) | Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => Ok(()),
            Err(e) => Err(broken(origin, e)),
        }
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.sink.is_none()
    }
}

impl Drop for WsSender {
    fn drop(&mut self) {
        let Some(mut sink) = self.sink.take() else { return };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let close = Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }));
                let _ = tokio::time::timeout(CLOSE_ON_DROP_LIMIT, sink.send(close)).await;
            });
        }
    }
}

impl WsReceiver {
    /// The next data message; `Ok(None)` once the server closed normally (or after an error was
    /// returned: an ended receiver stays ended).
    ///
    /// Pings and pongs are handled here and never returned. See the module docs for the errors.
    pub async fn recv(&mut self) -> Result<Option<WsMessage>> {
        while !self.ended {
            let next = match self.idle {
                Some(limit) => match tokio::time::timeout(limit, self.stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.ended = true;
                        return Err(Error::Timeout { origin: self.origin, phase: TimeoutPhase::Idle, after: limit });
                    }
                },
                None => self.stream.next().await,
            };
            match next {
                None | Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) => {
                    self.ended = true;
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Err(broken(self.origin, e));
                }
                Some(Ok(Message::Text(t))) => return Ok(Some(WsMessage::Text(t.as_str().to_owned()))),
                Some(Ok(Message::Binary(b))) => return Ok(Some(WsMessage::Binary(b))),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    self.ended = true;
                    if let Some(e) = close_ending(self.origin, frame.as_ref()) {
                        return Err(e);
                    }
                }
            }
        }
        Ok(None)
    }

    /// Whether the connection has ended (closed, failed or timed out).
    pub fn is_ended(&self) -> bool {
        self.ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::enums::Provider;
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    const ORIGIN: Origin = Origin::Provider(Provider::OpenAi);

    /// A one-connection server: accepts the upgrade (handing the request's headers to `seen`), then runs
    /// `script` on the socket.
    async fn server<F, Fut>(script: F) -> (String, tokio::sync::oneshot::Receiver<http::HeaderMap>)
    where
        F: FnOnce(WebSocketStream<TcpStream>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            // The callback's signature is tungstenite's: its error is a whole HTTP response.
            #[allow(clippy::result_large_err)]
            let ws = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, resp: Response| {
                let _ = tx.send(req.headers().clone());
                Ok(resp)
            })
            .await
            .unwrap();
            script(ws).await;
        });
        (format!("ws://{addr}/v1/live"), rx)
    }

    fn options() -> WsOptions {
        WsOptions::default()
            .with_connect_timeout(Duration::from_secs(5))
            .with_idle_timeout(Some(Duration::from_secs(5)))
    }

    #[tokio::test]
    async fn sends_and_receives_text_and_binary_with_headers_and_pings() {
        let (url, seen) = server(|mut ws| async move {
            ws.send(Message::Ping(Bytes::from_static(b"p"))).await.unwrap();
            while let Some(Ok(m)) = ws.next().await {
                match m {
                    Message::Text(t) => ws.send(Message::text(format!("echo {t}"))).await.unwrap(),
                    Message::Binary(b) => ws.send(Message::Binary(b)).await.unwrap(),
                    Message::Pong(p) => ws.send(Message::text(format!("pong {}", p.len()))).await.unwrap(),
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        })
        .await;
        let mut headers = HeaderMap::new();
        headers.insert("x-goog-api-key", "secret-key-123456".parse().unwrap());
        let mut conn = connect(&url, &headers, ORIGIN, &options()).await.unwrap();
        assert_eq!(seen.await.unwrap()["x-goog-api-key"], "secret-key-123456");
        assert!(!format!("{conn:?}").contains("secret"));
        // The ping was answered without the caller seeing it.
        assert_eq!(conn.recv().await.unwrap(), Some(WsMessage::Text("pong 1".into())));
        conn.send_text("hi").await.unwrap();
        assert_eq!(conn.recv().await.unwrap(), Some(WsMessage::Text("echo hi".into())));
        conn.send_binary(Bytes::from_static(b"\x00\x01")).await.unwrap();
        assert_eq!(conn.recv().await.unwrap(), Some(WsMessage::Binary(Bytes::from_static(b"\x00\x01"))));
        conn.close().await.unwrap();
    }

    #[tokio::test]
    async fn a_normal_close_ends_and_an_error_close_is_a_typed_error() {
        let (url, _) = server(|mut ws| async move {
            ws.send(Message::text("one")).await.unwrap();
            ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await.unwrap();
        })
        .await;
        let mut conn = connect(&url, &HeaderMap::new(), ORIGIN, &options()).await.unwrap();
        assert_eq!(conn.recv().await.unwrap(), Some(WsMessage::Text("one".into())));
        assert_eq!(conn.recv().await.unwrap(), None);
        assert_eq!(conn.recv().await.unwrap(), None, "an ended receiver stays ended");

        let (url, _) = server(|mut ws| async move {
            ws.close(Some(CloseFrame { code: CloseCode::Policy, reason: "quota exceeded".into() })).await.unwrap();
        })
        .await;
        let mut conn = connect(&url, &HeaderMap::new(), ORIGIN, &options()).await.unwrap();
        let e = conn.recv().await.unwrap_err();
        assert!(
            matches!(&e, Error::StreamEvent(s) if s.message == "quota exceeded"
            && s.error_type.as_deref() == Some("websocket_close_1008")),
            "{e:?}"
        );
        assert_eq!(e.kind(), "stream_event");
    }

    #[tokio::test]
    async fn a_dropped_socket_is_a_transport_error() {
        let (url, _) = server(|ws| async move {
            drop(ws.into_inner());
        })
        .await;
        let mut conn = connect(&url, &HeaderMap::new(), ORIGIN, &options()).await.unwrap();
        let e = conn.recv().await.unwrap_err();
        assert!(matches!(&e, Error::Transport { connect: false, .. }), "{e:?}");
    }

    #[tokio::test]
    async fn a_silent_server_is_an_idle_timeout() {
        let (url, _) = server(|mut ws| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let _ = ws.close(None).await;
        })
        .await;
        let opts = options().with_idle_timeout(Some(Duration::from_millis(100)));
        let mut conn = connect(&url, &HeaderMap::new(), ORIGIN, &opts).await.unwrap();
        let e = conn.recv().await.unwrap_err();
        assert!(matches!(e, Error::Timeout { phase: TimeoutPhase::Idle, .. }), "{e:?}");
    }

    #[tokio::test]
    async fn a_refused_upgrade_is_an_http_error_and_a_stalled_one_a_connect_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            let body = r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}"#;
            let reply = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            tcp.write_all(reply.as_bytes()).await.unwrap();
            // The second connection never answers the upgrade.
            let (_stalled, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let url = format!("ws://{addr}/v1/live/sessions?key=AIzaSecretValue");
        let e = connect(&url, &HeaderMap::new(), ORIGIN, &options()).await.unwrap_err();
        assert_eq!(e.status(), Some(401), "{e:?}");
        assert!(e.to_string().contains("Incorrect API key"), "{e}");
        let opts = options().with_connect_timeout(Duration::from_millis(200));
        let e = connect(&url, &HeaderMap::new(), ORIGIN, &opts).await.unwrap_err();
        assert!(matches!(e, Error::Timeout { phase: TimeoutPhase::Connect, .. }), "{e:?}");
        assert!(!format!("{e:?}{e}").contains("AIzaSecretValue"));
    }

    #[tokio::test]
    async fn bad_urls_and_unreachable_hosts_are_clear_errors() {
        let e = connect("https://example.com/x", &HeaderMap::new(), ORIGIN, &options()).await.unwrap_err();
        assert!(e.to_string().contains("ws:// or wss://"), "{e}");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let e = connect(&format!("ws://{addr}/"), &HeaderMap::new(), ORIGIN, &options()).await.unwrap_err();
        assert!(matches!(e, Error::Transport { connect: true, .. }), "{e:?}");
        assert!(e.is_retryable());
    }

    #[tokio::test]
    async fn dropping_the_connection_sends_a_close_frame_and_halves_work_from_two_tasks() {
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
        let (url, _) = server(|mut ws| async move {
            let mut texts = 0;
            while let Some(Ok(m)) = ws.next().await {
                match m {
                    Message::Text(_) => {
                        texts += 1;
                        ws.send(Message::text(format!("{texts}"))).await.unwrap();
                    }
                    Message::Close(frame) => {
                        let _ = closed_tx.send((texts, frame.map(|f| u16::from(f.code))));
                        break;
                    }
                    _ => {}
                }
            }
        })
        .await;
        let conn = connect(&url, &HeaderMap::new(), ORIGIN, &options()).await.unwrap();
        let (mut tx, mut rx) = conn.split();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while got.len() < 3 {
                match rx.recv().await.unwrap() {
                    Some(WsMessage::Text(t)) => got.push(t),
                    other => panic!("{other:?}"),
                }
            }
            got
        });
        for i in 0..3 {
            tx.send_text(format!("m{i}")).await.unwrap();
        }
        assert_eq!(reader.await.unwrap(), ["1", "2", "3"]);
        drop(tx);
        assert_eq!(closed_rx.await.unwrap(), (3, Some(1000)));
    }

    #[tokio::test]
    async fn sending_after_close_is_an_error() {
        let (url, _) = server(|mut ws| async move { while let Some(Ok(_)) = ws.next().await {} }).await;
        let conn = connect(&url, &HeaderMap::new(), ORIGIN, &options()).await.unwrap();
        let (mut tx, _rx) = conn.split();
        tx.close().await.unwrap();
        tx.close().await.unwrap();
        assert!(tx.is_closed());
        let e = tx.send_text("late").await.unwrap_err();
        assert!(e.to_string().contains("closed"), "{e}");
    }
}
