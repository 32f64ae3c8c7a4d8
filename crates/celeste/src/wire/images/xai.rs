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
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::openai::image;
use super::{Body, ImageContext, ImageRequest, completed, input_images, named_fields};
use crate::error::{Error, Result};
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Metadata, Output};
use crate::types::usage::Usage;
use crate::wire::kit::{LenientList, LenientStr};

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

/// A reply, read leniently as before (an entry that is not an object, or a field of another shape, is
/// left out), its strings borrowed from the body: an image's base64 is decoded straight from the body,
/// never copied into a `String` or a `serde_json::Value` first.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Response<'a> {
    data: LenientList<Entry<'a>>,
    usage: Option<crate::types::usage::RawJson>,
}

/// One image entry: the image itself, and every other field (kept in the artifact's metadata).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Entry<'a> {
    b64_json: LenientStr<'a>,
    url: LenientStr<'a>,
    revised_prompt: LenientStr<'a>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// Decode a reply: every image, in order.
pub(crate) fn parse(body: &Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let r: Response<'_> =
        serde_json::from_slice(body).map_err(|e| ctx.decode_error("an xAI images response", e, body))?;
    let mut images = Vec::with_capacity(r.data.0.len());
    for entry in r.data.0 {
        // xAI's images are JPEG unless the entry says otherwise.
        let mime = entry
            .rest
            .get("mime_type")
            .and_then(Value::as_str)
            .and_then(|m| m.parse::<MimeType>().ok())
            .unwrap_or(MimeType::ImageJpeg);
        let Some(mut img) = image(entry.b64_json.as_deref(), entry.url.as_deref(), &mime, "an xAI image", ctx)? else {
            continue;
        };
        img.artifact.metadata.extend(entry.rest);
        images.push(img.with_revised_prompt(entry.revised_prompt.as_deref().map(str::to_string)));
    }
    if images.is_empty() {
        return Err(Error::decode("an xAI images response", "it holds no image", body));
    }
    let meta = Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images);
    Ok(completed(images, meta, |n| Usage { images: Some(n as u64), raw: r.usage, ..Usage::default() }, Some(body)))
}
