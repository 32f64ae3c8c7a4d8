use super::*;
use crate::error::Origin;
use crate::testing::decode_all;
use crate::text::TextParams;
use crate::types::artifact::Artifact;
use crate::types::enums::Provider;
use crate::types::message::ToolResult;
use crate::types::tool::{FunctionTool, ToolCall, ToolCallDelta, WebSearch};
use crate::types::usage::FinishKind;
use crate::wire::testkit::{Replay, around_messages, assert_openai_calls, assert_reply, conform, streamed_text};
use crate::wire::testkit::{
    Setup, around, decode_named, ev, event_error, keys, message_and_type, named_by_type, sorted,
};

/// The call these tests make.
const T: Setup = Setup::new(Origin::Provider(Provider::Cohere), "command-a-03-2025");

// ---------------------------------------------------------------------------------------------------
// Request contracts

#[test]
fn every_parameter_maps_to_its_field_and_none_omits_it() {
    let bare = build_request(&T.user("hi"), &T.ctx(), false).unwrap();
    assert_eq!(keys(&bare), ["messages", "model"]);
    assert_eq!(bare["model"], json!("command-a-03-2025"));
    assert_eq!(bare["messages"], json!([{"role": "user", "content": "hi"}]));

    // The plain fields (and the parameters this API drops) are held to the table by
    // `params::every_parameter_reaches_the_wire_or_is_reported`; these are the module's own.
    let cases: Vec<(TextParams, &str, Value)> = vec![
        (
            TextParams { thinking_budget: Some(2048), ..TextParams::default() },
            "thinking",
            json!({"type": "enabled", "token_budget": 2048}),
        ),
        (TextParams { thinking_budget: Some(-1), ..TextParams::default() }, "thinking", json!({"type": "enabled"})),
        (TextParams { thinking_budget: Some(0), ..TextParams::default() }, "thinking", json!({"type": "disabled"})),
    ];
    for (params, field, value) in cases {
        let body = build_request(&T.with_params(params.clone()), &T.ctx(), false).unwrap();
        assert_eq!(keys(&body), sorted(vec!["messages", "model", field]), "{params:?}");
        assert_eq!(body[field], value, "{params:?}");
    }

    // A budget below -1 means nothing: it is rejected before any request.
    let err = build_request(
        &T.with_params(TextParams { thinking_budget: Some(-5), ..TextParams::default() }),
        &T.ctx(),
        false,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[test]
fn streaming_sets_the_stream_flag_only_when_streaming() {
    let body = build_request(&T.user("hi"), &T.ctx(), true).unwrap();
    assert_eq!(keys(&body), ["messages", "model", "stream"]);
    assert_eq!(body["stream"], json!(true));
    assert!(build_request(&T.user("hi"), &T.ctx(), false).unwrap().get("stream").is_none());
}

#[test]
fn messages_per_role_tool_calls_and_tool_results() {
    let mut calling = Message::assistant("").with_tool_calls(vec![
        ToolCall::new("get_weather_1", "get_weather", json!({"city": "Paris"})),
        ToolCall::new("get_time_2", "get_time", json!({})),
    ]);
    calling.content.clear();
    calling.reasoning = Some("I will look up the weather and the time.".into());
    let mut answered = Message::assistant("It is 21°C.");
    answered.reasoning = Some("thinking is not replayed".into());
    let after: Vec<Item> = vec![
        ToolResult::new("get_weather_1", json!({"temp": 21})).into(),
        ToolResult::new("get_time_2", "12:00").with_name("get_time").into(),
        answered.into(),
        Message::new(Role::User, vec![]).into(),
    ];
    let items = around("weather?", calling, after);
    let body = build_request(&T.request(items), &T.ctx(), false).unwrap();
    let rest = json!([
        {"role": "assistant", "tool_plan": "I will look up the weather and the time.", "tool_calls": [
            {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "get_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "get_weather_1", "content": "{\"temp\":21}"},
        {"role": "tool", "tool_call_id": "get_time_2", "content": "12:00"},
        {"role": "assistant", "content": "It is 21°C."},
        {"role": "user", "content": ""},
    ]);
    assert_eq!(body["messages"], around_messages("system", "weather?", rest));

    // A calling turn with text keeps it, and without reasoning sends no tool_plan.
    let m = Message::assistant("Checking.").with_tool_calls(vec![ToolCall::new("c", "f", json!({"a": 1}))]);
    let body = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(keys(&body["messages"][0]), ["content", "role", "tool_calls"]);
    assert_eq!(body["messages"][0]["content"], json!("Checking."));

    // Several text parts become a list of text items.
    let m = Message::system("one").with_part(Part::text("two"));
    let body = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        json!([{"type": "text", "text": "one"}, {"type": "text", "text": "two"}])
    );

    // Caller-supplied wire fields pass through but never replace built ones.
    let mut m = Message::user("hi");
    m.extra.insert("name".into(), json!("alice"));
    m.extra.insert("role".into(), json!("system"));
    let body = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(body["messages"][0], json!({"role": "user", "content": "hi", "name": "alice"}));
}

#[test]
fn image_parts_and_unsupported_parts() {
    let m = Message::user("describe").with_part(Part::image(Artifact::from_url("https://x/cat.png")));
    let body = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
        ])
    );

    let cases = [
        (Message::user("x").with_part(Part::audio(Artifact::from_url("https://x/a.mp3"))), "audio content parts"),
        (Message::user("x").with_part(Part::video(Artifact::from_url("https://x/v.mp4"))), "video content parts"),
        (Message::user("x").with_part(Part::document(Artifact::from_url("https://x/d.pdf"))), "document content parts"),
        (
            Message::system("x").with_part(Part::image(Artifact::from_url("https://x/i.png"))),
            "image content parts in system messages",
        ),
        (
            Message::assistant("x").with_part(Part::image(Artifact::from_url("https://x/i.png"))),
            "image content parts in assistant messages",
        ),
    ];
    for (m, what) in cases {
        let err = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains(what), "{text}");
        assert!(text.contains("cohere"), "{text}");
        assert_eq!(err.provider(), Some(Provider::Cohere));
    }
}

#[test]
fn function_tools_tool_choice_and_unsupported_tools() {
    let mut req = T.user("hi");
    req.tools = vec![
        FunctionTool::new("get_weather", "Weather", json!({"type": "object"})).into(),
        FunctionTool::new("ping", "", json!({"type": "object"})).into(),
        Tool::Raw { value: json!({"type": "function", "function": {"name": "raw"}}) },
    ];
    let body = build_request(&req, &T.ctx(), false).unwrap();
    assert_eq!(
        body["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "raw"}},
        ])
    );

    let cases = [
        (ToolChoice::Auto, None),
        (ToolChoice::Required, Some(json!("REQUIRED"))),
        (ToolChoice::None, Some(json!("NONE"))),
    ];
    for (choice, wire) in cases {
        let mut req = T.user("hi");
        req.tool_choice = Some(choice.clone());
        let body = build_request(&req, &T.ctx(), false).unwrap();
        assert_eq!(body.get("tool_choice"), wire.as_ref(), "{choice:?}");
    }
    let mut req = T.user("hi");
    req.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    let err = build_request(&req, &T.ctx(), false).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("get_weather"), "{err}");

    for (tool, name) in [
        (Tool::WebSearch(WebSearch::new()), "web_search"),
        (Tool::CodeExecution, "code_execution"),
        (Tool::XSearch, "x_search"),
        (Tool::UrlContext, "url_context"),
    ] {
        let mut req = T.user("hi");
        req.tools = vec![tool];
        let err = build_request(&req, &T.ctx(), false).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(err.provider(), Some(Provider::Cohere));
    }
}

// ---------------------------------------------------------------------------------------------------
// Unary responses

const UNARY: &str = r#"{
  "id": "c0ffee00-0000-4000-a000-000000000001",
  "message": {
    "role": "assistant",
    "content": [
      {"type": "thinking", "thinking": "The user asks about penguins."},
      {"type": "text", "text": "Emperor penguins are the tallest."}
    ],
    "citations": [
      {"start": 0, "end": 16, "text": "Emperor penguins", "type": "TEXT_CONTENT", "content_index": 1,
       "sources": [{"type": "document", "id": "doc:0", "document": {"id": "doc:0", "title": "Tall penguins", "snippet": "..."}}]},
      {"start": 21, "end": 32, "text": "the tallest", "type": "TEXT_CONTENT", "content_index": 1,
       "sources": [{"type": "document", "id": "doc:1", "document": {"title": "Wiki", "url": "https://en.example.org/wiki/Penguin"}},
                   {"type": "document", "id": "doc:0", "document": {"id": "doc:0", "title": "Tall penguins"}}]},
      {"start": 4, "end": 9, "text": "asks", "type": "THINKING_CONTENT", "content_index": 0,
       "sources": [{"type": "document", "id": "doc:9", "document": {"title": "ignored"}}]},
      {"start": 0, "end": 7, "text": "Emperor", "sources": [{"type": "tool", "id": "tool:0", "tool_output": {"x": 1}}]}
    ]
  },
  "finish_reason": "COMPLETE",
  "usage": {"billed_units": {"input_tokens": 12, "output_tokens": 7, "search_units": 1},
            "tokens": {"input_tokens": 507, "output_tokens": 10}, "cached_tokens": 448}
}"#;

#[test]
fn unary_response_decodes_text_thinking_citations_and_usage() {
    let out = parse_response(Bytes::from_static(UNARY.as_bytes()), &T.ctx()).unwrap();
    assert_reply(&out, "Emperor penguins are the tallest.", Some("The user asks about penguins."), &[]);
    let f = out.finish_reason.as_ref().unwrap();
    assert_eq!((f.kind, f.raw.as_str()), (FinishKind::Stop, "COMPLETE"));
    let u = &out.usage;
    assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (Some(507), Some(10), None));
    assert_eq!(u.cache_read_tokens, Some(448));
    assert_eq!(u.billed_units, Some(19.0));
    assert_eq!(u.raw.as_ref().unwrap().to_value()["billed_units"]["search_units"], json!(1));
    assert_eq!(out.metadata.response_id.as_deref(), Some("c0ffee00-0000-4000-a000-000000000001"));
    assert_eq!(out.metadata.response_model, None);
    assert!(out.metadata.raw_json().is_some());

    let g = out.grounding.unwrap();
    let urls: Vec<&str> = g.sources.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls, ["doc:0", "https://en.example.org/wiki/Penguin"]);
    assert_eq!(g.sources[0].title.as_deref(), Some("Tall penguins"));
    assert_eq!(g.sources[0].domain, None);
    assert_eq!(g.sources[1].domain.as_deref(), Some("en.example.org"));
    assert_eq!(g.citations.len(), 2, "thinking and tool-only citations are left out");
    let c = &g.citations[0];
    assert_eq!((c.start, c.end, c.source_indices.clone()), (0, 16, vec![0]));
    assert_eq!(c.cited_text.as_deref(), Some("Emperor penguins"));
    assert_eq!(&out.content[c.start..c.end], "Emperor penguins");
    assert_eq!(g.citations[1].source_indices, [1, 0]);
}

/// The tool plan and the calls of the weather exchange, which the unary and the streamed tests both
/// decode.
const PLAN: &str = "I will check the weather.";

fn weather_calls() -> Vec<ToolCall> {
    vec![
        ToolCall::new("weather_a1", "weather", json!({"location": "Paris"})),
        ToolCall::new("clock_b2", "clock", json!({})),
    ]
}

#[test]
fn unary_tool_calls_with_a_tool_plan() {
    let body = json!({
        "id": "t1",
        "message": {"role": "assistant", "tool_plan": PLAN, "tool_calls": [
            {"id": "weather_a1", "type": "function", "function": {"name": "weather", "arguments": "{\"location\":\"Paris\"}"}},
            {"id": "clock_b2", "type": "function", "function": {"name": "clock", "arguments": ""}},
            {"id": "odd_c3", "type": "function", "function": {"name": "odd", "arguments": {"already": "an object"}}}
        ]},
        "finish_reason": "TOOL_CALL",
        "usage": {"tokens": {"input_tokens": 5, "output_tokens": 6}}
    });
    let out = parse_response(Bytes::from(body.to_string()), &T.ctx()).unwrap();
    let mut calls = weather_calls();
    calls.push(ToolCall::new("odd_c3", "odd", json!({"already": "an object"})));
    assert_reply(&out, "", Some(PLAN), &calls);
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
    assert_eq!(out.usage.billed_units, None);
    // The next turn replays the plan and the calls.
    let m = out.message();
    assert_eq!(m.tool_calls.len(), 3);
    let next = build_request(&T.request(vec![m.into()]), &T.ctx(), false).unwrap();
    assert_eq!(next["messages"][0]["tool_plan"], json!(PLAN));
    assert_eq!(next["messages"][0]["tool_calls"][0]["function"]["arguments"], json!("{\"location\":\"Paris\"}"));
}

#[test]
fn unary_failures_and_garbage() {
    let body = json!({"id": "x", "message": {"role": "assistant", "content": []}, "finish_reason": "ERROR"});
    let err = parse_response(Bytes::from(body.to_string()), &T.ctx()).unwrap_err();
    match &err {
        Error::StreamEvent(e) => {
            assert_eq!(e.error_type.as_deref(), Some("ERROR"));
            assert_eq!(e.origin, Origin::Provider(Provider::Cohere));
        }
        other => panic!("{other:?}"),
    }

    let err = parse_response(Bytes::from_static(b"<html>oops</html>"), &T.ctx()).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    let err = parse_response(Bytes::from_static(br#"{"message": "not an object"}"#), &T.ctx()).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------------
// Streams

fn content_delta(index: usize, field: &str, text: &str) -> Vec<u8> {
    ev(json!({"type": "content-delta", "index": index, "delta": {"message": {"content": {field: text}}}}))
}

fn message_end(reason: &str) -> Vec<u8> {
    ev(json!({"type": "message-end", "delta": {"finish_reason": reason, "usage": {
        "billed_units": {"input_tokens": 3, "output_tokens": 4}, "tokens": {"input_tokens": 30, "output_tokens": 40}, "cached_tokens": 20}}}))
}

fn start() -> Vec<u8> {
    ev(
        json!({"id": "s-1", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
    )
}

fn text_stream() -> Vec<Vec<u8>> {
    vec![
        start(),
        ev(
            json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}),
        ),
        content_delta(0, "thinking", "Think "),
        content_delta(0, "thinking", "hard."),
        ev(json!({"type": "content-end", "index": 0})),
        ev(
            json!({"type": "content-start", "index": 1, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ),
        content_delta(1, "text", "Emperor"),
        content_delta(1, "text", ""),
        content_delta(1, "text", " penguins \"rule\"."),
        ev(json!({"type": "citation-start", "index": 0, "delta": {"message": {"citations": {
            "start": 0, "end": 16, "text": "Emperor penguins", "type": "TEXT_CONTENT", "content_index": 1,
            "sources": [{"type": "document", "id": "doc:0", "document": {"id": "doc:0", "title": "Tall penguins"}}]}}}})),
        ev(json!({"type": "citation-end", "index": 0})),
        ev(json!({"type": "content-end", "index": 1})),
        message_end("COMPLETE"),
    ]
}

/// `events` decoded by a fresh decoder, each named by its `type` as Cohere sends them: the decoder (to
/// ask whether the stream ended), the chunks and the output.
fn decode(events: &[Vec<u8>]) -> (CohereDecoder, Vec<Chunk<String>>, Result<Output<String>>) {
    let mut dec = CohereDecoder::new(T.ctx());
    let (chunks, out) = decode_named(&mut dec, &named_by_type(events));
    (dec, chunks, out)
}

#[test]
fn stream_decodes_text_thinking_citations_and_usage() {
    let (dec, chunks, out) = decode(&text_stream());
    assert!(dec.is_terminal());
    let out = out.unwrap();
    assert_eq!(out.content, "Emperor penguins \"rule\".");
    assert_eq!(out.reasoning.as_deref(), Some("Think hard."));
    assert_eq!(streamed_text(&chunks), out.content);
    let reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(reasoning, "Think hard.");
    // Empty deltas yield no chunk: 2 thinking, 2 text, 1 final.
    assert_eq!(chunks.len(), 5);
    let last = chunks.last().unwrap();
    assert!(last.content.is_empty());
    assert_eq!(last.finish_reason.as_ref().unwrap().raw, "COMPLETE");
    assert_eq!(last.usage.as_ref().unwrap().input_tokens, Some(30));

    let u = &out.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.billed_units),
        (Some(30), Some(40), Some(20), Some(7.0))
    );
    assert!(u.raw.is_some());
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Stop);
    assert_eq!(out.metadata.response_id.as_deref(), Some("s-1"));
    assert_eq!(out.metadata.raw_json().unwrap()["type"], json!("message-end"));
    let g = out.grounding.unwrap();
    assert_eq!(g.sources.len(), 1);
    assert_eq!(g.sources[0].url, "doc:0");
    assert_eq!((g.citations[0].start, g.citations[0].end), (0, 16));
    assert_eq!(&out.content[0..16], "Emperor penguins");
}

#[test]
fn stream_dispatches_on_the_sse_event_name_when_the_payload_has_no_type() {
    let events: Vec<(Option<String>, Vec<u8>)> = vec![
        (Some("message-start".into()), ev(json!({"id": "s-2", "delta": {"message": {"content": []}}}))),
        (Some("content-delta".into()), ev(json!({"index": 0, "delta": {"message": {"content": {"text": "Hi"}}}}))),
        (Some("message-end".into()), ev(json!({"delta": {"finish_reason": "MAX_TOKENS"}}))),
    ];
    let mut dec = CohereDecoder::new(T.ctx());
    let (_, out) = decode_named(&mut dec, &events);
    let out = out.unwrap();
    assert_eq!(out.content, "Hi");
    assert_eq!(out.metadata.response_id.as_deref(), Some("s-2"));
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::Length);
    assert!(out.usage.is_empty());
}

fn tool_stream() -> Vec<Vec<u8>> {
    let call_delta = |i: usize, args: &str| {
        ev(
            json!({"type": "tool-call-delta", "index": i, "delta": {"message": {"tool_calls": {"function": {"arguments": args}}}}}),
        )
    };
    let call_start = |i: usize, id: &str, name: &str| {
        ev(json!({"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls": {
            "id": id, "type": "function", "function": {"name": name, "arguments": ""}}}}}))
    };
    vec![
        start(),
        ev(json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will "}}})),
        ev(json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "check the weather."}}})),
        call_start(0, "weather_a1", "weather"),
        call_delta(0, "{\"loc"),
        call_delta(0, "ation\": \"Paris\"}"),
        ev(json!({"type": "tool-call-end", "index": 0})),
        call_start(1, "clock_b2", "clock"),
        call_delta(1, ""),
        ev(json!({"type": "tool-call-end", "index": 1})),
        message_end("TOOL_CALL"),
    ]
}

#[test]
fn stream_assembles_tool_calls_from_argument_pieces() {
    let (_, chunks, out) = decode(&tool_stream());
    let out = out.unwrap();
    assert_reply(&out, "", Some(PLAN), &weather_calls());
    assert_eq!(out.finish_reason.unwrap().kind, FinishKind::ToolCall);

    let deltas: Vec<&ToolCallDelta> = chunks.iter().filter_map(|c| c.tool_call.as_ref()).collect();
    let shape: Vec<(usize, Option<&str>, Option<&str>, &str)> =
        deltas.iter().map(|d| (d.index, d.id.as_deref(), d.name.as_deref(), d.arguments.as_str())).collect();
    assert_eq!(
        shape,
        [
            (0, Some("weather_a1"), Some("weather"), ""),
            (0, None, None, "{\"loc"),
            (0, None, None, "ation\": \"Paris\"}"),
            (1, Some("clock_b2"), Some("clock"), ""),
        ]
    );
    let reasoning: Vec<&str> = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(reasoning, ["I will ", "check the weather."]);
}

#[test]
fn reasoning_blocks_are_separated_by_a_newline_in_streams_and_responses() {
    let events = vec![
        start(),
        content_delta(0, "thinking", "Think."),
        ev(json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "Plan."}}})),
        message_end("TOOL_CALL"),
    ];
    let mut dec = CohereDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &events);
    let streamed: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(streamed, "Think.\nPlan.");
    assert_eq!(out.unwrap().reasoning.as_deref(), Some("Think.\nPlan."));

    let body = json!({"message": {"content": [{"type": "thinking", "thinking": "Think."}], "tool_plan": "Plan."}});
    let out = parse_response(Bytes::from(body.to_string()), &T.ctx()).unwrap();
    assert_eq!(out.reasoning.as_deref(), Some("Think.\nPlan."));
}

#[test]
fn stream_without_message_end_is_truncated() {
    let mut events = text_stream();
    events.pop();
    let (dec, chunks, out) = decode(&events);
    assert!(!chunks.is_empty());
    assert!(!dec.is_terminal());
    match out {
        Err(Error::StreamTruncated { origin, reason }) => {
            assert_eq!(origin, Origin::Provider(Provider::Cohere));
            assert!(reason.contains("message-end"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let mut dec = CohereDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &[]);
    assert!(chunks.is_empty());
    assert!(matches!(out, Err(Error::StreamTruncated { .. })), "{out:?}");
}

#[test]
fn stream_errors_are_typed_and_keep_earlier_chunks() {
    // Cohere's failed generation: message-end with finish_reason ERROR and a message.
    let events = vec![
        start(),
        content_delta(0, "text", "partial"),
        ev(json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal failure"}})),
    ];
    let (_, chunks, out) = decode(&events);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].content, "partial");
    let e = event_error(out);
    assert_eq!(message_and_type(&e), ("internal failure", Some("ERROR")));
    assert_eq!(e.origin, Origin::Provider(Provider::Cohere));
    assert!(e.event.contains("message-end"), "{}", e.event);

    // ERROR without a message, an error message with another reason, an error event, a bare error.
    for event in [
        json!({"type": "message-end", "delta": {"finish_reason": "ERROR"}}),
        json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "error": "late failure"}}),
        json!({"type": "error", "message": "overloaded"}),
        json!({"error": {"message": "quota", "type": "rate_limit"}}),
    ] {
        let mut dec = CohereDecoder::new(T.ctx());
        let (_, out) = decode_all(&mut dec, &[start(), ev(event.clone())]);
        match out {
            Err(Error::StreamEvent(e)) => assert!(!e.message.is_empty(), "{event}"),
            other => panic!("{event}: {other:?}"),
        }
    }

    // Malformed JSON, and a well-formed event whose delta has the wrong shape.
    for bad in
        [b"{not json".to_vec(), ev(json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": 5}}}))]
    {
        let mut dec = CohereDecoder::new(T.ctx());
        let (_, out) = decode_all(&mut dec, &[start(), bad]);
        assert!(matches!(out, Err(Error::Decode { .. })), "{out:?}");
    }
}

#[test]
fn stream_tolerates_nulls_unknown_events_and_keep_alives() {
    let events = vec![
        start(),
        b"   ".to_vec(),
        ev(json!({"type": "debug", "prompt": "..."})),
        ev(json!({"type": "something-new", "delta": {"message": null}})),
        ev(json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": null}}})),
        ev(json!({"type": "content-delta", "index": 0, "delta": null})),
        content_delta(0, "text", "ok"),
        ev(json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": null}})),
    ];
    let mut dec = CohereDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &events);
    let out = out.unwrap();
    assert_eq!(out.content, "ok");
    assert!(out.usage.is_empty());
}

// ---------------------------------------------------------------------------------------------------
// Conformance over the real recordings

/// What a recorded stream's events say, read independently of the decoder (with `serde_json::Value`).
#[derive(Default, Debug)]
struct Expected {
    text: String,
    thinking: String,
    plan: String,
    /// (id, name, arguments text), by event index.
    calls: Vec<(String, String, String)>,
    finish: Option<String>,
    usage: Value,
    id: Option<String>,
}

fn expected_from_events(events: &[Value]) -> Expected {
    let mut e = Expected::default();
    for event in events {
        let m = &event["delta"]["message"];
        match event["type"].as_str().unwrap() {
            "message-start" => e.id = event["id"].as_str().map(str::to_string),
            "content-delta" => {
                e.text.push_str(m["content"]["text"].as_str().unwrap_or(""));
                e.thinking.push_str(m["content"]["thinking"].as_str().unwrap_or(""));
            }
            "tool-plan-delta" => e.plan.push_str(m["tool_plan"].as_str().unwrap_or("")),
            "tool-call-start" => {
                let tc = &m["tool_calls"];
                e.calls.push((
                    tc["id"].as_str().unwrap().to_string(),
                    tc["function"]["name"].as_str().unwrap().to_string(),
                    tc["function"]["arguments"].as_str().unwrap_or("").to_string(),
                ));
            }
            "tool-call-delta" => {
                let i = event["index"].as_u64().unwrap() as usize;
                e.calls[i].2.push_str(m["tool_calls"]["function"]["arguments"].as_str().unwrap_or(""));
            }
            "message-end" => {
                e.finish = event["delta"]["finish_reason"].as_str().map(str::to_string);
                e.usage = event["delta"]["usage"].clone();
            }
            _ => {}
        }
    }
    e
}

fn joined(parts: &[&str]) -> Option<String> {
    let s = parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("\n");
    (!s.is_empty()).then_some(s)
}

fn assert_usage(u: &Usage, wire: &Value, name: &str) {
    assert_eq!(u.input_tokens, wire["tokens"]["input_tokens"].as_u64(), "{name}");
    assert_eq!(u.output_tokens, wire["tokens"]["output_tokens"].as_u64(), "{name}");
    assert_eq!(u.cache_read_tokens, wire["cached_tokens"].as_u64(), "{name}");
    let billed = wire["billed_units"]["input_tokens"].as_f64().unwrap()
        + wire["billed_units"]["output_tokens"].as_f64().unwrap();
    assert_eq!(u.billed_units, Some(billed), "{name}");
    assert_eq!(u.raw.as_ref().map(|r| r.to_value()).as_ref(), Some(wire), "{name}");
}

#[test]
fn recorded_cohere_conforms() {
    conform("cohere", 6, crate::wire::WireApi::CohereChat, T, |name, replay| {
        if let Replay::Stream { chunks, out, values } = replay {
            let expected = expected_from_events(&values);
            assert_eq!(out.content, expected.text, "{name}");
            let reasoning = joined(&[&expected.thinking, &expected.plan]);
            assert_eq!(out.reasoning, reasoning, "{name}");
            let streamed_reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
            assert_eq!(streamed_reasoning, reasoning.unwrap_or_default(), "{name}");
            assert_eq!(out.tool_calls.len(), expected.calls.len(), "{name}");
            for (call, (id, fname, args)) in out.tool_calls.iter().zip(&expected.calls) {
                assert_eq!(&call.id, id, "{name}");
                assert_eq!(&call.name, fname, "{name}");
                assert_eq!(call.arguments, serde_json::from_str::<Value>(args).unwrap(), "{name}");
            }
            assert_eq!(out.finish_reason.as_ref().map(|f| f.raw.clone()), expected.finish, "{name}");
            assert_usage(&out.usage, &expected.usage, name);
            assert_eq!(out.metadata.response_id, expected.id, "{name}");
        } else if let Replay::Unary { out, value: v } = replay {
            if v.get("message").is_none() {
                return false; // not a chat response (the embedding recording)
            }
            let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
            let content = v["message"]["content"].as_array().cloned().unwrap_or_default();
            let text: String =
                content.iter().filter(|c| c["type"] == "text").map(|c| c["text"].as_str().unwrap()).collect();
            let thinking: String =
                content.iter().filter(|c| c["type"] == "thinking").map(|c| c["thinking"].as_str().unwrap()).collect();
            assert_eq!(out.content, text, "{name}");
            assert_eq!(out.reasoning, joined(&[&thinking, v["message"]["tool_plan"].as_str().unwrap_or("")]), "{name}");
            let calls = v["message"]["tool_calls"].as_array().cloned().unwrap_or_default();
            assert_openai_calls(name, &out.tool_calls, &calls);
            assert_eq!(out.finish_reason.as_ref().map(|f| f.raw.as_str()), v["finish_reason"].as_str(), "{name}");
            assert_usage(&out.usage, &v["usage"], name);
            assert_eq!(out.metadata.response_id.as_deref(), v["id"].as_str(), "{name}");
        }
        true
    });
}
