//! The Chat Completions wire API (`POST …/chat/completions`), served by Mistral, Moonshot, DeepSeek,
//! Groq, Hugging Face and any compatible endpoint: request building, response decoding and
//! stream-chunk decoding.
//!
//! The servers differ in a handful of details (a field name, a tool-choice spelling, which assistant
//! turns replay their reasoning, which built-in tools exist). Those differences are data: one
//! [`ChatQuirks`] row per provider, chosen from the [`WireContext`]'s origin. A bring-your-own
//! endpoint (`Protocol::ChatCompletions`) gets the plain protocol.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, Origin, Result};
use crate::stream::{Decoder, Frame};
use crate::types::Tool;
use crate::types::artifact::Artifact;
use crate::types::enums::{Provider, Role};
use crate::types::message::{Item, Message, Part, ToolResult};
use crate::types::output::{Chunk, GroundingSource, Output};
use crate::types::text::{TextParam, TextRequest};
use crate::types::tool::{FunctionTool, ToolCall, ToolChoice};
use crate::types::usage::{FinishReason, Usage};
use crate::wire::kit::{
    Accumulator, Field, Fields, Str, StreamEnd, TokenDetails, WebRef, call_chunk, domain_of, ended, present,
    put_params, reasoning_chunk, ride_on_last,
};
use crate::wire::{WireContext, WireFunction, WireToolCall};

// ---------------------------------------------------------------------------------------------------
// Quirks

/// Which assistant turns carry their reasoning back to the server as `reasoning_content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasoningReplay {
    /// Never (the protocol; servers that reject the field, such as Mistral).
    Never,
    /// Every assistant turn that has reasoning (Moonshot; DeepSeek, whose thinking mode needs it on
    /// tool-calling turns and takes it on the others, as the reference's 1.0.0 sends it).
    Always,
    /// Mistral: the reasoning goes back as a leading `thinking` chunk of the content (which becomes
    /// a list of chunks), Mistral's own form for its reasoning models.
    ThinkingChunk,
}

/// Where Chat Completions puts each text parameter: no top-k, no thinking budget (the effort is
/// `thinking_level`) and no verbosity in the protocol its servers share. The output limit and the seed
/// are the module's own: some servers name them differently ([`ChatQuirks`]).
pub(crate) const FIELDS: Fields = &[
    (TextParam::Temperature, Field::Body("temperature")),
    (TextParam::MaxTokens, Field::Own),
    (TextParam::TopP, Field::Body("top_p")),
    (TextParam::Seed, Field::Own),
    (TextParam::Stop, Field::Body("stop")),
    (TextParam::FrequencyPenalty, Field::Body("frequency_penalty")),
    (TextParam::PresencePenalty, Field::Body("presence_penalty")),
    (TextParam::ThinkingLevel, Field::Own),
];

/// How `thinking_level` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasoningStyle {
    /// A top-level `reasoning_effort` string.
    Effort,
    /// DeepSeek: `thinking: {type: "disabled"}` for `disabled`/`none`, else
    /// `thinking: {type: "enabled"}` plus `reasoning_effort`.
    Thinking,
}

/// The wire object of a provider built-in tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `{"type": <name>}` (Groq's `browser_search`, `code_interpreter`).
    Typed(&'static str),
    /// `{"type": "builtin_function", "function": {"name": <name>}}` (Moonshot's `$web_search`).
    Function(&'static str),
}

impl Builtin {
    fn wire(self) -> Value {
        match self {
            Builtin::Typed(t) => json!({"type": t}),
            Builtin::Function(name) => {
                json!({"type": "builtin_function", "function": {"name": name}})
            }
        }
    }
}

/// How one Chat Completions server departs from the common protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChatQuirks {
    /// The output-limit field (`max_tokens`, or Moonshot's `max_completion_tokens`).
    pub max_tokens_field: &'static str,
    /// The sampling-seed field (`seed`, or Mistral's `random_seed`).
    pub seed_field: &'static str,
    /// The wire value of [`ToolChoice::Required`] (`required`, or Mistral's `any`).
    pub required_choice: &'static str,
    /// Whether streams ask for the final usage chunk with `stream_options.include_usage`. Mistral
    /// rejects the field (it refuses unknown inputs) and reports usage on its last chunk anyway.
    pub stream_usage_option: bool,
    /// Which assistant turns replay their reasoning.
    pub reasoning_replay: ReasoningReplay,
    /// How the reasoning effort is sent.
    pub reasoning: ReasoningStyle,
    /// The built-in behind [`Tool::WebSearch`], if the server has one.
    pub web_search: Option<Builtin>,
    /// The built-in behind [`Tool::CodeExecution`], if the server has one.
    pub code_execution: Option<Builtin>,
    /// How structured output is asked for.
    pub structured: Structured,
}

/// The `response_format` a server takes for structured output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structured {
    /// `{"type": "json_object"}`: JSON mode, no schema (DeepSeek, Groq, Moonshot, as in the reference).
    JsonObject,
    /// `{"type": "json_schema", "json_schema": {name, strict: true, schema}}`, strict.
    JsonSchema {
        /// Whether a list must travel as `{"items": [...]}` (the root must be an object).
        wrap_list: bool,
        /// Whether `$defs` must be inlined (Mistral).
        inline: bool,
    },
}

impl ChatQuirks {
    /// The plain protocol: what a compatible endpoint gets.
    pub(crate) const PROTOCOL: ChatQuirks = ChatQuirks {
        max_tokens_field: "max_tokens",
        seed_field: "seed",
        required_choice: "required",
        stream_usage_option: true,
        reasoning_replay: ReasoningReplay::Never,
        reasoning: ReasoningStyle::Effort,
        web_search: None,
        code_execution: None,
        // The reference sends bare JSON mode here; the schema form is the protocol's own (OpenAI's
        // Chat Completions API, and the servers that copy it: vLLM, llama.cpp, LM Studio, Ollama), and
        // without it a model cannot know the shape it is asked for.
        structured: Structured::JsonSchema { wrap_list: true, inline: false },
    };

    /// The quirks of whoever is being called.
    pub(crate) const fn for_origin(origin: Origin) -> ChatQuirks {
        let Origin::Provider(p) = origin else {
            return ChatQuirks::PROTOCOL;
        };
        match p {
            Provider::Mistral => ChatQuirks {
                reasoning_replay: ReasoningReplay::ThinkingChunk,
                seed_field: "random_seed",
                required_choice: "any",
                stream_usage_option: false,
                structured: Structured::JsonSchema { wrap_list: false, inline: true },
                ..ChatQuirks::PROTOCOL
            },
            Provider::Moonshot => ChatQuirks {
                max_tokens_field: "max_completion_tokens",
                reasoning_replay: ReasoningReplay::Always,
                web_search: Some(Builtin::Function("$web_search")),
                structured: Structured::JsonObject,
                ..ChatQuirks::PROTOCOL
            },
            Provider::DeepSeek => ChatQuirks {
                reasoning_replay: ReasoningReplay::Always,
                reasoning: ReasoningStyle::Thinking,
                structured: Structured::JsonObject,
                ..ChatQuirks::PROTOCOL
            },
            Provider::Groq => ChatQuirks {
                web_search: Some(Builtin::Typed("browser_search")),
                code_execution: Some(Builtin::Typed("code_interpreter")),
                structured: Structured::JsonObject,
                ..ChatQuirks::PROTOCOL
            },
            _ => ChatQuirks::PROTOCOL,
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Requests

/// The request body for `req`.
pub(crate) fn build_request(req: &TextRequest, ctx: &WireContext, stream: bool) -> Result<Value> {
    let q = ChatQuirks::for_origin(ctx.origin);
    let mut body = Map::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    let messages = req
        .items
        .iter()
        .map(|item| match item {
            Item::Message(m) => message(m, &q, ctx),
            Item::ToolResult(r) => {
                let mut v = tool_result(r);
                if let Some(name) = &r.name {
                    v["name"] = name.clone().into();
                }
                Ok(v)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    body.insert("messages".into(), Value::Array(messages));

    let p = &req.params;
    put_params(&mut body, p, FIELDS);
    if let Some(n) = p.max_tokens {
        body.insert(q.max_tokens_field.into(), n.into());
    }
    if let Some(seed) = p.seed {
        body.insert(q.seed_field.into(), seed.into());
    }
    if let Some(effort) = &p.thinking_level {
        let (thinking, effort) = match q.reasoning {
            ReasoningStyle::Effort => (None, Some(effort)),
            ReasoningStyle::Thinking if matches!(effort.as_str(), "disabled" | "none") => (Some("disabled"), None),
            ReasoningStyle::Thinking => (Some("enabled"), Some(effort)),
        };
        if let Some(t) = thinking {
            body.insert("thinking".into(), json!({"type": t}));
        }
        if let Some(e) = effort {
            body.insert("reasoning_effort".into(), e.as_str().into());
        }
    }
    if !req.tools.is_empty() {
        let tools = req.tools.iter().map(|t| tool(t, &q, ctx)).collect::<Result<Vec<_>>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    crate::wire::kit::refuse_builtin_choice(req, ctx)?;
    if let Some(choice) = &req.tool_choice {
        body.insert("tool_choice".into(), tool_choice(choice, &q));
    }
    if let Some(s) = &req.output_schema {
        let format = match q.structured {
            Structured::JsonObject => json!({"type": "json_object"}),
            Structured::JsonSchema { wrap_list, inline } => {
                let schema = match (inline, wrap_list) {
                    (true, _) => s.strict_inlined(),
                    (false, true) => s.strict_object(),
                    (false, false) => s.strict(),
                };
                json!({"type": "json_schema", "json_schema": {"name": s.name, "strict": true, "schema": schema}})
            }
        };
        body.insert("response_format".into(), format);
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
        if q.stream_usage_option {
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
    }
    Ok(Value::Object(body))
}

fn message(m: &Message, q: &ChatQuirks, ctx: &WireContext) -> Result<Value> {
    let mut msg = Map::new();
    msg.insert("role".into(), m.role.as_str().into());
    let content = match m.content.as_slice() {
        [] if !m.tool_calls.is_empty() => Value::Null,
        [] => Value::String(String::new()),
        [Part::Text { text }] => Value::String(text.clone()),
        parts => Value::Array(parts.iter().map(|p| part(p, ctx)).collect::<Result<Vec<_>>>()?),
    };
    msg.insert("content".into(), content);
    if !m.tool_calls.is_empty() {
        msg.insert("tool_calls".into(), tool_calls(&m.tool_calls));
    }
    if m.role == Role::Assistant
        && let Some(r) = m.reasoning.as_ref().filter(|r| !r.is_empty())
    {
        match q.reasoning_replay {
            ReasoningReplay::Never => {}
            ReasoningReplay::Always => {
                msg.insert("reasoning_content".into(), r.clone().into());
            }
            ReasoningReplay::ThinkingChunk => {
                let thinking = json!({"type": "thinking", "thinking": [{"type": "text", "text": r}]});
                let mut chunks = vec![thinking];
                match msg.remove("content") {
                    Some(Value::String(t)) if !t.is_empty() => chunks.push(json!({"type": "text", "text": t})),
                    Some(Value::Array(parts)) => chunks.extend(parts),
                    _ => {}
                }
                msg.insert("content".into(), Value::Array(chunks));
            }
        }
    }
    // Caller-supplied wire fields (e.g. `name`) pass through; they never replace the ones built here.
    Ok(with_extra(msg, m))
}

// The message shapes Cohere v2 chat shares with Chat Completions: a tool result, the assistant's tool
// calls, an image part and a function tool.

/// A tool result as a `tool` message.
pub(crate) fn tool_result(r: &ToolResult) -> Value {
    json!({"role": "tool", "tool_call_id": r.tool_call_id, "content": r.content_text()})
}

/// The assistant's tool calls, each with its arguments as a JSON string.
pub(crate) fn tool_calls(calls: &[ToolCall]) -> Value {
    let calls = calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
        .collect();
    Value::Array(calls)
}

/// An image content part, inline as a data URL.
pub(crate) fn image_part(image: &Artifact) -> Result<Value> {
    Ok(json!({"type": "image_url", "image_url": {"url": image.data_url()?}}))
}

/// A function tool: its name, parameter schema and description (when it has one).
pub(crate) fn function_tool(f: &FunctionTool) -> Value {
    let mut function = json!({"name": f.name, "parameters": f.parameters});
    if let Some(d) = &f.description {
        function["description"] = d.clone().into();
    }
    json!({"type": "function", "function": function})
}

/// A built message with the caller's own wire fields added; they never replace the ones built.
pub(crate) fn with_extra(mut msg: Map<String, Value>, m: &Message) -> Value {
    for (k, v) in &m.extra {
        msg.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(msg)
}

fn part(p: &Part, ctx: &WireContext) -> Result<Value> {
    Ok(match p {
        Part::Text { text } => json!({"type": "text", "text": text}),
        Part::Image { image } => image_part(image)?,
        Part::Video { video } => {
            json!({"type": "video_url", "video_url": {"url": video.data_url()?}})
        }
        Part::Document { document } => {
            json!({"type": "document_url", "document_url": document.data_url()?})
        }
        other => return Err(ctx.unsupported_part(other)),
    })
}

fn tool(t: &Tool, q: &ChatQuirks, ctx: &WireContext) -> Result<Value> {
    Ok(match t {
        Tool::Function(f) => {
            let mut v = function_tool(f);
            if f.strict {
                v["function"]["strict"] = true.into();
            }
            v
        }
        Tool::WebSearch(w) if let Some(builtin) = q.web_search => {
            if !w.allowed_domains.is_empty() || !w.blocked_domains.is_empty() || w.max_uses.is_some() {
                tracing::warn!(origin = %ctx.origin, "web search: domain filters and max_uses are not supported here and were dropped");
            }
            builtin.wire()
        }
        Tool::CodeExecution if let Some(builtin) = q.code_execution => builtin.wire(),
        Tool::Raw { value } => value.clone(),
        other => return Err(ctx.unsupported(format!("the {} tool", other.name()))),
    })
}

fn tool_choice(c: &ToolChoice, q: &ChatQuirks) -> Value {
    match c {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::Required => q.required_choice.into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

// ---------------------------------------------------------------------------------------------------
// Responses and stream chunks: one shape, `message` in a response and `delta` in a chunk. Only the
// fields this library reads, borrowed from the payload; everything else (and every `null`) is accepted.

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Completion<'a> {
    id: Option<Str<'a>>,
    model: Option<Str<'a>>,
    choices: Option<Vec<Choice<'a>>>,
    usage: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    /// Groq's own block; its usage is where Groq streams report usage.
    x_groq: Option<XGroq<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct XGroq<'a> {
    usage: Option<&'a RawValue>,
}

impl Completion<'_> {
    /// The usage object, wherever this server puts it: at the top level (the protocol), or in Groq's
    /// `x_groq` (the choice's own, Moonshot's, is read with the choice).
    fn usage(&self) -> Option<&RawValue> {
        present(self.usage).or_else(|| present(self.x_groq.as_ref()?.usage))
    }
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Choice<'a> {
    index: Option<u64>,
    message: Option<WireMessage<'a>>,
    delta: Option<WireMessage<'a>>,
    finish_reason: Option<Str<'a>>,
    /// Moonshot may report usage here instead of at the top level.
    usage: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct WireMessage<'a> {
    content: Option<Content<'a>>,
    reasoning_content: Option<Str<'a>>,
    reasoning: Option<Str<'a>>,
    tool_calls: Option<Vec<WireToolCall<'a>>>,
    annotations: Option<Vec<WireAnnotation<'a>>>,
    /// OpenAI's refusal: the model declined, and says why here instead of in the content.
    refusal: Option<Str<'a>>,
}

/// The common stream chunk, decoded without the general schema's vectors and enums: one choice
/// (index 0) whose delta carries text and reasoning strings only. Everything the full decode would act
/// on besides those (usage, error, Groq's block, a finish reason, a message, tool calls, a refusal,
/// annotations) is only checked for presence; a chunk that has any of them, or that does not decode
/// this way at all (no choice or several, content as a list of parts), goes through the full decode,
/// which stays the reference. Fields neither decode reads are skipped by both.
///
/// `I` is how the chunk's `id` and `model` are read: [`Str`] until both are known, then skipped.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a, I: Deserialize<'de>"))]
struct TextChunk<'a, I> {
    #[serde(default = "none")]
    id: Option<I>,
    #[serde(default = "none")]
    model: Option<I>,
    choices: [TextChoice<'a>; 1],
    #[serde(default)]
    usage: Option<de::IgnoredAny>,
    #[serde(default)]
    error: Option<de::IgnoredAny>,
    #[serde(default)]
    x_groq: Option<de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct TextChoice<'a> {
    index: Option<u64>,
    delta: TextDelta<'a>,
    message: Option<de::IgnoredAny>,
    finish_reason: Option<de::IgnoredAny>,
    usage: Option<de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct TextDelta<'a> {
    content: Option<Str<'a>>,
    reasoning_content: Option<Str<'a>>,
    reasoning: Option<Str<'a>>,
    tool_calls: Option<de::IgnoredAny>,
    annotations: Option<de::IgnoredAny>,
    refusal: Option<de::IgnoredAny>,
}

fn none<T>() -> Option<T> {
    None
}

impl TextDelta<'_> {
    /// The reasoning text, under either of its names.
    fn reasoning(&self) -> Option<&str> {
        self.reasoning_content.as_deref().or(self.reasoning.as_deref())
    }
}

impl<'a, I> TextChunk<'a, I> {
    /// The delta, when this chunk carries nothing but text and reasoning for choice 0.
    fn plain_delta(&self) -> Option<&TextDelta<'a>> {
        let [choice] = &self.choices;
        let d = &choice.delta;
        let plain = self.usage.is_none()
            && self.error.is_none()
            && self.x_groq.is_none()
            && choice.index.unwrap_or(0) == 0
            && choice.message.is_none()
            && choice.finish_reason.is_none()
            && choice.usage.is_none()
            && d.tool_calls.is_none()
            && d.annotations.is_none()
            && d.refusal.is_none();
        plain.then_some(d)
    }
}

/// Message content: a string, or (Mistral) a list of typed parts.
enum Content<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<ContentPart<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct ContentVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ContentVisitor<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of content parts")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Borrowed("")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content<'a>, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(p) = seq.next_element()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(ContentVisitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct ContentPart<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    text: Option<Str<'a>>,
    /// Mistral's `thinking` part: a list of text parts (or, leniently, a string).
    thinking: Option<Content<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct WireAnnotation<'a> {
    #[serde(rename = "type")]
    kind: Option<Str<'a>>,
    url_citation: Option<WebRef<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    total_tokens: Option<u64>,
    prompt_tokens_details: Option<TokenDetails>,
    completion_tokens_details: Option<TokenDetails>,
    /// DeepSeek's own name for cached prompt tokens.
    prompt_cache_hit_tokens: Option<u64>,
}

/// A usage object as [`Usage`], keeping the provider's object verbatim in `raw`.
fn usage_from(raw: &RawValue) -> Usage {
    let (w, raw): (WireUsage, _) = crate::wire::decode_usage(raw, "chat completions usage");
    let reasoning = w.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens);
    // `Usage::output_tokens` includes reasoning. Some servers (xAI) leave reasoning out of
    // `completion_tokens` and count it only in `total_tokens`; the arithmetic says which is which.
    let output_tokens = match (w.prompt_tokens, w.completion_tokens, reasoning, w.total_tokens) {
        // Checked: the counts are the server's, and absurd ones must not overflow.
        (Some(p), Some(c), Some(r), Some(t)) if r > 0 && p.checked_add(c).and_then(|s| s.checked_add(r)) == Some(t) => {
            Some(c + r)
        }
        (_, c, _, _) => c,
    };
    Usage {
        input_tokens: w.prompt_tokens,
        output_tokens,
        total_tokens: w.total_tokens,
        cache_read_tokens: w.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens).or(w.prompt_cache_hit_tokens),
        reasoning_tokens: reasoning,
        raw,
        ..Usage::default()
    }
}

/// What one message or delta produced, for a stream to turn into chunks.
enum Piece {
    Text(String),
    Reasoning(String),
}

/// Fold content, reasoning and annotations in; `emit` receives each non-empty piece.
fn add_message(acc: &mut Accumulator, m: &WireMessage<'_>, emit: &mut dyn FnMut(Piece)) {
    let text = match &m.content {
        Some(Content::Text(t)) => Some(&**t),
        _ => None,
    };
    add_plain_delta(acc, m.reasoning_content.as_deref().or(m.reasoning.as_deref()), text, emit);
    match &m.content {
        Some(Content::Text(_)) => {}
        Some(Content::Parts(parts)) => {
            for p in parts {
                match p.kind.as_deref() {
                    Some("text") | None => add_text(acc, p.text.as_deref().unwrap_or(""), emit),
                    Some("thinking") => match &p.thinking {
                        Some(Content::Text(t)) => add_reasoning(acc, t, emit),
                        Some(Content::Parts(inner)) => {
                            for i in inner {
                                add_reasoning(acc, i.text.as_deref().unwrap_or(""), emit);
                            }
                        }
                        None => {}
                    },
                    Some(_) => {}
                }
            }
        }
        None => {}
    }
    // A refusal is the reply's content (see `Accumulator::push_refusal`).
    if let Some(r) = m.refusal.as_deref().filter(|r| !r.is_empty()) {
        acc.push_refusal(r);
        emit(Piece::Text(r.to_owned()));
    }
    for a in m.annotations.iter().flatten() {
        add_annotation(acc, a);
    }
}

/// The reasoning and text of a message, in that order (what a plain text delta carries).
fn add_plain_delta(acc: &mut Accumulator, reasoning: Option<&str>, text: Option<&str>, emit: &mut dyn FnMut(Piece)) {
    if let Some(r) = reasoning {
        add_reasoning(acc, r, emit);
    }
    if let Some(t) = text {
        add_text(acc, t, emit);
    }
}

fn piece_chunk(piece: Piece) -> Chunk<String> {
    match piece {
        Piece::Text(t) => Chunk::content(t),
        Piece::Reasoning(r) => reasoning_chunk(r),
    }
}

fn add_text(acc: &mut Accumulator, t: &str, emit: &mut dyn FnMut(Piece)) {
    if !t.is_empty() {
        acc.push_text(t);
        emit(Piece::Text(t.to_owned()));
    }
}

fn add_reasoning(acc: &mut Accumulator, t: &str, emit: &mut dyn FnMut(Piece)) {
    if !t.is_empty() {
        acc.reasoning.push_str(t);
        emit(Piece::Reasoning(t.to_owned()));
    }
}

fn add_annotation(acc: &mut Accumulator, a: &WireAnnotation<'_>) {
    if a.kind.as_deref() != Some("url_citation") {
        return;
    }
    let Some(c) = &a.url_citation else { return };
    let Some(url) = c.url.as_deref() else { return };
    let source =
        GroundingSource { url: url.to_string(), title: c.title.as_deref().map(str::to_string), domain: domain_of(url) };
    acc.cite(source, c.start_index.zip(c.end_index), None);
}

/// Fold one tool-call delta in, returning the call's position (0-based, in output order) and its
/// argument text. Calls are keyed by their wire `index`; servers that send none (Mistral) start a new
/// call per new id, and id-less fragments continue the latest call.
fn add_call_delta<'t>(acc: &mut Accumulator, tc: &'t WireToolCall<'_>) -> (usize, Cow<'t, str>) {
    let id = tc.id.as_deref().filter(|s| !s.is_empty());
    let func = tc.function.as_ref();
    let pos = acc.partial_calls.slot(tc.index, id, false);
    let args = func.map(WireFunction::arguments_text).unwrap_or_default();
    acc.partial_calls.merge(pos, id, func.and_then(|f| f.name.as_deref()), &args);
    (pos, args)
}

fn error_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// Decode a unary response body.
pub(crate) fn parse_response(body: Bytes, ctx: &WireContext) -> Result<Output<String>> {
    let resp: Completion =
        serde_json::from_slice(&body).map_err(|e| Error::decode("chatcompletions response", e, &body))?;
    if let Some(err) = present(resp.error) {
        return Err(ctx.stream_error_from(&error_value(err), &body));
    }
    let mut acc = Accumulator::default();
    let mut finish = None;
    let mut usage_raw = resp.usage();
    let choice = resp.choices.as_deref().unwrap_or_default().iter().find(|c| c.index.unwrap_or(0) == 0);
    if let Some(choice) = choice {
        if let Some(m) = choice.message.as_ref().or(choice.delta.as_ref()) {
            add_message(&mut acc, m, &mut |_| {});
            // Every entry of a complete message is its own call, whatever its `index` says.
            for tc in m.tool_calls.iter().flatten() {
                let f = tc.function.as_ref();
                acc.partial_calls.push_whole(
                    tc.id.as_deref().unwrap_or_default(),
                    f.and_then(|f| f.name.as_deref()).unwrap_or_default(),
                    &f.map(WireFunction::arguments_text).unwrap_or_default(),
                );
            }
        }
        finish = choice.finish_reason.as_deref().map(FinishReason::from_raw);
        usage_raw = usage_raw.or(present(choice.usage));
    }
    let end = StreamEnd {
        usage: usage_raw.map(usage_from),
        finish,
        response_id: resp.id.map(Str::into_owned),
        response_model: resp.model.map(Str::into_owned),
        raw_response: Some(body.clone()),
        terminal: true,
    };
    end.into_output(ctx, acc)
}

// ---------------------------------------------------------------------------------------------------
// Streams

/// The stream state of one Chat Completions stream.
pub(crate) struct ChatDecoder {
    ctx: WireContext,
    acc: Accumulator,
    /// `terminal` is the `[DONE]` event; the raw response is the last chunk that carried usage.
    end: StreamEnd,
    /// Whether the request asked for the final usage chunk (`stream_options.include_usage`), which
    /// comes after the chunk with the finish reason.
    usage_requested: bool,
    /// Whether usage arrived with or after the finish reason: the final usage, not a running count.
    final_usage: bool,
}

impl ChatDecoder {
    pub(crate) fn new(ctx: WireContext) -> Self {
        let usage_requested = ChatQuirks::for_origin(ctx.origin).stream_usage_option;
        ChatDecoder { ctx, acc: Accumulator::default(), end: StreamEnd::default(), usage_requested, final_usage: false }
    }

    /// Whether everything the stream will say has arrived: `[DONE]`, or (for servers that send the
    /// finish reason and then keep the connection open without `[DONE]`) the finish reason, and the
    /// final usage when the request asked for it. Waiting for the connection to close would wait for
    /// the idle limit and then lose the output.
    fn complete(&self) -> bool {
        self.end.terminal || (self.end.finish.is_some() && (self.final_usage || !self.usage_requested))
    }
}

impl Decoder<String, String> for ChatDecoder {
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
        let Frame::Sse(ev) = frame else { return Ok(()) };
        if ev.is_done() {
            self.end.terminal = true;
            return Ok(());
        }
        if ev.data.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        // Once the id and model are known, later chunks' are skipped rather than read (`first_ids`
        // would ignore them), which spares checking them as UTF-8.
        let mut emit = |p| out.push_back(piece_chunk(p));
        if self.end.response_id.is_some() && self.end.response_model.is_some() {
            if let Ok(c) = serde_json::from_slice::<TextChunk<de::IgnoredAny>>(&ev.data)
                && let Some(d) = c.plain_delta()
            {
                add_plain_delta(&mut self.acc, d.reasoning(), d.content.as_deref(), &mut emit);
                return Ok(());
            }
        } else if let Ok(c) = serde_json::from_slice::<TextChunk<Str>>(&ev.data)
            && let Some(d) = c.plain_delta()
        {
            self.end.first_ids(c.id.as_deref(), c.model.as_deref());
            add_plain_delta(&mut self.acc, d.reasoning(), d.content.as_deref(), &mut emit);
            return Ok(());
        }
        let c: Completion =
            serde_json::from_slice(&ev.data).map_err(|e| Error::decode("chatcompletions stream chunk", e, &ev.data))?;
        if let Some(err) = present(c.error) {
            return Err(self.ctx.stream_error_from(&error_value(err), &ev.data));
        }
        self.end.first_ids(c.id.as_deref(), c.model.as_deref());
        let first = out.len();
        let mut usage_raw = c.usage();
        let mut finish = None;
        let choice = c.choices.as_deref().unwrap_or_default().iter().find(|ch| ch.index.unwrap_or(0) == 0);
        if let Some(choice) = choice {
            if let Some(d) = choice.delta.as_ref().or(choice.message.as_ref()) {
                add_message(&mut self.acc, d, &mut |piece| out.push_back(piece_chunk(piece)));
                for tc in d.tool_calls.iter().flatten() {
                    let (index, args) = add_call_delta(&mut self.acc, tc);
                    let non_empty = |s: &&str| !s.is_empty();
                    out.push_back(call_chunk(
                        index,
                        tc.id.as_deref().filter(non_empty).map(str::to_string),
                        tc.function.as_ref().and_then(|f| f.name.as_deref()).filter(non_empty).map(str::to_string),
                        args.into_owned(),
                    ));
                }
            }
            finish = self.acc.finish_after_refusal(choice.finish_reason.as_deref().map(FinishReason::from_raw));
            usage_raw = usage_raw.or(present(choice.usage));
        }
        let usage = usage_raw.map(usage_from);
        if usage.is_none() && finish.is_none() {
            return Ok(());
        }
        if let Some(u) = &usage {
            self.end.usage = Some(u.clone());
            self.end.raw_response = Some(ev.data.clone());
            self.final_usage |= finish.is_some() || self.end.finish.is_some();
        }
        if let Some(f) = &finish {
            self.end.finish = Some(f.clone());
        }
        ride_on_last(out, first, usage, finish);
        Ok(())
    }

    fn is_terminal(&self) -> bool {
        self.complete()
    }

    fn finish(&mut self) -> Result<Output<String>> {
        // `[DONE]` ends a stream; a compatible server that omits it has still finished once it sent a
        // finish reason (and the body ended, or the usage it was asked for came).
        ended(self.end.terminal || self.end.finish.is_some(), self.ctx.origin, "no [DONE] event and no finish_reason")?;
        self.end.assemble(&self.ctx, &mut self.acc)
    }
}

#[cfg(test)]
mod tests;
