//! The client against a real model: a llama.cpp server (llama-cpp-python, OpenAI-compatible) running
//! Gemma 3 270M, through `Protocol::ChatCompletions`. Opt-in: it runs only when `CELESTE_LLAMA_URL`
//! is set, e.g. after `scripts/llama-server`:
//!
//! ```sh
//! scripts/llama-server &      # first run: installs into .tools/ (compiles llama.cpp, ~12 minutes)
//! CELESTE_LLAMA_URL=http://127.0.0.1:8010/v1 cargo test -p celeste-ai --test llama_cpp -- --nocapture
//! ```
//!
//! `CELESTE_LLAMA_MODEL` names the model (default `gemma-3-270m`, the alias the script gives it). The
//! model is tiny and its text is poor and not deterministic, so only protocol facts are asserted: text
//! arrives, a finish reason comes back, and a stream delivers its chunks incrementally.

use std::time::{Duration, Instant};

use celeste::{Client, FinishKind, Protocol, RetryPolicy, TelemetryConfig, Timeouts};
use futures::StreamExt;

fn target() -> Option<(String, String)> {
    let Some(url) = std::env::var("CELESTE_LLAMA_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipping: set CELESTE_LLAMA_URL (see scripts/llama-server) to run against a real model");
        return None;
    };
    let model = std::env::var("CELESTE_LLAMA_MODEL").unwrap_or_else(|_| "gemma-3-270m".into());
    Some((url, model))
}

fn client() -> Client {
    Client::builder()
        .retry(RetryPolicy::none())
        // Generation on a CPU is slow; the idle limit still catches a server that stops mid-stream.
        .timeouts(Timeouts::default().with_total(Some(Duration::from_secs(300))).with_idle(Duration::from_secs(60)))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn generates_text_with_a_finish_reason() {
    let Some((url, model)) = target() else { return };
    let out = client()
        .text()
        .generate("Write one sentence about the sea.", model)
        .protocol(Protocol::ChatCompletions)
        .base_url(url)
        .max_tokens(32)
        .await
        .unwrap();
    eprintln!("text: {:?}\nfinish: {:?}\nusage: {:?}", out.content, out.finish_reason, out.usage);
    assert!(!out.content.trim().is_empty(), "no text");
    let finish = out.finish_reason.expect("a finish reason");
    assert!(matches!(finish.kind, FinishKind::Stop | FinishKind::Length), "{finish:?}");
    assert!(out.usage.output_tokens.is_some_and(|n| n > 0 && n <= 32), "{:?}", out.usage);
    assert!(out.metadata.response_id.is_some());
}

#[tokio::test]
async fn streams_chunks_as_they_are_generated() {
    let Some((url, model)) = target() else { return };
    let start = Instant::now();
    let mut s = client()
        .text()
        .generate("Count from one to twenty in words.", model)
        .protocol(Protocol::ChatCompletions)
        .base_url(url)
        .max_tokens(48)
        .stream()
        .await
        .unwrap();
    let mut arrivals = Vec::new();
    let mut text = String::new();
    let mut finish = None;
    while let Some(chunk) = s.next().await {
        let chunk = chunk.unwrap();
        if !chunk.content.is_empty() {
            arrivals.push(start.elapsed());
            text.push_str(&chunk.content);
        }
        finish = chunk.finish_reason.or(finish);
    }
    let out = s.output().unwrap();
    let spread = arrivals.last().copied().unwrap_or_default() - arrivals.first().copied().unwrap_or_default();
    eprintln!(
        "{} content chunks over {spread:?} (first after {:?}); text: {text:?}; finish: {finish:?}",
        arrivals.len(),
        arrivals.first()
    );
    assert!(arrivals.len() > 1, "a stream of one chunk: {text:?}");
    assert!(!text.trim().is_empty());
    assert_eq!(out.content, text);
    assert!(finish.is_some_and(|f| matches!(f.kind, FinishKind::Stop | FinishKind::Length)));
    // Incremental delivery: the chunks reached the caller at distinct times, spread over the
    // generation, rather than all at once at the end.
    let mut distinct = arrivals.clone();
    distinct.dedup_by(|a, b| a.saturating_sub(*b) < Duration::from_millis(1));
    assert!(distinct.len() > 1, "every chunk arrived at once: {arrivals:?}");
    assert!(spread >= Duration::from_millis(10), "{arrivals:?}");
}
