//! xAI Grok Imagine: `POST /v1/images/generations` and `POST /v1/images/edits`, JSON both, unary
//! only. An edit sends `image: {url}` with the image as a data URL; reference images send
//! `images: [{url}, ...]` instead, the edited image first.
//!
//! Parameters by the reference's names: `aspect_ratio` as it is, `num_images` → `n`,
//! `output_format` (`url`, `b64_json`) → `response_format`, `quality` → `resolution`. xAI answers
//! with URLs unless told otherwise; they become URL artifacts that `Client::download` fetches.
//! Each image's `mime_type` types it, and the fields of its entry besides the image itself are kept
//! in the artifact's metadata.

use bytes::Bytes;
use serde_json::{Value, json};

use super::openai::image;
use super::{Body, ImageContext, ImageRequest, input_images, named_fields};
use crate::error::{Error, Result};
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Metadata, Output};
use crate::types::usage::{FinishReason, Usage};

/// The parameters xAI images carries.
pub(crate) const CARRIED: &[&str] = &["aspect_ratio", "num_images", "output_format", "quality", "reference_images"];

/// The path of an operation.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Generate => Some("/v1/images/generations"),
        Operation::Edit => Some("/v1/images/edits"),
        _ => None,
    }
}

/// The request body.
pub(crate) async fn build(req: &ImageRequest, ctx: &ImageContext) -> Result<Body> {
    let p = &req.params;
    let renamed = [
        ("aspect_ratio", "aspect_ratio"),
        ("num_images", "n"),
        ("output_format", "response_format"),
        ("quality", "resolution"),
    ];
    let mut m = named_fields(req, &renamed);
    let mut urls = Vec::with_capacity(1 + p.reference_images.len());
    for a in input_images(req, ctx)? {
        urls.push(json!({ "url": a.data_url()? }));
    }
    if p.reference_images.is_empty() {
        if let Some(one) = urls.pop() {
            m.insert("image".into(), one);
        }
    } else {
        m.insert("images".into(), Value::Array(urls));
    }
    Ok(Body::Json(Value::Object(m)))
}

/// Decode a reply: every image, in order.
pub(crate) fn parse(body: &Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ctx.decode_error("an xAI images response", e, body))?;
    let data = v.get("data").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut images = Vec::with_capacity(data.len());
    for d in data {
        let Some(entry) = d.as_object() else { continue };
        let text = |k: &str| entry.get(k).and_then(Value::as_str);
        // xAI's images are JPEG unless the entry says otherwise.
        let mime = text("mime_type").and_then(|m| m.parse::<MimeType>().ok()).unwrap_or(MimeType::ImageJpeg);
        let Some(mut img) = image(text("b64_json"), text("url"), &mime, "an xAI image", ctx)? else { continue };
        for (k, val) in entry.iter().filter(|(k, _)| !matches!(k.as_str(), "b64_json" | "url" | "revised_prompt")) {
            img.artifact.metadata.insert(k.clone(), val.clone());
        }
        images.push(img.with_revised_prompt(text("revised_prompt").map(str::to_string)));
    }
    if images.is_empty() {
        return Err(Error::decode("an xAI images response", "it holds no image", body));
    }
    let n = images.len();
    let mut out = Output::new(images, Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images));
    out.usage = Usage {
        images: Some(n as u64),
        raw: v.get("usage").filter(|u| !u.is_null()).map(crate::types::usage::RawJson::from),
        ..Usage::default()
    };
    out.finish_reason = Some(FinishReason::from_raw("completed"));
    out.metadata.raw_response = Some(body.clone());
    Ok(out)
}
