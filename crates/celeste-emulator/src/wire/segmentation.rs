//! fal's queue, serving SAM-3 image segmentation (`fal-ai/sam-3/image-rle` and kin):
//!
//! - `POST /fal-ai/{app}/{path}` submits: `{request_id, status, response_url, status_url,
//!   cancel_url, queue_position}`;
//! - `GET /fal-ai/{app}/requests/{id}/status` answers `IN_QUEUE` (first), then `IN_PROGRESS`, for
//!   the reply's `pending_polls`, then `COMPLETED`, with an `error` and `error_type` when the reply
//!   scripts a `job_failure` (fal's way of saying a request failed);
//! - `GET /fal-ai/{app}/requests/{id}` answers the result: real run-length masks of the input
//!   image's size (`start length` pairs, row-major, 1-based), as one string or a list
//!   (`return_multiple_masks`), with per-mask `metadata` and, when asked, `scores` and `boxes`
//!   (`[cx, cy, w, h]`, normalised). Before the job settles it is a 400; after a failure, a 422
//!   with the failure.
//!
//! Mask 0 covers the first box prompt, else a square around the first point, else the image's
//! middle half; each further mask is one pixel smaller on every side. An image given as a URL is
//! taken to be 64×48 (the emulator fetches nothing).

use serde_json::{Value, json};

use super::images::{Answer, BadField, Call, Endpoint, ImageApi, inline_image};
use crate::image::Format;
use crate::jobs::{Job, JobState};
use crate::plan::fresh_uuid;
use crate::wire::ErrorInfo;

/// The size of an image the emulator cannot see (a URL).
const URL_IMAGE: (u32, u32) = (64, 48);

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    match call.endpoint {
        Endpoint::Poll(id) => status(call, id),
        Endpoint::DownloadLink(id) => result(call, id),
        _ => submit(call).unwrap_or_else(|bad| Answer::bad_request(ImageApi::Fal, bad)),
    }
}

/// `fal-ai/{app}`: the part of a model id its queue URLs keep.
fn app_of(model: &str) -> String {
    model.split('/').take(2).collect::<Vec<_>>().join("/")
}

fn urls(base: &str, model: &str, id: &str) -> (String, String) {
    let response = format!("{base}/{}/requests/{id}", app_of(model));
    (format!("{response}/status"), response)
}

/// A rectangle of pixels, `x0..x1` × `y0..y1`.
type Rect = (u32, u32, u32, u32);

/// `start length` runs of a rectangle in a `w`-wide image, row-major, 1-based.
fn runs((x0, y0, x1, y1): Rect, w: u32) -> String {
    (y0..y1)
        .map(|y| format!("{} {}", u64::from(y) * u64::from(w) + u64::from(x0) + 1, x1 - x0))
        .collect::<Vec<_>>()
        .join(" ")
}

fn u32_field(v: &Value, key: &'static str, field: &'static str) -> Result<u32, BadField> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| BadField::new(field, format!("'{field}' items need a non-negative integer '{key}'.")))
}

fn submit(call: &Call<'_>) -> Result<Answer, BadField> {
    let p = call.payload;
    let image = p.required_str("image_url")?;
    let seen =
        inline_image(image, false).map_err(|e| BadField::new("image_url", format!("Invalid 'image_url': {e}.")))?;
    let (w, h) = seen.map_or(URL_IMAGE, |(_, w, h)| (w, h));
    p.str("prompt")?;
    let max_masks = p.int("max_masks", 1, 32)?;
    let scores = p.bool("include_scores")?.unwrap_or(false);
    let boxes = p.bool("include_boxes")?.unwrap_or(false);
    let multiple = p.bool("return_multiple_masks")?.unwrap_or(false);
    let list = |field: &'static str| -> Result<Vec<Value>, BadField> {
        match p.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(BadField::new(field, format!("'{field}' must be a list."))),
        }
    };
    let mut first: Option<Rect> = None;
    for b in list("box_prompts")? {
        let [x0, y0, x1, y1] = ["x_min", "y_min", "x_max", "y_max"].map(|k| u32_field(&b, k, "box_prompts"));
        let r = (x0?.min(w), y0?.min(h), x1?.min(w), y1?.min(h));
        if r.0 >= r.2 || r.1 >= r.3 {
            return Err(BadField::new("box_prompts", "A box prompt is empty inside the image."));
        }
        first = first.or(Some(r));
    }
    for pt in list("point_prompts")? {
        let (x, y) = (u32_field(&pt, "x", "point_prompts")?, u32_field(&pt, "y", "point_prompts")?);
        if !matches!(pt.get("label").and_then(Value::as_u64), Some(0 | 1)) {
            return Err(BadField::new("point_prompts", "A point prompt's 'label' must be 0 or 1."));
        }
        if x >= w || y >= h {
            return Err(BadField::new("point_prompts", "A point prompt is outside the image."));
        }
        first = first.or(Some((x.saturating_sub(2), y.saturating_sub(2), (x + 3).min(w), (y + 3).min(h))));
    }
    let base = first.unwrap_or((w / 4, h / 4, (3 * w / 4).max(w / 4 + 1), (3 * h / 4).max(h / 4 + 1)));
    let n = if multiple { max_masks.unwrap_or(3) as u32 } else { 1 };
    let mut rles = Vec::new();
    let mut metadata = Vec::new();
    let (mut score_list, mut box_list) = (Vec::new(), Vec::new());
    for k in 0..n {
        let (x0, y0, x1, y1) = base;
        // Shrink by `k` on each side while something is left.
        let r = if x1 - x0 > 2 * k && y1 - y0 > 2 * k { (x0 + k, y0 + k, x1 - k, y1 - k) } else { base };
        let score = (0.95 - 0.1 * f64::from(k)).max(0.05);
        let bbox = [
            (f64::from(r.0 + r.2) / 2.0) / f64::from(w),
            (f64::from(r.1 + r.3) / 2.0) / f64::from(h),
            f64::from(r.2 - r.0) / f64::from(w),
            f64::from(r.3 - r.1) / f64::from(h),
        ];
        rles.push(runs(r, w));
        metadata.push(json!({"index": k, "score": score, "box": bbox}));
        score_list.push(score);
        box_list.push(bbox);
    }
    let mut result = json!({
        "rle": if multiple { json!(rles) } else { json!(rles[0]) },
        "metadata": metadata,
    });
    if scores {
        result["scores"] = json!(score_list);
    }
    if boxes {
        result["boxes"] = json!(box_list);
    }

    let id = fresh_uuid();
    let model = call.model.unwrap_or("fal-ai/sam-3/image-rle").to_string();
    let mut job = Job::new(
        "fal",
        Some(model.clone()),
        call.created,
        call.reply.pending_polls,
        call.reply.job_failure.clone(),
        call.reply.poll_retry_after.clone(),
        String::new(),
        Format::Png,
    );
    job.extra = result;
    call.store.add_job(id.clone(), job);
    let (status_url, response_url) = urls(call.base_url, &model, &id);
    let v = json!({
        "request_id": id,
        "status": "IN_QUEUE",
        "queue_position": 0,
        "cancel_url": format!("{response_url}/cancel"),
        "status_url": status_url,
        "response_url": response_url,
    });
    Ok(Answer::json(call.reply.status, &v))
}

fn not_found(id: &str) -> Answer {
    Answer::error(ImageApi::Fal, &ErrorInfo::new(404, format!("Request {id} not found.")))
}

fn status(call: &Call<'_>, id: &str) -> Answer {
    let Some(view) = call.store.answer_poll(id) else { return not_found(id) };
    let job = &view.job;
    let (_, response_url) = urls(call.base_url, job.model.as_deref().unwrap_or_default(), id);
    let v = match view.state {
        JobState::Pending => {
            let queued = job.progress() == 0.0;
            let v = if queued {
                json!({"status": "IN_QUEUE", "queue_position": 0, "response_url": response_url})
            } else {
                json!({"status": "IN_PROGRESS", "logs": [], "response_url": response_url})
            };
            return Answer::json(200, &v).retry_after(job.retry_after.as_ref());
        }
        JobState::Failed => {
            let failure = job.failure.as_ref().expect("a failed job has a failure");
            json!({"status": "COMPLETED", "response_url": response_url, "logs": [],
                   "error": failure.message, "error_type": failure.status.as_deref().unwrap_or("runner_error")})
        }
        JobState::Ready => {
            json!({"status": "COMPLETED", "response_url": response_url, "logs": [], "metrics": {"inference_time": 0.2}})
        }
    };
    Answer::json(200, &v)
}

fn result(call: &Call<'_>, id: &str) -> Answer {
    let Some(view) = call.store.peek(id) else { return not_found(id) };
    match view.state {
        JobState::Ready => Answer::json(200, &view.job.extra),
        JobState::Pending => Answer::error(ImageApi::Fal, &ErrorInfo::new(400, "Request is still in progress.")),
        JobState::Failed => {
            let msg = view.job.failure.as_ref().map_or_else(String::new, |f| f.message.clone());
            Answer::error(ImageApi::Fal, &ErrorInfo::new(422, msg))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_become_row_major_one_based_runs() {
        // 4 wide: (1, 1)..(3, 3) is pixels 6-7 and 10-11 (1-based).
        assert_eq!(runs((1, 1, 3, 3), 4), "6 2 10 2");
        assert_eq!(app_of("fal-ai/sam-3/image-rle"), "fal-ai/sam-3");
        assert_eq!(urls("http://h", "fal-ai/sam-3/image-rle", "r1").0, "http://h/fal-ai/sam-3/requests/r1/status");
    }
}
