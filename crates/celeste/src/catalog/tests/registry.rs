//! Registration, merging, lookup and filtering. Most tests use a private registry so they neither see
//! nor disturb the process-wide one; the global functions are exercised with ids no other test uses.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::catalog::{Constraint, Model, Registry, get_model, list_models, provider_of, register_models};
use crate::error::Error;
use crate::types::enums::{InputType, Modality, Operation, Provider};

fn model(id: &str, provider: Provider, modality: Option<Modality>, operation: Operation) -> Model {
    let m = Model::new(id, provider, id);
    match modality {
        Some(md) => m.with_operation(md, operation),
        None => m,
    }
}

fn ids(models: &[Model]) -> BTreeSet<String> {
    models.iter().map(|m| m.id.clone()).collect()
}

#[test]
fn register_accepts_one_or_many() {
    let mut r = Registry::default();
    r.register([model("one", Provider::OpenAi, None, Operation::Generate)]).unwrap();
    assert_eq!(ids(&r.list(None, None, None)), ids(&[model("one", Provider::OpenAi, None, Operation::Generate)]));
    r.register(vec![model("two", Provider::Anthropic, None, Operation::Generate)]).unwrap();
    assert_eq!(r.list(None, None, None).len(), 2);
}

#[test]
fn reregistration_merges_contracts_and_rejects_rename() {
    let mut r = Registry::default();
    let original = model("shared", Provider::OpenAi, Some(Modality::Text), Operation::Generate)
        .with_constraint("temperature", Constraint::Str { min_length: None, max_length: None });
    r.register([original]).unwrap();

    let extension = model("shared", Provider::OpenAi, Some(Modality::Images), Operation::Edit)
        .with_operation(Modality::Embeddings, Operation::Embed)
        .with_constraint("seed", Constraint::Int)
        .with_streaming(true);
    r.register([extension.clone()]).unwrap();

    let got = r.get("shared", Some(Provider::OpenAi)).unwrap();
    let expected: BTreeMap<Modality, BTreeSet<Operation>> = [
        (Modality::Text, BTreeSet::from([Operation::Generate])),
        (Modality::Images, BTreeSet::from([Operation::Edit])),
        (Modality::Embeddings, BTreeSet::from([Operation::Embed])),
    ]
    .into();
    assert_eq!(got.operations, expected);
    assert_eq!(got.supported_parameters().collect::<Vec<_>>(), ["seed", "temperature"]);
    assert!(got.streaming, "streaming is on once any registration says so");

    // A later registration replaces the constraint of the same parameter.
    r.register([Model::new("shared", Provider::OpenAi, "shared").with_constraint("seed", Constraint::Bool)]).unwrap();
    assert_eq!(r.get("shared", Some(Provider::OpenAi)).unwrap().constraints["seed"], Constraint::Bool);

    let mut renamed = extension;
    renamed.display_name = "renamed".into();
    let e = r.register([renamed]).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert!(e.to_string().contains("inconsistent display_name"), "{e}");
    assert_eq!(r.get("shared", Some(Provider::OpenAi)).unwrap().display_name, "shared");
}

#[test]
fn a_rejected_batch_registers_nothing() {
    let mut r = Registry::default();
    r.register([Model::new("a", Provider::OpenAi, "A")]).unwrap();
    let e = r.register([Model::new("b", Provider::OpenAi, "B"), Model::new("a", Provider::OpenAi, "Not A")]);
    assert!(e.is_err());
    assert!(r.get("b", None).is_none());
}

fn populated() -> Registry {
    let mut r = Registry::default();
    r.register([
        model("text-openai", Provider::OpenAi, Some(Modality::Text), Operation::Generate),
        model("image-openai", Provider::OpenAi, Some(Modality::Images), Operation::Generate),
        model("text-anthropic", Provider::Anthropic, Some(Modality::Text), Operation::Analyze),
    ])
    .unwrap();
    r
}

/// `(provider, modality, operation)` filters of `list`.
type Filters = (Option<Provider>, Option<Modality>, Option<Operation>);

#[test]
fn list_filters() {
    let r = populated();
    let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let cases: Vec<(Filters, BTreeSet<String>)> = vec![
        ((None, None, None), set(&["text-openai", "image-openai", "text-anthropic"])),
        ((Some(Provider::OpenAi), None, None), set(&["text-openai", "image-openai"])),
        ((None, Some(Modality::Text), None), set(&["text-openai", "text-anthropic"])),
        ((None, None, Some(Operation::Generate)), set(&["text-openai", "image-openai"])),
        ((None, Some(Modality::Text), Some(Operation::Generate)), set(&["text-openai"])),
        ((Some(Provider::Google), Some(Modality::Text), None), set(&[])),
    ];
    for ((p, m, o), expected) in cases {
        assert_eq!(ids(&r.list(p, m, o)), expected, "{p:?} {m:?} {o:?}");
    }
    // Registration order is kept.
    let order: Vec<String> = r.list(None, None, None).into_iter().map(|m| m.id).collect();
    assert_eq!(order, ["text-openai", "image-openai", "text-anthropic"]);
}

#[test]
fn get_distinguishes_providers_and_takes_the_first_when_ambiguous() {
    let mut r = Registry::default();
    r.register([Model::new("shared", Provider::OpenAi, "shared"), Model::new("shared", Provider::Anthropic, "shared")])
        .unwrap();
    assert_eq!(r.get("shared", Some(Provider::Anthropic)).unwrap().provider, Provider::Anthropic);
    assert!(r.get("missing", Some(Provider::OpenAi)).is_none());
    assert!(r.get("missing", None).is_none());
    assert_eq!(r.get("shared", None).unwrap().provider, Provider::OpenAi);
}

#[test]
fn model_supports_and_input_types() {
    let m = Model::new("m", Provider::Google, "M")
        .with_operation(Modality::Text, Operation::Generate)
        .with_operation(Modality::Text, Operation::Analyze)
        .with_constraint("image", serde_json::from_value(json!({"type": "images"})).unwrap())
        .with_constraint("document", serde_json::from_value(json!({"type": "documents"})).unwrap())
        .with_constraint("first_frame", serde_json::from_value(json!({"type": "image"})).unwrap())
        .with_constraint("seed", Constraint::Int);
    assert!(m.supports(Modality::Text, Operation::Analyze));
    assert!(!m.supports(Modality::Text, Operation::Embed));
    assert!(!m.supports(Modality::Images, Operation::Generate));
    assert_eq!(m.optional_input_types(), BTreeSet::from([InputType::Image, InputType::Document]));
}

#[test]
fn validate_normalises_passes_unconstrained_and_null_and_stops_at_the_first_rejection() {
    let m = Model::new("m", Provider::OpenAi, "M")
        .with_constraint("seed", Constraint::Int)
        .with_constraint("temperature", Constraint::range(0.0, 2.0));
    let params = |v: Value| -> Map<String, Value> { v.as_object().unwrap().clone() };

    let out = m.validate(&params(json!({"seed": "7", "temperature": null, "unknown": [1, 2]}))).unwrap();
    assert_eq!(Value::Object(out), json!({"seed": 7, "temperature": null, "unknown": [1, 2]}));

    let e = m.validate(&params(json!({"temperature": 3}))).unwrap_err();
    let Error::Validation(v) = e else { panic!("{e:?}") };
    assert_eq!(v.model.as_deref(), Some("m"));
    assert_eq!(v.parameter, "temperature");
    assert_eq!(v.value, "3");
    assert_eq!(v.allowed, "0..=2");
}

#[test]
fn the_global_registry_holds_the_builtin_catalog_and_registrations() {
    let gpt5 = get_model("gpt-5", Some(Provider::OpenAi)).expect("gpt-5 is built in");
    assert!(gpt5.supports(Modality::Text, Operation::Generate));
    assert_eq!(provider_of("gpt-5-mini"), Some(Provider::OpenAi));
    assert_eq!(provider_of("claude-sonnet-4-5"), Some(Provider::Anthropic));
    assert_eq!(provider_of("Standard V2"), Some(Provider::TopazLabs));
    assert_eq!(provider_of("no-such-model"), None);

    // Ids no other test uses, so parallel tests never see them.
    register_models([
        Model::new("zz-registry-test", Provider::Ollama, "ZZ").with_operation(Modality::Text, Operation::Generate),
        Model::new("zz-registry-test", Provider::OpenRouter, "ZZ"),
    ])
    .unwrap();
    assert_eq!(provider_of("zz-registry-test"), Some(Provider::Ollama));
    assert_eq!(get_model("zz-registry-test", Some(Provider::OpenRouter)).unwrap().display_name, "ZZ");
    assert!(ids(&list_models(Some(Provider::Ollama), Some(Modality::Text), None)).contains("zz-registry-test"));
    // Extending a built-in model merges into it.
    register_models([Model::new("gpt-5", Provider::OpenAi, "GPT-5").with_constraint("zz_extra", Constraint::Bool)])
        .unwrap();
    let gpt5 = get_model("gpt-5", Some(Provider::OpenAi)).unwrap();
    assert!(gpt5.constraints.contains_key("zz_extra"));
    assert!(gpt5.constraints.contains_key("max_tokens"));
    assert!(register_models([Model::new("gpt-5", Provider::OpenAi, "Renamed")]).is_err());
}

#[test]
fn model_serializes_with_wire_names() {
    let m = Model::new("m", Provider::OpenAi, "M")
        .with_operation(Modality::Text, Operation::Generate)
        .with_constraint("seed", Constraint::Int);
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(
        v,
        json!({"id": "m", "provider": "openai", "display_name": "M", "operations": {"text": ["generate"]},
               "streaming": false, "constraints": {"seed": {"type": "int"}}})
    );
    assert_eq!(serde_json::from_value::<Model>(v).unwrap(), m);
}
