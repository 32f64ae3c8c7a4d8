//! Cohere v2 chat end to end against the project's emulator: unary and streaming, text, reasoning,
//! tool calls, and a failed generation, through the public API.

use celeste::{Client, Credentials, Error, FinishKind, Provider, TelemetryConfig, ToolCall};
use celeste_emulator::{Config, Emulator, Fault, Reply, Scenario};
use futures::StreamExt;
use serde_json::json;

const MODEL: &str = "command-a-03-2025";

fn client() -> Client {
    Client::builder().credentials(Credentials::empty()).telemetry(TelemetryConfig::new().disabled()).build().unwrap()
}

fn config() -> Config {
    Config::default()
        .scenario(
            Scenario::new("weather")
                .path("/v2/chat")
                .contains("weather")
                .then(Reply::text("I will look up the weather.").tool_call("get_weather", json!({"city": "Paris"}))),
        )
        .scenario(
            Scenario::new("thinking")
                .path("/v2/chat")
                .contains("riddle")
                .then(Reply::text("Four.").reasoning("Two plus two is four.").chunk_size(3)),
        )
        .scenario(Scenario::new("broken").path("/v2/chat").contains("break").then(Fault::stream_error_at(3)))
}

macro_rules! generate {
    ($client:expr, $emu:expr, $prompt:expr) => {
        $client.text().generate($prompt, MODEL).provider(Provider::Cohere).base_url($emu.url()).api_key("k")
    };
}

#[tokio::test]
async fn unary_text_and_tool_call() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client();

    let out = generate!(c, emu, "Say hello").max_tokens(64).temperature(0.3).await.unwrap();
    assert_eq!(out.content, celeste_emulator::DEFAULT_TEXT);
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop));
    assert!(out.usage.input_tokens.is_some() && out.usage.output_tokens.is_some());
    assert!(out.usage.billed_units.is_some());
    assert!(out.metadata.response_id.is_some());

    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v2/chat");
    assert_eq!(req.header("authorization"), Some("bearer k"));
    let body = req.json().unwrap();
    assert_eq!(body["model"], json!(MODEL));
    assert_eq!(body["messages"], json!([{"role": "user", "content": "Say hello"}]));
    assert_eq!((body["max_tokens"].clone(), body["temperature"].clone()), (json!(64), json!(0.3)));
    assert!(body.get("stream").is_none());

    let out = generate!(c, emu, "What is the weather in Paris?").await.unwrap();
    assert_eq!(out.content, "");
    assert_eq!(out.reasoning.as_deref(), Some("I will look up the weather."));
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].name, "get_weather");
    assert_eq!(out.tool_calls[0].arguments, json!({"city": "Paris"}));
    assert!(!out.tool_calls[0].id.is_empty());
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ToolCall));
    emu.shutdown().await;
}

#[tokio::test]
async fn streaming_text_reasoning_and_tool_call() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client();

    let mut stream = generate!(c, emu, "A riddle: two plus two?").stream().await.unwrap();
    let (mut text, mut reasoning, mut finals) = (String::new(), String::new(), 0);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        text.push_str(&chunk.content);
        reasoning.push_str(chunk.reasoning.as_deref().unwrap_or(""));
        finals += usize::from(chunk.finish_reason.is_some());
    }
    assert_eq!((text.as_str(), reasoning.as_str(), finals), ("Four.", "Two plus two is four.", 1));
    let out = stream.output().unwrap();
    assert_eq!(out.content, "Four.");
    assert_eq!(out.reasoning.as_deref(), Some("Two plus two is four."));
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop));
    assert!(out.usage.output_tokens.is_some());
    let req = emu.requests().pop().unwrap();
    assert_eq!(req.json().unwrap()["stream"], json!(true));
    assert_eq!(req.header("accept"), Some("text/event-stream"));

    let mut stream = generate!(c, emu, "weather in Paris?").stream().await.unwrap();
    let mut arguments = String::new();
    let mut starts = Vec::new();
    while let Some(chunk) = stream.next().await {
        if let Some(d) = chunk.unwrap().tool_call {
            arguments.push_str(&d.arguments);
            if let Some(name) = d.name {
                starts.push((d.index, name, d.id.is_some()));
            }
        }
    }
    assert_eq!(starts, [(0, "get_weather".to_string(), true)]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&arguments).unwrap(), json!({"city": "Paris"}));
    let out = stream.into_output().unwrap();
    let call: &ToolCall = &out.tool_calls[0];
    assert_eq!((call.name.as_str(), &call.arguments), ("get_weather", &json!({"city": "Paris"})));
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ToolCall));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_generation_is_a_stream_event_error() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client();
    let mut stream = generate!(c, emu, "please break").stream().await.unwrap();
    let mut last = None;
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            last = Some(e);
        }
    }
    match last {
        Some(Error::StreamEvent(e)) => {
            assert_eq!(e.origin, celeste::Origin::Provider(Provider::Cohere));
            assert_eq!(e.error_type.as_deref(), Some("ERROR"));
        }
        other => panic!("{other:?}"),
    }
    assert!(stream.output().is_err());
    emu.shutdown().await;
}
