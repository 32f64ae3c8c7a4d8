//! BytePlus ModelArk Seedream: `POST /api/v3/images/generations` (JSON). `size` is a class
//! (`"1K"`, `"2K"`, `"4K"`) or `"WxH"`; `response_format` is `"url"` (the default, served by the
//! emulator) or `"b64_json"`; `output_format` `"jpeg"` (default) or `"png"`; reference images go
//! in `image` (one data URL / http URL, or a list). `sequential_image_generation: "auto"` with
//! `sequential_image_generation_options.max_images` asks for several images.
//!
//! With `"stream": true` the answer is SSE: one `image_generation.partial_succeeded` event per
//! image (or `image_generation.partial_failed` when the reply scripts a `job_failure`), then
//! `image_generation.completed` with the usage, then `data: [DONE]`.

use serde_json::{Value, json};

use super::{Answer, BadField, Call, ImageApi, Payload, Seen, b64, inline_image, seed};
use crate::image::{self, Format};
use crate::wire::{ErrorInfo, Events, push_json, to_vec};

/// Output tokens BytePlus bills per generated image (at 2K).
const TOKENS_PER_IMAGE: u64 = 16_384;

struct Ask<'a> {
    model: &'a str,
    prompt: &'a str,
    n: usize,
    size: String,
    dims: (u32, u32),
    format: Format,
    url: bool,
    stream: bool,
    seed: Option<i64>,
}

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    let ask = match read(call.payload) {
        Ok(ask) => ask,
        Err(bad) => return Answer::bad_request(ImageApi::BytePlus, bad),
    };
    let items: Vec<Value> = (0..ask.n).map(|i| item(call, &ask, i)).collect();
    let generated = items.iter().filter(|v| v.get("error").is_none()).count() as u64;
    let tokens = call.reply.usage.output_tokens.unwrap_or(TOKENS_PER_IMAGE * generated);
    let usage = json!({"generated_images": generated, "output_tokens": tokens, "total_tokens": tokens});
    if ask.stream {
        let mut ev = Events::default();
        for (i, it) in items.into_iter().enumerate() {
            let kind = if it.get("error").is_some() {
                "image_generation.partial_failed"
            } else {
                "image_generation.partial_succeeded"
            };
            let mut v = json!({"type": kind, "model": ask.model, "created": call.created, "image_index": i});
            if let (Value::Object(dst), Value::Object(src)) = (&mut v, it) {
                dst.extend(src);
            }
            ev.sse(Some(kind), |b| push_json(b, &v));
        }
        let done = json!({"type": "image_generation.completed", "model": ask.model, "created": call.created,
                          "usage": usage});
        ev.sse(Some("image_generation.completed"), |b| push_json(b, &done));
        ev.sse(None, |b| b.extend_from_slice(b"[DONE]"));
        let mut answer = Answer::sse(ev.finish());
        answer.status = call.reply.status;
        return answer;
    }
    let mut v = json!({"model": ask.model, "created": call.created, "data": items, "usage": usage});
    if let Some(s) = ask.seed {
        v["seed"] = json!(s);
    }
    Answer::json(call.reply.status, &v)
}

/// One entry of `data`: the image as a URL or base64 with its size, or an error.
fn item(call: &Call<'_>, ask: &Ask<'_>, index: usize) -> Value {
    if let Some(f) = &call.reply.job_failure {
        let code = f.status.as_deref().unwrap_or("OutputImageSensitiveContentDetected");
        return json!({"error": {"code": code, "message": f.message}});
    }
    let bytes = image::render(ask.format, ask.dims, seed(ask.prompt, index), 1.0);
    if ask.url {
        json!({"url": call.store_file(bytes, ask.format, None, "image"), "size": ask.size})
    } else {
        json!({"b64_json": b64(&bytes), "size": ask.size})
    }
}

fn read(p: &Payload) -> Result<Ask<'_>, BadField> {
    let model = p.required_str("model")?;
    let prompt = p.required_str("prompt")?;
    let format = p.choice("output_format", &["jpeg", "png"])?.and_then(Format::parse).unwrap_or(Format::Jpeg);
    let url = p.choice("response_format", &["url", "b64_json"])?.is_none_or(|f| f == "url");
    let stream = p.bool("stream")?.unwrap_or(false);
    p.bool("watermark")?;
    let seed = p.int("seed", -1, i64::from(u32::MAX))?;
    let mut first = None;
    match p.get("image") {
        None => {}
        Some(Value::String(s)) => first = check_image(s)?,
        Some(Value::Array(list)) => {
            for v in list {
                let s = v.as_str().ok_or_else(|| BadField::new("image", "'image' items must be strings."))?;
                first = first.or(check_image(s)?);
            }
        }
        Some(_) => return Err(BadField::new("image", "'image' must be a string or a list of strings.")),
    }
    let n = match p.choice("sequential_image_generation", &["auto", "disabled"])? {
        Some("auto") => p
            .get("sequential_image_generation_options")
            .and_then(|o| o.get("max_images"))
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .clamp(1, 15) as usize,
        _ => 1,
    };
    let (size, dims) = match p.str("size")? {
        None => match first {
            Some((_, w, h)) => (format!("{w}x{h}"), image::fit(f64::from(w), f64::from(h))),
            None => ("2048x2048".to_string(), image::fit(2048.0, 2048.0)),
        },
        Some(s) => {
            let side = match s.to_ascii_uppercase().as_str() {
                "1K" => Some(1024.0),
                "1.5K" => Some(1536.0),
                "2K" => Some(2048.0),
                "3K" => Some(3072.0),
                "4K" => Some(4096.0),
                _ => None,
            };
            match side.map(|v| (v, v)).or_else(|| image::parse_size(s)) {
                Some((w, h)) => (format!("{}x{}", w as u32, h as u32), image::fit(w, h)),
                None => {
                    return Err(BadField::new(
                        "size",
                        format!("The parameter `size` specified in the request is not valid: {s:?}."),
                    ));
                }
            }
        }
    };
    Ok(Ask { model, prompt, n, size, dims, format, url, stream, seed })
}

fn check_image(s: &str) -> Result<Seen, BadField> {
    inline_image(s, false).map_err(|e| BadField::new("image", format!("The parameter `image` is not valid: {e}.")))
}

/// BytePlus (Volcengine Ark) errors: `{"error": {code, message, param, type}}`.
pub(crate) fn error_value(err: &ErrorInfo) -> Value {
    let (code, kind) = match err.status {
        400 | 422 => ("InvalidParameter", "BadRequest"),
        401 => ("AuthenticationError", "Unauthorized"),
        403 => ("AccessDenied", "Forbidden"),
        404 => ("InvalidEndpointOrModel.NotFound", "NotFound"),
        429 => ("RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"),
        503 => ("ServiceUnavailable", "ServiceUnavailable"),
        _ => ("InternalServiceError", "InternalServerError"),
    };
    json!({"error": {
        "code": err.code.as_deref().unwrap_or(code),
        "message": err.message,
        "param": err.param.as_deref().unwrap_or(""),
        "type": err.kind.as_deref().unwrap_or(kind),
    }})
}

pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&error_value(err))
}
