//! Anthropic Messages end to end against the project's emulator: unary and streaming, text with
//! thinking, and a tool-call turn followed by its result.

use celeste::{Client, Credentials, FinishKind, FunctionTool, Message, Provider, TelemetryConfig, ToolResult};
use celeste_emulator::{Config, Emulator, Reply, Scenario};
use futures::StreamExt;
use serde_json::{Value, json};

fn client() -> Client {
    Client::builder().credentials(Credentials::empty()).telemetry(TelemetryConfig::new().disabled()).build().unwrap()
}

fn config() -> Config {
    let mut greeting = Reply::text("Hello from Claude, streamed in pieces.").reasoning("Greet back.").usage(30, 12);
    greeting.usage.cached_tokens = Some(8);
    greeting.chunk_size = 5;
    Config::default()
        .scenario(Scenario::new("greeting").path("/v1/messages").contains("hello").then(greeting))
        // The turn that carries the tool result gets the final answer.
        .scenario(
            Scenario::new("answer")
                .path("/v1/messages")
                .contains("tool_result")
                .then(Reply::text("It is 21 °C in Paris.")),
        )
        .scenario(
            Scenario::new("weather")
                .path("/v1/messages")
                .contains("weather")
                .then(Reply::text("Checking.").tool_call("get_weather", json!({"city": "Paris", "unit": "C"}))),
        )
}

fn weather_tool() -> FunctionTool {
    FunctionTool::new(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn text_unary_and_streaming() {
    let emulator = Emulator::start(config()).await.unwrap();
    let c = client();

    let out = celeste::text::generate("hello", "claude-sonnet-4-5")
        .client(c.clone())
        .provider(Provider::Anthropic)
        .base_url(emulator.url())
        .api_key("k")
        .await
        .unwrap();
    assert_eq!(out.content, "Hello from Claude, streamed in pieces.");
    assert_eq!(out.reasoning.as_deref(), Some("Greet back."));
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop));
    // Cached input tokens are part of the input count.
    assert_eq!(
        (out.usage.input_tokens, out.usage.output_tokens, out.usage.cache_read_tokens),
        (Some(30), Some(12), Some(8))
    );
    // Thinking is signed: the whole turn is kept for replay.
    assert_eq!(out.signature.len(), 2);
    assert_eq!(out.signature[0]["type"], json!("thinking"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("claude-sonnet-4-5"));

    let mut stream = celeste::text::stream("hello", "claude-sonnet-4-5")
        .client(c)
        .provider(Provider::Anthropic)
        .base_url(emulator.url())
        .api_key("k")
        .await
        .unwrap();
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut pieces = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if !chunk.content.is_empty() {
            pieces += 1;
        }
        text.push_str(&chunk.content);
        reasoning.push_str(chunk.reasoning.as_deref().unwrap_or_default());
    }
    assert!(pieces > 1, "{pieces}");
    let streamed = stream.output().unwrap();
    assert_eq!(text, out.content);
    assert_eq!(streamed.content, out.content);
    assert_eq!(reasoning, "Greet back.");
    assert_eq!(streamed.reasoning, out.reasoning);
    assert_eq!(streamed.usage.input_tokens, Some(30));
    assert_eq!(streamed.usage.output_tokens, Some(12));
    assert_eq!(streamed.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop));
    assert_eq!(streamed.signature[0]["type"], json!("thinking"));
    assert!(streamed.signature[0]["signature"].as_str().is_some_and(|s| !s.is_empty()));

    let requests = emulator.requests();
    assert_eq!(requests.len(), 2);
    for (r, stream) in requests.iter().zip([false, true]) {
        assert_eq!(r.path, "/v1/messages");
        assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(r.header("x-api-key"), Some("k"));
        let body = r.json().unwrap();
        assert_eq!(body["max_tokens"], json!(64000));
        assert_eq!(body.get("stream").cloned(), stream.then_some(Value::Bool(true)));
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn tool_call_turn_then_result_unary_and_streaming() {
    let emulator = Emulator::start(config()).await.unwrap();
    let c = client();
    let call = || {
        celeste::text::generate("What is the weather in Paris?", "claude-haiku-4-5")
            .client(c.clone())
            .provider(Provider::Anthropic)
            .base_url(emulator.url())
            .api_key("k")
            .tool(weather_tool())
    };

    let out = call().await.unwrap();
    assert_eq!(out.content, "Checking.");
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ToolCall));
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].name, "get_weather");
    assert_eq!(out.tool_calls[0].arguments, json!({"city": "Paris", "unit": "C"}));
    assert!(out.tool_calls[0].id.starts_with("toolu_"));
    assert!(out.signature.is_empty());

    let mut stream = call().stream().await.unwrap();
    let mut args = String::new();
    let mut started = None;
    while let Some(chunk) = stream.next().await {
        if let Some(d) = chunk.unwrap().tool_call {
            if d.name.is_some() {
                started = Some((d.index, d.id.clone(), d.name.clone()));
            }
            args.push_str(&d.arguments);
        }
    }
    let streamed = stream.into_output().unwrap();
    assert_eq!(streamed.tool_calls.len(), 1);
    let tc = &streamed.tool_calls[0];
    assert_eq!(started, Some((0, Some(tc.id.clone()), Some("get_weather".to_string()))));
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris", "unit": "C"}));
    assert_eq!(tc.arguments, json!({"city": "Paris", "unit": "C"}));
    assert_eq!(streamed.content, "Checking.");

    // The next turn: the assistant's call, then its result, batched as a user turn of tool_result blocks.
    let messages = vec![
        celeste::Item::from(Message::user("What is the weather in Paris?")),
        out.message().into(),
        ToolResult::new(out.tool_calls[0].id.clone(), json!({"temp_c": 21})).into(),
    ];
    // No prompt of its own: the empty prompt turn is left out of the request.
    let answer = celeste::text::generate("", "claude-haiku-4-5")
        .client(c)
        .provider(Provider::Anthropic)
        .base_url(emulator.url())
        .api_key("k")
        .tool(weather_tool())
        .messages(messages)
        .await;
    let requests = emulator.requests();
    let last = requests.last().unwrap().json().unwrap();
    assert_eq!(last["tools"][0]["name"], json!("get_weather"));
    assert_eq!(last["messages"][1]["content"][1]["type"], json!("tool_use"));
    assert_eq!(last["messages"][2]["content"][0]["type"], json!("tool_result"));
    assert_eq!(last["messages"][2]["content"][0]["tool_use_id"], json!(out.tool_calls[0].id));
    assert_eq!(last["messages"].as_array().unwrap().len(), 3);
    assert_eq!(answer.unwrap().content, "It is 21 °C in Paris.");
    emulator.shutdown().await;
}
