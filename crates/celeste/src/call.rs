//! The one call pipeline, below every facade. A call runs the same linear steps whatever its modality:
//!
//! ```text
//! resolve        Client::resolve: model id → provider or protocol, route, URL, auth, catalog entry
//! check          the catalog: operation, streaming, input types, each parameter against its constraint
//! build          WireApi::build: body, the wire API's own headers, URL; parameters it cannot carry
//! host           Vertex AI adapts URL, envelope and credentials (the one host adapter); else the auth
//! extra          the caller's extra body (deep-merged) and headers (theirs win)
//! send           Prepared::unary or Prepared::stream, with the call's span started in one place
//! ```
//!
//! Facades ([`crate::text`], the domain namespaces) only collect arguments and hand them here.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::auth::Auth;
use crate::catalog::{Constraint, Model};
use crate::client::{Client, Target};
use crate::error::{Error, Origin, Result, ValidationError};
use crate::jobs::{JobOptions, Poller};
use crate::stream::{Decoder, Framing, Stream, StreamParts};
use crate::telemetry::{CallInfo, CallSpan, CaptureContent, content};
use crate::transport::http::{HttpRequest, RequestBody};
use crate::transport::sse::SseDecoder;
use crate::types::enums::{InputType, Modality, Operation, Provider};
use crate::types::media::Image;
use crate::types::message::Item;
use crate::types::output::Output;
use crate::types::text::{ModelLimits, TextParam, TextRequest};
use crate::types::tool::ToolChoice;
use crate::wire::embeddings::{EmbedContext, EmbedInput, EmbedRequest, Embeddings, EmbeddingsApi};
use crate::wire::images::{Body as ImageBody, FormField, ImageApi, ImageContext, ImageExtra, ImageRequest};
use crate::wire::{WireApi, WireContext, WireRequest};

pub(crate) mod audio;
mod decision;
mod fanout;
mod segmentation;
pub(crate) use decision::prepare_decision;
mod video;
pub(crate) use segmentation::prepare_segment;
pub(crate) use video::prepare_video;

/// What every call carries besides its modality's own request: where it goes and how it is sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    pub client: Option<Client>,
    pub target: Target,
    pub extra_body: Option<Value>,
    pub extra_headers: Vec<(HeaderName, HeaderValue)>,
    pub timeout: Option<Duration>,
    /// A builder argument that could not be used (an invalid header name or value): the call fails
    /// with it when sent, so builders stay infallible.
    pub invalid: Option<String>,
}

impl CallOptions {
    /// Add a caller header, or remember why it cannot be sent. A credential header's value is marked
    /// sensitive, so that no `Debug` shows it (see `transport::redact`).
    pub(crate) fn header(&mut self, name: &str, value: &str) {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            (Ok(n), Ok(mut v)) => {
                v.set_sensitive(crate::transport::redact::is_secret_header(name));
                self.extra_headers.push((n, v));
            }
            _ => self.invalid = Some(format!("invalid extra header `{name}`")),
        }
    }
}

/// The setters every call builder shares (where the call goes and how it is sent), written once:
/// `call_setters!(opts; client, provider, ...)` adds the named ones to a builder whose
/// [`CallOptions`] sit at `self.opts` (the path before `;`).
macro_rules! call_setters {
    ($($field:ident).+ ; $name:ident $(, $rest:ident)* $(,)?) => {
        $crate::call::call_setters!(@one $($field).+ ; $name);
        $crate::call::call_setters!($($field).+ ; $($rest),*);
    };
    ($($field:ident).+ ;) => {};
    (@one $($field:ident).+ ; client) => {
        /// Use this client instead of the default one.
        pub fn client(mut self, client: $crate::Client) -> Self {
            self.$($field).+.client = Some(client);
            self
        }
    };
    (@one $($field:ident).+ ; provider) => {
        /// Use this provider (for model ids the catalog does not know).
        pub fn provider(mut self, provider: $crate::Provider) -> Self {
            self.$($field).+.target.provider = Some(provider);
            self
        }
    };
    (@one $($field:ident).+ ; protocol) => {
        /// Speak this protocol to `base_url` (bring your own compatible endpoint).
        pub fn protocol(mut self, protocol: $crate::Protocol) -> Self {
            self.$($field).+.target.protocol = Some(protocol);
            self
        }
    };
    (@one $($field:ident).+ ; base_url) => {
        /// Send to this base URL instead of the provider's (the model keeps its provider's API).
        pub fn base_url(mut self, url: impl Into<String>) -> Self {
            self.$($field).+.target.base_url = Some(url.into());
            self
        }
    };
    (@one $($field:ident).+ ; api_key) => {
        /// Use this API key instead of the configured one.
        pub fn api_key(mut self, key: impl Into<$crate::SecretString>) -> Self {
            self.$($field).+.target.api_key = Some(key.into());
            self
        }
    };
    (@one $($field:ident).+ ; auth) => {
        /// Use this authentication scheme.
        pub fn auth(mut self, auth: $crate::Auth) -> Self {
            self.$($field).+.target.auth = Some(auth);
            self
        }
    };
    (@one $($field:ident).+ ; extra_body) => {
        /// JSON deep-merged into a JSON request body last (provider options this library does not
        /// model).
        pub fn extra_body(mut self, extra: serde_json::Value) -> Self {
            self.$($field).+.extra_body = Some(extra);
            self
        }
    };
    (@one $($field:ident).+ ; header) => {
        /// An extra request header (overrides the library's own of the same name). An invalid name
        /// or value makes the call fail with [`crate::Error::InvalidInput`] when sent.
        pub fn header(mut self, name: &str, value: &str) -> Self {
            self.$($field).+.header(name, value);
            self
        }
    };
    (@one $($field:ident).+ ; timeout) => {
        /// A total time limit for this call's requests (overrides the client's).
        pub fn timeout(mut self, d: std::time::Duration) -> Self {
            self.$($field).+.timeout = Some(d);
            self
        }
    };
}
pub(crate) use call_setters;

/// A call resolved, checked and built: ready to send.
pub(crate) struct Prepared {
    pub client: Client,
    pub ctx: WireContext,
    pub wire: WireApi,
    pub request: HttpRequest,
    pub timeout: Option<Duration>,
    pub telemetry: CallInfo,
}

/// Resolve, check, build, adapt and authenticate a text call.
pub(crate) async fn prepare_text(
    opts: CallOptions,
    operation: Operation,
    mut req: TextRequest,
    stream: bool,
) -> Result<Prepared> {
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    let client = client_or_shared(opts.client)?;
    // Resolve.
    name_default_model(&mut req.model, Modality::Text, operation, opts.target.provider)?;
    // Google's backend is chosen by authentication only (the resolver's route), never by the request.
    let mut resolved = client.resolve(&req.model, &opts.target, Modality::Text, operation)?;
    let vertex = match &resolved.auth {
        Auth::Vertex(v) => Some(v.clone()),
        _ => None,
    };
    // Check: the parameters' kinds, then against the catalog.
    check_thinking_kinds(&req)?;
    if let Some(model) = &resolved.model {
        check_text(model, &mut req, operation, stream, resolved.origin)?;
        req.limits = limits(model);
    }
    // Build.
    let ctx = WireContext { origin: resolved.origin, model: req.model.clone(), operation };
    let mut built = resolved.route.wire.build(&req, &ctx, stream, std::mem::take(&mut resolved.url))?;
    ctx.warn_dropped(&built.dropped);
    // Adapt to the host and authenticate.
    let mut headers = HeaderMap::new();
    let provider_name = match (&vertex, resolved.origin.provider()) {
        (Some(v), Some(provider)) => {
            v.host(provider, &resolved.base, &req.model, stream, &mut built, &mut headers).await?;
            "gcp.vertex_ai"
        }
        _ => {
            resolved.auth.apply(&mut headers).await?;
            telemetry_name(resolved.origin)
        }
    };
    // The caller's extras, then the request.
    let mut request = assemble(built, headers, &opts.extra_body, &opts.extra_headers)?;
    request.total = opts.timeout.or(client.transport().timeouts.total);
    let capture = client.telemetry().capture.unwrap_or_default();
    let telemetry = CallInfo {
        modality: Modality::Text,
        operation,
        provider_name,
        model: req.model.clone(),
        url: request.url.clone(),
        stream,
        output_type: req.output_schema.as_ref().map(|_| "json"),
        content: (capture != CaptureContent::Off)
            .then(|| content::input_messages(&req.items, &req.tools, client.telemetry().max_content_chars)),
        params: req.params,
    };
    Ok(Prepared { client, ctx, wire: resolved.route.wire, request, timeout: opts.timeout, telemetry })
}

/// The wire request with the host's headers, the wire API's own headers and the caller's extras (the
/// caller's headers win over ours; the extra body is deep-merged last).
fn assemble(
    built: WireRequest,
    mut headers: HeaderMap,
    extra_body: &Option<Value>,
    extra_headers: &[(HeaderName, HeaderValue)],
) -> Result<HttpRequest> {
    let WireRequest { mut body, headers: own, url, .. } = built;
    if let Some(extra) = extra_body {
        deep_merge(&mut body, extra);
    }
    let body = Bytes::from(serde_json::to_vec(&body).map_err(|e| Error::invalid_input(format!("request body: {e}")))?);
    for (k, v) in own.into_iter().chain(extra_headers.iter().cloned()) {
        headers.insert(k, v);
    }
    Ok(HttpRequest { method: Method::POST, url, headers, body: RequestBody::Json(body), total: None })
}

impl Prepared {
    fn start_span(&self) -> CallSpan {
        CallSpan::start(self.client.telemetry(), &self.telemetry)
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        match self.timeout {
            Some(t) => Some(tokio::time::Instant::now() + t),
            None => self.client.transport().deadline(),
        }
    }

    /// Send a unary call, decode the reply, and turn it into the call's output with `finish`; the span
    /// covers all of it.
    pub(crate) async fn unary<C: serde::Serialize>(
        self,
        finish: impl FnOnce(Output<String>) -> Result<Output<C>>,
    ) -> Result<Output<C>> {
        let mut span = self.start_span();
        let result = self.send_and_decode(&span).await.and_then(finish);
        match &result {
            Ok(out) => span.end_ok(out),
            Err(e) => span.end_err(e),
        }
        result
    }

    async fn send_and_decode(&self, span: &CallSpan) -> Result<Output<String>> {
        let t = self.client.transport();
        let deadline = self.deadline();
        let resp = t.send(self.ctx.origin, &self.request, deadline, span).await?;
        let body = t.read_body(self.ctx.origin, resp, deadline).await?;
        self.wire.parse(body, &self.ctx)
    }

    /// Open the stream: the request is sent (with retries) and the stream returned once the response
    /// headers have arrived. `finish` wraps the wire API's decoder (typed output, tool-call checks);
    /// the span ends with the stream, however it ends.
    pub(crate) async fn stream<C: serde::Serialize + Send + 'static>(
        self,
        finish: impl FnOnce(Box<dyn Decoder<String, String>>) -> Box<dyn Decoder<String, C>>,
    ) -> Result<Stream<String, C>> {
        let span = self.start_span();
        let framing = Framing::Sse(SseDecoder::new(self.client.max_event_size()));
        let deadline = self.deadline();
        let origin = self.ctx.origin;
        let decoder = self.wire.decoder(self.ctx).map(finish);
        open_stream(&self.client, span, (origin, &self.request), deadline, framing, decoder).await
    }
}

/// An image call resolved, checked and built: ready to send.
pub(crate) struct PreparedImage {
    client: Client,
    ctx: ImageContext,
    api: ImageApi,
    request: HttpRequest,
    /// The credentials of the API's host, for a job's polls.
    auth: HeaderMap,
    timeout: Option<Duration>,
    telemetry: CallInfo,
    req: ImageRequest,
    job: JobOptions,
}

/// Resolve, check, build and authenticate an image call.
pub(crate) async fn prepare_image(
    opts: CallOptions,
    mut req: ImageRequest,
    stream: bool,
    job: JobOptions,
) -> Result<PreparedImage> {
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    let client = client_or_shared(opts.client)?;
    let operation = req.operation;
    // Resolve.
    name_default_model(&mut req.model, Modality::Images, operation, opts.target.provider)?;
    let resolved = client.resolve_media(&req.model, &opts.target, Modality::Images, operation)?;
    let unsupported =
        |what: String| Error::unsupported(Some(resolved.origin), Some(Modality::Images), Some(operation), what);
    // Vertex AI is chosen by authentication, as for text: Gemini image models go to generateContent.
    let vertex = match &resolved.auth {
        Auth::Vertex(v) => Some(v.clone()),
        _ => None,
    };
    let api = match &vertex {
        Some(_) => crate::wire::images::ImageApi::GoogleVertex,
        None => crate::providers::image_api(resolved.provider)
            .ok_or_else(|| unsupported(format!("images on {}", resolved.provider)))?,
    };
    let path = api
        .path(operation, &req.model)
        .ok_or_else(|| unsupported(format!("image {operation} with model {}", req.model)))?;
    // Check: the inputs (and what this API takes of them), then against the catalog.
    check_image_inputs(&req)?;
    check_input_rules(&req, api.input_rules())?;
    if let Some(model) = &resolved.model {
        check_image(model, &mut req, stream, resolved.origin)?;
    }
    // Build.
    let ctx = ImageContext { origin: resolved.origin, model: req.model.clone(), operation, extra: ImageExtra };
    // Authenticate (the Vertex host adapter also gives the URL).
    let mut auth = HeaderMap::new();
    let url = match &vertex {
        Some(v) => v.media_host(resolved.provider, &resolved.base, &req.model, &mut auth).await?,
        None => {
            resolved.auth.apply(&mut auth).await?;
            crate::providers::join_url(&resolved.base, &path)
        }
    };
    let built = api.build(&req, &ctx, stream, url).await?;
    if !built.dropped.is_empty() {
        tracing::warn!(origin = %ctx.origin, model = %ctx.model, parameters = ?built.dropped, "parameters this image API cannot carry were dropped");
    }
    // The caller's extras.
    let body = media_body(built.body, &opts.extra_body, "image")?;
    let mut headers = auth.clone();
    for (k, v) in built.headers.into_iter().chain(opts.extra_headers.iter().cloned()) {
        headers.insert(k, v);
    }
    let total = opts.timeout.or(client.transport().timeouts.total);
    let request = HttpRequest { method: Method::POST, url: built.url, headers, body, total };
    let telemetry = CallInfo {
        modality: Modality::Images,
        operation,
        provider_name: if vertex.is_some() { "gcp.vertex_ai" } else { telemetry_name(resolved.origin) },
        model: req.model.clone(),
        url: request.url.clone(),
        stream,
        output_type: Some("image"),
        content: None,
        params: Default::default(),
    };
    Ok(PreparedImage { client, ctx, api, request, auth, timeout: opts.timeout, telemetry, req, job })
}

/// A media API's body with the caller's extra body deep-merged (a JSON body only: `what` API sends a
/// form otherwise, and an extra body is an error).
pub(crate) fn media_body(body: ImageBody, extra_body: &Option<Value>, what: &str) -> Result<RequestBody> {
    Ok(match body {
        ImageBody::Json(mut v) => {
            if let Some(extra) = extra_body {
                deep_merge(&mut v, extra);
            }
            let bytes = serde_json::to_vec(&v).map_err(|e| Error::invalid_input(format!("request body: {e}")))?;
            RequestBody::Json(Bytes::from(bytes))
        }
        ImageBody::Form(fields) => {
            if extra_body.is_some() {
                let why = format!("extra_body applies to JSON requests; this {what} API sends a form");
                return Err(Error::invalid_input(why));
            }
            form_body(fields)
        }
    })
}

/// A multipart body, rebuilt for each attempt (reqwest consumes forms).
fn form_body(fields: Vec<FormField>) -> RequestBody {
    let fields = std::sync::Arc::new(fields);
    RequestBody::Multipart(std::sync::Arc::new(move || {
        let mut form = reqwest::multipart::Form::new();
        for f in fields.iter() {
            form = match f {
                FormField::Text(name, value) => form.text(*name, value.clone()),
                FormField::File { name, bytes, filename, mime } => {
                    let part = reqwest::multipart::Part::stream(reqwest::Body::from(bytes.clone()))
                        .file_name(filename.clone());
                    // A MIME type the builder rejects leaves the part untyped rather than failing.
                    let part = match part.mime_str(mime) {
                        Ok(p) => p,
                        Err(_) => reqwest::multipart::Part::stream(reqwest::Body::from(bytes.clone()))
                            .file_name(filename.clone()),
                    };
                    form.part(*name, part)
                }
            };
        }
        form
    }))
}

/// The client a call runs on: the one it was given, else the shared one.
pub(crate) fn client_or_shared(client: Option<Client>) -> Result<Client> {
    client.map_or_else(Client::shared, Ok)
}

/// A call that names no model gets the catalog's default for its modality and operation (on its
/// provider, when one is set); none there is [`Error::ModelNotFound`].
pub(crate) fn name_default_model(
    model: &mut String,
    modality: Modality,
    operation: Operation,
    provider: Option<Provider>,
) -> Result<()> {
    if model.is_empty() {
        *model = crate::catalog::default_model(modality, operation, provider)
            .map(|m| m.id)
            .ok_or_else(|| Error::ModelNotFound { model: String::new(), provider })?;
    }
    Ok(())
}

/// When a call's requests must be done by: its own timeout from now, else the client's limit.
pub(crate) fn call_deadline(timeout: Option<Duration>, client: &Client) -> Option<tokio::time::Instant> {
    match timeout {
        Some(t) => tokio::time::Instant::now().checked_add(t),
        None => client.transport().deadline(),
    }
}

/// End `span` with the call's result (exactly once), and hand the result on.
pub(crate) fn ended<C: serde::Serialize>(mut span: CallSpan, result: Result<Output<C>>) -> Result<Output<C>> {
    match &result {
        Ok(out) => span.end_ok(out),
        Err(e) => span.end_err(e),
    }
    result
}

impl PreparedImage {
    fn deadline(&self) -> Option<tokio::time::Instant> {
        call_deadline(self.timeout, &self.client)
    }

    /// Send, and settle the reply: decode it, or poll the job it started to its end. One span covers
    /// the whole call, polls and downloads included.
    pub(crate) async fn unary(self) -> Result<Output<Vec<Image>>> {
        let span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let result = self.settle(&span).await;
        ended(span, result)
    }

    async fn settle(&self, span: &CallSpan) -> Result<Output<Vec<Image>>> {
        let t = self.client.transport();
        let deadline = self.deadline();
        let resp = t.send(self.ctx.origin, &self.request, deadline, span).await?;
        let body = t.read_body(self.ctx.origin, resp, deadline).await?;
        let mut poller = Poller::new(t, span, self.ctx.origin, self.auth.clone(), &self.request.url, self.job.clone());
        self.api.settle(body, &self.ctx, &mut poller).await
    }

    /// Open the stream of partial images.
    pub(crate) async fn stream(self) -> Result<Stream<Image, Vec<Image>>> {
        let span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let decoder = self.api.decoder(self.ctx.clone(), &self.req);
        let framing = self.api.framing(self.client.max_event_size());
        open_stream(&self.client, span, (self.ctx.origin, &self.request), self.deadline(), framing, decoder).await
    }
}

/// Open a call's stream (text or media): the request sent (with retries) and the stream returned once
/// the response headers have arrived. The span ends with the stream, however it ends, or here when
/// the stream cannot be opened (its decoder refused, before anything is sent, or the request failed).
pub(crate) async fn open_stream<D: 'static, C: serde::Serialize + 'static>(
    client: &Client,
    mut span: CallSpan,
    (origin, request): (Origin, &HttpRequest),
    deadline: Option<tokio::time::Instant>,
    framing: Framing,
    decoder: Result<Box<dyn crate::stream::Decoder<D, C>>>,
) -> Result<Stream<D, C>> {
    let t = client.transport();
    let opened = match decoder {
        Ok(d) => t.open_stream(origin, request, deadline, &span).await.map(|resp| (d, resp)),
        Err(e) => Err(e),
    };
    let (decoder, resp) = match opened {
        Ok(x) => x,
        Err(e) => {
            span.end_err(&e);
            return Err(e);
        }
    };
    Ok(Stream::new(
        resp,
        StreamParts {
            origin,
            framing,
            decoder,
            idle: t.timeouts.idle,
            deadline,
            connect_limit: t.timeouts.connect,
            observer: Some(Box::new(span)),
        },
    ))
}

/// An embeddings call resolved, checked and built: ready to send.
pub(crate) struct PreparedEmbed {
    client: Client,
    ctx: EmbedContext,
    api: EmbeddingsApi,
    /// One request; several for a batch on Vertex AI, sent side by side (`call/fanout.rs`).
    requests: Vec<HttpRequest>,
    timeout: Option<Duration>,
    telemetry: CallInfo,
}

/// Resolve, check, build and authenticate an embeddings call. Besides the catalog's providers, any
/// OpenAI-compatible server is reached with a protocol and a base URL.
pub(crate) async fn prepare_embed(opts: CallOptions, mut req: EmbedRequest) -> Result<PreparedEmbed> {
    let (op, modality) = (Operation::Embed, Modality::Embeddings);
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    let client = client_or_shared(opts.client)?;
    // Check the inputs first: nothing to embed is the caller's mistake whatever the model.
    if req.inputs.is_empty() {
        return Err(Error::invalid_input("embeddings: no input given (an empty batch)"));
    }
    if req.inputs.iter().any(|i| matches!(i, EmbedInput::Text(t) if t.trim().is_empty())) {
        return Err(Error::invalid_input("embeddings: an input text is empty"));
    }
    name_default_model(&mut req.model, modality, op, opts.target.provider)?;
    let (origin, api, base, auth, model) = match opts.target.protocol {
        Some(protocol) => {
            let base =
                opts.target.base_url.clone().unwrap_or_else(|| crate::providers::PROTOCOL_DEFAULT_BASE_URL.into());
            let auth = match (&opts.target.auth, &opts.target.api_key) {
                (Some(a), _) => a.clone(),
                (None, Some(k)) => Auth::bearer(k.clone())?,
                (None, None) => Auth::None,
            };
            (Origin::Protocol(protocol), EmbeddingsApi::OpenAi, base, auth, None)
        }
        None => {
            let mut target = opts.target.clone();
            target.protocol = None;
            let r = client.resolve_media(&req.model, &target, modality, op)?;
            let api = crate::providers::embeddings_api(r.provider).ok_or_else(|| {
                Error::unsupported(Some(r.origin), Some(modality), Some(op), format!("embeddings on {}", r.provider))
            })?;
            (r.origin, api, r.base, r.auth, r.model)
        }
    };
    if let Some(m) = &model {
        if !m.supports(modality, op) {
            let what = format!("model {} does not embed", m.id);
            return Err(Error::unsupported(Some(origin), Some(modality), Some(op), what));
        }
        if let Some(d) = req.dimensions {
            let mut params = Map::new();
            params.insert("dimensions".into(), Value::from(d));
            let checked = m.validate(&params)?;
            req.dimensions = checked.get("dimensions").and_then(Value::as_u64).and_then(|d| u32::try_from(d).ok());
        }
    }
    let ctx = EmbedContext { origin, model: req.model.clone() };
    let total = opts.timeout.or(client.transport().timeouts.total);
    let (requests, provider_name) = match &auth {
        // Vertex AI: its own URL and credentials, and a batch as one call per input.
        Auth::Vertex(v) => {
            let reqs = fanout::vertex_requests(v, &base, api, &req, &ctx, &opts.extra_body, &opts.extra_headers, total)
                .await?;
            (reqs, "gcp.vertex_ai")
        }
        _ => {
            let url = crate::providers::join_url(&base, &api.path(&req)?);
            let mut headers = HeaderMap::new();
            auth.apply(&mut headers).await?;
            for (k, v) in opts.extra_headers.iter().cloned() {
                headers.insert(k, v);
            }
            let request = json_post(url, headers, api.build(&req, &ctx)?, &opts.extra_body, total)?;
            (vec![request], telemetry_name(origin))
        }
    };
    let telemetry = CallInfo {
        modality,
        operation: op,
        provider_name,
        model: req.model.clone(),
        url: requests.first().map(|r| r.url.clone()).unwrap_or_default(),
        stream: false,
        output_type: None,
        content: None,
        params: Default::default(),
    };
    Ok(PreparedEmbed { client, ctx, api, requests, timeout: opts.timeout, telemetry })
}

impl PreparedEmbed {
    /// Send the call and decode the vectors; one span, with the vectors' size on it.
    pub(crate) async fn unary(self) -> Result<Output<Embeddings>> {
        let mut span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let t = self.client.transport();
        let deadline = call_deadline(self.timeout, &self.client);
        let result = match self.requests.as_slice() {
            [one] => {
                async {
                    let resp = t.send(self.ctx.origin, one, deadline, &span).await?;
                    let body = t.read_body(self.ctx.origin, resp, deadline).await?;
                    self.api.parse(&body, &self.ctx)
                }
                .await
            }
            many => fanout::run(t, self.api, &self.ctx, many, deadline, &span).await,
        };
        match &result {
            Ok(out) => {
                if let Some(first) = out.content.first() {
                    span.embedding_dimensions(first.len());
                }
                span.end_ok(out);
            }
            Err(e) => span.end_err(e),
        }
        result
    }
}

/// Inputs every image call needs, whatever the model: an edit or upscale has its image, and every
/// input image can be read and is an image.
fn check_image_inputs(req: &ImageRequest) -> Result<()> {
    let op = req.operation;
    let needs_image = matches!(op, Operation::Edit | Operation::Upscale);
    match (&req.input.image, needs_image) {
        (None, true) => return Err(Error::invalid_input(format!("image {op}: no input image given"))),
        (Some(_), false) => return Err(Error::invalid_input(format!("image {op} takes no input image"))),
        _ => {}
    }
    if op != Operation::Upscale && req.input.prompt.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(Error::invalid_input(format!("image {op}: the prompt is empty")));
    }
    let inputs = req.input.image.iter().chain(&req.params.reference_images).chain(&req.params.mask);
    for (i, a) in inputs.enumerate() {
        let what =
            if i == 0 && req.input.image.is_some() { "the input image".to_string() } else { format!("image {i}") };
        check_artifact(&what, a, "image/", "an image")?;
    }
    Ok(())
}

/// A media input the caller gave, checked before any request: it has content, a path names a
/// readable file, and a known MIME type is of the `kind` (`"image/"`, ...; `noun` says it in the
/// message). `what` names the input in the messages.
pub(crate) fn check_artifact(what: &str, a: &crate::types::artifact::Artifact, kind: &str, noun: &str) -> Result<()> {
    if !a.has_content() {
        return Err(Error::invalid_input(format!("{what} is empty: give it bytes, a path or a URL")));
    }
    if let Some(path) = a.path.as_deref().filter(|p| !p.as_os_str().is_empty())
        && a.data.is_none()
        && !path.is_file()
    {
        return Err(Error::invalid_input(format!("{what}: no readable file at `{}`", path.display())));
    }
    if let Some(mime) = a.mime()
        && !mime.as_str().starts_with(kind)
    {
        return Err(Error::invalid_input(format!("{what} is `{mime}`, not {noun}")));
    }
    Ok(())
}

/// The input images against what the API documents it takes: size and type, before any request.
fn check_input_rules(req: &ImageRequest, rules: crate::wire::images::InputRules) -> Result<()> {
    let inputs = req.input.image.iter().chain(&req.params.reference_images).chain(&req.params.mask);
    for (i, a) in inputs.enumerate() {
        let what =
            if i == 0 && req.input.image.is_some() { "the input image".to_string() } else { format!("image {i}") };
        if let Some(max) = rules.max_bytes {
            let size = match (&a.data, a.path.as_deref()) {
                (Some(d), _) => Some(d.len() as u64),
                (None, Some(p)) => std::fs::metadata(p).ok().map(|m| m.len()),
                _ => None,
            };
            if let Some(size) = size.filter(|s| *s > max) {
                return Err(Error::invalid_input(format!(
                    "{what} is {size} bytes; this provider takes images up to {max} bytes"
                )));
            }
        }
        if let (Some(allowed), Some(mime)) = (rules.mime_types, a.mime())
            && !allowed.contains(&mime.as_str())
        {
            return Err(Error::invalid_input(format!(
                "{what} is `{mime}`; this provider takes {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// Check an image call against the catalog's model: the operation, streaming, and each parameter
/// against its own constraint (reference images by count and type); the normalised values are sent.
fn check_image(model: &Model, req: &mut ImageRequest, stream: bool, origin: Origin) -> Result<()> {
    let op = req.operation;
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(Modality::Images), Some(op), what);
    if !model.supports(Modality::Images, op) {
        return Err(unsupported(format!("model {} does not support image {op}", model.id)));
    }
    if stream && !model.streaming {
        return Err(unsupported(format!("streaming with model {}", model.id)));
    }
    let mut params: Map<String, Value> = req.params.values().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if !req.params.reference_images.is_empty() {
        params.insert("reference_images".into(), reference_params(&req.params.reference_images));
    }
    let mut checked = model.validate(&params)?;
    checked.remove("reference_images");
    req.params.replace_values(checked.into_iter().collect());
    Ok(())
}

/// Reference images as their constraint checks them: by MIME type.
pub(crate) fn reference_params(images: &[crate::types::artifact::Artifact]) -> Value {
    let refs = images.iter().map(|a| serde_json::json!({ "mime_type": a.mime().map(|m| m.as_str().to_string()) }));
    Value::Array(refs.collect())
}

/// The `gen_ai.provider.name` of a provider or protocol.
pub(crate) fn telemetry_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Provider(p) => crate::providers::profile(p).map(|p| p.telemetry_name).unwrap_or(p.as_str()),
        Origin::Protocol(p) => p.as_str(),
    }
}

/// What the wire APIs may need to know of the model.
fn limits(model: &Model) -> ModelLimits {
    let max_output_tokens = match model.constraints.get("max_tokens") {
        Some(Constraint::Range { max, .. }) if *max >= 1.0 && max.is_finite() => Some(*max as u64),
        _ => None,
    };
    ModelLimits { max_output_tokens }
}

/// Check a text call against the catalog's model before anything is sent: the operation, streaming,
/// the media input types the model declares, and each parameter against its own constraint (a
/// parameter the model declares no constraint for passes, as in the reference). The values the
/// constraints normalise are the ones sent.
fn check_text(model: &Model, req: &mut TextRequest, operation: Operation, stream: bool, origin: Origin) -> Result<()> {
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
    let mut params = Map::new();
    for p in req.params.set_params() {
        if let Some(v) = req.params.value(p) {
            params.insert(p.as_str().to_string(), v);
        }
    }
    if !req.tools.is_empty() {
        params.insert("tools".into(), serde_json::to_value(&req.tools).unwrap_or(Value::Null));
    }
    // The catalog's `schema` constraint only asks for an object; the schema itself is not needed.
    if let Some(s) = &req.output_schema {
        params.insert("output_schema".into(), serde_json::json!({ "title": s.name }));
    }
    if let Some(c) = &req.tool_choice {
        let v = match c {
            ToolChoice::Tool(name) => serde_json::json!({ "name": name }),
            other => serde_json::to_value(other).unwrap_or(Value::Null),
        };
        params.insert("tool_choice".into(), v);
    }
    let checked = model.validate(&params)?;
    for p in TextParam::ALL {
        if let Some(v) = checked.get(p.as_str()) {
            req.params.set_value(*p, v);
        }
    }
    Ok(())
}

/// A reasoning level that is a number was meant as a token budget: say which parameter takes it
/// (the reference's 1.0.0 split the one old parameter into these two).
fn check_thinking_kinds(req: &TextRequest) -> Result<()> {
    match &req.params.thinking_level {
        Some(level) if level.trim().parse::<i64>().is_ok() => Err(ValidationError {
            model: Some(req.model.clone()),
            parameter: "thinking_level".into(),
            value: level.clone(),
            allowed: "a named effort such as `low` or `high` (a token count goes in `thinking_budget`)".into(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// A JSON `POST` of `body` with the caller's extra body deep-merged into it.
pub(crate) fn json_post(
    url: String,
    headers: HeaderMap,
    mut body: Value,
    extra_body: &Option<Value>,
    total: Option<Duration>,
) -> Result<HttpRequest> {
    if let Some(extra) = extra_body {
        deep_merge(&mut body, extra);
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| Error::invalid_input(format!("request body: {e}")))?;
    Ok(HttpRequest { method: Method::POST, url, headers, body: RequestBody::Json(Bytes::from(bytes)), total })
}

/// The span facts of a unary call whose output is structured data (the conventions' `json` output
/// type) and whose input has no messages to capture (decisions, segmentation).
pub(crate) fn json_call_info(
    modality: Modality,
    operation: Operation,
    origin: Origin,
    model: &str,
    url: &str,
) -> CallInfo {
    CallInfo {
        modality,
        operation,
        provider_name: telemetry_name(origin),
        model: model.to_string(),
        url: url.to_string(),
        stream: false,
        output_type: Some("json"),
        content: None,
        params: Default::default(),
    }
}

/// Merge `extra` into `base` recursively: objects merge key by key, anything else replaces.
pub(crate) fn deep_merge(base: &mut Value, extra: &Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                match b.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, e) => *b = e.clone(),
    }
}

#[cfg(test)]
mod tests;
