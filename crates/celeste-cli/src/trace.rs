//! Telemetry for one command: an in-memory SDK for `--trace` summaries and an OTLP exporter for
//! `--otlp-endpoint`, installed on the command's client (never globally).

use std::fmt::Write as _;

use celeste::TelemetryConfig;
use opentelemetry::Value;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

pub struct Telemetry {
    tracer: SdkTracerProvider,
    meter: SdkMeterProvider,
    spans: Option<InMemorySpanExporter>,
    metrics: Option<InMemoryMetricExporter>,
}

impl Telemetry {
    /// Providers for the flags given, or `None` when neither flag asks for telemetry.
    pub fn new(trace: bool, otlp: Option<&str>) -> Result<Option<Telemetry>, String> {
        if !trace && otlp.is_none() {
            return Ok(None);
        }
        let mut tb = SdkTracerProvider::builder();
        let mut mb = SdkMeterProvider::builder();
        let (mut spans, mut metrics) = (None, None);
        if trace {
            let s = InMemorySpanExporter::default();
            let m = InMemoryMetricExporter::default();
            tb = tb.with_simple_exporter(s.clone());
            mb = mb.with_reader(PeriodicReader::builder(m.clone()).build());
            spans = Some(s);
            metrics = Some(m);
        }
        if let Some(endpoint) = otlp {
            let base = endpoint.trim_end_matches('/');
            let se = SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{base}/v1/traces"))
                .build()
                .map_err(|e| format!("OTLP span exporter: {e}"))?;
            let me = MetricExporter::builder()
                .with_http()
                .with_endpoint(format!("{base}/v1/metrics"))
                .build()
                .map_err(|e| format!("OTLP metric exporter: {e}"))?;
            // Batch export runs on its own thread; the blocking HTTP exporter must stay off the runtime.
            tb = tb.with_batch_exporter(se);
            mb = mb.with_reader(PeriodicReader::builder(me).build());
        }
        Ok(Some(Telemetry { tracer: tb.build(), meter: mb.build(), spans, metrics }))
    }

    pub fn config(&self) -> TelemetryConfig {
        TelemetryConfig::new().tracer_provider(self.tracer.clone()).meter_provider(self.meter.clone())
    }

    /// Flush exporters and, for `--trace`, render what was recorded.
    pub fn finish(self) -> Option<String> {
        let _ = self.tracer.force_flush();
        let _ = self.meter.force_flush();
        let summary = match (&self.spans, &self.metrics) {
            (Some(s), Some(m)) => Some(render(s, m)),
            _ => None,
        };
        let _ = self.tracer.shutdown();
        let _ = self.meter.shutdown();
        summary
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

fn render(spans: &InMemorySpanExporter, metrics: &InMemoryMetricExporter) -> String {
    let mut out = String::new();
    for span in spans.get_finished_spans().unwrap_or_default() {
        let ms = span.end_time.duration_since(span.start_time).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        let _ = writeln!(out, "span  {} [{:?}, {:.1} ms, status {:?}]", span.name, span.span_kind, ms, span.status);
        let mut attrs: Vec<_> = span.attributes.iter().map(|kv| (kv.key.to_string(), value(&kv.value))).collect();
        attrs.sort();
        for (k, v) in attrs {
            let _ = writeln!(out, "        {k} = {v}");
        }
    }
    if let Some(rm) = metrics.get_finished_metrics().unwrap_or_default().last() {
        for sm in rm.scope_metrics() {
            for m in sm.metrics() {
                let points: Vec<String> = match m.data() {
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => h
                        .data_points()
                        .map(|dp| format!("count={} sum={:.4}{}", dp.count(), dp.sum(), label(dp.attributes())))
                        .collect(),
                    AggregatedMetrics::U64(MetricData::Histogram(h)) => h
                        .data_points()
                        .map(|dp| format!("count={} sum={}{}", dp.count(), dp.sum(), label(dp.attributes())))
                        .collect(),
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        s.data_points().map(|dp| format!("value={}{}", dp.value(), label(dp.attributes()))).collect()
                    }
                    _ => Vec::new(),
                };
                for p in points {
                    let _ = writeln!(out, "metric {} [{}] {p}", m.name(), m.unit());
                }
            }
        }
    }
    out
}

/// The attributes that tell data points of one metric apart.
fn label<'a>(attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> String {
    let parts: Vec<String> = attrs
        .filter(|kv| matches!(kv.key.as_str(), "gen_ai.token.type" | "gen_ai.token.modality" | "error.type"))
        .map(|kv| format!("{}={}", kv.key, value(&kv.value)))
        .collect();
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}
