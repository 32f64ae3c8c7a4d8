//! BytePlus ModelArk Seedance: `POST /api/v3/contents/generations/tasks` answers `{id}`;
//! `GET /api/v3/contents/generations/tasks/{id}` answers the task (`queued`, `running`, then
//! `succeeded` with `content.video_url`, or `failed` / `cancelled` / `expired` with an `error`), every
//! 5 s (the reference's interval).
//!
//! Seedance takes its options in the prompt text, as the API documents: `--ratio`,
//! `--resolution`, `--duration`, `--seed`, `--watermark`, `--camerafixed` are appended to the text
//! item. Images are `image_url` content items with a `role`: `first_frame`, `last_frame`,
//! `reference_image`. The video URL is presigned: it gets no key.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{JobPoll, VideoApi, VideoContext, VideoRequest, job_id, json_reply, poll_job, video};
use crate::error::{Error, Result};
use crate::jobs::{Poll, Poller};
use crate::types::enums::Operation;
use crate::types::output::Output;
use crate::types::video::Video;
use crate::wire::kit::renamed;

/// The parameters Seedance carries.
pub(crate) const CARRIED: &[&str] = &[
    "aspect_ratio",
    "resolution",
    "duration",
    "seed",
    "watermark",
    "camera_fixed",
    "first_frame",
    "last_frame",
    "reference_images",
];

/// The statuses that end a task without a video.
const FAILED: &[&str] = &["failed", "cancelled", "expired"];

/// The path of an operation.
pub(crate) fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Generate => Some("/api/v3/contents/generations/tasks"),
        _ => None,
    }
}

/// A parameter as prompt text (`16:9`, `5`, `true`).
fn flag(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request body.
pub(crate) fn build(req: &VideoRequest, _ctx: &VideoContext) -> Result<Value> {
    let p = &req.params;
    let mut text = req.input.prompt.trim_end().to_string();
    let flags = [
        ("aspect_ratio", "ratio"),
        ("resolution", "resolution"),
        ("duration", "duration"),
        ("seed", "seed"),
        ("watermark", "watermark"),
        ("camera_fixed", "camerafixed"),
    ];
    for (theirs, v) in renamed(p, &flags) {
        text.push_str(&format!(" --{theirs} {}", flag(v)));
    }
    let mut content = vec![json!({"type": "text", "text": text})];
    let frames = [(&req.input.first_frame, "first_frame"), (&req.input.last_frame, "last_frame")];
    for (a, role) in frames.iter().filter_map(|(a, r)| a.as_ref().map(|a| (a, *r))) {
        content.push(json!({"type": "image_url", "image_url": {"url": a.data_url()?}, "role": role}));
    }
    for a in &p.reference_images {
        content.push(json!({"type": "image_url", "image_url": {"url": a.data_url()?}, "role": "reference_image"}));
    }
    Ok(json!({"model": req.model, "content": content}))
}

/// The task's id from the submit's reply.
pub(crate) fn submitted(body: &[u8]) -> Result<String> {
    job_id(body, "a BytePlus video task reply", &["id"])
}

/// Read one poll of the task.
pub(crate) fn read(body: &[u8]) -> Result<JobPoll> {
    let v: Value = json_reply(body, "a BytePlus video task")?;
    let status = v.get("status").and_then(Value::as_str).unwrap_or("queued").to_string();
    if status == "succeeded" {
        return Ok(Poll::Done((v, Bytes::copy_from_slice(body))));
    }
    if FAILED.contains(&status.as_str()) {
        let err = v.get("error");
        let message = err.and_then(|e| e.get("message")).and_then(Value::as_str).map(str::to_string);
        let code = err.and_then(|e| e.get("code")).and_then(Value::as_str);
        let status = code.map_or(status.clone(), |c| format!("{status}: {c}"));
        return Ok(Poll::Failed { status, message });
    }
    Ok(Poll::Pending { status, fraction: None })
}

/// Poll task `id` to its end.
pub(crate) async fn finish(id: String, ctx: &VideoContext, poller: &mut Poller<'_>) -> Result<Output<Vec<Video>>> {
    let path = |segment: &str| format!("/api/v3/contents/generations/tasks/{segment}");
    let (v, raw) = poll_job(VideoApi::BytePlus, "BytePlus task", &id, path, ctx, poller, read).await?;
    let text = |p: &str| v.pointer(p).and_then(Value::as_str);
    let mut vid = video(None, text("/content/video_url"), None, ctx)
        .ok_or_else(|| Error::decode("a BytePlus video task", "it succeeded without `content.video_url`", &raw))?;
    vid.duration = v.get("duration").and_then(Value::as_f64);
    if let Some(last) = text("/content/last_frame_url") {
        vid.artifact.metadata.insert("last_frame_url".into(), last.into());
    }
    for k in ["seed", "resolution", "ratio", "framespersecond"] {
        if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
            vid.artifact.metadata.insert(k.into(), x.clone());
        }
    }
    let mut out = ctx.output(vec![vid], raw);
    out.metadata.response_id = Some(id);
    out.metadata.response_model = text("/model").map(str::to_string);
    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
        out.usage.output_tokens = u.get("completion_tokens").and_then(Value::as_u64);
        out.usage.total_tokens = u.get("total_tokens").and_then(Value::as_u64);
        out.usage.raw = Some(crate::types::usage::RawJson::from(u));
    }
    Ok(out)
}
