//! Decisions: named, typed questions about a state, answered with calibrated probabilities (the
//! `decision` modality; TypeSafe's Jev models). Nothing here knows about builders, clients or wire
//! formats.
//!
//! - The state (and any instructions or criteria) is a [`DecisionValue`]: JSON-like data that may
//!   hold an image anywhere.
//! - Each question is a [`Question`]: yes/no, one of named options, a score on ordered levels, or a
//!   box locating something in an image.
//! - Each answer is an [`Answer`] of the matching kind, keyed by the question's name in
//!   [`Answers`].

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Number, Value};

use crate::types::artifact::Artifact;

/// A value in a decision's state, instructions or criteria: JSON data in which an image may sit
/// anywhere. Images are placed in code ([`DecisionValue::Image`], or `From<Artifact>`).
///
/// Deserialising reads plain JSON: every object is a [`Map`](DecisionValue::Map), so images cannot come
/// from JSON text (a file of questions cannot smuggle a path to read).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum DecisionValue {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a float.
    Number(Number),
    /// Text.
    String(String),
    /// An image: sent as an asset, with a reference to it in its place. (Boxed: an artifact is
    /// several times the size of the other variants, and values nest.)
    Image(Box<Artifact>),
    /// A list.
    List(Vec<DecisionValue>),
    /// Named values.
    Map(BTreeMap<String, DecisionValue>),
}

impl DecisionValue {
    /// A map from `(name, value)` pairs.
    pub fn map<K: Into<String>, V: Into<DecisionValue>>(entries: impl IntoIterator<Item = (K, V)>) -> Self {
        DecisionValue::Map(entries.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// Whether an image sits anywhere in this value.
    pub fn has_image(&self) -> bool {
        match self {
            DecisionValue::Image(_) => true,
            DecisionValue::List(items) => items.iter().any(DecisionValue::has_image),
            DecisionValue::Map(entries) => entries.values().any(DecisionValue::has_image),
            _ => false,
        }
    }

    /// Visit every image in this value, depth first (lists in order, maps by key), with the path
    /// that leads to it (`prefix.key[2]`), for error messages.
    pub(crate) fn images<'a>(&'a self, prefix: &str, out: &mut Vec<(String, &'a Artifact)>) {
        match self {
            DecisionValue::Image(a) => out.push((prefix.to_string(), a.as_ref())),
            DecisionValue::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    v.images(&format!("{prefix}[{i}]"), out);
                }
            }
            DecisionValue::Map(entries) => {
                for (k, v) in entries {
                    v.images(&format!("{prefix}.{k}"), out);
                }
            }
            _ => {}
        }
    }
}

impl From<Value> for DecisionValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => DecisionValue::Null,
            Value::Bool(b) => DecisionValue::Bool(b),
            Value::Number(n) => DecisionValue::Number(n),
            Value::String(s) => DecisionValue::String(s),
            Value::Array(items) => DecisionValue::List(items.into_iter().map(Into::into).collect()),
            Value::Object(entries) => DecisionValue::Map(entries.into_iter().map(|(k, v)| (k, v.into())).collect()),
        }
    }
}

impl From<Artifact> for DecisionValue {
    fn from(a: Artifact) -> Self {
        DecisionValue::Image(Box::new(a))
    }
}

impl From<&str> for DecisionValue {
    fn from(s: &str) -> Self {
        DecisionValue::String(s.to_string())
    }
}

impl From<String> for DecisionValue {
    fn from(s: String) -> Self {
        DecisionValue::String(s)
    }
}

impl From<bool> for DecisionValue {
    fn from(b: bool) -> Self {
        DecisionValue::Bool(b)
    }
}

impl From<i64> for DecisionValue {
    fn from(n: i64) -> Self {
        DecisionValue::Number(n.into())
    }
}

impl From<f64> for DecisionValue {
    /// A non-finite float has no JSON form: it becomes `null`, as `serde_json` does.
    fn from(n: f64) -> Self {
        Number::from_f64(n).map_or(DecisionValue::Null, DecisionValue::Number)
    }
}

impl<T: Into<DecisionValue>> From<Vec<T>> for DecisionValue {
    fn from(items: Vec<T>) -> Self {
        DecisionValue::List(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<DecisionValue>> From<Option<T>> for DecisionValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(DecisionValue::Null, Into::into)
    }
}

impl<'de> Deserialize<'de> for DecisionValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(Into::into)
    }
}

/// A question about the state. Each kind may carry instructions (text, or any value with images).
///
/// In JSON (a file of questions), the kind is the `type` field; any other kind is refused when
/// read (`unknown variant`), so a question of an unknown kind cannot be built.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Question {
    /// Yes or no: answered with the probability of yes.
    Boolean(BooleanQuestion),
    /// One of named options: answered with the choice and each option's probability.
    Choice(ChoiceQuestion),
    /// A level on an ordered scale: answered with the expected level and each level's probability.
    Score(ScoreQuestion),
    /// Where something is in the image: answered with a box (needs Jev 1.14 or later).
    Box(BoxQuestion),
}

/// A yes/no question.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BooleanQuestion {
    /// What to decide.
    #[serde(default)]
    pub instructions: Option<DecisionValue>,
    /// What counts as yes and what as no.
    #[serde(default)]
    pub criteria: Option<BooleanCriteria>,
}

/// What makes a boolean question true, and what makes it false.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BooleanCriteria {
    /// When the answer is yes.
    #[serde(rename = "true")]
    pub when_true: DecisionValue,
    /// When the answer is no.
    #[serde(rename = "false")]
    pub when_false: DecisionValue,
}

/// A question answered by one of named options.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ChoiceQuestion {
    /// What to decide.
    pub instructions: Option<DecisionValue>,
    /// The options in order, each with an optional description.
    pub options: Vec<(String, Option<DecisionValue>)>,
}

impl<'de> Deserialize<'de> for ChoiceQuestion {
    /// `{"instructions": ..., "criteria": {"option": description-or-null, ...}}`, the wire's shape.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            instructions: Option<DecisionValue>,
            #[serde(default)]
            criteria: BTreeMap<String, Option<DecisionValue>>,
        }
        let raw = Raw::deserialize(d)?;
        Ok(ChoiceQuestion { instructions: raw.instructions, options: raw.criteria.into_iter().collect() })
    }
}

/// A question answered by a level on an ordered scale.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ScoreQuestion {
    /// What to decide.
    #[serde(default)]
    pub instructions: Option<DecisionValue>,
    /// The levels, lowest first: level `i` is the `i`-th.
    #[serde(default, rename = "criteria")]
    pub levels: Vec<DecisionValue>,
}

/// A question answered by a box around something in the image.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BoxQuestion {
    /// What to locate.
    #[serde(default)]
    pub instructions: Option<DecisionValue>,
}

impl Question {
    /// A yes/no question.
    pub fn boolean(instructions: impl Into<DecisionValue>) -> Self {
        Question::Boolean(BooleanQuestion { instructions: Some(instructions.into()), criteria: None })
    }

    /// A yes/no question with what counts as yes and what as no.
    pub fn boolean_with_criteria(
        instructions: impl Into<DecisionValue>,
        when_true: impl Into<DecisionValue>,
        when_false: impl Into<DecisionValue>,
    ) -> Self {
        Question::Boolean(BooleanQuestion {
            instructions: Some(instructions.into()),
            criteria: Some(BooleanCriteria { when_true: when_true.into(), when_false: when_false.into() }),
        })
    }

    /// One of the named options (no descriptions; see [`Question::choice_described`]).
    pub fn choice<S: Into<String>>(options: impl IntoIterator<Item = S>) -> Self {
        Question::Choice(ChoiceQuestion {
            instructions: None,
            options: options.into_iter().map(|o| (o.into(), None)).collect(),
        })
    }

    /// One of the named options, each with a description.
    pub fn choice_described<S: Into<String>, V: Into<DecisionValue>>(
        options: impl IntoIterator<Item = (S, V)>,
    ) -> Self {
        Question::Choice(ChoiceQuestion {
            instructions: None,
            options: options.into_iter().map(|(o, d)| (o.into(), Some(d.into()))).collect(),
        })
    }

    /// A level on the scale `levels`, lowest first.
    pub fn score<V: Into<DecisionValue>>(levels: impl IntoIterator<Item = V>) -> Self {
        Question::Score(ScoreQuestion { instructions: None, levels: levels.into_iter().map(Into::into).collect() })
    }

    /// A box around what `instructions` describe, in the image of the state.
    pub fn locate(instructions: impl Into<DecisionValue>) -> Self {
        Question::Box(BoxQuestion { instructions: Some(instructions.into()) })
    }

    /// With these instructions (replacing any).
    pub fn instructions(mut self, instructions: impl Into<DecisionValue>) -> Self {
        let slot = match &mut self {
            Question::Boolean(q) => &mut q.instructions,
            Question::Choice(q) => &mut q.instructions,
            Question::Score(q) => &mut q.instructions,
            Question::Box(q) => &mut q.instructions,
        };
        *slot = Some(instructions.into());
        self
    }

    /// The kind's name (`boolean`, `choice`, `score`, `box`).
    pub fn kind(&self) -> &'static str {
        match self {
            Question::Boolean(_) => "boolean",
            Question::Choice(_) => "choice",
            Question::Score(_) => "score",
            Question::Box(_) => "box",
        }
    }
}

/// The answers of a decision, by question name.
pub type Answers = BTreeMap<String, Answer>;

/// The answer to one question, of the question's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Answer {
    /// To a [`Question::Boolean`].
    Boolean(BooleanAnswer),
    /// To a [`Question::Choice`].
    Choice(ChoiceAnswer),
    /// To a [`Question::Score`].
    Score(ScoreAnswer),
    /// To a [`Question::Box`].
    Box(BoxAnswer),
}

impl Answer {
    /// The boolean answer, if it is one.
    pub fn as_boolean(&self) -> Option<&BooleanAnswer> {
        match self {
            Answer::Boolean(a) => Some(a),
            _ => None,
        }
    }

    /// The choice answer, if it is one.
    pub fn as_choice(&self) -> Option<&ChoiceAnswer> {
        match self {
            Answer::Choice(a) => Some(a),
            _ => None,
        }
    }

    /// The score answer, if it is one.
    pub fn as_score(&self) -> Option<&ScoreAnswer> {
        match self {
            Answer::Score(a) => Some(a),
            _ => None,
        }
    }

    /// The box answer, if it is one.
    pub fn as_box(&self) -> Option<&BoxAnswer> {
        match self {
            Answer::Box(a) => Some(a),
            _ => None,
        }
    }
}

/// The answer to a yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BooleanAnswer {
    /// The probability of yes.
    pub probability: f64,
}

/// The answer to a choice question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChoiceAnswer {
    /// The most likely option.
    pub choice: String,
    /// Each option's probability.
    pub probabilities: BTreeMap<String, f64>,
    /// How sure the model is of its choice.
    pub confidence: f64,
}

/// The answer to a score question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScoreAnswer {
    /// The expected level (a probability-weighted mean of the level indices).
    pub score: f64,
    /// Each level's probability, by level index (0 is the lowest).
    #[serde(deserialize_with = "level_keys")]
    pub probabilities: BTreeMap<u32, f64>,
    /// How sure the model is.
    pub confidence: f64,
}

/// Level probabilities keyed by level index. JSON keys are strings (`"0"`), and serde reads them as
/// integers only straight from JSON, not from the buffer a tagged enum reads through; so the keys are
/// read as strings and parsed here.
fn level_keys<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u32, f64>, D::Error> {
    BTreeMap::<String, f64>::deserialize(d)?
        .into_iter()
        .map(|(k, p)| match k.trim().parse::<u32>() {
            Ok(level) => Ok((level, p)),
            Err(_) => Err(serde::de::Error::custom(format!("score level `{k}` is not a level index"))),
        })
        .collect()
}

/// The answer to a box question.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BoxAnswer {
    /// Where the target is.
    #[serde(rename = "box")]
    pub coordinates: BoxCoordinates,
    /// How sure the model is, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// A box as fractions of the image's height (`top`, `bottom`) and width (`left`, `right`), from the
/// top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BoxCoordinates {
    /// The top edge, as a fraction of the height.
    pub top: f64,
    /// The bottom edge, as a fraction of the height.
    pub bottom: f64,
    /// The left edge, as a fraction of the width.
    pub left: f64,
    /// The right edge, as a fraction of the width.
    pub right: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_from_json_and_code_find_their_images() {
        let v: DecisionValue = json!({"a": [1, 2.5, "x", null, true]}).into();
        assert!(!v.has_image());
        let img = Artifact::from_bytes(&b"\x89PNG\r\n\x1a\n"[..]);
        let v = DecisionValue::map([("photo", DecisionValue::from(img.clone())), ("n", 3i64.into())]);
        assert!(v.has_image());
        let nested = DecisionValue::from(vec![DecisionValue::Null, v]);
        let mut found = Vec::new();
        nested.images("state", &mut found);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "state[1].photo");
        assert_eq!(DecisionValue::from(f64::NAN), DecisionValue::Null);
    }

    #[test]
    fn questions_read_from_json_and_unknown_kinds_are_refused() {
        let q: Question =
            serde_json::from_value(json!({"type": "choice", "criteria": {"calm": "relaxed", "angry": null}})).unwrap();
        let Question::Choice(c) = &q else { panic!("{q:?}") };
        assert_eq!(c.options, [("angry".to_string(), None), ("calm".to_string(), Some("relaxed".into()))]);
        let q: Question =
            serde_json::from_value(json!({"type": "boolean", "criteria": {"true": "yes", "false": "no"}})).unwrap();
        assert!(matches!(q, Question::Boolean(BooleanQuestion { criteria: Some(_), .. })));
        let q: Question = serde_json::from_value(json!({"type": "score", "criteria": ["low", "high"]})).unwrap();
        assert_eq!(q, Question::score(["low", "high"]));
        // The kinds are a closed set: anything else is refused when read, naming the known ones.
        let err = serde_json::from_value::<Question>(json!({"type": "rank", "instructions": "?"})).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown variant `rank`") && msg.contains("boolean"), "{msg}");
        // So are misspelt fields, which would otherwise be dropped without a word.
        assert!(serde_json::from_value::<Question>(json!({"type": "box", "instruction": "x"})).is_err());
    }

    #[test]
    fn answers_serialise_with_their_kind() {
        let a = Answer::Score(ScoreAnswer {
            score: 1.2,
            probabilities: [(0, 0.1), (1, 0.6), (2, 0.3)].into_iter().collect(),
            confidence: 0.6,
        });
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v,
            json!({"type": "score", "score": 1.2, "probabilities": {"0": 0.1, "1": 0.6, "2": 0.3}, "confidence": 0.6})
        );
        assert_eq!(serde_json::from_value::<Answer>(v).unwrap(), a);
        let b = Answer::Box(BoxAnswer {
            coordinates: BoxCoordinates { top: 0.1, bottom: 0.5, left: 0.2, right: 0.7 },
            confidence: None,
        });
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"type": "box", "box": {"top": 0.1, "bottom": 0.5, "left": 0.2, "right": 0.7}})
        );
    }
}
