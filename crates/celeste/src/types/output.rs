//! What calls return: [`Output`] for a finished call and [`Chunk`] for each piece of a stream, with the
//! metadata that says who answered.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Origin;
use crate::types::enums::{Modality, Role};
use crate::types::message::{Message, Part};
use crate::types::tool::{ToolActivity, ToolCall, ToolCallDelta};
use crate::types::usage::{FinishReason, Usage};

/// Who answered a call, and the raw payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// The model id that was requested.
    pub model: String,
    /// The provider or protocol that served it.
    #[serde(skip)]
    pub origin: Option<Origin>,
    /// The modality of the call.
    pub modality: Modality,
    /// The provider's response id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// The model the provider says answered (often a dated snapshot of the requested id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_model: Option<String>,
    /// The raw response body (unary) or the final response event (streams), undecoded.
    #[serde(skip)]
    pub raw_response: Option<Bytes>,
}

impl Metadata {
    /// Metadata for a call to `model`.
    pub fn new(model: impl Into<String>, origin: Option<Origin>, modality: Modality) -> Self {
        Metadata { model: model.into(), origin, modality, response_id: None, response_model: None, raw_response: None }
    }

    /// The raw response decoded as JSON, when there is one and it is JSON.
    pub fn raw_json(&self) -> Option<Value> {
        self.raw_response.as_ref().and_then(|b| serde_json::from_slice(b).ok())
    }
}

/// A web source a grounded answer used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroundingSource {
    /// The URL.
    pub url: String,
    /// The page title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The site's domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// A span of the answer backed by sources (character offsets into the text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Citation {
    /// Start character offset.
    pub start: usize,
    /// End character offset (exclusive).
    pub end: usize,
    /// Indices into [`Grounding::sources`].
    pub source_indices: Vec<usize>,
    /// The cited text, when the provider gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cited_text: Option<String>,
}

/// Search grounding: the queries run, the sources used, and which spans cite them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grounding {
    /// Search queries the provider ran.
    pub queries: Vec<String>,
    /// Sources, de-duplicated by URL.
    pub sources: Vec<GroundingSource>,
    /// Cited spans.
    pub citations: Vec<Citation>,
    /// Provider search widget HTML (Google), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_entry_point: Option<String>,
}

impl Grounding {
    /// Add a source unless its URL is already listed; returns its index.
    pub fn add_source(&mut self, source: GroundingSource) -> usize {
        if let Some(i) = self.sources.iter().position(|s| s.url == source.url) {
            return i;
        }
        self.sources.push(source);
        self.sources.len() - 1
    }
}

/// The result of a finished call. `C` is the content: `String` for text, a user type for structured
/// output, artifacts for media.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Output<C> {
    /// The content.
    pub content: C,
    /// What the call consumed.
    pub usage: Usage,
    /// Why generation stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Tool calls the model made, arguments parsed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Reasoning text, when the provider returns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Provider-native blocks to replay on the next turn (reasoning items, thinking signatures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signature: Vec<Value>,
    /// Search grounding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounding: Option<Grounding>,
    /// Anthropic's code-execution container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Value>,
    /// Who answered.
    pub metadata: Metadata,
}

impl<C> Output<C> {
    /// An output with only content and metadata.
    pub fn new(content: C, metadata: Metadata) -> Self {
        Output {
            content,
            usage: Usage::default(),
            finish_reason: None,
            tool_calls: Vec::new(),
            reasoning: None,
            signature: Vec::new(),
            grounding: None,
            container: None,
            metadata,
        }
    }

    /// Replace the content, keeping everything else (how structured output is produced from text).
    pub fn map_content<D>(self, f: impl FnOnce(C) -> D) -> Output<D> {
        Output {
            content: f(self.content),
            usage: self.usage,
            finish_reason: self.finish_reason,
            tool_calls: self.tool_calls,
            reasoning: self.reasoning,
            signature: self.signature,
            grounding: self.grounding,
            container: self.container,
            metadata: self.metadata,
        }
    }
}

impl<C: Serialize> Output<C> {
    /// The assistant message to append to the conversation for the next turn: the content as text,
    /// the tool calls, and the reasoning and native blocks the provider needs replayed.
    pub fn message(&self) -> Message {
        let text = match serde_json::to_value(&self.content) {
            Ok(Value::String(s)) => s,
            Ok(Value::Null) | Err(_) => String::new(),
            Ok(other) => other.to_string(),
        };
        let content = if text.is_empty() { Vec::new() } else { vec![Part::text(text)] };
        let mut m = Message::new(Role::Assistant, content);
        m.tool_calls = self.tool_calls.clone();
        m.reasoning = self.reasoning.clone();
        m.signature = self.signature.clone();
        m.container = self.container.clone();
        m
    }
}

/// One piece of a stream. `D` is the content delta: `String` for text, an artifact for media.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Chunk<D> {
    /// The content delta (empty for chunks that carry only other information).
    pub content: D,
    /// A reasoning delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// A tool-call delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<ToolCallDelta>,
    /// Progress of a provider-side tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_activity: Option<ToolActivity>,
    /// Usage, on the chunk that reports it. Boxed: it is on one chunk of a stream at most a few times,
    /// and inline it would double the size of every chunk, which is moved several times on its way
    /// to the caller (BENCHMARKS.md, "Issue 19").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Box<Usage>>,
    /// The finish reason, on the chunk that reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
}

impl<D: Default> Chunk<D> {
    /// A chunk carrying only content.
    pub fn content(content: D) -> Self {
        Chunk { content, ..Chunk::empty() }
    }

    /// A chunk with nothing in it yet.
    pub fn empty() -> Self {
        Chunk {
            content: D::default(),
            reasoning: None,
            tool_call: None,
            tool_activity: None,
            usage: None,
            finish_reason: None,
        }
    }
}

/// Parse JSON produced by a model: strict JSON first, then, for text with raw control characters
/// inside strings (which models emit and strict parsers reject), a second pass with them escaped.
pub fn parse_json_lenient(text: &str) -> Result<Value, serde_json::Error> {
    match serde_json::from_str(text.trim()) {
        Ok(v) => Ok(v),
        Err(first) => {
            let escaped = escape_controls_in_strings(text.trim());
            serde_json::from_str(&escaped).map_err(|_| first)
        }
    }
}

/// Escape raw control characters that appear inside JSON string literals.
fn escape_controls_in_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            } else if (c as u32) < 0x20 {
                out.push_str(&format!("\\u{:04x}", c as u32));
                continue;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_replays_content_tool_calls_and_reasoning() {
        let mut out = Output::new("hello".to_string(), Metadata::new("m", None, Modality::Text));
        out.tool_calls.push(ToolCall::new("c1", "f", serde_json::json!({})));
        out.reasoning = Some("because".into());
        let m = out.message();
        assert_eq!(m.role, Role::Assistant);
        assert_eq!(m.text(), "hello");
        assert_eq!(m.tool_calls.len(), 1);
        assert_eq!(m.reasoning.as_deref(), Some("because"));
    }

    #[test]
    fn lenient_json_accepts_raw_newlines_in_strings() {
        assert_eq!(parse_json_lenient("{\"a\": \"x\ny\"}").unwrap(), serde_json::json!({"a": "x\ny"}));
        assert!(parse_json_lenient("{").is_err());
    }

    #[test]
    fn grounding_deduplicates_sources() {
        let mut g = Grounding::default();
        let s = GroundingSource { url: "u".into(), title: None, domain: None };
        assert_eq!(g.add_source(s.clone()), 0);
        assert_eq!(g.add_source(s), 0);
        assert_eq!(g.sources.len(), 1);
    }
}
