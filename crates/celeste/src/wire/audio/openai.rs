//! OpenAI Audio and the transcription APIs that copy it (Groq, Mistral Voxtral).
//!
//! Speech: `POST /v1/audio/speech` with JSON `{model, input, voice, speed, response_format,
//! instructions}`; the reply body is the audio, sent in chunks as it is synthesised (so a stream is
//! the same request read as it arrives). The format is asked for by name (`mp3`, `opus`, `aac`,
//! `flac`, `wav`, `pcm`: 24 kHz 16-bit mono, no header); the reply's `Content-Type` types it when it
//! names a known audio type, else the requested format does.
//!
//! Transcription: `POST {prefix}/audio/transcriptions`, multipart `file`, `model`, `language`
//! (`languages[]` for `gpt-transcribe`), `prompt`, `temperature`, and `response_format=json` for
//! OpenAI and Groq. The reply is `{text, usage}` where usage is `{type: "duration", seconds}` or
//! `{type: "tokens", input_tokens, output_tokens, total_tokens}`; Mistral reports
//! `{prompt_audio_seconds, prompt_tokens, completion_tokens, total_tokens}`; a `text/plain` reply
//! (Groq's `response_format=text`) is the transcript itself.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AudioApi, AudioContext, AudioRequest, audio_file, form_text};
use crate::error::{Error, Result};
use crate::types::enums::Operation;
use crate::types::mime::MimeType;
use crate::types::output::Output;
use crate::types::usage::{FinishReason, Usage};
use crate::wire::images::{Body, FormField};

/// The voice sent when none is chosen: the API requires one.
pub(crate) const DEFAULT_VOICE: &str = "alloy";

/// The path of an operation.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Speak => Some("/v1/audio/speech"),
        Operation::Transcribe => Some("/v1/audio/transcriptions"),
        _ => None,
    }
}

/// The API's `response_format` name of a catalog output format (a MIME type).
fn response_format(format: &str) -> &str {
    match format {
        "audio/mpeg" => "mp3",
        "audio/ogg" => "opus",
        "audio/aac" => "aac",
        "audio/flac" => "flac",
        "audio/wav" => "wav",
        "audio/pcm" => "pcm",
        other => other,
    }
}

/// The MIME type and sample rate of a requested output format (MP3, the API's default, when none).
pub(crate) fn format_type(format: Option<&str>) -> (Option<MimeType>, Option<u32>) {
    match format {
        None => (Some(MimeType::AudioMpeg), None),
        // Raw PCM is 24 kHz 16-bit little-endian mono.
        Some("audio/pcm" | "pcm") => (Some(MimeType::AudioPcm), Some(24_000)),
        Some(f) => (f.parse().ok().filter(|m: &MimeType| m.as_str().starts_with("audio/")), None),
    }
}

/// The speech request body.
pub(crate) fn speech(req: &AudioRequest) -> Body {
    let p = &req.params;
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("input".into(), json!(req.input.text.clone().unwrap_or_default()));
    body.insert("voice".into(), p.get("voice").cloned().unwrap_or_else(|| json!(DEFAULT_VOICE)));
    if let Some(speed) = p.get("speed") {
        body.insert("speed".into(), speed.clone());
    }
    if let Some(f) = p.str("output_format") {
        body.insert("response_format".into(), json!(response_format(f)));
    }
    if let Some(i) = p.get("prompt") {
        body.insert("instructions".into(), i.clone());
    }
    Body::Json(Value::Object(body))
}

/// The transcription form, for OpenAI, Groq and Mistral.
pub(crate) async fn transcription(api: AudioApi, req: &AudioRequest) -> Result<Body> {
    let audio = req.input.audio.first().ok_or_else(|| Error::invalid_input("audio transcribe: no audio given"))?;
    let mut fields = vec![audio_file("file", audio).await?, FormField::Text("model", req.model.clone())];
    let p = &req.params;
    if let Some(lang) = p.get("language") {
        // `gpt-transcribe` takes a list of languages (1.0.0 sends the one as `languages[]`).
        let name = if api == AudioApi::OpenAi && req.model == "gpt-transcribe" { "languages[]" } else { "language" };
        fields.push(FormField::Text(name, form_text(lang)));
    }
    for name in ["prompt", "temperature"] {
        if let Some(v) = p.get(name) {
            fields.push(FormField::Text(name, form_text(v)));
        }
    }
    if matches!(api, AudioApi::OpenAi | AudioApi::Groq) {
        fields.push(FormField::Text("response_format", "json".into()));
    }
    Ok(Body::Form(fields))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Transcript {
    text: Option<String>,
    model: Option<String>,
    /// `verbose_json` replies give the audio's length here.
    duration: Option<f64>,
    usage: Option<Value>,
    /// Groq's request id.
    x_groq: Option<Value>,
}

/// Usage of a transcription, in whichever of the three shapes it comes.
fn usage(raw: Option<Value>, duration: Option<f64>) -> Usage {
    let mut u = Usage::default();
    if let Some(v) = &raw {
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        let f = |k: &str| v.get(k).and_then(Value::as_f64);
        u.seconds = f("seconds").or_else(|| f("prompt_audio_seconds"));
        u.input_tokens = n("input_tokens").or_else(|| n("prompt_tokens"));
        u.output_tokens = n("output_tokens").or_else(|| n("completion_tokens"));
        u.total_tokens = n("total_tokens");
    }
    u.seconds = u.seconds.or(duration);
    u.raw = raw.filter(|v| !v.is_null()).map(crate::types::usage::RawJson::from);
    u
}

/// Decode a transcription reply.
pub(crate) fn parse_transcript(body: &Bytes, ctx: &AudioContext) -> Result<Output<String>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let mut meta = ctx.metadata();
    meta.raw_response = Some(body.clone());
    if first != Some(&b'{') {
        // A plain-text reply is the transcript.
        let text = std::str::from_utf8(body).map_err(|e| Error::decode("a transcription", e, body))?;
        let mut out = Output::new(text.trim_end_matches(['\r', '\n']).to_string(), meta);
        out.finish_reason = Some(FinishReason::from_raw("completed"));
        return Ok(out);
    }
    let t: Transcript = serde_json::from_slice(body).map_err(|e| Error::decode("a transcription", e, body))?;
    let text = t.text.ok_or_else(|| Error::decode("a transcription", "it has no `text`", body))?;
    meta.response_model = t.model;
    meta.response_id = t.x_groq.as_ref().and_then(|x| x.get("id")).and_then(Value::as_str).map(str::to_string);
    let mut out = Output::new(text, meta);
    out.usage = usage(t.usage, t.duration);
    out.finish_reason = Some(FinishReason::from_raw("completed"));
    Ok(out)
}
