//! Gemini omni models (`gemini-omni-*`) through the Interactions API with an API key:
//! `POST /v1beta/interactions`, one request that answers the finished video (no job to poll).
//!
//! The request is one `user_input` step whose content is the input media, then the prompt: the first
//! frame, the last frame, the reference images (`image` items), and for an edit the video (`video`
//! item); `generation_config.video_config.task` says which: `edit`, `image_to_video` (frames) or
//! `reference_to_video` (references). `response_format: {type: "video", aspect_ratio, duration:
//! "{n}s", resolution}`. A last frame needs a first frame (checked before any request).
//!
//! Videos come back as `video` content of the `model_output` steps: base64 `data` with its
//! `mime_type`, or a `uri` on the API's host (fetched with the key by `Client::download`).

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{VideoContext, VideoRequest, json_reply, origin_of, video};
use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::output::Output;
use crate::types::video::{FetchAuth, Video};
use crate::wire::google::{Media, media};
use crate::wire::images::google::Interaction;

/// The parameters omni models carry.
pub(crate) const CARRIED: &[&str] =
    &["aspect_ratio", "resolution", "duration", "first_frame", "last_frame", "reference_images"];

/// The path of an operation (Veo ids have their own API).
pub(crate) fn path(operation: Operation, model: &str) -> Option<&'static str> {
    match operation {
        Operation::Generate | Operation::Edit if !model.starts_with("veo") => Some("/v1beta/interactions"),
        _ => None,
    }
}

/// A media content item of `kind` (`image`, `video`).
fn item(kind: &str, a: &Artifact) -> Result<Value> {
    Ok(match media(a)? {
        Media::Inline { mime, data } => json!({"type": kind, "data": data, "mime_type": mime}),
        Media::Uri { uri, mime: Some(mime) } => json!({"type": kind, "uri": uri, "mime_type": mime}),
        Media::Uri { uri, mime: None } => json!({"type": kind, "uri": uri}),
    })
}

/// The request body.
pub(crate) fn build(req: &VideoRequest, ctx: &VideoContext) -> Result<Value> {
    let p = &req.params;
    let mut content = Vec::with_capacity(4 + p.reference_images.len());
    for a in req.input.first_frame.iter().chain(&req.input.last_frame).chain(&p.reference_images) {
        content.push(item("image", a)?);
    }
    let task = match req.operation {
        Operation::Edit => {
            let v = req.input.video.as_ref().ok_or_else(|| ctx.unsupported("an edit without a video"))?;
            content.push(item("video", v)?);
            Some("edit")
        }
        _ if req.input.first_frame.is_some() || req.input.last_frame.is_some() => Some("image_to_video"),
        _ if !p.reference_images.is_empty() => Some("reference_to_video"),
        _ => None,
    };
    content.push(json!({"type": "text", "text": req.input.prompt}));
    let mut format = Map::new();
    format.insert("type".into(), "video".into());
    if let Some(v) = p.get("aspect_ratio") {
        format.insert("aspect_ratio".into(), v.clone());
    }
    if let Some(d) = p.get("duration") {
        let secs = d.as_f64().map_or_else(|| d.to_string(), |s| format!("{s}s"));
        format.insert("duration".into(), secs.into());
    }
    if let Some(v) = p.get("resolution") {
        format.insert("resolution".into(), v.clone());
    }
    let mut body = json!({
        "model": req.model,
        "input": [{"type": "user_input", "content": content}],
        "response_format": format,
    });
    if let Some(task) = task {
        body["generation_config"] = json!({"video_config": {"task": task}});
    }
    Ok(body)
}

/// Decode a reply: the videos of its output steps, in order. A reply without one says why when the
/// model answered in text instead (a refusal, most often).
pub(crate) fn parse(body: &Bytes, ctx: &VideoContext) -> Result<Output<Vec<Video>>> {
    let r: Interaction = json_reply(body, "an Interactions video response")?;
    let mut videos = Vec::new();
    let mut said = Vec::new();
    let host = crate::transport::urls::parse(&ctx.extra.base).and_then(|u| origin_of(&u));
    for step in r.steps.iter().filter(|s| s.get("type").and_then(Value::as_str) == Some("model_output")) {
        for it in step.get("content").and_then(Value::as_array).into_iter().flatten() {
            let text = |k: &str| it.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            if text("type") != Some("video") {
                said.extend(text("text").map(str::to_string));
                continue;
            }
            let data = match text("data") {
                Some(b64) => Some(super::decode_b64(b64, "an Interactions video")?),
                None => None,
            };
            let Some(mut v) = video(data, text("uri"), text("mime_type"), ctx) else { continue };
            // A Files API URI on the API's host wants the key; any other host gets nothing.
            let url_host =
                v.artifact.url.as_deref().and_then(crate::transport::urls::parse).and_then(|u| origin_of(&u));
            if !v.has_bytes()
                && let (Some(h), Some(u)) = (&host, url_host)
                && *h == u
            {
                v.fetch = Some(FetchAuth { headers: ctx.extra.auth.clone(), host: u });
            }
            videos.push(v);
        }
    }
    if videos.is_empty() {
        let why = match said.join("").trim() {
            "" => "it holds no video".to_string(),
            text => format!("it holds no video; the model said: {text}"),
        };
        return Err(Error::decode("an Interactions video response", why, body));
    }
    let mut out = ctx.output(videos, body.clone());
    out.metadata.response_id = r.id;
    out.metadata.response_model = r.model;
    if let Some(u) = &r.usage {
        let n = |k: &str| u.get(k).and_then(Value::as_u64);
        out.usage.input_tokens = n("total_input_tokens");
        out.usage.output_tokens = n("total_output_tokens");
        out.usage.total_tokens = n("total_tokens");
    }
    out.usage.raw = r.usage.filter(|u| !u.is_null()).map(crate::types::usage::RawJson::from);
    if let Some(status) = r.status {
        out.finish_reason = Some(crate::types::usage::FinishReason::from_raw(status));
    }
    Ok(out)
}
