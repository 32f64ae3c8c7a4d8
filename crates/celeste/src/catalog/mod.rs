//! The model catalog: which models exist, who serves them, what they do and which parameter values
//! they accept.
//!
//! The built-in catalog is data (`catalog/data/*.json`, embedded in the binary) and is parsed once,
//! on first use. [`register_models`] adds models or extends known ones at run time. Lookups are
//! [`get_model`], [`list_models`] and [`provider_of`]; [`Model::validate`] checks parameters against a
//! model's [`Constraint`]s before a request is sent.
//!
//! ```
//! use celeste::catalog;
//! use celeste::{Modality, Operation, Provider};
//!
//! let model = catalog::get_model("gpt-5", Some(Provider::OpenAi)).unwrap();
//! assert!(model.supports(Modality::Text, Operation::Generate));
//! let openai_text = catalog::list_models(Some(Provider::OpenAi), Some(Modality::Text), None);
//! assert!(openai_text.iter().any(|m| m.id == "gpt-5"));
//! ```

mod constraint;
pub(crate) mod data;
mod voice;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{LazyLock, PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use constraint::{BuiltinTool, Constraint};
pub use voice::{Voice, model_voices, resolve_voice, voices};

use crate::error::Error;
use crate::types::enums::{InputType, Modality, Operation, Provider};

/// A model: its id at a provider, what it does and the parameter values it accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Model {
    /// The id sent on the wire (`gpt-5`, `claude-sonnet-4-5`, ...).
    pub id: String,
    /// Who serves it.
    pub provider: Provider,
    /// The human-readable name.
    pub display_name: String,
    /// The operations it performs, per modality.
    pub operations: BTreeMap<Modality, BTreeSet<Operation>>,
    /// Whether this library streams it (verified against the live API, not a vendor claim).
    pub streaming: bool,
    /// The constrained parameters. A parameter not listed here is passed through unvalidated.
    pub constraints: BTreeMap<String, Constraint>,
}

impl Model {
    /// A model with no operations, no constraints and no streaming; add them with the `with_*`
    /// methods.
    pub fn new(id: impl Into<String>, provider: Provider, display_name: impl Into<String>) -> Self {
        Model {
            id: id.into(),
            provider,
            display_name: display_name.into(),
            operations: BTreeMap::new(),
            streaming: false,
            constraints: BTreeMap::new(),
        }
    }

    /// Adds an operation of a modality.
    pub fn with_operation(mut self, modality: Modality, operation: Operation) -> Self {
        self.operations.entry(modality).or_default().insert(operation);
        self
    }

    /// Sets whether this library streams the model.
    pub fn with_streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }

    /// Adds (or replaces) the constraint of a parameter.
    pub fn with_constraint(mut self, parameter: impl Into<String>, constraint: Constraint) -> Self {
        self.constraints.insert(parameter.into(), constraint);
        self
    }

    /// Whether the model performs `operation` in `modality`.
    pub fn supports(&self, modality: Modality, operation: Operation) -> bool {
        self.operations.get(&modality).is_some_and(|ops| ops.contains(&operation))
    }

    /// The names of the constrained parameters.
    pub fn supported_parameters(&self) -> impl Iterator<Item = &str> {
        self.constraints.keys().map(String::as_str)
    }

    /// The kinds of input the model declares, as the reference lists them: one per media constraint
    /// (`image`/`images` → [`InputType::Image`], ...), plus [`InputType::Text`] when a constraint
    /// takes a string (see [`Constraint::input_type`]). Text input is accepted either way.
    pub fn optional_input_types(&self) -> BTreeSet<InputType> {
        self.constraints.values().filter_map(Constraint::input_type).collect()
    }

    /// Checks parameters against the model's constraints and returns them normalised. A `null` value
    /// and a parameter without a constraint pass through unchanged; the first rejected value is an
    /// [`Error::Validation`] naming the model, the parameter and what is allowed.
    pub fn validate(&self, params: &Map<String, Value>) -> Result<Map<String, Value>, Error> {
        let mut out = Map::with_capacity(params.len());
        for (name, value) in params {
            let checked = match self.constraints.get(name) {
                Some(c) if !value.is_null() => c.check(&self.id, name, value)?,
                _ => value.clone(),
            };
            out.insert(name.clone(), checked);
        }
        Ok(out)
    }
}

/// Models indexed by `(id, provider)`, in registration order.
#[derive(Debug, Clone, Default)]
struct Registry {
    models: Vec<Model>,
    index: HashMap<(String, Provider), usize>,
}

impl Registry {
    fn new(models: Vec<Model>) -> Self {
        let mut registry = Registry::default();
        for model in models {
            // Built-in ids are unique per provider (a test checks it); merging keeps this total anyway.
            if let Err(e) = registry.merge(model) {
                tracing::error!(error = %e, "built-in model catalog is inconsistent");
            }
        }
        registry
    }

    /// Adds a model, or merges it into the registered model with the same id and provider:
    /// constraints are added or replaced, operations unioned, streaming turned on if either says so.
    /// A different display name is an error and changes nothing.
    fn merge(&mut self, model: Model) -> Result<(), Error> {
        let key = (model.id.clone(), model.provider);
        let Some(&i) = self.index.get(&key) else {
            self.index.insert(key, self.models.len());
            self.models.push(model);
            return Ok(());
        };
        let existing = &mut self.models[i];
        if existing.display_name != model.display_name {
            return Err(Error::invalid_input(format!(
                "inconsistent display_name for {} ({}): `{}` is already registered, got `{}`",
                model.id, model.provider, existing.display_name, model.display_name
            )));
        }
        existing.constraints.extend(model.constraints);
        for (modality, ops) in model.operations {
            existing.operations.entry(modality).or_default().extend(ops);
        }
        existing.streaming |= model.streaming;
        Ok(())
    }

    /// Registers every model, or none if one is rejected.
    fn register(&mut self, models: impl IntoIterator<Item = Model>) -> Result<(), Error> {
        let mut next = self.clone();
        for model in models {
            next.merge(model)?;
        }
        *self = next;
        Ok(())
    }

    fn get(&self, id: &str, provider: Option<Provider>) -> Option<&Model> {
        if let Some(p) = provider {
            return self.index.get(&(id.to_string(), p)).map(|&i| &self.models[i]);
        }
        let mut matches = self.models.iter().filter(|m| m.id == id);
        let first = matches.next()?;
        let others: Vec<&str> = matches.map(|m| m.provider.as_str()).collect();
        if !others.is_empty() {
            tracing::warn!(
                model = id,
                chosen = %first.provider,
                also = %others.join(", "),
                "model `{id}` is served by several providers; using {}. Pass a provider to choose.",
                first.provider
            );
        }
        Some(first)
    }

    fn list(&self, provider: Option<Provider>, modality: Option<Modality>, operation: Option<Operation>) -> Vec<Model> {
        self.models
            .iter()
            .filter(|m| provider.is_none_or(|p| m.provider == p))
            .filter(|m| match (modality, operation) {
                (Some(md), Some(op)) => m.supports(md, op),
                (Some(md), None) => m.operations.contains_key(&md),
                (None, Some(op)) => m.operations.values().any(|ops| ops.contains(&op)),
                (None, None) => true,
            })
            .cloned()
            .collect()
    }
}

/// The process-wide registry: the built-in catalog, parsed on first use, plus run-time registrations.
static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| RwLock::new(Registry::new(data::builtin_models())));

fn read<T>(f: impl FnOnce(&Registry) -> T) -> T {
    f(&REGISTRY.read().unwrap_or_else(PoisonError::into_inner))
}

/// The model with this id. With a provider, only that provider's model; without one, the first
/// registered model with the id (a warning is logged when several providers serve it).
pub fn get_model(id: &str, provider: Option<Provider>) -> Option<Model> {
    read(|r| r.get(id, provider).cloned())
}

/// The registered models that match every given filter, in catalog order (the first model of a
/// modality is its default). An operation without a modality matches that operation in any modality.
pub fn list_models(provider: Option<Provider>, modality: Option<Modality>, operation: Option<Operation>) -> Vec<Model> {
    read(|r| r.list(provider, modality, operation))
}

/// The default model of a modality and operation (optionally of one provider): the first registered
/// one, as in the reference. For text generation that is `claude-haiku-5-5` unless a provider is given.
/// A call with an empty model id uses it.
pub fn default_model(modality: Modality, operation: Operation, provider: Option<Provider>) -> Option<Model> {
    list_models(provider, Some(modality), Some(operation)).into_iter().next()
}

/// Registers models. A model whose id and provider are already known is merged into the known one:
/// its constraints are added (replacing constraints of the same parameter), its operations joined,
/// and streaming is on if either says so. A different `display_name` for a known model is an
/// [`Error::InvalidInput`], and then none of the models is registered.
pub fn register_models(models: impl IntoIterator<Item = Model>) -> Result<(), Error> {
    REGISTRY.write().unwrap_or_else(PoisonError::into_inner).register(models)
}

/// The provider of a known model id (the first one, with a warning, when several serve it).
pub fn provider_of(model: &str) -> Option<Provider> {
    read(|r| r.get(model, None).map(|m| m.provider))
}
