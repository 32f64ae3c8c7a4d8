//! OpenAI Live: the primary WebSocket at `/v1/live/sessions` (not the older Realtime API).
//!
//! Opening: `session.start` with the session (model, instructions and text-only history, audio format
//! and voice, delegated tools; `extra_body` deep-merged into the session), acknowledged by
//! `session.started` (which confirms the audio format) or refused by `error`. The caller sends audio
//! (`session.input_audio.append`) and tool results (`response.item.create`); text and images cannot be
//! sent mid-session. `end()` sends `session.close`; the server answers `session.closed` with the
//! reason and the cumulative billed seconds.

use serde_json::{Map, Value, json};

use super::{Ack, LiveRequest, Opening, decode_audio, event_chunk, finish, text_only, transcript};
use crate::error::{Error, Result, StreamEventError, truncate_lossy};
use crate::types::enums::Role;
use crate::types::live::{AudioFormat, LiveChunk, LiveInput};
use crate::types::message::Item;
use crate::types::tool::{Tool, ToolCall};
use crate::types::usage::Usage;

/// The endpoint, below the provider's base URL.
pub(crate) const PATH: &str = "/v1/live/sessions";

/// The `session.start` frame.
pub(crate) fn opening(req: &LiveRequest) -> Result<Opening> {
    let mut session = Map::new();
    session.insert("model".into(), Value::from(req.model.clone()));
    let mut instructions = Vec::new();
    let mut input = Vec::new();
    let text_only_error = || Error::invalid_input("OpenAI Live startup history accepts text messages only");
    for item in &req.seed {
        let Item::Message(m) = item else { return Err(text_only_error()) };
        if !m.tool_calls.is_empty() {
            return Err(text_only_error());
        }
        let text = text_only(m).ok_or_else(text_only_error)?;
        match m.role {
            Role::System => instructions.push(text),
            role => {
                let kind = if role == Role::Assistant { "output_text" } else { "input_text" };
                input
                    .push(json!({"type": "message", "role": role.as_str(), "content": [{"type": kind, "text": text}]}));
            }
        }
    }
    if !instructions.is_empty() {
        session.insert("instructions".into(), instructions.join("\n").into());
    }
    if !input.is_empty() {
        session.insert("input".into(), input.into());
    }
    let p = &req.params;
    let mut audio = Map::new();
    if let Some(f) = p.get("audio_format") {
        audio.insert("format".into(), f.clone());
    }
    if let Some(v) = p.get("voice") {
        audio.insert("output".into(), json!({"voice": v}));
    }
    if !audio.is_empty() {
        session.insert("audio".into(), audio.into());
    }
    for dropped in ["temperature", "max_tokens", "seed", "thinking_level"] {
        if p.contains_key(dropped) {
            tracing::warn!(origin = %req.origin, parameter = dropped, "OpenAI Live has no `{dropped}` setting: dropped");
        }
    }
    if !req.reference_images.is_empty() {
        tracing::warn!(origin = %req.origin, "OpenAI Live takes no reference images: dropped");
    }
    if !req.tools.is_empty() {
        let tools: Result<Vec<Value>> = req.tools.iter().map(|t| tool(req, t)).collect();
        session.insert("delegation".into(), json!({"type": "responses", "responses": {"tools": tools?}}));
    }
    let mut session = Value::Object(session);
    if let Some(extra) = &req.extra_body {
        crate::call::deep_merge(&mut session, extra);
    }
    Ok(Opening { setup: json!({"type": "session.start", "session": session}), after_ack: Vec::new() })
}

/// A delegated tool, as the Responses API takes it.
fn tool(req: &LiveRequest, t: &Tool) -> Result<Value> {
    Ok(match t {
        Tool::Function(f) => {
            let mut v = json!({"type": "function", "name": f.name, "parameters": f.parameters});
            if let Some(d) = &f.description {
                v["description"] = d.clone().into();
            }
            v
        }
        Tool::WebSearch(w) => {
            if !w.blocked_domains.is_empty() {
                tracing::warn!(origin = %req.origin, "web search: blocked_domains is not supported by OpenAI Live and was dropped");
            }
            let mut v = json!({"type": "web_search"});
            if !w.allowed_domains.is_empty() {
                v["filters"] = json!({"allowed_domains": w.allowed_domains});
            }
            v
        }
        Tool::Raw { value } if value.get("type").is_some() => value.clone(),
        other => return Err(req.unsupported(format!("OpenAI Live does not support the {} tool", other.name()))),
    })
}

/// `session.started` confirms the audio format; `error` refuses the session.
pub(crate) fn ack(req: &LiveRequest, frame: &Value) -> Result<Ack> {
    match frame.get("type").and_then(Value::as_str) {
        Some("session.started") => {
            let f = frame.pointer("/session/audio/format");
            let mime = f.and_then(|f| f.get("type")).and_then(Value::as_str);
            let rate = f.and_then(|f| f.get("rate")).and_then(Value::as_u64).and_then(|r| u32::try_from(r).ok());
            let format = mime.map(|m| AudioFormat::new(m, rate.unwrap_or(24_000)));
            Ok(Ack { format })
        }
        Some("error") => Err(error_event(req, frame)),
        _ => Err(Error::decode(
            "OpenAI Live startup acknowledgement",
            format!("{} expected `session.started`", req.origin),
            frame.to_string().as_bytes(),
        )),
    }
}

fn error_event(req: &LiveRequest, frame: &Value) -> Error {
    let err = frame.get("error");
    let text = |k: &str| err.and_then(|e| e.get(k)).and_then(Value::as_str).map(str::to_string);
    Error::StreamEvent(Box::new(StreamEventError {
        origin: req.origin,
        message: text("message").unwrap_or_else(|| "Unknown error".into()),
        error_type: text("code").or_else(|| text("type")),
        event: truncate_lossy(frame.to_string().as_bytes(), 2048),
    }))
}

/// One item the caller sends, as its frame. The audio must already be in the session's format.
pub(crate) fn serialize(req: &LiveRequest, item: &LiveInput) -> Result<Value> {
    Ok(match item {
        LiveInput::Audio(a) => json!({"type": "session.input_audio.append", "audio": a.base64()?}),
        LiveInput::ToolResult(r) => json!({"type": "response.item.create", "item": {
            "type": "function_call_output", "call_id": r.tool_call_id, "output": r.content_text()
        }}),
        LiveInput::Message(_) => return Err(req.unsupported("sending text mid-session (OpenAI Live takes audio)")),
        LiveInput::Image(_) => return Err(req.unsupported("sending images (OpenAI Live takes audio)")),
        LiveInput::Raw(v) => v.clone(),
    })
}

/// One server event as its chunk, and whether it ends the session (`session.closed`).
pub(crate) fn parse(mut ev: Value) -> Result<(Vec<LiveChunk>, bool)> {
    let kind = ev.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut chunk = event_chunk(Value::Null);
    match kind.as_str() {
        "session.output_audio.delta" => {
            if let Some(Value::String(b64)) = ev.as_object_mut().and_then(|o| o.remove("delta")) {
                chunk.audio = decode_audio("OpenAI Live audio", &b64)?;
            }
        }
        "session.input_transcript.delta" | "session.output_transcript.delta" => {
            let role = if kind.starts_with("session.input") { Role::User } else { Role::Assistant };
            if let Some(d) = ev.get("delta").and_then(Value::as_str) {
                chunk.transcript = Some(transcript(role, d));
            }
        }
        "response.event" => {
            let item = ev.pointer("/event/item");
            let done = ev.pointer("/event/type").and_then(Value::as_str) == Some("response.output_item.done");
            if let Some(item) = item.filter(|i| done && i.get("type").and_then(Value::as_str) == Some("function_call"))
            {
                let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
                let args = item.get("arguments").and_then(Value::as_str).unwrap_or("{}");
                let mut call = ToolCall::new(
                    s("call_id"),
                    s("name"),
                    crate::types::output::parse_json_lenient(args).unwrap_or_else(|_| json!({})),
                );
                if let Some(d) = ev.get("delegation_id") {
                    call.extra.insert("delegation_id".into(), d.clone());
                }
                chunk.tool_calls.push(call);
            }
        }
        _ => {}
    }
    if let Some(seconds) = ev.pointer("/usage/seconds").and_then(Value::as_f64) {
        chunk.usage = Some(Usage {
            billed_units: Some(seconds),
            seconds: Some(seconds),
            raw: ev.get("usage").map(crate::types::usage::RawJson::from),
            ..Usage::default()
        });
    }
    let closed = kind == "session.closed";
    if closed && let Some(reason) = ev.get("reason").and_then(Value::as_str) {
        chunk.finish_reason = Some(finish(reason));
    }
    chunk.event = ev;
    Ok((vec![chunk], closed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::artifact::Artifact;
    use crate::types::enums::Provider;
    use crate::types::message::{Message, ToolResult};

    fn req() -> LiveRequest {
        super::super::test_request("gpt-live-1", Provider::OpenAi)
    }

    #[test]
    fn minimal_start_roles_delegation_and_extra_body() {
        assert_eq!(
            opening(&req()).unwrap().setup,
            json!({"type": "session.start", "session": {"model": "gpt-live-1"}})
        );
        let mut r = req();
        r.seed = vec![
            Message::system("a").into(),
            Message::system("b").into(),
            Message::user("u").into(),
            Message::assistant("x").into(),
            Message::developer("d").into(),
        ];
        r.tools = vec![
            crate::types::tool::FunctionTool::new("f", "d", json!({"type": "object"})).into(),
            crate::types::tool::WebSearch::new().allowed_domains(["a.com"]).into(),
        ];
        r.extra_body = Some(json!({"delegation": {"responses": {"model": "gpt-5.4-mini"}}}));
        let s = opening(&r).unwrap().setup;
        assert_eq!(s["session"]["instructions"], "a\nb");
        assert_eq!(
            s["session"]["input"][0],
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "u"}]})
        );
        assert_eq!(s["session"]["input"][1]["content"][0]["type"], "output_text");
        assert_eq!(s["session"]["input"][2]["role"], "developer");
        assert_eq!(s["session"]["delegation"]["type"], "responses");
        assert_eq!(s["session"]["delegation"]["responses"]["model"], "gpt-5.4-mini");
        assert_eq!(
            s["session"]["delegation"]["responses"]["tools"][1],
            json!({"type": "web_search", "filters": {"allowed_domains": ["a.com"]}})
        );
        r.seed = vec![ToolResult::new("c", "x").into()];
        assert!(opening(&r).unwrap_err().to_string().contains("text messages only"));
    }

    #[test]
    fn acknowledgements() {
        let a = ack(
            &req(),
            &json!({"type": "session.started", "session": {"audio": {"format": {"type": "audio/pcmu", "rate": 8000}}}}),
        )
        .unwrap();
        assert_eq!(a.format, Some(AudioFormat::new("audio/pcmu", 8000)));
        let e = ack(&req(), &json!({"type": "error", "error": {"message": "bad model", "code": "model_not_found"}}))
            .unwrap_err();
        assert!(
            matches!(&e, Error::StreamEvent(s) if s.message == "bad model" && s.error_type.as_deref() == Some("model_not_found"))
        );
        let e = ack(&req(), &json!({"type": "session.updated"})).unwrap_err();
        assert!(e.to_string().contains("session.started"), "{e}");
    }

    #[test]
    fn transcripts_delegated_tool_calls_and_close() {
        let (c, end) = parse(json!({"type": "session.output_transcript.delta", "delta": "Hi"})).unwrap();
        assert!(!end);
        assert_eq!(c[0].transcript.as_ref().unwrap().role, Role::Assistant);
        let (c, _) = parse(json!({"type": "response.event", "delegation_id": "del_1", "event": {
            "type": "response.output_item.done",
            "item": {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{\"city\":\"Paris\"}"}
        }}))
        .unwrap();
        assert_eq!(c[0].tool_calls[0].id, "call_1");
        assert_eq!(c[0].tool_calls[0].arguments, json!({"city": "Paris"}));
        assert_eq!(c[0].tool_calls[0].extra["delegation_id"], "del_1");
        let (c, end) =
            parse(json!({"type": "session.closed", "reason": "close_requested", "usage": {"seconds": 4.5}})).unwrap();
        assert!(end);
        assert_eq!(c[0].finish_reason.as_ref().unwrap().raw, "close_requested");
        assert_eq!(c[0].usage.as_ref().unwrap().billed_units, Some(4.5));
        let (c, _) = parse(json!({"type": "session.output_audio.delta", "delta": "AQI="})).unwrap();
        assert_eq!(&c[0].audio[..], &[1, 2]);
        assert!(c[0].event.get("delta").is_none());
        let (c, end) = parse(json!({"type": "error", "error": {"message": "x"}})).unwrap();
        assert!(!end && c[0].audio.is_empty(), "a runtime error event is a chunk");
    }

    #[test]
    fn text_and_images_cannot_be_sent() {
        assert!(serialize(&req(), &LiveInput::Message(Message::user("hi"))).unwrap_err().to_string().contains("text"));
        let img = LiveInput::Image(Artifact::from_bytes(vec![1u8]));
        assert!(matches!(serialize(&req(), &img).unwrap_err(), Error::Unsupported(_)));
        let v = serialize(&req(), &LiveInput::ToolResult(ToolResult::new("call_1", json!({"t": 1})))).unwrap();
        assert_eq!(v["item"], json!({"type": "function_call_output", "call_id": "call_1", "output": "{\"t\":1}"}));
    }
}
