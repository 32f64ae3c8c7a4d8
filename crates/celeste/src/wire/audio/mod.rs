//! Audio wire APIs: one module per provider API, behind one seam ([`AudioApi`]) that holds the only
//! `match` over them: the path of an operation, the parameters each carries, building a request,
//! decoding a reply (speech bytes, a transcript, an Interactions document) and decoding a stream.
//!
//! Speech comes back as raw bytes (OpenAI, ElevenLabs: the body *is* the audio, streamed as it is
//! synthesised) or as base64 audio in JSON (Google Interactions: one document, or SSE deltas). A
//! transcript is JSON from a multipart upload, the same form on every provider but for the model
//! field's name.
//!
//! Adding an audio API is one module here plus one arm in each method of [`AudioApi`].

pub(crate) mod elevenlabs;
// Google TTS and Lyria speak Interactions and share its Google helpers: compiled with `google`.
#[cfg(feature = "google")]
pub(crate) mod google;
// Gradium speaks over a WebSocket (`transport::ws`).
#[cfg(feature = "gradium")]
pub(crate) mod gradium;
pub(crate) mod openai;

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderValue;

use crate::error::{Error, Result};
use crate::stream::{Decoder, Frame, Framing};
use crate::types::artifact::Artifact;
use crate::types::audio::Audio;
use crate::types::enums::{Modality, Operation};
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, Output};
use crate::wire::images::{Body, FormField};
use crate::wire::media::{Inputs, MediaContext, MediaRequest, Modal};

/// The audio APIs this library speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    not(feature = "all-providers"),
    allow(dead_code, reason = "the APIs of providers compiled out of this build are never chosen")
)]
#[non_exhaustive]
pub enum AudioApi {
    /// OpenAI Audio (`/v1/audio/speech`, `/v1/audio/transcriptions`).
    OpenAi,
    /// Groq's OpenAI-compatible transcriptions (`/openai/v1/audio/transcriptions`).
    Groq,
    /// Mistral Voxtral transcriptions (`/v1/audio/transcriptions`).
    Mistral,
    /// ElevenLabs text-to-speech (`/v1/text-to-speech/{voice}`) and Scribe (`/v1/speech-to-text`).
    ElevenLabs,
    /// Gemini TTS and Lyria music through Interactions (`/v1beta/interactions`).
    Google,
    /// Gradium text-to-speech over a WebSocket (`/api/speech/tts`).
    Gradium,
}

/// What an audio call asks for, whoever serves it; its parameters by the reference's names (`voice`,
/// `speed`, `output_format`, `language`, `prompt`, `temperature`) and Lyria's reference images.
pub(crate) type AudioRequest = MediaRequest<AudioInput>;

/// An audio call's inputs.
#[derive(Debug, Clone)]
pub(crate) struct AudioInput {
    /// The text to speak, or the music prompt.
    pub text: Option<String>,
    /// The audio to transcribe (exactly one is sent; more is refused before any request).
    pub audio: Vec<Artifact>,
    /// Whether a speech stream keeps its audio for its output (`AudioCall::keep_audio`); not sent.
    pub keep_audio: bool,
}

impl Inputs for AudioInput {}

/// What an audio wire module needs to know about the call it serves.
pub(crate) type AudioContext = MediaContext<AudioExtra>;

/// What an audio call adds to its context.
#[derive(Debug, Clone)]
pub(crate) struct AudioExtra {
    /// The output format asked for (after validation), which types raw audio bytes.
    pub format: Option<String>,
    /// Whether a stream keeps its audio for its output (the default), or only hands it out.
    pub keep_audio: bool,
}

impl Modal for AudioExtra {
    const MODALITY: Modality = Modality::Audio;
}

/// A request as an audio API builds it.
#[derive(Debug, Clone)]
pub(crate) struct AudioWireRequest {
    pub body: Body,
    /// The API's own headers (`Accept`).
    pub headers: Vec<(reqwest::header::HeaderName, HeaderValue)>,
    pub url: String,
    /// Parameters set but not carried by this API: dropped, and reported once.
    pub dropped: Vec<String>,
}

impl AudioApi {
    /// The path of `operation` below the provider's base URL (with its query, for ElevenLabs' output
    /// format); `None` when the API does not serve it.
    pub(crate) fn path(self, req: &AudioRequest, stream: bool) -> Result<Option<String>> {
        let op = req.operation;
        Ok(match self {
            AudioApi::OpenAi => openai::path(op).map(str::to_string),
            AudioApi::Groq => (op == Operation::Transcribe).then(|| "/openai/v1/audio/transcriptions".to_string()),
            AudioApi::Mistral => (op == Operation::Transcribe).then(|| "/v1/audio/transcriptions".to_string()),
            AudioApi::ElevenLabs => return elevenlabs::path(op, &req.params, stream),
            #[cfg(feature = "google")]
            AudioApi::Google => google::path(op).map(str::to_string),
            #[cfg(not(feature = "google"))]
            AudioApi::Google => None,
            AudioApi::Gradium => (op == Operation::Speak).then(|| "/api/speech/tts".to_string()),
        })
    }

    /// Whether the API serves `operation` (for the parity table, built by a test: every model of the provider's that
    /// has the operation is then callable).
    #[cfg(test)]
    pub(crate) fn serves(self, operation: Operation) -> bool {
        let req =
            AudioRequest::new(String::new(), operation, AudioInput { text: None, audio: Vec::new(), keep_audio: true });
        matches!(self.path(&req, false), Ok(Some(_)))
    }

    /// The parameters this API carries for `operation`.
    pub(crate) fn carried(self, operation: Operation) -> &'static [&'static str] {
        let speak = operation == Operation::Speak;
        match self {
            AudioApi::OpenAi if speak => &["voice", "speed", "output_format", "prompt"],
            AudioApi::OpenAi | AudioApi::Groq => &["language", "prompt", "temperature"],
            AudioApi::Mistral => &["language", "temperature"],
            AudioApi::ElevenLabs if speak => &["voice", "speed", "output_format", "language"],
            AudioApi::ElevenLabs => &["language", "temperature"],
            AudioApi::Google if speak => &["voice", "language", "output_format"],
            AudioApi::Google => &["reference_images"],
            AudioApi::Gradium => &["voice", "output_format"],
        }
    }

    /// Whether the reply body of a speech request is the audio itself, sent as it is made: such an API
    /// streams whatever its catalog entry says (the stream is the same HTTP body, read as it arrives).
    pub(crate) fn raw_speech(self) -> bool {
        matches!(self, AudioApi::OpenAi | AudioApi::ElevenLabs)
    }

    /// Build the request. Parameters the API does not carry are removed first and listed in
    /// `dropped`.
    pub(crate) async fn build(
        self,
        req: &AudioRequest,
        ctx: &AudioContext,
        stream: bool,
        url: String,
    ) -> Result<AudioWireRequest> {
        let (req, dropped) = req.carried_only(self.carried(req.operation));
        let body = match (self, req.operation) {
            (AudioApi::OpenAi, Operation::Speak) => openai::speech(&req),
            (AudioApi::OpenAi | AudioApi::Groq | AudioApi::Mistral, Operation::Transcribe) => {
                openai::transcription(self, &req).await?
            }
            (AudioApi::ElevenLabs, Operation::Speak) => elevenlabs::speech(&req),
            (AudioApi::ElevenLabs, Operation::Transcribe) => elevenlabs::transcription(&req).await?,
            #[cfg(feature = "google")]
            (AudioApi::Google, Operation::Speak | Operation::Generate) => google::build(&req, stream)?,
            #[cfg(feature = "gradium")]
            (AudioApi::Gradium, Operation::Speak) => Body::Json(gradium::setup(&req)),
            _ => return Err(ctx.unsupported(format!("audio {} on this API", req.operation))),
        };
        let accept = match self {
            AudioApi::Google if stream => Some("text/event-stream"),
            _ => None,
        };
        let headers = accept.map(|a| (reqwest::header::ACCEPT, HeaderValue::from_static(a))).into_iter().collect();
        Ok(AudioWireRequest { body, headers, url, dropped })
    }

    /// Decode the reply of a speech or music request; `content_type` is the reply's header.
    pub(crate) fn parse_audio(
        self,
        body: Bytes,
        content_type: Option<&str>,
        ctx: &AudioContext,
    ) -> Result<Output<Audio>> {
        match self {
            #[cfg(feature = "google")]
            AudioApi::Google => google::parse(&body, ctx),
            _ => {
                if body.is_empty() {
                    return Err(Error::decode("an audio response", "the body is empty", &body));
                }
                let mut out = Output::new(raw_audio(self, body, content_type, ctx), ctx.metadata());
                out.finish_reason = Some(crate::types::usage::FinishReason::from_raw("completed"));
                Ok(out)
            }
        }
    }

    /// Decode the reply of a transcription.
    pub(crate) fn parse_transcript(self, body: &Bytes, ctx: &AudioContext) -> Result<Output<String>> {
        match self {
            AudioApi::ElevenLabs => elevenlabs::parse_transcript(body, ctx),
            _ => openai::parse_transcript(body, ctx),
        }
    }

    /// How the API's stream is framed.
    pub(crate) fn framing(self, max_event_size: usize) -> Framing {
        match self {
            AudioApi::Google => Framing::Sse(crate::transport::sse::SseDecoder::new(max_event_size)),
            AudioApi::Gradium => Framing::Ndjson(crate::transport::ndjson::NdjsonDecoder::new(max_event_size)),
            _ => Framing::Raw(None),
        }
    }

    /// A decoder for the API's stream.
    pub(crate) fn decoder(self, ctx: AudioContext) -> Result<Box<dyn Decoder<Bytes, Audio>>> {
        match self {
            AudioApi::OpenAi | AudioApi::ElevenLabs => Ok(Box::new(RawAudioDecoder::new(self, ctx))),
            // Its decoder is made with the socket (`call::audio`), which it shares a slot with.
            AudioApi::Gradium => Err(ctx.unsupported("a Gradium stream without its socket")),
            #[cfg(feature = "google")]
            AudioApi::Google => Ok(Box::new(google::AudioDecoder::new(ctx))),
            _ => Err(ctx.unsupported(format!("streaming with model {}", ctx.model))),
        }
    }
}

/// The MIME type and sample rate of raw speech bytes: the reply's `Content-Type` when it names a known
/// audio type, else the requested format, else the bytes' own signature.
fn raw_type(
    api: AudioApi,
    content_type: Option<&str>,
    ctx: &AudioContext,
    bytes: &[u8],
) -> (Option<MimeType>, Option<u32>) {
    let (format_mime, format_rate) = match api {
        AudioApi::ElevenLabs => elevenlabs::format_type(ctx.extra.format.as_deref()),
        _ => openai::format_type(ctx.extra.format.as_deref()),
    };
    let header = content_type
        .and_then(|c| c.parse::<MimeType>().ok())
        .filter(|m| m.as_str().starts_with("audio/") && !matches!(m, MimeType::Other(_)));
    let mime = header.or(format_mime).or_else(|| MimeType::sniff(bytes));
    (mime, format_rate.or_else(|| content_type.and_then(crate::types::audio::mime_rate)))
}

/// Raw speech bytes as audio, typed as [`raw_type`] says.
fn raw_audio(api: AudioApi, bytes: Bytes, content_type: Option<&str>, ctx: &AudioContext) -> Audio {
    let (mime, rate) = raw_type(api, content_type, ctx, &bytes);
    typed_audio(bytes, mime, rate)
}

/// Audio bytes with their MIME type and sample rate, when known (a rate the type itself gives wins).
pub(crate) fn typed_audio(bytes: Bytes, mime: Option<MimeType>, rate: Option<u32>) -> Audio {
    let mut artifact = Artifact::from_bytes(bytes);
    if let Some(m) = mime {
        artifact = artifact.with_mime_type(m);
    }
    let mut audio = Audio::new(artifact);
    audio.sample_rate = audio.sample_rate.or(rate);
    audio
}

/// The audio of a stream, kept for its output as the chunks handed out: each a `Bytes` (a
/// reference-counted view of its buffer, never copied when kept), made into the output's one buffer
/// once, at its exact size, when the stream ends (no copy at all for a single chunk). Copying every
/// chunk into a growing buffer instead would copy the audio once per chunk as it arrives, and again
/// whenever the buffer grows.
///
/// A stream asked not to keep its audio (`keep_audio(false)`) keeps only its first chunk, which types
/// the output (MIME sniffing, a WAV header), and [`AudioParts::strip`] drops those bytes from it.
pub(crate) struct AudioParts {
    parts: Vec<Bytes>,
    len: usize,
    keep: bool,
    /// Every byte handed out, kept or not (not reset by `take`): the length of audio not kept.
    handed_out: usize,
}

impl Default for AudioParts {
    fn default() -> Self {
        AudioParts::new(true)
    }
}

impl AudioParts {
    /// Parts that keep the whole audio (`keep`), or only the first chunk.
    pub(crate) fn new(keep: bool) -> Self {
        AudioParts { parts: Vec::new(), len: 0, keep, handed_out: 0 }
    }

    /// Keeps a chunk (a no-op for an empty one).
    pub(crate) fn push(&mut self, chunk: &Bytes) {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.handed_out += chunk.len();
            if self.keep || self.parts.is_empty() {
                self.parts.push(chunk.clone());
            }
        }
    }

    /// Whether no audio came at all (kept or not).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole audio, in one buffer (only the first chunk when the audio is not kept); the parts
    /// are released.
    pub(crate) fn take(&mut self) -> Bytes {
        let len = std::mem::take(&mut self.len);
        match std::mem::take(&mut self.parts).as_mut_slice() {
            [] => Bytes::new(),
            [one] => std::mem::take(one),
            parts => {
                let mut all = BytesMut::with_capacity(len);
                for p in parts.iter() {
                    all.extend_from_slice(p);
                }
                all.freeze()
            }
        }
    }

    /// Drop the bytes from an output typed by [`AudioParts::take`] when the audio was not kept: the
    /// output then says what the audio was (its type, rate, and what the provider reported; a WAV's
    /// duration from its header and the length handed out) without holding it.
    pub(crate) fn strip(&self, audio: &mut Audio) {
        if self.keep {
            return;
        }
        if let Some(head) = audio.artifact.data.take()
            && let Some(wav) = crate::types::audio::wav_info_sized(&head, self.handed_out)
        {
            audio.duration = Some(wav.duration);
        }
    }
}

/// Keep a piece of a stream's audio and yield it as a chunk; an empty piece is neither.
pub(crate) fn push_audio(all: &mut AudioParts, piece: Bytes, out: &mut VecDeque<Chunk<Bytes>>) {
    if !piece.is_empty() {
        all.push(&piece);
        out.push_back(Chunk::content(piece));
    }
}

/// A stream whose body is the audio: every read is a chunk, handed out as it arrived, and the output
/// is all of them ([`AudioParts`]).
pub(crate) struct RawAudioDecoder {
    api: AudioApi,
    ctx: AudioContext,
    audio: AudioParts,
}

impl RawAudioDecoder {
    pub(crate) fn new(api: AudioApi, ctx: AudioContext) -> Self {
        RawAudioDecoder { api, audio: AudioParts::new(ctx.extra.keep_audio), ctx }
    }
}

impl Decoder<Bytes, Audio> for RawAudioDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<Bytes>>) -> Result<()> {
        if let Frame::Raw(b) = frame {
            push_audio(&mut self.audio, b, out);
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        false
    }

    fn finish(&mut self) -> Result<Output<Audio>> {
        // A raw body has no terminal event: the end of the body is the end of the audio, and an empty
        // one is no audio at all.
        if self.audio.is_empty() {
            return Err(self.ctx.truncated("the audio stream ended with no audio"));
        }
        let mut out = self.api.parse_audio(self.audio.take(), None, &self.ctx)?;
        self.audio.strip(&mut out.content);
        Ok(out)
    }
}

/// One audio input as a multipart file field: read without blocking, typed by its MIME type or its
/// bytes (the caller checked it is audio).
pub(crate) async fn audio_file(name: &'static str, a: &Artifact) -> Result<FormField> {
    let bytes = a.read_bytes().await.map_err(|e| Error::invalid_input(format!("the audio input: {e}")))?;
    let mime = a.mime_type.clone().or_else(|| MimeType::sniff(&bytes)).or_else(|| a.mime());
    let mime = mime.map(|m| m.as_str().to_string()).unwrap_or_else(|| "application/octet-stream".into());
    let ext = match mime.as_str() {
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/x-ms-wma" => "wma",
        m => m.rsplit('/').next().unwrap_or("bin"),
    };
    let filename = a
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .map_or_else(|| format!("audio.{ext}"), str::to_string);
    Ok(FormField::File { name, bytes, filename, mime })
}

/// A parameter as form text: strings as they are, numbers and booleans as JSON writes them.
pub(crate) fn form_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;

/// The audio API `provider` serves, if it is compiled in.
#[cfg_attr(not(feature = "all-providers"), allow(clippy::match_single_binding, reason = "no provider compiled in"))]
pub(crate) fn api_for(provider: crate::types::enums::Provider) -> Option<AudioApi> {
    #[allow(unused_imports, reason = "used by the arms of providers compiled into the build")]
    use crate::types::enums::Provider;
    match provider {
        #[cfg(feature = "openai")]
        Provider::OpenAi => Some(AudioApi::OpenAi),
        #[cfg(feature = "groq")]
        Provider::Groq => Some(AudioApi::Groq),
        #[cfg(feature = "mistral")]
        Provider::Mistral => Some(AudioApi::Mistral),
        #[cfg(feature = "elevenlabs")]
        Provider::ElevenLabs => Some(AudioApi::ElevenLabs),
        #[cfg(feature = "google")]
        Provider::Google => Some(AudioApi::Google),
        #[cfg(feature = "gradium")]
        Provider::Gradium => Some(AudioApi::Gradium),
        _ => None,
    }
}
