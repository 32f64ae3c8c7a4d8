//! Conversations: messages with ordered multimodal parts, and tool results as their own items.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::enums::{InputType, Role};
use crate::types::tool::ToolCall;

/// One part of a message's content, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// The image.
        image: Artifact,
    },
    /// Audio.
    Audio {
        /// The audio.
        audio: Artifact,
    },
    /// A video.
    Video {
        /// The video.
        video: Artifact,
    },
    /// A document (PDF, office file, plain text, ...).
    Document {
        /// The document.
        document: Artifact,
    },
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Part::Text { text: text.into() }
    }

    /// An image part.
    pub fn image(image: Artifact) -> Self {
        Part::Image { image }
    }

    /// An audio part.
    pub fn audio(audio: Artifact) -> Self {
        Part::Audio { audio }
    }

    /// A video part.
    pub fn video(video: Artifact) -> Self {
        Part::Video { video }
    }

    /// A document part.
    pub fn document(document: Artifact) -> Self {
        Part::Document { document }
    }

    /// Which kind of input this part is.
    pub fn input_type(&self) -> InputType {
        match self {
            Part::Text { .. } => InputType::Text,
            Part::Image { .. } => InputType::Image,
            Part::Audio { .. } => InputType::Audio,
            Part::Video { .. } => InputType::Video,
            Part::Document { .. } => InputType::Document,
        }
    }

    /// The artifact of a media part.
    pub fn artifact(&self) -> Option<&Artifact> {
        match self {
            Part::Text { .. } => None,
            Part::Image { image: a }
            | Part::Audio { audio: a }
            | Part::Video { video: a }
            | Part::Document { document: a } => Some(a),
        }
    }
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// The ordered content parts.
    pub content: Vec<Part>,
    /// Tool calls the assistant made in this turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The assistant's reasoning text, replayed where the provider wants it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Provider-native blocks (reasoning items, thinking blocks with signatures, ...) replayed verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signature: Vec<Value>,
    /// Anthropic's code-execution container, carried to the next turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Value>,
    /// Extra wire fields passed through (e.g. `name`).
    #[serde(default, skip_serializing_if = "Map::is_empty", flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with the given role and parts.
    pub fn new(role: Role, content: Vec<Part>) -> Self {
        Message {
            role,
            content,
            tool_calls: Vec::new(),
            reasoning: None,
            signature: Vec::new(),
            container: None,
            extra: Map::new(),
        }
    }

    /// A user message with one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Message::new(Role::User, vec![Part::text(text)])
    }

    /// An assistant message with one text part.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::new(Role::Assistant, vec![Part::text(text)])
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Message::new(Role::System, vec![Part::text(text)])
    }

    /// A developer message.
    pub fn developer(text: impl Into<String>) -> Self {
        Message::new(Role::Developer, vec![Part::text(text)])
    }

    /// Append a part.
    pub fn with_part(mut self, part: Part) -> Self {
        self.content.push(part);
        self
    }

    /// Attach tool calls (an assistant turn that called tools).
    pub fn with_tool_calls(mut self, calls: Vec<ToolCall>) -> Self {
        self.tool_calls = calls;
        self
    }

    /// The concatenation of the text parts.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.content {
            if let Part::Text { text } = p {
                out.push_str(text);
            }
        }
        out
    }
}

/// The result of running a tool, sent back to the model. Not a [`Message`]: it is its own item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolResult {
    /// The id of the [`ToolCall`] this answers.
    pub tool_call_id: String,
    /// The tool name (some wire APIs require it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The result: a string, or any JSON value (serialised for wire APIs that want text).
    pub content: Value,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl ToolResult {
    /// A successful result.
    pub fn new(tool_call_id: impl Into<String>, content: impl Into<Value>) -> Self {
        ToolResult { tool_call_id: tool_call_id.into(), name: None, content: content.into(), is_error: false }
    }

    /// A failed result.
    pub fn error(tool_call_id: impl Into<String>, content: impl Into<Value>) -> Self {
        ToolResult { is_error: true, ..ToolResult::new(tool_call_id, content) }
    }

    /// Name the tool.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The content as text: strings as they are, anything else as JSON.
    pub fn content_text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// One entry of a conversation: a message or a tool result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Item {
    /// A message.
    Message(Message),
    /// A tool result.
    ToolResult(ToolResult),
}

impl From<Message> for Item {
    fn from(m: Message) -> Self {
        Item::Message(m)
    }
}

impl From<ToolResult> for Item {
    fn from(r: ToolResult) -> Self {
        Item::ToolResult(r)
    }
}

/// Build the request's conversation as the reference does: the given items, then one user turn with
/// the media parts (in the order images, videos, audio, documents) followed by the prompt text.
pub fn request_items(prompt: Option<&str>, items: &[Item], media: &[Part]) -> Result<Vec<Item>> {
    let mut out = items.to_vec();
    let mut parts: Vec<Part> = Vec::with_capacity(media.len() + 1);
    for kind in [InputType::Image, InputType::Video, InputType::Audio, InputType::Document] {
        parts.extend(media.iter().filter(|p| p.input_type() == kind).cloned());
    }
    if let Some(p) = prompt {
        parts.push(Part::text(p));
    }
    if !parts.is_empty() {
        out.push(Item::Message(Message::new(Role::User, parts)));
    }
    if out.is_empty() {
        return Err(Error::invalid_input("a text request needs a prompt, messages or media input"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_items_orders_media_before_text() {
        let media = vec![
            Part::document(Artifact::from_url("d")),
            Part::image(Artifact::from_url("i")),
            Part::audio(Artifact::from_url("a")),
        ];
        let items = request_items(Some("hi"), &[], &media).unwrap();
        let Item::Message(m) = &items[0] else { panic!() };
        let kinds: Vec<InputType> = m.content.iter().map(Part::input_type).collect();
        assert_eq!(kinds, [InputType::Image, InputType::Audio, InputType::Document, InputType::Text]);
    }

    #[test]
    fn empty_request_is_an_error() {
        assert!(matches!(request_items(None, &[], &[]), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn tool_results_stay_structured_in_json() {
        let items: Vec<Item> =
            vec![Message::user("q").into(), ToolResult::new("call_1", serde_json::json!({"t": 21})).into()];
        let json = serde_json::to_string(&items).unwrap();
        let back: Vec<Item> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, items);
        assert!(matches!(back[1], Item::ToolResult(_)));
    }

    #[test]
    fn message_text_joins_text_parts() {
        let m = Message::user("a").with_part(Part::image(Artifact::from_url("u"))).with_part(Part::text("b"));
        assert_eq!(m.text(), "ab");
    }
}
