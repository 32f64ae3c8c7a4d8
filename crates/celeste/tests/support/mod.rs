//! A scripted HTTP/1.1 server on 127.0.0.1 for transport tests: each request gets the next scripted
//! reply, byte for byte, so tests control status lines, bodies, timing, stalls and resets exactly.
//! (The provider emulator serves realistic wire APIs; this server exists to misbehave precisely.)

#![allow(dead_code, reason = "each test file uses a different subset")]

pub mod responses;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted reply.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response.
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// A chunked streamed response: each piece written after `delay`, then the ending.
    Stream { pieces: Vec<Vec<u8>>, delay: Duration, end: End },
    /// Wait this long before answering with the inner reply.
    Delay(Duration, Box<Reply>),
    /// Read the request, then close the connection without answering (a server or proxy that died
    /// after the request reached it).
    Close,
}

/// How a streamed response ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum End {
    /// The chunked terminator.
    Clean,
    /// Close the connection without the terminator.
    Reset,
    /// Keep the connection open and send nothing more.
    Stall,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Full { status, headers: vec![("content-type".into(), "application/json".into())], body: body.into() }
    }

    pub fn with_header(self, k: &str, v: &str) -> Reply {
        match self {
            Reply::Full { status, mut headers, body } => {
                headers.push((k.into(), v.into()));
                Reply::Full { status, headers, body }
            }
            other => other,
        }
    }

    /// An SSE stream of `data:` events.
    pub fn sse(events: &[String], delay: Duration, end: End) -> Reply {
        Reply::Stream { pieces: events.iter().map(|e| format!("data: {e}\n\n").into_bytes()).collect(), delay, end }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub head: String,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Streams whose client went away before the stream ended.
    pub client_closed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Start serving `script` (the last reply repeats).
    pub async fn start(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let client_closed = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let next = Arc::new(AtomicUsize::new(0));
        let (s2, c2) = (seen.clone(), client_closed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                sock.set_nodelay(true).ok();
                let (script, next, seen, closed) = (script.clone(), next.clone(), s2.clone(), c2.clone());
                tokio::spawn(async move { serve(sock, script, next, seen, closed).await });
            }
        });
        Server { url, seen, client_closed, task }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Seen { head, body })
}

async fn serve(
    mut sock: TcpStream,
    script: Arc<Vec<Reply>>,
    next: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    closed: Arc<AtomicUsize>,
) {
    while let Some(req) = read_request(&mut sock).await {
        seen.lock().unwrap().push(req);
        let i = next.fetch_add(1, Ordering::SeqCst);
        let mut reply = script[i.min(script.len() - 1)].clone();
        while let Reply::Delay(d, inner) = reply {
            tokio::time::sleep(d).await;
            reply = *inner;
        }
        match reply {
            Reply::Full { status, headers, body } => {
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                if sock.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Reply::Stream { pieces, delay, end } => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for p in pieces {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let mut chunk = format!("{:x}\r\n", p.len()).into_bytes();
                    chunk.extend_from_slice(&p);
                    chunk.extend_from_slice(b"\r\n");
                    if sock.write_all(&chunk).await.is_err() || sock.flush().await.is_err() {
                        closed.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
                match end {
                    End::Clean => {
                        if sock.write_all(b"0\r\n\r\n").await.is_err() {
                            return;
                        }
                    }
                    End::Reset => return,
                    End::Stall => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                }
            }
            Reply::Close => return,
            Reply::Delay(..) => unreachable!("delays are unwrapped above"),
        }
    }
}
