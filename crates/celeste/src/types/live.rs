//! The data of a live session: what the caller sends, the chunks it receives, the audio format both
//! sides agreed on, and the session's final output.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::message::{Item, Message, ToolResult};
use crate::types::output::Output;
use crate::types::tool::ToolCall;
use crate::types::usage::{FinishReason, Usage};

/// An audio format: a MIME type and a sample rate.
///
/// Parse the shorthand the reference takes with [`AudioFormat::parse`]: `audio/pcm` is 24 kHz,
/// `audio/pcmu` and `audio/pcma` are 8 kHz, `audio/pcm;rate=16000` (spaces allowed) names its rate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AudioFormat {
    /// The MIME type without parameters (`audio/pcm`).
    pub mime: String,
    /// Samples per second.
    pub rate: u32,
}

impl AudioFormat {
    /// A format.
    pub fn new(mime: impl Into<String>, rate: u32) -> Self {
        AudioFormat { mime: mime.into(), rate }
    }

    /// 16-bit little-endian mono PCM at 24 kHz, what live models speak by default.
    pub fn pcm24k() -> Self {
        AudioFormat::new("audio/pcm", 24_000)
    }

    /// `audio/pcm`, `audio/pcm;rate=16000`, `audio/pcmu`, ... as a format (the reference's
    /// `split_sample_rate` normalisation). A rate that is not a positive integer is an error.
    pub fn parse(s: &str) -> Result<Self> {
        let mut pieces = s.split(';');
        let mime = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut rate = None;
        for p in pieces {
            let Some((k, v)) = p.split_once('=') else { continue };
            if k.trim().eq_ignore_ascii_case("rate") {
                let parsed = v.trim().parse::<u32>().ok().filter(|r| *r > 0);
                rate = Some(parsed.ok_or_else(|| {
                    Error::invalid_input(format!("audio format {s:?}: the rate must be a positive integer"))
                })?);
            }
        }
        let rate = rate.unwrap_or(match mime.as_str() {
            "audio/pcmu" | "audio/pcma" => 8_000,
            _ => 24_000,
        });
        Ok(AudioFormat { mime, rate })
    }

    /// `audio/pcm;rate=24000`.
    pub fn mime_with_rate(&self) -> String {
        format!("{};rate={}", self.mime, self.rate)
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} Hz", self.mime, self.rate)
    }
}

/// Something the caller sends into a live session.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LiveInput {
    /// A message (a string is a user message).
    Message(Message),
    /// The result of a tool call the model made in this session.
    ToolResult(ToolResult),
    /// Audio samples in the session's audio format.
    Audio(Artifact),
    /// One image (a video frame).
    Image(Artifact),
    /// A raw wire frame, sent as it is (the escape hatch for provider features not modelled here).
    Raw(Value),
}

impl From<&str> for LiveInput {
    fn from(s: &str) -> Self {
        LiveInput::Message(Message::user(s))
    }
}

impl From<String> for LiveInput {
    fn from(s: String) -> Self {
        LiveInput::Message(Message::user(s))
    }
}

impl From<Message> for LiveInput {
    fn from(m: Message) -> Self {
        LiveInput::Message(m)
    }
}

impl From<ToolResult> for LiveInput {
    fn from(r: ToolResult) -> Self {
        LiveInput::ToolResult(r)
    }
}

/// One event of a live session, as received. Every server event becomes a chunk (none are
/// filtered); most carry only one of the fields.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LiveChunk {
    /// Model audio, in the session's output format (empty when the event carried none).
    pub audio: Bytes,
    /// A transcript fragment: the caller's speech (`user`) or the model's (`assistant`).
    pub transcript: Option<Message>,
    /// Tool calls the model made.
    pub tool_calls: Vec<ToolCall>,
    /// Set when a model turn ends (Google: `turnComplete` or `interrupted`; OpenAI: the session's
    /// close reason).
    pub finish_reason: Option<FinishReason>,
    /// Usage as this event reported it (Google: the turn's snapshot; OpenAI: cumulative billed
    /// seconds).
    pub usage: Option<Usage>,
    /// Whether this is the handshake's acknowledgement (always the first chunk).
    pub setup_complete: bool,
    /// The server event, with any audio payload removed (its bytes are in [`audio`](Self::audio)).
    pub event: Value,
}

/// The final output of a live session: all model audio as one artifact, the usage summed as the
/// provider bills it, the last finish reason, the tool calls, and the conversation exchanged during
/// the session (what was sent, and the transcripts and tool calls received; not the seed messages).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveOutput {
    /// Audio, usage, finish reason, tool calls and metadata, as any output.
    pub output: Output<Artifact>,
    /// The conversation of the session, in order.
    pub messages: Vec<Item>,
    /// The audio format of [`output`](Self::output)'s content.
    pub audio_format: AudioFormat,
    /// Every server event, audio payloads removed.
    pub events: Vec<Value>,
}

impl Deref for LiveOutput {
    type Target = Output<Artifact>;

    fn deref(&self) -> &Output<Artifact> {
        &self.output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_formats_normalise_as_the_reference() {
        assert_eq!(AudioFormat::parse("audio/pcm").unwrap(), AudioFormat::new("audio/pcm", 24_000));
        assert_eq!(AudioFormat::parse("audio/pcmu").unwrap(), AudioFormat::new("audio/pcmu", 8_000));
        assert_eq!(AudioFormat::parse("audio/pcma").unwrap(), AudioFormat::new("audio/pcma", 8_000));
        assert_eq!(AudioFormat::parse("audio/pcm;rate=16000").unwrap(), AudioFormat::new("audio/pcm", 16_000));
        assert_eq!(AudioFormat::parse("audio/pcm; rate=16000").unwrap(), AudioFormat::new("audio/pcm", 16_000));
        assert!(AudioFormat::parse("audio/pcm;rate=x").is_err());
        assert_eq!(AudioFormat::pcm24k().mime_with_rate(), "audio/pcm;rate=24000");
    }
}
