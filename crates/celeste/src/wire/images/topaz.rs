//! Topaz Labs Image API (upscale): a multipart submit (`image` file, `model`, the parameters as
//! text fields, booleans as `true` / `false`) to the endpoint the model belongs to
//! (`/image/v1/enhance/async`, `/image/v1/enhance-gen/async` or `/image/v1/tool/async`, as the
//! reference routes each catalog model) answers `{process_id, eta}`; `GET /image/v1/status/{id}`
//! answers `Pending` / `Processing` (with a `progress` percentage) until `Completed`, or `Failed` /
//! `Cancelled`; then `GET /image/v1/download/{id}` answers `{download_url, ...}`, a presigned URL of
//! the image. The reference polls every 2 s for at most 300 s.

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::{Body, FormField, ImageContext, ImageRequest, file_field};
use crate::error::{Error, Result};
use crate::jobs::{Poll, Poller};
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::output::{Metadata, Output};
use crate::types::usage::{FinishReason, Usage};

/// The reference's wait between polls.
const INTERVAL: Duration = Duration::from_secs(2);
/// The reference's limit on a job.
const LIMIT: Duration = Duration::from_secs(300);

/// Every Topaz parameter of the catalog, sent under its own name.
pub(crate) const CARRIED: &[&str] = &[
    "output_width",
    "output_height",
    "output_format",
    "crop_to_fill",
    "face_enhancement",
    "face_enhancement_strength",
    "face_enhancement_creativity",
    "subject_detection",
    "sharpen",
    "denoise",
    "strength",
    "fix_compression",
    "recovery_strength",
    "opacity",
    "deblur_strength",
    "detail_strength",
    "denoise_strength",
    "decompression_strength",
];

/// The submit endpoint of each catalog model (the reference's table; Topaz model ids have spaces).
const ENDPOINTS: &[(&str, &str)] = &[
    ("Standard V2", "enhance"),
    ("High Fidelity V2", "enhance"),
    ("Upscale High Fidelity V3", "enhance"),
    ("Low Resolution V2", "enhance"),
    ("CGI", "enhance"),
    ("Text Refine", "enhance"),
    ("Detail", "enhance-gen"),
    ("Transparency Upscale", "tool"),
];

/// The submit path of `model`; none for a model the table does not know (its endpoint cannot be
/// guessed) or an operation other than upscale.
pub(crate) fn path(operation: Operation, model: &str) -> Option<String> {
    if operation != Operation::Upscale {
        return None;
    }
    let (_, tool) = ENDPOINTS.iter().find(|(m, _)| *m == model)?;
    Some(format!("/image/v1/{tool}/async"))
}

/// A parameter as a form field's text: booleans lowercase, integral numbers without a fraction.
fn form_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            // A width the constraint normalised to `2048.0` is still `2048` to Topaz.
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The multipart body.
pub(crate) async fn build(req: &ImageRequest, ctx: &ImageContext) -> Result<Body> {
    let image = req.input.image.as_ref().ok_or_else(|| ctx.unsupported("an upscale without an image"))?;
    let mut form =
        vec![FormField::Text("model", req.model.clone()), file_field("image", image, "the image to upscale").await?];
    for name in CARRIED {
        if let Some(v) = req.params.get(name) {
            form.push(FormField::Text(name, form_text(v)));
        }
    }
    Ok(Body::Form(form))
}

#[derive(Deserialize)]
struct Submitted {
    process_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Status {
    status: String,
    progress: Option<f64>,
    error: Option<String>,
    message: Option<String>,
    credits: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Download {
    download_url: Option<String>,
    url: Option<String>,
}

/// A job that completed.
#[derive(Debug)]
pub(crate) struct Completed {
    credits: Option<f64>,
    body: Bytes,
}

/// Read one status reply.
pub(crate) fn read_status(body: &[u8]) -> Result<Poll<Completed>> {
    let s: Status = serde_json::from_slice(body).map_err(|e| Error::decode("a Topaz job status", e, body))?;
    match s.status.as_str() {
        "Completed" => Ok(Poll::Done(Completed { credits: s.credits, body: Bytes::copy_from_slice(body) })),
        "Failed" | "Cancelled" => {
            let message = s.error.or(s.message).filter(|m| !m.is_empty());
            Ok(Poll::Failed { status: s.status, message })
        }
        // `Pending`, `Processing`, and any status Topaz adds later; progress is a percentage.
        _ => Ok(Poll::Pending { status: s.status, fraction: s.progress.map(|p| p / 100.0) }),
    }
}

/// The API's base URL: the submit URL without the submit path.
fn base_of(api_url: &str, model: &str) -> Option<String> {
    let path = path(Operation::Upscale, model)?;
    api_url.strip_suffix(path.as_str()).map(str::to_string)
}

/// Poll the submitted job to its end, ask for its download link and download the image.
pub(crate) async fn settle(body: Bytes, ctx: &ImageContext, poller: &mut Poller<'_>) -> Result<Output<Vec<Image>>> {
    let sub: Submitted = serde_json::from_slice(&body).map_err(|e| Error::decode("a Topaz submit reply", e, &body))?;
    // The id goes into URL paths: anything that could leave its segment is not an id.
    let id = sub.process_id;
    if id.is_empty() || id.contains(['/', '?', '#', '%']) || id.chars().any(char::is_whitespace) {
        return Err(Error::decode("a Topaz submit reply", "the process id is not a path segment", &body));
    }
    poller.set_job_id(id.clone());
    let base = base_of(poller.api_url(), &ctx.model)
        .ok_or_else(|| ctx.unsupported(format!("image upscale with model {}", ctx.model)))?;
    let done = poller.poll(&format!("{base}/image/v1/status/{id}"), INTERVAL, LIMIT, read_status).await?;
    let link = poller.get(&format!("{base}/image/v1/download/{id}")).await?;
    let d: Download = serde_json::from_slice(&link).map_err(|e| Error::decode("a Topaz download link", e, &link))?;
    let url = d.download_url.or(d.url).filter(|u| !u.is_empty());
    let url = url.ok_or_else(|| Error::decode("a Topaz download link", "it holds no `download_url`", &link))?;
    // Presigned, on a storage host: the poller sends it no key.
    let bytes = poller.get(&url).await?;
    let image = super::downloaded(bytes, Some(url), "a Topaz result image", ctx)?;
    let mut out = Output::new(vec![image], Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images));
    out.usage = Usage { images: Some(1), billed_units: done.credits, ..Usage::default() };
    out.finish_reason = Some(FinishReason::from_raw("COMPLETE"));
    out.metadata.raw_response = Some(done.body);
    Ok(out)
}
