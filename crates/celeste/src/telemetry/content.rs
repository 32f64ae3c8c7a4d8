//! Captured content in the conventions' JSON shapes: `{role, parts[]}` messages with `text`,
//! `tool_call`, `tool_call_response`, `reasoning` and `uri`/`blob`-by-reference parts. Media never
//! travel as bytes: a part carries its URI (or nothing) and its MIME type.

use serde::Serialize;
use serde_json::{Value, json};

use crate::types::enums::{Modality, Role};
use crate::types::message::{Item, Part};
use crate::types::output::Output;
use crate::types::tool::Tool;

/// Captured request content, serialised to the JSON strings the span attributes carry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputContent {
    /// `gen_ai.input.messages`.
    pub messages: String,
    /// `gen_ai.system_instructions`, when the wire API takes them separately.
    pub system_instructions: Option<String>,
    /// `gen_ai.tool.definitions`.
    pub tool_definitions: Option<String>,
}

fn cut(text: &str, max: Option<usize>) -> String {
    match max {
        Some(n) if text.chars().count() > n => text.chars().take(n).collect(),
        _ => text.to_string(),
    }
}

fn part(p: &Part, max: Option<usize>) -> Value {
    match p {
        Part::Text { text } => json!({"type": "text", "content": cut(text, max)}),
        other => {
            let modality = other.input_type().as_str();
            let a = other.artifact();
            let mime = a.and_then(|a| a.mime()).map(|m| m.as_str().to_string());
            match a.and_then(|a| a.url.clone()) {
                Some(uri) => json!({"type": "uri", "modality": modality, "uri": uri, "mime_type": mime}),
                // Inline media: by reference only, without the bytes.
                None => json!({"type": "blob", "modality": modality, "mime_type": mime}),
            }
        }
    }
}

/// The input messages of a request as `gen_ai.input.messages` JSON.
pub fn input_messages(items: &[Item], tools: &[Tool], max: Option<usize>) -> InputContent {
    let mut messages = Vec::with_capacity(items.len());
    let mut system: Vec<Value> = Vec::new();
    for item in items {
        match item {
            // System and developer turns are the call's instructions: the conventions record them
            // apart from the chat history, as `gen_ai.system_instructions`.
            Item::Message(m) if matches!(m.role, Role::System | Role::Developer) => {
                system.extend(m.content.iter().map(|p| part(p, max)));
            }
            Item::Message(m) => {
                let mut parts: Vec<Value> = Vec::new();
                if let Some(r) = &m.reasoning {
                    parts.push(json!({"type": "reasoning", "content": cut(r, max)}));
                }
                parts.extend(m.content.iter().map(|p| part(p, max)));
                for c in &m.tool_calls {
                    parts.push(json!({"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments}));
                }
                messages.push(json!({"role": m.role.as_str(), "parts": parts}));
            }
            Item::ToolResult(r) => {
                let response = match &r.content {
                    Value::String(s) => Value::String(cut(s, max)),
                    other => other.clone(),
                };
                messages.push(json!({"role": "tool", "parts": [{"type": "tool_call_response", "id": r.tool_call_id, "response": response}]}));
            }
        }
    }
    let defs: Vec<Value> = tools
        .iter()
        .map(|t| match t {
            Tool::Function(f) => {
                json!({"type": "function", "name": f.name, "description": f.description, "parameters": f.parameters})
            }
            other => json!({"type": other.name()}),
        })
        .collect();
    InputContent {
        messages: Value::Array(messages).to_string(),
        system_instructions: (!system.is_empty()).then(|| Value::Array(system).to_string()),
        tool_definitions: (!defs.is_empty()).then(|| Value::Array(defs).to_string()),
    }
}

/// The artifacts inside a media output, as `uri` parts (their URL) or `blob` parts without content.
fn media_parts(v: &Value, modality: Modality, parts: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| media_parts(i, modality, parts)),
        Value::Object(m) if m.contains_key("data") || m.contains_key("url") || m.contains_key("path") => {
            let mime = m.get("mime_type").cloned().unwrap_or(Value::Null);
            match m.get("url").and_then(Value::as_str) {
                Some(uri) => {
                    parts.push(json!({"type": "uri", "modality": modality.as_str(), "uri": uri, "mime_type": mime}))
                }
                None => parts.push(json!({"type": "blob", "modality": modality.as_str(), "mime_type": mime})),
            }
        }
        Value::Object(m) => m.values().for_each(|i| media_parts(i, modality, parts)),
        _ => {}
    }
}

/// The output of a call as `gen_ai.output.messages` JSON (`None` when there is nothing to show).
pub fn output_messages<C: Serialize>(out: &Output<C>, max: Option<usize>) -> Option<String> {
    let mut parts: Vec<Value> = Vec::new();
    if let Some(r) = &out.reasoning {
        parts.push(json!({"type": "reasoning", "content": cut(r, max)}));
    }
    match serde_json::to_value(&out.content) {
        Ok(Value::String(s)) if s.is_empty() => {}
        Ok(Value::String(s)) => parts.push(json!({"type": "text", "content": cut(&s, max)})),
        Ok(Value::Null) | Err(_) => {}
        // Media outputs (images, audio, video) are recorded by reference: never their bytes.
        Ok(other) if out.metadata.modality != Modality::Text => media_parts(&other, out.metadata.modality, &mut parts),
        Ok(other) => parts.push(json!({"type": "text", "content": cut(&other.to_string(), max)})),
    }
    for c in &out.tool_calls {
        parts.push(json!({"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments}));
    }
    if parts.is_empty() {
        return None;
    }
    let finish = out.finish_reason.as_ref().map(|f| f.kind.as_str());
    Some(json!([{"role": Role::Assistant.as_str(), "parts": parts, "finish_reason": finish}]).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::artifact::Artifact;
    use crate::types::enums::Modality;
    use crate::types::message::{Message, ToolResult};
    use crate::types::output::Metadata;
    use crate::types::tool::ToolCall;

    #[test]
    fn input_shapes_follow_the_conventions() {
        let items: Vec<Item> = vec![
            Message::system("be brief").into(),
            Message::user("what is this?").with_part(Part::image(Artifact::from_url("https://x/cat.png"))).into(),
            Message::assistant("").with_tool_calls(vec![ToolCall::new("c1", "f", json!({"a": 1}))]).into(),
            ToolResult::new("c1", "ok").into(),
        ];
        let c = input_messages(&items, &[], None);
        let v: Value = serde_json::from_str(&c.messages).unwrap();
        // The system turn is an instruction, recorded apart; the history starts with the user.
        let system: Value = serde_json::from_str(c.system_instructions.as_deref().unwrap()).unwrap();
        assert_eq!(system, json!([{"type": "text", "content": "be brief"}]));
        assert_eq!(
            v[0]["parts"][1],
            json!({"type": "uri", "modality": "image", "uri": "https://x/cat.png", "mime_type": null})
        );
        assert_eq!(v[1]["parts"][1], json!({"type": "tool_call", "id": "c1", "name": "f", "arguments": {"a": 1}}));
        assert_eq!(
            v[2],
            json!({"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "ok"}]})
        );
        assert!(c.tool_definitions.is_none());
    }

    #[test]
    fn media_outputs_are_recorded_by_reference() {
        let images = vec![
            crate::types::media::Image::new(
                Artifact::from_bytes(&b"SECRETBYTES"[..]).with_mime_type("image/png".parse().unwrap()),
            ),
            crate::types::media::Image::new(Artifact::from_url("https://cdn.example/a.png")),
        ];
        let out = Output::new(images, Metadata::new("m", None, Modality::Images));
        let text = output_messages(&out, None).unwrap();
        assert!(!text.contains("U0VDUkVUQllURVM"), "no base64 bytes: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let parts = v[0]["parts"].as_array().unwrap();
        assert_eq!(parts[0], json!({"type": "blob", "modality": "images", "mime_type": "image/png"}));
        assert_eq!(parts[1]["uri"], "https://cdn.example/a.png");
    }

    #[test]
    fn inline_media_never_carries_bytes() {
        let items: Vec<Item> = vec![
            Message::user("x").with_part(Part::image(Artifact::from_bytes(vec![0x89u8, b'P', b'N', b'G']))).into(),
        ];
        let c = input_messages(&items, &[], None);
        assert!(!c.messages.contains("iVBOR") && !c.messages.contains("PNG"), "{}", c.messages);
        assert!(c.messages.contains("\"blob\""));
    }

    #[test]
    fn output_shapes_and_truncation() {
        let mut out = Output::new("hello world".to_string(), Metadata::new("m", None, Modality::Text));
        out.reasoning = Some("hmm".into());
        let v: Value = serde_json::from_str(&output_messages(&out, Some(5)).unwrap()).unwrap();
        assert_eq!(
            v[0]["parts"],
            json!([{"type": "reasoning", "content": "hmm"}, {"type": "text", "content": "hello"}])
        );
        let empty = Output::new(String::new(), Metadata::new("m", None, Modality::Text));
        assert!(output_messages(&empty, None).is_none());
    }
}
