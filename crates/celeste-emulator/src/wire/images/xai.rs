//! xAI Grok Imagine: `POST /v1/images/generations` and `POST /v1/images/edits`, JSON only,
//! told apart from OpenAI by a `grok` model id. Images are JPEG, returned as a URL the emulator
//! serves (`response_format: "url"`, the default) or inline (`"b64_json"`). Edits take
//! `image: {url}` or `images: [{url}]`, each a data URL or an http(s) URL.

use serde_json::{Value, json};

use super::{Answer, BadField, Call, Endpoint, ImageApi, Payload, b64, inline_image, ratio_dims, seed};
use crate::image::{self, Format};
use crate::wire::{ErrorInfo, to_vec};

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    match read(call.payload, *call.endpoint == Endpoint::Edit) {
        Ok(Ask { prompt, n, url, dims }) => {
            let data: Vec<Value> = (0..n)
                .map(|i| {
                    let bytes = image::render(Format::Jpeg, dims, seed(prompt, i), 1.0);
                    let mut item = if url {
                        json!({"url": call.store_file(bytes, Format::Jpeg, None, "image")})
                    } else {
                        json!({"b64_json": b64(&bytes)})
                    };
                    item["mime_type"] = json!(Format::Jpeg.mime());
                    item["revised_prompt"] = json!("");
                    item
                })
                .collect();
            Answer::json(call.reply.status, &json!({"data": data}))
        }
        Err(bad) => Answer::bad_request(ImageApi::Xai, bad),
    }
}

/// What the request asked for.
struct Ask<'a> {
    prompt: &'a str,
    n: usize,
    /// Answer with URLs (else base64).
    url: bool,
    dims: (u32, u32),
}

fn read(p: &Payload, edit: bool) -> Result<Ask<'_>, BadField> {
    let prompt = p.required_str("prompt")?;
    let n = p.int("n", 1, 10)?.unwrap_or(1) as usize;
    let url = p.choice("response_format", &["url", "b64_json"])?.is_none_or(|f| f == "url");
    let mut first = None;
    let mut count = 0;
    let mut check = |item: &Value| -> Result<(), BadField> {
        let url = item
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| BadField::new("image", "Each image needs a 'url'."))?;
        first = first.or(inline_image(url, false).map_err(|e| BadField::new("image", format!("Invalid image: {e}.")))?);
        count += 1;
        Ok(())
    };
    if let Some(image) = p.get("image") {
        check(image)?;
    }
    if let Some(images) = p.get("images") {
        let list = images.as_array().ok_or_else(|| BadField::new("images", "'images' must be a list."))?;
        for item in list {
            check(item)?;
        }
    }
    if edit && count == 0 {
        return Err(BadField::new("image", "An edit needs an input 'image'."));
    }
    let dims = match p.str("aspect_ratio")? {
        None | Some("auto") => match first {
            Some((_, w, h)) => image::fit(f64::from(w), f64::from(h)),
            None => ratio_dims(1.0, 1.0),
        },
        Some(r) => match image::parse_ratio(r) {
            Some((w, h)) => ratio_dims(w, h),
            None => return Err(BadField::new("aspect_ratio", format!("Invalid aspect_ratio {r:?}."))),
        },
    };
    Ok(Ask { prompt, n, url, dims })
}

/// xAI's errors: `{"code": <gRPC-style status text>, "error": <message>}`.
pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    let code = err.kind.as_deref().unwrap_or(match err.status {
        400 | 422 => "Client specified an invalid argument",
        401 => "Unauthenticated",
        403 => "The caller does not have permission to execute the specified operation",
        404 => "Some requested entity was not found",
        429 => "Too many requests",
        s if s >= 500 => "Internal error",
        _ => "Failed precondition",
    });
    to_vec(&json!({"code": code, "error": err.message}))
}
