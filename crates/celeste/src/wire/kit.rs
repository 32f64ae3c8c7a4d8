//! The decoder kit: what every wire decoder does the same way, so that each wire module says only what
//! its API does differently.
//!
//! - [`Accumulator`]: what a response (unary or streamed) adds up to: text, reasoning, tool calls
//!   (whole, or assembled from OpenAI-style fragments in [`PartialCalls`]), the native signature and
//!   grounding; turned into the [`Output`] once.
//! - [`StreamEnd`]: what a stream learns for its end (the response id and model, the last usage and
//!   finish reason, the event kept as the raw response, whether the terminal event came) and the
//!   truncation check every `finish()` makes before assembling the output.
//! - The chunks every decoder pushes (reasoning, tool-call deltas, tool activity, usage and finish
//!   reason), and the small shared helpers ([`present`], [`domain_of`], [`sum_counts`], OpenAI's
//!   [`TokenDetails`], [`json_event`] for the events a JSON stream decoder reads, [`ended`] for the
//!   truncation check a decoder's `finish` makes first, [`put_params`] for the request side's plain
//!   sampling parameters, and [`renamed`] for media parameters under an API's own names).
//! - On [`WireContext`]: the output metadata, the truncation error and typed stream-event errors.

use std::borrow::Cow;
use std::collections::VecDeque;

use bytes::Bytes;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, Origin, OutputValidationError, StreamEventError, truncate_lossy};
use crate::stream::Frame;
use crate::transport::sse::SseEvent;
use crate::types::Citation;
use crate::types::Tool;
use crate::types::enums::Modality;
use crate::types::media::ImageParams;
use crate::types::output::{Chunk, Grounding, GroundingSource, Metadata, Output};
use crate::types::text::{TextParam, TextParams, TextRequest};
use crate::types::tool::{
    ToolActivity, ToolActivityStatus, ToolCall, ToolCallDelta, ToolChoice, arguments_problem, parse_arguments,
};
use crate::types::usage::{FinishKind, FinishReason, Usage};
use crate::wire::WireContext;

// ---------------------------------------------------------------------------------------------------
// Small helpers

/// The SSE event of a frame that carries a JSON payload: `None` for another framing, a blank event or
/// the `[DONE]` sentinel, which a JSON stream decoder skips.
#[cfg_attr(
    not(any(feature = "google", feature = "cohere")),
    allow(dead_code, reason = "the Google and Cohere decoders skip events this way")
)]
pub(crate) fn json_event(frame: Frame) -> Option<SseEvent> {
    let Frame::Sse(ev) = frame else { return None };
    (!ev.is_done() && !ev.data.iter().all(u8::is_ascii_whitespace)).then_some(ev)
}

/// The check a stream decoder's `finish` makes first: `Ok` once the wire API's terminal event has
/// arrived, else [`Error::StreamTruncated`] saying `missing` never came.
pub(crate) fn ended(terminal: bool, origin: Origin, missing: &str) -> crate::error::Result<()> {
    if terminal { Ok(()) } else { Err(Error::StreamTruncated { origin, reason: missing.into() }) }
}

/// The media parameters a table names that are set, under the API's name for each (`table`: ours →
/// theirs), in the table's order.
pub(crate) fn renamed<'a>(
    params: &'a ImageParams,
    table: &'a [(&str, &'static str)],
) -> impl Iterator<Item = (&'static str, &'a Value)> + 'a {
    table.iter().filter_map(|(ours, theirs)| params.get(ours).map(|v| (*theirs, v)))
}

/// A present, non-null raw value (serde gives `Some("null")` for an explicit `null`).
pub(crate) fn present(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| r.get() != "null")
}

/// A string field borrowed from the payload when it has no escapes, owned otherwise (what serde's
/// field-level `borrow` does for `Cow<str>`). The wire modules' response structs read every field this
/// way under one container attribute, `#[serde(default, bound(deserialize = "'de: 'a"))]`, instead of
/// a `#[serde(default, borrow)]` on each field.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(Visitor).map(Str)
    }
}

/// A reference to a web source, as the wire APIs' citation, annotation and search-result objects
/// give it (each uses some of these fields): its URL (`source` where Interactions names it so), title,
/// the text it backs and that text's span.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct WebRef<'a> {
    #[serde(rename = "type")]
    pub kind: Option<Str<'a>>,
    pub url: Option<Str<'a>>,
    pub source: Option<Str<'a>>,
    pub title: Option<Str<'a>>,
    pub cited_text: Option<Str<'a>>,
    pub start_index: Option<usize>,
    pub end_index: Option<usize>,
}

/// A string field read only when it is a string: any other shape (an object where a string was
/// expected, a number) is absent rather than an error, so that a provider reshaping a field this
/// library reads, in an event it otherwise understands, does not fail the whole call. Borrowed from the
/// payload when it has no escapes.
#[derive(Default)]
pub(crate) struct LenientStr<'a>(pub Option<Cow<'a, str>>);

impl<'a> LenientStr<'a> {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LenientStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let text = raw.get();
        if !text.starts_with('"') {
            return Ok(LenientStr(None));
        }
        // A borrowed `&str` is only possible without escapes; otherwise the string is unescaped.
        Ok(LenientStr(match serde_json::from_str::<&'de str>(text) {
            Ok(s) => Some(Cow::Borrowed(s)),
            Err(_) => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
        }))
    }
}

/// A field of any type read only when it has the expected shape (see [`LenientStr`]).
pub(crate) struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        Ok(Lenient(serde_json::from_str(raw.get()).ok()))
    }
}

/// A list whose elements are read leniently: an element of another shape is left out, and a value
/// that is not a list is an empty one (see [`LenientStr`]).
pub(crate) struct LenientList<T>(pub Vec<T>);

impl<T> Default for LenientList<T> {
    fn default() -> Self {
        LenientList(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LenientList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let items: Vec<&'de RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
        Ok(LenientList(items.into_iter().filter_map(|r| serde_json::from_str(r.get()).ok()).collect()))
    }
}

/// The host part of a URL (`https://example.com/a` → `example.com`), for a source's domain; `None`
/// when there is no scheme or no host.
pub(crate) fn domain_of(url: &str) -> Option<String> {
    url.split("://").nth(1).and_then(|rest| rest.split('/').next()).filter(|d| !d.is_empty()).map(str::to_string)
}

/// The sum of two token counts of which either may be absent: `None` only when both are (absent is
/// not zero).
#[cfg_attr(not(feature = "google"), allow(dead_code, reason = "Google's usage adds thoughts to outputs"))]
pub(crate) fn sum_counts(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        // Saturating: the counts are the server's, and absurd ones must not overflow.
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// Where a wire API puts one text parameter: one row of its parameter table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// A body field of this name (within the object the module passes to [`put_params`]), holding
    /// the value as given.
    Body(&'static str),
    /// Carried in a shape of the module's own making (thinking, verbosity, a limit with a default,
    /// a field a server names its own way): the module's code writes it.
    Own,
}

/// A wire API's parameter table: the text parameters it carries, in [`TextParam::ALL`] order, with
/// where each goes. A parameter the table does not name is not carried: when set, it is dropped and
/// reported once. `WireApi::carries` and [`put_params`] both read it;
/// `params::every_parameter_reaches_the_wire_or_is_reported` holds each module to its table.
pub(crate) type Fields = &'static [(TextParam, Field)];

/// Put the parameters that are set and that `fields` sends as plain [`Field::Body`] fields (the
/// numbers, and the stop list when not empty) into a request object. [`Field::Own`] ones are the
/// module's to write.
pub(crate) fn put_params(object: &mut Map<String, Value>, p: &TextParams, fields: Fields) {
    for (param, field) in fields {
        let Field::Body(name) = field else { continue };
        let value = match param {
            TextParam::Temperature => p.temperature.map(Value::from),
            TextParam::MaxTokens => p.max_tokens.map(Value::from),
            TextParam::TopP => p.top_p.map(Value::from),
            TextParam::TopK => p.top_k.map(Value::from),
            TextParam::Seed => p.seed.map(Value::from),
            TextParam::Stop => (!p.stop.is_empty()).then(|| json!(p.stop)),
            TextParam::FrequencyPenalty => p.frequency_penalty.map(Value::from),
            TextParam::PresencePenalty => p.presence_penalty.map(Value::from),
            TextParam::ThinkingBudget => p.thinking_budget.map(Value::from),
            TextParam::ThinkingLevel => p.thinking_level.clone().map(Value::from),
            TextParam::Verbosity => p.verbosity.clone().map(Value::from),
        };
        if let Some(value) = value {
            object.insert((*name).into(), value);
        }
    }
}

/// The built-in tool that `tool_choice` names, if it names one: [`ToolChoice::Tool`] with the name of
/// one of the request's built-in tools (`web_search`, ...) and of none of its functions.
pub(crate) fn chosen_builtin(req: &TextRequest) -> Option<&Tool> {
    let Some(ToolChoice::Tool(name)) = &req.tool_choice else { return None };
    let builtin = |t: &&Tool| !matches!(t, Tool::Function(_)) && t.name() == name;
    let function = |t: &Tool| matches!(t, Tool::Function(f) if &f.name == name);
    if req.tools.iter().any(function) { None } else { req.tools.iter().find(builtin) }
}

/// Refuse a built-in tool as `tool_choice` on a wire API that can only force functions (the
/// reference's 1.0.0 raises too, where it used to send a function choice the provider rejects).
pub(crate) fn refuse_builtin_choice(req: &TextRequest, ctx: &WireContext) -> crate::error::Result<()> {
    chosen_builtin(req).map_or(Ok(()), |t| Err(builtin_choice_error(t, ctx)))
}

/// The error for a built-in tool given as `tool_choice` where the wire API cannot force it.
pub(crate) fn builtin_choice_error(tool: &Tool, ctx: &WireContext) -> Error {
    ctx.unsupported(format!("a built-in tool (`{}`) as tool_choice: name a function", tool.name()))
}

/// OpenAI's token breakdown objects (`input_tokens_details` / `prompt_tokens_details` and their
/// output twins), the same in Chat Completions and Responses.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TokenDetails {
    pub cached_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
}

impl WireContext {
    /// The metadata of a response from this call, before the response's own id and model are known.
    pub(crate) fn metadata(&self) -> Metadata {
        Metadata::new(self.model.clone(), Some(self.origin), Modality::Text)
    }

    /// A stream error event (or a response's `error` object) as a typed error.
    pub(crate) fn stream_error_from(&self, err: &Value, raw: &[u8]) -> Error {
        let (message, error_type) = match err {
            Value::Object(o) => (
                o.get("message").and_then(Value::as_str).map(str::to_string),
                // A `"code": null` (common in OpenAI-style bodies) does not hide the `type`.
                o.get("code")
                    .and_then(Value::as_str)
                    .or_else(|| o.get("type").and_then(Value::as_str))
                    .map(str::to_string),
            ),
            Value::String(s) => (Some(s.clone()), None),
            _ => (None, None),
        };
        self.event_error(message, error_type, raw)
    }

    /// A typed stream event error from its parts (`raw` is kept, truncated, for diagnosis).
    pub(crate) fn event_error(&self, message: Option<String>, error_type: Option<String>, raw: &[u8]) -> Error {
        Error::StreamEvent(Box::new(StreamEventError {
            origin: self.origin,
            message: message.unwrap_or_else(|| "Unknown error".into()),
            error_type,
            event: truncate_lossy(raw, 1024),
        }))
    }
}

// ---------------------------------------------------------------------------------------------------
// Chunks

/// A chunk carrying one reasoning delta.
pub(crate) fn reasoning_chunk(text: String) -> Chunk<String> {
    let mut c = Chunk::empty();
    c.reasoning = Some(text);
    c
}

/// A chunk carrying one tool-call delta.
pub(crate) fn call_chunk(index: usize, id: Option<String>, name: Option<String>, arguments: String) -> Chunk<String> {
    let mut c = Chunk::empty();
    c.tool_call = Some(ToolCallDelta { index, id, name, arguments });
    c
}

/// A chunk saying that a server-side tool started or completed.
pub(crate) fn activity_chunk(tool_name: impl Into<String>, status: ToolActivityStatus) -> Chunk<String> {
    let mut c = Chunk::empty();
    c.tool_activity = Some(ToolActivity { tool_name: tool_name.into(), status });
    c
}

/// A chunk of its own for the usage and finish reason.
pub(crate) fn end_chunk(usage: Option<Usage>, finish: Option<FinishReason>) -> Chunk<String> {
    let mut c = Chunk::empty();
    c.usage = usage.map(Box::new);
    c.finish_reason = finish;
    c
}

/// Put the usage and finish reason on the last chunk one event produced (those from index `first`
/// on), or on a chunk of their own when the event produced none, so that a consumer sees them with
/// the content they came with.
pub(crate) fn ride_on_last(
    out: &mut VecDeque<Chunk<String>>,
    first: usize,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
) {
    let produced = out.len() > first;
    match out.back_mut().filter(|_| produced) {
        Some(last) => {
            last.usage = usage.map(Box::new);
            last.finish_reason = finish;
        }
        None => out.push_back(end_chunk(usage, finish)),
    }
}

// ---------------------------------------------------------------------------------------------------
// Accumulation

/// Everything a response (unary or streamed) accumulates into its output.
#[derive(Default)]
pub(crate) struct Accumulator {
    text: String,
    /// `text.chars().count()`, kept as text arrives (citation offsets are in characters).
    text_chars: usize,
    pub reasoning: String,
    /// Calls that arrived whole.
    pub tool_calls: Vec<ToolCall>,
    /// Calls assembled from fragments; they follow `tool_calls` in the output.
    pub partial_calls: PartialCalls,
    /// Native content the provider wants back verbatim on the next turn.
    pub signature: Vec<Value>,
    pub grounding: Option<Grounding>,
    /// Whether the model refused (OpenAI's `refusal` fields); see [`push_refusal`](Self::push_refusal).
    refused: bool,
}

impl Accumulator {
    #[cfg_attr(
        not(feature = "all-providers"),
        allow(dead_code, reason = "read by the native decoders compiled out of this build")
    )]
    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The length of the text so far, in characters.
    pub fn text_chars(&self) -> usize {
        self.text_chars
    }

    pub fn push_text(&mut self, t: &str) {
        self.text.push_str(t);
        self.text_chars += t.chars().count();
    }

    /// A refusal's text (OpenAI sends it apart from the content, as `refusal`). `Output` has no field
    /// of its own for it: it is the reply's content, so a caller reading only the content still sees
    /// why there is no answer, and the finish reason says it was a refusal
    /// ([`finish_after_refusal`](Self::finish_after_refusal)).
    pub fn push_refusal(&mut self, t: &str) {
        if !t.is_empty() {
            self.push_text(t);
            self.refused = true;
        }
    }

    /// The finish reason of a reply, given that it may have been a refusal: a refusal that the
    /// provider reports as a natural stop (OpenAI's `stop`, `completed`) is `content_filter`, with the
    /// provider's raw value kept. No finish reason stays none: a stream's chunks before its end have
    /// none.
    pub fn finish_after_refusal(&self, finish: Option<FinishReason>) -> Option<FinishReason> {
        match finish {
            Some(f) if self.refused && f.kind == FinishKind::Stop => {
                Some(FinishReason::new(FinishKind::ContentFilter, f.raw))
            }
            other => other,
        }
    }

    /// Append one whole block of reasoning (a summary, a thinking block); blocks are separated by a
    /// newline, and an empty one adds nothing.
    pub fn push_reasoning_block(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        if !self.reasoning.is_empty() {
            self.reasoning.push('\n');
        }
        self.reasoning.push_str(t);
    }

    /// Whether any tool call arrived (a finish reason of `stop` then means tool calls).
    pub fn has_calls(&self) -> bool {
        !self.tool_calls.is_empty() || !self.partial_calls.0.is_empty()
    }

    /// The grounding, started on first use.
    pub fn grounding(&mut self) -> &mut Grounding {
        self.grounding.get_or_insert_with(Grounding::default)
    }

    #[cfg_attr(
        not(feature = "all-providers"),
        allow(dead_code, reason = "read by the native decoders compiled out of this build")
    )]
    /// A search query the provider ran, once.
    pub fn add_query(&mut self, query: &str) {
        let g = self.grounding();
        if !g.queries.iter().any(|have| have == query) {
            g.queries.push(query.to_string());
        }
    }

    /// A web source (one per URL), and the span of the text it backs (character offsets) when the
    /// wire API gives one. Returns the source's index.
    pub fn cite(&mut self, source: GroundingSource, span: Option<(usize, usize)>, cited_text: Option<String>) -> usize {
        let g = self.grounding();
        let idx = g.add_source(source);
        if let Some((start, end)) = span {
            g.citations.push(Citation { start, end, source_indices: vec![idx], cited_text });
        }
        idx
    }

    /// The output: everything accumulated, with the response's metadata, usage and finish reason. A
    /// tool call whose arguments are not a JSON object fails it with [`Error::OutputValidation`] naming
    /// the call (the reference's 1.0.0: never `{}`), the whole reply kept in the error.
    pub fn into_output(
        self,
        meta: Metadata,
        usage: Usage,
        finish: Option<FinishReason>,
    ) -> crate::error::Result<Output<String>> {
        let finish = self.finish_after_refusal(finish);
        let mut out = Output::new(self.text, meta);
        out.usage = usage;
        out.finish_reason = finish;
        out.tool_calls = self.tool_calls;
        out.tool_calls.extend(self.partial_calls.into_calls());
        out.reasoning = (!self.reasoning.is_empty()).then_some(self.reasoning);
        out.signature = self.signature;
        out.grounding = self.grounding;
        let bad = out.tool_calls.iter().find_map(|c| Some((c, arguments_problem(&c.arguments)?)));
        if let Some((call, problem)) = bad {
            let what = format!("arguments of tool call `{}` (id `{}`)", call.name, call.id);
            let message = format!("{problem}; the arguments must be a JSON object");
            return Err(Error::OutputValidation(Box::new(OutputValidationError { what, message, output: out })));
        }
        Ok(out)
    }
}

/// A tool call arriving as OpenAI-style fragments: the id and name once, the arguments as JSON text
/// in pieces.
#[derive(Default)]
struct PartialCall {
    /// The wire `index`, when the server sends one.
    wire_index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

/// The tool calls of a response whose calls arrive in fragments; arguments are parsed once, at the end.
#[derive(Default)]
pub(crate) struct PartialCalls(Vec<PartialCall>);

impl PartialCalls {
    /// A call that arrived whole (a unary response's): its own call, whatever index it carries.
    pub fn push_whole(&mut self, id: &str, name: &str, arguments: &str) {
        self.0.push(PartialCall { wire_index: None, id: id.into(), name: name.into(), arguments: arguments.into() });
    }

    /// The position (0-based, in output order) of the call a fragment belongs to: the call with its
    /// wire `index`; without one, a new call when `new`, else the call with its `id`, else the latest.
    /// A fragment that matches no call starts one.
    pub fn slot(&mut self, index: Option<u64>, id: Option<&str>, new: bool) -> usize {
        let found = match (index, id) {
            (Some(i), _) => self.0.iter().position(|c| c.wire_index == Some(i)),
            (None, _) if new => None,
            (None, Some(id)) => self.0.iter().position(|c| c.id == id),
            (None, None) => self.0.len().checked_sub(1),
        };
        found.unwrap_or_else(|| {
            self.0.push(PartialCall { wire_index: index, ..PartialCall::default() });
            self.0.len() - 1
        })
    }

    /// Fold a fragment into the call at `pos`: the first non-empty id and name stick, the arguments
    /// are appended.
    pub fn merge(&mut self, pos: usize, id: Option<&str>, name: Option<&str>, arguments: &str) {
        let Some(call) = self.0.get_mut(pos) else { return };
        if let Some(id) = id.filter(|s| !s.is_empty() && call.id.is_empty()) {
            call.id = id.to_string();
        }
        if let Some(name) = name.filter(|s| !s.is_empty() && call.name.is_empty()) {
            call.name = name.to_string();
        }
        call.arguments.push_str(arguments);
    }

    fn into_calls(self) -> Vec<ToolCall> {
        self.0.into_iter().map(|c| ToolCall::new(c.id, c.name, parse_arguments(&c.arguments))).collect()
    }
}

// ---------------------------------------------------------------------------------------------------
// Stream ends

/// What a stream keeps for its end; a unary parser fills one whole.
#[derive(Default)]
pub(crate) struct StreamEnd {
    pub response_id: Option<String>,
    pub response_model: Option<String>,
    /// The last usage reported.
    pub usage: Option<Usage>,
    pub finish: Option<FinishReason>,
    /// The event kept as the output's raw response.
    pub raw_response: Option<Bytes>,
    /// Whether the wire API's terminal event arrived.
    pub terminal: bool,
}

impl StreamEnd {
    /// Keep the id and model of the first event that carries them.
    pub fn first_ids(&mut self, id: Option<&str>, model: Option<&str>) {
        if self.response_id.is_none() {
            self.response_id = id.map(str::to_string);
        }
        if self.response_model.is_none() {
            self.response_model = model.map(str::to_string);
        }
    }

    /// The metadata of the output, taking the id, model and raw response.
    pub fn metadata(&mut self, ctx: &WireContext) -> Metadata {
        let mut meta = ctx.metadata();
        meta.response_id = self.response_id.take();
        meta.response_model = self.response_model.take();
        meta.raw_response = self.raw_response.take();
        meta
    }

    /// The stream's output: [`Error::StreamTruncated`] (saying `missing` never came) unless the
    /// terminal event arrived, else everything accumulated.
    pub fn output(
        &mut self,
        ctx: &WireContext,
        acc: &mut Accumulator,
        missing: &str,
    ) -> crate::error::Result<Output<String>> {
        ended(self.terminal, ctx.origin, missing)?;
        self.assemble(ctx, acc)
    }

    /// The output of a unary response, which has ended by definition (its parser fills a whole
    /// `StreamEnd` with `terminal: true`).
    pub fn into_output(mut self, ctx: &WireContext, mut acc: Accumulator) -> crate::error::Result<Output<String>> {
        self.assemble(ctx, &mut acc)
    }

    /// The output from everything accumulated, without the terminal check (a unary response, or a
    /// stream its decoder judged complete). The accumulator is taken: an output is assembled once.
    pub fn assemble(&mut self, ctx: &WireContext, acc: &mut Accumulator) -> crate::error::Result<Output<String>> {
        let meta = self.metadata(ctx);
        std::mem::take(acc).into_output(meta, self.usage.take().unwrap_or_default(), self.finish.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_of_takes_the_host() {
        assert_eq!(domain_of("https://example.com/a/b").as_deref(), Some("example.com"));
        assert_eq!(domain_of("http://example.com").as_deref(), Some("example.com"));
        assert_eq!(domain_of("https:///path"), None);
        assert_eq!(domain_of("doc:0"), None);
    }

    #[test]
    fn partial_calls_follow_index_then_id_then_the_latest() {
        let mut calls = PartialCalls::default();
        let a = calls.slot(Some(0), Some("a"), false);
        calls.merge(a, Some("a"), Some("f"), "{\"x\":");
        let b = calls.slot(Some(1), None, false);
        calls.merge(b, Some("b"), Some("g"), "{}");
        assert_eq!(calls.slot(Some(0), None, false), a);
        calls.merge(a, Some("other"), Some(""), "1}");
        assert_eq!(calls.slot(None, Some("b"), false), b);
        assert_eq!(calls.slot(None, None, false), b);
        assert_eq!(calls.slot(None, None, true), 2);
        let out = calls.into_calls();
        assert_eq!(out[0], ToolCall::new("a", "f", serde_json::json!({"x": 1})));
        assert_eq!(out[1], ToolCall::new("b", "g", serde_json::json!({})));
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn usage_and_finish_ride_on_the_last_chunk_of_the_event() {
        let mut out = VecDeque::from([Chunk::content("a".to_string())]);
        ride_on_last(&mut out, 1, None, Some(FinishReason::from_raw("stop")));
        assert_eq!(out.len(), 2, "no chunk from this event: one of its own");
        ride_on_last(&mut out, 0, None, Some(FinishReason::from_raw("length")));
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].finish_reason.as_ref().map(|f| f.raw.as_str()), Some("length"));
    }
}
