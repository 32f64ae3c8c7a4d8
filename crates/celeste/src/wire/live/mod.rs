//! The live wire protocols: one WebSocket per session, JSON frames both ways.
//!
//! - [`google`]: Gemini's `BidiGenerateContent` (Gemini API and Vertex AI).
//! - [`openai`]: OpenAI's Live API (`/v1/live/sessions`, not the older Realtime API).
//!
//! Each module builds the session's opening frames, checks the server's acknowledgement, serialises
//! what the caller sends, and turns server events into [`LiveChunk`]s. The session machinery
//! (`crate::live`) owns the socket, the queue and the aggregation.
// A build without one of the two providers leaves parts of the shared plumbing unused (without both,
// `LiveApi` has no variant and every dispatch is an empty match).
#![cfg_attr(not(all(feature = "google", feature = "openai")), allow(unused_variables, dead_code))]

#[cfg(feature = "google")]
pub(crate) mod google;
#[cfg(feature = "openai")]
pub(crate) mod openai;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::error::{Error, Origin, Result};
use crate::types::enums::Role;
use crate::types::enums::{Modality, Operation, Provider};
use crate::types::live::{AudioFormat, LiveChunk, LiveInput};
use crate::types::message::{Item, Message, Part};
use crate::types::tool::Tool;
use crate::types::usage::{FinishReason, Usage};

/// Which live protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LiveApi {
    #[cfg(feature = "google")]
    Google,
    #[cfg(feature = "openai")]
    OpenAi,
}

impl LiveApi {
    /// The live protocol of a provider, when it has one.
    pub(crate) fn of(provider: Provider) -> Option<LiveApi> {
        match provider {
            #[cfg(feature = "google")]
            Provider::Google => Some(LiveApi::Google),
            #[cfg(feature = "openai")]
            Provider::OpenAi => Some(LiveApi::OpenAi),
            _ => None,
        }
    }
}

/// Everything a session's opening needs, checked.
#[derive(Debug, Clone)]
pub(crate) struct LiveRequest {
    pub model: String,
    pub origin: Origin,
    /// Parameters checked against the catalog (`voice`, `audio_format`, `thinking_level`, ...).
    pub params: Map<String, Value>,
    pub tools: Vec<Tool>,
    /// The conversation seeded at connect.
    pub seed: Vec<Item>,
    /// Images seeded as one more user turn (Google).
    pub reference_images: Vec<crate::types::artifact::Artifact>,
    pub extra_body: Option<Value>,
    /// The model as Vertex AI names it (`projects/…/models/{id}`), on Vertex.
    pub vertex_resource: Option<String>,
}

impl LiveRequest {
    pub(crate) fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::unsupported(Some(self.origin), Some(Modality::Live), Some(Operation::Connect), what.into())
    }
}

/// A request with nothing but a model and its provider (the wire modules' tests).
#[cfg(test)]
pub(crate) fn test_request(model: &str, provider: Provider) -> LiveRequest {
    LiveRequest {
        model: model.into(),
        origin: Origin::Provider(provider),
        params: Map::new(),
        tools: vec![],
        seed: vec![],
        reference_images: vec![],
        extra_body: None,
        vertex_resource: None,
    }
}

/// What the opening of a session sends: the first frame, and what follows the acknowledgement.
#[derive(Debug, Clone)]
pub(crate) struct Opening {
    pub setup: Value,
    pub after_ack: Vec<Value>,
}

/// What the acknowledgement settled.
#[derive(Debug, Clone)]
pub(crate) struct Ack {
    /// The output audio format, when the server confirmed one.
    pub format: Option<AudioFormat>,
}

/// The per-session state of the protocols: what decoding needs to remember.
#[derive(Debug, Default)]
pub(crate) struct LiveState {
    /// The current Google turn saw `interrupted`.
    pub interrupted: bool,
    /// The first audio MIME type the server used (`audio/pcm;rate=24000`).
    pub audio_mime: Option<String>,
}

impl LiveApi {
    /// Whether the caller's audio must be in the session's one negotiated format (OpenAI Live: the
    /// format is shared by input and output); Google takes PCM at any rate it is told.
    pub(crate) fn negotiates_format(self) -> bool {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => false,
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => true,
        }
    }

    /// Validate and build the opening frames.
    pub(crate) fn opening(self, req: &LiveRequest) -> Result<Opening> {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => google::opening(req),
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => openai::opening(req),
        }
    }

    /// Check the acknowledgement frame.
    pub(crate) fn ack(self, req: &LiveRequest, frame: &Value) -> Result<Ack> {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => google::ack(req, frame),
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => openai::ack(req, frame),
        }
    }

    /// Serialise one item the caller sends (errors name what the protocol cannot take).
    pub(crate) fn serialize(self, req: &LiveRequest, item: &LiveInput) -> Result<Value> {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => google::serialize(req, item),
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => openai::serialize(req, item),
        }
    }

    /// The frame `end()` sends, when the protocol has one (Google has none: the socket is closed).
    pub(crate) fn end_frame(self) -> Option<Value> {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => None,
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => Some(serde_json::json!({"type": "session.close"})),
        }
    }

    /// The chunks of one server frame (Google splits an input transcript from the rest), and whether
    /// the frame ends the session.
    pub(crate) fn parse(self, state: &mut LiveState, frame: Value) -> Result<(Vec<LiveChunk>, bool)> {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => Ok((google::parse(state, frame)?, false)),
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => openai::parse(frame),
        }
    }

    /// The session's total usage from the chunks' usage reports: Google reports per turn (the last
    /// snapshot of each turn, summed over turns); OpenAI reports cumulative billed seconds (the last).
    pub(crate) fn total_usage(self, chunks: &[(Option<&Usage>, bool)]) -> Usage {
        match self {
            #[cfg(feature = "google")]
            LiveApi::Google => google::total_usage(chunks),
            #[cfg(feature = "openai")]
            LiveApi::OpenAi => chunks.iter().rev().find_map(|(u, _)| u.cloned()).unwrap_or_default(),
        }
    }
}

/// A transcript fragment as a one-part message.
pub(crate) fn transcript(role: Role, text: &str) -> Message {
    Message::new(role, vec![Part::text(text)])
}

/// A chunk for an event that carries nothing parsed.
pub(crate) fn event_chunk(event: Value) -> LiveChunk {
    LiveChunk { event, ..LiveChunk::default() }
}

/// Base64 from the wire, decoded; a malformed payload is a decode error naming the event.
pub(crate) fn decode_audio(what: &'static str, b64: &str) -> Result<bytes::Bytes> {
    STANDARD.decode(b64).map(bytes::Bytes::from).map_err(|e| Error::decode(what, e, b64.as_bytes()))
}

/// The reference's finish reasons are protocol words (`turnComplete`, `interrupted`,
/// `close_requested`): kept raw, normalised where they mean a stop.
pub(crate) fn finish(raw: &str) -> FinishReason {
    match raw {
        "turnComplete" | "close_requested" => FinishReason::new(crate::types::usage::FinishKind::Stop, raw),
        _ => FinishReason::from_raw(raw),
    }
}

/// The text of a message whose parts are all text, or why not.
pub(crate) fn text_only(m: &Message) -> Option<String> {
    m.content.iter().all(|p| matches!(p, Part::Text { .. })).then(|| m.text())
}
