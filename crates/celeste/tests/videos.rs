//! Videos over real sockets against the project's emulator: every provider's job (Veo with a key
//! and on Vertex AI, Gemini omni, xAI, BytePlus Seedance), progress, downloads with the right
//! credentials, failures, the deadline and resuming by id, stopping on drop (checked at the
//! server), bad inputs refused before any request, the call's span, and the blocking twins.

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use celeste::types::{Artifact, JobProgress, MimeType, Video};
use celeste::{Auth, Client, Credentials, Error, Provider, TelemetryConfig, Vertex};
use celeste_emulator::{Config, Emulator, JobFailure, Reply, Scenario};
use serde_json::json;

mod support;

/// Short enough that tests are quick, long enough that a loaded machine keeps up.
const FAST: Duration = Duration::from_millis(10);
const TOKEN: &str = "ya29.test-access-token";

fn client(emu: &Emulator) -> Client {
    let mut b = Client::builder()
        .credentials(
            Credentials::empty()
                .with_key(Provider::Google, "test-google-key")
                .with_key(Provider::XAi, "test-xai-key")
                .with_key(Provider::BytePlus, "test-byteplus-key"),
        )
        .telemetry(TelemetryConfig::new().disabled());
    for p in [Provider::Google, Provider::XAi, Provider::BytePlus] {
        b = b.base_url(p, emu.url());
    }
    b.build().unwrap()
}

async fn start(config: Config) -> Emulator {
    Emulator::start(config).await.unwrap()
}

fn vertex() -> Auth {
    Auth::vertex(Vertex::with_token(TOKEN).project("my-project").location("us-central1"))
}

/// Every progress report a call made.
fn recorder() -> (Arc<Mutex<Vec<JobProgress>>>, impl Fn(&JobProgress) + Send + Sync + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |p: &JobProgress| sink.lock().unwrap().push(p.clone()))
}

fn png() -> Artifact {
    Artifact::from_bytes(celeste_emulator::image::render(celeste_emulator::image::Format::Png, (8, 6), 1, 1.0))
}

fn mp4(seconds: u32) -> Artifact {
    Artifact::from_bytes(celeste_emulator::mp4::render(64, 36, seconds)).with_mime_type(MimeType::VideoMp4)
}

/// A video with its bytes: a valid MP4 of `seconds`.
fn assert_mp4(v: &Video, seconds: f64) {
    let bytes = v.artifact.data.as_ref().expect("bytes");
    assert_eq!(v.artifact.mime_type, Some(MimeType::VideoMp4));
    assert_eq!(MimeType::sniff(bytes), Some(MimeType::VideoMp4));
    assert!(celeste_emulator::mp4::boxes(bytes).is_some(), "a well-formed MP4");
    assert_eq!(celeste_emulator::mp4::duration(bytes), Some(seconds));
}

async fn until_polled(emu: &Emulator, n: u64) {
    for _ in 0..500 {
        if emu.jobs().first().is_some_and(|j| j.polls >= n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the job was not polled {n} times");
}

#[tokio::test]
async fn veo_with_a_key_polls_the_operation_reports_progress_and_downloads_with_the_key() {
    let submit = "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning";
    let emu =
        start(Config::default().scenario(Scenario::new("slow").path(submit).then(Reply::default().pending_polls(2))))
            .await;
    let c = client(&emu);
    let (seen, on_progress) = recorder();
    let out = c
        .videos()
        .generate("a paper boat", "veo-3.1-fast-generate-preview")
        .duration(6)
        .aspect_ratio("9:16")
        .resolution("1080p")
        .first_frame(png())
        .poll_interval(FAST)
        .on_progress(on_progress)
        .await
        .unwrap();
    assert_eq!(out.content.len(), 1);
    let v = &out.content[0];
    assert!(!v.has_bytes(), "the Gemini API answers a file URI");
    let url = v.artifact.url.clone().unwrap();
    assert!(url.starts_with(&emu.url()) && url.contains("/v1beta/files/"), "{url}");
    let name = out.metadata.response_id.clone().unwrap();
    assert!(name.starts_with("models/veo-3.1-fast-generate-preview/operations/"), "{name}");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.iter().map(|p| p.polls).collect::<Vec<_>>(), [1, 2]);
    assert!(seen.iter().all(|p| p.job_id.as_deref() == Some(name.as_str()) && p.status == "running"));

    // The key the download needs travels with the result, never shown.
    let shown = format!("{v:?} {}", serde_json::to_string(&out).unwrap());
    assert!(!shown.contains("test-google-key"), "{shown}");
    let video = c.download(v).await.unwrap();
    assert_mp4(&video, 6.0);
    let reqs = emu.requests();
    let body = reqs[0].json().unwrap();
    assert_eq!(reqs[0].path, submit);
    assert_eq!(body["parameters"], json!({"durationSeconds": 6, "aspectRatio": "9:16", "resolution": "1080p"}));
    assert_eq!(body["instances"][0]["image"]["mimeType"], "image/png");
    let polls: Vec<_> = reqs.iter().filter(|r| r.path.contains("/operations/")).collect();
    assert_eq!(polls.len(), 3);
    let download = reqs.iter().find(|r| r.path.contains("/v1beta/files/")).unwrap();
    for r in std::iter::once(&reqs[0]).chain(polls).chain([download]) {
        assert_eq!(r.header("x-goog-api-key"), Some("test-google-key"), "{}", r.path);
    }
    // The file URL redirects to the storage host (another origin): followed, without the key.
    let stored = reqs.iter().find(|r| r.path.starts_with("/files/")).expect("the redirect was followed");
    assert!(stored.header("host").is_some_and(|h| h.starts_with("localhost:")));
    assert_eq!(stored.header("x-goog-api-key"), None, "the key stays with the API's origin");
    let saved = std::env::temp_dir().join(format!("celeste-veo-{}.mp4", std::process::id()));
    video.save(&saved).await.unwrap();
    assert_eq!(std::fs::read(&saved).unwrap(), video.artifact.data.as_deref().unwrap());
    std::fs::remove_file(saved).unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn veo_on_vertex_fetches_the_operation_and_downloads_cloud_storage_with_the_token() {
    let emu = start(Config::default().default_reply(Reply::default().pending_polls(1))).await;
    let c = client(&emu);
    let model = "veo-3.1-generate-preview";
    let root = "/v1/projects/my-project/locations/us-central1/publishers/google/models/veo-3.1-generate-preview";
    // Results in the caller's bucket.
    let out = c
        .videos()
        .generate("a lighthouse", model)
        .auth(vertex())
        .base_url(emu.url())
        .duration(4)
        .extra_body(json!({"parameters": {"storageUri": "gs://my-bucket/clips/"}}))
        .poll_interval(FAST)
        .await
        .unwrap();
    let v = &out.content[0];
    assert_eq!(v.artifact.metadata["gcs_uri"].as_str().map(|u| u.starts_with("gs://my-bucket/clips/")), Some(true));
    let video = c.download(v).await.unwrap();
    assert_mp4(&video, 4.0);
    let reqs = emu.requests();
    assert_eq!(reqs[0].path, format!("{root}:predictLongRunning"));
    let fetches: Vec<_> = reqs.iter().filter(|r| r.path == format!("{root}:fetchPredictOperation")).collect();
    assert_eq!(fetches.len(), 2, "one pending fetch, one done");
    assert_eq!(fetches[0].method, "POST");
    assert_eq!(fetches[0].json().unwrap()["operationName"].as_str(), out.metadata.response_id.as_deref());
    let download = reqs.iter().find(|r| r.path.starts_with("/storage/v1/b/my-bucket/o/clips%2F")).unwrap();
    for r in std::iter::once(&reqs[0]).chain(fetches).chain([download]) {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()), "{}", r.path);
        assert_eq!(r.header("x-goog-api-key"), None);
    }
    // Without a bucket, Vertex AI answers the bytes themselves.
    let out = c.videos().generate("a lighthouse", model).auth(vertex()).base_url(emu.url()).poll_interval(FAST).await;
    assert_mp4(&out.unwrap().content[0], 8.0);
    emu.shutdown().await;
}

#[tokio::test]
async fn omni_generates_and_edits_in_one_request() {
    let emu = start(Config::default()).await;
    let c = client(&emu);
    let out = c
        .videos()
        .generate("a fox in snow", "gemini-omni-1.1-flash")
        .duration(4)
        .resolution("720p")
        .first_frame(png())
        .last_frame(png())
        .await
        .unwrap();
    assert_mp4(&out.content[0], 4.0);
    assert!(out.usage.input_tokens.is_some());
    let out = c.videos().edit(mp4(3), "make it night", "gemini-omni-flash-preview").await.unwrap();
    assert_mp4(&out.content[0], 5.0);
    let reqs = emu.requests();
    assert!(reqs.iter().all(|r| r.path == "/v1beta/interactions"));
    let (generated, edit) = (reqs[0].json().unwrap(), reqs[1].json().unwrap());
    assert_eq!(generated["response_format"], json!({"type": "video", "duration": "4s", "resolution": "720p"}));
    assert_eq!(generated["generation_config"]["video_config"]["task"], "image_to_video");
    assert_eq!(edit["generation_config"]["video_config"]["task"], "edit");
    assert_eq!(edit["input"][0]["content"][0]["type"], "video");
    // No job to resume.
    let err = c.videos().job("v1_abc", "gemini-omni-1.1-flash").await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn xai_polls_202_until_200_and_edits_a_video() {
    let emu = start(Config::default().default_reply(Reply::default().pending_polls(2))).await;
    let c = client(&emu);
    let out = c
        .videos()
        .generate("a comet", "grok-imagine-video")
        .duration(5)
        .aspect_ratio("1:1")
        .resolution("480p")
        .first_frame(png())
        .poll_interval(FAST)
        .await
        .unwrap();
    let v = &out.content[0];
    assert_eq!((v.duration, out.usage.seconds), (Some(5.0), Some(5.0)));
    let video = c.download(v).await.unwrap();
    assert_mp4(&video, 5.0);
    let reqs = emu.requests();
    let body = reqs[0].json().unwrap();
    assert_eq!((body["duration"].as_u64(), body["aspect_ratio"].as_str()), (Some(5), Some("1:1")));
    assert!(body["image"]["url"].as_str().unwrap().starts_with("data:image/png;base64,"));
    let polls: Vec<_> = reqs.iter().filter(|r| r.path.starts_with("/v1/videos/") && r.method == "GET").collect();
    assert_eq!(polls.len(), 3);
    assert!(polls.iter().all(|r| r.header("authorization") == Some("Bearer test-xai-key")));
    let download = reqs.iter().find(|r| r.path.starts_with("/files/")).unwrap();
    assert_eq!(download.header("authorization"), None, "a presigned URL gets no key");

    let out = c.videos().edit(mp4(2), "add rain", "grok-imagine-video").poll_interval(FAST).await.unwrap();
    assert_eq!(out.content.len(), 1);
    let edit = emu.requests().into_iter().find(|r| r.path == "/v1/videos/edits").unwrap();
    assert!(edit.json().unwrap()["video"]["url"].as_str().unwrap().starts_with("data:video/mp4;base64,"));
    emu.shutdown().await;
}

#[tokio::test]
async fn every_seedance_model_runs_its_task_with_options_in_the_prompt() {
    let emu = start(Config::default().default_reply(Reply::default().pending_polls(1))).await;
    let c = client(&emu);
    let models = celeste::catalog::list_models(Some(Provider::BytePlus), Some(celeste::Modality::Videos), None);
    assert_eq!(models.len(), 6);
    for m in &models {
        let out = c
            .videos()
            .generate("a red kite", &m.id)
            .duration(5)
            .resolution("480p")
            .first_frame(png())
            .last_frame(png())
            .poll_interval(FAST)
            .await
            .unwrap();
        let v = &out.content[0];
        assert_eq!(v.duration, Some(5.0), "{}", m.id);
        assert!(out.usage.total_tokens.is_some());
        assert!(out.metadata.response_id.as_deref().is_some_and(|id| id.starts_with("cgt-")));
    }
    let reqs = emu.requests();
    let submits: Vec<_> = reqs.iter().filter(|r| r.path == "/api/v3/contents/generations/tasks").collect();
    assert_eq!(submits.len(), 6);
    let body = submits[0].json().unwrap();
    assert_eq!(body["content"][0]["text"], "a red kite --resolution 480p --duration 5");
    let roles: Vec<_> = body["content"].as_array().unwrap()[1..].iter().map(|i| i["role"].clone()).collect();
    assert_eq!(roles, [json!("first_frame"), json!("last_frame")]);
    emu.shutdown().await;
}

#[tokio::test]
async fn every_video_model_of_the_catalog_is_callable() {
    let emu = start(Config::default()).await;
    let c = client(&emu);
    let mut called = 0;
    for op in [celeste::Operation::Generate, celeste::Operation::Edit] {
        for m in celeste::catalog::list_models(None, Some(celeste::Modality::Videos), Some(op)) {
            let call = match op {
                celeste::Operation::Edit => c.videos().edit(mp4(2), "x", &m.id),
                _ => c.videos().generate("x", &m.id),
            };
            let out = call.provider(m.provider).poll_interval(FAST).await;
            let out = out.unwrap_or_else(|e| panic!("{} {op}: {e}", m.id));
            assert_eq!(out.content.len(), 1, "{}", m.id);
            called += 1;
        }
    }
    assert_eq!(called, 13 + 3, "13 generate models, 3 edit models");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_job_is_a_job_error_with_the_providers_words_and_the_id() {
    let failing = Reply::default().pending_polls(1).job_failure(JobFailure::new("the prompt was flagged"));
    let emu = start(Config::default().default_reply(failing)).await;
    let c = client(&emu);
    for model in ["veo-3.1-generate-preview", "grok-imagine-video", "seedance-1-0-pro-250528"] {
        let err = c.videos().generate("x", model).poll_interval(FAST).await.unwrap_err();
        let Error::Job(job) = &err else { panic!("{model}: {err:?}") };
        assert_eq!(job.message.as_deref(), Some("the prompt was flagged"), "{model}");
        assert!(job.job_id.is_some(), "{model}");
        assert!(err.to_string().contains("the prompt was flagged"), "{err}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_job_past_its_deadline_names_itself_and_resumes_by_id() {
    let emu = start(Config::default().default_reply(Reply::default().pending_polls(40))).await;
    let c = client(&emu);
    for model in ["veo-3.1-lite-generate-preview", "grok-imagine-video-1.5", "seedance-1-5-pro-251215"] {
        let err = c
            .videos()
            .generate("x", model)
            .poll_interval(FAST)
            .job_deadline(Duration::from_millis(150))
            .await
            .unwrap_err();
        let Error::Job(job) = err else { panic!("{model}: {err:?}") };
        assert_eq!(job.status, "deadline_exceeded");
        let id = job.job_id.expect("the job's id");
        let before = emu.jobs().iter().find(|j| id.ends_with(&j.id)).unwrap().polls;
        assert!(before < 41, "the job is still pending");
        let (seen, on_progress) = recorder();
        let out = c.videos().job(&id, model).poll_interval(FAST).on_progress(on_progress).await.unwrap();
        assert_eq!(out.content.len(), 1);
        assert_eq!(out.metadata.response_id.as_deref(), Some(id.as_str()));
        let job = emu.jobs().into_iter().find(|j| id.ends_with(&j.id)).unwrap();
        assert_eq!(job.polls, 41, "{model}: resumed where it was, nothing submitted again");
        assert!(seen.lock().unwrap().iter().all(|p| p.job_id.as_deref() == Some(id.as_str())));
    }
    let submits = emu.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(submits, 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn dropping_the_call_stops_polling_at_the_server() {
    let emu = start(Config::default().default_reply(Reply::default().pending_polls(100_000))).await;
    let call = client(&emu).videos().generate("x", "grok-imagine-video").poll_interval(FAST).into_future();
    let mut call = Box::pin(call);
    tokio::select! {
        _ = &mut call => panic!("the job never ends"),
        _ = until_polled(&emu, 3) => {}
    }
    drop(call);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let settled = emu.jobs()[0].polls;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(emu.jobs()[0].polls, settled, "no poll after the call was dropped");
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_inputs_fail_before_any_request() {
    let emu = start(Config::default()).await;
    let c = client(&emu);
    let v = |m: &str| c.videos().generate("x", m);
    let cases: Vec<(celeste::VideoCall, &str)> = vec![
        (v("gemini-omni-1.1-flash").last_frame(png()), "a last frame needs a first frame"),
        (v("seedance-1-0-pro-250528").last_frame(png()), "a last frame needs a first frame"),
        (v("veo-3.1-generate-preview").duration(5), "duration"),
        (v("grok-imagine-video").duration(30), "duration"),
        (v("seedance-1-5-pro-251215").resolution("1080p"), "resolution"),
        (v("veo-3.1-lite-generate-preview").resolution("4k"), "resolution"),
        (v("veo-3.1-generate-preview").first_frame(mp4(1)), "not image"),
        (c.videos().edit(png(), "x", "grok-imagine-video"), "not video"),
        (v("   ").provider(Provider::XAi), "blank"),
        (c.videos().generate(" ", "grok-imagine-video"), "prompt is empty"),
        (v("dreamina-seedance-2-0-260128").first_frame(Artifact::from_bytes(&b""[..])), "is empty"),
    ];
    for (call, needle) in cases {
        let err = call.poll_interval(FAST).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    // Veo does not edit.
    let err = c.videos().edit(mp4(1), "x", "veo-3.1-generate-preview").await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(emu.requests().is_empty(), "nothing was sent");
    emu.shutdown().await;
}

#[test]
fn blocking_twins_run_the_same_jobs() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(start(Config::default().default_reply(Reply::default().pending_polls(1))));
    let c = client(&emu);
    let out = celeste::blocking::videos::generate("a bee", "grok-imagine-video")
        .client(c.clone())
        .poll_interval(FAST)
        .send()
        .unwrap();
    let video = celeste::blocking::videos::download(&c, &out.content[0]).unwrap();
    assert!(video.has_bytes());
    let id = out.metadata.response_id.clone().unwrap();
    let again = celeste::blocking::videos::job(&id, "grok-imagine-video").client(c.clone()).send().unwrap();
    assert_eq!(again.content[0].artifact.url, out.content[0].artifact.url);
    let edit = celeste::blocking::videos::edit(mp4(1), "y", "gemini-omni-1.1-flash").client(c).send().unwrap();
    assert!(edit.content[0].has_bytes());
    rt.block_on(emu.shutdown());
}

/// A job's whole life is one span (`generate_content {model}`, output type `video`); each request
/// is a child span; no key anywhere.
#[cfg(feature = "telemetry")]
#[tokio::test]
async fn a_video_job_is_one_span_with_a_child_per_request() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = start(Config::default().default_reply(Reply::default().pending_polls(2))).await;
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::BytePlus, "byteplus-secret-key"))
        .base_url(Provider::BytePlus, emu.url())
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    c.videos().generate("a kite", "seedance-1-0-pro-250528").poll_interval(FAST).await.unwrap();
    let err = c.videos().generate("a kite", "seedance-1-0-pro-250528").duration(99).await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let calls: Vec<_> = finished.iter().filter(|s| s.name == "generate_content seedance-1-0-pro-250528").collect();
    assert_eq!(calls.len(), 1, "refused before the span: only the job's");
    let call = calls[0];
    let attr = |k: &str| call.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string());
    assert_eq!(attr("gen_ai.output.type").as_deref(), Some("video"));
    assert_eq!(attr("gen_ai.provider.name").as_deref(), Some("byteplus"));
    let children = finished.iter().filter(|s| s.parent_span_id == call.span_context.span_id()).count();
    assert_eq!(children, 4, "submit and three polls");
    assert!(!format!("{finished:?}").contains("byteplus-secret-key"));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_download_follows_at_most_21_redirects() {
    // A server that redirects to itself for ever (the last reply repeats).
    let server = support::Server::start(vec![support::Reply::json(302, "{}").with_header("location", "/again")]).await;
    let mut video = Video::new(Artifact::from_url(format!("{}/start", server.url)));
    video.origin = Some(celeste::Origin::Provider(Provider::XAi));
    let c = Client::builder().credentials(Credentials::empty()).telemetry(TelemetryConfig::new().disabled()).build();
    let err = c.unwrap().download(&video).await.unwrap_err();
    assert!(err.to_string().contains("redirected more than 21 times"), "{err}");
    assert_eq!(server.count(), 22, "the first request and 21 redirects");
    assert!(server.requests().iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn a_pending_poll_that_asks_for_a_longer_wait_gets_it() {
    let slow = Reply::default().pending_polls(1).poll_retry_after("1");
    let emu = start(Config::default().default_reply(slow)).await;
    let started = std::time::Instant::now();
    let out = client(&emu).videos().generate("x", "seedance-1-0-pro-250528").poll_interval(FAST).await.unwrap();
    assert_eq!(out.content.len(), 1);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    assert_eq!(emu.jobs()[0].polls, 2);
    emu.shutdown().await;
}
