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

use super::{Body, ImageContext, ImageRequest};
use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Metadata, Output};
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
    let edited = match req.operation {
        Operation::Edit => Some(req.image.as_ref().ok_or_else(|| ctx.unsupported("an edit without an image"))?),
        _ => None,
    };
    let mut parts = Vec::with_capacity(2 + p.reference_images.len());
    for a in edited.into_iter().chain(&p.reference_images) {
        parts.push(part(a)?);
    }
    if let Some(prompt) = &req.prompt {
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

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default, rename = "usageMetadata")]
    usage: Option<Value>,
    #[serde(default, rename = "modelVersion")]
    model_version: Option<String>,
    #[serde(default, rename = "responseId")]
    response_id: Option<String>,
}

#[derive(Deserialize)]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default, rename = "finishReason")]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Value>,
}

fn usage(raw: Option<Value>, images: usize) -> Usage {
    let mut u = Usage::default();
    if let Some(v) = &raw {
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        u.input_tokens = n("promptTokenCount");
        u.output_tokens = crate::wire::kit::sum_counts(n("candidatesTokenCount"), n("thoughtsTokenCount"));
        u.reasoning_tokens = n("thoughtsTokenCount");
        u.total_tokens = n("totalTokenCount");
    }
    u.images = Some(images as u64);
    u.raw = raw.filter(|v| !v.is_null());
    u
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
    if images.is_empty() {
        let why = match said.join("").trim() {
            "" => "it holds no image".to_string(),
            text => format!("it holds no image; the model said: {text}"),
        };
        return Err(Error::decode("a generateContent image response", why, body));
    }
    let n = images.len();
    let mut meta = Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images);
    meta.response_id = r.response_id;
    meta.response_model = r.model_version;
    meta.raw_response = Some(body.clone());
    let finish = r.candidates.iter().find_map(|c| c.finish_reason.clone()).unwrap_or_else(|| "STOP".into());
    let mut out = Output::new(images, meta);
    out.usage = usage(r.usage, n);
    out.finish_reason = Some(FinishReason::from_raw(finish));
    Ok(out)
}
