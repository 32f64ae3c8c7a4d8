//! Embeddings over real sockets against the project's emulator: every API's request, vectors of the
//! requested size in input order, the blocking twin, bad input, and the call's span.

use celeste::types::Artifact;
use celeste::{Client, Credentials, Error, Protocol, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator, Reply, Scenario};

fn client(emu: &Emulator) -> Client {
    let mut creds = Credentials::empty();
    for p in [Provider::OpenAi, Provider::Google, Provider::Cohere, Provider::Mistral] {
        creds = creds.with_key(p, "test-key");
    }
    let mut b = Client::builder().credentials(creds).telemetry(TelemetryConfig::new().disabled());
    for p in [Provider::OpenAi, Provider::Google, Provider::Cohere, Provider::Mistral] {
        b = b.base_url(p, emu.url());
    }
    b.build().unwrap()
}

fn unit(v: &[f32]) -> bool {
    (v.iter().map(|f| f * f).sum::<f32>().sqrt() - 1.0).abs() < 1e-3
}

#[tokio::test]
async fn every_api_returns_one_vector_per_input_in_order() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    // OpenAI (not in the reference's catalog: name the provider); vectors come back as base64.
    let out = celeste::text::embed_many(["a cat", "a dog"], "text-embedding-3-small")
        .provider(Provider::OpenAi)
        .dimensions(16)
        .client(c.clone())
        .await
        .unwrap();
    assert_eq!((out.content.len(), out.content[0].len()), (2, 16));
    assert!(out.content.iter().all(|v| unit(v)));
    assert_ne!(out.content[0], out.content[1]);
    assert!(out.usage.input_tokens.is_some());
    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1/embeddings");
    assert_eq!(req.json().unwrap()["encoding_format"], "base64");
    // The same text gives the same vector from any API of the emulator (it seeds on the text).
    let single = celeste::text::embed("a cat", "gemini-embedding-2").dimensions(128).client(c.clone()).await.unwrap();
    assert_eq!((single.content.len(), single.content[0].len()), (1, 128));
    assert!(emu.requests()[1].path.ends_with("/models/gemini-embedding-2:embedContent"));
    let batch = celeste::text::embed_many(["x", "y", "z"], "gemini-embedding-2").client(c.clone()).await.unwrap();
    assert_eq!(batch.content.len(), 3);
    assert!(emu.requests()[2].path.ends_with(":batchEmbedContents"));
    // An image with a caption: one combined vector.
    let png = Artifact::from_bytes(&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]);
    let one = celeste::images::embed(vec![png], "gemini-embedding-2").client(c.clone()).await.unwrap();
    assert_eq!(one.content.len(), 1);
    // Cohere and Mistral.
    let co = celeste::text::embed_many(["a", "b"], "embed-v4.0").provider(Provider::Cohere).client(c.clone()).await;
    assert_eq!(co.unwrap().content.len(), 2);
    assert_eq!(emu.requests().last().unwrap().path, "/v2/embed");
    let mi = celeste::text::embed("a", "mistral-embed").provider(Provider::Mistral).client(c.clone()).await.unwrap();
    assert_eq!(mi.content.len(), 1);
    // Any OpenAI-compatible server: a protocol and a base URL.
    let any = celeste::text::embed("a", "my-embedder")
        .protocol(Protocol::OpenResponses)
        .base_url(format!("{}/v1", emu.url()))
        .client(c)
        .await
        .unwrap();
    assert_eq!(any.content.len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let empty: [&str; 0] = [];
    let err = celeste::text::embed_many(empty, "gemini-embedding-2").client(c.clone()).await.unwrap_err();
    assert!(err.to_string().contains("empty batch"), "{err}");
    let err = celeste::text::embed(" ", "gemini-embedding-2").client(c.clone()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    // Outside the model's dimensions, and text mixed with media in a batch.
    let err = celeste::text::embed("a", "gemini-embedding-2").dimensions(64).client(c.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    let png = Artifact::from_bytes(&b"\x89PNG\r\n\x1a\n"[..]);
    let err = celeste::images::embed(vec![png.clone(), png], "gemini-embedding-2").text("caption").client(c).await;
    assert!(matches!(err, Err(Error::Unsupported(_))), "{err:?}");
    assert!(emu.requests().is_empty(), "nothing may be sent");
    emu.shutdown().await;
}

#[test]
fn the_blocking_twin() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start(Config::default())).unwrap();
    let out =
        celeste::blocking::text::embed_many(["a", "b"], "gemini-embedding-2").client(client(&emu)).send().unwrap();
    assert_eq!(out.content.len(), 2);
    rt.block_on(emu.shutdown());
}

#[cfg(feature = "telemetry")]
#[tokio::test]
async fn the_span_says_embeddings_and_the_vector_size() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::Google, "test-key"))
        .base_url(Provider::Google, emu.url())
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    celeste::text::embed("a", "gemini-embedding-2").dimensions(256).client(c).await.unwrap();
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let names: Vec<&str> = finished.iter().map(|s| s.name.as_ref()).collect();
    let call =
        finished.iter().find(|s| s.name == "embeddings gemini-embedding-2").unwrap_or_else(|| panic!("{names:?}"));
    let attr = |k: &str| call.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string());
    assert_eq!(attr("gen_ai.operation.name").as_deref(), Some("embeddings"));
    assert_eq!(attr("gen_ai.embeddings.dimension.count").as_deref(), Some("256"));
    assert!(attr("gen_ai.usage.input_tokens").is_some());
    emu.shutdown().await;
}

/// A client whose Google calls go to Vertex AI (a token of our own) at the emulator.
fn vertex_call(emu: &Emulator, texts: &[String]) -> celeste::EmbedCall {
    use celeste::{Auth, Vertex};
    celeste::text::embed_many(texts.to_vec(), "gemini-embedding-2")
        .auth(Auth::vertex(Vertex::with_token("ya29.test-token").project("proj").location("us-east5")))
        .base_url(emu.url())
        .client(client(emu))
}

#[tokio::test]
async fn vertex_sends_a_batch_as_bounded_parallel_single_calls_and_keeps_the_input_order() {
    // The first input's call is the slowest, so the calls finish out of input order; every call
    // takes long enough that the calls of one window overlap at the server.
    let config = Config::default()
        .scenario(Scenario::new("slow").contains(r#""text":"slow""#).then(Reply::default().delay_ms(400)))
        .default_reply(Reply::default().delay_ms(60));
    let emu = Emulator::start(config).await.unwrap();
    let texts: Vec<String> = std::iter::once("slow".to_string()).chain((1..20).map(|i| format!("text {i}"))).collect();
    let out = vertex_call(&emu, &texts).dimensions(128).await.unwrap();
    assert_eq!(out.content.len(), 20);
    // One `:embedContent` call per input at the model's Vertex URL, each with the token and project.
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 20);
    let path = "/v1/projects/proj/locations/us-east5/publishers/google/models/gemini-embedding-2:embedContent";
    assert!(reqs.iter().all(|r| r.path == path), "{:?}", reqs[0].path);
    assert!(reqs.iter().all(|r| r.header("authorization") == Some("Bearer ya29.test-token")));
    assert!(reqs.iter().all(|r| r.header("x-goog-user-project") == Some("proj")));
    let body = reqs[0].json().unwrap();
    assert_eq!(body["outputDimensionality"], 128);
    assert_eq!(body["content"]["parts"].as_array().map(Vec::len), Some(1));
    // The bound, seen at the server: never more than eight at once, and more than one.
    let peak = emu.peak_in_flight();
    assert!((2..=8).contains(&peak), "peak in flight: {peak}");
    // The slow first call finished last, yet its vector is first: the same vectors, in the same
    // order, as the Gemini API's batch call gives for these texts.
    assert_ne!(reqs.last().unwrap().json().unwrap()["content"]["parts"][0]["text"], "slow");
    let direct = celeste::text::embed_many(texts.clone(), "gemini-embedding-2")
        .dimensions(128)
        .client(client(&emu))
        .await
        .unwrap();
    assert_eq!(out.content, direct.content);
    // Usage is the sum of the calls'.
    assert_eq!(out.usage.input_tokens, direct.usage.input_tokens);
    emu.shutdown().await;
}

#[tokio::test]
async fn vertex_fails_the_batch_on_the_first_failed_call_and_sends_one_call_for_one_input() {
    use celeste_emulator::Fault;
    let config = Config::default()
        .scenario(Scenario::new("bad").contains(r#""text":"bad""#).then(Fault::status(400).message("no such text")))
        .default_reply(Reply::default().delay_ms(2000));
    let emu = Emulator::start(config).await.unwrap();
    let texts: Vec<String> = ["a", "b", "bad", "c"].map(String::from).to_vec();
    let started = std::time::Instant::now();
    let err = vertex_call(&emu, &texts).await.unwrap_err();
    let Error::Http(http) = &err else { panic!("{err:?}") };
    assert_eq!(http.status, 400);
    assert!(http.message.contains("no such text"), "{http:?}");
    // It failed as soon as that call did, without waiting for the slow ones.
    assert!(started.elapsed() < std::time::Duration::from_millis(1500), "{:?}", started.elapsed());
    // A single input is one call (no fan-out).
    emu.clear_requests();
    let one = vertex_call(&emu, &["x".to_string()]).await;
    assert_eq!(one.unwrap().content.len(), 1);
    assert_eq!(emu.requests().len(), 1);
    emu.shutdown().await;
}

#[cfg(feature = "telemetry")]
#[tokio::test]
async fn a_vertex_batch_is_one_span_with_a_child_per_call() {
    use celeste::{Auth, Vertex};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty())
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()))
        .build()
        .unwrap();
    celeste::text::embed_many(["a", "b", "c"], "gemini-embedding-2")
        .auth(Auth::vertex(Vertex::with_token("ya29.test-token").project("proj")))
        .base_url(emu.url())
        .client(c)
        .await
        .unwrap();
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let calls: Vec<_> = finished.iter().filter(|s| s.name == "embeddings gemini-embedding-2").collect();
    assert_eq!(calls.len(), 1);
    let attr = |k: &str| calls[0].attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string());
    assert_eq!(attr("gen_ai.provider.name").as_deref(), Some("gcp.vertex_ai"));
    assert_eq!(attr("gen_ai.usage.input_tokens").as_deref(), Some("3"));
    let children = finished.iter().filter(|s| s.parent_span_id == calls[0].span_context.span_id()).count();
    assert_eq!(children, 3, "one HTTP span per call");
    emu.shutdown().await;
}
