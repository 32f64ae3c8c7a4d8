//! Every fault, observed from a real client.

mod common;

use std::io;
use std::time::{Duration, Instant};

use celeste_emulator::{Config, Emulator, Fault, Reply, Scenario};
use common::*;
use futures::StreamExt;
use serde_json::{Value, json};

/// An emulator that answers every request with `step` (replies are 10 chunks of 4 chars).
async fn with(step: impl Into<celeste_emulator::Step>) -> Emulator {
    Emulator::start(Config::default().scenario(Scenario::new("fault").then(step))).await.unwrap()
}

fn ten_chunks() -> Reply {
    Reply::text("abcdefghijklmnopqrstuvwxyz0123456789ABCD").chunk_size(4)
}

fn chat(stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

const CHAT: &str = "/v1/chat/completions";

#[tokio::test]
async fn status_fault_with_retry_headers_in_each_api_shape() {
    let emu =
        with(Fault::status(429).retry_after("2").retry_after_ms(1500).should_retry(true).message("slow down")).await;
    let client = client();
    let send = |path: &str, body: Value| client.post(format!("{}{path}", emu.url())).body(body.to_string()).send();
    let resp = send(CHAT, chat(true)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let h = resp.headers();
    assert_eq!(h["retry-after"], "2");
    assert_eq!(h["retry-after-ms"], "1500");
    assert_eq!(h["x-should-retry"], "true");
    assert!(h["content-type"].to_str().unwrap().starts_with("application/json"));
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["message"], "slow down");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert!(v["error"]["type"].is_string());

    let v: Value = send("/v1/messages", chat(false)).await.unwrap().json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["message"], "slow down");

    let v: Value =
        send("/v1beta/models/g:generateContent", json!({"contents": []})).await.unwrap().json().await.unwrap();
    assert_eq!(v["error"]["code"], 429);
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(v["error"]["details"][0]["retryDelay"], "2s");

    let v: Value = send("/v2/chat", chat(false)).await.unwrap().json().await.unwrap();
    assert_eq!(v["message"], "slow down");
    let v: Value = send("/api/chat", chat(false)).await.unwrap().json().await.unwrap();
    assert_eq!(v["error"], "slow down");
}

#[tokio::test]
async fn status_fault_from_json_with_type_code_and_headers() {
    let config = Config::from_json(
        r#"[{"name": "overloaded", "responses": [
            {"status": 529, "type": "overloaded_error", "code": "busy",
             "headers": {"x-extra": "1"}, "should_retry": false}
        ]}]"#,
    )
    .unwrap();
    let emu = Emulator::start(config).await.unwrap();
    let resp = post(&format!("{}/v1/messages", emu.url()), &chat(true)).await;
    assert_eq!(resp.status().as_u16(), 529);
    assert_eq!(resp.headers()["x-extra"], "1");
    assert_eq!(resp.headers()["x-should-retry"], "false");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn html_empty_and_binary_errors() {
    let emu = with(Fault::html_error(502)).await;
    let (status, ct, text) = post_text(&format!("{}{CHAT}", emu.url()), &chat(true)).await;
    assert_eq!(status, 502);
    assert!(ct.starts_with("text/html"));
    assert!(text.contains("<html>") && text.contains("502 Bad Gateway"));

    let emu = with(Fault::empty_error(500)).await;
    let resp = post(&format!("{}{CHAT}", emu.url()), &chat(true)).await;
    assert_eq!(resp.status().as_u16(), 500);
    assert!(resp.bytes().await.unwrap().is_empty());

    let emu = with(Fault::binary_error(503)).await;
    let resp = post(&format!("{}{CHAT}", emu.url()), &chat(false)).await;
    assert_eq!(resp.status().as_u16(), 503);
    let bytes = resp.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    assert!(std::str::from_utf8(&bytes).is_err());
}

#[tokio::test]
async fn reset_after_events_aborts_the_connection() {
    let emu = with(Fault::reset_after_events(3).with_reply(ten_chunks())).await;
    let out = raw_post(emu.addr(), CHAT, &chat(true).to_string()).await;
    assert!(out.head.starts_with("HTTP/1.1 200"));
    let err = out.error.expect("the read must fail, not end cleanly");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    let events = parse_sse(&String::from_utf8(out.body).unwrap());
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.data != "[DONE]"));

    // A regular HTTP client sees a transport error too.
    let resp = post(&format!("{}{CHAT}", emu.url()), &chat(true)).await;
    assert!(resp.bytes().await.is_err());

    // Non-streaming: half the body, then the reset.
    let out = raw_post(emu.addr(), CHAT, &chat(false).to_string()).await;
    assert_eq!(out.error.map(|e| e.kind()), Some(io::ErrorKind::ConnectionReset));
    assert!(serde_json::from_slice::<Value>(&out.body).is_err());
}

#[tokio::test]
async fn truncate_after_events_ends_cleanly_without_terminal_event() {
    let emu = with(Fault::truncate_after_events(4).with_reply(ten_chunks())).await;
    let out = raw_post(emu.addr(), CHAT, &chat(true).to_string()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let events = parse_sse(&String::from_utf8(out.body).unwrap());
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.data != "[DONE]"));

    // Past the end: everything but the terminal event.
    let emu = with(Fault::truncate_after_events(1000).with_reply(ten_chunks())).await;
    let url = format!("{}/v1/messages", emu.url());
    let events = post_sse(&url, &chat(true)).await;
    assert_eq!(events.last().unwrap().event.as_deref(), Some("message_delta"));

    // Non-streaming: a clean response whose JSON is cut.
    let emu = with(Fault::truncate_after_events(0).with_reply(ten_chunks())).await;
    let (status, _, text) = post_text(&format!("{}/v1/responses", emu.url()), &chat(false)).await;
    assert_eq!(status, 200);
    assert!(!text.is_empty());
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[tokio::test]
async fn stall_after_events_goes_silent_then_finishes() {
    let emu = with(Fault::stall_after_events(2, 400).with_reply(ten_chunks())).await;
    let resp = post(&format!("{}{CHAT}", emu.url()), &chat(true)).await;
    let mut stream = resp.bytes_stream();
    let mut text = String::new();
    let mut seen_at = Vec::new();
    let start = Instant::now();
    while let Some(chunk) = stream.next().await {
        text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        seen_at.push((parse_sse(&text).len(), start.elapsed()));
    }
    // The first two events arrive at once, the rest only after the stall.
    let two = seen_at.iter().find(|(n, _)| *n >= 2).unwrap();
    assert_eq!(two.0, 2, "{seen_at:?}");
    assert!(two.1 < Duration::from_millis(300), "{seen_at:?}");
    let more = seen_at.iter().find(|(n, _)| *n > 2).unwrap();
    assert!(more.1 >= Duration::from_millis(380), "{seen_at:?}");
    let events = parse_sse(&text);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert_eq!(events.len(), 1 + 10 + 1 + 1);

    // Non-streaming: half the body, the stall, then the rest.
    let start = Instant::now();
    let (status, v) = post_json(&format!("{}{CHAT}", emu.url()), &chat(false)).await;
    assert_eq!(status, 200);
    assert!(start.elapsed() >= Duration::from_millis(390));
    assert_eq!(v["object"], "chat.completion");
}

#[tokio::test]
async fn stall_keeps_idle_clients_waiting() {
    // A client with a short read timeout gives up during the stall.
    let emu = with(Fault::stall_after_events(1, 2_000).with_reply(ten_chunks())).await;
    let client = reqwest::Client::builder().no_proxy().read_timeout(Duration::from_millis(200)).build().unwrap();
    let resp = client.post(format!("{}/v1/messages", emu.url())).body(chat(true).to_string()).send().await.unwrap();
    let start = Instant::now();
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(start.elapsed() < Duration::from_millis(1_500));
}

#[tokio::test]
async fn malformed_event_at_breaks_one_event() {
    let emu = with(Fault::malformed_event_at(2).with_reply(ten_chunks())).await;
    let events = post_sse(&format!("{}/v1/responses", emu.url()), &chat(true)).await;
    for (i, e) in events.iter().enumerate() {
        let ok = serde_json::from_str::<Value>(&e.data).is_ok();
        assert_eq!(ok, i != 2, "event {i}: {}", e.data);
    }
    assert_eq!(events[2].event.as_deref(), Some("response.output_item.added"));
    assert_eq!(events.last().unwrap().json()["type"], "response.completed");

    let (status, _, text) = post_text(&format!("{}/v1/responses", emu.url()), &chat(false)).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[tokio::test]
async fn oversize_event() {
    let emu = with(Fault::oversize_event_bytes(1 << 20)).await;
    let events = post_sse(&format!("{}{CHAT}", emu.url()), &chat(true)).await;
    assert_eq!(events.len(), 1 + 1 + 1 + 1);
    let big = events[1].json();
    let content = big["choices"][0]["delta"]["content"].as_str().unwrap();
    assert_eq!(content.len(), 1 << 20);
    assert!(events[1].data.len() > 1 << 20);
}

#[tokio::test]
async fn event_bytes_makes_one_huge_delta() {
    let emu = with(Reply::text("xyz").event_bytes(5 << 20)).await;
    let events = post_sse(&format!("{}/v1/messages", emu.url()), &chat(true)).await;
    let deltas: Vec<Value> = events.iter().map(Sse::json).filter(|v| v["type"] == "content_block_delta").collect();
    assert_eq!(deltas.len(), 1);
    assert_eq!(deltas[0]["delta"]["text"].as_str().unwrap().len(), 5 << 20);
}

#[tokio::test]
async fn stream_error_at_in_each_api() {
    let emu = with(Fault::stream_error_at(3).with_reply(ten_chunks())).await;
    let url = |p: &str| format!("{}{p}", emu.url());

    let events = post_sse(&url(CHAT), &chat(true)).await;
    assert_eq!(events.len(), 4);
    let err = events[3].json();
    assert!(err["error"]["message"].is_string());
    assert!(err["error"]["type"].is_string());
    assert!(events.iter().all(|e| e.data != "[DONE]"));

    let events = post_sse(&url("/v1/responses"), &chat(true)).await;
    assert_eq!(events.len(), 4);
    let err = events[3].json();
    assert_eq!(events[3].event.as_deref(), Some("error"));
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "server_error");
    assert_eq!(err["sequence_number"], 3);
    assert!(err["message"].is_string());

    let events = post_sse(&url("/v1/messages"), &chat(true)).await;
    assert_eq!(events[3].event.as_deref(), Some("error"));
    assert_eq!(events[3].json()["error"]["type"], "overloaded_error");

    let events = post_sse(&url("/v1beta/models/g:streamGenerateContent?alt=sse"), &json!({"contents": []})).await;
    assert_eq!(events[3].json()["error"]["code"], 500);

    let events = post_sse(&url("/v2/chat"), &chat(true)).await;
    assert_eq!(events[3].json()["delta"]["finish_reason"], "ERROR");

    // Non-streaming: an HTTP 500 in the API's error shape.
    let (status, v) = post_json(&url(CHAT), &chat(false)).await;
    assert_eq!(status, 500);
    assert!(v["error"]["message"].is_string());
}

#[tokio::test]
async fn stream_error_message_from_json() {
    let config =
        Config::from_json(r#"[{"name": "e", "responses": [{"stream_error_at": 0, "message": "boom"}]}]"#).unwrap();
    let emu = Emulator::start(config).await.unwrap();
    let events = post_sse(&format!("{}/v1/messages", emu.url()), &chat(true)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].json()["error"]["message"], "boom");
}

#[tokio::test]
async fn headers_delay() {
    let emu = with(Fault::headers_delay_ms(400).with_reply(Reply::text("late"))).await;
    let start = Instant::now();
    let resp = post(&format!("{}{CHAT}", emu.url()), &chat(false)).await;
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(390), "{waited:?}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "late");

    // A client with a shorter timeout gives up before the status line.
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(100)).build().unwrap();
    let err = client.post(format!("{}{CHAT}", emu.url())).body(chat(true).to_string()).send().await.unwrap_err();
    assert!(err.is_timeout());
}

#[tokio::test]
async fn delay_between_events() {
    let emu = with(Reply::text("abcdef").chunk_size(1).delay_ms(30)).await;
    let start = Instant::now();
    let events = post_sse(&format!("{}{CHAT}", emu.url()), &chat(true)).await;
    // role + 6 deltas + finish + [DONE] = 9 events, 8 gaps.
    assert_eq!(events.len(), 9);
    assert!(start.elapsed() >= Duration::from_millis(8 * 30 - 5));
}

#[tokio::test]
async fn json_array_framing_faults() {
    // Gemini's non-SSE stream: truncation drops the closing bracket.
    let emu = with(Fault::truncate_after_events(2).with_reply(ten_chunks())).await;
    let url = format!("{}/v1beta/models/g:streamGenerateContent", emu.url());
    let (status, _, text) = post_text(&url, &json!({"contents": []})).await;
    assert_eq!(status, 200);
    assert!(text.starts_with('['));
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(serde_json::from_str::<Value>(&format!("{text}]")).is_ok());
}
