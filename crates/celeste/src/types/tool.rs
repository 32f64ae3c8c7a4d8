//! Tools are parameters: function tools with a JSON schema, the provider built-ins, the tool choice,
//! and the tool calls a model returns. The library never executes a tool.

use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Checks (and normalises) a tool call's arguments against the Rust type the tool was declared with.
type ArgumentCheck = Arc<dyn Fn(&Value) -> Result<Value, String> + Send + Sync>;

/// A function the model may call, described by a JSON schema.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionTool {
    /// The function name the model will use.
    pub name: String,
    /// What the function does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON schema of the arguments object.
    pub parameters: Value,
    /// Whether the schema was made strict (`additionalProperties: false`, every property required),
    /// so wire APIs with a strict mode can turn it on.
    #[serde(default)]
    pub strict: bool,
    #[serde(skip)]
    check: Option<ArgumentCheck>,
}

impl fmt::Debug for FunctionTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionTool")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("parameters", &self.parameters)
            .field("strict", &self.strict)
            .field("typed", &self.check.is_some())
            .finish()
    }
}

impl PartialEq for FunctionTool {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.description == other.description
            && self.parameters == other.parameters
            && self.strict == other.strict
    }
}

impl FunctionTool {
    /// A tool with a raw JSON schema. Its calls' arguments are passed through unvalidated.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        let description = description.into();
        FunctionTool {
            name: name.into(),
            description: (!description.is_empty()).then_some(description),
            parameters,
            strict: false,
            check: None,
        }
    }

    /// A tool whose arguments are the Rust type `T`. The schema comes from `schemars`, made strict; the
    /// arguments of each call are validated by deserialising into `T` and normalised by serialising back.
    pub fn of<T>(name: impl Into<String>, description: impl Into<String>) -> Self
    where
        T: JsonSchema + DeserializeOwned + Serialize + 'static,
    {
        let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        strict_schema(&mut schema);
        let mut tool = FunctionTool::new(name, description, schema);
        tool.strict = true;
        tool.check = Some(Arc::new(|args: &Value| {
            let typed: T = serde_json::from_value(args.clone()).map_err(|e| e.to_string())?;
            serde_json::to_value(typed).map_err(|e| e.to_string())
        }));
        tool
    }

    /// Whether the tool was declared from a Rust type (its calls' arguments are then checked).
    pub fn is_typed(&self) -> bool {
        self.check.is_some()
    }

    /// Validate and normalise a call's arguments when the tool was declared from a Rust type.
    /// Raw-schema tools pass the arguments through.
    pub fn check_arguments(&self, args: &Value) -> Result<Value, String> {
        match &self.check {
            Some(check) => check(args),
            None => Ok(args.clone()),
        }
    }
}

/// Make a JSON schema strict in the OpenAI sense: every object closes (`additionalProperties: false`
/// unless the schema already says otherwise) and lists every property as required. Applied
/// recursively, including `$defs`.
pub fn strict_schema(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            // schemars emits metadata that strict validators reject.
            map.remove("$schema");
            // schemars names Rust number types as formats (`uint64`, `int32`, `double`, ...); strict
            // modes accept only the string formats they document (OpenAI and Anthropic both list these),
            // and reject a request with any other. The integer type and its bounds still say it all.
            if map.get("format").and_then(Value::as_str).is_some_and(|f| !STRICT_FORMATS.contains(&f)) {
                map.remove("format");
            }
            let is_object = map.get("type").and_then(Value::as_str) == Some("object") || map.contains_key("properties");
            if is_object {
                map.entry("additionalProperties").or_insert(Value::Bool(false));
                if let Some(Value::Object(props)) = map.get("properties") {
                    let required: Vec<Value> = props.keys().cloned().map(Value::String).collect();
                    map.insert("required".into(), Value::Array(required));
                }
            }
            for v in map.values_mut() {
                strict_schema(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict_schema),
        _ => {}
    }
}

/// The `format` values strict structured-output modes document as supported.
const STRICT_FORMATS: &[&str] = &["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"];

/// Web search as a provider built-in tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSearch {
    /// Only search these domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_domains: Vec<String>,
    /// Never search these domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_domains: Vec<String>,
    /// Cap on searches per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
}

impl WebSearch {
    /// Web search with the provider's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Restrict to these domains.
    pub fn allowed_domains<I: IntoIterator<Item = S>, S: Into<String>>(mut self, d: I) -> Self {
        self.allowed_domains = d.into_iter().map(Into::into).collect();
        self
    }

    /// Exclude these domains.
    pub fn blocked_domains<I: IntoIterator<Item = S>, S: Into<String>>(mut self, d: I) -> Self {
        self.blocked_domains = d.into_iter().map(Into::into).collect();
        self
    }

    /// Cap searches per request.
    pub fn max_uses(mut self, n: u32) -> Self {
        self.max_uses = Some(n);
        self
    }
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Tool {
    /// A user function.
    Function(FunctionTool),
    /// The provider's web search.
    WebSearch(WebSearch),
    /// xAI's X search.
    XSearch,
    /// The provider's sandboxed code execution.
    CodeExecution,
    /// Google's URL context retrieval.
    UrlContext,
    /// A provider-specific tool object sent verbatim.
    Raw {
        /// The wire object.
        value: Value,
    },
}

impl Tool {
    /// The built-in's name for messages (`web_search`, ...), or the function name.
    pub fn name(&self) -> &str {
        match self {
            Tool::Function(f) => &f.name,
            Tool::WebSearch(_) => "web_search",
            Tool::XSearch => "x_search",
            Tool::CodeExecution => "code_execution",
            Tool::UrlContext => "url_context",
            Tool::Raw { value } => {
                value.get("name").or_else(|| value.get("type")).and_then(Value::as_str).unwrap_or("raw")
            }
        }
    }
}

impl From<FunctionTool> for Tool {
    fn from(f: FunctionTool) -> Self {
        Tool::Function(f)
    }
}

impl From<WebSearch> for Tool {
    fn from(w: WebSearch) -> Self {
        Tool::WebSearch(w)
    }
}

/// How the model may use the offered tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Required,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Tool(String),
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The provider's call id, echoed by the matching [`ToolResult`](crate::types::message::ToolResult).
    pub id: String,
    /// The function name.
    pub name: String,
    /// The parsed arguments: always a JSON object (a reply whose arguments are not one fails with
    /// [`Error::OutputValidation`](crate::Error::OutputValidation)).
    pub arguments: Value,
    /// Provider extras kept for replay (a Gemini thought signature, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty", flatten)]
    pub extra: Map<String, Value>,
}

impl ToolCall {
    /// A tool call.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: Value) -> Self {
        ToolCall { id: id.into(), name: name.into(), arguments, extra: Map::new() }
    }

    /// Deserialise the arguments into `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.arguments)
    }
}

/// A piece of a tool call arriving in a stream, keyed by the call's index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// Which call (0-based, in output order).
    pub index: usize,
    /// The call id, on the delta that starts the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function name, on the delta that starts the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A fragment of the JSON arguments text.
    #[serde(default)]
    pub arguments: String,
}

/// A provider-side tool's progress, reported while streaming (e.g. web search).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolActivity {
    /// The tool (`web_search`, `code_execution`, ...).
    pub tool_name: String,
    /// Where it is.
    pub status: ToolActivityStatus,
}

/// The state of a provider-side tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolActivityStatus {
    /// The tool started.
    Started,
    /// The tool finished.
    Completed,
}

/// Parse model-produced tool-call arguments leniently: control characters inside strings are tolerated
/// (LLMs emit raw newlines), and empty text is `{}`. Arguments that are not valid JSON, or not a JSON
/// object, are kept as the text the model sent (a JSON string): they are never silently `{}` (the
/// reference's 1.0.0), and the output they end up in is refused ([`arguments_problem`]).
pub(crate) fn parse_arguments(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match crate::types::output::parse_json_lenient(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::String(text.to_string()),
    }
}

/// What is wrong with a tool call's arguments, if anything: they must be a JSON object. A string is
/// the text the model sent ([`parse_arguments`]); a string that decodes to another string was encoded
/// twice, and is judged by what it holds.
pub(crate) fn arguments_problem(arguments: &Value) -> Option<&'static str> {
    match arguments {
        Value::Object(_) => None,
        Value::String(text) => match crate::types::output::parse_json_lenient(text) {
            Ok(Value::String(inner)) => arguments_problem(&Value::String(inner)).or(Some("not a JSON object")),
            Ok(_) => Some("not a JSON object"),
            Err(_) => Some("not valid JSON"),
        },
        _ => Some("not a JSON object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Weather {
        city: String,
        days: Option<u32>,
    }

    #[test]
    fn typed_tools_get_a_strict_schema_and_check_arguments() {
        let t = FunctionTool::of::<Weather>("get_weather", "Weather for a city");
        assert!(t.strict);
        assert_eq!(t.parameters["additionalProperties"], Value::Bool(false));
        let req: Vec<&str> = t.parameters["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(req, ["city", "days"]);
        assert!(t.parameters.get("$schema").is_none());
        assert_eq!(
            t.check_arguments(&serde_json::json!({"city": "Paris"})).unwrap(),
            serde_json::json!({"city": "Paris", "days": null})
        );
        assert!(t.check_arguments(&serde_json::json!({"town": "Paris"})).is_err());
    }

    /// Rust number formats are not in any strict mode's subset; documented string formats stay.
    #[test]
    fn strict_schemas_keep_only_documented_formats() {
        #[derive(Serialize, Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct City {
            population: u64,
            area: f64,
            format: String,
            founded: Stamp,
        }
        #[derive(Serialize, Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Stamp(#[schemars(with = "String", extend("format" = "date-time"))] String);
        let t = FunctionTool::of::<City>("city", "");
        let text = serde_json::to_string(&t.parameters).unwrap();
        for rejected in ["uint64", "double"] {
            assert!(!text.contains(rejected), "{rejected} in {text}");
        }
        assert!(text.contains("date-time"), "{text}");
        // A property that happens to be called `format` is a schema, not a format: it stays.
        assert!(t.parameters["properties"]["format"].is_object(), "{text}");
        assert_eq!(t.parameters["properties"]["population"]["minimum"], 0);
    }

    #[test]
    fn raw_tools_pass_arguments_through() {
        let t = FunctionTool::new("f", "", serde_json::json!({"type": "object"}));
        assert_eq!(t.description, None);
        let v = serde_json::json!({"anything": 1});
        assert_eq!(t.check_arguments(&v).unwrap(), v);
    }

    #[test]
    fn explicit_additional_properties_is_kept() {
        let mut s = serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true});
        strict_schema(&mut s);
        assert_eq!(s["additionalProperties"], Value::Bool(true));
        assert_eq!(s["required"], serde_json::json!(["a"]));
    }

    #[test]
    fn unusable_arguments_are_kept_as_sent_and_named() {
        assert_eq!(parse_arguments("{not json"), serde_json::json!("{not json"));
        assert_eq!(parse_arguments("[1]"), serde_json::json!("[1]"));
        assert_eq!(parse_arguments(""), serde_json::json!({}));
        assert_eq!(parse_arguments("{\"a\":\"x\ny\"}"), serde_json::json!({"a": "x\ny"}));
        assert_eq!(arguments_problem(&parse_arguments("{not json")), Some("not valid JSON"));
        assert_eq!(arguments_problem(&parse_arguments("[1]")), Some("not a JSON object"));
        assert_eq!(arguments_problem(&parse_arguments("\"{not json\"")), Some("not valid JSON"));
        assert_eq!(arguments_problem(&serde_json::json!(3)), Some("not a JSON object"));
        assert_eq!(arguments_problem(&serde_json::json!({})), None);
    }

    #[test]
    fn tools_round_trip_through_json_with_a_kind_tag() {
        let tools = vec![Tool::WebSearch(WebSearch::new().max_uses(3)), Tool::CodeExecution];
        let json = serde_json::to_string(&tools).unwrap();
        assert!(json.contains(r#""kind":"web_search""#), "{json}");
        let back: Vec<Tool> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, tools);
    }
}
