//! Embeddings decoding: a 2,048-input reply (1,536 dimensions, as `text-embedding-3-small`)
//! decoded by the library (`EmbeddingsApi::parse_response`: vectors, order, usage) against the
//! floor, serde decoding the same JSON straight into `Vec<Vec<f32>>` through the smallest structs
//! that reach the vectors. The issue's bar: the library at most 1.3× the floor. See BENCHMARKS.md.
//!
//! Lives in `celeste-ai`'s benches (beside `sse` and `telemetry`), not in the `bench` package: that
//! package builds the peer clients (async-openai, genai, rig) this comparison does not need.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use celeste::EmbeddingsApi;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;

const INPUTS: usize = 2048;
const DIMS: usize = 1536;

/// Whether this is a measuring run (`cargo bench`), not `cargo test --all-targets` checking that the
/// bench works: that run decodes a small reply once, in debug, in a second.
fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Values as a real reply has them: f32s printed in their shortest form (`-0.012727811`).
fn vectors() -> Vec<Vec<f32>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let inputs = if measuring() { INPUTS } else { 16 };
    (0..inputs)
        .map(|_| {
            (0..DIMS)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
                })
                .collect()
        })
        .collect()
}

/// A vector as a JSON list, each number in the shortest form that reads back as the same `f32`
/// (what the providers send; `serde_json::json!` would widen them to `f64` digits).
fn list(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// OpenAI's `/v1/embeddings` reply with number lists.
fn openai_body(v: &[Vec<f32>]) -> Bytes {
    let data: Vec<String> = v
        .iter()
        .enumerate()
        .map(|(i, e)| format!(r#"{{"object":"embedding","index":{i},"embedding":{}}}"#, list(e)))
        .collect();
    format!(
        r#"{{"object":"list","data":[{}],"model":"text-embedding-3-small","usage":{{"prompt_tokens":8192,"total_tokens":8192}}}}"#,
        data.join(",")
    )
    .into()
}

/// Gemini's `batchEmbedContents` reply.
fn gemini_body(v: &[Vec<f32>]) -> Bytes {
    let embeddings: Vec<String> = v.iter().map(|e| format!(r#"{{"values":{}}}"#, list(e))).collect();
    format!(r#"{{"embeddings":[{}]}}"#, embeddings.join(",")).into()
}

/// The floors: the least serde can do to reach the vectors.
#[derive(Deserialize)]
struct OpenAiFloor {
    data: Vec<OpenAiDatum>,
}

#[derive(Deserialize)]
struct OpenAiDatum {
    embedding: Vec<f32>,
}

fn openai_floor(body: &[u8]) -> Vec<Vec<f32>> {
    let r: OpenAiFloor = serde_json::from_slice(body).unwrap();
    r.data.into_iter().map(|d| d.embedding).collect()
}

#[derive(Deserialize)]
struct GeminiFloor {
    embeddings: Vec<GeminiValues>,
}

#[derive(Deserialize)]
struct GeminiValues {
    values: Vec<f32>,
}

fn gemini_floor(body: &[u8]) -> Vec<Vec<f32>> {
    let r: GeminiFloor = serde_json::from_slice(body).unwrap();
    r.embeddings.into_iter().map(|e| e.values).collect()
}

/// A reply's name, body, API and floor, and the vectors it holds.
type Case = (&'static str, Bytes, EmbeddingsApi, fn(&[u8]) -> Vec<Vec<f32>>, Vec<Vec<f32>>);

fn cases() -> [Case; 2] {
    let v = vectors();
    [
        ("openai", openai_body(&v), EmbeddingsApi::OpenAi, openai_floor, v.clone()),
        ("gemini", gemini_body(&v), EmbeddingsApi::Google, gemini_floor, v),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, body, api, floor, v) in cases() {
        // Both decode the same vectors, exactly.
        let ours = api.parse_response(&body, "m").unwrap().content;
        assert_eq!(ours, floor(&body));
        assert_eq!(ours, v);
        eprintln!("{name}: {} bytes of JSON", body.len());
        let mut g = c.benchmark_group(format!("embeddings 2048x1536 {name}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.sample_size(20).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(12));
        g.bench_function("serde floor", |b| b.iter(|| black_box(floor(black_box(&body)))));
        g.bench_function("celeste", |b| {
            b.iter(|| black_box(api.parse_response(black_box(&body), "m").unwrap().content))
        });
        g.finish();
    }
}

/// This thread's CPU time: what the decoding itself costs, whatever else the machine runs.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Besides criterion's wall-clock figures: the two decoders alternated, 15 times each, timed in
/// thread CPU time, so a loaded machine slows both alike. Prints the medians and their ratio.
fn cpu_time(c: &mut Criterion) {
    let _ = c;
    if !measuring() {
        return;
    }
    for (name, body, api, floor, _) in cases() {
        let (mut f, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..15 {
            let t = thread_cpu();
            black_box(floor(black_box(&body)));
            f.push(thread_cpu() - t);
            let t = thread_cpu();
            black_box(api.parse_response(black_box(&body), "m").unwrap().content);
            ours.push(thread_cpu() - t);
        }
        f.sort();
        ours.sort();
        let (f, ours) = (f[f.len() / 2], ours[ours.len() / 2]);
        println!(
            "cpu time, {name}: serde floor {:.1} ms, celeste {:.1} ms, ratio {:.3}",
            f.as_secs_f64() * 1e3,
            ours.as_secs_f64() * 1e3,
            ours.as_secs_f64() / f.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench, cpu_time);
criterion_main!(benches);
