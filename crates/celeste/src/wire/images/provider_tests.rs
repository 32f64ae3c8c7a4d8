//! BytePlus, xAI, Gemini (Interactions) and Ollama image modules: the request each builds (a table
//! of calls and the exact bodies), and their replies and streams decoded by hand-made examples.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use super::*;
use crate::error::Origin;
use crate::stream::Frame;
use crate::types::enums::Provider;
use crate::types::mime::MimeType;
use crate::types::output::Chunk;
use crate::wire::media::MediaRequest;
use crate::wire::testkit::media_params;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

fn png_b64() -> String {
    STANDARD.encode(PNG)
}

fn png_url() -> String {
    format!("data:image/png;base64,{}", png_b64())
}

fn provider(api: ImageApi) -> Provider {
    match api {
        ImageApi::BytePlus => Provider::BytePlus,
        ImageApi::XAi => Provider::XAi,
        ImageApi::Google => Provider::Google,
        ImageApi::Ollama => Provider::Ollama,
        _ => Provider::OpenAi,
    }
}

fn ctx(api: ImageApi, operation: Operation) -> ImageContext {
    ImageContext { origin: Origin::Provider(provider(api)), model: "m".into(), operation, extra: ImageExtra }
}

/// A call: its operation, then the parameters the builder would have set.
fn call(operation: Operation, set: &Value, refs: usize) -> ImageRequest {
    let mut params = media_params(set);
    params.reference_images = (0..refs).map(|_| Artifact::from_bytes(PNG)).collect();
    let image = (operation == Operation::Edit).then(|| Artifact::from_bytes(PNG));
    MediaRequest {
        params,
        ..ImageRequest::new("m".into(), operation, ImageInput { prompt: Some("a kite".into()), image })
    }
}

async fn body(api: ImageApi, req: &ImageRequest, stream: bool) -> Result<(Value, ImageWireRequest)> {
    let built = api.build(req, &ctx(api, req.operation), stream, "u".into()).await?;
    let Body::Json(v) = built.body.clone() else { panic!("JSON expected") };
    Ok((v, built))
}

/// A row of the request table: case, API, operation, parameters, reference images, streamed, the
/// exact body.
type Case<'a> = (&'a str, ImageApi, Operation, Value, usize, bool, Value);

#[tokio::test]
async fn request_bodies_per_provider() {
    use Operation::{Edit, Generate};
    let url = png_url();
    let table: Vec<Case> = vec![
        (
            "BytePlus: aspect ratio is the size; base64 asked for",
            ImageApi::BytePlus,
            Generate,
            json!({"aspect_ratio": "2848x1600", "watermark": false, "seed": 7}),
            0,
            false,
            json!({"model": "m", "prompt": "a kite", "size": "2848x1600", "watermark": false, "seed": 7,
                   "response_format": "b64_json"}),
        ),
        (
            "BytePlus: quality is the size; a stream says so",
            ImageApi::BytePlus,
            Generate,
            json!({"quality": "2K", "output_format": "png"}),
            0,
            true,
            json!({"model": "m", "prompt": "a kite", "size": "2K", "output_format": "png",
                   "response_format": "b64_json", "stream": true}),
        ),
        (
            "BytePlus: an edit's image is one data URL",
            ImageApi::BytePlus,
            Edit,
            json!({}),
            0,
            false,
            json!({"model": "m", "prompt": "a kite", "image": url, "response_format": "b64_json"}),
        ),
        (
            "BytePlus: reference images make a list, the edited image first",
            ImageApi::BytePlus,
            Edit,
            json!({}),
            2,
            false,
            json!({"model": "m", "prompt": "a kite", "image": [url, url, url], "response_format": "b64_json"}),
        ),
        (
            "BytePlus: one reference image on a generation is a list too",
            ImageApi::BytePlus,
            Generate,
            json!({}),
            1,
            false,
            json!({"model": "m", "prompt": "a kite", "image": [url], "response_format": "b64_json"}),
        ),
        (
            "xAI: renamed parameters",
            ImageApi::XAi,
            Generate,
            json!({"aspect_ratio": "16:9", "num_images": 2, "output_format": "b64_json", "quality": "2k"}),
            0,
            false,
            json!({"model": "m", "prompt": "a kite", "aspect_ratio": "16:9", "n": 2, "response_format": "b64_json",
                   "resolution": "2k"}),
        ),
        (
            "xAI: an edit's image is {url}",
            ImageApi::XAi,
            Edit,
            json!({}),
            0,
            false,
            json!({"model": "m", "prompt": "a kite", "image": {"url": url}}),
        ),
        (
            "xAI: reference images go in `images`, the edited image first",
            ImageApi::XAi,
            Edit,
            json!({}),
            1,
            false,
            json!({"model": "m", "prompt": "a kite", "images": [{"url": url}, {"url": url}]}),
        ),
        (
            "Gemini: the prompt as a user input, the image format asked for",
            ImageApi::Google,
            Generate,
            json!({"aspect_ratio": "16:9", "quality": "2K"}),
            0,
            false,
            json!({"model": "m", "input": [{"type": "user_input", "content": [{"type": "text", "text": "a kite"}]}],
                   "response_format": {"type": "image", "aspect_ratio": "16:9", "image_size": "2K"}}),
        ),
        (
            "Gemini: images before the prompt, the edited one first; thinking in generation_config",
            ImageApi::Google,
            Edit,
            json!({"thinking_level": "high"}),
            1,
            false,
            json!({"model": "m",
                   "input": [{"type": "user_input", "content": [
                       {"type": "image", "data": png_b64(), "mime_type": "image/png"},
                       {"type": "image", "data": png_b64(), "mime_type": "image/png"},
                       {"type": "text", "text": "a kite"}]}],
                   "response_format": {"type": "image"},
                   "generation_config": {"thinking_level": "high"}}),
        ),
        (
            "Ollama: a unary call turns streaming off; size, steps, seed in options",
            ImageApi::Ollama,
            Generate,
            json!({"aspect_ratio": "1024X768", "steps": 4, "seed": 42, "negative_prompt": "blur"}),
            0,
            false,
            json!({"model": "m", "prompt": "a kite", "stream": false, "width": 1024, "height": 768, "steps": 4,
                   "negative_prompt": "blur", "options": {"seed": 42}}),
        ),
        (
            "Ollama: a stream",
            ImageApi::Ollama,
            Generate,
            json!({}),
            0,
            true,
            json!({"model": "m", "prompt": "a kite", "stream": true}),
        ),
    ];
    for (case, api, op, set, refs, stream, want) in table {
        let (got, built) = body(api, &call(op, &set, refs), stream).await.unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(got, want, "{case}");
        assert!(built.dropped.is_empty(), "{case}: {:?}", built.dropped);
        let accept = built.headers.iter().find(|(k, _)| k == "accept").map(|(_, v)| v.to_str().unwrap_or(""));
        let want_accept = match (stream, api) {
            (false, _) => None,
            (true, ImageApi::Ollama) => Some("application/x-ndjson"),
            (true, _) => Some("text/event-stream"),
        };
        assert_eq!(accept, want_accept, "{case}");
    }
}

#[tokio::test]
async fn parameters_an_api_cannot_carry_are_dropped_and_conflicts_refused() {
    // (API, a parameter it does not carry)
    let table = [
        (ImageApi::BytePlus, "num_images"),
        (ImageApi::XAi, "seed"),
        (ImageApi::Google, "num_images"),
        (ImageApi::Ollama, "quality"),
    ];
    for (api, name) in table {
        let (body, built) = body(api, &call(Operation::Generate, &json!({name: 2}), 0), false).await.unwrap();
        assert_eq!(built.dropped, [name], "{api:?}");
        assert!(!body.to_string().contains(":2"), "{api:?}: {body}");
    }
    // Ollama takes no reference images, and no mask anywhere here.
    let mut req = call(Operation::Generate, &json!({}), 1);
    req.params.mask = Some(Artifact::from_bytes(PNG));
    let (_, built) = body(ImageApi::Ollama, &req, false).await.unwrap();
    assert_eq!(built.dropped, ["mask", "reference_images"]);

    // BytePlus has one `size` for both; Ollama takes pixels only.
    let both = call(Operation::Generate, &json!({"aspect_ratio": "2048x2048", "quality": "2K"}), 0);
    let ratio = call(Operation::Generate, &json!({"aspect_ratio": "16:9"}), 0);
    for (api, req) in [(ImageApi::BytePlus, both), (ImageApi::Ollama, ratio)] {
        let err = body(api, &req, false).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{api:?}: {err:?}");
    }
}

#[test]
fn paths_per_operation_and_model() {
    use Operation::{Edit, Generate, Upscale};
    let table = [
        (ImageApi::BytePlus, Generate, "seedream-4-0-250828", Some("/api/v3/images/generations")),
        (ImageApi::BytePlus, Edit, "seedream-4-0-250828", Some("/api/v3/images/generations")),
        (ImageApi::BytePlus, Upscale, "seedream-4-0-250828", None),
        (ImageApi::XAi, Generate, "grok-imagine-image", Some("/v1/images/generations")),
        (ImageApi::XAi, Edit, "grok-imagine-image", Some("/v1/images/edits")),
        (ImageApi::Google, Generate, "gemini-3-pro-image", Some("/v1beta/interactions")),
        (ImageApi::Google, Edit, "gemini-2.5-flash-image", Some("/v1beta/interactions")),
        (ImageApi::Google, Generate, "imagen-4.0-generate-001", None),
        (ImageApi::Ollama, Generate, "x/z-image-turbo", Some("/api/generate")),
        (ImageApi::Ollama, Edit, "x/z-image-turbo", None),
    ];
    for (api, op, model, want) in table {
        assert_eq!(api.path(op, model).as_deref(), want, "{api:?} {op} {model}");
    }
    for api in [ImageApi::XAi, ImageApi::Google] {
        let c = ctx(api, Generate);
        assert!(matches!(api.decoder(c, &call(Generate, &json!({}), 0)), Err(Error::Unsupported(_))), "{api:?}");
    }
}

fn bytes(v: Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
}

fn settle(api: ImageApi, body: Value) -> Result<Output<Vec<Image>>> {
    let c = ctx(api, Operation::Generate);
    let body = bytes(body);
    match api {
        ImageApi::BytePlus => byteplus::parse(&body, &c),
        ImageApi::XAi => xai::parse(&body, &c),
        ImageApi::Google => google::parse(&body, &c),
        ImageApi::Ollama => ollama::parse(&body, &c),
        _ => openai::parse(&body, &c),
    }
}

#[test]
fn byteplus_replies_keep_the_seed_and_refusals_are_errors() {
    let out = settle(
        ImageApi::BytePlus,
        json!({"model": "seedream-4-0-250828", "seed": 5,
               "data": [{"b64_json": png_b64(), "size": "1x1"}, {"url": "https://h/files/1/image.jpeg", "size": "2K"}],
               "usage": {"generated_images": 2, "output_tokens": 32, "total_tokens": 32}}),
    )
    .unwrap();
    assert_eq!(out.content.len(), 2);
    let (a, b) = (&out.content[0], &out.content[1]);
    // The bytes say PNG though JPEG is BytePlus's default; the URL's extension types the other.
    assert_eq!((a.artifact.mime_type.clone(), a.width), (Some(MimeType::ImagePng), Some(1)));
    assert_eq!(b.artifact.mime_type, Some(MimeType::ImageJpeg));
    assert_eq!(b.artifact.url.as_deref(), Some("https://h/files/1/image.jpeg"));
    assert!(b.origin.is_some(), "so that Client::download can fetch it");
    assert_eq!((a.artifact.metadata["seed"].clone(), a.artifact.metadata["size"].clone()), (json!(5), json!("1x1")));
    assert_eq!((out.usage.images, out.usage.output_tokens), (Some(2), Some(32)));
    assert_eq!(out.metadata.response_model.as_deref(), Some("seedream-4-0-250828"));

    let err = settle(
        ImageApi::BytePlus,
        json!({"data": [{"error": {"code": "OutputImageSensitiveContentDetected", "message": "Sensitive"}}]}),
    )
    .unwrap_err();
    let Error::Job(job) = err else { panic!("a job error expected: {err:?}") };
    assert_eq!(
        (job.status.as_str(), job.message.as_deref()),
        ("OutputImageSensitiveContentDetected", Some("Sensitive"))
    );
}

#[test]
fn xai_replies_keep_mime_and_extra_fields_and_urls() {
    let out = settle(
        ImageApi::XAi,
        json!({"data": [
            {"url": "https://h/a.jpeg", "mime_type": "image/jpeg", "revised_prompt": "a red kite"},
            {"b64_json": png_b64(), "mime_type": "image/png", "revised_prompt": ""}]}),
    )
    .unwrap();
    assert_eq!(out.content.len(), 2);
    let (a, b) = (&out.content[0], &out.content[1]);
    assert_eq!((a.artifact.url.as_deref(), a.artifact.data.is_none()), (Some("https://h/a.jpeg"), true));
    assert_eq!(a.revised_prompt.as_deref(), Some("a red kite"));
    assert_eq!(a.artifact.metadata.get("mime_type"), Some(&json!("image/jpeg")));
    assert_eq!((b.artifact.mime_type.clone(), b.revised_prompt.clone()), (Some(MimeType::ImagePng), None));
    assert_eq!(out.usage.images, Some(2));
}

#[test]
fn gemini_replies_yield_inline_and_uri_images_and_say_why_when_none() {
    let out = settle(
        ImageApi::Google,
        json!({"id": "v1_x", "status": "completed", "model": "gemini-3-pro-image",
               "steps": [{"type": "thought", "summary": []},
                         {"type": "model_output", "content": [
                             {"type": "text", "text": "Here."},
                             {"type": "image", "data": png_b64(), "mime_type": "image/png"},
                             {"type": "image", "uri": "https://h/i.png", "mime_type": "image/png"}]}],
               "usage": {"total_input_tokens": 4, "total_output_tokens": 1290, "total_tokens": 1294}}),
    )
    .unwrap();
    assert_eq!(out.content.len(), 2);
    assert_eq!(out.content[0].artifact.data.as_deref(), Some(PNG));
    assert_eq!(out.content[1].artifact.url.as_deref(), Some("https://h/i.png"));
    assert!(out.content[1].origin.is_some());
    assert_eq!((out.usage.total_tokens, out.usage.images), (Some(1294), Some(2)));
    assert_eq!(out.metadata.response_id.as_deref(), Some("v1_x"));

    let err = settle(
        ImageApi::Google,
        json!({"steps": [{"type": "model_output", "content": [{"type": "text", "text": "I can't draw that."}]}]}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("I can't draw that."), "{err}");
}

#[test]
fn ollama_replies_and_their_failures() {
    let out = settle(ImageApi::Ollama, json!({"model": "z", "image": png_b64(), "done": true, "done_reason": "stop"}))
        .unwrap();
    assert_eq!((out.content.len(), out.content[0].artifact.mime_type.clone()), (1, Some(MimeType::ImagePng)));
    for bad in [json!({"done": true, "image": ""}), json!({"image": "%%%"}), json!([1])] {
        assert!(matches!(settle(ImageApi::Ollama, bad), Err(Error::Decode { .. })));
    }
}

fn run(
    dec: &mut dyn Decoder<Image, Vec<Image>>,
    frames: Vec<Frame>,
) -> (Vec<Chunk<Image>>, Result<Output<Vec<Image>>>) {
    let mut out = VecDeque::new();
    for f in frames {
        if let Err(e) = dec.on_frame(f, &mut out) {
            return (out.into(), Err(e));
        }
    }
    let res = dec.finish();
    (out.into(), res)
}

fn sse(v: Value) -> Frame {
    let data = if v == json!("[DONE]") { Bytes::from_static(b"[DONE]") } else { bytes(v) };
    Frame::Sse(crate::transport::sse::SseEvent { event: None, data, id: None, retry: None })
}

fn line(v: Value) -> Frame {
    Frame::Line(bytes(v))
}

#[test]
fn byteplus_streams_keep_the_succeeded_images_and_report_failures() {
    let req = call(Operation::Generate, &json!({}), 0);
    let new = || byteplus::SeedreamDecoder::new(ctx(ImageApi::BytePlus, Operation::Generate), &req);
    let ok = json!({"type": "image_generation.partial_succeeded", "b64_json": png_b64(), "size": "1x1"});
    let failed = json!({"type": "image_generation.partial_failed",
                        "error": {"code": "OutputImageSensitiveContentDetected", "message": "Sensitive"}});
    let done = json!({"type": "image_generation.completed", "usage": {"generated_images": 1, "output_tokens": 9}});

    let mut dec = new();
    let (chunks, out) = run(&mut dec, vec![sse(failed.clone()), sse(ok), sse(done.clone()), sse(json!("[DONE]"))]);
    assert_eq!(chunks.len(), 1);
    let out = out.unwrap();
    assert_eq!((out.content.len(), out.usage.images, out.usage.output_tokens), (1, Some(1), Some(9)));
    assert!(dec.is_terminal());

    // Every image failed: the provider's reason, not an empty output.
    let mut dec = new();
    let (_, out) = run(&mut dec, vec![sse(failed), sse(done)]);
    let Err(Error::StreamEvent(e)) = out else { panic!("a stream event error expected: {out:?}") };
    assert_eq!(
        (e.message.as_str(), e.error_type.as_deref()),
        ("Sensitive", Some("OutputImageSensitiveContentDetected"))
    );

    // An error event ends the stream; nothing at all is a truncation.
    let mut dec = new();
    let (_, out) = run(&mut dec, vec![sse(json!({"error": {"code": "InternalServiceError", "message": "boom"}}))]);
    assert!(matches!(out, Err(Error::StreamEvent(ref e)) if e.message == "boom"), "{out:?}");
    let mut dec = new();
    assert!(matches!(run(&mut dec, vec![]).1, Err(Error::StreamTruncated { .. })));
}

#[test]
fn ollama_streams_skip_progress_keep_the_image_and_report_errors() {
    let new = || ollama::GenerateDecoder::new(ctx(ImageApi::Ollama, Operation::Generate));
    let progress = |k: u64| line(json!({"model": "z", "done": false, "completed": k, "total": 2, "response": ""}));
    let last = line(json!({"model": "z", "done": true, "done_reason": "stop", "image": png_b64()}));

    let mut dec = new();
    let (chunks, out) = run(&mut dec, vec![progress(1), progress(2), last]);
    assert_eq!(chunks.len(), 1, "progress lines carry no image");
    assert!(chunks[0].finish_reason.is_some());
    assert!(dec.is_terminal());
    let out = out.unwrap();
    assert_eq!((out.content.len(), out.metadata.response_model.as_deref()), (1, Some("z")));

    let mut dec = new();
    let (_, out) = run(&mut dec, vec![progress(1), line(json!({"error": "out of memory"}))]);
    assert!(matches!(out, Err(Error::StreamEvent(ref e)) if e.message == "out of memory"), "{out:?}");
    let mut dec = new();
    assert!(matches!(run(&mut dec, vec![progress(1)]).1, Err(Error::StreamTruncated { .. })));
}
