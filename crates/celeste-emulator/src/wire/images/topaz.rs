//! Topaz Labs Image API (`/image/v1`): a multipart submit to the tool endpoint
//! (`/enhance/async`, `/enhance-gen/async`, `/tool/async`, ...) answers `{process_id, eta}`;
//! `GET /status/{id}` answers `Pending` / `Processing` for the reply's `pending_polls`, then
//! `Completed` or the `job_failure` status (`Failed` by default, or `Cancelled`);
//! `GET /download/{id}` answers `{download_url, head_url, expiry}` once completed, and the
//! `download_url` (served by the emulator) returns the image bytes.
//!
//! The output size is `output_width` / `output_height` (one of them scales the other with the
//! input's aspect ratio), else the input's size; then scaled down like every emulator image.

use serde_json::json;

use super::{Answer, BadField, Call, Endpoint, ImageApi, Payload};
use crate::image::{self, Format};
use crate::jobs::{Job, JobState};
use crate::plan::fresh_uuid;
use crate::wire::{ErrorInfo, to_vec};

/// The catalog's models and the submit endpoint each one belongs to (as the reference routes
/// them). A catalog model sent to another endpoint is rejected; unknown models are accepted.
const MODEL_TOOLS: &[(&str, &str)] = &[
    ("Standard V2", "enhance"),
    ("High Fidelity V2", "enhance"),
    ("Upscale High Fidelity V3", "enhance"),
    ("Low Resolution V2", "enhance"),
    ("CGI", "enhance"),
    ("Text Refine", "enhance"),
    ("Detail", "enhance-gen"),
    ("Transparency Upscale", "tool"),
];

/// Form fields that must be `true` or `false`.
const BOOL_FIELDS: &[&str] = &["crop_to_fill", "face_enhancement"];

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    match call.endpoint {
        Endpoint::Submit(tool) => match submit(call, tool) {
            Ok(answer) => answer,
            Err(bad) => Answer::bad_request(ImageApi::Topaz, bad),
        },
        Endpoint::Poll(id) => status(call, id),
        Endpoint::DownloadLink(id) => download_link(call, id),
        _ => not_found(id_of(call.endpoint)),
    }
}

fn id_of(e: &Endpoint) -> &str {
    match e {
        Endpoint::Poll(id) | Endpoint::DownloadLink(id) | Endpoint::File(id) => id,
        _ => "",
    }
}

fn submit(call: &Call<'_>, tool: &str) -> Result<Answer, BadField> {
    let p = call.payload;
    let Payload::Form(form) = p else {
        return Err(BadField::new("image", "The request must be multipart/form-data."));
    };
    let model = p.str("model")?;
    if let Some(m) = model
        && let Some((_, home)) = MODEL_TOOLS.iter().find(|(name, _)| *name == m)
        && *home != tool
    {
        return Err(BadField::new(
            "model",
            format!("Model {m:?} is not available on /{tool}/async (use /{home}/async)."),
        ));
    }
    let input = match form.all(&["image"]).next() {
        Some(part) => Some(image::sniff(&part.data).ok_or_else(|| {
            BadField::new("image", "The image could not be read: supported formats are jpeg, png, tiff and webp.")
        })?),
        None if p.str("source_url")?.is_some() || p.str("source_id")?.is_some() => None,
        None => return Err(BadField::new("image", "One of image, source_url or source_id is required.")),
    };
    let format = p
        .choice("output_format", &["jpeg", "jpg", "png", "tiff", "tif"])?
        .and_then(Format::parse)
        .unwrap_or(Format::Jpeg);
    for &field in BOOL_FIELDS {
        p.bool(field)?;
    }
    let (iw, ih) = input.map_or((1024.0, 1024.0), |(_, w, h)| (f64::from(w), f64::from(h)));
    let ow = p.int("output_width", 1, 32_000)?.map(|v| v as f64);
    let oh = p.int("output_height", 1, 32_000)?.map(|v| v as f64);
    let nominal = match (ow, oh) {
        (Some(w), Some(h)) => (w, h),
        (Some(w), None) => (w, w * ih / iw),
        (None, Some(h)) => (h * iw / ih, h),
        (None, None) => (iw, ih),
    };
    let dims = image::fit(nominal.0, nominal.1);

    let id = fresh_uuid();
    let bytes = image::render(format, dims, super::seed(&id, 0), 1.0);
    let url = call.store_file(bytes, format, Some(id.clone()), "output");
    let mut job = Job::new(
        "topazlabs",
        model.map(str::to_string),
        call.created,
        call.reply.pending_polls,
        call.reply.job_failure.clone(),
        call.reply.poll_retry_after.clone(),
        url,
        format,
    );
    job.extra = json!({
        "tool": tool,
        "input_format": input.map_or("jpeg", |(f, _, _)| f.ext()),
        "input_width": iw as u64,
        "input_height": ih as u64,
        "output_width": nominal.0.round() as u64,
        "output_height": nominal.1.round() as u64,
        "crop_to_fill": p.bool("crop_to_fill")?.unwrap_or(false),
    });
    call.store.add_job(id.clone(), job);
    let eta = call.created + 10;
    Ok(Answer::json(call.reply.status, &json!({"process_id": id, "eta": eta}))
        .header("x-process-id", id)
        .header("x-eta", eta.to_string()))
}

fn status(call: &Call<'_>, id: &str) -> Answer {
    let Some(view) = call.store.answer_poll(id) else {
        return not_found(id);
    };
    let job = &view.job;
    let x = &job.extra;
    let (status, progress) = match view.state {
        JobState::Pending if job.progress() == 0.0 => ("Pending".to_string(), 0),
        JobState::Pending => ("Processing".to_string(), (job.progress() * 100.0).round() as u64),
        JobState::Ready => ("Completed".to_string(), 100),
        JobState::Failed => {
            let f = job.failure.as_ref().expect("a failed job has a failure");
            (f.status.clone().unwrap_or_else(|| "Failed".into()), 0)
        }
    };
    let generative = x["tool"].as_str().is_some_and(|t| t.ends_with("-gen"));
    let mut v = json!({
        "process_id": id,
        "filename": "image",
        "input_format": x["input_format"],
        "input_width": x["input_width"],
        "input_height": x["input_height"],
        "output_format": job.format.ext(),
        "output_width": x["output_width"],
        "output_height": x["output_height"],
        "category": "Enhance",
        "model_type": if generative { "Generative" } else { "Standard" },
        "model": job.model,
        "crop_to_fill": x["crop_to_fill"],
        "status": status,
        "progress": progress,
        "credits": 1,
        "eta": job.created + 10,
        "creation_time": job.created,
        "modification_time": job.created,
    });
    if let Some(f) = job.failure.as_ref().filter(|_| view.state == JobState::Failed) {
        v["error"] = json!(f.message);
    }
    let answer = Answer::json(200, &v);
    match (&job.retry_after, view.state) {
        (Some(after), JobState::Pending) => answer.header("retry-after", after.clone()),
        _ => answer,
    }
}

fn download_link(call: &Call<'_>, id: &str) -> Answer {
    let Some(view) = call.store.peek(id) else {
        return not_found(id);
    };
    if view.state != JobState::Ready {
        let err =
            ErrorInfo::new(404, format!("The output of process {id} is not available: the process is not completed."));
        return Answer::error(ImageApi::Topaz, &err);
    }
    let v = json!({"download_url": view.job.file, "head_url": view.job.file, "expiry": call.created + 3600});
    Answer::json(200, &v)
}

fn not_found(id: &str) -> Answer {
    Answer::error(ImageApi::Topaz, &ErrorInfo::new(404, format!("Process {id} not found.")))
}

/// Topaz errors: `{"status": <code>, "message": <text>}` (the exact shape is not documented
/// publicly; clients read the message or fall back to the body text).
pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&json!({"status": err.status, "message": err.message}))
}
