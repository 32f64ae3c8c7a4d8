//! The client against aimock (npm `@copilotkit/aimock`), a third-party mock of the provider APIs with
//! real SSE framing, tool-call streaming and fault injection: Chat Completions (the protocol and a Chat
//! provider), Responses, Anthropic Messages, Gemini Interactions, Gemini generateContent (at its Vertex
//! AI path, with a token of our own) and Cohere v2; unary and streaming, text and tool calls, and each
//! fault mode (429 with `Retry-After`, dropped connections, malformed bodies) on every one of them.
//!
//! `scripts/test-all` installs aimock into `.tools/aimock` and sets `AIMOCK_CLI`. Without it the tests
//! skip with a message, unless `CELESTE_REQUIRE_AIMOCK` is set, when they fail.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use celeste::Vertex;
use celeste::{
    Auth, Client, Credentials, Error, FinishKind, FunctionTool, Output, Protocol, Provider, RetryPolicy,
    TelemetryConfig, ToolChoice,
};
use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const TEXT: &str = "Hello from aimock: this reply is long enough to be cut into several stream chunks.";

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Weather {
    city: String,
    days: u32,
}

/// The fixtures every aimock process serves: a text reply and a tool-call reply.
fn fixtures() -> Value {
    json!({"fixtures": [
        {"match": {"userMessage": "weather"},
         "response": {"toolCalls": [{"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"days\":3}"}]}},
        {"match": {"userMessage": "hello"}, "response": {"content": TEXT}}
    ]})
}

/// aimock's command-line entry point: `AIMOCK_CLI`, else the copy `scripts/test-all` installs.
fn aimock_cli() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AIMOCK_CLI").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "AIMOCK_CLI={} does not exist", p.display());
        return Some(p);
    }
    let local =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/aimock/node_modules/@copilotkit/aimock/dist/cli.js");
    if local.is_file() {
        return Some(local);
    }
    if std::env::var_os("CELESTE_REQUIRE_AIMOCK").is_some() {
        panic!("CELESTE_REQUIRE_AIMOCK is set but aimock is not installed: run scripts/test-all or set AIMOCK_CLI");
    }
    eprintln!(
        "skipping: aimock is not installed (set AIMOCK_CLI, or `npm install --prefix .tools/aimock @copilotkit/aimock@1.43.0`)"
    );
    None
}

/// One aimock process on a free 127.0.0.1 port, killed on drop.
struct Aimock {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    url: String,
}

impl Aimock {
    /// Start aimock with the fixtures and these extra flags; `None` when aimock is not installed.
    fn start(extra: &[&str]) -> Option<Aimock> {
        let cli = aimock_cli()?;
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "celeste-aimock-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("fixtures.json"), fixtures().to_string()).unwrap();
        // The port is picked by binding :0 and released for aimock; if another process takes it in
        // between, aimock exits and the next attempt picks another.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let log = std::fs::File::create(dir.join("aimock.log")).unwrap();
            let mut child = Command::new("node")
                .arg(&cli)
                .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-c", "8", "--log-level", "warn", "-f"])
                .arg(&dir)
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("could not run `node` for aimock");
            if wait_listening(&mut child, SocketAddr::from(([127, 0, 0, 1], port))) {
                return Some(Aimock { child, dir, url: format!("http://127.0.0.1:{port}") });
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(dir.join("aimock.log")).unwrap_or_default();
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("aimock did not start listening:\n{last_log}");
    }

    /// The request journal: what aimock received, oldest first.
    async fn journal(&self) -> Vec<Value> {
        let resp = reqwest::get(format!("{}/v1/_requests", self.url)).await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.json::<Vec<Value>>().await.unwrap()
    }
}

/// Wait until `child` accepts connections on `addr`; false if it exits or takes too long.
fn wait_listening(child: &mut Child, addr: SocketAddr) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Drop for Aimock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client(retry: RetryPolicy) -> Client {
    Client::builder()
        .credentials(
            Credentials::empty()
                .with_key(Provider::OpenAi, "sk-openai")
                .with_key(Provider::Groq, "gsk-groq")
                .with_key(Provider::Anthropic, "sk-ant")
                .with_key(Provider::Google, "goog-key")
                .with_key(Provider::Cohere, "co-key"),
        )
        .retry(retry)
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

fn weather_tool() -> FunctionTool {
    FunctionTool::of::<Weather>("get_weather", "The weather forecast for a city")
}

/// How a call is routed to aimock.
#[derive(Clone, Copy, Debug)]
enum Route {
    /// `Protocol::ChatCompletions` against `{url}/v1`.
    ChatProtocol,
    /// `Provider::Groq` (a Chat Completions provider) against `{url}`.
    Groq,
    /// `Provider::OpenAi` (Responses) against `{url}`.
    OpenAiResponses,
    /// `Provider::Anthropic` (Messages) against `{url}`.
    Anthropic,
    /// `Provider::Google` with an API key: the Interactions API.
    GeminiInteractions,
    /// `Provider::Google` on Vertex AI with a token of our own: generateContent at the Vertex path.
    GeminiVertex,
    /// `Provider::Cohere` (v2 chat) against `{url}`.
    Cohere,
}

fn call(c: &Client, mock: &Aimock, route: Route, prompt: &str) -> celeste::text::Generate {
    let g = c.text().generate(prompt, "gpt-test");
    match route {
        Route::ChatProtocol => g.protocol(Protocol::ChatCompletions).base_url(format!("{}/v1", mock.url)),
        Route::Groq => g.provider(Provider::Groq).base_url(&mock.url),
        Route::OpenAiResponses => g.provider(Provider::OpenAi).base_url(&mock.url),
        Route::Anthropic => g.provider(Provider::Anthropic).base_url(&mock.url),
        Route::GeminiInteractions => g.provider(Provider::Google).base_url(&mock.url),
        Route::GeminiVertex => g
            .provider(Provider::Google)
            .auth(Auth::vertex(Vertex::with_token("ya29.token").project("proj").location("us-central1")))
            .base_url(&mock.url),
        Route::Cohere => g.provider(Provider::Cohere).base_url(&mock.url),
    }
}

/// Text and tool calls, unary and streamed, over one route.
async fn exercise(mock: &Aimock, route: Route) {
    let c = client(RetryPolicy::none());

    // Unary text.
    let out = call(&c, mock, route, "hello there").max_tokens(64).await.unwrap();
    assert_eq!(out.content, TEXT, "{route:?}");
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop), "{route:?}");
    assert!(out.tool_calls.is_empty());
    // aimock's generateContent replies carry no `responseId` (Google's do).
    if !matches!(route, Route::GeminiVertex) {
        assert!(out.metadata.response_id.is_some(), "{route:?}");
    }

    // Streamed text: several chunks that add up to the reply, then a finish reason.
    let mut s = call(&c, mock, route, "hello again").stream().await.unwrap();
    let mut pieces = Vec::new();
    let mut finish = None;
    while let Some(chunk) = s.next().await {
        let chunk = chunk.unwrap();
        if !chunk.content.is_empty() {
            pieces.push(chunk.content.clone());
        }
        finish = chunk.finish_reason.or(finish);
    }
    assert!(pieces.len() >= 5, "{route:?}: aimock cuts the reply into 8-character chunks: {pieces:?}");
    assert_eq!(pieces.concat(), TEXT);
    assert_eq!(finish.map(|f| f.kind), Some(FinishKind::Stop), "{route:?}");
    let out = s.output().unwrap();
    assert_eq!(out.content, TEXT);

    // Unary tool call, arguments parsed into the declared type.
    let out = call(&c, mock, route, "what is the weather in Paris?")
        .tool(weather_tool())
        .tool_choice(ToolChoice::Auto)
        .await
        .unwrap();
    assert_weather_call(&out, route);

    // Streamed tool call: deltas for one call, assembled in the output.
    let mut s = call(&c, mock, route, "weather, streamed").tool(weather_tool()).stream().await.unwrap();
    let mut deltas = Vec::new();
    while let Some(chunk) = s.next().await {
        if let Some(d) = chunk.unwrap().tool_call {
            deltas.push(d);
        }
    }
    assert!(!deltas.is_empty(), "{route:?}: no tool-call deltas");
    assert!(deltas.iter().all(|d| d.index == 0));
    assert_eq!(deltas.iter().find_map(|d| d.name.clone()).as_deref(), Some("get_weather"));
    let args: String = deltas.iter().map(|d| d.arguments.as_str()).collect();
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris", "days": 3}), "{route:?}");
    assert_weather_call(s.output().unwrap(), route);
}

fn assert_weather_call(out: &Output<String>, route: Route) {
    assert_eq!(out.tool_calls.len(), 1, "{route:?}: {:?}", out.tool_calls);
    let call = &out.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    assert!(!call.id.is_empty(), "{route:?}: a tool call needs its id");
    assert_eq!(call.arguments, json!({"city": "Paris", "days": 3}));
    assert_eq!(call.parse::<Weather>().unwrap(), Weather { city: "Paris".into(), days: 3 });
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ToolCall), "{route:?}");
}

#[tokio::test]
async fn chat_completions_protocol_text_and_tools_unary_and_streaming() {
    let Some(mock) = Aimock::start(&[]) else { return };
    exercise(&mock, Route::ChatProtocol).await;

    // The journal shows what the client sent.
    let journal = mock.journal().await;
    assert_eq!(journal.len(), 4, "{journal:#?}");
    for entry in &journal {
        assert_eq!(entry["path"], "/v1/chat/completions");
        assert_eq!(entry["response"]["status"], 200);
        assert_eq!(entry["body"]["model"], "gpt-test");
        // A protocol endpoint gets no credentials unless the call passes a key.
        assert!(entry["headers"].get("authorization").is_none(), "{entry}");
    }
    let unary = &journal[0]["body"];
    assert_eq!(unary["messages"], json!([{"role": "user", "content": "hello there"}]));
    assert_eq!(unary["max_tokens"], 64);
    assert!(unary.get("stream").is_none() && unary.get("stream_options").is_none(), "{unary}");
    let stream = &journal[1];
    assert_eq!(stream["body"]["stream"], true);
    assert_eq!(stream["body"]["stream_options"], json!({"include_usage": true}));
    assert_eq!(stream["headers"]["accept"], "text/event-stream");
    let tools = &journal[2]["body"];
    assert_eq!(tools["tool_choice"], "auto");
    assert_eq!(tools["tools"][0]["type"], "function");
    assert_eq!(tools["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(tools["tools"][0]["function"]["strict"], true);
    assert_eq!(tools["tools"][0]["function"]["parameters"]["required"], json!(["city", "days"]));
}

#[tokio::test]
async fn chat_completions_stream_reports_usage_when_asked() {
    let Some(mock) = Aimock::start(&[]) else { return };
    let c = client(RetryPolicy::none());
    let mut s = call(&c, &mock, Route::ChatProtocol, "hello").stream().await.unwrap();
    let mut usage_chunks = 0;
    while let Some(chunk) = s.next().await {
        usage_chunks += usize::from(chunk.unwrap().usage.is_some());
    }
    assert_eq!(usage_chunks, 1, "the include_usage chunk arrives once");
    let usage = &s.output().unwrap().usage;
    assert!(usage.output_tokens.is_some_and(|n| n > 0), "{usage:?}");
    assert!(usage.total_tokens.is_some(), "{usage:?}");
}

#[tokio::test]
async fn chat_provider_with_base_url_text_and_tools_unary_and_streaming() {
    let Some(mock) = Aimock::start(&[]) else { return };
    exercise(&mock, Route::Groq).await;
    let journal = mock.journal().await;
    assert_eq!(journal.len(), 4);
    for entry in &journal {
        assert_eq!(entry["path"], "/openai/v1/chat/completions");
        // aimock journals credentials as `[REDACTED]`; that one was sent is what can be checked here.
        assert!(entry["headers"]["authorization"].is_string(), "{entry}");
    }
    assert_eq!(journal[1]["body"]["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn responses_text_and_tools_unary_and_streaming() {
    let Some(mock) = Aimock::start(&[]) else { return };
    exercise(&mock, Route::OpenAiResponses).await;
    let journal = mock.journal().await;
    assert_eq!(journal.len(), 4);
    for entry in &journal {
        assert_eq!(entry["path"], "/v1/responses");
        assert_eq!(entry["response"]["status"], 200);
        assert!(entry["headers"]["authorization"].is_string(), "{entry}");
    }
    // aimock journals Responses bodies after normalising them to its chat shape, so only the fields
    // that survive normalisation are checked here (the exact bodies are checked in openai_spec.rs).
    assert_eq!(journal[1]["headers"]["accept"], "text/event-stream");
    assert_eq!(journal[1]["body"]["stream"], true);
    assert_eq!(journal[2]["body"]["tools"][0]["function"]["name"], "get_weather");
}

const ROUTES: [Route; 7] = [
    Route::ChatProtocol,
    Route::Groq,
    Route::OpenAiResponses,
    Route::Anthropic,
    Route::GeminiInteractions,
    Route::GeminiVertex,
    Route::Cohere,
];

/// The native wire APIs: text and tool calls, unary and streamed, each at its own path.
#[tokio::test]
async fn native_wire_apis_text_and_tools_unary_and_streaming() {
    let Some(mock) = Aimock::start(&[]) else { return };
    let routes = [
        (Route::Anthropic, "/v1/messages", "x-api-key"),
        (Route::GeminiInteractions, "/v1beta/interactions", "x-goog-api-key"),
        (
            Route::GeminiVertex,
            "/v1/projects/proj/locations/us-central1/publishers/google/models/gpt-test:",
            "authorization",
        ),
        (Route::Cohere, "/v2/chat", "authorization"),
    ];
    for (route, path, auth) in routes {
        exercise(&mock, route).await;
        let journal = mock.journal().await;
        let mine: Vec<&Value> = journal.iter().rev().take(4).collect();
        for entry in mine {
            assert!(entry["path"].as_str().unwrap().starts_with(path), "{route:?}: {entry}");
            assert_eq!(entry["response"]["status"], 200, "{route:?}");
            assert!(entry["headers"][auth].is_string(), "{route:?}: {auth} missing: {entry}");
        }
    }
}

#[tokio::test]
async fn rate_limits_are_retried_then_surface_as_http_429() {
    let Some(mock) = Aimock::start(&["--chaos-ratelimit", "1"]) else { return };
    // aimock asks for `Retry-After: 1`; one retry keeps the test at about a second per call.
    let c = client(RetryPolicy::default().with_max_retries(1));
    for route in ROUTES {
        let start = Instant::now();
        let err = call(&c, &mock, route, "hello").await.unwrap_err();
        let Error::Http(h) = &err else { panic!("{route:?}: expected Error::Http, got {err:?}") };
        assert_eq!(h.status, 429);
        assert_eq!(h.retry_after, Some(Duration::from_secs(1)));
        assert_eq!(h.error_type.as_deref(), Some("rate_limit_error"), "{h:?}");
        assert!(err.is_retryable());
        assert!(start.elapsed() >= Duration::from_secs(1), "{route:?}: the retry honoured Retry-After");

        let err = call(&c, &mock, route, "hello").stream().await.unwrap_err();
        assert_eq!(err.status(), Some(429), "{route:?}: {err:?}");
    }
    // Every call was tried twice.
    let journal = mock.journal().await;
    assert_eq!(journal.len(), ROUTES.len() * 2 * 2, "{journal:#?}");
    assert!(journal.iter().all(|e| e["response"]["status"] == 429));
}

#[tokio::test]
async fn dropped_connections_are_transport_errors() {
    let Some(mock) = Aimock::start(&["--chaos-disconnect", "1"]) else { return };
    let c = client(RetryPolicy::none());
    for route in ROUTES {
        let err = call(&c, &mock, route, "hello").await.unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{route:?}: {err:?}");
        let err = call(&c, &mock, route, "hello").stream().await.unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{route:?}: {err:?}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_typed_errors() {
    let Some(mock) = Aimock::start(&["--chaos-malformed", "1"]) else { return };
    let c = client(RetryPolicy::none());
    for route in ROUTES {
        let err = call(&c, &mock, route, "hello").await.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{route:?}: {err:?}");
        assert!(err.to_string().contains("malformed json"), "{err}");

        // A stream request answered with a 200 JSON body that is not SSE: the stream says so
        // (`UnexpectedBody`, with the content type and the start of the body), not a truncation.
        let mut s = call(&c, &mock, route, "hello").stream().await.unwrap();
        let mut items = Vec::new();
        while let Some(item) = s.next().await {
            items.push(item);
        }
        assert_eq!(items.len(), 1, "{route:?}: {items:?}");
        let err = items.pop().unwrap().unwrap_err();
        let Error::UnexpectedBody(e) = &err else { panic!("{route:?}: {err:?}") };
        assert!(e.body.contains("malformed json"), "{route:?}: {err:?}");
    }
}
