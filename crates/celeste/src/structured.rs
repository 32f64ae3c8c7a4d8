//! Structured output: the JSON schema of a Rust type in the shapes the wire APIs want, and the
//! model's JSON text turned back into that type.
//!
//! A call asks for structured output with [`Generate::output_schema`](crate::text::Generate::output_schema).
//! The schema comes from `schemars`; each wire API then takes one of the variants built here (strict
//! or not, `$defs` inlined or not, a top-level array wrapped in an object or not), as the reference
//! library does. The reply's text is parsed leniently (raw control characters inside strings are
//! tolerated) and an `{"items": [...]}` wrapper is removed again for list types.

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Error, OutputValidationError, Result};
use crate::stream::{Decoder, Frame};
use crate::types::output::{Chunk, Output, parse_json_lenient};
use crate::types::tool::{FunctionTool, Tool, strict_schema};

/// The schema a reply must follow, from a Rust type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutputSchema {
    /// The schema's name on the wire: the type name in lower case (`weather`), `<inner>_list` for a
    /// list of a type.
    pub name: String,
    /// The schema as `schemars` generates it (`$defs` referenced).
    schema: Value,
    /// The same schema with every non-recursive `$ref` inlined (for wire APIs that reject `$defs`).
    inlined: Value,
    /// Whether the root is an array (a `Vec<T>`).
    pub list: bool,
}

impl OutputSchema {
    /// The schema of `T`.
    pub(crate) fn of<T: JsonSchema>() -> Self {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        let inlined = serde_json::to_value(
            schemars::generate::SchemaSettings::draft2020_12()
                .with(|s| s.inline_subschemas = true)
                .into_generator()
                .into_root_schema_for::<T>(),
        )
        .unwrap_or(Value::Null);
        let list = schema.get("type").and_then(Value::as_str) == Some("array");
        let name = if list {
            // The element type is a `$ref` into `$defs` (a struct) or inline with a title (a primitive).
            let inner = match schema.pointer("/items/$ref").and_then(Value::as_str) {
                Some(r) => r.rsplit('/').next().unwrap_or("item"),
                None => schema.pointer("/items/title").and_then(Value::as_str).unwrap_or("item"),
            };
            format!("{}_list", wire_name(inner))
        } else {
            wire_name(schema.get("title").and_then(Value::as_str).unwrap_or("output"))
        };
        OutputSchema { name, schema, inlined, list }
    }

    /// Strict in the OpenAI sense (every object closed, every property required), `$defs` kept.
    pub(crate) fn strict(&self) -> Value {
        let mut s = self.schema.clone();
        strict_schema(&mut s);
        s
    }

    /// Strict, with a top-level array wrapped as `{"items": [...]}` for wire APIs whose root must be
    /// an object.
    pub(crate) fn strict_object(&self) -> Value {
        let s = self.strict();
        if !self.list {
            return s;
        }
        wrap_items(s)
    }

    /// Strict and inlined (Mistral).
    pub(crate) fn strict_inlined(&self) -> Value {
        let mut s = self.inlined.clone();
        strict_schema(&mut s);
        s
    }

    #[cfg_attr(not(feature = "cohere"), allow(dead_code, reason = "Cohere's variant"))]
    /// Inlined, otherwise as generated (Cohere).
    pub(crate) fn inlined(&self) -> Value {
        let mut s = self.inlined.clone();
        if let Value::Object(m) = &mut s {
            m.remove("$schema");
        }
        s
    }

    #[cfg_attr(not(feature = "google"), allow(dead_code, reason = "the Gemini variant"))]
    /// As generated, with `title` keywords removed (Gemini rejects them in places and they tell the
    /// model nothing the property names do not).
    pub(crate) fn untitled(&self) -> Value {
        let mut s = self.schema.clone();
        if let Value::Object(m) = &mut s {
            m.remove("$schema");
        }
        strip_titles(&mut s);
        s
    }
}

/// `{"type": "object", "properties": {"items": <array schema>}, ...}`, keeping `$defs` at the root
/// where references expect them.
fn wrap_items(mut array: Value) -> Value {
    let defs = array.as_object_mut().and_then(|m| m.remove("$defs"));
    let mut wrapped = json!({
        "type": "object",
        "properties": {"items": array},
        "required": ["items"],
        "additionalProperties": false,
    });
    if let Some(defs) = defs {
        wrapped["$defs"] = defs;
    }
    wrapped
}

/// A name the wire APIs accept (`[a-z0-9_-]`, at most 64 characters).
fn wire_name(title: &str) -> String {
    let name: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '_' })
        .take(64)
        .collect();
    if name.is_empty() { "output".into() } else { name }
}

#[cfg_attr(not(feature = "google"), allow(dead_code, reason = "for the Gemini variant"))]
fn strip_titles(v: &mut Value) {
    match v {
        Value::Object(m) => {
            // A property may be named `title`: only the keyword (a string) is removed.
            if m.get("title").is_some_and(Value::is_string) {
                m.remove("title");
            }
            m.values_mut().for_each(strip_titles);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_titles),
        _ => {}
    }
}

/// Parse a reply's text into `T`: lenient JSON, and a list's `{"items": [...]}` wrapper removed
/// (also when the model wrapped a list the wire API did not ask to wrap).
pub(crate) fn parse<T: DeserializeOwned>(text: &str, list: bool) -> Result<T, String> {
    let mut value = parse_json_lenient(strip_fence(text)).map_err(|e| format!("the reply is not JSON: {e}"))?;
    if list
        && let Value::Object(m) = &mut value
        && m.len() == 1
        && m.get("items").is_some_and(Value::is_array)
    {
        value = m.remove("items").unwrap_or(Value::Null);
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Models behind `json_object` modes sometimes fence their JSON in Markdown (```` ```json ````).
fn strip_fence(text: &str) -> &str {
    let t = text.trim();
    let Some(rest) = t.strip_prefix("```") else { return t };
    let Some(body) = rest.strip_suffix("```") else { return t };
    // Drop the info string (`json`) on the opening line.
    body.split_once('\n').map_or(body, |(_, b)| b)
}

/// How a reply's text becomes the output content: moved out as it is for `String`, parsed for a
/// structured-output type. A failed parse leaves the text in place, so the error can keep it.
pub(crate) type Convert<C> = fn(&mut String, bool) -> std::result::Result<C, String>;

/// The [`Convert`] of plain text.
pub(crate) fn text_content(text: &mut String, _list: bool) -> std::result::Result<String, String> {
    Ok(std::mem::take(text))
}

/// The [`Convert`] of a structured-output type.
#[expect(clippy::ptr_arg, reason = "one signature for every content type; `String` needs the `&mut String`")]
pub(crate) fn typed_content<T: DeserializeOwned>(text: &mut String, list: bool) -> std::result::Result<T, String> {
    parse(text, list)
}

/// What turns a decoded reply into the call's output: the arguments of calls to tools declared from
/// Rust types are checked and normalised, and the text becomes the content type.
pub(crate) struct Finish<C> {
    /// The function tools declared from Rust types (the others' calls pass as they are).
    typed_tools: Vec<FunctionTool>,
    /// Whether the structured output is a list (its `{"items": ...}` wrapper is removed).
    list: bool,
    convert: Convert<C>,
}

impl<C: Send + 'static> Finish<C> {
    pub(crate) fn new(tools: &[Tool], schema: Option<&OutputSchema>, convert: Convert<C>) -> Self {
        let typed_tools = tools
            .iter()
            .filter_map(|t| match t {
                Tool::Function(f) if f.is_typed() => Some(f.clone()),
                _ => None,
            })
            .collect();
        Finish { typed_tools, list: schema.is_some_and(|s| s.list), convert }
    }

    pub(crate) fn apply(&self, mut out: Output<String>) -> Result<Output<C>> {
        for i in 0..out.tool_calls.len() {
            let call = &out.tool_calls[i];
            let Some(tool) = self.typed_tools.iter().find(|t| t.name == call.name) else { continue };
            match tool.check_arguments(&call.arguments) {
                Ok(args) => out.tool_calls[i].arguments = args,
                Err(message) => {
                    let what = format!("the arguments of tool call `{}`", call.name);
                    return Err(output_invalid(what, message, out));
                }
            }
        }
        match (self.convert)(&mut out.content, self.list) {
            Ok(content) => Ok(out.map_content(|_| content)),
            Err(message) => Err(output_invalid("the structured output".into(), message, out)),
        }
    }

    /// A wire API's stream decoder with this finish applied to its output.
    pub(crate) fn around(self, wire: Box<dyn Decoder<String, String>>) -> Box<dyn Decoder<String, C>> {
        Box::new(Finishing { wire, finish: self })
    }
}

fn output_invalid(what: String, message: String, output: Output<String>) -> Error {
    Error::OutputValidation(Box::new(OutputValidationError { what, message, output }))
}

/// A wire decoder followed by a [`Finish`].
struct Finishing<C> {
    wire: Box<dyn Decoder<String, String>>,
    finish: Finish<C>,
}

impl<C: Send + 'static> Decoder<String, C> for Finishing<C> {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        self.wire.on_frame(frame, out)
    }

    fn is_terminal(&self) -> bool {
        self.wire.is_terminal()
    }

    fn finish(&mut self) -> Result<Output<C>> {
        self.wire.finish().and_then(|out| self.finish.apply(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Weather {
        city: String,
        days: Option<u32>,
        place: Place,
    }

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Place {
        title: String,
    }

    #[test]
    fn names_follow_the_type() {
        assert_eq!(OutputSchema::of::<Weather>().name, "weather");
        let list = OutputSchema::of::<Vec<Weather>>();
        assert!(list.list);
        assert_eq!(list.name, "weather_list");
        assert_eq!(wire_name("Wëird Name<T>"), "w_ird_name_t_");
    }

    #[test]
    fn strict_closes_every_object_and_requires_every_property() {
        let s = OutputSchema::of::<Weather>().strict();
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"], json!(["city", "days", "place"]));
        assert_eq!(s["$defs"]["Place"]["additionalProperties"], false);
        assert!(s.get("$schema").is_none());
    }

    #[test]
    fn inlined_has_no_refs() {
        let s = OutputSchema::of::<Weather>();
        let text = s.inlined().to_string();
        assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
        assert_eq!(s.inlined()["properties"]["place"]["properties"]["title"]["type"], "string");
        assert_eq!(s.strict_inlined()["properties"]["place"]["additionalProperties"], false);
    }

    #[test]
    fn lists_are_wrapped_only_where_asked() {
        let s = OutputSchema::of::<Vec<Weather>>();
        assert_eq!(s.strict()["type"], "array");
        let w = s.strict_object();
        assert_eq!(w["type"], "object");
        assert_eq!(w["properties"]["items"]["type"], "array");
        assert_eq!(w["required"], json!(["items"]));
        // References still resolve from the root.
        assert!(w["$defs"]["Weather"].is_object());
        assert_eq!(OutputSchema::of::<Weather>().strict_object(), OutputSchema::of::<Weather>().strict());
    }

    #[test]
    fn untitled_removes_title_keywords_but_not_properties_named_title() {
        let s = OutputSchema::of::<Weather>().untitled();
        let text = s.to_string();
        assert!(!text.contains("\"title\":\"Weather\""), "{text}");
        assert!(s["$defs"]["Place"]["properties"]["title"].is_object());
    }

    #[test]
    fn parse_is_lenient_and_unwraps_lists() {
        let one: Weather = parse("{\"city\":\"Pa\nris\",\"days\":2,\"place\":{\"title\":\"x\"}}", false).unwrap();
        assert_eq!(one.city, "Pa\nris");
        let list: Vec<Place> = parse("{\"items\":[{\"title\":\"a\"}]}", true).unwrap();
        assert_eq!(list, vec![Place { title: "a".into() }]);
        let bare: Vec<Place> = parse("[{\"title\":\"b\"}]", true).unwrap();
        assert_eq!(bare.len(), 1);
        let fenced: Place = parse("```json\n{\"title\":\"c\"}\n```", false).unwrap();
        assert_eq!(fenced.title, "c");
        assert!(parse::<Place>("not json", false).unwrap_err().contains("not JSON"));
        assert!(parse::<Place>("{\"name\":1}", false).unwrap_err().contains("title"));
    }
}
