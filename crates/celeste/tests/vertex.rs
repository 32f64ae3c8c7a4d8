//! Google Vertex AI end to end against the project's emulator: Gemini (generateContent), Claude
//! (Anthropic Messages through rawPredict / streamRawPredict), Mistral (rawPredict) and DeepSeek
//! (Vertex's OpenAI-compatible endpoint), unary and streaming, with an access token of our own. The
//! emulator stands in for the Vertex host (`base_url`); the paths, headers and bodies are Vertex's.

use celeste::Vertex;
use celeste::{Auth, Client, Credentials, Error, Provider, TelemetryConfig};
use celeste_emulator::{Config, DEFAULT_TEXT, Emulator};
use futures::StreamExt;
use serde_json::json;

const TOKEN: &str = "ya29.test-access-token";

fn client() -> Client {
    Client::builder().credentials(Credentials::empty()).telemetry(TelemetryConfig::new().disabled()).build().unwrap()
}

fn vertex(location: &str) -> Auth {
    Auth::vertex(Vertex::with_token(TOKEN).project("my-project").location(location))
}

#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn every_model_family_unary_and_streaming() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let cases = [
        (
            "gemini-2.5-flash",
            None,
            "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
            "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent",
        ),
        (
            "claude-sonnet-4-5",
            None,
            "/v1/projects/my-project/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5:rawPredict",
            "/v1/projects/my-project/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5:streamRawPredict",
        ),
        (
            "mistral-medium-latest",
            None,
            "/v1/projects/my-project/locations/us-central1/publishers/mistralai/models/mistral-medium-latest:rawPredict",
            "/v1/projects/my-project/locations/us-central1/publishers/mistralai/models/mistral-medium-latest:streamRawPredict",
        ),
        (
            "deepseek-ai/deepseek-v3.1-maas",
            Some(Provider::DeepSeek),
            "/v1/projects/my-project/locations/us-central1/endpoints/openapi/chat/completions",
            "/v1/projects/my-project/locations/us-central1/endpoints/openapi/chat/completions",
        ),
    ];
    for (model, provider, unary_path, stream_path) in cases {
        let call = || {
            let call = client().text().generate("Hello", model).auth(vertex("us-central1")).base_url(emu.url());
            match provider {
                Some(p) => call.provider(p),
                None => call,
            }
        };
        let out = call().await.unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(out.content, DEFAULT_TEXT, "{model}");

        let mut stream = call().stream().await.unwrap_or_else(|e| panic!("{model}: {e}"));
        let mut text = String::new();
        let mut pieces = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap_or_else(|e| panic!("{model}: {e}"));
            pieces += usize::from(!chunk.content.is_empty());
            text.push_str(&chunk.content);
        }
        assert_eq!(text, DEFAULT_TEXT, "{model}");
        assert!(pieces > 1, "{model}");

        let requests = emu.requests();
        assert_eq!(requests.len(), 2, "{model}");
        assert_eq!(requests[0].path, unary_path, "{model}");
        assert_eq!(requests[1].path.split('?').next().unwrap(), stream_path, "{model}");
        for req in &requests {
            assert_eq!(req.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()), "{model}");
            assert_eq!(req.header("x-goog-user-project"), Some("my-project"), "{model}");
            assert_eq!(req.header("x-goog-api-key"), None, "{model}");
            assert_eq!(req.header("x-api-key"), None, "{model}");
            let body = req.json().unwrap();
            if model.starts_with("claude") {
                assert_eq!(body["anthropic_version"], json!("vertex-2023-10-16"), "{model}");
                assert!(body.get("model").is_none(), "{model}: the model is in the URL");
                assert_eq!(req.header("anthropic-version"), None, "{model}");
                assert!(body["max_tokens"].is_u64(), "{model}");
            }
            if model.starts_with("gemini") {
                assert!(body["contents"].is_array(), "{model}: generateContent, not Interactions");
            }
            if model.starts_with("mistral") || model.starts_with("deepseek") {
                assert_eq!(body["model"], json!(model), "{model}");
            }
        }
        if model.starts_with("gemini") {
            assert!(requests[1].path.ends_with("?alt=sse"), "{model}: Gemini streams as SSE");
        }
        emu.clear_requests();
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_provider_vertex_does_not_serve_is_unsupported_and_a_missing_project_is_a_credentials_error() {
    let err = client().text().generate("Hello", "gpt-5-mini").auth(vertex("global")).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");

    if std::env::var_os("GOOGLE_CLOUD_PROJECT").is_none() {
        let err = client()
            .text()
            .generate("Hello", "gemini-2.5-flash")
            .auth(Auth::vertex(Vertex::with_token(TOKEN)))
            .base_url("http://127.0.0.1:9")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Credentials(_)), "{err}");
        assert!(err.to_string().contains("GOOGLE_CLOUD_PROJECT"), "{err}");
        assert!(!err.to_string().contains(TOKEN));
    }
}

/// The span names the Vertex AI provider.
#[cfg(feature = "telemetry")]
#[tokio::test]
async fn spans_name_vertex_ai() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let client = Client::builder()
        .credentials(Credentials::empty())
        .telemetry(TelemetryConfig::new().tracer_provider(tp))
        .build()
        .unwrap();
    client.text().generate("Hello", "gemini-2.5-flash").auth(vertex("global")).base_url(emu.url()).await.unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let call = finished.iter().find(|s| s.name.starts_with("chat ")).expect("a GenAI span");
    let provider = call.attributes.iter().find(|kv| kv.key.as_str() == "gen_ai.provider.name").unwrap();
    assert_eq!(provider.value.as_str(), "gcp.vertex_ai");
    let text = format!("{finished:?}");
    assert!(!text.contains(TOKEN), "no token in any span");
    emu.shutdown().await;
}
