//! Record against a real server, then replay with the server gone: unary, streaming and errors.

mod support;

use std::time::Duration;

use celeste::{Cassette, MatchOn};
use celeste::{Client, Credentials, Error, Provider, RetryPolicy, TelemetryConfig};
use futures::StreamExt;
use serde_json::json;
use support::{End, Reply, Server};

fn client(cassette: Cassette) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-cassette-canary"))
        .retry(RetryPolicy::none())
        .telemetry(TelemetryConfig::new().disabled())
        .cassette(cassette)
        .build()
        .unwrap()
}

fn events() -> Vec<String> {
    vec![
        json!({"type": "response.output_text.delta", "delta": "rec"}).to_string(),
        json!({"type": "response.output_text.delta", "delta": "orded"}).to_string(),
        json!({"type": "response.completed", "response": {"status": "completed", "usage": {"input_tokens": 1, "output_tokens": 2}}})
            .to_string(),
    ]
}

#[tokio::test]
async fn record_then_replay_unary_stream_and_errors_without_network() {
    let dir = std::env::temp_dir().join(format!("celeste-cassette-{}", std::process::id()));
    let path = dir.join("exchanges.json");
    let unary = json!({"status": "completed", "output": [{"type": "message", "content": [{"type": "output_text", "text": "hello"}]}]});
    let srv = Server::start(vec![
        Reply::json(200, &unary.to_string()),
        Reply::sse(&events(), Duration::ZERO, End::Clean),
        Reply::json(429, r#"{"error":{"message":"slow down","type":"rate_limit"}}"#).with_header("retry-after", "7"),
    ])
    .await;
    let url = srv.url.clone();

    let rec = client(Cassette::record(&path));
    let call =
        |c: &Client, prompt: &str| c.text().generate(prompt, "gpt-5-mini").provider(Provider::OpenAi).base_url(&url);
    assert_eq!(call(&rec, "one").await.unwrap().content, "hello");
    let mut s = call(&rec, "two").stream().await.unwrap();
    let mut streamed = String::new();
    while let Some(c) = s.next().await {
        streamed.push_str(&c.unwrap().content);
    }
    assert_eq!(streamed, "recorded");
    let err = call(&rec, "three").await.unwrap_err();
    assert_eq!(err.status(), Some(429));
    drop(srv);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("sk-cassette-canary"), "credentials must never be recorded");
    assert!(text.contains("\"/v1/responses\""), "{text}");

    // Replay: the server is gone; the same calls give the same answers, chunk by chunk.
    let rep = client(Cassette::replay(&path).unwrap());
    assert_eq!(call(&rep, "one").await.unwrap().content, "hello");
    let mut s = call(&rep, "two").stream().await.unwrap();
    let mut chunks = Vec::new();
    while let Some(c) = s.next().await {
        chunks.push(c.unwrap().content);
    }
    assert_eq!(chunks.concat(), "recorded");
    assert!(chunks.len() >= 3, "streams replay chunk by chunk: {chunks:?}");
    assert_eq!(s.output().unwrap().usage.output_tokens, Some(2));
    let err = call(&rep, "three").await.unwrap_err();
    let Error::Http(h) = err else { panic!() };
    assert_eq!((h.status, h.retry_after), (429, Some(Duration::from_secs(7))));

    // A request that was never recorded is a clear error, not a network call.
    let err = call(&rep, "four").await.unwrap_err();
    assert!(err.to_string().contains("no unused recorded exchange matches POST /v1/responses"), "{err}");

    // Matching on path alone replays regardless of the body.
    let loose = client(Cassette::replay(&path).unwrap().match_on(MatchOn::default().body(false)));
    assert_eq!(call(&loose, "anything at all").await.unwrap().content, "hello");
    std::fs::remove_dir_all(&dir).ok();
}
