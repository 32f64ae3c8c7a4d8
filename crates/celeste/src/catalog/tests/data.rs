//! The embedded catalog data: it parses strictly, has the reference's counts and is internally
//! consistent.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::json;

use crate::catalog::data::{self, MODEL_FILES, VOICE_FILES};
use crate::catalog::{BuiltinTool, Constraint, Model, resolve_voice, voices};
use crate::types::enums::{InputType, Modality, Operation, Provider};

fn builtin() -> Vec<Model> {
    data::try_builtin_models().unwrap_or_else(|e| panic!("built-in catalog must parse: {e}"))
}

fn find(models: &[Model], provider: Provider, id: &str) -> Model {
    models
        .iter()
        .find(|m| m.provider == provider && m.id == id)
        .unwrap_or_else(|| panic!("{provider} {id} missing"))
        .clone()
}

#[test]
fn every_file_parses_strictly() {
    for &(provider, json) in MODEL_FILES {
        let models = data::parse_models(provider, json).unwrap_or_else(|e| panic!("{e}"));
        assert!(!models.is_empty(), "{provider}.json is empty");
    }
    for &(provider, json) in VOICE_FILES {
        data::parse_voices(provider, json).unwrap_or_else(|e| panic!("{e}"));
    }
    // The lenient loader yields the same catalog when everything parses.
    assert_eq!(data::builtin_models(), builtin());
}

#[test]
fn counts_per_provider_and_modality_match_the_reference() {
    use Modality::*;
    let expected: &[(Provider, &[(Modality, usize)])] = &[
        (Provider::OpenAi, &[(Text, 25), (Images, 6), (Audio, 10), (Live, 1)]),
        (Provider::Anthropic, &[(Text, 17)]),
        (Provider::Google, &[(Text, 12), (Images, 5), (Audio, 8), (Videos, 5), (Embeddings, 2), (Live, 2)]),
        (Provider::Mistral, &[(Text, 16), (Audio, 2)]),
        (Provider::Cohere, &[(Text, 14)]),
        (Provider::Groq, &[(Text, 11), (Audio, 2)]),
        (Provider::XAi, &[(Text, 9), (Images, 3), (Videos, 2)]),
        (Provider::Moonshot, &[(Text, 4)]),
        (Provider::DeepSeek, &[(Text, 2)]),
        (Provider::HuggingFace, &[(Text, 1)]),
        (Provider::Meta, &[(Text, 3)]),
        (Provider::Bfl, &[(Images, 14)]),
        (Provider::BytePlus, &[(Images, 5), (Videos, 6)]),
        (Provider::TopazLabs, &[(Images, 8)]),
        (Provider::ElevenLabs, &[(Audio, 10)]),
        (Provider::Gradium, &[(Audio, 1)]),
        (Provider::Fal, &[(Segmentation, 2)]),
        (Provider::TypeSafe, &[(Decision, 4)]),
    ];
    let models = builtin();
    let mut actual: BTreeMap<Provider, BTreeMap<Modality, usize>> = BTreeMap::new();
    for m in &models {
        for modality in m.operations.keys() {
            *actual.entry(m.provider).or_default().entry(*modality).or_default() += 1;
        }
    }
    for (provider, counts) in expected {
        let want: BTreeMap<Modality, usize> = counts.iter().copied().collect();
        assert_eq!(actual.remove(provider).unwrap_or_default(), want, "{provider}");
    }
    assert!(actual.is_empty(), "unexpected providers: {actual:?}");
    assert_eq!(models.len(), 212);
    // Ollama and OpenRouter take arbitrary ids; they have no built-in models.
    assert!(!models.iter().any(|m| matches!(m.provider, Provider::Ollama | Provider::OpenRouter)));
}

#[test]
fn ids_are_unique_per_provider() {
    let mut seen = HashSet::new();
    for m in builtin() {
        assert!(seen.insert((m.id.clone(), m.provider)), "duplicate {} {}", m.provider, m.id);
        assert!(!m.id.is_empty() && !m.display_name.is_empty(), "{m:?}");
    }
}

#[test]
fn every_model_has_an_operation_and_only_text_images_audio_live_stream() {
    for m in builtin() {
        assert!(m.operations.values().any(|ops| !ops.is_empty()), "{} has no operation", m.id);
        if m.streaming {
            assert!(
                m.operations
                    .keys()
                    .all(|md| matches!(md, Modality::Text | Modality::Images | Modality::Audio | Modality::Live)),
                "{} streams a {:?} model",
                m.id,
                m.operations.keys()
            );
        }
    }
}

#[test]
fn constraints_are_well_formed() {
    for m in builtin() {
        for (name, c) in &m.constraints {
            let at = format!("{} {} `{name}`", m.provider, m.id);
            match c {
                Constraint::Range { min, max, step, .. } => {
                    assert!(min <= max, "{at}");
                    assert!(step.is_none_or(|s| s > 0.0), "{at}");
                }
                Constraint::Choice { options } => assert!(!options.is_empty(), "{at}"),
                Constraint::Voice { provider, voices: offered } => {
                    assert_eq!(*provider, m.provider, "{at}");
                    assert!(!voices(*provider).is_empty(), "{at}: no voice catalog");
                    // A subset names voices of the catalog, each once, and not all of them.
                    if let Some(ids) = offered {
                        let unique: BTreeSet<&String> = ids.iter().collect();
                        assert_eq!(unique.len(), ids.len(), "{at}");
                        assert!(ids.len() < voices(*provider).len(), "{at}: a subset of every voice");
                        for id in ids {
                            assert!(voices(*provider).iter().any(|v| &v.id == id), "{at}: unknown voice {id}");
                        }
                    }
                }
                Constraint::Dimensions { min_dimension: Some(lo), max_dimension: Some(hi), .. } => {
                    assert!(lo <= hi, "{at}");
                }
                Constraint::Dimensions { presets: Some(presets), .. } => {
                    // Every preset is itself a valid size.
                    for name in presets.keys() {
                        c.check(&m.id, "aspect_ratio", &json!(name))
                            .unwrap_or_else(|e| panic!("{at}: preset {name}: {e}"));
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn catalog_order_puts_modalities_first_then_providers() {
    let models = builtin();
    // The default text model is the reference's.
    assert_eq!(models[0].id, "claude-haiku-5-5");
    let first = |md: Modality| models.iter().find(|m| m.operations.contains_key(&md)).unwrap().id.clone();
    assert_eq!(first(Modality::Images), "flux-3-image");
    assert_eq!(first(Modality::Videos), "seedance-1-0-pro-250528");
    assert_eq!(first(Modality::Audio), "eleven_v4");
    assert_eq!(first(Modality::Embeddings), "gemini-embedding-2");
    assert_eq!(first(Modality::Segmentation), "fal-ai/sam-3/image-rle");
    assert_eq!(first(Modality::Live), "gemini-3.8-live");
    assert_eq!(first(Modality::Decision), "jev-latest");
    let ranks: Vec<usize> = models
        .iter()
        .map(|m| data::MODALITY_ORDER.iter().position(|md| m.operations.contains_key(md)).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn reference_examples_hold() {
    let models = builtin();
    let gpt5 = find(&models, Provider::OpenAi, "gpt-5");
    // 1.0.0 moved named efforts from `thinking_budget` to `thinking_level`.
    assert_eq!(gpt5.constraints["thinking_level"], Constraint::choice(["minimal", "low", "medium", "high"]));
    assert!(!gpt5.constraints.contains_key("thinking_budget"));
    assert_eq!(gpt5.constraints["max_tokens"], Constraint::range(1.0, 128_000.0));
    assert!(gpt5.streaming);

    let flash = find(&models, Provider::Google, "gemini-2.5-flash");
    assert_eq!(flash.constraints["thinking_budget"], Constraint::range(-1.0, 24_576.0));
    assert_eq!(
        flash.constraints["tools"],
        Constraint::ToolSupport {
            tools: vec![BuiltinTool::WebSearch, BuiltinTool::CodeExecution, BuiltinTool::UrlContext],
            custom_tools: true,
        }
    );

    let sonnet = find(&models, Provider::Anthropic, "claude-sonnet-4-5");
    assert_eq!(
        sonnet.constraints["temperature"],
        Constraint::Range { min: 0.0, max: 1.0, step: Some(0.01), special_values: vec![] }
    );
    assert!(sonnet.check_ok("temperature", json!(0.37)));
    assert!(!sonnet.check_ok("temperature", json!(0.375)));

    let flux = find(&models, Provider::Bfl, "flux-2-pro");
    assert!(
        matches!(&flux.constraints["aspect_ratio"], Constraint::Dimensions { presets: Some(p), .. } if !p.is_empty())
    );
    assert!(matches!(flux.constraints["reference_images"], Constraint::Images { max_count: Some(8), .. }));
    assert!(matches!(flux.constraints["aspect_ratio"], Constraint::Dimensions { min_dimension: Some(64), .. }));
    assert!(flux.check_ok("aspect_ratio", json!("4096x64")));
    assert!(!flux.check_ok("aspect_ratio", json!("4096x32")));

    let veo = find(&models, Provider::Google, "veo-3.1-generate-preview");
    assert_eq!(veo.constraints["duration"], Constraint::choice([4, 6, 8]));
    assert!(
        matches!(&veo.constraints["first_frame"], Constraint::Image { mime_types: Some(m) } if m.contains(&"image/png".to_string()))
    );

    let v3 = find(&models, Provider::ElevenLabs, "eleven_v3");
    assert!(
        matches!(&v3.constraints["output_format"], Constraint::Choice { options } if options.contains(&json!("mp3_44100_128")))
    );
    assert_eq!(v3.constraints["voice"], Constraint::Voice { provider: Provider::ElevenLabs, voices: None });

    // tts-1 offers 9 of OpenAI's 25 voices.
    let tts1 = find(&models, Provider::OpenAi, "tts-1");
    assert!(matches!(&tts1.constraints["voice"], Constraint::Voice { voices: Some(v), .. } if v.len() == 9));
    assert!(tts1.check_ok("voice", json!("Alloy")));
    assert!(!tts1.check_ok("voice", json!("marin")));
    assert!(find(&models, Provider::OpenAi, "gpt-live-1").check_ok("voice", json!("marin")));

    // Topaz ids contain spaces.
    assert!(models.iter().any(|m| m.provider == Provider::TopazLabs && m.id == "Standard V2"));
    // Text models declare their media inputs; a voice (a string) declares text.
    assert_eq!(gpt5.optional_input_types(), BTreeSet::from([InputType::Image, InputType::Document]));
    assert_eq!(v3.optional_input_types(), BTreeSet::from([InputType::Text]));
}

#[test]
fn google_generate_audio_models_do_not_declare_output_format() {
    let models = builtin();
    let generate: Vec<&Model> = models
        .iter()
        .filter(|m| m.provider == Provider::Google && m.supports(Modality::Audio, Operation::Generate))
        .collect();
    assert!(!generate.is_empty());
    assert!(generate.iter().all(|m| !m.constraints.contains_key("output_format")));
}

#[test]
fn voice_catalogs_are_complete_and_unique() {
    for (provider, count) in
        [(Provider::Gradium, 66), (Provider::ElevenLabs, 19), (Provider::Google, 30), (Provider::OpenAi, 25)]
    {
        let vs = voices(provider);
        assert_eq!(vs.len(), count, "{provider}");
        let ids: HashSet<String> = vs.iter().map(|v| v.id.to_ascii_lowercase()).collect();
        let names: HashSet<String> = vs.iter().map(|v| v.name.to_ascii_lowercase()).collect();
        assert_eq!(ids.len(), count, "{provider} ids (ignoring case)");
        assert_eq!(names.len(), count, "{provider} names (ignoring case)");
        assert!(vs.iter().all(|v| v.provider == provider));
        for v in vs {
            assert_eq!(resolve_voice(provider, &v.name).map(|x| &x.id), Some(&v.id));
            assert_eq!(resolve_voice(provider, &v.id).map(|x| &x.id), Some(&v.id));
        }
    }
    assert!(voices(Provider::Anthropic).is_empty());
    assert!(resolve_voice(Provider::OpenAi, "nobody").is_none());
}

#[test]
fn voice_descriptions_and_languages_match_published_metadata() {
    for p in [Provider::Gradium, Provider::Google] {
        assert!(voices(p).iter().all(|v| v.description.as_deref().is_some_and(|d| !d.is_empty())), "{p}");
    }
    // The 1.0.0 registry gives ElevenLabs' new voices and OpenAI's by id and name only.
    for p in [Provider::OpenAi, Provider::ElevenLabs] {
        assert!(voices(p).iter().all(|v| v.description.is_none() && v.languages.is_empty()), "{p}");
    }
    assert_eq!(
        voices(Provider::Gradium)[0].description.as_deref(),
        Some(
            "Playful, upbeat and Gen Z energy voice with a standard American accent. Perfect for engaging conversations!"
        )
    );
    let zephyr = &voices(Provider::Google)[0];
    assert_eq!((zephyr.name.as_str(), zephyr.description.as_deref()), ("Zephyr", Some("Bright")));

    // The 31 ISO 639-1 codes of the reference.
    let known: BTreeSet<&str> = [
        "ar", "zh", "cs", "da", "nl", "en", "fil", "fi", "fr", "de", "el", "hi", "hu", "id", "it", "ja", "ko", "ms",
        "no", "pl", "pt", "ro", "ru", "sk", "es", "sv", "ta", "th", "tr", "uk", "vi",
    ]
    .into();
    assert_eq!(known.len(), 31);
    for &(provider, _) in VOICE_FILES {
        for v in voices(provider) {
            for lang in &v.languages {
                assert!(known.contains(lang.as_str()), "{provider} {}: {lang}", v.id);
            }
        }
    }
}

impl Model {
    /// Test helper: whether the model accepts this value for the parameter.
    fn check_ok(&self, parameter: &str, value: serde_json::Value) -> bool {
        self.constraints[parameter].check(&self.id, parameter, &value).is_ok()
    }
}
