//! The call span and its finaliser, backed by the `opentelemetry` API.
//!
//! [`CallSpan`] is created when a call is about to be sent and ends exactly once: through
//! [`end_ok`](CallSpan::end_ok) / [`end_err`](CallSpan::end_err), or, when the call's future or stream is
//! dropped first, through `Drop`. Streams hold it as their [`Observer`], so every way of consuming a
//! stream passes through the same finaliser.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use opentelemetry::global::{self, BoxedSpan, BoxedTracer};
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider};
use opentelemetry::propagation::Injector;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue, Value};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use super::names::{self as n, Semconv};
use super::{CallInfo, CaptureContent, TelemetryConfig, content, server_of};
use crate::error::Error;
use crate::stream::{End, Observer};
use crate::transport::redact::redact_url;
use crate::types::output::{Chunk, Output};
use crate::types::usage::Usage;

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("celeste").with_version(env!("CARGO_PKG_VERSION")).build()
}

struct Instruments {
    duration: Histogram<f64>,
    ttfc: Histogram<f64>,
    tpoc: Histogram<f64>,
    tokens: Option<Histogram<u64>>,
    input_tokens: Option<Counter<u64>>,
    output_tokens: Option<Counter<u64>>,
}

impl Instruments {
    fn new(meter: &Meter, semconv: Semconv) -> Self {
        let seconds = |name: &'static str, what: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(what)
                .with_boundaries(n::DURATION_BUCKETS.to_vec())
                .build()
        };
        let (tokens, input_tokens, output_tokens) = match semconv {
            Semconv::V1_41 => (
                Some(
                    meter
                        .u64_histogram(n::METRIC_TOKEN_USAGE)
                        .with_unit("{token}")
                        .with_description("Number of input and output tokens used")
                        .with_boundaries(n::TOKEN_BUCKETS.to_vec())
                        .build(),
                ),
                None,
                None,
            ),
            Semconv::Latest => (
                None,
                Some(meter.u64_counter(n::METRIC_INFERENCE_INPUT_TOKENS).with_unit("{token}").build()),
                Some(meter.u64_counter(n::METRIC_INFERENCE_OUTPUT_TOKENS).with_unit("{token}").build()),
            ),
        };
        Instruments {
            duration: seconds(semconv.duration_metric(), "GenAI operation duration"),
            ttfc: seconds(semconv.ttfc_metric(), "Time to receive the first chunk of a streamed response"),
            tpoc: seconds(semconv.tpoc_metric(), "Time between consecutive chunks of a streamed response"),
            tokens,
            input_tokens,
            output_tokens,
        }
    }
}

type SharedMeterProvider = Arc<dyn MeterProvider + Send + Sync>;

/// A client's metric instruments, made once per meter provider instead of on every call.
///
/// The key is the provider itself (its `Arc`, held here so that its address cannot be reused by
/// another provider), and the conventions version. With the global provider, every call asks
/// `opentelemetry::global` for the current one (a read lock and a reference count) and compares it with
/// the cached one: instruments made while the no-op provider was installed are dropped as soon as the
/// application installs its SDK, so a client built before the SDK is installed records from the first
/// call after it.
#[derive(Default)]
pub(crate) struct InstrumentCache(Mutex<Option<CachedInstruments>>);

struct CachedInstruments {
    provider: SharedMeterProvider,
    semconv: Semconv,
    instruments: Arc<Instruments>,
    binds: bool,
}

impl InstrumentCache {
    /// The instruments of `provider` (the global one when `None`), and whether the per-chunk histogram
    /// may be bound (see [`provider_binds`]).
    fn get(&self, config: &TelemetryConfig, semconv: Semconv) -> (Arc<Instruments>, bool) {
        let explicit = config.meter_provider.as_ref();
        let provider = explicit.cloned().unwrap_or_else(global::meter_provider);
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = slot.as_ref()
            && Arc::ptr_eq(&c.provider, &provider)
            && c.semconv == semconv
        {
            return (c.instruments.clone(), c.binds);
        }
        let binds = match explicit {
            Some(_) => config.meter_provider_binds,
            None => provider_binds(&provider),
        };
        let instruments = Arc::new(Instruments::new(&provider.meter_with_scope(scope()), semconv));
        *slot = Some(CachedInstruments { provider, semconv, instruments: instruments.clone(), binds });
        (instruments, binds)
    }
}

/// The global meter provider installed by [`set_global_meter_provider`](super::set_global_meter_provider)
/// when it is the SDK's, held so that its address stays its own.
static BINDING_GLOBAL: Mutex<Option<SharedMeterProvider>> = Mutex::new(None);

/// Whether `provider` (the current global one) is the `opentelemetry_sdk` provider celeste installed,
/// which implements bound instruments (feature-unified with celeste's `bound-instruments`). Any other
/// provider gets unbound records: a provider that does not implement `bind` would drop bound records.
fn provider_binds(provider: &SharedMeterProvider) -> bool {
    let held = BINDING_GLOBAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    held.as_ref().is_some_and(|p| Arc::ptr_eq(p, provider))
}

/// Record the provider just installed globally as one that binds (it is the SDK's).
pub(crate) fn note_global_binds(binds: bool) {
    let mut held = BINDING_GLOBAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *held = binds.then(global::meter_provider);
}

struct Inner {
    cx: Context,
    tracer: BoxedTracer,
    instruments: Arc<Instruments>,
    /// Whether `tpoc` may be bound to the call's attributes (the provider is known to implement it).
    #[cfg_attr(not(feature = "bound-instruments"), allow(dead_code, reason = "read with bound-instruments"))]
    binds: bool,
    metric_attrs: Vec<KeyValue>,
    semconv: Semconv,
    capture: CaptureContent,
    max_chars: Option<usize>,
    propagate: bool,
    server: Option<(Arc<str>, u16)>,
    start: Instant,
    last_chunk: Option<Instant>,
    /// `tpoc` bound to `metric_attrs`, made at the second chunk (feature `bound-instruments`).
    #[cfg(feature = "bound-instruments")]
    tpoc_bound: Option<opentelemetry::metrics::BoundHistogram<f64>>,
}

/// The GenAI span of one call (a no-op when telemetry is disabled for the client).
pub(crate) struct CallSpan {
    inner: Option<Box<Inner>>,
}

impl CallSpan {
    /// A span that records nothing.
    pub fn disabled() -> Self {
        CallSpan { inner: None }
    }

    /// Start the span of a call.
    ///
    /// The attributes a sampler may look at (the metric attributes) are given at creation; the others
    /// are built only when the span records, so that with no SDK installed a call pays for no more than
    /// its metric attributes.
    pub fn start(config: &TelemetryConfig, info: &CallInfo) -> Self {
        if config.enabled == Some(false) {
            return CallSpan::disabled();
        }
        let semconv = config.semconv.unwrap_or_default();
        let tracer = match &config.tracer_provider {
            Some(p) => BoxedTracer::new(p.boxed_tracer(scope())),
            None => global::tracer_with_scope(scope()),
        };
        let (instruments, binds) = config.instruments.get(config, semconv);
        let (op, output_type) = super::operation_name(info.modality, info.operation);
        let server = server_of(&info.url).map(|(host, port)| (Arc::<str>::from(host), port));
        let mut metric_attrs = Vec::with_capacity(6);
        metric_attrs.push(KeyValue::new(n::OPERATION_NAME, op));
        metric_attrs.push(KeyValue::new(n::PROVIDER_NAME, info.provider_name));
        metric_attrs.push(KeyValue::new(n::REQUEST_MODEL, Arc::<str>::from(info.model.as_str())));
        if let Some((host, port)) = &server {
            metric_attrs.push(KeyValue::new(n::SERVER_ADDRESS, host.clone()));
            metric_attrs.push(KeyValue::new(n::SERVER_PORT, i64::from(*port)));
        }
        let capture = config.capture.unwrap_or_default();
        let name = format!("{op} {}", info.model);
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(metric_attrs.clone())
            .start_with_context(&tracer, &Context::current());
        let cx = Context::current_with_span(span);
        if cx.span().is_recording() {
            let (attrs, event_attrs) = span_attributes(info, output_type, capture);
            let span = cx.span();
            span.set_attributes(attrs);
            if !event_attrs.is_empty() {
                span.add_event(n::EVENT_OPERATION_DETAILS, event_attrs);
            }
        }
        CallSpan {
            inner: Some(Box::new(Inner {
                cx,
                tracer,
                instruments,
                binds,
                metric_attrs,
                semconv,
                capture,
                max_chars: config.max_content_chars,
                propagate: config.propagate.unwrap_or(true),
                server,
                start: Instant::now(),
                last_chunk: None,
                #[cfg(feature = "bound-instruments")]
                tpoc_bound: None,
            })),
        }
    }

    /// A child span for one HTTP attempt (`resend_count` 0 for the first).
    ///
    /// When the call span records, the attributes are given at creation (for samplers); when it does
    /// not (no SDK, or not sampled), they are built only if this span records after all.
    pub fn http_attempt(&self, method: &str, url: &str, resend_count: u32) -> HttpSpan {
        let Some(inner) = &self.inner else { return HttpSpan { span: None, cx: None } };
        let attrs = || {
            let mut attrs = vec![
                KeyValue::new(n::HTTP_REQUEST_METHOD, method.to_string()),
                KeyValue::new(n::URL_FULL, redact_url(url)),
            ];
            if let Some((host, port)) = &inner.server {
                attrs.push(KeyValue::new(n::SERVER_ADDRESS, host.clone()));
                attrs.push(KeyValue::new(n::SERVER_PORT, i64::from(*port)));
            }
            if resend_count > 0 {
                attrs.push(KeyValue::new(n::HTTP_REQUEST_RESEND_COUNT, i64::from(resend_count)));
            }
            attrs
        };
        let parent_records = inner.cx.span().is_recording();
        let mut builder = inner.tracer.span_builder(method.to_string()).with_kind(SpanKind::Client);
        if parent_records {
            builder = builder.with_attributes(attrs());
        }
        let mut span = builder.start_with_context(&inner.tracer, &inner.cx);
        if !parent_records && span.is_recording() {
            span.set_attributes(attrs());
        }
        let cx = inner.propagate.then(|| inner.cx.with_remote_span_context(span.span_context().clone()));
        HttpSpan { span: Some(span), cx }
    }

    fn finish(&mut self, f: impl FnOnce(&mut Inner)) {
        if let Some(mut inner) = self.inner.take() {
            f(&mut inner);
            inner.cx.span().end();
        }
    }

    /// The size of the vectors an embeddings call returned.
    pub fn embedding_dimensions(&mut self, count: usize) {
        if let Some(inner) = &self.inner {
            let span = inner.cx.span();
            if span.is_recording() {
                span.set_attribute(KeyValue::new(n::EMBEDDINGS_DIMENSION_COUNT, count as i64));
            }
        }
    }

    /// A usage report inside a long call (a live session's turn): an event `name` with the report's
    /// usage attributes, beside the total the span gets at its end.
    pub fn usage_event(&mut self, name: &'static str, usage: &Usage) {
        if let Some(inner) = &self.inner {
            let span = inner.cx.span();
            if span.is_recording() {
                span.add_event(name, usage_attributes(usage, inner.semconv));
            }
        }
    }

    /// The call succeeded with `out`.
    pub fn end_ok<C: Serialize>(&mut self, out: &Output<C>) {
        self.finish(|inner| {
            let span = inner.cx.span();
            if span.is_recording() {
                if let Some(id) = &out.metadata.response_id {
                    span.set_attribute(KeyValue::new(n::RESPONSE_ID, id.clone()));
                }
                if let Some(m) = &out.metadata.response_model {
                    span.set_attribute(KeyValue::new(n::RESPONSE_MODEL, m.clone()));
                }
                if let Some(f) = &out.finish_reason {
                    let reasons: Vec<opentelemetry::StringValue> = vec![f.kind.as_str().into()];
                    span.set_attribute(KeyValue::new(n::RESPONSE_FINISH_REASONS, Value::Array(reasons.into())));
                }
                span.set_attributes(usage_attributes(&out.usage, inner.semconv));
                if inner.capture != CaptureContent::Off
                    && let Some(json) = content::output_messages(out, inner.max_chars)
                {
                    let kv = KeyValue::new(n::OUTPUT_MESSAGES, json);
                    if inner.capture.on_event() {
                        span.add_event(n::EVENT_OPERATION_DETAILS, vec![kv.clone()]);
                    }
                    if inner.capture.on_span() {
                        span.set_attribute(kv);
                    }
                }
            }
            // The span ends here, so the metric attributes can be taken rather than copied.
            let mut attrs = std::mem::take(&mut inner.metric_attrs);
            if let Some(m) = &out.metadata.response_model {
                attrs.push(KeyValue::new(n::RESPONSE_MODEL, m.clone()));
            }
            inner.instruments.duration.record(inner.start.elapsed().as_secs_f64(), &attrs);
            record_tokens(&inner.instruments, attrs, &out.usage);
        });
    }

    /// The call failed with `err`.
    pub fn end_err(&mut self, err: &Error) {
        self.finish(|inner| {
            let span = inner.cx.span();
            let kind = err.kind();
            let description = error_description(err, inner.capture);
            // The conventions' exception event, with its type (`record_error` gives the message only);
            // the type is the same low-cardinality value as `error.type`.
            span.add_event(
                "exception",
                vec![KeyValue::new("exception.type", kind), KeyValue::new("exception.message", description.clone())],
            );
            span.set_attribute(KeyValue::new(n::ERROR_TYPE, kind));
            span.set_status(Status::error(description));
            let mut attrs = inner.metric_attrs.clone();
            // A reply that arrived but did not fit the declared type still consumed its tokens.
            if let Error::OutputValidation(e) = err {
                if span.is_recording() {
                    for kv in usage_attributes(&e.output.usage, inner.semconv) {
                        span.set_attribute(kv);
                    }
                }
                record_tokens(&inner.instruments, attrs.clone(), &e.output.usage);
            }
            attrs.push(KeyValue::new(n::ERROR_TYPE, kind));
            inner.instruments.duration.record(inner.start.elapsed().as_secs_f64(), &attrs);
        });
    }

    /// The call was abandoned (future or stream dropped): see the module docs for the rule.
    pub fn end_dropped(&mut self) {
        self.finish(|inner| {
            inner.cx.span().set_attribute(KeyValue::new(n::ERROR_TYPE, "cancelled"));
            let mut attrs = inner.metric_attrs.clone();
            attrs.push(KeyValue::new(n::ERROR_TYPE, "cancelled"));
            inner.instruments.duration.record(inner.start.elapsed().as_secs_f64(), &attrs);
        });
    }

    /// A chunk is being yielded, `received` being when its bytes were read: time to first chunk, then
    /// the gaps between chunks (0 between chunks that came in one read; no clock read per chunk).
    pub fn chunk(&mut self, received: Instant) {
        let Some(inner) = self.inner.as_mut() else { return };
        match inner.last_chunk.replace(received) {
            None => {
                let ttfc = received.saturating_duration_since(inner.start).as_secs_f64();
                inner.cx.span().set_attribute(KeyValue::new(n::RESPONSE_TIME_TO_FIRST_CHUNK, ttfc));
                inner.instruments.ttfc.record(ttfc, &inner.metric_attrs);
            }
            Some(prev) => {
                let gap = if prev == received { 0.0 } else { received.saturating_duration_since(prev).as_secs_f64() };
                #[cfg(feature = "bound-instruments")]
                if inner.binds {
                    let tpoc = &inner.instruments.tpoc;
                    inner.tpoc_bound.get_or_insert_with(|| tpoc.bind(&inner.metric_attrs)).record(gap);
                    return;
                }
                inner.instruments.tpoc.record(gap, &inner.metric_attrs);
            }
        }
    }
}

impl Drop for CallSpan {
    fn drop(&mut self) {
        self.end_dropped();
    }
}

impl<D, C: Serialize> Observer<D, C> for CallSpan {
    fn on_chunk(&mut self, _chunk: &Chunk<D>, received: Instant) {
        self.chunk(received);
    }

    fn on_end(&mut self, end: End<'_, C>) {
        match end {
            End::Completed(out) => self.end_ok(out),
            End::Failed(err) => self.end_err(err),
            End::Dropped => self.end_dropped(),
        }
    }
}

/// The call span's attributes beyond the metric ones, and the content event's attributes.
fn span_attributes(
    info: &CallInfo,
    output_type: Option<&'static str>,
    capture: CaptureContent,
) -> (Vec<KeyValue>, Vec<KeyValue>) {
    let mut attrs = vec![
        KeyValue::new(n::CELESTE_MODALITY, info.modality.as_str()),
        KeyValue::new(n::CELESTE_OPERATION, info.operation.as_str()),
    ];
    if let Some(t) = info.output_type.or(output_type) {
        attrs.push(KeyValue::new(n::OUTPUT_TYPE, t));
    }
    if info.stream {
        attrs.push(KeyValue::new(n::REQUEST_STREAM, true));
    }
    let p = &info.params;
    let mut f64_attr = |k: &'static str, v: Option<f64>| {
        if let Some(v) = v {
            attrs.push(KeyValue::new(k, v));
        }
    };
    f64_attr(n::REQUEST_TEMPERATURE, p.temperature);
    f64_attr(n::REQUEST_TOP_P, p.top_p);
    f64_attr(n::REQUEST_FREQUENCY_PENALTY, p.frequency_penalty);
    f64_attr(n::REQUEST_PRESENCE_PENALTY, p.presence_penalty);
    if let Some(v) = p.max_tokens {
        attrs.push(KeyValue::new(n::REQUEST_MAX_TOKENS, v as i64));
    }
    if let Some(v) = p.top_k {
        attrs.push(KeyValue::new(n::REQUEST_TOP_K, v as f64));
    }
    if let Some(v) = p.seed {
        attrs.push(KeyValue::new(n::REQUEST_SEED, v));
    }
    if !p.stop.is_empty() {
        let stops: Vec<opentelemetry::StringValue> = p.stop.iter().map(|s| s.clone().into()).collect();
        attrs.push(KeyValue::new(n::REQUEST_STOP_SEQUENCES, Value::Array(stops.into())));
    }
    let mut event_attrs = Vec::new();
    if let Some(c) = &info.content {
        let mut content_attrs = vec![KeyValue::new(n::INPUT_MESSAGES, c.messages.clone())];
        if let Some(s) = &c.system_instructions {
            content_attrs.push(KeyValue::new(n::SYSTEM_INSTRUCTIONS, s.clone()));
        }
        if let Some(t) = &c.tool_definitions {
            content_attrs.push(KeyValue::new(n::TOOL_DEFINITIONS, t.clone()));
        }
        if capture.on_span() {
            attrs.extend(content_attrs.iter().cloned());
        }
        if capture.on_event() {
            event_attrs = content_attrs;
        }
    }
    (attrs, event_attrs)
}

/// What a span records of an error (its status description and `exception.message`).
///
/// With content capture on, the error's whole message. With capture off, nothing the model wrote may
/// reach telemetry, and two kinds of error quote it: a decode error carries the undecodable event (and
/// serde's message, which quotes the offending value), and an output-validation error carries serde's
/// message about the model's reply. Those are described by their kind and safe fields only (what was
/// being decoded, what did not fit); the caller still has the whole payload on the `Error`. Every
/// other error's message is the library's own words, the provider's error message (already scrubbed
/// of the request's credentials), or the caller's input, and is recorded as it is.
fn error_description(err: &Error, capture: CaptureContent) -> String {
    if capture != CaptureContent::Off {
        return err.to_string();
    }
    match err {
        Error::Decode { what, .. } => format!("could not decode {what} (payload not recorded: content capture is off)"),
        Error::OutputValidation(e) => {
            format!("{} does not fit the declared type (details not recorded: content capture is off)", e.what)
        }
        other => other.to_string(),
    }
}

/// Usage as span attributes: the conventions' names where they exist, `celeste.usage.*` otherwise.
/// Absent fields stay absent.
fn usage_attributes(u: &Usage, semconv: Semconv) -> Vec<KeyValue> {
    let mut out = Vec::new();
    let mut int = |k: Cow<'static, str>, v: Option<u64>| {
        if let Some(v) = v {
            out.push(KeyValue::new(k, v as i64));
        }
    };
    int(n::USAGE_INPUT_TOKENS.into(), u.input_tokens);
    int(n::USAGE_OUTPUT_TOKENS.into(), u.output_tokens);
    int(n::USAGE_CACHE_READ.into(), u.cache_read_tokens);
    int(semconv.cache_write_attr().into(), u.cache_creation_tokens);
    int(n::USAGE_REASONING.into(), u.reasoning_tokens);
    int(format!("{}total_tokens", n::CELESTE_USAGE_PREFIX).into(), u.total_tokens);
    int(format!("{}num_images", n::CELESTE_USAGE_PREFIX).into(), u.images);
    for (name, v) in [
        ("billed_units", u.billed_units),
        ("input_mp", u.input_megapixels),
        ("output_mp", u.output_megapixels),
        ("seconds", u.seconds),
    ] {
        if let Some(v) = v {
            out.push(KeyValue::new(format!("{}{name}", n::CELESTE_USAGE_PREFIX), v));
        }
    }
    out
}

fn record_tokens(inst: &Instruments, mut attrs: Vec<KeyValue>, u: &Usage) {
    if let Some(h) = &inst.tokens {
        for (kind, v) in [("input", u.input_tokens), ("output", u.output_tokens)] {
            if let Some(v) = v {
                attrs.push(KeyValue::new(n::TOKEN_TYPE, kind));
                h.record(v, &attrs);
                attrs.pop();
            }
        }
    }
    // The newer conventions record every inference, with 0 and modality `unknown` when no usage came.
    for (counter, v) in [(&inst.input_tokens, u.input_tokens), (&inst.output_tokens, u.output_tokens)] {
        if let Some(c) = counter {
            attrs.push(KeyValue::new(n::TOKEN_MODALITY, if v.is_some() { "text" } else { "unknown" }));
            c.add(v.unwrap_or(0), &attrs);
            attrs.pop();
        }
    }
}

/// The span of one HTTP attempt; ends on drop.
pub(crate) struct HttpSpan {
    span: Option<BoxedSpan>,
    cx: Option<Context>,
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(key.as_bytes()), HeaderValue::from_str(&value)) {
            self.0.insert(k, v);
        }
    }
}

impl HttpSpan {
    /// Add W3C trace context headers (through the global propagator) for this attempt.
    pub fn inject(&self, headers: &mut HeaderMap) {
        if let Some(cx) = &self.cx {
            global::get_text_map_propagator(|p| p.inject_context(cx, &mut HeaderInjector(headers)));
        }
    }

    /// The attempt got a response.
    pub fn status(&mut self, status: u16) {
        if let Some(s) = self.span.as_mut() {
            s.set_attribute(KeyValue::new(n::HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
            if status >= 400 {
                s.set_attribute(KeyValue::new(n::ERROR_TYPE, status.to_string()));
                s.set_status(Status::error(format!("HTTP {status}")));
            }
        }
    }

    /// The attempt failed without a response.
    pub fn error(&mut self, err: &Error) {
        if let Some(s) = self.span.as_mut() {
            s.set_attribute(KeyValue::new(n::ERROR_TYPE, err.kind()));
            // An attempt fails before any body is read; the call's capture setting is not at hand, so
            // the attempt records what capture off allows.
            s.set_status(Status::error(error_description(err, CaptureContent::Off)));
        }
    }
}

impl Drop for HttpSpan {
    fn drop(&mut self) {
        if let Some(mut s) = self.span.take() {
            s.end();
        }
    }
}

impl crate::transport::AttemptObserver for CallSpan {
    type Attempt = HttpSpan;
    fn attempt(&self, method: &str, url: &str, resend_count: u32) -> HttpSpan {
        self.http_attempt(method, url, resend_count)
    }
}

impl crate::transport::Attempt for HttpSpan {
    fn inject(&self, headers: &mut HeaderMap) {
        HttpSpan::inject(self, headers);
    }
    fn status(&mut self, status: u16) {
        HttpSpan::status(self, status);
    }
    fn error(&mut self, err: &Error) {
        HttpSpan::error(self, err);
    }
}
