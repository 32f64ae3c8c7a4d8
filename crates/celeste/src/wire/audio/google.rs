//! Gemini TTS models (speak) and Lyria (music generate) through the Interactions API:
//! `POST /v1beta/interactions`, unary or streamed as SSE.
//!
//! The request is one `user_input` step whose content is the text (Lyria: the reference images, then
//! the prompt), `response_format: {type: "audio", mime_type}` and, for speech,
//! `generation_config.speech_config: [{voice, language}]` with the language as a locale (`en` →
//! `en-US`, as the reference maps it). The audio comes back as `audio` content of the `model_output`
//! steps (base64 `data` or a `uri`, the last one wins, as in the reference); a stream sends it as
//! `step.delta` events with base64 `audio` deltas and ends with `interaction.completed`. Lyria's text
//! parts (lyrics, song structure) are kept on [`Audio::text`].

use std::collections::VecDeque;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AudioContext, AudioParts, AudioRequest, push_audio};
use crate::error::{Error, Result};
use crate::stream::{Decoder, Frame};
use crate::types::artifact::Artifact;
use crate::types::audio::{Audio, mime_rate};
use crate::types::enums::Operation;
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, Output};
use crate::types::usage::{FinishReason, Usage};
use crate::wire::google::{Media, google_error, media};
use crate::wire::images::Body;
use crate::wire::images::google::Interaction;
use crate::wire::kit::{ended, json_event};

/// The path of an operation.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    matches!(operation, Operation::Speak | Operation::Generate).then_some("/v1beta/interactions")
}

/// The locale Gemini TTS takes for a language code of the catalog: the language's main locale where
/// it has one, else the code as it is (already a locale, or one Gemini takes bare).
pub(crate) fn locale(language: &str) -> String {
    const LOCALES: &[(&str, &str)] = &[
        ("ar", "ar-EG"),
        ("bn", "bn-BD"),
        ("cmn", "cmn-CN"),
        ("de", "de-DE"),
        ("en", "en-US"),
        ("es", "es-US"),
        ("fr", "fr-FR"),
        ("hi", "hi-IN"),
        ("id", "id-ID"),
        ("it", "it-IT"),
        ("ja", "ja-JP"),
        ("ko", "ko-KR"),
        ("mr", "mr-IN"),
        ("nl", "nl-NL"),
        ("pl", "pl-PL"),
        ("pt", "pt-BR"),
        ("ro", "ro-RO"),
        ("ru", "ru-RU"),
        ("ta", "ta-IN"),
        ("te", "te-IN"),
        ("th", "th-TH"),
        ("tr", "tr-TR"),
        ("uk", "uk-UA"),
        ("vi", "vi-VN"),
    ];
    LOCALES.iter().find(|(code, _)| *code == language).map_or_else(|| language.to_string(), |(_, l)| l.to_string())
}

/// The wire MIME name of a catalog output format (`audio/pcmu` is `audio/mulaw` here).
fn wire_mime(format: &str) -> &str {
    match format {
        "audio/mpeg" => "audio/mp3",
        "audio/pcmu" => "audio/mulaw",
        "audio/pcma" => "audio/alaw",
        other => other,
    }
}

/// The request body.
pub(crate) fn build(req: &AudioRequest, stream: bool) -> Result<Body> {
    let p = &req.params;
    let mut content = Vec::with_capacity(1 + p.reference_images.len());
    for a in &p.reference_images {
        content.push(match media(a)? {
            Media::Inline { mime, data } => json!({"type": "image", "data": data, "mime_type": mime}),
            Media::Uri { uri, mime: Some(mime) } => json!({"type": "image", "uri": uri, "mime_type": mime}),
            Media::Uri { uri, mime: None } => json!({"type": "image", "uri": uri}),
        });
    }
    content.push(json!({"type": "text", "text": req.input.text.clone().unwrap_or_default()}));
    let mut format = Map::new();
    format.insert("type".into(), "audio".into());
    if let Some(f) = p.str("output_format") {
        format.insert("mime_type".into(), wire_mime(f).into());
    }
    let mut body = json!({
        "model": req.model,
        "input": [{"type": "user_input", "content": content}],
        "response_format": format,
        "stream": stream,
    });
    let mut speech = Map::new();
    if let Some(v) = p.str("voice") {
        speech.insert("voice".into(), v.into());
    }
    if let Some(l) = p.str("language") {
        speech.insert("language".into(), locale(l).into());
    }
    if !speech.is_empty() {
        body["generation_config"] = json!({ "speech_config": [speech] });
    }
    Ok(Body::Json(body))
}

/// Usage from an interaction's usage object.
fn usage(raw: Option<Value>) -> Usage {
    let mut u = Usage::default();
    if let Some(v) = &raw {
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        u.input_tokens = n("total_input_tokens");
        u.output_tokens = n("total_output_tokens");
        u.total_tokens = n("total_tokens");
    }
    u.raw = raw.filter(|v| !v.is_null()).map(crate::types::usage::RawJson::from);
    u
}

/// The audio of a content item or delta, if it is audio: its bytes or URL, and its MIME type.
fn item_audio(item: &Value) -> Result<Option<(Artifact, Option<String>)>> {
    crate::wire::google::content_media(item, "audio", "Interactions audio")
}

/// Audio from its artifact and the MIME type the server gave (with any `rate=`).
fn typed(artifact: Artifact, mime: Option<&str>, extra_rate: Option<u32>) -> Audio {
    let parsed = mime.and_then(|m| m.parse::<MimeType>().ok());
    let parsed = parsed.or_else(|| artifact.data.as_deref().and_then(MimeType::sniff));
    let artifact = match parsed {
        Some(m) => artifact.with_mime_type(m),
        None => artifact,
    };
    let mut audio = Audio::new(artifact);
    audio.sample_rate = audio.sample_rate.or_else(|| mime.and_then(mime_rate)).or(extra_rate);
    audio
}

/// Decode a unary reply: the last audio block of its output steps, and their text in order.
pub(crate) fn parse(body: &Bytes, ctx: &AudioContext) -> Result<Output<Audio>> {
    let r: Interaction =
        serde_json::from_slice(body).map_err(|e| Error::decode("an Interactions audio response", e, body))?;
    let mut last = None;
    let mut text = Vec::new();
    for step in r.steps.iter().filter(|s| s.get("type").and_then(Value::as_str) == Some("model_output")) {
        for item in step.get("content").and_then(Value::as_array).into_iter().flatten() {
            match item_audio(item)? {
                Some(found) => last = Some(found),
                None => text.extend(item.get("text").and_then(Value::as_str).map(str::to_string)),
            }
        }
    }
    let Some((artifact, mime)) = last else {
        let why = match text.join("").trim() {
            "" => "it holds no audio".to_string(),
            said => format!("it holds no audio; the model said: {said}"),
        };
        return Err(Error::decode("an Interactions audio response", why, body));
    };
    let mut audio = typed(artifact, mime.as_deref(), None);
    audio.text = text;
    let mut meta = ctx.metadata();
    meta.response_id = r.id;
    meta.response_model = r.model;
    meta.raw_response = Some(body.clone());
    let mut out = Output::new(audio, meta);
    out.usage = usage(r.usage);
    out.finish_reason = Some(FinishReason::from_raw(r.status.as_deref().unwrap_or("completed")));
    Ok(out)
}

/// One stream event.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Event {
    event_type: Option<String>,
    step: Option<Value>,
    content: Option<Value>,
    delta: Option<Value>,
    interaction: Option<Value>,
    error: Option<Value>,
}

/// The stream state: audio deltas decoded and concatenated; the type and rate of the first one.
pub(crate) struct AudioDecoder {
    ctx: AudioContext,
    audio: AudioParts,
    mime: Option<String>,
    rate: Option<u32>,
    text: Vec<String>,
    usage: Option<Usage>,
    id: Option<String>,
    model: Option<String>,
    status: Option<String>,
    terminal: bool,
}

impl AudioDecoder {
    pub(crate) fn new(ctx: AudioContext) -> Self {
        AudioDecoder {
            audio: AudioParts::new(ctx.extra.keep_audio),
            ctx,
            mime: None,
            rate: None,
            text: Vec::new(),
            usage: None,
            id: None,
            model: None,
            status: None,
            terminal: false,
        }
    }

    /// An audio or text item (a delta, or content of a starting step).
    fn on_item(&mut self, item: &Value, out: &mut VecDeque<Chunk<Bytes>>) -> Result<()> {
        match item_audio(item)? {
            Some((artifact, mime)) => {
                let Some(data) = artifact.data else {
                    return Err(Error::decode("an Interactions audio delta", "audio by URL in a stream", b""));
                };
                if self.mime.is_none() {
                    self.mime = mime;
                    self.rate = item.get("rate").and_then(Value::as_u64).and_then(|r| u32::try_from(r).ok());
                }
                push_audio(&mut self.audio, data, out);
            }
            None => {
                if item.get("type").and_then(Value::as_str) == Some("text")
                    && let Some(t) = item.get("text").and_then(Value::as_str)
                {
                    self.text.push(t.to_string());
                }
            }
        }
        Ok(())
    }

    fn wire_ctx(&self) -> crate::wire::WireContext {
        crate::wire::WireContext {
            origin: self.ctx.origin,
            model: self.ctx.model.clone(),
            operation: self.ctx.operation,
        }
    }
}

impl Decoder<Bytes, Audio> for AudioDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<Bytes>>) -> Result<()> {
        let Some(ev) = json_event(frame) else { return Ok(()) };
        let e: Event = serde_json::from_slice(&ev.data)
            .map_err(|err| Error::decode("an Interactions audio event", err, &ev.data))?;
        match e.event_type.as_deref().unwrap_or_default() {
            "step.start" | "content.start" => {
                let step = e.step.or(e.content).unwrap_or(Value::Null);
                for item in step.get("content").and_then(Value::as_array).into_iter().flatten() {
                    self.on_item(item, out)?;
                }
            }
            "step.delta" | "content.delta" => {
                if let Some(d) = &e.delta {
                    self.on_item(d, out)?;
                }
            }
            "interaction.created" | "interaction.start" => {
                if let Some(i) = &e.interaction {
                    self.id = i.get("id").and_then(Value::as_str).map(str::to_string);
                    self.model = i.get("model").and_then(Value::as_str).map(str::to_string);
                }
            }
            "interaction.completed" | "interaction.complete" => {
                if let Some(i) = e.interaction {
                    self.usage = Some(usage(i.get("usage").cloned()));
                    self.status = i.get("status").and_then(Value::as_str).map(str::to_string);
                    if let Some(id) = i.get("id").and_then(Value::as_str) {
                        self.id = Some(id.to_string());
                    }
                }
                self.terminal = true;
            }
            "error" => {
                let err = e.error.unwrap_or(Value::Null);
                return Err(google_error(&self.wire_ctx(), &err, &ev.data));
            }
            _ => {}
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.terminal
    }

    fn finish(&mut self) -> Result<Output<Audio>> {
        ended(self.terminal, self.ctx.origin, "no interaction.completed event")?;
        if self.audio.is_empty() {
            return Err(Error::decode("an Interactions audio stream", "it held no audio", b""));
        }
        let artifact = Artifact::from_bytes(self.audio.take());
        let mut audio = typed(artifact, self.mime.as_deref(), self.rate);
        self.audio.strip(&mut audio);
        audio.text = std::mem::take(&mut self.text);
        let mut meta = self.ctx.metadata();
        meta.response_id = self.id.take();
        meta.response_model = self.model.take();
        let mut out = Output::new(audio, meta);
        out.usage = self.usage.take().unwrap_or_default();
        out.finish_reason = Some(FinishReason::from_raw(self.status.as_deref().unwrap_or("completed")));
        Ok(out)
    }
}
