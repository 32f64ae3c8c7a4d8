use super::*;
use crate::error::Origin;
use crate::testing::decode_all;
use crate::types::enums::InputType;
use crate::types::enums::Provider;
use crate::types::tool::{FunctionTool, ToolActivity, ToolCallDelta, WebSearch};
use crate::types::usage::FinishKind;
use crate::wire::testkit::{Replay, assert_reply, conform, streamed_text};
use crate::wire::testkit::{Setup, decode_named, ev, event_error, keys, message_and_type, named_by_type, sorted};

/// The call these tests make.
const T: Setup = Setup::new(Origin::Provider(Provider::Anthropic), "claude-sonnet-4-5");

fn build(req: &TextRequest) -> Value {
    build_request(req, &T.ctx(), false).unwrap()
}

fn assistant_with(calls: Vec<ToolCall>) -> Message {
    let mut m = Message::assistant("").with_tool_calls(calls);
    m.content.clear();
    m
}

// ---------------------------------------------------------------------------------------------------
// Request contracts

#[test]
fn every_parameter_maps_to_its_field_and_none_omits_it() {
    let bare = build(&T.user("hi"));
    assert_eq!(keys(&bare), ["max_tokens", "messages", "model"]);
    assert_eq!(bare["model"], json!("claude-sonnet-4-5"));
    assert_eq!(bare["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]));

    // The plain fields (and the parameters this API drops) are held to the table by
    // `params::every_parameter_reaches_the_wire_or_is_reported`; these are the module's own.
    let cases: Vec<(TextParams, &str, Value)> = vec![(
        TextParams { thinking_budget: Some(2048), ..TextParams::default() },
        "thinking",
        json!({"type": "enabled", "budget_tokens": 2048}),
    )];
    for (params, field, value) in cases {
        let body = build(&T.with_params(params));
        assert_eq!(keys(&body), sorted(vec!["max_tokens", "messages", "model", field]), "{field}");
        assert_eq!(body[field], value, "{field}");
    }

    let body = build(&T.with_params(TextParams { max_tokens: Some(100), ..TextParams::default() }));
    assert_eq!(keys(&body), ["max_tokens", "messages", "model"]);
    assert_eq!(body["max_tokens"], json!(100));

    // Parameters the API has no field for are dropped, not sent under a guessed name.
    let body = build(&T.with_params(TextParams {
        seed: Some(1),
        frequency_penalty: Some(0.1),
        presence_penalty: Some(0.2),
        verbosity: Some("low".into()),
        ..TextParams::default()
    }));
    assert_eq!(keys(&body), ["max_tokens", "messages", "model"]);

    let streamed = build_request(&T.user("hi"), &T.ctx(), true).unwrap();
    assert_eq!(streamed["stream"], json!(true));
    assert!(bare.get("stream").is_none());
}

#[test]
fn thinking_budget_and_reasoning_effort() {
    let params = |budget: Option<i64>, effort: Option<&str>| TextParams {
        thinking_budget: budget,
        thinking_level: effort.map(str::to_string),
        ..TextParams::default()
    };
    let cases: Vec<(TextParams, Value, Option<Value>)> = vec![
        (params(Some(4096), None), json!({"type": "enabled", "budget_tokens": 4096}), None),
        (params(Some(-1), None), json!({"type": "adaptive"}), None),
        (params(Some(0), None), json!({"type": "disabled"}), None),
        (
            params(None, Some("high")),
            json!({"type": "adaptive", "display": "summarized"}),
            Some(json!({"effort": "high"})),
        ),
        (params(None, Some("none")), json!({"type": "disabled"}), None),
        (params(None, Some("disabled")), json!({"type": "disabled"}), None),
        // An explicit budget decides `thinking`; the effort still travels.
        (
            params(Some(2048), Some("low")),
            json!({"type": "enabled", "budget_tokens": 2048}),
            Some(json!({"effort": "low"})),
        ),
    ];
    for (p, thinking, output_config) in cases {
        let label = format!("{p:?}");
        let body = build(&T.with_params(p));
        assert_eq!(body["thinking"], thinking, "{label}");
        assert_eq!(body.get("output_config").cloned(), output_config, "{label}");
    }
}

#[test]
fn max_tokens_defaults_to_the_ceiling_the_request_carries() {
    let body_for = |model: &str| {
        let mut req = T.user("hi");
        req.model = model.into();
        build(&req)["max_tokens"].clone()
    };
    // Without a catalog ceiling on the request, the API's required field gets the fallback.
    assert_eq!(body_for("not-a-claude-model"), json!(DEFAULT_MAX_TOKENS));
    let mut req = T.user("hi");
    req.limits.max_output_tokens = Some(4096);
    assert_eq!(build(&req)["max_tokens"], json!(4096));
    req.params.max_tokens = Some(10);
    assert_eq!(build(&req)["max_tokens"], json!(10), "the caller's limit wins");
}

#[test]
fn system_and_developer_messages_become_the_system_field() {
    let items: Vec<Item> = vec![Message::system("be brief").into(), Message::user("hi").into()];
    let body = build(&T.request(items));
    assert_eq!(body["system"], json!("be brief"));
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);

    let items: Vec<Item> =
        vec![Message::system("be brief").into(), Message::user("hi").into(), Message::developer("use metric").into()];
    let body = build(&T.request(items));
    assert_eq!(body["system"], json!([{"type": "text", "text": "be brief"}, {"type": "text", "text": "use metric"}]));
    assert_eq!(body["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]));

    let sys = Message::system("look").with_part(Part::image(Artifact::from_url("https://x/cat.png")));
    let err = build_request(&T.request(vec![sys.into()]), &T.ctx(), false).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("image content parts in system messages"), "{err}");
}

#[test]
fn tool_results_are_batched_into_one_user_turn() {
    let items: Vec<Item> = vec![
        Message::user("weather and time?").into(),
        assistant_with(vec![
            ToolCall::new("toolu_1", "get_weather", json!({"city": "Paris"})),
            ToolCall::new("toolu_2", "get_time", json!({})),
        ])
        .into(),
        ToolResult::new("toolu_1", json!({"temp": 21})).into(),
        ToolResult::error("toolu_2", "clock unavailable").into(),
        Message::assistant("21°C; no time.").into(),
        Message::user("thanks, again?").into(),
        Message::assistant("Checking.").with_tool_calls(vec![ToolCall::new("toolu_3", "get_time", Value::Null)]).into(),
        ToolResult::new("toolu_3", "12:00").with_name("get_time").into(),
    ];
    let body = build(&T.request(items));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "weather and time?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"temp\":21}"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "clock unavailable", "is_error": true},
            ]},
            {"role": "assistant", "content": [{"type": "text", "text": "21°C; no time."}]},
            {"role": "user", "content": [{"type": "text", "text": "thanks, again?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_3", "name": "get_time", "input": {}},
            ]},
            // Trailing results are flushed at the end.
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_3", "content": "12:00"}]},
        ])
    );
}

#[test]
fn thinking_signatures_are_replayed_before_the_rebuilt_turn() {
    let thinking = json!({"type": "thinking", "thinking": "Need the weather.", "signature": "EuQB"});
    let redacted = json!({"type": "redacted_thinking", "data": "EmwK"});
    let mut m = assistant_with(vec![ToolCall::new("toolu_1", "get_weather", json!({"city": "Paris"}))]);
    m.signature = vec![thinking.clone(), redacted.clone()];
    // Reasoning text alone is never sent: the API only takes signed thinking blocks.
    m.reasoning = Some("Need the weather.".into());
    let body = build(&T.request(vec![Message::user("weather?").into(), m.into()]));
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": [
            thinking,
            redacted,
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        ]})
    );
}

#[test]
fn native_content_is_replayed_verbatim_and_the_container_carried() {
    let native = vec![
        json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "bash_code_execution", "input": {"command": "ls"}}),
        json!({"type": "bash_code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {"type": "bash_code_execution_result", "stdout": "a\n"}}),
        json!({"type": "text", "text": "One file."}),
    ];
    let mut first = Message::assistant("One file.");
    first.signature = native.clone();
    first.container = Some(json!({"id": "container_old", "expires_at": "2026-01-01T00:00:00Z"}));
    let mut second = Message::assistant("Done.");
    second.container = Some(json!({"id": "container_new"}));
    let items: Vec<Item> =
        vec![Message::user("list").into(), first.into(), Message::user("more").into(), second.into()];
    let body = build(&T.request(items));
    assert_eq!(body["messages"][1], json!({"role": "assistant", "content": native}));
    assert_eq!(body["messages"][3], json!({"role": "assistant", "content": [{"type": "text", "text": "Done."}]}));
    // The latest message's container id wins.
    assert_eq!(body["container"], json!("container_new"));

    let body = build(&T.user("hi"));
    assert!(body.get("container").is_none());
}

#[test]
fn media_parts_and_unsupported_parts() {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n";
    let m = Message::user("describe")
        .with_part(Part::image(Artifact::from_url("https://x/cat.png")))
        .with_part(Part::image(Artifact::from_bytes(PNG.to_vec())))
        .with_part(Part::image(Artifact::from_url("data:image/webp;base64,UklGRg==")))
        .with_part(Part::document(Artifact::from_url("https://x/a.pdf")))
        .with_part(Part::document(Artifact::from_bytes(PDF.to_vec())))
        .with_part(Part::document(
            Artifact::from_bytes(&b"plain notes"[..]).with_mime_type(MimeType::from_extension("txt").unwrap()),
        ));
    let body = build(&T.request(vec![m.into()]));
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "describe"},
            {"type": "image", "source": {"type": "url", "url": "https://x/cat.png"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": STANDARD.encode(PNG)}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": "UklGRg=="}},
            {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": STANDARD.encode(PDF)}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain notes"}},
        ])
    );

    // An empty text part is not sent, nor a turn left with nothing (an empty prompt after tool results).
    let items: Vec<Item> = vec![
        Message::user("q").into(),
        assistant_with(vec![ToolCall::new("t", "f", json!({}))]).with_part(Part::text("")).into(),
        ToolResult::new("t", "ok").into(),
        Message::user("").into(),
    ];
    let body = build(&T.request(items));
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    assert_eq!(body["messages"][1]["content"], json!([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]));
    assert_eq!(body["messages"][2]["content"][0]["type"], json!("tool_result"));

    for part in [Part::audio(Artifact::from_url("https://x/a.mp3")), Part::video(Artifact::from_url("https://x/v.mp4"))]
    {
        let kind = part.input_type();
        let err =
            build_request(&T.request(vec![Message::user("hm").with_part(part).into()]), &T.ctx(), false).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(err.to_string().contains(&format!("{kind} content parts")), "{err}");
        assert_eq!(err.provider(), Some(Provider::Anthropic));
        assert!(matches!(kind, InputType::Audio | InputType::Video));
    }

    // Bytes of an unknown type cannot be labelled; a non-base64 data URL cannot be sent.
    for art in [Artifact::from_bytes(&b"????"[..]), Artifact::from_url("data:image/png,raw")] {
        let m = Message::user("x").with_part(Part::image(art));
        let err = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    }
}

#[test]
fn tools_and_tool_choice_shapes() {
    let mut req = T.user("hi");
    req.tools = vec![
        FunctionTool::new(
            "get_weather",
            "Weather for a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )
        .into(),
        FunctionTool::new("ping", "", Value::Null).into(),
        WebSearch::new().allowed_domains(["example.com"]).blocked_domains(["spam.com"]).max_uses(3).into(),
        WebSearch::new().into(),
        Tool::Raw { value: json!({"type": "code_execution_20250825", "name": "code_execution"}) },
    ];
    req.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    let body = build(&req);
    assert_eq!(
        body["tools"],
        json!([
            {"name": "get_weather", "description": "Weather for a city",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "ping", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "allowed_domains": ["example.com"],
             "blocked_domains": ["spam.com"], "max_uses": 3},
            {"type": "web_search_20250305", "name": "web_search"},
            {"type": "code_execution_20250825", "name": "code_execution"},
        ])
    );
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "get_weather"}));

    // Models with dynamic filtering get the newer web search.
    for (model, version) in [
        ("claude-sonnet-4-6", "web_search_20260209"),
        ("claude-opus-4-7", "web_search_20260209"),
        ("claude-haiku-4-5", "web_search_20250305"),
    ] {
        let mut req = T.user("hi");
        req.model = model.into();
        req.tools = vec![WebSearch::new().into()];
        assert_eq!(build(&req)["tools"][0]["type"], json!(version), "{model}");
    }

    for (choice, wire) in [
        (ToolChoice::Auto, json!({"type": "auto"})),
        (ToolChoice::Required, json!({"type": "any"})),
        (ToolChoice::None, json!({"type": "none"})),
    ] {
        assert_eq!(tool_choice(&choice), wire);
    }

    for t in [Tool::CodeExecution, Tool::XSearch, Tool::UrlContext] {
        let name = t.name().to_string();
        let mut req = T.user("hi");
        req.tools = vec![t];
        let err = build_request(&req, &T.ctx(), false).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(err.to_string().contains(&name), "{err}");
    }
}

#[test]
fn requests_carry_the_api_version_header_and_no_beta() {
    // Structured output is generally available (`output_config.format`): no beta header either way.
    let h = headers();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].0.as_str(), "anthropic-version");
    assert_eq!(h[0].1.to_str().unwrap(), "2023-06-01");
}

// ---------------------------------------------------------------------------------------------------
// Unary responses

const UNARY: &str = r#"{
  "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
  "content": [
    {"type": "thinking", "thinking": "Search first.", "signature": "EqQB"},
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "rust release"}},
    {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
      {"type": "web_search_result", "url": "https://blog.rust-lang.org/a", "title": "Rust A", "encrypted_content": "x", "page_age": null},
      {"type": "web_search_result", "url": "https://example.com/b", "title": "B", "encrypted_content": "y"}
    ]},
    {"type": "text", "text": "Rust shipped. "},
    {"type": "text", "text": "Fast \u00e9dition.", "citations": [
      {"type": "web_search_result_location", "url": "https://blog.rust-lang.org/a", "title": "Rust A", "cited_text": "Rust 2.0 is out", "encrypted_index": "z"}
    ]},
    {"type": "thinking", "thinking": "Then call.", "signature": "EqQC"},
    {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x", "n": [1, 2]}}
  ],
  "stop_reason": "tool_use", "stop_sequence": null,
  "container": {"id": "container_1", "expires_at": "2026-01-01T00:00:00Z"},
  "usage": {"input_tokens": 10, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 4, "output_tokens": 20,
            "output_tokens_details": {"thinking_tokens": 7}, "server_tool_use": {"web_search_requests": 1}}
}"#;

#[test]
fn unary_response_decodes_everything() {
    let out = parse_response(Bytes::from_static(UNARY.as_bytes()), &T.ctx()).unwrap();
    assert_reply(
        &out,
        "Rust shipped. Fast édition.",
        Some("Search first.\nThen call."),
        &[ToolCall::new("toolu_1", "lookup", json!({"q": "x", "n": [1, 2]}))],
    );
    let f = out.finish_reason.as_ref().unwrap();
    assert_eq!((f.kind, f.raw.as_str()), (FinishKind::ToolCall, "tool_use"));
    let u = &out.usage;
    assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (Some(17), Some(20), Some(37)));
    assert_eq!((u.cache_read_tokens, u.cache_creation_tokens, u.reasoning_tokens), (Some(4), Some(3), Some(7)));
    assert_eq!(u.raw.as_ref().unwrap().to_value()["server_tool_use"]["web_search_requests"], json!(1));
    assert_eq!(out.metadata.response_id.as_deref(), Some("msg_01"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert!(out.metadata.raw_response.is_some());
    assert_eq!(out.container, Some(json!({"id": "container_1", "expires_at": "2026-01-01T00:00:00Z"})));

    // Thinking and server tools need the whole content array replayed.
    let full: Value = serde_json::from_str(UNARY).unwrap();
    assert_eq!(Value::Array(out.signature.clone()), full["content"]);

    let g = out.grounding.as_ref().unwrap();
    assert_eq!(g.queries, ["rust release"]);
    assert_eq!(g.sources.len(), 2);
    assert_eq!(g.sources[0].title.as_deref(), Some("Rust A"));
    assert_eq!(g.sources[0].domain.as_deref(), Some("blog.rust-lang.org"));
    // The citation spans its whole text block, in characters.
    assert_eq!(g.citations.len(), 1);
    let c = &g.citations[0];
    assert_eq!((c.start, c.end, c.source_indices.as_slice()), (14, 27, &[0][..]));
    assert_eq!(c.cited_text.as_deref(), Some("Rust 2.0 is out"));
    assert_eq!(out.content.chars().skip(c.start).take(c.end - c.start).collect::<String>(), "Fast édition.");

    // The next turn replays the whole turn verbatim and carries the container.
    let next = build(&T.request(vec![Message::user("q").into(), out.message().into(), Message::user("go on").into()]));
    assert_eq!(next["messages"][1]["content"], full["content"]);
    assert_eq!(next["container"], json!("container_1"));
}

#[test]
fn plain_turns_have_no_signature_and_programmatic_calls_do() {
    let plain = r#"{"id": "m", "type": "message", "content": [
        {"type": "text", "text": "Calling."},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}, "caller": {"type": "direct"}}
    ], "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 2}}"#;
    let out = parse_response(Bytes::from_static(plain.as_bytes()), &T.ctx()).unwrap();
    assert!(out.signature.is_empty());
    assert_eq!(out.tool_calls, vec![ToolCall::new("toolu_1", "f", json!({}))]);
    assert_eq!((out.usage.input_tokens, out.usage.total_tokens), (Some(1), Some(3)));
    assert_eq!(out.usage.cache_read_tokens, None);
    // A rebuilt turn: text then tool_use.
    let next = build(&T.request(vec![out.message().into()]));
    assert_eq!(
        next["messages"][0]["content"],
        json!([{"type": "text", "text": "Calling."}, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}])
    );

    let programmatic = r#"{"content": [
        {"type": "tool_use", "id": "toolu_2", "name": "query", "input": {"sql": "SELECT 2"},
         "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_1"}}
    ], "stop_reason": "tool_use"}"#;
    let out = parse_response(Bytes::from_static(programmatic.as_bytes()), &T.ctx()).unwrap();
    assert_eq!(out.signature.len(), 1);
    assert_eq!(out.signature[0]["caller"]["tool_id"], json!("srvtoolu_1"));
    assert_eq!(out.tool_calls.len(), 1);
    assert!(out.usage.is_empty());
}

#[test]
fn unary_error_refusal_and_garbage() {
    let body = r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
    let err = parse_response(Bytes::from(body), &T.ctx()).unwrap_err();
    match err {
        Error::StreamEvent(e) => {
            assert_eq!(e.message, "Overloaded");
            assert_eq!(e.error_type.as_deref(), Some("overloaded_error"));
        }
        other => panic!("{other:?}"),
    }

    let body = r#"{"id": "msg_r", "type": "message", "content": [], "stop_reason": "refusal",
                   "stop_details": {"type": "refusal", "category": "cyber"}, "usage": {"input_tokens": 5, "output_tokens": 1}}"#;
    let out = parse_response(Bytes::from(body), &T.ctx()).unwrap();
    assert_eq!(out.content, "");
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::ContentFilter);
    assert!(out.reasoning.is_none() && out.grounding.is_none() && out.container.is_none());

    let err = parse_response(Bytes::from_static(b"<html>oops</html>"), &T.ctx()).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------------
// Streams

fn block_start(index: usize, block: Value) -> Vec<u8> {
    ev(json!({"type": "content_block_start", "index": index, "content_block": block}))
}

fn delta(index: usize, d: Value) -> Vec<u8> {
    ev(json!({"type": "content_block_delta", "index": index, "delta": d}))
}

fn stop(index: usize) -> Vec<u8> {
    ev(json!({"type": "content_block_stop", "index": index}))
}

fn stream_events() -> Vec<Vec<u8>> {
    vec![
        ev(json!({"type": "message_start", "message": {"id": "msg_s", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 0, "output_tokens": 1}}})),
        block_start(0, json!({"type": "thinking", "thinking": "", "signature": ""})),
        ev(json!({"type": "ping"})),
        delta(0, json!({"type": "thinking_delta", "thinking": "Let me "})),
        delta(0, json!({"type": "thinking_delta", "thinking": ""})),
        delta(0, json!({"type": "thinking_delta", "thinking": "think."})),
        delta(0, json!({"type": "signature_delta", "signature": "EuQB"})),
        stop(0),
        block_start(1, json!({"type": "text", "text": ""})),
        delta(1, json!({"type": "text_delta", "text": "Hel"})),
        delta(1, json!({"type": "text_delta", "text": "lo"})),
        stop(1),
        block_start(2, json!({"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {}})),
        delta(2, json!({"type": "input_json_delta", "partial_json": ""})),
        delta(2, json!({"type": "input_json_delta", "partial_json": "{\"city\":"})),
        delta(2, json!({"type": "input_json_delta", "partial_json": " \"Paris\"}"})),
        stop(2),
        block_start(3, json!({"type": "tool_use", "id": "toolu_10", "name": "noop", "input": {}})),
        stop(3),
        ev(json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 42}})),
        ev(json!({"type": "message_stop"})),
    ]
}

#[test]
fn stream_decodes_text_thinking_tool_use_and_usage() {
    for named in [false, true] {
        let mut dec = AnthropicDecoder::new(T.ctx());
        let (chunks, out) = if named {
            decode_named(&mut dec, &named_by_type(&stream_events()))
        } else {
            decode_all(&mut dec, &stream_events())
        };
        let out = out.unwrap();
        assert_eq!(streamed_text(&chunks), "Hello");
        let reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
        assert_eq!(reasoning, "Let me think.");
        let deltas: Vec<&ToolCallDelta> = chunks.iter().filter_map(|c| c.tool_call.as_ref()).collect();
        assert_eq!(deltas.len(), 4, "{deltas:?}");
        assert_eq!(
            (deltas[0].index, deltas[0].id.as_deref(), deltas[0].name.as_deref()),
            (0, Some("toolu_9"), Some("lookup"))
        );
        let args: String = deltas.iter().filter(|d| d.index == 0).map(|d| d.arguments.as_str()).collect();
        assert_eq!(args, "{\"city\": \"Paris\"}");
        assert_eq!((deltas[3].index, deltas[3].name.as_deref()), (1, Some("noop")));

        assert_reply(
            &out,
            "Hello",
            Some("Let me think."),
            &[
                ToolCall::new("toolu_9", "lookup", json!({"city": "Paris"})),
                ToolCall::new("toolu_10", "noop", json!({})),
            ],
        );
        // Thinking needs the whole turn replayed, with the signature rebuilt from its deltas.
        assert_eq!(
            out.signature,
            vec![
                json!({"type": "thinking", "thinking": "Let me think.", "signature": "EuQB"}),
                json!({"type": "text", "text": "Hello"}),
                json!({"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"city": "Paris"}}),
                json!({"type": "tool_use", "id": "toolu_10", "name": "noop", "input": {}}),
            ]
        );
        // message_delta's cumulative usage over message_start's.
        let u = &out.usage;
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.total_tokens, u.cache_read_tokens),
            (Some(15), Some(42), Some(57), Some(5))
        );
        assert_eq!(u.raw.as_ref().unwrap().to_value()["output_tokens"], json!(42));
        let f = out.finish_reason.as_ref().unwrap();
        assert_eq!((f.kind, f.raw.as_str()), (FinishKind::ToolCall, "tool_use"));
        assert_eq!(out.metadata.response_id.as_deref(), Some("msg_s"));
        assert_eq!(out.metadata.response_model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        // The raw response is the rebuilt message.
        let raw = out.metadata.raw_json().unwrap();
        assert_eq!(raw["stop_reason"], json!("tool_use"));
        assert_eq!(raw["content"].as_array().unwrap().len(), 4);
        // The usage chunk rides on message_delta.
        let last = chunks.last().unwrap();
        assert_eq!(last.usage.as_ref().and_then(|u| u.output_tokens), Some(42));
        assert_eq!(last.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::ToolCall));
    }
}

#[test]
fn stream_usage_is_a_cumulative_snapshot() {
    let events = vec![
        ev(json!({"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 43, "output_tokens": 1}}})),
        block_start(0, json!({"type": "text", "text": ""})),
        delta(0, json!({"type": "text_delta", "text": "pong"})),
        ev(
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"input_tokens": 61, "output_tokens": 2}}),
        ),
        ev(json!({"type": "message_stop"})),
    ];
    let (_, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    let out = out.unwrap();
    assert_eq!((out.usage.input_tokens, out.usage.output_tokens), (Some(61), Some(2)));
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Stop);
    assert!(out.signature.is_empty());
}

#[test]
fn stream_server_tools_ground_and_report_activity() {
    let events = vec![
        ev(json!({"type": "message_start", "message": {"id": "m", "model": "claude-sonnet-4", "content": []}})),
        block_start(0, json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}})),
        delta(0, json!({"type": "input_json_delta", "partial_json": "{\"query\": \"ru"})),
        delta(0, json!({"type": "input_json_delta", "partial_json": "st\"}"})),
        stop(0),
        block_start(
            1,
            json!({"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "url": "https://rust-lang.org/", "title": "Rust", "encrypted_content": "e"}]}),
        ),
        stop(1),
        block_start(2, json!({"type": "text", "text": ""})),
        delta(2, json!({"type": "text_delta", "text": "Intro. "})),
        stop(2),
        block_start(3, json!({"type": "text", "text": "", "citations": []})),
        delta(
            3,
            json!({"type": "citations_delta", "citation": {"type": "web_search_result_location",
            "url": "https://rust-lang.org/", "title": "Rust", "cited_text": "A language", "encrypted_index": "i"}}),
        ),
        delta(3, json!({"type": "text_delta", "text": "Rust is fast."})),
        stop(3),
        ev(json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}})),
        ev(json!({"type": "message_stop"})),
    ];
    let (chunks, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    let out = out.unwrap();
    let activity: Vec<&ToolActivity> = chunks.iter().filter_map(|c| c.tool_activity.as_ref()).collect();
    assert_eq!(
        activity,
        [
            &ToolActivity { tool_name: "web_search".into(), status: ToolActivityStatus::Started },
            &ToolActivity { tool_name: "web_search".into(), status: ToolActivityStatus::Completed },
        ]
    );
    // Server tool input is not a client tool call.
    assert!(chunks.iter().all(|c| c.tool_call.is_none()));
    assert!(out.tool_calls.is_empty());
    assert_eq!(out.content, "Intro. Rust is fast.");
    let g = out.grounding.unwrap();
    assert_eq!(g.queries, ["rust"]);
    assert_eq!(g.sources.len(), 1);
    assert_eq!(g.citations.len(), 1);
    assert_eq!((g.citations[0].start, g.citations[0].end), (7, 20));
    let kinds: Vec<&str> = out.signature.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["server_tool_use", "web_search_tool_result", "text", "text"]);
    assert_eq!(out.signature[0]["input"], json!({"query": "rust"}));
    assert_eq!(out.signature[3]["citations"][0]["cited_text"], json!("A language"));
}

/// The reference's native-replay regression: a programmatic tool call keeps its `caller`, the
/// container is recovered, and the next request replays the turn verbatim.
#[test]
fn stream_programmatic_tool_use_replays_with_its_caller_and_container() {
    let caller = json!({"type": "code_execution_20260120", "tool_id": "srvtoolu_01"});
    let container = json!({"id": "container_xyz", "expires_at": "2026-07-08T00:00:00Z"});
    let events = vec![
        ev(json!({"type": "message_start", "message": {"id": "msg_01", "container": container}})),
        block_start(0, json!({"type": "server_tool_use", "id": "srvtoolu_01", "name": "code_execution"})),
        delta(
            0,
            json!({"type": "input_json_delta", "partial_json": "{\"code\":\"rows = await query_database(...)\"}"}),
        ),
        block_start(1, json!({"type": "tool_use", "id": "toolu_01", "name": "query_database", "caller": caller})),
        delta(1, json!({"type": "input_json_delta", "partial_json": "{\"sql\":\"SELECT 1\"}"})),
        ev(json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 10}})),
        ev(json!({"type": "message_stop"})),
    ];
    let (_, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    let out = out.unwrap();
    let kinds: Vec<&str> = out.signature.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["server_tool_use", "tool_use"]);
    assert_eq!(out.signature[1]["caller"], caller);
    assert_eq!(out.container, Some(container));
    assert_eq!(out.tool_calls, vec![ToolCall::new("toolu_01", "query_database", json!({"sql": "SELECT 1"}))]);

    let next = build(&T.request(vec![out.message().into()]));
    assert_eq!(next["messages"][0]["content"], Value::Array(out.signature.clone()));
    assert_eq!(next["container"], json!("container_xyz"));

    // A continuation that carries only the programmatic call still replays it verbatim; a server tool
    // result alone does too.
    let events = vec![
        block_start(0, json!({"type": "tool_use", "id": "toolu_02", "name": "query_database", "caller": caller})),
        delta(0, json!({"type": "input_json_delta", "partial_json": "{\"sql\":\"SELECT 2\"}"})),
        ev(json!({"type": "message_stop"})),
    ];
    let (_, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    assert_eq!(out.unwrap().signature[0]["caller"], caller);
    let events = vec![
        block_start(
            0,
            json!({"type": "bash_code_execution_tool_result", "tool_use_id": "s", "content": [{"type": "text", "text": "1\n"}]}),
        ),
        delta(1, json!({"type": "text_delta", "text": "done"})),
        ev(json!({"type": "message_stop"})),
    ];
    let (chunks, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    let out = out.unwrap();
    let kinds: Vec<&str> = out.signature.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["bash_code_execution_tool_result", "text"]);
    assert_eq!(out.content, "done");
    assert_eq!(
        chunks[0].tool_activity,
        Some(ToolActivity { tool_name: "bash_code_execution".into(), status: ToolActivityStatus::Completed })
    );
}

#[test]
fn stream_error_event_is_typed_and_keeps_earlier_chunks() {
    let events = vec![
        block_start(0, json!({"type": "text", "text": ""})),
        delta(0, json!({"type": "text_delta", "text": "partial"})),
        ev(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
    ];
    for named in [false, true] {
        let mut dec = AnthropicDecoder::new(T.ctx());
        let (chunks, out) =
            if named { decode_named(&mut dec, &named_by_type(&events)) } else { decode_all(&mut dec, &events) };
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].content, "partial");
        let e = event_error(out);
        assert_eq!(message_and_type(&e), ("Overloaded", Some("overloaded_error")));
        assert_eq!(e.origin, Origin::Provider(Provider::Anthropic));
    }
}

#[test]
fn stream_without_message_stop_is_truncated() {
    let mut events = stream_events();
    events.pop();
    let (chunks, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    assert!(!chunks.is_empty());
    assert!(matches!(out, Err(Error::StreamTruncated { .. })), "{out:?}");

    let (_, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &[]);
    assert!(matches!(out, Err(Error::StreamTruncated { .. })), "{out:?}");
}

#[test]
fn malformed_events_are_decode_errors() {
    for bad in
        [b"{not json".to_vec(), delta(0, json!("not an object")), delta(0, json!({"type": "text_delta", "text": 5}))]
    {
        let mut dec = AnthropicDecoder::new(T.ctx());
        let mut events = vec![block_start(0, json!({"type": "text", "text": ""}))];
        events.push(bad.clone());
        let (_, out) = decode_all(&mut dec, &events);
        assert!(matches!(out, Err(Error::Decode { .. })), "{}: {out:?}", String::from_utf8_lossy(&bad));
    }
}

// ---------------------------------------------------------------------------------------------------
// Conformance over the real recordings

/// What a recording says, read independently of the decoder (with `serde_json::Value`).
#[derive(Default, Debug)]
struct Expected {
    text: String,
    /// Per thinking block.
    reasoning: Vec<String>,
    /// (id, name, arguments) of client tool calls.
    calls: Vec<(String, String, Value)>,
    usage: Map<String, Value>,
    finish: Option<String>,
    id: Option<String>,
    citations: usize,
    native: bool,
}

impl Expected {
    fn input_tokens(&self) -> Option<u64> {
        let n = |k: &str| self.usage.get(k).and_then(Value::as_u64);
        n("input_tokens")
            .map(|i| i + n("cache_read_input_tokens").unwrap_or(0) + n("cache_creation_input_tokens").unwrap_or(0))
    }

    fn add_block(&mut self, b: &Value) {
        let kind = b["type"].as_str().unwrap_or_default();
        if matches!(kind, "thinking" | "redacted_thinking" | "server_tool_use") || kind.ends_with("_tool_result") {
            self.native = true;
        }
        match kind {
            "text" => {
                self.text.push_str(b["text"].as_str().unwrap_or_default());
                self.citations += b["citations"].as_array().map_or(0, Vec::len);
            }
            "thinking" => self.reasoning.push(b["thinking"].as_str().unwrap_or_default().to_string()),
            "tool_use" => self.calls.push((
                b["id"].as_str().unwrap().to_string(),
                b["name"].as_str().unwrap().to_string(),
                b["input"].clone(),
            )),
            _ => {}
        }
    }
}

fn expected_from_message(m: &Value) -> Expected {
    let mut e = Expected::default();
    for b in m["content"].as_array().unwrap() {
        e.add_block(b);
    }
    e.usage = m["usage"].as_object().cloned().unwrap_or_default();
    e.finish = m["stop_reason"].as_str().map(str::to_string);
    e.id = m["id"].as_str().map(str::to_string);
    e
}

fn expected_from_events(events: &[Value]) -> Expected {
    let mut blocks: BTreeMap<u64, Value> = BTreeMap::new();
    let mut json_text: BTreeMap<u64, String> = BTreeMap::new();
    let mut e = Expected::default();
    for event in events {
        let index = event["index"].as_u64().unwrap_or(0);
        match event["type"].as_str().unwrap() {
            "message_start" => {
                e.id = event["message"]["id"].as_str().map(str::to_string);
                e.usage = event["message"]["usage"].as_object().cloned().unwrap_or_default();
            }
            "content_block_start" => {
                blocks.insert(index, event["content_block"].clone());
            }
            "content_block_delta" => {
                let b = blocks.get_mut(&index).unwrap();
                let d = &event["delta"];
                let append = |b: &mut Value, field: &str, piece: &Value| {
                    let s = format!("{}{}", b[field].as_str().unwrap_or_default(), piece.as_str().unwrap_or_default());
                    b[field] = Value::String(s);
                };
                match d["type"].as_str().unwrap() {
                    "text_delta" => append(b, "text", &d["text"]),
                    "thinking_delta" => append(b, "thinking", &d["thinking"]),
                    "signature_delta" => append(b, "signature", &d["signature"]),
                    "citations_delta" => {
                        if !b["citations"].is_array() {
                            b["citations"] = json!([]);
                        }
                        b["citations"].as_array_mut().unwrap().push(d["citation"].clone());
                    }
                    "input_json_delta" => {
                        json_text.entry(index).or_default().push_str(d["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unexpected delta {other}"),
                }
            }
            "message_delta" => {
                e.finish = event["delta"]["stop_reason"].as_str().map(str::to_string);
                for (k, v) in event["usage"].as_object().unwrap() {
                    e.usage.insert(k.clone(), v.clone());
                }
            }
            _ => {}
        }
    }
    for (index, mut b) in blocks {
        if let Some(text) = json_text.get(&index).filter(|t| !t.is_empty()) {
            b["input"] = serde_json::from_str(text).unwrap();
        }
        e.add_block(&b);
    }
    e
}

fn check(name: &str, out: &Output<String>, e: &Expected) {
    assert_eq!(out.content, e.text, "{name}");
    let reasoning: Vec<&String> = e.reasoning.iter().filter(|r| !r.is_empty()).collect();
    let reasoning =
        (!reasoning.is_empty()).then(|| reasoning.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"));
    assert_eq!(out.reasoning, reasoning, "{name}");
    assert_eq!(out.tool_calls.len(), e.calls.len(), "{name}");
    for (call, (id, n, args)) in out.tool_calls.iter().zip(&e.calls) {
        assert_eq!((&call.id, &call.name, &call.arguments), (id, n, args), "{name}");
        assert!(call.arguments.is_object(), "{name}");
    }
    assert_eq!(out.finish_reason.as_ref().map(|f| f.raw.clone()), e.finish, "{name}");
    assert!(out.finish_reason.is_some(), "{name}: no finish reason");
    assert_eq!(out.usage.input_tokens, e.input_tokens(), "{name}");
    assert!(out.usage.input_tokens.is_some(), "{name}: no usage");
    assert_eq!(out.usage.output_tokens, e.usage.get("output_tokens").and_then(Value::as_u64), "{name}");
    assert_eq!(
        out.usage.raw.as_ref().map(|r| r.to_value()).as_ref().and_then(Value::as_object),
        Some(&e.usage),
        "{name}"
    );
    assert_eq!(out.metadata.response_id, e.id, "{name}");
    assert_eq!(out.signature.is_empty(), !e.native, "{name}");
    assert_eq!(out.grounding.as_ref().map_or(0, |g| g.citations.len()), e.citations, "{name}");
}

#[test]
fn recorded_anthropic_messages_conform() {
    conform("anthropic", 13, crate::wire::WireApi::AnthropicMessages, T, |name, replay| {
        if let Replay::Stream { chunks, out, values } = replay {
            let expected = expected_from_events(&values);
            check(name, &out, &expected);
            let streamed_reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
            assert_eq!(streamed_reasoning, expected.reasoning.concat(), "{name}");
            // Client tool-call deltas reassemble into the calls' arguments.
            for (i, (id, n, args)) in expected.calls.iter().enumerate() {
                let deltas: Vec<&ToolCallDelta> =
                    chunks.iter().filter_map(|c| c.tool_call.as_ref()).filter(|d| d.index == i).collect();
                assert_eq!((deltas[0].id.as_ref(), deltas[0].name.as_ref()), (Some(id), Some(n)), "{name}");
                let text: String = deltas.iter().map(|d| d.arguments.as_str()).collect();
                assert_eq!(parse_arguments(&text), *args, "{name}");
            }
            let last_usage = chunks.iter().rev().find_map(|c| c.usage.as_ref()).unwrap();
            assert_eq!(last_usage.output_tokens, out.usage.output_tokens, "{name}");
            if name.contains("web-search") {
                let activity = chunks.iter().filter(|c| c.tool_activity.is_some()).count();
                assert_eq!(activity, 2, "{name}");
                let g = out.grounding.as_ref().unwrap();
                assert_eq!(g.queries.len(), 1, "{name}");
                assert!(!g.sources.is_empty(), "{name}");
            }
        } else if let Replay::Unary { out, value: v } = replay {
            let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
            check(name, &out, &expected_from_message(&v));
            if !out.signature.is_empty() {
                assert_eq!(Value::Array(out.signature.clone()), v["content"], "{name}");
            }
        }
        true
    });
}

/// `pause_turn` is not the end of the turn: its own finish kind, unary and streamed, raw value kept.
#[test]
fn pause_turn_is_paused_not_stop() {
    let body = json!({"id": "msg_p", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}}],
        "stop_reason": "pause_turn", "usage": {"input_tokens": 5, "output_tokens": 1}});
    let out = parse_response(Bytes::from(body.to_string()), &T.ctx()).unwrap();
    let finish = out.finish_reason.unwrap();
    assert_eq!((finish.kind, finish.raw.as_str()), (FinishKind::Paused, "pause_turn"));

    let events = vec![
        ev(json!({"type": "message_start", "message": {"id": "msg_p", "type": "message", "role": "assistant",
            "content": [], "model": "claude-sonnet-4-5", "usage": {"input_tokens": 5, "output_tokens": 1}}})),
        block_start(0, json!({"type": "text", "text": ""})),
        delta(0, json!({"type": "text_delta", "text": "Searching"})),
        stop(0),
        ev(json!({"type": "message_delta", "delta": {"stop_reason": "pause_turn"}, "usage": {"output_tokens": 2}})),
        ev(json!({"type": "message_stop"})),
    ];
    let (chunks, out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    assert_eq!(out.unwrap().finish_reason.map(|f| f.kind), Some(FinishKind::Paused));
    assert_eq!(chunks.last().unwrap().finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Paused));
}

// ---------------------------------------------------------------------------------------------------
// The reference's 1.0.0

/// Compaction blocks are native replay blocks: a unary reply keeps them, a stream rebuilds them with
/// the `compaction_delta`'s `content` and `encrypted_content` set on the block, and the next turn
/// sends the whole content back verbatim.
#[test]
fn compaction_blocks_are_captured_and_replayed() {
    let compaction = json!({"type": "compaction", "content": "Summary so far.", "encrypted_content": "opaque"});
    let text = json!({"type": "text", "text": "Go on."});
    let unary = json!({"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [compaction, text], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}});
    let out = parse_response(Bytes::from(unary.to_string()), &T.ctx()).unwrap();
    assert_eq!(out.signature, [compaction.clone(), text.clone()]);

    let events = vec![
        ev(json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 1}}})),
        block_start(0, json!({"type": "compaction", "content": null})),
        delta(0, json!({"type": "compaction_delta", "content": "Summary so far.", "encrypted_content": "opaque"})),
        stop(0),
        block_start(1, json!({"type": "text", "text": ""})),
        delta(1, json!({"type": "text_delta", "text": "Go on."})),
        stop(1),
        ev(json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}})),
        ev(json!({"type": "message_stop"})),
    ];
    let (_, streamed) = decode_named(&mut AnthropicDecoder::new(T.ctx()), &named_by_type(&events));
    let streamed = streamed.unwrap();
    assert_eq!(streamed.signature, out.signature);
    assert_eq!(streamed.content, "Go on.");

    let items: Vec<Item> = vec![Message::user("hi").into(), streamed.message().into(), Message::user("more").into()];
    let body = build(&T.request(items));
    assert_eq!(body["messages"][1], json!({"role": "assistant", "content": [compaction, text]}));
}

/// `toolset_name` goes from a `tool_use` block onto the call, back on the replayed `tool_use`, and onto
/// the `tool_result` that answers it.
#[test]
fn toolset_name_round_trips() {
    let unary = json!({"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "x"}, "toolset_name": "docs"}],
        "stop_reason": "tool_use"});
    let out = parse_response(Bytes::from(unary.to_string()), &T.ctx()).unwrap();
    assert_eq!(out.tool_calls[0].extra["toolset_name"], json!("docs"));
    let items: Vec<Item> =
        vec![Message::user("find").into(), out.message().into(), ToolResult::new("toolu_1", "found").into()];
    let body = build(&T.request(items));
    assert_eq!(
        body["messages"][1]["content"][0],
        json!({"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "x"}, "toolset_name": "docs"})
    );
    assert_eq!(
        body["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "found", "toolset_name": "docs"})
    );
}

/// On Vertex AI: `anthropic_version` in the body, no `model`, no version header, and the web search
/// tool at the version Vertex serves.
#[test]
fn the_vertex_envelope_downgrades_web_search() {
    let mut req = T.user("news?");
    req.model = "claude-opus-4-7".into();
    req.tools = vec![WebSearch::new().into()];
    let ctx = WireContext { model: req.model.clone(), ..T.ctx() };
    let mut built = crate::wire::WireApi::AnthropicMessages.build(&req, &ctx, false, "u".into()).unwrap();
    assert_eq!(built.body["tools"][0]["type"], json!("web_search_20260209"));
    vertex_envelope(&mut built);
    assert_eq!(built.body["anthropic_version"], json!("vertex-2023-10-16"));
    assert!(built.body.get("model").is_none());
    assert_eq!(built.body["tools"][0], json!({"type": "web_search_20250305", "name": "web_search"}));
    assert!(built.headers.iter().all(|(name, _)| name != "anthropic-version"));
}

#[test]
fn named_block_deltas_decoded_in_one_pass_give_the_same_stream() {
    // Named `content_block_delta` events take the one-pass decode; unnamed ones the general path.
    let events = stream_events();
    let (plain, plain_out) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &events);
    let (named, named_out) = decode_named(&mut AnthropicDecoder::new(T.ctx()), &named_by_type(&events));
    assert_eq!(format!("{plain:?}"), format!("{named:?}"));
    assert_eq!(format!("{:?}", plain_out.unwrap()), format!("{:?}", named_out.unwrap()));
    // A delta that does not decode is reported the same way on both paths.
    let bad =
        vec![block_start(0, json!({"type": "text", "text": ""})), delta(0, json!({"type": "text_delta", "text": 5}))];
    let (_, plain_err) = decode_all(&mut AnthropicDecoder::new(T.ctx()), &bad);
    let (_, named_err) = decode_named(&mut AnthropicDecoder::new(T.ctx()), &named_by_type(&bad));
    assert_eq!(format!("{:?}", plain_err.unwrap_err()), format!("{:?}", named_err.unwrap_err()));
}
