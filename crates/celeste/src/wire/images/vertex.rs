//! Gemini image models on Google Vertex AI: `generateContent` at the model's Vertex URL (the
//! reference's backend for application default credentials), unary.
//!
//! The request is one user turn whose parts are the input images (the edited image, then the
//! reference images) and then the prompt, with `generationConfig.responseModalities: ["TEXT",
//! "IMAGE"]` and `imageConfig.{aspectRatio, imageSize}` (`quality` is the image size). Images come
//! back as `inlineData` parts (or `fileData` URIs) of the candidates; every such part is one image.

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

/// The parameters generateContent carries for image models.
pub(crate) const CARRIED: &[&str] = &["aspect_ratio", "quality", "thinking_level", "reference_images"];

/// The path is the Vertex model URL, built by the host adapter; operations it serves.
pub(crate) fn serves(operation: Operation, model: &str) -> bool {
    matches!(operation, Operation::Generate | Operation::Edit) && !model.starts_with("imagen")
}

fn part(a: &Artifact) -> Result<Value> {
    Ok(match media(a)? {
        Media::Inline { mime, data } => json!({"inlineData": {"mimeType": mime, "data": data}}),
        Media::Uri { uri, mime } => json!({"fileData": {"fileUri": uri, "mimeType": mime}}),
    })
}

/// The request body.
pub(crate) fn build(req: &ImageRequest, ctx: &ImageContext) -> Result<Body> {
    let p = &req.params;
    let mut parts = Vec::with_capacity(2 + p.reference_images.len());
    for a in input_images(req, ctx)? {
        parts.push(part(a)?);
    }
    if let Some(prompt) = &req.input.prompt {
        parts.push(json!({"text": prompt}));
    }
    let mut image_config = Map::new();
    if let Some(v) = p.get("aspect_ratio") {
        image_config.insert("aspectRatio".into(), v.clone());
    }
    if let Some(v) = p.get("quality") {
        image_config.insert("imageSize".into(), v.clone());
    }
    let mut config = Map::new();
    config.insert("responseModalities".into(), json!(["TEXT", "IMAGE"]));
    if !image_config.is_empty() {
        config.insert("imageConfig".into(), Value::Object(image_config));
    }
    if let Some(level) = p.str("thinking_level") {
        config.insert("thinkingConfig".into(), json!({"thinkingLevel": level}));
    }
    Ok(Body::Json(json!({
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": config,
    })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Response {
    candidates: Vec<Candidate>,
    #[serde(rename = "usageMetadata")]
    usage: Option<Value>,
    #[serde(rename = "modelVersion")]
    model_version: Option<String>,
    #[serde(rename = "responseId")]
    response_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Candidate {
    content: Option<Content>,
    #[serde(rename = "finishReason")]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Content {
    parts: Vec<Value>,
}

fn usage(raw: Option<Value>, images: usize) -> Usage {
    let names = UsageNames::gemini("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount");
    usage_from(raw, images, &names)
}

/// One image part: inline bytes or a file URI; `None` for any other part.
fn image(p: &Value, ctx: &ImageContext) -> Result<Option<Image>> {
    let mime_of = |v: &Value| v.get("mimeType").and_then(Value::as_str).and_then(|m| m.parse::<MimeType>().ok());
    if let Some(inline) = p.get("inlineData") {
        let Some(data) = inline.get("data").and_then(Value::as_str) else { return Ok(None) };
        let mime = mime_of(inline).unwrap_or(MimeType::ImagePng);
        return super::openai::image(Some(data), None, &mime, "a Vertex AI image", ctx);
    }
    if let Some(file) = p.get("fileData")
        && let Some(uri) = file.get("fileUri").and_then(Value::as_str)
    {
        let mut a = Artifact::from_url(uri);
        if let Some(m) = mime_of(file) {
            a = a.with_mime_type(m);
        }
        return Ok(Some(Image::new(a).with_origin(ctx.origin)));
    }
    Ok(None)
}

/// Decode a reply: every image part of every candidate, in order. A reply without one says why when
/// the model answered in text instead.
pub(crate) fn parse(body: &Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let r: Response =
        serde_json::from_slice(body).map_err(|e| ctx.decode_error("a generateContent image response", e, body))?;
    let mut images = Vec::new();
    let mut said = Vec::new();
    for part in r.candidates.iter().filter_map(|c| c.content.as_ref()).flat_map(|c| &c.parts) {
        match image(part, ctx)? {
            Some(img) => images.push(img),
            None => said.extend(part.get("text").and_then(Value::as_str).map(str::to_string)),
        }
    }
    let n = images.len();
    let finish = r.candidates.iter().find_map(|c| c.finish_reason.clone()).unwrap_or_else(|| "STOP".into());
    let ids = (r.response_id, r.model_version);
    let mut out = gemini_output(images, &said, ids, "a generateContent image response", body, ctx)?;
    out.usage = usage(r.usage, n);
    out.finish_reason = Some(FinishReason::from_raw(finish));
    Ok(out)
}
