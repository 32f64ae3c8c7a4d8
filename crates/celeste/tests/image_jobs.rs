//! Image jobs (BFL, Topaz) over real sockets against the project's emulator: submit, polls with
//! progress, the result's download, failures, the job deadline, `Retry-After` on polls, stopping on
//! drop, and where the key goes. Poll counts are read from the emulator's side.

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use celeste::types::{Artifact, Image, JobProgress};
use celeste::{Client, Credentials, Error, Provider, TelemetryConfig, TimeoutPhase};
use celeste_emulator::{Config, Emulator, Fault, JobFailure, Reply, Scenario};

/// Short enough that tests are quick, long enough that a loaded machine keeps up.
const FAST: Duration = Duration::from_millis(10);

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .credentials(
            Credentials::empty()
                .with_key(Provider::Bfl, "test-bfl-key")
                .with_key(Provider::TopazLabs, "test-topaz-key"),
        )
        .base_url(Provider::Bfl, emu.url())
        .base_url(Provider::TopazLabs, emu.url())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

async fn start(config: Config) -> Emulator {
    Emulator::start(config).await.unwrap()
}

/// Every progress report a call made.
fn recorder() -> (Arc<Mutex<Vec<JobProgress>>>, impl Fn(&JobProgress) + Send + Sync + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |p: &JobProgress| sink.lock().unwrap().push(p.clone()))
}

fn assert_decodes(img: &Image, mime: &str) {
    let bytes = img.artifact.data.as_ref().expect("bytes");
    assert_eq!(img.artifact.mime_type.as_ref().map(|m| m.as_str()), Some(mime));
    assert_eq!(celeste::types::MimeType::sniff(bytes).map(|m| m.as_str().to_string()).as_deref(), Some(mime));
    assert!(img.width.is_some_and(|w| w > 0) && img.height.is_some_and(|h| h > 0), "{img:?}");
}

/// The emulator's only job's poll count.
fn polls(emu: &Emulator) -> u64 {
    emu.jobs().first().map_or(0, |j| j.polls)
}

/// Wait (bounded) until the emulator has seen `n` polls of its job.
async fn until_polled(emu: &Emulator, n: u64) {
    for _ in 0..500 {
        if polls(emu) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the job was not polled {n} times");
}

/// A small real PNG (the emulator decodes what it is sent).
fn png() -> Artifact {
    let out = celeste_emulator::image::render(celeste_emulator::image::Format::Png, (8, 6), 1, 1.0);
    Artifact::from_bytes(out)
}

#[tokio::test]
async fn bfl_polls_a_pending_job_to_ready_reporting_progress_and_downloads_the_image() {
    let config = Config::default()
        .scenario(Scenario::new("slow flux").path("/v1/flux-dev").then(Reply::default().pending_polls(3)));
    let emu = start(config).await;
    let (seen, on_progress) = recorder();
    let out = client(&emu)
        .images()
        .generate("a castle", "flux-dev")
        .aspect_ratio("1024x768")
        .output_format("png")
        .seed(3)
        .poll_interval(FAST)
        .on_progress(on_progress)
        .await
        .unwrap();

    assert_eq!(out.content.len(), 1);
    assert_decodes(&out.content[0], "image/png");
    assert_eq!((out.usage.images, out.usage.billed_units), (Some(1), Some(4.0)));
    assert!(out.usage.output_megapixels.is_some_and(|mp| mp > 0.0));
    assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(celeste::FinishKind::Stop));

    // Three pending polls then the ready one; one download; progress after each pending poll.
    let job = emu.jobs().pop().unwrap();
    assert_eq!((job.polls, job.downloads, job.model.as_deref()), (4, 1, Some("flux-dev")));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.iter().map(|p| p.polls).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(seen.iter().all(|p| p.status == "Pending" && p.job_id.as_deref() == Some(job.id.as_str())));
    assert!(seen.windows(2).all(|w| w[0].fraction <= w[1].fraction), "{seen:?}");

    // The submit: flux-dev takes WxH as width and height; every request on the API's host has the key.
    let reqs = emu.requests();
    let submit = reqs.iter().find(|r| r.path == "/v1/flux-dev").unwrap();
    let body = submit.json().unwrap();
    assert_eq!((body["width"].as_u64(), body["height"].as_u64()), (Some(1024), Some(768)));
    assert_eq!((body["seed"].as_u64(), body["output_format"].as_str()), (Some(3), Some("png")));
    assert!(body.get("aspect_ratio").is_none());
    let polls: Vec<_> = reqs.iter().filter(|r| r.path.starts_with("/v1/get_result")).collect();
    assert_eq!(polls.len(), 4);
    assert!(
        std::iter::once(submit).chain(polls).all(|r| r.header("x-key") == Some("test-bfl-key")),
        "the key goes with the submit and every poll"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn bfl_edit_sends_the_image_first_and_a_kontext_ratio_natively() {
    let emu = start(Config::default()).await;
    let c = client(&emu);
    let source = png();
    let out = c
        .images()
        .edit(source.clone(), "make it night", "flux-kontext-pro")
        .aspect_ratio("21:9")
        .reference_image(source.clone())
        .poll_interval(FAST)
        .await
        .unwrap();
    assert_decodes(&out.content[0], "image/jpeg");
    let body = emu.requests()[0].json().unwrap();
    let b64 = source.base64().unwrap();
    assert_eq!(
        (body["input_image"].as_str(), body["input_image_2"].as_str()),
        (Some(b64.as_str()), Some(b64.as_str()))
    );
    assert_eq!(body["aspect_ratio"], "21:9");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_bfl_job_is_a_typed_error_with_the_providers_status_message_and_job_id() {
    let config = Config::default()
        .scenario(
            Scenario::new("broken")
                .contains("break")
                .then(Reply::default().pending_polls(1).job_failure("GPU fell over")),
        )
        .scenario(
            Scenario::new("moderated")
                .contains("moderate")
                .then(Reply::default().job_failure(JobFailure::new("Flagged").status("Request Moderated"))),
        );
    let emu = start(config).await;
    let c = client(&emu);
    for (prompt, status, message) in
        [("break it", "Error", "GPU fell over"), ("moderate me", "Request Moderated", "Flagged")]
    {
        let err = c.images().generate(prompt, "flux-2-pro").poll_interval(FAST).await.unwrap_err();
        let Error::Job(job) = &err else { panic!("a job error expected, got {err:?}") };
        assert_eq!((job.status.as_str(), job.message.as_deref()), (status, Some(message)));
        // The id is the provider's: the emulator knows the job by it, as failed.
        let info = emu.job(job.job_id.as_deref().unwrap()).unwrap();
        assert_eq!(info.state, celeste_emulator::JobState::Failed);
        assert!(err.to_string().contains(message), "{err}");
    }
    // No download was attempted for a failed job.
    assert!(emu.jobs().iter().all(|j| j.downloads == 0));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_job_past_its_deadline_is_a_job_timeout() {
    let config = Config::default()
        .scenario(Scenario::new("endless").path("/v1/flux-dev").then(Reply::default().pending_polls(100_000)));
    let emu = start(config).await;
    let err = client(&emu)
        .images()
        .generate("a castle", "flux-dev")
        .poll_interval(Duration::from_millis(20))
        .job_deadline(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { phase: TimeoutPhase::Job, after, .. } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(polls(&emu) >= 1, "it polled before giving up");
    emu.shutdown().await;
}

#[tokio::test]
async fn retry_after_on_a_poll_stretches_the_wait_before_the_next() {
    let config = Config::default().scenario(
        Scenario::new("slow flux").path("/v1/flux-dev").then(Reply::default().pending_polls(2).poll_retry_after("1")),
    );
    let emu = start(config).await;
    let call = client(&emu).images().generate("a castle", "flux-dev").poll_interval(FAST);
    let task = tokio::spawn(call.into_future());
    until_polled(&emu, 1).await;
    // At the 10 ms interval this window would hold dozens of polls; the server asked for 1 s.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(polls(&emu), 1, "the second poll waits for Retry-After");
    let out = task.await.unwrap().unwrap();
    assert_eq!(out.content.len(), 1);
    assert_eq!(polls(&emu), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn dropping_the_call_stops_the_polling() {
    let config = Config::default()
        .scenario(Scenario::new("endless").path("/v1/flux-dev").then(Reply::default().pending_polls(100_000)));
    let emu = start(config).await;
    let call = client(&emu).images().generate("a castle", "flux-dev").poll_interval(FAST).into_future();
    // Boxed, so that dropping it drops the future itself.
    let mut call = Box::pin(call);
    // Drive the call until the job is being polled, then drop it.
    tokio::select! {
        _ = &mut call => panic!("the job never ends"),
        _ = until_polled(&emu, 3) => {}
    }
    drop(call);
    // A poll already on the wire may still land; after that, nothing more.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let settled = polls(&emu);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(polls(&emu), settled, "no poll after the call was dropped");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_key_does_not_go_to_a_result_host_other_than_the_apis() {
    let emu = start(Config::default()).await;
    // The emulator names its URLs after the Host header: asking as `localhost` makes the polling
    // URL and the sample live on `localhost`, while the API was called at `127.0.0.1`.
    let host = format!("localhost:{}", emu.addr().port());
    let out =
        client(&emu).images().generate("a castle", "flux-dev").header("host", &host).poll_interval(FAST).await.unwrap();
    assert_decodes(&out.content[0], "image/jpeg");
    let reqs = emu.requests();
    assert_eq!(reqs[0].header("x-key"), Some("test-bfl-key"));
    let download = reqs.iter().find(|r| r.path.starts_with("/files/")).expect("the sample was downloaded");
    assert_eq!(download.header("host"), Some(host.as_str()));
    assert_eq!(download.header("x-key"), None, "no key for another host");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_download_that_breaks_is_a_typed_error() {
    // The first sample download is reset halfway through the image; the next finds it gone.
    let config = Config::default().scenario(
        Scenario::new("broken files").path("/files/*").then(Fault::reset_after_events(0)).then(Fault::status(404)),
    );
    let emu = start(config).await;
    let c = client(&emu);
    let err = c.images().generate("a castle", "flux-dev").poll_interval(FAST).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let err = c.images().generate("a castle", "flux-dev").poll_interval(FAST).await.unwrap_err();
    assert!(matches!(&err, Error::Http(h) if h.status == 404), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn topaz_upscales_through_status_polls_and_the_download_link() {
    let config = Config::default()
        .scenario(Scenario::new("slow topaz").path("/image/v1/enhance/async").then(Reply::default().pending_polls(2)));
    let emu = start(config).await;
    let (seen, on_progress) = recorder();
    let out = client(&emu)
        .images()
        .upscale(png(), "Standard V2")
        .option("output_width", 32)
        .option("face_enhancement", true)
        .option("crop_to_fill", false)
        .poll_interval(FAST)
        .on_progress(on_progress)
        .await
        .unwrap();
    assert_eq!(out.content.len(), 1);
    assert_decodes(&out.content[0], "image/jpeg");
    assert_eq!((out.usage.images, out.usage.billed_units), (Some(1), Some(1.0)));

    let job = emu.jobs().pop().unwrap();
    assert_eq!((job.provider.as_str(), job.polls, job.downloads), ("topazlabs", 3, 1));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().map(|p| (p.status.as_str(), p.polls)).collect::<Vec<_>>(),
        [("Pending", 1), ("Processing", 2)]
    );
    assert!(seen[1].fraction.is_some_and(|f| f > 0.0 && f <= 1.0), "{seen:?}");

    let reqs = emu.requests();
    let submit = &reqs[0];
    assert_eq!(submit.path, "/image/v1/enhance/async");
    assert!(submit.header("content-type").unwrap().starts_with("multipart/form-data"));
    let text = submit.body_text();
    for (name, value) in
        [("model", "Standard V2"), ("output_width", "32"), ("face_enhancement", "true"), ("crop_to_fill", "false")]
    {
        assert!(text.contains(&format!("name=\"{name}\"\r\n\r\n{value}\r\n")), "{name}: {text}");
    }
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    let status = format!("/image/v1/status/{}", job.id);
    let link = format!("/image/v1/download/{}", job.id);
    assert_eq!(paths.iter().filter(|p| **p == status).count(), 3);
    assert_eq!(paths.iter().filter(|p| **p == link).count(), 1);
    assert!(
        reqs.iter().filter(|r| !r.path.starts_with("/files/")).all(|r| r.header("x-api-key") == Some("test-topaz-key"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failed_topaz_job_is_a_typed_error_and_unknown_models_are_refused() {
    let config = Config::default().scenario(
        Scenario::new("fail")
            .path("/image/v1/tool/async")
            .then(Reply::default().job_failure(JobFailure::new("Bad input").status("Cancelled"))),
    );
    let emu = start(config).await;
    let c = client(&emu);
    let err = c.images().upscale(png(), "Transparency Upscale").poll_interval(FAST).await.unwrap_err();
    let Error::Job(job) = &err else { panic!("a job error expected, got {err:?}") };
    assert_eq!((job.status.as_str(), job.message.as_deref()), ("Cancelled", Some("Bad input")));
    assert_eq!(job.job_id.as_deref(), Some(emu.jobs()[0].id.as_str()));

    // A model whose endpoint is unknown is refused before anything is sent.
    let n = emu.requests().len();
    let err = c.images().upscale(png(), "Some Future Model").provider(Provider::TopazLabs).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert_eq!(emu.requests().len(), n);
    emu.shutdown().await;
}
