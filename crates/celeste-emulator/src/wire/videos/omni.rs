//! Gemini omni models on Interactions (`POST /v1beta/interactions` with a `gemini-omni-*` model):
//! the finished video in one answer, as a `video` content item (base64 MP4) of a `model_output`
//! step. `response_format.duration` (`"5s"`) sets its length; an edit (`video_config.task:
//! "edit"`) needs a `video` item; image items must decode.

use serde_json::{Value, json};

use super::{b64, body, check_image, check_video, text};
use crate::wire::images::{Answer, BadField, Call};

pub(crate) fn answer(call: &Call<'_>) -> Result<Answer, BadField> {
    let b = body(call);
    let content = b
        .pointer("/input/0/content")
        .and_then(Value::as_array)
        .ok_or_else(|| BadField::new("input", "'input[0].content' must be a list."))?;
    let mut prompt = None;
    let mut has_video = false;
    for item in content {
        match text(item, "/type") {
            Some("text") => prompt = text(item, "/text"),
            Some("image") if item.get("uri").is_none() => check_image("image", text(item, "/data"), true)?,
            Some("video") if item.get("uri").is_none() => {
                check_video("video", text(item, "/data"), true)?;
                has_video = true;
            }
            Some("image" | "video") => has_video |= text(item, "/type") == Some("video"),
            other => return Err(BadField::new("input", format!("Unsupported content type {other:?}."))),
        }
    }
    let prompt =
        prompt.filter(|p| !p.trim().is_empty()).ok_or_else(|| BadField::new("input", "A text item is required."))?;
    let task = text(&b, "/generation_config/video_config/task");
    if task == Some("edit") && !has_video {
        return Err(BadField::new("video_config", "The edit task needs a video."));
    }
    let seconds = match text(&b, "/response_format/duration") {
        None => 5,
        Some(d) => d
            .strip_suffix('s')
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| (1.0..=10.0).contains(s))
            .ok_or_else(|| BadField::new("duration", format!("Invalid duration {d:?}.")))? as u32,
    };
    let tokens = (prompt.len() as u64).div_ceil(4).max(1);
    let v = json!({
        "id": format!("v1_{}", crate::plan::fresh_hex(20)),
        "model": call.model,
        "status": "completed",
        "created": crate::wire::rfc3339(call.created),
        "steps": [{"type": "model_output", "content": [
            {"type": "video", "data": b64(&crate::mp4::render(640, 360, seconds)), "mime_type": "video/mp4"}
        ]}],
        "usage": {"total_input_tokens": tokens, "total_output_tokens": u64::from(seconds) * 258, "total_tokens": tokens + u64::from(seconds) * 258},
    });
    Ok(Answer::json(call.reply.status, &v))
}
