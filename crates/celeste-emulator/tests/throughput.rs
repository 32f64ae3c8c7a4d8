//! How fast the emulator pushes SSE events: a 100k-text-delta stream read by a raw TCP client.
//!
//! Prints events/s for several wire APIs. The assertion is a deliberately low floor so a loaded
//! 2-core CI machine (or a debug build) does not flake; run
//! `cargo test --release -p celeste-emulator --test throughput -- --nocapture` for real figures.

use std::time::Instant;

use celeste_emulator::{Config, Emulator, Reply, Scenario};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const EVENTS: usize = 100_000;

/// Reads one response to EOF, returning (bytes, SSE events, seconds).
async fn read_stream(addr: std::net::SocketAddr, path: &str, body: &str) -> (usize, usize, f64) {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0usize;
    let mut events = 0usize;
    let mut prev_nl = false;
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        total += n;
        // Count blank-line terminators ("\n\n"); chunked framing never produces one.
        for &b in &buf[..n] {
            let nl = b == b'\n';
            if nl && prev_nl {
                events += 1;
            }
            prev_nl = nl;
        }
    }
    (total, events, start.elapsed().as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn pushes_100k_events_quickly() {
    let reply = Reply::text("tok ").chunk_size(4).chunks(EVENTS);
    // The server runs on its own thread and runtime: one core serves.
    let emu =
        Emulator::start_blocking(Config::default().record_requests(false).scenario(Scenario::new("bench").then(reply)))
            .unwrap();
    let cases = [
        ("chat", "/v1/chat/completions", r#"{"model":"bench","stream":true,"messages":[]}"#),
        ("responses", "/v1/responses", r#"{"model":"bench","stream":true,"input":"x"}"#),
        ("anthropic", "/v1/messages", r#"{"model":"bench","stream":true,"messages":[]}"#),
        ("gemini", "/v1beta/models/bench:streamGenerateContent?alt=sse", r#"{"contents":[]}"#),
    ];
    let mut slowest = f64::MAX;
    for (name, path, body) in cases {
        // Optimised builds: warm up once, then take the best of three. Debug builds (the
        // default `cargo test`) measure once to keep the suite quick.
        let runs = if cfg!(debug_assertions) { 1 } else { 3 };
        if runs > 1 {
            read_stream(emu.addr(), path, body).await;
        }
        let mut best = f64::MAX;
        let mut seen = (0, 0);
        for _ in 0..runs {
            let (bytes, events, secs) = read_stream(emu.addr(), path, body).await;
            best = best.min(secs);
            seen = (bytes, events);
        }
        let (bytes, events) = seen;
        assert!(events >= EVENTS, "{name}: only {events} events");
        let rate = events as f64 / best;
        slowest = slowest.min(rate);
        println!(
            "{name:>9}: {events} events, {:.1} MB in {:.1} ms = {:.0} events/s ({:.0} MB/s)",
            bytes as f64 / 1e6,
            best * 1e3,
            rate,
            bytes as f64 / 1e6 / best
        );
    }
    let floor = if cfg!(debug_assertions) { 10_000.0 } else { 50_000.0 };
    assert!(slowest >= floor, "slowest API streamed {slowest:.0} events/s, below the {floor} floor");
}
