//! The image seam and the OpenAI Images module against recorded replies and hand-made requests.

use bytes::Bytes;
use serde_json::{Value, json};

use super::*;
use crate::error::Origin;
use crate::types::enums::Provider;
use crate::types::mime::MimeType;

fn ctx(operation: Operation) -> ImageContext {
    ImageContext {
        origin: Origin::Provider(Provider::OpenAi),
        model: "gpt-image-1".into(),
        operation,
        extra: ImageExtra,
    }
}

fn request(operation: Operation) -> ImageRequest {
    ImageRequest::new("gpt-image-1".into(), operation, ImageInput { prompt: Some("a lighthouse".into()), image: None })
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

#[tokio::test]
async fn generate_maps_parameters_by_openai_names_and_drops_the_rest() {
    let mut req = request(Operation::Generate);
    req.params.set("aspect_ratio", "1536x1024");
    req.params.set("num_images", 2);
    req.params.set("safety_tolerance", "low");
    req.params.set("quality", "high");
    req.params.set("steps", 28);
    req.params.reference_images.push(Artifact::from_url("https://x/r.png"));
    let built = ImageApi::OpenAi.build(&req, &ctx(Operation::Generate), false, "u".into()).await.unwrap();
    let Body::Json(body) = built.body else { panic!("JSON expected") };
    assert_eq!(
        body,
        json!({"model": "gpt-image-1", "prompt": "a lighthouse", "size": "1536x1024", "n": 2,
               "moderation": "low", "quality": "high"})
    );
    assert_eq!(built.dropped, ["reference_images", "steps"]);

    // A stream asks for one partial image unless told otherwise, and says it accepts events.
    let built =
        ImageApi::OpenAi.build(&request(Operation::Generate), &ctx(Operation::Generate), true, "u".into()).await;
    let built = built.unwrap();
    let Body::Json(body) = built.body else { panic!("JSON expected") };
    assert_eq!((body["stream"].clone(), body["partial_images"].clone()), (json!(true), json!(1)));
    assert!(built.headers.iter().any(|(k, v)| k == "accept" && v == "text/event-stream"));
}

#[tokio::test]
async fn edits_are_multipart_and_streamed_edits_json_with_data_urls() {
    let mut req = request(Operation::Edit);
    req.input.image = Some(Artifact::from_bytes(PNG));
    req.params.set("num_images", 1);
    let built = ImageApi::OpenAi.build(&req, &ctx(Operation::Edit), false, "u".into()).await.unwrap();
    let Body::Form(fields) = built.body else { panic!("a form expected") };
    let file = fields.iter().find_map(|f| match f {
        FormField::File { name: "image[]", mime, bytes, .. } => Some((mime.clone(), bytes.len())),
        _ => None,
    });
    assert_eq!(file, Some(("image/png".to_string(), PNG.len())));
    let texts = form_texts(&fields);
    assert!(texts.contains(&("n", "1")) && texts.contains(&("prompt", "a lighthouse")), "{texts:?}");

    let built = ImageApi::OpenAi.build(&req, &ctx(Operation::Edit), true, "u".into()).await.unwrap();
    let Body::Json(body) = built.body else { panic!("JSON expected") };
    assert!(body["images"][0]["image_url"].as_str().unwrap().starts_with("data:image/png;base64,"));
}

#[test]
fn the_recorded_generation_decodes_every_image_and_the_revised_prompt() {
    let Some(dir) = crate::testing::recorded_dir() else { return };
    let body = Bytes::from(std::fs::read(dir.join("media/openai-image.json")).unwrap());
    let out = openai::parse(&body, &ctx(Operation::Generate)).unwrap();
    assert_eq!(out.content.len(), 2);
    assert!(out.content[0].revised_prompt.as_deref().unwrap().starts_with("A small and adorable baby sea otter"));
    assert_eq!(out.content[1].revised_prompt, None);
    for img in &out.content {
        assert!(img.artifact.data.as_ref().unwrap().starts_with(b"\x89PNG"));
        assert_eq!(img.artifact.mime_type, Some(MimeType::ImagePng));
    }
    assert_eq!(out.usage.images, Some(2));

    let body = Bytes::from(std::fs::read(dir.join("media/openai-image-edit.json")).unwrap());
    let out = openai::parse(&body, &ctx(Operation::Edit)).unwrap();
    assert_eq!(out.content.len(), 1);
    assert_eq!(out.content[0].artifact.mime_type, Some(MimeType::ImagePng));
}

#[test]
fn replies_without_images_or_with_bad_base64_are_decode_errors() {
    for body in [json!({"data": []}), json!({"data": [{"b64_json": "%%%"}]}), json!("nope")] {
        let body = Bytes::from(serde_json::to_vec(&body).unwrap());
        let err = openai::parse(&body, &ctx(Operation::Generate)).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }
}

/// Base64 is decoded straight from the body, borrowed; an encoder that escapes `/` as `\/` (legal JSON)
/// makes the string unescaped first, and the image is the same. For every module that reads `b64_json`.
#[test]
fn base64_with_escaped_slashes_decodes_to_the_same_image() {
    // Three 0xFF bytes are `////` in base64.
    let bytes = [PNG, &[0xFF; 3]].concat();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
    assert!(b64.ends_with("////"));
    let escaped = |v: &Value| Bytes::from(serde_json::to_string(v).unwrap().replace('/', "\\/"));
    let plain = |v: &Value| Bytes::from(serde_json::to_vec(v).unwrap());
    let reply = json!({"created": 1, "data": [{"b64_json": b64}]});
    let c = ctx(Operation::Generate);
    for body in [plain(&reply), escaped(&reply)] {
        assert_eq!(body.windows(2).any(|w| w == b"\\/"), body == escaped(&reply));
        let out = openai::parse(&body, &c).unwrap();
        assert_eq!(out.content[0].artifact.data.as_deref(), Some(&bytes[..]));
        let out = byteplus::parse(&body, &c).unwrap();
        assert_eq!(out.content[0].artifact.data.as_deref(), Some(&bytes[..]));
        let out = xai::parse(&body, &c).unwrap();
        assert_eq!(out.content[0].artifact.data.as_deref(), Some(&bytes[..]));
    }
    let event = json!({"type": "image_generation.completed", "b64_json": b64});
    for event in [plain(&event), escaped(&event)] {
        let mut dec = openai::ImagesDecoder::new(ctx(Operation::Generate), &request(Operation::Generate));
        let (chunks, out) = crate::testing::decode_all(&mut dec, &[event.to_vec()]);
        assert_eq!(chunks[0].content.artifact.data.as_deref(), Some(&bytes[..]));
        assert_eq!(out.unwrap().content[0].artifact.data.as_deref(), Some(&bytes[..]));
    }
}

#[test]
fn a_stream_yields_partials_and_keeps_the_completed_images() {
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, PNG);
    let mut dec = openai::ImagesDecoder::new(ctx(Operation::Generate), &request(Operation::Generate));
    let events: Vec<Vec<u8>> = [
        json!({"type": "image_generation.partial_image", "b64_json": b64, "partial_image_index": 0}),
        json!({"type": "image_generation.completed", "b64_json": b64, "usage": {"input_tokens": 5, "output_tokens": 9, "total_tokens": 14}}),
    ]
    .iter()
    .map(|v: &Value| serde_json::to_vec(v).unwrap())
    .collect();
    let (chunks, out) = crate::testing::decode_all(&mut dec, &events);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].content.width, Some(1));
    let out = out.unwrap();
    assert_eq!(out.content.len(), 1);
    assert_eq!((out.usage.total_tokens, out.usage.images), (Some(14), Some(1)));

    // A stream that ends before a completed image is truncated, not empty.
    let mut dec = openai::ImagesDecoder::new(ctx(Operation::Generate), &request(Operation::Generate));
    let (_, out) = crate::testing::decode_all(&mut dec, &events[..1]);
    assert!(matches!(out, Err(Error::StreamTruncated { .. })));
}

/// A form's text fields, as (name, value).
pub(super) fn form_texts(fields: &[FormField]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .filter_map(|f| match f {
            FormField::Text(k, v) => Some((*k, v.as_str())),
            _ => None,
        })
        .collect()
}
