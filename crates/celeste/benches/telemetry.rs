//! What telemetry costs on a 500-chunk stream, measured end to end against the in-process emulator
//! over loopback: telemetry turned off on the client, on with no SDK installed (the default for an
//! application that never set one up), and on with an SDK and in-memory exporters. For the
//! compiled-out baseline run this bench with `--no-default-features` (only the first variant builds).
//!
//!     cargo bench -p celeste-ai --bench telemetry
//!     cargo bench -p celeste-ai --bench telemetry --no-default-features --features openai

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;

use celeste::{Client, Credentials, Provider, TelemetryConfig};
use celeste_emulator::{Config, Emulator, Reply, Scenario};

const CHUNKS: u64 = 500;

fn client(t: TelemetryConfig) -> Client {
    Client::builder().credentials(Credentials::empty().with_key(Provider::OpenAi, "k")).telemetry(t).build().unwrap()
}

async fn one_stream(c: &Client, url: &str) {
    let mut s =
        c.text().generate("bench", "gpt-5-mini").provider(Provider::OpenAi).base_url(url).stream().await.unwrap();
    let mut n = 0u64;
    while let Some(chunk) = s.next().await {
        if !chunk.unwrap().content.is_empty() {
            n += 1;
        }
    }
    assert_eq!(n, CHUNKS);
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let scenario = Scenario::new("bench").then(Reply::text("token ").chunks(CHUNKS as usize).chunk_size(6));
    let emulator = Emulator::start_blocking(Config::default().scenario(scenario).record_requests(false)).unwrap();
    let url = emulator.url();

    let mut g = c.benchmark_group("stream_500_chunks");
    g.throughput(Throughput::Elements(CHUNKS));
    let mut run = |name: &str, client: Client| {
        g.bench_function(name, |b| b.iter(|| rt.block_on(one_stream(&client, &url))));
    };
    if cfg!(feature = "telemetry") {
        run("telemetry_disabled", client(TelemetryConfig::new().disabled()));
        run("no_sdk", client(TelemetryConfig::new()));
    } else {
        run("compiled_out", client(TelemetryConfig::new()));
    }
    #[cfg(feature = "telemetry")]
    {
        use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
        use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
        let spans = InMemorySpanExporter::default();
        let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let mp = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(InMemoryMetricExporter::default()).build())
            .build();
        run("sdk_in_memory", client(TelemetryConfig::new().tracer_provider(tp).meter_provider(mp)));
        // Keep the exporter from growing without bound across iterations.
        spans.reset();
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(8));
    targets = bench
}
criterion_main!(benches);
