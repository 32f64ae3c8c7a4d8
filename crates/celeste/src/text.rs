//! Text generation: `celeste::text::generate(prompt, model)` and `celeste::text::stream(prompt, model)`.
//!
//! Both return a [`Generate`] builder: set parameters, then `.await` it (or call
//! [`send`](Generate::send)). Switching provider is changing the model id.
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! use futures::StreamExt;
//!
//! let out = celeste::text::generate("Explain quantum computing", "gpt-5-mini")
//!     .max_tokens(200)
//!     .await?;
//! println!("{} ({:?} output tokens)", out.content, out.usage.output_tokens);
//!
//! let mut stream = celeste::text::stream("Explain quantum computing", "gpt-5-mini").await?;
//! while let Some(chunk) = stream.next().await {
//!     print!("{}", chunk?.content);
//! }
//! println!("\n{:?}", stream.output()?.usage);
//! # Ok(())
//! # }
//! ```

use std::future::IntoFuture;
use std::marker::PhantomData;
use std::time::Duration;

use std::fmt;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::catalog::Model;
use crate::types::enums::InputType;

use crate::auth::{Auth, SecretString};
use crate::client::{Client, Target, deep_merge, merge_headers};
use crate::error::OutputValidationError;
use crate::error::{Error, Origin, Result};
use crate::providers::WireApi;
use crate::stream::{Decoder, Frame, Framing, Stream, StreamParts};
use crate::structured::OutputSchema;
use crate::telemetry::{CallInfo, CallSpan, CaptureContent, content};
use crate::transport::http::{HttpRequest, RequestBody};
use crate::transport::sse::SseDecoder;
use crate::types::enums::{Modality, Operation, Protocol, Provider};
use crate::types::message::{Item, Part, request_items};
use crate::types::output::{Chunk, Output};
use crate::types::tool::{FunctionTool, Tool, ToolChoice};
use crate::vertex;
use crate::wire::{WireContext, anthropic, chatcompletions, cohere, gemini, interactions, openresponses};

/// A text stream: chunks of `String` (the text as it arrives; JSON text for structured output), and
/// an output whose content is `C`: `String`, or the type given to
/// [`output_schema`](Generate::output_schema).
pub type TextStream<C = String> = Stream<String, C>;

/// Text generation parameters. `None` means "not sent": the provider's default applies.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TextParams {
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// The output token limit.
    pub max_tokens: Option<u64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling.
    pub top_k: Option<u64>,
    /// Sampling seed.
    pub seed: Option<i64>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    pub presence_penalty: Option<f64>,
    /// Reasoning effort (`minimal`, `low`, `medium`, `high`, ...).
    pub reasoning_effort: Option<String>,
    /// A reasoning token budget (Anthropic, Gemini, Cohere): `0` turns thinking off where the wire API
    /// can say so, `-1` leaves the budget to the provider (adaptive mode).
    pub thinking_budget: Option<i64>,
    /// A reasoning level (Gemini 3, Anthropic adaptive thinking).
    pub thinking_level: Option<String>,
    /// Response verbosity (`low`, `medium`, `high`).
    pub verbosity: Option<String>,
}

/// Everything a wire API needs to build a text request.
#[derive(Debug, Clone)]
pub(crate) struct TextRequest {
    pub model: String,
    pub items: Vec<Item>,
    pub params: TextParams,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// The schema the reply must follow (structured output).
    pub output_schema: Option<OutputSchema>,
}

/// Marker: the call returns an [`Output`].
#[derive(Debug, Clone, Copy)]
pub struct Unary;

/// Marker: the call returns a [`TextStream`].
#[derive(Debug, Clone, Copy)]
pub struct Streaming;

/// A text generation call being configured. `.await` it to send it.
///
/// `M` says how it is sent ([`Unary`] or [`Streaming`]); `C` is the output content: `String`, or the
/// type given to [`output_schema`](Generate::output_schema).
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct Generate<M = Unary, C = String> {
    call: Call,
    convert: Convert<C>,
    mode: PhantomData<M>,
}

/// Everything about a call that neither the sending mode nor the content type changes.
#[derive(Debug, Clone)]
struct Call {
    client: Option<Client>,
    target: Target,
    model: String,
    prompt: Option<String>,
    messages: Vec<Item>,
    media: Vec<Part>,
    params: TextParams,
    tools: Vec<Tool>,
    tool_choice: Option<ToolChoice>,
    output_schema: Option<OutputSchema>,
    extra_body: Option<Value>,
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Option<Duration>,
    operation: Operation,
    invalid: Option<String>,
}

/// How a reply's text becomes the output content: moved out as it is for `String`, parsed for a
/// structured-output type. A failed parse leaves the text in place, so the error can keep it.
type Convert<C> = fn(&mut String, bool) -> std::result::Result<C, String>;

fn text_content(text: &mut String, _list: bool) -> std::result::Result<String, String> {
    Ok(std::mem::take(text))
}

#[expect(clippy::ptr_arg, reason = "one signature for every content type; `String` needs the `&mut String`")]
fn typed_content<T: DeserializeOwned>(text: &mut String, list: bool) -> std::result::Result<T, String> {
    crate::structured::parse(text, list)
}

// By hand: derives would demand `M: Clone` and `C: Clone`, which the markers and content types need not be.
impl<M, C> Clone for Generate<M, C> {
    fn clone(&self) -> Self {
        Generate { call: self.call.clone(), convert: self.convert, mode: PhantomData }
    }
}

impl<M, C> fmt::Debug for Generate<M, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generate")
            .field("call", &self.call)
            .field("content", &std::any::type_name::<C>())
            .field("mode", &std::any::type_name::<M>())
            .finish()
    }
}

/// Generate text from a prompt with the default client.
pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
    Generate::new(Some(prompt.into()), model.into())
}

/// Embed text (not implemented yet: fails with [`Error::Unsupported`] naming the provider).
pub fn embed(
    text: impl Into<String>,
    model: impl Into<String>,
) -> crate::domains::MediaCall<crate::domains::Embeddings> {
    let _ = text.into();
    crate::domains::MediaCall::new(Modality::Embeddings, Operation::Embed, model)
}

/// Stream generated text from a prompt with the default client.
pub fn stream(prompt: impl Into<String>, model: impl Into<String>) -> Generate<Streaming> {
    generate(prompt, model).stream()
}

impl Generate<Unary> {
    pub(crate) fn new(prompt: Option<String>, model: String) -> Self {
        Generate {
            call: Call {
                client: None,
                target: Target::default(),
                model,
                prompt,
                messages: Vec::new(),
                media: Vec::new(),
                params: TextParams::default(),
                tools: Vec::new(),
                tool_choice: None,
                output_schema: None,
                extra_body: None,
                extra_headers: Vec::new(),
                timeout: None,
                operation: Operation::Generate,
                invalid: None,
            },
            convert: text_content,
            mode: PhantomData,
        }
    }
}

impl<M> Generate<M, String> {
    /// Ask for structured output: the reply follows the JSON schema of `T` (from `schemars`) and the
    /// output's content is a `T`. `Vec<T>` asks for a list. Stream chunks still carry the JSON text as
    /// it arrives; the stream's output holds the `T`.
    ///
    /// Each wire API gets the reference library's shape (OpenAI `text.format` / `response_format`
    /// json_schema, strict; Anthropic `output_format`; Gemini `responseJsonSchema`; Cohere `json_object`
    /// with the schema inlined; DeepSeek, Groq and Moonshot `json_object` mode, which carries no schema,
    /// so say in the prompt what you expect). The reply is parsed leniently (raw control characters in
    /// strings, a Markdown fence, a list wrapped in `{"items": ...}`); a reply that does not fit `T`
    /// fails with [`Error::OutputValidation`], which keeps the whole text output. A reply with only
    /// tool calls has no `T` to give, and fails the same way with the calls inside.
    ///
    /// ```no_run
    /// # async fn demo() -> celeste::Result<()> {
    /// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    /// struct City {
    ///     name: String,
    ///     population: u64,
    /// }
    ///
    /// let out = celeste::text::generate("The three largest cities of France", "gpt-5-mini")
    ///     .output_schema::<Vec<City>>()
    ///     .await?;
    /// for city in &out.content {
    ///     println!("{}: {}", city.name, city.population);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn output_schema<T>(self) -> Generate<M, T>
    where
        T: JsonSchema + DeserializeOwned,
    {
        let mut call = self.call;
        call.output_schema = Some(OutputSchema::of::<T>());
        Generate { call, convert: typed_content::<T>, mode: PhantomData }
    }
}

impl<C: Serialize + Send + 'static> Generate<Unary, C> {
    /// Stream the reply instead of waiting for all of it.
    pub fn stream(self) -> Generate<Streaming, C> {
        self.with_mode()
    }

    /// Send the call and wait for the whole reply.
    pub async fn send(self) -> Result<Output<C>> {
        let (prepared, finish) = self.prepare(false).await?;
        let mut span = prepared.start_span();
        let result = prepared.unary(&span).await.and_then(|out| finish.apply(out));
        match &result {
            Ok(out) => span.end_ok(out),
            Err(e) => span.end_err(e),
        }
        result
    }
}

impl<C: Serialize + Send + 'static> Generate<Streaming, C> {
    /// Open the stream: the request is sent (with retries) and the stream is returned once the response
    /// headers have arrived. HTTP errors surface here; errors inside the stream surface as items.
    pub async fn send(self) -> Result<TextStream<C>> {
        let (prepared, finish) = self.prepare(true).await?;
        let mut span = prepared.start_span();
        let t = prepared.client.transport();
        let deadline = prepared.deadline();
        let resp = match t.send(prepared.ctx.origin, &prepared.request, deadline, &span).await {
            Ok(r) => r,
            Err(e) => {
                span.end_err(&e);
                return Err(e);
            }
        };
        let ctx = prepared.ctx.clone();
        let decoder: Box<dyn Decoder<String, C>> = match prepared.wire {
            WireApi::OpenResponses => finish.around(openresponses::ResponsesDecoder::new(ctx)),
            WireApi::ChatCompletions => finish.around(chatcompletions::ChatDecoder::new(ctx)),
            WireApi::CohereChat => finish.around(cohere::CohereDecoder::new(ctx)),
            WireApi::GeminiGenerateContent => finish.around(gemini::GeminiDecoder::new(ctx)),
            WireApi::GeminiInteractions => finish.around(interactions::InteractionsDecoder::new(ctx)),
            WireApi::AnthropicMessages => finish.around(anthropic::AnthropicDecoder::new(ctx)),
        };
        Ok(Stream::new(
            resp,
            StreamParts {
                origin: prepared.ctx.origin,
                framing: Framing::Sse(SseDecoder::new(prepared.client.max_event_size())),
                decoder,
                idle: t.timeouts.idle,
                deadline,
                connect_limit: t.timeouts.connect,
                observer: Some(Box::new(span)),
            },
        ))
    }
}

impl<C: Serialize + Send + 'static> IntoFuture for Generate<Unary, C> {
    type Output = Result<Output<C>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<C: Serialize + Send + 'static> IntoFuture for Generate<Streaming, C> {
    type Output = Result<TextStream<C>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
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
    fn around<W: Decoder<String, String> + 'static>(self, wire: W) -> Box<dyn Decoder<String, C>> {
        Box::new(Finishing { wire, finish: self })
    }
}

fn output_invalid(what: String, message: String, output: Output<String>) -> Error {
    Error::OutputValidation(Box::new(OutputValidationError { what, message, output }))
}

/// A wire decoder (statically, so frames cost no extra indirection) followed by a [`Finish`].
struct Finishing<W, C> {
    wire: W,
    finish: Finish<C>,
}

impl<W: Decoder<String, String>, C: Send + 'static> Decoder<String, C> for Finishing<W, C> {
    fn on_frame(&mut self, frame: Frame, out: &mut std::collections::VecDeque<Chunk<String>>) -> Result<()> {
        self.wire.on_frame(frame, out)
    }

    fn is_terminal(&self) -> bool {
        self.wire.is_terminal()
    }

    fn finish(&mut self) -> Result<Output<C>> {
        self.wire.finish().and_then(|out| self.finish.apply(out))
    }
}

/// A call ready to send.
pub(crate) struct Prepared {
    pub client: Client,
    pub ctx: WireContext,
    pub wire: WireApi,
    pub request: HttpRequest,
    pub timeout: Option<Duration>,
    pub telemetry: CallInfo,
}

impl Prepared {
    fn start_span(&self) -> CallSpan {
        CallSpan::start(self.client.telemetry(), &self.telemetry)
    }

    /// Send, read and decode a unary call.
    async fn unary(&self, span: &CallSpan) -> Result<Output<String>> {
        let t = self.client.transport();
        let deadline = self.deadline();
        let resp = t.send(self.ctx.origin, &self.request, deadline, span).await?;
        let body = t.read_body(self.ctx.origin, resp, deadline).await?;
        match self.wire {
            WireApi::OpenResponses => openresponses::parse_response(body, &self.ctx),
            WireApi::ChatCompletions => chatcompletions::parse_response(body, &self.ctx),
            WireApi::CohereChat => cohere::parse_response(body, &self.ctx),
            WireApi::GeminiGenerateContent => gemini::parse_response(body, &self.ctx),
            WireApi::GeminiInteractions => interactions::parse_response(body, &self.ctx),
            WireApi::AnthropicMessages => anthropic::parse_response(body, &self.ctx),
        }
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        match self.timeout {
            Some(t) => Some(tokio::time::Instant::now() + t),
            None => self.client.transport().deadline(),
        }
    }
}

impl<M, C> Generate<M, C> {
    pub(crate) fn with_mode<N>(self) -> Generate<N, C> {
        Generate { call: self.call, convert: self.convert, mode: PhantomData }
    }

    /// Which operation this text call is (`generate`, or `analyze` for the domain facades).
    pub(crate) fn operation(mut self, op: Operation) -> Self {
        self.call.operation = op;
        self
    }

    /// Use this client instead of the default one.
    pub fn client(mut self, client: Client) -> Self {
        self.call.client = Some(client);
        self
    }

    /// Use this provider (for model ids the catalog does not know, or that several providers serve).
    pub fn provider(mut self, provider: Provider) -> Self {
        self.call.target.provider = Some(provider);
        self
    }

    /// Speak this protocol to `base_url` (bring your own endpoint).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.call.target.protocol = Some(protocol);
        self
    }

    /// Send to this base URL instead of the provider's (honoured for every provider). Without a
    /// provider or protocol, the OpenResponses protocol is used.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.call.target.base_url = Some(url.into());
        self
    }

    /// Use this API key instead of the configured one.
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.call.target.api_key = Some(key.into());
        self
    }

    /// Use this authentication scheme.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.call.target.auth = Some(auth);
        self
    }

    /// The conversation so far (the prompt, if any, is appended as the last user turn).
    pub fn messages<I: IntoIterator<Item = T>, T: Into<Item>>(mut self, items: I) -> Self {
        self.call.messages = items.into_iter().map(Into::into).collect();
        self
    }

    /// Attach a media part to the prompt's user turn.
    pub fn part(mut self, part: Part) -> Self {
        self.call.media.push(part);
        self
    }

    /// Sampling temperature.
    pub fn temperature(mut self, t: f64) -> Self {
        self.call.params.temperature = Some(t);
        self
    }

    /// Output token limit.
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.call.params.max_tokens = Some(n);
        self
    }

    /// Nucleus sampling.
    pub fn top_p(mut self, p: f64) -> Self {
        self.call.params.top_p = Some(p);
        self
    }

    /// Sampling seed.
    pub fn seed(mut self, seed: i64) -> Self {
        self.call.params.seed = Some(seed);
        self
    }

    /// Reasoning effort (`minimal`, `low`, `medium`, `high`).
    pub fn reasoning_effort(mut self, effort: impl Into<String>) -> Self {
        self.call.params.reasoning_effort = Some(effort.into());
        self
    }

    /// A reasoning token budget; `-1` asks for the provider's adaptive mode.
    pub fn thinking_budget(mut self, tokens: i64) -> Self {
        self.call.params.thinking_budget = Some(tokens);
        self
    }

    /// A reasoning level (`low`, `high`, ...).
    pub fn thinking_level(mut self, level: impl Into<String>) -> Self {
        self.call.params.thinking_level = Some(level.into());
        self
    }

    /// Response verbosity (`low`, `medium`, `high`).
    pub fn verbosity(mut self, v: impl Into<String>) -> Self {
        self.call.params.verbosity = Some(v.into());
        self
    }

    /// Replace all parameters at once.
    pub fn params(mut self, params: TextParams) -> Self {
        self.call.params = params;
        self
    }

    /// Offer a tool.
    pub fn tool(mut self, tool: impl Into<Tool>) -> Self {
        self.call.tools.push(tool.into());
        self
    }

    /// How the model may use tools.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.call.tool_choice = Some(choice);
        self
    }

    /// JSON deep-merged into the request body last (provider options this library does not model).
    pub fn extra_body(mut self, extra: Value) -> Self {
        self.call.extra_body = Some(extra);
        self
    }

    /// An extra request header (overrides the library's own headers of the same name). An invalid
    /// name or value makes the call fail with [`Error::InvalidInput`].
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            (Ok(n), Ok(v)) => self.call.extra_headers.push((n, v)),
            _ => self.call.invalid = Some(format!("invalid extra header `{name}`")),
        }
        self
    }

    /// A total time limit for this call (overrides the client's).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.call.timeout = Some(d);
        self
    }

    /// Resolve, validate and build the HTTP request.
    pub(crate) async fn prepare(self, stream: bool) -> Result<(Prepared, Finish<C>)> {
        let convert = self.convert;
        if let Some(msg) = self.call.invalid {
            return Err(Error::InvalidInput(msg));
        }
        let client = match self.call.client {
            Some(c) => c,
            None => Client::shared()?,
        };
        let mut model_id = self.call.model;
        if model_id.is_empty() {
            model_id = crate::catalog::default_model(Modality::Text, self.call.operation, self.call.target.provider)
                .map(|m| m.id)
                .ok_or_else(|| Error::ModelNotFound { model: String::new(), provider: self.call.target.provider })?;
        }
        let mut resolved = client.resolve(&model_id, &self.call.target, Modality::Text, self.call.operation)?;
        // Vertex AI: the provider's wire format at a Vertex URL, which needs the project.
        let vertex = match (&resolved.auth, resolved.origin.provider()) {
            (Auth::Vertex(v), Some(provider)) => {
                let project = v.project_id(provider).await?;
                let location = v.resolved_location();
                resolved.url = vertex::model_url(&resolved.base, &project, &location, provider, &model_id, stream);
                Some((v.clone(), project, provider))
            }
            _ => None,
        };
        if vertex.is_none() && resolved.origin == Origin::Provider(Provider::Google) {
            let route = crate::providers::google_text_route(resolved.route, &model_id, &self.call.tools);
            resolved.reroute(route, &model_id);
        }
        if vertex.is_none() && stream && resolved.route.wire == WireApi::GeminiGenerateContent {
            resolved.url = gemini::stream_url(&resolved.url);
        }
        let ctx = WireContext { origin: resolved.origin, model: model_id.clone(), operation: self.call.operation };
        let req = TextRequest {
            model: model_id,
            items: request_items(self.call.prompt.as_deref(), &self.call.messages, &self.call.media)?,
            params: self.call.params,
            tools: self.call.tools,
            tool_choice: self.call.tool_choice,
            output_schema: self.call.output_schema,
        };
        if let Some(model) = &resolved.model {
            check_against_catalog(model, &req, self.call.operation, stream, resolved.origin)?;
        }
        let mut body = match resolved.route.wire {
            WireApi::OpenResponses => openresponses::build_request(&req, &ctx, stream)?,
            WireApi::ChatCompletions => chatcompletions::build_request(&req, &ctx, stream)?,
            WireApi::CohereChat => cohere::build_request(&req, &ctx, stream)?,
            WireApi::GeminiGenerateContent => gemini::build_request(&req, &ctx)?,
            WireApi::GeminiInteractions => interactions::build_request(&req, &ctx, stream)?,
            WireApi::AnthropicMessages => anthropic::build_request(&req, &ctx, stream)?,
        };
        if vertex.is_some() && resolved.route.wire == WireApi::AnthropicMessages {
            // Anthropic on Vertex: the model is in the URL and the API version in the body.
            if let Value::Object(m) = &mut body {
                m.remove("model");
                m.insert("anthropic_version".into(), vertex::ANTHROPIC_VERSION.into());
            }
        }
        if let Some(extra) = &self.call.extra_body {
            deep_merge(&mut body, extra);
        }
        let body =
            Bytes::from(serde_json::to_vec(&body).map_err(|e| Error::invalid_input(format!("request body: {e}")))?);
        let mut headers = HeaderMap::new();
        match &vertex {
            Some((v, project, provider)) => v.apply(&mut headers, project, *provider).await?,
            None => resolved.auth.apply(&mut headers).await?,
        }
        if resolved.route.wire == WireApi::AnthropicMessages {
            let mut own = anthropic::headers(&req);
            if vertex.is_some() {
                own.retain(|(name, _)| name != "anthropic-version");
            }
            merge_headers(&mut headers, &own);
        }
        if stream {
            headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        let library_beta = headers.get("anthropic-beta").cloned();
        merge_headers(&mut headers, &self.call.extra_headers);
        if let Some(ours) = library_beta {
            // The caller's betas and the one structured output needs go together.
            anthropic::join_beta(&mut headers, &ours);
        }
        let capture = client.telemetry().capture.unwrap_or_default();
        let telemetry = CallInfo {
            modality: Modality::Text,
            operation: self.call.operation,
            provider_name: if vertex.is_some() { "gcp.vertex_ai" } else { telemetry_name(resolved.origin) },
            model: req.model.clone(),
            url: resolved.url.clone(),
            stream,
            output_type: req.output_schema.as_ref().map(|_| "json"),
            params: req.params.clone(),
            content: (capture != CaptureContent::Off)
                .then(|| content::input_messages(&req.items, &req.tools, client.telemetry().max_content_chars)),
        };
        let finish = Finish {
            typed_tools: req
                .tools
                .iter()
                .filter_map(|t| match t {
                    Tool::Function(f) if f.is_typed() => Some(f.clone()),
                    _ => None,
                })
                .collect(),
            list: req.output_schema.as_ref().is_some_and(|s| s.list),
            convert,
        };
        let prepared = Prepared {
            client,
            ctx,
            wire: resolved.route.wire,
            request: HttpRequest { method: Method::POST, url: resolved.url, headers, body: RequestBody::Json(body) },
            timeout: self.call.timeout,
            telemetry,
        };
        Ok((prepared, finish))
    }
}

/// The `gen_ai.provider.name` of a provider or protocol.
fn telemetry_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Provider(p) => crate::providers::profile(p).map(|p| p.telemetry_name).unwrap_or(p.as_str()),
        Origin::Protocol(p) => p.as_str(),
    }
}

/// Check a call against the catalog's model before anything is sent: the operation, streaming, the
/// media input types the model declares, and every constrained parameter. Parameters the model declares
/// no constraint for pass through, as in the reference.
fn check_against_catalog(
    model: &Model,
    req: &TextRequest,
    operation: Operation,
    stream: bool,
    origin: Origin,
) -> Result<()> {
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(Modality::Text), Some(operation), what);
    if !model.supports(Modality::Text, operation) {
        return Err(unsupported(format!("model {} does not support text {operation}", model.id)));
    }
    if stream && !model.streaming {
        return Err(unsupported(format!("streaming with model {}", model.id)));
    }
    let accepted = model.optional_input_types();
    for item in &req.items {
        if let Item::Message(m) = item {
            for part in &m.content {
                let kind = part.input_type();
                if kind != InputType::Text && !accepted.contains(&kind) {
                    return Err(unsupported(format!("{kind} input with model {}", model.id)));
                }
            }
        }
    }
    let p = &req.params;
    let mut params = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            params.insert(k.to_string(), v);
        }
    };
    put("temperature", p.temperature.map(Value::from));
    put("max_tokens", p.max_tokens.map(Value::from));
    put("seed", p.seed.map(Value::from));
    // The reference's one `thinking_budget` parameter is an effort string or a token count.
    put("thinking_budget", p.reasoning_effort.clone().map(Value::from).or(p.thinking_budget.map(Value::from)));
    put("thinking_level", p.thinking_level.clone().map(Value::from));
    put("verbosity", p.verbosity.clone().map(Value::from));
    if !req.tools.is_empty() {
        put("tools", serde_json::to_value(&req.tools).ok());
    }
    // The catalog's `schema` constraint only asks for an object; the schema itself is not needed.
    put("output_schema", req.output_schema.as_ref().map(|s| serde_json::json!({ "title": s.name })));
    put(
        "tool_choice",
        req.tool_choice.as_ref().map(|c| match c {
            ToolChoice::Tool(name) => serde_json::json!({ "name": name }),
            other => serde_json::to_value(other).unwrap_or(Value::Null),
        }),
    );
    model.validate(&params)?;
    Ok(())
}
