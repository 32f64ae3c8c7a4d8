//! The job image APIs (BFL, Topaz): request shapes per model family, status replies, downloads.

use bytes::Bytes;
use serde_json::{Value, json};

use super::*;
use crate::error::Origin;
use crate::jobs::Poll;
use crate::types::enums::Provider;
use crate::wire::media::MediaRequest;
use crate::wire::testkit::media_params;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

fn ctx(provider: Provider, model: &str, operation: Operation) -> ImageContext {
    ImageContext { origin: Origin::Provider(provider), model: model.into(), operation, extra: ImageExtra }
}

fn request(model: &str, operation: Operation, params: &Value) -> ImageRequest {
    let prompt = (operation != Operation::Upscale).then(|| "a castle".to_string());
    MediaRequest {
        params: media_params(params),
        ..ImageRequest::new(model.into(), operation, ImageInput { prompt, image: None })
    }
}

async fn bfl_body(req: &ImageRequest) -> (Value, Vec<String>) {
    let built = ImageApi::Bfl.build(req, &ctx(Provider::Bfl, &req.model, req.operation), false, "u".into()).await;
    let built = built.unwrap();
    let Body::Json(body) = built.body else { panic!("JSON expected") };
    assert!(built.headers.iter().any(|(k, v)| k == "accept" && v == "application/json"));
    (body, built.dropped)
}

/// One row of the BFL table: model, parameters besides the common ones, the body's fields besides
/// prompt and the common ones, and the parameters reported as dropped.
type Case = (&'static str, Value, Value, Vec<&'static str>);

#[tokio::test]
async fn bfl_request_shapes_per_model_family() {
    let common = || json!({"seed": 7, "safety_tolerance": 2, "output_format": "png"});
    let cases: Vec<Case> = vec![
        // flux-2 max/pro/pro-preview: WxH split exactly; prompt upsampling inverted as disable_pup.
        (
            "flux-2-pro",
            json!({"aspect_ratio": "1920x1080", "prompt_upsampling": true}),
            json!({"width": 1920, "height": 1080, "disable_pup": false}),
            vec![],
        ),
        ("flux-2-max", json!({"prompt_upsampling": false}), json!({"disable_pup": true}), vec![]),
        // flux-2-flex: prompt_upsampling as it is, steps and guidance carried.
        (
            "flux-2-flex",
            json!({"aspect_ratio": "1000x750", "prompt_upsampling": true, "steps": 30, "guidance": 4.5}),
            json!({"width": 1000, "height": 750, "prompt_upsampling": true, "steps": 30, "guidance": 4.5}),
            vec![],
        ),
        // flux-2-klein: no prompt upsampling (reported as dropped).
        (
            "flux-2-klein-4b",
            json!({"aspect_ratio": "64x64", "prompt_upsampling": true}),
            json!({"width": 64, "height": 64}),
            vec!["prompt_upsampling"],
        ),
        // kontext and ultra: the native aspect_ratio string.
        (
            "flux-kontext-pro",
            json!({"aspect_ratio": "21:9", "prompt_upsampling": true}),
            json!({"aspect_ratio": "21:9", "prompt_upsampling": true}),
            vec![],
        ),
        ("flux-pro-1.1-ultra", json!({"aspect_ratio": "16:9"}), json!({"aspect_ratio": "16:9"}), vec![]),
        // flux-pro-1.1 and flux-dev: WxH; dev takes steps and guidance, pro does not.
        (
            "flux-pro-1.1",
            json!({"aspect_ratio": "1024x768", "steps": 20}),
            json!({"width": 1024, "height": 768}),
            vec!["steps"],
        ),
        (
            "flux-dev",
            json!({"aspect_ratio": "1024x768", "steps": 20, "guidance": 3.0}),
            json!({"width": 1024, "height": 768, "steps": 20, "guidance": 3.0}),
            vec![],
        ),
        // flux-3-image: native ratio, quality → resolution, grounding; no seed or format.
        (
            "flux-3-image",
            json!({"aspect_ratio": "auto", "quality": "2k", "grounding": true}),
            json!({"aspect_ratio": "auto", "resolution": "2k", "grounding": true}),
            vec!["output_format", "seed"],
        ),
        // flux-3-image-klein: quality and steps, no aspect ratio.
        (
            "flux-3-image-klein",
            json!({"quality": "1k", "steps": 8, "aspect_ratio": "1:1"}),
            json!({"resolution": "1k", "steps": 8}),
            vec!["aspect_ratio"],
        ),
    ];
    for (model, extra, expected, dropped) in cases {
        let mut params = common();
        params.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (body, got_dropped) = bfl_body(&request(model, Operation::Generate, &params)).await;
        let mut want = json!({"prompt": "a castle", "seed": 7, "safety_tolerance": 2, "output_format": "png"});
        for (k, v) in expected.as_object().unwrap() {
            want[k] = v.clone();
        }
        for d in &dropped {
            want.as_object_mut().unwrap().remove(*d);
        }
        assert_eq!(body, want, "{model}");
        assert_eq!(got_dropped, dropped, "{model}");
    }
}

#[tokio::test]
async fn bfl_input_images_go_to_the_model_field_with_the_edit_image_first() {
    let edit = |model: &str, refs: usize| {
        let mut r = request(model, Operation::Edit, &json!({}));
        r.input.image = Some(Artifact::from_bytes(PNG));
        r.params.reference_images = (0..refs).map(|i| Artifact::from_url(format!("https://x/r{i}.png"))).collect();
        r
    };
    let png = b64(PNG);
    // flux-2 and kontext: input_image, input_image_2, ...; bytes as base64, URL-only images as URLs.
    for model in ["flux-2-pro", "flux-kontext-max"] {
        let (body, _) = bfl_body(&edit(model, 2)).await;
        assert_eq!(body["input_image"], json!(png), "{model}");
        assert_eq!(body["input_image_2"], "https://x/r0.png");
        assert_eq!(body["input_image_3"], "https://x/r1.png");
        assert!(body.get("images").is_none() && body.get("image_prompt").is_none());
    }
    // A generation's first reference image takes input_image.
    let mut gen_req = request("flux-2-pro", Operation::Generate, &json!({}));
    gen_req.params.reference_images.push(Artifact::from_bytes(PNG));
    assert_eq!(bfl_body(&gen_req).await.0["input_image"], json!(png));
    // flux-3-image: one list, the edit image first.
    let (body, _) = bfl_body(&edit("flux-3-image", 1)).await;
    assert_eq!(body["images"], json!([png, "https://x/r0.png"]));
    assert!(body.get("input_image").is_none());
    // flux-pro-1.1, ultra, flux-dev: one image_prompt.
    for model in ["flux-pro-1.1", "flux-pro-1.1-ultra", "flux-dev"] {
        let mut r = request(model, Operation::Generate, &json!({}));
        r.params.reference_images.push(Artifact::from_url("https://x/p.png"));
        assert_eq!(bfl_body(&r).await.0["image_prompt"], "https://x/p.png", "{model}");
        r.params.reference_images.push(Artifact::from_url("https://x/q.png"));
        let c = ctx(Provider::Bfl, model, Operation::Generate);
        let err = ImageApi::Bfl.build(&r, &c, false, "u".into()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidInput(m) if m.contains("one input image")), "{err}");
    }
    // A model whose image field is unknown: an error, not a guess (the reference's KeyError).
    for (model, op) in [("flux-next", Operation::Edit), ("flux-3-image-klein", Operation::Edit)] {
        let c = ctx(Provider::Bfl, model, op);
        let err = ImageApi::Bfl.build(&edit(model, 0), &c, false, "u".into()).await.unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{model}: {err}");
    }
    // Every model is its own endpoint; BFL does not upscale.
    assert_eq!(ImageApi::Bfl.path(Operation::Edit, "flux-2-pro").as_deref(), Some("/v1/flux-2-pro"));
    assert_eq!(ImageApi::Bfl.path(Operation::Upscale, "flux-2-pro"), None);
}

fn bfl_status(v: Value) -> Result<Poll<bfl::Ready>> {
    bfl::read_status(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn bfl_statuses_pending_ready_and_every_failure() {
    match bfl_status(json!({"id": "j", "status": "Pending", "progress": 0.4, "result": null})).unwrap() {
        Poll::Pending { status, fraction } => assert_eq!((status.as_str(), fraction), ("Pending", Some(0.4))),
        other => panic!("{other:?}"),
    }
    let ready = bfl_status(json!({"status": "Ready", "cost": 4.0, "result": {"sample": "https://d/s.jpg"}})).unwrap();
    let Poll::Done(r) = ready else { panic!("done expected") };
    assert_eq!((r.sample.as_str(), r.cost), ("https://d/s.jpg", Some(4.0)));
    for (status, reply, message) in [
        ("Error", json!({"error": "GPU fell over"}), Some("GPU fell over")),
        ("Request Moderated", json!({"details": {"message": "Flagged"}}), Some("Flagged")),
        (
            "Content Moderated",
            json!({"details": {"Moderation Reasons": ["x"]}}),
            Some(r#"{"Moderation Reasons":["x"]}"#),
        ),
        ("Task not found", json!({"details": null}), None),
        ("No Card Generated", json!({}), None),
        ("Failed", json!({"error": ""}), None),
    ] {
        let mut v = reply;
        v["status"] = json!(status);
        match bfl_status(v).unwrap() {
            Poll::Failed { status: s, message: m } => assert_eq!((s.as_str(), m.as_deref()), (status, message)),
            other => panic!("{status}: {other:?}"),
        }
    }
    // Ready without an image, and a body that is no status, are decode errors.
    for bad in [json!({"status": "Ready", "result": {}}), json!("nope")] {
        assert!(matches!(bfl_status(bad), Err(Error::Decode { .. })));
    }
}

#[tokio::test]
async fn topaz_posts_a_form_to_each_models_endpoint_with_lowercase_booleans() {
    for (model, path) in [
        ("Standard V2", Some("/image/v1/enhance/async")),
        ("Text Refine", Some("/image/v1/enhance/async")),
        ("Detail", Some("/image/v1/enhance-gen/async")),
        ("Transparency Upscale", Some("/image/v1/tool/async")),
        ("Some Future Model", None),
    ] {
        assert_eq!(ImageApi::Topaz.path(Operation::Upscale, model).as_deref(), path, "{model}");
    }
    assert_eq!(ImageApi::Topaz.path(Operation::Generate, "Standard V2"), None);

    let mut req = request(
        "Standard V2",
        Operation::Upscale,
        &json!({"output_width": 2048, "output_height": 1536.0, "crop_to_fill": false, "face_enhancement": true,
                "face_enhancement_strength": 0.8, "subject_detection": "all", "seed": 1}),
    );
    req.input.image = Some(Artifact::from_bytes(PNG));
    let c = ctx(Provider::TopazLabs, "Standard V2", Operation::Upscale);
    let built = ImageApi::Topaz.build(&req, &c, false, "u".into()).await.unwrap();
    assert_eq!(built.dropped, ["seed"]);
    let Body::Form(fields) = built.body else { panic!("a form expected") };
    let texts = super::tests::form_texts(&fields);
    assert_eq!(
        texts,
        [
            ("model", "Standard V2"),
            ("output_width", "2048"),
            ("output_height", "1536"),
            ("crop_to_fill", "false"),
            ("face_enhancement", "true"),
            ("face_enhancement_strength", "0.8"),
            ("subject_detection", "all"),
        ]
    );
    let file = fields.iter().find_map(|f| match f {
        FormField::File { name: "image", mime, bytes, .. } => Some((mime.as_str(), bytes.len())),
        _ => None,
    });
    assert_eq!(file, Some(("image/png", PNG.len())));

    // An image with only a URL cannot be uploaded.
    req.input.image = Some(Artifact::from_url("https://x/a.png"));
    let err = ImageApi::Topaz.build(&req, &c, false, "u".into()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

fn topaz_status(v: Value) -> Result<Poll<topaz::Completed>> {
    topaz::read_status(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn topaz_statuses_report_percent_progress_and_failures_with_their_message() {
    match topaz_status(json!({"status": "Processing", "progress": 40})).unwrap() {
        Poll::Pending { status, fraction } => assert_eq!((status.as_str(), fraction), ("Processing", Some(0.4))),
        other => panic!("{other:?}"),
    }
    assert!(matches!(topaz_status(json!({"status": "Completed", "credits": 1})), Ok(Poll::Done(_))));
    for (reply, message) in [
        (json!({"status": "Failed", "error": "Bad input"}), Some("Bad input")),
        (json!({"status": "Cancelled", "message": "by user"}), Some("by user")),
        (json!({"status": "Failed"}), None),
    ] {
        match topaz_status(reply).unwrap() {
            Poll::Failed { message: m, .. } => assert_eq!(m.as_deref(), message),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(topaz_status(json!([1])), Err(Error::Decode { .. })));
}

#[test]
fn a_download_must_be_an_image() {
    let c = ctx(Provider::Bfl, "flux-dev", Operation::Generate);
    let img = downloaded(Bytes::from_static(PNG), Some("https://d/s.png".into()), "a result", &c).unwrap();
    assert_eq!((img.width, img.height), (Some(1), Some(1)));
    assert_eq!(img.artifact.mime_type.as_ref().map(|m| m.as_str()), Some("image/png"));
    assert_eq!(img.artifact.url.as_deref(), Some("https://d/s.png"));
    for bad in [&b""[..], b"<html>AccessDenied</html>"] {
        let err = downloaded(Bytes::copy_from_slice(bad), None, "a result", &c).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
    }
}
