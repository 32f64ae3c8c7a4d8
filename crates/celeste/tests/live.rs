//! Live sessions over real sockets against the project's emulator: the reference's
//! `test_google_live.py` and `test_openai_live.py` end-to-end cases (the frames sent, in order; the
//! chunks, usage and messages received), every catalog live model, sending while receiving from two
//! tasks, every ending (server finishes, caller ends, caller drops, error frame, idle timeout,
//! blocking) with its one span, and bad inputs.
#![cfg(all(feature = "google", feature = "openai"))]

use std::time::Duration;

use celeste::live::{LiveChunk, LiveInput, LiveSession};
use celeste::types::{Artifact, FunctionTool, Message, ToolResult};
use celeste::{Client, Credentials, Error, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator};
use futures::StreamExt;
use serde_json::{Value, json};

fn client_with(emu: &Emulator, telemetry: TelemetryConfig) -> Client {
    Client::builder()
        .credentials(
            Credentials::empty()
                .with_key(Provider::OpenAi, "test-openai-key")
                .with_key(Provider::Google, "test-google-key"),
        )
        .base_url(Provider::OpenAi, emu.url())
        .base_url(Provider::Google, emu.url())
        .telemetry(telemetry)
        .build()
        .unwrap()
}

fn client(emu: &Emulator) -> Client {
    client_with(emu, TelemetryConfig::new().disabled())
}

fn pcm(n: usize) -> Artifact {
    Artifact::from_bytes(vec![0u8; n]).with_mime_type("audio/pcm".parse().unwrap())
}

/// The JSON frames the client sent on the live socket, in order.
fn sent(emu: &Emulator) -> Vec<Value> {
    emu.requests().iter().filter(|r| r.method == "WS").map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
}

/// Whether a chunk ends a model turn: Google's `turnComplete`, OpenAI's usage report (its turns have
/// no finish of their own: only the session's close does).
fn turn_end(c: &LiveChunk) -> bool {
    c.finish_reason.is_some() || c.usage.is_some()
}

/// Read until a chunk that ends a turn; returns the chunks read.
async fn until_turn_end(s: &mut LiveSession) -> Vec<LiveChunk> {
    read_until(s, turn_end).await
}

/// Read until a chunk that ends a turn or calls a tool.
async fn until_turn_end_or_call(s: &mut LiveSession) -> Vec<LiveChunk> {
    read_until(s, |c| turn_end(c) || !c.tool_calls.is_empty()).await
}

/// Read chunks up to and including the first that `stop` picks.
async fn read_until(s: &mut LiveSession, stop: impl Fn(&LiveChunk) -> bool) -> Vec<LiveChunk> {
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        let end = stop(&c);
        out.push(c);
        if end {
            break;
        }
    }
    out
}

#[tokio::test]
async fn google_end_to_end_frames_chunks_tool_call_and_output() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let mut s = celeste::live::connect("gemini-3.8-live")
        .client(c)
        .voice("Kore")
        .instructions("Be brief.")
        .message(Message::user("Hi"))
        .tool(FunctionTool::new("get_weather", "The weather", json!({"type": "object"})))
        .await
        .unwrap();
    // Nothing is sent before the session is polled; what is sent is queued.
    s.send("What is the weather in Paris?").unwrap();
    assert!(emu.requests().is_empty(), "the socket opens on the first poll");
    let first = s.next().await.unwrap().unwrap();
    assert!(first.setup_complete && first.audio.is_empty());
    // The first turn is a tool call; the result gets the spoken answer.
    let chunks = until_turn_end_or_call(&mut s).await;
    let call = chunks.iter().flat_map(|c| c.tool_calls.clone()).next().expect("a tool call");
    assert_eq!((call.id.as_str(), call.name.as_str()), ("call_1", "get_weather"));
    s.send(ToolResult::new("call_1", "sunny")).unwrap();
    let turn = until_turn_end(&mut s).await;
    assert!(turn.iter().map(|c| c.audio.len()).sum::<usize>() > 0);
    assert_eq!(turn.last().unwrap().finish_reason.as_ref().unwrap().raw, "turnComplete");
    s.end().unwrap();
    while let Some(c) = s.next().await {
        c.unwrap();
    }
    let out = s.output().unwrap();
    assert_eq!(out.content.mime_type.as_ref().unwrap().as_str(), "audio/pcm");
    assert_eq!(out.content.metadata["sample_rate"], 24000);
    assert_eq!(out.content.data.as_ref().unwrap().len(), 3 * 960);
    assert_eq!(out.usage.input_tokens, Some(20));
    assert_eq!(out.tool_calls.len(), 1);
    // The messages of the session: what was sent, the tool call, the merged transcript.
    let m = serde_json::to_value(&out.messages).unwrap();
    assert_eq!(m[0]["role"], "user");
    assert_eq!(m[1]["tool_calls"][0]["id"], "call_1");
    assert_eq!(m[2]["tool_call_id"], "call_1");
    assert_eq!(m[3]["content"][0]["text"], "It is sunny and warm.");
    assert!(out.events.iter().all(|e| !e.to_string().contains("inlineData\":{\"data")), "audio stripped");
    // The frames: setup, the seed, the user turn, the tool response.
    let frames = sent(&emu);
    assert_eq!(frames[0]["setup"]["model"], "models/gemini-3.8-live");
    assert_eq!(frames[0]["setup"]["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(frames[1]["clientContent"]["turnComplete"], false);
    assert_eq!(frames[2]["clientContent"]["turnComplete"], true);
    assert_eq!(frames[3]["toolResponse"]["functionResponses"][0]["name"], "get_weather");
    let upgrade = &emu.requests()[0];
    assert_eq!(upgrade.path, "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent");
    assert_eq!(upgrade.header("x-goog-api-key"), Some("test-google-key"));
    emu.shutdown().await;
}

#[tokio::test]
async fn openai_end_to_end_send_order_format_usage_and_base_url() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let mut s = celeste::live::connect("gpt-live-1")
        .client(c)
        .base_url(format!("{}/v1", emu.url()))
        .audio_format("audio/pcm;rate=16000")
        .voice("Marin")
        .tool(FunctionTool::new("get_weather", "The weather", json!({"type": "object"})))
        .extra_body(json!({"delegation": {"responses": {"model": "gpt-5.4-mini"}}}))
        .await
        .unwrap();
    s.send(LiveInput::Audio(pcm(640).with_metadata("sample_rate", 16000))).unwrap();
    assert!(s.next().await.unwrap().unwrap().setup_complete);
    let chunks = until_turn_end_or_call(&mut s).await;
    assert!(chunks.iter().any(|c| !c.tool_calls.is_empty()));
    s.send(ToolResult::new("call_1", json!({"forecast": "sunny"}))).unwrap();
    // The answer's usage report, then end.
    loop {
        let c = s.next().await.unwrap().unwrap();
        if c.usage.is_some() {
            break;
        }
    }
    s.end().unwrap();
    let mut last = None;
    while let Some(c) = s.next().await {
        last = Some(c.unwrap());
    }
    assert_eq!(last.unwrap().finish_reason.unwrap().raw, "close_requested");
    let out = s.output().unwrap();
    assert_eq!(out.usage.billed_units, Some(3.0), "cumulative seconds, from session.closed");
    assert_eq!(out.audio_format.rate, 16000, "the format session.started confirmed");
    assert_eq!(out.tool_calls[0].extra["delegation_id"], "del_1");
    let kinds: Vec<String> = sent(&emu).iter().map(|f| f["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["session.start", "session.input_audio.append", "response.item.create", "session.close"]);
    let start = &sent(&emu)[0];
    assert_eq!(start["session"]["audio"]["format"], json!({"type": "audio/pcm", "rate": 16000}));
    assert_eq!(start["session"]["audio"]["output"]["voice"], "marin");
    assert_eq!(start["session"]["delegation"]["responses"]["model"], "gpt-5.4-mini");
    let upgrade = &emu.requests()[0];
    assert_eq!(upgrade.path, "/v1/live/sessions");
    assert_eq!(upgrade.header("authorization"), Some("Bearer test-openai-key"));
    emu.shutdown().await;
}

#[tokio::test]
async fn openai_usage_is_the_last_report_without_session_closed_and_unregistered_models_connect() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let mut s = celeste::live::connect("gpt-live-1")
        .client(client(&emu))
        .header("x-emulator-live-fault", "no-closed")
        .await
        .unwrap();
    s.send(LiveInput::Audio(pcm(960))).unwrap();
    until_turn_end(&mut s).await;
    s.end().unwrap();
    while let Some(c) = s.next().await {
        c.unwrap();
    }
    let out = s.output().unwrap();
    assert_eq!(out.usage.billed_units, Some(1.5), "the last session.usage.updated");
    assert!(out.finish_reason.is_none(), "no session.closed, no finish reason");
    // An id the catalog does not know, with its provider: no validation, same protocol.
    let mut s = celeste::live::connect("future-live").client(client(&emu)).provider(Provider::Google).await.unwrap();
    assert!(s.next().await.unwrap().unwrap().setup_complete);
    assert_eq!(sent(&emu).last().unwrap()["setup"]["model"], "models/future-live");
    emu.shutdown().await;
}

#[tokio::test]
async fn every_catalog_live_model_holds_a_session() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let models = celeste::catalog::list_models(None, Some(celeste::Modality::Live), None);
    assert_eq!(models.len(), 3, "{models:?}");
    for m in models {
        let mut s = celeste::live::connect(&m.id).client(c.clone()).await.unwrap();
        match m.provider {
            Provider::OpenAi => s.send(LiveInput::Audio(pcm(960))).unwrap(),
            _ => s.send("Say hello").unwrap(),
        }
        let turn = until_turn_end(&mut s).await;
        assert!(turn[0].setup_complete, "{}", m.id);
        assert!(turn.iter().any(|c| !c.audio.is_empty()), "{}", m.id);
        s.end().unwrap();
        while let Some(c) = s.next().await {
            c.unwrap();
        }
        assert!(!s.output().unwrap().content.data.as_ref().unwrap().is_empty(), "{}", m.id);
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn halves_send_and_receive_from_two_tasks() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let s = celeste::live::connect("gemini-3.8-live").client(client(&emu)).await.unwrap();
    let (tx, mut rx) = s.split();
    let reader = tokio::spawn(async move {
        let mut finishes = 0;
        while let Some(c) = rx.next().await {
            if c.unwrap().finish_reason.is_some() {
                finishes += 1;
            }
        }
        (finishes, rx.into_output().unwrap())
    });
    for i in 0..3 {
        tx.send(format!("question {i}")).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    tx.end().unwrap();
    let (finishes, out) = reader.await.unwrap();
    assert_eq!(finishes, 3);
    assert_eq!(out.usage.input_tokens, Some(10 + 20 + 30), "summed over turns");
    assert_eq!(out.messages.len(), 6, "three questions, three answers");
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_inputs_are_clear_errors_before_or_at_send() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let err = celeste::live::connect("gpt-live-1").client(c.clone()).audio_format("audio/wav").await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    let err = celeste::live::connect("gpt-live-1").client(c.clone()).voice("nobody").await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    let err =
        celeste::live::connect("gpt-live-1").client(c.clone()).message(ToolResult::new("x", "y")).await.unwrap_err();
    assert!(err.to_string().contains("text messages only"), "{err}");
    let err = celeste::live::connect("gpt-5-mini").client(c.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");

    let s = celeste::live::connect("gpt-live-1").client(c.clone()).await.unwrap();
    let e = s.send("hello").unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)) && e.to_string().contains("text"), "{e}");
    let e = s.send(LiveInput::Image(Artifact::from_bytes(vec![1u8]))).unwrap_err();
    assert!(e.to_string().contains("images"), "{e}");
    let e = s.send(LiveInput::Audio(pcm(4).with_metadata("sample_rate", 16000))).unwrap_err();
    assert!(e.to_string().contains("audio/pcm at 24000 Hz"), "{e}");
    let mp3 = Artifact::from_bytes(vec![1u8]).with_mime_type("audio/mpeg".parse().unwrap());
    assert!(matches!(s.send(LiveInput::Audio(mp3.clone())).unwrap_err(), Error::Validation(_)));
    let e = s.send(ToolResult::new("call_nope", "x")).unwrap_err();
    assert!(e.to_string().contains("call_nope"), "{e}");
    s.end().unwrap();
    let e = s.send(LiveInput::Audio(pcm(4))).unwrap_err();
    assert!(e.to_string().contains("has ended"), "{e}");

    let g = celeste::live::connect("gemini-3.8-live").client(c).await.unwrap();
    assert!(matches!(g.send(LiveInput::Audio(mp3)).unwrap_err(), Error::Validation(_)));
    assert!(g.send(Message::system("x")).unwrap_err().to_string().contains("session setup"));
    assert!(emu.requests().is_empty(), "nothing was sent");
    emu.shutdown().await;
}

/// A session that ends with the fault `fault` (header) after sending `input`: its first error.
async fn faulted(emu: &Emulator, model: &str, fault: &str, idle: Option<Duration>) -> (Vec<LiveChunk>, Option<Error>) {
    let mut b = celeste::live::connect(model).client(client(emu)).header("x-emulator-live-fault", fault);
    if let Some(d) = idle {
        b = b.idle_timeout(Some(d));
    }
    let mut s = b.await.unwrap();
    match model {
        "gpt-live-1" => s.send(LiveInput::Audio(pcm(960))).unwrap(),
        _ => s.send("hi").unwrap(),
    }
    let mut chunks = Vec::new();
    while let Some(c) = s.next().await {
        match c {
            Ok(c) => chunks.push(c),
            Err(e) => {
                assert!(s.next().await.is_none(), "the stream ends after its error");
                assert!(matches!(s.output(), Err(Error::StreamNotExhausted)));
                return (chunks, Some(e));
            }
        }
        if chunks.last().is_some_and(turn_end) {
            s.end().unwrap();
        }
    }
    (chunks, None)
}

#[tokio::test]
async fn faults_are_typed_errors_and_the_session_goes_on_after_an_openai_error_event() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    for model in ["gemini-3.8-live", "gpt-live-1"] {
        let (_, e) = faulted(&emu, model, "close-mid-turn", None).await;
        let e = e.expect("an error");
        assert!(
            matches!(&e, Error::StreamEvent(s) if s.error_type.as_deref() == Some("websocket_close_1011")),
            "{e:?}"
        );
        let (_, e) = faulted(&emu, model, "drop", None).await;
        assert!(matches!(e, Some(Error::Transport { .. })), "{e:?}");
        let (_, e) = faulted(&emu, model, "stall", Some(Duration::from_millis(300))).await;
        assert!(matches!(e, Some(Error::Timeout { .. })), "{e:?}");
        let (_, e) = faulted(&emu, model, "bad-ack", None).await;
        assert!(matches!(e, Some(Error::Decode { .. })), "{e:?}");
    }
    let (_, e) = faulted(&emu, "gemini-3.8-live", "error-event", None).await;
    assert!(e.unwrap().to_string().contains("RESOURCE_EXHAUSTED"));
    let (chunks, e) = faulted(&emu, "gpt-live-1", "error-event", None).await;
    assert!(e.is_none(), "a runtime error event is a chunk");
    assert!(chunks.iter().any(|c| c.event["type"] == "error"));
    let (_, e) = faulted(&emu, "gpt-live-1", "error-ack", None).await;
    assert!(matches!(&e, Some(Error::StreamEvent(s)) if s.error_type.as_deref() == Some("model_not_found")), "{e:?}");
    let (chunks, _) = faulted(&emu, "gemini-3.8-live", "interrupt", None).await;
    assert_eq!(chunks.iter().find_map(|c| c.finish_reason.clone()).unwrap().raw, "interrupted");
    emu.shutdown().await;
}

#[tokio::test]
async fn every_ending_ends_the_span_once() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = client_with(&emu, TelemetryConfig::new().tracer_provider(tp.clone()));
    // Server finishes (OpenAI session.closed after end) and caller ends (Google close).
    for model in ["gpt-live-1", "gemini-3.8-live"] {
        let mut s = celeste::live::connect(model).client(c.clone()).await.unwrap();
        match model {
            "gpt-live-1" => s.send(LiveInput::Audio(pcm(960))).unwrap(),
            _ => s.send("hi").unwrap(),
        }
        until_turn_end(&mut s).await;
        s.end().unwrap();
        while s.next().await.is_some() {}
    }
    // Caller drops mid-session.
    let mut s = celeste::live::connect("gemini-3.8-live").client(c.clone()).await.unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    // Error frame.
    let mut s = celeste::live::connect("gemini-3.8-live")
        .client(c.clone())
        .header("x-emulator-live-fault", "close-mid-turn")
        .await
        .unwrap();
    s.send("hi").unwrap();
    while let Some(Ok(_)) = s.next().await {}
    drop(s);
    // Idle timeout.
    let mut s = celeste::live::connect("gpt-live-1")
        .client(c.clone())
        .idle_timeout(Some(Duration::from_millis(200)))
        .await
        .unwrap();
    s.next().await.unwrap().unwrap();
    assert!(matches!(s.next().await, Some(Err(Error::Timeout { .. }))));
    drop(s);
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let live: Vec<_> = finished.iter().filter(|s| s.name.starts_with("generate_content g")).collect();
    assert_eq!(live.len(), 5, "{:?}", finished.iter().map(|s| &s.name).collect::<Vec<_>>());
    let attr = |s: &opentelemetry_sdk::trace::SpanData, k: &str| {
        s.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string())
    };
    assert_eq!(live[0].name, "generate_content gpt-live-1");
    assert_eq!(attr(live[0], "gen_ai.output.type").as_deref(), Some("speech"));
    assert!(attr(live[0], "gen_ai.response.time_to_first_chunk").is_some());
    assert_eq!(attr(live[0], "gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(attr(live[1], "gen_ai.provider.name").as_deref(), Some("gcp.gemini"));
    assert_eq!(attr(live[1], "gen_ai.usage.input_tokens").as_deref(), Some("10"));
    let turns: Vec<_> = live[1].events.iter().filter(|e| e.name == "celeste.live.usage").collect();
    assert_eq!(turns.len(), 1, "one usage event per turn");
    assert!(attr(live[0], "error.type").is_none() && attr(live[1], "error.type").is_none());
    assert_eq!(attr(live[2], "error.type").as_deref(), Some("cancelled"));
    assert_eq!(attr(live[3], "error.type").as_deref(), Some("stream_event"));
    assert_eq!(attr(live[4], "error.type").as_deref(), Some("timeout"));
    assert!(!format!("{finished:?}").contains("test-google-key"));
    emu.shutdown().await;
}

#[tokio::test]
async fn dropping_a_session_closes_its_socket() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    for model in ["gemini-3.8-live", "gpt-live-1"] {
        let mut s = celeste::live::connect(model).client(client(&emu)).await.unwrap();
        s.next().await.unwrap().unwrap(); // the acknowledgement: the server's session is running
        assert_eq!(emu.open_sockets(), 1, "{model}");
        drop(s);
        let closed = async {
            while emu.open_sockets() > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), closed)
            .await
            .unwrap_or_else(|_| panic!("{model}: the socket stayed open after the session was dropped"));
    }
    emu.shutdown().await;
}

#[test]
fn the_blocking_twin_holds_a_session() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start_blocking(Config::default()).unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = client_with(&emu, TelemetryConfig::new().tracer_provider(tp.clone()));
    let mut s = celeste::live::blocking::connect("gemini-3.8-live").with(|b| b.client(c)).start().unwrap();
    s.send("Say hello").unwrap();
    let sender = s.sender();
    let mut transcript = String::new();
    for chunk in &mut s {
        let chunk = chunk.unwrap();
        if let Some(t) = &chunk.transcript {
            transcript.push_str(&t.text());
        }
        if chunk.finish_reason.is_some() {
            sender.end().unwrap();
        }
    }
    assert_eq!(transcript, "It is sunny and warm.");
    assert!(s.output().unwrap().content.data.as_ref().is_some_and(|d| !d.is_empty()));
    drop(s);
    // The blocking twin drives the same session: its span ends once, without an error.
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let live: Vec<_> = finished.iter().filter(|s| s.name == "generate_content gemini-3.8-live").collect();
    assert_eq!(live.len(), 1, "{:?}", finished.iter().map(|s| &s.name).collect::<Vec<_>>());
    assert!(!live[0].attributes.iter().any(|kv| kv.key.as_str() == "error.type"), "{:?}", live[0].attributes);
}

#[tokio::test]
async fn vertex_url_resource_and_bearer() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let vertex = celeste::Vertex::with_token("ya29.test-token").project("my-proj").location("us-central1");
    let mut s = celeste::live::connect("gemini-3.8-live")
        .client(client(&emu))
        .auth(celeste::Auth::vertex(vertex))
        .base_url(emu.url())
        .await
        .unwrap();
    assert!(s.next().await.unwrap().unwrap().setup_complete);
    drop(s);
    let upgrade = &emu.requests()[0];
    assert_eq!(upgrade.path, "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent");
    assert_eq!(upgrade.header("authorization"), Some("Bearer ya29.test-token"));
    assert_eq!(upgrade.header("x-goog-user-project"), Some("my-proj"));
    assert_eq!(
        sent(&emu)[0]["setup"]["model"],
        "projects/my-proj/locations/us-central1/publishers/google/models/gemini-3.8-live"
    );
    emu.shutdown().await;
}
