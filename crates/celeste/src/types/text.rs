//! What a text call asks for, whoever serves it: the parameters, their names, and the request every
//! wire API builds its body from. The facade ([`crate::text`]) fills these in; nothing here knows
//! about builders, clients or wire formats.

use crate::structured::OutputSchema;
use crate::types::message::Item;
use crate::types::tool::{Tool, ToolChoice};

/// Text generation parameters. `None` (or an empty list) means "not sent": the provider's default
/// applies. Each is checked against the model's own constraint of the same name before sending; a
/// parameter the wire API cannot carry is dropped and reported once per call (a `tracing` warning
/// naming it).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TextParams {
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// The output token limit.
    pub max_tokens: Option<u64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling.
    pub top_k: Option<u64>,
    /// Sampling seed.
    pub seed: Option<i64>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    pub presence_penalty: Option<f64>,
    /// A reasoning token budget (Anthropic, Gemini generateContent, Cohere): `0` turns thinking off
    /// where the wire API can say so, `-1` leaves the budget to the model.
    pub thinking_budget: Option<i64>,
    /// A named reasoning effort (`minimal`, `low`, `medium`, `high`, ...: the model's catalog entry
    /// lists its levels). OpenAI calls this `reasoning_effort`.
    pub thinking_level: Option<String>,
    /// Response verbosity (`low`, `medium`, `high`).
    pub verbosity: Option<String>,
}

/// The name of one text parameter: what constraints, warnings and the per-wire-API tables speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TextParam {
    /// [`TextParams::temperature`].
    Temperature,
    /// [`TextParams::max_tokens`].
    MaxTokens,
    /// [`TextParams::top_p`].
    TopP,
    /// [`TextParams::top_k`].
    TopK,
    /// [`TextParams::seed`].
    Seed,
    /// [`TextParams::stop`].
    Stop,
    /// [`TextParams::frequency_penalty`].
    FrequencyPenalty,
    /// [`TextParams::presence_penalty`].
    PresencePenalty,
    /// [`TextParams::thinking_budget`].
    ThinkingBudget,
    /// [`TextParams::thinking_level`].
    ThinkingLevel,
    /// [`TextParams::verbosity`].
    Verbosity,
}

impl TextParam {
    /// Every text parameter.
    pub const ALL: &'static [TextParam] = &[
        TextParam::Temperature,
        TextParam::MaxTokens,
        TextParam::TopP,
        TextParam::TopK,
        TextParam::Seed,
        TextParam::Stop,
        TextParam::FrequencyPenalty,
        TextParam::PresencePenalty,
        TextParam::ThinkingBudget,
        TextParam::ThinkingLevel,
        TextParam::Verbosity,
    ];

    /// The parameter's name, as the catalog's constraints spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            TextParam::Temperature => "temperature",
            TextParam::MaxTokens => "max_tokens",
            TextParam::TopP => "top_p",
            TextParam::TopK => "top_k",
            TextParam::Seed => "seed",
            TextParam::Stop => "stop",
            TextParam::FrequencyPenalty => "frequency_penalty",
            TextParam::PresencePenalty => "presence_penalty",
            TextParam::ThinkingBudget => "thinking_budget",
            TextParam::ThinkingLevel => "thinking_level",
            TextParam::Verbosity => "verbosity",
        }
    }
}

impl std::fmt::Display for TextParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TextParams {
    /// Whether `param` is set.
    pub fn is_set(&self, param: TextParam) -> bool {
        match param {
            TextParam::Temperature => self.temperature.is_some(),
            TextParam::MaxTokens => self.max_tokens.is_some(),
            TextParam::TopP => self.top_p.is_some(),
            TextParam::TopK => self.top_k.is_some(),
            TextParam::Seed => self.seed.is_some(),
            TextParam::Stop => !self.stop.is_empty(),
            TextParam::FrequencyPenalty => self.frequency_penalty.is_some(),
            TextParam::PresencePenalty => self.presence_penalty.is_some(),
            TextParam::ThinkingBudget => self.thinking_budget.is_some(),
            TextParam::ThinkingLevel => self.thinking_level.is_some(),
            TextParam::Verbosity => self.verbosity.is_some(),
        }
    }

    /// A parameter's value as JSON (what its catalog constraint checks), `None` when unset.
    pub(crate) fn value(&self, param: TextParam) -> Option<serde_json::Value> {
        use serde_json::Value;
        match param {
            TextParam::Temperature => self.temperature.map(Value::from),
            TextParam::MaxTokens => self.max_tokens.map(Value::from),
            TextParam::TopP => self.top_p.map(Value::from),
            TextParam::TopK => self.top_k.map(Value::from),
            TextParam::Seed => self.seed.map(Value::from),
            TextParam::Stop => (!self.stop.is_empty()).then(|| Value::from(self.stop.clone())),
            TextParam::FrequencyPenalty => self.frequency_penalty.map(Value::from),
            TextParam::PresencePenalty => self.presence_penalty.map(Value::from),
            TextParam::ThinkingBudget => self.thinking_budget.map(Value::from),
            TextParam::ThinkingLevel => self.thinking_level.clone().map(Value::from),
            TextParam::Verbosity => self.verbosity.clone().map(Value::from),
        }
    }

    /// Put back a value that validation normalised (a constraint may canonicalise what it accepts).
    /// A value of the wrong JSON type leaves the parameter as it was.
    pub(crate) fn set_value(&mut self, param: TextParam, v: &serde_json::Value) {
        let f = v.as_f64();
        let text = v.as_str().map(str::to_string);
        match param {
            TextParam::Temperature => self.temperature = f.or(self.temperature),
            TextParam::MaxTokens => self.max_tokens = v.as_u64().or(self.max_tokens),
            TextParam::TopP => self.top_p = f.or(self.top_p),
            TextParam::TopK => self.top_k = v.as_u64().or(self.top_k),
            TextParam::Seed => self.seed = v.as_i64().or(self.seed),
            TextParam::Stop => {
                if let Some(list) = v.as_array() {
                    let items: Option<Vec<String>> = list.iter().map(|s| s.as_str().map(str::to_string)).collect();
                    if let Some(items) = items {
                        self.stop = items;
                    }
                }
            }
            TextParam::FrequencyPenalty => self.frequency_penalty = f.or(self.frequency_penalty),
            TextParam::PresencePenalty => self.presence_penalty = f.or(self.presence_penalty),
            TextParam::ThinkingBudget => self.thinking_budget = v.as_i64().or(self.thinking_budget),
            TextParam::ThinkingLevel => self.thinking_level = text.or(self.thinking_level.take()),
            TextParam::Verbosity => self.verbosity = text.or(self.verbosity.take()),
        }
    }

    /// The parameters that are set, in [`TextParam::ALL`] order.
    pub fn set_params(&self) -> impl Iterator<Item = TextParam> + '_ {
        TextParam::ALL.iter().copied().filter(|p| self.is_set(*p))
    }
}

/// Everything a wire API needs to build a text request.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextRequest {
    pub model: String,
    pub items: Vec<Item>,
    pub params: TextParams,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// The schema the reply must follow (structured output).
    pub output_schema: Option<OutputSchema>,
    /// What the catalog knows of the model that a wire API may need (wire modules never read the
    /// catalog themselves).
    pub limits: ModelLimits,
}

/// The model facts a wire API may need, taken from the catalog by the call pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ModelLimits {
    /// The highest output token limit the model accepts, when the catalog says (Anthropic requires a
    /// `max_tokens` and sends this one when the caller gives none).
    pub max_output_tokens: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_reads_back_what_it_was_set_to() {
        let p = TextParams {
            temperature: Some(0.5),
            max_tokens: Some(9),
            top_p: Some(0.9),
            top_k: Some(40),
            seed: Some(7),
            stop: vec!["END".into()],
            frequency_penalty: Some(0.1),
            presence_penalty: Some(0.2),
            thinking_budget: Some(1024),
            thinking_level: Some("low".into()),
            verbosity: Some("high".into()),
        };
        assert_eq!(p.set_params().count(), TextParam::ALL.len());
        let mut copy = TextParams::default();
        for param in TextParam::ALL {
            copy.set_value(*param, &p.value(*param).unwrap());
        }
        assert_eq!(copy, p);
        assert_eq!(TextParams::default().set_params().count(), 0);
    }
}
