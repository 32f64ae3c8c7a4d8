//! Wire APIs: one module per API shape, each building requests and decoding responses and stream events.
//! Providers choose a wire API through their profile ([`crate::providers`]); nothing here knows which
//! vendor it is talking to beyond the [`WireContext`].
//!
//! [`WireApi`] is the one seam: its methods hold the only `match` over wire APIs (build a request,
//! parse a reply, make a stream decoder, say which parameters the API carries). Adding a wire API is
//! one module here plus one arm in each of those methods.

pub(crate) mod anthropic;
pub(crate) mod chatcompletions;
pub(crate) mod cohere;
pub(crate) mod gemini;
pub(crate) mod google;
pub(crate) mod images;
pub(crate) mod interactions;
pub(crate) mod kit;
pub(crate) mod openresponses;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::error::{Error, Origin, Result};
use crate::stream::Decoder;
use crate::types::enums::{Modality, Operation};
use crate::types::message::Part;
use crate::types::output::Output;
use crate::types::text::{TextParam, TextRequest};

/// The wire APIs this library speaks; each is one module of the crate's private `wire` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireApi {
    /// OpenAI Responses (`/v1/responses`).
    OpenResponses,
    /// Chat Completions (`/v1/chat/completions`).
    ChatCompletions,
    /// Anthropic Messages (`/v1/messages`).
    AnthropicMessages,
    /// Google Gemini Interactions.
    GeminiInteractions,
    /// Google Gemini generateContent.
    GeminiGenerateContent,
    /// Cohere v2 chat.
    CohereChat,
}

/// A request as a wire API builds it.
#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    /// The JSON body.
    pub body: Value,
    /// The headers the wire API itself needs (API versions, betas, `Accept` for streams).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Where it goes: the route's URL, as the wire API adjusts it (Gemini streams at another method).
    pub url: String,
    /// Parameters that were set but that this wire API cannot carry: dropped, and reported once.
    pub dropped: Vec<TextParam>,
}

impl WireApi {
    /// Whether this library implements the wire API yet.
    pub fn is_implemented(self) -> bool {
        true
    }

    /// Build the request for `req`, sent to `url` (the route's URL below the base URL).
    pub(crate) fn build(self, req: &TextRequest, ctx: &WireContext, stream: bool, url: String) -> Result<WireRequest> {
        let body = match self {
            WireApi::OpenResponses => openresponses::build_request(req, ctx, stream)?,
            WireApi::ChatCompletions => chatcompletions::build_request(req, ctx, stream)?,
            WireApi::CohereChat => cohere::build_request(req, ctx, stream)?,
            WireApi::GeminiGenerateContent => gemini::build_request(req, ctx)?,
            WireApi::GeminiInteractions => interactions::build_request(req, ctx, stream)?,
            WireApi::AnthropicMessages => anthropic::build_request(req, ctx, stream)?,
        };
        let mut headers = match self {
            WireApi::AnthropicMessages => anthropic::headers(),
            _ => Vec::new(),
        };
        if stream {
            headers.push((reqwest::header::ACCEPT, HeaderValue::from_static("text/event-stream")));
        }
        let url = match self {
            WireApi::GeminiGenerateContent if stream => gemini::stream_url(&url),
            _ => url,
        };
        let carried = self.carried();
        let dropped = req.params.set_params().filter(|p| !carried.contains(p)).collect();
        Ok(WireRequest { body, headers, url, dropped })
    }

    /// Another wire API of the same provider that must serve `req` instead, with its path below the
    /// same base URL: Google's Interactions API does not serve mixed function + built-in tool requests
    /// on some models, which go to generateContent instead (the reference's issue #335).
    pub(crate) fn redirect(self, req: &TextRequest) -> Option<(WireApi, &'static str)> {
        match self {
            WireApi::GeminiInteractions if interactions::needs_generate_content(req) => {
                Some((WireApi::GeminiGenerateContent, gemini::PATH))
            }
            _ => None,
        }
    }

    /// Decode a unary reply.
    pub(crate) fn parse(self, body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
        match self {
            WireApi::OpenResponses => openresponses::parse_response(body, ctx),
            WireApi::ChatCompletions => chatcompletions::parse_response(body, ctx),
            WireApi::CohereChat => cohere::parse_response(body, ctx),
            WireApi::GeminiGenerateContent => gemini::parse_response(body, ctx),
            WireApi::GeminiInteractions => interactions::parse_response(body, ctx),
            WireApi::AnthropicMessages => anthropic::parse_response(body, ctx),
        }
    }

    /// A decoder for this wire API's stream events.
    pub(crate) fn decoder(self, ctx: WireContext) -> Box<dyn Decoder<String, String>> {
        match self {
            WireApi::OpenResponses => Box::new(openresponses::ResponsesDecoder::new(ctx)),
            WireApi::ChatCompletions => Box::new(chatcompletions::ChatDecoder::new(ctx)),
            WireApi::CohereChat => Box::new(cohere::CohereDecoder::new(ctx)),
            WireApi::GeminiGenerateContent => Box::new(gemini::GeminiDecoder::new(ctx)),
            WireApi::GeminiInteractions => Box::new(interactions::InteractionsDecoder::new(ctx)),
            WireApi::AnthropicMessages => Box::new(anthropic::AnthropicDecoder::new(ctx)),
        }
    }

    /// The parameter table: which text parameters this wire API carries. Every other parameter that
    /// is set is dropped and reported. `params::every_parameter_reaches_the_wire_or_is_reported`
    /// holds each module to its table.
    pub(crate) fn carried(self) -> &'static [TextParam] {
        match self {
            WireApi::OpenResponses => openresponses::CARRIED,
            WireApi::ChatCompletions => chatcompletions::CARRIED,
            WireApi::CohereChat => cohere::CARRIED,
            WireApi::GeminiGenerateContent => gemini::CARRIED,
            WireApi::GeminiInteractions => interactions::CARRIED,
            WireApi::AnthropicMessages => anthropic::CARRIED,
        }
    }
}

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

    /// Report parameters that were set but that this wire API cannot carry; they are dropped (the
    /// reference's `UnsupportedParameterWarning`). The call pipeline says it once per call.
    pub(crate) fn warn_dropped(&self, dropped: &[TextParam]) {
        if !dropped.is_empty() {
            let names: Vec<&str> = dropped.iter().map(|p| p.as_str()).collect();
            tracing::warn!(origin = %self.origin, model = %self.model, parameters = ?names, "parameters this wire API cannot carry were dropped");
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

#[cfg(test)]
mod params;
#[cfg(test)]
pub(crate) mod testkit;
