//! Hostile and careless servers over real sockets: absurd `Retry-After` values, bodies that are not
//! event streams, final events without their blank line, concurrent cassette recording, malformed base
//! URLs and the total time limit's diagnostics (issue 18).

mod support;

use std::time::Duration;

use celeste::Cassette;
use celeste::TimeoutPhase;
use celeste::{Client, Credentials, Error, Provider, RetryPolicy, TelemetryConfig, Timeouts};
use futures::StreamExt;
use serde_json::json;
use support::responses::{completed, delta, ok_body};
use support::{End, Reply, Server};

const KEY: &str = "sk-hardening-canary";

fn client(retry: RetryPolicy, timeouts: Timeouts) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, KEY))
        .retry(retry)
        .timeouts(timeouts)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// Every item of a stream call against `url`: the chunks' text, then how it ended.
async fn drain(c: &Client, url: &str) -> (String, Option<Error>) {
    let mut s = c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(url).stream().await.unwrap();
    let mut text = String::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(chunk) => text.push_str(&chunk.content),
            Err(e) => return (text, Some(e)),
        }
    }
    s.output().unwrap();
    (text, None)
}

/// A `Retry-After` the server sends on any error status goes through one parser: values too large for
/// a `Duration`, negative, NaN or infinite must neither panic nor make the client wait for them.
#[tokio::test]
async fn absurd_retry_after_headers_neither_panic_nor_wait() {
    let day = Duration::from_secs(24 * 60 * 60);
    let cases: &[(&str, &str, Option<Duration>)] = &[
        ("retry-after", "1e20", Some(day)),
        ("retry-after", "18446744073709551616", Some(day)),
        ("retry-after-ms", "1e300", Some(day)),
        ("retry-after-ms", "1.7976931348623157e308", Some(day)),
        ("retry-after", "-5", None),
        ("retry-after-ms", "-1e300", None),
        ("retry-after", "NaN", None),
        ("retry-after", "inf", None),
        ("retry-after-ms", "-inf", None),
        ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT", Some(day)),
    ];
    for &(name, value, expect) in cases {
        for status in [429, 503, 400] {
            let srv = Server::start(vec![Reply::json(status, "{}").with_header(name, value)]).await;
            // Retries on, with a wait cap far below a day: a capped value is reported, not slept on.
            let retry = RetryPolicy::default()
                .with_max_retries(1)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(20))
                .with_max_wait(Duration::from_secs(5));
            let c = client(retry, Timeouts::default());
            let err =
                c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(&srv.url).await.unwrap_err();
            let Error::Http(h) = &err else { panic!("{name}: {value}: {err:?}") };
            assert_eq!(h.status, status);
            assert_eq!(h.retry_after, expect, "{name}: {value}");
            // The same header on a stream call.
            let err = c
                .text()
                .generate("hi", "gpt-5-mini")
                .provider(Provider::OpenAi)
                .base_url(&srv.url)
                .stream()
                .await
                .unwrap_err();
            assert_eq!(err.status(), Some(status), "{name}: {value}");
        }
    }
}

/// A 200 whose body is an HTML page (a captive portal, a proxy's login page) is reported as what it is,
/// with the content type, not as a stream that ended early.
#[tokio::test]
async fn an_html_page_with_status_200_is_not_an_event_stream() {
    let page = b"<!DOCTYPE html>\n<html><head><title>Sign in to the proxy</title></head><body>...</body></html>";
    let srv = Server::start(vec![Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: page.to_vec(),
    }])
    .await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let (text, err) = drain(&c, &srv.url).await;
    assert_eq!(text, "");
    let err = err.expect("an error");
    assert_eq!(err.kind(), "unexpected_body", "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("HTML page") && msg.contains("Sign in to the proxy"), "{msg}");
    assert!(msg.contains("text/html; charset=utf-8") && msg.contains("event stream"), "{msg}");
    assert!(!msg.contains(KEY));
}

/// A compressed body the client never asked for cannot be read as events: said so, with the encoding.
#[tokio::test]
async fn a_gzip_body_with_status_200_is_not_an_event_stream() {
    // A gzip member header and some deflate bytes: what matters is that it is not text.
    let gzip = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03, 0x4b, 0x49, 0x2c, 0x49, 0xb4, 0x52, 0x00, 0x00];
    for encoding_header in [true, false] {
        let mut headers = vec![("content-type".to_string(), "text/event-stream".to_string())];
        if encoding_header {
            headers.push(("content-encoding".into(), "gzip".into()));
        }
        let srv = Server::start(vec![Reply::Full { status: 200, headers, body: gzip.clone() }]).await;
        let c = client(RetryPolicy::none(), Timeouts::default());
        let (_, err) = drain(&c, &srv.url).await;
        let err = err.expect("an error");
        assert_eq!(err.kind(), "unexpected_body", "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("gzip") && msg.contains("text/event-stream"), "{msg}");
    }
}

/// A JSON document where events were expected (a server that ignored `stream: true`).
#[tokio::test]
async fn a_json_document_with_status_200_is_not_an_event_stream() {
    let srv = Server::start(vec![Reply::json(200, &ok_body("hello"))]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let (_, err) = drain(&c, &srv.url).await;
    let err = err.expect("an error");
    assert_eq!(err.kind(), "unexpected_body", "{err:?}");
    assert!(err.to_string().contains("JSON document") && err.to_string().contains("application/json"), "{err}");
}

/// The official SDKs dispatch a last event that the server did not close with a blank line.
#[tokio::test]
async fn a_final_event_without_its_blank_line_is_dispatched() {
    let c = client(RetryPolicy::none(), Timeouts::default());
    let body = format!("data: {}\n\ndata: {}\n\ndata: {}", delta("a"), delta("b"), completed());
    for ending in ["\n", "\r\n", "\r", ""] {
        let pieces = vec![format!("{body}{ending}").into_bytes()];
        let srv = Server::start(vec![Reply::Stream { pieces, delay: Duration::ZERO, end: End::Clean }]).await;
        let (text, err) = drain(&c, &srv.url).await;
        assert!(err.is_none(), "{ending:?}: {err:?}");
        assert_eq!(text, "ab");
    }
    // A last event cut inside its payload is still a truncated stream, not a decoding failure.
    let cut = format!("data: {}\n\ndata: {{\"type\":\"response.comp", delta("a"));
    let srv =
        Server::start(vec![Reply::Stream { pieces: vec![cut.into_bytes()], delay: Duration::ZERO, end: End::Clean }])
            .await;
    let (text, err) = drain(&c, &srv.url).await;
    assert_eq!(text, "a");
    let err = err.expect("an error");
    assert!(matches!(err, Error::StreamTruncated { .. }), "{err:?}");
}

/// Concurrent calls recording to one cassette leave a valid file holding every exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_recording_leaves_a_valid_cassette_with_every_exchange() {
    let srv = Server::start(vec![Reply::json(200, &ok_body(&"x".repeat(4000)))]).await;
    let dir = std::env::temp_dir().join(format!("celeste-hardening-{}", std::process::id()));
    let path = dir.join("concurrent.json");
    let _ = std::fs::remove_file(&path);
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, KEY))
        .retry(RetryPolicy::none())
        .cassette(Cassette::record(&path))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    let calls = (0..40).map(|i| {
        let c = c.clone();
        let url = srv.url.clone();
        tokio::spawn(async move {
            c.text().generate(format!("call {i}"), "gpt-5-mini").provider(Provider::OpenAi).base_url(url).await
        })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).expect("the cassette is valid JSON");
    let interactions = file["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 40);
    let mut prompts: Vec<String> = interactions.iter().map(|i| i["request"]["body"]["input"].to_string()).collect();
    prompts.sort();
    prompts.dedup();
    assert_eq!(prompts.len(), 40, "every call recorded once");
    assert!(!text.contains(KEY));
    // No temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("concurrent.json") && e.path() != path)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Cassette::replay(&path).unwrap();
}

/// A base URL that does not parse is the caller's input error, named, and credentials in it are not
/// echoed.
#[tokio::test]
async fn a_malformed_base_url_is_invalid_input() {
    let c = client(RetryPolicy::default(), Timeouts::default());
    for (url, problem) in [
        ("http://127.0.0.1:99999", "invalid port"),
        ("http://user:hunter2@[::1", "IPv6"),
        ("localhost:8080", "http"),
        ("http://exa mple.com?key=hunter2", "domain"),
        ("", "relative URL"),
    ] {
        let err = c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(url).await.unwrap_err();
        let Error::InvalidInput(msg) = &err else { panic!("{url}: {err:?}") };
        assert!(msg.contains(problem) && msg.contains("base_url"), "{url}: {msg}");
        assert!(!msg.contains("hunter2") && !msg.contains(KEY), "{url}: {msg}");
    }
}

/// The total limit is reported as the limit, not as the time left when it ran out (which is zero).
#[tokio::test]
async fn a_total_timeout_reports_the_configured_limit() {
    let limit = Duration::from_millis(700);
    let srv = Server::start(vec![Reply::sse(&[delta("a")], Duration::ZERO, End::Stall)]).await;
    let c = client(RetryPolicy::none(), Timeouts::default().with_total(Some(limit)));
    let (text, err) = drain(&c, &srv.url).await;
    assert_eq!(text, "a");
    let err = err.expect("an error");
    let msg = err.to_string();
    let Error::Timeout { phase: TimeoutPhase::Total, after, .. } = err else { panic!("{err:?}") };
    // The configured limit itself, however loaded the machine.
    assert_eq!(after, limit);
    assert!(msg.contains("(total) after 700ms"), "{msg}");

    // The same for the headers phase, and with a per-call limit.
    let slow =
        Server::start(vec![Reply::Delay(Duration::from_secs(5), Box::new(Reply::json(200, &ok_body("x"))))]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let err = c
        .text()
        .generate("hi", "gpt-5-mini")
        .provider(Provider::OpenAi)
        .base_url(&slow.url)
        .timeout(limit)
        .await
        .unwrap_err();
    let Error::Timeout { phase: TimeoutPhase::Total, after, .. } = err else { panic!("{err:?}") };
    assert_eq!(after, limit);
}

/// A Gemini stream whose streamed function-call arguments (`partialArgs`) name slots far past the end
/// of arrays: a couple of kilobytes that would build millions of values. The stream fails with a decode
/// error that says why, instead of allocating them.
#[tokio::test]
async fn gemini_streamed_argument_paths_cannot_amplify_memory() {
    let paths: Vec<serde_json::Value> =
        (0..40).map(|i| json!({"jsonPath": format!("$.a{i}[99999]"), "stringValue": "x"})).collect();
    let part = |fc: serde_json::Value| json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": fc}]}}]});
    let events = [
        part(json!({"name": "f", "willContinue": true})).to_string(),
        part(json!({"partialArgs": paths, "willContinue": true})).to_string(),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "done"}]}, "finishReason": "STOP"}]})
            .to_string(),
    ];
    let srv = Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Clean)]).await;
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::Google, KEY))
        .retry(RetryPolicy::none())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    // Vertex credentials send Google's text to generateContent.
    let vertex = celeste::Vertex::with_token("ya29.test").project("p").location("us-central1");
    let call = celeste::text::stream("hi", "gemini-3.6-flash").client(c).provider(Provider::Google);
    let mut s = call.auth(celeste::Auth::vertex(vertex)).base_url(&srv.url).await.unwrap();
    let mut err = None;
    while let Some(item) = s.next().await {
        if let Err(e) = item {
            err = Some(e);
        }
    }
    let err = err.expect("the oversized event is refused");
    let Error::Decode { what, message, .. } = &err else { panic!("{err:?}") };
    assert!(what.contains("partialArgs") && message.contains("more than 100000 values"), "{err}");
}

/// A client with a test key for every provider these tests call.
fn any_client(idle: Duration) -> Client {
    let mut creds = Credentials::empty();
    for p in [Provider::OpenAi, Provider::Groq, Provider::Anthropic] {
        creds = creds.with_key(p, KEY);
    }
    Client::builder()
        .credentials(creds)
        .retry(RetryPolicy::none())
        .timeouts(Timeouts::default().with_idle(idle))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// Drain a text stream: the chunks' text, then the output or the error.
async fn finish(mut s: celeste::text::TextStream) -> (String, Result<celeste::types::Output<String>, Error>) {
    let mut text = String::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(chunk) => text.push_str(&chunk.content),
            Err(e) => return (text, Err(e)),
        }
    }
    (text, s.into_output())
}

/// Newer Responses items and events (a `tool_search_call` whose `arguments` is an object, a shell
/// output delta whose `delta` is an object) used to fail the whole call; now they are skipped, and the
/// items stay in the raw response.
#[tokio::test]
async fn reshaped_responses_items_and_events_do_not_fail_the_call() {
    let tool_search = json!({"type": "tool_search_call", "id": "ts_1", "status": "completed", "arguments": {}});
    let message = json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]});
    let events = [
        json!({"type": "response.output_item.added", "output_index": 0, "item": tool_search}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": tool_search}),
        json!({"type": "response.shell_call_output_content.delta", "output_index": 1, "delta": {"stdout": "x"}}),
        json!({"type": "response.output_text.delta", "output_index": 2, "delta": "ok"}),
        json!({"type": "response.completed", "response": {"id": "resp_t", "status": "completed",
            "output": [tool_search, message], "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}}),
    ]
    .map(|e| e.to_string());
    let body = json!({"id": "resp_u", "status": "completed", "output": [tool_search, message]}).to_string();
    let srv = Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Clean), Reply::json(200, &body)]).await;
    let c = any_client(Duration::from_secs(30));
    let call = || c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(&srv.url);
    let (text, out) = finish(call().stream().await.unwrap()).await;
    let out = out.unwrap();
    assert_eq!((text.as_str(), out.content.as_str()), ("ok", "ok"));
    assert_eq!(out.metadata.raw_json().unwrap()["output"][0]["arguments"], json!({}));
    let out = call().await.unwrap();
    assert_eq!(out.content, "ok");
    assert_eq!(out.metadata.raw_json().unwrap()["output"][0]["type"], json!("tool_search_call"));
}

/// An OpenAI refusal used to be an empty reply finished with `stop`: now its text is the content and
/// the finish is `content_filter` (raw `stop` kept), in Chat Completions streams and unary replies.
#[tokio::test]
async fn chat_refusals_are_surfaced_with_a_content_filter_finish() {
    use celeste::types::FinishKind;
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta,
            "finish_reason": finish}]})
        .to_string()
    };
    let events = [
        chunk(json!({"role": "assistant", "content": null, "refusal": "I can't "}), json!(null)),
        chunk(json!({"refusal": "help with that."}), json!(null)),
        chunk(json!({}), json!("stop")),
        "[DONE]".to_string(),
    ];
    let body = json!({"id": "c", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]})
    .to_string();
    let srv = Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Clean), Reply::json(200, &body)]).await;
    let c = any_client(Duration::from_secs(30));
    let call = || c.text().generate("hi", "gpt-4o").protocol(celeste::Protocol::ChatCompletions).base_url(&srv.url);
    let (text, out) = finish(call().stream().await.unwrap()).await;
    let out = out.unwrap();
    assert_eq!(text, "I can't help with that.");
    for out in [out, call().await.unwrap()] {
        assert_eq!(out.content, "I can't help with that.");
        let f = out.finish_reason.unwrap();
        assert_eq!((f.kind, f.raw.as_str()), (FinishKind::ContentFilter, "stop"));
    }
}

/// Groq streams report usage only in `x_groq.usage`; it used to be dropped.
#[tokio::test]
async fn groq_usage_in_x_groq_is_read() {
    let usage = json!({"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15});
    let events = [
        json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}],
            "x_groq": {"id": "req_1"}}),
        json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "x_groq": {"id": "req_1", "usage": usage}}),
    ]
    .map(|e| e.to_string());
    let mut events = events.to_vec();
    events.push("[DONE]".into());
    let body = json!({"id": "c", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Hi"}}], "x_groq": {"id": "req_1", "usage": usage}})
    .to_string();
    let srv = Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Clean), Reply::json(200, &body)]).await;
    let c = any_client(Duration::from_secs(30));
    let call = || c.text().generate("hi", "llama-3.3-70b-versatile").provider(Provider::Groq).base_url(&srv.url);
    let (_, out) = finish(call().stream().await.unwrap()).await;
    for out in [out.unwrap(), call().await.unwrap()] {
        let u = &out.usage;
        assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (Some(12), Some(3), Some(15)));
    }
}

/// A Chat Completions server that sends the finish reason and the usage it was asked for, never
/// `[DONE]`, and keeps the connection open: the stream completes with its output instead of waiting
/// for the idle limit and failing.
#[tokio::test]
async fn a_chat_stream_without_done_completes_at_its_finish_and_usage() {
    let events = [
        json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]}),
        json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}),
    ]
    .map(|e| e.to_string());
    let srv = Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Stall)]).await;
    // An idle limit short enough that the old behaviour shows as a timeout rather than a long hang.
    let c = any_client(Duration::from_secs(10));
    let s = c
        .text()
        .generate("hi", "some-model")
        .protocol(celeste::Protocol::ChatCompletions)
        .base_url(&srv.url)
        .stream()
        .await
        .unwrap();
    let (text, out) = finish(s).await;
    let out = out.unwrap();
    assert_eq!((text.as_str(), out.content.as_str()), ("Hi", "Hi"));
    assert_eq!(out.usage.total_tokens, Some(3));
    assert_eq!(out.finish_reason.map(|f| f.raw), Some("stop".to_string()));
}

/// Anthropic's `pause_turn` is not a finished turn: it has its own finish kind.
#[tokio::test]
async fn anthropic_pause_turn_is_paused() {
    use celeste::types::FinishKind;
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_p", "type": "message", "role": "assistant",
            "content": [], "model": "claude-sonnet-4-5", "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Searching"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "pause_turn"}, "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ]
    .map(|e| e.to_string());
    let srv = Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Clean)]).await;
    let c = any_client(Duration::from_secs(30));
    let s = c
        .text()
        .generate("hi", "claude-sonnet-4-5")
        .provider(Provider::Anthropic)
        .base_url(&srv.url)
        .stream()
        .await
        .unwrap();
    let (_, out) = finish(s).await;
    let f = out.unwrap().finish_reason.unwrap();
    assert_eq!((f.kind, f.raw.as_str()), (FinishKind::Paused, "pause_turn"));
}
