//! WebSocket plumbing: a route that becomes a scripted WebSocket session.
//!
//! The HTTP side answers the upgrade request (`101 Switching Protocols` with the `Sec-WebSocket-Accept`
//! key), hyper hands over the raw connection, and the session's script runs on it in its own task
//! with a [`WsSession`]: receive frames, send text or binary frames, and the fault hooks of
//! [`WsFault`] (close mid-stream, an error frame, a stall, a dropped socket). Every frame the client
//! sends is recorded, so tests can check what was sent and in which order.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::upgrade::Upgraded;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::body::EmuBody;

/// Called with every data frame the client sends (text as its UTF-8 bytes).
pub(crate) type FrameRecorder = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Whether a request asks to become a WebSocket (`Connection: upgrade`, `Upgrade: websocket`).
pub(crate) fn is_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))))
    };
    has(CONNECTION, "upgrade") && has(UPGRADE, "websocket") && req.headers().contains_key(SEC_WEBSOCKET_KEY)
}

/// Answer an upgrade request and run `script` on the socket once the client has it.
///
/// A request that is not a valid upgrade gets a 400 and the script never runs.
pub(crate) fn accept<F, Fut>(mut req: Request<Incoming>, record: Option<FrameRecorder>, script: F) -> Response<EmuBody>
where
    F: FnOnce(WsSession) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes())) else {
        let mut resp = Response::new(EmuBody::full("expected a WebSocket upgrade"));
        *resp.status_mut() = StatusCode::BAD_REQUEST;
        return resp;
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        script(WsSession { ws, record }).await;
    });
    let mut resp = Response::new(EmuBody::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = resp.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&key) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

/// A way for a scripted session to misbehave.
#[derive(Debug, Clone, PartialEq)]
pub enum WsFault {
    /// Send a close frame with this code and reason, mid-stream.
    Close {
        /// The close code (1011 *internal error*, 1008 *policy violation*, ...).
        code: u16,
        /// The reason text.
        reason: String,
    },
    /// Send this text frame (the protocol's error event), then keep going.
    ErrorFrame(String),
    /// Go silent for this long (pings unanswered too), then keep going.
    Stall(Duration),
    /// Drop the connection without a close frame.
    Drop,
}

/// One server-side WebSocket session, driven by a script.
pub struct WsSession {
    ws: WebSocketStream<TokioIo<Upgraded>>,
    record: Option<FrameRecorder>,
}

/// What the client sent next.
#[derive(Debug, Clone, PartialEq)]
pub enum WsFrame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
    /// A close frame (its code, when it had one).
    Closed(Option<u16>),
}

impl WsSession {
    /// The client's next data frame or its close; `None` when the connection is gone.
    pub async fn recv(&mut self) -> Option<WsFrame> {
        loop {
            let got = match self.ws.next().await? {
                Ok(Message::Text(t)) => WsFrame::Text(t.as_str().to_owned()),
                Ok(Message::Binary(b)) => WsFrame::Binary(b),
                Ok(Message::Close(frame)) => return Some(WsFrame::Closed(frame.map(|f| u16::from(f.code)))),
                Ok(_) => continue,
                Err(_) => return None,
            };
            if let Some(record) = &self.record {
                match &got {
                    WsFrame::Text(t) => record(t.as_bytes()),
                    WsFrame::Binary(b) => record(b),
                    WsFrame::Closed(_) => {}
                }
            }
            return Some(got);
        }
    }

    /// The client's next text frame, skipping binary ones; `None` on close or a lost connection.
    pub async fn recv_text(&mut self) -> Option<String> {
        loop {
            match self.recv().await? {
                WsFrame::Text(t) => return Some(t),
                WsFrame::Binary(_) => {}
                WsFrame::Closed(_) => return None,
            }
        }
    }

    /// Send a text frame. `false` when the client is gone.
    pub async fn send_text(&mut self, text: impl Into<String>) -> bool {
        self.ws.send(Message::text(text.into())).await.is_ok()
    }

    /// Send a binary frame. `false` when the client is gone.
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> bool {
        self.ws.send(Message::binary(data.into())).await.is_ok()
    }

    /// Send a close frame with `code` and `reason`, and wait briefly for the client's answer.
    pub async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.to_owned().into() };
        if self.ws.send(Message::Close(Some(frame))).await.is_ok() {
            // Wait for the client's close (or the socket's end), so the handshake completes.
            let _ =
                tokio::time::timeout(Duration::from_secs(2), async { while let Some(Ok(_)) = self.ws.next().await {} })
                    .await;
        }
    }

    /// Apply a fault: the session back when it goes on, `None` when it is over (a close or a drop).
    pub async fn fault(mut self, fault: &WsFault) -> Option<Self> {
        match fault {
            WsFault::Close { code, reason } => {
                self.close(*code, reason).await;
                None
            }
            WsFault::ErrorFrame(text) => self.send_text(text.clone()).await.then_some(self),
            WsFault::Stall(d) => {
                tokio::time::sleep(*d).await;
                Some(self)
            }
            WsFault::Drop => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use std::convert::Infallible;
    use std::sync::Mutex;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    /// A one-route hyper server whose every request becomes `script`'s session.
    async fn serve(
        script: fn(WsSession) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let seen = frames.clone();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let svc = service_fn(move |req| {
                let seen = seen.clone();
                async move {
                    if !is_upgrade(&req) {
                        return Ok::<_, Infallible>(Response::new(EmuBody::full("not a websocket")));
                    }
                    let record: FrameRecorder = Arc::new(move |f: &[u8]| seen.lock().unwrap().push(f.to_vec()));
                    Ok(accept(req, Some(record), script))
                }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), svc).with_upgrades().await;
        });
        (format!("ws://{addr}/ws"), frames)
    }

    #[tokio::test]
    async fn a_route_becomes_a_scripted_session_with_faults() {
        let (url, frames) = serve(|mut s| {
            Box::pin(async move {
                let hello = s.recv_text().await.unwrap();
                s.send_text(format!("ack {hello}")).await;
                s.send_binary(Bytes::from_static(b"\x01\x02")).await;
                let Some(s) = s.fault(&WsFault::ErrorFrame(r#"{"type":"error"}"#.into())).await else { return };
                let Some(s) = s.fault(&WsFault::Stall(Duration::from_millis(50))).await else { return };
                s.fault(&WsFault::Close { code: 1011, reason: "boom".into() }).await;
            })
        })
        .await;
        let (mut ws, resp) = tokio_tungstenite::client_async(url.as_str().into_client_request().unwrap(), {
            let addr = url.trim_start_matches("ws://").trim_end_matches("/ws").to_string();
            tokio::net::TcpStream::connect(addr).await.unwrap()
        })
        .await
        .unwrap();
        assert_eq!(resp.status(), 101);
        ws.send(Message::text("hello")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ack hello"));
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(Bytes::from_static(b"\x01\x02")));
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(r#"{"type":"error"}"#));
        match ws.next().await.unwrap().unwrap() {
            Message::Close(Some(f)) => {
                assert_eq!(u16::from(f.code), 1011);
                assert_eq!(f.reason.as_str(), "boom");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(*frames.lock().unwrap(), vec![b"hello".to_vec()]);
    }
}
