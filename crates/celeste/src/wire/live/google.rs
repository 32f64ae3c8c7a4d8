//! Gemini Live: `BidiGenerateContent` over one WebSocket (Gemini API and Vertex AI).
//!
//! Opening: a `setup` frame (model, generation config, transcription switches, system instruction,
//! tools; `extra_body` deep-merged into `setup`), acknowledged by `setupComplete`, then the seeded
//! history as one `clientContent` frame (`turnComplete: false`). The caller's items become
//! `clientContent`, `toolResponse` or `realtimeInput` frames; `end()` closes the socket (Gemini has no
//! closing message). Server frames carry `serverContent` (model audio, transcripts, `turnComplete`,
//! `interrupted`), `toolCall` and `usageMetadata`.

use serde_json::{Map, Value, json};

use super::{LiveRequest, LiveState, Opening, decode_audio, event_chunk, finish, transcript};
use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::enums::Role;
use crate::types::live::{LiveChunk, LiveInput};
use crate::types::message::{Item, Message, Part, ToolResult};
use crate::types::tool::{Tool, ToolCall};
use crate::types::usage::Usage;
use crate::wire::google::{Media, function_declaration, media};
use crate::wire::kit::sum_counts;

/// The Gemini API's endpoint, below the provider's base URL.
pub(crate) const PATH: &str = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
/// Vertex AI's endpoint, below the regional host.
pub(crate) const VERTEX_PATH: &str = "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent";

/// The setup frame and the seeded history.
pub(crate) fn opening(req: &LiveRequest) -> Result<Opening> {
    let mut generation = Map::new();
    generation.insert("responseModalities".into(), json!(["AUDIO"]));
    let p = &req.params;
    if let Some(v) = p.get("voice") {
        generation.insert("speechConfig".into(), json!({"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": v}}}));
    }
    if let Some(v) = p.get("thinking_level") {
        let level = v.as_str().map(str::to_ascii_uppercase).map_or_else(|| v.clone(), Value::from);
        generation.insert("thinkingConfig".into(), json!({"thinkingLevel": level}));
    }
    for (ours, theirs) in [("temperature", "temperature"), ("max_tokens", "maxOutputTokens"), ("seed", "seed")] {
        if let Some(v) = p.get(ours) {
            generation.insert(theirs.into(), v.clone());
        }
    }
    for dropped in ["audio_format", "language"] {
        if p.contains_key(dropped) {
            tracing::warn!(origin = %req.origin, parameter = dropped, "Google Live has no `{dropped}` setting: dropped (it speaks PCM at 24 kHz)");
        }
    }
    let mut setup = Map::new();
    setup.insert("model".into(), Value::from(resource(req)));
    setup.insert("generationConfig".into(), Value::Object(generation));
    setup.insert("inputAudioTranscription".into(), json!({}));
    setup.insert("outputAudioTranscription".into(), json!({}));
    let mut system = Vec::new();
    let mut turns = Vec::new();
    for item in &req.seed {
        match item {
            Item::Message(m) if matches!(m.role, Role::System | Role::Developer) => {
                system.extend(parts(&m.content, req)?);
            }
            Item::Message(m) => turns.push(content(m, req)?),
            Item::ToolResult(r) => turns.push(tool_result_turn(r, &req.seed)),
        }
    }
    if !system.is_empty() {
        setup.insert("systemInstruction".into(), json!({"parts": system}));
    }
    if !req.reference_images.is_empty() {
        let images: Result<Vec<Value>> = req.reference_images.iter().map(media_part).collect();
        turns.push(json!({"role": "user", "parts": images?}));
    }
    let tools = tools(req)?;
    if !tools.is_empty() {
        setup.insert("tools".into(), Value::Array(tools));
    }
    let mut setup = Value::Object(setup);
    if let Some(extra) = &req.extra_body {
        crate::call::deep_merge(&mut setup, extra);
    }
    let resuming = setup.pointer("/sessionResumption/handle").is_some_and(|h| !h.is_null());
    let mut after_ack = Vec::new();
    if !turns.is_empty() && !resuming {
        after_ack.push(json!({"clientContent": {"turns": turns, "turnComplete": false}}));
    }
    Ok(Opening { setup: json!({"setup": setup}), after_ack })
}

/// `models/{id}`, or the Vertex resource name.
fn resource(req: &LiveRequest) -> String {
    req.vertex_resource.clone().unwrap_or_else(|| format!("models/{}", req.model))
}

/// The acknowledgement must be `setupComplete`.
pub(crate) fn ack(req: &LiveRequest, frame: &Value) -> Result<super::Ack> {
    if frame.get("setupComplete").is_some() {
        return Ok(super::Ack { format: None });
    }
    Err(Error::decode(
        "Google Live setup acknowledgement",
        format!("{} expected `setupComplete`", req.origin),
        frame.to_string().as_bytes(),
    ))
}

/// Web search, user functions (one `functionDeclarations` entry, non-blocking) and raw tools.
fn tools(req: &LiveRequest) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut declarations = Vec::new();
    for t in &req.tools {
        match t {
            Tool::Function(f) => {
                let base = json!({"name": f.name, "behavior": "NON_BLOCKING"});
                declarations.push(function_declaration(f, base, "parametersJsonSchema"));
            }
            Tool::WebSearch(w) => {
                let mut config = Map::new();
                if !w.blocked_domains.is_empty() {
                    config.insert("exclude_domains".into(), json!(w.blocked_domains));
                }
                out.push(json!({"google_search": config}));
            }
            Tool::Raw { value } => out.push(value.clone()),
            other => return Err(req.unsupported(format!("Google Live does not support the {} tool", other.name()))),
        }
    }
    if !declarations.is_empty() {
        out.push(json!({"functionDeclarations": declarations}));
    }
    Ok(out)
}

/// `inline_data` for bytes, `file_data` for URLs.
fn media_part(a: &Artifact) -> Result<Value> {
    Ok(match media(a)? {
        Media::Inline { mime, data } => json!({"inline_data": {"mime_type": mime, "data": data}}),
        Media::Uri { uri, mime } => json!({"file_data": {"file_uri": uri, "mime_type": mime}}),
    })
}

fn parts(content: &[Part], req: &LiveRequest) -> Result<Vec<Value>> {
    content
        .iter()
        .map(|p| match p {
            Part::Text { text } => Ok(json!({"text": text})),
            other => match other.artifact() {
                Some(a) => media_part(a),
                None => Err(req.unsupported("this kind of content part")),
            },
        })
        .collect()
}

/// A user or model turn.
fn content(m: &Message, req: &LiveRequest) -> Result<Value> {
    let role = if m.role == Role::Assistant { "model" } else { "user" };
    if m.role == Role::Assistant && !m.signature.is_empty() {
        return Ok(json!({"role": role, "parts": m.signature}));
    }
    let mut ps = parts(&m.content, req)?;
    if m.role == Role::Assistant && !m.tool_calls.is_empty() {
        if ps.is_empty() {
            // The reference sends an empty text part before the calls.
            ps.push(json!({"text": ""}));
        }
        ps.extend(
            m.tool_calls.iter().map(|c| json!({"functionCall": {"id": c.id, "name": c.name, "args": c.arguments}})),
        );
    }
    Ok(json!({"role": role, "parts": ps}))
}

fn function_response(r: &ToolResult, name: Option<&str>) -> Value {
    json!({"id": r.tool_call_id, "name": r.name.as_deref().or(name), "response": {"result": r.content}})
}

fn tool_result_turn(r: &ToolResult, seed: &[Item]) -> Value {
    let names = crate::wire::google::call_names(seed);
    let name = names.get(r.tool_call_id.as_str()).copied();
    json!({"role": "user", "parts": [{"functionResponse": function_response(r, name)}]})
}

/// One item the caller sends, as its frame.
pub(crate) fn serialize(req: &LiveRequest, item: &LiveInput) -> Result<Value> {
    Ok(match item {
        LiveInput::Message(m) if matches!(m.role, Role::System | Role::Developer) => {
            return Err(Error::invalid_input(
                "Google Live system instructions belong in session setup (pass them to connect)",
            ));
        }
        LiveInput::Message(m) => {
            json!({"clientContent": {"turns": [content(m, req)?], "turnComplete": m.role != Role::Assistant}})
        }
        LiveInput::ToolResult(r) => json!({"toolResponse": {"functionResponses": [function_response(r, None)]}}),
        LiveInput::Audio(a) => {
            let mime = a.mime().map(|m| m.to_string()).unwrap_or_else(|| "audio/pcm".into());
            let mime = if mime == "audio/pcm" {
                let rate = a.metadata.get("sample_rate").and_then(Value::as_u64).unwrap_or(16_000);
                format!("audio/pcm;rate={rate}")
            } else {
                mime
            };
            json!({"realtimeInput": {"audio": {"data": a.base64()?, "mimeType": mime}}})
        }
        LiveInput::Image(a) => {
            let mime = a.mime().map(|m| m.to_string()).unwrap_or_else(|| "image/jpeg".into());
            json!({"realtimeInput": {"video": {"data": a.base64()?, "mimeType": mime}}})
        }
        LiveInput::Raw(v) => v.clone(),
    })
}

/// One server frame as its chunks: a `serverContent` holding an input transcript beside output
/// (transcript or model audio) is two events, the input transcript first (usage stays on the second).
pub(crate) fn parse(state: &mut LiveState, mut frame: Value) -> Result<Vec<LiveChunk>> {
    let split = frame.get("serverContent").and_then(Value::as_object).is_some_and(|sc| {
        sc.contains_key("inputTranscription")
            && (sc.contains_key("outputTranscription") || sc.contains_key("modelTurn"))
    });
    if split {
        let input = frame["serverContent"].as_object_mut().and_then(|sc| sc.remove("inputTranscription"));
        let first = json!({"serverContent": {"inputTranscription": input}});
        return Ok(vec![event(state, first)?, event(state, frame)?]);
    }
    Ok(vec![event(state, frame)?])
}

fn event(state: &mut LiveState, mut ev: Value) -> Result<LiveChunk> {
    let mut audio = Vec::new();
    if let Some(parts) = ev.pointer_mut("/serverContent/modelTurn/parts").and_then(Value::as_array_mut) {
        for part in parts {
            let Some(inline) = part.get_mut("inlineData").and_then(Value::as_object_mut) else { continue };
            let mime = inline.get("mimeType").and_then(Value::as_str).unwrap_or_default().to_string();
            if !mime.starts_with("audio/") {
                continue;
            }
            if let Some(Value::String(b64)) = inline.remove("data") {
                audio.extend_from_slice(&decode_audio("Google Live audio", &b64)?);
            }
            state.audio_mime.get_or_insert(mime);
        }
    }
    let mut chunk = event_chunk(Value::Null);
    chunk.audio = audio.into();
    let sc = ev.get("serverContent");
    let text = |key: &str| sc.and_then(|s| s.get(key)).and_then(|t| t.get("text")).and_then(Value::as_str);
    if let Some(t) = text("inputTranscription") {
        chunk.transcript = Some(transcript(Role::User, t));
    } else if let Some(t) = text("outputTranscription") {
        chunk.transcript = Some(transcript(Role::Assistant, t));
    }
    if let Some(calls) = ev.pointer("/toolCall/functionCalls").and_then(Value::as_array) {
        chunk.tool_calls = calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = crate::wire::google::call_id(c.get("id").and_then(Value::as_str), "live_call", i);
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                ToolCall::new(id, name, c.get("args").cloned().unwrap_or_else(|| json!({})))
            })
            .collect();
    }
    if let Some(u) = ev.get("usageMetadata") {
        chunk.usage = Some(usage(u));
    }
    if sc.and_then(|s| s.get("interrupted")).and_then(Value::as_bool) == Some(true) {
        state.interrupted = true;
    }
    let in_progress =
        |v: Option<&Value>| v.and_then(|v| v.get("interactionStatus")).and_then(Value::as_str) == Some("IN_PROGRESS");
    if sc.and_then(|s| s.get("turnComplete")).and_then(Value::as_bool) == Some(true)
        && !in_progress(sc)
        && !in_progress(Some(&ev))
    {
        let raw = if std::mem::take(&mut state.interrupted) { "interrupted" } else { "turnComplete" };
        chunk.finish_reason = Some(finish(raw));
    }
    chunk.event = std::mem::take(&mut ev);
    Ok(chunk)
}

fn usage(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64);
    Usage {
        input_tokens: n("promptTokenCount"),
        output_tokens: n("responseTokenCount"),
        total_tokens: n("totalTokenCount"),
        reasoning_tokens: n("thoughtsTokenCount"),
        cache_read_tokens: n("cachedContentTokenCount"),
        raw: Some(crate::types::usage::RawJson::from(u)),
        ..Usage::default()
    }
}

/// The sum over turns of each turn's last usage snapshot (interim snapshots are replaced, not added).
pub(crate) fn total_usage(chunks: &[(Option<&Usage>, bool)]) -> Usage {
    let mut total = Usage::default();
    let mut current: Option<&Usage> = None;
    let mut add = |u: &Usage| {
        total.input_tokens = sum_counts(total.input_tokens, u.input_tokens);
        total.output_tokens = sum_counts(total.output_tokens, u.output_tokens);
        total.total_tokens = sum_counts(total.total_tokens, u.total_tokens);
        total.reasoning_tokens = sum_counts(total.reasoning_tokens, u.reasoning_tokens);
        total.cache_read_tokens = sum_counts(total.cache_read_tokens, u.cache_read_tokens);
    };
    for (u, turn_end) in chunks {
        if let Some(u) = u {
            current = Some(u);
        }
        if *turn_end && let Some(u) = current.take() {
            add(u);
        }
    }
    if let Some(u) = current {
        add(u);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::enums::Provider;

    fn req() -> LiveRequest {
        super::super::test_request("gemini-3.8-live", Provider::Google)
    }

    fn finishes(frames: &[Value]) -> Vec<Option<String>> {
        let mut state = LiveState::default();
        frames
            .iter()
            .flat_map(|f| parse(&mut state, f.clone()).unwrap())
            .map(|c| c.finish_reason.map(|f| f.raw))
            .collect()
    }

    #[test]
    fn setup_seed_tools_and_session_resumption() {
        let mut r = req();
        r.seed =
            vec![Message::system("be brief").into(), Message::user("hi").into(), Message::assistant("hello").into()];
        r.params.insert("voice".into(), "Kore".into());
        r.tools = vec![
            crate::types::tool::WebSearch::new().into(),
            crate::types::tool::FunctionTool::new("f", "d", json!({"type": "object"})).into(),
        ];
        let o = opening(&r).unwrap();
        let s = &o.setup["setup"];
        assert_eq!(s["model"], "models/gemini-3.8-live");
        assert_eq!(s["generationConfig"]["responseModalities"], json!(["AUDIO"]));
        assert_eq!(s["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"], "Kore");
        assert_eq!(s["inputAudioTranscription"], json!({}));
        assert_eq!(s["systemInstruction"], json!({"parts": [{"text": "be brief"}]}));
        assert_eq!(s["tools"][0], json!({"google_search": {}}));
        assert_eq!(s["tools"][1]["functionDeclarations"][0]["behavior"], "NON_BLOCKING");
        assert_eq!(
            o.after_ack,
            vec![json!({"clientContent": {"turns": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"text": "hello"}]}
            ], "turnComplete": false}})]
        );
        r.extra_body = Some(json!({"sessionResumption": {"handle": "h1"}, "outputAudioTranscription": null}));
        let o = opening(&r).unwrap();
        assert!(o.after_ack.is_empty(), "a resumed session is not seeded again");
        assert_eq!(o.setup["setup"]["outputAudioTranscription"], Value::Null);
        r.tools = vec![Tool::CodeExecution];
        assert!(opening(&r).unwrap_err().to_string().contains("Google Live does not support"));
    }

    #[test]
    fn one_finish_per_turn_interrupted_and_in_progress() {
        let done = json!({"serverContent": {"turnComplete": true}});
        assert_eq!(finishes(std::slice::from_ref(&done)), [Some("turnComplete".into())]);
        let interrupted = json!({"serverContent": {"interrupted": true}});
        assert_eq!(finishes(&[interrupted.clone(), done.clone()]), [None, Some("interrupted".into())]);
        assert_eq!(
            finishes(&[json!({"serverContent": {"interrupted": true, "turnComplete": true}}), done.clone()]),
            [Some("interrupted".into()), Some("turnComplete".into())]
        );
        let in_progress = json!({"serverContent": {"turnComplete": true, "interactionStatus": "IN_PROGRESS"}});
        assert_eq!(finishes(&[in_progress]), [None]);
        let top = json!({"serverContent": {"turnComplete": true}, "interactionStatus": "IN_PROGRESS"});
        assert_eq!(finishes(&[top]), [None]);
    }

    #[test]
    fn usage_is_the_sum_of_each_turns_last_snapshot() {
        let u = |i: u64, o: u64| Usage { input_tokens: Some(i), output_tokens: Some(o), ..Usage::default() };
        let (a, b, c) = (u(1, 1), u(5, 7), u(3, 2));
        let t = total_usage(&[(Some(&a), false), (Some(&b), true), (Some(&c), true)]);
        assert_eq!((t.input_tokens, t.output_tokens), (Some(8), Some(9)));
        let t = total_usage(&[(Some(&a), false), (Some(&b), false)]);
        assert_eq!((t.input_tokens, t.output_tokens), (Some(5), Some(7)), "a final turn without turnComplete");
        let t = total_usage(&[(None, true), (Some(&c), false), (None, true)]);
        assert_eq!(t.input_tokens, Some(3));
    }

    #[test]
    fn parts_serialize_as_the_reference() {
        let r = req();
        let audio = Artifact::from_bytes(vec![1u8, 2]).with_mime_type("audio/pcm".parse().unwrap());
        let v = serialize(&r, &LiveInput::Audio(audio.clone())).unwrap();
        assert_eq!(v, json!({"realtimeInput": {"audio": {"data": "AQI=", "mimeType": "audio/pcm;rate=16000"}}}));
        let v = serialize(&r, &LiveInput::Audio(audio.with_metadata("sample_rate", 24000))).unwrap();
        assert_eq!(v["realtimeInput"]["audio"]["mimeType"], "audio/pcm;rate=24000");
        let img = Artifact::from_bytes(vec![1u8]).with_mime_type("image/png".parse().unwrap());
        let v = serialize(&r, &LiveInput::Image(img)).unwrap();
        assert_eq!(v, json!({"realtimeInput": {"video": {"data": "AQ==", "mimeType": "image/png"}}}));
        let e = serialize(&r, &LiveInput::Message(Message::system("x"))).unwrap_err();
        assert!(e.to_string().contains("belong in session setup"));
        let v = serialize(&r, &LiveInput::Message(Message::assistant("ctx"))).unwrap();
        assert_eq!(v["clientContent"]["turnComplete"], false);
        let seed = Message::user("look").with_part(Part::image(Artifact::from_url("https://x/a.png")));
        let v = serialize(&r, &LiveInput::Message(seed)).unwrap();
        assert_eq!(v["clientContent"]["turns"][0]["parts"][1]["file_data"]["file_uri"], "https://x/a.png");
        let v = serialize(&r, &LiveInput::ToolResult(ToolResult::new("c1", "sunny").with_name("weather"))).unwrap();
        assert_eq!(
            v,
            json!({"toolResponse": {"functionResponses": [{"id": "c1", "name": "weather", "response": {"result": "sunny"}}]}})
        );
    }

    #[test]
    fn an_input_transcript_beside_output_is_split_and_audio_is_decoded_and_stripped() {
        let mut state = LiveState::default();
        let frame = json!({"serverContent": {
            "inputTranscription": {"text": "hi"},
            "modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AQI="}}]},
            "outputTranscription": {"text": "hello"}
        }, "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 5}});
        let chunks = parse(&mut state, frame).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].transcript.as_ref().unwrap().role, Role::User);
        assert!(chunks[0].usage.is_none());
        assert_eq!(&chunks[1].audio[..], &[1, 2]);
        assert_eq!(chunks[1].transcript.as_ref().unwrap().text(), "hello");
        assert_eq!(chunks[1].usage.as_ref().unwrap().input_tokens, Some(3));
        assert!(chunks[1].event["serverContent"]["modelTurn"]["parts"][0]["inlineData"].get("data").is_none());
        assert_eq!(state.audio_mime.as_deref(), Some("audio/pcm;rate=24000"));
    }
}
