//! The shape of every wire API's unary body and stream, over real sockets.

mod common;

use celeste_emulator::{Config, Emulator, Reply, Scenario, Usage};
use common::*;
use serde_json::{Value, json};

const TEXT: &str = "Hello, wörld! How are you today?";
const REASONING: &str = "The user greets me; greet back.";

fn rich() -> Reply {
    let mut r = Reply::text(TEXT)
        .reasoning(REASONING)
        .tool_call("get_weather", json!({"city": "Paris", "days": 3}))
        .chunk_size(5);
    r.usage =
        Usage { input_tokens: Some(11), output_tokens: Some(22), reasoning_tokens: Some(5), cached_tokens: Some(2) };
    r
}

/// One emulator: requests containing "rich" get text + reasoning + a tool call; the rest get
/// plain text.
async fn emulator() -> Emulator {
    let config = Config::default()
        .scenario(Scenario::new("rich").contains("rich").then(rich()))
        .scenario(Scenario::new("plain").then(Reply::text(TEXT).chunk_size(5).usage(7, 9)));
    Emulator::start(config).await.unwrap()
}

fn body(model: &str, stream: bool, prompt: &str) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}]})
}

fn deltas_of_5(s: &str) -> usize {
    s.chars().count().div_ceil(5)
}

#[tokio::test]
async fn responses_stream() {
    let emu = emulator().await;
    let url = format!("{}/v1/responses", emu.url());
    let events = post_sse(&url, &json!({"model": "gpt-5", "stream": true, "input": "rich"})).await;
    let values: Vec<Value> = events.iter().map(Sse::json).collect();
    for (i, (e, v)) in events.iter().zip(&values).enumerate() {
        assert_eq!(e.event.as_deref(), v["type"].as_str(), "event line matches type");
        assert_eq!(v["sequence_number"], i as u64, "sequence numbers count from 0");
    }
    let types: Vec<&str> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "response.created");
    assert_eq!(types[1], "response.in_progress");
    assert_eq!(*types.last().unwrap(), "response.completed");
    assert!(!events.iter().any(|e| e.data == "[DONE]"));
    for t in [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.reasoning_summary_text.done",
        "response.function_call_arguments.done",
    ] {
        assert!(types.contains(&t), "missing {t}");
    }
    assert_eq!(concat(&values, "response.output_text.delta", "/delta"), TEXT);
    assert_eq!(values.iter().filter(|v| v["type"] == "response.output_text.delta").count(), deltas_of_5(TEXT));
    let d = values.iter().find(|v| v["type"] == "response.output_text.delta").unwrap();
    assert!(d["item_id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(d["output_index"], 1);
    assert_eq!(d["content_index"], 0);
    assert_eq!(concat(&values, "response.reasoning_summary_text.delta", "/delta"), REASONING);
    let args = concat(&values, "response.function_call_arguments.delta", "/delta");
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris", "days": 3}));
    let done = values.last().unwrap();
    let resp = &done["response"];
    assert_eq!(resp["status"], "completed");
    assert_eq!(resp["model"], "gpt-5");
    assert_eq!(resp["object"], "response");
    assert_eq!(resp["usage"]["input_tokens"], 11);
    assert_eq!(resp["usage"]["output_tokens"], 22);
    assert_eq!(resp["usage"]["total_tokens"], 33);
    assert_eq!(resp["usage"]["input_tokens_details"]["cached_tokens"], 2);
    assert_eq!(resp["usage"]["output_tokens_details"]["reasoning_tokens"], 5);
    let kinds: Vec<&str> = resp["output"].as_array().unwrap().iter().map(|o| o["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    assert_eq!(resp["output"][2]["name"], "get_weather");
    assert!(resp["output"][2]["call_id"].as_str().unwrap().starts_with("call_"));
}

#[tokio::test]
async fn responses_unary() {
    let emu = emulator().await;
    let url = format!("{}/v1/responses", emu.url());
    let (status, v) = post_json(&url, &json!({"model": "gpt-5", "input": "rich"})).await;
    assert_eq!(status, 200);
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["model"], "gpt-5");
    assert!(v["id"].as_str().unwrap().starts_with("resp_"));
    let out = v["output"].as_array().unwrap();
    assert_eq!(out[0]["type"], "reasoning");
    assert_eq!(out[0]["summary"][0]["text"], REASONING);
    assert_eq!(out[1]["type"], "message");
    assert_eq!(out[1]["role"], "assistant");
    assert_eq!(out[1]["content"][0]["type"], "output_text");
    assert_eq!(out[1]["content"][0]["text"], TEXT);
    assert_eq!(out[1]["content"][0]["annotations"], json!([]));
    assert_eq!(out[2]["type"], "function_call");
    let args: Value = serde_json::from_str(out[2]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "Paris", "days": 3}));
    assert_eq!(v["usage"]["total_tokens"], 33);
}

#[tokio::test]
async fn responses_finish_reason_override_is_incomplete() {
    let emu = Emulator::start(Config::default().default_reply(Reply::text("cut").finish_reason("max_output_tokens")))
        .await
        .unwrap();
    let url = format!("{}/v1/responses", emu.url());
    let events = post_sse(&url, &json!({"model": "m", "stream": true})).await;
    let last = events.last().unwrap().json();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(last["response"]["incomplete_details"]["reason"], "max_output_tokens");
}

async fn check_chat_stream(emu: &Emulator, path: &str) {
    let url = format!("{}{path}", emu.url());
    let events = post_sse(&url, &body("llama", true, "rich")).await;
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert!(events.iter().all(|e| e.event.is_none()));
    let values: Vec<Value> = events[..events.len() - 1].iter().map(Sse::json).collect();
    assert!(values.iter().all(|v| v["object"] == "chat.completion.chunk"));
    assert!(values.iter().all(|v| v["model"] == "llama"));
    let id = &values[0]["id"];
    assert!(id.as_str().unwrap().starts_with("chatcmpl-"));
    assert!(values.iter().all(|v| &v["id"] == id));
    assert_eq!(values[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = values.iter().filter_map(|v| v["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, TEXT);
    let reasoning: String =
        values.iter().filter_map(|v| v["choices"][0]["delta"]["reasoning_content"].as_str()).collect();
    assert_eq!(reasoning, REASONING);
    let calls: Vec<&Value> = values.iter().filter_map(|v| v["choices"][0]["delta"]["tool_calls"].get(0)).collect();
    assert_eq!(calls[0]["index"], 0);
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert!(calls[1..].iter().all(|c| c.get("id").is_none()));
    let args: String = calls.iter().map(|c| c["function"]["arguments"].as_str().unwrap()).collect();
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris", "days": 3}));
    let finish = values.last().unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    assert!(!values.iter().any(|v| v.get("usage").is_some()), "no usage chunk without include_usage");
}

#[tokio::test]
async fn chat_stream_on_every_path() {
    let emu = emulator().await;
    for path in ["/v1/chat/completions", "/openai/v1/chat/completions", "/chat/completions"] {
        check_chat_stream(&emu, path).await;
    }
}

#[tokio::test]
async fn chat_stream_usage_chunk_with_include_usage() {
    let emu = emulator().await;
    let url = format!("{}/v1/chat/completions", emu.url());
    let mut b = body("gpt-4.1", true, "plain");
    b["stream_options"] = json!({"include_usage": true});
    let events = post_sse(&url, &b).await;
    let n = events.len();
    assert_eq!(events[n - 1].data, "[DONE]");
    let usage = events[n - 2].json();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 7);
    assert_eq!(usage["usage"]["completion_tokens"], 9);
    assert_eq!(usage["usage"]["total_tokens"], 16);
    let finish = events[n - 3].json();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn chat_unary() {
    let emu = emulator().await;
    let url = format!("{}/v1/chat/completions", emu.url());
    let (status, v) = post_json(&url, &body("gpt-4.1", false, "rich")).await;
    assert_eq!(status, 200);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4.1");
    let m = &v["choices"][0]["message"];
    assert_eq!(m["role"], "assistant");
    assert_eq!(m["content"], TEXT);
    assert_eq!(m["reasoning_content"], REASONING);
    assert_eq!(m["tool_calls"][0]["type"], "function");
    assert_eq!(m["tool_calls"][0]["function"]["name"], "get_weather");
    assert!(m["tool_calls"][0]["function"]["arguments"].is_string());
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["usage"]["prompt_tokens"], 11);
    assert_eq!(v["usage"]["completion_tokens"], 22);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
    assert_eq!(v["usage"]["completion_tokens_details"]["reasoning_tokens"], 5);
}

#[tokio::test]
async fn anthropic_stream() {
    let emu = emulator().await;
    let url = format!("{}/v1/messages", emu.url());
    let events = post_sse(&url, &body("claude-sonnet-4-5", true, "rich")).await;
    let values: Vec<Value> = events.iter().map(Sse::json).collect();
    for (e, v) in events.iter().zip(&values) {
        assert_eq!(e.event.as_deref(), v["type"].as_str());
    }
    let types: Vec<&str> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "message_start");
    assert!(types.contains(&"ping"));
    assert_eq!(types[types.len() - 2], "message_delta");
    assert_eq!(types[types.len() - 1], "message_stop");
    let start = &values[0]["message"];
    assert_eq!(start["model"], "claude-sonnet-4-5");
    assert!(start["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(start["usage"]["input_tokens"], 9);
    assert_eq!(start["usage"]["cache_read_input_tokens"], 2);
    let blocks: Vec<&str> = values
        .iter()
        .filter(|v| v["type"] == "content_block_start")
        .map(|v| v["content_block"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(blocks, ["thinking", "text", "tool_use"]);
    let by_delta = |kind: &str, field: &str| -> String {
        values
            .iter()
            .filter(|v| v["type"] == "content_block_delta" && v["delta"]["type"] == kind)
            .map(|v| v["delta"][field].as_str().unwrap())
            .collect()
    };
    assert_eq!(by_delta("thinking_delta", "thinking"), REASONING);
    assert!(!by_delta("signature_delta", "signature").is_empty());
    assert_eq!(by_delta("text_delta", "text"), TEXT);
    let args = by_delta("input_json_delta", "partial_json");
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris", "days": 3}));
    let stops = values.iter().filter(|v| v["type"] == "content_block_stop").count();
    assert_eq!(stops, 3);
    let delta = &values[values.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], 22);
}

#[tokio::test]
async fn anthropic_unary() {
    let emu = emulator().await;
    let url = format!("{}/v1/messages", emu.url());
    let (status, v) = post_json(&url, &body("claude-haiku-4-5", false, "rich")).await;
    assert_eq!(status, 200);
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-haiku-4-5");
    assert_eq!(v["content"][0]["type"], "thinking");
    assert_eq!(v["content"][0]["thinking"], REASONING);
    assert!(v["content"][0]["signature"].is_string());
    assert_eq!(v["content"][1], json!({"type": "text", "text": TEXT}));
    assert_eq!(v["content"][2]["type"], "tool_use");
    assert!(v["content"][2]["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(v["content"][2]["input"], json!({"city": "Paris", "days": 3}));
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["usage"]["output_tokens"], 22);

    let (_, plain) = post_json(&url, &body("claude-haiku-4-5", false, "plain")).await;
    assert_eq!(plain["stop_reason"], "end_turn");
    assert_eq!(plain["content"].as_array().unwrap().len(), 1);
}

fn gemini_body(prompt: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]})
}

fn check_gemini_chunks(chunks: &[Value], model: &str) {
    let parts: Vec<&Value> =
        chunks.iter().flat_map(|c| c["candidates"][0]["content"]["parts"].as_array().unwrap()).collect();
    let thought: String = parts.iter().filter(|p| p["thought"] == true).map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(thought, REASONING);
    let text: String = parts.iter().filter(|p| p.get("thought").is_none()).filter_map(|p| p["text"].as_str()).collect();
    assert_eq!(text, TEXT);
    let call = parts.iter().find(|p| p.get("functionCall").is_some()).unwrap();
    assert_eq!(call["functionCall"]["name"], "get_weather");
    assert_eq!(call["functionCall"]["args"], json!({"city": "Paris", "days": 3}));
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    let usage = &last["usageMetadata"];
    assert_eq!(usage["promptTokenCount"], 11);
    assert_eq!(usage["candidatesTokenCount"], 17);
    assert_eq!(usage["thoughtsTokenCount"], 5);
    assert_eq!(usage["totalTokenCount"], 33);
    assert!(chunks.iter().all(|c| c["modelVersion"] == model));
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c.get("usageMetadata").is_none()));
}

#[tokio::test]
async fn gemini_stream_sse_and_json_array() {
    let emu = emulator().await;
    let url = format!("{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", emu.url());
    let events = post_sse(&url, &gemini_body("rich")).await;
    assert!(events.iter().all(|e| e.event.is_none()));
    let chunks: Vec<Value> = events.iter().map(Sse::json).collect();
    check_gemini_chunks(&chunks, "gemini-2.5-flash");

    let url = format!("{}/v1beta/models/gemini-2.5-pro:streamGenerateContent", emu.url());
    let (status, ct, text) = post_text(&url, &gemini_body("rich")).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));
    let chunks: Vec<Value> = serde_json::from_str(&text).unwrap();
    check_gemini_chunks(&chunks, "gemini-2.5-pro");
}

#[tokio::test]
async fn gemini_unary_and_vertex_path() {
    let emu = emulator().await;
    for url in [
        format!("{}/v1beta/models/gemini-3-pro:generateContent", emu.url()),
        format!(
            "{}/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-3-pro:generateContent",
            emu.url()
        ),
    ] {
        let (status, v) = post_json(&url, &gemini_body("rich")).await;
        assert_eq!(status, 200);
        let c = &v["candidates"][0];
        assert_eq!(c["content"]["role"], "model");
        assert_eq!(c["content"]["parts"][0], json!({"text": REASONING, "thought": true}));
        assert_eq!(c["content"]["parts"][1], json!({"text": TEXT}));
        assert_eq!(c["content"]["parts"][2]["functionCall"]["name"], "get_weather");
        assert_eq!(c["finishReason"], "STOP");
        assert_eq!(v["usageMetadata"]["totalTokenCount"], 33);
        assert_eq!(v["modelVersion"], "gemini-3-pro");
    }
}

#[tokio::test]
async fn cohere_stream_and_unary() {
    let emu = emulator().await;
    let url = format!("{}/v2/chat", emu.url());
    let events = post_sse(&url, &body("command-a", true, "plain")).await;
    let values: Vec<Value> = events.iter().map(Sse::json).collect();
    for (e, v) in events.iter().zip(&values) {
        assert_eq!(e.event.as_deref(), v["type"].as_str());
    }
    let types: Vec<&str> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "message-start");
    assert_eq!(types[1], "content-start");
    assert_eq!(types[types.len() - 2], "content-end");
    assert_eq!(types[types.len() - 1], "message-end");
    assert_eq!(concat(&values, "content-delta", "/delta/message/content/text"), TEXT);
    let end = values.last().unwrap();
    assert_eq!(end["delta"]["finish_reason"], "COMPLETE");
    assert_eq!(end["delta"]["usage"]["tokens"]["input_tokens"], 7);
    assert_eq!(end["delta"]["usage"]["tokens"]["output_tokens"], 9);
    assert_eq!(end["delta"]["usage"]["billed_units"]["output_tokens"], 9);

    let events = post_sse(&url, &body("command-a", true, "rich")).await;
    let values: Vec<Value> = events.iter().map(Sse::json).collect();
    assert_eq!(concat(&values, "content-delta", "/delta/message/content/thinking"), REASONING);
    assert_eq!(concat(&values, "tool-plan-delta", "/delta/message/tool_plan"), TEXT);
    let start = values.iter().find(|v| v["type"] == "tool-call-start").unwrap();
    assert_eq!(start["delta"]["message"]["tool_calls"]["function"]["name"], "get_weather");
    let args = concat(&values, "tool-call-delta", "/delta/message/tool_calls/function/arguments");
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris", "days": 3}));
    assert!(values.iter().any(|v| v["type"] == "tool-call-end"));
    assert_eq!(values.last().unwrap()["delta"]["finish_reason"], "TOOL_CALL");

    let (status, v) = post_json(&url, &body("command-a", false, "plain")).await;
    assert_eq!(status, 200);
    assert_eq!(v["message"]["content"][0], json!({"type": "text", "text": TEXT}));
    assert_eq!(v["finish_reason"], "COMPLETE");
    let (_, v) = post_json(&url, &body("command-a", false, "rich")).await;
    assert_eq!(v["message"]["tool_plan"], TEXT);
    assert_eq!(v["message"]["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(v["finish_reason"], "TOOL_CALL");
}

#[tokio::test]
async fn ollama_ndjson_and_unary() {
    let emu = emulator().await;
    let url = format!("{}/api/chat", emu.url());
    // Ollama streams by default.
    let b = json!({"model": "llama3.2", "messages": [{"role": "user", "content": "rich"}]});
    let (status, ct, text) = post_text(&url, &b).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/x-ndjson");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let content: String = lines.iter().filter_map(|l| l["message"]["content"].as_str()).collect();
    assert_eq!(content, TEXT);
    let thinking: String = lines.iter().filter_map(|l| l["message"]["thinking"].as_str()).collect();
    assert_eq!(thinking, REASONING);
    assert!(
        lines
            .iter()
            .any(|l| l["message"]["tool_calls"][0]["function"]["arguments"] == json!({"city": "Paris", "days": 3}))
    );
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["prompt_eval_count"], 11);
    assert_eq!(last["eval_count"], 22);
    assert!(lines[..lines.len() - 1].iter().all(|l| l["done"] == false));

    let mut b = b;
    b["stream"] = json!(false);
    let (status, v) = post_json(&url, &b).await;
    assert_eq!(status, 200);
    assert_eq!(v["done"], true);
    assert_eq!(v["message"]["content"], TEXT);
    assert_eq!(v["model"], "llama3.2");
}

#[tokio::test]
async fn interactions_stream_and_unary() {
    let emu = emulator().await;
    let url = format!("{}/v1beta/interactions", emu.url());
    let b = json!({"model": "gemini-2.5-flash", "input": "plain", "stream": true});
    let events = post_sse(&url, &b).await;
    let values: Vec<Value> = events.iter().map(Sse::json).collect();
    assert_eq!(values[0]["event_type"], "interaction.created");
    assert_eq!(values.last().unwrap()["event_type"], "interaction.completed");
    assert_eq!(values.last().unwrap()["interaction"]["status"], "completed");
    assert_eq!(concat(&values, "step.delta", "/delta/text"), TEXT);

    let b = json!({"model": "gemini-2.5-flash", "input": "rich"});
    let (status, v) = post_json(&url, &b).await;
    assert_eq!(status, 200);
    assert_eq!(v["object"], "interaction");
    assert_eq!(v["status"], "requires_action");
    let steps: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(steps, ["thought", "model_output", "function_call"]);
    assert_eq!(v["usage"]["total_input_tokens"], 11);
}

#[tokio::test]
async fn unknown_path_and_bad_json() {
    let emu = emulator().await;
    let (status, v) = post_json(&format!("{}/v1/nothing", emu.url()), &json!({})).await;
    assert_eq!(status, 404);
    assert!(v["error"]["message"].is_string());

    let client = client();
    for (path, check) in [
        ("/v1/chat/completions", "/error/message"),
        ("/v1/messages", "/error/type"),
        ("/v1beta/models/g:generateContent", "/error/status"),
    ] {
        let resp = client.post(format!("{}{path}", emu.url())).body("{not json").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{path}");
        let v: Value = resp.json().await.unwrap();
        assert!(v.pointer(check).is_some(), "{path}: {v}");
    }
    let (status, v) = post_json(&format!("{}/v1/messages", emu.url()), &json!([1])).await;
    assert_eq!(status, 400, "{v}");
}

#[tokio::test]
async fn default_reply_is_a_believable_paragraph() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let url = format!("{}/v1/chat/completions", emu.url());
    let events = post_sse(&url, &body("gpt-4o-mini", true, "hi")).await;
    let text: String = events[..events.len() - 1]
        .iter()
        .filter_map(|e| e.json()["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, celeste_emulator::DEFAULT_TEXT);
    let words = text.split_whitespace().count();
    assert!((60..=100).contains(&words), "{words} words");
    // Chunked at the default 8 characters.
    assert_eq!(events.len(), 1 + text.chars().count().div_ceil(8) + 1 + 1);
}
