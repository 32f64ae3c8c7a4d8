//! The embedded catalog data (`data/*.json`) and its parsing. See `data/README.md` for the format.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Model;
use super::constraint::Constraint;
use super::voice::Voice;
use crate::types::enums::{Modality, Operation, Provider};

/// The model files, one per provider, in provider-name order (the catalog's order within a modality).
pub(crate) const MODEL_FILES: &[(Provider, &str)] = &[
    (Provider::Anthropic, include_str!("data/anthropic.json")),
    (Provider::Bfl, include_str!("data/bfl.json")),
    (Provider::BytePlus, include_str!("data/byteplus.json")),
    (Provider::Cohere, include_str!("data/cohere.json")),
    (Provider::DeepSeek, include_str!("data/deepseek.json")),
    (Provider::ElevenLabs, include_str!("data/elevenlabs.json")),
    (Provider::Fal, include_str!("data/fal.json")),
    (Provider::Google, include_str!("data/google.json")),
    (Provider::Gradium, include_str!("data/gradium.json")),
    (Provider::Groq, include_str!("data/groq.json")),
    (Provider::HuggingFace, include_str!("data/huggingface.json")),
    (Provider::Meta, include_str!("data/meta.json")),
    (Provider::Mistral, include_str!("data/mistral.json")),
    (Provider::Moonshot, include_str!("data/moonshot.json")),
    (Provider::OpenAi, include_str!("data/openai.json")),
    (Provider::TopazLabs, include_str!("data/topazlabs.json")),
    (Provider::TypeSafe, include_str!("data/typesafe.json")),
    (Provider::XAi, include_str!("data/xai.json")),
];

/// The voice files of the providers that have named voices.
pub(crate) const VOICE_FILES: &[(Provider, &str)] = &[
    (Provider::ElevenLabs, include_str!("data/voices/elevenlabs.json")),
    (Provider::Google, include_str!("data/voices/google.json")),
    (Provider::Gradium, include_str!("data/voices/gradium.json")),
    (Provider::OpenAi, include_str!("data/voices/openai.json")),
];

/// The order modalities are listed in: the default model of a modality is its first model.
pub(crate) const MODALITY_ORDER: &[Modality] = &[
    Modality::Text,
    Modality::Images,
    Modality::Videos,
    Modality::Audio,
    Modality::Embeddings,
    Modality::Segmentation,
    Modality::Live,
    Modality::Decision,
];

/// One model as written in a data file (the provider comes from the file).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    id: String,
    display_name: String,
    operations: BTreeMap<Modality, BTreeSet<Operation>>,
    #[serde(default)]
    streaming: bool,
    #[serde(default)]
    constraints: BTreeMap<String, Constraint>,
}

/// One voice as written in a data file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoiceEntry {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    languages: BTreeSet<String>,
}

/// Parses one provider's model file.
pub(crate) fn parse_models(provider: Provider, json: &str) -> Result<Vec<Model>, String> {
    let entries: Vec<ModelEntry> = serde_json::from_str(json).map_err(|e| format!("{provider}.json: {e}"))?;
    Ok(entries
        .into_iter()
        .map(|e| Model {
            id: e.id,
            provider,
            display_name: e.display_name,
            operations: e.operations,
            streaming: e.streaming,
            constraints: e.constraints,
        })
        .collect())
}

/// Parses one provider's voice file.
pub(crate) fn parse_voices(provider: Provider, json: &str) -> Result<Vec<Voice>, String> {
    let entries: Vec<VoiceEntry> = serde_json::from_str(json).map_err(|e| format!("voices/{provider}.json: {e}"))?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let mut v = Voice::new(provider, e.id, e.name);
            v.description = e.description;
            v.languages = e.languages;
            v
        })
        .collect())
}

/// Where a model sorts in the catalog: by the first of its modalities in [`MODALITY_ORDER`].
fn modality_rank(model: &Model) -> usize {
    MODALITY_ORDER.iter().position(|m| model.operations.contains_key(m)).unwrap_or(MODALITY_ORDER.len())
}

/// Every built-in model in catalog order, or the first parse error.
#[cfg(test)]
pub(crate) fn try_builtin_models() -> Result<Vec<Model>, String> {
    let mut all = Vec::new();
    for &(provider, json) in MODEL_FILES {
        all.extend(parse_models(provider, json)?);
    }
    // Stable: within a modality, provider-file order then file order are kept.
    all.sort_by_key(modality_rank);
    Ok(all)
}

/// Every built-in model in catalog order. A file that fails to parse (which the tests rule out) is
/// logged and left out rather than panicking.
pub(crate) fn builtin_models() -> Vec<Model> {
    let mut all = Vec::new();
    for &(provider, json) in MODEL_FILES {
        match parse_models(provider, json) {
            Ok(models) => all.extend(models),
            Err(e) => {
                tracing::error!(%provider, error = %e, "built-in model catalog failed to parse")
            }
        }
    }
    all.sort_by_key(modality_rank);
    all
}
