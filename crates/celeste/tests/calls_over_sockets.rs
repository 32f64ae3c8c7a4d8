//! Issue 18, over real sockets: time limits that fit real LLM calls (no re-sending a request the
//! provider may still be processing), URL parts escaped, and secrets redacted on every path they
//! could leak through (Debug, errors, telemetry, cassettes).

mod support;

use std::time::Duration;

use celeste::TimeoutPhase;
use celeste::{Client, Credentials, Error, Provider, RetryPolicy, TelemetryConfig, Timeouts};
use futures::StreamExt;
use support::responses::{completed, delta, ok_body};
use support::{End, Reply, Server};

const KEY: &str = "sk-issue18-canary-0123456789";

fn client(retry: RetryPolicy, timeouts: Timeouts) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, KEY))
        .retry(retry)
        .timeouts(timeouts)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default().with_initial_backoff(Duration::from_millis(10)).with_max_backoff(Duration::from_millis(20))
}

macro_rules! generate {
    ($c:expr, $url:expr) => {
        $c.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url($url)
    };
}

// ---- 5. Time limits ----------------------------------------------------------------------------

/// A slow reasoning call whose headers do not come in time was received by the provider, which may
/// still be generating (and billing) it: it is not sent again unless the caller opts in.
#[tokio::test]
async fn a_header_timeout_is_not_sent_again_unless_asked() {
    let slow = || Reply::Delay(Duration::from_secs(5), Box::new(Reply::json(200, &ok_body("late"))));
    let timeouts = Timeouts::default().with_headers(Duration::from_millis(200));

    let srv = Server::start(vec![slow()]).await;
    let err = generate!(client(fast_retry(), timeouts), &srv.url).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { phase: TimeoutPhase::Headers, .. }), "{err:?}");
    assert!(!err.is_retryable() && err.may_have_been_processed(), "{err:?}");
    assert_eq!(srv.count(), 1, "sent once");

    let srv = Server::start(vec![slow()]).await;
    let opted_in = fast_retry().with_retry_after_send(true);
    generate!(client(opted_in, timeouts), &srv.url).await.unwrap_err();
    assert_eq!(srv.count(), 3, "one attempt and two retries, as asked");
}

/// A connection that breaks after the request was sent is the same case: not re-sent by default.
/// Connection failures before sending, and 429/5xx answers, are still retried.
#[tokio::test]
async fn a_connection_lost_after_sending_is_not_sent_again_unless_asked() {
    let srv = Server::start(vec![Reply::Close]).await;
    let err = generate!(client(fast_retry(), Timeouts::default()), &srv.url).await.unwrap_err();
    assert!(matches!(err, Error::Transport { connect: false, .. }), "{err:?}");
    assert!(err.may_have_been_processed());
    assert_eq!(srv.count(), 1);

    let srv = Server::start(vec![Reply::Close, Reply::json(200, &ok_body("second"))]).await;
    let c = client(fast_retry().with_retry_after_send(true), Timeouts::default());
    assert_eq!(generate!(c, &srv.url).await.unwrap().content, "second");
    assert_eq!(srv.count(), 2);

    let srv =
        Server::start(vec![Reply::json(503, "{}"), Reply::json(429, "{}"), Reply::json(200, &ok_body("ok"))]).await;
    assert_eq!(generate!(client(fast_retry(), Timeouts::default()), &srv.url).await.unwrap().content, "ok");
    assert_eq!(srv.count(), 3);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = generate!(client(RetryPolicy::none(), Timeouts::default()), format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(err.is_retryable() && !err.may_have_been_processed(), "{err:?}");
}

/// A unary call's headers arrive when the reply is generated: a total limit longer than the header
/// limit is the one that applies, not cut short by the header phase.
#[tokio::test]
async fn a_unary_call_waits_for_its_headers_up_to_its_total_limit() {
    let srv =
        Server::start(vec![Reply::Delay(Duration::from_millis(600), Box::new(Reply::json(200, &ok_body("done"))))])
            .await;
    let timeouts =
        Timeouts::default().with_headers(Duration::from_millis(200)).with_total(Some(Duration::from_secs(30)));
    let out = generate!(client(RetryPolicy::none(), timeouts), &srv.url).await.unwrap();
    assert_eq!(out.content, "done");
    // The per-call limit counts the same way.
    let c = client(RetryPolicy::none(), Timeouts::default().with_headers(Duration::from_millis(200)));
    assert_eq!(generate!(c, &srv.url).timeout(Duration::from_secs(30)).await.unwrap().content, "done");
}

/// With the default limits (on a paused clock: the server's pauses take no real time), a unary call
/// that takes eight minutes to generate completes, and so does a stream that produces for fifteen
/// minutes without a gap longer than the idle limit.
#[tokio::test(start_paused = true)]
async fn default_limits_let_long_generations_finish() {
    let minutes = |m: u64| Duration::from_secs(60 * m);
    let srv = Server::start(vec![Reply::Delay(minutes(8), Box::new(Reply::json(200, &ok_body("essay"))))]).await;
    let c = client(RetryPolicy::default(), Timeouts::default());
    assert_eq!(generate!(c, &srv.url).await.unwrap().content, "essay");

    let mut events: Vec<String> = (0..15).map(|i| delta(&format!("{i} "))).collect();
    events.push(completed());
    let srv = Server::start(vec![Reply::sse(&events, minutes(1), End::Clean)]).await;
    let mut s = generate!(c, &srv.url).stream().await.unwrap();
    let mut text = String::new();
    while let Some(item) = s.next().await {
        text.push_str(&item.unwrap().content);
    }
    assert!(text.starts_with("0 1 2 ") && text.ends_with("14 "), "{text}");
    s.output().unwrap();
}

// ---- 7. URL parts escaped ----------------------------------------------------------------------

/// The request line the server saw: `POST /path?query`.
fn request_target(srv: &Server) -> String {
    let reqs = srv.requests();
    let head = &reqs.last().expect("a request").head;
    head.lines().next().unwrap().split(' ').nth(1).unwrap().to_string()
}

/// A base URL's query (`?api-version=…`, as Azure-style gateways take it) stays a query, after the
/// route's path, instead of swallowing the path.
#[tokio::test]
async fn a_base_url_query_stays_after_the_route() {
    let srv = Server::start(vec![Reply::json(200, &ok_body("ok"))]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let base = format!("{}/openai/v1?api-version=2024-10-21#ignored", srv.url);
    assert_eq!(generate!(c, base).await.unwrap().content, "ok");
    assert_eq!(request_target(&srv), "/openai/v1/responses?api-version=2024-10-21");
}

fn vertex_client() -> Client {
    Client::builder()
        .credentials(Credentials::empty())
        .retry(RetryPolicy::none())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// Vertex AI puts project, location and model in the path: each is one escaped segment, so none can
/// walk up (`../`), start a query (`?`) or cut the path (`#`) with the token attached.
#[tokio::test]
async fn vertex_project_location_and_model_are_escaped_segments() {
    use celeste::{Auth, Vertex};
    let srv = Server::start(vec![Reply::json(500, "{}")]).await;
    let c = vertex_client();
    let vertex = Vertex::with_token("ya29.token").project("p?x=1#y").location("us-east5");
    let call = c.text().generate("hi", "../../../admin?z#").provider(Provider::Google).base_url(&srv.url);
    call.auth(Auth::vertex(vertex)).await.unwrap_err();
    assert_eq!(
        request_target(&srv),
        "/v1/projects/p%3Fx=1%23y/locations/us-east5/publishers/google/models/..%2F..%2F..%2Fadmin%3Fz%23:generateContent"
    );

    // What cannot be a segment, or (for the location) a host name, is refused before any request.
    let before = srv.count();
    for (project, location) in
        [("..", "us-east5"), ("p", "evil.example/x#"), ("p", "us-east5@evil.example"), ("", "us")]
    {
        let vertex = Vertex::with_token("ya29.token").project(project).location(location);
        let err = c
            .text()
            .generate("hi", "gemini-2.5-flash")
            .base_url(&srv.url)
            .auth(Auth::vertex(vertex))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{project:?} {location:?}: {err:?}");
    }
    assert_eq!(srv.count(), before);
}

/// A model id that cannot be a path segment is refused with `InvalidInput` before any request, on
/// every route (it would walk up, or carry control characters into a path or a log).
#[tokio::test]
async fn unusable_model_ids_are_refused_before_any_request() {
    let srv = Server::start(vec![Reply::json(200, &ok_body("ok"))]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    for model in ["..", ".", "gpt\u{7}", "a\r\nx-injected: 1"] {
        let err = c.text().generate("hi", model).provider(Provider::OpenAi).base_url(&srv.url).await.unwrap_err();
        let Error::InvalidInput(msg) = &err else { panic!("{model:?}: {err:?}") };
        assert!(msg.contains("model id"), "{msg}");
    }
    assert_eq!(srv.count(), 0);
}

// ---- 8. Secrets --------------------------------------------------------------------------------

/// A base URL carrying the key as user info and as query parameters of every secret kind, with a
/// fragment too.
fn keyed_base(url: &str) -> String {
    let host = url.trim_start_matches("http://");
    format!("http://user:{KEY}@{host}/v1?key={KEY}&code={KEY}&pass={KEY}&token={KEY}&sig={KEY}&alt=sse#{KEY}")
}

/// `Debug` of the client, its builder and a call shows neither a key in a base URL nor the value of
/// a credential header given with `.header(...)`.
#[tokio::test]
async fn debug_output_never_shows_a_key() {
    let srv = Server::start(vec![Reply::json(200, &ok_body("ok"))]).await;
    let builder = Client::builder()
        .credentials(Credentials::empty())
        .base_url(Provider::OpenAi, keyed_base(&srv.url))
        .telemetry(TelemetryConfig::new().disabled());
    assert!(!format!("{builder:?}").contains(KEY), "{builder:?}");
    let c = builder.build().unwrap();
    assert!(!format!("{c:?}").contains(KEY), "{c:?}");
    let mut call = c
        .text()
        .generate("hi", "gpt-5-mini")
        .provider(Provider::OpenAi)
        .base_url(keyed_base(&srv.url))
        .api_key("sk-other");
    for header in ["authorization", "x-api-key", "api-key", "x-goog-api-key", "xi-api-key", "x-key", "Cookie"] {
        call = call.header(header, &format!("Bearer {KEY}"));
    }
    let shown = format!("{call:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("x-goog-api-key") && shown.contains("alt=sse"), "still useful: {shown}");
    // The headers are still sent as given.
    call.await.unwrap();
    assert_eq!(srv.requests()[0].header("x-api-key").as_deref(), Some(format!("Bearer {KEY}").as_str()));
}

/// A server that echoes the key it was sent (in a header, or in the URL's query) into its error body:
/// neither the error's message nor its kept body repeats it.
#[tokio::test]
async fn a_key_echoed_in_an_error_body_is_redacted() {
    let echo = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {KEY}. Bearer {KEY}","type":"invalid_request_error","code":"{KEY}"}}}}"#
    );
    let srv = Server::start(vec![Reply::json(401, &echo)]).await;
    let c = client(RetryPolicy::none(), Timeouts::default());
    let err = generate!(c, &srv.url).await.unwrap_err();
    let Error::Http(h) = &err else { panic!("{err:?}") };
    assert!(h.message.starts_with("Incorrect API key provided: REDACTED"), "{}", h.message);
    for shown in [err.to_string(), format!("{err:?}"), h.body.clone()] {
        assert!(!shown.contains(KEY), "{shown}");
    }

    // The key in the query of a key-in-URL endpoint, echoed in a plain-text body.
    let srv =
        Server::start(vec![Reply::Full { status: 400, headers: vec![], body: format!("bad key {KEY}").into() }]).await;
    let c = vertex_client();
    let base = format!("{}/v1?key={KEY}", srv.url);
    let err =
        c.text().generate("hi", "m").protocol(celeste::Protocol::ChatCompletions).base_url(base).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
}

/// Recording to a cassette keeps the path and the harmless query, never user info, secret query
/// values or the fragment.
#[tokio::test]
async fn cassette_paths_hold_no_secret() {
    let srv = Server::start(vec![Reply::json(200, &ok_body("ok"))]).await;
    let path = std::env::temp_dir().join(format!("celeste-issue18-{}.json", std::process::id()));
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-other"))
        .cassette(celeste::Cassette::record(&path))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    generate!(c, keyed_base(&srv.url)).await.unwrap();
    let recorded = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(recorded.contains("/v1/responses?key=REDACTED"), "{recorded}");
    assert!(recorded.contains("alt=sse"), "{recorded}");
    assert!(!recorded.contains(KEY), "{recorded}");
}

/// `url.full` of each HTTP attempt's span keeps the URL's shape without user info, secret query
/// values or fragment; no attribute of any span holds the key.
#[cfg(feature = "telemetry")]
#[tokio::test]
async fn telemetry_urls_hold_no_secret() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let srv = Server::start(vec![Reply::json(401, &format!(r#"{{"error":{{"message":"bad key {KEY}"}}}}"#))]).await;
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-other"))
        .retry(RetryPolicy::none())
        .telemetry(TelemetryConfig::new().tracer_provider(tp))
        .build()
        .unwrap();
    generate!(c, keyed_base(&srv.url)).await.unwrap_err();
    let finished = spans.get_finished_spans().unwrap();
    let url = finished
        .iter()
        .flat_map(|s| s.attributes.iter())
        .find(|kv| kv.key.as_str() == "url.full")
        .map(|kv| kv.value.to_string())
        .expect("url.full");
    let host = srv.url.trim_start_matches("http://");
    assert_eq!(
        url,
        format!(
            "http://{host}/v1/responses?key=REDACTED&code=REDACTED&pass=REDACTED&token=REDACTED&sig=REDACTED&alt=sse"
        )
    );
    let everything = format!("{finished:?}");
    assert!(!everything.contains(KEY), "{everything}");
}
