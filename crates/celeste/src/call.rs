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
use crate::stream::{Decoder, Framing, Stream, StreamParts};
use crate::telemetry::{CallInfo, CallSpan, CaptureContent, content};
use crate::transport::http::{HttpRequest, RequestBody};
use crate::transport::sse::SseDecoder;
use crate::types::enums::{InputType, Modality, Operation};
use crate::types::message::Item;
use crate::types::output::Output;
use crate::types::text::{ModelLimits, TextParam, TextRequest};
use crate::types::tool::ToolChoice;
use crate::wire::{WireApi, WireContext, WireRequest};

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
    let client = match opts.client {
        Some(c) => c,
        None => Client::shared()?,
    };
    // Resolve.
    if req.model.is_empty() {
        req.model = crate::catalog::default_model(Modality::Text, operation, opts.target.provider)
            .map(|m| m.id)
            .ok_or_else(|| Error::ModelNotFound { model: String::new(), provider: opts.target.provider })?;
    }
    let mut resolved = client.resolve(&req.model, &opts.target, Modality::Text, operation)?;
    let vertex = match &resolved.auth {
        Auth::Vertex(v) => Some(v.clone()),
        _ => None,
    };
    if vertex.is_none()
        && let Some(route) = resolved.route.wire.redirect(&req)
    {
        resolved.reroute(route, &req.model)?;
    }
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
    let request = assemble(built, headers, &opts.extra_body, &opts.extra_headers)?;
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
    Ok(HttpRequest { method: Method::POST, url, headers, body: RequestBody::Json(body) })
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
        let mut span = self.start_span();
        let t = self.client.transport();
        let deadline = self.deadline();
        let resp = match t.open_stream(self.ctx.origin, &self.request, deadline, &span).await {
            Ok(r) => r,
            Err(e) => {
                span.end_err(&e);
                return Err(e);
            }
        };
        let origin = self.ctx.origin;
        let decoder = finish(self.wire.decoder(self.ctx));
        Ok(Stream::new(
            resp,
            StreamParts {
                origin,
                framing: Framing::Sse(SseDecoder::new(self.client.max_event_size())),
                decoder,
                idle: t.timeouts.idle,
                deadline,
                connect_limit: t.timeouts.connect,
                observer: Some(Box::new(span)),
            },
        ))
    }
}

/// The `gen_ai.provider.name` of a provider or protocol.
fn telemetry_name(origin: Origin) -> &'static str {
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
