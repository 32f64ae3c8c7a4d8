//! Text-to-speech voice catalogs, one per provider that has named voices.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::data;
use crate::types::enums::Provider;

/// A text-to-speech voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Voice {
    /// The id sent on the wire.
    pub id: String,
    /// The provider whose catalog lists it.
    pub provider: Provider,
    /// The human-readable name (accepted in place of the id).
    pub name: String,
    /// The provider's description of the voice, when it publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The languages it speaks, as ISO 639-1 codes (`en`, `fr`, ...); empty when unpublished.
    #[serde(default)]
    pub languages: BTreeSet<String>,
}

impl Voice {
    /// A voice with no description and no languages.
    pub fn new(provider: Provider, id: impl Into<String>, name: impl Into<String>) -> Self {
        Voice { id: id.into(), provider, name: name.into(), description: None, languages: BTreeSet::new() }
    }
}

/// The built-in voices, parsed once on first use.
static VOICES: LazyLock<HashMap<Provider, Vec<Voice>>> = LazyLock::new(|| {
    let mut out = HashMap::new();
    for &(provider, json) in data::VOICE_FILES {
        match data::parse_voices(provider, json) {
            Ok(voices) => {
                out.insert(provider, voices);
            }
            Err(e) => {
                tracing::error!(%provider, error = %e, "built-in voice catalog failed to parse")
            }
        }
    }
    out
});

/// The built-in voices of a provider, in catalog order; empty for a provider without a voice catalog.
pub fn voices(provider: Provider) -> &'static [Voice] {
    VOICES.get(&provider).map_or(&[], Vec::as_slice)
}

/// Finds a voice of `provider` by id or name: an exact id first, then an exact name, then either
/// ignoring ASCII case.
pub fn resolve_voice(provider: Provider, name_or_id: &str) -> Option<&'static Voice> {
    let all = voices(provider);
    all.iter().find(|v| v.id == name_or_id).or_else(|| all.iter().find(|v| v.name == name_or_id)).or_else(|| {
        all.iter().find(|v| v.id.eq_ignore_ascii_case(name_or_id) || v.name.eq_ignore_ascii_case(name_or_id))
    })
}

/// The voices `model` offers, in catalog order: those its `voice` constraint lists, or its provider's
/// whole catalog when the constraint lists none; empty for a model without a voice parameter.
pub fn model_voices(model: &super::Model) -> Vec<&'static Voice> {
    match model.constraints.get("voice") {
        Some(super::Constraint::Voice { provider, voices: offered }) => {
            voices(*provider).iter().filter(|v| offered.as_ref().is_none_or(|ids| ids.contains(&v.id))).collect()
        }
        _ => Vec::new(),
    }
}
