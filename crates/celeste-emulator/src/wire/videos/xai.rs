//! xAI Grok Imagine video. `POST /v1/videos/generations` (`model`, `prompt`, `duration` 1–15,
//! `aspect_ratio`, `resolution`, `image: {url}`) or `/v1/videos/edits` (with `video: {url}`)
//! answers `{request_id}`; `GET /v1/videos/{request_id}` answers HTTP 202 `{status: "pending"}` for
//! the reply's pending polls, then HTTP 200 with `video: {url, duration}` (a file the emulator
//! serves) or the failure (`status: "failed"` with an `error`).

use serde_json::json;

use super::{VideoApi, body, check_image, check_video, not_found, poll, start_job, text};
use crate::jobs::JobState;
use crate::plan::fresh_uuid;
use crate::wire::images::{Answer, BadField, Call, Endpoint, files};

const RATIOS: &[&str] = &["16:9", "4:3", "1:1", "9:16", "3:4", "3:2", "2:3"];

pub(crate) fn answer(call: &Call<'_>) -> Result<Answer, BadField> {
    if let Endpoint::Poll(id) = call.endpoint {
        return Ok(read(call, id));
    }
    let p = call.payload;
    p.required_str("prompt")?;
    let seconds = p.int("duration", 1, 15)?.unwrap_or(6) as u32;
    p.choice("aspect_ratio", RATIOS)?;
    p.choice("resolution", &["480p", "720p", "1080p"])?;
    let b = body(call);
    if let Some(image) = b.get("image") {
        check_image("image", text(image, "/url"), false)?;
    }
    if *call.endpoint == Endpoint::Edit {
        let video = b.get("video").ok_or_else(|| BadField::new("video", "Missing required parameter: 'video'."))?;
        check_video("video", text(video, "/url"), false)?;
    }
    let id = fresh_uuid();
    let file = crate::plan::fresh_hex(24);
    let job = start_job(call, "xai", &id, file, seconds);
    call.store.add_job(id.clone(), job);
    Ok(Answer::json(call.reply.status, &json!({ "request_id": id })))
}

fn read(call: &Call<'_>, id: &str) -> Answer {
    let missing = || not_found(VideoApi::Xai, format!("No video request with id {id}."));
    poll(call, id, missing, |state, job| match state {
        JobState::Pending => Answer::json(202, &json!({"status": "pending"})),
        JobState::Failed => {
            let f = job.failure.as_ref().expect("a failed job has a failure");
            let status = f.status.as_deref().unwrap_or("failed");
            Answer::json(200, &json!({"status": status, "error": {"code": status, "message": f.message}}))
        }
        JobState::Ready => Answer::json(
            200,
            &json!({
                "status": "done",
                "video": {
                    "url": files::url(call.base_url, &job.file, "video.mp4"),
                    "duration": job.extra["seconds"],
                    "respect_moderation": true,
                },
                "model": job.model,
            }),
        ),
    })
}
