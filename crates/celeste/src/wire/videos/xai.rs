//! xAI Grok Imagine video: `POST /v1/videos/generations` (or `/v1/videos/edits`, with the video to
//! edit) answers `{request_id}`; `GET /v1/videos/{request_id}` answers HTTP 202 with a pending
//! status until the video is done (HTTP 200 with `video: {url, duration}`), every 5 s.
//!
//! Parameters as they are: `duration`, `aspect_ratio`, `resolution`; the first frame is
//! `image: {url}` and the edited video `video: {url}`, data URLs when they are local bytes. The
//! video's URL is presigned on xAI's storage: it gets no key.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{JobPoll, VideoApi, VideoContext, VideoRequest, job_id, json_reply, poll_job, video};
use crate::error::{Error, Result};
use crate::jobs::{Poll, Poller};
use crate::types::enums::Operation;
use crate::types::output::Output;
use crate::types::video::Video;

/// The parameters xAI video carries.
pub(crate) const CARRIED: &[&str] = &["duration", "aspect_ratio", "resolution", "first_frame"];

/// The statuses that end a job without a video.
const FAILED: &[&str] = &["failed", "expired", "error", "cancelled"];

/// The path of an operation.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Generate => Some("/v1/videos/generations"),
        Operation::Edit => Some("/v1/videos/edits"),
        _ => None,
    }
}

/// The request body.
pub(crate) fn build(req: &VideoRequest, ctx: &VideoContext) -> Result<Value> {
    let mut m = Map::new();
    m.insert("model".into(), req.model.clone().into());
    m.insert("prompt".into(), req.input.prompt.clone().into());
    for name in ["duration", "aspect_ratio", "resolution"] {
        if let Some(v) = req.params.get(name) {
            m.insert(name.into(), v.clone());
        }
    }
    if let Some(a) = &req.input.first_frame {
        m.insert("image".into(), json!({ "url": a.data_url()? }));
    }
    if req.operation == Operation::Edit {
        let v = req.input.video.as_ref().ok_or_else(|| ctx.unsupported("an edit without a video"))?;
        m.insert("video".into(), json!({ "url": v.data_url()? }));
    }
    Ok(Value::Object(m))
}

/// The job's id from the submit's reply.
pub(crate) fn submitted(body: &[u8]) -> Result<String> {
    job_id(body, "an xAI video submit reply", &["request_id", "id"])
}

/// Read one poll: a `video` with a URL is done; a failure status ends the job; anything else is
/// still pending (HTTP 202).
pub(crate) fn read(body: &[u8]) -> Result<JobPoll> {
    let v: Value = json_reply(body, "an xAI video status")?;
    let status = v.get("status").and_then(Value::as_str).unwrap_or("pending").to_string();
    if v.pointer("/video/url").and_then(Value::as_str).is_some_and(|u| !u.is_empty()) {
        return Ok(Poll::Done((v, Bytes::copy_from_slice(body))));
    }
    // Done without a video: the provider withheld it (moderation), which no poll will change.
    if status.eq_ignore_ascii_case("done") && v.get("error").is_none_or(Value::is_null) {
        let moderated = v.pointer("/video/respect_moderation").and_then(Value::as_bool) == Some(false);
        let why = if moderated { "the video was withheld by moderation" } else { "the job finished without a video" };
        return Ok(Poll::Failed { status, message: Some(why.into()) });
    }
    if FAILED.contains(&status.to_ascii_lowercase().as_str()) || v.get("error").is_some_and(|e| !e.is_null()) {
        let message = match v.get("error") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(e) => e.get("message").and_then(Value::as_str).map(str::to_string),
            None => v.get("message").and_then(Value::as_str).map(str::to_string),
        };
        let status = if status == "pending" { "failed".to_string() } else { status };
        return Ok(Poll::Failed { status, message });
    }
    let fraction = v.get("progress").and_then(Value::as_f64).map(|p| if p > 1.0 { p / 100.0 } else { p });
    Ok(Poll::Pending { status, fraction })
}

/// Poll job `id` to its end.
pub(crate) async fn finish(id: String, ctx: &VideoContext, poller: &mut Poller<'_>) -> Result<Output<Vec<Video>>> {
    let path = |segment: &str| format!("/v1/videos/{segment}");
    let (v, raw) = poll_job(VideoApi::XAi, "xAI video job", &id, path, ctx, poller, read).await?;
    let text = |p: &str| v.pointer(p).and_then(Value::as_str);
    let mut vid = video(None, text("/video/url"), text("/video/mime_type"), ctx)
        .ok_or_else(|| Error::decode("an xAI video status", "it has no video URL", &raw))?;
    vid.duration = v.pointer("/video/duration").and_then(Value::as_f64);
    let mut out = ctx.output(vec![vid], raw);
    out.metadata.response_id = Some(id);
    out.metadata.response_model = text("/model").map(str::to_string);
    Ok(out)
}
