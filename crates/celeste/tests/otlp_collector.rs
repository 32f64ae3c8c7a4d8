//! End to end with a real OTLP collector: a streaming call (through the blocking API) exports its span
//! and metrics over OTLP/HTTP with `opentelemetry-otlp`, and the collector (rotel) prints them.
//!
//! The collector binary comes from `ROTEL_AGENT` or `.tools/rotel/rotel/rotel-agent` (the test script
//! installs it from PyPI). Without it the test says so and passes only if `CELESTE_REQUIRE_ROTEL` is
//! unset; the test script sets it, so CI cannot skip it silently.

#![cfg(feature = "telemetry")]

mod support;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use celeste::{Client, Credentials, Provider, TelemetryConfig};
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::json;
use support::{End, Reply, Server};

fn rotel_agent() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("ROTEL_AGENT") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/rotel/rotel/rotel-agent");
    p.is_file().then_some(p)
}

struct Collector {
    child: Child,
    log: PathBuf,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Collector {
    fn output(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn streaming_call_reaches_a_real_collector_with_usage_and_metrics() {
    let Some(agent) = rotel_agent() else {
        assert!(std::env::var_os("CELESTE_REQUIRE_ROTEL").is_none(), "rotel-agent is required but missing");
        eprintln!("rotel-agent not found; skipping the collector end-to-end test");
        return;
    };
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("celeste-rotel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("rotel.log");
    let child = Command::new(&agent)
        .args(["start", "--otlp-grpc-endpoint", &format!("127.0.0.1:{}", free_port())])
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{port}")])
        .args(["--exporter", "blackhole", "--debug-log", "traces", "--debug-log", "metrics"])
        .args(["--debug-log-verbosity", "detailed"])
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(dir.join("rotel.err")).unwrap()))
        .spawn()
        .expect("start rotel-agent");
    let collector = Collector { child, log };
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "rotel did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }

    let endpoint = format!("http://127.0.0.1:{port}");
    let spans = SpanExporter::builder().with_http().with_endpoint(format!("{endpoint}/v1/traces")).build().unwrap();
    // The batch processor exports from its own thread: the blocking HTTP exporter must not run inside
    // an async runtime, and span ends happen inside one (the library's, for blocking calls).
    let tp = SdkTracerProvider::builder().with_batch_exporter(spans).build();
    let metrics =
        MetricExporter::builder().with_http().with_endpoint(format!("{endpoint}/v1/metrics")).build().unwrap();
    let mp = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics).build()).build();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let events: Vec<String> = vec![
        json!({"type": "response.output_text.delta", "delta": "Hello "}).to_string(),
        json!({"type": "response.output_text.delta", "delta": "collector"}).to_string(),
        json!({"type": "response.completed", "response": {"id": "resp_otlp", "model": "gpt-5-mini-2025", "status": "completed",
            "usage": {"input_tokens": 11, "output_tokens": 2, "total_tokens": 13}}})
        .to_string(),
    ];
    let srv = rt.block_on(Server::start(vec![Reply::sse(&events, Duration::ZERO, End::Clean)]));
    let client = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-otlp-canary"))
        .telemetry(TelemetryConfig::new().tracer_provider(tp.clone()).meter_provider(mp.clone()))
        .build()
        .unwrap();
    let mut stream = celeste::blocking::text::stream("hi", "gpt-5-mini")
        .client(client)
        .provider(Provider::OpenAi)
        .base_url(&srv.url)
        .send()
        .unwrap();
    let text: String = (&mut stream).map(|c| c.unwrap().content).collect();
    assert_eq!(text, "Hello collector");
    drop(stream);
    tp.force_flush().unwrap();
    mp.force_flush().unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    let wanted = [
        "chat gpt-5-mini",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.time_to_first_chunk",
    ];
    loop {
        let out = collector.output();
        let missing: Vec<&str> = wanted.iter().copied().filter(|w| !out.contains(w)).collect();
        if missing.is_empty() {
            assert!(!out.contains("sk-otlp-canary"), "a secret reached the collector");
            println!("rotel received the span and metrics ({} bytes of debug output)", out.len());
            break;
        }
        assert!(Instant::now() < deadline, "collector output lacks {missing:?}:\n{out}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = tp.shutdown();
    let _ = mp.shutdown();
}
