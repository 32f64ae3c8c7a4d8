//! Black Forest Labs Flux: `POST /v1/{model}` (any model id starting with `flux`) submits a job
//! and answers `{id, polling_url, cost, input_mp, output_mp}`; `GET /v1/get_result?id=` (the
//! `polling_url`) answers `Pending` for the reply's `pending_polls`, then `Ready` with
//! `result.sample`, a URL the emulator serves, or the reply's `job_failure` status (`Error` by
//! default; `Request Moderated`, `Content Moderated`... verbatim). An unknown id answers
//! `Task not found`, as BFL does.
//!
//! The server is FastAPI: schema errors are 422 with `{"detail": [{loc, msg, type}]}`, other
//! errors `{"detail": "..."}`.

use serde_json::{Value, json};

use super::{Answer, BadField, Call, Endpoint, ImageApi, Payload, Seen, inline_image};
use crate::image::{self, Format};
use crate::jobs::{Job, JobState};
use crate::plan::fresh_uuid;
use crate::wire::{ErrorInfo, to_vec};

/// Credits charged per job (BFL reports a `cost` on submit and on the settled poll).
const COST: f64 = 4.0;

/// The fields that carry input images, by model family.
const IMAGE_FIELDS: &[&str] = &[
    "input_image",
    "input_image_2",
    "input_image_3",
    "input_image_4",
    "input_image_5",
    "input_image_6",
    "input_image_7",
    "input_image_8",
    "input_image_9",
    "input_image_10",
    "image_prompt",
];

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    match call.endpoint {
        Endpoint::Poll(id) => poll(call, id),
        _ => match submit(call) {
            Ok(answer) => answer,
            Err(bad) => Answer::bad_request(ImageApi::Bfl, bad),
        },
    }
}

fn submit(call: &Call<'_>) -> Result<Answer, BadField> {
    let p = call.payload;
    let prompt = p.required_str("prompt")?;
    let format = p.choice("output_format", &["jpeg", "png", "webp"])?.and_then(Format::parse).unwrap_or(Format::Jpeg);
    let seed = p.int("seed", 0, i64::from(u32::MAX))?;
    p.int("safety_tolerance", 0, 6)?;
    p.bool("prompt_upsampling")?;
    let first = input_images(p)?;
    let width = p.int("width", 1, 16_384)?;
    let height = p.int("height", 1, 16_384)?;
    let nominal = match (width, height, p.str("aspect_ratio")?) {
        (Some(w), Some(h), _) => (w as f64, h as f64),
        (w, h, _) if w.is_some() || h.is_some() => {
            let (w, h) = (w.or(h).unwrap_or(1024), h.or(w).unwrap_or(1024));
            (w as f64, h as f64)
        }
        (_, _, Some(r)) if r != "auto" => match image::parse_ratio(r) {
            Some((w, h)) => {
                let scale = 1024.0 / w.max(h);
                (w * scale, h * scale)
            }
            None => return Err(BadField::new("aspect_ratio", format!("Invalid aspect ratio {r:?}."))),
        },
        _ => match first {
            Some((_, w, h)) => (f64::from(w), f64::from(h)),
            None => (1024.0, 768.0),
        },
    };
    let dims = image::fit(nominal.0, nominal.1);

    let id = fresh_uuid();
    let bytes = image::render(format, dims, super::seed(prompt, 0), 1.0);
    let sample = call.store_file(bytes, format, Some(id.clone()), "sample");
    let output_mp = (nominal.0 * nominal.1 / 1e4).round() / 100.0;
    let mut job = Job::new(
        "bfl",
        call.model.map(str::to_string),
        call.created,
        call.reply.pending_polls,
        call.reply.job_failure.clone(),
        call.reply.poll_retry_after.clone(),
        sample,
        format,
    );
    job.extra = json!({"prompt": prompt, "seed": seed.unwrap_or(42), "output_mp": output_mp});
    call.store.add_job(id.clone(), job);
    let v = json!({
        "id": id,
        "polling_url": format!("{}/v1/get_result?id={id}", call.base_url),
        "cost": COST,
        "input_mp": if first.is_some() { output_mp } else { 0.0 },
        "output_mp": output_mp,
    });
    Ok(Answer::json(call.reply.status, &v))
}

/// Checks every input image field (`input_image*`, `image_prompt`, `images`): base64, a data
/// URL, or an http(s) URL. Returns the size of the first inline one.
fn input_images(p: &Payload) -> Result<Seen, BadField> {
    let mut first = None;
    let mut check = |field: &'static str, v: &Value| -> Result<(), BadField> {
        let s = v.as_str().ok_or_else(|| BadField::new(field, format!("'{field}' must be a string.")))?;
        let found = inline_image(s, true).map_err(|e| BadField::new(field, format!("Invalid '{field}': {e}.")))?;
        first = first.or(found);
        Ok(())
    };
    for &field in IMAGE_FIELDS {
        if let Some(v) = p.get(field) {
            check(field, v)?;
        }
    }
    if let Some(list) = p.get("images") {
        for v in list.as_array().ok_or_else(|| BadField::new("images", "'images' must be a list."))? {
            check("images", v)?;
        }
    }
    Ok(first)
}

fn poll(call: &Call<'_>, id: &str) -> Answer {
    let Some(view) = call.store.answer_poll(id) else {
        let v = json!({"id": id, "status": "Task not found", "result": null, "progress": null, "details": null,
                       "preview": null});
        return Answer::json(200, &v);
    };
    let job = &view.job;
    let mut v = json!({"id": id, "result": null, "progress": null, "details": null, "preview": null});
    match view.state {
        JobState::Pending => {
            v["status"] = json!("Pending");
            v["progress"] = json!((job.progress() * 100.0).round() / 100.0);
            return Answer::json(200, &v).retry_after(job.retry_after.as_ref());
        }
        JobState::Failed => {
            let failure = job.failure.as_ref().expect("a failed job has a failure");
            v["status"] = json!(failure.status.as_deref().unwrap_or("Error"));
            v["error"] = json!(failure.message);
            v["details"] = json!({"message": failure.message});
        }
        JobState::Ready => {
            v["status"] = json!("Ready");
            v["progress"] = json!(1.0);
            v["cost"] = json!(COST);
            v["result"] = json!({
                "sample": job.file,
                "prompt": job.extra["prompt"],
                "seed": job.extra["seed"],
                "start_time": job.created,
                "end_time": job.created + 1,
                "duration": 1.0,
            });
        }
    }
    Answer::json(200, &v)
}

/// FastAPI's error shapes: a list of field errors for 422, a message otherwise.
pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    let v = match (&err.param, err.status) {
        (Some(param), 422) => json!({"detail": [{
            "loc": ["body", param],
            "msg": err.message,
            "type": if err.message.starts_with("Missing") { "missing" } else { "value_error" },
        }]}),
        _ => json!({"detail": err.message}),
    };
    to_vec(&v)
}
