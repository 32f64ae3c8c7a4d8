//! The OpenAI Responses wire API (`POST /v1/responses`), served by OpenAI, xAI, OpenRouter, Ollama and
//! any compatible endpoint: request building, response decoding and stream-event decoding.

use std::borrow::Cow;
use std::collections::VecDeque;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, Origin, Result};
use crate::stream::{Decoder, Frame};
use crate::types::Tool;
use crate::types::enums::{Provider, Role};
use crate::types::message::{Item, Part};
use crate::types::output::{Chunk, GroundingSource, Output};
use crate::types::text::{TextParam, TextRequest};
use crate::types::tool::{ToolActivityStatus, ToolCall, ToolChoice, parse_arguments};
use crate::types::usage::{FinishKind, FinishReason, Usage};
use crate::wire::WireContext;
use crate::wire::kit::{
    Accumulator, Field, Fields, Lenient, LenientList, LenientStr, StreamEnd, TokenDetails, activity_chunk,
    builtin_choice_error, call_chunk, chosen_builtin, domain_of, end_chunk, put_params, reasoning_chunk,
};

// ---------------------------------------------------------------------------------------------------
// Requests

/// Where the Responses API puts each text parameter (a thinking budget has no field here: the effort
/// is `thinking_level`).
pub(crate) const FIELDS: Fields = &[
    (TextParam::Temperature, Field::Body("temperature")),
    (TextParam::MaxTokens, Field::Body("max_output_tokens")),
    (TextParam::TopP, Field::Body("top_p")),
    (TextParam::ThinkingLevel, Field::Own),
    (TextParam::Verbosity, Field::Own),
];

/// The request body for `req`.
pub(crate) fn build_request(req: &TextRequest, ctx: &WireContext, stream: bool) -> Result<Value> {
    let mut body = Map::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    body.insert("input".into(), Value::Array(input_items(&req.items, ctx)?));
    let p = &req.params;
    put_params(&mut body, p, FIELDS);
    if let Some(effort) = &p.thinking_level {
        body.insert("reasoning".into(), json!({"effort": effort, "summary": "auto"}));
    }
    let mut text = Map::new();
    if let Some(v) = &p.verbosity {
        text.insert("verbosity".into(), v.as_str().into());
    }
    if let Some(s) = &req.output_schema {
        // The root must be an object: a list travels as `{"items": [...]}`.
        let format = json!({"type": "json_schema", "name": s.name, "schema": s.strict_object(), "strict": true});
        text.insert("format".into(), format);
    }
    if !text.is_empty() {
        body.insert("text".into(), Value::Object(text));
    }
    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| tool(t, ctx)).collect::<Result<Vec<_>>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = &req.tool_choice {
        body.insert("tool_choice".into(), tool_choice(choice, req, ctx)?);
    }
    // Meta returns a web search's results (its grounding sources) only when asked, as the reference
    // asks.
    if ctx.origin == Origin::Provider(Provider::Meta) && req.tools.iter().any(|t| matches!(t, Tool::WebSearch(_))) {
        body.insert("include".into(), json!(["web_search_call.results"]));
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    Ok(Value::Object(body))
}

fn input_items(items: &[Item], ctx: &WireContext) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Message(m) => {
                // Reasoning items come back verbatim, before the assistant content they led to.
                out.extend(m.signature.iter().cloned());
                let assistant = m.role == Role::Assistant;
                let content = if assistant && m.content.iter().all(|p| matches!(p, Part::Text { .. })) {
                    // Earlier assistant turns go back as plain text: an `output_text` list is an output
                    // message, which the API schema only accepts with the `id` and `status` of the
                    // response that produced it. A turn with no text (only tool calls) sends none.
                    let text = m.text();
                    (!text.is_empty()).then_some(Value::String(text))
                } else {
                    let parts = m.content.iter().map(|p| part(p, assistant, ctx)).collect::<Result<Vec<_>>>()?;
                    (!parts.is_empty()).then_some(Value::Array(parts))
                };
                if let Some(content) = content {
                    let mut msg = Map::new();
                    msg.insert("type".into(), "message".into());
                    msg.insert("role".into(), m.role.as_str().into());
                    msg.insert("content".into(), content);
                    out.push(Value::Object(msg));
                }
                for call in &m.tool_calls {
                    out.push(json!({
                        "type": "function_call",
                        "call_id": call.id,
                        "name": call.name,
                        "arguments": call.arguments.to_string(),
                    }));
                }
            }
            Item::ToolResult(r) => {
                out.push(
                    json!({"type": "function_call_output", "call_id": r.tool_call_id, "output": r.content_text()}),
                );
            }
        }
    }
    Ok(out)
}

fn part(p: &Part, assistant: bool, ctx: &WireContext) -> Result<Value> {
    Ok(match p {
        Part::Text { text } if assistant => json!({"type": "output_text", "text": text}),
        Part::Text { text } => json!({"type": "input_text", "text": text}),
        // `detail` is required by the API schema; `auto` is the API's default.
        Part::Image { image } => json!({"type": "input_image", "image_url": image.data_url()?, "detail": "auto"}),
        Part::Document { document } => match &document.url {
            Some(url) if document.data.is_none() => json!({"type": "input_file", "file_url": url}),
            _ => {
                let name = document.path.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
                json!({"type": "input_file", "filename": name.unwrap_or_else(|| "document".into()), "file_data": document.data_url()?})
            }
        },
        other => return Err(ctx.unsupported_part(other)),
    })
}

fn tool(t: &Tool, ctx: &WireContext) -> Result<Value> {
    Ok(match t {
        Tool::Function(f) => {
            // `strict` is always sent: the Responses API requires it and treats an absent one as
            // `true`, which would reject a raw schema that is not strict-compatible.
            let mut v = json!({"type": "function", "name": f.name, "parameters": f.parameters, "strict": f.strict});
            if let Some(d) = &f.description {
                v["description"] = d.clone().into();
            }
            v
        }
        Tool::WebSearch(w) => {
            if !w.blocked_domains.is_empty() || w.max_uses.is_some() {
                tracing::warn!(origin = %ctx.origin, "web search: blocked_domains and max_uses are not supported by the Responses API and were dropped");
            }
            let mut v = json!({"type": "web_search"});
            if !w.allowed_domains.is_empty() {
                v["filters"] = json!({"allowed_domains": w.allowed_domains});
            }
            v
        }
        Tool::XSearch => json!({"type": "x_search"}),
        // xAI names its code tool `code_interpreter` on this API (the reference's 1.0.0).
        Tool::CodeExecution if ctx.origin == Origin::Provider(Provider::XAi) => json!({"type": "code_interpreter"}),
        Tool::CodeExecution => json!({"type": "code_execution"}),
        Tool::Raw { value } => value.clone(),
        other => return Err(ctx.unsupported(format!("the {} tool", other.name()))),
    })
}

/// A function is forced by name. Of the built-in tools only OpenAI's web search can be forced, as an
/// `allowed_tools` choice that requires it (the reference's 1.0.0); any other is refused.
fn tool_choice(c: &ToolChoice, req: &TextRequest, ctx: &WireContext) -> Result<Value> {
    match chosen_builtin(req) {
        Some(Tool::WebSearch(_)) if ctx.origin == Origin::Provider(Provider::OpenAi) => {
            return Ok(json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "web_search"}]}));
        }
        Some(other) => return Err(builtin_choice_error(other, ctx)),
        None => {}
    }
    Ok(match c {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::Required => "required".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Tool(name) => json!({"type": "function", "name": name}),
    })
}

// ---------------------------------------------------------------------------------------------------
// Responses

/// A response object. The API keeps adding fields and item types: every field is read leniently (a
/// field of an unexpected shape is absent), and the object is kept verbatim as the raw response.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Response<'a> {
    id: LenientStr<'a>,
    model: LenientStr<'a>,
    status: LenientStr<'a>,
    output: LenientList<&'a RawValue>,
    usage: Lenient<WireUsage>,
    incomplete_details: Lenient<IncompleteDetails>,
    error: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IncompleteDetails {
    reason: Lenient<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    total_tokens: Option<u64>,
    input_tokens_details: Option<TokenDetails>,
    output_tokens_details: Option<TokenDetails>,
}

impl WireUsage {
    fn into_usage(self, raw: Option<crate::types::usage::RawJson>) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            total_tokens: self.total_tokens,
            cache_read_tokens: self.input_tokens_details.as_ref().and_then(|d| d.cached_tokens),
            reasoning_tokens: self.output_tokens_details.as_ref().and_then(|d| d.reasoning_tokens),
            raw,
            ..Usage::default()
        }
    }
}

/// An output item; only the fields this library reads, each read leniently. Items of other types
/// (`tool_search_call`, `shell_call`, whatever comes next) are not decoded at all: they differ in shape
/// (a `tool_search_call`'s `arguments` is an object where a `function_call`'s is a string), and they
/// stay in the raw response (`Metadata::raw_response`: the body of a unary call, the final response
/// object of a stream, which lists every output item).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct OutputItem<'a> {
    #[serde(rename = "type")]
    kind: LenientStr<'a>,
    content: LenientList<ContentPart>,
    summary: LenientList<TextPiece>,
    call_id: LenientStr<'a>,
    id: LenientStr<'a>,
    name: LenientStr<'a>,
    arguments: LenientStr<'a>,
    status: LenientStr<'a>,
    /// A `web_search_call`'s results, when the request asked for them (`include`).
    results: LenientList<SearchResult>,
}

/// One result of a `web_search_call` (`{url, title}`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchResult {
    url: Lenient<String>,
    title: Lenient<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContentPart {
    #[serde(rename = "type")]
    kind: Lenient<String>,
    text: Lenient<String>,
    /// A `refusal` part's text.
    refusal: Lenient<String>,
    annotations: LenientList<Annotation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TextPiece {
    text: Lenient<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Annotation {
    #[serde(rename = "type")]
    kind: Lenient<String>,
    url: Lenient<String>,
    title: Lenient<String>,
    start_index: Lenient<usize>,
    end_index: Lenient<usize>,
}

/// How a finished output item's text is folded in.
#[derive(Clone, Copy)]
enum ItemText {
    /// A unary response's: the text is added here.
    Add,
    /// A stream's, whose text (and refusal) arrived as deltas: the item's text began at this character
    /// of the output, and its citations are placed from there unless `cited` (annotation events
    /// placed them already).
    Streamed { start: usize, cited: bool },
}

/// Fold a finished output item in, and say its type. The text of every message item is joined, and
/// each part's citation offsets are shifted to where the part sits in the joined text (the reference's
/// 1.0.0). An item that is not even an object is left raw, as an unknown one is.
fn add_item(acc: &mut Accumulator, raw: &RawValue, text: ItemText) -> Option<String> {
    let with_text = matches!(text, ItemText::Add);
    let Ok(item) = serde_json::from_str::<OutputItem>(raw.get()) else {
        tracing::debug!("a Responses output item that is not an object was left raw");
        return None;
    };
    let kind = item.kind.as_deref().map(str::to_string);
    match item.kind.as_deref() {
        Some("message") => {
            let mut streamed = 0;
            for part in item.content.0 {
                match part.kind.0.as_deref() {
                    Some("output_text") => {
                        let part_text = part.text.0.as_deref().unwrap_or_default();
                        match text {
                            ItemText::Add => {
                                let offset = acc.text_chars();
                                acc.push_text(part_text);
                                add_annotations(acc, &part.annotations.0, offset);
                            }
                            ItemText::Streamed { start, cited } => {
                                if !cited {
                                    add_annotations(acc, &part.annotations.0, start.saturating_add(streamed));
                                }
                                streamed += part_text.chars().count();
                            }
                        }
                    }
                    Some("refusal") if with_text => acc.push_refusal(part.refusal.0.as_deref().unwrap_or_default()),
                    _ => {}
                }
            }
        }
        Some("reasoning") => {
            if with_text {
                let summary: Vec<&str> = item.summary.0.iter().filter_map(|s| s.text.0.as_deref()).collect();
                let text = item.content.0.iter().filter_map(|c| c.text.0.as_deref()).collect::<Vec<_>>();
                acc.push_reasoning_block(&if summary.is_empty() { text.join("\n") } else { summary.join("\n") });
            }
            acc.signature.push(serde_json::from_str(raw.get()).unwrap_or(Value::Null));
        }
        Some("web_search_call") => {
            // Every result the search returned is a source (Meta returns them when asked with
            // `include`), beside the `url_citation` annotations that back spans of the text.
            for r in item.results.0 {
                let Some(url) = r.url.0 else { continue };
                let domain = domain_of(&url);
                acc.cite(GroundingSource { url, title: r.title.0, domain }, None, None);
            }
        }
        // A call the model did not finish is not a call (the reference's 1.0.0).
        Some("function_call") if matches!(item.status.as_deref(), Some("incomplete" | "in_progress")) => {}
        Some("function_call") => {
            let id = item.call_id.0.or(item.id.0).unwrap_or_default().into_owned();
            let args = parse_arguments(item.arguments.as_deref().unwrap_or(""));
            acc.tool_calls.push(ToolCall::new(id, item.name.0.unwrap_or_default().into_owned(), args));
        }
        _ => {}
    }
    kind
}

fn add_annotations(acc: &mut Accumulator, annotations: &[Annotation], offset: usize) {
    for a in annotations.iter().filter(|a| a.kind.0.as_deref() == Some("url_citation")) {
        let Some(url) = a.url.0.clone() else { continue };
        let domain = domain_of(&url);
        // Saturating: the indexes are the server's, and absurd ones must not overflow.
        let span =
            a.start_index.0.zip(a.end_index.0).map(|(s, e)| (offset.saturating_add(s), offset.saturating_add(e)));
        acc.cite(GroundingSource { url, title: a.title.0.clone(), domain }, span, None);
    }
}

/// The finish reason of a response from its status.
fn finish_reason(
    status: Option<&str>,
    incomplete: Option<&IncompleteDetails>,
    has_calls: bool,
) -> Option<FinishReason> {
    let status = status?;
    Some(match status {
        "completed" if has_calls => FinishReason::new(FinishKind::ToolCall, status),
        "incomplete" => match incomplete.and_then(|d| d.reason.0.as_deref()) {
            Some(r) => FinishReason::from_raw(r),
            None => FinishReason::new(FinishKind::Length, status),
        },
        _ => FinishReason::from_raw(status),
    })
}

/// Decode a unary response body.
pub(crate) fn parse_response(body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
    let resp: Response =
        serde_json::from_slice(&body).map_err(|e| Error::decode("openresponses response", e, &body))?;
    if let Some(err) = resp.error.as_ref().filter(|e| !e.is_null()) {
        return Err(ctx.stream_error_from(err, &body));
    }
    let mut acc = Accumulator::default();
    for item in &resp.output.0 {
        add_item(&mut acc, item, ItemText::Add);
    }
    let end = StreamEnd {
        finish: finish_reason(resp.status.as_deref(), resp.incomplete_details.0.as_ref(), acc.has_calls()),
        usage: resp.usage.0.map(|u| u.into_usage(raw_usage(&body))),
        response_id: resp.id.0.map(Cow::into_owned),
        response_model: resp.model.0.map(Cow::into_owned),
        raw_response: Some(body.clone()),
        terminal: true,
    };
    end.into_output(ctx, acc)
}

/// The provider's usage object, verbatim (decoded only to keep it; cheap next to the network).
fn raw_usage(body: &[u8]) -> Option<crate::types::usage::RawJson> {
    #[derive(Deserialize)]
    struct U {
        usage: Option<crate::types::usage::RawJson>,
    }
    serde_json::from_slice::<U>(body).ok().and_then(|u| u.usage).filter(|u| !u.is_null())
}

// ---------------------------------------------------------------------------------------------------
// Streams

/// One stream event; only the fields this library reads, borrowed from the event's bytes. Every field
/// is read leniently: events this library does not know (`response.shell_call_output_content.delta`,
/// whose `delta` is an object) are skipped whatever their shape, and a known event whose delta is not
/// text adds nothing.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: LenientStr<'a>,
    delta: LenientStr<'a>,
    output_index: Lenient<usize>,
    item: Option<&'a RawValue>,
    response: Option<&'a RawValue>,
    annotation: Option<&'a RawValue>,
    message: LenientStr<'a>,
    code: LenientStr<'a>,
    error: Option<Value>,
}

/// The stream state of one Responses stream.
pub(crate) struct ResponsesDecoder {
    ctx: WireContext,
    acc: Accumulator,
    /// Output index → tool-call index, for argument deltas.
    call_index: Vec<(usize, usize)>,
    calls_started: usize,
    /// A reasoning summary part has ended: the next reasoning delta starts a new part.
    part_done: bool,
    /// Output index → the character of the output where that message item's text began.
    item_starts: Vec<(usize, usize)>,
    /// The output indexes whose citations came as annotation events.
    cited: Vec<usize>,
    /// Whether any `response.output_item.done` came (else the terminal response's items are read).
    items_done: bool,
    /// The final response is the raw response.
    end: StreamEnd,
}

impl ResponsesDecoder {
    pub(crate) fn new(ctx: WireContext) -> Self {
        ResponsesDecoder {
            ctx,
            acc: Accumulator::default(),
            call_index: Vec::new(),
            calls_started: 0,
            part_done: false,
            item_starts: Vec::new(),
            cited: Vec::new(),
            items_done: false,
            end: StreamEnd::default(),
        }
    }

    /// Where the text of the message item at output index `oi` began: set by its first text delta
    /// (or annotation), else where the text stands now.
    fn item_start(&mut self, oi: usize) -> usize {
        if let Some((_, start)) = self.item_starts.iter().find(|(o, _)| *o == oi) {
            return *start;
        }
        let start = self.acc.text_chars();
        self.item_starts.push((oi, start));
        start
    }

    /// How the finished item at output index `oi` is folded in.
    fn item_text(&mut self, oi: usize) -> ItemText {
        ItemText::Streamed { start: self.item_start(oi), cited: self.cited.contains(&oi) }
    }

    fn on_response(&mut self, raw: &RawValue, terminal: bool, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let resp: Response = serde_json::from_str(raw.get())
            .map_err(|e| Error::decode("openresponses response", e, raw.get().as_bytes()))?;
        self.end.response_id = resp.id.0.map(Cow::into_owned).or(self.end.response_id.take());
        self.end.response_model = resp.model.0.map(Cow::into_owned).or(self.end.response_model.take());
        if !terminal {
            return Ok(());
        }
        if let Some(err) = resp.error.as_ref().filter(|e| !e.is_null()) {
            return Err(self.ctx.stream_error_from(err, raw.get().as_bytes()));
        }
        // Servers that send no per-item `done` events still list the items here.
        if !self.items_done {
            for item in &resp.output.0 {
                add_item(&mut self.acc, item, ItemText::Streamed { start: 0, cited: false });
            }
        }
        let usage = resp.usage.0.map(|u| u.into_usage(raw_usage(raw.get().as_bytes())));
        let finish = finish_reason(resp.status.as_deref(), resp.incomplete_details.0.as_ref(), self.acc.has_calls());
        self.end.finish = self.acc.finish_after_refusal(finish);
        self.end.usage = usage.clone();
        self.end.raw_response = Some(Bytes::copy_from_slice(raw.get().as_bytes()));
        self.end.terminal = true;
        out.push_back(end_chunk(usage, self.end.finish.clone()));
        Ok(())
    }
}

impl Decoder<String, String> for ResponsesDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Frame::Sse(ev) = frame else { return Ok(()) };
        if ev.is_done() {
            return Ok(());
        }
        let e: Event = match serde_json::from_slice(&ev.data) {
            Ok(e) => e,
            Err(err) => return Err(Error::decode("openresponses stream event", err, &ev.data)),
        };
        match e.kind.as_deref().unwrap_or_default() {
            "response.output_text.delta" => {
                let Some(d) = e.delta.0 else { return Ok(()) };
                self.item_start(e.output_index.0.unwrap_or(usize::MAX));
                self.acc.push_text(&d);
                out.push_back(Chunk::content(d.into_owned()));
            }
            // A refusal's text is the reply's content (see `Accumulator::push_refusal`).
            "response.refusal.delta" => {
                let Some(d) = e.delta.0.filter(|d| !d.is_empty()) else { return Ok(()) };
                self.acc.push_refusal(&d);
                out.push_back(Chunk::content(d.into_owned()));
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                let Some(d) = e.delta.0 else { return Ok(()) };
                // Summary parts are joined with a newline, as in unary responses: the newline goes
                // before the next part's first delta, never after the last part.
                let mut piece = String::with_capacity(d.len() + 1);
                if std::mem::take(&mut self.part_done) && !self.acc.reasoning.is_empty() {
                    piece.push('\n');
                }
                piece.push_str(&d);
                self.acc.reasoning.push_str(&piece);
                out.push_back(reasoning_chunk(piece));
            }
            "response.reasoning_summary_part.done" => self.part_done = true,
            "response.output_item.added" => {
                let Some(item) = e.item.and_then(|raw| serde_json::from_str::<OutputItem>(raw.get()).ok()) else {
                    return Ok(());
                };
                match item.kind.as_deref().unwrap_or_default() {
                    "function_call" => {
                        let index = self.calls_started;
                        self.calls_started += 1;
                        self.call_index.push((e.output_index.0.unwrap_or(usize::MAX), index));
                        out.push_back(call_chunk(
                            index,
                            item.call_id.0.or(item.id.0).map(Cow::into_owned),
                            item.name.0.map(Cow::into_owned),
                            item.arguments.0.map(Cow::into_owned).unwrap_or_default(),
                        ));
                    }
                    kind if kind.ends_with("_call") => out.push_back(activity(kind, ToolActivityStatus::Started)),
                    _ => {}
                }
            }
            "response.function_call_arguments.delta" => {
                let Some(d) = e.delta.0 else { return Ok(()) };
                let oi = e.output_index.0.unwrap_or(usize::MAX);
                let index = self.call_index.iter().find(|(o, _)| *o == oi).map(|(_, i)| *i).unwrap_or(0);
                out.push_back(call_chunk(index, None, None, d.into_owned()));
            }
            "response.output_item.done" => {
                self.items_done = true;
                let oi = e.output_index.0.unwrap_or(usize::MAX);
                let text = self.item_text(oi);
                if let Some(kind) = e.item.and_then(|raw| add_item(&mut self.acc, raw, text))
                    && kind.ends_with("_call")
                    && kind != "function_call"
                {
                    out.push_back(activity(&kind, ToolActivityStatus::Completed));
                }
            }
            "response.output_text.annotation.added" => {
                if let Some(raw) = e.annotation
                    && let Ok(a) = serde_json::from_str::<Annotation>(raw.get())
                {
                    let oi = e.output_index.0.unwrap_or(usize::MAX);
                    let start = self.item_start(oi);
                    self.cited.push(oi);
                    add_annotations(&mut self.acc, std::slice::from_ref(&a), start);
                }
            }
            "response.created" | "response.in_progress" => {
                if let Some(raw) = e.response {
                    self.on_response(raw, false, out)?;
                }
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                if let Some(raw) = e.response {
                    self.on_response(raw, true, out)?;
                } else {
                    self.end.terminal = true;
                }
            }
            "error" => {
                let mut err = e.error.unwrap_or(Value::Null);
                if err.is_null() {
                    err = json!({"message": e.message.0, "code": e.code.0});
                }
                return Err(self.ctx.stream_error_from(&err, &ev.data));
            }
            _ => {}
        }
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.end.terminal
    }

    fn finish(&mut self) -> Result<Output<String>> {
        self.end.output(&self.ctx, &mut self.acc, "no response.completed event")
    }
}

/// The activity chunk of a server tool's `<tool>_call` item.
fn activity(kind: &str, status: ToolActivityStatus) -> Chunk<String> {
    activity_chunk(kind.trim_end_matches("_call"), status)
}

#[cfg(test)]
mod tests;
