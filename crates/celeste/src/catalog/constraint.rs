//! Parameter constraints: what a model accepts for one parameter, checked before any request.
//!
//! A [`Constraint`] validates a JSON value and may normalise it (an integral float becomes an integer,
//! a dimension preset becomes `"WxH"`, a voice name becomes its id). A rejection is a
//! [`ValidationError`] that says what is allowed, in words.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ValidationError;
use crate::types::enums::{InputType, Provider};

/// Absolute tolerance of the step check of [`Constraint::Range`].
const STEP_TOLERANCE: f64 = 1e-9;

/// The longest rendering of an offending value kept in an error.
const MAX_RENDERED_VALUE: usize = 160;

/// How many voices an error lists before eliding the rest.
const MAX_LISTED_VOICES: usize = 12;

/// A provider built-in tool a model may support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BuiltinTool {
    /// The provider's web search.
    WebSearch,
    /// xAI's X search.
    XSearch,
    /// Sandboxed code execution.
    CodeExecution,
    /// Google's URL context retrieval.
    UrlContext,
}

impl BuiltinTool {
    /// Every built-in tool.
    pub const ALL: &'static [BuiltinTool] =
        &[BuiltinTool::WebSearch, BuiltinTool::XSearch, BuiltinTool::CodeExecution, BuiltinTool::UrlContext];

    /// The wire name, equal to the `kind` tag of the serialized [`Tool`](crate::types::Tool).
    pub const fn as_str(self) -> &'static str {
        match self {
            BuiltinTool::WebSearch => "web_search",
            BuiltinTool::XSearch => "x_search",
            BuiltinTool::CodeExecution => "code_execution",
            BuiltinTool::UrlContext => "url_context",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

/// What a model accepts for one parameter. Serialized tagged by `type` (`{"type": "range", ...}`),
/// the format of the embedded catalog data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Constraint {
    /// A number between `min` and `max` (inclusive), on the grid `min + n * step` when a step is
    /// given. Special values are accepted regardless of the bounds (`-1` for "dynamic", ...).
    Range {
        /// The smallest accepted value.
        min: f64,
        /// The largest accepted value.
        max: f64,
        /// The increment from `min`, checked with a 1e-9 tolerance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
        /// Values accepted outside the bounds.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        special_values: Vec<f64>,
    },
    /// One of a fixed set of values. Numbers compare numerically (`4.0` matches `4`).
    Choice {
        /// The accepted values.
        options: Vec<Value>,
    },
    /// A string, with optional length bounds counted in characters.
    Str {
        /// The shortest accepted length.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_length: Option<usize>,
        /// The longest accepted length.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<usize>,
    },
    /// An integer. Integral floats and strings of digits are accepted and normalised to an integer.
    Int,
    /// A number, normalised to a float. Booleans are rejected.
    Float,
    /// A boolean, nothing else.
    Bool,
    /// Image dimensions as `"WIDTHxHEIGHT"` (case-insensitive `x`) or a preset name, normalised to
    /// `"WxH"`.
    Dimensions {
        /// The fewest total pixels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_pixels: Option<u64>,
        /// The most total pixels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_pixels: Option<u64>,
        /// The smallest width / height ratio.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_aspect_ratio: Option<f64>,
        /// The largest width / height ratio.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_aspect_ratio: Option<f64>,
        /// Named sizes (`"Square 1K"` → `"1024x1024"`), accepted in place of `"WxH"`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presets: Option<BTreeMap<String, String>>,
        /// Both sides must be multiples of this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        multiple_of: Option<u32>,
        /// The shortest accepted side, checked on `min(width, height)`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_dimension: Option<u32>,
        /// The longest accepted side, checked on `max(width, height)`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_dimension: Option<u32>,
    },
    /// A structured-output schema: a JSON schema object.
    Schema,
    /// One image artifact, described as a JSON object with an optional `mime_type`.
    Image {
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One video artifact.
    Video {
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One audio artifact.
    Audio {
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One document artifact.
    Document {
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One or more image artifacts, normalised to a list. Items are checked one by one only when
    /// MIME types are given.
    Images {
        /// The most items accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_count: Option<usize>,
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One or more video artifacts, normalised to a list.
    Videos {
        /// The most items accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_count: Option<usize>,
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One or more audio artifacts, normalised to a list.
    Audios {
        /// The most items accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_count: Option<usize>,
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// One or more document artifacts, normalised to a list.
    Documents {
        /// The most items accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_count: Option<usize>,
        /// The accepted MIME types; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_types: Option<Vec<String>>,
    },
    /// Which tools the model accepts: the listed built-ins, and function tools unless
    /// `custom_tools` is false. Provider-specific raw tools pass.
    ToolSupport {
        /// The supported built-in tools.
        tools: Vec<BuiltinTool>,
        /// Whether user function tools are accepted.
        #[serde(default = "default_true")]
        custom_tools: bool,
    },
    /// Which tool-choice modes (`auto`, `required`, `none`) the model accepts. Naming a specific tool
    /// is not a mode and always passes.
    ToolChoiceSupport {
        /// The supported modes.
        #[serde(default = "default_tool_choice_modes")]
        modes: Vec<String>,
    },
    /// A voice of the provider's catalog ([`voices`](super::voices)), by id or name; normalised to the
    /// id. Models of one provider may offer different subsets of its catalog (OpenAI's `tts-1` has 9
    /// of the voices its realtime models have), hence the optional list.
    Voice {
        /// Whose voice catalog applies.
        provider: Provider,
        /// The ids of the voices this model offers, in the reference's order; every voice of the
        /// provider's catalog when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voices: Option<Vec<String>>,
    },
}

fn default_true() -> bool {
    true
}

fn default_tool_choice_modes() -> Vec<String> {
    ["auto", "required", "none"].map(String::from).to_vec()
}

/// The media kind of a single or plural media constraint.
#[derive(Clone, Copy)]
enum Media {
    Image,
    Video,
    Audio,
    Document,
}

impl Media {
    fn label(self) -> &'static str {
        match self {
            Media::Image => "image",
            Media::Video => "video",
            Media::Audio => "audio",
            Media::Document => "document",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Media::Image => "images",
            Media::Video => "videos",
            Media::Audio => "audios",
            Media::Document => "documents",
        }
    }

    fn input_type(self) -> InputType {
        match self {
            Media::Image => InputType::Image,
            Media::Video => InputType::Video,
            Media::Audio => InputType::Audio,
            Media::Document => InputType::Document,
        }
    }

    /// Whether a MIME type belongs to this kind of media. Anything that is not an image, a video or
    /// audio counts as a document.
    fn owns_mime(self, mime: &str) -> bool {
        let top = mime.split('/').next().unwrap_or("").to_ascii_lowercase();
        match self {
            Media::Image => top == "image",
            Media::Video => top == "video",
            Media::Audio => top == "audio",
            Media::Document => !matches!(top.as_str(), "image" | "video" | "audio"),
        }
    }
}

impl Constraint {
    /// A [`Constraint::Range`] without step or special values.
    pub fn range(min: f64, max: f64) -> Self {
        Constraint::Range { min, max, step: None, special_values: Vec::new() }
    }

    /// A [`Constraint::Choice`] over these options.
    pub fn choice<T: Into<Value>>(options: impl IntoIterator<Item = T>) -> Self {
        Constraint::Choice { options: options.into_iter().map(Into::into).collect() }
    }

    /// The constraint's `type` tag (`range`, `choice`, `images`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Constraint::Range { .. } => "range",
            Constraint::Choice { .. } => "choice",
            Constraint::Str { .. } => "str",
            Constraint::Int => "int",
            Constraint::Float => "float",
            Constraint::Bool => "bool",
            Constraint::Dimensions { .. } => "dimensions",
            Constraint::Schema => "schema",
            Constraint::Image { .. } => "image",
            Constraint::Video { .. } => "video",
            Constraint::Audio { .. } => "audio",
            Constraint::Document { .. } => "document",
            Constraint::Images { .. } => "images",
            Constraint::Videos { .. } => "videos",
            Constraint::Audios { .. } => "audios",
            Constraint::Documents { .. } => "documents",
            Constraint::ToolSupport { .. } => "tool_support",
            Constraint::ToolChoiceSupport { .. } => "tool_choice_support",
            Constraint::Voice { .. } => "voice",
        }
    }

    /// The kind of input the constraint declares: the media kind of a media constraint (`image` for
    /// [`Constraint::Image`] and [`Constraint::Images`], ...), and text for the constraints that check
    /// a string ([`Constraint::Str`], [`Constraint::Dimensions`], [`Constraint::Voice`]), as the
    /// reference derives it from the type of value a constraint takes; `None` for every other one.
    pub fn input_type(&self) -> Option<InputType> {
        match self {
            Constraint::Str { .. } | Constraint::Dimensions { .. } | Constraint::Voice { .. } => Some(InputType::Text),
            _ => self.media().map(|(m, _, _)| m.input_type()),
        }
    }

    /// The media kind, whether the constraint is plural, and its MIME list.
    fn media(&self) -> Option<(Media, bool, Option<&[String]>)> {
        let (media, plural, mimes) = match self {
            Constraint::Image { mime_types } => (Media::Image, false, mime_types),
            Constraint::Video { mime_types } => (Media::Video, false, mime_types),
            Constraint::Audio { mime_types } => (Media::Audio, false, mime_types),
            Constraint::Document { mime_types } => (Media::Document, false, mime_types),
            Constraint::Images { mime_types, .. } => (Media::Image, true, mime_types),
            Constraint::Videos { mime_types, .. } => (Media::Video, true, mime_types),
            Constraint::Audios { mime_types, .. } => (Media::Audio, true, mime_types),
            Constraint::Documents { mime_types, .. } => (Media::Document, true, mime_types),
            _ => return None,
        };
        Some((media, plural, mimes.as_deref()))
    }

    /// What the constraint allows, in words (`0..=2 in steps of 0.1`, `one of: low, medium, high`).
    pub fn allowed(&self) -> String {
        match self {
            Constraint::Range { min, max, step, special_values } => {
                let mut s = format!("{}..={}", fmt_num(*min), fmt_num(*max));
                if let Some(step) = step.filter(|s| *s > 0.0) {
                    let _ = write!(s, " in steps of {}", fmt_num(step));
                }
                if !special_values.is_empty() {
                    let specials: Vec<String> = special_values.iter().map(|v| fmt_num(*v)).collect();
                    let _ = write!(s, ", or one of: {}", specials.join(", "));
                }
                s
            }
            Constraint::Choice { options } => {
                let opts: Vec<String> = options.iter().map(plain).collect();
                format!("one of: {}", opts.join(", "))
            }
            Constraint::Str { min_length, max_length } => match (min_length, max_length) {
                (Some(lo), Some(hi)) => format!("a string of {lo} to {hi} characters"),
                (Some(lo), None) => format!("a string of at least {lo} characters"),
                (None, Some(hi)) => format!("a string of at most {hi} characters"),
                (None, None) => "a string".to_string(),
            },
            Constraint::Int => "an integer (or a string of digits)".to_string(),
            Constraint::Float => "a number".to_string(),
            Constraint::Bool => "true or false".to_string(),
            Constraint::Dimensions {
                min_pixels,
                max_pixels,
                min_aspect_ratio,
                max_aspect_ratio,
                presets,
                multiple_of,
                min_dimension,
                max_dimension,
            } => {
                let mut s = "\"WIDTHxHEIGHT\"".to_string();
                let mut parts = Vec::new();
                if min_pixels.is_some() || max_pixels.is_some() {
                    parts.push(format!(
                        "{} total pixels",
                        bounds(min_pixels.map(|v| v.to_string()), max_pixels.map(|v| v.to_string()))
                    ));
                }
                if min_aspect_ratio.is_some() || max_aspect_ratio.is_some() {
                    parts.push(format!(
                        "an aspect ratio of {}",
                        bounds(
                            min_aspect_ratio.map(|v| format!("{v:.3}")),
                            max_aspect_ratio.map(|v| format!("{v:.3}"))
                        )
                    ));
                }
                if let Some(m) = multiple_of.filter(|m| *m > 0) {
                    parts.push(format!("sides multiples of {m}"));
                }
                if min_dimension.is_some() || max_dimension.is_some() {
                    parts.push(format!(
                        "sides of {} pixels",
                        bounds(min_dimension.map(|v| v.to_string()), max_dimension.map(|v| v.to_string()))
                    ));
                }
                if !parts.is_empty() {
                    let _ = write!(s, " with {}", parts.join(", "));
                }
                if let Some(p) = presets.as_ref().filter(|p| !p.is_empty()) {
                    let names: Vec<&str> = p.keys().map(String::as_str).collect();
                    let _ = write!(s, ", or a preset: {}", names.join(", "));
                }
                s
            }
            Constraint::Schema => "a JSON schema object".to_string(),
            Constraint::ToolSupport { tools, custom_tools } => {
                let builtins = if tools.is_empty() {
                    "no built-in tools".to_string()
                } else {
                    let names: Vec<&str> = tools.iter().map(|t| t.as_str()).collect();
                    format!("built-in tools {}", names.join(", "))
                };
                let custom = if *custom_tools { "function tools" } else { "no function tools" };
                format!("{builtins}; {custom}")
            }
            Constraint::ToolChoiceSupport { modes } => {
                format!("a tool name or one of: {}", modes.join(", "))
            }
            Constraint::Voice { provider, voices } => voice_list(*provider, voices.as_deref()),
            media => {
                let Some((m, plural, mimes)) = media.media() else {
                    return String::new();
                };
                let mut s = if plural {
                    match self.max_count() {
                        Some(n) => format!("up to {n} {} artifacts", m.label()),
                        None => format!("one or more {} artifacts", m.label()),
                    }
                } else {
                    format!("a single {} artifact", m.label())
                };
                if let Some(mimes) = mimes {
                    let _ = write!(s, " of type {}", mimes.join(", "));
                }
                s
            }
        }
    }

    fn max_count(&self) -> Option<usize> {
        match self {
            Constraint::Images { max_count, .. }
            | Constraint::Videos { max_count, .. }
            | Constraint::Audios { max_count, .. }
            | Constraint::Documents { max_count, .. } => *max_count,
            _ => None,
        }
    }

    /// Checks `value` for `parameter` of `model` (an empty `model` leaves the error's model unset) and
    /// returns the value to send: the value itself, or its normalised form.
    pub fn check(&self, model: &str, parameter: &str, value: &Value) -> Result<Value, ValidationError> {
        let reject = |allowed: String| ValidationError {
            model: (!model.is_empty()).then(|| model.to_string()),
            parameter: parameter.to_string(),
            value: render(value),
            allowed,
        };
        match self {
            Constraint::Range { min, max, step, special_values } => {
                let Some(v) = number(value) else {
                    return Err(reject(format!("a number, {}", self.allowed())));
                };
                if special_values.contains(&v) {
                    return Ok(value.clone());
                }
                if !(*min <= v && v <= *max) {
                    return Err(reject(self.allowed()));
                }
                if let Some(step) = step.filter(|s| *s > 0.0) {
                    let remainder = (v - min) % step;
                    if !close(remainder, 0.0) && !close(remainder, step) {
                        let below = min + ((v - min) / step).trunc() * step;
                        let above = below + step;
                        return Err(reject(format!(
                            "{} (nearest valid: {} or {})",
                            self.allowed(),
                            fmt_num(below),
                            fmt_num(above)
                        )));
                    }
                }
                Ok(value.clone())
            }
            Constraint::Choice { options } => {
                if options.iter().any(|o| same(o, value)) {
                    Ok(value.clone())
                } else {
                    Err(reject(self.allowed()))
                }
            }
            Constraint::Str { min_length, max_length } => {
                let Value::String(s) = value else {
                    return Err(reject(self.allowed()));
                };
                let len = s.chars().count();
                let short = min_length.is_some_and(|lo| len < lo);
                let long = max_length.is_some_and(|hi| len > hi);
                if short || long {
                    return Err(reject(format!("{} (got {len})", self.allowed())));
                }
                Ok(value.clone())
            }
            Constraint::Int => match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
                Value::Number(n) => match n.as_f64().and_then(integral) {
                    Some(i) => Ok(Value::from(i)),
                    None => Err(reject(self.allowed())),
                },
                Value::String(s) => match parse_int(s) {
                    Some(i) => Ok(Value::from(i)),
                    None => Err(reject(self.allowed())),
                },
                _ => Err(reject(self.allowed())),
            },
            Constraint::Float => match number(value) {
                Some(f) => Ok(Value::from(f)),
                None => Err(reject(self.allowed())),
            },
            Constraint::Bool => match value {
                Value::Bool(_) => Ok(value.clone()),
                _ => Err(reject(self.allowed())),
            },
            Constraint::Dimensions { .. } => self.dimensions(value).map(Value::String).map_err(|why| match why {
                Some(why) => reject(format!("{} ({why})", self.allowed())),
                None => reject(self.allowed()),
            }),
            Constraint::Schema => match value {
                Value::Object(_) => Ok(value.clone()),
                _ => Err(reject(self.allowed())),
            },
            Constraint::ToolSupport { tools, custom_tools } => {
                let items = match value {
                    Value::Array(items) => items.as_slice(),
                    other => std::slice::from_ref(other),
                };
                for item in items {
                    match classify_tool(item) {
                        ToolKind::Builtin(t) if !tools.contains(&t) => {
                            return Err(reject(format!(
                                "{} (`{}` is not supported by this model)",
                                self.allowed(),
                                t.as_str()
                            )));
                        }
                        ToolKind::Custom if !custom_tools => {
                            return Err(reject(format!(
                                "{} (custom function tools are not supported by this model)",
                                self.allowed()
                            )));
                        }
                        _ => {}
                    }
                }
                Ok(value.clone())
            }
            Constraint::ToolChoiceSupport { modes } => match value {
                Value::String(mode) if !modes.iter().any(|m| m == mode) => Err(reject(self.allowed())),
                _ => Ok(value.clone()),
            },
            Constraint::Voice { provider, voices } => {
                let Value::String(s) = value else {
                    return Err(reject(self.allowed()));
                };
                match resolve_offered_voice(*provider, voices.as_deref(), s) {
                    Some(v) => Ok(Value::String(v.id.clone())),
                    None => Err(reject(self.allowed())),
                }
            }
            media => {
                let Some((m, plural, mimes)) = media.media() else {
                    return Ok(value.clone());
                };
                if plural {
                    let items: Vec<Value> = match value {
                        Value::Array(items) => items.clone(),
                        other => vec![other.clone()],
                    };
                    if let Some(max) = self.max_count()
                        && items.len() > max
                    {
                        return Err(reject(format!("at most {max} {} (got {})", m.plural(), items.len())));
                    }
                    if let Some(mimes) = mimes {
                        for (i, item) in items.iter().enumerate() {
                            check_artifact(m, Some(mimes), item).map_err(|why| {
                                reject(format!("{} ({} {}: {why})", self.allowed(), m.label(), i + 1))
                            })?;
                        }
                    }
                    Ok(Value::Array(items))
                } else {
                    if value.is_array() {
                        return Err(reject(format!("{} (not a list)", self.allowed())));
                    }
                    check_artifact(m, mimes, value).map_err(|why| reject(format!("{} ({why})", self.allowed())))?;
                    Ok(value.clone())
                }
            }
        }
    }

    /// Parses and bounds-checks a dimensions value; `Err(Some(reason))` names the failed bound.
    fn dimensions(&self, value: &Value) -> Result<String, Option<String>> {
        let Constraint::Dimensions {
            min_pixels,
            max_pixels,
            min_aspect_ratio,
            max_aspect_ratio,
            presets,
            multiple_of,
            min_dimension,
            max_dimension,
        } = self
        else {
            return Err(None);
        };
        let Value::String(raw) = value else {
            return Err(None);
        };
        let actual = presets.as_ref().and_then(|p| p.get(raw)).map_or(raw.as_str(), String::as_str);
        let lower = actual.to_ascii_lowercase();
        let mut parts = lower.split('x');
        let (Some(w), Some(h), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(None);
        };
        let side = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (Some(width), Some(height)) = (side(w), side(h)) else {
            return Err(None);
        };
        if width == 0 || height == 0 {
            return Err(Some(format!("got {width}x{height}")));
        }
        if let Some(m) = multiple_of.map(u64::from).filter(|m| *m > 0)
            && (width % m != 0 || height % m != 0)
        {
            return Err(Some(format!("{width}x{height} is not a multiple of {m}")));
        }
        // The reference checks the side bounds after the grid and before the pixel bounds.
        let (short, long) = (width.min(height), width.max(height));
        let too_short = min_dimension.is_some_and(|lo| short < u64::from(lo));
        if too_short || max_dimension.is_some_and(|hi| long > u64::from(hi)) {
            return Err(Some(format!("{width}x{height} has sides of {short} and {long} pixels")));
        }
        let pixels = width.saturating_mul(height);
        if min_pixels.is_some_and(|lo| pixels < lo) || max_pixels.is_some_and(|hi| pixels > hi) {
            return Err(Some(format!("{width}x{height} is {pixels} pixels")));
        }
        let ratio = width as f64 / height as f64;
        if min_aspect_ratio.is_some_and(|lo| ratio < lo) || max_aspect_ratio.is_some_and(|hi| ratio > hi) {
            return Err(Some(format!("{width}x{height} has an aspect ratio of {ratio:.3}")));
        }
        Ok(format!("{width}x{height}"))
    }
}

/// Checks one artifact description: a JSON object whose `mime_type`, when present, is of the right
/// media kind and, when `mimes` is given, one of them.
fn check_artifact(media: Media, mimes: Option<&[String]>, value: &Value) -> Result<(), String> {
    let Value::Object(obj) = value else {
        return Err(format!("not a {} artifact", media.label()));
    };
    let mime = obj.get("mime_type").and_then(Value::as_str);
    if let Some(mime) = mime
        && !media.owns_mime(mime)
    {
        return Err(format!("`{mime}` is not a {} MIME type", media.label()));
    }
    if let Some(mimes) = mimes
        && !mime.is_some_and(|m| mimes.iter().any(|a| a.eq_ignore_ascii_case(m)))
    {
        return Err(match mime {
            Some(m) => format!("got {m}"),
            None => "no MIME type given".to_string(),
        });
    }
    Ok(())
}

/// How a tool value counts against [`Constraint::ToolSupport`].
enum ToolKind {
    Builtin(BuiltinTool),
    Custom,
    Other,
}

/// Classifies a serialized tool: a [`Tool`](crate::types::Tool) (`{"kind": ...}`) or a raw
/// provider dict (`{"type": "function", ...}`, `{"name": ...}`).
fn classify_tool(item: &Value) -> ToolKind {
    let Value::Object(obj) = item else {
        return ToolKind::Other;
    };
    match obj.get("kind").and_then(Value::as_str) {
        Some("function") => ToolKind::Custom,
        Some(kind) => BuiltinTool::from_name(kind).map_or(ToolKind::Other, ToolKind::Builtin),
        None if obj.contains_key("name") || obj.get("type").and_then(Value::as_str) == Some("function") => {
            ToolKind::Custom
        }
        None => ToolKind::Other,
    }
}

/// The voices of `provider` a model offers: those listed in `offered`, in catalog order, or the whole
/// catalog.
fn offered_voices(provider: Provider, offered: Option<&[String]>) -> Vec<&'static super::Voice> {
    super::voices(provider).iter().filter(|v| offered.is_none_or(|ids| ids.contains(&v.id))).collect()
}

/// Finds an offered voice by id or name, with the precedence of [`super::resolve_voice`]: an exact id,
/// then an exact name, then either ignoring ASCII case.
fn resolve_offered_voice(
    provider: Provider,
    offered: Option<&[String]>,
    name_or_id: &str,
) -> Option<&'static super::Voice> {
    let Some(ids) = offered else {
        return super::resolve_voice(provider, name_or_id);
    };
    let all = offered_voices(provider, Some(ids));
    all.iter()
        .find(|v| v.id == name_or_id)
        .or_else(|| all.iter().find(|v| v.name == name_or_id))
        .or_else(|| {
            all.iter().find(|v| v.id.eq_ignore_ascii_case(name_or_id) || v.name.eq_ignore_ascii_case(name_or_id))
        })
        .copied()
}

/// The voices a model offers, for an error message.
fn voice_list(provider: Provider, offered: Option<&[String]>) -> String {
    if super::voices(provider).is_empty() {
        return format!("a voice of {provider} (no voice catalog is known for it)");
    }
    let voices = offered_voices(provider, offered);
    if voices.is_empty() {
        return format!("a voice of {provider} (none of its catalog is offered by this model)");
    }
    let shown: Vec<String> = voices
        .iter()
        .take(MAX_LISTED_VOICES)
        .map(|v| if v.name == v.id { v.id.clone() } else { format!("{} ({})", v.name, v.id) })
        .collect();
    let mut s = format!("a voice name or id of {provider}: {}", shown.join(", "));
    if voices.len() > MAX_LISTED_VOICES {
        let _ = write!(s, ", … ({} voices; see catalog::voices)", voices.len());
    }
    s
}

/// A JSON number as `f64`; booleans and strings are not numbers.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Whether two JSON values are the same option: numbers numerically, everything else structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `math.isclose` with the default relative tolerance and the step check's absolute tolerance.
fn close(a: f64, b: f64) -> bool {
    let tol = (STEP_TOLERANCE * a.abs().max(b.abs())).max(STEP_TOLERANCE);
    (a - b).abs() <= tol
}

/// An integral float as `i64`, when it fits.
fn integral(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// An optional minus sign followed by ASCII digits, as `i64`.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A number for a message: integers without a fraction, others rounded to 9 decimals.
fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let rounded = (v * 1e9).round() / 1e9;
        format!("{rounded}")
    }
}

/// `lo..=hi`, `at least lo` or `at most hi`.
fn bounds(lo: Option<String>, hi: Option<String>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{lo}..={hi}"),
        (Some(lo), None) => format!("at least {lo}"),
        (None, Some(hi)) => format!("at most {hi}"),
        (None, None) => "any".to_string(),
    }
}

/// An option for a message: strings without quotes, everything else as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The offending value for an error: compact JSON, cut to a readable length.
fn render(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() <= MAX_RENDERED_VALUE {
        return s;
    }
    let mut cut: String = s.chars().take(MAX_RENDERED_VALUE).collect();
    cut.push('…');
    cut
}
