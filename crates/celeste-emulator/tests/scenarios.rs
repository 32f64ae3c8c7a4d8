//! Scenario matching and sequencing, the journal, config files, and the blocking start.

mod common;

use std::io::{Read, Write};

use celeste_emulator::{Config, Emulator, Fault, FaultKind, Reply, Scenario, StatusFault, Step};
use common::*;
use serde_json::{Value, json};

fn chat(model: &str, prompt: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": prompt}]})
}

async fn answer(emu: &Emulator, path: &str, body: &Value) -> (u16, String) {
    let (status, text) = {
        let (s, _, t) = post_text(&format!("{}{path}", emu.url()), body).await;
        (s, t)
    };
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .or(v["content"][0]["text"].as_str())
        .or(v["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .map(str::to_string)
        .unwrap_or(text);
    (status, content)
}

#[tokio::test]
async fn all_given_fields_must_match_and_first_match_wins() {
    let config = Config::default()
        .scenario(
            Scenario::new("exact path + model").path("/v1/chat/completions").model("gpt-a").then(Reply::text("A")),
        )
        .scenario(
            Scenario::new("contains + header").contains("secret").header("X-Tenant", "blue").then(Reply::text("B")),
        )
        .scenario(
            Scenario::new("gemini prefix + path model")
                .path("/v1beta/models/*")
                .model("gemini-x")
                .then(Reply::text("C")),
        )
        .scenario(Scenario::new("shadowed").path("/v1/chat/completions").model("gpt-a").then(Reply::text("never")));
    let emu = Emulator::start(config).await.unwrap();
    let chat_path = "/v1/chat/completions";

    assert_eq!(answer(&emu, chat_path, &chat("gpt-a", "hi")).await.1, "A");
    // Same model on another path: no match, default reply.
    let (_, other) = answer(&emu, "/chat/completions", &chat("gpt-a", "hi")).await;
    assert_eq!(other, celeste_emulator::DEFAULT_TEXT);
    // Right path, other model: no match.
    assert_eq!(answer(&emu, chat_path, &chat("gpt-b", "hi")).await.1, celeste_emulator::DEFAULT_TEXT);

    // Body substring without the header: no match.
    assert_eq!(answer(&emu, chat_path, &chat("gpt-b", "the secret")).await.1, celeste_emulator::DEFAULT_TEXT);
    let resp = client()
        .post(format!("{}{chat_path}", emu.url()))
        .header("x-tenant", "blue")
        .body(chat("gpt-b", "the secret").to_string())
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "B");

    let g = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    assert_eq!(answer(&emu, "/v1beta/models/gemini-x:generateContent", &g).await.1, "C");
    assert_eq!(answer(&emu, "/v1beta/models/gemini-y:generateContent", &g).await.1, celeste_emulator::DEFAULT_TEXT);

    let names: Vec<Option<String>> = emu.requests().into_iter().map(|r| r.scenario).collect();
    assert_eq!(
        names,
        [
            Some("exact path + model".to_string()),
            None,
            None,
            None,
            Some("contains + header".to_string()),
            Some("gemini prefix + path model".to_string()),
            None,
        ]
    );
}

#[tokio::test]
async fn steps_are_served_in_sequence_and_the_last_repeats() {
    let emu = Emulator::start(
        Config::default().scenario(
            Scenario::new("503 then 200")
                .then(Fault::status(503))
                .then(Reply::text("first success"))
                .then(Reply::text("steady state")),
        ),
    )
    .await
    .unwrap();
    let body = chat("m", "hi");
    let p = "/v1/chat/completions";
    assert_eq!(answer(&emu, p, &body).await.0, 503);
    assert_eq!(answer(&emu, p, &body).await, (200, "first success".into()));
    assert_eq!(answer(&emu, p, &body).await, (200, "steady state".into()));
    assert_eq!(answer(&emu, p, &body).await, (200, "steady state".into()));
}

#[tokio::test]
async fn reply_status_and_empty_scenario() {
    let emu = Emulator::start(
        Config::default()
            .scenario(Scenario::new("no steps").contains("empty"))
            .scenario(Scenario::new("teapot").then(Reply::text("short and stout").status(418))),
    )
    .await
    .unwrap();
    let p = "/v1/chat/completions";
    assert_eq!(answer(&emu, p, &chat("m", "empty")).await, (200, celeste_emulator::DEFAULT_TEXT.into()));
    assert_eq!(answer(&emu, p, &chat("m", "x")).await, (418, "short and stout".into()));
    assert_eq!(emu.requests()[0].scenario.as_deref(), Some("no steps"));
}

#[tokio::test]
async fn faults_on_unknown_paths() {
    let emu = Emulator::start(
        Config::default().scenario(Scenario::new("embeddings down").path("/v1/embeddings").then(Fault::status(500))),
    )
    .await
    .unwrap();
    let (status, v) = post_json(&format!("{}/v1/embeddings", emu.url()), &json!({})).await;
    assert_eq!(status, 500);
    assert!(v["error"]["message"].is_string());
    let (status, _) = post_json(&format!("{}/v1/other", emu.url()), &json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn journal_records_requests() {
    let emu = Emulator::start(
        Config::default().scenario(Scenario::new("gem").path("/v1beta/models/*").then(Reply::text("ok"))),
    )
    .await
    .unwrap();
    let body = json!({"contents": [{"parts": [{"text": "journal me"}]}]});
    let resp = client()
        .post(format!("{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", emu.url()))
        .header("X-Goog-Api-Key", "k-123")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.bytes().await.unwrap();
    let (status, _) = post_json(&format!("{}/v1/responses", emu.url()), &json!({"model": "x"})).await;
    assert_eq!(status, 200);

    let reqs = emu.requests();
    assert_eq!(reqs.len(), 2);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    assert_eq!(r.header("x-goog-api-key"), Some("k-123"));
    assert!(r.headers.iter().any(|(k, v)| k == "x-goog-api-key" && v == "k-123"));
    assert!(r.headers.iter().all(|(k, _)| *k == k.to_ascii_lowercase()));
    assert_eq!(r.json(), Some(body));
    assert_eq!(r.scenario.as_deref(), Some("gem"));
    assert_eq!(reqs[1].path, "/v1/responses");
    assert_eq!(reqs[1].scenario, None);
    assert_eq!(reqs[1].body_text(), r#"{"model":"x"}"#);

    // Also over HTTP, without journaling the control request itself.
    let list: Value =
        client().get(format!("{}/_emulator/requests", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["body"]["contents"][0]["parts"][0]["text"], "journal me");

    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn journal_can_be_turned_off() {
    let emu = Emulator::start(Config::default().record_requests(false)).await.unwrap();
    post_json(&format!("{}/v1/responses", emu.url()), &json!({"model": "x"})).await;
    assert!(emu.requests().is_empty());
}

#[test]
fn config_from_json_tells_replies_and_faults_apart() {
    let config = Config::from_json(
        r#"{
        "bind": "127.0.0.1:0",
        "default_reply": {"text": "fallback", "chunk_size": 3},
        "scenarios": [{
            "name": "s",
            "match": {"path": "/v1/messages", "model": "m", "contains": "x", "header": ["a", "b"]},
            "responses": [
                {"status": 429, "retry_after": 1},
                {"status": 500},
                {"text": "hi", "status": 201},
                {},
                {"reset_after_events": 2, "reply": {"text": "partial"}},
                {"stall_after_events": 1, "stall_ms": 50},
                {"html_error": 502}, {"empty_error": 500}, {"binary_error": 500},
                {"malformed_event_at": 0}, {"oversize_event_bytes": 10},
                {"stream_error_at": 1}, {"headers_delay_ms": 5}, {"truncate_after_events": 3},
                {"text": "t", "reasoning": "r", "tool_calls": [{"name": "f"}, {"id": "c1", "name": "g", "arguments": {"a": 1}}],
                 "usage": {"input_tokens": 1, "output_tokens": 2, "reasoning_tokens": 1, "cached_tokens": 0},
                 "finish_reason": "length", "chunk_size": 2, "delay_ms": 1, "chunks": 5, "event_bytes": 9}
            ]
        }]}"#,
    )
    .unwrap();
    assert_eq!(config.default_reply.text, "fallback");
    let s = &config.scenarios[0];
    assert_eq!(s.matcher.header, Some(("a".into(), "b".into())));
    let kinds: Vec<String> = s
        .responses
        .iter()
        .map(|st| match st {
            Step::Reply(r) => format!("reply:{}:{}", r.text, r.status),
            Step::Fault(f) => format!("{:?}", f.kind).split(['(', ' ']).next().unwrap().to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Status",
            "Status",
            "reply:hi:201",
            "reply::200",
            "ResetAfterEvents",
            "StallAfterEvents",
            "HtmlError",
            "EmptyError",
            "BinaryError",
            "MalformedEventAt",
            "OversizeEventBytes",
            "StreamErrorAt",
            "HeadersDelayMs",
            "TruncateAfterEvents",
            "reply:t:200",
        ]
    );
    match &s.responses[0] {
        Step::Fault(Fault { kind: FaultKind::Status(StatusFault { status, retry_after, .. }), .. }) => {
            assert_eq!(*status, 429);
            assert_eq!(retry_after.as_deref(), Some("1"));
        }
        other => panic!("{other:?}"),
    }
    match &s.responses[4] {
        Step::Fault(f) => assert_eq!(f.reply.as_ref().unwrap().text, "partial"),
        other => panic!("{other:?}"),
    }
    match &s.responses[14] {
        Step::Reply(r) => {
            assert_eq!(r.tool_calls[0].arguments, json!({}));
            assert_eq!(r.tool_calls[1].id.as_deref(), Some("c1"));
            assert_eq!(r.usage.output_tokens, Some(2));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_errors_are_reported() {
    for bad in [
        r#"[{"name": "x", "responses": [{"txet": "typo"}]}]"#,
        r#"[{"name": "x", "responses": [{"status": 500, "html_error": 502}]}]"#,
        r#"[{"name": "x", "responses": [{"reset_after_events": 1, "retry_after": "1"}]}]"#,
        r#"[{"name": "x", "match": {"paht": "/"}}]"#,
        r#"{"scenarios": [], "extra": 1}"#,
        r#"[{"responses": []}]"#,
        "not json",
    ] {
        assert!(Config::from_json(bad).is_err(), "accepted: {bad}");
    }
    let err = Config::from_json(r#"[{"name": "x", "responses": [{"txet": "typo"}]}]"#).unwrap_err().to_string();
    assert!(err.contains("txet"), "{err}");
}

#[test]
fn example_scenario_file_parses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/example.json");
    let config = Config::from_file(path).unwrap();
    assert_eq!(config.scenarios.len(), 7);
    assert!(Config::from_file("/nonexistent/emulator.json").is_err());
}

#[test]
fn start_blocking_serves_without_a_runtime() {
    let emu = Emulator::start_blocking(Config::default().scenario(Scenario::new("s").then(Reply::text("blocking ok"))))
        .unwrap();
    assert!(emu.url().starts_with("http://127.0.0.1:"));
    let mut s = std::net::TcpStream::connect(emu.addr()).unwrap();
    let body = r#"{"model":"m","messages":[]}"#;
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("blocking ok"));
    assert_eq!(emu.requests().len(), 1);
    let addr = emu.addr();
    drop(emu);
    // Dropping stops the server.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn emulator_can_be_shared_across_threads() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Emulator>();
    is_send_sync::<Config>();
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let addr = emu.addr();
    let health: Value =
        client().get(format!("{}/_emulator/health", emu.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    emu.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
