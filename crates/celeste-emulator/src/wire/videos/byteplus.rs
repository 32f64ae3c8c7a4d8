//! BytePlus Seedance. `POST /api/v3/contents/generations/tasks` takes `model` and `content`: one
//! `text` item whose prompt may end with options (`--ratio 16:9 --resolution 720p --duration 5`,
//! checked here as the API does) and `image_url` items with a `role` (`first_frame`, `last_frame`,
//! `reference_image`); it answers `{id}`. `GET .../tasks/{id}` answers `queued`, then `running`,
//! for the reply's pending polls, then `succeeded` with `content.video_url` (a file the emulator
//! serves) and the usage, or `failed` with an `error`.

use serde_json::{Value, json};

use super::{VideoApi, body, check_image, not_found, poll, start_job, text};
use crate::jobs::JobState;
use crate::wire::images::{Answer, BadField, Call, Endpoint, files};

/// Tokens billed per second of video (a stand-in for BytePlus's own count).
const TOKENS_PER_SECOND: u64 = 20_000;

pub(crate) fn answer(call: &Call<'_>) -> Result<Answer, BadField> {
    if let Endpoint::Poll(id) = call.endpoint {
        return Ok(read(call, id));
    }
    let b = body(call);
    if text(&b, "/model").is_none() {
        return Err(BadField::new("model", "Missing required parameter: 'model'."));
    }
    let content = b
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| BadField::new("content", "'content' must be a list."))?;
    let mut prompt = None;
    let mut roles = Vec::new();
    for item in content {
        match text(item, "/type") {
            Some("text") => prompt = text(item, "/text"),
            Some("image_url") => {
                check_image("image_url", text(item, "/image_url/url"), false)?;
                let role = text(item, "/role").unwrap_or("first_frame");
                if !matches!(role, "first_frame" | "last_frame" | "reference_image") {
                    return Err(BadField::new("role", format!("Invalid role {role:?}.")));
                }
                roles.push(role);
            }
            other => return Err(BadField::new("content", format!("Unsupported content type {other:?}."))),
        }
    }
    let prompt =
        prompt.filter(|p| !p.trim().is_empty()).ok_or_else(|| BadField::new("content", "A text item is required."))?;
    if roles.contains(&"last_frame") && !roles.contains(&"first_frame") {
        return Err(BadField::new("content", "A last_frame image needs a first_frame image."));
    }
    let mut seconds = 5;
    let mut words = prompt.split_whitespace();
    while let Some(w) = words.next() {
        let Some(flag) = w.strip_prefix("--") else { continue };
        let value = words.next().ok_or_else(|| BadField::new("content", format!("--{flag} needs a value.")))?;
        match flag {
            "duration" | "dur" => {
                seconds = value.parse().ok().filter(|s| (2..=15).contains(s)).ok_or_else(|| {
                    BadField::new("content", format!("Invalid --duration {value:?}: 2 to 15 seconds."))
                })?;
            }
            "resolution" | "rs" if !matches!(value, "480p" | "720p" | "1080p") => {
                return Err(BadField::new("content", format!("Invalid --resolution {value:?}.")));
            }
            _ => {}
        }
    }
    let id = format!("cgt-{}", crate::plan::fresh_hex(16));
    let job = start_job(call, "byteplus", &id, crate::plan::fresh_hex(24), seconds);
    call.store.add_job(id.clone(), job);
    Ok(Answer::json(call.reply.status, &json!({ "id": id })))
}

fn read(call: &Call<'_>, id: &str) -> Answer {
    let missing = || not_found(VideoApi::BytePlus, format!("The task {id} does not exist."));
    poll(call, id, missing, |state, job| {
        let mut v = json!({"id": id, "model": job.model, "created_at": job.created, "updated_at": call.created});
        match state {
            JobState::Pending => v["status"] = json!(if job.progress() > 0.0 { "running" } else { "queued" }),
            JobState::Failed => {
                let f = job.failure.as_ref().expect("a failed job has a failure");
                v["status"] = json!("failed");
                v["error"] = json!({"code": f.status.as_deref().unwrap_or("OutputVideoSensitiveContentDetected"), "message": f.message});
            }
            JobState::Ready => {
                let seconds = job.extra["seconds"].as_u64().unwrap_or(5);
                v["status"] = json!("succeeded");
                v["content"] = json!({"video_url": files::url(call.base_url, &job.file, "video.mp4")});
                v["duration"] = json!(seconds);
                v["usage"] = json!({"completion_tokens": seconds * TOKENS_PER_SECOND, "total_tokens": seconds * TOKENS_PER_SECOND});
            }
        }
        Answer::json(200, &v)
    })
}
