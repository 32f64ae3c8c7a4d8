//! "Switch provider by changing one string" is safe: a bad parameter fails locally, before any request,
//! with an error that names the model, the parameter and what is allowed.

mod support;

use celeste::catalog::{Constraint, Model, register_models};
use celeste::types::{Artifact, Part, Tool};
use celeste::{Client, Credentials, Error, Modality, Operation, Provider, TelemetryConfig};
use serde_json::json;
use support::{Reply, Server};

fn client() -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "k"))
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

fn ok() -> Reply {
    Reply::json(200, r#"{"status":"completed","output":[]}"#)
}

#[tokio::test]
async fn out_of_range_and_unknown_choice_fail_before_any_request() {
    let srv = Server::start(vec![ok()]).await;
    let c = client();
    let err =
        c.text().generate("hi", "gpt-5-mini").base_url(&srv.url).provider(Provider::OpenAi).max_tokens(200_000).await;
    let Err(Error::Validation(v)) = err else { panic!("{err:?}") };
    assert_eq!(v.parameter, "max_tokens");
    assert_eq!(v.model.as_deref(), Some("gpt-5-mini"));
    assert!(v.allowed.contains("128000"), "{}", v.allowed);

    // The 1.0.0 catalog constrains named efforts as `thinking_level` (`thinking_budget` is a token
    // count there).
    let err = c
        .text()
        .generate("hi", "gpt-5-mini")
        .base_url(&srv.url)
        .provider(Provider::OpenAi)
        .thinking_level("extreme")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("one of: minimal, low, medium, high"), "{err}");

    let err =
        c.text().generate("hi", "gpt-5-mini").base_url(&srv.url).provider(Provider::OpenAi).tool(Tool::XSearch).await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
    assert_eq!(srv.count(), 0, "nothing may be sent when validation fails");

    // Valid values go through.
    c.text().generate("hi", "gpt-5-mini").base_url(&srv.url).provider(Provider::OpenAi).max_tokens(100).await.unwrap();
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn streaming_and_media_the_model_lacks_are_unsupported() {
    let srv = Server::start(vec![ok()]).await;
    let c = client();
    let err = c.text().generate("hi", "gpt-5.5-pro").base_url(&srv.url).provider(Provider::OpenAi).stream().await;
    let Err(Error::Unsupported(u)) = err else { panic!("{err:?}") };
    assert!(u.what.contains("streaming"), "{}", u.what);

    let err = c
        .text()
        .generate("listen", "gpt-5-mini")
        .base_url(&srv.url)
        .provider(Provider::OpenAi)
        .part(Part::audio(Artifact::from_url("https://example.com/a.mp3")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("audio input with model gpt-5-mini"), "{err}");
    assert_eq!(srv.count(), 0);
}

#[tokio::test]
async fn unregistered_ids_with_an_explicit_provider_skip_validation() {
    let srv = Server::start(vec![ok()]).await;
    client()
        .text()
        .generate("hi", "my-finetune-2026")
        .base_url(&srv.url)
        .provider(Provider::OpenAi)
        .max_tokens(10_000_000)
        .await
        .unwrap();
    assert_eq!(srv.requests()[0].json()["model"], json!("my-finetune-2026"));
}

#[tokio::test]
async fn user_registered_models_are_validated_too() {
    let model = Model::new("acme-small", Provider::OpenAi, "Acme Small")
        .with_operation(Modality::Text, Operation::Generate)
        .with_streaming(true)
        .with_constraint("temperature", Constraint::range(0.0, 1.0));
    register_models([model]).unwrap();
    let srv = Server::start(vec![ok()]).await;
    let err = client()
        .text()
        .generate("hi", "acme-small")
        .provider(Provider::OpenAi)
        .base_url(&srv.url)
        .temperature(1.5)
        .await;
    let Err(Error::Validation(v)) = err else { panic!("{err:?}") };
    assert_eq!(v.parameter, "temperature");
    assert!(v.allowed.contains("0..=1"), "{}", v.allowed);
    assert_eq!(srv.count(), 0);
}
