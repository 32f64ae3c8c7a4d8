//! OpenTelemetry GenAI telemetry: one span and the GenAI metrics for every call, unary or streaming,
//! async or blocking, finished, dropped, failed or cancelled.
//!
//! The library uses the `opentelemetry` API crate only, so it is silent until the application installs
//! an SDK (globally, or per client with [`TelemetryConfig`]). The `telemetry` cargo feature (on by
//! default) compiles all of it out when disabled.
//!
//! # What is emitted
//! - A CLIENT span `{operation} {model}` per call, covering retries and, for streams, the whole stream.
//!   Operation names: text → `chat`; embeddings → `embeddings`; images, audio and video →
//!   `generate_content` with `gen_ai.output.type` = `image`, `speech` or `video` (transcription:
//!   `generate_content` with output type `text`); segmentation and decisions → `generate_content`
//!   with `json`.
//!   `celeste.modality` and `celeste.operation` say which celeste operation it was.
//! - A CLIENT child span per HTTP attempt (`POST`, `url.full` without credentials,
//!   `http.request.resend_count` on retries), and W3C `traceparent` injected through the global
//!   propagator (when the application set one).
//! - Metrics: `gen_ai.client.operation.duration`, `gen_ai.client.token.usage` (input and output),
//!   and on streams `gen_ai.client.operation.time_to_first_chunk` and `…time_per_output_chunk`. A chunk's
//!   time is when the network read that carried it returned, so chunks that arrived together are 0 s
//!   apart and a slow consumer does not stretch the gaps.
//! - On failure: status Error with the error's message (never a secret) and `error.type` = the
//!   error's [`kind`](crate::Error::kind) (`429`, `timeout`, `stream_event`, ...).
//! - **Abandonment rule**: a stream dropped before its terminal event, or a call whose future is dropped
//!   before it finishes, ends its span with status Unset and `error.type = "cancelled"` on the span and
//!   the duration metric; no usage is recorded. A stream dropped after its terminal event arrived counts
//!   as completed, with usage.
//! - Content (messages, system instructions, tool definitions) only when opted in:
//!   `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` (or, with
//!   `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`, `SPAN_ONLY`, `EVENT_ONLY`,
//!   `SPAN_AND_EVENT`), or [`TelemetryConfig::capture_content`]. Media travel by reference (URI and MIME
//!   type), never as bytes.

#[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
pub mod content;
#[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
pub mod names;
#[cfg(feature = "telemetry")]
mod span;
#[cfg(not(feature = "telemetry"))]
#[path = "noop.rs"]
mod span;

use std::fmt;
use std::sync::Arc;

pub(crate) use span::CallSpan;

pub use names::Semconv;

use crate::types::enums::{Modality, Operation};

/// Where captured message content goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CaptureContent {
    /// Nothing is captured (the default).
    #[default]
    Off,
    /// On span attributes.
    Span,
    /// On a `gen_ai.client.inference.operation.details` span event.
    Event,
    /// Both.
    SpanAndEvent,
}

impl CaptureContent {
    /// The choice the environment makes, under the given conventions.
    pub fn from_env(semconv: Semconv) -> Self {
        let Ok(v) = std::env::var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT") else {
            return CaptureContent::Off;
        };
        let v = v.trim().to_ascii_lowercase();
        match (semconv, v.as_str()) {
            (_, "true" | "span_only") => CaptureContent::Span,
            (Semconv::Latest, "event_only") => CaptureContent::Event,
            (Semconv::Latest, "span_and_event") => CaptureContent::SpanAndEvent,
            (_, "false" | "no_content" | "") => CaptureContent::Off,
            _ => {
                tracing::warn!(value = %v, "unrecognised OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT; content capture stays off");
                CaptureContent::Off
            }
        }
    }

    #[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
    pub(crate) fn on_span(self) -> bool {
        matches!(self, CaptureContent::Span | CaptureContent::SpanAndEvent)
    }

    #[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
    pub(crate) fn on_event(self) -> bool {
        matches!(self, CaptureContent::Event | CaptureContent::SpanAndEvent)
    }
}

/// Telemetry settings of a [`Client`](crate::Client).
#[derive(Clone, Default)]
#[must_use]
pub struct TelemetryConfig {
    #[cfg(feature = "telemetry")]
    pub(crate) tracer_provider: Option<Arc<dyn opentelemetry::global::ObjectSafeTracerProvider + Send + Sync>>,
    #[cfg(feature = "telemetry")]
    pub(crate) meter_provider: Option<Arc<dyn opentelemetry::metrics::MeterProvider + Send + Sync>>,
    /// Whether `meter_provider` is known to implement bound instruments (see `span::provider_binds`).
    #[cfg(feature = "telemetry")]
    pub(crate) meter_provider_binds: bool,
    /// The metric instruments, made once per meter provider (shared by clones of this config).
    #[cfg(feature = "telemetry")]
    pub(crate) instruments: Arc<span::InstrumentCache>,
    pub(crate) capture: Option<CaptureContent>,
    pub(crate) semconv: Option<Semconv>,
    pub(crate) propagate: Option<bool>,
    pub(crate) max_content_chars: Option<usize>,
    pub(crate) enabled: Option<bool>,
    _private: Option<Arc<()>>,
}

impl fmt::Debug for TelemetryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryConfig")
            .field("capture", &self.capture)
            .field("semconv", &self.semconv)
            .field("propagate", &self.propagate)
            .field("max_content_chars", &self.max_content_chars)
            .finish_non_exhaustive()
    }
}

impl TelemetryConfig {
    /// Defaults: the global providers, settings from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use this tracer provider instead of the global one (tests, multi-tenant apps).
    #[cfg(feature = "telemetry")]
    pub fn tracer_provider<P>(mut self, provider: P) -> Self
    where
        P: opentelemetry::global::ObjectSafeTracerProvider + Send + Sync + 'static,
    {
        self.tracer_provider = Some(Arc::new(provider));
        self
    }

    /// Use this meter provider instead of the global one.
    #[cfg(feature = "telemetry")]
    pub fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: opentelemetry::metrics::MeterProvider + Send + Sync + 'static,
    {
        self.meter_provider_binds = span_binds::<P>();
        self.meter_provider = Some(Arc::new(provider));
        self
    }

    /// Capture message content (overrides the environment).
    pub fn capture_content(mut self, mode: CaptureContent) -> Self {
        self.capture = Some(mode);
        self
    }

    /// Choose the conventions version (overrides `OTEL_SEMCONV_STABILITY_OPT_IN`).
    pub fn semconv(mut self, s: Semconv) -> Self {
        self.semconv = Some(s);
        self
    }

    /// Inject W3C trace context into provider requests (default true; uses the global propagator).
    pub fn propagate_context(mut self, on: bool) -> Self {
        self.propagate = Some(on);
        self
    }

    /// Truncate each captured text to this many characters (default: no truncation).
    pub fn max_content_chars(mut self, n: usize) -> Self {
        self.max_content_chars = Some(n);
        self
    }

    /// Turn telemetry off for this client entirely.
    pub fn disabled(mut self) -> Self {
        self.enabled = Some(false);
        self
    }

    /// Resolve environment-dependent settings once, when the client is built.
    pub(crate) fn resolve(mut self) -> Self {
        let semconv = self.semconv.unwrap_or_else(Semconv::from_env);
        self.semconv = Some(semconv);
        self.capture = Some(self.capture.unwrap_or_else(|| CaptureContent::from_env(semconv)));
        self.propagate = Some(self.propagate.unwrap_or(true));
        self.enabled = Some(self.enabled.unwrap_or(true));
        self
    }
}

/// Whether a meter provider of type `P` implements bound instruments: only `opentelemetry_sdk`'s, whose
/// bound-instrument feature celeste's `bound-instruments` feature turns on.
#[cfg(feature = "telemetry")]
fn span_binds<P: 'static>() -> bool {
    #[cfg(feature = "bound-instruments")]
    {
        std::any::TypeId::of::<P>() == std::any::TypeId::of::<opentelemetry_sdk::metrics::SdkMeterProvider>()
    }
    #[cfg(not(feature = "bound-instruments"))]
    false
}

/// Install `provider` as the global meter provider, like `opentelemetry::global::set_meter_provider`,
/// and let celeste take the fast path for it.
///
/// `gen_ai.client.operation.time_per_output_chunk` is recorded once per chunk (the conventions' rule).
/// When celeste knows the meter provider is `opentelemetry_sdk`'s (installed through this function, or
/// given per client with [`TelemetryConfig::meter_provider`]) and the `bound-instruments` feature is on
/// (the default), those records go through a histogram bound to the call's attributes, so the SDK looks
/// the attributes up once per stream instead of once per chunk. A global provider installed any other
/// way gets the same records through the ordinary, slower path: celeste cannot tell whether it
/// implements bound instruments, and one that does not would drop bound records.
#[cfg(feature = "telemetry")]
pub fn set_global_meter_provider<P>(provider: P)
where
    P: opentelemetry::metrics::MeterProvider + Send + Sync + 'static,
{
    opentelemetry::global::set_meter_provider(provider);
    span::note_global_binds(span_binds::<P>());
}

/// The GenAI operation name and output type for a celeste modality and operation.
#[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
pub(crate) fn operation_name(modality: Modality, operation: Operation) -> (&'static str, Option<&'static str>) {
    match (modality, operation) {
        (Modality::Text, _) => ("chat", None),
        (Modality::Embeddings, _) => ("embeddings", None),
        (Modality::Images, _) => ("generate_content", Some("image")),
        (Modality::Audio, Operation::Transcribe) => ("generate_content", Some("text")),
        (Modality::Audio, _) => ("generate_content", Some("speech")),
        (Modality::Videos, _) => ("generate_content", Some("video")),
        (Modality::Segmentation, _) => ("generate_content", Some("json")),
        // The conventions have no realtime operation: the closest conventional name (the
        // reference's span is `celeste.live {model}`; see ARCHITECTURE.md).
        (Modality::Live, _) => ("generate_content", Some("speech")),
        // Decisions are structured answers: the conventions have no decision operation, and
        // `generate_content` with output type `json` is the nearest (the reference's span is
        // `celeste.decision {model}`; see ARCHITECTURE.md).
        (Modality::Decision, _) => ("generate_content", Some("json")),
    }
}

/// Everything known about a call when its span starts.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
pub(crate) struct CallInfo {
    pub modality: Modality,
    pub operation: Operation,
    pub provider_name: &'static str,
    pub model: String,
    pub url: String,
    pub stream: bool,
    pub output_type: Option<&'static str>,
    pub params: crate::types::text::TextParams,
    /// Captured input content, built only when capture is on.
    pub content: Option<content::InputContent>,
}

/// `server.address` and `server.port` of a URL.
#[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "read by the OpenTelemetry implementation"))]
pub(crate) fn server_of(url: &str) -> Option<(String, u16)> {
    let u = crate::transport::urls::parse(url)?;
    Some((u.host_str()?.to_string(), u.port_or_known_default()?))
}

#[cfg(all(test, feature = "telemetry"))]
pub(crate) mod tests;

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn urls_lose_credentials() {
        assert_eq!(server_of("http://127.0.0.1:8080/v1"), Some(("127.0.0.1".into(), 8080)));
        assert_eq!(server_of("https://api.openai.com/v1"), Some(("api.openai.com".into(), 443)));
    }

    #[test]
    fn operation_names() {
        assert_eq!(operation_name(Modality::Text, Operation::Analyze), ("chat", None));
        assert_eq!(operation_name(Modality::Images, Operation::Edit), ("generate_content", Some("image")));
        assert_eq!(operation_name(Modality::Audio, Operation::Speak), ("generate_content", Some("speech")));
        assert_eq!(operation_name(Modality::Decision, Operation::Decide), ("generate_content", Some("json")));
    }
}
