//! ElevenLabs text-to-speech and Scribe speech-to-text.
//!
//! Speech: `POST /v1/text-to-speech/{voice_id}` (or `.../stream`, which sends the audio as it is
//! made), JSON `{text, model_id, voice_settings: {speed}, language_code}`, and the output format as the
//! `?output_format=` query parameter (`mp3_44100_128`, `pcm_24000`, `wav_44100`, `opus_48000_64`,
//! ...). The reply body is the audio. Without a voice, the reference's default voice is used.
//!
//! Transcription: `POST /v1/speech-to-text`, multipart `file`, `model_id`, `language_code`,
//! `temperature`; the reply is `{text, language_code, words: [{text, start, end, ...}],
//! transcription_id}`. Its duration is where the last word ends.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AudioContext, AudioRequest, audio_file, form_text};
use crate::error::{Error, Result};
use crate::types::enums::Operation;
use crate::types::media::ImageParams;
use crate::types::mime::MimeType;
use crate::types::output::Output;
use crate::types::usage::{FinishReason, Usage};
use crate::wire::images::{Body, FormField};

/// The voice of the reference's 1.0.0 when none is chosen.
pub(crate) const DEFAULT_VOICE: &str = "eLDc7xhWxG2FElT3kUTj";

/// The path (with the output format's query) of an operation; the voice id must be a path segment.
pub(crate) fn path(operation: Operation, params: &ImageParams, stream: bool) -> Result<Option<String>> {
    match operation {
        Operation::Speak => {
            let voice = params.str("voice").unwrap_or(DEFAULT_VOICE);
            let segment = crate::transport::urls::path_segment(voice)
                .map_err(|why| Error::invalid_input(format!("the voice id {voice:?} cannot be used: {why}")))?;
            let mut path = format!("/v1/text-to-speech/{segment}");
            if stream {
                path.push_str("/stream");
            }
            if let Some(f) = params.str("output_format") {
                let f = crate::transport::urls::path_segment(f)
                    .map_err(|why| Error::invalid_input(format!("the output format {f:?} cannot be used: {why}")))?;
                path.push_str("?output_format=");
                path.push_str(&f);
            }
            Ok(Some(path))
        }
        Operation::Transcribe => Ok(Some("/v1/speech-to-text".into())),
        _ => Ok(None),
    }
}

/// The MIME type and sample rate of an output format (`codec_rate[_bitrate]`); MP3 at 44.1 kHz, the
/// API's default, when none is asked for.
pub(crate) fn format_type(format: Option<&str>) -> (Option<MimeType>, Option<u32>) {
    let format = format.unwrap_or("mp3_44100_128");
    let mut parts = format.split('_');
    let codec = parts.next().unwrap_or_default();
    let rate = parts.next().and_then(|r| r.parse().ok());
    let mime = match codec {
        "mp3" => MimeType::AudioMpeg,
        "pcm" => MimeType::AudioPcm,
        "wav" => MimeType::AudioWav,
        "opus" => MimeType::AudioOgg,
        "ulaw" => MimeType::Other("audio/pcmu".into()),
        "alaw" => MimeType::Other("audio/pcma".into()),
        _ => return (None, rate),
    };
    (Some(mime), rate)
}

/// The speech request body.
pub(crate) fn speech(req: &AudioRequest) -> Body {
    let p = &req.params;
    let mut body = Map::new();
    body.insert("text".into(), json!(req.input.text.clone().unwrap_or_default()));
    body.insert("model_id".into(), json!(req.model));
    if let Some(speed) = p.get("speed") {
        body.insert("voice_settings".into(), json!({ "speed": speed }));
    }
    if let Some(lang) = p.get("language") {
        body.insert("language_code".into(), lang.clone());
    }
    Body::Json(Value::Object(body))
}

/// The Scribe form.
pub(crate) async fn transcription(req: &AudioRequest) -> Result<Body> {
    let audio = req.input.audio.first().ok_or_else(|| Error::invalid_input("audio transcribe: no audio given"))?;
    let mut fields = vec![audio_file("file", audio).await?, FormField::Text("model_id", req.model.clone())];
    if let Some(lang) = req.params.get("language") {
        fields.push(FormField::Text("language_code", form_text(lang)));
    }
    if let Some(t) = req.params.get("temperature") {
        fields.push(FormField::Text("temperature", form_text(t)));
    }
    Ok(Body::Form(fields))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Transcript {
    text: Option<String>,
    words: Vec<Word>,
    transcription_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Word {
    end: Option<f64>,
}

/// Decode a Scribe reply.
pub(crate) fn parse_transcript(body: &Bytes, ctx: &AudioContext) -> Result<Output<String>> {
    let t: Transcript =
        serde_json::from_slice(body).map_err(|e| Error::decode("an ElevenLabs transcription", e, body))?;
    let text = t.text.ok_or_else(|| Error::decode("an ElevenLabs transcription", "it has no `text`", body))?;
    let mut meta = ctx.metadata();
    meta.response_id = t.transcription_id;
    meta.raw_response = Some(body.clone());
    let mut out = Output::new(text, meta);
    out.usage = Usage {
        seconds: t.words.iter().filter_map(|w| w.end).filter(|e| e.is_finite()).reduce(f64::max),
        ..Usage::default()
    };
    out.finish_reason = Some(FinishReason::from_raw("completed"));
    Ok(out)
}
