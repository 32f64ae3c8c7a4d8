use super::*;
use crate::error::Origin;
use crate::testing::{decode_all, recorded_dir};
use crate::text::TextParams;
use crate::types::artifact::Artifact;
use crate::types::enums::Provider;
use crate::types::message::{Message, ToolResult};
use crate::types::tool::{FunctionTool, ToolCallDelta, WebSearch};
use crate::wire::testkit::streamed_text;
use crate::wire::testkit::{Setup, ev, event_error, message_and_type};

/// The call these tests make.
const T: Setup = Setup::new(Origin::Provider(Provider::OpenAi), "gpt-5-mini");

#[test]
fn every_parameter_maps_to_its_field_and_none_omits_it() {
    let bare = build_request(&T.request(vec![Message::user("hi").into()]), &T.ctx(), false).unwrap();
    // Compared as a set: key order depends on serde_json's `preserve_order`, which another crate in
    // the build may turn on.
    let mut keys: Vec<&String> = bare.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["input", "model"]);

    let mut req = T.request(vec![Message::user("hi").into()]);
    req.params = TextParams {
        temperature: Some(0.5),
        max_tokens: Some(100),
        top_p: Some(0.9),
        thinking_level: Some("low".into()),
        verbosity: Some("high".into()),
        ..TextParams::default()
    };
    let body = build_request(&req, &T.ctx(), true).unwrap();
    assert_eq!(body["temperature"], json!(0.5));
    assert_eq!(body["max_output_tokens"], json!(100));
    assert_eq!(body["top_p"], json!(0.9));
    assert_eq!(body["reasoning"], json!({"effort": "low", "summary": "auto"}));
    assert_eq!(body["text"], json!({"verbosity": "high"}));
    assert_eq!(body["stream"], json!(true));
    assert_eq!(
        body["input"],
        json!([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}])
    );
}

#[test]
fn tools_and_tool_choice_shapes() {
    let mut req = T.request(vec![Message::user("hi").into()]);
    req.tools = vec![
        FunctionTool::new("get_weather", "Weather", json!({"type": "object"})).into(),
        WebSearch::new().allowed_domains(["example.com"]).into(),
        Tool::XSearch,
        Tool::CodeExecution,
    ];
    req.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    let body = build_request(&req, &T.ctx(), false).unwrap();
    assert_eq!(
        body["tools"],
        json!([
            {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": false},
            {"type": "web_search", "filters": {"allowed_domains": ["example.com"]}},
            {"type": "x_search"},
            {"type": "code_execution"},
        ])
    );
    assert_eq!(body["tool_choice"], json!({"type": "function", "name": "get_weather"}));
    let xai = WireContext {
        origin: Origin::Provider(crate::types::enums::Provider::XAi),
        model: "grok-4".into(),
        operation: crate::types::enums::Operation::Generate,
    };
    assert_eq!(build_request(&req, &xai, false).unwrap()["tools"][3], json!({"type": "code_interpreter"}));
    for (choice, wire) in [(ToolChoice::Auto, "auto"), (ToolChoice::Required, "required"), (ToolChoice::None, "none")] {
        assert_eq!(tool_choice(&choice, &req, &T.ctx()).unwrap(), json!(wire));
    }
    req.tools = vec![Tool::UrlContext];
    let err = build_request(&req, &T.ctx(), false).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
}

/// The reference's 1.0.0: OpenAI forces its web search with an `allowed_tools` choice; any other
/// built-in tool, or web search on another server, is refused before any request.
#[test]
fn web_search_as_tool_choice_is_allowed_tools_on_openai_only() {
    let mut req = T.request(vec![Message::user("news?").into()]);
    req.tools = vec![WebSearch::new().into()];
    req.tool_choice = Some(ToolChoice::Tool("web_search".into()));
    let body = build_request(&req, &T.ctx(), false).unwrap();
    assert_eq!(
        body["tool_choice"],
        json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "web_search"}]})
    );
    assert_eq!(body["tools"], json!([{"type": "web_search"}]));
    let xai = Setup::new(Origin::Provider(Provider::XAi), "grok-4");
    let err = build_request(&req, &xai.ctx(), false).unwrap_err();
    assert!(err.to_string().contains("(`web_search`) as tool_choice"), "{err}");
    req.tools = vec![Tool::CodeExecution];
    req.tool_choice = Some(ToolChoice::Tool("code_execution".into()));
    assert!(matches!(build_request(&req, &T.ctx(), false).unwrap_err(), Error::Unsupported(_)));
    // A function of that name is a function.
    req.tools =
        vec![FunctionTool::new("web_search", "mine", json!({"type": "object"})).into(), WebSearch::new().into()];
    req.tool_choice = Some(ToolChoice::Tool("web_search".into()));
    let body = build_request(&req, &T.ctx(), false).unwrap();
    assert_eq!(body["tool_choice"], json!({"type": "function", "name": "web_search"}));
}

#[test]
fn multi_turn_with_tool_calls_results_and_reasoning_replay() {
    let reasoning_item = json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "abc"});
    let mut assistant =
        Message::assistant("").with_tool_calls(vec![ToolCall::new("call_1", "get_weather", json!({"city": "Paris"}))]);
    assistant.content.clear();
    assistant.signature = vec![reasoning_item.clone()];
    let items = vec![
        Message::system("be brief").into(),
        Message::user("weather?").into(),
        assistant.into(),
        ToolResult::new("call_1", json!({"temp": 21})).into(),
    ];
    let body = build_request(&T.request(items), &T.ctx(), false).unwrap();
    assert_eq!(
        body["input"],
        json!([
            {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "be brief"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
            reasoning_item,
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "{\"temp\":21}"},
        ])
    );
}

#[test]
fn assistant_turns_replay_as_plain_text() {
    let items = vec![
        Message::user("hi").into(),
        Message::assistant("Hello!").with_part(Part::text(" How can I help?")).into(),
        Message::assistant("").with_tool_calls(vec![ToolCall::new("call_1", "f", json!({}))]).into(),
    ];
    let body = build_request(&T.request(items), &T.ctx(), false).unwrap();
    assert_eq!(
        body["input"],
        json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "message", "role": "assistant", "content": "Hello! How can I help?"},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        ])
    );
}

#[test]
fn media_parts_and_unsupported_parts() {
    let m = Message::user("describe")
        .with_part(Part::image(Artifact::from_url("https://x/cat.png")))
        .with_part(Part::document(Artifact::from_url("https://x/a.pdf")));
    let body = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(
        body["input"][0]["content"][1],
        json!({"type": "input_image", "image_url": "https://x/cat.png", "detail": "auto"})
    );
    assert_eq!(body["input"][0]["content"][2], json!({"type": "input_file", "file_url": "https://x/a.pdf"}));

    let m = Message::user("listen").with_part(Part::audio(Artifact::from_url("https://x/a.mp3")));
    let err = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap_err();
    assert!(err.to_string().contains("audio content parts"), "{err}");
    assert_eq!(err.provider(), Some(Provider::OpenAi));
}

const UNARY: &str = r#"{
  "id": "resp_1", "object": "response", "model": "gpt-5-mini-2025-08-07", "status": "completed",
  "output": [
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Think A"}, {"type": "summary_text", "text": "Think B"}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello, world.",
      "annotations": [{"type": "url_citation", "url": "https://example.com/a", "title": "A", "start_index": 0, "end_index": 5}]}]},
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup", "arguments": "{\"q\":\"x\"}"}
  ],
  "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30,
            "input_tokens_details": {"cached_tokens": 4}, "output_tokens_details": {"reasoning_tokens": 7}}
}"#;

#[test]
fn unary_response_decodes_everything() {
    let out = parse_response(Bytes::from_static(UNARY.as_bytes()), &T.ctx()).unwrap();
    assert_eq!(out.content, "Hello, world.");
    assert_eq!(out.reasoning.as_deref(), Some("Think A\nThink B"));
    assert_eq!(out.signature.len(), 1);
    assert_eq!(out.tool_calls, vec![ToolCall::new("call_1", "lookup", json!({"q": "x"}))]);
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ToolCall));
    assert_eq!(out.finish_reason.as_ref().map(|f| f.raw.as_str()), Some("completed"));
    let u = &out.usage;
    assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (Some(10), Some(20), Some(30)));
    assert_eq!((u.cache_read_tokens, u.reasoning_tokens), (Some(4), Some(7)));
    assert!(u.raw.is_some());
    assert_eq!(out.metadata.response_id.as_deref(), Some("resp_1"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("gpt-5-mini-2025-08-07"));
    let g = out.grounding.unwrap();
    assert_eq!(g.sources[0].domain.as_deref(), Some("example.com"));
    assert_eq!((g.citations[0].start, g.citations[0].end), (0, 5));
    // The next turn replays the reasoning item and the call.
    let m = parse_response(Bytes::from_static(UNARY.as_bytes()), &T.ctx()).unwrap().message();
    assert_eq!(m.signature.len(), 1);
    assert_eq!(m.tool_calls.len(), 1);
}

#[test]
fn unary_incomplete_failed_and_garbage() {
    let body = r#"{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}"#;
    let out = parse_response(Bytes::from(body), &T.ctx()).unwrap();
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Length);
    assert_eq!(out.usage, Usage::default());

    let body = r#"{"status":"failed","error":{"code":"server_error","message":"boom"},"output":[]}"#;
    let err = parse_response(Bytes::from(body), &T.ctx()).unwrap_err();
    assert!(matches!(&err, Error::StreamEvent(e) if e.message == "boom"), "{err}");

    let err = parse_response(Bytes::from_static(b"<html>oops</html>"), &T.ctx()).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

fn stream_events() -> Vec<Vec<u8>> {
    vec![
        ev(
            json!({"type": "response.created", "response": {"id": "resp_2", "model": "gpt-5-mini", "status": "in_progress", "output": []}}),
        ),
        ev(
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1", "summary": []}}),
        ),
        ev(json!({"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "Let me "})),
        ev(json!({"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "think."})),
        ev(
            json!({"type": "response.output_item.done", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Let me think."}]}}),
        ),
        ev(
            json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "message", "role": "assistant", "content": []}}),
        ),
        ev(json!({"type": "response.output_text.delta", "output_index": 1, "delta": "Hel"})),
        ev(json!({"type": "response.output_text.delta", "output_index": 1, "delta": "lo"})),
        ev(
            json!({"type": "response.output_item.added", "output_index": 2, "item": {"type": "function_call", "call_id": "call_9", "name": "lookup", "arguments": ""}}),
        ),
        ev(json!({"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{\"q\":"})),
        ev(json!({"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "\"x\"}"})),
        ev(
            json!({"type": "response.output_item.done", "output_index": 2, "item": {"type": "function_call", "call_id": "call_9", "name": "lookup", "arguments": "{\"q\":\"x\"}"}}),
        ),
        ev(
            json!({"type": "response.completed", "response": {"id": "resp_2", "model": "gpt-5-mini-2025-08-07", "status": "completed",
            "usage": {"input_tokens": 5, "output_tokens": 6, "total_tokens": 11}}}),
        ),
    ]
}

#[test]
fn stream_decodes_text_reasoning_tool_calls_and_usage() {
    let mut dec = ResponsesDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &stream_events());
    let out = out.unwrap();
    assert_eq!(streamed_text(&chunks), "Hello");
    let deltas: Vec<&ToolCallDelta> = chunks.iter().filter_map(|c| c.tool_call.as_ref()).collect();
    assert_eq!(deltas[0].id.as_deref(), Some("call_9"));
    assert_eq!(deltas.iter().map(|d| d.arguments.as_str()).collect::<String>(), "{\"q\":\"x\"}");
    assert_eq!(out.content, "Hello");
    assert_eq!(out.reasoning.as_deref(), Some("Let me think."));
    assert_eq!(out.signature.len(), 1);
    assert_eq!(out.tool_calls, vec![ToolCall::new("call_9", "lookup", json!({"q": "x"}))]);
    assert_eq!(out.usage.total_tokens, Some(11));
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::ToolCall);
    assert_eq!(out.metadata.response_model.as_deref(), Some("gpt-5-mini-2025-08-07"));
    let last = chunks.last().unwrap();
    assert_eq!(last.usage.as_ref().and_then(|u| u.output_tokens), Some(6));
}

/// The reasoning of `UNARY` as a stream sends it: two summary parts, each closed by its own
/// `reasoning_summary_part.done`, then the same response as `response.completed`.
#[test]
fn reasoning_in_parts_reads_the_same_streamed_and_unary() {
    let unary: Value = serde_json::from_str(UNARY).unwrap();
    let mut events = vec![ev(
        json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1", "summary": []}}),
    )];
    for (i, part) in ["Think A", "Think B"].into_iter().enumerate() {
        events
            .push(ev(json!({"type": "response.reasoning_summary_part.added", "output_index": 0, "summary_index": i})));
        events.push(ev(json!({"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": part})));
        events.push(ev(json!({"type": "response.reasoning_summary_part.done", "output_index": 0, "summary_index": i})));
    }
    events.push(ev(json!({"type": "response.output_item.done", "output_index": 0, "item": unary["output"][0]})));
    events.push(ev(json!({"type": "response.completed", "response": unary})));
    let mut dec = ResponsesDecoder::new(T.ctx());
    let (chunks, streamed) = decode_all(&mut dec, &events);
    let streamed = streamed.unwrap();
    let unary = parse_response(Bytes::from_static(UNARY.as_bytes()), &T.ctx()).unwrap();
    assert_eq!(unary.reasoning.as_deref(), Some("Think A\nThink B"));
    assert_eq!(streamed.reasoning, unary.reasoning);
    // The chunks carry the separator too, so that they add up to the same text.
    let deltas: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(Some(deltas), unary.reasoning);
}

#[test]
fn stream_without_completion_is_truncated() {
    let mut events = stream_events();
    events.pop();
    let mut dec = ResponsesDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &events);
    assert!(matches!(out, Err(Error::StreamTruncated { .. })), "{out:?}");
}

#[test]
fn stream_error_event_is_typed_and_keeps_earlier_chunks() {
    let events = vec![
        ev(json!({"type": "response.output_text.delta", "output_index": 0, "delta": "partial"})),
        ev(json!({"type": "error", "code": "server_error", "message": "The server had an error"})),
    ];
    let mut dec = ResponsesDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &events);
    assert_eq!(chunks.len(), 1);
    let e = event_error(out);
    assert_eq!(message_and_type(&e), ("The server had an error", Some("server_error")));
    let mut dec = ResponsesDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &[b"{not json".to_vec()]);
    assert!(matches!(out, Err(Error::Decode { .. })));
}

/// Conformance over the real recordings (when `../shared` is beside the checkout): every Responses
/// stream decodes, and its aggregated text and usage equal the terminal response's.
#[test]
fn recorded_responses_streams_conform() {
    let Some(dir) = recorded_dir() else {
        eprintln!("recorded fixtures not found; skipping");
        return;
    };
    let mut checked = 0;
    for name in [
        "openai-responses/openai-reasoning-encrypted-content.1.chunks.txt",
        "openai-responses/openai-web-search-tool.1.chunks.txt",
        "openai-responses/openai-code-interpreter-tool.1.chunks.txt",
        "openai-responses/openai-custom-tool.1.chunks.txt",
        "openai-responses/openai-error.1.chunks.txt",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        // Some recordings hold several responses back to back (agent steps): decode each.
        let mut segments: Vec<Vec<Vec<u8>>> = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if line.contains("\"type\":\"response.created\"") || segments.is_empty() {
                segments.push(Vec::new());
            }
            segments.last_mut().unwrap().push(line.as_bytes().to_vec());
        }
        for seg in segments {
            let mut dec = ResponsesDecoder::new(T.ctx());
            let (chunks, out) = decode_all(&mut dec, &seg);
            let last: Value = serde_json::from_slice(seg.last().unwrap()).unwrap();
            if name.contains("error") {
                assert!(
                    matches!(out, Err(Error::StreamEvent(ref e)) if e.error_type.as_deref() == Some("insufficient_quota")),
                    "{name}: {out:?}"
                );
                checked += 1;
                continue;
            }
            let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected: String = last["response"]["output"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["type"] == "message")
                .flat_map(|i| i["content"].as_array().unwrap().iter())
                .filter_map(|c| c["text"].as_str())
                .collect();
            assert_eq!(out.content, expected, "{name}");
            assert_eq!(streamed_text(&chunks), expected, "{name}");
            assert_eq!(out.usage.total_tokens, last["response"]["usage"]["total_tokens"].as_u64(), "{name}");
            let calls =
                last["response"]["output"].as_array().unwrap().iter().filter(|i| i["type"] == "function_call").count();
            assert_eq!(out.tool_calls.len(), calls, "{name}");
            for call in &out.tool_calls {
                assert!(call.arguments.is_object(), "{name}: {call:?}");
            }
            checked += 1;
        }
    }
    println!("openresponses conformance: checked {checked} recorded responses");
    assert!(checked >= 8, "{checked}");
}

/// Newer item and event types take shapes this library does not read (a `tool_search_call`'s
/// `arguments` is an object, a shell output delta's `delta` is an object): they neither fail the call
/// nor add anything, and the items stay in the raw response.
#[test]
fn unknown_and_reshaped_items_and_events_do_not_fail_the_call() {
    let tool_search = json!({"type": "tool_search_call", "id": "ts_1", "status": "completed", "arguments": {}});
    let shell = json!({"type": "shell_call", "id": "sh_1", "action": {"commands": ["ls"]}, "status": "completed"});
    let message =
        json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Found it."}]});
    let response = json!({"id": "resp_n", "model": "gpt-5.5", "status": "completed",
        "output": [tool_search, shell, message, 7, {"type": {"nested": true}}],
        "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}});

    let unary = parse_response(Bytes::from(response.to_string()), &T.ctx()).unwrap();
    assert_eq!(unary.content, "Found it.");
    assert_eq!(unary.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop));
    assert_eq!(unary.metadata.raw_json().unwrap()["output"][0]["arguments"], json!({}));

    let events = vec![
        ev(json!({"type": "response.created", "response": {"id": "resp_n", "status": "in_progress", "output": []}})),
        ev(json!({"type": "response.output_item.added", "output_index": 0, "item": tool_search})),
        ev(json!({"type": "response.output_item.done", "output_index": 0, "item": tool_search})),
        ev(json!({"type": "response.output_item.added", "output_index": 1, "item": shell})),
        ev(json!({"type": "response.shell_call_output_content.delta", "output_index": 1,
            "delta": {"stdout": "a.txt\n", "stderr": ""}})),
        ev(json!({"type": "response.output_item.done", "output_index": 1, "item": shell})),
        ev(json!({"type": "response.output_text.delta", "output_index": 2, "delta": "Found "})),
        // A known event whose delta has another shape adds nothing.
        ev(json!({"type": "response.output_text.delta", "output_index": 2, "delta": {"text": "?"}})),
        ev(json!({"type": "response.output_text.delta", "output_index": "2", "delta": "it."})),
        ev(json!({"type": "response.output_item.done", "output_index": 2, "item": message})),
        ev(json!({"type": "response.something_new", "payload": [1, 2, 3], "code": 5})),
        ev(json!({"no_type": true})),
        ev(json!({"type": "response.completed", "response": response})),
    ];
    let (chunks, streamed) = decode_all(&mut ResponsesDecoder::new(T.ctx()), &events);
    let streamed = streamed.unwrap();
    assert_eq!(streamed.content, "Found it.");
    assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), "Found it.");
    let activity: Vec<(String, ToolActivityStatus)> =
        chunks.iter().filter_map(|c| c.tool_activity.as_ref()).map(|a| (a.tool_name.clone(), a.status)).collect();
    assert_eq!(
        activity,
        [
            ("tool_search".to_string(), ToolActivityStatus::Started),
            ("tool_search".to_string(), ToolActivityStatus::Completed),
            ("shell".to_string(), ToolActivityStatus::Started),
            ("shell".to_string(), ToolActivityStatus::Completed),
        ]
    );
    let raw = streamed.metadata.raw_json().unwrap();
    assert_eq!(raw["output"][0]["type"], json!("tool_search_call"));
    assert_eq!(raw["output"][1]["type"], json!("shell_call"));
    assert_eq!(streamed.usage.total_tokens, Some(7));
    // Still a decode error: an event that is not JSON at all.
    let (_, out) = decode_all(&mut ResponsesDecoder::new(T.ctx()), &[b"[1,".to_vec()]);
    assert!(matches!(out, Err(Error::Decode { .. })), "{out:?}");
}

/// A refusal is the reply's content, and the finish reason says so (the raw status is kept).
#[test]
fn refusals_are_the_content_with_a_content_filter_finish() {
    let refusal = json!({"type": "message", "role": "assistant", "content": [
        {"type": "refusal", "refusal": "I can't help with that."}]});
    let response = json!({"id": "resp_r", "status": "completed", "output": [refusal],
        "usage": {"input_tokens": 3, "output_tokens": 6, "total_tokens": 9}});
    let unary = parse_response(Bytes::from(response.to_string()), &T.ctx()).unwrap();
    assert_eq!(unary.content, "I can't help with that.");
    let finish = unary.finish_reason.unwrap();
    assert_eq!((finish.kind, finish.raw.as_str()), (FinishKind::ContentFilter, "completed"));

    let events = vec![
        ev(json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "role": "assistant", "content": []}})),
        ev(json!({"type": "response.refusal.delta", "output_index": 0, "content_index": 0, "delta": "I can't "})),
        ev(
            json!({"type": "response.refusal.delta", "output_index": 0, "content_index": 0, "delta": "help with that."}),
        ),
        ev(json!({"type": "response.refusal.done", "output_index": 0, "content_index": 0,
            "refusal": "I can't help with that."})),
        ev(json!({"type": "response.output_item.done", "output_index": 0, "item": refusal})),
        ev(json!({"type": "response.completed", "response": response})),
    ];
    let (chunks, streamed) = decode_all(&mut ResponsesDecoder::new(T.ctx()), &events);
    let streamed = streamed.unwrap();
    assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), "I can't help with that.");
    assert_eq!(streamed.content, "I can't help with that.");
    assert_eq!(streamed.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ContentFilter));
    assert_eq!(chunks.last().unwrap().finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ContentFilter));
}

/// Meta: a web search asks for its results, and every result is a grounding source (the reference's
/// 1.0.0 behaviour), beside the `url_citation` annotations.
#[test]
fn meta_asks_for_web_search_results_and_grounds_on_them() {
    let meta = WireContext {
        origin: Origin::Provider(crate::types::enums::Provider::Meta),
        model: "muse-spark-1.3".into(),
        operation: crate::types::enums::Operation::Generate,
    };
    let mut req = T.request(vec![Message::user("news?").into()]);
    req.tools = vec![crate::types::tool::WebSearch::new().into()];
    let body = build_request(&req, &meta, false).unwrap();
    assert_eq!(body["include"], json!(["web_search_call.results"]));
    // Not for OpenAI, whose results come in annotations.
    assert!(build_request(&req, &T.ctx(), false).unwrap().get("include").is_none());

    let reply = json!({
        "id": "r1", "status": "completed", "model": "muse-spark-1.3",
        "output": [
            {"type": "web_search_call", "status": "completed", "results": [
                {"url": "https://a.example/x", "title": "A"},
                {"url": "https://b.example/y", "title": "B"},
                {"url": "https://a.example/x", "title": "A again"}
            ]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "News.", "annotations": [
                {"type": "url_citation", "url": "https://b.example/y", "title": "B", "start_index": 0, "end_index": 5}
            ]}]}
        ]
    });
    let out = parse_response(bytes::Bytes::from(reply.to_string()), &meta).unwrap();
    let g = out.grounding.unwrap();
    let urls: Vec<&str> = g.sources.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls, ["https://a.example/x", "https://b.example/y"], "one source per URL");
    assert_eq!(g.citations.len(), 1);
}
