//! SSE framing throughput: `celeste::framing::SseDecoder` against `eventsource-stream`.
//!
//! Both consume the same `Bytes` chunks, sliced from one buffer as a network reader would hand
//! them out, and every event is consumed. Measurement times are kept short so the whole run
//! stays around two minutes on a 2-core machine. See BENCHMARKS.md for the figures.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use celeste::framing::SseDecoder;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use eventsource_stream::Eventsource;
use futures::StreamExt;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// `count` OpenAI-style chunks whose JSON payload is `size` bytes each.
fn many_events(count: usize, size: usize) -> Bytes {
    let mut out = Vec::with_capacity(count * (size + 8));
    for i in 0..count {
        let head = format!(
            "{{\"id\":\"chatcmpl-{i:08}\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\""
        );
        let tail = "\"},\"finish_reason\":null}]}";
        let filler = size - head.len() - tail.len();
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(head.as_bytes());
        out.extend((0..filler).map(|j| b"lorem ipsum dolor sit amet "[j % 27]));
        out.extend_from_slice(tail.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.into()
}

/// One event whose single data line is `size` bytes.
fn one_event(size: usize) -> Bytes {
    let mut out = Vec::with_capacity(size + 16);
    out.extend_from_slice(b"data: ");
    out.extend((0..size).map(|j| b"abcdefghijklmnopqrstuvwxyz"[j % 26]));
    out.extend_from_slice(b"\n\n");
    out.into()
}

/// Bytes of event data seen, so the work cannot be optimized away and the two decoders can be
/// checked against each other.
fn ours(input: &Bytes, read: usize) -> (usize, usize) {
    let mut decoder = SseDecoder::new(SseDecoder::DEFAULT_MAX_EVENT_SIZE);
    let (mut events, mut bytes) = (0, 0);
    let mut pos = 0;
    while pos < input.len() {
        let end = (pos + read).min(input.len());
        decoder.feed(input.slice(pos..end));
        pos = end;
        while let Some(event) = decoder.next_event().unwrap() {
            events += 1;
            bytes += black_box(event).data.len();
        }
    }
    while let Some(event) = decoder.finish().unwrap() {
        events += 1;
        bytes += black_box(event).data.len();
    }
    (events, bytes)
}

fn theirs(input: &Bytes, read: usize) -> (usize, usize) {
    let chunks = (0..input.len())
        .step_by(read)
        .map(|pos| Ok::<Bytes, Infallible>(input.slice(pos..(pos + read).min(input.len()))));
    let mut stream = futures::stream::iter(chunks).eventsource();
    futures::executor::block_on(async {
        let (mut events, mut bytes) = (0, 0);
        while let Some(event) = stream.next().await {
            events += 1;
            bytes += black_box(event.unwrap()).data.len();
        }
        (events, bytes)
    })
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    input: &Bytes,
    samples: usize,
    secs: u64,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(samples);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(secs));
    g
}

fn bench(c: &mut Criterion) {
    // (a) 1,000 events of 1 KiB in 16 KiB reads.
    let input = many_events(1000, KIB);
    assert_eq!(ours(&input, 16 * KIB), (1000, 1000 * KIB));
    assert_eq!(theirs(&input, 16 * KIB), ours(&input, 16 * KIB));
    let mut g = group(c, "a_1000x1KiB_16KiB_reads", &input, 50, 3);
    g.bench_function("celeste", |b| b.iter(|| ours(&input, 16 * KIB)));
    g.bench_function("eventsource-stream", |b| b.iter(|| theirs(&input, 16 * KIB)));
    g.finish();

    // (b) one 5 MiB event in 1 KiB reads.
    let input = one_event(5 * MIB);
    assert_eq!(ours(&input, KIB), (1, 5 * MIB));
    let mut g = group(c, "b_5MiB_event_1KiB_reads", &input, 10, 3);
    g.bench_function("celeste", |b| b.iter(|| ours(&input, KIB)));
    // eventsource-stream re-parses its whole buffer on every read, so this case is quadratic
    // for it: a single iteration takes about 20 s (see BENCHMARKS.md). Opt in with
    // SSE_BENCH_SLOW=1.
    if std::env::var_os("SSE_BENCH_SLOW").is_some() {
        // Flat sampling runs 10 iterations; the default linear sampling would need 55.
        g.sampling_mode(SamplingMode::Flat);
        g.bench_function("eventsource-stream", |b| b.iter(|| theirs(&input, KIB)));
    }
    g.finish();

    // (c) one 5 MiB event in 1-byte reads. eventsource-stream would need hours (quadratic).
    let mut g = group(c, "c_5MiB_event_1B_reads", &input, 10, 5);
    g.bench_function("celeste", |b| b.iter(|| ours(&input, 1)));
    g.finish();

    // (d) one 0.5 MiB event in 1-byte reads: against (c), shows growth is linear.
    let input = one_event(MIB / 2);
    assert_eq!(ours(&input, 1), (1, MIB / 2));
    let mut g = group(c, "d_512KiB_event_1B_reads", &input, 10, 3);
    g.bench_function("celeste", |b| b.iter(|| ours(&input, 1)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
