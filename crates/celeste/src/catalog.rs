//! Which provider serves a model id. This is the seed of the model catalog: ids are resolved to their
//! provider so switching provider is changing one string.

use crate::types::enums::Provider;

/// Known text model ids and their providers.
const TEXT_MODELS: &[(&str, Provider)] = &[
    ("gpt-5", Provider::OpenAi),
    ("gpt-5-mini", Provider::OpenAi),
    ("gpt-5-nano", Provider::OpenAi),
    ("gpt-5.1", Provider::OpenAi),
    ("gpt-4.1", Provider::OpenAi),
    ("gpt-4.1-mini", Provider::OpenAi),
    ("gpt-4.1-nano", Provider::OpenAi),
    ("gpt-4o", Provider::OpenAi),
    ("gpt-4o-mini", Provider::OpenAi),
    ("o3", Provider::OpenAi),
    ("o4-mini", Provider::OpenAi),
    ("grok-4", Provider::XAi),
    ("grok-4-fast", Provider::XAi),
];

/// The provider of a known model id.
pub fn provider_of(model: &str) -> Option<Provider> {
    TEXT_MODELS.iter().find(|(id, _)| *id == model).map(|(_, p)| *p)
}
