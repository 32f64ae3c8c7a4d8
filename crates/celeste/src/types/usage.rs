//! Token and media usage, and normalised finish reasons.
//!
//! Absent is not zero: every field is an `Option`, and a provider that reports nothing yields `None`.

use serde::{Deserialize, Serialize};

/// What a call consumed, as reported by the provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Input (prompt) tokens, cached ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output (completion) tokens, reasoning tokens included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Total tokens as the provider reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// Input tokens served from the provider's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// Input tokens written to the provider's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u64>,
    /// Output tokens spent on reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Images produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<u64>,
    /// Provider billing units (Cohere, fal, BFL credits, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_units: Option<f64>,
    /// Input megapixels (image upscaling and editing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_megapixels: Option<f64>,
    /// Output megapixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_megapixels: Option<f64>,
    /// Seconds of media processed or produced (audio, video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// The provider's usage object, verbatim: its JSON text as it came, parsed only when asked for
    /// ([`RawJson::parse`], [`RawJson::to_value`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawJson>,
}

/// A JSON value kept as the text it came in, checked to be JSON but not parsed into a tree.
///
/// Why not a `serde_json::Value`: the provider's usage object rides along on every call, and most
/// callers never look at it; building its tree cost about 25 heap allocations per call (a map node and
/// a key per field), keeping its text costs one. Parse it when you need it:
///
/// ```
/// use celeste::RawJson;
///
/// let raw = RawJson::from_text(r#"{"prompt_tokens": 8, "cached": {"tokens": 2}}"#)?;
/// assert_eq!(raw.to_value()["cached"]["tokens"], 2);
/// #[derive(serde::Deserialize)]
/// struct Mine { prompt_tokens: u64 }
/// assert_eq!(raw.parse::<Mine>()?.prompt_tokens, 8);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// Two values are equal when their texts are (`{"a":1}` and `{ "a": 1 }` are not).
#[derive(Clone)]
pub struct RawJson(Box<serde_json::value::RawValue>);

impl RawJson {
    /// Check `text` is one JSON value and keep it as it is.
    pub fn from_text(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text).map(RawJson)
    }

    /// Keep a value already checked to be JSON (a part of a reply decoded whole), without checking it
    /// again.
    pub(crate) fn from_raw_value(raw: &serde_json::value::RawValue) -> Self {
        RawJson(raw.to_owned())
    }

    /// The JSON text, as the provider sent it.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parse the text into `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.get())
    }

    /// Parse the text into a [`serde_json::Value`].
    pub fn to_value(&self) -> serde_json::Value {
        // The text was checked to be JSON when this was made, so it parses.
        self.parse().unwrap_or(serde_json::Value::Null)
    }

    /// Whether the value is JSON `null`.
    pub fn is_null(&self) -> bool {
        self.get().trim() == "null"
    }
}

impl From<&serde_json::Value> for RawJson {
    fn from(v: &serde_json::Value) -> Self {
        // Serialising a `Value` does not fail (its map keys are strings, its numbers finite); were it
        // to, `null` says "nothing usable" without a panic.
        RawJson(serde_json::value::to_raw_value(v).unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned()))
    }
}

impl From<serde_json::Value> for RawJson {
    fn from(v: serde_json::Value) -> Self {
        RawJson::from(&v)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl std::fmt::Display for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(d).map(RawJson)
    }
}

impl Usage {
    /// Whether the provider reported anything at all.
    pub fn is_empty(&self) -> bool {
        self.input_tokens.is_none()
            && self.output_tokens.is_none()
            && self.total_tokens.is_none()
            && self.cache_read_tokens.is_none()
            && self.cache_creation_tokens.is_none()
            && self.reasoning_tokens.is_none()
            && self.images.is_none()
            && self.billed_units.is_none()
            && self.input_megapixels.is_none()
            && self.output_megapixels.is_none()
            && self.seconds.is_none()
    }

    /// Fill every field this usage lacks from `later`, and take `later`'s value where it has one:
    /// the rule for providers that report usage in several events (Anthropic's cumulative
    /// `message_delta` after `message_start`).
    pub fn merge(&mut self, later: Usage) {
        macro_rules! take {
            ($($f:ident),*) => { $( if later.$f.is_some() { self.$f = later.$f; } )* };
        }
        take!(
            input_tokens,
            output_tokens,
            total_tokens,
            cache_read_tokens,
            cache_creation_tokens,
            reasoning_tokens,
            images,
            billed_units,
            input_megapixels,
            output_megapixels,
            seconds,
            raw
        );
    }
}

/// Why generation stopped, normalised across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FinishKind {
    /// Natural end or a stop sequence.
    Stop,
    /// An output token limit was reached.
    Length,
    /// The model asked for tool calls.
    ToolCall,
    /// Output was withheld by a safety or content filter, or the model refused. A refusal's text, when
    /// the provider sends one apart from the content (OpenAI's `refusal` fields, in Chat Completions and
    /// Responses), is the output's content; the raw value is what the provider reported (`stop`,
    /// `completed`, Anthropic's `refusal`, ...).
    ContentFilter,
    /// The provider reported a failure.
    Error,
    /// The provider paused a long turn before it was finished (Anthropic's `pause_turn`, while its
    /// server tools run): the reply is partial. Send the conversation back with this reply appended, as
    /// it is, and the model continues where it stopped.
    Paused,
    /// Anything else; see the raw string.
    Other,
}

impl FinishKind {
    /// The lowercase name (`stop`, `length`, `tool_call`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FinishKind::Stop => "stop",
            FinishKind::Length => "length",
            FinishKind::ToolCall => "tool_call",
            FinishKind::ContentFilter => "content_filter",
            FinishKind::Error => "error",
            FinishKind::Paused => "paused",
            FinishKind::Other => "other",
        }
    }
}

/// A finish reason: the normalised kind plus the provider's raw string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FinishReason {
    /// The normalised kind.
    pub kind: FinishKind,
    /// The provider's own value (`end_turn`, `STOP`, `completed`, ...).
    pub raw: String,
}

impl FinishReason {
    /// Normalise a provider's raw finish reason with the table shared by every wire API.
    pub fn from_raw(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let kind = match raw.to_ascii_lowercase().as_str() {
            "stop" | "end_turn" | "stop_sequence" | "completed" | "complete" | "finish_reason_unspecified" | "eos" => {
                FinishKind::Stop
            }
            "pause_turn" => FinishKind::Paused,
            "length" | "max_tokens" | "max_output_tokens" | "model_context_window_exceeded" => FinishKind::Length,
            "tool_calls" | "tool_call" | "tool_use" | "function_call" => FinishKind::ToolCall,
            "content_filter" | "safety" | "recitation" | "blocklist" | "prohibited_content" | "spii" | "refusal"
            | "image_safety" | "language" => FinishKind::ContentFilter,
            "error" | "failed" | "malformed_function_call" | "timeout" => FinishKind::Error,
            _ => FinishKind::Other,
        };
        FinishReason { kind, raw }
    }

    /// A reason with an explicit kind (for wire APIs whose raw value alone is ambiguous).
    pub fn new(kind: FinishKind, raw: impl Into<String>) -> Self {
        FinishReason { kind, raw: raw.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_normalise_across_providers() {
        let cases = [
            ("stop", FinishKind::Stop),
            ("end_turn", FinishKind::Stop),
            ("STOP", FinishKind::Stop),
            ("completed", FinishKind::Stop),
            ("length", FinishKind::Length),
            ("max_tokens", FinishKind::Length),
            ("MAX_TOKENS", FinishKind::Length),
            ("tool_calls", FinishKind::ToolCall),
            ("tool_use", FinishKind::ToolCall),
            ("content_filter", FinishKind::ContentFilter),
            ("SAFETY", FinishKind::ContentFilter),
            ("ERROR", FinishKind::Error),
            ("TIMEOUT", FinishKind::Error),
            ("COMPLETE", FinishKind::Stop),
            ("STOP_SEQUENCE", FinishKind::Stop),
            ("TOOL_CALL", FinishKind::ToolCall),
            ("pause_turn", FinishKind::Paused),
            ("something_new", FinishKind::Other),
        ];
        for (raw, kind) in cases {
            let r = FinishReason::from_raw(raw);
            assert_eq!(r.kind, kind, "{raw}");
            assert_eq!(r.raw, raw);
        }
    }

    #[test]
    fn merge_keeps_earlier_fields_and_takes_later_ones() {
        let mut a = Usage { input_tokens: Some(10), output_tokens: Some(1), ..Usage::default() };
        a.merge(Usage { output_tokens: Some(42), ..Usage::default() });
        assert_eq!(a.input_tokens, Some(10));
        assert_eq!(a.output_tokens, Some(42));
        assert!(Usage::default().is_empty());
        assert!(!a.is_empty());
    }

    #[test]
    fn raw_usage_keeps_its_text_and_parses_on_demand() {
        let text = r#"{"prompt_tokens": 10, "details": {"cached": 4}}"#;
        let raw = RawJson::from_text(text).unwrap();
        assert_eq!(raw.get(), text);
        assert_eq!(raw.to_value()["details"]["cached"], 4);
        assert!(RawJson::from_text("{not json").is_err());
        assert!(RawJson::from_text("null").unwrap().is_null());
        let u = Usage { raw: Some(raw.clone()), ..Usage::default() };
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(json, format!(r#"{{"raw":{text}}}"#));
        let back: Usage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, u);
        assert_eq!(RawJson::from(serde_json::json!({"a": 1})).get(), r#"{"a":1}"#);
    }

    #[test]
    fn absent_fields_are_not_serialised() {
        let u = Usage { input_tokens: Some(3), ..Usage::default() };
        assert_eq!(serde_json::to_string(&u).unwrap(), r#"{"input_tokens":3}"#);
    }
}
