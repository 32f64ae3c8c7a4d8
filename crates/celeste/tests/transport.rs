//! Transport behaviour over real sockets: retries, every timeout phase, error bodies, stream endings,
//! dropped streams, and the blocking API.

mod support;

use std::time::{Duration, Instant};

use celeste::TimeoutPhase;
use celeste::{Client, Credentials, Error, Provider, RetryPolicy, TelemetryConfig, Timeouts};
use futures::StreamExt;
use serde_json::json;
use support::{End, Reply, Server};

fn client(retry: RetryPolicy, timeouts: Timeouts) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-test-key"))
        .retry(retry)
        .timeouts(timeouts)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default().with_initial_backoff(Duration::from_millis(10)).with_max_backoff(Duration::from_millis(20))
}

fn ok_body() -> String {
    json!({
        "id": "resp_1", "model": "gpt-5-mini", "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]}],
        "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    })
    .to_string()
}

fn events(n: usize, completed: bool) -> Vec<String> {
    let mut v: Vec<String> =
        (0..n).map(|i| json!({"type": "response.output_text.delta", "delta": format!("w{i} ")}).to_string()).collect();
    if completed {
        v.push(
            json!({"type": "response.completed", "response": {"id": "resp_s", "status": "completed",
                "usage": {"input_tokens": 2, "output_tokens": n, "total_tokens": 2 + n}}})
            .to_string(),
        );
    }
    v
}

macro_rules! generate {
    ($c:expr, $srv:expr) => {
        $c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(&$srv.url)
    };
}

#[tokio::test]
async fn retries_429_honouring_retry_after() {
    let srv = Server::start(vec![
        Reply::json(429, r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#)
            .with_header("retry-after-ms", "150"),
        Reply::json(200, &ok_body()),
    ])
    .await;
    let c = client(fast_retry(), Timeouts::default());
    let start = Instant::now();
    let out = generate!(c, srv).await.unwrap();
    assert_eq!(out.content, "hello");
    assert_eq!(srv.count(), 2);
    assert!(start.elapsed() >= Duration::from_millis(150), "{:?}", start.elapsed());
}

#[tokio::test]
async fn retries_503_then_succeeds_and_does_not_retry_400() {
    let srv = Server::start(vec![Reply::json(503, "{}"), Reply::json(200, &ok_body())]).await;
    let c = client(fast_retry(), Timeouts::default());
    assert_eq!(generate!(c, srv).await.unwrap().usage.total_tokens, Some(4));
    assert_eq!(srv.count(), 2);

    let srv = Server::start(vec![Reply::json(
        400,
        r#"{"error":{"message":"bad param","type":"invalid_request_error","code":"x"}}"#,
    )])
    .await;
    let err = generate!(c, srv).await.unwrap_err();
    assert_eq!(srv.count(), 1);
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("bad param"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn retries_stop_after_the_limit_and_on_x_should_retry_false() {
    let srv = Server::start(vec![Reply::json(502, "{}")]).await;
    let c = client(fast_retry(), Timeouts::default());
    let err = generate!(c, srv).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(srv.count(), 3, "one attempt and two retries");

    let srv = Server::start(vec![Reply::json(503, "{}").with_header("x-should-retry", "false")]).await;
    generate!(c, srv).await.unwrap_err();
    assert_eq!(srv.count(), 1);

    // A server asking for a longer wait than the cap gets its error back at once.
    let srv = Server::start(vec![Reply::json(429, "{}").with_header("retry-after", "3600")]).await;
    let start = Instant::now();
    let err = generate!(c, srv).await.unwrap_err();
    assert_eq!(srv.count(), 1);
    assert!(start.elapsed() < Duration::from_secs(2));
    let Error::Http(h) = err else { panic!() };
    assert_eq!(h.retry_after, Some(Duration::from_secs(3600)));
}

#[tokio::test]
async fn error_bodies_of_every_kind_become_http_errors() {
    let c = client(RetryPolicy::none(), Timeouts::default());
    let cases: Vec<(Reply, &str)> = vec![
        (Reply::json(401, r#"{"error":{"message":"Invalid API key","type":"auth"}}"#), "Invalid API key"),
        (
            Reply::Full {
                status: 502,
                headers: vec![("content-type".into(), "text/html".into())],
                body: b"<html><title>Bad Gateway</title></html>".to_vec(),
            },
            "HTML page: Bad Gateway",
        ),
        (Reply::Full { status: 500, headers: vec![], body: vec![] }, "empty body"),
        (Reply::Full { status: 500, headers: vec![], body: vec![0xff, 0x00, 0xfe] }, "binary body"),
    ];
    for (reply, expect) in cases {
        let srv = Server::start(vec![reply]).await;
        let err = generate!(c, srv).await.unwrap_err();
        assert!(matches!(err, Error::Http(_)), "{err:?}");
        assert!(err.to_string().contains(expect), "{err} should contain {expect}");
        assert!(!err.to_string().contains("sk-test-key"));
    }
}

#[tokio::test]
async fn header_timeout_and_total_timeout() {
    let srv = Server::start(vec![Reply::Delay(Duration::from_secs(3), Box::new(Reply::json(200, &ok_body())))]).await;
    let c = client(RetryPolicy::none(), Timeouts::default().with_headers(Duration::from_millis(200)));
    let start = Instant::now();
    let err = generate!(c, srv).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { phase: TimeoutPhase::Headers, .. }), "{err:?}");
    assert!(!err.is_retryable() && err.may_have_been_processed());
    assert!(start.elapsed() < Duration::from_secs(2));

    let c = client(RetryPolicy::none(), Timeouts::default().with_total(Some(Duration::from_millis(300))));
    let err = generate!(c, srv).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { phase: TimeoutPhase::Total, .. }), "{err:?}");
    // A per-call timeout overrides the client's.
    let c = client(RetryPolicy::none(), Timeouts::default());
    let err = generate!(c, srv).timeout(Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { phase: TimeoutPhase::Total, .. }), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_a_retryable_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client(RetryPolicy::none(), Timeouts::default());
    let err = c
        .text()
        .generate("hi", "gpt-5-mini")
        .provider(Provider::OpenAi)
        .base_url(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { connect: true, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn stream_idle_timeout_after_a_stall_keeps_earlier_chunks() {
    let srv = Server::start(vec![Reply::sse(&events(2, false), Duration::ZERO, End::Stall)]).await;
    let c = client(RetryPolicy::none(), Timeouts::default().with_idle(Duration::from_millis(300)));
    let mut s = generate!(c, srv).stream().await.unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    while let Some(item) = s.next().await {
        got.push(item);
    }
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].as_ref().unwrap().content, "w0 ");
    assert!(matches!(got[2], Err(Error::Timeout { phase: TimeoutPhase::Idle, .. })), "{:?}", got[2]);
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(matches!(s.output(), Err(Error::StreamNotExhausted)));
}

#[tokio::test]
async fn stream_endings_truncated_reset_malformed_and_oversize() {
    let c = client(RetryPolicy::none(), Timeouts::default());
    let last_item = |srv: &Server| {
        let c = c.clone();
        let url = srv.url.clone();
        async move {
            let mut s = c.text().generate("hi", "m").provider(Provider::OpenAi).base_url(url).stream().await.unwrap();
            let mut last = None;
            while let Some(item) = s.next().await {
                last = Some(item);
            }
            last.unwrap()
        }
    };
    let srv = Server::start(vec![Reply::sse(&events(3, false), Duration::ZERO, End::Clean)]).await;
    assert!(matches!(last_item(&srv).await, Err(Error::StreamTruncated { .. })));

    let srv = Server::start(vec![Reply::sse(&events(3, false), Duration::ZERO, End::Reset)]).await;
    let err = last_item(&srv).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. } | Error::StreamTruncated { .. }), "{err:?}");

    let mut bad = events(2, true);
    bad.insert(1, "{not json".into());
    let srv = Server::start(vec![Reply::sse(&bad, Duration::ZERO, End::Clean)]).await;
    assert!(matches!(last_item(&srv).await, Err(Error::Decode { .. })));

    let srv = Server::start(vec![Reply::sse(&events(2, true), Duration::ZERO, End::Clean)]).await;
    let small = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "k"))
        .max_event_size(64)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    let mut s = small.text().generate("hi", "m").provider(Provider::OpenAi).base_url(&srv.url).stream().await.unwrap();
    let mut last = None;
    while let Some(item) = s.next().await {
        last = Some(item);
    }
    assert!(matches!(last, Some(Err(Error::EventTooLarge { limit: 64 }))), "{last:?}");
}

#[tokio::test]
async fn stream_completes_with_output_and_zero_content_streams_still_have_one() {
    let srv = Server::start(vec![Reply::sse(&events(5, true), Duration::ZERO, End::Clean)]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let mut s = generate!(c, srv).stream().await.unwrap();
    assert!(matches!(s.output(), Err(Error::StreamNotExhausted)));
    let mut text = String::new();
    while let Some(item) = s.next().await {
        text.push_str(&item.unwrap().content);
    }
    let out = s.output().unwrap();
    assert_eq!(out.content, text);
    assert_eq!(out.usage.output_tokens, Some(5));
    assert!(format!("{s:?}").contains("done"));
    let req = &srv.requests()[0];
    assert_eq!(req.json()["stream"], json!(true));
    assert_eq!(req.header("accept").as_deref(), Some("text/event-stream"));

    let srv = Server::start(vec![Reply::sse(&events(0, true), Duration::ZERO, End::Clean)]).await;
    let mut s = generate!(c, srv).stream().await.unwrap();
    while s.next().await.is_some() {}
    let out = s.output().unwrap();
    assert_eq!(out.content, "");
    assert_eq!(out.usage.input_tokens, Some(2));
}

#[tokio::test]
async fn dropping_a_stream_closes_the_connection() {
    let srv = Server::start(vec![Reply::sse(&events(200, true), Duration::from_millis(10), End::Clean)]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let mut s = generate!(c, srv).stream().await.unwrap();
    s.next().await.unwrap().unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(3);
    while srv.client_closed.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the server never saw the connection close");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn extra_body_extra_headers_and_auth_reach_the_server() {
    let srv = Server::start(vec![Reply::json(200, &ok_body())]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    generate!(c, srv)
        .temperature(0.2)
        .max_tokens(10)
        .extra_body(json!({"metadata": {"k": "v"}, "temperature": 0.3}))
        .header("x-trace", "abc")
        .await
        .unwrap();
    let req = &srv.requests()[0];
    assert!(req.head.starts_with("POST /v1/responses "), "{}", req.head);
    assert_eq!(req.header("authorization").as_deref(), Some("Bearer sk-test-key"));
    assert_eq!(req.header("x-trace").as_deref(), Some("abc"));
    let body = req.json();
    assert_eq!(body["temperature"], json!(0.3), "extra_body is merged last");
    assert_eq!(body["max_output_tokens"], json!(10));
    assert_eq!(body["metadata"], json!({"k": "v"}));

    let err = generate!(c, srv).header("bad header", "x").await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
}

#[test]
fn blocking_api_from_a_plain_thread_and_inside_a_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt.block_on(Server::start(vec![Reply::sse(&events(4, true), Duration::ZERO, End::Clean)]));
    let url = srv.url.clone();
    let call = |url: &str| {
        celeste::blocking::text::stream("hi", "gpt-5-mini")
            .client(client(RetryPolicy::none(), Timeouts::default()))
            .provider(Provider::OpenAi)
            .base_url(url)
    };
    // Plain thread.
    let mut s = call(&url).send().unwrap();
    let text: String = (&mut s).map(|c| c.unwrap().content).collect();
    assert_eq!(text, "w0 w1 w2 w3 ");
    assert_eq!(s.output().unwrap().usage.output_tokens, Some(4));
    // Inside a runtime: no panic, same result.
    let text2 = rt.block_on(async {
        let mut s = call(&url).send().unwrap();
        let t: String = (&mut s).map(|c| c.unwrap().content).collect();
        t
    });
    assert_eq!(text2, text);
    // Unary blocking.
    let srv2 = rt.block_on(Server::start(vec![Reply::json(200, &ok_body())]));
    let out = celeste::blocking::text::generate("hi", "gpt-5-mini")
        .client(client(RetryPolicy::none(), Timeouts::default()))
        .provider(Provider::OpenAi)
        .base_url(&srv2.url)
        .send()
        .unwrap();
    assert_eq!(out.content, "hello");
}

/// Redirects are not followed (as the reference's httpx): the key is never re-sent to wherever a
/// response points, and the 3xx surfaces as an HTTP error.
#[tokio::test]
async fn redirects_are_not_followed() {
    let target = Server::start(vec![Reply::json(200, &ok_body())]).await;
    let srv =
        Server::start(vec![Reply::json(307, "{}").with_header("location", &format!("{}/v1/responses", target.url))])
            .await;
    let c = client(fast_retry(), Timeouts::default());
    let err = generate!(c, srv).await.unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert!(!err.is_retryable());
    assert_eq!(target.count(), 0, "nothing went to the redirect target");
}
