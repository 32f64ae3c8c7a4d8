//! Structured output and typed tool calls end to end, on every text wire API, against the project's
//! emulator over a real socket: the schema travels in each wire API's own field, the reply comes back
//! as the Rust type (unary, streaming and blocking; single values and lists), a reply that does not fit
//! fails with a typed error that keeps the whole text, and calls to tools declared from Rust types have
//! their arguments checked.

use celeste::{Client, Credentials, Error, FunctionTool, Protocol, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator, Reply};
use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct City {
    name: String,
    population: u64,
    facts: Facts,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Facts {
    river: Option<String>,
}

fn paris() -> City {
    City { name: "Paris".into(), population: 2_100_000, facts: Facts { river: Some("Seine".into()) } }
}

const PARIS_JSON: &str = r#"{"name": "Paris", "population": 2100000, "facts": {"river": "Seine"}}"#;

/// One wire API (and provider) to check.
struct Case {
    name: &'static str,
    provider: Option<Provider>,
    protocol: Option<Protocol>,
    model: &'static str,
    /// Vertex AI authentication, which sends Google's text to generateContent (Google's backend is
    /// chosen by authentication only).
    vertex: bool,
    /// Where the schema must be in the request body, and what must sit beside it.
    check: fn(&Value, &celeste_emulator::RecordedRequest),
    /// Whether this wire wraps a list in `{"items": [...]}` (the reply then comes back wrapped).
    wraps_lists: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "openai responses",
            provider: Some(Provider::OpenAi),
            protocol: None,
            model: "gpt-5-mini",
            vertex: false,
            wraps_lists: true,
            check: |b, _| {
                let f = &b["text"]["format"];
                assert_eq!((f["type"].as_str(), f["strict"].as_bool()), (Some("json_schema"), Some(true)));
                assert!(f["name"].as_str().unwrap().ends_with("city") || f["name"] == "city_list");
                assert_eq!(f["schema"]["type"], "object");
                assert_eq!(f["schema"]["additionalProperties"], false);
            },
        },
        Case {
            name: "chat completions protocol",
            provider: None,
            protocol: Some(Protocol::ChatCompletions),
            model: "local-model",
            vertex: false,
            wraps_lists: true,
            check: |b, _| {
                let f = &b["response_format"];
                assert_eq!(f["type"], "json_schema");
                assert_eq!(f["json_schema"]["strict"], true);
                assert_eq!(f["json_schema"]["schema"]["type"], "object");
            },
        },
        Case {
            name: "mistral",
            provider: Some(Provider::Mistral),
            protocol: None,
            model: "mistral-large-latest",
            vertex: false,
            wraps_lists: false,
            check: |b, _| {
                let s = &b["response_format"]["json_schema"]["schema"];
                assert!(!s.to_string().contains("$ref"), "Mistral gets the schema inlined: {s}");
                assert_eq!(b["response_format"]["json_schema"]["strict"], true);
            },
        },
        Case {
            name: "deepseek",
            provider: Some(Provider::DeepSeek),
            protocol: None,
            model: "deepseek-v4-flash",
            vertex: false,
            wraps_lists: false,
            check: |b, _| assert_eq!(b["response_format"], json!({"type": "json_object"})),
        },
        Case {
            name: "anthropic",
            provider: Some(Provider::Anthropic),
            protocol: None,
            model: "claude-sonnet-4-5",
            vertex: false,
            wraps_lists: false,
            check: |b, req| {
                // Generally available: `output_config.format`, and no beta header.
                assert_eq!(b["output_config"]["format"]["type"], "json_schema");
                assert_eq!(b["output_config"]["format"]["schema"]["additionalProperties"], false);
                assert!(b.get("output_format").is_none());
                assert_eq!(req.header("anthropic-beta"), None);
            },
        },
        Case {
            name: "gemini interactions",
            provider: Some(Provider::Google),
            protocol: None,
            model: "gemini-2.5-flash",
            vertex: false,
            wraps_lists: false,
            check: |b, _| {
                let f = &b["response_format"];
                assert_eq!((f["type"].as_str(), f["mime_type"].as_str()), (Some("text"), Some("application/json")));
                assert!(f["schema"].is_object());
            },
        },
        Case {
            name: "gemini generateContent",
            provider: Some(Provider::Google),
            protocol: None,
            model: "gemini-2.5-flash",
            vertex: true,
            wraps_lists: false,
            check: |b, req| {
                assert!(req.path.contains(":generateContent") || req.path.contains(":streamGenerateContent"));
                let c = &b["generationConfig"];
                assert_eq!(c["responseMimeType"], "application/json");
                assert!(!c["responseJsonSchema"].to_string().contains("\"title\""), "titles are stripped");
            },
        },
        Case {
            name: "cohere",
            provider: Some(Provider::Cohere),
            protocol: None,
            model: "command-a-03-2025",
            vertex: false,
            wraps_lists: false,
            check: |b, _| {
                assert_eq!(b["response_format"]["type"], "json_object");
                assert!(!b["response_format"]["schema"].to_string().contains("$ref"), "Cohere gets it inlined");
            },
        },
    ]
}

fn client() -> Client {
    let mut creds = Credentials::empty();
    for p in [
        Provider::OpenAi,
        Provider::Mistral,
        Provider::DeepSeek,
        Provider::Anthropic,
        Provider::Google,
        Provider::Cohere,
    ] {
        creds = creds.with_key(p, "test-key");
    }
    Client::builder().credentials(creds).telemetry(TelemetryConfig::new().disabled()).build().unwrap()
}

fn call(case: &Case, emu: &Emulator, prompt: &str) -> celeste::text::Generate {
    let mut g = client().text().generate(prompt, case.model).base_url(emu.url());
    if let Some(p) = case.provider {
        g = g.provider(p);
    }
    if let Some(p) = case.protocol {
        g = g.protocol(p);
    }
    if case.vertex {
        g = g.auth(celeste::Auth::vertex(celeste::Vertex::with_token("t").project("p").location("us-central1")));
    }
    g
}

async fn emulator(text: &str) -> Emulator {
    let reply = Reply::text(text).chunk_size(7);
    Emulator::start(Config::default().default_reply(reply).record_requests(true)).await.unwrap()
}

#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn every_wire_api_sends_the_schema_and_returns_the_type() {
    for case in cases() {
        let emu = emulator(PARIS_JSON).await;

        let out = call(&case, &emu, "The capital of France").output_schema::<City>().await;
        let out = out.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(out.content, paris(), "{}", case.name);
        // The next turn replays the reply as JSON text.
        let replay: City = serde_json::from_str(&out.message().text()).unwrap();
        assert_eq!(replay, paris());

        let mut stream = call(&case, &emu, "The capital of France").output_schema::<City>().stream().await.unwrap();
        let mut text = String::new();
        let mut pieces = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap_or_else(|e| panic!("{}: {e}", case.name));
            if !chunk.content.is_empty() {
                pieces += 1;
            }
            text.push_str(&chunk.content);
        }
        assert!(pieces > 1, "{}: the JSON text streams in pieces", case.name);
        assert_eq!(text, PARIS_JSON, "{}", case.name);
        assert_eq!(stream.output().unwrap().content, paris(), "{}", case.name);

        let requests = emu.requests();
        assert_eq!(requests.len(), 2, "{}", case.name);
        for req in &requests {
            (case.check)(&req.json().unwrap(), req);
        }
        emu.shutdown().await;
    }
}

#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn lists_are_wrapped_where_the_wire_needs_an_object_and_unwrapped_again() {
    for case in cases() {
        let reply = if case.wraps_lists {
            format!(r#"{{"items": [{PARIS_JSON}, {PARIS_JSON}]}}"#)
        } else {
            format!("[{PARIS_JSON}, {PARIS_JSON}]")
        };
        let emu = emulator(&reply).await;
        let out = call(&case, &emu, "Two cities").output_schema::<Vec<City>>().await;
        let out = out.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(out.content, vec![paris(), paris()], "{}", case.name);
        let body = emu.requests()[0].json().unwrap();
        let text = body.to_string();
        if case.wraps_lists {
            assert!(text.contains(r#""required":["items"]"#), "{}: {text}", case.name);
        }
        if case.provider == Some(Provider::OpenAi) {
            assert_eq!(body["text"]["format"]["name"], "city_list");
        }
        emu.shutdown().await;
    }
}

/// A structured call to the OpenAI profile at the emulator.
fn openai_city(emu: &Emulator) -> celeste::text::Generate<celeste::text::Unary, City> {
    client()
        .text()
        .generate("The capital of France", "gpt-5-mini")
        .provider(Provider::OpenAi)
        .base_url(emu.url())
        .output_schema::<City>()
}

#[tokio::test]
async fn a_reply_that_does_not_fit_fails_typed_and_keeps_the_text() {
    let emu = emulator(r#"{"name": "Paris"}"#).await;
    let err = openai_city(&emu).await.unwrap_err();
    let Error::OutputValidation(e) = &err else { panic!("{err:?}") };
    assert_eq!(e.what, "the structured output");
    assert!(e.message.contains("population"), "{}", e.message);
    assert_eq!(e.output.content, r#"{"name": "Paris"}"#);
    assert!(e.output.usage.output_tokens.is_some(), "usage is kept");
    assert_eq!(err.kind(), "output_validation");

    // Streaming: every chunk arrives, then the stream ends with the same error.
    let mut stream = openai_city(&emu).stream().await.unwrap();
    let mut text = String::new();
    let mut last = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => text.push_str(&chunk.content),
            Err(e) => last = Some(e),
        }
    }
    assert_eq!(text, r#"{"name": "Paris"}"#);
    assert!(matches!(last, Some(Error::OutputValidation(_))), "{last:?}");
    emu.shutdown().await;

    let emu = emulator("Paris is the capital of France.").await;
    let err = openai_city(&emu).await.unwrap_err();
    let Error::OutputValidation(e) = &err else { panic!("{err:?}") };
    assert!(e.message.contains("not JSON"), "{}", e.message);
    assert_eq!(e.output.content, "Paris is the capital of France.");
    emu.shutdown().await;
}

#[test]
fn blocking_structured_output() {
    let emu = Emulator::start_blocking(Config::default().default_reply(Reply::text(PARIS_JSON).chunk_size(5))).unwrap();
    let out = celeste::blocking::text::generate("The capital of France", "gpt-5-mini")
        .client(client())
        .provider(Provider::OpenAi)
        .base_url(emu.url())
        .output_schema::<City>()
        .send()
        .unwrap();
    assert_eq!(out.content, paris());
    let mut stream = celeste::blocking::text::stream("The capital of France", "gpt-5-mini")
        .client(client())
        .provider(Provider::OpenAi)
        .base_url(emu.url())
        .output_schema::<City>()
        .send()
        .unwrap();
    let text: String = stream.by_ref().map(|c| c.unwrap().content).collect();
    assert_eq!(text, PARIS_JSON);
    assert_eq!(stream.into_output().unwrap().content, paris());
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Weather {
    city: String,
    days: u32,
}

/// Calls to a tool declared from a Rust type have their arguments checked and normalised, unary and
/// streaming, on every wire API; a call that does not fit fails typed with the output kept.
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn typed_tool_calls_are_checked_on_every_wire_api() {
    for case in cases() {
        // Arguments that fit, with an extra field the type drops on normalisation.
        let reply = Reply::text("").tool_call("get_weather", json!({"city": "Paris", "days": 3, "extra": 1}));
        let emu = Emulator::start(Config::default().default_reply(reply)).await.unwrap();
        let tool = FunctionTool::of::<Weather>("get_weather", "Weather for a city");
        let out =
            call(&case, &emu, "weather").tool(tool.clone()).await.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let weather = out.tool_calls.iter().find(|c| c.name == "get_weather").expect(case.name);
        assert_eq!(weather.arguments, json!({"city": "Paris", "days": 3}), "{}", case.name);
        assert_eq!(weather.parse::<Weather>().unwrap(), Weather { city: "Paris".into(), days: 3 });

        let mut stream = call(&case, &emu, "weather").tool(tool.clone()).stream().await.unwrap();
        while let Some(chunk) = stream.next().await {
            chunk.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
        let calls = &stream.output().unwrap().tool_calls;
        let weather = calls.iter().find(|c| c.name == "get_weather").expect(case.name);
        assert_eq!(weather.arguments, json!({"city": "Paris", "days": 3}), "{}", case.name);
        emu.shutdown().await;

        // Arguments that do not fit.
        let reply = Reply::text("").tool_call("get_weather", json!({"town": "Paris"}));
        let emu = Emulator::start(Config::default().default_reply(reply)).await.unwrap();
        let err = call(&case, &emu, "weather").tool(tool.clone()).await.unwrap_err();
        let Error::OutputValidation(e) = &err else { panic!("{}: {err:?}", case.name) };
        assert_eq!(e.what, "the arguments of tool call `get_weather`", "{}", case.name);
        assert!(e.output.tool_calls.iter().any(|c| c.arguments == json!({"town": "Paris"})), "{}", case.name);
        let mut stream = call(&case, &emu, "weather").tool(tool).stream().await.unwrap();
        let mut last = None;
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                last = Some(e);
            }
        }
        assert!(matches!(last, Some(Error::OutputValidation(_))), "{}: {last:?}", case.name);
        emu.shutdown().await;
    }
}

/// A tool with a raw schema passes its calls through as the model sent them.
#[tokio::test]
async fn raw_schema_tools_pass_arguments_through() {
    let reply = Reply::text("").tool_call("lookup", json!({"anything": [1, 2]}));
    let emu = Emulator::start(Config::default().default_reply(reply)).await.unwrap();
    let out = client()
        .text()
        .generate("look", "gpt-5-mini")
        .provider(Provider::OpenAi)
        .base_url(emu.url())
        .tool(FunctionTool::new("lookup", "Look up", json!({"type": "object"})))
        .await
        .unwrap();
    assert_eq!(out.tool_calls[0].arguments, json!({"anything": [1, 2]}));
    emu.shutdown().await;
}

/// A structured call's span says its output is JSON, and one that does not fit ends the span as an
/// error of its own kind, with the usage the provider reported.
#[cfg(feature = "telemetry")]
#[tokio::test]
async fn spans_say_json_and_record_output_validation_failures() {
    use opentelemetry::Value as OtelValue;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let client = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "k"))
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    let attr = |span: &opentelemetry_sdk::trace::SpanData, key: &str| {
        span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.clone())
    };

    // One unary and one streamed structured call answered with `reply`: the GenAI spans they ended.
    let spans_of = async |reply: &str| {
        spans.reset();
        let emu = emulator(reply).await;
        let call = || client.text().generate("x", "gpt-5-mini").provider(Provider::OpenAi).base_url(emu.url());
        let _ = call().output_schema::<City>().await;
        let mut s = call().output_schema::<City>().stream().await.unwrap();
        while s.next().await.is_some() {}
        drop(s);
        emu.shutdown().await;
        let finished = spans.get_finished_spans().unwrap();
        finished.into_iter().filter(|s| s.name.starts_with("chat ")).collect::<Vec<_>>()
    };

    let genai = spans_of(PARIS_JSON).await;
    assert_eq!(genai.len(), 2);
    for span in &genai {
        assert_eq!(attr(span, "gen_ai.output.type"), Some(OtelValue::from("json")));
        assert_eq!(span.status, opentelemetry::trace::Status::Unset);
    }

    let genai = spans_of("no JSON here").await;
    assert_eq!(genai.len(), 2, "one span per call, ended once");
    for span in &genai {
        assert_eq!(attr(span, "error.type"), Some(OtelValue::from("output_validation")));
        assert!(attr(span, "gen_ai.usage.output_tokens").is_some(), "the tokens were spent");
        assert!(matches!(span.status, opentelemetry::trace::Status::Error { .. }));
    }
}
