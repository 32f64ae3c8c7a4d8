use super::*;
use crate::error::Origin;
use crate::testing::decode_all;
use crate::types::artifact::Artifact;
use crate::types::enums::Provider;
use crate::types::message::{Message, ToolResult};
use crate::types::mime::MimeType;
use crate::types::tool::{FunctionTool, WebSearch};
use crate::wire::testkit::{Replay, conform, streamed_text};
use crate::wire::testkit::{Setup, around, ev, event_error, keys, message_and_type};

/// The call these tests make.
const T: Setup = Setup::new(Origin::Provider(Provider::Google), "gemini-2.5-flash");

fn weather() -> Tool {
    FunctionTool::new("get_weather", "Weather", json!({"type": "object"})).into()
}

// ---------------------------------------------------------------------------------------------------
// Request contracts

#[test]
fn every_parameter_maps_to_its_field_and_none_omits_it() {
    let bare = build_request(&T.user("hi"), &T.ctx(), false).unwrap();
    assert_eq!(keys(&bare), ["input", "model", "stream"]);
    assert_eq!(bare["stream"], json!(false), "a unary call says so");
    assert_eq!(bare["model"], json!("gemini-2.5-flash"));
    assert_eq!(bare["input"], json!([{"type": "user_input", "content": [{"type": "text", "text": "hi"}]}]));

    // The plain fields (and the parameters this API drops) are held to the table by
    // `params::every_parameter_reaches_the_wire_or_is_reported`; these are the module's own.
    let d = TextParams::default;
    let cases: Vec<(TextParams, Value)> = vec![(
        TextParams { thinking_level: Some("low".into()), ..d() },
        json!({"thinking_level": "low", "thinking_summaries": "auto"}),
    )];
    for (params, config) in cases {
        let mut req = T.user("hi");
        req.params = params;
        let body = build_request(&req, &T.ctx(), false).unwrap();
        assert_eq!(keys(&body), ["generation_config", "input", "model", "stream"], "{config}");
        assert_eq!(body["generation_config"], config);
    }

    let streamed = build_request(&T.user("hi"), &T.ctx(), true).unwrap();
    assert_eq!(streamed["stream"], json!(true));
}

#[test]
fn tools_and_tool_choice_shapes() {
    let mut req = T.user("hi");
    req.tools = vec![
        weather(),
        FunctionTool::new("ping", "", Value::Null).into(),
        WebSearch::new().blocked_domains(["spam.example"]).into(),
        Tool::CodeExecution,
        Tool::UrlContext,
        Tool::Raw { value: json!({"type": "google_maps"}) },
    ];
    let body = build_request(&req, &T.ctx(), false).unwrap();
    assert_eq!(
        body["tools"],
        json!([
            {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}},
            {"type": "function", "name": "ping"},
            {"type": "google_search"},
            {"type": "code_execution"},
            {"type": "url_context"},
            {"type": "google_maps"},
        ])
    );
    assert!(body.get("generation_config").is_none());

    let mixed = vec![weather(), WebSearch::new().into()];
    let cases: Vec<(Vec<Tool>, ToolChoice, Value)> = vec![
        (vec![weather()], ToolChoice::Auto, json!("auto")),
        (vec![WebSearch::new().into()], ToolChoice::Auto, json!("auto")),
        (mixed.clone(), ToolChoice::Auto, json!("validated")),
        (vec![weather(), Tool::Raw { value: json!({"type": "code_execution"}) }], ToolChoice::Auto, json!("validated")),
        (mixed.clone(), ToolChoice::Required, json!("any")),
        (mixed, ToolChoice::None, json!("none")),
        (
            vec![weather()],
            ToolChoice::Tool("get_weather".into()),
            json!({"allowed_tools": {"mode": "any", "tools": ["get_weather"]}}),
        ),
    ];
    for (tools, choice, wire) in cases {
        let mut req = T.user("hi");
        req.tools = tools;
        req.tool_choice = Some(choice);
        let body = build_request(&req, &T.ctx(), false).unwrap();
        assert_eq!(body["generation_config"], json!({"tool_choice": wire}));
    }

    let mut req = T.user("hi");
    req.tools = vec![Tool::XSearch];
    assert!(matches!(build_request(&req, &T.ctx(), false), Err(Error::Unsupported(_))));
    // A built-in tool cannot be forced here (the reference's 1.0.0 raises too).
    req.tools = vec![WebSearch::new().into()];
    req.tool_choice = Some(ToolChoice::Tool("web_search".into()));
    assert!(matches!(build_request(&req, &T.ctx(), false), Err(Error::Unsupported(_))));
}

#[test]
fn turns_system_instruction_signatures_and_tool_results() {
    let mut call = ToolCall::new("61nzpsv4", "get_weather", json!({"city": "Paris"}));
    call.extra.insert("signature".into(), json!("call-sig"));
    let mut assistant =
        Message::assistant("Checking.").with_tool_calls(vec![call, ToolCall::new("c2", "get_time", json!({}))]);
    assistant.signature = vec![json!({"type": "thought", "signature": "thought-sig"})];
    let after: Vec<Item> = vec![
        ToolResult::new("61nzpsv4", json!({"temp": 21})).into(),
        ToolResult::error("c2", "clock broken").with_name("get_time").into(),
        Message::new(Role::User, vec![Part::text("")]).into(),
    ];
    let items = around("weather?", assistant, after);
    let body = build_request(&T.request(items), &T.ctx(), false).unwrap();
    assert_eq!(body["system_instruction"], json!("be brief\n\nuse metric"));
    assert_eq!(
        body["input"],
        json!([
            {"type": "user_input", "content": [{"type": "text", "text": "weather?"}]},
            {"type": "thought", "signature": "thought-sig"},
            {"type": "model_output", "content": [{"type": "text", "text": "Checking."}]},
            {"type": "function_call", "id": "61nzpsv4", "name": "get_weather", "arguments": {"city": "Paris"}, "signature": "call-sig"},
            {"type": "function_call", "id": "c2", "name": "get_time", "arguments": {}},
            {"type": "function_result", "call_id": "61nzpsv4", "name": "get_weather",
             "result": [{"type": "text", "text": "{\"temp\":21}"}]},
            {"type": "function_result", "call_id": "c2", "name": "get_time", "is_error": true,
             "result": [{"type": "text", "text": "clock broken"}]},
        ])
    );

    let bad = Message::system("x").with_part(Part::image(Artifact::from_url("https://x/y.png")));
    assert!(matches!(build_request(&T.request(vec![bad.into()]), &T.ctx(), false), Err(Error::Unsupported(_))));
}

#[test]
fn media_parts() {
    let m = Message::user("listen")
        .with_part(Part::audio(Artifact::from_bytes(&b"abc"[..]).with_mime_type(MimeType::AudioMp4)))
        .with_part(Part::image(Artifact::from_url("https://x/y.png").with_mime_type(MimeType::ImagePng)))
        .with_part(Part::video(Artifact::from_url("https://youtu.be/v")))
        .with_part(Part::document(Artifact::from_url("data:application/pdf;base64,JVBERg==")));
    let body = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(
        body["input"][0]["content"],
        json!([
            {"type": "text", "text": "listen"},
            {"type": "audio", "data": "YWJj", "mime_type": "audio/m4a"},
            {"type": "image", "uri": "https://x/y.png", "mime_type": "image/png"},
            {"type": "video", "uri": "https://youtu.be/v"},
            {"type": "document", "data": "JVBERg==", "mime_type": "application/pdf"},
        ])
    );
}

// ---------------------------------------------------------------------------------------------------
// Responses

/// "héllo 🌍 wörld": é and ö are 2 bytes, 🌍 is 4.
const MULTIBYTE: &str = "héllo 🌍 wörld";

fn interaction(steps: Value, status: &str) -> Value {
    json!({
        "id": "v1_abc",
        "model": "gemini-2.5-flash",
        "status": status,
        "object": "interaction",
        "usage": {"total_tokens": 40, "total_input_tokens": 10, "total_output_tokens": 12, "total_thought_tokens": 18,
                  "total_cached_tokens": 2, "total_tool_use_tokens": 0},
        "steps": steps,
    })
}

fn search_steps() -> Value {
    json!([
        {"type": "google_search_call", "id": "s1", "arguments": {"queries": ["hello world", "globe"]}},
        {"type": "google_search_result", "call_id": "s1", "result": [{"url": "https://a.example", "search_suggestions": "<div>s</div>"}]},
    ])
}

#[test]
fn unary_decodes_thoughts_text_calls_grounding_and_usage() {
    let mut steps = vec![
        json!({"type": "thought", "signature": "sig-a", "summary": [{"type": "text", "text": "First."}, {"type": "text", "text": "Second."}]}),
    ];
    steps.extend(search_steps().as_array().unwrap().iter().cloned());
    steps.push(json!({"type": "model_output", "content": [
        {"type": "text", "text": "Intro: "},
        {"type": "image", "data": "AAAA", "mime_type": "image/png"},
        {"type": "text", "text": MULTIBYTE, "annotations": [
            {"type": "url_citation", "url": "https://a.example", "title": "a.example", "start_index": 7, "end_index": 11},
            {"type": "url_citation", "url": "https://b.example", "title": "B", "start_index": 12, "end_index": 18},
            {"type": "url_citation", "url": "https://a.example", "start_index": 8, "end_index": 11},
            {"type": "file_citation", "url": "ignored"},
        ]},
    ]}));
    steps.push(json!({"id": "call-1", "type": "function_call", "name": "get_weather", "arguments": {"city": "Paris"}, "signature": "cs"}));
    steps.push(json!({"type": "function_call", "name": "no_id", "arguments": "{\"a\":1}", "signature": ""}));
    let body = Bytes::from(interaction(Value::Array(steps), "requires_action").to_string());
    let out = parse_response(body, &T.ctx()).unwrap();

    assert_eq!(out.content, format!("Intro: {MULTIBYTE}"));
    assert_eq!(out.reasoning.as_deref(), Some("First.\nSecond."));
    // The thought and the built-in tool's steps go back verbatim (native replay), the functions not.
    let kinds: Vec<&str> = out.signature.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["thought", "google_search_call", "google_search_result"]);
    assert_eq!(out.signature[0]["signature"], json!("sig-a"));
    assert_eq!(out.signature[1], search_steps()[0]);
    assert_eq!(out.tool_calls.len(), 2);
    assert_eq!(out.tool_calls[0].id, "call-1");
    assert_eq!(out.tool_calls[0].extra["signature"], json!("cs"));
    assert_eq!(out.tool_calls[1].id, "interactions-call-1");
    assert_eq!(out.tool_calls[1].arguments, json!({"a": 1}));
    assert!(out.tool_calls[1].extra.is_empty());
    let f = out.finish_reason.clone().unwrap();
    assert_eq!((f.kind, f.raw.as_str()), (FinishKind::ToolCall, "requires_action"));
    let u = &out.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.total_tokens, u.reasoning_tokens, u.cache_read_tokens),
        (Some(10), Some(30), Some(40), Some(18), Some(2))
    );
    assert_eq!(out.metadata.response_id.as_deref(), Some("v1_abc"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("gemini-2.5-flash"));

    let g = out.grounding.unwrap();
    assert_eq!(g.queries, ["hello world", "globe"]);
    assert_eq!(g.search_entry_point.as_deref(), Some("<div>s</div>"));
    assert_eq!(g.sources.len(), 2);
    // Byte offsets within the part, as characters of the whole output (the part starts at 7).
    let spans: Vec<(usize, usize, &str)> =
        g.citations.iter().map(|c| (c.start, c.end, c.cited_text.as_deref().unwrap())).collect();
    assert_eq!(spans, [(13, 14, "🌍"), (15, 20, "wörld")]);
    let chars: Vec<char> = out.content.chars().collect();
    assert_eq!(chars[13..14].iter().collect::<String>(), "🌍");
}

#[test]
fn unary_legacy_outputs_and_errors() {
    // Older servers: `outputs` with typed content items.
    let legacy = json!({"id": "x", "status": "completed", "outputs": [
        {"type": "thought", "signature": "s", "summary": [{"type": "text", "text": "hm"}]},
        {"type": "text", "text": "Hello"},
        {"type": "function_call", "id": "f", "name": "n", "arguments": {}},
    ]});
    let out = parse_response(Bytes::from(legacy.to_string()), &T.ctx()).unwrap();
    assert_eq!((out.content.as_str(), out.reasoning.as_deref()), ("Hello", Some("hm")));
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::ToolCall);
    assert!(out.usage.is_empty());

    let err = Bytes::from_static(br#"{"error":{"code":400,"message":"bad model","status":"INVALID_ARGUMENT"}}"#);
    assert!(
        matches!(parse_response(err, &T.ctx()), Err(Error::StreamEvent(e)) if e.error_type.as_deref() == Some("INVALID_ARGUMENT"))
    );
    assert!(matches!(parse_response(Bytes::from_static(b"[1"), &T.ctx()), Err(Error::Decode { .. })));
}

#[test]
fn replay_round_trip_keeps_thoughts_and_call_signatures() {
    // Built-in tool steps are native replay steps too (the reference's 1.0.0), in their place.
    let steps = json!([
        {"type": "thought", "signature": "ts"},
        {"type": "code_execution_call", "id": "x1", "arguments": {"code": "print(1)"}},
        {"type": "code_execution_result", "call_id": "x1", "result": "1"},
        {"id": "c1", "type": "function_call", "name": "get_weather", "arguments": {"city": "Paris"}, "signature": "cs"},
    ]);
    let out = parse_response(Bytes::from(interaction(steps, "requires_action").to_string()), &T.ctx()).unwrap();
    let items: Vec<Item> =
        vec![Message::user("weather?").into(), out.message().into(), ToolResult::new("c1", "sunny").into()];
    let body = build_request(&T.request(items), &T.ctx(), false).unwrap();
    assert_eq!(
        body["input"],
        json!([
            {"type": "user_input", "content": [{"type": "text", "text": "weather?"}]},
            {"type": "thought", "signature": "ts"},
            {"type": "code_execution_call", "id": "x1", "arguments": {"code": "print(1)"}},
            {"type": "code_execution_result", "call_id": "x1", "result": "1"},
            {"type": "function_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}, "signature": "cs"},
            {"type": "function_result", "call_id": "c1", "name": "get_weather", "result": [{"type": "text", "text": "sunny"}]},
        ])
    );
}

// ---------------------------------------------------------------------------------------------------
// Streams

fn start(index: u64, step: Value) -> Vec<u8> {
    ev(json!({"index": index, "step": step, "event_type": "step.start"}))
}

fn delta(index: u64, delta: Value) -> Vec<u8> {
    ev(json!({"index": index, "delta": delta, "event_type": "step.delta"}))
}

fn stop(index: u64) -> Vec<u8> {
    ev(json!({"index": index, "event_type": "step.stop"}))
}

fn completed(status: &str) -> Vec<u8> {
    let mut i = interaction(Value::Null, status);
    i.as_object_mut().unwrap().remove("steps");
    ev(json!({"interaction": i, "event_type": "interaction.completed"}))
}

fn stream_events() -> Vec<Vec<u8>> {
    vec![
        ev(
            json!({"interaction": {"id": "v1_abc", "status": "in_progress", "model": "gemini-2.5-flash"}, "event_type": "interaction.created"}),
        ),
        ev(json!({"interaction_id": "v1_abc", "status": "in_progress", "event_type": "interaction.status_update"})),
        start(0, json!({"type": "thought"})),
        delta(0, json!({"type": "thought_summary", "content": {"type": "text", "text": "Think"}})),
        delta(0, json!({"type": "thought_summary", "content": {"type": "text", "text": "ing."}})),
        delta(0, json!({"type": "thought_signature", "signature": "sig-"})),
        delta(0, json!({"type": "thought_signature", "signature": "a"})),
        stop(0),
        start(1, json!({"type": "google_search_call", "id": "s1"})),
        delta(1, json!({"type": "google_search_call", "arguments": {"queries": ["globe"]}, "signature": "gs"})),
        stop(1),
        start(2, json!({"type": "google_search_result", "call_id": "s1"})),
        delta(2, json!({"type": "google_search_result", "result": [{"search_suggestions": "<div>s</div>"}]})),
        stop(2),
        start(3, json!({"type": "model_output"})),
        delta(3, json!({"type": "text", "text": "héllo 🌍"})),
        delta(3, json!({"type": "text", "text": " wörld"})),
        delta(
            3,
            json!({"type": "text_annotation_delta", "annotations": [
            {"type": "url_citation", "url": "https://a.example", "title": "A", "start_index": 7, "end_index": 11}]}),
        ),
        stop(3),
        start(4, json!({"id": "c1", "signature": "", "type": "function_call", "name": "get_weather", "arguments": {}})),
        delta(4, json!({"type": "arguments_delta", "arguments": "{\"city\":"})),
        delta(4, json!({"type": "arguments_delta", "partial_arguments": "\"Paris\"}"})),
        delta(4, json!({"type": "thought_signature", "signature": "cs"})),
        stop(4),
        // Never stopped: dropped.
        start(5, json!({"id": "c2", "type": "function_call", "name": "lost", "arguments": {}})),
        completed("requires_action"),
    ]
}

#[test]
fn stream_rebuilds_steps_text_reasoning_calls_grounding_and_usage() {
    let mut dec = InteractionsDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &stream_events());
    let out = out.unwrap();
    assert_eq!(streamed_text(&chunks), MULTIBYTE);
    assert_eq!(out.content, MULTIBYTE);
    let reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(reasoning, "Thinking.");
    assert_eq!(out.reasoning.as_deref(), Some("Thinking."));
    assert_eq!(
        out.signature,
        vec![
            json!({"type": "thought", "summary": [{"type": "text", "text": "Thinking."}], "signature": "sig-a"}),
            json!({"type": "google_search_call", "id": "s1", "arguments": {"queries": ["globe"]}, "signature": "gs"}),
            json!({"type": "google_search_result", "call_id": "s1", "result": [{"search_suggestions": "<div>s</div>"}]}),
        ]
    );

    assert_eq!(out.tool_calls.len(), 1);
    let call = &out.tool_calls[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("c1", "get_weather"));
    assert_eq!(call.arguments, json!({"city": "Paris"}));
    assert_eq!(call.extra["signature"], json!("cs"));
    let args: String = chunks
        .iter()
        .filter_map(|c| c.tool_call.as_ref())
        .filter(|d| d.index == 0)
        .map(|d| d.arguments.as_str())
        .collect();
    assert_eq!(args, r#"{"city":"Paris"}"#);

    let activity: Vec<(String, ToolActivityStatus)> =
        chunks.iter().filter_map(|c| c.tool_activity.clone()).map(|a| (a.tool_name, a.status)).collect();
    assert_eq!(
        activity,
        [
            ("google_search".to_string(), ToolActivityStatus::Started),
            ("google_search".to_string(), ToolActivityStatus::Completed)
        ]
    );

    let g = out.grounding.unwrap();
    assert_eq!(g.queries, ["globe"]);
    assert_eq!(g.search_entry_point.as_deref(), Some("<div>s</div>"));
    assert_eq!(g.citations.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>(), [(6, 7)]);

    let last = chunks.last().unwrap();
    assert_eq!(last.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
    assert_eq!(last.usage.as_ref().unwrap().output_tokens, Some(30));
    assert_eq!(out.usage.total_tokens, Some(40));
    assert_eq!(out.metadata.response_id.as_deref(), Some("v1_abc"));
    assert_eq!(out.metadata.raw_json().unwrap()["status"], json!("requires_action"));
}

#[test]
fn stream_without_steps_takes_them_from_the_completed_interaction() {
    let i = interaction(json!([{"type": "model_output", "content": [{"type": "text", "text": "whole"}]}]), "completed");
    let mut dec = InteractionsDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &[ev(json!({"interaction": i, "event_type": "interaction.completed"}))]);
    assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), "whole");
    assert_eq!(out.unwrap().content, "whole");
}

#[test]
fn stream_errors_and_truncation() {
    let events = vec![
        start(0, json!({"type": "model_output"})),
        delta(0, json!({"type": "text", "text": "partial"})),
        ev(json!({"event_type": "error", "error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})),
        delta(0, json!({"type": "text", "text": "never"})),
    ];
    let mut dec = InteractionsDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &events);
    assert_eq!(chunks.len(), 1);
    let e = event_error(out);
    assert_eq!(message_and_type(&e), ("quota", Some("RESOURCE_EXHAUSTED")));
    assert_eq!(e.origin, Origin::Provider(Provider::Google));

    let mut dec = InteractionsDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &stream_events()[..10]);
    assert!(matches!(out, Err(Error::StreamTruncated { .. })), "{out:?}");

    let mut dec = InteractionsDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &[b"{oops".to_vec()]);
    assert!(matches!(out, Err(Error::Decode { .. })), "{out:?}");

    // Unknown events and unknown deltas are ignored; a stray stop is harmless.
    let mut dec = InteractionsDecoder::new(T.ctx());
    let events = vec![
        ev(json!({"event_type": "interaction.something_new", "x": 1})),
        stop(7),
        start(0, json!({"type": "model_output"})),
        delta(0, json!({"type": "image", "data": "AAAA"})),
        delta(0, json!({"type": "text", "text": "ok"})),
        stop(0),
        completed("completed"),
    ];
    let (_, out) = decode_all(&mut dec, &events);
    let out = out.unwrap();
    assert_eq!(out.content, "ok");
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Stop);
}

// ---------------------------------------------------------------------------------------------------
// Conformance over the real recordings

/// What a unary interaction says, read with `serde_json::Value`.
fn expected_text(steps: &Value) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    for s in steps.as_array().into_iter().flatten() {
        match s["type"].as_str() {
            Some("model_output") => {
                for c in s["content"].as_array().into_iter().flatten() {
                    text.push_str(c["text"].as_str().unwrap_or_default());
                }
            }
            Some("function_call") => calls.push(s.clone()),
            _ => {}
        }
    }
    (text, calls)
}

fn check_usage(name: &str, out: &Output<String>, usage: &Value) {
    assert_eq!(out.usage.input_tokens, usage["total_input_tokens"].as_u64(), "{name}");
    assert_eq!(out.usage.total_tokens, usage["total_tokens"].as_u64(), "{name}");
    assert_eq!(out.usage.reasoning_tokens, usage["total_thought_tokens"].as_u64(), "{name}");
    let output = usage["total_output_tokens"].as_u64().unwrap() + usage["total_thought_tokens"].as_u64().unwrap();
    assert_eq!(out.usage.output_tokens, Some(output), "{name}");
    assert_eq!(out.usage.total_tokens, Some(out.usage.input_tokens.unwrap() + output), "{name}");
    assert!(out.usage.raw.is_some(), "{name}");
}

#[test]
fn recorded_interactions_conform() {
    conform("google-interactions", 7, crate::wire::WireApi::GeminiInteractions, T, |name, replay| {
        if let Replay::Stream { out, values, .. } = replay {
            let mut text = String::new();
            let mut thought_signatures = 0;
            let mut calls: Vec<(String, String)> = Vec::new();
            for v in &values {
                let d = &v["delta"];
                match d["type"].as_str() {
                    Some("text") => text.push_str(d["text"].as_str().unwrap()),
                    Some("thought_signature") => thought_signatures += 1,
                    Some("arguments_delta") => calls.last_mut().unwrap().1.push_str(d["arguments"].as_str().unwrap()),
                    _ => {}
                }
                if v["step"]["type"] == json!("function_call") {
                    calls.push((v["step"]["name"].as_str().unwrap().to_string(), String::new()));
                }
            }
            let last = values.last().unwrap();
            assert_eq!(out.content, text, "{name}");
            assert_eq!(out.signature.len(), thought_signatures, "{name}");
            assert!(
                out.signature.iter().all(|s| s["type"] == json!("thought") && s["signature"].is_string()),
                "{name}"
            );
            assert_eq!(out.tool_calls.len(), calls.len(), "{name}");
            for (call, (n, args)) in out.tool_calls.iter().zip(&calls) {
                assert_eq!(&call.name, n, "{name}");
                assert_eq!(call.arguments, serde_json::from_str::<Value>(args).unwrap(), "{name}");
            }
            let status = last["interaction"]["status"].as_str().unwrap();
            assert_eq!(out.finish_reason.as_ref().unwrap().raw, status, "{name}");
            check_usage(name, &out, &last["interaction"]["usage"]);
            assert_eq!(out.metadata.response_id.as_deref(), last["interaction"]["id"].as_str(), "{name}");
        } else if let Replay::Unary { out, value: v } = replay {
            let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
            let (text, calls) = expected_text(&v["steps"]);
            assert_eq!(out.content, text, "{name}");
            assert_eq!(out.tool_calls.len(), calls.len(), "{name}");
            for (call, wire) in out.tool_calls.iter().zip(&calls) {
                assert_eq!(call.id, wire["id"].as_str().unwrap(), "{name}");
                assert_eq!(call.arguments, wire["arguments"], "{name}");
            }
            let thoughts: Vec<&Value> =
                v["steps"].as_array().unwrap().iter().filter(|s| s["type"] == json!("thought")).collect();
            assert_eq!(out.signature.iter().collect::<Vec<_>>(), thoughts, "{name}");
            assert_eq!(out.finish_reason.as_ref().unwrap().raw, v["status"].as_str().unwrap(), "{name}");
            if v["status"] == json!("requires_action") {
                assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall, "{name}");
            }
            check_usage(name, &out, &v["usage"]);
            assert_eq!(out.metadata.response_model.as_deref(), v["model"].as_str(), "{name}");
        }
        true
    });
}
