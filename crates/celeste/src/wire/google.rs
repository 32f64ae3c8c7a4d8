//! What Google's two text wire APIs (generateContent in [`super::gemini`], Interactions in
//! [`super::interactions`]) share: media parts, tool-call ids and names, function schemas, grounding
//! offsets and error objects.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::types::artifact::Artifact;
use crate::types::message::Item;
use crate::types::tool::FunctionTool;
use crate::types::usage::Usage;
use crate::wire::WireContext;

// ---------------------------------------------------------------------------------------------------
// Requests

/// A media part's content, as Gemini's APIs take it.
pub(crate) enum Media {
    /// Base64 bytes with their MIME type.
    Inline { mime: String, data: String },
    /// A URL the server fetches (`gs://`, `https://`, a Files API URI).
    Uri { uri: String, mime: Option<String> },
}

/// Bytes (data or path) become inline base64, a URL stays a URL; a `data:` URL is inline.
pub(crate) fn media(a: &Artifact) -> Result<Media> {
    let url = a.data_url()?;
    let Some(rest) = url.get(..5).filter(|p| p.eq_ignore_ascii_case("data:")).and_then(|_| url.get(5..)) else {
        return Ok(Media::Uri { mime: a.mime().map(|m| m.to_string()), uri: url });
    };
    let (meta, data) = rest.split_once(',').ok_or_else(|| Error::invalid_input("malformed data URL: no `,`"))?;
    let mut params = meta.split(';');
    let mime = params.next().unwrap_or_default().trim().to_string();
    if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err(Error::invalid_input("the data URL is not base64-encoded (no `;base64`)"));
    }
    let mime = if mime.is_empty() { a.mime().map(|m| m.to_string()) } else { Some(mime) };
    let mime =
        mime.ok_or_else(|| Error::invalid_input("the media's MIME type is unknown; set it with `with_mime_type`"))?;
    Ok(Media::Inline { mime, data: data.to_string() })
}

/// A function declaration as Google's APIs take it: `base` (the name, and whatever else the API wants
/// with it) plus the description and the parameter schema under `schema_key` (`parametersJsonSchema`
/// in generateContent and Live, `parameters` in Interactions), each when given.
pub(crate) fn function_declaration(f: &FunctionTool, mut base: Value, schema_key: &str) -> Value {
    if let Some(desc) = &f.description {
        base["description"] = desc.clone().into();
    }
    if has_schema(&f.parameters) {
        base[schema_key] = function_parameters(&f.parameters);
    }
    base
}

/// The media of an Interactions content item of type `kind` (`image`, `audio`): its base64 `data` as
/// bytes, or its `uri` as a URL artifact, with the `mime_type` it names; `None` for another kind or
/// an item with neither. `what` names it in a decode error.
pub(crate) fn content_media(
    item: &Value,
    kind: &str,
    what: &'static str,
) -> Result<Option<(Artifact, Option<String>)>> {
    if item.get("type").and_then(Value::as_str) != Some(kind) {
        return Ok(None);
    }
    let text = |k: &str| item.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let artifact = match (text("data"), text("uri")) {
        (Some(data), _) => Artifact::from_base64(data).map_err(|e| Error::decode(what, e, data.as_bytes()))?,
        (None, Some(uri)) => Artifact::from_url(uri),
        (None, None) => return Ok(None),
    };
    Ok(Some((artifact, text("mime_type").map(str::to_string))))
}

/// An empty schema (`null` or `{}`) is not sent.
fn has_schema(parameters: &Value) -> bool {
    match parameters {
        Value::Null => false,
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// A function's parameter schema as Google's APIs take it: without `additionalProperties` at any
/// level, which Google rejects in function declarations.
fn function_parameters(schema: &Value) -> Value {
    let mut schema = schema.clone();
    strip_additional_properties(&mut schema);
    schema
}

/// Keywords whose value maps names to subschemas: the names are not keywords, the values are schemas.
const SCHEMA_MAPS: [&str; 5] = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

/// Keywords whose value is data, not a schema.
const DATA: [&str; 4] = ["enum", "const", "default", "examples"];

fn strip_additional_properties(schema: &mut Value) {
    match schema {
        Value::Object(o) => {
            o.remove("additionalProperties");
            for (key, value) in o.iter_mut() {
                match value {
                    _ if DATA.contains(&key.as_str()) => {}
                    Value::Object(map) if SCHEMA_MAPS.contains(&key.as_str()) => {
                        map.values_mut().for_each(strip_additional_properties);
                    }
                    _ => strip_additional_properties(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_additional_properties),
        _ => {}
    }
}

/// Call id → function name, from the assistant turns (a tool result without a name gets its call's).
pub(crate) fn call_names(items: &[Item]) -> HashMap<&str, &str> {
    let mut names = HashMap::new();
    for item in items {
        if let Item::Message(m) = item {
            for c in &m.tool_calls {
                names.insert(c.id.as_str(), c.name.as_str());
            }
        }
    }
    names
}

// ---------------------------------------------------------------------------------------------------
// Responses

/// A call's id: the server's, or (Google often sends none) a local one, `local_prefix` and the call's
/// index, which the wire module knows never to send back as the server's.
pub(crate) fn call_id(id: Option<&str>, local_prefix: &str, index: usize) -> String {
    id.filter(|i| !i.is_empty()).map_or_else(|| format!("{local_prefix}{index}"), str::to_string)
}

/// A UTF-8 byte offset into `text` as a character offset; `None` when out of range or inside a
/// character.
pub(crate) fn byte_to_char(text: &str, offset: usize) -> Option<usize> {
    text.get(..offset).map(|head| head.chars().count())
}

/// A Google error object (`{code, message, status}`) as a stream event error; the type is the
/// `status` name (`RESOURCE_EXHAUSTED`), else the code.
pub(crate) fn google_error(ctx: &WireContext, err: &Value, raw: &[u8]) -> Error {
    let (message, error_type) = match err {
        Value::Object(o) => (
            o.get("message").and_then(Value::as_str).map(str::to_string),
            o.get("status").and_then(Value::as_str).map(str::to_string).or_else(|| match o.get("code") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            }),
        ),
        Value::String(s) => (Some(s.clone()), None),
        _ => (None, None),
    };
    ctx.event_error(message, error_type, raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn byte_offsets_become_character_offsets() {
        let text = "héllo";
        assert_eq!(byte_to_char(text, 0), Some(0));
        assert_eq!(byte_to_char(text, 3), Some(2));
        assert_eq!(byte_to_char(text, 2), None, "inside a character");
        assert_eq!(byte_to_char(text, text.len()), Some(5));
        assert_eq!(byte_to_char(text, text.len() + 1), None, "out of range");
    }

    /// Google rejects `additionalProperties` in function parameter schemas: both APIs leave it out at
    /// every level, while a property that happens to have that name, and data such as defaults, stay.
    #[test]
    fn function_schemas_carry_no_additional_properties() {
        use crate::types::text::TextRequest;
        use crate::types::tool::FunctionTool;
        use crate::wire::WireApi;
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "additionalProperties": {"type": "string"},
                "address": {"type": "object", "additionalProperties": false, "properties": {"city": {"type": "string"}}},
                "tags": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}},
                "extra": {"anyOf": [{"type": "object", "additionalProperties": true}, {"type": "null"}]},
                "options": {"type": "object", "default": {"additionalProperties": 1}}
            },
            "$defs": {"Point": {"type": "object", "additionalProperties": false}}
        });
        let want = json!({
            "type": "object",
            "properties": {
                "additionalProperties": {"type": "string"},
                "address": {"type": "object", "properties": {"city": {"type": "string"}}},
                "tags": {"type": "array", "items": {"type": "object"}},
                "extra": {"anyOf": [{"type": "object"}, {"type": "null"}]},
                "options": {"type": "object", "default": {"additionalProperties": 1}}
            },
            "$defs": {"Point": {"type": "object"}}
        });
        let setup =
            crate::wire::testkit::Setup::new(crate::Origin::Provider(crate::Provider::Google), "gemini-2.5-flash");
        let req = TextRequest { tools: vec![FunctionTool::new("f", "F", schema).into()], ..setup.user("hi") };
        for (wire, path) in [
            (WireApi::GeminiGenerateContent, "/tools/0/functionDeclarations/0/parametersJsonSchema"),
            (WireApi::GeminiInteractions, "/tools/0/parameters"),
        ] {
            let body = wire.build(&req, &setup.ctx(), false, "u".into()).unwrap().body;
            assert_eq!(body.pointer(path), Some(&want), "{wire:?}");
        }
    }

    #[test]
    fn local_call_ids_fill_in_for_missing_ones() {
        assert_eq!(call_id(Some("abc"), "local-", 3), "abc");
        assert_eq!(call_id(Some(""), "local-", 3), "local-3");
        assert_eq!(call_id(None, "local-", 0), "local-0");
    }
}

// ---------------------------------------------------------------------------------------------------
// Usage

/// The usage object of both APIs: generateContent's `usageMetadata` (camelCase) and Interactions'
/// `usage` (`total_*`) carry the same five counts under their own names.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    #[serde(rename = "promptTokenCount", alias = "total_input_tokens")]
    input: Option<u64>,
    /// Thoughts left out.
    #[serde(rename = "candidatesTokenCount", alias = "total_output_tokens")]
    output: Option<u64>,
    #[serde(rename = "totalTokenCount", alias = "total_tokens")]
    total: Option<u64>,
    #[serde(rename = "thoughtsTokenCount", alias = "total_thought_tokens")]
    thoughts: Option<u64>,
    #[serde(rename = "cachedContentTokenCount", alias = "total_cached_tokens")]
    cached: Option<u64>,
}

/// A Google usage object as [`Usage`]: [`Usage::output_tokens`] counts the thoughts, which Google
/// counts apart.
pub(crate) fn usage_from(raw: &RawValue) -> Usage {
    let (w, raw): (WireUsage, _) = crate::wire::decode_usage(raw, "google usage");
    Usage {
        input_tokens: w.input,
        output_tokens: crate::wire::kit::sum_counts(w.output, w.thoughts),
        total_tokens: w.total,
        cache_read_tokens: w.cached,
        reasoning_tokens: w.thoughts,
        raw,
        ..Usage::default()
    }
}
