//! The Cohere v2 chat wire API (`POST /v2/chat`): request building, response decoding and
//! stream-event decoding.
//!
//! Where Cohere's shapes have no one-to-one counterpart in this library, the choices are:
//!
//! - **Roles.** Cohere has `system`, `user`, `assistant` and `tool`; a developer message is sent as
//!   `system`.
//! - **`tool_plan`** (the model's plan before it calls tools) is reasoning, not content: it arrives as
//!   reasoning chunks and in [`Output::reasoning`], after any `thinking` blocks. Separate reasoning
//!   blocks are joined with a newline. On the next turn an assistant message with tool calls sends its
//!   reasoning back as the `tool_plan`; thinking is not replayed (assistant content is text only).
//! - **Usage.** `usage.tokens` gives the input and output tokens (what the model processed),
//!   `cached_tokens` the cache reads. `billed_units` is a different measure; its input and output
//!   tokens are summed into [`Usage::billed_units`], and the whole object (search units and
//!   classifications included) stays in [`Usage::raw`]. Cohere reports no total, so `total_tokens`
//!   stays `None`.
//! - **Citations** (`message.citations`, or `citation-start` events) become [`Grounding`]: each document
//!   source is a [`GroundingSource`] whose URL is the document's `url`, or else the source id (`doc:0`);
//!   spans are character offsets into the output text. Citations of thinking or the tool plan, and
//!   citations backed only by tool output, are left out (they stay in the raw response).
//! - **Failures.** `finish_reason: "ERROR"` (or an error message on `message-end`) is an
//!   [`Error::StreamEvent`], in unary responses as in streams; `TIMEOUT` is a finish reason of kind
//!   error.
//! - **Shared shapes.** Tool results, the assistant's tool calls, image parts and function tools take
//!   Chat Completions' shapes, and are built by that module's helpers.
//! - **Tool choice.** Cohere has `REQUIRED` and `NONE` (auto is the default, so it is not sent) and
//!   no way to name one tool: [`ToolChoice::Tool`] is unsupported.

use std::collections::VecDeque;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::stream::{Decoder, Frame};
use crate::types::enums::Role;
use crate::types::message::{Item, Message, Part};
use crate::types::output::{Chunk, GroundingSource, Output};
use crate::types::text::{TextParam, TextRequest};
use crate::types::tool::ToolChoice;
use crate::types::usage::{FinishReason, Usage};
use crate::types::{Citation, Tool};
use crate::wire::chatcompletions as chat;
use crate::wire::kit::{
    Accumulator, Field, Fields, Str, StreamEnd, call_chunk, domain_of, end_chunk, json_event, present, put_params,
    reasoning_chunk,
};
use crate::wire::{WireContext, WireFunction, WireToolCall};

// ---------------------------------------------------------------------------------------------------
// Requests

/// The request body for `req`.
pub(crate) fn build_request(req: &TextRequest, ctx: &WireContext, stream: bool) -> Result<Value> {
    let mut body = Map::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    let messages = req
        .items
        .iter()
        .map(|item| match item {
            Item::Message(m) => message(m, ctx),
            Item::ToolResult(r) => Ok(chat::tool_result(r)),
        })
        .collect::<Result<Vec<_>>>()?;
    body.insert("messages".into(), Value::Array(messages));

    let p = &req.params;
    put_params(&mut body, p, FIELDS);
    if let Some(t) = p.thinking_budget.map(thinking).transpose()? {
        body.insert("thinking".into(), t);
    }
    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| tool(t, ctx)).collect::<Result<Vec<_>>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    match &req.tool_choice {
        None | Some(ToolChoice::Auto) => {}
        Some(ToolChoice::Required) => {
            body.insert("tool_choice".into(), "REQUIRED".into());
        }
        Some(ToolChoice::None) => {
            body.insert("tool_choice".into(), "NONE".into());
        }
        Some(ToolChoice::Tool(name)) => {
            return Err(ctx.unsupported(format!("a tool_choice naming one tool (`{name}`)")));
        }
    }
    if let Some(s) = &req.output_schema {
        // Cohere resolves no `$ref`s: the schema goes with its definitions inlined.
        body.insert("response_format".into(), json!({"type": "json_object", "schema": s.inlined()}));
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    Ok(Value::Object(body))
}

/// Where Cohere v2 chat puts each text parameter: no named effort and no verbosity (thinking is a token
/// budget here).
pub(crate) const FIELDS: Fields = &[
    (TextParam::Temperature, Field::Body("temperature")),
    (TextParam::MaxTokens, Field::Body("max_tokens")),
    (TextParam::TopP, Field::Body("p")),
    (TextParam::TopK, Field::Body("k")),
    (TextParam::Seed, Field::Body("seed")),
    (TextParam::Stop, Field::Body("stop_sequences")),
    (TextParam::FrequencyPenalty, Field::Body("frequency_penalty")),
    (TextParam::PresencePenalty, Field::Body("presence_penalty")),
    (TextParam::ThinkingBudget, Field::Own),
];

/// The `thinking` object for a budget: `0` disables thinking, `-1` enables it with the model's own
/// budget, a positive number caps it.
fn thinking(budget: i64) -> Result<Value> {
    match budget {
        0 => Ok(json!({"type": "disabled"})),
        -1 => Ok(json!({"type": "enabled"})),
        n if n > 0 => Ok(json!({"type": "enabled", "token_budget": n})),
        n => Err(Error::invalid_input(format!(
            "thinking_budget {n}: use a positive token budget, 0 (off) or -1 (the model's default)"
        ))),
    }
}

fn message(m: &Message, ctx: &WireContext) -> Result<Value> {
    let role = match m.role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System | Role::Developer => "system",
    };
    let mut msg = Map::new();
    msg.insert("role".into(), role.into());
    let assistant = m.role == Role::Assistant;
    let content = match m.content.as_slice() {
        [] if assistant && !m.tool_calls.is_empty() => None,
        [] => Some(Value::String(String::new())),
        [Part::Text { text }] => Some(Value::String(text.clone())),
        parts => Some(Value::Array(parts.iter().map(|p| part(p, role, ctx)).collect::<Result<Vec<_>>>()?)),
    };
    if let Some(content) = content {
        msg.insert("content".into(), content);
    }
    if assistant && !m.tool_calls.is_empty() {
        if let Some(plan) = m.reasoning.as_ref().filter(|r| !r.is_empty()) {
            msg.insert("tool_plan".into(), plan.clone().into());
        }
        msg.insert("tool_calls".into(), chat::tool_calls(&m.tool_calls));
    }
    Ok(chat::with_extra(msg, m))
}

fn part(p: &Part, role: &str, ctx: &WireContext) -> Result<Value> {
    Ok(match p {
        Part::Text { text } => json!({"type": "text", "text": text}),
        Part::Image { image } if role == "user" => chat::image_part(image)?,
        Part::Image { .. } => return Err(ctx.unsupported(format!("image content parts in {role} messages"))),
        other => return Err(ctx.unsupported_part(other)),
    })
}

fn tool(t: &Tool, ctx: &WireContext) -> Result<Value> {
    Ok(match t {
        Tool::Function(f) => chat::function_tool(f),
        Tool::Raw { value } => value.clone(),
        other => return Err(ctx.unsupported(format!("the {} tool", other.name()))),
    })
}

// ---------------------------------------------------------------------------------------------------
// Responses: only the fields this library reads, borrowed from the payload; everything else (and
// every `null`) is accepted.

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Response<'a> {
    id: Option<Str<'a>>,
    message: Option<ResponseMessage<'a>>,
    finish_reason: Option<Str<'a>>,
    usage: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct ResponseMessage<'a> {
    content: Option<Vec<ContentItem<'a>>>,
    tool_plan: Option<Str<'a>>,
    tool_calls: Option<Vec<WireToolCall<'a>>>,
    citations: Option<Vec<WireCitation<'a>>>,
}

/// A content block (`text` or `thinking`), whole in a response, partial in a stream event.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct ContentItem<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    text: Option<Str<'a>>,
    thinking: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct WireCitation<'a> {
    start: Option<usize>,
    end: Option<usize>,
    text: Option<Str<'a>>,
    sources: Option<Vec<WireSource>>,
    /// `TEXT_CONTENT`, `THINKING_CONTENT` or `PLAN`.
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    /// The content block the offsets are relative to.
    content_index: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    /// The document as the caller passed it (`id`, `title`, `url`, `snippet`, ... all optional).
    document: Option<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    billed_units: Option<Units>,
    tokens: Option<Units>,
    cached_tokens: Option<f64>,
}

/// Token counts; the API declares them as numbers, so fractional encodings are accepted.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Units {
    input_tokens: Option<f64>,
    output_tokens: Option<f64>,
}

fn count(v: Option<f64>) -> Option<u64> {
    v.filter(|n| n.is_finite() && *n >= 0.0).map(|n| n.round() as u64)
}

/// A usage object as [`Usage`], keeping the provider's object verbatim in `raw`.
fn usage_from(raw: &RawValue) -> Usage {
    let (w, raw_value): (WireUsage, _) = crate::wire::decode_usage(raw, "cohere usage");
    let tokens = w.tokens.unwrap_or_default();
    let billed_units = w.billed_units.and_then(|b| match (b.input_tokens, b.output_tokens) {
        (None, None) => None,
        (i, o) => Some(i.unwrap_or(0.0) + o.unwrap_or(0.0)),
    });
    Usage {
        input_tokens: count(tokens.input_tokens),
        output_tokens: count(tokens.output_tokens),
        cache_read_tokens: count(w.cached_tokens),
        billed_units,
        raw: raw_value,
        ..Usage::default()
    }
}

/// Whether a finish reason reports a failed generation.
fn is_failure(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.eq_ignore_ascii_case("error"))
}

/// Where a piece of reasoning comes from, to separate consecutive blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReasoningBlock {
    /// A `thinking` content block, by content index.
    Thinking(usize),
    /// The tool plan.
    Plan,
}

/// What a response (unary or streamed) accumulates: the kit's accumulator, and what Cohere's own
/// offsets and reasoning blocks need.
#[derive(Default)]
struct Accumulated {
    acc: Accumulator,
    reasoning_block: Option<ReasoningBlock>,
    /// Content index → the character offset in the text where that text block starts.
    text_blocks: Vec<(usize, usize)>,
}

impl Accumulated {
    fn start_text_block(&mut self, index: usize) {
        if !self.text_blocks.iter().any(|(i, _)| *i == index) {
            self.text_blocks.push((index, self.acc.text_chars()));
        }
    }

    /// Append text; returns whether there was any.
    fn add_text(&mut self, t: &str) -> bool {
        self.acc.push_text(t);
        !t.is_empty()
    }

    /// Append reasoning from `block`, returning the piece as it joins the whole (with a newline
    /// before the first piece of a new block), or `None` when `t` is empty.
    fn add_reasoning(&mut self, block: ReasoningBlock, t: &str) -> Option<String> {
        if t.is_empty() {
            return None;
        }
        let mut piece = String::with_capacity(t.len() + 1);
        if self.reasoning_block != Some(block) && !self.acc.reasoning.is_empty() {
            piece.push('\n');
        }
        self.reasoning_block = Some(block);
        piece.push_str(t);
        self.acc.reasoning.push_str(&piece);
        Some(piece)
    }

    fn add_citation(&mut self, c: &WireCitation<'_>) {
        if c.kind.as_deref().is_some_and(|k| !k.eq_ignore_ascii_case("text_content")) {
            return;
        }
        let mut indices = Vec::new();
        for s in c.sources.iter().flatten() {
            if s.kind.as_deref().is_some_and(|k| k != "document") {
                continue;
            }
            let doc = s.document.as_ref();
            let field = |name: &str| doc.and_then(|d| d.get(name)).and_then(Value::as_str).map(str::to_string);
            let Some(url) = field("url").or_else(|| s.id.clone()).or_else(|| field("id")) else { continue };
            let domain = domain_of(&url);
            let idx = self.acc.cite(GroundingSource { url, title: field("title"), domain }, None, None);
            if !indices.contains(&idx) {
                indices.push(idx);
            }
        }
        let (Some(start), Some(end)) = (c.start, c.end) else { return };
        if indices.is_empty() {
            return;
        }
        let offset = c
            .content_index
            .and_then(|ci| self.text_blocks.iter().find(|(i, _)| *i == ci))
            .map(|(_, off)| *off)
            .unwrap_or(0);
        self.acc.grounding().citations.push(Citation {
            // Saturating: the offsets are the server's, and absurd ones must not overflow.
            start: offset.saturating_add(start),
            end: offset.saturating_add(end),
            source_indices: indices,
            cited_text: c.text.as_deref().map(str::to_string),
        });
    }
}

impl WireContext {
    /// The error for a generation Cohere reports as failed.
    fn cohere_failure(&self, message: Option<&str>, finish_reason: Option<&str>, raw: &[u8]) -> Error {
        let message = message.filter(|m| !m.is_empty()).unwrap_or("the generation failed (finish_reason ERROR)");
        self.stream_error_from(&json!({"message": message, "type": finish_reason}), raw)
    }
}

/// Decode a unary response body.
pub(crate) fn parse_response(body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
    let resp: Response = serde_json::from_slice(&body).map_err(|e| Error::decode("cohere chat response", e, &body))?;
    if is_failure(resp.finish_reason.as_deref()) {
        return Err(ctx.cohere_failure(None, resp.finish_reason.as_deref(), &body));
    }
    let mut acc = Accumulated::default();
    if let Some(m) = &resp.message {
        for (i, item) in m.content.iter().flatten().enumerate() {
            match item.kind.as_deref() {
                Some("thinking") => {
                    acc.add_reasoning(ReasoningBlock::Thinking(i), item.thinking.as_deref().unwrap_or(""));
                }
                Some("text") | None => {
                    acc.start_text_block(i);
                    acc.add_text(item.text.as_deref().unwrap_or(""));
                }
                Some(_) => {}
            }
        }
        if let Some(plan) = &m.tool_plan {
            acc.add_reasoning(ReasoningBlock::Plan, plan);
        }
        for tc in m.tool_calls.iter().flatten() {
            let f = tc.function.as_ref();
            acc.acc.partial_calls.push_whole(
                tc.id.as_deref().unwrap_or_default(),
                f.and_then(|f| f.name.as_deref()).unwrap_or_default(),
                &f.map(WireFunction::arguments_text).unwrap_or_default(),
            );
        }
        for c in m.citations.iter().flatten() {
            acc.add_citation(c);
        }
    }
    let end = StreamEnd {
        usage: present(resp.usage).map(usage_from),
        finish: resp.finish_reason.as_deref().map(FinishReason::from_raw),
        response_id: resp.id.map(Str::into_owned),
        raw_response: Some(body.clone()),
        ..StreamEnd::default()
    };
    end.into_output(ctx, acc.acc)
}

// ---------------------------------------------------------------------------------------------------
// Streams

/// One stream event. The `delta.message` fields change shape with the event type (a list in
/// `message-start`, one object in the others), so they stay raw until the type is known.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    id: Option<Str<'a>>,
    index: Option<usize>,
    delta: Option<EventDelta<'a>>,
    error: Option<&'a RawValue>,
    message: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct EventDelta<'a> {
    message: Option<DeltaMessage<'a>>,
    finish_reason: Option<Str<'a>>,
    usage: Option<&'a RawValue>,
    error: Option<Str<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct DeltaMessage<'a> {
    content: Option<&'a RawValue>,
    tool_plan: Option<Str<'a>>,
    tool_calls: Option<&'a RawValue>,
    citations: Option<&'a RawValue>,
}

/// Decode a raw sub-object of an event as `T`.
fn sub<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>, what: &'static str) -> Result<Option<T>> {
    match present(raw) {
        Some(r) => serde_json::from_str(r.get()).map(Some).map_err(|e| Error::decode(what, e, r.get().as_bytes())),
        None => Ok(None),
    }
}

/// The stream state of one Cohere chat stream.
pub(crate) struct CohereDecoder {
    ctx: WireContext,
    acc: Accumulated,
    /// The raw response is the `message-end` event.
    end: StreamEnd,
}

impl CohereDecoder {
    pub(crate) fn new(ctx: WireContext) -> Self {
        CohereDecoder { ctx, acc: Accumulated::default(), end: StreamEnd::default() }
    }
}

impl Decoder<String, String> for CohereDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Some(ev) = json_event(frame) else { return Ok(()) };
        let e: Event =
            serde_json::from_slice(&ev.data).map_err(|err| Error::decode("cohere stream event", err, &ev.data))?;
        let kind = e.kind.as_deref().or(ev.event.as_deref()).unwrap_or_default();
        if kind == "error" || present(e.error).is_some() {
            let err =
                present(e.error).or(present(e.message)).map(|r| serde_json::from_str(r.get()).unwrap_or(Value::Null));
            return Err(self.ctx.stream_error_from(&err.unwrap_or(Value::Null), &ev.data));
        }
        let index = e.index;
        let delta = e.delta.as_ref();
        let msg = delta.and_then(|d| d.message.as_ref());
        match kind {
            "message-start" => {
                if let Some(id) = e.id.as_deref() {
                    self.end.response_id = Some(id.to_string());
                }
            }
            "content-start" | "content-delta" => {
                let Some(c) = sub::<ContentItem>(msg.and_then(|m| m.content), "cohere content delta")? else {
                    return Ok(());
                };
                let i = index.unwrap_or(0);
                let is_text = match c.kind.as_deref() {
                    Some(k) => k == "text",
                    None => c.thinking.is_none(),
                };
                if kind == "content-start" && is_text {
                    self.acc.start_text_block(i);
                }
                if let Some(t) = c.thinking.as_deref() {
                    if let Some(piece) = self.acc.add_reasoning(ReasoningBlock::Thinking(i), t) {
                        out.push_back(reasoning_chunk(piece));
                    }
                } else if let Some(t) = c.text.as_deref() {
                    self.acc.start_text_block(i);
                    if self.acc.add_text(t) {
                        out.push_back(Chunk::content(t.to_string()));
                    }
                }
            }
            "tool-plan-delta" => {
                if let Some(plan) = msg.and_then(|m| m.tool_plan.as_deref())
                    && let Some(piece) = self.acc.add_reasoning(ReasoningBlock::Plan, plan)
                {
                    out.push_back(reasoning_chunk(piece));
                }
            }
            "tool-call-start" | "tool-call-delta" => {
                let tc = sub::<WireToolCall>(msg.and_then(|m| m.tool_calls), "cohere tool call delta")?;
                let start = kind == "tool-call-start";
                // Calls are keyed by the event index; without one a start begins a call and a delta
                // continues the latest.
                let calls = &mut self.acc.acc.partial_calls;
                let pos = calls.slot(index.map(|i| i as u64), None, start);
                let id = tc.as_ref().and_then(|t| t.id.as_deref()).filter(|s| !s.is_empty());
                let f = tc.as_ref().and_then(|t| t.function.as_ref());
                let name = f.and_then(|f| f.name.as_deref()).filter(|s| !s.is_empty());
                let args = f.map(WireFunction::arguments_text).unwrap_or_default();
                calls.merge(pos, id, name, &args);
                if start || !args.is_empty() {
                    out.push_back(call_chunk(pos, id.map(str::to_string), name.map(str::to_string), args.into_owned()));
                }
            }
            "citation-start" => {
                let raw = present(msg.and_then(|m| m.citations));
                let Some(raw) = raw else { return Ok(()) };
                // One citation per event; a list is accepted too.
                if raw.get().starts_with('[') {
                    let list: Vec<WireCitation> = serde_json::from_str(raw.get())
                        .map_err(|er| Error::decode("cohere citation", er, raw.get().as_bytes()))?;
                    list.iter().for_each(|c| self.acc.add_citation(c));
                } else if let Some(c) = sub::<WireCitation>(Some(raw), "cohere citation")? {
                    self.acc.add_citation(&c);
                }
            }
            "message-end" => {
                let d = delta;
                let reason = d.and_then(|d| d.finish_reason.as_deref());
                let error = d.and_then(|d| d.error.as_deref()).filter(|m| !m.is_empty());
                if error.is_some() || is_failure(reason) {
                    return Err(self.ctx.cohere_failure(error, reason, &ev.data));
                }
                let usage = present(d.and_then(|d| d.usage)).map(usage_from);
                let finish = reason.map(FinishReason::from_raw);
                self.end.usage = usage.clone();
                self.end.finish = finish.clone();
                self.end.raw_response = Some(ev.data.clone());
                self.end.terminal = true;
                out.push_back(end_chunk(usage, finish));
            }
            // content-end, tool-call-end, citation-end, debug and anything new carry nothing to keep.
            _ => {}
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.end.terminal
    }

    fn finish(&mut self) -> Result<Output<String>> {
        self.end.output(&self.ctx, &mut self.acc.acc, "no message-end event")
    }
}

#[cfg(test)]
mod tests;
