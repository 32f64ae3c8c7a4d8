//! Google text over real sockets against the project's emulator: the Interactions API (for API keys)
//! and generateContent (for Vertex credentials: the backend is chosen by authentication only, and a
//! function beside a built-in tool no longer switches it), unary and streaming.

use celeste::types::{FinishKind, FunctionTool, Tool, WebSearch};
use celeste::{Auth, Client, Credentials, Provider, TelemetryConfig, Vertex};
use celeste_emulator::{Config, DEFAULT_TEXT, Emulator, Reply};
use futures::StreamExt;
use serde_json::json;

fn client() -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::Google, "test-google-key"))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

async fn emulator(reply: Reply) -> Emulator {
    Emulator::start(Config::default().default_reply(reply)).await.unwrap()
}

/// A function beside a built-in tool.
fn mixed_tools() -> Vec<Tool> {
    vec![
        FunctionTool::new("get_weather", "Weather for a city", json!({"type": "object"})).into(),
        WebSearch::new().into(),
    ]
}

/// Vertex credentials of our own (a token, a project, a location).
fn vertex() -> Auth {
    Auth::vertex(Vertex::with_token("ya29.test").project("p").location("us-central1"))
}

/// Where Vertex serves Google's models for that project and location.
const VERTEX_MODELS: &str = "/v1/projects/p/locations/us-central1/publishers/google/models";

#[tokio::test]
async fn interactions_unary_text() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let out = client()
        .text()
        .generate("Say hello", "gemini-2.5-flash")
        .provider(Provider::Google)
        .base_url(emu.url())
        .temperature(0.2)
        .max_tokens(100)
        .await
        .unwrap();
    assert_eq!(out.content, DEFAULT_TEXT);
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::Stop);
    let u = &out.usage;
    assert_eq!(u.total_tokens, Some(u.input_tokens.unwrap() + u.output_tokens.unwrap()));
    assert!(out.metadata.response_id.as_deref().is_some_and(|id| id.starts_with("v1_")));

    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1beta/interactions");
    assert_eq!(req.header("x-goog-api-key"), Some("test-google-key"));
    let body = req.json().unwrap();
    assert_eq!(body["model"], json!("gemini-2.5-flash"));
    assert_eq!(body["generation_config"], json!({"temperature": 0.2, "max_output_tokens": 100}));
    assert_eq!(body["stream"], json!(false));
    emu.shutdown().await;
}

#[tokio::test]
async fn interactions_streaming_text_reasoning_and_tool_calls() {
    let emu = emulator(
        Reply::text("Checking the weather now.")
            .reasoning("The user wants weather.")
            .tool_call("get_weather", json!({"city": "Paris"}))
            .chunk_size(4),
    )
    .await;
    let mut stream = client()
        .text()
        .generate("Weather in Paris?", "gemini-2.5-flash")
        .provider(Provider::Google)
        .base_url(emu.url())
        .tool(FunctionTool::new("get_weather", "Weather", json!({"type": "object"})))
        .stream()
        .await
        .unwrap();
    let (mut text, mut reasoning, mut args) = (String::new(), String::new(), String::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        text.push_str(&chunk.content);
        reasoning.push_str(chunk.reasoning.as_deref().unwrap_or_default());
        if let Some(d) = &chunk.tool_call {
            args.push_str(&d.arguments);
        }
    }
    let out = stream.into_output().unwrap();
    assert_eq!(text, "Checking the weather now.");
    assert_eq!(out.content, text);
    assert_eq!(reasoning, "The user wants weather.");
    assert_eq!(out.reasoning.as_deref(), Some("The user wants weather."));
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].name, "get_weather");
    assert_eq!(out.tool_calls[0].arguments, json!({"city": "Paris"}));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&args).unwrap(), json!({"city": "Paris"}));
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
    assert_eq!(out.signature.len(), 1, "the thought step, for replay");
    assert!(out.usage.reasoning_tokens.is_some());

    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1beta/interactions");
    assert_eq!(req.json().unwrap()["stream"], json!(true));

    // The next turn replays the thought step and the call, then the result.
    let next = client()
        .text()
        .generate("And tomorrow?", "gemini-2.5-flash")
        .provider(Provider::Google)
        .base_url(emu.url())
        .messages([
            celeste::Message::user("Weather in Paris?").into(),
            out.message().into(),
            celeste::types::Item::from(celeste::ToolResult::new(out.tool_calls[0].id.clone(), "sunny")),
        ])
        .await
        .unwrap();
    assert!(!next.tool_calls.is_empty() || !next.content.is_empty());
    let input = emu.requests()[1].json().unwrap()["input"].clone();
    let kinds: Vec<&str> = input.as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["user_input", "thought", "model_output", "function_call", "function_result", "user_input"]);
    emu.shutdown().await;
}

#[tokio::test]
async fn generate_content_unary_on_vertex_with_mixed_tools() {
    let emu = emulator(Reply::text("Here is what I found.").usage(12, 7)).await;
    let mut call = client()
        .text()
        .generate("Search, then record.", "gemini-3.6-flash")
        .provider(Provider::Google)
        .auth(vertex())
        .base_url(emu.url());
    for t in mixed_tools() {
        call = call.tool(t);
    }
    let out = call.await.unwrap();
    assert_eq!(out.content, "Here is what I found.");
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::Stop);
    assert_eq!(
        (out.usage.input_tokens, out.usage.output_tokens, out.usage.total_tokens),
        (Some(12), Some(7), Some(19))
    );
    assert_eq!(out.metadata.response_model.as_deref(), Some("gemini-3.6-flash"));

    let req = &emu.requests()[0];
    assert_eq!(req.path, format!("{VERTEX_MODELS}/gemini-3.6-flash:generateContent"));
    assert_eq!(req.header("authorization"), Some("Bearer ya29.test"));
    let body = req.json().unwrap();
    assert_eq!(body["contents"], json!([{"role": "user", "parts": [{"text": "Search, then record."}]}]));
    assert_eq!(body["toolConfig"], json!({"includeServerSideToolInvocations": true}));
    emu.shutdown().await;
}

#[tokio::test]
async fn generate_content_streaming_text_reasoning_and_tool_calls() {
    let emu = emulator(
        Reply::text("Found it.")
            .reasoning("Search first.")
            .tool_call("get_weather", json!({"city": "Oslo"}))
            .chunk_size(3),
    )
    .await;
    let mut call = client()
        .text()
        .generate("Search, then record.", "gemini-3.5-flash-lite")
        .provider(Provider::Google)
        .auth(vertex())
        .base_url(emu.url())
        .stream();
    for t in mixed_tools() {
        call = call.tool(t);
    }
    let mut stream = call.await.unwrap();
    let (mut text, mut reasoning, mut chunks_with_usage) = (String::new(), String::new(), 0);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        text.push_str(&chunk.content);
        reasoning.push_str(chunk.reasoning.as_deref().unwrap_or_default());
        chunks_with_usage += usize::from(chunk.usage.is_some());
    }
    let out = stream.into_output().unwrap();
    assert_eq!(text, "Found it.");
    assert_eq!(out.content, "Found it.");
    assert_eq!(reasoning, "Search first.");
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].arguments, json!({"city": "Oslo"}));
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
    assert_eq!(chunks_with_usage, 1);
    assert!(out.signature.iter().any(|p| p.get("functionCall").is_some()), "native parts kept for replay");
    let u = &out.usage;
    assert_eq!(u.total_tokens, Some(u.input_tokens.unwrap() + u.output_tokens.unwrap()));

    let req = &emu.requests()[0];
    assert_eq!(req.path, format!("{VERTEX_MODELS}/gemini-3.5-flash-lite:streamGenerateContent?alt=sse"));
    assert!(req.json().unwrap().get("stream").is_none());
    emu.shutdown().await;
}
