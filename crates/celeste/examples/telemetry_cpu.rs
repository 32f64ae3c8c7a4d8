//! The client's CPU cost of telemetry on a 500-chunk stream (issue 5), measured against an emulator
//! that runs as a separate process, so that only the client's work is counted.
//!
//! It runs one warm-up stream (connection, lazy initialisation), then `STREAMS` streams of 500 text
//! chunks each on a current-thread runtime, and prints the process CPU time (user + sys, from
//! `getrusage`) the measured streams took. Modes:
//!
//! - `plain`: `TelemetryConfig::new()`. In a build without the `telemetry` feature this is the
//!   compiled-out baseline; with it, telemetry is on and no SDK is installed (no global providers).
//! - `disabled`: telemetry compiled in but turned off on the client (`TelemetryConfig::disabled`).
//! - `sdk`: SDK tracer and meter providers with in-memory exporters, given to the client builder.
//!
//! `--check` verifies afterwards (outside the measurement) that the SDK got one call span with usage per
//! stream and some metrics. `scripts/telemetry-cpu` builds both variants, starts the emulator and
//! runs everything under `valgrind --tool=callgrind` (instruction counts, independent of machine load)
//! and natively (CPU time):
//!
//! ```sh
//! scripts/telemetry-cpu
//! # by hand:
//! celeste-emulator --scenarios SCENARIO.json        # prints "listening on http://127.0.0.1:PORT"
//! cargo run --release -p celeste-ai --example telemetry_cpu -- sdk 200 http://127.0.0.1:PORT --check
//! cargo run --release -p celeste-ai --example telemetry_cpu --no-default-features --features all-providers \
//!     -- plain 200 http://127.0.0.1:PORT
//! ```
//!
//! The emulator must answer every request with exactly 500 text deltas (see `scripts/telemetry-cpu`).

use std::time::Duration;

use futures::StreamExt;

use celeste::{Client, Credentials, Provider, TelemetryConfig};

const CHUNKS: usize = 500;

fn usage() -> ! {
    eprintln!("usage: telemetry_cpu plain|disabled|sdk STREAMS URL [--check]");
    std::process::exit(2)
}

/// CPU time (user + sys) of the whole process so far.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` only writes the struct it is given.
    let ru = unsafe {
        let mut ru = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

async fn one_stream(c: &Client, url: &str) {
    let mut s =
        c.text().generate("bench", "gpt-5-mini").provider(Provider::OpenAi).base_url(url).stream().await.unwrap();
    let mut n = 0;
    while let Some(chunk) = s.next().await {
        if !chunk.unwrap().content.is_empty() {
            n += 1;
        }
    }
    assert_eq!(n, CHUNKS, "the emulator must send {CHUNKS} text deltas per stream");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        usage();
    }
    let (mode, url) = (args[0].as_str(), args[2].as_str());
    let streams: usize = args[1].parse().unwrap_or_else(|_| usage());
    let check = args.get(3).is_some_and(|a| a == "--check");

    let mut config = TelemetryConfig::new();
    #[cfg(feature = "telemetry")]
    let sdk = sdk::Sdk::new();
    match mode {
        "plain" => {}
        "disabled" if cfg!(feature = "telemetry") => config = config.disabled(),
        #[cfg(feature = "telemetry")]
        "sdk" => config = sdk.install(config),
        _ => {
            eprintln!("mode {mode:?} is not available in this build");
            usage()
        }
    }
    let client = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "k"))
        .telemetry(config)
        .build()
        .unwrap();

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(one_stream(&client, url));
    let before = cpu_time();
    rt.block_on(async {
        for _ in 0..streams {
            one_stream(&client, url).await;
        }
    });
    let cpu = cpu_time() - before;
    let build = if cfg!(feature = "telemetry") { "telemetry" } else { "compiled_out" };
    println!(
        "build={build} mode={mode} streams={streams} cpu_ms={:.3} cpu_us_per_stream={:.1}",
        cpu.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e6 / streams.max(1) as f64
    );
    if check {
        #[cfg(feature = "telemetry")]
        if mode == "sdk" {
            sdk.check(streams + 1);
        }
    }
}

#[cfg(feature = "telemetry")]
mod sdk {
    use opentelemetry::Value;
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    use celeste::TelemetryConfig;

    pub struct Sdk {
        spans: InMemorySpanExporter,
        metrics: InMemoryMetricExporter,
        tracer: SdkTracerProvider,
        meter: SdkMeterProvider,
    }

    impl Sdk {
        pub fn new() -> Self {
            let spans = InMemorySpanExporter::default();
            let metrics = InMemoryMetricExporter::default();
            let tracer = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
            let meter =
                SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics.clone()).build()).build();
            Sdk { spans, metrics, tracer, meter }
        }

        pub fn install(&self, config: TelemetryConfig) -> TelemetryConfig {
            config.tracer_provider(self.tracer.clone()).meter_provider(self.meter.clone())
        }

        /// One `chat` span with output tokens per stream, and metrics exported.
        pub fn check(&self, streams: usize) {
            self.tracer.force_flush().unwrap();
            self.meter.force_flush().unwrap();
            let spans = self.spans.get_finished_spans().unwrap();
            let chat: Vec<_> = spans.iter().filter(|s| s.name.starts_with("chat ")).collect();
            assert_eq!(chat.len(), streams, "one call span per stream");
            for s in &chat {
                let out = s.attributes.iter().find(|kv| kv.key.as_str() == "gen_ai.usage.output_tokens");
                assert!(matches!(out.map(|kv| &kv.value), Some(Value::I64(n)) if *n > 0), "usage on {}", s.name);
            }
            assert!(!self.metrics.get_finished_metrics().unwrap().is_empty(), "metrics exported");
            println!("check: {} call spans with usage, metrics exported", chat.len());
        }
    }
}
