//! The video APIs' request shapes, table-driven across every API, and their status replies.

use serde_json::{Value, json};

use super::*;
use crate::error::Origin;
use crate::types::enums::Provider;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

fn png() -> Artifact {
    Artifact::from_bytes(PNG)
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

fn request(model: &str, operation: Operation) -> VideoRequest {
    let input = VideoInput { prompt: "a wave".into(), video: None, first_frame: None, last_frame: None };
    VideoRequest::new(model.into(), operation, input)
}

fn ctx(provider: Provider, model: &str, operation: Operation) -> VideoContext {
    VideoContext {
        origin: Origin::Provider(provider),
        model: model.into(),
        operation,
        extra: VideoExtra { base: "https://api.example".into(), auth: HeaderMap::new() },
    }
}

fn full(model: &str) -> VideoRequest {
    let mut r = request(model, Operation::Generate);
    r.params.set("aspect_ratio", "16:9");
    r.params.set("resolution", "720p");
    r.params.set("duration", 8);
    r.input.first_frame = Some(png());
    r.input.last_frame = Some(png());
    r.params.reference_images.push(png());
    r
}

#[test]
fn every_api_carries_its_parameters_and_frames_in_its_own_shape() {
    let img = b64(PNG);
    let data_url = format!("data:image/png;base64,{img}");
    let inline = json!({"bytesBase64Encoded": img, "mimeType": "image/png"});
    let cases: Vec<(VideoApi, Provider, &str, Value, Vec<&str>)> = vec![
        (
            VideoApi::Veo,
            Provider::Google,
            "veo-3.1-generate-preview",
            json!({
                "instances": [{"prompt": "a wave", "image": inline, "lastFrame": inline,
                               "referenceImages": [{"image": inline, "referenceType": "asset"}]}],
                "parameters": {"aspectRatio": "16:9", "resolution": "720p", "durationSeconds": 8},
            }),
            vec![],
        ),
        (
            VideoApi::Omni,
            Provider::Google,
            "gemini-omni-1.1-flash",
            json!({
                "model": "gemini-omni-1.1-flash",
                "input": [{"type": "user_input", "content": [
                    {"type": "image", "data": img, "mime_type": "image/png"},
                    {"type": "image", "data": img, "mime_type": "image/png"},
                    {"type": "image", "data": img, "mime_type": "image/png"},
                    {"type": "text", "text": "a wave"},
                ]}],
                "response_format": {"type": "video", "aspect_ratio": "16:9", "duration": "8s", "resolution": "720p"},
                "generation_config": {"video_config": {"task": "image_to_video"}},
            }),
            vec![],
        ),
        (
            VideoApi::XAi,
            Provider::XAi,
            "grok-imagine-video",
            json!({"model": "grok-imagine-video", "prompt": "a wave", "duration": 8, "aspect_ratio": "16:9",
                   "resolution": "720p", "image": {"url": data_url}}),
            vec!["last_frame", "reference_images"],
        ),
        (
            VideoApi::BytePlus,
            Provider::BytePlus,
            "dreamina-seedance-2-0-260128",
            json!({"model": "dreamina-seedance-2-0-260128", "content": [
                {"type": "text", "text": "a wave --ratio 16:9 --resolution 720p --duration 8"},
                {"type": "image_url", "image_url": {"url": data_url}, "role": "first_frame"},
                {"type": "image_url", "image_url": {"url": data_url}, "role": "last_frame"},
                {"type": "image_url", "image_url": {"url": data_url}, "role": "reference_image"},
            ]}),
            vec![],
        ),
    ];
    for (api, provider, model, expected, dropped) in cases {
        let built = api.build(&full(model), &ctx(provider, model, Operation::Generate)).unwrap();
        assert_eq!(built.body, expected, "{api:?}");
        assert_eq!(built.dropped, dropped, "{api:?}");
    }
}

#[test]
fn edits_send_the_video_and_say_so() {
    let mut r = request("gemini-omni-1.1-flash", Operation::Edit);
    let mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isomiso2".to_vec();
    r.input.video = Some(Artifact::from_bytes(mp4.clone()).with_mime_type(crate::types::mime::MimeType::VideoMp4));
    let omni = VideoApi::Omni.build(&r, &ctx(Provider::Google, &r.model, Operation::Edit)).unwrap().body;
    assert_eq!(omni["generation_config"], json!({"video_config": {"task": "edit"}}));
    assert_eq!(omni["input"][0]["content"][0], json!({"type": "video", "data": b64(&mp4), "mime_type": "video/mp4"}));
    r.model = "grok-imagine-video".into();
    let xai = VideoApi::XAi.build(&r, &ctx(Provider::XAi, &r.model, Operation::Edit)).unwrap().body;
    assert_eq!(xai["video"], json!({"url": format!("data:video/mp4;base64,{}", b64(&mp4))}));
    // References alone are a reference-to-video task.
    let mut refs = request("gemini-omni-1.1-flash", Operation::Generate);
    refs.params.reference_images.push(png());
    let body = VideoApi::Omni.build(&refs, &ctx(Provider::Google, &refs.model, Operation::Generate)).unwrap().body;
    assert_eq!(body["generation_config"]["video_config"]["task"], "reference_to_video");
}

#[test]
fn a_parameter_the_api_cannot_carry_is_dropped_by_name() {
    let mut r = request("grok-imagine-video", Operation::Generate);
    r.params.set("fps", 24);
    r.params.set("negative_prompt", "rain");
    let built = VideoApi::XAi.build(&r, &ctx(Provider::XAi, &r.model, Operation::Generate)).unwrap();
    assert_eq!(built.dropped, ["fps", "negative_prompt"]);
    assert!(built.body.get("fps").is_none() && built.body.get("negative_prompt").is_none());
}

#[test]
fn paths_per_api_and_operation() {
    let veo = "veo-3.1-generate-preview";
    assert_eq!(
        VideoApi::Veo.path(Operation::Generate, veo).as_deref(),
        Some("/v1beta/models/veo-3.1-generate-preview:predictLongRunning")
    );
    assert_eq!(VideoApi::Veo.path(Operation::Edit, veo), None);
    assert_eq!(VideoApi::VeoVertex.path(Operation::Generate, veo).as_deref(), Some(""));
    assert_eq!(VideoApi::Omni.path(Operation::Edit, "gemini-omni-1.1-flash").as_deref(), Some("/v1beta/interactions"));
    assert_eq!(VideoApi::XAi.path(Operation::Edit, "grok-imagine-video").as_deref(), Some("/v1/videos/edits"));
    assert_eq!(VideoApi::BytePlus.path(Operation::Edit, "seedance-1-0-pro-250528"), None);
    assert_eq!(
        VideoApi::BytePlus.path(Operation::Generate, "seedance-1-0-pro-250528").as_deref(),
        Some("/api/v3/contents/generations/tasks")
    );
}

#[test]
fn status_replies_pending_done_and_failed() {
    use crate::jobs::Poll;
    let veo = |v: Value| veo::read(&serde_json::to_vec(&v).unwrap());
    assert!(matches!(veo(json!({"name": "n", "done": false})).unwrap(), Poll::Pending { .. }));
    assert!(matches!(veo(json!({"name": "n", "done": true, "response": {}})).unwrap(), Poll::Done(_)));
    let Poll::Failed { status, message } =
        veo(json!({"done": true, "error": {"code": 3, "message": "bad prompt"}})).unwrap()
    else {
        panic!()
    };
    assert_eq!((status.as_str(), message.as_deref()), ("code 3", Some("bad prompt")));
    let xai = |v: Value| xai::read(&serde_json::to_vec(&v).unwrap());
    assert!(matches!(xai(json!({"status": "pending"})).unwrap(), Poll::Pending { .. }));
    assert!(matches!(xai(json!({"video": {"url": "https://x/v.mp4"}})).unwrap(), Poll::Done(_)));
    assert!(matches!(xai(json!({"status": "expired"})).unwrap(), Poll::Failed { .. }));
    let Poll::Failed { message, .. } = xai(json!({"status": "done", "video": {"respect_moderation": false}})).unwrap()
    else {
        panic!()
    };
    assert_eq!(message.as_deref(), Some("the video was withheld by moderation"));
    let bp = |v: Value| byteplus::read(&serde_json::to_vec(&v).unwrap());
    assert!(matches!(bp(json!({"status": "running"})).unwrap(), Poll::Pending { .. }));
    assert!(matches!(bp(json!({"status": "succeeded"})).unwrap(), Poll::Done(_)));
    let Poll::Failed { status, message } =
        bp(json!({"status": "failed", "error": {"code": "Sensitive", "message": "no"}})).unwrap()
    else {
        panic!()
    };
    assert_eq!((status.as_str(), message.as_deref()), ("failed: Sensitive", Some("no")));
    assert!(byteplus::read(b"not json").is_err());
}

#[test]
fn cloud_storage_uris_become_download_urls_of_the_right_host() {
    assert_eq!(
        veo::storage_url("gs://bucket/out/a b/v.mp4", "https://us-central1-aiplatform.googleapis.com").as_deref(),
        Some("https://storage.googleapis.com/storage/v1/b/bucket/o/out%2Fa%20b%2Fv.mp4?alt=media")
    );
    // A proxy or the emulator stands in for every Google host.
    assert_eq!(
        veo::storage_url("gs://b/o.mp4", "http://127.0.0.1:9/").as_deref(),
        Some("http://127.0.0.1:9/storage/v1/b/b/o/o.mp4?alt=media")
    );
    assert_eq!(veo::storage_url("https://x/y", "https://a"), None);
    assert_eq!(veo::storage_url("gs://bucket", "https://a"), None);
}
