use super::*;
use crate::testing::decode_all;
use crate::text::TextParams;
use crate::types::artifact::Artifact;
use crate::types::enums::Protocol;
use crate::types::message::ToolResult;
use crate::types::tool::{FunctionTool, ToolCall, ToolCallDelta, WebSearch};
use crate::types::usage::FinishKind;
use crate::wire::testkit::{
    Recorded, Setup, around, around_messages, ev, event_error, keys, message_and_type, recordings, sorted,
};
use crate::wire::testkit::{assert_openai_calls, assert_reply, streamed_text};

/// The call these tests make.
const T: Setup = Setup::new(Origin::Protocol(Protocol::ChatCompletions), "some-model");

fn provider(p: Provider) -> WireContext {
    Setup { origin: Origin::Provider(p), ..T }.ctx()
}

fn protocol() -> WireContext {
    T.ctx()
}

// ---------------------------------------------------------------------------------------------------
// Request contracts

#[test]
fn every_parameter_maps_to_its_field_and_none_omits_it() {
    let bare = build_request(&T.user("hi"), &protocol(), false).unwrap();
    assert_eq!(keys(&bare), ["messages", "model"]);
    assert_eq!(bare["model"], json!("some-model"));
    assert_eq!(bare["messages"], json!([{"role": "user", "content": "hi"}]));

    // The plain fields (and the parameters this API drops) are held to the table by
    // `params::every_parameter_reaches_the_wire_or_is_reported`; these are the module's own.
    let cases: Vec<(TextParams, &str, Value)> = vec![
        (TextParams { max_tokens: Some(100), ..TextParams::default() }, "max_tokens", json!(100)),
        (TextParams { seed: Some(7), ..TextParams::default() }, "seed", json!(7)),
        (TextParams { thinking_level: Some("low".into()), ..TextParams::default() }, "reasoning_effort", json!("low")),
    ];
    for (params, field, value) in cases {
        let body = build_request(&T.with_params(params), &protocol(), false).unwrap();
        assert_eq!(keys(&body), sorted(vec!["messages", "model", field]), "{field}");
        assert_eq!(body[field], value, "{field}");
    }
}

#[test]
fn field_names_follow_the_provider_quirks() {
    let params = TextParams { max_tokens: Some(64), seed: Some(3), ..TextParams::default() };
    let cases = [
        (protocol(), "max_tokens", "seed"),
        (provider(Provider::Groq), "max_tokens", "seed"),
        (provider(Provider::DeepSeek), "max_tokens", "seed"),
        (provider(Provider::HuggingFace), "max_tokens", "seed"),
        (provider(Provider::Moonshot), "max_completion_tokens", "seed"),
        (provider(Provider::Mistral), "max_tokens", "random_seed"),
    ];
    for (ctx, max_field, seed_field) in cases {
        let body = build_request(&T.with_params(params.clone()), &ctx, false).unwrap();
        assert_eq!(keys(&body), sorted(vec!["messages", "model", max_field, seed_field]), "{}", ctx.origin);
        assert_eq!(body[max_field], json!(64));
        assert_eq!(body[seed_field], json!(3));
    }
}

#[test]
fn streaming_asks_for_usage_except_where_the_field_is_rejected() {
    for (ctx, options) in [
        (protocol(), true),
        (provider(Provider::Groq), true),
        (provider(Provider::Moonshot), true),
        (provider(Provider::DeepSeek), true),
        (provider(Provider::HuggingFace), true),
        (provider(Provider::Mistral), false),
    ] {
        let body = build_request(&T.user("hi"), &ctx, true).unwrap();
        assert_eq!(body["stream"], json!(true), "{}", ctx.origin);
        if options {
            assert_eq!(body["stream_options"], json!({"include_usage": true}), "{}", ctx.origin);
        } else {
            assert!(body.get("stream_options").is_none(), "{}", ctx.origin);
        }
        let unary = build_request(&T.user("hi"), &ctx, false).unwrap();
        assert!(unary.get("stream").is_none() && unary.get("stream_options").is_none());
    }
}

#[test]
fn deepseek_sends_reasoning_effort_as_thinking() {
    let effort = |e: &str| TextParams { thinking_level: Some(e.into()), ..TextParams::default() };
    let ds = provider(Provider::DeepSeek);
    let body = build_request(&T.with_params(effort("high")), &ds, false).unwrap();
    assert_eq!(body["thinking"], json!({"type": "enabled"}));
    assert_eq!(body["reasoning_effort"], json!("high"));
    for off in ["disabled", "none"] {
        let body = build_request(&T.with_params(effort(off)), &ds, false).unwrap();
        assert_eq!(body["thinking"], json!({"type": "disabled"}));
        assert!(body.get("reasoning_effort").is_none());
    }
    let body = build_request(&T.with_params(effort("high")), &provider(Provider::Mistral), false).unwrap();
    assert!(body.get("thinking").is_none());
    assert_eq!(body["reasoning_effort"], json!("high"));
}

#[test]
fn messages_per_role_tool_calls_and_tool_results() {
    let assistant_call = Message::assistant("").with_tool_calls(vec![
        ToolCall::new("call_1", "get_weather", json!({"city": "Paris"})),
        ToolCall::new("call_2", "get_time", json!({})),
    ]);
    let mut assistant_call = assistant_call;
    assistant_call.content.clear();
    let after: Vec<Item> = vec![
        ToolResult::new("call_1", json!({"temp": 21})).into(),
        ToolResult::new("call_2", "12:00").with_name("get_time").into(),
        Message::assistant("It is 21°C.").into(),
        Message::new(Role::User, vec![]).into(),
    ];
    let items = around("weather?", assistant_call, after);
    let body = build_request(&T.request(items), &protocol(), false).unwrap();
    let rest = json!([
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"},
        {"role": "tool", "tool_call_id": "call_2", "content": "12:00", "name": "get_time"},
        {"role": "assistant", "content": "It is 21°C."},
        {"role": "user", "content": ""},
    ]);
    assert_eq!(body["messages"], around_messages("developer", "weather?", rest));

    // An assistant turn with text and calls keeps its text.
    let m = Message::assistant("Checking.").with_tool_calls(vec![ToolCall::new("c", "f", json!({"a": 1}))]);
    let body = build_request(&T.request(vec![m.into()]), &protocol(), false).unwrap();
    assert_eq!(body["messages"][0]["content"], json!("Checking."));

    // Caller-supplied wire fields pass through but never replace built ones.
    let mut m = Message::user("hi");
    m.extra.insert("name".into(), json!("alice"));
    m.extra.insert("role".into(), json!("system"));
    let body = build_request(&T.request(vec![m.into()]), &protocol(), false).unwrap();
    assert_eq!(body["messages"][0], json!({"role": "user", "content": "hi", "name": "alice"}));
}

#[test]
fn media_parts_and_unsupported_parts() {
    let m = Message::user("describe")
        .with_part(Part::image(Artifact::from_url("https://x/cat.png")))
        .with_part(Part::video(Artifact::from_url("https://x/clip.mp4")))
        .with_part(Part::document(Artifact::from_url("data:application/pdf;base64,JVBERi0=")));
    let body = build_request(&T.request(vec![m.into()]), &protocol(), false).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
            {"type": "video_url", "video_url": {"url": "https://x/clip.mp4"}},
            {"type": "document_url", "document_url": "data:application/pdf;base64,JVBERi0="},
        ])
    );

    for (ctx, name) in [
        (provider(Provider::Mistral), "mistral"),
        (provider(Provider::Groq), "groq"),
        (protocol(), "chatcompletions endpoint"),
    ] {
        let m = Message::user("listen").with_part(Part::audio(Artifact::from_url("https://x/a.mp3")));
        let err = build_request(&T.request(vec![m.into()]), &ctx, false).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains("audio content parts"), "{text}");
        assert!(text.contains(name), "{text}");
        assert_eq!(err.origin(), Some(ctx.origin));
    }
}

#[test]
fn function_tools_and_tool_choice_shapes() {
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        city: String,
    }
    let mut req = T.user("hi");
    req.tools = vec![
        FunctionTool::new("get_weather", "Weather", json!({"type": "object"})).into(),
        FunctionTool::new("ping", "", json!({"type": "object"})).into(),
        FunctionTool::of::<Args>("typed", "Typed").into(),
        Tool::Raw { value: json!({"type": "custom", "x": 1}) },
    ];
    let body = build_request(&req, &protocol(), false).unwrap();
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(
        tools[0],
        json!({"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}})
    );
    assert_eq!(tools[1], json!({"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}}));
    assert_eq!(tools[2]["function"]["strict"], json!(true));
    assert_eq!(tools[2]["function"]["parameters"]["additionalProperties"], json!(false));
    assert_eq!(tools[3], json!({"type": "custom", "x": 1}));

    let cases = [
        (protocol(), ToolChoice::Auto, json!("auto")),
        (protocol(), ToolChoice::Required, json!("required")),
        (protocol(), ToolChoice::None, json!("none")),
        (
            protocol(),
            ToolChoice::Tool("get_weather".into()),
            json!({"type": "function", "function": {"name": "get_weather"}}),
        ),
        (provider(Provider::Mistral), ToolChoice::Required, json!("any")),
        (provider(Provider::Mistral), ToolChoice::Auto, json!("auto")),
        (
            provider(Provider::Mistral),
            ToolChoice::Tool("f".into()),
            json!({"type": "function", "function": {"name": "f"}}),
        ),
        (provider(Provider::Groq), ToolChoice::Required, json!("required")),
        (provider(Provider::Moonshot), ToolChoice::Required, json!("required")),
        (provider(Provider::DeepSeek), ToolChoice::Required, json!("required")),
    ];
    for (ctx, choice, wire) in cases {
        let mut req = T.user("hi");
        req.tool_choice = Some(choice.clone());
        let body = build_request(&req, &ctx, false).unwrap();
        assert_eq!(body["tool_choice"], wire, "{} {choice:?}", ctx.origin);
    }
}

#[test]
fn built_in_tools_per_provider() {
    let build = |ctx: &WireContext, tool: Tool| {
        let mut req = T.user("hi");
        req.tools = vec![tool];
        build_request(&req, ctx, false).map(|b| b["tools"][0].clone())
    };
    let groq = provider(Provider::Groq);
    assert_eq!(build(&groq, WebSearch::new().into()).unwrap(), json!({"type": "browser_search"}));
    assert_eq!(build(&groq, Tool::CodeExecution).unwrap(), json!({"type": "code_interpreter"}));
    let moonshot = provider(Provider::Moonshot);
    assert_eq!(
        build(&moonshot, WebSearch::new().max_uses(2).into()).unwrap(),
        json!({"type": "builtin_function", "function": {"name": "$web_search"}})
    );

    let unsupported = [
        (protocol(), Tool::WebSearch(WebSearch::new()), "web_search"),
        (protocol(), Tool::CodeExecution, "code_execution"),
        (provider(Provider::Mistral), Tool::WebSearch(WebSearch::new()), "web_search"),
        (provider(Provider::DeepSeek), Tool::WebSearch(WebSearch::new()), "web_search"),
        (moonshot.clone(), Tool::CodeExecution, "code_execution"),
        (groq.clone(), Tool::XSearch, "x_search"),
        (groq.clone(), Tool::UrlContext, "url_context"),
    ];
    for (ctx, tool, name) in unsupported {
        let err = build(&ctx, tool).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(err.origin(), Some(ctx.origin));
    }
}

#[test]
fn reasoning_replay_follows_the_provider() {
    let mut plain = Message::assistant("Hello.");
    plain.reasoning = Some("greet".into());
    let mut calling = Message::assistant("").with_tool_calls(vec![ToolCall::new("c1", "f", json!({}))]);
    calling.content.clear();
    calling.reasoning = Some("call f".into());
    let mut empty = Message::assistant("Done.");
    empty.reasoning = Some(String::new());
    let mut user_with_reasoning = Message::user("hi");
    user_with_reasoning.reasoning = Some("not an assistant".into());
    let items: Vec<Item> = vec![
        user_with_reasoning.into(),
        plain.into(),
        calling.into(),
        ToolResult::new("c1", "ok").into(),
        empty.into(),
    ];
    let replayed = |ctx: WireContext| -> Vec<Option<String>> {
        let body = build_request(&T.request(items.clone()), &ctx, false).unwrap();
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["reasoning_content"].as_str().map(str::to_string))
            .collect()
    };
    let s = |t: &str| Some(t.to_string());
    // DeepSeek replays reasoning on every assistant turn that has it (the reference's 1.0.0, #461).
    assert_eq!(replayed(provider(Provider::DeepSeek)), [None, s("greet"), s("call f"), None, None]);
    assert_eq!(replayed(provider(Provider::Moonshot)), [None, s("greet"), s("call f"), None, None]);
    for ctx in [protocol(), provider(Provider::Mistral), provider(Provider::Groq)] {
        assert_eq!(replayed(ctx), [None, None, None, None, None]);
    }
    // Mistral takes the reasoning back as a leading `thinking` chunk, the text as a `text` chunk.
    let body = build_request(&T.request(items.clone()), &provider(Provider::Mistral), false).unwrap();
    assert_eq!(
        body["messages"][1]["content"],
        json!([{"type": "thinking", "thinking": [{"type": "text", "text": "greet"}]}, {"type": "text", "text": "Hello."}])
    );
    assert_eq!(body["messages"][2]["content"][0]["type"], "thinking");
    assert_eq!(body["messages"][0]["content"], "hi", "a user turn is untouched");
}

// ---------------------------------------------------------------------------------------------------
// Unary responses

const UNARY: &str = r#"{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "model-2025-01-01",
  "choices": [{
    "index": 0, "logprobs": null, "finish_reason": "tool_calls",
    "message": {
      "role": "assistant", "refusal": null,
      "content": "See example.com.",
      "reasoning_content": "Look it up.",
      "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}},
        {"index": 0, "id": "call_b", "type": "function", "function": {"name": "noop", "arguments": ""}}
      ],
      "annotations": [{"type": "url_citation", "url_citation": {"url": "https://example.com/a", "title": "A", "start_index": 4, "end_index": 15}}]
    }
  }],
  "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 7}},
  "service_tier": "default", "unknown_field": {"ignored": true}
}"#;

#[test]
fn unary_response_decodes_everything() {
    let out = parse_response(Bytes::from_static(UNARY.as_bytes()), &protocol()).unwrap();
    assert_reply(
        &out,
        "See example.com.",
        Some("Look it up."),
        &[ToolCall::new("call_a", "lookup", json!({"q": "x"})), ToolCall::new("call_b", "noop", json!({}))],
    );
    let f = out.finish_reason.as_ref().unwrap();
    assert_eq!((f.kind, f.raw.as_str()), (FinishKind::ToolCall, "tool_calls"));
    let u = &out.usage;
    assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (Some(10), Some(20), Some(30)));
    assert_eq!((u.cache_read_tokens, u.reasoning_tokens), (Some(4), Some(7)));
    assert_eq!(u.raw.as_ref().unwrap().to_value()["prompt_tokens"], json!(10));
    assert_eq!(out.metadata.response_id.as_deref(), Some("chatcmpl-1"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("model-2025-01-01"));
    assert!(out.metadata.raw_response.is_some());
    let g = out.grounding.as_ref().unwrap();
    assert_eq!(g.sources[0].url, "https://example.com/a");
    assert_eq!(g.sources[0].domain.as_deref(), Some("example.com"));
    assert_eq!((g.citations[0].start, g.citations[0].end), (4, 15));

    // The next turn replays text, calls and reasoning; DeepSeek sends the reasoning back.
    let m = out.message();
    let body =
        build_request(&T.request(vec![Message::user("q").into(), m.into()]), &provider(Provider::DeepSeek), false)
            .unwrap();
    assert_eq!(body["messages"][1]["reasoning_content"], json!("Look it up."));
    assert_eq!(body["messages"][1]["tool_calls"][0]["function"]["arguments"], json!("{\"q\":\"x\"}"));
}

#[test]
fn unary_variants_mistral_thinking_moonshot_usage_and_nulls() {
    // Mistral: list content with thinking blocks, `tool_calls: null`.
    let body = r#"{"id":"m1","model":"magistral","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","tool_calls":null,"content":[
        {"type":"thinking","thinking":[{"type":"text","text":"Two and "},{"type":"text","text":"two."}]},
        {"type":"text","text":"4"}]}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#;
    let out = parse_response(Bytes::from(body), &provider(Provider::Mistral)).unwrap();
    assert_reply(&out, "4", Some("Two and two."), &[]);
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Stop);

    // Moonshot: usage inside the choice; `reasoning` as the field name; a tool call without `type`.
    let body = r#"{"id":"k1","choices":[{"index":0,"finish_reason":"length","message":{"content":null,"reasoning":"hm",
        "tool_calls":[{"id":"t1","function":{"name":"f","arguments":{"a":1}}}]},
        "usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}],"usage":null}"#;
    let out = parse_response(Bytes::from(body), &provider(Provider::Moonshot)).unwrap();
    assert_reply(&out, "", Some("hm"), &[ToolCall::new("t1", "f", json!({"a": 1}))]);
    assert_eq!(out.usage.total_tokens, Some(11));
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Length);

    // No choices, no usage: an empty output, not an error.
    let out = parse_response(Bytes::from(r#"{"choices":null}"#), &protocol()).unwrap();
    assert_eq!(out.content, "");
    assert!(out.usage.is_empty() && out.finish_reason.is_none());
}

#[test]
fn usage_counts_reasoning_in_output_when_the_server_leaves_it_out() {
    // xAI's arithmetic: total = prompt + completion + reasoning.
    let raw = RawValue::from_string(
        r#"{"prompt_tokens":12,"completion_tokens":2,"total_tokens":354,"completion_tokens_details":{"reasoning_tokens":340}}"#.into(),
    )
    .unwrap();
    let u = usage_from(&raw);
    assert_eq!((u.output_tokens, u.reasoning_tokens), (Some(342), Some(340)));
    // OpenAI's: completion already includes reasoning.
    let raw = RawValue::from_string(
        r#"{"prompt_tokens":12,"completion_tokens":342,"total_tokens":354,"completion_tokens_details":{"reasoning_tokens":340}}"#.into(),
    )
    .unwrap();
    assert_eq!(usage_from(&raw).output_tokens, Some(342));
    // DeepSeek's cache field, and a usage object whose numbers do not fit still keeps its raw form.
    let raw = RawValue::from_string(r#"{"prompt_tokens":9,"prompt_cache_hit_tokens":8}"#.into()).unwrap();
    assert_eq!(usage_from(&raw).cache_read_tokens, Some(8));
    let raw = RawValue::from_string(r#"{"prompt_tokens":"many"}"#.into()).unwrap();
    let u = usage_from(&raw);
    assert_eq!(u.input_tokens, None);
    assert!(u.raw.is_some());
}

#[test]
fn unary_error_body_and_garbage() {
    let body = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
    let err = parse_response(Bytes::from(body), &provider(Provider::Groq)).unwrap_err();
    match &err {
        Error::StreamEvent(e) => {
            assert_eq!(e.message, "Rate limit reached");
            assert_eq!(e.error_type.as_deref(), Some("rate_limit_exceeded"));
            assert_eq!(e.origin, Origin::Provider(Provider::Groq));
        }
        other => panic!("{other:?}"),
    }
    let out =
        parse_response(Bytes::from(r#"{"error":null,"choices":[{"message":{"content":"ok"}}]}"#), &protocol()).unwrap();
    assert_eq!(out.content, "ok");
    let err = parse_response(Bytes::from_static(b"<html>oops</html>"), &protocol()).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------------
// Streams

fn delta(d: Value) -> Vec<u8> {
    ev(
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "m-1", "usage": null, "obfuscation": "xyz",
               "choices": [{"index": 0, "delta": d, "logprobs": null, "finish_reason": null}]}),
    )
}

fn done() -> Vec<u8> {
    b"[DONE]".to_vec()
}

/// Text, reasoning, two parallel tool calls interleaved by index, a finish chunk, a usage-only chunk.
fn stream_events() -> Vec<Vec<u8>> {
    vec![
        delta(json!({"role": "assistant", "content": "", "refusal": null})),
        delta(json!({"reasoning_content": "Think"})),
        delta(json!({"reasoning_content": "ing.", "content": null})),
        delta(json!({"content": "Hel"})),
        delta(json!({"content": "lo", "tool_calls": null})),
        delta(
            json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "lookup", "arguments": ""}}]}),
        ),
        delta(
            json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "clock", "arguments": "{\"tz\":"}}]}),
        ),
        delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"q\":"}}]})),
        delta(json!({"tool_calls": [{"index": 1, "function": {"arguments": "\"UTC\"}"}}]})),
        delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"x\"}"}}]})),
        ev(
            json!({"id": "chatcmpl-9", "model": "m-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": null}),
        ),
        ev(
            json!({"id": "chatcmpl-9", "model": "m-1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11,
                   "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 3}}}),
        ),
        done(),
    ]
}

#[test]
fn stream_decodes_text_reasoning_parallel_tool_calls_and_usage() {
    let mut dec = ChatDecoder::new(protocol());
    let (chunks, out) = decode_all(&mut dec, &stream_events());
    assert!(dec.is_terminal());
    let out = out.unwrap();
    assert_eq!(streamed_text(&chunks), "Hello");
    let reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(reasoning, "Thinking.");

    let deltas: Vec<&ToolCallDelta> = chunks.iter().filter_map(|c| c.tool_call.as_ref()).collect();
    assert_eq!(deltas.iter().map(|d| d.index).collect::<Vec<_>>(), [0, 1, 0, 1, 0]);
    assert_eq!(deltas[0].id.as_deref(), Some("call_a"));
    assert_eq!(deltas[0].name.as_deref(), Some("lookup"));
    assert_eq!(deltas[1].id.as_deref(), Some("call_b"));
    assert_eq!(deltas[2].id, None);
    for (i, args) in [(0, "{\"q\":\"x\"}"), (1, "{\"tz\":\"UTC\"}")] {
        let joined: String = deltas.iter().filter(|d| d.index == i).map(|d| d.arguments.as_str()).collect();
        assert_eq!(joined, args);
    }

    assert_reply(
        &out,
        "Hello",
        Some("Thinking."),
        &[ToolCall::new("call_a", "lookup", json!({"q": "x"})), ToolCall::new("call_b", "clock", json!({"tz": "UTC"}))],
    );
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
    assert_eq!((out.usage.input_tokens, out.usage.output_tokens, out.usage.total_tokens), (Some(5), Some(6), Some(11)));
    assert_eq!((out.usage.cache_read_tokens, out.usage.reasoning_tokens), (Some(2), Some(3)));
    assert_eq!(out.metadata.response_id.as_deref(), Some("chatcmpl-9"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("m-1"));
    let raw = out.metadata.raw_json().unwrap();
    assert_eq!(raw["usage"]["total_tokens"], json!(11));

    // The finish reason and the usage each ride on a chunk of their own (their events had no content).
    let finish_chunks: Vec<&Chunk<String>> = chunks.iter().filter(|c| c.finish_reason.is_some()).collect();
    assert_eq!(finish_chunks.len(), 1);
    let last = chunks.last().unwrap();
    assert_eq!(last.usage.as_ref().and_then(|u| u.total_tokens), Some(11));
    assert!(last.content.is_empty());
}

#[test]
fn finish_and_usage_ride_on_the_content_of_the_same_event() {
    // Moonshot-style last chunk: content, finish reason and usage inside the choice, no [DONE].
    let events = vec![
        ev(json!({"id": "k", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]})),
        ev(json!({"id": "k", "choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop",
                   "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}]})),
    ];
    let mut dec = ChatDecoder::new(provider(Provider::Moonshot));
    let (chunks, out) = decode_all(&mut dec, &events);
    assert!(!dec.is_terminal());
    let out = out.unwrap();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[1].content, "!");
    assert_eq!(chunks[1].finish_reason.as_ref().unwrap().raw, "stop");
    assert_eq!(chunks[1].usage.as_ref().unwrap().total_tokens, Some(3));
    assert_eq!(out.content, "Hi!");
    assert_eq!(out.usage.total_tokens, Some(3));
}

#[test]
fn mistral_stream_shapes() {
    let events = vec![
        ev(
            json!({"id": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Hmm. "}]}]}, "finish_reason": null}]}),
        ),
        ev(
            json!({"id": "m", "choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "Calling."}]}, "finish_reason": null}]}),
        ),
        // Two whole calls in one delta, with no index and no type.
        ev(json!({"id": "m", "choices": [{"index": 0, "delta": {"content": null, "tool_calls": [
                {"id": "A1", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}},
                {"id": "B2", "function": {"name": "weather", "arguments": "{\"city\": \"Rome\"}"}}]},
                "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 1, "total_tokens": 3, "completion_tokens": 2}})),
        done(),
    ];
    let mut dec = ChatDecoder::new(provider(Provider::Mistral));
    let (chunks, out) = decode_all(&mut dec, &events);
    let out = out.unwrap();
    assert_reply(
        &out,
        "Calling.",
        Some("Hmm. "),
        &[
            ToolCall::new("A1", "weather", json!({"city": "Paris"})),
            ToolCall::new("B2", "weather", json!({"city": "Rome"})),
        ],
    );
    let indices: Vec<usize> = chunks.iter().filter_map(|c| c.tool_call.as_ref().map(|d| d.index)).collect();
    assert_eq!(indices, [0, 1]);
    // The finish reason and usage sit on that event's last chunk.
    let last = chunks.last().unwrap();
    assert_eq!(last.tool_call.as_ref().unwrap().index, 1);
    assert_eq!(last.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
}

#[test]
fn stream_ends_leniently_or_truncated() {
    // No [DONE] but a finish reason: complete.
    let mut events = stream_events();
    events.pop();
    let mut dec = ChatDecoder::new(protocol());
    let (_, out) = decode_all(&mut dec, &events);
    assert_eq!(out.unwrap().usage.total_tokens, Some(11));

    // Neither: truncated, naming who was streaming.
    let events: Vec<Vec<u8>> = stream_events().into_iter().take(6).collect();
    let mut dec = ChatDecoder::new(provider(Provider::Groq));
    let (chunks, out) = decode_all(&mut dec, &events);
    assert!(!chunks.is_empty());
    match out {
        Err(Error::StreamTruncated { origin, .. }) => {
            assert_eq!(origin, Origin::Provider(Provider::Groq))
        }
        other => panic!("{other:?}"),
    }

    // [DONE] alone is a complete, empty stream.
    let mut dec = ChatDecoder::new(protocol());
    let (chunks, out) = decode_all(&mut dec, &[done()]);
    assert!(chunks.is_empty());
    let out = out.unwrap();
    assert_eq!(out.content, "");
    assert!(out.usage.is_empty());
}

#[test]
fn stream_error_event_is_typed_and_keeps_earlier_chunks() {
    let events = vec![
        delta(json!({"content": "partial"})),
        ev(json!({"error": {"message": "Upstream overloaded", "type": "server_error", "code": null}})),
        delta(json!({"content": "never"})),
    ];
    let mut dec = ChatDecoder::new(provider(Provider::DeepSeek));
    let (chunks, out) = decode_all(&mut dec, &events);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].content, "partial");
    let e = event_error(out);
    assert_eq!(message_and_type(&e), ("Upstream overloaded", Some("server_error")));
    assert_eq!(e.origin, Origin::Provider(Provider::DeepSeek));

    // A `{"type": "error", "error": ...}` envelope and a bare string error are typed too.
    for event in [
        json!({"type": "error", "error": {"message": "quota", "code": "insufficient_quota"}}),
        json!({"error": "just a string"}),
    ] {
        let mut dec = ChatDecoder::new(protocol());
        let (_, out) = decode_all(&mut dec, &[ev(event)]);
        assert!(matches!(out, Err(Error::StreamEvent(_))), "{out:?}");
    }

    let mut dec = ChatDecoder::new(protocol());
    let (_, out) = decode_all(&mut dec, &[b"{not json".to_vec()]);
    assert!(matches!(out, Err(Error::Decode { .. })), "{out:?}");
}

#[test]
fn stream_tolerates_nulls_unknown_fields_and_other_choices() {
    let events = vec![
        ev(json!({"choices": null, "usage": null, "x_extra": [1, 2]})),
        ev(
            json!({"choices": [{"index": 1, "delta": {"content": "other choice"}}, {"index": 0, "delta": {"content": "mine", "tool_calls": null, "annotations": null}, "finish_reason": null, "logprobs": null}]}),
        ),
        ev(json!({"choices": [{"index": 0, "delta": null, "finish_reason": "stop"}]})),
        b"  ".to_vec(),
        done(),
    ];
    let mut dec = ChatDecoder::new(protocol());
    let (_, out) = decode_all(&mut dec, &events);
    let out = out.unwrap();
    assert_eq!(out.content, "mine");
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Stop);
    assert!(out.metadata.raw_response.is_none());
}

// ---------------------------------------------------------------------------------------------------
// Conformance over the real recordings

/// What a recorded stream's events say, read independently of the decoder (with `serde_json::Value`).
#[derive(Default, Debug)]
struct Expected {
    text: String,
    reasoning: String,
    /// (key, name, arguments text) in first-seen order.
    calls: Vec<(String, String, String)>,
    prompt_tokens: Option<u64>,
    total_tokens: Option<u64>,
    finish: Option<String>,
}

fn collect_content(content: &Value, e: &mut Expected) {
    match content {
        Value::String(s) => e.text.push_str(s),
        Value::Array(parts) => {
            for p in parts {
                match p["type"].as_str() {
                    Some("text") => e.text.push_str(p["text"].as_str().unwrap_or("")),
                    Some("thinking") => {
                        for t in p["thinking"].as_array().into_iter().flatten() {
                            e.reasoning.push_str(t["text"].as_str().unwrap_or(""));
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn expected_from_events(events: &[Value]) -> Expected {
    let mut e = Expected::default();
    for event in events {
        let choice = &event["choices"][0];
        let d = &choice["delta"];
        collect_content(&d["content"], &mut e);
        for field in ["reasoning_content", "reasoning"] {
            if let Some(r) = d[field].as_str() {
                e.reasoning.push_str(r);
            }
        }
        for tc in d["tool_calls"].as_array().into_iter().flatten() {
            let key = match tc["index"].as_u64() {
                Some(i) => format!("#{i}"),
                None => tc["id"].as_str().unwrap_or_default().to_string(),
            };
            let args = tc["function"]["arguments"].as_str().unwrap_or("");
            match e.calls.iter_mut().find(|c| c.0 == key) {
                Some(c) => c.2.push_str(args),
                None => {
                    e.calls.push((key, tc["function"]["name"].as_str().unwrap_or("").to_string(), args.to_string()))
                }
            }
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            e.finish = Some(f.to_string());
        }
        let usage = if event["usage"].is_object() { &event["usage"] } else { &choice["usage"] };
        if usage.is_object() {
            e.prompt_tokens = usage["prompt_tokens"].as_u64();
            e.total_tokens = usage["total_tokens"].as_u64();
        }
    }
    e
}

const CHAT_FOLDERS: [&str; 6] = ["openai-chat", "groq", "mistral", "deepseek", "xai", "moonshot"];

fn origin_of(folder: &str) -> WireContext {
    match folder {
        "groq" => provider(Provider::Groq),
        "mistral" => provider(Provider::Mistral),
        "deepseek" => provider(Provider::DeepSeek),
        "moonshot" => provider(Provider::Moonshot),
        _ => protocol(),
    }
}

#[test]
fn recorded_chat_completions_conform() {
    let mut checked = 0;
    for folder in CHAT_FOLDERS {
        let Some(recorded) = recordings(folder) else { return };
        for (name, rec) in recorded {
            let ctx = origin_of(folder);
            if let Recorded::Chunks { mut events, values } = rec {
                let expected = expected_from_events(&values);
                // The recordings drop the terminator the real APIs send.
                events.push(done());
                let mut dec = ChatDecoder::new(ctx);
                let (chunks, out) = decode_all(&mut dec, &events);
                let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(streamed_text(&chunks), expected.text, "{name}");
                assert_eq!(out.content, expected.text, "{name}");
                assert_eq!(out.reasoning.clone().unwrap_or_default(), expected.reasoning, "{name}");
                assert_eq!(out.tool_calls.len(), expected.calls.len(), "{name}");
                for (call, (_, name_, args)) in out.tool_calls.iter().zip(&expected.calls) {
                    assert_eq!(&call.name, name_, "{name}");
                    assert_eq!(call.arguments, serde_json::from_str::<Value>(args).unwrap(), "{name}");
                    assert!(!call.id.is_empty(), "{name}");
                }
                assert_eq!(out.finish_reason.as_ref().map(|f| f.raw.clone()), expected.finish, "{name}");
                assert_eq!(out.usage.input_tokens, expected.prompt_tokens, "{name}");
                assert_eq!(out.usage.total_tokens, expected.total_tokens, "{name}");
                assert!(out.usage.total_tokens.is_some(), "{name}: no usage");
                assert!(out.usage.raw.is_some(), "{name}");
                assert_eq!(out.metadata.response_id.as_deref(), values[0]["id"].as_str(), "{name}");
                checked += 1;
            } else if let Recorded::Json { body, value: v } = rec {
                if v.get("choices").is_none() {
                    continue; // not a chat completion (a transcription wrapper)
                }
                let out = parse_response(Bytes::from(body), &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
                let msg = &v["choices"][0]["message"];
                let mut e = Expected::default();
                collect_content(&msg["content"], &mut e);
                assert_eq!(out.content, e.text, "{name}");
                let reasoning = msg["reasoning_content"].as_str().map(str::to_string);
                let reasoning = reasoning.or((!e.reasoning.is_empty()).then_some(e.reasoning));
                assert_eq!(out.reasoning, reasoning, "{name}");
                let calls = msg["tool_calls"].as_array().cloned().unwrap_or_default();
                assert_openai_calls(&name, &out.tool_calls, &calls);
                assert_eq!(
                    out.finish_reason.as_ref().map(|f| f.raw.as_str()),
                    v["choices"][0]["finish_reason"].as_str(),
                    "{name}"
                );
                assert_eq!(out.usage.input_tokens, v["usage"]["prompt_tokens"].as_u64(), "{name}");
                assert_eq!(out.usage.total_tokens, v["usage"]["total_tokens"].as_u64(), "{name}");
                assert_eq!(out.metadata.response_id.as_deref(), v["id"].as_str());
                checked += 1;
            }
        }
    }
    println!("chatcompletions conformance: checked {checked} recordings");
    assert!(checked >= 20, "{checked}");
}

/// A refusal (`message.refusal`, `delta.refusal`) is the reply's content, with a `content_filter`
/// finish that keeps the raw `stop`.
#[test]
fn refusals_are_the_content_with_a_content_filter_finish() {
    let body = json!({"id": "c", "model": "gpt-4o", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]});
    let out = parse_response(Bytes::from(body.to_string()), &protocol()).unwrap();
    assert_eq!(out.content, "I can't help with that.");
    let finish = out.finish_reason.unwrap();
    assert_eq!((finish.kind, finish.raw.as_str()), (FinishKind::ContentFilter, "stop"));

    let events = vec![
        delta(json!({"role": "assistant", "content": null, "refusal": ""})),
        delta(json!({"refusal": "I can't "})),
        delta(json!({"refusal": "help with that."})),
        ev(json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})),
        done(),
    ];
    let (chunks, out) = decode_all(&mut ChatDecoder::new(protocol()), &events);
    let out = out.unwrap();
    assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), "I can't help with that.");
    assert_eq!(out.content, "I can't help with that.");
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ContentFilter));
    assert_eq!(chunks.last().unwrap().finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ContentFilter));
    // Without a refusal, `stop` stays `stop`.
    let (_, out) = decode_all(&mut ChatDecoder::new(protocol()), &stream_events());
    assert_eq!(out.unwrap().finish_reason.map(|f| f.kind), Some(FinishKind::ToolCall));
}

/// Groq reports usage in its own `x_groq` block only.
#[test]
fn groq_usage_in_x_groq_is_read_unary_and_streamed() {
    let x_groq = json!({"id": "req_1", "usage": {"queue_time": 0.01, "prompt_tokens": 12, "completion_tokens": 3,
        "total_tokens": 15}});
    let body = json!({"id": "c", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Hi"}}], "x_groq": x_groq});
    let out = parse_response(Bytes::from(body.to_string()), &provider(Provider::Groq)).unwrap();
    assert_eq!(
        (out.usage.input_tokens, out.usage.output_tokens, out.usage.total_tokens),
        (Some(12), Some(3), Some(15))
    );

    let events = vec![
        ev(json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}],
            "x_groq": {"id": "req_1"}})),
        ev(json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "x_groq": x_groq})),
        done(),
    ];
    let (chunks, out) = decode_all(&mut ChatDecoder::new(provider(Provider::Groq)), &events);
    assert_eq!(out.unwrap().usage.total_tokens, Some(15));
    assert_eq!(chunks.last().unwrap().usage.as_ref().and_then(|u| u.input_tokens), Some(12));
}

/// A server that sends the finish reason (and the usage the request asked for) but never `[DONE]` has
/// finished: the decoder says so, so that the stream does not wait on an open connection.
#[test]
fn a_stream_is_complete_at_its_finish_and_final_usage_without_done() {
    let finish = ev(json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    let usage = ev(json!({"id": "c", "choices": [],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}));
    let feed = |dec: &mut ChatDecoder, events: &[Vec<u8>]| {
        let mut out = VecDeque::new();
        for data in events {
            let frame = Frame::Sse(crate::transport::sse::SseEvent {
                event: None,
                data: Bytes::from(data.clone()),
                id: None,
                retry: None,
            });
            dec.on_frame(frame, &mut out).unwrap();
        }
    };
    // The protocol asks for usage: complete once it came after the finish reason.
    let mut dec = ChatDecoder::new(protocol());
    feed(&mut dec, &[delta(json!({"content": "Hi"}))]);
    assert!(!dec.is_terminal());
    feed(&mut dec, std::slice::from_ref(&finish));
    assert!(!dec.is_terminal(), "the usage chunk is still to come");
    feed(&mut dec, std::slice::from_ref(&usage));
    assert!(dec.is_terminal());
    let out = dec.finish().unwrap();
    assert_eq!((out.content.as_str(), out.usage.total_tokens), ("Hi", Some(3)));
    // Usage with the finish reason, in one chunk (Mistral, Groq, llama.cpp).
    let mut dec = ChatDecoder::new(protocol());
    feed(
        &mut dec,
        &[ev(json!({"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}))],
    );
    assert!(dec.is_terminal());
    // A running usage count before the finish reason is not the final usage.
    let mut dec = ChatDecoder::new(protocol());
    feed(&mut dec, &[usage.clone(), finish.clone()]);
    assert!(!dec.is_terminal());
    // Mistral is not asked for usage (it rejects the option): the finish reason is the end.
    let mut dec = ChatDecoder::new(provider(Provider::Mistral));
    feed(&mut dec, &[delta(json!({"content": "Hi"})), finish]);
    assert!(dec.is_terminal());
}

#[test]
fn only_plain_text_chunks_take_the_fast_path() {
    let plain = |s: &str| serde_json::from_str::<TextChunk<Str>>(s).ok().is_some_and(|c| c.plain_delta().is_some());
    // The common chunk, with the fields OpenAI sends alongside (null or not read by either decode).
    assert!(plain(
        r#"{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}"#
    ));
    assert!(plain(r#"{"choices":[{"delta":{"role":"assistant","content":"","refusal":null}}]}"#));
    assert!(plain(r#"{"choices":[{"delta":{"reasoning_content":"hm"}}]}"#));
    // Everything else goes to the full decode.
    for other in [
        r#"{"choices":[]}"#,
        r#"{"choices":[{"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":1}}"#,
        r#"{"choices":[{"delta":{"content":"a"},"usage":{"prompt_tokens":1}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"x_groq":{"id":"g"}}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"error":{"message":"no"}}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"refusal":"no"}}]}"#,
        r#"{"choices":[{"delta":{"annotations":[]}}]}"#,
        r#"{"choices":[{"delta":{"content":[{"type":"text","text":"a"}]}}]}"#,
        r#"{"choices":[{"message":{"content":"a"}}]}"#,
        r#"{"choices":[{"delta":null}]}"#,
    ] {
        assert!(!plain(other), "{other}");
    }
}

#[test]
fn fast_and_full_decodes_give_the_same_stream() {
    // The same chunks, once plain and once with a choice-level `message` the full decode ignores (it
    // reads the delta first) but that keeps them off the fast path.
    let chunk = |t: &str, extra: &str| {
        format!(
            r#"{{"id":"c1","model":"m","choices":[{{"index":0,"delta":{{"content":{t:?},"reasoning":"r"}}{extra}}}]}}"#
        )
        .into_bytes()
    };
    let run = |extra: &str| {
        let events = vec![
            chunk("He", extra),
            chunk("llo", extra),
            br#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.to_vec(),
            b"[DONE]".to_vec(),
        ];
        let (chunks, out) = decode_all(&mut ChatDecoder::new(protocol()), &events);
        let out = out.unwrap();
        (format!("{chunks:?}"), out.content, out.metadata.response_id)
    };
    let fast = run("");
    assert_eq!(fast, run(r#","message":{}"#));
    assert_eq!(fast.1, "Hello");
    assert_eq!(fast.2.as_deref(), Some("c1"));
}
