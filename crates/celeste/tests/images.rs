//! Image calls over real sockets against the project's emulator: the request each provider API
//! receives, the images that come back (real bytes that decode), streams of partial images, the
//! blocking twins, and the call's span.

use celeste::types::{Artifact, Image};
use celeste::{Client, Credentials, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator};
use futures::StreamExt;

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "test-openai-key"))
        .base_url(Provider::OpenAi, emu.url())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

/// A small real PNG to edit: the emulator's own output, so it is valid.
async fn a_png(c: &Client) -> Artifact {
    let out = c.images().generate("a square", "gpt-image-1").aspect_ratio("1024x1024").await.unwrap();
    out.content[0].artifact.clone()
}

fn assert_decodes(img: &Image, mime: &str) {
    let bytes = img.artifact.data.as_ref().expect("bytes");
    assert_eq!(img.artifact.mime_type.as_ref().map(|m| m.as_str()), Some(mime));
    assert_eq!(celeste::types::MimeType::sniff(bytes).map(|m| m.as_str().to_string()).as_deref(), Some(mime));
    assert!(img.width.is_some_and(|w| w > 0) && img.height.is_some_and(|h| h > 0), "{img:?}");
}

#[tokio::test]
async fn openai_generate_sends_openai_fields_and_returns_every_image() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let out = c
        .images()
        .generate("a lighthouse at dusk", "gpt-image-1")
        .num_images(2)
        .aspect_ratio("1536x1024")
        .output_format("jpeg")
        .quality("high")
        .await
        .unwrap();
    assert_eq!(out.content.len(), 2);
    for img in &out.content {
        assert_decodes(img, "image/jpeg");
        // The emulator scales 1536x1024 down, keeping the aspect ratio.
        assert!(img.width.unwrap() > img.height.unwrap());
    }
    assert_eq!(out.usage.images, Some(2));
    assert!(out.usage.input_tokens.is_some());
    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1/images/generations");
    assert_eq!(req.header("authorization"), Some("Bearer test-openai-key"));
    let body = req.json().unwrap();
    assert_eq!(body["n"], 2);
    assert_eq!(body["size"], "1536x1024");
    assert_eq!(body["output_format"], "jpeg");
    assert_eq!(body["model"], "gpt-image-1");
    emu.shutdown().await;
}

#[tokio::test]
async fn openai_edit_is_multipart_and_save_writes_the_file() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let source = a_png(&c).await;
    let out = c.images().edit(source, "make it night", "gpt-image-1").await.unwrap();
    assert_eq!(out.content.len(), 1);
    assert_decodes(&out.content[0], "image/png");
    let req = emu.requests().into_iter().find(|r| r.path == "/v1/images/edits").expect("an edit request");
    assert!(req.header("content-type").unwrap().starts_with("multipart/form-data"));
    let text = req.body_text();
    assert!(text.contains("name=\"image[]\"") && text.contains("make it night"), "{}", &text[..200.min(text.len())]);

    let path = std::env::temp_dir().join(format!("celeste-night-{}.png", std::process::id()));
    out.content[0].save(&path).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), out.content[0].artifact.data.as_ref().unwrap().to_vec());
    std::fs::remove_file(&path).unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn openai_streams_partial_images_then_the_finished_one() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let mut stream = c.images().generate("a lighthouse", "gpt-image-1").partial_images(2).stream().await.unwrap();
    let mut partials = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if chunk.finish_reason.is_none() {
            partials += 1;
        }
        assert!(chunk.content.artifact.data.is_some());
    }
    assert_eq!(partials, 2);
    let out = stream.output().unwrap();
    assert_eq!(out.content.len(), 1);
    assert_decodes(&out.content[0], "image/png");
    assert_eq!(emu.requests()[0].json().unwrap()["stream"], true);

    // A streamed edit goes as JSON with the image as a data URL.
    let source = a_png(&c).await;
    let mut stream = c.images().edit(source, "at night", "gpt-image-1").stream().await.unwrap();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    assert_eq!(stream.output().unwrap().content.len(), 1);
    let edit = emu.requests().into_iter().rfind(|r| r.path == "/v1/images/edits").unwrap();
    let body = edit.json().unwrap();
    assert!(body["images"][0]["image_url"].as_str().unwrap().starts_with("data:image/png;base64,"));
    emu.shutdown().await;
}

#[test]
fn blocking_twins() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start(Config::default())).unwrap();
    let c = client(&emu);
    let out = celeste::blocking::images::generate("a cat", "gpt-image-1").client(c.clone()).send().unwrap();
    assert_decodes(&out.content[0], "image/png");
    let source = out.content[0].artifact.clone();
    let out = celeste::blocking::images::edit(source, "a dog", "gpt-image-1").client(c.clone()).send().unwrap();
    assert_eq!(out.content.len(), 1);
    let mut stream = celeste::blocking::images::generate("a cat", "gpt-image-1").client(c).stream().send().unwrap();
    let chunks = stream.by_ref().map(Result::unwrap).count();
    assert!(chunks >= 2, "a partial and a finished image");
    assert_eq!(stream.output().unwrap().content.len(), 1);
    rt.block_on(emu.shutdown());
}

#[cfg(feature = "telemetry")]
#[tokio::test]
async fn spans_for_image_calls_streams_and_failures() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "test-openai-key"))
        .base_url(Provider::OpenAi, emu.url())
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    c.images().generate("a cat", "gpt-image-1").await.unwrap();
    let mut s = c.images().generate("a cat", "gpt-image-1").stream().await.unwrap();
    while s.next().await.is_some() {}
    drop(s);
    // Refused by the server (the emulator answers 400 to a size it cannot parse): an error span.
    let err = c.images().generate("a cat", "my-image-model").provider(Provider::OpenAi).aspect_ratio("huge").await;
    assert!(err.is_err());
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let calls: Vec<_> =
        finished.iter().filter(|s| s.name.ends_with("gpt-image-1") || s.name.ends_with("my-image-model")).collect();
    assert_eq!(calls.len(), 3, "one span per call: {:?}", finished.iter().map(|s| &s.name).collect::<Vec<_>>());
    let attr = |s: &opentelemetry_sdk::trace::SpanData, k: &str| {
        s.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string())
    };
    for s in &calls {
        assert_eq!(attr(s, "gen_ai.output.type").as_deref(), Some("image"));
        assert_eq!(attr(s, "gen_ai.provider.name").as_deref(), Some("openai"));
    }
    // The conventions have no image operation: `generate_content`, with the output type saying image.
    assert_eq!(calls[0].name, "generate_content gpt-image-1");
    assert_eq!(attr(calls[0], "gen_ai.operation.name").as_deref(), Some("generate_content"));
    assert!(attr(calls[0], "error.type").is_none() && attr(calls[1], "error.type").is_none());
    assert_eq!(attr(calls[2], "error.type").as_deref(), Some("400"));
    let text = format!("{finished:?}");
    assert!(!text.contains("test-openai-key"), "no key in any span");
    emu.shutdown().await;
}

/// Gemini image models on Vertex AI: chosen by authentication, generateContent at the model's Vertex
/// URL with the Google token, images from the `inlineData` parts.
#[cfg(feature = "google")]
#[tokio::test]
async fn gemini_images_on_vertex_ai() {
    use celeste::{Auth, Vertex};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = Client::builder()
        .credentials(Credentials::empty())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    let vertex = || Auth::vertex(Vertex::with_token("vertex-token").project("my-project").location("us-central1"));
    let out = c
        .images()
        .generate("a lighthouse", "gemini-2.5-flash-image")
        .auth(vertex())
        .base_url(emu.url())
        .aspect_ratio("16:9")
        .await
        .unwrap();
    assert_decodes(&out.content[0], "image/png");
    let req = &emu.requests()[0];
    assert_eq!(
        req.path,
        "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent"
    );
    assert_eq!(req.header("authorization"), Some("Bearer vertex-token"));
    let body = req.json().unwrap();
    assert_eq!(body["generationConfig"]["responseModalities"], serde_json::json!(["TEXT", "IMAGE"]));
    assert_eq!(body["generationConfig"]["imageConfig"]["aspectRatio"], "16:9");

    // An edit sends the image first, then the prompt.
    let source = out.content[0].artifact.clone();
    c.images().edit(source, "at night", "gemini-2.5-flash-image").auth(vertex()).base_url(emu.url()).await.unwrap();
    let body = emu.requests()[1].json().unwrap();
    let parts = &body["contents"][0]["parts"];
    assert!(parts[0]["inlineData"]["data"].is_string());
    assert_eq!(parts[1]["text"], "at night");
    emu.shutdown().await;
}

/// A job's whole life is one span; every submit, poll and download is an HTTP child span of it.
#[cfg(feature = "telemetry")]
#[tokio::test]
async fn a_job_is_one_span_with_a_child_per_request() {
    use celeste_emulator::{Reply, Scenario};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let config = Config::default()
        .scenario(Scenario::new("slow").path("/v1/flux-dev").then(Reply::default().pending_polls(2)))
        .scenario(Scenario::new("fails").path("/v1/flux-pro-1.1").then(Reply::default().job_failure("no GPU")));
    let emu = Emulator::start(config).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::Bfl, "bfl-key"))
        .base_url(Provider::Bfl, emu.url())
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    let fast = std::time::Duration::from_millis(10);
    c.images().generate("a cat", "flux-dev").poll_interval(fast).await.unwrap();
    let err = c.images().generate("a cat", "flux-pro-1.1").poll_interval(fast).await.unwrap_err();
    assert!(matches!(err, celeste::Error::Job(_)), "{err:?}");
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let call = |model: &str| {
        finished.iter().find(|s| s.name == format!("generate_content {model}")).expect("a call span").clone()
    };
    let (ok, failed) = (call("flux-dev"), call("flux-pro-1.1"));
    let children = |parent: &opentelemetry_sdk::trace::SpanData| {
        finished.iter().filter(|s| s.parent_span_id == parent.span_context.span_id()).count()
    };
    // Submit, two pending polls, the ready poll, the download.
    assert_eq!(children(&ok), 5, "{:?}", finished.iter().map(|s| &s.name).collect::<Vec<_>>());
    let error_type = failed.attributes.iter().find(|kv| kv.key.as_str() == "error.type").map(|kv| kv.value.to_string());
    assert_eq!(error_type.as_deref(), Some("job_failed"));
    assert!(!format!("{finished:?}").contains("bfl-key"));
    emu.shutdown().await;
}
