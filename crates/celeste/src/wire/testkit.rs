//! Test set-up shared by the wire modules' tests: the call a module's tests make ([`Setup`]), the
//! body helpers, stream-event helpers, and the recorded exchanges the conformance tests replay.

use std::collections::VecDeque;

use bytes::Bytes;
use serde_json::Value;

use crate::error::{Origin, Result};
use crate::stream::{Decoder, Frame};
use crate::testing::recorded_dir;
use crate::transport::sse::SseEvent;
use crate::types::enums::Operation;
use crate::types::message::{Item, Message};
use crate::types::output::{Chunk, Output};
use crate::types::text::{TextParams, TextRequest};
use crate::wire::{WireApi, WireContext};

/// Who a test module calls, and with which model: one `const` per module.
#[derive(Clone, Copy)]
pub(crate) struct Setup {
    pub origin: Origin,
    pub model: &'static str,
}

impl Setup {
    pub(crate) const fn new(origin: Origin, model: &'static str) -> Self {
        Setup { origin, model }
    }

    pub(crate) fn ctx(&self) -> WireContext {
        WireContext { origin: self.origin, model: self.model.into(), operation: Operation::Generate }
    }

    /// A request for the model with these items and nothing else set.
    pub(crate) fn request(&self, items: Vec<Item>) -> TextRequest {
        TextRequest {
            model: self.model.into(),
            items,
            params: TextParams::default(),
            tools: vec![],
            tool_choice: None,
            output_schema: None,
            limits: Default::default(),
        }
    }

    /// A request of one user message.
    pub(crate) fn user(&self, text: &str) -> TextRequest {
        self.request(vec![Message::user(text).into()])
    }

    /// A request saying "hi" with these parameters.
    pub(crate) fn with_params(&self, params: TextParams) -> TextRequest {
        let mut req = self.user("hi");
        req.params = params;
        req
    }
}

/// The stream event error a result must be (a test fails on anything else).
pub(crate) fn event_error<T: std::fmt::Debug>(res: Result<T>) -> crate::error::StreamEventError {
    match res {
        Err(crate::error::Error::StreamEvent(e)) => *e,
        other => panic!("a stream event error expected: {other:?}"),
    }
}

/// A stream event error's message and type.
pub(crate) fn message_and_type(e: &crate::error::StreamEventError) -> (&str, Option<&str>) {
    (e.message.as_str(), e.error_type.as_deref())
}

/// A conversation around one assistant turn: a system and a developer instruction, the user's
/// `question`, the assistant turn, then what follows it (tool results, later turns).
pub(crate) fn around(question: &str, assistant: Message, after: Vec<Item>) -> Vec<Item> {
    let mut items: Vec<Item> = vec![
        Message::system("be brief").into(),
        Message::developer("use metric").into(),
        Message::user(question).into(),
        assistant.into(),
    ];
    items.extend(after);
    items
}

/// The messages [`around`] becomes on the OpenAI-shaped wire APIs (Chat Completions, Cohere v2): the
/// system instruction, the developer one under `developer_role` (each API's name for it), the
/// `question`, then `rest` (a JSON array: the assistant turn and what follows it).
pub(crate) fn around_messages(developer_role: &str, question: &str, rest: Value) -> Value {
    let mut messages = vec![
        serde_json::json!({"role": "system", "content": "be brief"}),
        serde_json::json!({"role": developer_role, "content": "use metric"}),
        serde_json::json!({"role": "user", "content": question}),
    ];
    messages.extend(rest.as_array().expect("the rest as a JSON array").iter().cloned());
    Value::Array(messages)
}

/// A JSON object's keys, sorted.
pub(crate) fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    k.sort_unstable();
    k
}

pub(crate) fn sorted(mut k: Vec<&str>) -> Vec<&str> {
    k.sort_unstable();
    k
}

/// An event payload's bytes.
pub(crate) fn ev(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Each payload with its `type` as the SSE event name, as Anthropic and Cohere send them.
pub(crate) fn named_by_type(events: &[Vec<u8>]) -> Vec<(Option<String>, Vec<u8>)> {
    events
        .iter()
        .map(|data| {
            let name = serde_json::from_slice::<Value>(data).ok().and_then(|v| v["type"].as_str().map(str::to_string));
            (name, data.clone())
        })
        .collect()
}

/// Feed events with their SSE `event:` names to a decoder, stopping at the first error, and finish it.
pub(crate) fn decode_named<D, C>(
    dec: &mut dyn Decoder<D, C>,
    events: &[(Option<String>, Vec<u8>)],
) -> (Vec<Chunk<D>>, Result<Output<C>>) {
    let mut out = VecDeque::new();
    for (name, data) in events {
        let ev = SseEvent { event: name.clone(), data: Bytes::from(data.clone()), id: None, retry: None };
        if let Err(e) = dec.on_frame(Frame::Sse(ev), &mut out) {
            return (out.into(), Err(e));
        }
    }
    let res = dec.finish();
    (out.into(), res)
}

#[cfg_attr(
    not(any(feature = "anthropic", feature = "cohere", feature = "google")),
    allow(dead_code, reason = "for the native wires' tests")
)]
/// One recording replayed through a wire API's seam: a stream decoded (its chunks, its output, and
/// its events as JSON; a stream that fails to decode, or whose chunks' text is not the output's,
/// fails the test, naming the recording), or a
/// unary body parsed (the result, which may be the error the body carries, and the body as JSON).
#[allow(clippy::large_enum_variant, reason = "a test value, one at a time")]
pub(crate) enum Replay {
    Stream { chunks: Vec<Chunk<String>>, out: Output<String>, values: Vec<Value> },
    Unary { out: Result<Output<String>>, value: Value },
}

#[cfg_attr(
    not(any(feature = "anthropic", feature = "cohere", feature = "google")),
    allow(dead_code, reason = "for the native wires' tests")
)]
/// Replay the recordings of `folder` through `wire` for `setup` (each stream through a fresh decoder,
/// its events named by their `type`, see [`named_by_type`]; each unary body through
/// [`WireApi::parse`]), each given to `check`, which says whether it was one it checks; at least `min`
/// must be. Nothing is checked when the recordings are not beside the checkout.
pub(crate) fn conform(
    folder: &str,
    min: usize,
    wire: WireApi,
    setup: Setup,
    mut check: impl FnMut(&str, Replay) -> bool,
) {
    let Some(recorded) = recordings(folder) else { return };
    let mut checked = 0;
    for (name, rec) in recorded {
        let replay = match rec {
            Recorded::Chunks { events, values } => {
                let mut decoder = wire.decoder(setup.ctx()).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
                let (chunks, out) = decode_named(decoder.as_mut(), &named_by_type(&events));
                let out = out.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(streamed_text(&chunks), out.content, "{name}: the streamed text is the output's");
                Replay::Stream { chunks, out, values }
            }
            Recorded::Json { body, value } => Replay::Unary { out: wire.parse(Bytes::from(body), &setup.ctx()), value },
        };
        checked += usize::from(check(&name, replay));
    }
    println!("{folder} conformance: checked {checked} recordings");
    assert!(checked >= min, "{folder}: {checked} recordings checked");
}

/// A reply's content, reasoning and tool calls, checked together (what most decode tests start with).
#[track_caller]
pub(crate) fn assert_reply(
    out: &Output<String>,
    content: &str,
    reasoning: Option<&str>,
    calls: &[crate::types::tool::ToolCall],
) {
    assert_eq!(out.content, content);
    assert_eq!(out.reasoning.as_deref(), reasoning);
    assert_eq!(out.tool_calls, calls);
}

/// The content the chunks streamed, joined.
pub(crate) fn streamed_text(chunks: &[Chunk<String>]) -> String {
    chunks.iter().map(|c| c.content.as_str()).collect()
}

/// Tool calls as decoded against the OpenAI-style calls (`{id, function: {name, arguments}}`) they
/// came from: same ids, names and (parsed) arguments.
pub(crate) fn assert_openai_calls(name: &str, calls: &[crate::types::tool::ToolCall], wire: &[Value]) {
    assert_eq!(calls.len(), wire.len(), "{name}");
    for (call, w) in calls.iter().zip(wire) {
        assert_eq!(call.id, w["id"].as_str().unwrap(), "{name}");
        assert_eq!(call.name, w["function"]["name"].as_str().unwrap(), "{name}");
        let args: Value = serde_json::from_str(w["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(call.arguments, args, "{name}");
    }
}

/// One recorded exchange.
pub(crate) enum Recorded {
    /// A stream: its event payloads, as bytes and as JSON.
    Chunks { events: Vec<Vec<u8>>, values: Vec<Value> },
    /// A unary body, as bytes and as JSON.
    Json { body: Vec<u8>, value: Value },
}

/// The recordings of one provider folder, sorted by file name, each with its path as its name; `None`
/// (said on stderr) when the recordings are not beside the checkout.
pub(crate) fn recordings(folder: &str) -> Option<Vec<(String, Recorded)>> {
    let Some(dir) = recorded_dir() else {
        eprintln!("recorded fixtures not found; skipping {folder} conformance");
        return None;
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir.join(folder))
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let read = |p: &std::path::Path| std::fs::read(p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.ends_with(".chunks.txt") {
            let bytes = read(&path);
            let events: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).map(<[u8]>::to_vec).collect();
            let values = events.iter().map(|e| json(e)).collect();
            out.push((name, Recorded::Chunks { events, values }));
        } else if name.ends_with(".json") {
            let body = read(&path);
            let value = json(&body);
            out.push((name, Recorded::Json { body, value }));
        }
    }
    Some(out)
}

/// Media parameters (images, audio, videos) from a JSON object of them by the reference's names, as
/// the call's setters would have set them: how the media request tables write a row's parameters.
pub(crate) fn media_params(set: &Value) -> crate::types::media::ImageParams {
    let mut params = crate::types::media::ImageParams::default();
    for (k, v) in set.as_object().expect("parameters as a JSON object") {
        params.set(k.as_str(), v.clone());
    }
    params
}
