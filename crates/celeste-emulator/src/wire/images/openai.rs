//! OpenAI Images (`gpt-image-*`): `POST /v1/images/generations` (JSON) and
//! `POST /v1/images/edits` (multipart with `image` / `image[]` files and a `mask`, or JSON with
//! `images: [{image_url}]`, the form the reference uses for streamed edits). With
//! `"stream": true` the answer is SSE: `partial_images` partial events, then a completed event,
//! per image (`image_generation.*`, or `image_edit.*` for edits).

use serde_json::{Value, json};

use super::{Answer, BadField, Call, Endpoint, ImageApi, Payload, Seen, b64, inline_image, prompt_tokens, seed};
use crate::image::{self, Format};
use crate::wire::{Events, push_json};

/// What the request asked for.
struct Ask<'a> {
    prompt: &'a str,
    n: usize,
    /// The `size` echoed in the answer (`"1024x1024"`).
    size: String,
    dims: (u32, u32),
    format: Format,
    quality: String,
    background: String,
    stream: bool,
    partials: usize,
    /// Input images (edits), for the usage's image tokens.
    inputs: usize,
}

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    let edit = *call.endpoint == Endpoint::Edit;
    match read(call.payload, edit) {
        Ok(ask) if ask.stream => stream(call, &ask, edit),
        Ok(ask) => unary(call, &ask),
        Err(bad) => Answer::bad_request(ImageApi::OpenAi, bad),
    }
}

fn read(p: &Payload, edit: bool) -> Result<Ask<'_>, BadField> {
    let prompt = p.required_str("prompt")?;
    let n = p.int("n", 1, 10)?.unwrap_or(1) as usize;
    let format = p.choice("output_format", &["png", "jpeg", "webp"])?.and_then(Format::parse).unwrap_or(Format::Png);
    let quality = p.str("quality")?.unwrap_or("high").to_string();
    let background = match p.str("background")? {
        None | Some("auto") => "opaque".to_string(),
        Some(b) => b.to_string(),
    };
    let stream = p.bool("stream")?.unwrap_or(false);
    let partials = p.int("partial_images", 0, 3)?.unwrap_or(0) as usize;
    let (inputs, first) = if edit { input_images(p)? } else { (0, None) };
    let (size, dims) = match p.str("size")? {
        None | Some("auto") => match first {
            Some((_, w, h)) => (format!("{w}x{h}"), image::fit(f64::from(w), f64::from(h))),
            None => ("1024x1024".to_string(), image::fit(1024.0, 1024.0)),
        },
        Some(s) => match image::parse_size(s) {
            Some((w, h)) => (s.to_string(), image::fit(w, h)),
            None => {
                return Err(BadField::new(
                    "size",
                    format!(
                        "Invalid value for 'size': '{s}'. Supported values are 'auto' or WIDTHxHEIGHT, e.g. '1024x1024'."
                    ),
                ));
            }
        },
    };
    Ok(Ask { prompt, n, size, dims, format, quality, background, stream, partials, inputs })
}

/// Checks the input images of an edit: multipart `image` / `image[]` files (and an optional PNG
/// `mask`), or JSON `images: [{image_url} | {file_id}]` (and an optional `mask: {image_url}`).
/// Returns their count and the size of the first one, when known.
fn input_images(p: &Payload) -> Result<(usize, Seen), BadField> {
    const UNSUPPORTED: &str = "unsupported image format. Supported file formats are 'image/jpeg', 'image/png', \
                               and 'image/webp'.";
    match p {
        Payload::Form(form) => {
            let files: Vec<_> = form.all(&["image", "image[]"]).collect();
            if files.is_empty() {
                return Err(BadField::new("image", "Missing required parameter: 'image'."));
            }
            let mut first = None;
            for f in &files {
                match image::sniff(&f.data) {
                    Some(found @ (Format::Png | Format::Jpeg | Format::Webp, _, _)) => {
                        first = first.or(Some(found));
                    }
                    _ => {
                        let name = f.filename.as_deref().unwrap_or("image");
                        return Err(BadField::new("image", format!("Invalid file '{name}': {UNSUPPORTED}")));
                    }
                }
            }
            if let Some(mask) = form.all(&["mask"]).next()
                && !matches!(image::sniff(&mask.data), Some((Format::Png, _, _)))
            {
                return Err(BadField::new("mask", "Invalid file 'mask': the mask must be a PNG image."));
            }
            Ok((files.len(), first))
        }
        _ => {
            let Some(images) = p.get("images").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
                return Err(BadField::new("images", "Missing required parameter: 'images'."));
            };
            let mut first = None;
            for item in images {
                if item.get("file_id").and_then(Value::as_str).is_some() {
                    continue;
                }
                let Some(url) = item.get("image_url").and_then(Value::as_str) else {
                    return Err(BadField::new("images", "Each image needs an 'image_url' or a 'file_id'."));
                };
                let found =
                    inline_image(url, false).map_err(|e| BadField::new("images", format!("Invalid image: {e}.")))?;
                first = first.or(found);
            }
            if let Some(mask) = p.get("mask")
                && let Some(url) = mask.get("image_url").and_then(Value::as_str)
            {
                inline_image(url, false).map_err(|e| BadField::new("mask", format!("Invalid mask: {e}.")))?;
            }
            Ok((images.len(), first))
        }
    }
}

fn usage(call: &Call<'_>, ask: &Ask<'_>) -> Value {
    let text = call.reply.usage.input_tokens.unwrap_or_else(|| prompt_tokens(ask.prompt));
    // An input image costs about 194 tokens at low fidelity; a 1024x1024 output about 1056.
    let image_in = 194 * ask.inputs as u64;
    let output = call.reply.usage.output_tokens.unwrap_or(1056 * ask.n as u64);
    json!({
        "input_tokens": text + image_in,
        "input_tokens_details": {"image_tokens": image_in, "text_tokens": text},
        "output_tokens": output,
        "total_tokens": text + image_in + output,
    })
}

/// One image as base64; a final one padded to the reply's `image_bytes`, when set.
fn render(call: &Call<'_>, ask: &Ask<'_>, index: usize, progress: f32) -> String {
    let mut bytes = image::render(ask.format, ask.dims, seed(ask.prompt, index), progress);
    if let Some(size) = call.reply.image_bytes.filter(|_| progress >= 1.0) {
        bytes = image::pad_png(bytes, size);
    }
    b64(&bytes)
}

fn unary(call: &Call<'_>, ask: &Ask<'_>) -> Answer {
    let data: Vec<Value> = (0..ask.n).map(|i| json!({"b64_json": render(call, ask, i, 1.0)})).collect();
    let v = json!({
        "created": call.created,
        "background": ask.background,
        "data": data,
        "output_format": ask.format.ext(),
        "quality": ask.quality,
        "size": ask.size,
        "usage": usage(call, ask),
    });
    Answer::json(call.reply.status, &v)
}

fn stream(call: &Call<'_>, ask: &Ask<'_>, edit: bool) -> Answer {
    let prefix = if edit { "image_edit" } else { "image_generation" };
    let partial = format!("{prefix}.partial_image");
    let completed = format!("{prefix}.completed");
    let mut ev = Events::default();
    let common = |kind: &str, b64_json: String| {
        json!({
            "type": kind,
            "b64_json": b64_json,
            "created_at": call.created,
            "size": ask.size,
            "quality": ask.quality,
            "background": ask.background,
            "output_format": ask.format.ext(),
        })
    };
    for i in 0..ask.n {
        for k in 0..ask.partials {
            let progress = (k + 1) as f32 / (ask.partials + 1) as f32;
            let mut v = common(&partial, render(call, ask, i, progress));
            v["partial_image_index"] = json!(k);
            ev.sse(Some(&partial), |b| push_json(b, &v));
        }
        let mut v = common(&completed, render(call, ask, i, 1.0));
        v["usage"] = usage(call, ask);
        ev.sse(Some(&completed), |b| push_json(b, &v));
    }
    let mut answer = Answer::sse(ev.finish());
    answer.status = call.reply.status;
    answer
}
