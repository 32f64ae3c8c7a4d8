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

use super::{Body, ImageContext, ImageRequest, UsageNames, gemini_output, input_images, usage_from};
use crate::error::Result;
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::Output;
use crate::types::usage::{FinishReason, Usage};
use crate::wire::google::{Media, media};
use crate::wire::kit::renamed;

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
    let mut content = Vec::with_capacity(2 + p.reference_images.len());
    for a in input_images(req, ctx)? {
        content.push(image_content(a)?);
    }
    if let Some(prompt) = &req.input.prompt {
        content.push(json!({"type": "text", "text": prompt}));
    }
    let mut format = Map::new();
    format.insert("type".into(), "image".into());
    let table = [("aspect_ratio", "aspect_ratio"), ("quality", "image_size")];
    format.extend(renamed(p, &table).map(|(theirs, v)| (theirs.into(), v.clone())));
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

/// An interaction as the media APIs read it (images here, videos in `wire/videos/omni.rs`, audio in `wire::audio`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Interaction {
    pub id: Option<String>,
    pub model: Option<String>,
    pub status: Option<String>,
    /// The steps (older servers call them `outputs`).
    #[serde(alias = "outputs")]
    pub steps: Vec<Value>,
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
    let names = UsageNames::gemini("total_input_tokens", "total_output_tokens", "total_thought_tokens", "total_tokens");
    usage_from(raw, images, &names)
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
    let n = images.len();
    let mut out = gemini_output(images, &said, (r.id, r.model), "an Interactions image response", body, ctx)?;
    out.usage = usage(r.usage, n);
    out.finish_reason = Some(FinishReason::from_raw(r.status.as_deref().unwrap_or("completed")));
    Ok(out)
}
