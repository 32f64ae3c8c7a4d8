//! BytePlus ModelArk Seedream: `POST /api/v3/images/generations` (JSON) for generations and edits
//! alike. An edit sends its image in `image` as a data URL; reference images make `image` a list,
//! the edit image first. `stream: true` answers SSE: `image_generation.partial_succeeded` per image
//! (or `image_generation.partial_failed`), `image_generation.completed` with the usage, `[DONE]`.
//!
//! Parameters by the reference's names: `aspect_ratio` (normalised to `WxH` by the catalog) or
//! `quality` (`2K`, `4K`) → `size`; `watermark`, `seed` and `output_format` as they are.
//!
//! Results are asked for as base64 (`response_format: "b64_json"`), where the reference asks for
//! URLs: BytePlus's URLs expire after a day and need a second request, so base64 keeps an output
//! complete on its own (it can be saved later, or replayed from a cassette). A caller who wants URLs
//! can say so with `extra_body`; they come back as URL artifacts that `Client::download` fetches.
//! The seed the server reports goes into each image's artifact metadata.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::openai::{Entry, Response, image};
use super::{Body, ImageContext, ImageRequest, UsageNames, completed, input_images, usage_from};
use crate::error::{Error, JobError, Result, StreamEventError};
use crate::stream::{Decoder, Frame};
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, Metadata, Output};
use crate::types::usage::Usage;
use crate::wire::kit::Str;

/// The parameters BytePlus images carries.
pub(crate) const CARRIED: &[&str] =
    &["aspect_ratio", "quality", "watermark", "seed", "output_format", "reference_images"];

/// The one path of both operations.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Generate | Operation::Edit => Some("/api/v3/images/generations"),
        _ => None,
    }
}

/// The request body.
pub(crate) async fn build(req: &ImageRequest, ctx: &ImageContext, stream: bool) -> Result<Body> {
    let p = &req.params;
    let mut m = Map::new();
    m.insert("model".into(), req.model.clone().into());
    if let Some(prompt) = &req.input.prompt {
        m.insert("prompt".into(), prompt.clone().into());
    }
    // Both name BytePlus's one `size` (a `WxH` or a resolution class): given both, which one the
    // caller meant is a guess, so the call says so rather than dropping one.
    match (p.get("aspect_ratio"), p.get("quality")) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_input(
                "BytePlus takes `aspect_ratio` or `quality`, not both: each sets its `size` \
                 (the aspect ratio presets, such as `2K 16:9`, name the resolution too)",
            ));
        }
        (Some(size), None) | (None, Some(size)) => {
            m.insert("size".into(), size.clone());
        }
        (None, None) => {}
    }
    for name in ["watermark", "seed", "output_format"] {
        if let Some(v) = p.get(name) {
            m.insert(name.into(), v.clone());
        }
    }
    let mut images = Vec::with_capacity(1 + p.reference_images.len());
    for a in input_images(req, ctx)? {
        images.push(a.data_url()?);
    }
    // One image is a string; reference images make it a list, the edited image first.
    if p.reference_images.is_empty() {
        if let Some(one) = images.pop() {
            m.insert("image".into(), one.into());
        }
    } else {
        m.insert("image".into(), json!(images));
    }
    m.insert("response_format".into(), "b64_json".into());
    if stream {
        m.insert("stream".into(), true.into());
    }
    Ok(Body::Json(Value::Object(m)))
}

/// The MIME type of an `output_format` (BytePlus's default is JPEG).
fn mime_of(format: Option<&str>) -> MimeType {
    match format {
        Some("png") => MimeType::ImagePng,
        _ => MimeType::ImageJpeg,
    }
}

/// The type of an image: what its bytes say, else its URL's extension, else what was asked for
/// (a unary reply is settled without the request, so the bytes are the first witness).
fn type_of(img: &Image, asked: &MimeType) -> MimeType {
    let a = &img.artifact;
    let sniffed = a.data.as_deref().and_then(MimeType::sniff);
    let from_url = || {
        let path = a.url.as_deref()?.split(['?', '#']).next()?;
        let (_, ext) = path.rsplit_once('/')?.1.rsplit_once('.')?;
        MimeType::from_extension(ext)
    };
    sniffed.or_else(from_url).filter(|m| m.as_str().starts_with("image/")).unwrap_or_else(|| asked.clone())
}

/// The code and message of a BytePlus error object.
fn error_parts(err: &Value) -> (Option<String>, String) {
    let code = err.get("code").and_then(Value::as_str).map(str::to_string);
    let message = match err {
        Value::String(s) => s.clone(),
        other => other.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string(),
    };
    (code, message)
}

/// The image of a datum, with its size and the seed in the artifact's metadata.
fn datum_image(d: &Entry<'_>, mime: &MimeType, seed: Option<&Value>, ctx: &ImageContext) -> Result<Option<Image>> {
    let Some(mut img) = image(d.b64_json.as_deref(), d.url.as_deref(), mime, "a BytePlus image", ctx)? else {
        return Ok(None);
    };
    img.artifact.mime_type = Some(type_of(&img, mime));
    if let Some(size) = &d.size {
        img.artifact.metadata.insert("size".into(), Value::String(size.to_string()));
    }
    if let Some(seed) = seed {
        img.artifact.metadata.insert("seed".into(), seed.clone());
    }
    Ok(Some(img))
}

/// Usage from BytePlus's usage object (`generated_images`, tokens).
fn usage(raw: Option<Value>, images: usize) -> Usage {
    let names = UsageNames {
        input: None,
        output: "output_tokens",
        thoughts: None,
        total: "total_tokens",
        images: Some("generated_images"),
    };
    usage_from(raw, images, &names)
}

fn metadata(ctx: &ImageContext, response_model: Option<String>) -> Metadata {
    let mut m = Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images);
    m.response_model = response_model;
    m
}

/// Decode a unary reply: every generated image, in order. A reply whose every image failed (content
/// moderation, most often) is the provider's refusal, with its code and message.
pub(crate) fn parse(body: &bytes::Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let r: Response<'_> =
        serde_json::from_slice(body).map_err(|e| ctx.decode_error("a BytePlus images response", e, body))?;
    let mime = mime_of(None);
    let mut images = Vec::with_capacity(r.data.len());
    let mut failure = None;
    for d in &r.data {
        match datum_image(d, &mime, r.seed.as_ref(), ctx)? {
            Some(img) => images.push(img),
            None => failure = failure.or(d.error.as_ref()),
        }
    }
    if images.is_empty() {
        let Some(err) = failure else {
            return Err(Error::decode("a BytePlus images response", "it holds no image", body));
        };
        let (code, message) = error_parts(err);
        return Err(Error::Job(Box::new(JobError {
            origin: ctx.origin,
            job_id: None,
            status: code.unwrap_or_else(|| "failed".into()),
            message: Some(message),
        })));
    }
    Ok(completed(images, metadata(ctx, r.model.map(Str::into_owned)), |n| usage(r.usage, n), Some(body)))
}

/// The stream: each succeeded image is a chunk and is kept; failed ones are remembered, so a stream
/// whose every image failed ends with the provider's reason rather than an empty output.
pub(crate) struct SeedreamDecoder {
    ctx: ImageContext,
    mime: MimeType,
    images: Vec<Image>,
    failure: Option<(Option<String>, String, String)>,
    usage: Option<Value>,
    model: Option<String>,
    done: bool,
}

impl SeedreamDecoder {
    pub(crate) fn new(ctx: ImageContext, req: &ImageRequest) -> Self {
        let mime = mime_of(req.params.str("output_format"));
        SeedreamDecoder { ctx, mime, images: Vec::new(), failure: None, usage: None, model: None, done: false }
    }

    fn event_error(&self, err: &Value, raw: &[u8]) -> Error {
        let (code, message) = error_parts(err);
        Error::StreamEvent(Box::new(StreamEventError {
            origin: self.ctx.origin,
            message,
            error_type: code,
            event: crate::error::truncate_lossy(raw, 512),
        }))
    }
}

impl Decoder<Image, Vec<Image>> for SeedreamDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<Image>>) -> Result<()> {
        let Frame::Sse(ev) = frame else { return Ok(()) };
        if ev.data.is_empty() {
            return Ok(());
        }
        if &ev.data[..] == b"[DONE]" {
            self.done = true;
            return Ok(());
        }
        let d: Entry<'_> = serde_json::from_slice(&ev.data)
            .map_err(|e| Error::decode("a BytePlus images stream event", e.to_string(), &ev.data))?;
        if let Some(model) = &d.model {
            self.model = Some(model.to_string());
        }
        match &*d.kind {
            "image_generation.partial_succeeded" => {
                if let Some(img) = datum_image(&d, &self.mime, None, &self.ctx)? {
                    self.images.push(img.clone());
                    out.push_back(Chunk::content(img));
                }
            }
            "image_generation.partial_failed" => {
                if self.failure.is_none() {
                    let (code, message) = error_parts(d.error.as_ref().unwrap_or(&Value::Null));
                    self.failure = Some((code, message, crate::error::truncate_lossy(&ev.data, 512)));
                }
            }
            "image_generation.completed" => {
                self.usage = d.usage;
                self.done = true;
            }
            // An error event (`{"error": {...}}`, with or without a `type`) ends the stream.
            _ => {
                if let Some(err) = &d.error {
                    return Err(self.event_error(err, &ev.data));
                }
            }
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.done
    }

    fn finish(&mut self) -> Result<Output<Vec<Image>>> {
        if self.images.is_empty() {
            if let Some((code, message, event)) = self.failure.take() {
                return Err(Error::StreamEvent(Box::new(StreamEventError {
                    origin: self.ctx.origin,
                    message,
                    error_type: code,
                    event,
                })));
            }
            return Err(Error::StreamTruncated {
                origin: self.ctx.origin,
                reason: "the stream ended before an image".into(),
            });
        }
        let meta = metadata(&self.ctx, self.model.take());
        Ok(completed(std::mem::take(&mut self.images), meta, |n| usage(self.usage.take(), n), None))
    }
}
