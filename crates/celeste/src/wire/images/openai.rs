//! OpenAI Images (`gpt-image-*`): `POST /v1/images/generations` (JSON) and `POST /v1/images/edits`
//! (multipart: `image[]` files, an optional `mask`, the other parameters as text fields). Streams
//! (`stream: true`) are SSE with `image_generation.partial_image` / `image_edit.partial_image` events
//! and one `*.completed` event per image; a streamed edit sends JSON with the images as data URLs, as
//! the reference does.
//!
//! Parameters by the reference's names: `aspect_ratio` → `size`, `num_images` → `n`,
//! `safety_tolerance` → `moderation`; `quality`, `output_format`, `background`,
//! `output_compression`, `partial_images` as they are. A stream asks for one partial image unless
//! told otherwise.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Body, FormField, ImageContext, ImageRequest, UsageNames, completed, file_field, named_fields, usage_from};
use crate::error::{Error, Result, StreamEventError};
use crate::stream::{Decoder, Frame};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, Metadata, Output};
use crate::types::usage::{FinishReason, Usage};
use crate::wire::kit::Str;

/// The parameters OpenAI Images carries.
pub(crate) const CARRIED: &[&str] = &[
    "aspect_ratio",
    "quality",
    "num_images",
    "output_format",
    "background",
    "output_compression",
    "safety_tolerance",
    "partial_images",
    "mask",
];

/// The path of an operation.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Generate => Some("/v1/images/generations"),
        Operation::Edit => Some("/v1/images/edits"),
        _ => None,
    }
}

/// The body's fields besides the images, by OpenAI's names.
fn fields(req: &ImageRequest, stream: bool) -> Map<String, Value> {
    let renamed = [
        ("num_images", "n"),
        ("aspect_ratio", "size"),
        ("quality", "quality"),
        ("output_format", "output_format"),
        ("background", "background"),
        ("output_compression", "output_compression"),
        ("safety_tolerance", "moderation"),
        ("partial_images", "partial_images"),
    ];
    let mut m = named_fields(req, &renamed);
    if stream {
        m.insert("stream".into(), true.into());
        m.entry("partial_images").or_insert(1.into());
    }
    m
}

/// The request body.
pub(crate) async fn build(req: &ImageRequest, ctx: &ImageContext, stream: bool) -> Result<Body> {
    let mut m = fields(req, stream);
    if req.operation != Operation::Edit {
        return Ok(Body::Json(Value::Object(m)));
    }
    let image = req.input.image.as_ref().ok_or_else(|| ctx.unsupported("an edit without an image"))?;
    if stream {
        // Streamed edits go as JSON, the images as data URLs (the reference's form).
        let url = image.data_url()?;
        m.insert("images".into(), json!([{ "image_url": url }]));
        if let Some(mask) = &req.params.mask {
            m.insert("mask".into(), json!({ "image_url": mask.data_url()? }));
        }
        return Ok(Body::Json(Value::Object(m)));
    }
    let mut form = vec![file_field("image[]", image, "the image to edit").await?];
    if let Some(mask) = &req.params.mask {
        form.push(file_field("mask", mask, "the mask").await?);
    }
    for (k, v) in m {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        form.push(FormField::Text(static_name(&k), text));
    }
    Ok(Body::Form(form))
}

/// Form field names are static: the set is the one [`fields`] writes.
fn static_name(k: &str) -> &'static str {
    match k {
        "model" => "model",
        "prompt" => "prompt",
        "n" => "n",
        "size" => "size",
        "quality" => "quality",
        "output_format" => "output_format",
        "background" => "background",
        "output_compression" => "output_compression",
        "moderation" => "moderation",
        "partial_images" => "partial_images",
        _ => "stream",
    }
}

/// A reply in the OpenAI Images format, which BytePlus Seedream speaks too. Its strings are borrowed
/// from the body ([`Str`]): the base64 of an image (megabytes) is decoded straight from the body into
/// the image's bytes, never copied into a `String` first (a base64 string has no JSON escapes, except
/// `\/` from some encoders, which takes the copy).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Response<'a> {
    pub data: Vec<Entry<'a>>,
    pub model: Option<Str<'a>>,
    pub output_format: Option<Str<'a>>,
    pub usage: Option<Value>,
    /// BytePlus: the seed the images were made with.
    pub seed: Option<Value>,
}

/// One image of a reply, or one stream event, which carries the same fields and its `type`
/// (`image_generation.partial_image`, `image_generation.completed`, `image_generation.error`, ...).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Entry<'a> {
    #[serde(rename = "type")]
    pub kind: Str<'a>,
    pub model: Option<Str<'a>>,
    pub b64_json: Option<Str<'a>>,
    pub url: Option<Str<'a>>,
    pub revised_prompt: Option<Str<'a>>,
    pub output_format: Option<Str<'a>>,
    /// BytePlus: the image's `WIDTHxHEIGHT`.
    pub size: Option<Str<'a>>,
    pub error: Option<Value>,
    pub usage: Option<Value>,
}

/// The MIME type of an `output_format` (OpenAI's default is PNG).
fn mime_of(format: Option<&str>) -> MimeType {
    match format {
        Some("jpeg" | "jpg") => MimeType::ImageJpeg,
        Some("webp") => MimeType::ImageWebp,
        _ => MimeType::ImagePng,
    }
}

/// An image from base64 or a URL (the other image modules decode theirs with it too).
pub(crate) fn image(
    b64: Option<&str>,
    url: Option<&str>,
    mime: &MimeType,
    what: &'static str,
    ctx: &ImageContext,
) -> Result<Option<Image>> {
    let artifact = match (b64, url) {
        (Some(b), _) if !b.is_empty() => {
            let bytes = STANDARD.decode(b.trim()).map_err(|e| Error::decode(what, e.to_string(), b.as_bytes()))?;
            Artifact::from_bytes(bytes)
        }
        (_, Some(u)) if !u.is_empty() => Artifact::from_url(u),
        _ => return Ok(None),
    };
    Ok(Some(Image::new(artifact.with_mime_type(mime.clone())).with_origin(ctx.origin)))
}

/// Usage from OpenAI's image usage object (tokens), with the image count.
fn usage(raw: Option<Value>, images: usize) -> Usage {
    let names = UsageNames {
        input: Some("input_tokens"),
        output: "output_tokens",
        thoughts: None,
        total: "total_tokens",
        images: None,
    };
    usage_from(raw, images, &names)
}

fn metadata(ctx: &ImageContext) -> Metadata {
    Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images)
}

/// Decode a unary reply: every returned image, in order.
pub(crate) fn parse(body: &Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let r: Response =
        serde_json::from_slice(body).map_err(|e| ctx.decode_error("an OpenAI images response", e, body))?;
    let mime = mime_of(r.output_format.as_deref());
    let mut images = Vec::with_capacity(r.data.len());
    for d in &r.data {
        if let Some(img) = image(d.b64_json.as_deref(), d.url.as_deref(), &mime, "an OpenAI image", ctx)? {
            images.push(img.with_revised_prompt(d.revised_prompt.as_deref().map(str::to_string)));
        }
    }
    if images.is_empty() {
        return Err(Error::decode("an OpenAI images response", "it holds no image", body));
    }
    Ok(completed(images, metadata(ctx), |n| usage(r.usage, n), Some(body)))
}

/// The stream of partial and completed images.
pub(crate) struct ImagesDecoder {
    ctx: ImageContext,
    mime: MimeType,
    completed: Vec<Image>,
    usage: Option<Value>,
}

impl ImagesDecoder {
    pub(crate) fn new(ctx: ImageContext, req: &ImageRequest) -> Self {
        let mime = mime_of(req.params.str("output_format"));
        ImagesDecoder { ctx, mime, completed: Vec::new(), usage: None }
    }
}

impl Decoder<Image, Vec<Image>> for ImagesDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<Image>>) -> Result<()> {
        let Frame::Sse(ev) = frame else { return Ok(()) };
        if ev.data.is_empty() || &ev.data[..] == b"[DONE]" {
            return Ok(());
        }
        let e: Entry<'_> = serde_json::from_slice(&ev.data)
            .map_err(|err| Error::decode("an OpenAI images stream event", err.to_string(), &ev.data))?;
        if &*e.kind == "error" || e.error.is_some() {
            let err = e.error.unwrap_or(Value::Null);
            let message = err.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string();
            let code = err.get("code").or_else(|| err.get("type")).and_then(Value::as_str).map(str::to_string);
            return Err(Error::StreamEvent(Box::new(StreamEventError {
                origin: self.ctx.origin,
                message,
                error_type: code,
                event: crate::error::truncate_lossy(&ev.data, 512),
            })));
        }
        let mime = e.output_format.as_deref().map_or_else(|| self.mime.clone(), |f| mime_of(Some(f)));
        let partial = e.kind.ends_with(".partial_image");
        let completed = e.kind.ends_with(".completed");
        if !partial && !completed {
            return Ok(());
        }
        let Some(img) = image(e.b64_json.as_deref(), None, &mime, "an OpenAI streamed image", &self.ctx)? else {
            return Ok(());
        };
        let img = img.with_revised_prompt(e.revised_prompt.map(Str::into_owned));
        let mut chunk = Chunk::content(img.clone());
        if completed {
            self.completed.push(img);
            if e.usage.is_some() {
                self.usage = e.usage;
                chunk.usage = Some(Box::new(usage(self.usage.clone(), self.completed.len())));
            }
            chunk.finish_reason = Some(FinishReason::from_raw("completed"));
        }
        out.push_back(chunk);
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        // One `completed` event per image; the server ends the body after the last.
        false
    }

    fn finish(&mut self) -> Result<Output<Vec<Image>>> {
        if self.completed.is_empty() {
            return Err(Error::StreamTruncated {
                origin: self.ctx.origin,
                reason: "the stream ended before a completed image".into(),
            });
        }
        Ok(completed(std::mem::take(&mut self.completed), metadata(&self.ctx), |n| usage(self.usage.take(), n), None))
    }
}
