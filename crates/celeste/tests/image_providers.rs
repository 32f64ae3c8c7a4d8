//! BytePlus, xAI, Gemini (Interactions) and Ollama image calls over real sockets against the
//! project's emulator: the request each API receives, images that decode (the MIME type sniffed
//! from the bytes is the one reported), URL results fetched with `Client::download`, streams, and
//! one failure of each (the emulator's validation, a provider refusal, or a stream error event).

use celeste::types::{Artifact, Image, MimeType};
use celeste::{Client, Credentials, Error, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator, Fault, Reply, Scenario};
use futures::StreamExt;

/// A client whose four image providers all point at the emulator.
fn client(emu: &Emulator) -> Client {
    let mut b = Client::builder()
        .credentials(
            Credentials::empty()
                .with_key(Provider::BytePlus, "test-byteplus-key")
                .with_key(Provider::XAi, "test-xai-key")
                .with_key(Provider::Google, "test-google-key"),
        )
        .telemetry(TelemetryConfig::new().disabled());
    for p in [Provider::BytePlus, Provider::XAi, Provider::Google, Provider::Ollama] {
        b = b.base_url(p, emu.url());
    }
    b.build().unwrap()
}

/// Scenarios: prompts with "forbidden" are refused by the image's moderation, "too big" fails the
/// Ollama job, "boom" breaks a stream after its first event, "refuse" is a Gemini 400.
fn config() -> Config {
    Config::default()
        .scenario(Scenario::new("refused").contains("forbidden").then(Reply::default().job_failure("Sensitive")))
        .scenario(Scenario::new("oom").contains("too big").then(Reply::default().job_failure("out of memory")))
        .scenario(Scenario::new("broken").contains("boom").then(Fault::stream_error_at(0).message("boom")))
        .scenario(Scenario::new("gemini 400").contains("refuse me").then(Fault::status(400).message("Bad image ask")))
}

/// The image has bytes, typed as `mime`, that sniff as `mime`, with their dimensions read.
fn assert_decodes(img: &Image, mime: &str) {
    let bytes = img.artifact.data.as_ref().expect("bytes");
    assert_eq!(img.artifact.mime_type.as_ref().map(|m| m.as_str()), Some(mime));
    assert_eq!(MimeType::sniff(bytes).map(|m| m.as_str().to_string()).as_deref(), Some(mime));
    assert!(img.width.is_some_and(|w| w > 0) && img.height.is_some_and(|h| h > 0), "{img:?}");
}

/// A small real PNG to edit, as a file on disk would give it.
fn a_png() -> Artifact {
    // 2x1 RGBA: signature, IHDR, one zlib IDAT, IEND.
    let hex = "89504e470d0a1a0a0000000d4948445200000002000000010806000000f4227f8a0000000e49444154789c63f8cfc000\
               42ff010ff903fd851199760000000049454e44ae426082";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    Artifact::from_bytes(bytes)
}

// ---------------------------------------------------------------- BytePlus

#[tokio::test]
async fn byteplus_generates_and_edits_inline_images() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client(&emu);
    let out = c
        .images()
        .generate("a lake at dawn", "seedream-4-0-250828")
        .aspect_ratio("2K 16:9")
        .watermark(false)
        .await
        .unwrap();
    assert_eq!(out.content.len(), 1);
    // JPEG is BytePlus's default format.
    assert_decodes(&out.content[0], "image/jpeg");
    assert!(out.content[0].width > out.content[0].height);
    assert_eq!(out.usage.images, Some(1));
    let req = &emu.requests()[0];
    assert_eq!(req.path, "/api/v3/images/generations");
    assert_eq!(req.header("authorization"), Some("Bearer test-byteplus-key"));
    let body = req.json().unwrap();
    // The preset is sent as the pixel size it names.
    assert_eq!(body["size"], "2848x1600");
    assert_eq!((body["watermark"].clone(), body["response_format"].clone()), (false.into(), "b64_json".into()));

    // An edit with a reference image: `image` is a list, the edited image first; PNG asked for.
    let out = c
        .images()
        .edit(a_png(), "make it night", "seedream-4-0-250828")
        .reference_image(a_png())
        .output_format("png")
        .seed(5)
        .await
        .unwrap();
    assert_decodes(&out.content[0], "image/png");
    assert_eq!(out.content[0].artifact.metadata.get("seed"), Some(&serde_json::json!(5)));
    let body = emu.requests().last().unwrap().json().unwrap();
    let images = body["image"].as_array().expect("a list of images");
    assert_eq!(images.len(), 2);
    assert!(images.iter().all(|i| i.as_str().is_some_and(|s| s.starts_with("data:image/png;base64,"))));
    emu.shutdown().await;
}

#[tokio::test]
async fn byteplus_url_results_download_and_refusals_fail() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client(&emu);
    // URLs when the caller asks for them: a URL artifact, fetched with `Client::download`.
    let out = c
        .images()
        .generate("a lake", "seedream-4-0-250828")
        .extra_body(serde_json::json!({"response_format": "url"}))
        .await
        .unwrap();
    let img = &out.content[0];
    assert!(img.artifact.data.is_none() && img.artifact.url.is_some(), "{img:?}");
    let fetched = c.download(img).await.unwrap();
    assert_decodes(&fetched, "image/jpeg");

    // The emulator's validation: a size it cannot read is a 400 (an unregistered id skips our checks).
    let err = c
        .images()
        .generate("a lake", "seedream-test")
        .provider(Provider::BytePlus)
        .aspect_ratio("huge")
        .await
        .unwrap_err();
    let Error::Http(http) = err else { panic!("an HTTP error expected: {err:?}") };
    assert_eq!((http.status, http.code.as_deref()), (400, Some("InvalidParameter")));

    // A refused image: the provider's reason.
    let err = c.images().generate("a forbidden lake", "seedream-4-0-250828").await.unwrap_err();
    assert!(matches!(&err, Error::Job(j) if j.message.as_deref() == Some("Sensitive")), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn byteplus_streams_the_image_and_stream_failures_are_errors() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client(&emu);
    let mut stream = c.images().generate("a lake", "seedream-4-5-251128").quality("2K").stream().await.unwrap();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        assert_decodes(&chunk.unwrap().content, "image/jpeg");
        chunks += 1;
    }
    assert_eq!(chunks, 1);
    let out = stream.output().unwrap();
    assert_eq!((out.content.len(), out.usage.images), (1, Some(1)));
    let req = &emu.requests()[0];
    assert_eq!((req.json().unwrap()["stream"].clone(), req.header("accept")), (true.into(), Some("text/event-stream")));

    // Every image refused (`partial_failed`), then an error event in the middle of a stream.
    for (prompt, message) in [("a forbidden lake", "Sensitive"), ("boom", "boom")] {
        let mut stream = c.images().generate(prompt, "seedream-4-5-251128").stream().await.unwrap();
        let mut failure = None;
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                failure = Some(e);
            }
        }
        let Some(Error::StreamEvent(e)) = failure else { panic!("{prompt}: a stream event error expected") };
        assert_eq!(e.message, message, "{prompt}");
    }
    emu.shutdown().await;
}

// ---------------------------------------------------------------- xAI

#[tokio::test]
async fn xai_url_results_download_and_base64_decodes() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client(&emu);
    let out = c.images().generate("a cat", "grok-imagine-image").num_images(2).aspect_ratio("16:9").await.unwrap();
    assert_eq!((out.content.len(), out.usage.images), (2, Some(2)));
    for img in &out.content {
        assert!(img.artifact.data.is_none(), "xAI answers URLs by default");
        let fetched = c.download(img).await.unwrap();
        assert_decodes(&fetched, "image/jpeg");
        assert!(fetched.width > fetched.height);
    }
    let req = &emu.requests()[0];
    assert_eq!(
        (req.path.as_str(), req.header("authorization")),
        ("/v1/images/generations", Some("Bearer test-xai-key"))
    );
    let body = req.json().unwrap();
    assert_eq!((body["n"].clone(), body["aspect_ratio"].clone()), (2.into(), "16:9".into()));

    // An edit, inline: `image: {url: data URL}`; with a reference image, `images`.
    let out =
        c.images().edit(a_png(), "a dog", "grok-imagine-image").output_format("b64_json").quality("2k").await.unwrap();
    assert_decodes(&out.content[0], "image/jpeg");
    let req = emu.requests().into_iter().rfind(|r| r.path == "/v1/images/edits").unwrap();
    let body = req.json().unwrap();
    assert!(body["image"]["url"].as_str().unwrap().starts_with("data:image/png;base64,"));
    assert_eq!((body["response_format"].clone(), body["resolution"].clone()), ("b64_json".into(), "2k".into()));
    c.images().edit(a_png(), "a dog", "grok-imagine-image").reference_image(a_png()).await.unwrap();
    let body = emu.requests().last().unwrap().json().unwrap();
    assert_eq!((body["images"].as_array().map(Vec::len), body.get("image")), (Some(2), None));

    // The emulator's validation: an aspect ratio it cannot read.
    let err = c
        .images()
        .generate("a cat", "grok-imagine-test")
        .provider(Provider::XAi)
        .aspect_ratio("wide")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
    // The API does not stream.
    let err = c.images().generate("a cat", "grok-imagine-test").provider(Provider::XAi).stream().await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    emu.shutdown().await;
}

// ---------------------------------------------------------------- Gemini (Interactions)

#[tokio::test]
async fn gemini_generates_and_edits_through_interactions() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client(&emu);
    let out = c.images().generate("a boat", "gemini-3-pro-image").aspect_ratio("9:16").quality("2K").await.unwrap();
    assert_eq!(out.content.len(), 1);
    assert_decodes(&out.content[0], "image/png");
    assert!(out.content[0].width < out.content[0].height);
    assert!(out.usage.total_tokens.is_some());
    let req = &emu.requests()[0];
    assert_eq!((req.path.as_str(), req.header("x-goog-api-key")), ("/v1beta/interactions", Some("test-google-key")));
    let body = req.json().unwrap();
    assert_eq!(
        body["response_format"],
        serde_json::json!({"type": "image", "aspect_ratio": "9:16", "image_size": "2K"})
    );
    assert_eq!(body["input"][0]["content"][0], serde_json::json!({"type": "text", "text": "a boat"}));

    // An edit with a reference: both images before the prompt, the edited one first.
    let out = c.images().edit(a_png(), "paint it", "gemini-2.5-flash-image").await.unwrap();
    assert_decodes(&out.content[0], "image/png");
    c.images().edit(a_png(), "paint it", "gemini-3-pro-image").reference_image(a_png()).await.unwrap();
    let body = emu.requests().last().unwrap().json().unwrap();
    let kinds: Vec<&str> =
        body["input"][0]["content"].as_array().unwrap().iter().filter_map(|p| p["type"].as_str()).collect();
    assert_eq!(kinds, ["image", "image", "text"]);

    // A 400 from the server.
    let err = c.images().generate("refuse me", "gemini-3-pro-image").await.unwrap_err();
    let Error::Http(http) = err else { panic!("an HTTP error expected: {err:?}") };
    assert_eq!((http.status, http.message.as_str()), (400, "Bad image ask"));
    emu.shutdown().await;
}

// ---------------------------------------------------------------- Ollama

#[tokio::test]
async fn ollama_streams_ndjson_and_answers_unary() {
    let emu = Emulator::start(config()).await.unwrap();
    let c = client(&emu);
    let mut stream = c
        .images()
        .generate("a kite", "x/z-image-turbo")
        .provider(Provider::Ollama)
        .aspect_ratio("12x8")
        .steps(3)
        .seed(9)
        .stream()
        .await
        .unwrap();
    let mut images = 0;
    while let Some(chunk) = stream.next().await {
        assert_decodes(&chunk.unwrap().content, "image/png");
        images += 1;
    }
    assert_eq!(images, 1, "progress lines carry no image");
    let out = stream.output().unwrap();
    assert_decodes(&out.content[0], "image/png");
    assert_eq!((out.content[0].width, out.content[0].height), (Some(12), Some(8)));
    let req = &emu.requests()[0];
    assert_eq!((req.path.as_str(), req.header("authorization")), ("/api/generate", None));
    let body = req.json().unwrap();
    assert_eq!(
        body,
        serde_json::json!({"model": "x/z-image-turbo", "prompt": "a kite", "stream": true, "width": 12, "height": 8,
                           "steps": 3, "options": {"seed": 9}})
    );

    let out = c.images().generate("a kite", "x/z-image-turbo").provider(Provider::Ollama).await.unwrap();
    assert_decodes(&out.content[0], "image/png");
    assert_eq!(emu.requests().last().unwrap().json().unwrap()["stream"], false);

    // A failed job is an `error` line.
    let mut stream =
        c.images().generate("too big", "x/z-image-turbo").provider(Provider::Ollama).stream().await.unwrap();
    let mut failure = None;
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            failure = Some(e);
        }
    }
    assert!(matches!(&failure, Some(Error::StreamEvent(e)) if e.message == "out of memory"), "{failure:?}");
    emu.shutdown().await;
}
