//! The reference's 1.0.0 unit tests that cover the text wires, ported as acceptance specs: each test
//! names the reference file it stands for, and the bodies and events are the ones those tests use,
//! decoded by our wire APIs through the one seam ([`WireApi::parse`], [`WireApi::decoder`]).
//!
//! - `tools._parse_tool_arguments` (the 1.0.0 raise sites of delta §6.4): arguments that are not a
//!   JSON object fail the reply on every text wire, unary and streamed.
//! - `test_openresponses_output_text.py`: the text of every message item, joined, with each item's
//!   citations shifted into the joined text, unary and streamed.
//! - `test_google_grounding.py`: part-relative UTF-8 offsets, invalid spans dropped without losing
//!   their sources, and grounding on a terminal event that carries only metadata.
//! - `test_stream_transport.py`: the Responses terminals (`response.incomplete`, `response.failed`),
//!   and the Interactions stream ending at `interaction.completed`.

use bytes::Bytes;
use serde_json::{Value, json};

use super::WireApi;
use crate::error::{Error, Origin};
use crate::stream::Decoder;
use crate::types::enums::Provider;
use crate::types::output::Output;
use crate::types::usage::FinishKind;
use crate::wire::testkit::{Setup, decode_named, ev, named_by_type};

/// Decode `events` as a stream of `wire` for `setup` (each event named by its `type`, as Anthropic and
/// Cohere send them; the others ignore the name).
fn stream(
    wire: WireApi,
    setup: Setup,
    events: &[Value],
) -> (Box<dyn Decoder<String, String>>, crate::Result<Output<String>>) {
    let mut dec = wire.decoder(setup.ctx()).unwrap();
    let bytes: Vec<Vec<u8>> = events.iter().map(|e| ev(e.clone())).collect();
    let (_, out) = decode_named(dec.as_mut(), &named_by_type(&bytes));
    (dec, out)
}

fn unary(wire: WireApi, setup: Setup, body: &Value) -> crate::Result<Output<String>> {
    wire.parse(Bytes::from(body.to_string()), &setup.ctx())
}

const OPENAI: Setup = Setup::new(Origin::Provider(Provider::OpenAi), "gpt-5-mini");
const CHAT: Setup = Setup::new(Origin::Protocol(crate::types::enums::Protocol::ChatCompletions), "m");
const ANTHROPIC: Setup = Setup::new(Origin::Provider(Provider::Anthropic), "claude-sonnet-4-5");
const COHERE: Setup = Setup::new(Origin::Provider(Provider::Cohere), "command-a-03-2025");
const GOOGLE: Setup = Setup::new(Origin::Provider(Provider::Google), "gemini-2.5-flash");

/// Every text wire API, with the call its cases make.
const WIRES: [(WireApi, Setup); 6] = [
    (WireApi::OpenResponses, OPENAI),
    (WireApi::ChatCompletions, CHAT),
    (WireApi::CohereChat, COHERE),
    (WireApi::AnthropicMessages, ANTHROPIC),
    (WireApi::GeminiGenerateContent, GOOGLE),
    (WireApi::GeminiInteractions, GOOGLE),
];

// ---------------------------------------------------------------------------------------------------
// Tool-call arguments

/// One wire's reply with a call to `f` (id `c1`) whose arguments are `args` (JSON text), unary and as
/// stream events.
fn replies_with_arguments(wire: WireApi, args: &str) -> (Value, Vec<Value>) {
    let call =
        |arguments: &str| json!({"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}});
    match wire {
        WireApi::OpenResponses => {
            let item = json!({"type": "function_call", "call_id": "c1", "name": "f", "arguments": args});
            let response = json!({"id": "r", "status": "completed", "output": [item]});
            let events = vec![
                json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
                json!({"type": "response.completed", "response": response}),
            ];
            (response, events)
        }
        WireApi::ChatCompletions => {
            let unary = json!({"choices": [{"index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "tool_calls": [call(args)]}}]});
            let mut first = call(args);
            first["index"] = 0.into();
            let events = vec![
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]}),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            ];
            (unary, events)
        }
        WireApi::CohereChat => {
            let unary = json!({"id": "x", "finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_calls": [call(args)]}});
            let events = vec![
                json!({"type": "message-start", "id": "x"}),
                json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": call("")}}}),
                json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": args}}}}}),
                json!({"type": "tool-call-end", "index": 0}),
                json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}),
            ];
            (unary, events)
        }
        WireApi::AnthropicMessages => {
            let input: Value = serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.into()));
            let unary = json!({"id": "m", "type": "message", "role": "assistant", "stop_reason": "tool_use",
                "content": [{"type": "tool_use", "id": "c1", "name": "f", "input": input}]});
            let events = vec![
                json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "content": []}}),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "c1", "name": "f", "input": {}}}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": args}}),
                json!({"type": "content_block_stop", "index": 0}),
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
                json!({"type": "message_stop"}),
            ];
            (unary, events)
        }
        WireApi::GeminiGenerateContent => {
            // Gemini sends the arguments as JSON, never as text: a non-object is the failure here.
            let parsed: Value = serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.into()));
            let unary = json!({"candidates": [{"index": 0, "finishReason": "STOP",
                "content": {"parts": [{"functionCall": {"id": "c1", "name": "f", "args": parsed}}]}}]});
            (unary.clone(), vec![unary])
        }
        WireApi::GeminiInteractions => {
            let unary = json!({"id": "i", "status": "requires_action",
                "steps": [{"type": "function_call", "id": "c1", "name": "f", "arguments": args}]});
            let events = vec![
                json!({"event_type": "step.start", "index": 0, "step": {"type": "function_call", "id": "c1", "name": "f"}}),
                json!({"event_type": "step.delta", "index": 0, "delta": {"type": "arguments_delta", "arguments": args}}),
                json!({"event_type": "step.stop", "index": 0}),
                json!({"event_type": "interaction.completed", "interaction": {"id": "i", "status": "requires_action"}}),
            ];
            (unary, events)
        }
    }
}

/// The 1.0.0 `_parse_tool_arguments`: malformed or non-object arguments are an error naming the tool
/// call (ours: [`Error::OutputValidation`], the whole reply kept), never `{}`; well-formed ones pass.
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[test]
fn tool_call_arguments_must_be_a_json_object_on_every_wire() {
    for (wire, setup) in WIRES {
        // Gemini's arguments are JSON on the wire: only the non-object case exists there.
        let bad: &[(&str, &str)] = match wire {
            WireApi::GeminiGenerateContent => &[("[1, 2]", "not a JSON object")],
            _ => &[("{\"city\": ", "not valid JSON"), ("[1, 2]", "not a JSON object")],
        };
        for (args, problem) in bad {
            let (body, events) = replies_with_arguments(wire, args);
            let (_, streamed) = stream(wire, setup, &events);
            for (how, res) in [("unary", unary(wire, setup, &body)), ("stream", streamed)] {
                let label = format!("{wire:?} {how} {args}");
                let Err(Error::OutputValidation(e)) = res else { panic!("{label}: {res:?}") };
                assert!(e.what.contains("tool call `f`") && e.what.contains("`c1`"), "{label}: {}", e.what);
                assert!(e.message.contains(problem), "{label}: {}", e.message);
                assert_eq!(e.output.tool_calls.len(), 1, "{label}: the reply is kept");
            }
        }
        let (body, events) = replies_with_arguments(wire, "{\"city\": \"Paris\"}");
        let (_, streamed) = stream(wire, setup, &events);
        for (how, res) in [("unary", unary(wire, setup, &body)), ("stream", streamed)] {
            let out = res.unwrap_or_else(|e| panic!("{wire:?} {how}: {e}"));
            assert_eq!(out.tool_calls[0].arguments, json!({"city": "Paris"}), "{wire:?} {how}");
        }
    }
}

/// Fields a wire API does not know (providers add them all the time) are ignored, on a reply and on
/// every stream event: the output is the one decoded without them.
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[test]
fn unknown_fields_are_ignored_on_every_wire() {
    let with_unknown = |v: &Value| {
        let mut v = v.clone();
        v["unknown_field"] = json!({"ignored": true});
        v
    };
    let seen = |out: Output<String>| {
        let finish = out.finish_reason.map(|f| f.raw);
        (out.content, out.reasoning, out.tool_calls, finish, out.metadata.response_id)
    };
    for (wire, setup) in WIRES {
        let (body, events) = replies_with_arguments(wire, "{\"city\": \"Paris\"}");
        let plain = unary(wire, setup, &body).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        let extra = unary(wire, setup, &with_unknown(&body)).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(seen(extra), seen(plain), "{wire:?} unary");
        let plain = stream(wire, setup, &events).1.unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        let events: Vec<Value> = events.iter().map(with_unknown).collect();
        let extra = stream(wire, setup, &events).1.unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(seen(extra), seen(plain), "{wire:?} stream");
    }
}

// ---------------------------------------------------------------------------------------------------
// Finish reasons

/// A reply with the text `a` that ends with `raw`, the wire's own finish value, unary; and as stream
/// events where the wire's stream carries the same value (Gemini's chunks are unary bodies).
fn reply_finishing(wire: WireApi, raw: &str) -> (Value, Option<Vec<Value>>) {
    match wire {
        WireApi::CohereChat => {
            let message = json!({"role": "assistant", "content": [{"type": "text", "text": "a"}]});
            (json!({"id": "x", "message": message, "finish_reason": raw}), None)
        }
        WireApi::GeminiGenerateContent => {
            let body = json!({"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": raw}]});
            (body.clone(), Some(vec![body]))
        }
        WireApi::GeminiInteractions => (json!({"id": "x", "status": raw, "steps": []}), None),
        other => unreachable!("no finish cases for {other:?}"),
    }
}

/// Each wire's finish values (an interaction's status for Interactions) as the kind they normalise
/// to, with the provider's value kept as `raw`.
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[test]
fn finish_reasons_normalise_on_every_wire() {
    let cases = [
        (WireApi::CohereChat, COHERE, "COMPLETE", FinishKind::Stop),
        (WireApi::CohereChat, COHERE, "STOP_SEQUENCE", FinishKind::Stop),
        (WireApi::CohereChat, COHERE, "MAX_TOKENS", FinishKind::Length),
        (WireApi::CohereChat, COHERE, "TOOL_CALL", FinishKind::ToolCall),
        (WireApi::CohereChat, COHERE, "TIMEOUT", FinishKind::Error),
        (WireApi::CohereChat, COHERE, "SOMETHING_NEW", FinishKind::Other),
        (WireApi::GeminiGenerateContent, GOOGLE, "MAX_TOKENS", FinishKind::Length),
        (WireApi::GeminiGenerateContent, GOOGLE, "SAFETY", FinishKind::ContentFilter),
        (WireApi::GeminiGenerateContent, GOOGLE, "MALFORMED_FUNCTION_CALL", FinishKind::Error),
        (WireApi::GeminiGenerateContent, GOOGLE, "STOP", FinishKind::Stop),
        (WireApi::GeminiInteractions, GOOGLE, "completed", FinishKind::Stop),
        (WireApi::GeminiInteractions, GOOGLE, "incomplete", FinishKind::Length),
        (WireApi::GeminiInteractions, GOOGLE, "failed", FinishKind::Error),
        (WireApi::GeminiInteractions, GOOGLE, "cancelled", FinishKind::Other),
    ];
    for (wire, setup, raw, kind) in cases {
        let (body, events) = reply_finishing(wire, raw);
        let streamed = events.map(|events| stream(wire, setup, &events).1);
        for (how, res) in [("unary", Some(unary(wire, setup, &body))), ("stream", streamed)] {
            let Some(res) = res else { continue };
            let out = res.unwrap_or_else(|e| panic!("{wire:?} {how} {raw}: {e}"));
            let f = out.finish_reason.unwrap_or_else(|| panic!("{wire:?} {how} {raw}: no finish reason"));
            assert_eq!((f.kind, f.raw.as_str()), (kind, raw), "{wire:?} {how}");
            assert!(out.usage.is_empty(), "{wire:?} {how} {raw}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// test_openresponses_output_text.py

/// Two message items: the text is both, joined, and the second item's citation starts where its text
/// does in the joined text.
#[test]
fn responses_output_text_joins_every_message_and_shifts_citations() {
    let cite = |start: usize, end: usize, url: &str| json!({"type": "url_citation", "url": url, "title": "T", "start_index": start, "end_index": end});
    let first = json!({"type": "message", "role": "assistant", "content": [
        {"type": "output_text", "text": "First.", "annotations": [cite(0, 5, "https://a.example")]}]});
    let second = json!({"type": "message", "role": "assistant", "content": [
        {"type": "output_text", "text": " Second.", "annotations": [cite(1, 7, "https://b.example")]}]});
    let response = json!({"id": "r", "status": "completed", "output": [first, second]});
    let events = vec![
        json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "content": []}}),
        json!({"type": "response.output_text.delta", "output_index": 0, "delta": "First."}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": first}),
        json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "message", "content": []}}),
        json!({"type": "response.output_text.delta", "output_index": 1, "delta": " Second."}),
        json!({"type": "response.output_text.annotation.added", "output_index": 1, "annotation": cite(1, 7, "https://b.example")}),
        json!({"type": "response.output_item.done", "output_index": 1, "item": second}),
        json!({"type": "response.completed", "response": response}),
    ];
    let (_, streamed) = stream(WireApi::OpenResponses, OPENAI, &events);
    for out in [unary(WireApi::OpenResponses, OPENAI, &response).unwrap(), streamed.unwrap()] {
        assert_eq!(out.content, "First. Second.");
        let g = out.grounding.unwrap();
        let spans: Vec<(usize, usize, &str)> =
            g.citations.iter().map(|c| (c.start, c.end, g.sources[c.source_indices[0]].url.as_str())).collect();
        assert_eq!(spans, [(0, 5, "https://a.example"), (7, 13, "https://b.example")]);
        assert_eq!(&out.content[7..13], "Second");
    }
}

// ---------------------------------------------------------------------------------------------------
// test_google_grounding.py

/// "héllo 🌍": é is 2 bytes, 🌍 is 4.
const WORLD: &str = "héllo 🌍";

/// Grounding metadata whose supports point into part `part`: one valid span per source, one whose
/// `segment.text` does not match, one backwards, one inside a character.
fn google_metadata(part: u64) -> Value {
    let support = |start: u64, end: u64, text: &str, chunk: u64| json!({"segment": {"partIndex": part, "startIndex": start, "endIndex": end, "text": text}, "groundingChunkIndices": [chunk]});
    json!({
        "groundingChunks": [{"web": {"uri": "https://a.example", "title": "a.example"}},
                            {"web": {"uri": "https://b.example", "title": "b.example"}},
                            {"web": {"uri": "https://c.example", "title": "c.example"}}],
        "groundingSupports": [
            support(0, 6, "héllo", 0),
            support(7, 11, "🌍", 1),
            support(0, 6, "hello", 2),
            support(6, 0, "", 2),
            support(8, 11, "", 2),
        ],
    })
}

/// The grounding of `out`: every source kept, the valid spans as (start, end, cited text) in
/// characters of the whole text.
fn spans(out: &Output<String>) -> Vec<(usize, usize, String)> {
    let g = out.grounding.as_ref().unwrap();
    assert_eq!(g.sources.len(), 3, "invalid spans keep their sources");
    g.citations
        .iter()
        .map(|c| (c.start, c.end, out.content.chars().skip(c.start).take(c.end - c.start).collect()))
        .collect()
}

/// generateContent: offsets are bytes within the part `segment.partIndex` names (a thought part before
/// it does not count in the text), shifted by where that part starts in the joined text; a stream
/// rebuilds the part from its fragments across events, and its last event carries only metadata.
#[cfg_attr(not(feature = "google"), ignore = "needs the google provider compiled in")]
#[test]
fn gemini_grounding_offsets_are_per_part() {
    let parts = json!([{"text": "Hm.", "thought": true}, {"text": "Intro. "}, {"text": WORLD}]);
    let body = json!({"candidates": [{"index": 0, "finishReason": "STOP", "content": {"parts": parts},
        "groundingMetadata": google_metadata(2)}]});
    let want = vec![(7, 12, "héllo".to_string()), (13, 14, "🌍".to_string())];
    assert_eq!(spans(&unary(WireApi::GeminiGenerateContent, GOOGLE, &body).unwrap()), want);

    let chunk = |parts: Value| json!({"candidates": [{"index": 0, "content": {"parts": parts}}]});
    let events = vec![
        chunk(json!([{"text": "Hm.", "thought": true}])),
        chunk(json!([{"text": "Intro. "}])),
        chunk(json!([{"functionCall": {"name": "f", "args": {}}}])),
        chunk(json!([{"text": "hé"}])),
        chunk(json!([{"text": "llo 🌍"}])),
        // The terminal event: metadata only.
        json!({"candidates": [{"index": 0, "finishReason": "STOP", "groundingMetadata": google_metadata(3)}]}),
    ];
    let (_, out) = stream(WireApi::GeminiGenerateContent, GOOGLE, &events);
    assert_eq!(spans(&out.unwrap()), want);
}

/// Interactions: offsets are bytes within their content part, shifted by where it starts.
#[cfg_attr(not(feature = "google"), ignore = "needs the google provider compiled in")]
#[test]
fn interactions_grounding_offsets_are_per_part() {
    let cite = |start: u64, end: u64, url: &str| json!({"type": "url_citation", "url": url, "title": "t", "start_index": start, "end_index": end});
    let body = json!({"id": "i", "status": "completed", "steps": [{"type": "model_output", "content": [
        {"type": "text", "text": "Intro. "},
        {"type": "text", "text": WORLD, "annotations": [
            cite(0, 6, "https://a.example"), cite(7, 11, "https://b.example"),
            cite(6, 0, "https://c.example"), cite(8, 11, "https://c.example")]},
    ]}]});
    let out = unary(WireApi::GeminiInteractions, GOOGLE, &body).unwrap();
    assert_eq!(spans(&out), [(7, 12, "héllo".to_string()), (13, 14, "🌍".to_string())]);
}

// ---------------------------------------------------------------------------------------------------
// test_stream_transport.py

/// Responses: `response.incomplete` ends a stream with the finish reason from `incomplete_details`,
/// and a call that never completed is left out; `response.failed` is a stream error built from
/// `response.error`.
#[test]
fn responses_stream_terminals() {
    let pending =
        json!({"type": "function_call", "call_id": "c9", "name": "f", "arguments": "{", "status": "in_progress"});
    let incomplete = json!({"id": "r", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Par"}]}, pending]});
    let events = vec![
        json!({"type": "response.output_text.delta", "output_index": 0, "delta": "Par"}),
        json!({"type": "response.incomplete", "response": incomplete}),
    ];
    let (dec, out) = stream(WireApi::OpenResponses, OPENAI, &events);
    assert!(dec.is_terminal());
    let out = out.unwrap();
    assert_eq!(out.finish_reason.unwrap().raw, "max_output_tokens");
    assert!(out.tool_calls.is_empty(), "{:?}", out.tool_calls);

    let failed =
        json!({"id": "r", "status": "failed", "error": {"code": "server_error", "message": "boom"}, "output": []});
    let (_, out) = stream(WireApi::OpenResponses, OPENAI, &[json!({"type": "response.failed", "response": failed})]);
    let Err(Error::StreamEvent(e)) = out else { panic!("{out:?}") };
    assert_eq!((e.message.as_str(), e.error_type.as_deref()), ("boom", Some("server_error")));
}

/// Interactions: `interaction.completed` is the terminal event; without it the stream is truncated.
#[cfg_attr(not(feature = "google"), ignore = "needs the google provider compiled in")]
#[test]
fn interactions_stream_ends_at_interaction_completed() {
    let text = json!({"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": "Hi"}});
    let (dec, out) = stream(WireApi::GeminiInteractions, GOOGLE, std::slice::from_ref(&text));
    assert!(!dec.is_terminal());
    assert!(matches!(out, Err(Error::StreamTruncated { .. })), "{out:?}");
    let done = json!({"event_type": "interaction.completed", "interaction": {"id": "i", "status": "completed"}});
    let (dec, out) = stream(WireApi::GeminiInteractions, GOOGLE, &[text, done]);
    assert!(dec.is_terminal());
    assert_eq!(out.unwrap().content, "Hi");
}
