use super::*;
use crate::error::Origin;
use crate::testing::decode_all;
use crate::types::artifact::Artifact;
use crate::types::enums::Provider;
use crate::types::mime::MimeType;
use crate::types::tool::{FunctionTool, WebSearch};
use crate::wire::testkit::{Replay, conform};
use crate::wire::testkit::{Setup, around, ev, event_error, keys, message_and_type};

/// The call these tests make.
const T: Setup = Setup::new(Origin::Provider(Provider::Google), "gemini-2.5-flash");

const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
];

// ---------------------------------------------------------------------------------------------------
// Request contracts

#[test]
fn every_parameter_maps_to_its_field_and_none_omits_it() {
    let bare = build_request(&T.user("hi"), &T.ctx()).unwrap();
    assert_eq!(keys(&bare), ["contents"]);
    assert_eq!(bare["contents"], json!([{"role": "user", "parts": [{"text": "hi"}]}]));

    // The plain fields (and the parameters this API drops) are held to the table by
    // `params::every_parameter_reaches_the_wire_or_is_reported`; these are the module's own.
    let d = TextParams::default;
    let cases: Vec<(TextParams, &str, Value)> = vec![
        (
            TextParams { thinking_budget: Some(1024), ..d() },
            "thinkingConfig",
            json!({"thinkingBudget": 1024, "includeThoughts": true}),
        ),
        (
            TextParams { thinking_budget: Some(-1), ..d() },
            "thinkingConfig",
            json!({"thinkingBudget": -1, "includeThoughts": true}),
        ),
        (
            TextParams { thinking_level: Some("high".into()), ..d() },
            "thinkingConfig",
            json!({"thinkingLevel": "high", "includeThoughts": true}),
        ),
    ];
    for (params, field, value) in cases {
        let mut req = T.user("hi");
        req.params = params;
        let body = build_request(&req, &T.ctx()).unwrap();
        assert_eq!(keys(&body), ["contents", "generationConfig"], "{field}");
        assert_eq!(keys(&body["generationConfig"]), [field], "{field}");
        assert_eq!(body["generationConfig"][field], value, "{field}");
    }

    // Verbosity has no field here: dropped, not guessed. Streaming is chosen by the URL.
    let mut req = T.user("hi");
    req.params = TextParams { verbosity: Some("low".into()), ..d() };
    assert_eq!(keys(&build_request(&req, &T.ctx()).unwrap()), ["contents"]);
}

#[test]
fn stream_url_switches_the_method_and_asks_for_sse() {
    assert_eq!(
        stream_url("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(stream_url("http://h/other"), "http://h/other");
}

#[test]
fn tools_and_tool_choice_shapes() {
    let weather = FunctionTool::new(
        "get_weather",
        "Weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    let no_params = FunctionTool::new("ping", "", json!({}));

    // Functions only: declarations, no server-side flag.
    let mut req = T.user("hi");
    req.tools = vec![weather.clone().into(), no_params.into()];
    let body = build_request(&req, &T.ctx()).unwrap();
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [
            {"name": "get_weather", "description": "Weather", "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "ping"},
        ]}])
    );
    assert!(body.get("toolConfig").is_none());

    // Built-ins only.
    req.tools = vec![
        WebSearch::new().blocked_domains(["spam.example"]).into(),
        WebSearch::new().allowed_domains(["dropped.example"]).into(),
        Tool::CodeExecution,
        Tool::UrlContext,
        Tool::Raw { value: json!({"google_maps": {}}) },
    ];
    let body = build_request(&req, &T.ctx()).unwrap();
    assert_eq!(
        body["tools"],
        json!([
            {"google_search": {"exclude_domains": ["spam.example"]}},
            {"google_search": {}},
            {"code_execution": {}},
            {"url_context": {}},
            {"google_maps": {}},
        ])
    );
    assert!(body.get("toolConfig").is_none());

    // Mixed: built-ins first, then the declarations, and the server-side flag.
    req.tools = vec![weather.into(), WebSearch::new().into()];
    req.tool_choice = Some(ToolChoice::Auto);
    let body = build_request(&req, &T.ctx()).unwrap();
    assert_eq!(body["tools"][0], json!({"google_search": {}}));
    assert_eq!(body["tools"][1]["functionDeclarations"][0]["name"], json!("get_weather"));
    assert_eq!(
        body["toolConfig"],
        json!({"includeServerSideToolInvocations": true, "functionCallingConfig": {"mode": "AUTO"}})
    );

    for (choice, config) in [
        (ToolChoice::Auto, json!({"mode": "AUTO"})),
        (ToolChoice::Required, json!({"mode": "ANY"})),
        (ToolChoice::None, json!({"mode": "NONE"})),
        (ToolChoice::Tool("get_weather".into()), json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]})),
    ] {
        let mut req = T.user("hi");
        req.tool_choice = Some(choice);
        let body = build_request(&req, &T.ctx()).unwrap();
        assert_eq!(body["toolConfig"], json!({"functionCallingConfig": config}));
    }

    let mut req = T.user("hi");
    req.tools = vec![Tool::XSearch];
    assert!(matches!(build_request(&req, &T.ctx()), Err(Error::Unsupported(_))));
}

#[test]
fn roles_system_instruction_tool_calls_and_results() {
    let mut call = ToolCall::new("fc_1", "get_weather", json!({"city": "Paris"}));
    call.extra.insert("thoughtSignature".into(), json!("sig-1"));
    let local = ToolCall::new("gemini-call-1", "get_time", json!({}));
    let mut assistant = Message::assistant("").with_tool_calls(vec![call, local]);
    assistant.content.clear();
    let after: Vec<Item> = vec![
        ToolResult::new("fc_1", json!({"temp": 21})).into(),
        ToolResult::error("gemini-call-1", "clock broken").into(),
        Message::assistant("21°C; no clock.").into(),
        Message::new(Role::User, vec![]).into(),
    ];
    let items = around("weather and time?", assistant, after);
    let body = build_request(&T.request(items), &T.ctx()).unwrap();
    assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "be brief"}, {"text": "use metric"}]}));
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "weather and time?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"id": "fc_1", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "sig-1"},
                // A call id made up locally is never sent.
                {"functionCall": {"name": "get_time", "args": {}}},
            ]},
            // Parallel results share one turn; names come from the calls.
            {"role": "user", "parts": [
                {"functionResponse": {"id": "fc_1", "name": "get_weather", "response": {"temp": 21}}},
                {"functionResponse": {"name": "get_time", "response": {"error": "clock broken"}}},
            ]},
            {"role": "model", "parts": [{"text": "21°C; no clock."}]},
        ])
    );
}

#[test]
fn media_parts_inline_file_and_errors() {
    let m = Message::user("what is this?")
        .with_part(Part::image(Artifact::from_bytes(PNG_1X1)))
        .with_part(Part::video(Artifact::from_url("gs://bucket/clip.mp4").with_mime_type(MimeType::VideoMp4)))
        .with_part(Part::document(Artifact::from_url("https://example.com/a.pdf")))
        .with_part(Part::audio(Artifact::from_url("data:audio/wav;base64,UklGRg==")));
    let body = build_request(&T.request(vec![m.into()]), &T.ctx()).unwrap();
    let png = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, PNG_1X1);
    assert_eq!(
        body["contents"][0]["parts"],
        json!([
            {"text": "what is this?"},
            {"inlineData": {"mimeType": "image/png", "data": png}},
            {"fileData": {"mimeType": "video/mp4", "fileUri": "gs://bucket/clip.mp4"}},
            {"fileData": {"fileUri": "https://example.com/a.pdf"}},
            {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        ])
    );
    let unknown = Message::user("x").with_part(Part::document(Artifact::from_bytes(&b"no magic"[..])));
    assert!(matches!(build_request(&T.request(vec![unknown.into()]), &T.ctx()), Err(Error::InvalidInput(_))));
}

// ---------------------------------------------------------------------------------------------------
// Responses

fn response(parts: Value) -> Bytes {
    let v = json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 20,
                          "cachedContentTokenCount": 4, "totalTokenCount": 35},
        "modelVersion": "gemini-2.5-flash-001",
        "responseId": "resp-1",
    });
    Bytes::from(serde_json::to_vec(&v).unwrap())
}

#[test]
fn unary_splits_thoughts_text_and_usage() {
    let body = response(json!([
        {"text": "Counting letters.", "thought": true, "thoughtSignature": "t-sig"},
        {"text": "There are "},
        {"text": "3 r's.", "thoughtSignature": "text-sig"},
    ]));
    let out = parse_response(body, &T.ctx()).unwrap();
    assert_eq!(out.content, "There are 3 r's.");
    assert_eq!(out.reasoning.as_deref(), Some("Counting letters."));
    // No native parts: the signature is the signed thought parts.
    assert_eq!(out.signature, vec![json!({"text": "Counting letters.", "thought": true, "thoughtSignature": "t-sig"})]);
    assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::Stop);
    let u = &out.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.total_tokens, u.reasoning_tokens, u.cache_read_tokens),
        (Some(10), Some(25), Some(35), Some(20), Some(4))
    );
    assert_eq!(u.raw.as_ref().unwrap().to_value()["candidatesTokenCount"], json!(5));
    assert_eq!(out.metadata.response_id.as_deref(), Some("resp-1"));
    assert_eq!(out.metadata.response_model.as_deref(), Some("gemini-2.5-flash-001"));
    assert!(out.metadata.raw_response.is_some());
    assert!(out.tool_calls.is_empty() && out.grounding.is_none());
}

#[test]
fn unary_function_calls_keep_their_signature_and_replay_verbatim() {
    let parts = json!([
        {"text": "Let me check.", "thought": true},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "call-sig"},
        {"functionCall": {"id": "fc_9", "name": "get_time"}},
    ]);
    let out = parse_response(response(parts.clone()), &T.ctx()).unwrap();
    assert_eq!(out.tool_calls.len(), 2);
    assert_eq!(out.tool_calls[0].id, "gemini-call-0");
    assert_eq!(out.tool_calls[0].arguments, json!({"city": "Paris"}));
    assert_eq!(out.tool_calls[0].extra["thoughtSignature"], json!("call-sig"));
    assert_eq!(out.tool_calls[1].id, "fc_9");
    assert_eq!(out.tool_calls[1].arguments, json!({}));
    let finish = out.finish_reason.clone().unwrap();
    assert_eq!((finish.kind, finish.raw.as_str()), (FinishKind::ToolCall, "STOP"));
    // Native parts: the whole turn is the signature, and it goes back verbatim.
    assert_eq!(Value::Array(out.signature.clone()), parts);
    let items: Vec<Item> = vec![
        Message::user("weather?").into(),
        out.message().into(),
        ToolResult::new("gemini-call-0", "sunny").into(),
        ToolResult::new("fc_9", "noon").into(),
    ];
    let body = build_request(&T.request(items), &T.ctx()).unwrap();
    assert_eq!(body["contents"][1], json!({"role": "model", "parts": parts}));
    assert_eq!(
        body["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
            {"functionResponse": {"id": "fc_9", "name": "get_time", "response": {"result": "noon"}}},
        ])
    );
}

#[test]
fn signed_thoughts_replay_before_the_content() {
    let out = parse_response(
        response(json!([{"text": "Hmm.", "thought": true, "thoughtSignature": "s"}, {"text": "Hi"}])),
        &T.ctx(),
    )
    .unwrap();
    let body = build_request(&T.request(vec![Message::user("a").into(), out.message().into()]), &T.ctx()).unwrap();
    assert_eq!(
        body["contents"][1],
        json!({"role": "model", "parts": [{"text": "Hmm.", "thought": true, "thoughtSignature": "s"}, {"text": "Hi"}]})
    );
}

/// "héllo 🌍 wörld": é and ö are 2 bytes, 🌍 is 4.
const MULTIBYTE: &str = "héllo 🌍 wörld";

fn grounding_metadata() -> Value {
    json!({
        "webSearchQueries": ["hello world"],
        "searchEntryPoint": {"renderedContent": "<div>search</div>"},
        "groundingChunks": [
            {"web": {"uri": "https://a.example/1", "title": "a.example"}},
            {"retrievedContext": {"uri": "ignored"}},
            {"web": {"uri": "https://b.example/2", "title": "B", "domain": "b.example"}},
        ],
        "groundingSupports": [
            // No startIndex: proto3 leaves zero out.
            {"segment": {"endIndex": 6, "text": "héllo"}, "groundingChunkIndices": [0]},
            {"segment": {"startIndex": 7, "endIndex": 11, "text": "🌍"}, "groundingChunkIndices": [0, 2, 1, 9]},
            {"segment": {"startIndex": 12, "endIndex": 18, "text": "wörld"}, "groundingChunkIndices": [2]},
            // Inside the globe's bytes, and past the end: dropped.
            {"segment": {"startIndex": 8, "endIndex": 11}, "groundingChunkIndices": [0]},
            {"segment": {"startIndex": 12, "endIndex": 99}, "groundingChunkIndices": [0]},
        ],
    })
}

/// The grounding metadata with every support in part `index` (`segment.partIndex`).
fn in_part(mut meta: Value, index: u64) -> Value {
    for support in meta["groundingSupports"].as_array_mut().unwrap() {
        support["segment"]["partIndex"] = index.into();
    }
    meta
}

#[test]
fn byte_offsets_become_character_offsets() {
    assert_eq!(byte_to_char(MULTIBYTE, 0), Some(0));
    assert_eq!(byte_to_char(MULTIBYTE, 7), Some(6));
    assert_eq!(byte_to_char(MULTIBYTE, 11), Some(7));
    assert_eq!(byte_to_char(MULTIBYTE, MULTIBYTE.len()), Some(13));
    assert_eq!(byte_to_char(MULTIBYTE, 2), None, "inside é");
    assert_eq!(byte_to_char(MULTIBYTE, 99), None);
}

#[test]
fn unary_grounding_with_multibyte_text() {
    let v = json!({"candidates": [{"content": {"parts": [{"text": MULTIBYTE}]}, "finishReason": "STOP",
                                   "groundingMetadata": grounding_metadata()}]});
    let out = parse_response(Bytes::from(v.to_string()), &T.ctx()).unwrap();
    let g = out.grounding.unwrap();
    assert_eq!(g.queries, ["hello world"]);
    assert_eq!(g.search_entry_point.as_deref(), Some("<div>search</div>"));
    assert_eq!(g.sources.len(), 2);
    assert_eq!(g.sources[0].url, "https://a.example/1");
    assert_eq!(g.sources[0].domain.as_deref(), Some("a.example"));
    assert_eq!(g.sources[1].domain.as_deref(), Some("b.example"));
    let spans: Vec<(usize, usize, Vec<usize>)> =
        g.citations.iter().map(|c| (c.start, c.end, c.source_indices.clone())).collect();
    assert_eq!(spans, [(0, 5, vec![0]), (6, 7, vec![0, 1]), (8, 13, vec![1])]);
    let chars: Vec<char> = MULTIBYTE.chars().collect();
    for c in &g.citations {
        let cited: String = chars[c.start..c.end].iter().collect();
        assert_eq!(Some(cited.as_str()), c.cited_text.as_deref());
    }
}

#[test]
fn unary_blocked_prompt_errors_and_garbage() {
    let blocked = Bytes::from_static(br#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3}}"#);
    let out = parse_response(blocked, &T.ctx()).unwrap();
    assert_eq!(out.content, "");
    let f = out.finish_reason.unwrap();
    assert_eq!((f.kind, f.raw.as_str()), (FinishKind::ContentFilter, "PROHIBITED_CONTENT"));
    assert_eq!(out.usage.output_tokens, None, "absent is not zero");

    let err = Bytes::from_static(br#"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}"#);
    let e = event_error(parse_response(err, &T.ctx()));
    assert_eq!(message_and_type(&e), ("slow down", Some("RESOURCE_EXHAUSTED")));
    let other = parse_response(Bytes::from_static(br#"{"candidates":null,"extra":1}"#), &T.ctx()).unwrap();
    assert_eq!(other.content, "");
    assert!(other.finish_reason.is_none());
    assert!(matches!(parse_response(Bytes::from_static(b"{nope"), &T.ctx()), Err(Error::Decode { .. })));
}

// ---------------------------------------------------------------------------------------------------
// Streams

fn chunk(parts: Value) -> Vec<u8> {
    ev(json!({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
              "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4}, "responseId": "r-1", "modelVersion": "m-1"}))
}

#[test]
fn stream_decodes_thoughts_text_calls_usage_and_grounding() {
    let events = vec![
        chunk(json!([{"text": "Think", "thought": true}])),
        chunk(json!([{"text": "ing.", "thought": true, "thoughtSignature": "ts"}])),
        chunk(json!([{"text": "héllo 🌍"}])),
        chunk(json!([{"text": " wörld"}])),
        chunk(json!([{"functionCall": {"id": "c1", "name": "lookup", "args": {"q": "x"}}, "thoughtSignature": "cs"}])),
        ev(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0,
                            "groundingMetadata": in_part(grounding_metadata(), 1)}],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 9, "thoughtsTokenCount": 3, "totalTokenCount": 16},
        })),
    ];
    let mut dec = GeminiDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &events);
    let out = out.unwrap();
    let streamed: String = chunks.iter().map(|c| c.content.as_str()).collect();
    let reasoning: String = chunks.iter().filter_map(|c| c.reasoning.as_deref()).collect();
    assert_eq!(streamed, MULTIBYTE);
    assert_eq!(out.content, MULTIBYTE);
    assert_eq!(reasoning, "Thinking.");
    assert_eq!(out.reasoning.as_deref(), Some("Thinking."));
    let delta = chunks.iter().find_map(|c| c.tool_call.clone()).unwrap();
    assert_eq!((delta.index, delta.id.as_deref(), delta.name.as_deref()), (0, Some("c1"), Some("lookup")));
    assert_eq!(delta.arguments, r#"{"q":"x"}"#);
    assert_eq!(out.tool_calls[0].extra["thoughtSignature"], json!("cs"));
    // Usage and the finish reason ride on the last chunk only.
    assert_eq!(chunks.iter().filter(|c| c.usage.is_some()).count(), 1);
    let last = chunks.last().unwrap();
    assert_eq!(last.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall);
    assert_eq!(out.usage.output_tokens, Some(12));
    assert_eq!(out.usage.total_tokens, Some(16));
    assert_eq!(out.metadata.response_id.as_deref(), Some("r-1"));
    assert!(out.metadata.raw_json().unwrap()["usageMetadata"]["candidatesTokenCount"] == json!(9));
    // Offsets are bytes of the part (its fragments rebuilt across events), as characters of the text.
    let g = out.grounding.unwrap();
    assert_eq!(g.citations.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>(), [(0, 5), (6, 7), (8, 13)]);
    // A function call makes the whole turn native: every streamed part, in order.
    assert_eq!(out.signature.len(), 6);
    assert_eq!(out.signature[4]["functionCall"]["name"], json!("lookup"));
}

#[test]
fn stream_assembles_function_call_arguments_from_fragments() {
    let fc = |v: Value| chunk(json!([{"functionCall": v}]));
    let events = vec![
        ev(json!({"candidates": [{"content": {"parts": [
            {"functionCall": {"name": "book", "willContinue": true}, "thoughtSignature": "s1"}]}}]})),
        fc(
            json!({"partialArgs": [{"jsonPath": "$.city", "stringValue": "San ", "willContinue": true}], "willContinue": true}),
        ),
        fc(json!({"partialArgs": [{"jsonPath": "$.city", "stringValue": "Francisco"}], "willContinue": true})),
        fc(json!({"partialArgs": [
            {"jsonPath": "$.nights", "numberValue": 3},
            {"jsonPath": "$.guests[1].name", "stringValue": "Bo"},
            {"jsonPath": "$.pets", "boolValue": false},
            {"jsonPath": "$.notes", "nullValue": "NULL_VALUE"},
            {"jsonPath": "bad path", "stringValue": "ignored"},
        ], "willContinue": true})),
        fc(json!({})),
        ev(json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "pay", "args": {"eur": 10}}}]},
                                  "finishReason": "STOP"}],
                  "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2, "totalTokenCount": 3}})),
    ];
    let mut dec = GeminiDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &events);
    let out = out.unwrap();
    let expected =
        json!({"city": "San Francisco", "nights": 3, "guests": [null, {"name": "Bo"}], "pets": false, "notes": null});
    assert_eq!(out.tool_calls.len(), 2);
    assert_eq!(out.tool_calls[0].name, "book");
    assert_eq!(out.tool_calls[0].arguments, expected);
    assert_eq!(out.tool_calls[0].extra["thoughtSignature"], json!("s1"));
    assert_eq!(out.tool_calls[1].arguments, json!({"eur": 10}));
    // The deltas of each call concatenate to its arguments.
    for (i, call) in out.tool_calls.iter().enumerate() {
        let args: String = chunks
            .iter()
            .filter_map(|c| c.tool_call.as_ref())
            .filter(|d| d.index == i)
            .map(|d| d.arguments.as_str())
            .collect();
        assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), call.arguments);
    }
    // The fragments replay as one assembled part.
    assert_eq!(
        out.signature,
        vec![
            json!({"functionCall": {"name": "book", "args": expected}, "thoughtSignature": "s1"}),
            json!({"functionCall": {"name": "pay", "args": {"eur": 10}}}),
        ]
    );
}

/// The stream of one call whose streamed arguments carry `partial_args` in one event.
fn partial_args_call(partial_args: Value) -> Result<Output<String>> {
    let events = vec![
        ev(json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "willContinue": true}}]}}]})),
        chunk(json!([{"functionCall": {"partialArgs": partial_args, "willContinue": true}}])),
        ev(json!({"candidates": [{"content": {"parts": [{"functionCall": {}}]}, "finishReason": "STOP"}]})),
    ];
    decode_all(&mut GeminiDecoder::new(T.ctx()), &events).1
}

#[test]
fn streamed_argument_paths_cannot_build_more_than_the_limit() {
    let too_large = |out: Result<Output<String>>, why: &str| match out {
        Err(Error::Decode { what, message, .. }) => {
            assert!(what.contains("partialArgs"), "{what}");
            assert!(message.contains(why), "{message}");
        }
        other => panic!("{other:?}"),
    };
    // Each index is small enough on its own; together they would build 1.2 million values (a few
    // bytes of input each).
    let wide: Vec<Value> = (0..12).map(|i| json!({"jsonPath": format!("$.a{i}[99999]"), "stringValue": "x"})).collect();
    too_large(partial_args_call(Value::Array(wide)), "more than 100000 values");
    // One index past any array a call could need.
    too_large(partial_args_call(json!([{"jsonPath": "$.a[999999999]", "numberValue": 1}])), "more than 100000 values");
    let huge = format!("$.a[{}]", usize::MAX);
    too_large(partial_args_call(json!([{"jsonPath": huge, "numberValue": 1}])), "more than 100000 values");
    // A path deep enough to overflow the stack when the arguments are serialised or dropped.
    let deep = format!("${}", ".a".repeat(100_000));
    too_large(partial_args_call(json!([{"jsonPath": deep, "boolValue": true}])), "deeper than 64 levels");
    // The budget is the response's, not each call's: calls opened one after another share it.
    let mut events = Vec::new();
    for i in 0..3 {
        events.push(chunk(json!([{"functionCall": {"name": format!("f{i}"), "willContinue": true}}])));
        let paths: Vec<Value> =
            (0..4).map(|j| json!({"jsonPath": format!("$.a{j}[9999]"), "stringValue": "x"})).collect();
        events.push(chunk(json!([{"functionCall": {"partialArgs": paths}}])));
    }
    assert!(decode_all(&mut GeminiDecoder::new(T.ctx()), &events).1.is_err(), "120,000 values in three calls");
    // Paths within the limit still build their values, deep and wide.
    let ok = partial_args_call(json!([
        {"jsonPath": format!("${}", ".a".repeat(63)), "boolValue": true},
        {"jsonPath": "$.list[49999]", "numberValue": 1},
    ]))
    .unwrap();
    assert_eq!(ok.tool_calls[0].arguments["list"].as_array().map(Vec::len), Some(50_000));
}

#[test]
fn stream_ends_truncated_errors_and_blocks() {
    // No finishReason: truncated.
    let mut dec = GeminiDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &[chunk(json!([{"text": "par"}]))]);
    assert_eq!(chunks.len(), 1);
    assert!(matches!(out, Err(Error::StreamTruncated { origin: Origin::Provider(Provider::Google), .. })), "{out:?}");

    // An error element mid-stream: typed, earlier chunks kept.
    let events = vec![
        chunk(json!([{"text": "partial"}])),
        ev(json!({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})),
    ];
    let mut dec = GeminiDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &events);
    assert_eq!(chunks[0].content, "partial");
    let e = event_error(out);
    assert_eq!(message_and_type(&e), ("overloaded", Some("UNAVAILABLE")));
    let mut dec = GeminiDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &[ev(json!({"error": {"code": 500}}))]);
    assert!(
        matches!(out, Err(Error::StreamEvent(ref e)) if e.error_type.as_deref() == Some("500") && e.message == "Unknown error")
    );

    // A blocked prompt ends the stream.
    let mut dec = GeminiDecoder::new(T.ctx());
    let (chunks, out) = decode_all(&mut dec, &[ev(json!({"promptFeedback": {"blockReason": "SAFETY"}}))]);
    assert_eq!(chunks.len(), 1);
    assert_eq!(out.unwrap().finish_reason.unwrap().kind, FinishKind::ContentFilter);

    // Blank and [DONE]-style frames are ignored; garbage is a decode error.
    let mut dec = GeminiDecoder::new(T.ctx());
    let (_, out) = decode_all(&mut dec, &[b"  ".to_vec(), b"{nope".to_vec()]);
    assert!(matches!(out, Err(Error::Decode { .. })), "{out:?}");
}

// ---------------------------------------------------------------------------------------------------
// Conformance over the real recordings

/// What a recording says, read independently of the decoder.
#[derive(Default)]
struct Expected {
    text: String,
    reasoning: String,
    calls: Vec<(String, Value)>,
    finish: Option<String>,
    usage: Value,
}

fn expected(events: &[Value]) -> Expected {
    let mut e = Expected::default();
    for v in events {
        let c = &v["candidates"][0];
        for p in c["content"]["parts"].as_array().into_iter().flatten() {
            if let Some(fc) = p.get("functionCall") {
                if let (Some(name), Some(args)) = (fc["name"].as_str(), fc.get("args")) {
                    e.calls.push((name.to_string(), args.clone()));
                } else if let Some(name) = fc["name"].as_str() {
                    e.calls.push((name.to_string(), json!({})));
                } else if let Some(last) = e.calls.last_mut() {
                    for pa in fc["partialArgs"].as_array().into_iter().flatten() {
                        let key = pa["jsonPath"].as_str().unwrap().trim_start_matches("$.");
                        let s = pa["stringValue"].as_str().unwrap_or_default();
                        let cur = last.1[key].as_str().unwrap_or_default().to_string();
                        last.1[key] = json!(cur + s);
                    }
                }
            } else if let Some(t) = p["text"].as_str() {
                if p["thought"] == json!(true) { e.reasoning.push_str(t) } else { e.text.push_str(t) }
            }
        }
        if let Some(f) = c["finishReason"].as_str() {
            e.finish = Some(f.to_string());
        }
        if v["usageMetadata"].is_object() {
            e.usage = v["usageMetadata"].clone();
        }
    }
    e
}

fn check(name: &str, out: &Output<String>, e: &Expected) {
    assert_eq!(out.content, e.text, "{name}");
    assert_eq!(out.reasoning.clone().unwrap_or_default(), e.reasoning, "{name}");
    assert_eq!(out.tool_calls.len(), e.calls.len(), "{name}");
    for (call, (n, args)) in out.tool_calls.iter().zip(&e.calls) {
        assert_eq!(&call.name, n, "{name}");
        assert_eq!(&call.arguments, args, "{name}");
        assert!(!call.id.is_empty(), "{name}");
    }
    assert_eq!(out.finish_reason.as_ref().map(|f| f.raw.clone()), e.finish, "{name}");
    let u = &e.usage;
    assert_eq!(out.usage.input_tokens, u["promptTokenCount"].as_u64(), "{name}");
    assert_eq!(out.usage.total_tokens, u["totalTokenCount"].as_u64(), "{name}");
    assert_eq!(out.usage.reasoning_tokens, u["thoughtsTokenCount"].as_u64(), "{name}");
    let output = u["candidatesTokenCount"].as_u64().unwrap_or(0) + u["thoughtsTokenCount"].as_u64().unwrap_or(0);
    assert_eq!(out.usage.output_tokens, Some(output), "{name}");
    // Gemini's total is prompt + candidates + thoughts.
    assert_eq!(out.usage.total_tokens, Some(out.usage.input_tokens.unwrap() + output), "{name}");
    if !e.calls.is_empty() {
        assert_eq!(out.finish_reason.as_ref().unwrap().kind, FinishKind::ToolCall, "{name}");
        assert!(out.signature.iter().any(|p| p.get("functionCall").is_some()), "{name}: native replay");
    }
}

#[test]
fn recorded_generate_content_conforms() {
    conform("google", 8, crate::wire::WireApi::GeminiGenerateContent, T, |name, replay| {
        if let Replay::Stream { out, values, .. } = replay {
            let e = expected(&values);
            check(name, &out, &e);
            assert_eq!(out.metadata.response_id.as_deref(), values[0]["responseId"].as_str(), "{name}");
            assert!(out.usage.raw.is_some(), "{name}");
        } else if let Replay::Unary { out, value: v } = replay {
            if v.get("error").is_some() {
                // An HTTP error body (the transport's business); as a payload it is a typed error.
                let err = out.unwrap_err();
                assert!(
                    matches!(err, Error::StreamEvent(ref e) if e.error_type.as_deref() == Some("RESOURCE_EXHAUSTED")),
                    "{name}"
                );
                return true;
            }
            let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
            check(name, &out, &expected(std::slice::from_ref(&v)));
            assert_eq!(out.metadata.response_id.as_deref(), v["responseId"].as_str(), "{name}");
            assert_eq!(out.metadata.response_model.as_deref(), v["modelVersion"].as_str(), "{name}");
        }
        true
    });
}
