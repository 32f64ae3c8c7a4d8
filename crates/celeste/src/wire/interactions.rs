//! The Gemini Interactions wire API (`POST /v1beta/interactions`), Google's default text API for API
//! keys: request building, response decoding and stream-event decoding.
//!
//! A response is a list of typed `steps` (`thought`, `model_output`, `function_call`,
//! `google_search_call`, ...; older servers call the list `outputs`). A stream rebuilds those steps
//! from `step.start` / `step.delta` / `step.stop` events and ends with `interaction.completed`.
//!
//! Decisions worth knowing:
//! - `Usage::output_tokens` is `total_output_tokens + total_thought_tokens` (reasoning is counted inside
//!   output tokens in this library; `total_tokens` is input + output + thoughts on the wire).
//! - Streamed text and reasoning come from the deltas as they arrive; tool calls, the signature (the
//!   `thought` steps, verbatim) and grounding come from completed steps only: a step that never
//!   receives `step.stop` is dropped.
//! - `tool_choice` lives in `generation_config`, as the reference and the public SDK put it.
//! - Function calls keep their signature in `ToolCall::extra["signature"]` and send it back.
//! - There is no thinking budget here, only `thinking_level`; a budget is dropped and reported.

use std::collections::VecDeque;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::stream::{Decoder, Frame};
use crate::types::Tool;
use crate::types::enums::Role;
use crate::types::message::{Item, Part};
use crate::types::output::{Chunk, GroundingSource, Output};
use crate::types::text::{TextParam, TextParams, TextRequest};
use crate::types::tool::{ToolActivityStatus, ToolCall, ToolChoice, parse_arguments};
use crate::types::usage::{FinishKind, FinishReason};
use crate::wire::WireContext;
use crate::wire::google::{
    Media, byte_to_char, call_id, call_names, function_declaration, google_error, media, usage_from,
};
use crate::wire::kit::{
    Accumulator, Field, Fields, Str, StreamEnd, WebRef, activity_chunk, call_chunk, json_event, put_params,
    reasoning_chunk, ride_on_last,
};

/// Prefix of the call ids this library makes up for calls the server sent without one.
const LOCAL_CALL_ID: &str = "interactions-call-";

// ---------------------------------------------------------------------------------------------------
// Requests

/// The request body for `req`.
pub(crate) fn build_request(req: &TextRequest, ctx: &WireContext, stream: bool) -> Result<Value> {
    let mut body = Map::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    let (system, input) = input(&req.items, ctx)?;
    body.insert("input".into(), Value::Array(input));
    if !system.is_empty() {
        body.insert("system_instruction".into(), Value::String(system.join("\n\n")));
    }
    let mut config = generation_config(&req.params);
    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| tool(t, ctx)).collect::<Result<Vec<_>>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    crate::wire::kit::refuse_builtin_choice(req, ctx)?;
    if let Some(choice) = &req.tool_choice {
        config.insert("tool_choice".into(), tool_choice(choice, &req.tools));
    }
    if !config.is_empty() {
        body.insert("generation_config".into(), Value::Object(config));
    }
    if let Some(s) = &req.output_schema {
        let format = json!({"type": "text", "mime_type": "application/json", "schema": s.untitled()});
        body.insert("response_format".into(), format);
    }
    // Said either way: a server that defaults to streaming (aimock does) must not stream a unary call.
    body.insert("stream".into(), Value::Bool(stream));
    Ok(Value::Object(body))
}

fn generation_config(p: &TextParams) -> Map<String, Value> {
    let mut c = Map::new();
    put_params(&mut c, p, FIELDS);
    if let Some(level) = &p.thinking_level {
        c.insert("thinking_level".into(), level.as_str().into());
        c.insert("thinking_summaries".into(), "auto".into());
    }
    c
}

/// Where Interactions puts each text parameter (in `generation_config`): no thinking budget (only a
/// level), no top-k, penalties or verbosity.
pub(crate) const FIELDS: Fields = &[
    (TextParam::Temperature, Field::Body("temperature")),
    (TextParam::MaxTokens, Field::Body("max_output_tokens")),
    (TextParam::TopP, Field::Body("top_p")),
    (TextParam::Seed, Field::Body("seed")),
    (TextParam::Stop, Field::Body("stop_sequences")),
    (TextParam::ThinkingLevel, Field::Own),
];

/// The system texts and the input steps.
fn input(items: &[Item], ctx: &WireContext) -> Result<(Vec<String>, Vec<Value>)> {
    let names = call_names(items);
    let mut system = Vec::new();
    let mut steps = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Message(m) => match m.role {
                Role::System | Role::Developer => {
                    for p in &m.content {
                        match p {
                            Part::Text { text } => system.push(text.clone()),
                            other => {
                                return Err(
                                    ctx.unsupported(format!("{} content parts in system messages", other.input_type()))
                                );
                            }
                        }
                    }
                }
                role => {
                    let assistant = role == Role::Assistant;
                    if assistant {
                        // Thought and built-in tool steps (with their signatures) come back first, verbatim.
                        steps.extend(m.signature.iter().cloned());
                    }
                    let content = content(&m.content)?;
                    if !content.is_empty() {
                        let kind = if assistant { "model_output" } else { "user_input" };
                        steps.push(json!({"type": kind, "content": content}));
                    }
                    for c in m.tool_calls.iter().filter(|_| assistant) {
                        let mut step =
                            json!({"type": "function_call", "id": c.id, "name": c.name, "arguments": c.arguments});
                        if let Some(sig) = c.extra.get("signature").filter(|s| s.as_str() != Some("")) {
                            step["signature"] = sig.clone();
                        }
                        steps.push(step);
                    }
                }
            },
            Item::ToolResult(r) => {
                let mut step = json!({
                    "type": "function_result",
                    "call_id": r.tool_call_id,
                    "result": [{"type": "text", "text": r.content_text()}],
                });
                if let Some(name) = r.name.as_deref().or_else(|| names.get(r.tool_call_id.as_str()).copied()) {
                    step["name"] = name.into();
                }
                if r.is_error {
                    step["is_error"] = true.into();
                }
                steps.push(step);
            }
        }
    }
    Ok((system, steps))
}

fn content(parts: &[Part]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let kind = match p {
            Part::Text { text } if text.is_empty() => continue,
            Part::Text { text } => {
                out.push(json!({"type": "text", "text": text}));
                continue;
            }
            Part::Image { .. } => "image",
            Part::Audio { .. } => "audio",
            Part::Video { .. } => "video",
            Part::Document { .. } => "document",
        };
        let Some(a) = p.artifact() else { continue };
        out.push(match media(a)? {
            Media::Inline { mime, data } => json!({"type": kind, "data": data, "mime_type": mime_name(&mime)}),
            Media::Uri { uri, mime: Some(mime) } => json!({"type": kind, "uri": uri, "mime_type": mime_name(&mime)}),
            Media::Uri { uri, mime: None } => json!({"type": kind, "uri": uri}),
        });
    }
    Ok(out)
}

/// The Interactions API names MPEG-4 audio `audio/m4a` and rejects `audio/mp4`.
fn mime_name(mime: &str) -> &str {
    if mime.eq_ignore_ascii_case("audio/mp4") { "audio/m4a" } else { mime }
}

fn tool(t: &Tool, ctx: &WireContext) -> Result<Value> {
    Ok(match t {
        Tool::Function(f) => function_declaration(f, json!({"type": "function", "name": f.name}), "parameters"),
        Tool::WebSearch(w) => {
            // The reference's 1.0.0 no longer maps `blocked_domains` (`exclude_domains`) here either.
            if !w.allowed_domains.is_empty() || !w.blocked_domains.is_empty() || w.max_uses.is_some() {
                tracing::warn!(origin = %ctx.origin, "web search: allowed_domains, blocked_domains and max_uses are not supported by the Interactions API and were dropped");
            }
            json!({"type": "google_search"})
        }
        Tool::CodeExecution => json!({"type": "code_execution"}),
        Tool::UrlContext => json!({"type": "url_context"}),
        Tool::Raw { value } => value.clone(),
        other => return Err(ctx.unsupported(format!("the {} tool", other.name()))),
    })
}

/// Whether the tools mix user functions with built-in (server-side) tools.
fn has_mixed_tools(tools: &[Tool]) -> bool {
    let is_function = |t: &Tool| match t {
        Tool::Function(_) => true,
        Tool::Raw { value } => value.get("type").and_then(Value::as_str) == Some("function"),
        _ => false,
    };
    tools.iter().any(is_function) && tools.iter().any(|t| !is_function(t))
}

fn tool_choice(c: &ToolChoice, tools: &[Tool]) -> Value {
    match c {
        // Plain `auto` with functions beside built-ins lets the model call neither; `validated` is the
        // mode that allows both.
        ToolChoice::Auto if has_mixed_tools(tools) => "validated".into(),
        ToolChoice::Auto => "auto".into(),
        ToolChoice::Required => "any".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Tool(name) => json!({"allowed_tools": {"mode": "any", "tools": [name]}}),
    }
}

// ---------------------------------------------------------------------------------------------------
// Responses

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Interaction<'a> {
    id: Option<Str<'a>>,
    model: Option<Str<'a>>,
    status: Option<Str<'a>>,
    steps: Option<Vec<&'a RawValue>>,
    /// The older name of `steps`.
    outputs: Option<Vec<&'a RawValue>>,
    usage: Option<&'a RawValue>,
    error: Option<Value>,
}

/// One step; only the fields this library reads. Decoded from the wire or from a rebuilt step. The
/// typed items inside a step (its `content` and `summary` parts, a delta's `content`) read the same way:
/// a `type`, a `text` and its `annotations`.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Step<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    content: Option<Vec<Step<'a>>>,
    /// A legacy top-level `text` output.
    text: Option<Str<'a>>,
    annotations: Option<Vec<WebRef<'a>>>,
    summary: Option<Vec<Step<'a>>>,
    id: Option<Str<'a>>,
    name: Option<Str<'a>>,
    arguments: Option<Value>,
    signature: Option<Str<'a>>,
    result: Option<Value>,
}

/// The finish reason of an interaction from its status.
fn finish_reason(status: &str, has_calls: bool) -> FinishReason {
    match status {
        "requires_action" => FinishReason::new(FinishKind::ToolCall, status),
        "completed" if has_calls => FinishReason::new(FinishKind::ToolCall, status),
        "incomplete" => FinishReason::new(FinishKind::Length, status),
        _ => FinishReason::from_raw(status),
    }
}

/// Fold a completed step in. `with_text` is false for streams, whose text and reasoning arrived as
/// deltas; `base` is then the character offset where the step's text began.
fn add_step(acc: &mut Accumulator, step: &Step<'_>, raw: impl FnOnce() -> Value, with_text: bool, base: usize) {
    match step.kind.as_deref().unwrap_or_default() {
        "model_output" => {
            let mut offset = base;
            for c in step.content.iter().flatten() {
                if c.kind.as_deref().is_some_and(|k| k != "text") {
                    continue;
                }
                let text = c.text.as_deref().unwrap_or_default();
                let start = if with_text { acc.text_chars() } else { offset };
                if with_text {
                    acc.push_text(text);
                }
                add_annotations(acc, c.annotations.as_deref().unwrap_or_default(), text, start);
                offset += text.chars().count();
            }
        }
        "text" => {
            // A legacy `outputs` text item.
            let text = step.text.as_deref().unwrap_or_default();
            let start = if with_text { acc.text_chars() } else { base };
            if with_text {
                acc.push_text(text);
            }
            add_annotations(acc, step.annotations.as_deref().unwrap_or_default(), text, start);
        }
        "thought" => {
            if with_text {
                for s in step.summary.iter().flatten().filter_map(|s| s.text.as_deref()) {
                    acc.push_reasoning_block(s);
                }
            }
            acc.signature.push(raw());
        }
        "function_call" => {
            let id = call_id(step.id.as_deref(), LOCAL_CALL_ID, acc.tool_calls.len());
            // Absent arguments are none; any other non-object fails the output (never `{}`).
            let args = match &step.arguments {
                Some(Value::String(s)) => parse_arguments(s),
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(v) => v.clone(),
            };
            let mut call = ToolCall::new(id, step.name.as_deref().unwrap_or_default(), args);
            if let Some(sig) = step.signature.as_deref().filter(|s| !s.is_empty()) {
                call.extra.insert("signature".into(), sig.into());
            }
            acc.tool_calls.push(call);
        }
        kind if is_native_replay_step(kind) => {
            match kind {
                "google_search_call" => {
                    let queries = step.arguments.as_ref().and_then(|a| a.get("queries")).and_then(Value::as_array);
                    for q in queries.into_iter().flatten().filter_map(Value::as_str) {
                        acc.add_query(q);
                    }
                }
                "google_search_result" => {
                    let results = step.result.as_ref().and_then(Value::as_array);
                    for html in results.into_iter().flatten().filter_map(|r| r["search_suggestions"].as_str()) {
                        acc.grounding().search_entry_point = Some(html.to_string());
                    }
                }
                _ => {}
            }
            acc.signature.push(raw());
        }
        _ => {}
    }
}

/// Whether a step goes back verbatim on the next turn: the built-in tools' calls and results
/// (`google_search_call`, `code_execution_result`, ...), which the API wants replayed as it sent them,
/// as thoughts are (the reference's 1.0.0 `is_native_replay_step`); functions are rebuilt from the
/// tool calls and results instead.
fn is_native_replay_step(kind: &str) -> bool {
    (kind.ends_with("_call") || kind.ends_with("_result")) && !matches!(kind, "function_call" | "function_result")
}

/// URL citations of one text part; offsets are UTF-8 bytes into `text`, which starts at character
/// `start` of the output.
fn add_annotations(acc: &mut Accumulator, annotations: &[WebRef<'_>], text: &str, start: usize) {
    for a in annotations {
        if a.kind.as_deref().is_some_and(|k| k != "url_citation") {
            continue;
        }
        let Some(url) = a.url.as_deref().or(a.source.as_deref()).filter(|u| !u.is_empty()) else { continue };
        let title = a.title.as_deref().map(str::to_string);
        // Google's annotations name the site in the title.
        let source = GroundingSource { url: url.to_string(), domain: title.clone(), title };
        // A span out of the part, inside a character or backwards is dropped; its source stays.
        let span = a
            .start_index
            .zip(a.end_index)
            .and_then(|(s, e)| Some((byte_to_char(text, s)?, byte_to_char(text, e)?)))
            .filter(|(s, e)| s <= e);
        let cited: Option<String> = span
            .map(|(s, e)| text.chars().skip(s).take(e.saturating_sub(s)).collect())
            .filter(|c: &String| !c.is_empty());
        // Saturating: the offsets are the server's, and absurd ones must not overflow.
        acc.cite(source, span.map(|(s, e)| (start.saturating_add(s), start.saturating_add(e))), cited);
    }
}

fn decode_step<'a>(raw: &'a RawValue) -> Result<Step<'a>> {
    serde_json::from_str(raw.get()).map_err(|e| Error::decode("interactions step", e, raw.get().as_bytes()))
}

fn raw_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// Decode a unary response body.
pub(crate) fn parse_response(body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
    let resp: Interaction =
        serde_json::from_slice(&body).map_err(|e| Error::decode("interactions response", e, &body))?;
    if let Some(err) = resp.error.as_ref().filter(|e| !e.is_null()) {
        return Err(google_error(ctx, err, &body));
    }
    let mut acc = Accumulator::default();
    for raw in resp.steps.as_ref().or(resp.outputs.as_ref()).into_iter().flatten() {
        add_step(&mut acc, &decode_step(raw)?, || raw_value(raw), true, 0);
    }
    let end = StreamEnd {
        finish: resp.status.as_deref().map(|s| finish_reason(s, acc.has_calls())),
        usage: resp.usage.map(usage_from),
        response_id: resp.id.map(Str::into_owned),
        response_model: resp.model.map(Str::into_owned),
        raw_response: Some(body.clone()),
        terminal: true,
    };
    end.into_output(ctx, acc)
}

// ---------------------------------------------------------------------------------------------------
// Streams

/// One stream event, borrowed from its bytes.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Event<'a> {
    event_type: Option<Str<'a>>,
    index: Option<u64>,
    step: Option<&'a RawValue>,
    /// `content.start` (older servers) carries the step here.
    content: Option<&'a RawValue>,
    delta: Option<&'a RawValue>,
    interaction: Option<&'a RawValue>,
    error: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Delta<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    text: Option<Str<'a>>,
    content: Option<Step<'a>>,
    signature: Option<Str<'a>>,
    arguments: Option<Value>,
    partial_arguments: Option<Str<'a>>,
    annotations: Option<Vec<Value>>,
}

/// A step between `step.start` and `step.stop`.
struct Pending {
    index: u64,
    step: Map<String, Value>,
    text: String,
    summary: String,
    signature: String,
    arguments: Option<String>,
    annotations: Vec<Value>,
    /// The character offset of the output where the step's text begins.
    base: usize,
    /// The tool-call index of a `function_call` step.
    call: Option<usize>,
}

impl Pending {
    fn new(index: u64, step: Map<String, Value>, base: usize) -> Self {
        Pending {
            index,
            step,
            text: String::new(),
            summary: String::new(),
            signature: String::new(),
            arguments: None,
            annotations: Vec::new(),
            base,
            call: None,
        }
    }

    fn kind(&self) -> &str {
        self.step.get("type").and_then(Value::as_str).unwrap_or_default()
    }

    /// The completed step, as the unary API would have returned it.
    fn into_step(mut self) -> Value {
        if !self.text.is_empty() || !self.annotations.is_empty() {
            let mut part = json!({"type": "text", "text": self.text});
            if !self.annotations.is_empty() {
                part["annotations"] = Value::Array(self.annotations);
            }
            self.step.insert("content".into(), json!([part]));
        }
        if !self.summary.is_empty() {
            self.step.insert("summary".into(), json!([{"type": "text", "text": self.summary}]));
        }
        if !self.signature.is_empty() {
            self.step.insert("signature".into(), Value::String(self.signature));
        }
        if let Some(args) = self.arguments {
            self.step.insert("arguments".into(), parse_arguments(&args));
        }
        Value::Object(self.step)
    }
}

/// The stream state of one Interactions stream.
pub(crate) struct InteractionsDecoder {
    ctx: WireContext,
    acc: Accumulator,
    pending: Vec<Pending>,
    calls_started: usize,
    steps_seen: bool,
    /// The raw response is the final interaction.
    end: StreamEnd,
}

impl InteractionsDecoder {
    pub(crate) fn new(ctx: WireContext) -> Self {
        InteractionsDecoder {
            ctx,
            acc: Accumulator::default(),
            pending: Vec::new(),
            calls_started: 0,
            steps_seen: false,
            end: StreamEnd::default(),
        }
    }

    fn pending_mut(&mut self, index: u64) -> &mut Pending {
        let pos = match self.pending.iter().position(|p| p.index == index) {
            Some(pos) => pos,
            None => {
                self.pending.push(Pending::new(index, Map::new(), self.acc.text_chars()));
                self.pending.len() - 1
            }
        };
        &mut self.pending[pos]
    }

    fn on_start(&mut self, index: u64, raw: Option<&RawValue>, out: &mut VecDeque<Chunk<String>>) {
        self.steps_seen = true;
        let step: Map<String, Value> = raw.and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or_default();
        let mut p = Pending::new(index, step, self.acc.text_chars());
        if p.kind() == "text" {
            // A legacy text item is a model output.
            p.step.insert("type".into(), "model_output".into());
        }
        match p.kind() {
            "function_call" => {
                let call = self.calls_started;
                self.calls_started += 1;
                p.call = Some(call);
                let field =
                    |k: &str| p.step.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
                out.push_back(call_chunk(call, field("id"), field("name"), String::new()));
            }
            kind if kind.ends_with("_call") => {
                out.push_back(activity_chunk(kind.trim_end_matches("_call"), ToolActivityStatus::Started))
            }
            _ => {}
        }
        self.pending.retain(|q| q.index != index);
        self.pending.push(p);
    }

    fn on_delta(&mut self, index: u64, raw: &RawValue, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        self.steps_seen = true;
        let d: Delta = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("interactions step delta", e, raw.get().as_bytes()))?;
        match d.kind.as_deref().unwrap_or_default() {
            "text" => {
                let t = d.text.as_deref().unwrap_or_default();
                if !t.is_empty() {
                    self.pending_mut(index).text.push_str(t);
                    self.acc.push_text(t);
                    out.push_back(Chunk::content(t.to_string()));
                }
            }
            "thought_summary" => {
                let t = d.content.as_ref().and_then(|c| c.text.as_deref()).unwrap_or_default();
                if !t.is_empty() {
                    self.pending_mut(index).summary.push_str(t);
                    self.acc.reasoning.push_str(t);
                    out.push_back(reasoning_chunk(t.to_string()));
                }
            }
            "thought_signature" => {
                let sig = d.signature.as_deref().unwrap_or_default();
                self.pending_mut(index).signature.push_str(sig);
            }
            "arguments_delta" => {
                // Recorded servers send `arguments`; the public SDK names it `partial_arguments`.
                let fragment = match (&d.arguments, &d.partial_arguments) {
                    (Some(Value::String(s)), _) => s.as_str(),
                    (_, Some(s)) => s.as_ref(),
                    _ => "",
                };
                let p = self.pending_mut(index);
                p.arguments.get_or_insert_with(String::new).push_str(fragment);
                if let Some(call) = p.call {
                    out.push_back(call_chunk(call, None, None, fragment.to_string()));
                }
            }
            "text_annotation_delta" => {
                let annotations = d.annotations.unwrap_or_default();
                self.pending_mut(index).annotations.extend(annotations);
            }
            _ => {
                // Built-in tool deltas (`google_search_call`, `..._result`) carry whole step fields.
                let fields: Map<String, Value> = serde_json::from_str(raw.get()).unwrap_or_default();
                let p = self.pending_mut(index);
                for (k, v) in fields {
                    match k.as_str() {
                        "type" => {}
                        "signature" => p.signature.push_str(v.as_str().unwrap_or_default()),
                        _ => {
                            p.step.insert(k, v);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn on_stop(&mut self, index: u64, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Some(pos) = self.pending.iter().position(|p| p.index == index) else { return Ok(()) };
        let p = self.pending.remove(pos);
        let base = p.base;
        let kind = p.kind().to_string();
        // A call whose arguments came whole in `step.start` still needs them in the deltas.
        if let (Some(call), None) = (p.call, &p.arguments) {
            let args = p.step.get("arguments").filter(|a| a.as_object().is_some_and(|o| !o.is_empty()));
            if let Some(args) = args {
                out.push_back(call_chunk(call, None, None, args.to_string()));
            }
        }
        let value = p.into_step();
        let step = Step::deserialize(&value)
            .map_err(|e| Error::decode("interactions step", e, value.to_string().as_bytes()))?;
        add_step(&mut self.acc, &step, || value.clone(), false, base);
        if let Some(tool) = kind.strip_suffix("_result") {
            out.push_back(activity_chunk(tool, ToolActivityStatus::Completed));
        }
        Ok(())
    }

    fn on_completed(&mut self, raw: &RawValue, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let resp: Interaction = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("interactions response", e, raw.get().as_bytes()))?;
        if let Some(err) = resp.error.as_ref().filter(|e| !e.is_null()) {
            return Err(google_error(&self.ctx, err, raw.get().as_bytes()));
        }
        self.end.response_id = resp.id.map(Str::into_owned).or(self.end.response_id.take());
        self.end.response_model = resp.model.map(Str::into_owned).or(self.end.response_model.take());
        let first = out.len();
        // A server that streams no steps still lists them here.
        if !self.steps_seen {
            for step in resp.steps.as_ref().or(resp.outputs.as_ref()).into_iter().flatten() {
                let before = self.acc.text().len();
                add_step(&mut self.acc, &decode_step(step)?, || raw_value(step), true, 0);
                if let Some(added) = self.acc.text().get(before..).filter(|t| !t.is_empty()) {
                    out.push_back(Chunk::content(added.to_string()));
                }
            }
        }
        let usage = resp.usage.map(usage_from);
        self.end.usage = usage.clone().or(self.end.usage.take());
        self.end.finish = resp.status.as_deref().map(|s| finish_reason(s, self.acc.has_calls()));
        self.end.raw_response = Some(Bytes::copy_from_slice(raw.get().as_bytes()));
        self.end.terminal = true;
        ride_on_last(out, first, usage, self.end.finish.clone());
        Ok(())
    }
}

impl Decoder<String, String> for InteractionsDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Some(ev) = json_event(frame) else { return Ok(()) };
        let e: Event = serde_json::from_slice(&ev.data)
            .map_err(|err| Error::decode("interactions stream event", err, &ev.data))?;
        let index = e.index.unwrap_or(0);
        match e.event_type.as_deref().unwrap_or_default() {
            "step.start" | "content.start" => self.on_start(index, e.step.or(e.content), out),
            "step.delta" | "content.delta" => {
                if let Some(d) = e.delta {
                    self.on_delta(index, d, out)?;
                }
            }
            "step.stop" | "content.stop" => self.on_stop(index, out)?,
            "interaction.created" | "interaction.start" => {
                if let Some(raw) = e.interaction
                    && let Ok(i) = serde_json::from_str::<Interaction>(raw.get())
                {
                    self.end.response_id = i.id.map(Str::into_owned);
                    self.end.response_model = i.model.map(Str::into_owned);
                }
            }
            "interaction.completed" | "interaction.complete" => match e.interaction {
                Some(raw) => self.on_completed(raw, out)?,
                None => self.end.terminal = true,
            },
            "error" => {
                let err = e.error.unwrap_or(Value::Null);
                return Err(google_error(&self.ctx, &err, &ev.data));
            }
            _ => {}
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.end.terminal
    }

    fn finish(&mut self) -> Result<Output<String>> {
        // Steps still open at the end never completed: dropped.
        self.pending.clear();
        self.end.output(&self.ctx, &mut self.acc, "no interaction.completed event")
    }
}

#[cfg(test)]
mod tests;
