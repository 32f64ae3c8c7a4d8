//! Black Forest Labs Flux: `POST /v1/{model}` (JSON) submits a job and answers
//! `{id, polling_url, cost, input_mp, output_mp}`; `GET polling_url` answers `Pending` (with a
//! `progress`) until `Ready` with `result.sample`, a presigned URL of the image, or a failure
//! status (`Error`, `Failed`, `Request Moderated`, `Content Moderated`, `No Card Generated`,
//! `Task not found`). The reference polls every 0.5 s for at most 120 s.
//!
//! Parameters differ by model family (the reference's 1.0.0 tables):
//! - `aspect_ratio` is sent as BFL's own `aspect_ratio` on kontext, ultra and flux-3-image; on the
//!   others the catalog's `WxH` becomes `width` and `height`, exactly.
//! - `prompt_upsampling` is `disable_pup` (inverted) on flux-2-max/pro/pro-preview, not carried on
//!   flux-2-klein, `prompt_upsampling` elsewhere.
//! - `quality` → `resolution`; `grounding`, `seed`, `safety_tolerance`, `output_format`, `steps`,
//!   `guidance` as they are.
//! - Input images (an edit's image first, then the reference images) go to the model's field:
//!   flux-3-image a list `images`; flux-2 and kontext `input_image`, `input_image_2`, ...;
//!   flux-pro-1.1, ultra and flux-dev one `image_prompt`. Each is base64, or its URL when the
//!   artifact has only a URL (BFL takes either).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Body, ImageContext, ImageRequest};
use crate::error::{Error, Result};
use crate::jobs::{Poll, Poller};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::output::{Metadata, Output};
use crate::types::usage::{FinishReason, Usage};

/// The reference's wait between polls.
const INTERVAL: Duration = Duration::from_millis(500);
/// The reference's limit on a job.
const LIMIT: Duration = Duration::from_secs(120);

/// The statuses that end a job without an image (the reference's 1.0.0 list).
const FAILED: &[&str] =
    &["Error", "Failed", "Request Moderated", "Content Moderated", "No Card Generated", "Task not found"];

/// The model families whose fields differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `flux-3-image`: native aspect ratio, `images: [...]`, `grounding`.
    Flux3,
    /// `flux-3-image-klein`: no input images, no aspect ratio.
    Flux3Klein,
    /// `flux-2-max`, `-pro`, `-pro-preview`: prompt upsampling is `disable_pup`.
    Flux2Pup,
    /// `flux-2-klein-*`: no prompt upsampling.
    Flux2Klein,
    /// Other `flux-2-*` (`flux-2-flex`): steps and guidance too.
    Flux2,
    /// `flux-kontext-*`: native aspect ratio, numbered input images.
    Kontext,
    /// `flux-pro-1.1-ultra`: native aspect ratio, one `image_prompt`.
    Ultra,
    /// `flux-pro-1.1`: `WxH`, one `image_prompt`.
    Pro,
    /// `flux-dev`: like `flux-pro-1.1`, with steps and guidance.
    Dev,
    /// A model id this library does not know: every field, and no input image field.
    Unknown,
}

fn family(model: &str) -> Family {
    match model {
        "flux-3-image" => Family::Flux3,
        "flux-3-image-klein" => Family::Flux3Klein,
        "flux-2-max" | "flux-2-pro" | "flux-2-pro-preview" => Family::Flux2Pup,
        m if m.starts_with("flux-2-klein-") => Family::Flux2Klein,
        m if m.starts_with("flux-2-") => Family::Flux2,
        m if m.starts_with("flux-kontext-") => Family::Kontext,
        "flux-pro-1.1-ultra" => Family::Ultra,
        "flux-pro-1.1" => Family::Pro,
        "flux-dev" => Family::Dev,
        _ => Family::Unknown,
    }
}

/// Where a model takes its input images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageField {
    /// `images: [...]`.
    List,
    /// `input_image`, `input_image_2`, ...
    Numbered,
    /// One `image_prompt`.
    Prompt,
}

impl Family {
    fn image_field(self) -> Option<ImageField> {
        match self {
            Family::Flux3 => Some(ImageField::List),
            Family::Flux2Pup | Family::Flux2Klein | Family::Flux2 | Family::Kontext => Some(ImageField::Numbered),
            Family::Ultra | Family::Pro | Family::Dev => Some(ImageField::Prompt),
            Family::Flux3Klein | Family::Unknown => None,
        }
    }

    /// Whether `aspect_ratio` goes as BFL's own field rather than `width` / `height`.
    fn native_ratio(self) -> bool {
        matches!(self, Family::Flux3 | Family::Kontext | Family::Ultra)
    }
}

/// The parameters BFL carries for `model` (its catalog entry's, by family). The Flux 2, Kontext, Ultra,
/// Pro and Dev families carry nested sets: each is a prefix of [`FLUX`].
pub(crate) fn carried(model: &str) -> &'static [&'static str] {
    /// Every parameter of those families, in the order their sets grow; the unknown family takes all
    /// (images stay carried so that an unknown model with images is an error, not a silent drop).
    const FLUX: [&str; 10] = [
        "aspect_ratio",
        "reference_images",
        "seed",
        "safety_tolerance",
        "output_format",
        "prompt_upsampling",
        "steps",
        "guidance",
        "quality",
        "grounding",
    ];
    match family(model) {
        Family::Flux3 => &["aspect_ratio", "quality", "reference_images", "safety_tolerance", "grounding"],
        Family::Flux3Klein => &["quality", "seed", "safety_tolerance", "output_format", "steps"],
        Family::Flux2Klein => &FLUX[..5],
        Family::Flux2Pup | Family::Kontext | Family::Ultra | Family::Pro => &FLUX[..6],
        Family::Flux2 | Family::Dev => &FLUX[..8],
        Family::Unknown => &FLUX,
    }
}

/// The path of an operation: every model is its own endpoint.
pub(crate) fn path(operation: Operation, model: &str) -> Option<String> {
    match operation {
        Operation::Generate | Operation::Edit => Some(format!("/v1/{model}")),
        _ => None,
    }
}

/// An image as BFL takes it: base64 of its bytes, or its URL when that is all it has.
async fn encode(a: &Artifact) -> Result<String> {
    let local =
        a.data.as_ref().is_some_and(|d| !d.is_empty()) || a.path.as_ref().is_some_and(|p| !p.as_os_str().is_empty());
    if !local && let Some(url) = a.url.as_deref().filter(|u| !u.is_empty()) {
        return Ok(url.to_string());
    }
    Ok(STANDARD.encode(a.read_bytes().await?))
}

/// `WxH` as two numbers.
fn dimensions(s: &str) -> Option<(u64, u64)> {
    let (w, h) = s.to_ascii_lowercase().split_once('x').map(|(w, h)| (w.trim().parse().ok(), h.trim().parse().ok()))?;
    Some((w?, h?))
}

/// The request body.
pub(crate) async fn build(req: &ImageRequest, ctx: &ImageContext) -> Result<Body> {
    let fam = family(&req.model);
    let p = &req.params;
    let mut m = Map::new();
    if let Some(prompt) = &req.input.prompt {
        m.insert("prompt".into(), prompt.clone().into());
    }
    if let Some(ratio) = p.get("aspect_ratio") {
        let wxh = ratio.as_str().and_then(dimensions);
        match wxh {
            Some((w, h)) if !fam.native_ratio() => {
                m.insert("width".into(), w.into());
                m.insert("height".into(), h.into());
            }
            // Native, or not `WxH` on a model the catalog does not know: BFL's own field.
            _ => {
                m.insert("aspect_ratio".into(), ratio.clone());
            }
        }
    }
    if let Some(on) = p.get("prompt_upsampling") {
        match (fam, on.as_bool()) {
            (Family::Flux2Pup, Some(on)) => m.insert("disable_pup".into(), (!on).into()),
            _ => m.insert("prompt_upsampling".into(), on.clone()),
        };
    }
    if let Some(q) = p.get("quality") {
        m.insert("resolution".into(), q.clone());
    }
    for name in ["seed", "safety_tolerance", "output_format", "steps", "guidance", "grounding"] {
        if let Some(v) = p.get(name) {
            m.insert(name.into(), v.clone());
        }
    }
    // The edit's image takes the first slot, the reference images follow.
    let images: Vec<&Artifact> = req.input.image.iter().chain(&p.reference_images).collect();
    if !images.is_empty() {
        let field = fam.image_field().ok_or_else(|| {
            ctx.unsupported(format!("input images with BFL model {} (its image field is unknown)", req.model))
        })?;
        let mut encoded = Vec::with_capacity(images.len());
        for a in images {
            encoded.push(encode(a).await?);
        }
        match field {
            ImageField::List => {
                m.insert("images".into(), encoded.into());
            }
            ImageField::Numbered => {
                for (i, image) in encoded.into_iter().enumerate() {
                    let name = if i == 0 { "input_image".to_string() } else { format!("input_image_{}", i + 1) };
                    m.insert(name, image.into());
                }
            }
            ImageField::Prompt => {
                let [one] = <[String; 1]>::try_from(encoded).map_err(|all| {
                    Error::invalid_input(format!(
                        "BFL model {} takes one input image (`image_prompt`), not {}",
                        req.model,
                        all.len()
                    ))
                })?;
                m.insert("image_prompt".into(), one.into());
            }
        }
    }
    Ok(Body::Json(Value::Object(m)))
}

#[derive(Deserialize)]
struct Submitted {
    id: String,
    polling_url: String,
    #[serde(default)]
    cost: Option<f64>,
    #[serde(default)]
    input_mp: Option<f64>,
    #[serde(default)]
    output_mp: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Status {
    status: String,
    progress: Option<f64>,
    result: Option<ResultBody>,
    error: Option<Value>,
    details: Option<Value>,
    cost: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResultBody {
    sample: Option<String>,
}

/// A job that settled with an image.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) sample: String,
    pub(crate) cost: Option<f64>,
    body: Bytes,
}

/// The provider's words for a failure: `error`, else `details` (its `message`, or all of it).
fn failure_message(error: Option<Value>, details: Option<Value>) -> Option<String> {
    let text = |v: Value| match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s),
        Value::Object(o) if o.get("message").and_then(Value::as_str).is_some() => {
            o.get("message").and_then(Value::as_str).map(str::to_string)
        }
        other => Some(other.to_string()),
    };
    error.and_then(text).or_else(|| details.and_then(text))
}

/// Read one status reply.
pub(crate) fn read_status(body: &[u8]) -> Result<Poll<Ready>> {
    let s: Status = serde_json::from_slice(body).map_err(|e| Error::decode("a BFL job status", e, body))?;
    if s.status == "Ready" {
        let sample = s.result.and_then(|r| r.sample).filter(|u| !u.is_empty());
        let sample =
            sample.ok_or_else(|| Error::decode("a BFL job status", "`Ready` without a `result.sample`", body))?;
        return Ok(Poll::Done(Ready { sample, cost: s.cost, body: Bytes::copy_from_slice(body) }));
    }
    if FAILED.contains(&s.status.as_str()) {
        return Ok(Poll::Failed { status: s.status, message: failure_message(s.error, s.details) });
    }
    // `Pending`, and any status BFL adds later, keep the job running until the deadline.
    Ok(Poll::Pending { status: s.status, fraction: s.progress })
}

/// `url` made absolute against the URL the job was submitted to (BFL sends absolute URLs).
fn absolute(url: &str, api_url: &str) -> String {
    match crate::transport::urls::parse(api_url) {
        Some(base) if url.starts_with('/') => base.join(url).map_or_else(|_| url.to_string(), |u| u.to_string()),
        _ => url.to_string(),
    }
}

/// Poll the submitted job to its end and download its image.
pub(crate) async fn settle(body: Bytes, ctx: &ImageContext, poller: &mut Poller<'_>) -> Result<Output<Vec<Image>>> {
    let sub: Submitted = serde_json::from_slice(&body).map_err(|e| Error::decode("a BFL submit reply", e, &body))?;
    poller.set_job_id(sub.id.clone());
    let polling_url = absolute(&sub.polling_url, poller.api_url());
    let ready = poller.poll(&polling_url, INTERVAL, LIMIT, read_status).await?;
    // The sample is presigned, usually on a delivery host: the poller sends it no key.
    let bytes = poller.get(&ready.sample).await?;
    let image = super::downloaded(bytes, Some(ready.sample), "a BFL result image", ctx)?;
    let mut out = Output::new(vec![image], Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images));
    out.usage = Usage {
        images: Some(1),
        // The settled poll's cost is the final charge; the submit's is the estimate.
        billed_units: ready.cost.or(sub.cost),
        input_megapixels: sub.input_mp,
        output_megapixels: sub.output_mp,
        ..Usage::default()
    };
    out.finish_reason = Some(FinishReason::from_raw("COMPLETE"));
    out.metadata.raw_response = Some(ready.body);
    Ok(out)
}
