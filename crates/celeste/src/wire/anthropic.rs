//! The Anthropic Messages wire API (`POST /v1/messages`): request building (system extraction,
//! content blocks, tool-result batching, native replay, container carry-over, thinking), response
//! decoding, and the stream-state reconstruction of content blocks from SSE events.
//!
//! A stream is decoded into the same message a unary call returns (`message_start` with its content
//! blocks rebuilt per index and the last `message_delta` merged in), and that message goes through the
//! unary decoder: both paths yield the same [`Output`].

use std::collections::{BTreeMap, HashMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::stream::{Decoder, Frame};
use crate::types::Tool;
use crate::types::artifact::Artifact;
use crate::types::enums::Role;
use crate::types::message::{Item, Message, Part, ToolResult};
use crate::types::mime::MimeType;
use crate::types::output::{Chunk, GroundingSource, Output};
use crate::types::text::{TextParam, TextParams, TextRequest};
use crate::types::tool::{ToolActivityStatus, ToolCall, ToolChoice, parse_arguments};
use crate::types::usage::{FinishReason, Usage};
use crate::wire::WireContext;
use crate::wire::kit::{
    Accumulator, Field, Fields, Str, StreamEnd, WebRef, activity_chunk, call_chunk, domain_of, end_chunk, ended,
    present, put_params, reasoning_chunk,
};

/// The `anthropic-version` header value every request carries.
pub(crate) const API_VERSION: &str = "2023-06-01";

/// The output limit sent when neither the caller nor the catalog gives one (the API requires one).
pub(crate) const DEFAULT_MAX_TOKENS: u64 = 1024;

/// Models whose web search is the dynamic-filtering version (`web_search_20260209`).
const DYNAMIC_FILTERING_MODELS: &[&str] = &[
    "claude-fable-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-sonnet-5",
    "claude-sonnet-4-6",
];

/// The headers this wire API adds to every request.
pub(crate) fn headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![(HeaderName::from_static("anthropic-version"), HeaderValue::from_static(API_VERSION))]
}

/// The Messages API as Vertex AI hosts it (the reference's 1.0.0): the API version in the body, not
/// the header, no `model` (it is in the URL), and the web search tool at the version Vertex serves
/// (`web_search_20260209` is downgraded to `web_search_20250305`).
pub(crate) fn vertex_envelope(req: &mut crate::wire::WireRequest) {
    if let Value::Object(m) = &mut req.body {
        m.remove("model");
        m.insert("anthropic_version".into(), VERTEX_VERSION.into());
        for tool in m.get_mut("tools").and_then(Value::as_array_mut).into_iter().flatten() {
            if tool.get("type").and_then(Value::as_str) == Some(WEB_SEARCH_DYNAMIC) {
                tool["type"] = WEB_SEARCH_BASIC.into();
            }
        }
    }
    req.headers.retain(|(name, _)| name != "anthropic-version");
}

/// The `anthropic_version` Anthropic models on Vertex take in the body (instead of a header).
const VERTEX_VERSION: &str = "vertex-2023-10-16";

/// The web search tool's versions: with dynamic filtering, and the one every host serves.
const WEB_SEARCH_DYNAMIC: &str = "web_search_20260209";
const WEB_SEARCH_BASIC: &str = "web_search_20250305";

/// Where the Messages API puts each text parameter: no seed, penalties or verbosity. The output limit
/// is the module's own (it is required: the model's limit, or a default, when not set).
pub(crate) const FIELDS: Fields = &[
    (TextParam::Temperature, Field::Body("temperature")),
    (TextParam::MaxTokens, Field::Own),
    (TextParam::TopP, Field::Body("top_p")),
    (TextParam::TopK, Field::Body("top_k")),
    (TextParam::Stop, Field::Body("stop_sequences")),
    (TextParam::ThinkingBudget, Field::Own),
    (TextParam::ThinkingLevel, Field::Own),
];

// ---------------------------------------------------------------------------------------------------
// Requests

/// The request body for `req`.
pub(crate) fn build_request(req: &TextRequest, ctx: &WireContext, stream: bool) -> Result<Value> {
    let conv = conversation(&req.items, ctx)?;
    let p = &req.params;
    let mut body = Map::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    let max_tokens = p.max_tokens.or(req.limits.max_output_tokens).unwrap_or(DEFAULT_MAX_TOKENS);
    body.insert("max_tokens".into(), max_tokens.into());
    match conv.system.as_slice() {
        [] => {}
        [only] => {
            body.insert("system".into(), only["text"].clone());
        }
        _ => {
            body.insert("system".into(), Value::Array(conv.system));
        }
    }
    body.insert("messages".into(), Value::Array(conv.messages));
    if let Some(id) = conv.container {
        body.insert("container".into(), Value::String(id));
    }
    put_params(&mut body, p, FIELDS);
    // Shared by the effort and the structured-output format.
    let mut output_config = Map::new();
    thinking(p, &mut body, &mut output_config);
    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| tool(t, &req.model, ctx)).collect::<Result<Vec<_>>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = &req.tool_choice {
        body.insert("tool_choice".into(), tool_choice(choice));
    }
    if let Some(s) = &req.output_schema {
        // Generally available as `output_config.format` (no beta header). Anthropic accepts a
        // top-level array, so lists are not wrapped.
        output_config.insert("format".into(), json!({"type": "json_schema", "schema": s.strict()}));
    }
    if !output_config.is_empty() {
        body.insert("output_config".into(), Value::Object(output_config));
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    Ok(Value::Object(body))
}

/// `thinking` and `output_config.effort`. A thinking budget sets `thinking` (`-1`: the model decides,
/// `0`: off, else a fixed budget); without one, a reasoning effort turns on adaptive thinking with
/// summaries. The effort itself always goes to `output_config.effort` (`none`/`disabled` turn
/// thinking off instead).
fn thinking(p: &TextParams, body: &mut Map<String, Value>, output_config: &mut Map<String, Value>) {
    let effort = p.thinking_level.as_deref();
    let off = matches!(effort, Some("none" | "disabled"));
    let thinking = match (p.thinking_budget, effort) {
        (Some(-1), _) => Some(json!({"type": "adaptive"})),
        (Some(0), _) => Some(json!({"type": "disabled"})),
        (Some(n), _) => Some(json!({"type": "enabled", "budget_tokens": n})),
        (None, Some(_)) if off => Some(json!({"type": "disabled"})),
        (None, Some(_)) => Some(json!({"type": "adaptive", "display": "summarized"})),
        (None, None) => None,
    };
    if let Some(t) = thinking {
        body.insert("thinking".into(), t);
    }
    if let Some(e) = effort.filter(|_| !off) {
        output_config.insert("effort".into(), e.into());
    }
}

#[derive(Default)]
struct Conversation {
    /// Text blocks from system and developer messages.
    system: Vec<Value>,
    messages: Vec<Value>,
    /// The code-execution container of the latest message that carries one.
    container: Option<String>,
}

fn conversation(items: &[Item], ctx: &WireContext) -> Result<Conversation> {
    let mut conv = Conversation::default();
    // A tool result names the toolset of the call it answers (the reference's 1.0.0).
    let toolsets: HashMap<&str, &Value> = items
        .iter()
        .filter_map(|i| match i {
            Item::Message(m) => Some(m.tool_calls.iter()),
            Item::ToolResult(_) => None,
        })
        .flatten()
        .filter_map(|c| Some((c.id.as_str(), c.extra.get(TOOLSET_NAME)?)))
        .collect();
    // Consecutive tool results travel together as one user turn.
    let mut results: Vec<Value> = Vec::new();
    let flush = |results: &mut Vec<Value>, messages: &mut Vec<Value>| {
        if !results.is_empty() {
            messages.push(json!({"role": "user", "content": std::mem::take(results)}));
        }
    };
    for item in items {
        let m = match item {
            Item::ToolResult(r) => {
                results.push(tool_result(r, toolsets.get(r.tool_call_id.as_str()).copied()));
                continue;
            }
            Item::Message(m) => m,
        };
        if matches!(m.role, Role::System | Role::Developer) {
            for p in &m.content {
                match p {
                    Part::Text { text } => conv.system.push(json!({"type": "text", "text": text})),
                    other => {
                        return Err(ctx.unsupported(format!("{} content parts in system messages", other.input_type())));
                    }
                }
            }
            continue;
        }
        flush(&mut results, &mut conv.messages);
        if let Some(id) = m.container.as_ref().and_then(|c| c.get("id")).and_then(Value::as_str) {
            conv.container = Some(id.to_string());
        }
        let msg = message(m, ctx)?;
        // A turn with nothing to send (an empty prompt) would be rejected; it is left out.
        if msg["content"].as_array().is_some_and(|c| !c.is_empty()) {
            conv.messages.push(msg);
        }
    }
    flush(&mut results, &mut conv.messages);
    Ok(conv)
}

/// The `tool_use` field naming the toolset a tool belongs to, kept in `ToolCall::extra` and echoed.
const TOOLSET_NAME: &str = "toolset_name";

fn tool_result(r: &ToolResult, toolset: Option<&Value>) -> Value {
    let mut v = json!({"type": "tool_result", "tool_use_id": r.tool_call_id, "content": r.content_text()});
    if r.is_error {
        v["is_error"] = Value::Bool(true);
    }
    if let Some(name) = toolset {
        v[TOOLSET_NAME] = name.clone();
    }
    v
}

/// Whether an assistant turn's native blocks must be replayed as they are, instead of rebuilt: any
/// block other than (redacted) thinking means the provider's whole content array was kept.
fn replays_verbatim(signature: &[Value]) -> bool {
    signature.iter().any(|b| !matches!(b.get("type").and_then(Value::as_str), Some("thinking" | "redacted_thinking")))
}

fn message(m: &Message, ctx: &WireContext) -> Result<Value> {
    let assistant = m.role == Role::Assistant;
    if assistant && replays_verbatim(&m.signature) {
        return Ok(json!({"role": "assistant", "content": m.signature}));
    }
    let mut content = Vec::with_capacity(m.signature.len() + m.content.len() + m.tool_calls.len());
    if assistant {
        // Signed thinking blocks come first, where the model produced them.
        content.extend(m.signature.iter().cloned());
    }
    for p in &m.content {
        // The API rejects empty text blocks (an assistant turn that only called tools has one).
        if matches!(p, Part::Text { text } if text.is_empty()) {
            continue;
        }
        content.push(part(p, ctx)?);
    }
    if assistant {
        for call in &m.tool_calls {
            let input = if call.arguments.is_object() { call.arguments.clone() } else { json!({}) };
            let mut block = json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input});
            if let Some(name) = call.extra.get(TOOLSET_NAME) {
                block[TOOLSET_NAME] = name.clone();
            }
            content.push(block);
        }
    }
    let role = if assistant { "assistant" } else { "user" };
    Ok(json!({"role": role, "content": content}))
}

fn part(p: &Part, ctx: &WireContext) -> Result<Value> {
    Ok(match p {
        Part::Text { text } => json!({"type": "text", "text": text}),
        Part::Image { image } => json!({"type": "image", "source": source(image, "image", None)?}),
        Part::Document { document } => {
            json!({"type": "document", "source": source(document, "document", Some("application/pdf"))?})
        }
        other => return Err(ctx.unsupported_part(other)),
    })
}

/// A media block's `source`: base64 (from data, a file or a `data:` URL), `url`, or for plain-text
/// documents `text`. `fallback_mime` is used when the type is neither set nor detectable.
fn source(a: &Artifact, what: &str, fallback_mime: Option<&str>) -> Result<Value> {
    let has_bytes =
        a.data.as_ref().is_some_and(|d| !d.is_empty()) || a.path.as_ref().is_some_and(|p| !p.as_os_str().is_empty());
    if !has_bytes && let Some(url) = a.url.as_deref().filter(|u| !u.is_empty()) {
        return match url.strip_prefix("data:") {
            Some(rest) => data_url_source(rest, what, fallback_mime),
            None => Ok(json!({"type": "url", "url": url})),
        };
    }
    let bytes = a.bytes()?;
    let mime = a
        .mime()
        .or_else(|| MimeType::sniff(&bytes))
        .map(|m| m.to_string())
        .or_else(|| fallback_mime.map(str::to_string))
        .ok_or_else(|| unknown_mime(what))?;
    if what == "document" && mime == "text/plain" {
        return Ok(json!({"type": "text", "media_type": mime, "data": String::from_utf8_lossy(&bytes)}));
    }
    Ok(json!({"type": "base64", "media_type": mime, "data": STANDARD.encode(&bytes)}))
}

fn data_url_source(rest: &str, what: &str, fallback_mime: Option<&str>) -> Result<Value> {
    let (header, data) =
        rest.split_once(',').ok_or_else(|| Error::invalid_input(format!("the {what}'s data URL has no data")))?;
    let mut params = header.split(';');
    let media_type = params.next().filter(|m| !m.is_empty()).or(fallback_mime).ok_or_else(|| unknown_mime(what))?;
    if !params.any(|p| p.eq_ignore_ascii_case("base64")) {
        return Err(Error::invalid_input(format!(
            "the {what}'s data URL is not base64; Anthropic takes base64 data only"
        )));
    }
    Ok(json!({"type": "base64", "media_type": media_type, "data": data}))
}

fn unknown_mime(what: &str) -> Error {
    Error::invalid_input(format!(
        "the {what}'s MIME type is unknown (not set, and not detectable from its bytes or file extension); \
         set it with `with_mime_type`"
    ))
}

fn tool(t: &Tool, model: &str, ctx: &WireContext) -> Result<Value> {
    Ok(match t {
        Tool::Function(f) => {
            let schema = if f.parameters.is_null() { json!({"type": "object"}) } else { f.parameters.clone() };
            let mut v = json!({"name": f.name, "input_schema": schema});
            if let Some(d) = &f.description {
                v["description"] = d.clone().into();
            }
            v
        }
        Tool::WebSearch(w) => {
            let kind = if DYNAMIC_FILTERING_MODELS.contains(&model) { WEB_SEARCH_DYNAMIC } else { WEB_SEARCH_BASIC };
            let mut v = json!({"type": kind, "name": "web_search"});
            if !w.allowed_domains.is_empty() {
                v["allowed_domains"] = json!(w.allowed_domains);
            }
            if !w.blocked_domains.is_empty() {
                v["blocked_domains"] = json!(w.blocked_domains);
            }
            if let Some(n) = w.max_uses {
                v["max_uses"] = n.into();
            }
            v
        }
        Tool::Raw { value } => value.clone(),
        other => return Err(ctx.unsupported(format!("the {} tool (send it as `Tool::Raw`)", other.name()))),
    })
}

fn tool_choice(c: &ToolChoice) -> Value {
    match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
    }
}

// ---------------------------------------------------------------------------------------------------
// Responses: only the fields this library reads, borrowed from the body.

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct WireMessage<'a> {
    id: Option<Str<'a>>,
    model: Option<Str<'a>>,
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    content: Option<Vec<&'a RawValue>>,
    stop_reason: Option<Str<'a>>,
    usage: Option<&'a RawValue>,
    container: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
}

/// A content block, or a `content_block_delta`'s delta to one (the same fields, the delta's `type`
/// naming what it adds: `text_delta`, `input_json_delta`, ...).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Block<'a> {
    #[serde(rename = "type")]
    kind: Str<'a>,
    text: Option<Str<'a>>,
    thinking: Option<Str<'a>>,
    signature: Option<Str<'a>>,
    partial_json: Option<Str<'a>>,
    citation: Option<&'a RawValue>,
    /// A compaction block's (or `compaction_delta`'s) opaque content.
    encrypted_content: Option<&'a RawValue>,
    id: Option<Str<'a>>,
    name: Option<Str<'a>>,
    input: Option<&'a RawValue>,
    caller: Option<Caller<'a>>,
    toolset_name: Option<Str<'a>>,
    citations: Option<Vec<WebRef<'a>>>,
    /// A server tool result's content (for web search, a list of results or an error object); a
    /// compaction's summary.
    content: Option<&'a RawValue>,
}

/// Who called a tool: `direct` (the model) or a server tool (programmatic tool calling).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Caller<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Query<'a> {
    query: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutputDetails {
    thinking_tokens: Option<u64>,
}

/// A usage object as [`Usage`], keeping the provider's object in `raw`. Anthropic's `input_tokens`
/// leaves out the tokens read from and written to the prompt cache; [`Usage::input_tokens`] counts
/// them, so the three are added.
fn usage_from(raw: &RawValue) -> Usage {
    let (w, raw): (WireUsage, _) = crate::wire::decode_usage(raw, "anthropic usage");
    let input =
        // Saturating: the counts are the server's, and absurd ones must not overflow.
        w.input_tokens.map(|i| {
            i.saturating_add(w.cache_read_input_tokens.unwrap_or(0)).saturating_add(w.cache_creation_input_tokens.unwrap_or(0))
        });
    Usage {
        input_tokens: input,
        output_tokens: w.output_tokens,
        total_tokens: input.zip(w.output_tokens).map(|(i, o)| i.saturating_add(o)),
        cache_read_tokens: w.cache_read_input_tokens,
        cache_creation_tokens: w.cache_creation_input_tokens,
        reasoning_tokens: w.output_tokens_details.and_then(|d| d.thinking_tokens),
        raw,
        ..Usage::default()
    }
}

/// Everything the content blocks of a message hold.
#[derive(Default)]
struct Decoded {
    acc: Accumulator,
    /// Whether the blocks must be replayed verbatim on the next turn.
    native: bool,
}

impl Decoded {
    fn add_block(&mut self, raw: &RawValue) -> Result<()> {
        let b: Block = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("anthropic content block", e, raw.get().as_bytes()))?;
        let kind = b.kind.as_ref();
        // Compaction blocks go back verbatim too (the reference's 1.0.0).
        if matches!(kind, "thinking" | "redacted_thinking" | "server_tool_use" | "compaction")
            || kind.ends_with("_tool_result")
        {
            self.native = true;
        }
        match kind {
            "text" => {
                let start = self.acc.text_chars();
                self.acc.push_text(b.text.as_deref().unwrap_or_default());
                let end = self.acc.text_chars();
                // Citations cover the whole text block they are attached to.
                for c in b.citations.iter().flatten() {
                    if c.kind.as_deref() != Some("web_search_result_location") {
                        continue;
                    }
                    let (Some(url), Some(cited)) = (c.url.as_deref(), c.cited_text.as_deref()) else { continue };
                    let title = c.title.as_deref().map(str::to_string);
                    let source = GroundingSource { url: url.to_string(), title, domain: domain_of(url) };
                    self.acc.cite(source, Some((start, end)), Some(cited.to_string()));
                }
            }
            "thinking" => self.acc.push_reasoning_block(b.thinking.as_deref().unwrap_or_default()),
            "tool_use" => {
                if b.caller.as_ref().is_some_and(|c| c.kind.as_deref() != Some("direct")) {
                    self.native = true;
                }
                let args = present(b.input).map(|r| parse_arguments(r.get())).unwrap_or_else(|| json!({}));
                let id = b.id.unwrap_or_default().into_owned();
                let mut call = ToolCall::new(id, b.name.unwrap_or_default().into_owned(), args);
                if let Some(name) = b.toolset_name {
                    call.extra.insert(TOOLSET_NAME.into(), name.into_owned().into());
                }
                self.acc.tool_calls.push(call);
            }
            "server_tool_use" if b.name.as_deref() == Some("web_search") => {
                let query = present(b.input).and_then(|r| serde_json::from_str::<Query>(r.get()).ok());
                if let Some(q) = query.and_then(|q| q.query) {
                    self.acc.grounding().queries.push(q.into_owned());
                }
            }
            "web_search_tool_result" => {
                let results = present(b.content).and_then(|r| serde_json::from_str::<Vec<WebRef>>(r.get()).ok());
                for r in results.iter().flatten() {
                    if r.kind.as_deref() != Some("web_search_result") {
                        continue;
                    }
                    if let Some(url) = r.url.as_deref() {
                        let title = r.title.as_deref().map(str::to_string);
                        self.acc.cite(
                            GroundingSource { url: url.to_string(), title, domain: domain_of(url) },
                            None,
                            None,
                        );
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Decode a unary response body (also the message a stream was rebuilt into).
pub(crate) fn parse_response(body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
    let msg: WireMessage = serde_json::from_slice(&body).map_err(|e| Error::decode("anthropic message", e, &body))?;
    if msg.kind.as_deref() == Some("error") || present(msg.error).is_some() {
        let err = present(msg.error).and_then(|e| serde_json::from_str(e.get()).ok()).unwrap_or(Value::Null);
        return Err(ctx.stream_error_from(&err, &body));
    }
    let blocks = msg.content.unwrap_or_default();
    let mut d = Decoded::default();
    for raw in &blocks {
        d.add_block(raw)?;
    }
    if d.native {
        d.acc.signature = blocks.iter().map(|r| serde_json::from_str(r.get()).unwrap_or(Value::Null)).collect();
    }
    let end = StreamEnd {
        usage: present(msg.usage).map(usage_from),
        finish: msg.stop_reason.as_deref().map(FinishReason::from_raw),
        response_id: msg.id.map(Str::into_owned),
        response_model: msg.model.map(Str::into_owned),
        raw_response: Some(body.clone()),
        terminal: true,
    };
    let mut out = end.into_output(ctx, d.acc)?;
    out.container =
        present(msg.container).and_then(|c| serde_json::from_str::<Value>(c.get()).ok()).filter(Value::is_object);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------
// Streams

/// One stream event; only the fields this library reads, borrowed from the event's bytes.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    index: Option<usize>,
    message: Option<&'a RawValue>,
    content_block: Option<&'a RawValue>,
    delta: Option<&'a RawValue>,
    usage: Option<&'a RawValue>,
    container: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
}

/// A `content_block_delta` event with its delta decoded at once: the fields of [`Event`] that event
/// reads, with the same types.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct BlockDeltaEvent<'a> {
    #[serde(rename = "type")]
    _kind: Option<Str<'a>>,
    index: Option<usize>,
    delta: Option<Block<'a>>,
    container: Option<&'a RawValue>,
}

/// The commonest event, a `content_block_delta` carrying a `text_delta`, decoded small: the text, and
/// every other field [`Block`] and [`BlockDeltaEvent`] would read only checked for presence (one that
/// has any goes through them).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct TextDeltaEvent<'a> {
    #[serde(rename = "type")]
    _kind: Option<Str<'a>>,
    index: Option<usize>,
    delta: Option<TextDelta<'a>>,
    container: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: Str<'a>,
    text: Option<Str<'a>>,
    thinking: Option<IgnoredAny>,
    signature: Option<IgnoredAny>,
    partial_json: Option<IgnoredAny>,
    citation: Option<IgnoredAny>,
    encrypted_content: Option<IgnoredAny>,
    id: Option<IgnoredAny>,
    name: Option<IgnoredAny>,
    input: Option<IgnoredAny>,
    caller: Option<IgnoredAny>,
    toolset_name: Option<IgnoredAny>,
    citations: Option<IgnoredAny>,
    content: Option<IgnoredAny>,
}

impl<'a> TextDeltaEvent<'a> {
    /// The delta, when it is a text delta with nothing else on it or on the event.
    fn plain(self) -> Option<TextDelta<'a>> {
        let d = self.delta.filter(|_| self.container.is_none())?;
        let plain = &*d.kind == "text_delta"
            && d.thinking.is_none()
            && d.signature.is_none()
            && d.partial_json.is_none()
            && d.citation.is_none()
            && d.encrypted_content.is_none()
            && d.id.is_none()
            && d.name.is_none()
            && d.input.is_none()
            && d.caller.is_none()
            && d.toolset_name.is_none()
            && d.citations.is_none()
            && d.content.is_none();
        plain.then_some(d)
    }
}

/// A content block being rebuilt from its start event and deltas.
enum StreamBlock {
    Text {
        text: String,
        citations: Vec<Value>,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    /// `tool_use` or `server_tool_use`: the start block (every field kept, e.g. `caller`) and the
    /// input JSON text so far. `call` is the tool-call index of a client `tool_use`.
    Tool {
        block: Map<String, Value>,
        json: String,
        call: Option<usize>,
    },
    /// Server tool results, redacted thinking and anything unknown, kept as they started.
    Verbatim(Value),
}

impl StreamBlock {
    fn into_value(self) -> Value {
        match self {
            StreamBlock::Text { text, citations } if citations.is_empty() => json!({"type": "text", "text": text}),
            StreamBlock::Text { text, citations } => json!({"type": "text", "text": text, "citations": citations}),
            StreamBlock::Thinking { thinking, signature } => {
                json!({"type": "thinking", "thinking": thinking, "signature": signature})
            }
            StreamBlock::Tool { mut block, json, .. } => {
                let start = block.remove("input").filter(Value::is_object);
                let input =
                    if json.trim().is_empty() { start.unwrap_or_else(|| json!({})) } else { parse_arguments(&json) };
                block.insert("input".into(), input);
                Value::Object(block)
            }
            StreamBlock::Verbatim(v) => v,
        }
    }
}

/// The stream state of one Messages stream.
pub(crate) struct AnthropicDecoder {
    ctx: WireContext,
    /// `message_start`'s message, updated by each `message_delta`.
    message: Map<String, Value>,
    /// The usage object: `message_start`'s, then each `message_delta`'s (cumulative) fields over it.
    usage: Map<String, Value>,
    blocks: BTreeMap<usize, StreamBlock>,
    /// The index of the block that started last, for deltas that carry none.
    last_index: usize,
    calls_started: usize,
    terminal: bool,
}

impl AnthropicDecoder {
    pub(crate) fn new(ctx: WireContext) -> Self {
        AnthropicDecoder {
            ctx,
            message: Map::new(),
            usage: Map::new(),
            blocks: BTreeMap::new(),
            last_index: 0,
            calls_started: 0,
            terminal: false,
        }
    }

    fn merge_usage(&mut self, raw: &RawValue) {
        if let Ok(Value::Object(u)) = serde_json::from_str(raw.get()) {
            self.usage.extend(u);
        }
    }

    fn on_block_start(&mut self, index: usize, raw: &RawValue, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let block: Value = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("anthropic content block", e, raw.get().as_bytes()))?;
        let Value::Object(map) = block else { return Ok(()) };
        let kind = map.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        let state = match kind.as_str() {
            "text" => {
                let text = map.get("text").and_then(Value::as_str).unwrap_or_default().to_string();
                if !text.is_empty() {
                    out.push_back(Chunk::content(text.clone()));
                }
                let citations = map.get("citations").and_then(Value::as_array).cloned().unwrap_or_default();
                StreamBlock::Text { text, citations }
            }
            "thinking" => {
                let thinking = map.get("thinking").and_then(Value::as_str).unwrap_or_default().to_string();
                if !thinking.is_empty() {
                    out.push_back(reasoning_chunk(thinking.clone()));
                }
                let signature = map.get("signature").and_then(Value::as_str).unwrap_or_default().to_string();
                StreamBlock::Thinking { thinking, signature }
            }
            "tool_use" | "server_tool_use" => {
                let name = map.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                let call = if kind == "tool_use" {
                    let index = self.calls_started;
                    self.calls_started += 1;
                    let initial = map.get("input").filter(|v| v.as_object().is_some_and(|o| !o.is_empty()));
                    let id = map.get("id").and_then(Value::as_str).map(str::to_string);
                    out.push_back(call_chunk(index, id, Some(name), initial.map(Value::to_string).unwrap_or_default()));
                    Some(index)
                } else {
                    out.push_back(activity_chunk(name, ToolActivityStatus::Started));
                    None
                };
                StreamBlock::Tool { block: map, json: String::new(), call }
            }
            _ => {
                if let Some(tool) = kind.strip_suffix("_tool_result") {
                    out.push_back(activity_chunk(tool, ToolActivityStatus::Completed));
                }
                StreamBlock::Verbatim(Value::Object(map))
            }
        };
        self.blocks.insert(index, state);
        self.last_index = index;
        Ok(())
    }

    fn on_container(&mut self, container: Option<&RawValue>) {
        if let Some(c) = present(container).and_then(|c| serde_json::from_str::<Value>(c.get()).ok()) {
            self.message.insert("container".into(), c);
        }
    }

    fn on_block_delta(&mut self, index: usize, raw: &RawValue, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let d: Block = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("anthropic content block delta", e, raw.get().as_bytes()))?;
        self.on_block_delta_decoded(index, d, out)
    }

    fn on_block_delta_decoded(&mut self, index: usize, d: Block<'_>, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        if matches!(d.kind.as_ref(), "text_delta" | "citations_delta") {
            // Text may arrive for a block whose start was never seen.
            self.blocks
                .entry(index)
                .or_insert_with(|| StreamBlock::Text { text: String::new(), citations: Vec::new() });
        }
        let Some(block) = self.blocks.get_mut(&index) else { return Ok(()) };
        match (d.kind.as_ref(), block) {
            ("text_delta", StreamBlock::Text { text, .. }) => {
                let t = d.text.unwrap_or_default();
                if !t.is_empty() {
                    text.push_str(&t);
                    out.push_back(Chunk::content(t.into_owned()));
                }
            }
            ("citations_delta", StreamBlock::Text { citations, .. }) => {
                if let Some(c) = present(d.citation).and_then(|c| serde_json::from_str(c.get()).ok()) {
                    citations.push(c);
                }
            }
            ("thinking_delta", StreamBlock::Thinking { thinking, .. }) => {
                let t = d.thinking.unwrap_or_default();
                if !t.is_empty() {
                    thinking.push_str(&t);
                    out.push_back(reasoning_chunk(t.into_owned()));
                }
            }
            ("compaction_delta", StreamBlock::Verbatim(Value::Object(block))) => {
                for (key, value) in [("content", d.content), ("encrypted_content", d.encrypted_content)] {
                    if let Some(v) = present(value).and_then(|v| serde_json::from_str(v.get()).ok()) {
                        block.insert(key.into(), v);
                    }
                }
            }
            ("signature_delta", StreamBlock::Thinking { signature, .. }) => {
                signature.push_str(&d.signature.unwrap_or_default());
            }
            ("input_json_delta", StreamBlock::Tool { json, call, .. }) => {
                let piece = d.partial_json.unwrap_or_default();
                if !piece.is_empty() {
                    json.push_str(&piece);
                    if let Some(index) = *call {
                        out.push_back(call_chunk(index, None, None, piece.into_owned()));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_message_delta(&mut self, e: &Event<'_>, out: &mut VecDeque<Chunk<String>>) {
        let mut finish = None;
        if let Some(Ok(Value::Object(delta))) = present(e.delta).map(|d| serde_json::from_str::<Value>(d.get())) {
            finish = delta.get("stop_reason").and_then(Value::as_str).map(FinishReason::from_raw);
            self.message.extend(delta);
        }
        let usage = present(e.usage).and_then(|u| {
            self.merge_usage(u);
            // Serialising a map of JSON values does not fail.
            serde_json::value::to_raw_value(&self.usage).ok().map(|merged| usage_from(&merged))
        });
        if usage.is_some() || finish.is_some() {
            out.push_back(end_chunk(usage, finish));
        }
    }
}

impl Decoder<String, String> for AnthropicDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Frame::Sse(ev) = frame else { return Ok(()) };
        if ev.event.as_deref() == Some("ping") || ev.data.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        // The common event, decoded in one pass (its delta typed at once rather than kept raw and
        // decoded again); one that does not decode this way takes the general path, which reports it.
        if ev.event.as_deref() == Some("content_block_delta")
            && let Ok(e) = serde_json::from_slice::<TextDeltaEvent>(&ev.data)
        {
            let index = e.index.unwrap_or(self.last_index);
            if let Some(d) = e.plain() {
                let block = Block { kind: d.kind, text: d.text, ..Block::default() };
                return self.on_block_delta_decoded(index, block, out);
            }
        }
        if ev.event.as_deref() == Some("content_block_delta")
            && let Ok(e) = serde_json::from_slice::<BlockDeltaEvent>(&ev.data)
        {
            if let Some(d) = e.delta {
                self.on_block_delta_decoded(e.index.unwrap_or(self.last_index), d, out)?;
            }
            self.on_container(e.container);
            return Ok(());
        }
        let e: Event =
            serde_json::from_slice(&ev.data).map_err(|err| Error::decode("anthropic stream event", err, &ev.data))?;
        // The SSE event name, else the payload's `type` (they agree on the real API).
        let kind = ev.event.as_deref().filter(|k| !k.is_empty()).or(e.kind.as_deref()).unwrap_or_default();
        match kind {
            "message_start" => {
                if let Some(Ok(Value::Object(mut m))) =
                    present(e.message).map(|m| serde_json::from_str::<Value>(m.get()))
                {
                    if let Some(Value::Object(u)) = m.remove("usage") {
                        self.usage.extend(u);
                    }
                    self.message = m;
                }
            }
            "content_block_start" => {
                if let Some(raw) = present(e.content_block) {
                    let index = e.index.unwrap_or(self.blocks.len());
                    self.on_block_start(index, raw, out)?;
                }
            }
            "content_block_delta" => {
                if let Some(raw) = present(e.delta) {
                    self.on_block_delta(e.index.unwrap_or(self.last_index), raw, out)?;
                }
            }
            "message_delta" => self.on_message_delta(&e, out),
            "message_stop" => {
                // Some compatible servers report the final usage here.
                if let Some(u) = present(e.usage) {
                    self.merge_usage(u);
                }
                self.terminal = true;
            }
            "error" => {
                let err = present(e.error)
                    .and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or_else(|| serde_json::from_slice(&ev.data).unwrap_or(Value::Null));
                return Err(self.ctx.stream_error_from(&err, &ev.data));
            }
            _ => {}
        }
        self.on_container(e.container);
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.terminal
    }

    fn finish(&mut self) -> Result<Output<String>> {
        ended(self.terminal, self.ctx.origin, "no message_stop event")?;
        let mut message = std::mem::take(&mut self.message);
        let blocks = std::mem::take(&mut self.blocks);
        message.insert("content".into(), Value::Array(blocks.into_values().map(StreamBlock::into_value).collect()));
        if !self.usage.is_empty() {
            message.insert("usage".into(), Value::Object(std::mem::take(&mut self.usage)));
        }
        let body =
            serde_json::to_vec(&Value::Object(message)).map_err(|e| Error::decode("anthropic message", e, b""))?;
        parse_response(Bytes::from(body), &self.ctx)
    }
}

#[cfg(test)]
mod tests;
