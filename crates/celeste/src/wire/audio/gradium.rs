//! Gradium text-to-speech over one WebSocket: `wss://{region}.api.gradium.ai/api/speech/tts` with the
//! `x-api-key` header.
//!
//! The client sends a setup message first, `{type: "setup", model_name, voice_id, output_format}`
//! (plus the caller's extra body, e.g. `json_config`), and waits for `{type: "ready"}`; then the text,
//! `{type: "text", text}`, and `{type: "end_of_stream"}`. The server answers with `{type: "audio",
//! audio: base64}` frames and its own `{type: "end_of_stream"}`; a failure is `{type: "error",
//! message, code}` (or a close frame with an error code, typed by the transport). Each server message
//! becomes one line for the stream machine's NDJSON framing; a transport failure travels beside the
//! lines (see [`TransportFailure`]) so that it keeps its type.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AudioContext, AudioParts, AudioRequest, push_audio, typed_audio};
use crate::error::{Error, Result, StreamEventError};
use crate::stream::{Decoder, Frame};
use crate::types::artifact::Artifact;
use crate::types::audio::Audio;
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, Output};
use crate::types::usage::FinishReason;
use crate::wire::kit::ended;

/// The path of the text-to-speech socket.
pub(crate) const PATH: &str = "/api/speech/tts";

/// Gradium's documented default voice (Emma), sent when none is chosen.
pub(crate) const DEFAULT_VOICE: &str = "YTpq7expH9539ERJ";

/// The format asked for when none is chosen.
pub(crate) const DEFAULT_FORMAT: &str = "wav";

/// The socket's URL below `base`: an `http(s)` base becomes `ws(s)` (as the reference's 1.0.0 does).
pub(crate) fn url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = match base.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some(("http", rest)) => format!("ws://{rest}"),
        _ => base.to_string(),
    };
    format!("{base}{PATH}")
}

/// The setup message.
pub(crate) fn setup(req: &AudioRequest) -> Value {
    let p = &req.params;
    let mut m = Map::new();
    m.insert("type".into(), json!("setup"));
    m.insert("model_name".into(), json!(req.model));
    m.insert("voice_id".into(), json!(p.str("voice").unwrap_or(DEFAULT_VOICE)));
    m.insert("output_format".into(), json!(p.str("output_format").unwrap_or(DEFAULT_FORMAT)));
    Value::Object(m)
}

/// The text message and the end of the input.
pub(crate) fn text_messages(req: &AudioRequest) -> [String; 2] {
    let text = json!({"type": "text", "text": req.input.text.clone().unwrap_or_default()});
    [text.to_string(), json!({"type": "end_of_stream"}).to_string()]
}

/// The MIME type and sample rate of an output format (the reference's map: `pcm*` is raw PCM,
/// `ulaw_8000` μ-law, `alaw_8000` A-law; bare `pcm` is 48 kHz).
pub(crate) fn format_type(format: Option<&str>) -> (Option<MimeType>, Option<u32>) {
    match format.unwrap_or(DEFAULT_FORMAT) {
        "wav" => (Some(MimeType::AudioWav), None),
        "opus" => (Some(MimeType::AudioOgg), Some(48_000)),
        "pcm" => (Some(MimeType::AudioPcm), Some(48_000)),
        "ulaw_8000" => (Some(MimeType::Other("audio/pcmu".into())), Some(8000)),
        "alaw_8000" => (Some(MimeType::Other("audio/pcma".into())), Some(8000)),
        f => match f.strip_prefix("pcm_").and_then(|r| r.parse().ok()) {
            Some(rate) => (Some(MimeType::AudioPcm), Some(rate)),
            None => (None, None),
        },
    }
}

/// A transport failure (a close frame with an error code, a dropped socket, an idle socket), handed
/// from the socket's reader to the decoder beside the lines: the reader puts it here and sends
/// [`FAILURE_LINE`]; the decoder takes it back out when it reads that line.
pub(crate) type TransportFailure = Arc<Mutex<Option<Error>>>;

/// The line that says "the transport failed: take the error from the slot". Gradium never sends a
/// message of this type.
pub(crate) const FAILURE_LINE: &[u8] = b"{\"type\":\"celeste.transport_failure\"}\n";

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message {
    #[serde(rename = "type")]
    kind: Option<String>,
    audio: Option<String>,
    message: Option<String>,
    code: Option<Value>,
    request_id: Option<String>,
}

/// An `error` message as a typed error.
pub(crate) fn error_message(ctx: &AudioContext, raw: &[u8]) -> Error {
    let m: Option<Message> = serde_json::from_slice(raw).ok();
    let message = m.as_ref().and_then(|m| m.message.clone()).unwrap_or_else(|| "the server reported an error".into());
    let code = m.and_then(|m| m.code).map(|c| match c {
        Value::String(s) => s,
        other => other.to_string(),
    });
    Error::StreamEvent(Box::new(StreamEventError {
        origin: ctx.origin,
        error_type: code.map(|c| format!("gradium_error_{c}")),
        message,
        event: crate::error::truncate_lossy(raw, 512),
    }))
}

/// Whether a message is the server's `ready`, and its request id; an `error` instead is an error.
pub(crate) fn ready(ctx: &AudioContext, raw: &[u8]) -> Result<Option<Option<String>>> {
    let m: Message = serde_json::from_slice(raw).map_err(|e| Error::decode("a Gradium message", e, raw))?;
    match m.kind.as_deref() {
        Some("ready") => Ok(Some(m.request_id)),
        Some("error") => Err(error_message(ctx, raw)),
        _ => Ok(None),
    }
}

/// The stream state: audio frames decoded and concatenated, until the server's `end_of_stream`.
pub(crate) struct GradiumDecoder {
    ctx: AudioContext,
    failure: TransportFailure,
    audio: AudioParts,
    request_id: Option<String>,
    terminal: bool,
}

impl GradiumDecoder {
    pub(crate) fn new(ctx: AudioContext, failure: TransportFailure, request_id: Option<String>) -> Self {
        GradiumDecoder { audio: AudioParts::new(ctx.extra.keep_audio), ctx, failure, request_id, terminal: false }
    }
}

impl Decoder<Bytes, Audio> for GradiumDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<Bytes>>) -> Result<()> {
        let Frame::Line(line) = frame else { return Ok(()) };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        if line.trim_ascii() == FAILURE_LINE.trim_ascii() {
            let taken = self.failure.lock().ok().and_then(|mut slot| slot.take());
            return Err(taken.unwrap_or_else(|| self.ctx.truncated("the WebSocket failed")));
        }
        let m: Message = serde_json::from_slice(&line).map_err(|e| Error::decode("a Gradium message", e, &line))?;
        match m.kind.as_deref() {
            Some("audio") => {
                let data = m.audio.unwrap_or_default();
                let bytes = Artifact::from_base64(&data)
                    .map_err(|e| Error::decode("Gradium audio", e, data.as_bytes()))?
                    .data
                    .unwrap_or_default();
                push_audio(&mut self.audio, bytes, out);
            }
            Some("end_of_stream") => self.terminal = true,
            Some("error") => return Err(error_message(&self.ctx, &line)),
            Some("ready") => self.request_id = m.request_id.or(self.request_id.take()),
            _ => {}
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.terminal
    }

    fn finish(&mut self) -> Result<Output<Audio>> {
        ended(self.terminal, self.ctx.origin, "the socket closed before end_of_stream")?;
        let (mime, rate) = format_type(self.ctx.extra.format.as_deref());
        let mut audio = typed_audio(self.audio.take(), mime, rate);
        self.audio.strip(&mut audio);
        let mut meta = self.ctx.metadata();
        meta.response_id = self.request_id.take();
        let mut out = Output::new(audio, meta);
        out.finish_reason = Some(FinishReason::from_raw("completed"));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::enums::{Operation, Provider};
    use crate::wire::audio::{AudioExtra, AudioInput};

    fn ctx(format: Option<&str>) -> AudioContext {
        AudioContext {
            origin: crate::error::Origin::Provider(Provider::Gradium),
            model: "default".into(),
            operation: Operation::Speak,
            extra: AudioExtra { format: format.map(str::to_string), keep_audio: true },
        }
    }

    #[test]
    fn urls_setup_and_formats() {
        assert_eq!(url("wss://eu.api.gradium.ai"), "wss://eu.api.gradium.ai/api/speech/tts");
        assert_eq!(url("https://proxy.example/"), "wss://proxy.example/api/speech/tts");
        assert_eq!(url("http://127.0.0.1:9"), "ws://127.0.0.1:9/api/speech/tts");
        let input = AudioInput { text: Some("Hi".into()), audio: Vec::new(), keep_audio: true };
        let mut req = AudioRequest::new("default".into(), Operation::Speak, input);
        assert_eq!(
            setup(&req),
            json!({"type": "setup", "model_name": "default", "voice_id": DEFAULT_VOICE, "output_format": "wav"})
        );
        req.params.set("voice", "NbpkqMVS3CJeq2j8");
        req.params.set("output_format", "pcm_16000");
        assert_eq!(setup(&req)["voice_id"], "NbpkqMVS3CJeq2j8");
        let sent: Vec<Value> = text_messages(&req).iter().map(|m| serde_json::from_str(m).unwrap()).collect();
        assert_eq!(sent, [json!({"type": "text", "text": "Hi"}), json!({"type": "end_of_stream"})]);
        assert_eq!(format_type(Some("pcm_16000")), (Some(MimeType::AudioPcm), Some(16_000)));
        assert_eq!(format_type(Some("ulaw_8000")).0.unwrap().as_str(), "audio/pcmu");
        assert_eq!(format_type(None).0, Some(MimeType::AudioWav));
    }

    #[test]
    fn frames_to_chunks_errors_and_truncation() {
        let line = |v: Value| Frame::Line(Bytes::from(v.to_string()));
        let slot: TransportFailure = Arc::default();
        let mut d = GradiumDecoder::new(ctx(Some("pcm_24000")), slot.clone(), Some("r1".into()));
        let mut out = VecDeque::new();
        d.on_frame(line(json!({"type": "audio", "audio": "AQID"})), &mut out).unwrap();
        d.on_frame(line(json!({"type": "audio", "audio": "BAU="})), &mut out).unwrap();
        d.on_frame(line(json!({"type": "end_of_stream"})), &mut out).unwrap();
        assert!(d.is_terminal());
        assert_eq!(out.len(), 2);
        let o = d.finish().unwrap();
        assert_eq!(o.content.artifact.data.as_deref(), Some(&[1, 2, 3, 4, 5][..]));
        assert_eq!((o.content.mime(), o.content.sample_rate), (Some(MimeType::AudioPcm), Some(24_000)));
        assert_eq!(o.metadata.response_id.as_deref(), Some("r1"));

        let mut d = GradiumDecoder::new(ctx(None), slot.clone(), None);
        let err = d.on_frame(line(json!({"type": "error", "message": "bad voice", "code": 1008})), &mut out);
        let err = err.unwrap_err();
        assert!(err.to_string().contains("bad voice"), "{err}");
        assert!(matches!(d.finish().unwrap_err(), Error::StreamTruncated { .. }));

        // A transport failure keeps its type.
        *slot.lock().unwrap() = Some(Error::invalid_input("stand-in"));
        let mut d = GradiumDecoder::new(ctx(None), slot, None);
        let err = d.on_frame(Frame::Line(Bytes::from_static(FAILURE_LINE)), &mut out).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(ready(&ctx(None), br#"{"type":"error","message":"no"}"#).is_err());
        assert_eq!(ready(&ctx(None), br#"{"type":"ready","request_id":"x"}"#).unwrap(), Some(Some("x".into())));
    }
}
