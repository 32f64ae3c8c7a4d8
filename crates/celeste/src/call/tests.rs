//! The pipeline end to end without the network: a call goes through resolve, check, build, host and
//! auth to the HTTP request it would send.

use serde_json::{Value, json};

use crate::client::Client;
use crate::transport::http::RequestBody;
#[cfg(all(feature = "mistral", feature = "groq"))]
use crate::types::enums::{Protocol, Provider};
use crate::types::tool::{FunctionTool, Tool, WebSearch};
use crate::wire::WireApi;

fn weather() -> Tool {
    FunctionTool::new("get_weather", "Weather for a city", json!({"type": "object"})).into()
}

/// The text facade routes Chat-served providers and the protocol here (request preparation only; no
/// network).
// It calls Mistral and Groq, which a build with only some providers leaves out.
#[cfg(all(feature = "mistral", feature = "groq"))]
#[tokio::test]
async fn the_text_facade_dispatches_chat_providers_here() {
    let client = Client::new().unwrap();
    let cases = [
        (Some(Provider::Mistral), None, "https://api.mistral.ai/v1/chat/completions", false),
        (Some(Provider::Groq), None, "https://api.groq.com/openai/v1/chat/completions", true),
        (None, Some("http://localhost:9/v1"), "http://localhost:9/v1/chat/completions", true),
    ];
    for (p, base, url, stream_options) in cases {
        let mut call = crate::text::stream("hi", "any-model").client(client.clone()).api_key("test-key").max_tokens(5);
        call = match (p, base) {
            (Some(p), _) => call.provider(p),
            (None, Some(b)) => call.protocol(Protocol::ChatCompletions).base_url(b),
            _ => unreachable!(),
        };
        let prepared = call.prepare(true).await.unwrap();
        assert_eq!(prepared.wire, WireApi::ChatCompletions);
        assert_eq!(prepared.request.url, url);
        let RequestBody::Json(body) = &prepared.request.body else { panic!("not JSON") };
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
        assert_eq!(body["max_tokens"], json!(5));
        assert_eq!(body["stream"], json!(true));
        assert_eq!(body.get("stream_options").is_some(), stream_options, "{url}");
    }
}

/// The text facade routes Anthropic here, with its URL, headers and the catalog's max_tokens default
/// (request preparation only; no network).
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn the_text_facade_dispatches_anthropic_here() {
    let client = Client::new().unwrap();
    let prepared = crate::text::stream("hi", "claude-haiku-4-5")
        .client(client.clone())
        .api_key("test-key")
        .thinking_budget(2048)
        .header("anthropic-beta", "some-beta")
        .prepare(true)
        .await
        .unwrap();
    assert_eq!(prepared.wire, WireApi::AnthropicMessages);
    assert_eq!(prepared.request.url, "https://api.anthropic.com/v1/messages");
    let h = &prepared.request.headers;
    assert_eq!(h.get("anthropic-version").unwrap(), "2023-06-01");
    assert_eq!(h.get("x-api-key").unwrap(), "test-key");
    assert_eq!(h.get("anthropic-beta").unwrap(), "some-beta");
    let RequestBody::Json(body) = &prepared.request.body else { panic!("not JSON") };
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["max_tokens"], json!(64000));
    assert_eq!(body["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
    assert_eq!(body["stream"], json!(true));

    // The caller's own header of the same name wins over the library's.
    let prepared = crate::text::generate("hi", "claude-haiku-4-5")
        .client(client)
        .api_key("k")
        .header("anthropic-version", "2099-01-01")
        .prepare(false)
        .await
        .unwrap();
    assert_eq!(prepared.request.headers.get("anthropic-version").unwrap(), "2099-01-01");
}

#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn the_text_facade_routes_google_text_by_auth_only() {
    // An API key goes to Interactions whatever the request holds: the reference's 1.0.0 removed the
    // mixed function + built-in tool fallback to generateContent (Vertex credentials go there).
    let client = Client::new().unwrap();
    let url = "https://generativelanguage.googleapis.com/v1beta/interactions";
    let mixed = || vec![weather(), WebSearch::new().into()];
    for (model, stream) in [("gemini-2.5-flash", false), ("gemini-3.6-flash", false), ("gemini-3.5-flash-lite", true)] {
        let mut call = crate::text::generate("hi", model).client(client.clone()).api_key("test-key").max_tokens(5);
        for t in mixed() {
            call = call.tool(t);
        }
        let prepared = call.prepare(stream).await.unwrap();
        assert_eq!(prepared.wire, WireApi::GeminiInteractions, "{model}");
        assert_eq!(prepared.request.url, url);
        assert_eq!(prepared.request.headers["x-goog-api-key"], "test-key");
        let RequestBody::Json(body) = &prepared.request.body else { panic!("not JSON") };
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["generation_config"]["max_output_tokens"], json!(5));
        assert_eq!(body["generation_config"]["tool_choice"], Value::Null);
        assert_eq!(body["stream"], json!(stream));
    }
}

/// A parameter the wire API cannot carry is dropped and said once per call, in one warning naming
/// every such parameter; a catalog-known model's parameters are checked each against its own
/// constraint.
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[test]
fn dropped_parameters_are_reported_once_per_call() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let prepare = |call: crate::text::Generate| rt.block_on(call.prepare(false));
    let client = Client::new().unwrap();
    let call = crate::text::generate("hi", "claude-haiku-4-5")
        .client(client.clone())
        .api_key("k")
        .seed(3)
        .verbosity("low")
        .frequency_penalty(0.2)
        .temperature(0.5);
    let (prepared, events) = crate::testing::capture_events(|| prepare(call));
    let body = match &prepared.unwrap().request.body {
        RequestBody::Json(b) => serde_json::from_slice::<Value>(b).unwrap(),
        _ => panic!("not JSON"),
    };
    assert_eq!(body["temperature"], json!(0.5));
    assert!(body.get("seed").is_none());
    let warnings: Vec<&String> = events.iter().filter(|e| e.contains("dropped")).collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    for name in ["seed", "verbosity", "frequency_penalty"] {
        assert!(warnings[0].contains(name), "{name} in {}", warnings[0]);
    }
    assert!(!warnings[0].contains("temperature"));

    // Nothing dropped, nothing said.
    let call = crate::text::generate("hi", "claude-haiku-4-5").client(client.clone()).api_key("k").temperature(0.5);
    let (_, events) = crate::testing::capture_events(|| prepare(call));
    assert!(!events.iter().any(|e| e.contains("dropped")), "{events:?}");

    // A number as a level is a budget given to the wrong parameter: said before anything is sent.
    let call = crate::text::generate("hi", "claude-haiku-4-5").client(client).api_key("k").thinking_level("2048");
    let err = match prepare(call) {
        Err(e) => e,
        Ok(_) => panic!("a numeric level must be rejected"),
    };
    assert!(err.to_string().contains("thinking_budget"), "{err}");
}
