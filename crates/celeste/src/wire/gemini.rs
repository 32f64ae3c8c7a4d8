//! The Gemini generateContent wire API (`POST /v1beta/models/{model}:generateContent`, streaming
//! `:streamGenerateContent?alt=sse`): request building, response decoding and stream-chunk decoding.
//!
//! Served by Vertex AI: Google's backend is chosen by authentication only (an API key goes to the
//! Interactions API, Vertex credentials here), as in the reference's 1.0.0, which removed the
//! mixed-tool fallback to this API.
//!
//! Decisions worth knowing:
//! - `Usage::output_tokens` is `candidatesTokenCount + thoughtsTokenCount`: this library's usage counts
//!   reasoning inside output tokens (as OpenAI does), and Gemini's `totalTokenCount` is prompt +
//!   candidates + thoughts. `reasoning_tokens` is `thoughtsTokenCount` on its own.
//! - The text is every non-thought text part, concatenated (unary and streamed alike); the reasoning
//!   is every `thought` text part, concatenated.
//! - The signature follows the reference's rule: the complete parts when they hold a `functionCall`,
//!   `executableCode`, `codeExecutionResult`, `toolCall` or `toolResponse` (Gemini wants the whole
//!   turn back verbatim then), otherwise the signed `thought` parts. A streamed function call whose
//!   arguments arrived in fragments is replayed as one assembled part.
//! - Function calls keep their `thoughtSignature` in `ToolCall::extra["thoughtSignature"]`, so a turn
//!   rebuilt from tool calls alone still carries it. Calls without an `id` (the Gemini API often sends
//!   none) get a local one prefixed `gemini-call-`, which is never sent back.
//! - Grounding offsets are UTF-8 byte offsets on the wire and character offsets in [`Citation`]. A
//!   segment without `startIndex` starts at 0 (proto3 omits zero values).

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value, json};

use crate::error::{Error, Result};
use crate::stream::{Decoder, Frame};
use crate::types::enums::Role;
use crate::types::message::{Item, Message, Part, ToolResult};
use crate::types::output::{Chunk, Grounding, GroundingSource, Output};
use crate::types::text::{TextParam, TextParams, TextRequest};
use crate::types::tool::{ToolCall, ToolChoice};
use crate::types::usage::{FinishKind, FinishReason};
use crate::types::{Citation, Tool};
use crate::wire::WireContext;
use crate::wire::google::{
    Media, byte_to_char, call_id, call_names, function_declaration, google_error, media, usage_from,
};
use crate::wire::kit::{
    Accumulator, Field, Fields, Str, StreamEnd, call_chunk, ended, json_event, put_params, reasoning_chunk,
    ride_on_last,
};

/// The streaming URL (`:streamGenerateContent?alt=sse`) for a unary generateContent URL.
pub(crate) fn stream_url(url: &str) -> String {
    match url.strip_suffix(":generateContent") {
        Some(model_url) => format!("{model_url}:streamGenerateContent?alt=sse"),
        None => url.to_string(),
    }
}

/// Prefix of the call ids this library makes up for calls the server sent without one.
const LOCAL_CALL_ID: &str = "gemini-call-";

// ---------------------------------------------------------------------------------------------------
// Requests

/// The request body for `req`. Streaming is chosen by the URL, not the body.
pub(crate) fn build_request(req: &TextRequest, ctx: &WireContext) -> Result<Value> {
    let mut body = Map::new();
    let (system, contents) = contents(&req.items, ctx)?;
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": system}));
    }
    let mut config = generation_config(&req.params);
    if let Some(s) = &req.output_schema {
        config.insert("responseMimeType".into(), "application/json".into());
        config.insert("responseJsonSchema".into(), s.untitled());
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    tools(req, ctx, &mut body)?;
    Ok(Value::Object(body))
}

fn generation_config(p: &TextParams) -> Map<String, Value> {
    let mut c = Map::new();
    put_params(&mut c, p, FIELDS);
    // A token budget (`-1` dynamic, `0` off) or a named level; both when the caller gives both (the
    // API decides which wins, as for any parameter pair it documents as exclusive).
    if p.thinking_budget.is_some() || p.thinking_level.is_some() {
        let mut t = Map::new();
        if let Some(budget) = p.thinking_budget {
            t.insert("thinkingBudget".into(), budget.into());
        }
        if let Some(level) = &p.thinking_level {
            t.insert("thinkingLevel".into(), level.as_str().into());
        }
        t.insert("includeThoughts".into(), true.into());
        c.insert("thinkingConfig".into(), Value::Object(t));
    }
    c
}

/// Where generateContent puts each text parameter (in `generationConfig`): all but verbosity.
pub(crate) const FIELDS: Fields = &[
    (TextParam::Temperature, Field::Body("temperature")),
    (TextParam::MaxTokens, Field::Body("maxOutputTokens")),
    (TextParam::TopP, Field::Body("topP")),
    (TextParam::TopK, Field::Body("topK")),
    (TextParam::Seed, Field::Body("seed")),
    (TextParam::Stop, Field::Body("stopSequences")),
    (TextParam::FrequencyPenalty, Field::Body("frequencyPenalty")),
    (TextParam::PresencePenalty, Field::Body("presencePenalty")),
    (TextParam::ThinkingBudget, Field::Own),
    (TextParam::ThinkingLevel, Field::Own),
];

/// The system parts and the conversation `contents`.
fn contents(items: &[Item], ctx: &WireContext) -> Result<(Vec<Value>, Vec<Value>)> {
    let names = call_names(items);
    let mut system = Vec::new();
    let mut contents: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Message(m) => match m.role {
                Role::System | Role::Developer => system.extend(parts(&m.content, ctx)?),
                Role::Assistant => {
                    let p = model_parts(m, ctx)?;
                    if !p.is_empty() {
                        contents.push(json!({"role": "model", "parts": p}));
                    }
                }
                _ => {
                    let p = parts(&m.content, ctx)?;
                    if !p.is_empty() {
                        contents.push(json!({"role": "user", "parts": p}));
                    }
                }
            },
            Item::ToolResult(r) => {
                let part = function_response(r, &names);
                // The results of parallel calls go back together, in one user turn.
                let last_is_results = contents.last().is_some_and(|c| {
                    c["role"] == "user"
                        && c["parts"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().all(|p| p.get("functionResponse").is_some()))
                });
                match contents.last_mut().and_then(|c| c["parts"].as_array_mut()) {
                    Some(ps) if last_is_results => ps.push(part),
                    _ => contents.push(json!({"role": "user", "parts": [part]})),
                }
            }
        }
    }
    Ok((system, contents))
}

fn parts(content: &[Part], ctx: &WireContext) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(content.len());
    for p in content {
        match p {
            Part::Text { text } if text.is_empty() => {}
            Part::Text { text } => out.push(json!({"text": text})),
            other => match other.artifact() {
                Some(a) => out.push(match media(a)? {
                    Media::Inline { mime, data } => json!({"inlineData": {"mimeType": mime, "data": data}}),
                    Media::Uri { uri, mime: Some(mime) } => json!({"fileData": {"mimeType": mime, "fileUri": uri}}),
                    Media::Uri { uri, mime: None } => json!({"fileData": {"fileUri": uri}}),
                }),
                None => return Err(ctx.unsupported_part(other)),
            },
        }
    }
    Ok(out)
}

/// The parts of an assistant turn: its native parts verbatim when Gemini needs them back whole,
/// else its signed thought parts, its content and its calls.
fn model_parts(m: &Message, ctx: &WireContext) -> Result<Vec<Value>> {
    if needs_native_replay(&m.signature) {
        return Ok(m.signature.clone());
    }
    let mut out = m.signature.clone();
    out.extend(parts(&m.content, ctx)?);
    for c in &m.tool_calls {
        let mut call = json!({"name": c.name, "args": c.arguments});
        if !c.id.is_empty() && !c.id.starts_with(LOCAL_CALL_ID) {
            call["id"] = c.id.clone().into();
        }
        let mut part = json!({"functionCall": call});
        if let Some(sig) = c.extra.get("thoughtSignature") {
            part["thoughtSignature"] = sig.clone();
        }
        out.push(part);
    }
    Ok(out)
}

fn function_response(r: &ToolResult, names: &HashMap<&str, &str>) -> Value {
    let name = r.name.as_deref().or_else(|| names.get(r.tool_call_id.as_str()).copied()).unwrap_or_default();
    // An object result is the response itself; any other value is wrapped (the reference's 1.0.0).
    let body = match (&r.content, r.is_error) {
        (Value::Object(_), false) => r.content.clone(),
        (_, false) => json!({"result": r.content}),
        (_, true) => json!({"error": r.content}),
    };
    let mut response = json!({"name": name, "response": body});
    if !r.tool_call_id.is_empty() && !r.tool_call_id.starts_with(LOCAL_CALL_ID) {
        response["id"] = r.tool_call_id.clone().into();
    }
    json!({"functionResponse": response})
}

/// Part keys after which Gemini requires the complete parts on the next turn.
const NATIVE_PART_KEYS: [&str; 5] =
    ["functionCall", "executableCode", "codeExecutionResult", "toolCall", "toolResponse"];

fn needs_native_replay(parts: &[Value]) -> bool {
    parts.iter().any(|p| NATIVE_PART_KEYS.iter().any(|k| p.get(k).is_some()))
}

fn tools(req: &TextRequest, ctx: &WireContext, body: &mut Map<String, Value>) -> Result<()> {
    let mut tools = Vec::new();
    let mut declarations = Vec::new();
    let mut server_side = false;
    for t in &req.tools {
        match t {
            Tool::Function(f) => {
                declarations.push(function_declaration(f, json!({"name": f.name}), "parametersJsonSchema"));
            }
            Tool::WebSearch(w) => {
                server_side = true;
                if !w.allowed_domains.is_empty() || w.max_uses.is_some() {
                    tracing::warn!(origin = %ctx.origin, "web search: allowed_domains and max_uses are not supported by Google and were dropped");
                }
                let mut config = Map::new();
                if !w.blocked_domains.is_empty() {
                    config.insert("exclude_domains".into(), json!(w.blocked_domains));
                }
                tools.push(json!({"google_search": config}));
            }
            Tool::CodeExecution => {
                server_side = true;
                tools.push(json!({"code_execution": {}}));
            }
            Tool::UrlContext => {
                server_side = true;
                tools.push(json!({"url_context": {}}));
            }
            Tool::Raw { value } => {
                server_side = true;
                tools.push(value.clone());
            }
            other => return Err(ctx.unsupported(format!("the {} tool", other.name()))),
        }
    }
    let mut tool_config = Map::new();
    if !declarations.is_empty() {
        // Gemini requires this flag when function declarations sit beside built-in tools.
        if server_side {
            tool_config.insert("includeServerSideToolInvocations".into(), Value::Bool(true));
        }
        tools.push(json!({"functionDeclarations": declarations}));
    }
    crate::wire::kit::refuse_builtin_choice(req, ctx)?;
    if let Some(choice) = &req.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        tool_config.insert("functionCallingConfig".into(), config);
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if !tool_config.is_empty() {
        body.insert("toolConfig".into(), Value::Object(tool_config));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Responses and stream chunks: one shape (a `GenerateContentResponse`). Only the fields this library
// reads, borrowed from the payload; everything else (and every `null`) is accepted.

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, bound(deserialize = "'de: 'a"))]
struct GenerateResponse<'a> {
    candidates: Option<Vec<Candidate<'a>>>,
    usage_metadata: Option<&'a RawValue>,
    model_version: Option<Str<'a>>,
    response_id: Option<Str<'a>>,
    prompt_feedback: Option<PromptFeedback<'a>>,
    error: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, bound(deserialize = "'de: 'a"))]
struct Candidate<'a> {
    index: Option<u64>,
    content: Option<Content<'a>>,
    finish_reason: Option<Str<'a>>,
    grounding_metadata: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Content<'a> {
    parts: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, bound(deserialize = "'de: 'a"))]
struct PromptFeedback<'a> {
    block_reason: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, bound(deserialize = "'de: 'a"))]
struct WirePart<'a> {
    text: Option<Str<'a>>,
    thought: Option<bool>,
    thought_signature: Option<Str<'a>>,
    function_call: Option<FunctionCall<'a>>,
    executable_code: Option<&'a RawValue>,
    code_execution_result: Option<&'a RawValue>,
    tool_call: Option<&'a RawValue>,
    tool_response: Option<&'a RawValue>,
}

impl WirePart<'_> {
    fn is_native(&self) -> bool {
        self.function_call.is_some()
            || self.executable_code.is_some()
            || self.code_execution_result.is_some()
            || self.tool_call.is_some()
            || self.tool_response.is_some()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, bound(deserialize = "'de: 'a"))]
struct FunctionCall<'a> {
    id: Option<Str<'a>>,
    name: Option<Str<'a>>,
    args: Option<&'a RawValue>,
    /// Streamed arguments (`streamFunctionCallArguments`): fragments addressed by JSON path.
    partial_args: Option<Vec<PartialArg<'a>>>,
    will_continue: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, bound(deserialize = "'de: 'a"))]
struct PartialArg<'a> {
    json_path: Option<Str<'a>>,
    string_value: Option<Str<'a>>,
    number_value: Option<Number>,
    bool_value: Option<bool>,
    null_value: Option<&'a RawValue>,
}

/// A part kept for the signature, in arrival order.
enum StoredPart {
    /// The part's JSON, verbatim.
    Raw { json: String, signed_thought: bool },
    /// A function call assembled from streamed fragments (index into the calls).
    Call(usize),
}

/// A function call whose arguments are still streaming.
struct OpenCall {
    index: usize,
    id: String,
    name: String,
    args: Value,
    signature: Option<String>,
}

/// The state of one generateContent response, unary or streamed.
pub(crate) struct GeminiDecoder {
    ctx: WireContext,
    /// Text, reasoning and the calls completed so far (the signature and grounding are made at the
    /// end, from `parts` and `grounding`).
    acc: Accumulator,
    open: Option<OpenCall>,
    parts: Vec<StoredPart>,
    native: bool,
    grounding: Vec<Value>,
    /// The response's parts as grounding addresses them (`segment.partIndex`).
    part_texts: Vec<PartText>,
    /// Whether text fragments continue the part before them (a stream sends one part in many
    /// events); a unary response lists its parts whole.
    merge_fragments: bool,
    /// How many values the streamed arguments' paths may still create (see [`MAX_ARG_VALUES`]).
    arg_budget: usize,
    /// There is no end event: `terminal` is a chunk with a finish reason, and the raw response the
    /// last chunk that carried usage.
    end: StreamEnd,
}

impl GeminiDecoder {
    pub(crate) fn new(ctx: WireContext) -> Self {
        GeminiDecoder {
            ctx,
            acc: Accumulator::default(),
            open: None,
            parts: Vec::new(),
            native: false,
            grounding: Vec::new(),
            part_texts: Vec::new(),
            merge_fragments: true,
            arg_budget: MAX_ARG_VALUES,
            end: StreamEnd::default(),
        }
    }

    /// Fold one `GenerateContentResponse` (a whole response or one stream chunk) in.
    fn fold(&mut self, data: &Bytes, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let r: GenerateResponse =
            serde_json::from_slice(data).map_err(|e| Error::decode("gemini generateContent response", e, data))?;
        if let Some(err) = r.error.as_ref().filter(|e| !e.is_null()) {
            return Err(google_error(&self.ctx, err, data));
        }
        self.end.first_ids(r.response_id.as_deref(), r.model_version.as_deref());
        let first = out.len();
        let mut finish = None;
        let candidate = r.candidates.as_deref().unwrap_or_default().iter().find(|c| c.index.unwrap_or(0) == 0);
        if let Some(c) = candidate {
            for raw in c.content.iter().flat_map(|c| c.parts.iter().flatten()) {
                self.add_part(raw, out)?;
            }
            if let Some(g) = c.grounding_metadata {
                self.grounding.push(serde_json::from_str(g.get()).unwrap_or(Value::Null));
            }
            finish = c.finish_reason.as_deref().map(str::to_string).map(|raw| (raw, false));
        } else if let Some(reason) = r.prompt_feedback.as_ref().and_then(|f| f.block_reason.as_deref()) {
            // The prompt itself was blocked: no candidate at all.
            finish = Some((reason.to_string(), true));
        }
        let usage = r.usage_metadata.map(usage_from);
        if let Some(u) = &usage {
            self.end.usage = Some(u.clone());
            self.end.raw_response = Some(data.clone());
        }
        if let Some((raw, blocked)) = finish {
            self.close_open(out);
            let reason = if blocked {
                FinishReason::new(FinishKind::ContentFilter, raw)
            } else if raw.eq_ignore_ascii_case("stop") && self.acc.has_calls() {
                FinishReason::new(FinishKind::ToolCall, raw)
            } else {
                FinishReason::from_raw(raw)
            };
            self.end.finish = Some(reason);
            self.end.terminal = true;
        } else if !self.end.terminal {
            // Usage is cumulative on every chunk; it rides on the terminal chunk only.
            return Ok(());
        }
        ride_on_last(out, first, usage, self.end.finish.clone());
        Ok(())
    }

    fn add_part(&mut self, raw: &RawValue, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let p: WirePart = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("gemini content part", e, raw.get().as_bytes()))?;
        if let Some(fc) = &p.function_call {
            self.native = true;
            // A call's later fragments (no name) belong to the part its first one opened.
            if fc.name.as_deref().is_some_and(|n| !n.is_empty()) {
                self.part_texts.push(PartText::default());
            }
            return self.add_function_call(fc, p.thought_signature.as_deref(), raw, out);
        }
        self.native |= p.is_native();
        let thought = p.thought == Some(true);
        self.add_part_text(p.text.as_deref(), thought);
        if let Some(t) = p.text.as_deref().filter(|t| !t.is_empty()) {
            if thought {
                self.acc.reasoning.push_str(t);
                out.push_back(reasoning_chunk(t.to_string()));
            } else {
                self.acc.push_text(t);
                out.push_back(Chunk::content(t.to_string()));
            }
        }
        self.parts.push(StoredPart::Raw {
            json: raw.get().to_string(),
            signed_thought: thought && p.thought_signature.is_some(),
        });
        Ok(())
    }

    fn add_function_call(
        &mut self,
        fc: &FunctionCall<'_>,
        signature: Option<&str>,
        raw: &RawValue,
        out: &mut VecDeque<Chunk<String>>,
    ) -> Result<()> {
        let name = fc.name.as_deref().filter(|n| !n.is_empty());
        let fragment = fc.will_continue == Some(true) || fc.partial_args.is_some() || name.is_none();
        let args = fc.args.map(|a| serde_json::from_str::<Value>(a.get()).unwrap_or(Value::Null));
        if let (Some(name), false) = (name, fragment) {
            // A complete call in one part.
            self.close_open(out);
            let index = self.acc.tool_calls.len();
            let id = call_id(fc.id.as_deref(), LOCAL_CALL_ID, index);
            // Absent arguments are none; any other non-object fails the output (never `{}`).
            let args = args.filter(|a| !a.is_null()).unwrap_or_else(|| Value::Object(Map::new()));
            let mut call = ToolCall::new(id.clone(), name, args);
            if let Some(sig) = signature {
                call.extra.insert("thoughtSignature".into(), sig.into());
            }
            out.push_back(call_chunk(index, Some(id), Some(name.to_string()), call.arguments.to_string()));
            self.acc.tool_calls.push(call);
            self.parts.push(StoredPart::Raw { json: raw.get().to_string(), signed_thought: false });
            return Ok(());
        }
        if let Some(name) = name {
            // The first fragment of a streamed call names it.
            self.close_open(out);
            let index = self.acc.tool_calls.len();
            let id = call_id(fc.id.as_deref(), LOCAL_CALL_ID, index);
            out.push_back(call_chunk(index, Some(id.clone()), Some(name.to_string()), String::new()));
            self.open = Some(OpenCall {
                index,
                id,
                name: name.to_string(),
                args: args.filter(Value::is_object).unwrap_or_else(|| Value::Object(Map::new())),
                signature: None,
            });
            self.parts.push(StoredPart::Call(index));
        }
        if let Some(open) = self.open.as_mut() {
            if open.signature.is_none() {
                open.signature = signature.map(str::to_string);
            }
            for pa in fc.partial_args.iter().flatten() {
                if let Err(PathError::TooLarge(why)) = apply_partial_arg(&mut open.args, pa, &mut self.arg_budget) {
                    return Err(Error::decode(
                        "gemini streamed function-call arguments (partialArgs)",
                        why,
                        raw.get().as_bytes(),
                    ));
                }
            }
        }
        if fc.will_continue != Some(true) {
            self.close_open(out);
        }
        Ok(())
    }

    /// Keep a part's text for grounding: a text fragment continues a stream's part of the same kind.
    fn add_part_text(&mut self, text: Option<&str>, thought: bool) {
        let Some(text) = text else {
            self.part_texts.push(PartText::default());
            return;
        };
        let start = (!thought).then(|| self.acc.text_chars());
        match self.part_texts.last_mut() {
            Some(last) if self.merge_fragments && last.text.is_some() && last.start.is_some() != thought => {
                last.text.get_or_insert_with(String::new).push_str(text);
            }
            _ => self.part_texts.push(PartText { text: Some(text.to_string()), start }),
        }
    }

    /// Finish a streamed call: its arguments go out as one delta.
    fn close_open(&mut self, out: &mut VecDeque<Chunk<String>>) {
        let Some(open) = self.open.take() else { return };
        let mut call = ToolCall::new(open.id, open.name, open.args);
        if let Some(sig) = open.signature {
            call.extra.insert("thoughtSignature".into(), sig.into());
        }
        out.push_back(call_chunk(open.index, None, None, call.arguments.to_string()));
        self.acc.tool_calls.push(call);
    }

    fn signature(&self) -> Vec<Value> {
        // A call part whose call never completed has no value.
        let value = |p: &StoredPart| match p {
            StoredPart::Raw { json, .. } => Some(serde_json::from_str(json).unwrap_or(Value::Null)),
            StoredPart::Call(i) => {
                let c = self.acc.tool_calls.get(*i)?;
                let mut call = json!({"name": c.name, "args": c.arguments});
                if !c.id.starts_with(LOCAL_CALL_ID) {
                    call["id"] = c.id.clone().into();
                }
                let mut part = json!({"functionCall": call});
                if let Some(sig) = c.extra.get("thoughtSignature") {
                    part["thoughtSignature"] = sig.clone();
                }
                Some(part)
            }
        };
        if self.native {
            self.parts.iter().filter_map(value).collect()
        } else {
            self.parts
                .iter()
                .filter(|p| matches!(p, StoredPart::Raw { signed_thought: true, .. }))
                .filter_map(value)
                .collect()
        }
    }

    /// The output, once: the signature and grounding are made from what was kept.
    fn build(&mut self) -> Result<Output<String>> {
        self.acc.signature = self.signature();
        self.acc.grounding = grounding(&self.grounding, &self.part_texts);
        self.end.assemble(&self.ctx, &mut self.acc)
    }
}

/// How many values (array slots and object entries) the JSON paths of one response's streamed
/// arguments may create, all calls together. A path is a few bytes of input but can name a slot far
/// past the end of an array (`$.a[99999]` makes 100,000 values) or a new key in every fragment: without
/// a bound on the total, a 5 KB event built close to a gigabyte. No real call needs this many: each
/// value costs the model at least a token, and more than any output limit allows.
const MAX_ARG_VALUES: usize = 100_000;

/// How deep an argument path may reach. Serialising and dropping a `Value` recurse, so a path of a
/// million `[0]` segments would overflow the stack; serde_json refuses documents deeper than 128, and
/// the streamed paths stay below that.
const MAX_ARG_DEPTH: usize = 64;

/// What was wrong with a streamed argument's path.
enum PathError {
    /// The path does not parse: the fragment is skipped, as an unknown field would be.
    Malformed,
    /// The path would build more than the limits allow: the event is refused.
    TooLarge(String),
}

/// Set one streamed argument at its JSON path; string fragments at the same path are appended.
/// `budget` is the number of values paths may still create (see [`MAX_ARG_VALUES`]).
fn apply_partial_arg(args: &mut Value, pa: &PartialArg<'_>, budget: &mut usize) -> Result<(), PathError> {
    let Some(path) = pa.json_path.as_deref() else { return Ok(()) };
    let value = if let Some(s) = &pa.string_value {
        Value::String(s.to_string())
    } else if let Some(n) = &pa.number_value {
        Value::Number(n.clone())
    } else if let Some(b) = pa.bool_value {
        Value::Bool(b)
    } else if pa.null_value.is_some() {
        Value::Null
    } else {
        return Ok(());
    };
    let slot = match path_slot(args, path, budget) {
        Ok(slot) => slot,
        Err(PathError::Malformed) => return Ok(()),
        Err(e) => return Err(e),
    };
    match (slot, value) {
        (Value::String(existing), Value::String(more)) => existing.push_str(&more),
        (slot, value) => *slot = value,
    }
    Ok(())
}

/// The value at a JSON path (`$.a.b`, `$.list[2]`, `$['key']`), created on the way. Each value created
/// (a new key, or an array slot up to the index) is taken from `budget`; a path that would need more
/// than is left, or that is deeper than [`MAX_ARG_DEPTH`], changes nothing and is refused.
fn path_slot<'v>(root: &'v mut Value, path: &str, budget: &mut usize) -> Result<&'v mut Value, PathError> {
    // Parsed whole before anything is created, so a path too deep is refused before it builds a level.
    let mut segments = Vec::new();
    let mut rest = path.strip_prefix('$').ok_or(PathError::Malformed)?;
    while !rest.is_empty() {
        if segments.len() == MAX_ARG_DEPTH {
            return Err(PathError::TooLarge(format!("a path is deeper than {MAX_ARG_DEPTH} levels")));
        }
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            rest = &r[end..];
            segments.push(Err(&r[..end]));
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or(PathError::Malformed)?;
            let inner = &r[..end];
            rest = &r[end + 1..];
            segments.push(match inner.parse::<usize>() {
                Ok(i) => Ok(i),
                Err(_) => Err(inner.trim_matches(['\'', '"'])),
            });
        } else {
            return Err(PathError::Malformed);
        }
    }
    let too_many = || PathError::TooLarge(format!("the paths create more than {MAX_ARG_VALUES} values"));
    let mut cur = root;
    for segment in segments {
        cur = match segment {
            Ok(i) => {
                if !cur.is_array() {
                    *cur = Value::Array(Vec::new());
                }
                let arr = cur.as_array_mut().ok_or(PathError::Malformed)?;
                if arr.len() <= i {
                    // Checked before growing: the index alone can be any `usize` (even `usize::MAX`).
                    let new = (i - arr.len()).saturating_add(1);
                    *budget = budget.checked_sub(new).ok_or_else(too_many)?;
                    arr.resize(i + 1, Value::Null);
                }
                &mut arr[i]
            }
            Err(key) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                let map = cur.as_object_mut().ok_or(PathError::Malformed)?;
                if !map.contains_key(key) {
                    *budget = budget.checked_sub(1).ok_or_else(too_many)?;
                }
                map.entry(key).or_insert(Value::Null)
            }
        };
    }
    Ok(cur)
}

/// One part of the response as grounding addresses it (`segment.partIndex`).
#[derive(Default)]
struct PartText {
    /// A text part's text (a stream's fragments joined); `None` for other parts.
    text: Option<String>,
    /// Where a non-thought text part starts in the output's text, in characters.
    start: Option<usize>,
}

/// The sources, citations, queries and search widget of `groundingMetadata` blocks. A support's
/// offsets are UTF-8 bytes within its part (`segment.partIndex`, 0 when absent), made characters of
/// the output's text; a span outside a text part, backwards, inside a character or whose
/// `segment.text` is not the text it covers is dropped, its sources kept (the reference's 1.0.0).
fn grounding(blocks: &[Value], parts: &[PartText]) -> Option<Grounding> {
    if blocks.is_empty() {
        return None;
    }
    let mut g = Grounding::default();
    for meta in blocks {
        for q in meta["webSearchQueries"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !g.queries.iter().any(|have| have == q) {
                g.queries.push(q.to_string());
            }
        }
        let sources: Vec<Option<usize>> = meta["groundingChunks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|chunk| {
                let web = &chunk["web"];
                let url = web["uri"].as_str().filter(|u| !u.is_empty())?;
                let title = web["title"].as_str().map(str::to_string);
                let domain = web["domain"].as_str().map(str::to_string).or_else(|| title.clone());
                Some(g.add_source(GroundingSource { url: url.to_string(), title, domain }))
            })
            .collect();
        for support in meta["groundingSupports"].as_array().into_iter().flatten() {
            let segment = &support["segment"];
            let part = usize::try_from(segment["partIndex"].as_u64().unwrap_or(0)).ok().and_then(|i| parts.get(i));
            let Some((text, base)) = part.and_then(|p| Some((p.text.as_deref()?, p.start?))) else { continue };
            let Some(end) = segment["endIndex"].as_u64() else { continue };
            let start = segment["startIndex"].as_u64().unwrap_or(0);
            let (Some(start), Some(end)) = (
                usize::try_from(start).ok().and_then(|s| byte_to_char(text, s)),
                usize::try_from(end).ok().and_then(|e| byte_to_char(text, e)),
            ) else {
                continue;
            };
            let sliced = || text.chars().skip(start).take(end - start).collect::<String>();
            if start > end || segment["text"].as_str().is_some_and(|t| t != sliced()) {
                continue;
            }
            // Saturating: the offsets are the server's, and absurd ones must not overflow.
            let (start, end) = (base.saturating_add(start), base.saturating_add(end));
            let source_indices = support["groundingChunkIndices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| sources.get(usize::try_from(i.as_u64()?).ok()?).copied().flatten())
                .collect();
            let citation =
                Citation { start, end, source_indices, cited_text: segment["text"].as_str().map(str::to_string) };
            if !g.citations.contains(&citation) {
                g.citations.push(citation);
            }
        }
        if let Some(html) = meta["searchEntryPoint"]["renderedContent"].as_str() {
            g.search_entry_point = Some(html.to_string());
        }
    }
    Some(g)
}

/// Decode a unary response body.
pub(crate) fn parse_response(body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
    let mut dec = GeminiDecoder::new(ctx.clone());
    dec.merge_fragments = false;
    let mut sink = VecDeque::new();
    dec.fold(&body, &mut sink)?;
    dec.close_open(&mut sink);
    dec.end.raw_response = Some(body);
    dec.build()
}

impl Decoder<String, String> for GeminiDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Some(ev) = json_event(frame) else { return Ok(()) };
        self.fold(&ev.data, out)
    }

    fn is_terminal(&self) -> bool {
        self.end.terminal
    }

    fn finish(&mut self) -> Result<Output<String>> {
        // There is no end-of-stream event: the chunk with a finishReason is the last one that
        // matters, and whatever follows it before the body ends is still folded in.
        ended(self.end.terminal, self.ctx.origin, "no chunk with a finishReason")?;
        self.build()
    }
}

#[cfg(test)]
mod tests;
