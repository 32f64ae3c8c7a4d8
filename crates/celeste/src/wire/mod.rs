//! Wire APIs: one module per API shape, each building requests and decoding responses and stream events.
//! Providers choose a wire API through their profile ([`crate::providers`]); nothing here knows which
//! vendor it is talking to beyond the [`WireContext`].
//!
//! [`WireApi`] is the one seam: its methods hold the only `match` over wire APIs (build a request,
//! parse a reply, make a stream decoder, give its parameter table). Adding a wire API is
//! one module here plus one arm in each of those methods.

// The native wire APIs are compiled in with their provider's feature; the two protocols
// (Responses, Chat Completions) always are, since any compatible endpoint speaks them.
#[cfg(feature = "anthropic")]
pub(crate) mod anthropic;
pub(crate) mod audio;
pub(crate) mod chatcompletions;
#[cfg(feature = "cohere")]
pub(crate) mod cohere;
pub(crate) mod decision;
pub(crate) mod embeddings;
#[cfg(feature = "google")]
pub(crate) mod gemini;
#[cfg(feature = "google")]
pub(crate) mod google;
pub(crate) mod images;
#[cfg(feature = "google")]
pub(crate) mod interactions;
pub(crate) mod kit;
pub(crate) mod live;
pub(crate) mod media;
pub(crate) mod openresponses;
pub(crate) mod segmentation;
pub(crate) mod videos;

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

/// A request as a wire API builds it (a text API's by default: a JSON body, and the text parameters
/// it dropped; an image API's body may be a form, [`images::ImageWireRequest`]).
#[derive(Debug, Clone)]
pub(crate) struct WireRequest<B = Value, P = TextParam> {
    /// The body.
    pub body: B,
    /// The headers the wire API itself needs (API versions, betas, `Accept` for streams).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Where it goes: the route's URL, as the wire API adjusts it (Gemini streams at another method).
    pub url: String,
    /// Parameters that were set but that this wire API cannot carry: dropped, and reported once.
    pub dropped: Vec<P>,
}

impl WireApi {
    /// Whether this build holds the wire API (the native ones come with their provider's feature).
    pub fn is_implemented(self) -> bool {
        match self {
            WireApi::OpenResponses | WireApi::ChatCompletions => true,
            WireApi::AnthropicMessages => cfg!(feature = "anthropic"),
            WireApi::GeminiInteractions | WireApi::GeminiGenerateContent => cfg!(feature = "google"),
            WireApi::CohereChat => cfg!(feature = "cohere"),
        }
    }

    /// The error for a wire API this build left out.
    fn compiled_out(self, ctx: &WireContext) -> Error {
        ctx.unsupported(format!("the {self:?} wire API is compiled out: enable its provider's cargo feature"))
    }

    /// Build the request for `req`, sent to `url` (the route's URL below the base URL).
    pub(crate) fn build(self, req: &TextRequest, ctx: &WireContext, stream: bool, url: String) -> Result<WireRequest> {
        #[allow(unreachable_patterns, reason = "the arm for wire APIs compiled out of this build")]
        let body = match self {
            WireApi::OpenResponses => openresponses::build_request(req, ctx, stream)?,
            WireApi::ChatCompletions => chatcompletions::build_request(req, ctx, stream)?,
            #[cfg(feature = "cohere")]
            WireApi::CohereChat => cohere::build_request(req, ctx, stream)?,
            #[cfg(feature = "google")]
            WireApi::GeminiGenerateContent => gemini::build_request(req, ctx)?,
            #[cfg(feature = "google")]
            WireApi::GeminiInteractions => interactions::build_request(req, ctx, stream)?,
            #[cfg(feature = "anthropic")]
            WireApi::AnthropicMessages => anthropic::build_request(req, ctx, stream)?,
            _ => return Err(self.compiled_out(ctx)),
        };
        let mut headers = match self {
            #[cfg(feature = "anthropic")]
            WireApi::AnthropicMessages => anthropic::headers(),
            _ => Vec::new(),
        };
        if stream {
            headers.push((reqwest::header::ACCEPT, HeaderValue::from_static("text/event-stream")));
        }
        let url = match self {
            #[cfg(feature = "google")]
            WireApi::GeminiGenerateContent if stream => gemini::stream_url(&url),
            _ => url,
        };
        let dropped = req.params.set_params().filter(|p| !self.carries(*p)).collect();
        Ok(WireRequest { body, headers, url, dropped })
    }

    /// Decode a unary reply.
    pub(crate) fn parse(self, body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
        #[allow(unreachable_patterns, reason = "the arm for wire APIs compiled out of this build")]
        match self {
            WireApi::OpenResponses => openresponses::parse_response(body, ctx),
            WireApi::ChatCompletions => chatcompletions::parse_response(body, ctx),
            #[cfg(feature = "cohere")]
            WireApi::CohereChat => cohere::parse_response(body, ctx),
            #[cfg(feature = "google")]
            WireApi::GeminiGenerateContent => gemini::parse_response(body, ctx),
            #[cfg(feature = "google")]
            WireApi::GeminiInteractions => interactions::parse_response(body, ctx),
            #[cfg(feature = "anthropic")]
            WireApi::AnthropicMessages => anthropic::parse_response(body, ctx),
            _ => Err(self.compiled_out(ctx)),
        }
    }

    /// A decoder for this wire API's stream events.
    pub(crate) fn decoder(self, ctx: WireContext) -> Result<Box<dyn Decoder<String, String>>> {
        #[allow(unreachable_patterns, reason = "the arm for wire APIs compiled out of this build")]
        Ok(match self {
            WireApi::OpenResponses => Box::new(openresponses::ResponsesDecoder::new(ctx)),
            WireApi::ChatCompletions => Box::new(chatcompletions::ChatDecoder::new(ctx)),
            #[cfg(feature = "cohere")]
            WireApi::CohereChat => Box::new(cohere::CohereDecoder::new(ctx)),
            #[cfg(feature = "google")]
            WireApi::GeminiGenerateContent => Box::new(gemini::GeminiDecoder::new(ctx)),
            #[cfg(feature = "google")]
            WireApi::GeminiInteractions => Box::new(interactions::InteractionsDecoder::new(ctx)),
            #[cfg(feature = "anthropic")]
            WireApi::AnthropicMessages => Box::new(anthropic::AnthropicDecoder::new(ctx)),
            _ => return Err(self.compiled_out(&ctx)),
        })
    }

    /// The parameter table: where this wire API puts each text parameter ([`kit::Fields`]).
    pub(crate) fn fields(self) -> kit::Fields {
        #[allow(unreachable_patterns, reason = "the arm for wire APIs compiled out of this build")]
        match self {
            WireApi::OpenResponses => openresponses::FIELDS,
            WireApi::ChatCompletions => chatcompletions::FIELDS,
            #[cfg(feature = "cohere")]
            WireApi::CohereChat => cohere::FIELDS,
            #[cfg(feature = "google")]
            WireApi::GeminiGenerateContent => gemini::FIELDS,
            #[cfg(feature = "google")]
            WireApi::GeminiInteractions => interactions::FIELDS,
            #[cfg(feature = "anthropic")]
            WireApi::AnthropicMessages => anthropic::FIELDS,
            _ => &[],
        }
    }

    /// Whether this wire API carries `param` (its table names it). Every other parameter that is set
    /// is dropped and reported.
    pub(crate) fn carries(self, param: TextParam) -> bool {
        self.fields().iter().any(|(p, _)| *p == param)
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

/// A usage object as the wire API's typed view of it, plus the object itself, kept verbatim for
/// `Usage::raw`. The object is a part of a reply that was already decoded (and so checked to be JSON),
/// so it is copied, not checked again, and the typed view is read from its text: no
/// `serde_json::Value` tree, which cost ~25 allocations per call (BENCHMARKS.md, "Issue 19").
pub(crate) fn decode_usage<W: serde::de::DeserializeOwned + Default>(
    raw: &serde_json::value::RawValue,
    what: &'static str,
) -> (W, Option<crate::types::usage::RawJson>) {
    let typed = serde_json::from_str(raw.get()).unwrap_or_else(|e| {
        tracing::debug!(error = %e, what, "usage object did not decode; keeping it raw only");
        W::default()
    });
    (typed, Some(crate::types::usage::RawJson::from_raw_value(raw)))
}

/// The `function` object of an OpenAI-style tool call (`{name, arguments}`), shared by the wire APIs
/// that use that shape (Chat Completions, Cohere v2).
#[derive(serde::Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct WireFunction<'a> {
    pub name: Option<kit::Str<'a>>,
    /// A JSON string as the protocols say; some servers send the object itself.
    pub arguments: Option<&'a serde_json::value::RawValue>,
}

/// An OpenAI-style tool call (`{index, id, function}`), shared by Chat Completions and Cohere v2 (which
/// sends no `index`).
#[derive(serde::Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct WireToolCall<'a> {
    pub index: Option<u64>,
    pub id: Option<kit::Str<'a>>,
    pub function: Option<WireFunction<'a>>,
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
mod acceptance;
#[cfg(test)]
mod params;
#[cfg(test)]
pub(crate) mod testkit;
