//! The result of a stream must not depend on how its bytes fall into network reads (issue 18).
//!
//! For every wire API a real TCP server on 127.0.0.1 serves an SSE body (real recordings from the
//! shared fixtures, replayed as their README says, and hand-written tails: events after the terminal
//! event, an error event after deltas, `[DONE]` after Anthropic's end, a last event without its blank
//! line) whole, byte by byte, and cut at random points. Each piece is its own HTTP chunk, written and
//! flushed separately on a TCP_NODELAY socket, so the client's HTTP stack hands each piece to the
//! stream as its own read. The public API must give the same chunks, the same output and the same
//! error for every cut, and that result must be the one the body means.

mod support;

use std::time::Duration;

use celeste::types::Chunk;
use celeste::{Client, Credentials, Error, Protocol, Provider, RetryPolicy, TelemetryConfig, Timeouts};
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};
use support::{End, Reply, Server};

/// The shared recordings (read in place, never copied into the repository).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/recorded/vercel-ai");

/// Bodies up to this size are also served one byte per read (larger ones would take too long).
const BYTEWISE_MAX: usize = 6 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Responses,
    Chat,
    Anthropic,
    Gemini,
    Interactions,
    Cohere,
}

impl Api {
    const ALL: [Api; 6] = [Api::Responses, Api::Chat, Api::Anthropic, Api::Gemini, Api::Interactions, Api::Cohere];

    /// The recordings of this wire API, by path below the fixtures folder.
    fn recordings(self) -> &'static [&'static str] {
        match self {
            Api::Responses => &[
                "openai-responses/openai-custom-tool.1.chunks.txt",
                "openai-responses/openai-error.1.chunks.txt",
                // Four turns in one file: the stream ends at the first `response.completed`.
                "openai-responses/openai-reasoning-encrypted-content.1.chunks.txt",
                "openai-responses/openai-web-search-tool.1.chunks.txt",
            ],
            Api::Chat => &[
                "openai-chat/openai-text.chunks.txt",
                "mistral/mistral-text.chunks.txt",
                "groq/groq-tool-call.chunks.txt",
                "moonshot/moonshotai-stream.chunks.txt",
                "deepseek/deepseek-tool-call.chunks.txt",
            ],
            Api::Anthropic => &[
                "anthropic/anthropic-text.chunks.txt",
                "anthropic/anthropic-json-tool.1.chunks.txt",
                "anthropic/anthropic-refusal.chunks.txt",
                "anthropic/anthropic-clear-thinking.1.chunks.txt",
                "anthropic/anthropic-message-delta-input-tokens.chunks.txt",
            ],
            Api::Gemini => &[
                "google/google-text.chunks.txt",
                "google/google-tool-call.chunks.txt",
                "google/google-reasoning.chunks.txt",
                "google/google-stream-tool-call-arguments.chunks.txt",
            ],
            Api::Interactions => &[
                "google-interactions/basic.chunks.txt",
                "google-interactions/tool-call-step1.chunks.txt",
                "google-interactions/tool-call-step2.chunks.txt",
            ],
            Api::Cohere => &[
                "cohere/cohere-text.chunks.txt",
                "cohere/cohere-tool-call.chunks.txt",
                "cohere/cohere-reasoning.chunks.txt",
            ],
        }
    }

    /// Replay one recorded payload per line as the real API frames it: `event:` lines where the real
    /// API sends them, and `[DONE]` after Chat Completions streams.
    fn replay(self, payloads: &[String]) -> Vec<u8> {
        let mut out = String::new();
        for p in payloads {
            self.event(&mut out, p);
        }
        if self == Api::Chat {
            out.push_str("data: [DONE]\n\n");
        }
        out.into_bytes()
    }

    fn event(self, out: &mut String, payload: &str) {
        if matches!(self, Api::Responses | Api::Anthropic | Api::Cohere)
            && let Ok(v) = serde_json::from_str::<Value>(payload)
            && let Some(kind) = v["type"].as_str()
        {
            out.push_str(&format!("event: {kind}\n"));
        }
        out.push_str(&format!("data: {payload}\n\n"));
    }

    /// Events a careless or replaying server sends after the terminal event: they change text, usage
    /// and the finish reason, and must change nothing.
    fn after_terminal(self) -> Vec<String> {
        let v = match self {
            Api::Responses => vec![
                json!({"type": "response.output_text.delta", "delta": "LATE"}),
                json!({"type": "response.completed", "response": {"id": "resp_late", "status": "incomplete",
                    "incomplete_details": {"reason": "max_output_tokens"},
                    "usage": {"input_tokens": 999, "output_tokens": 999, "total_tokens": 1998}}}),
            ],
            Api::Chat => vec![json!({"id": "late", "object": "chat.completion.chunk", "choices": [{"index": 0,
                    "delta": {"content": "LATE"}, "finish_reason": "length"}],
                    "usage": {"prompt_tokens": 999, "completion_tokens": 999, "total_tokens": 1998}})],
            Api::Anthropic => vec![
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "LATE"}}),
                json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"},
                    "usage": {"input_tokens": 999, "output_tokens": 999}}),
                json!({"type": "message_stop"}),
            ],
            Api::Gemini => vec![json!({"candidates": [{"content": {"parts": [{"text": "LATE"}], "role": "model"},
                "finishReason": "MAX_TOKENS", "index": 0}],
                "usageMetadata": {"promptTokenCount": 999, "candidatesTokenCount": 999, "totalTokenCount": 1998}})],
            Api::Interactions => vec![
                json!({"index": 5, "step": {"type": "model_output"}, "event_type": "step.start"}),
                json!({"index": 5, "delta": {"text": "LATE", "type": "text"}, "event_type": "step.delta"}),
                json!({"interaction": {"id": "late", "status": "incomplete",
                    "usage": {"total_input_tokens": 999, "total_output_tokens": 999}}, "event_type": "interaction.completed"}),
            ],
            Api::Cohere => vec![
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "LATE"}}}}),
                json!({"type": "message-end", "delta": {"finish_reason": "MAX_TOKENS",
                    "usage": {"tokens": {"input_tokens": 999, "output_tokens": 999}}}}),
            ],
        };
        v.iter().map(Value::to_string).collect()
    }

    /// Three text deltas (with whatever opens a message first), then the API's error event.
    fn deltas_then_error(self) -> Vec<u8> {
        let (open, delta, error): (Vec<Value>, fn(&str) -> Value, Value) = match self {
            Api::Responses => (
                vec![json!({"type": "response.created", "response": {"id": "resp_e", "status": "in_progress"}})],
                |t| json!({"type": "response.output_text.delta", "delta": t}),
                json!({"type": "error", "code": "server_error", "message": "The server had an error"}),
            ),
            Api::Chat => (
                vec![],
                |t| json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": t}}]}),
                json!({"error": {"message": "The server had an error", "type": "server_error"}}),
            ),
            Api::Anthropic => (
                vec![
                    json!({"type": "message_start", "message": {"id": "msg_e", "type": "message", "role": "assistant",
                        "content": [], "model": "claude", "usage": {"input_tokens": 5, "output_tokens": 1}}}),
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ],
                |t| json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}),
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ),
            Api::Gemini => (
                vec![],
                |t| json!({"candidates": [{"content": {"parts": [{"text": t}], "role": "model"}, "index": 0}]}),
                json!({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}),
            ),
            Api::Interactions => (
                vec![
                    json!({"interaction": {"id": "v1_e", "status": "in_progress"}, "event_type": "interaction.created"}),
                    json!({"index": 0, "step": {"type": "model_output"}, "event_type": "step.start"}),
                ],
                |t| json!({"index": 0, "delta": {"text": t, "type": "text"}, "event_type": "step.delta"}),
                json!({"event_type": "error", "error": {"code": "internal", "message": "Internal error"}}),
            ),
            Api::Cohere => (
                vec![
                    json!({"id": "c1", "type": "message-start", "delta": {"message": {"role": "assistant"}}}),
                    json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
                ],
                |t| json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": t}}}}),
                json!({"type": "error", "message": "internal server error"}),
            ),
        };
        let mut events: Vec<String> = open.iter().map(Value::to_string).collect();
        events.extend(["a", "b", "c"].map(|t| delta(t).to_string()));
        let mut out = String::new();
        for e in &events {
            self.event(&mut out, e);
        }
        self.event(&mut out, &error.to_string());
        out.into_bytes()
    }

    /// The stream call for this wire API against `url`, through the public API.
    async fn open(self, client: &Client, url: &str) -> celeste::Result<celeste::text::TextStream> {
        let call = |model: &str| celeste::text::stream("hi", model).client(client.clone()).base_url(url);
        match self {
            Api::Responses => call("gpt-5-mini").provider(Provider::OpenAi).await,
            Api::Chat => call("some-model").protocol(Protocol::ChatCompletions).await,
            Api::Anthropic => call("claude-sonnet-4-5").provider(Provider::Anthropic).await,
            // Vertex credentials send Google's text to generateContent.
            Api::Gemini => {
                let vertex = celeste::Vertex::with_token("ya29.test").project("p").location("us-central1");
                call("gemini-3.6-flash").provider(Provider::Google).auth(celeste::Auth::vertex(vertex)).await
            }
            Api::Interactions => call("gemini-2.5-flash").provider(Provider::Google).await,
            Api::Cohere => call("command-a-03-2025").provider(Provider::Cohere).await,
        }
    }
}

/// How a stream ended: its output (rendered) or its error (kind and message).
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    Output(String),
    Error { kind: &'static str, message: String },
}

/// Everything the public API gave for one body.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    chunks: Vec<Chunk<String>>,
    ending: Ending,
}

impl Run {
    fn text(&self) -> String {
        self.chunks.iter().map(|c| c.content.as_str()).collect()
    }
}

fn ending(e: &Error) -> Ending {
    Ending::Error { kind: e.kind(), message: e.to_string() }
}

fn client() -> Client {
    let mut creds = Credentials::empty();
    for p in [Provider::OpenAi, Provider::Anthropic, Provider::Google, Provider::Cohere] {
        creds = creds.with_key(p, "test-key");
    }
    Client::builder()
        .credentials(creds)
        .retry(RetryPolicy::none())
        // Generous for a loaded machine; a hang would otherwise take the default two minutes to show.
        .timeouts(Timeouts::default().with_idle(Duration::from_secs(30)))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// `body` cut at `cuts` (any order, duplicates and out-of-range cuts ignored) into non-empty pieces.
fn pieces(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().copied().filter(|&c| c > 0 && c < body.len()).collect();
    at.push(0);
    at.push(body.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| body[w[0]..w[1]].to_vec()).filter(|p| !p.is_empty()).collect()
}

/// Serve `body` in `pieces` and collect what the public API gives.
async fn run(client: &Client, api: Api, pieces: Vec<Vec<u8>>) -> Run {
    // A chunked response: each piece is one HTTP chunk, written and flushed on its own (TCP_NODELAY).
    let srv = Server::start(vec![Reply::Stream { pieces, delay: Duration::ZERO, end: End::Clean }]).await;
    let mut stream = match api.open(client, &srv.url).await {
        Ok(s) => s,
        Err(e) => return Run { chunks: Vec::new(), ending: ending(&e) },
    };
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(e) => {
                assert!(stream.next().await.is_none(), "nothing after an error");
                return Run { chunks, ending: ending(&e) };
            }
        }
    }
    let ending = match stream.output() {
        Ok(out) => Ending::Output(format!("{out:?}")),
        Err(e) => panic!("a stream that ended without an error has an output: {e}"),
    };
    Run { chunks, ending }
}

fn payloads(path: &str) -> Vec<String> {
    let full = format!("{FIXTURES}/{path}");
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    text.split('\n').filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

/// A body and the result every split of it must give.
struct Case {
    api: Api,
    name: String,
    body: Vec<u8>,
    expect: Run,
}

/// Every body, with its expected result: a recording's is its own whole-body result (checked for
/// sanity here), and each hand-written tail's is derived from the recording it extends.
async fn cases(client: &Client) -> Vec<Case> {
    let mut cases = Vec::new();
    for api in Api::ALL {
        for path in api.recordings() {
            let events = payloads(path);
            let body = api.replay(&events);
            let canonical = run(client, api, vec![body.clone()]).await;
            if path.contains("openai-error") {
                assert!(
                    matches!(&canonical.ending, Ending::Error { kind: "stream_event", .. }),
                    "{path}: {canonical:?}"
                );
            } else {
                assert!(matches!(canonical.ending, Ending::Output(_)), "{path}: {:?}", canonical.ending);
                assert!(!canonical.chunks.is_empty(), "{path}");
            }

            // Events after the terminal event change nothing.
            let mut tail = body.clone();
            let mut extra = String::new();
            for e in api.after_terminal() {
                api.event(&mut extra, &e);
            }
            tail.extend_from_slice(extra.as_bytes());
            cases.push(Case {
                api,
                name: format!("{path} + events after the end"),
                body: tail,
                expect: canonical.clone(),
            });

            if api == Api::Anthropic {
                let mut done = body.clone();
                done.extend_from_slice(b"data: [DONE]\n\n");
                cases.push(Case { api, name: format!("{path} + [DONE]"), body: done, expect: canonical.clone() });
            }

            // The last event without its blank line, or without any line ending at all.
            let trimmed = body.strip_suffix(b"\n").unwrap().to_vec();
            let bare = trimmed.strip_suffix(b"\n").unwrap().to_vec();
            cases.push(Case {
                api,
                name: format!("{path} without the last blank line"),
                body: trimmed,
                expect: canonical.clone(),
            });
            cases.push(Case {
                api,
                name: format!("{path} without the last line ending"),
                body: bare,
                expect: canonical.clone(),
            });

            cases.push(Case { api, name: path.to_string(), body, expect: canonical });
        }

        // Deltas, then an error event: the deltas are delivered, then the error.
        let body = api.deltas_then_error();
        let expect = run(client, api, vec![body.clone()]).await;
        assert_eq!(expect.text(), "abc", "{api:?}: {expect:?}");
        assert!(matches!(expect.ending, Ending::Error { kind: "stream_event", .. }), "{api:?}: {expect:?}");
        cases.push(Case { api, name: format!("{api:?} deltas then an error"), body, expect });
    }
    cases
}

fn check(case: &Case, got: &Run, how: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(&got.chunks, &case.expect.chunks, "{} ({}): chunks", case.name, how);
    prop_assert_eq!(&got.ending, &case.expect.ending, "{} ({}): ending", case.name, how);
    Ok(())
}

#[test]
fn every_wire_api_gives_the_same_result_however_the_body_is_split() {
    let started = std::time::Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = client();
    let cases = rt.block_on(cases(&client));

    // Whole (one piece) and byte by byte.
    for case in &cases {
        let whole = rt.block_on(run(&client, case.api, vec![case.body.clone()]));
        check(case, &whole, "whole").unwrap();
        if case.body.len() <= BYTEWISE_MAX {
            let cuts: Vec<usize> = (1..case.body.len()).collect();
            let bytewise = rt.block_on(run(&client, case.api, pieces(&case.body, &cuts)));
            check(case, &bytewise, "byte by byte").unwrap();
        }
    }

    // Random cuts, reproducibly: a fixed seed (the issue number), and a bounded number of cases.
    let config = Config { cases: 256, rng_seed: RngSeed::Fixed(18), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = (0..cases.len(), prop::collection::vec(any::<prop::sample::Index>(), 1..48));
    runner
        .run(&strategy, |(i, cuts)| {
            let case = &cases[i];
            let cuts: Vec<usize> = cuts.iter().map(|c| c.index(case.body.len())).collect();
            let got = rt.block_on(run(&client, case.api, pieces(&case.body, &cuts)));
            check(case, &got, &format!("cut at {cuts:?}"))
        })
        .unwrap();
    eprintln!("{} bodies, whole, byte by byte and cut at random, in {:?}", cases.len(), started.elapsed());
}
