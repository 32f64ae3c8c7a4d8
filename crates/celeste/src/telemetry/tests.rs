//! Telemetry lifecycle tests with the SDK's in-memory exporters (never the global providers).

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;

use super::names as n;
use super::*;
use crate::error::{Error, Origin};
use crate::stream::{Framing, Stream, StreamParts};
use crate::transport::sse::SseDecoder;
use crate::types::enums::Provider;
use crate::types::text::TextParams;
use crate::wire::{WireContext, openresponses::ResponsesDecoder};

pub(crate) struct Otel {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    tp: SdkTracerProvider,
    mp: SdkMeterProvider,
}

impl Otel {
    pub(crate) fn new() -> Self {
        let spans = InMemorySpanExporter::default();
        let metrics = InMemoryMetricExporter::default();
        let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let mp = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics.clone()).build()).build();
        Otel { spans, metrics, tp, mp }
    }

    pub(crate) fn config(&self) -> TelemetryConfig {
        TelemetryConfig::new().tracer_provider(self.tp.clone()).meter_provider(self.mp.clone()).semconv(Semconv::V1_41)
    }

    pub(crate) fn spans(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().unwrap()
    }

    /// Histogram data points of a metric: (attributes, count, sum).
    pub(crate) fn histogram(&self, name: &str) -> Vec<(HashMap<String, String>, u64, f64)> {
        // Cumulative temporality: the latest export holds the totals, so read only that one.
        self.metrics.reset();
        self.mp.force_flush().unwrap();
        let mut out = Vec::new();
        for rm in self.metrics.get_finished_metrics().unwrap() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics().filter(|m| m.name() == name) {
                    match m.data() {
                        AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                            for dp in h.data_points() {
                                out.push((attrs(dp.attributes()), dp.count(), dp.sum()));
                            }
                        }
                        AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                            for dp in h.data_points() {
                                out.push((attrs(dp.attributes()), dp.count(), dp.sum() as f64));
                            }
                        }
                        AggregatedMetrics::U64(MetricData::Sum(s)) => {
                            for dp in s.data_points() {
                                out.push((attrs(dp.attributes()), 1, dp.value() as f64));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}

fn attrs<'a>(it: impl Iterator<Item = &'a KeyValue>) -> HashMap<String, String> {
    it.map(|kv| (kv.key.to_string(), kv.value.to_string())).collect()
}

pub(crate) fn span_attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

fn info(stream: bool) -> CallInfo {
    CallInfo {
        modality: Modality::Text,
        operation: Operation::Generate,
        provider_name: "openai",
        model: "gpt-5-mini".into(),
        url: "https://api.openai.com/v1/responses".into(),
        stream,
        output_type: None,
        params: TextParams { temperature: Some(0.5), max_tokens: Some(64), ..TextParams::default() },
        content: None,
    }
}

fn sse(events: &[serde_json::Value]) -> Vec<Bytes> {
    events.iter().map(|e| Bytes::from(format!("data: {e}\n\n"))).collect()
}

fn text_events(with_completion: bool) -> Vec<serde_json::Value> {
    let mut v = vec![
        json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5-mini", "status": "in_progress"}}),
        json!({"type": "response.output_text.delta", "delta": "Hel"}),
        json!({"type": "response.output_text.delta", "delta": "lo"}),
    ];
    if with_completion {
        v.push(json!({"type": "response.completed", "response": {"id": "resp_1", "model": "gpt-5-mini-2025", "status": "completed",
            "usage": {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9,
                      "input_tokens_details": {"cached_tokens": 3}, "output_tokens_details": {"reasoning_tokens": 1}}}}));
    }
    v
}

fn stream_of(otel: &Otel, body: Vec<Bytes>) -> Stream<String, String> {
    stream_of_with(otel, body, CaptureContent::Off)
}

fn stream_of_with(otel: &Otel, body: Vec<Bytes>, capture: CaptureContent) -> Stream<String, String> {
    let cfg = otel.config().capture_content(capture).resolve();
    let span = CallSpan::start(&cfg, &info(true));
    let ctx = WireContext {
        origin: Origin::Provider(Provider::OpenAi),
        model: "gpt-5-mini".into(),
        operation: Operation::Generate,
    };
    Stream::from_body(
        Box::pin(futures::stream::iter(body.into_iter().map(Ok))),
        StreamParts {
            origin: ctx.origin,
            framing: Framing::Sse(SseDecoder::new(1 << 20)),
            decoder: Box::new(ResponsesDecoder::new(ctx)),
            idle: Duration::from_secs(5),
            deadline: None,
            connect_limit: Duration::from_secs(5),
            observer: Some(Box::new(span)),
        },
    )
}

#[tokio::test]
async fn exhausted_stream_has_one_span_with_usage_and_ttfc() {
    let otel = Otel::new();
    let mut s = stream_of(&otel, sse(&text_events(true)));
    let mut text = String::new();
    while let Some(c) = s.next().await {
        text.push_str(&c.unwrap().content);
    }
    assert_eq!(text, "Hello");
    assert_eq!(s.output().unwrap().usage.input_tokens, Some(7));
    drop(s);
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    let sp = &spans[0];
    assert_eq!(sp.name, "chat gpt-5-mini");
    assert_eq!(sp.span_kind, SpanKind::Client);
    assert_eq!(sp.status, Status::Unset);
    let get = |k| span_attr(sp, k).map(|v| v.to_string());
    assert_eq!(get(n::OPERATION_NAME).as_deref(), Some("chat"));
    assert_eq!(get(n::PROVIDER_NAME).as_deref(), Some("openai"));
    assert_eq!(get(n::REQUEST_MODEL).as_deref(), Some("gpt-5-mini"));
    assert_eq!(get(n::REQUEST_STREAM).as_deref(), Some("true"));
    assert_eq!(get(n::REQUEST_TEMPERATURE).as_deref(), Some("0.5"));
    assert_eq!(get(n::REQUEST_MAX_TOKENS).as_deref(), Some("64"));
    assert_eq!(get(n::SERVER_ADDRESS).as_deref(), Some("api.openai.com"));
    assert_eq!(get(n::SERVER_PORT).as_deref(), Some("443"));
    assert_eq!(get(n::USAGE_INPUT_TOKENS).as_deref(), Some("7"));
    assert_eq!(get(n::USAGE_OUTPUT_TOKENS).as_deref(), Some("2"));
    assert_eq!(get(n::USAGE_CACHE_READ).as_deref(), Some("3"));
    assert_eq!(get(n::USAGE_REASONING).as_deref(), Some("1"));
    assert_eq!(get("celeste.usage.total_tokens").as_deref(), Some("9"));
    assert_eq!(get(n::RESPONSE_ID).as_deref(), Some("resp_1"));
    assert_eq!(get(n::RESPONSE_MODEL).as_deref(), Some("gpt-5-mini-2025"));
    assert_eq!(get(n::RESPONSE_FINISH_REASONS).as_deref(), Some("[\"stop\"]"));
    assert!(get(n::RESPONSE_TIME_TO_FIRST_CHUNK).is_some());
    assert!(get(n::ERROR_TYPE).is_none());
    // The off-spec names of the reference are not emitted.
    assert!(get("gen_ai.usage.cached_input_tokens").is_none());
    assert!(get("gen_ai.usage.reasoning_tokens").is_none());

    let durations = otel.histogram(n::METRIC_OPERATION_DURATION);
    assert_eq!(durations.len(), 1);
    assert!(!durations[0].0.contains_key(n::ERROR_TYPE));
    let tokens = otel.histogram(n::METRIC_TOKEN_USAGE);
    let mut by_type: Vec<(String, f64)> = tokens.iter().map(|(a, _, s)| (a[n::TOKEN_TYPE].clone(), *s)).collect();
    by_type.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(by_type, [("input".to_string(), 7.0), ("output".to_string(), 2.0)]);
    for (a, _, _) in &tokens {
        assert!(!a.contains_key(n::RESPONSE_ID), "no ids on metrics");
    }
    assert_eq!(otel.histogram(n::METRIC_TIME_TO_FIRST_CHUNK)[0].1, 1);
    // Three chunks after the first (second delta, usage chunk): two gaps, with the call's attributes
    // (also when they go through a bound histogram, feature `bound-instruments`).
    let tpoc = otel.histogram(n::METRIC_TIME_PER_OUTPUT_CHUNK);
    assert_eq!(tpoc.len(), 1);
    assert_eq!(tpoc[0].1, 2);
    assert!(tpoc[0].0.contains_key(n::REQUEST_MODEL) && tpoc[0].0.contains_key(n::PROVIDER_NAME), "{tpoc:?}");
}

#[tokio::test]
async fn drop_mid_stream_ends_once_without_error_status_or_usage() {
    let otel = Otel::new();
    let mut s = stream_of(&otel, sse(&text_events(false)));
    assert_eq!(s.next().await.unwrap().unwrap().content, "Hel");
    drop(s);
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(span_attr(&spans[0], n::ERROR_TYPE).map(|v| v.to_string()).as_deref(), Some("cancelled"));
    assert!(span_attr(&spans[0], n::USAGE_INPUT_TOKENS).is_none());
    let d = otel.histogram(n::METRIC_OPERATION_DURATION);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0.get(n::ERROR_TYPE).map(String::as_str), Some("cancelled"));
    assert!(otel.histogram(n::METRIC_TOKEN_USAGE).is_empty());
}

#[tokio::test]
async fn drop_after_the_terminal_event_counts_as_completed() {
    let otel = Otel::new();
    let mut s = stream_of(&otel, sse(&text_events(true)));
    // Read up to and including the usage chunk, then stop before the final `None`.
    for _ in 0..3 {
        s.next().await.unwrap().unwrap();
    }
    drop(s);
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    assert!(span_attr(&spans[0], n::ERROR_TYPE).is_none());
    assert_eq!(span_attr(&spans[0], n::USAGE_INPUT_TOKENS).map(|v| v.to_string()).as_deref(), Some("7"));
}

#[tokio::test]
async fn error_mid_stream_sets_error_status_exception_and_type() {
    let otel = Otel::new();
    let mut events = text_events(false);
    events.push(json!({"type": "error", "code": "server_error", "message": "boom"}));
    let mut s = stream_of(&otel, sse(&events));
    let mut items = Vec::new();
    while let Some(item) = s.next().await {
        items.push(item);
    }
    assert!(items[..2].iter().all(Result::is_ok));
    assert!(matches!(items[2], Err(Error::StreamEvent(_))));
    assert!(matches!(s.output(), Err(Error::StreamNotExhausted)));
    drop(s);
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    assert!(matches!(&spans[0].status, Status::Error { description } if description.contains("boom")));
    assert_eq!(span_attr(&spans[0], n::ERROR_TYPE).map(|v| v.to_string()).as_deref(), Some("stream_event"));
    let exception = spans[0].events.iter().find(|e| e.name == "exception").expect("an exception event");
    let attr = |k: &str| exception.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string());
    assert_eq!(attr("exception.type").as_deref(), Some("stream_event"));
    assert!(attr("exception.message").is_some_and(|m| m.contains("boom")));
    let d = otel.histogram(n::METRIC_OPERATION_DURATION);
    assert_eq!(d[0].0.get(n::ERROR_TYPE).map(String::as_str), Some("stream_event"));
}

/// The status description and `exception.message` of the one span `otel` holds.
fn recorded_error(otel: &Otel) -> (String, String) {
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    let Status::Error { description } = &spans[0].status else { panic!("{:?}", spans[0].status) };
    let exception = spans[0].events.iter().find(|e| e.name == "exception").expect("an exception event");
    let message = exception.attributes.iter().find(|kv| kv.key.as_str() == "exception.message").unwrap();
    (description.to_string(), message.value.to_string())
}

#[tokio::test]
async fn with_capture_off_a_decode_error_records_no_model_text() {
    // An event that does not decode: its text is the model's, and the error carries it.
    let mut body = sse(&text_events(false));
    body.push(Bytes::from("data: {\"type\": \"response.output_text.delta\", \"delta\": \"MODEL-SECRET\"\n\n"));
    for (capture, recorded) in [(CaptureContent::Off, false), (CaptureContent::Span, true)] {
        let otel = Otel::new();
        let mut s = stream_of_with(&otel, body.clone(), capture);
        let mut err = None;
        while let Some(item) = s.next().await {
            if let Err(e) = item {
                err = Some(e);
            }
        }
        drop(s);
        let err = err.expect("a decode error");
        assert_eq!(err.kind(), "decode");
        // The caller keeps the whole payload.
        assert!(err.to_string().contains("MODEL-SECRET"), "{err}");
        let (description, message) = recorded_error(&otel);
        for text in [&description, &message] {
            assert_eq!(text.contains("MODEL-SECRET"), recorded, "{capture:?}: {text}");
            assert!(text.contains("could not decode openresponses stream event"), "{text}");
        }
    }
}

#[test]
fn with_capture_off_an_output_validation_error_records_no_model_text() {
    use crate::error::OutputValidationError;
    let output = crate::types::Output::new(
        "{\"city\": \"MODEL-SECRET\"}".to_string(),
        crate::types::Metadata::new("m", None, Modality::Text),
    );
    let err = Error::OutputValidation(Box::new(OutputValidationError {
        what: "the structured output".into(),
        message: "invalid type: string \"MODEL-SECRET\", expected u32".into(),
        output,
    }));
    for (capture, recorded) in [(CaptureContent::Off, false), (CaptureContent::Event, true)] {
        let otel = Otel::new();
        let cfg = otel.config().capture_content(capture).resolve();
        CallSpan::start(&cfg, &info(false)).end_err(&err);
        let (description, message) = recorded_error(&otel);
        for text in [&description, &message] {
            assert_eq!(text.contains("MODEL-SECRET"), recorded, "{capture:?}: {text}");
            assert!(text.contains("the structured output does not fit the declared type"), "{text}");
        }
    }
}

#[tokio::test]
async fn truncated_stream_is_an_error_span() {
    let otel = Otel::new();
    let mut s = stream_of(&otel, sse(&text_events(false)));
    let mut last = None;
    while let Some(item) = s.next().await {
        last = Some(item);
    }
    assert!(matches!(last, Some(Err(Error::StreamTruncated { .. }))));
    drop(s);
    assert_eq!(span_attr(&otel.spans()[0], n::ERROR_TYPE).map(|v| v.to_string()).as_deref(), Some("stream_truncated"));
}

#[test]
fn unary_span_dropped_before_the_end_is_cancelled_once() {
    let otel = Otel::new();
    let cfg = otel.config().resolve();
    let span = CallSpan::start(&cfg, &info(false));
    drop(span);
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    assert!(span_attr(&spans[0], n::REQUEST_STREAM).is_none());
    assert_eq!(span_attr(&spans[0], n::ERROR_TYPE).map(|v| v.to_string()).as_deref(), Some("cancelled"));
}

#[test]
fn http_attempt_spans_nest_under_the_call_span() {
    let otel = Otel::new();
    let cfg = otel.config().resolve();
    let mut call = CallSpan::start(&cfg, &info(false));
    {
        let mut a = call.http_attempt("POST", "https://api.openai.com/v1/responses?key=sk-canary", 0);
        a.status(503);
        let mut b = call.http_attempt("POST", "https://api.openai.com/v1/responses?key=sk-canary", 1);
        b.status(200);
    }
    call.end_err(&Error::InvalidInput("x".into()));
    let spans = otel.spans();
    assert_eq!(spans.len(), 3);
    let parent = spans.iter().find(|s| s.name.starts_with("chat")).unwrap();
    let mut children: Vec<&SpanData> = spans.iter().filter(|s| s.name == "POST").collect();
    children.sort_by_key(|s| span_attr(s, n::HTTP_REQUEST_RESEND_COUNT).map(|v| v.to_string()));
    assert_eq!(children.len(), 2);
    for c in &children {
        assert_eq!(c.parent_span_id, parent.span_context.span_id());
        assert_eq!(c.span_kind, SpanKind::Client);
        let url = span_attr(c, n::URL_FULL).unwrap().to_string();
        assert!(!url.contains("canary"), "{url}");
    }
    assert!(span_attr(children[0], n::HTTP_REQUEST_RESEND_COUNT).is_none());
    assert_eq!(span_attr(children[1], n::HTTP_REQUEST_RESEND_COUNT).map(|v| v.to_string()).as_deref(), Some("1"));
    assert_eq!(span_attr(children[0], n::HTTP_RESPONSE_STATUS_CODE).map(|v| v.to_string()).as_deref(), Some("503"));
}

#[test]
fn content_capture_is_off_by_default_and_by_reference_when_on() {
    let otel = Otel::new();
    let mut i = info(false);
    i.content = Some(content::input_messages(&[crate::types::Message::user("secret prompt").into()], &[], None));
    // Capture off: even if content were built, nothing is recorded.
    let cfg = otel.config().capture_content(CaptureContent::Off).resolve();
    CallSpan::start(&cfg, &i).end_ok(&crate::types::Output::new(
        "answer".to_string(),
        crate::types::Metadata::new("m", None, Modality::Text),
    ));
    let cfg = otel.config().capture_content(CaptureContent::Span).resolve();
    CallSpan::start(&cfg, &i).end_ok(&crate::types::Output::new(
        "answer".to_string(),
        crate::types::Metadata::new("m", None, Modality::Text),
    ));
    let spans = otel.spans();
    assert!(span_attr(&spans[0], n::INPUT_MESSAGES).is_none());
    assert!(span_attr(&spans[0], n::OUTPUT_MESSAGES).is_none());
    let input = span_attr(&spans[1], n::INPUT_MESSAGES).unwrap().to_string();
    assert!(input.contains("secret prompt"));
    let output = span_attr(&spans[1], n::OUTPUT_MESSAGES).unwrap().to_string();
    assert!(output.contains("answer"));
    assert!(span_attr(&spans[1], n::SYSTEM_INSTRUCTIONS).is_none(), "no system instruction was given");
}

#[test]
fn system_instructions_are_captured_apart_from_the_history() {
    use crate::types::Message;
    let otel = Otel::new();
    let mut i = info(false);
    let items =
        [Message::system("be brief").into(), Message::developer("use metric").into(), Message::user("hi").into()];
    i.content = Some(content::input_messages(&items, &[], None));
    let cfg = otel.config().capture_content(CaptureContent::Span).resolve();
    let out = crate::types::Output::new("a".to_string(), crate::types::Metadata::new("m", None, Modality::Text));
    CallSpan::start(&cfg, &i).end_ok(&out);
    let spans = otel.spans();
    let system: serde_json::Value =
        serde_json::from_str(&span_attr(&spans[0], n::SYSTEM_INSTRUCTIONS).unwrap().to_string()).unwrap();
    assert_eq!(system.as_array().unwrap().len(), 2);
    assert!(system.to_string().contains("be brief") && system.to_string().contains("use metric"));
    let input = span_attr(&spans[0], n::INPUT_MESSAGES).unwrap().to_string();
    assert!(input.contains("hi") && !input.contains("be brief"), "{input}");
}

#[test]
fn latest_conventions_rename_metrics_and_cache_write() {
    let otel = Otel::new();
    let cfg = otel.config().semconv(Semconv::Latest).resolve();
    let mut out = crate::types::Output::new(String::new(), crate::types::Metadata::new("m", None, Modality::Text));
    out.usage.input_tokens = Some(5);
    out.usage.cache_creation_tokens = Some(2);
    CallSpan::start(&cfg, &info(false)).end_ok(&out);
    let sp = &otel.spans()[0];
    assert!(span_attr(sp, n::USAGE_CACHE_WRITE).is_some());
    assert!(span_attr(sp, n::USAGE_CACHE_CREATION).is_none());
    assert_eq!(otel.histogram(n::METRIC_INFERENCE_DURATION).len(), 1);
    assert!(otel.histogram(n::METRIC_OPERATION_DURATION).is_empty());
    let input = otel.histogram(n::METRIC_INFERENCE_INPUT_TOKENS);
    assert_eq!(input[0].2, 5.0);
    let output = otel.histogram(n::METRIC_INFERENCE_OUTPUT_TOKENS);
    assert_eq!(output[0].0.get(n::TOKEN_MODALITY).map(String::as_str), Some("unknown"));
}

#[test]
fn disabled_telemetry_records_nothing() {
    let otel = Otel::new();
    let cfg = otel.config().disabled().resolve();
    CallSpan::start(&cfg, &info(false)).end_err(&Error::Cancelled);
    assert!(otel.spans().is_empty());
    assert!(otel.histogram(n::METRIC_OPERATION_DURATION).is_empty());
}

/// Every `gen_ai.*` name we emit is in the semantic-conventions v1.41 attribute registry (or is a
/// metric-only attribute of it). The list below is taken from the registry
/// (`model/gen-ai/registry.yaml`, open-telemetry/semantic-conventions v1.41.1, Apache-2.0).
#[test]
fn every_gen_ai_name_is_in_the_v1_41_registry() {
    const REGISTRY_V1_41: &[&str] = &[
        "gen_ai.agent.description",
        "gen_ai.agent.id",
        "gen_ai.agent.name",
        "gen_ai.agent.version",
        "gen_ai.conversation.id",
        "gen_ai.data_source.id",
        "gen_ai.embeddings.dimension.count",
        "gen_ai.evaluation.explanation",
        "gen_ai.evaluation.name",
        "gen_ai.evaluation.score.label",
        "gen_ai.evaluation.score.value",
        "gen_ai.input.messages",
        "gen_ai.operation.name",
        "gen_ai.output.messages",
        "gen_ai.output.type",
        "gen_ai.provider.name",
        "gen_ai.request.choice.count",
        "gen_ai.request.encoding_formats",
        "gen_ai.request.frequency_penalty",
        "gen_ai.request.max_tokens",
        "gen_ai.request.model",
        "gen_ai.request.presence_penalty",
        "gen_ai.request.seed",
        "gen_ai.request.stop_sequences",
        "gen_ai.request.stream",
        "gen_ai.request.temperature",
        "gen_ai.request.top_k",
        "gen_ai.request.top_p",
        "gen_ai.response.finish_reasons",
        "gen_ai.response.id",
        "gen_ai.response.model",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.system_instructions",
        "gen_ai.token.type",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.id",
        "gen_ai.tool.call.result",
        "gen_ai.tool.definitions",
        "gen_ai.tool.description",
        "gen_ai.tool.name",
        "gen_ai.tool.type",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ];
    for name in n::ALL_GEN_AI_NAMES {
        assert!(REGISTRY_V1_41.contains(name), "{name} is not in the v1.41 registry");
    }
}

/// A meter provider celeste cannot identify as the SDK's (it wraps it): records go unbound.
struct Wrapped(SdkMeterProvider);

impl opentelemetry::metrics::MeterProvider for Wrapped {
    fn meter_with_scope(&self, scope: opentelemetry::InstrumentationScope) -> opentelemetry::metrics::Meter {
        self.0.meter_with_scope(scope)
    }
}

/// One streamed call of three chunks (two per-chunk records) and a duration record, on `cfg`.
fn three_chunk_call(cfg: &TelemetryConfig, model: &str) {
    let mut i = info(true);
    i.model = model.into();
    let mut span = CallSpan::start(cfg, &i);
    let t = std::time::Instant::now();
    for _ in 0..3 {
        span.chunk(t);
    }
    span.end_err(&Error::Cancelled);
}

/// Data points of `metric` for `model` on `otel`: (count) summed.
fn count_for(otel: &Otel, metric: &str, model: &str) -> u64 {
    otel.histogram(metric)
        .iter()
        .filter(|(a, _, _)| a.get(n::REQUEST_MODEL).map(String::as_str) == Some(model))
        .map(|p| p.1)
        .sum()
}

#[test]
fn unidentified_meter_provider_gets_every_per_chunk_record() {
    let otel = Otel::new();
    let cfg = TelemetryConfig::new().tracer_provider(otel.tp.clone()).meter_provider(Wrapped(otel.mp.clone()));
    assert!(!cfg.meter_provider_binds);
    three_chunk_call(&cfg, "wrapped");
    three_chunk_call(&cfg, "wrapped");
    assert_eq!(count_for(&otel, n::METRIC_TIME_PER_OUTPUT_CHUNK, "wrapped"), 4);
    assert_eq!(count_for(&otel, n::METRIC_OPERATION_DURATION, "wrapped"), 2);
}

#[test]
fn cached_instruments_follow_the_sdk_given_per_client() {
    let otel = Otel::new();
    let cfg = otel.config();
    assert_eq!(cfg.meter_provider_binds, cfg!(feature = "bound-instruments"));
    // Two calls on one config share its cached instruments; a clone given another provider does not.
    three_chunk_call(&cfg, "per-client");
    three_chunk_call(&cfg, "per-client");
    let other = Otel::new();
    let cfg2 = cfg.clone().meter_provider(other.mp.clone());
    three_chunk_call(&cfg2, "per-client");
    assert_eq!(count_for(&otel, n::METRIC_TIME_PER_OUTPUT_CHUNK, "per-client"), 4);
    assert_eq!(count_for(&other, n::METRIC_TIME_PER_OUTPUT_CHUNK, "per-client"), 2);
    assert_eq!(count_for(&other, n::METRIC_OPERATION_DURATION, "per-client"), 1);
}

/// The only test that touches the global meter provider (its calls use a model no other test uses).
#[test]
fn instruments_made_before_the_global_sdk_is_installed_do_not_stay_no_ops() {
    let cfg = TelemetryConfig::new().semconv(Semconv::V1_41);
    // The first call runs under the no-op global provider and caches its instruments.
    three_chunk_call(&cfg, "global-provider");
    // The application installs its SDK the ordinary way: records are unbound, and all arrive.
    let first = Otel::new();
    opentelemetry::global::set_meter_provider(first.mp.clone());
    three_chunk_call(&cfg, "global-provider");
    assert_eq!(count_for(&first, n::METRIC_OPERATION_DURATION, "global-provider"), 1);
    assert_eq!(count_for(&first, n::METRIC_TIME_PER_OUTPUT_CHUNK, "global-provider"), 2);
    // Installed through celeste, the SDK is known and the per-chunk records may be bound.
    let second = Otel::new();
    crate::set_global_meter_provider(second.mp.clone());
    three_chunk_call(&cfg, "global-provider");
    three_chunk_call(&cfg, "global-provider");
    assert_eq!(count_for(&second, n::METRIC_OPERATION_DURATION, "global-provider"), 2);
    assert_eq!(count_for(&second, n::METRIC_TIME_PER_OUTPUT_CHUNK, "global-provider"), 4);
    assert_eq!(
        count_for(&first, n::METRIC_TIME_PER_OUTPUT_CHUNK, "global-provider"),
        2,
        "the old provider got no more"
    );
    // Replaced again the ordinary way, the new provider is not taken for the SDK celeste installed.
    let third = Otel::new();
    opentelemetry::global::set_meter_provider(Wrapped(third.mp.clone()));
    three_chunk_call(&cfg, "global-provider");
    assert_eq!(count_for(&third, n::METRIC_TIME_PER_OUTPUT_CHUNK, "global-provider"), 2);
    opentelemetry::global::set_meter_provider(opentelemetry::metrics::noop::NoopMeterProvider::new());
}
