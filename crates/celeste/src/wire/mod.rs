//! Wire APIs: one module per API shape, each building requests and decoding responses and stream events.
//! Providers choose a wire API through their profile ([`crate::providers`]); nothing here knows which
//! vendor it is talking to beyond the [`WireContext`].

pub(crate) mod anthropic;
pub(crate) mod chatcompletions;
pub(crate) mod cohere;
pub(crate) mod gemini;
pub(crate) mod interactions;
pub(crate) mod openresponses;

use crate::error::{Error, Origin};
use crate::types::enums::{Modality, Operation};
use crate::types::message::Part;

/// What a wire module needs to know about the call it serves.
#[derive(Debug, Clone)]
pub(crate) struct WireContext {
    /// Who is being called.
    pub origin: Origin,
    /// The requested model id.
    pub model: String,
    /// The operation (`generate`, `analyze`, ...).
    pub operation: Operation,
}

impl WireContext {
    /// The error for something this wire API cannot express.
    pub(crate) fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::unsupported(Some(self.origin), Some(Modality::Text), Some(self.operation), what)
    }

    /// Report parameters that were set but that this wire API cannot express; they are dropped (the
    /// reference's `UnsupportedParameterWarning`).
    pub(crate) fn warn_dropped(&self, set: &[(&str, bool)]) {
        let dropped: Vec<&str> = set.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
        if !dropped.is_empty() {
            tracing::warn!(origin = %self.origin, parameters = ?dropped, "parameters not supported by this wire API were dropped");
        }
    }

    /// The error for a message part this wire API does not accept.
    pub(crate) fn unsupported_part(&self, part: &Part) -> Error {
        self.unsupported(format!("{} content parts in text messages", part.input_type()))
    }
}

/// A usage object decoded in one pass: the provider's object as JSON (kept verbatim in `Usage::raw`)
/// and the wire API's typed view of it, read from that value instead of parsing the text twice.
pub(crate) fn decode_usage<W: serde::de::DeserializeOwned + Default>(
    raw: &str,
    what: &'static str,
) -> (W, Option<serde_json::Value>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) else {
        tracing::debug!(what, "usage object is not JSON; ignored");
        return (W::default(), None);
    };
    let typed = W::deserialize(&value).unwrap_or_else(|e| {
        tracing::debug!(error = %e, what, "usage object did not decode; keeping it raw only");
        W::default()
    });
    (typed, Some(value))
}

/// The `function` object of an OpenAI-style tool call (`{name, arguments}`), shared by the wire APIs
/// that use that shape (Chat Completions, Cohere v2).
#[derive(serde::Deserialize)]
pub(crate) struct WireFunction<'a> {
    #[serde(default, borrow)]
    pub name: Option<std::borrow::Cow<'a, str>>,
    /// A JSON string as the protocols say; some servers send the object itself.
    #[serde(default, borrow)]
    pub arguments: Option<&'a serde_json::value::RawValue>,
}

impl WireFunction<'_> {
    /// The arguments as JSON text, whether they came as a string or as an object.
    pub fn arguments_text(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        let Some(raw) = self.arguments else { return Cow::Borrowed("") };
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str::<Cow<'_, str>>(text).unwrap_or(Cow::Borrowed(""))
        } else if text == "null" {
            Cow::Borrowed("")
        } else {
            Cow::Borrowed(text)
        }
    }
}
