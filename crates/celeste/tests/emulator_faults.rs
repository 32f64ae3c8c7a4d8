//! The provider emulator's fault scenarios against the client's retry and timeout behaviour, over a
//! real socket, on several wire APIs.

use std::time::{Duration, Instant};

use celeste::TimeoutPhase;
use celeste::{Client, Credentials, Error, Provider, RetryPolicy, TelemetryConfig, Timeouts};
use celeste_emulator::{Config, Emulator, Fault, Reply, Scenario};
use futures::StreamExt;

fn client(timeouts: Timeouts) -> Client {
    Client::builder()
        .credentials(
            Credentials::empty()
                .with_key(Provider::OpenAi, "k")
                .with_key(Provider::Anthropic, "k")
                .with_key(Provider::Groq, "k"),
        )
        .retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(10)))
        .timeouts(timeouts)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

async fn emulator(scenario: Scenario) -> Emulator {
    Emulator::start(Config::default().scenario(scenario)).await.unwrap()
}

#[tokio::test]
async fn rate_limit_with_retry_after_then_success_on_anthropic() {
    let emu = emulator(
        Scenario::new("flaky")
            .path("/v1/messages")
            .then(Fault::status(429).retry_after("0.2"))
            .then(Reply::text("Recovered.").chunk_size(3)),
    )
    .await;
    let c = client(Timeouts::default());
    let start = Instant::now();
    let mut s = c
        .text()
        .generate("hi", "claude-sonnet-4-5")
        .provider(Provider::Anthropic)
        .base_url(emu.url())
        .stream()
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(chunk) = s.next().await {
        text.push_str(&chunk.unwrap().content);
    }
    assert_eq!(text, "Recovered.");
    assert!(start.elapsed() >= Duration::from_millis(200), "Retry-After was honoured");
    assert_eq!(emu.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_exhaust_retries_and_html_pages_are_typed() {
    let emu = emulator(Scenario::new("down").then(Fault::html_error(502))).await;
    let c = client(Timeouts::default());
    let err = c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(emu.url()).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.to_string().contains("HTML page"), "{err}");
    assert_eq!(emu.requests().len(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn reset_mid_stream_is_a_transport_error_after_the_chunks_so_far() {
    let emu = emulator(
        Scenario::new("reset")
            .then(Fault::reset_after_events(6).with_reply(Reply::text("abcdefghijklmnopqrstuvwxyz").chunk_size(2))),
    )
    .await;
    let c = client(Timeouts::default());
    let mut s = c
        .text()
        .generate("hi", "llama-3.3-70b-versatile")
        .provider(Provider::Groq)
        .base_url(emu.url())
        .stream()
        .await
        .unwrap();
    let mut ok = 0;
    let mut last = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(_) => ok += 1,
            Err(e) => last = Some(e),
        }
    }
    assert!(ok >= 1, "chunks before the reset reach the caller");
    assert!(matches!(last, Some(Error::Transport { .. } | Error::StreamTruncated { .. })), "{last:?}");
}

#[tokio::test]
async fn stall_mid_stream_hits_the_idle_timeout() {
    let emu = emulator(
        Scenario::new("stall")
            .then(Fault::stall_after_events(3, 5_000).with_reply(Reply::text("slow and steady").chunk_size(2))),
    )
    .await;
    let c = client(Timeouts::default().with_idle(Duration::from_millis(300)));
    let start = Instant::now();
    let mut s =
        c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(emu.url()).stream().await.unwrap();
    let mut last = None;
    while let Some(item) = s.next().await {
        if let Err(e) = item {
            last = Some(e);
        }
    }
    assert!(matches!(last, Some(Error::Timeout { phase: TimeoutPhase::Idle, .. })), "{last:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn malformed_and_oversize_events_and_in_stream_errors_are_typed() {
    let c = client(Timeouts::default());
    type Check = fn(&Error) -> bool;
    let cases: Vec<(Fault, Check)> = vec![
        (Fault::malformed_event_at(2), |e| matches!(e, Error::Decode { .. })),
        (Fault::stream_error_at(2), |e| matches!(e, Error::StreamEvent(_))),
        (Fault::truncate_after_events(3), |e| matches!(e, Error::StreamTruncated { .. })),
    ];
    for (fault, check) in cases {
        let emu = emulator(Scenario::new("fault").then(fault)).await;
        let mut s = c
            .text()
            .generate("hi", "gpt-5-mini")
            .provider(Provider::OpenAi)
            .base_url(emu.url())
            .stream()
            .await
            .unwrap();
        let mut last = None;
        while let Some(item) = s.next().await {
            if let Err(e) = item {
                last = Some(e);
            }
        }
        let e = last.expect("the fault must surface");
        assert!(check(&e), "{e:?}");
    }
    let emu = emulator(Scenario::new("big").then(Fault::oversize_event_bytes(4096))).await;
    let small = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "k"))
        .max_event_size(1024)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    let mut s = small
        .text()
        .generate("hi", "gpt-5-mini")
        .provider(Provider::OpenAi)
        .base_url(emu.url())
        .stream()
        .await
        .unwrap();
    let mut last = None;
    while let Some(item) = s.next().await {
        if let Err(e) = item {
            last = Some(e);
        }
    }
    assert!(matches!(last, Some(Error::EventTooLarge { limit: 1024 })), "{last:?}");
}

#[tokio::test]
async fn slow_headers_hit_the_header_timeout() {
    let emu = emulator(Scenario::new("slow").then(Fault::headers_delay_ms(2_000))).await;
    let c = client(Timeouts::default().with_headers(Duration::from_millis(200)));
    let err = c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(emu.url()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { phase: TimeoutPhase::Headers, .. }), "{err:?}");
}
