//! Decision calls over real sockets against the project's emulator: the request TypeSafe receives
//! (path, key, body, danger-zone header), the typed answers that come back, the blocking twins, the
//! caller's header overriding ours, and the call's span.

#![cfg(feature = "typesafe")]

use celeste::types::{Answer, Artifact, DecisionValue, Question};
use celeste::{Client, Credentials, Error, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator};
use serde_json::json;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .credentials(Credentials::empty().with_key(Provider::TypeSafe, "test-typesafe-key"))
        .base_url(Provider::TypeSafe, emu.url())
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap()
}

fn sums_to_one<K>(p: &std::collections::BTreeMap<K, f64>) -> bool {
    (p.values().sum::<f64>() - 1.0).abs() < 1e-9
}

#[tokio::test]
async fn text_decide_sends_the_systemone_body_and_reads_typed_answers() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let state = DecisionValue::from(json!({"ticket": "My order never came. Refund now!", "tier": 2}));
    let out = celeste::text::decide(
        state,
        [
            ("urgent", Question::boolean_with_criteria("Needs action today?", "yes, today", "it can wait")),
            ("mood", Question::choice(["calm", "annoyed", "angry"]).instructions("How does the customer feel?")),
        ],
        "jev-latest",
    )
    .question("severity", Question::score(["low", "medium", "high"]))
    .client(client(&emu))
    .await
    .unwrap();
    let a = &out.content;
    assert_eq!(a.len(), 3);
    assert!((0.0..=1.0).contains(&a["urgent"].as_boolean().unwrap().probability));
    let mood = a["mood"].as_choice().unwrap();
    assert!(sums_to_one(&mood.probabilities) && mood.probabilities.contains_key(&mood.choice));
    let severity = a["severity"].as_score().unwrap();
    assert!(sums_to_one(&severity.probabilities));
    assert_eq!(severity.probabilities.keys().copied().collect::<Vec<_>>(), [0, 1, 2]);
    assert!((0.0..=2.0).contains(&severity.score));
    assert_eq!(out.usage.output_tokens, Some(3));
    assert!(out.usage.input_tokens.is_some_and(|n| n > 0));
    assert_eq!(out.metadata.response_model.as_deref(), Some("jev-latest"));

    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1/systemone");
    assert_eq!(req.header("authorization"), Some("Bearer test-typesafe-key"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("typesafe-danger-zone-images"), None, "no images and no box: no header");
    let body = req.json().unwrap();
    assert_eq!(
        body,
        json!({
            "state": {"ticket": "My order never came. Refund now!", "tier": 2},
            "questions": {
                "urgent": {"type": "noul", "instructions": "Needs action today?", "criteria": {"true": "yes, today", "false": "it can wait"}},
                "mood": {"type": "choice", "instructions": "How does the customer feel?", "criteria": {"calm": null, "annoyed": null, "angry": null}},
                "severity": {"type": "score", "criteria": ["low", "medium", "high"]},
            },
            "model": "jev-latest",
        })
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn images_decide_sends_the_image_as_an_asset_with_the_danger_zone_header() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let image = Artifact::from_bytes(PNG);
    let out = celeste::images::decide(
        image,
        [("cat", Question::boolean("Is there a cat?")), ("where", Question::locate("Locate the cat"))],
        "jev-1.14.0",
    )
    .client(client(&emu))
    .await
    .unwrap();
    let Answer::Box(b) = &out.content["where"] else { panic!("{:?}", out.content) };
    let c = b.coordinates;
    assert!(0.0 <= c.top && c.top < c.bottom && c.bottom <= 1.0, "{c:?}");
    assert!(0.0 <= c.left && c.left < c.right && c.right <= 1.0, "{c:?}");
    let req = &emu.requests()[0];
    assert_eq!(req.header("typesafe-danger-zone-images"), Some("true"));
    let body = req.json().unwrap();
    let id = body["state"].as_str().unwrap();
    assert_eq!(body["assets"][id]["format"], "png");
    assert_eq!(body["assets"].as_object().unwrap().len(), 1);

    // The caller's header wins over ours: without the danger zone, the service refuses the images.
    let err = celeste::images::decide(Artifact::from_bytes(PNG), [("cat", Question::boolean("A cat?"))], "jev-latest")
        .header("TypeSafe-Danger-Zone-Images", "false")
        .client(client(&emu))
        .await
        .unwrap_err();
    let Error::Http(h) = &err else { panic!("{err:?}") };
    assert_eq!(h.status, 400);
    assert!(h.message.contains("Danger-Zone"), "{}", h.message);
    assert_eq!(emu.requests()[1].header("typesafe-danger-zone-images"), Some("false"));
    emu.shutdown().await;
}

#[tokio::test]
async fn per_call_base_url_and_key_keep_the_typesafe_api() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let out = celeste::text::decide("a short note", [("spam", Question::boolean("Is it spam?"))], "jev-preview")
        .client(Client::builder().telemetry(TelemetryConfig::new().disabled()).build().unwrap())
        .base_url(format!("{}/v1", emu.url()))
        .api_key("per-call-key")
        .await
        .unwrap();
    assert!(out.content["spam"].as_boolean().is_some());
    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1/systemone");
    assert_eq!(req.header("authorization"), Some("Bearer per-call-key"));
    emu.shutdown().await;
}

#[test]
fn blocking_twins() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start(Config::default())).unwrap();
    let c = client(&emu);
    let out = celeste::blocking::text::decide(
        DecisionValue::from(json!({"n": 3})),
        [("odd", Question::boolean("Is n odd?"))],
        "jev-latest",
    )
    .client(c.clone())
    .send()
    .unwrap();
    assert!(out.content["odd"].as_boolean().is_some());
    let out = celeste::blocking::images::decide(
        Artifact::from_bytes(PNG),
        [("size", Question::score(["small", "large"]))],
        "jev-latest",
    )
    .client(c)
    .send()
    .unwrap();
    assert!(out.content["size"].as_score().is_some());
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("typesafe-danger-zone-images"), Some("true"));
    rt.block_on(emu.shutdown());
}

#[cfg(feature = "telemetry")]
#[tokio::test]
async fn one_span_per_decision_and_the_error_path() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::TypeSafe, "test-typesafe-key"))
        .base_url(Provider::TypeSafe, emu.url())
        .telemetry(TelemetryConfig::new().tracer_provider(tp))
        .build()
        .unwrap();
    celeste::text::decide("x", [("q", Question::boolean("?"))], "jev-latest").client(c.clone()).await.unwrap();
    // Refused by the service (an unregistered id is sent as it is; the images lack the header).
    let err = celeste::images::decide(Artifact::from_bytes(PNG), [("q", Question::boolean("?"))], "jev-next")
        .provider(Provider::TypeSafe)
        .header("TypeSafe-Danger-Zone-Images", "no")
        .client(c.clone())
        .await;
    assert!(err.is_err());
    let finished = spans.get_finished_spans().unwrap();
    let calls: Vec<_> = finished.iter().filter(|s| s.name.starts_with("generate_content")).collect();
    assert_eq!(calls.len(), 2, "one span per call: {:?}", finished.iter().map(|s| &s.name).collect::<Vec<_>>());
    let attr = |s: &opentelemetry_sdk::trace::SpanData, k: &str| {
        s.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string())
    };
    assert_eq!(calls[0].name, "generate_content jev-latest");
    for s in &calls {
        assert_eq!(attr(s, "gen_ai.operation.name").as_deref(), Some("generate_content"));
        assert_eq!(attr(s, "gen_ai.output.type").as_deref(), Some("json"));
        assert_eq!(attr(s, "gen_ai.provider.name").as_deref(), Some("typesafe"));
        assert_eq!(attr(s, "celeste.modality").as_deref(), Some("decision"));
        assert_eq!(attr(s, "celeste.operation").as_deref(), Some("decide"));
    }
    assert_eq!(attr(calls[0], "gen_ai.response.model").as_deref(), Some("jev-latest"));
    assert!(attr(calls[0], "error.type").is_none());
    assert_eq!(attr(calls[1], "error.type").as_deref(), Some("400"));
    // One HTTP child span each, and no key anywhere.
    assert_eq!(finished.iter().filter(|s| s.name == "POST").count(), 2);
    assert!(!format!("{finished:?}").contains("test-typesafe-key"));
    // The client holds the tracer provider: dropping it shuts the exporter down, so only now.
    drop(c);
    emu.shutdown().await;
}
