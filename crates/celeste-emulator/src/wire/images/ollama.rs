//! Ollama image generation: `POST /api/generate` with an image model. It streams NDJSON unless
//! `"stream": false`: one progress line per diffusion step (`completed` / `total`), then a final
//! line with the PNG in `image` (base64) and `done: true`. A reply's `job_failure` ends the
//! stream with an `{"error": ...}` line after the progress lines (a unary request gets a 500).
//!
//! The reference library uses `/api/generate` only for images (text goes through Ollama's
//! OpenAI-compatible Responses endpoint), so every request here is answered with an image.

use serde_json::json;

use super::{Answer, AnswerBody, BadField, Call, ImageApi, Payload, b64, seed};
use crate::image::{self, Format};
use crate::wire::{ErrorInfo, Events, push_json, rfc3339};

/// Progress lines sent when the request names no `steps`; more than this many steps are
/// reported as this many lines.
const DEFAULT_STEPS: u64 = 4;
const MAX_STEP_LINES: u64 = 50;

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    let p = call.payload;
    let Ask { model, prompt, steps, dims, stream } = match read(p) {
        Ok(v) => v,
        Err(bad) => {
            // Ollama's errors are a bare message.
            return Answer::error(ImageApi::Ollama, &ErrorInfo::new(400, bad.message));
        }
    };
    let created_at = rfc3339(call.created);
    let head = |done: bool| json!({"model": model, "created_at": created_at, "response": "", "done": done});
    let last = || {
        let mut v = head(true);
        v["image"] = json!(b64(&image::render(Format::Png, dims, seed(prompt, 0), 1.0)));
        v["done_reason"] = json!("stop");
        v["total_duration"] = json!(steps * 250_000_000 + 50_000_000);
        v["load_duration"] = json!(50_000_000);
        v
    };
    if !stream {
        if let Some(f) = &call.reply.job_failure {
            return Answer::error(ImageApi::Ollama, &ErrorInfo::new(500, f.message.clone()));
        }
        return Answer::json(call.reply.status, &last());
    }
    let mut ev = Events::default();
    let total = steps.min(MAX_STEP_LINES);
    for k in 1..=total {
        let mut v = head(false);
        v["completed"] = json!(k);
        v["total"] = json!(total);
        ev.line(|b| push_json(b, &v));
    }
    match &call.reply.job_failure {
        Some(f) => ev.line(|b| push_json(b, &json!({"error": f.message}))),
        None => ev.line(|b| push_json(b, &last())),
    }
    Answer {
        status: call.reply.status,
        content_type: "application/x-ndjson",
        headers: Vec::new(),
        body: AnswerBody::Stream(ev.finish()),
    }
}

/// What the request asked for.
struct Ask<'a> {
    model: &'a str,
    prompt: &'a str,
    steps: u64,
    dims: (u32, u32),
    stream: bool,
}

fn read(p: &Payload) -> Result<Ask<'_>, BadField> {
    let model = p.str("model")?.filter(|m| !m.is_empty()).ok_or_else(|| BadField::new("model", "model is required"))?;
    let prompt =
        p.required_str("prompt").map_err(|_| BadField::new("prompt", "prompt is required for image generation"))?;
    let steps = p.int("steps", 1, 1000)?.map_or(DEFAULT_STEPS, |s| s as u64);
    let width = p.int("width", 1, 16_384)?;
    let height = p.int("height", 1, 16_384)?;
    let (w, h) = match (width, height) {
        (Some(w), Some(h)) => (w, h),
        (Some(s), None) | (None, Some(s)) => (s, s),
        (None, None) => (1024, 1024),
    };
    let stream = p.bool("stream")?.unwrap_or(true);
    if let Some(options) = p.get("options")
        && !options.is_object()
    {
        return Err(BadField::new("options", "options must be an object"));
    }
    Ok(Ask { model, prompt, steps, dims: image::fit(w as f64, h as f64), stream })
}
