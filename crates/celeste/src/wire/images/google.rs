//! Gemini image models (`gemini-*-image`) through the Interactions API with an API key:
//! `POST /v1beta/interactions`, unary (the catalog's image models do not stream).
//!
//! The request is one `user_input` step whose content is the input images (the edited image, then
//! the reference images) followed by the prompt, and `response_format: {type: "image",
//! aspect_ratio, image_size}` (`quality` is the image size: `1K`, `2K`, `4K`); `thinking_level`
//! goes in `generation_config` as for text. Images come back as `image` content of the
//! `model_output` steps: base64 `data` with its `mime_type`, or a `uri` (a URL artifact).
//!
//! Imagen (`:predict`) and Vertex AI (generateContent with `imageConfig`) are not spoken here yet.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Body, ImageContext, ImageRequest};
use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Metadata, Output};
use crate::types::usage::{FinishReason, Usage};
use crate::wire::google::{Media, media};

/// The parameters Gemini image models carry.
pub(crate) const CARRIED: &[&str] = &["aspect_ratio", "quality", "thinking_level", "reference_images"];

/// The path of an operation for `model`: Imagen models have their own API, not spoken here.
pub(crate) fn path(operation: Operation, model: &str) -> Option<&'static str> {
    match operation {
        Operation::Generate | Operation::Edit if !model.starts_with("imagen") => Some("/v1beta/interactions"),
        _ => None,
    }
}

/// An image content item.
fn image_content(a: &Artifact) -> Result<Value> {
    Ok(match media(a)? {
        Media::Inline { mime, data } => json!({"type": "image", "data": data, "mime_type": mime}),
        Media::Uri { uri, mime: Some(mime) } => json!({"type": "image", "uri": uri, "mime_type": mime}),
        Media::Uri { uri, mime: None } => json!({"type": "image", "uri": uri}),
    })
}

/// The request body.
pub(crate) async fn build(req: &ImageRequest, ctx: &ImageContext) -> Result<Body> {
    let p = &req.params;
    let edited = match req.operation {
        Operation::Edit => Some(req.image.as_ref().ok_or_else(|| ctx.unsupported("an edit without an image"))?),
        _ => None,
    };
    let mut content = Vec::with_capacity(2 + p.reference_images.len());
    for a in edited.into_iter().chain(&p.reference_images) {
        content.push(image_content(a)?);
    }
    if let Some(prompt) = &req.prompt {
        content.push(json!({"type": "text", "text": prompt}));
    }
    let mut format = Map::new();
    format.insert("type".into(), "image".into());
    for (ours, theirs) in [("aspect_ratio", "aspect_ratio"), ("quality", "image_size")] {
        if let Some(v) = p.get(ours) {
            format.insert(theirs.into(), v.clone());
        }
    }
    let mut body = json!({
        "model": req.model,
        "input": [{"type": "user_input", "content": content}],
        "response_format": format,
    });
    if let Some(level) = p.get("thinking_level") {
        body["generation_config"] = json!({ "thinking_level": level });
    }
    Ok(Body::Json(body))
}

/// An Interactions reply, as the media modalities read it (images here, audio in `wire::audio`).
#[derive(Deserialize)]
pub(crate) struct Interaction {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// The steps (older servers call them `outputs`).
    #[serde(default, alias = "outputs")]
    pub steps: Vec<Value>,
    #[serde(default)]
    pub usage: Option<Value>,
}

/// The image of a content item, if it is one.
fn content_image(item: &Value, ctx: &ImageContext) -> Result<Option<Image>> {
    let Some((artifact, mime)) = crate::wire::google::content_media(item, "image", "a Gemini image")? else {
        return Ok(None);
    };
    let mime = mime.and_then(|m| m.parse::<MimeType>().ok());
    let mime = mime.or_else(|| artifact.data.as_deref().and_then(MimeType::sniff));
    let artifact = match mime {
        Some(m) => artifact.with_mime_type(m),
        None => artifact,
    };
    Ok(Some(Image::new(artifact).with_origin(ctx.origin)))
}

/// Usage from the interaction's usage object, with the image count.
fn usage(raw: Option<Value>, images: usize) -> Usage {
    let mut u = Usage::default();
    if let Some(v) = &raw {
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        u.input_tokens = n("total_input_tokens");
        u.output_tokens = crate::wire::kit::sum_counts(n("total_output_tokens"), n("total_thought_tokens"));
        u.reasoning_tokens = n("total_thought_tokens");
        u.total_tokens = n("total_tokens");
    }
    u.images = Some(images as u64);
    u.raw = raw.filter(|v| !v.is_null());
    u
}

/// Decode a reply: the images of its output steps, in order. A reply without one says why when the
/// model answered in text instead (a refusal, most often).
pub(crate) fn parse(body: &Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let r: Interaction =
        serde_json::from_slice(body).map_err(|e| ctx.decode_error("an Interactions image response", e, body))?;
    let mut images = Vec::new();
    let mut said = Vec::new();
    for step in r.steps.iter().filter(|s| s.get("type").and_then(Value::as_str) == Some("model_output")) {
        for item in step.get("content").and_then(Value::as_array).into_iter().flatten() {
            match content_image(item, ctx)? {
                Some(img) => images.push(img),
                None => said.extend(item.get("text").and_then(Value::as_str).map(str::to_string)),
            }
        }
    }
    if images.is_empty() {
        let why = match said.join("").trim() {
            "" => "it holds no image".to_string(),
            text => format!("it holds no image; the model said: {text}"),
        };
        return Err(Error::decode("an Interactions image response", why, body));
    }
    let n = images.len();
    let mut meta = Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images);
    meta.response_id = r.id;
    meta.response_model = r.model;
    meta.raw_response = Some(body.clone());
    let mut out = Output::new(images, meta);
    out.usage = usage(r.usage, n);
    out.finish_reason = Some(FinishReason::from_raw(r.status.as_deref().unwrap_or("completed")));
    Ok(out)
}
