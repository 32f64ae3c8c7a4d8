//! Embeddings over real sockets against the project's emulator: every API's request, vectors of the
//! requested size in input order, the blocking twin, bad input, and the call's span.

use celeste::types::Artifact;
use celeste::{Client, Credentials, Error, Protocol, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator};

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
