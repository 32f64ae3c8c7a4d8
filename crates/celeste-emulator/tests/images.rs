//! Every image wire API over a real socket: the images decode with real decoders and have the
//! expected size, jobs go from pending to ready or failed, polls are counted, faults apply.

mod common;

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use celeste_emulator::image::{self as img, Format};
use celeste_emulator::{Config, Emulator, Fault, JobFailure, JobState, Reply, Scenario};
use common::*;
use serde_json::{Value, json};

/// Decodes an image fully with an independent decoder; returns its format and size.
fn decode(bytes: &[u8]) -> (Format, u32, u32) {
    if bytes.starts_with(b"\x89PNG") {
        let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().expect("PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
        let info = reader.next_frame(&mut buf).expect("PNG pixels");
        (Format::Png, info.width, info.height)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        let pixels = d.decode().expect("JPEG pixels");
        let info = d.info().expect("JPEG info");
        assert_eq!(pixels.len(), usize::from(info.width) * usize::from(info.height) * 3);
        (Format::Jpeg, u32::from(info.width), u32::from(info.height))
    } else if bytes.starts_with(b"RIFF") {
        let mut d = image_webp::WebPDecoder::new(Cursor::new(bytes)).expect("WebP header");
        let (w, h) = d.dimensions();
        let mut buf = vec![0; d.output_buffer_size().expect("WebP size")];
        d.read_image(&mut buf).expect("WebP pixels");
        (Format::Webp, w, h)
    } else {
        img::sniff(bytes).unwrap_or_else(|| panic!("not an image: {:?}", &bytes[..bytes.len().min(16)]))
    }
}

fn decode_b64(s: &str) -> (Format, u32, u32) {
    decode(&STANDARD.decode(s).expect("base64"))
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn get_json(url: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = get(url).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap(), headers)
}

async fn fetch_image(url: &str) -> (String, (Format, u32, u32)) {
    let resp = get(url).await;
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let bytes = resp.bytes().await.unwrap();
    (ct, decode(&bytes))
}

/// A `multipart/form-data` body: `(name, filename, bytes)` parts.
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "emulatorTestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes())
            }
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(url: &str, parts: &[(&str, Option<&str>, &[u8])]) -> reqwest::Response {
    let (ct, body) = form(parts);
    client().post(url).header("content-type", ct).body(body).send().await.unwrap()
}

async fn start(config: Config) -> Emulator {
    Emulator::start(config).await.unwrap()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    img::render(Format::Png, (w, h), 7, 1.0)
}

fn data_url(bytes: &[u8]) -> String {
    format!("data:image/png;base64,{}", STANDARD.encode(bytes))
}

// ---------------------------------------------------------------- OpenAI

#[tokio::test]
async fn openai_generations_in_every_format_and_size() {
    let emu = start(Config::default()).await;
    let url = format!("{}/v1/images/generations", emu.url());
    for (format, size, dims) in
        [("png", "1024x1024", (16, 16)), ("jpeg", "1536x1024", (16, 11)), ("webp", "1024x1536", (11, 16))]
    {
        let body = json!({"model": "gpt-image-1", "prompt": "an otter", "n": 2, "size": size,
                          "output_format": format, "quality": "low"});
        let (status, v) = post_json(&url, &body).await;
        assert_eq!(status, 200, "{v}");
        assert!(v["created"].as_u64().unwrap() > 1_700_000_000);
        assert_eq!(v["size"], size);
        assert_eq!(v["output_format"], format);
        assert_eq!(v["quality"], "low");
        assert_eq!(v["background"], "opaque");
        let data = v["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        let expected = (Format::parse(format).unwrap(), dims.0, dims.1);
        for d in data {
            assert_eq!(decode_b64(d["b64_json"].as_str().unwrap()), expected);
        }
        assert_ne!(data[0]["b64_json"], data[1]["b64_json"], "the n images differ");
        let u = &v["usage"];
        assert_eq!(u["total_tokens"], u["input_tokens"].as_u64().unwrap() + u["output_tokens"].as_u64().unwrap());
        assert!(u["input_tokens_details"]["text_tokens"].as_u64().unwrap() > 0);
    }
}

#[tokio::test]
async fn openai_rejects_obviously_wrong_requests() {
    let emu = start(Config::default()).await;
    let url = format!("{}/v1/images/generations", emu.url());
    for (body, param) in [
        (json!({"model": "gpt-image-1"}), "prompt"),
        (json!({"model": "gpt-image-1", "prompt": "x", "output_format": "gif"}), "output_format"),
        (json!({"model": "gpt-image-1", "prompt": "x", "n": 0}), "n"),
        (json!({"model": "gpt-image-1", "prompt": "x", "size": "big"}), "size"),
        (json!({"model": "gpt-image-1", "prompt": "x", "partial_images": 4}), "partial_images"),
    ] {
        let (status, v) = post_json(&url, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], param);
        assert!(v["error"]["message"].as_str().unwrap().contains(param));
    }
    let resp = client().post(&url).header("content-type", "application/json").body("{nope").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = get(&url).await;
    assert_eq!(resp.status().as_u16(), 405);
}

#[tokio::test]
async fn openai_multipart_edit_takes_image_files_and_a_mask() {
    let emu = start(Config::default()).await;
    let url = format!("{}/v1/images/edits", emu.url());
    let (a, b, mask) = (png(8, 6), img::render(Format::Jpeg, (4, 4), 1, 1.0), png(8, 6));
    let resp = post_form(
        &url,
        &[
            ("model", None, b"gpt-image-1"),
            ("prompt", None, b"add a hat"),
            ("image[]", Some("a.png"), &a),
            ("image[]", Some("b.jpg"), &b),
            ("mask", Some("mask.png"), &mask),
            ("output_format", None, b"webp"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().await.unwrap();
    // size "auto": the first input's size.
    assert_eq!(v["size"], "8x6");
    assert_eq!(decode_b64(v["data"][0]["b64_json"].as_str().unwrap()), (Format::Webp, 8, 6));
    assert_eq!(v["usage"]["input_tokens_details"]["image_tokens"], 388);

    // A single `image` part and an explicit size.
    let resp =
        post_form(&url, &[("prompt", None, b"x"), ("image", Some("a.png"), &a), ("size", None, b"1024x1536")]).await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(decode_b64(v["data"][0]["b64_json"].as_str().unwrap()), (Format::Png, 11, 16));

    for (parts, param) in [
        (vec![("prompt", None, &b"x"[..])], "image"),
        (vec![("prompt", None, &b"x"[..]), ("image", Some("a.txt"), &b"hello"[..])], "image"),
        (vec![("image", Some("a.png"), &a[..])], "prompt"),
        (vec![("prompt", None, &b"x"[..]), ("image", Some("a.png"), &a[..]), ("mask", Some("m.jpg"), &b[..])], "mask"),
    ] {
        let resp = post_form(&url, &parts).await;
        assert_eq!(resp.status().as_u16(), 400);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["param"], param, "{v}");
    }
    // A broken multipart body.
    let resp = client()
        .post(&url)
        .header("content-type", "multipart/form-data; boundary=zzz")
        .body("--zzz\r\nno end")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn openai_streams_partial_images_then_completed() {
    let emu = start(Config::default()).await;
    let url = format!("{}/v1/images/generations", emu.url());
    let body = json!({"model": "gpt-image-1", "prompt": "a fox", "stream": true, "partial_images": 2,
                      "size": "1536x1024", "output_format": "jpeg"});
    let events = post_sse(&url, &body).await;
    let kinds: Vec<_> = events.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(
        kinds,
        ["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]
    );
    for (i, e) in events.iter().enumerate() {
        let v = e.json();
        assert_eq!(v["type"], kinds[i]);
        assert_eq!(decode_b64(v["b64_json"].as_str().unwrap()), (Format::Jpeg, 16, 11));
        assert_eq!(v["output_format"], "jpeg");
        if i < 2 {
            assert_eq!(v["partial_image_index"], i);
        } else {
            assert!(v["usage"]["total_tokens"].as_u64().unwrap() > 0);
        }
    }

    // A streamed edit in the JSON form: `images: [{image_url: data URL}]`.
    let edit = format!("{}/v1/images/edits", emu.url());
    let body = json!({"model": "gpt-image-1", "prompt": "a hat", "stream": true, "partial_images": 1,
                      "images": [{"image_url": data_url(&png(5, 3))}]});
    let events = post_sse(&edit, &body).await;
    let kinds: Vec<_> = events.iter().map(|e| e.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["image_edit.partial_image", "image_edit.completed"]);
    assert_eq!(decode_b64(events[1].json()["b64_json"].as_str().unwrap()), (Format::Png, 5, 3));

    let bad = json!({"model": "gpt-image-1", "prompt": "x", "images": [{"image_url": "data:image/png;base64,AAAA"}]});
    let (status, v) = post_json(&edit, &bad).await;
    assert_eq!((status, v["error"]["param"].as_str()), (400, Some("images")));
}

// ---------------------------------------------------------------- xAI

#[tokio::test]
async fn xai_answers_urls_or_base64_jpegs() {
    let emu = start(Config::default()).await;
    let url = format!("{}/v1/images/generations", emu.url());
    let (status, v) = post_json(
        &url,
        &json!({"model": "grok-imagine-image", "prompt": "a cat", "n": 2,
                                               "aspect_ratio": "16:9"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    for d in data {
        assert_eq!(d["mime_type"], "image/jpeg");
        let (ct, found) = fetch_image(d["url"].as_str().unwrap()).await;
        assert_eq!((ct.as_str(), found), ("image/jpeg", (Format::Jpeg, 16, 9)));
    }
    let (_, v) = post_json(
        &url,
        &json!({"model": "grok-imagine-image", "prompt": "a cat",
                                          "response_format": "b64_json", "aspect_ratio": "9:19.5"}),
    )
    .await;
    assert_eq!(decode_b64(v["data"][0]["b64_json"].as_str().unwrap()), (Format::Jpeg, 7, 16));

    let edit = format!("{}/v1/images/edits", emu.url());
    let (status, v) = post_json(
        &edit,
        &json!({"model": "grok-imagine-image", "prompt": "x",
                                                "image": {"url": data_url(&png(6, 4))},
                                                "response_format": "b64_json"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(decode_b64(v["data"][0]["b64_json"].as_str().unwrap()), (Format::Jpeg, 6, 4));
    let (status, v) = post_json(&edit, &json!({"model": "grok-imagine-image", "prompt": "x"})).await;
    assert_eq!(status, 400);
    assert_eq!(v["code"], "Client specified an invalid argument");
    assert!(v["error"].as_str().unwrap().contains("image"));
}

// ---------------------------------------------------------------- BytePlus

#[tokio::test]
async fn byteplus_unary_urls_base64_and_failures() {
    let config = Config::default()
        .scenario(Scenario::new("fails").contains("forbidden").then(Reply::default().job_failure("Sensitive")));
    let emu = start(config).await;
    let url = format!("{}/api/v3/images/generations", emu.url());
    let body = json!({"model": "seedream-4-0-250828", "prompt": "a lake", "size": "2K", "watermark": false,
                      "sequential_image_generation": "auto",
                      "sequential_image_generation_options": {"max_images": 2}});
    let (status, v) = post_json(&url, &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["model"], "seedream-4-0-250828");
    assert_eq!(v["usage"]["generated_images"], 2);
    for d in v["data"].as_array().unwrap() {
        assert_eq!(d["size"], "2048x2048");
        assert_eq!(fetch_image(d["url"].as_str().unwrap()).await.1, (Format::Jpeg, 16, 16));
    }
    let body = json!({"model": "m", "prompt": "a lake", "size": "2560x1440", "response_format": "b64_json",
                      "output_format": "png", "seed": 5, "image": [data_url(&png(2, 2))]});
    let (_, v) = post_json(&url, &body).await;
    assert_eq!(v["seed"], 5);
    assert_eq!(decode_b64(v["data"][0]["b64_json"].as_str().unwrap()), (Format::Png, 16, 9));

    let (_, v) = post_json(&url, &json!({"model": "m", "prompt": "forbidden lake"})).await;
    assert_eq!(v["data"][0]["error"]["message"], "Sensitive");
    assert_eq!(v["usage"]["generated_images"], 0);

    let (status, v) = post_json(&url, &json!({"model": "m", "prompt": "x", "size": "huge"})).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["code"], "InvalidParameter");
    assert_eq!(v["error"]["param"], "size");
    assert_eq!(v["error"]["type"], "BadRequest");
}

#[tokio::test]
async fn byteplus_streams_partial_events_then_completed_and_done() {
    let config = Config::default()
        .scenario(Scenario::new("fails").contains("forbidden").then(Reply::default().job_failure("Sensitive")));
    let emu = start(config).await;
    let url = format!("{}/api/v3/images/generations", emu.url());
    let body = json!({"model": "seedream-4-5-251128", "prompt": "a lake", "stream": true,
                      "response_format": "b64_json", "size": "2048x1024"});
    let events = post_sse(&url, &body).await;
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let first = events[0].json();
    assert_eq!(first["type"], "image_generation.partial_succeeded");
    assert_eq!(first["image_index"], 0);
    assert_eq!(decode_b64(first["b64_json"].as_str().unwrap()), (Format::Jpeg, 16, 8));
    let done = events[1].json();
    assert_eq!(done["type"], "image_generation.completed");
    assert_eq!(done["usage"]["generated_images"], 1);

    let events = post_sse(&url, &json!({"model": "m", "prompt": "forbidden", "stream": true})).await;
    let failed = events[0].json();
    assert_eq!(failed["type"], "image_generation.partial_failed");
    assert_eq!(failed["error"]["message"], "Sensitive");
}

// ---------------------------------------------------------------- Gemini

#[tokio::test]
async fn gemini_generate_content_answers_inline_images() {
    let emu = start(Config::default().default_reply(Reply::text("Here it is."))).await;
    let body = json!({
        "contents": [{"role": "user", "parts": [{"text": "a red bicycle"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "16:9"}},
    });
    for path in [
        "/v1beta/models/gemini-2.5-flash-image:generateContent",
        "/v1/projects/p/locations/global/publishers/google/models/gemini-3-pro-image:generateContent",
    ] {
        let (status, v) = post_json(&format!("{}{path}", emu.url()), &body).await;
        assert_eq!(status, 200, "{v}");
        let parts = v["candidates"][0]["content"]["parts"].as_array().unwrap();
        assert_eq!(parts[0]["text"], "Here it is.");
        assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png");
        assert_eq!(decode_b64(parts[1]["inlineData"]["data"].as_str().unwrap()), (Format::Png, 16, 9));
        let details = v["usageMetadata"]["candidatesTokensDetails"].as_array().unwrap();
        assert_eq!(details[0], json!({"modality": "IMAGE", "tokenCount": 1290}));
    }
    // IMAGE only: no text part. A text model without image modalities: text only.
    let body = json!({"contents": [], "generationConfig": {"responseModalities": ["IMAGE"]}});
    let (_, v) = post_json(&format!("{}/v1beta/models/gemini-3.1-flash-image:generateContent", emu.url()), &body).await;
    let parts = v["candidates"][0]["content"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(decode_b64(parts[0]["inlineData"]["data"].as_str().unwrap()), (Format::Png, 16, 16));
    let (_, v) = post_json(&format!("{}/v1beta/models/gemini-2.5-flash:generateContent", emu.url()), &json!({})).await;
    assert!(v["candidates"][0]["content"]["parts"][0].get("inlineData").is_none());

    // Streamed (SSE): the image is one chunk.
    let events = post_sse(
        &format!("{}/v1beta/models/gemini-2.5-flash-image:streamGenerateContent?alt=sse", emu.url()),
        &json!({"contents": []}),
    )
    .await;
    let images: Vec<Value> = events
        .iter()
        .filter_map(|e| e.json()["candidates"][0]["content"]["parts"][0].get("inlineData").cloned())
        .collect();
    assert_eq!(images.len(), 1);
    assert_eq!(decode_b64(images[0]["data"].as_str().unwrap()), (Format::Png, 16, 16));
}

#[tokio::test]
async fn interactions_answer_image_content() {
    let emu = start(Config::default()).await;
    let url = format!("{}/v1beta/interactions", emu.url());
    let body = json!({"model": "gemini-3-pro-image",
                      "input": [{"type": "user_input", "content": [{"type": "text", "text": "a boat"}]}],
                      "response_format": {"type": "image", "aspect_ratio": "9:16"}});
    let (status, v) = post_json(&url, &body).await;
    assert_eq!(status, 200, "{v}");
    let content = v["steps"][0]["content"].as_array().unwrap();
    assert_eq!(content.len(), 1);
    assert_eq!(content[0]["type"], "image");
    assert_eq!(content[0]["mime_type"], "image/png");
    assert_eq!(decode_b64(content[0]["data"].as_str().unwrap()), (Format::Png, 9, 16));
    assert_eq!(v["usage"]["output_tokens_by_modality"][0]["modality"], "image");

    let mut body = body;
    body["stream"] = json!(true);
    let events: Vec<Value> = post_sse(&url, &body).await.iter().map(Sse::json).collect();
    let image = events.iter().find(|e| e["delta"]["type"] == "image").expect("an image delta");
    assert_eq!(decode_b64(image["delta"]["data"].as_str().unwrap()), (Format::Png, 9, 16));
    assert_eq!(events.last().unwrap()["event_type"], "interaction.completed");
}

// ---------------------------------------------------------------- BFL

#[tokio::test]
async fn bfl_job_goes_pending_then_ready_with_retry_after_and_counted_polls() {
    let config = Config::default().scenario(
        Scenario::new("slow flux").path("/v1/flux-dev").then(Reply::default().pending_polls(2).poll_retry_after("1")),
    );
    let emu = start(config).await;
    let (status, v) = post_json(
        &format!("{}/v1/flux-dev", emu.url()),
        &json!({"prompt": "a castle", "width": 1024, "height": 768, "output_format": "png", "seed": 3}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let polling_url = v["polling_url"].as_str().unwrap().to_string();
    assert_eq!(polling_url, format!("{}/v1/get_result?id={id}", emu.url()));
    assert!(v["cost"].as_f64().unwrap() > 0.0);
    assert_eq!(emu.job(&id).unwrap().state, JobState::Pending);

    for _ in 0..2 {
        let (status, v, headers) = get_json(&polling_url).await;
        assert_eq!((status, v["status"].as_str()), (200, Some("Pending")));
        assert_eq!(headers["retry-after"], "1");
        assert!(v["result"].is_null());
    }
    let (_, v, headers) = get_json(&polling_url).await;
    assert_eq!(v["status"], "Ready");
    assert!(headers.get("retry-after").is_none());
    assert_eq!(v["result"]["seed"], 3);
    let (ct, found) = fetch_image(v["result"]["sample"].as_str().unwrap()).await;
    assert_eq!((ct.as_str(), found), ("image/png", (Format::Png, 16, 12)));

    let info = emu.job(&id).unwrap();
    assert_eq!((info.polls, info.answered_polls, info.downloads, info.state), (3, 3, 1, JobState::Ready));
    assert_eq!(info.provider, "bfl");
    assert_eq!(info.model.as_deref(), Some("flux-dev"));
    // The client stopped polling: the count stays where it was.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(emu.job(&id).unwrap().polls, 3);

    // The same over HTTP.
    let (status, v, _) = get_json(&format!("{}/_emulator/jobs/{id}", emu.url())).await;
    assert_eq!(status, 200);
    assert_eq!(v["polls"], 3);
    assert_eq!(v["state"], "ready");
    assert_eq!(v["downloads"], 1);
    let (_, list, _) = get_json(&format!("{}/_emulator/jobs", emu.url())).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _, _) = get_json(&format!("{}/_emulator/jobs/nope", emu.url())).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bfl_failures_moderation_unknown_tasks_and_validation() {
    let config = Config::default()
        .scenario(
            Scenario::new("moderated")
                .contains("moderate me")
                .then(Reply::default().job_failure(JobFailure::new("Flagged").status("Request Moderated"))),
        )
        .scenario(
            Scenario::new("broken")
                .contains("break")
                .then(Reply::default().pending_polls(1).job_failure("GPU fell over")),
        );
    let emu = start(config).await;
    let submit = |prompt: &str| {
        let url = format!("{}/v1/flux-kontext-pro", emu.url());
        let body = json!({"prompt": prompt, "aspect_ratio": "21:9", "input_image": STANDARD.encode(png(4, 4))});
        async move { post_json(&url, &body).await.1 }
    };
    let v = submit("moderate me").await;
    let (_, poll, _) = get_json(v["polling_url"].as_str().unwrap()).await;
    assert_eq!(poll["status"], "Request Moderated");
    assert_eq!(poll["error"], "Flagged");

    let v = submit("break it").await;
    let url = v["polling_url"].as_str().unwrap().to_string();
    assert_eq!(get_json(&url).await.1["status"], "Pending");
    let (_, poll, _) = get_json(&url).await;
    assert_eq!((poll["status"].as_str(), poll["error"].as_str()), (Some("Error"), Some("GPU fell over")));
    assert_eq!(emu.job(v["id"].as_str().unwrap()).unwrap().state, JobState::Failed);

    let (status, v, _) = get_json(&format!("{}/v1/get_result?id=missing", emu.url())).await;
    assert_eq!((status, v["status"].as_str()), (200, Some("Task not found")));

    let (status, v) = post_json(&format!("{}/v1/flux-dev", emu.url()), &json!({"width": 512})).await;
    assert_eq!(status, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "prompt"]));
    let (status, _) =
        post_json(&format!("{}/v1/flux-dev", emu.url()), &json!({"prompt": "x", "input_image": "not base64!"})).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn faults_on_polls_are_counted_but_do_not_advance_the_job() {
    let config = Config::default()
        .scenario(
            Scenario::new("poll hiccup")
                .path("/v1/get_result")
                .then(Fault::status(503).retry_after("2"))
                .then(Reply::default()),
        )
        .scenario(Scenario::new("flux").path("/v1/flux-dev").then(Reply::default().pending_polls(1)));
    let emu = start(config).await;
    let (_, v) = post_json(&format!("{}/v1/flux-dev", emu.url()), &json!({"prompt": "x"})).await;
    let url = v["polling_url"].as_str().unwrap().to_string();
    let resp = get(&url).await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "2");
    let v: Value = resp.json().await.unwrap();
    assert!(v["detail"].as_str().is_some(), "BFL's error shape: {v}");
    assert_eq!(get_json(&url).await.1["status"], "Pending");
    assert_eq!(get_json(&url).await.1["status"], "Ready");
    let info = emu.jobs().pop().unwrap();
    assert_eq!((info.polls, info.answered_polls), (3, 2));
}

// ---------------------------------------------------------------- Ollama

#[tokio::test]
async fn ollama_generate_streams_progress_then_the_image() {
    let config = Config::default()
        .scenario(Scenario::new("oom").contains("too big").then(Reply::default().job_failure("out of memory")));
    let emu = start(config).await;
    let url = format!("{}/api/generate", emu.url());
    let (status, ct, text) =
        post_text(&url, &json!({"model": "x/z-image-turbo", "prompt": "a kite", "width": 12, "height": 8, "steps": 3}))
            .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/x-ndjson");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    for (i, l) in lines[..3].iter().enumerate() {
        assert_eq!(
            (l["done"].as_bool(), l["completed"].as_u64(), l["total"].as_u64()),
            (Some(false), Some(i as u64 + 1), Some(3))
        );
    }
    let last = &lines[3];
    assert_eq!(last["done"], true);
    assert_eq!(last["model"], "x/z-image-turbo");
    assert_eq!(decode_b64(last["image"].as_str().unwrap()), (Format::Png, 12, 8));

    let (_, v) = post_json(&url, &json!({"model": "m", "prompt": "a kite", "stream": false})).await;
    assert_eq!((v["done"].as_bool(), decode_b64(v["image"].as_str().unwrap())), (Some(true), (Format::Png, 16, 16)));

    let (_, _, text) = post_text(&url, &json!({"model": "m", "prompt": "too big", "steps": 2})).await;
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last, json!({"error": "out of memory"}));

    let (status, v) = post_json(&url, &json!({"model": "m"})).await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("prompt"));
}

// ---------------------------------------------------------------- Topaz

#[tokio::test]
async fn topaz_submit_poll_download_lifecycle() {
    let config = Config::default().scenario(
        Scenario::new("slow topaz")
            .path("/image/v1/enhance/async")
            .then(Reply::default().pending_polls(2).poll_retry_after("3")),
    );
    let emu = start(config).await;
    let input = png(8, 6);
    let resp = post_form(
        &format!("{}/image/v1/enhance/async", emu.url()),
        &[
            ("model", None, b"Standard V2"),
            ("image", Some("image"), &input),
            ("output_width", None, b"32"),
            ("crop_to_fill", None, b"false"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let header_id = resp.headers()["x-process-id"].to_str().unwrap().to_string();
    let v: Value = resp.json().await.unwrap();
    let id = v["process_id"].as_str().unwrap().to_string();
    assert_eq!(id, header_id);
    assert!(v["eta"].as_u64().is_some());

    let status_url = format!("{}/image/v1/status/{id}", emu.url());
    let download = format!("{}/image/v1/download/{id}", emu.url());
    assert_eq!(get(&download).await.status().as_u16(), 404, "not downloadable before completion");
    let (_, s1, h1) = get_json(&status_url).await;
    let (_, s2, _) = get_json(&status_url).await;
    let (_, s3, h3) = get_json(&status_url).await;
    assert_eq!(
        (s1["status"].as_str(), s2["status"].as_str(), s3["status"].as_str()),
        (Some("Pending"), Some("Processing"), Some("Completed"))
    );
    assert_eq!(h1["retry-after"], "3");
    assert!(h3.get("retry-after").is_none());
    assert_eq!(s3["progress"], 100);
    assert_eq!(
        (s3["input_width"].as_u64(), s3["output_width"].as_u64(), s3["output_height"].as_u64()),
        (Some(8), Some(32), Some(24))
    );
    assert_eq!(s3["model"], "Standard V2");

    let (status, link, _) = get_json(&download).await;
    assert_eq!(status, 200);
    assert!(link["expiry"].as_u64().is_some());
    let head = client().head(link["head_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!((head.status().as_u16(), head.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    let (ct, found) = fetch_image(link["download_url"].as_str().unwrap()).await;
    assert_eq!((ct.as_str(), found), ("image/jpeg", (Format::Jpeg, 16, 12)));
    let info = emu.job(&id).unwrap();
    assert_eq!((info.provider.as_str(), info.polls, info.downloads), ("topazlabs", 3, 2), "HEAD and GET");
}

#[tokio::test]
async fn topaz_rejects_wrong_models_bools_and_bodies_and_reports_failures() {
    let config = Config::default().scenario(
        Scenario::new("fail")
            .path("/image/v1/tool/async")
            .then(Reply::default().job_failure(JobFailure::new("Bad input").status("Cancelled"))),
    );
    let emu = start(config).await;
    let input = png(4, 4);
    let enhance = format!("{}/image/v1/enhance/async", emu.url());
    for parts in [
        vec![("model", None, &b"Detail"[..]), ("image", Some("i"), &input[..])],
        vec![("model", None, &b"CGI"[..]), ("image", Some("i"), &input[..]), ("face_enhancement", None, &b"True"[..])],
        vec![("model", None, &b"CGI"[..]), ("image", Some("i"), &b"text"[..])],
        vec![("model", None, &b"CGI"[..])],
        vec![("model", None, &b"CGI"[..]), ("image", Some("i"), &input[..]), ("output_format", None, &b"gif"[..])],
    ] {
        let resp = post_form(&enhance, &parts).await;
        assert_eq!(resp.status().as_u16(), 400);
        let v: Value = resp.json().await.unwrap();
        assert!(v["message"].as_str().is_some(), "{v}");
    }
    let resp = post(&enhance, &json!({"model": "CGI"})).await;
    assert_eq!(resp.status().as_u16(), 400, "JSON is not multipart");

    // Detail is a generative model: /enhance-gen/async; TIFF output.
    let resp = post_form(
        &format!("{}/image/v1/enhance-gen/async", emu.url()),
        &[("model", None, b"Detail"), ("image", Some("i"), &input), ("output_format", None, b"tiff")],
    )
    .await;
    let id = resp.json::<Value>().await.unwrap()["process_id"].as_str().unwrap().to_string();
    let (_, s, _) = get_json(&format!("{}/image/v1/status/{id}", emu.url())).await;
    assert_eq!((s["status"].as_str(), s["model_type"].as_str()), (Some("Completed"), Some("Generative")));
    let (_, link, _) = get_json(&format!("{}/image/v1/download/{id}", emu.url())).await;
    let (ct, found) = fetch_image(link["download_url"].as_str().unwrap()).await;
    assert_eq!((ct.as_str(), found), ("image/tiff", (Format::Tiff, 4, 4)));

    let resp = post_form(
        &format!("{}/image/v1/tool/async", emu.url()),
        &[("model", None, b"Transparency Upscale"), ("image", Some("i"), &input)],
    )
    .await;
    let id = resp.json::<Value>().await.unwrap()["process_id"].as_str().unwrap().to_string();
    let (_, s, _) = get_json(&format!("{}/image/v1/status/{id}", emu.url())).await;
    assert_eq!((s["status"].as_str(), s["error"].as_str()), (Some("Cancelled"), Some("Bad input")));
    assert_eq!(get(&format!("{}/image/v1/download/{id}", emu.url())).await.status().as_u16(), 404);
    assert_eq!(get(&format!("{}/image/v1/status/unknown", emu.url())).await.status().as_u16(), 404);
}

// ---------------------------------------------------------------- faults and config

#[tokio::test]
async fn existing_faults_apply_to_image_routes() {
    let config = Config::default()
        .scenario(
            Scenario::new("rate limited").path("/api/v3/images/generations").then(Fault::status(429).retry_after("4")),
        )
        .scenario(Scenario::new("reset").contains("reset me").then(Fault::reset_after_events(1)))
        .scenario(Scenario::new("malformed").contains("malform me").then(Fault::malformed_event_at(0)))
        .scenario(Scenario::new("stream error").contains("error me").then(Fault::stream_error_at(1).message("boom")))
        .scenario(Scenario::new("truncated file").path("/files/*").then(Fault::truncate_after_events(0)));
    let emu = start(config).await;

    let resp = post(&format!("{}/api/v3/images/generations", emu.url()), &json!({"model": "m", "prompt": "x"})).await;
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "4");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["type"], "TooManyRequests");

    // A reset in the middle of an OpenAI image stream.
    let body = json!({"model": "gpt-image-1", "prompt": "reset me", "stream": true, "partial_images": 3});
    let out = raw_post(emu.addr(), "/v1/images/generations", &body.to_string()).await;
    assert!(out.head.starts_with("HTTP/1.1 200"));
    let events = parse_sse(&String::from_utf8_lossy(&out.body));
    assert_eq!(events.len(), 1, "one event, then the reset");
    assert!(out.error.is_some() || !String::from_utf8_lossy(&out.body).contains("completed"));

    // A malformed first event.
    let (status, _, text) = post_text(
        &format!("{}/v1/images/generations", emu.url()),
        &json!({"model": "gpt-image-1", "prompt": "malform me", "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    let events = parse_sse(&text);
    assert!(serde_json::from_str::<Value>(&events[0].data).is_err());

    // An in-stream error in Ollama's NDJSON.
    let (_, _, text) =
        post_text(&format!("{}/api/generate", emu.url()), &json!({"model": "m", "prompt": "error me", "steps": 3}))
            .await;
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last, json!({"error": "boom"}));
    assert_eq!(text.lines().count(), 2);

    // A truncated image download (unary body cut in half).
    let (_, v) = post_json(
        &format!("{}/v1/images/generations", emu.url()),
        &json!({"model": "grok-imagine-image", "prompt": "x"}),
    )
    .await;
    let resp = get(v["data"][0]["url"].as_str().unwrap()).await;
    let bytes = resp.bytes().await.unwrap_or_default();
    assert!(jpeg_decoder::Decoder::new(&bytes[..]).decode().is_err(), "half a JPEG does not decode");
}

#[tokio::test]
async fn job_scripts_read_from_json_config() {
    let config = Config::from_json(
        r#"[{"name": "flux", "match": {"path": "/v1/flux-pro-1.1"},
             "responses": [{"pending_polls": 1, "poll_retry_after": "2",
                            "job_failure": {"status": "Content Moderated", "message": "nope"}},
                           {"job_failure": "plain message"}]}]"#,
    )
    .unwrap();
    let emu = start(config).await;
    for (status, message) in [("Content Moderated", "nope"), ("Error", "plain message")] {
        let (_, v) = post_json(&format!("{}/v1/flux-pro-1.1", emu.url()), &json!({"prompt": "x"})).await;
        let url = v["polling_url"].as_str().unwrap().to_string();
        let mut last = get_json(&url).await;
        while last.1["status"] == "Pending" {
            assert_eq!(last.2["retry-after"], "2");
            last = get_json(&url).await;
        }
        assert_eq!((last.1["status"].as_str(), last.1["error"].as_str()), (Some(status), Some(message)));
    }
    assert!(Config::from_json(r#"[{"name": "x", "responses": [{"pending_polls": "two"}]}]"#).is_err());
}

#[tokio::test]
async fn image_and_audio_bytes_make_responses_of_the_size_asked() {
    // From a scenario file, as the benchmarks use them.
    let config = Config::from_json(
        r#"{"scenarios": [
            {"name": "big images", "match": {"path": "/v1/images/generations"}, "responses": [{"image_bytes": 300000}]},
            {"name": "long speech", "match": {"path": "/v1/audio/speech"}, "responses": [{"audio_bytes": 200000}]}
        ]}"#,
    )
    .unwrap();
    let emu = start(config).await;
    let body = json!({"model": "gpt-image-1", "prompt": "an otter", "n": 2, "output_format": "png"});
    let (status, v) = post_json(&format!("{}/v1/images/generations", emu.url()), &body).await;
    assert_eq!(status, 200, "{v}");
    for d in v["data"].as_array().unwrap() {
        let png = STANDARD.decode(d["b64_json"].as_str().unwrap()).unwrap();
        assert_eq!(png.len(), 300_000);
        assert_eq!(decode(&png), (Format::Png, 16, 16));
    }
    let body = json!({"model": "tts-1", "input": "Hi", "voice": "alloy", "response_format": "pcm"});
    let resp = post(&format!("{}/v1/audio/speech", emu.url()), &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().len(), 200_000);

    // Unset, the sizes are the image's own and the text's.
    let emu = start(Config::default()).await;
    let body = json!({"model": "gpt-image-1", "prompt": "an otter", "output_format": "png"});
    let (_, v) = post_json(&format!("{}/v1/images/generations", emu.url()), &body).await;
    assert!(STANDARD.decode(v["data"][0]["b64_json"].as_str().unwrap()).unwrap().len() < 10_000);
    let body = json!({"model": "tts-1", "input": "Hi", "voice": "alloy", "response_format": "pcm"});
    let resp = post(&format!("{}/v1/audio/speech", emu.url()), &body).await;
    assert_eq!(resp.bytes().await.unwrap().len(), 24_000 * 2 / 5);
}
