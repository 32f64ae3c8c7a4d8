//! Segmentation (fal SAM-3) over real sockets against the project's emulator: the queue's submit,
//! status polls and result, masks decoded from the emulator's real run-length encodings, the
//! request's shape, failures, the job deadline, the blocking twin, bad input and the call's span.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use celeste::types::{Artifact, BoxPrompt, JobProgress, PointPrompt};
use celeste::{Client, Credentials, Error, Provider, TelemetryConfig, TimeoutPhase};
use celeste_emulator::{Config, Emulator, JobFailure, Reply, Scenario};

const FAST: Duration = Duration::from_millis(10);
const SAM3: &str = "fal-ai/sam-3/image-rle";

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::Fal, "test-fal-key"))
        .base_url(Provider::Fal, emu.url())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// A real 40×30 PNG.
fn png() -> Artifact {
    Artifact::from_bytes(celeste_emulator::image::render(celeste_emulator::image::Format::Png, (40, 30), 1, 1.0))
}

#[tokio::test]
async fn both_models_submit_poll_and_fetch_masks_of_the_images_size() {
    let config =
        Config::default().scenario(Scenario::new("queued").path("/fal-ai/*").then(Reply::default().pending_polls(2)));
    let emu = Emulator::start(config).await.unwrap();
    for model in [SAM3, "fal-ai/sam-3-1/image-rle"] {
        let seen = Arc::new(Mutex::new(Vec::<JobProgress>::new()));
        let sink = seen.clone();
        let out = client(&emu)
            .images()
            .segment(png(), model)
            .prompt("wheel")
            .include_scores(true)
            .include_boxes(true)
            .poll_interval(FAST)
            .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
            .await
            .unwrap();
        assert_eq!(out.content.len(), 1);
        let m = &out.content[0];
        // The emulator's mask 0 is the image's middle half: columns 10..30, rows 7..22.
        let px = m.mask.as_ref().expect("decoded: the image's size is known");
        assert_eq!((px.width(), px.height(), px.area()), (40, 30, 20 * 15));
        assert!(px.get(10, 7) && px.get(29, 21) && !px.get(9, 7) && !px.get(30, 21) && !px.get(10, 22));
        assert_eq!(m.score, Some(0.95));
        assert!(m.bbox.is_some_and(|b| (b[0] - 0.5).abs() < 1e-9 && (b[2] - 0.5).abs() < 1e-9), "{:?}", m.bbox);
        assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(celeste::FinishKind::Stop));
        // The request id is fal's job id.
        let job = emu.job(out.metadata.response_id.as_deref().unwrap()).unwrap();
        assert_eq!((job.model.as_deref(), job.polls), (Some(model), 3));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen.iter().map(|p| p.status.as_str()).collect::<Vec<_>>(),
            ["IN_QUEUE (position 0)", "IN_PROGRESS"]
        );
        assert!(seen.iter().all(|p| p.job_id.as_deref() == Some(job.id.as_str())));
    }
    // Submit, three status polls and the result, each with fal's key; the submit's shape.
    let reqs = emu.requests();
    let submit = &reqs[0];
    assert_eq!((submit.method.as_str(), submit.path.as_str()), ("POST", "/fal-ai/sam-3/image-rle"));
    let body = submit.json().unwrap();
    assert!(body["image_url"].as_str().unwrap().starts_with("data:image/png;base64,"));
    assert_eq!((body["prompt"].as_str(), body["include_scores"].as_bool()), (Some("wheel"), Some(true)));
    assert!(body.get("point_prompts").is_none() && body.get("box_prompts").is_none());
    let polls = reqs[..5].iter().filter(|r| r.path.ends_with("/status")).count();
    assert_eq!(polls, 3);
    assert!(reqs[4].path.starts_with("/fal-ai/sam-3/requests/") && !reqs[4].path.ends_with("/status"));
    assert!(reqs.iter().all(|r| r.header("authorization") == Some("Key test-fal-key")));
    emu.shutdown().await;
}

#[tokio::test]
async fn points_boxes_and_several_masks_go_on_the_wire_and_come_back_in_order() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let out = celeste::images::segment(png(), SAM3)
        .point(5, 6)
        .point_prompt(PointPrompt::background(1, 1).object(2))
        .box_prompt(BoxPrompt::new(2, 3, 12, 9).object(1))
        .return_multiple_masks(true)
        .max_masks(3)
        .poll_interval(FAST)
        .client(client(&emu))
        .await
        .unwrap();
    let body = emu.requests()[0].json().unwrap();
    assert_eq!(
        body["point_prompts"],
        serde_json::json!([{"x": 5, "y": 6, "label": 1}, {"x": 1, "y": 1, "label": 0, "object_id": 2}])
    );
    assert_eq!(
        body["box_prompts"],
        serde_json::json!([{"x_min": 2, "y_min": 3, "x_max": 12, "y_max": 9, "object_id": 1}])
    );
    assert_eq!((body["return_multiple_masks"].as_bool(), body["max_masks"].as_u64()), (Some(true), Some(3)));
    // Three masks, the box's rectangle first, each one pixel smaller on every side; scores from
    // the metadata (none were asked for).
    assert_eq!(out.content.iter().map(|m| m.index).collect::<Vec<_>>(), [0, 1, 2]);
    let areas: Vec<u64> = out.content.iter().map(|m| m.mask.as_ref().unwrap().area()).collect();
    assert_eq!(areas, [10 * 6, 8 * 4, 6 * 2]);
    assert!(out.content[0].mask.as_ref().unwrap().get(2, 3));
    assert!(out.content.windows(2).all(|w| w[0].score > w[1].score));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_job_is_a_job_error_with_fals_message_and_the_request_id() {
    let config =
        Config::default().scenario(Scenario::new("fails").path("/fal-ai/*").then(
            Reply::default().pending_polls(1).job_failure(JobFailure::new("image too small").status("validation")),
        ));
    let emu = Emulator::start(config).await.unwrap();
    let err = celeste::images::segment(png(), SAM3).poll_interval(FAST).client(client(&emu)).await.unwrap_err();
    let Error::Job(job) = &err else { panic!("{err:?}") };
    assert_eq!((job.status.as_str(), job.message.as_deref()), ("validation", Some("image too small")));
    assert_eq!(job.job_id.as_deref(), Some(emu.jobs()[0].id.as_str()));
    // The result was never fetched.
    assert!(emu.requests().iter().all(|r| r.path.ends_with("/status") || r.method == "POST"));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_job_past_its_deadline_is_a_job_timeout_and_dropping_the_call_stops_polling() {
    let config =
        Config::default().scenario(Scenario::new("slow").path("/fal-ai/*").then(Reply::default().pending_polls(1000)));
    let emu = Emulator::start(config).await.unwrap();
    let err = celeste::images::segment(png(), SAM3)
        .poll_interval(FAST)
        .job_deadline(Duration::from_millis(200))
        .client(client(&emu))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { phase: TimeoutPhase::Job, .. }), "{err:?}");
    // Dropped (by the timeout) while polling: a poll already on the wire may still land; after
    // that, nothing more.
    let polls = || emu.jobs().iter().map(|j| j.polls).sum::<u64>();
    let before = polls();
    let call = celeste::images::segment(png(), SAM3).poll_interval(FAST).client(client(&emu)).send();
    let _ = tokio::time::timeout(Duration::from_millis(300), call).await;
    assert!(polls() > before, "the second job was polled before the drop");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let settled = polls();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(polls(), settled, "no poll after the call was dropped");
    emu.shutdown().await;
}

#[test]
fn the_blocking_twin() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start(Config::default())).unwrap();
    let out = celeste::blocking::images::segment(png(), SAM3)
        .prompt("a dog")
        .poll_interval(FAST)
        .client(client(&emu))
        .send()
        .unwrap();
    assert_eq!(out.content.len(), 1);
    assert!(out.content[0].mask.is_some());
    rt.block_on(emu.shutdown());
}

#[tokio::test]
async fn an_image_given_by_url_keeps_its_masks_encoded_until_decoded_with_its_size() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let out = celeste::images::segment(Artifact::from_url("https://example.com/truck.jpg"), SAM3)
        .prompt("wheel")
        .poll_interval(FAST)
        .client(client(&emu))
        .await
        .unwrap();
    let m = &out.content[0];
    assert!(m.mask.is_none());
    // The emulator takes a URL's image as 64×48.
    assert_eq!(m.rle.decode(64, 48).unwrap().area(), 32 * 24);
    assert!(matches!(m.rle.decode(8, 8), Err(Error::Decode { .. })), "the runs do not fit an 8×8 image");
    assert_eq!(emu.requests()[0].json().unwrap()["image_url"], "https://example.com/truck.jpg");
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let seg = |a: Artifact| celeste::images::segment(a, SAM3).client(c.clone());
    let cases = [
        (seg(png()).prompt("  "), "prompt is empty"),
        (seg(png()).box_prompt(BoxPrompt::new(5, 5, 5, 9)), "is empty"),
        (seg(png()).point(40, 0), "outside the 40×30 image"),
        (seg(png()).box_prompt(BoxPrompt::new(0, 0, 41, 5)), "outside the 40×30 image"),
        (seg(Artifact::from_bytes(&b"%PDF-1.7"[..])), "not an image"),
        (seg(Artifact::from_path("/no/such/file.png")), "no readable file"),
        (seg(png()).header("bad\nname", "x"), "invalid extra header"),
    ];
    for (call, want) in cases {
        let err = call.await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)) && err.to_string().contains(want), "{want}: {err}");
    }
    // Against the catalog's constraints, and a model that does not segment.
    let err = seg(png()).max_masks(33).await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    let err = seg(png()).option("include_scores", "yes").await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    let err = celeste::images::segment(png(), "gpt-image-1").client(c.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(emu.requests().is_empty(), "nothing may be sent");
    emu.shutdown().await;
}

#[cfg(feature = "telemetry")]
#[tokio::test]
async fn one_span_covers_submit_polls_and_result() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let config =
        Config::default().scenario(Scenario::new("q").path("/fal-ai/*").then(Reply::default().pending_polls(1)));
    let emu = Emulator::start(config).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::Fal, "test-fal-key"))
        .base_url(Provider::Fal, emu.url())
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    celeste::images::segment(png(), SAM3).poll_interval(FAST).client(c.clone()).await.unwrap();
    // A failing call ends its span too, with the error's type.
    let err = celeste::images::segment(png(), SAM3).base_url(format!("{}/nowhere", emu.url())).client(c).await;
    assert!(err.is_err());
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let calls: Vec<_> = finished.iter().filter(|s| s.name == format!("generate_content {SAM3}")).collect();
    assert_eq!(calls.len(), 2, "{:?}", finished.iter().map(|s| s.name.to_string()).collect::<Vec<_>>());
    let attr = |s: &opentelemetry_sdk::trace::SpanData, k: &str| {
        s.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string())
    };
    assert_eq!(attr(calls[0], "gen_ai.provider.name").as_deref(), Some("fal"));
    assert_eq!(attr(calls[0], "gen_ai.output.type").as_deref(), Some("json"));
    assert!(attr(calls[1], "error.type").is_some());
    // Submit, two polls and the result: four HTTP children of the first call's span.
    let children = finished.iter().filter(|s| s.parent_span_id == calls[0].span_context.span_id()).count();
    assert_eq!(children, 4);
    emu.shutdown().await;
}
