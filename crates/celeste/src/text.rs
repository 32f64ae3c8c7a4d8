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

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::call::{CallOptions, prepare_text};
use crate::error::Result;
use crate::stream::Stream;
use crate::structured::{Convert, Finish, OutputSchema, text_content, typed_content};
use crate::types::enums::Operation;
use crate::types::message::{Item, Part, request_items};
use crate::types::output::Output;
use crate::types::text::TextRequest;
use crate::types::tool::{Tool, ToolChoice};

pub use crate::decision::decide;
pub use crate::types::text::{TextParam, TextParams};

/// A text stream: chunks of `String` (the text as it arrives; JSON text for structured output), and
/// an output whose content is `C`: `String`, or the type given to
/// [`output_schema`](Generate::output_schema).
pub type TextStream<C = String> = Stream<String, C>;

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
    opts: CallOptions,
    model: String,
    prompt: Option<String>,
    messages: Vec<Item>,
    media: Vec<Part>,
    params: TextParams,
    tools: Vec<Tool>,
    tool_choice: Option<ToolChoice>,
    output_schema: Option<OutputSchema>,
    operation: Operation,
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

/// Stream generated text from a prompt with the default client.
pub fn stream(prompt: impl Into<String>, model: impl Into<String>) -> Generate<Streaming> {
    generate(prompt, model).stream()
}

pub use crate::embeddings::{EmbedCall, embed, embed_many};

impl Generate<Unary> {
    pub(crate) fn new(prompt: Option<String>, model: String) -> Self {
        Generate {
            call: Call {
                opts: CallOptions::default(),
                model,
                prompt,
                messages: Vec::new(),
                media: Vec::new(),
                params: TextParams::default(),
                tools: Vec::new(),
                tool_choice: None,
                output_schema: None,
                operation: Operation::Generate,
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
    /// fails with [`crate::Error::OutputValidation`], which keeps the whole text output. A reply with only
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
        let ((opts, operation, req), finish) = self.into_request()?;
        let prepared = prepare_text(opts, operation, req, false).await?;
        prepared.unary(|out| finish.apply(out)).await
    }
}

impl<C: Serialize + Send + 'static> Generate<Streaming, C> {
    /// Open the stream: the request is sent (with retries) and the stream is returned once the response
    /// headers have arrived. HTTP errors surface here; errors inside the stream surface as items.
    pub async fn send(self) -> Result<TextStream<C>> {
        let ((opts, operation, req), finish) = self.into_request()?;
        let prepared = prepare_text(opts, operation, req, true).await?;
        prepared.stream(|wire| finish.around(wire)).await
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

impl<M, C: Send + 'static> Generate<M, C> {
    /// The pipeline's inputs: the call options, the operation, the neutral request, and how the reply
    /// becomes the output.
    fn into_request(self) -> Result<((CallOptions, Operation, TextRequest), Finish<C>)> {
        let c = self.call;
        let finish = Finish::new(&c.tools, c.output_schema.as_ref(), self.convert);
        let opts = c.opts;
        let items = request_items(c.prompt.as_deref(), &c.messages, &c.media)?;
        let req = TextRequest {
            model: c.model,
            items,
            params: c.params,
            tools: c.tools,
            tool_choice: c.tool_choice,
            output_schema: c.output_schema,
            limits: Default::default(),
        };
        Ok(((opts, c.operation, req), finish))
    }
}

impl<M, C> Generate<M, C> {
    crate::call::call_setters!(call.opts; client, provider, protocol, api_key, auth, extra_body, header, timeout);

    pub(crate) fn with_mode<N>(self) -> Generate<N, C> {
        Generate { call: self.call, convert: self.convert, mode: PhantomData }
    }

    /// Which operation this text call is (`generate`, or `analyze` for the domain facades).
    pub(crate) fn operation(mut self, op: Operation) -> Self {
        self.call.operation = op;
        self
    }

    /// Send to this base URL instead of the provider's (honoured for every provider). Without a
    /// provider or protocol, the OpenResponses protocol is used.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.call.opts.target.base_url = Some(url.into());
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

    /// Top-k sampling.
    pub fn top_k(mut self, k: u64) -> Self {
        self.call.params.top_k = Some(k);
        self
    }

    /// Sampling seed.
    pub fn seed(mut self, seed: i64) -> Self {
        self.call.params.seed = Some(seed);
        self
    }

    /// A stop sequence (call again to add more).
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        self.call.params.stop.push(sequence.into());
        self
    }

    /// Frequency penalty.
    pub fn frequency_penalty(mut self, penalty: f64) -> Self {
        self.call.params.frequency_penalty = Some(penalty);
        self
    }

    /// Presence penalty.
    pub fn presence_penalty(mut self, penalty: f64) -> Self {
        self.call.params.presence_penalty = Some(penalty);
        self
    }

    /// A reasoning token budget; `0` turns thinking off where the API can say so, `-1` leaves the
    /// budget to the model.
    pub fn thinking_budget(mut self, tokens: i64) -> Self {
        self.call.params.thinking_budget = Some(tokens);
        self
    }

    /// A named reasoning effort (`minimal`, `low`, `medium`, `high`, ...: the catalog lists each
    /// model's levels).
    pub fn thinking_level(mut self, level: impl Into<String>) -> Self {
        self.call.params.thinking_level = Some(level.into());
        self
    }

    /// OpenAI's name for [`thinking_level`](Self::thinking_level): the same parameter.
    pub fn reasoning_effort(self, effort: impl Into<String>) -> Self {
        self.thinking_level(effort)
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

    /// Resolve, validate and build the HTTP request without sending it (tests of the pipeline).
    #[cfg(test)]
    pub(crate) async fn prepare(self, stream: bool) -> Result<crate::call::Prepared>
    where
        C: Send + 'static,
    {
        let ((opts, op, req), _) = self.into_request()?;
        prepare_text(opts, op, req, stream).await
    }
}
