//! Ollama image models: `POST /api/generate`. Ollama streams unless told `"stream": false`, so a
//! unary call says so. A stream is NDJSON: progress lines (`completed` / `total`), then a line with
//! the image (base64 PNG in `image`) and `done: true`; a failure is an `{"error": "..."}` line.
//! There is no catalog: any model id goes, with `.provider(Provider::Ollama)`.
//!
//! Parameters by the reference's names: `aspect_ratio` (`WxH`) → `width` and `height`, `steps`,
//! `negative_prompt`, `seed` → `options.seed`.

use std::collections::VecDeque;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Body, ImageContext, ImageRequest};
use crate::error::{Error, Result, StreamEventError};
use crate::stream::{Decoder, Frame};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, Metadata, Output};
use crate::types::usage::{FinishReason, Usage};

/// The parameters Ollama carries.
pub(crate) const CARRIED: &[&str] = &["aspect_ratio", "steps", "seed", "negative_prompt"];

/// The path of an operation: Ollama generates, it does not edit.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Generate => Some("/api/generate"),
        _ => None,
    }
}

/// `"WxH"` (either case of `x`) as a width and a height.
fn size(value: &str) -> Option<(u64, u64)> {
    let (w, h) = value.trim().to_ascii_lowercase().split_once('x').map(|(w, h)| (w.to_string(), h.to_string()))?;
    let (w, h) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

/// The request body.
pub(crate) async fn build(req: &ImageRequest, stream: bool) -> Result<Body> {
    let p = &req.params;
    let mut m = Map::new();
    m.insert("model".into(), req.model.clone().into());
    if let Some(prompt) = &req.input.prompt {
        m.insert("prompt".into(), prompt.clone().into());
    }
    m.insert("stream".into(), stream.into());
    if let Some(ratio) = p.get("aspect_ratio") {
        // Without a catalog nothing has normalised the value: Ollama takes pixels, so only a size says
        // what to send.
        let (w, h) = ratio.as_str().and_then(size).ok_or_else(|| {
            Error::invalid_input(format!("Ollama takes `aspect_ratio` as a size in pixels (`1024x768`), not {ratio}"))
        })?;
        m.insert("width".into(), w.into());
        m.insert("height".into(), h.into());
    }
    for name in ["steps", "negative_prompt"] {
        if let Some(v) = p.get(name) {
            m.insert(name.into(), v.clone());
        }
    }
    if let Some(seed) = p.get("seed") {
        m.insert("options".into(), json!({ "seed": seed }));
    }
    Ok(Body::Json(Value::Object(m)))
}

/// A reply or one stream line.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Line {
    model: Option<String>,
    image: Option<String>,
    done: bool,
    done_reason: Option<String>,
    error: Option<Value>,
}

/// The image of a line, typed by its bytes (Ollama's image models answer PNG).
fn line_image(line: &Line, ctx: &ImageContext, raw: &[u8]) -> Result<Option<Image>> {
    let Some(b64) = line.image.as_deref().filter(|s| !s.trim().is_empty()) else { return Ok(None) };
    let artifact = Artifact::from_base64(b64).map_err(|e| Error::decode("an Ollama image", e.to_string(), raw))?;
    let mime = artifact.data.as_deref().and_then(MimeType::sniff).unwrap_or(MimeType::ImagePng);
    Ok(Some(Image::new(artifact.with_mime_type(mime)).with_origin(ctx.origin)))
}

fn metadata(ctx: &ImageContext, response_model: Option<String>) -> Metadata {
    let mut m = Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images);
    m.response_model = response_model;
    m
}

/// Ollama reports durations, not tokens, for images: the usage is the image count.
fn usage() -> Usage {
    Usage { images: Some(1), ..Usage::default() }
}

/// Decode a unary reply.
pub(crate) fn parse(body: &Bytes, ctx: &ImageContext) -> Result<Output<Vec<Image>>> {
    let line: Line =
        serde_json::from_slice(body).map_err(|e| ctx.decode_error("an Ollama generate response", e, body))?;
    let Some(img) = line_image(&line, ctx, body)? else {
        return Err(Error::decode("an Ollama generate response", "it holds no image", body));
    };
    let mut out = Output::new(vec![img], metadata(ctx, line.model));
    out.usage = usage();
    out.finish_reason = Some(FinishReason::from_raw(line.done_reason.as_deref().unwrap_or("stop")));
    out.metadata.raw_response = Some(body.clone());
    Ok(out)
}

/// The NDJSON stream: the image line is a chunk; the last non-empty image is the output.
pub(crate) struct GenerateDecoder {
    ctx: ImageContext,
    image: Option<Image>,
    model: Option<String>,
    /// The `done_reason` of the last line, once it has come.
    done: Option<Option<String>>,
}

impl GenerateDecoder {
    pub(crate) fn new(ctx: ImageContext) -> Self {
        GenerateDecoder { ctx, image: None, model: None, done: None }
    }
}

impl Decoder<Image, Vec<Image>> for GenerateDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<Image>>) -> Result<()> {
        let Frame::Line(raw) = frame else { return Ok(()) };
        let line: Line = serde_json::from_slice(&raw)
            .map_err(|e| Error::decode("an Ollama generate stream line", e.to_string(), &raw))?;
        if let Some(err) = &line.error {
            let message = match err {
                Value::String(s) => s.clone(),
                other => other.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string(),
            };
            return Err(Error::StreamEvent(Box::new(StreamEventError {
                origin: self.ctx.origin,
                message,
                error_type: None,
                event: crate::error::truncate_lossy(&raw, 512),
            })));
        }
        self.model = line.model.clone().or(self.model.take());
        if let Some(img) = line_image(&line, &self.ctx, &raw)? {
            let mut chunk = Chunk::content(img.clone());
            if line.done {
                chunk.finish_reason = Some(FinishReason::from_raw(line.done_reason.as_deref().unwrap_or("stop")));
            }
            self.image = Some(img);
            out.push_back(chunk);
        }
        if line.done {
            self.done = Some(line.done_reason);
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.done.is_some()
    }

    fn finish(&mut self) -> Result<Output<Vec<Image>>> {
        let Some(img) = self.image.take() else {
            return Err(Error::StreamTruncated {
                origin: self.ctx.origin,
                reason: "the stream ended before an image".into(),
            });
        };
        let reason = self.done.clone().flatten();
        let mut out = Output::new(vec![img], metadata(&self.ctx, self.model.take()));
        out.usage = usage();
        out.finish_reason = Some(FinishReason::from_raw(reason.as_deref().unwrap_or("stop")));
        Ok(out)
    }
}
