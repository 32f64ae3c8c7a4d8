//! Helpers shared by the integration tests: HTTP calls, a hand-written SSE parser, raw TCP.
#![allow(dead_code)]

use std::io;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub struct Sse {
    pub event: Option<String>,
    pub data: String,
}

impl Sse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }
}

/// Splits an SSE body into events (`event:` and `data:` lines; blank line ends an event).
pub fn parse_sse(text: &str) -> Vec<Sse> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        if block.trim().is_empty() {
            continue;
        }
        let mut event = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event: ") {
                event = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push(v);
            } else if line.starts_with(':') {
                // comment
            } else {
                panic!("unexpected SSE line: {line:?}");
            }
        }
        out.push(Sse { event, data: data.join("\n") });
    }
    out
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap()
}

pub async fn post(url: &str, body: &Value) -> reqwest::Response {
    client().post(url).header("content-type", "application/json").body(body.to_string()).send().await.unwrap()
}

/// POSTs and returns (status, content-type, body text).
pub async fn post_text(url: &str, body: &Value) -> (u16, String, String) {
    let resp = post(url, body).await;
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

pub async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, _, text) = post_text(url, body).await;
    (status, serde_json::from_str(&text).unwrap())
}

pub async fn post_sse(url: &str, body: &Value) -> Vec<Sse> {
    let (status, ct, text) = post_text(url, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
    parse_sse(&text)
}

/// Concatenates the string at `pointer` of every event whose `type` (or `event_type`) is `kind`.
pub fn concat(events: &[Value], kind: &str, pointer: &str) -> String {
    events
        .iter()
        .filter(|e| e["type"] == kind || e["event_type"] == kind)
        .map(|e| e.pointer(pointer).and_then(Value::as_str).unwrap_or_default())
        .collect()
}

/// What a raw HTTP/1.1 exchange produced.
#[derive(Debug)]
pub struct RawOutcome {
    pub head: String,
    /// The body after de-chunking what arrived (possibly incomplete).
    pub body: Vec<u8>,
    /// The error that ended the read, if any (`None` for a clean EOF).
    pub error: Option<io::Error>,
}

/// Sends one request with `Connection: close` over a raw socket and reads until EOF or error.
pub async fn raw_post(addr: std::net::SocketAddr, path: &str, body: &str) -> RawOutcome {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let error = loop {
        match s.read(&mut buf).await {
            Ok(0) => break None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) => break Some(e),
        }
    };
    let split = data.windows(4).position(|w| w == b"\r\n\r\n").expect("response head");
    let head = String::from_utf8_lossy(&data[..split]).to_string();
    let raw_body = &data[split + 4..];
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    RawOutcome { head, body, error }
}

/// Decodes as much of a chunked body as is present.
pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..eol]).unwrap().trim(), 16).unwrap();
        raw = &raw[eol + 2..];
        if size == 0 {
            break;
        }
        let take = size.min(raw.len());
        out.extend_from_slice(&raw[..take]);
        if take < size || raw.len() < size + 2 {
            break;
        }
        raw = &raw[size + 2..];
    }
    out
}
