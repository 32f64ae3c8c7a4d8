//! # celeste-bench
//!
//! A side-by-side benchmark of celeste-ai against a hand-written reqwest "floor" client and the peer
//! Rust clients (async-openai, genai, rig-core), all talking to the `celeste-emulator` binary over
//! 127.0.0.1.
//!
//! - `bench-client` runs one scenario with one client and exits, printing one JSON line
//!   ([`Report`]).
//! - `bench-runner` starts the emulator, runs every scenario × client N times as separate
//!   processes, measures each child's CPU time and peak RSS with `wait4`, and prints the medians.
//!
//! Every client consumes every stream to the end and counts the text chunks it received; a count
//! that differs from the scenario's is an error, so no client can look fast by skipping work.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

pub mod clients;
#[cfg(feature = "celeste")]
pub mod floor;
#[cfg(feature = "celeste")]
pub mod media;

/// The prompt every client sends.
pub const PROMPT: &str = "Say hello to the benchmark.";
/// The API key every client sends (the emulator ignores it).
pub const API_KEY: &str = "k";
/// The reply of the unary scenario (must match `bench/scenarios.json`).
pub const UNARY_TEXT: &str = "Hello from the benchmark emulator.";
/// Characters per streamed text delta (must match `bench/scenarios.json`).
pub const CHUNK_SIZE: usize = 8;
/// The size of scenario 3's single event: 5 MiB (must match `bench/scenarios.json`).
pub const BIG_EVENT_BYTES: usize = 5 * 1024 * 1024;

/// The Rust client names `bench-client --client` accepts, in table order.
pub const CLIENTS: &[&str] = &["floor", "celeste", "celeste-blocking", "async-openai", "genai", "rig"];

/// The Python clients (`bench/python/bench_client.py`): the Python reference, celeste-ai 1.0.0, and
/// LiteLLM. `bench-runner --python` adds them; they run S0, S1, S2 and S5 (see that script for why).
pub const PYTHON_CLIENTS: &[&str] = &["celeste-python", "litellm"];

/// The cargo feature (and `bench-client-FLAVOR` binary) that holds a client; `python` for the
/// Python clients, which share one virtual environment instead of a binary.
pub fn flavor(client: &str) -> &'static str {
    match client {
        "async-openai" => "async-openai",
        "genai" => "genai",
        "rig" => "rig",
        "celeste-python" | "litellm" => "python",
        _ => "celeste",
    }
}
/// The peers (the "best peer" of a row is the cheapest of these).
pub const PEERS: &[&str] = &["async-openai", "genai", "rig"];

/// Which wire API a scenario speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// OpenAI Chat Completions (`/v1/chat/completions`).
    Chat,
    /// Anthropic Messages (`/v1/messages`).
    Messages,
}

/// One scenario: how many requests, streamed or not, and what each must yield.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// 0 to 5.
    pub id: u8,
    /// A short name for tables.
    pub name: &'static str,
    /// The model sent; the emulator's scenario file matches on it.
    pub model: &'static str,
    /// The wire API.
    pub api: Api,
    /// Whether the calls stream.
    pub streaming: bool,
    /// How many calls.
    pub calls: usize,
    /// Whether the calls run concurrently (all at once) rather than one after the other; the runner
    /// then samples live tasks (scenario 4).
    pub concurrent: bool,
    /// How many calls are in flight at once when not `concurrent`: 1 runs them one after the other.
    pub width: usize,
    /// Text chunks each call must yield (1 for a unary call).
    pub chunks_per_call: usize,
    /// Text bytes each call must yield.
    pub bytes_per_call: usize,
}

impl Scenario {
    /// Total text chunks (or unary replies) the scenario must yield.
    pub fn expected_chunks(&self) -> usize {
        self.calls * self.chunks_per_call
    }

    /// Total text bytes the scenario must yield.
    pub fn expected_bytes(&self) -> usize {
        self.calls * self.bytes_per_call
    }

    /// The unit its per-unit CPU figure is expressed in.
    pub fn unit(&self) -> &'static str {
        match self.id {
            0 | 3 => "run",
            _ if !self.streaming => "call",
            _ => "chunk",
        }
    }

    /// How many units the scenario has (for per-unit CPU).
    pub fn units(&self) -> usize {
        match self.id {
            0 | 3 => 1,
            _ if !self.streaming => self.calls,
            _ => self.expected_chunks(),
        }
    }
}

/// The scenarios. Scenario 0 is the baseline: start the process, build the client, make one small
/// call. It is subtracted from the others to get per-call and per-chunk figures.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: 0,
        name: "S0 baseline: start + 1 call",
        model: "bench-unary",
        api: Api::Chat,
        streaming: false,
        calls: 1,
        concurrent: false,
        width: 1,
        chunks_per_call: 1,
        bytes_per_call: UNARY_TEXT.len(),
    },
    Scenario {
        id: 1,
        name: "S1 10,000 sequential unary calls",
        model: "bench-unary",
        api: Api::Chat,
        streaming: false,
        calls: 10_000,
        concurrent: false,
        width: 1,
        chunks_per_call: 1,
        bytes_per_call: UNARY_TEXT.len(),
    },
    Scenario {
        id: 2,
        name: "S2 200 streams x 2,000 chunks",
        model: "bench-stream",
        api: Api::Chat,
        streaming: true,
        calls: 200,
        concurrent: false,
        width: 1,
        chunks_per_call: 2_000,
        bytes_per_call: 2_000 * CHUNK_SIZE,
    },
    Scenario {
        id: 3,
        name: "S3 one 5 MiB event",
        model: "bench-big",
        api: Api::Chat,
        streaming: true,
        calls: 1,
        concurrent: false,
        width: 1,
        chunks_per_call: 1,
        bytes_per_call: BIG_EVENT_BYTES,
    },
    Scenario {
        id: 4,
        name: "S4 2,000 concurrent streams x 200 chunks",
        model: "bench-many",
        api: Api::Chat,
        streaming: true,
        calls: 2_000,
        concurrent: true,
        width: 2_000,
        chunks_per_call: 200,
        bytes_per_call: 200 * CHUNK_SIZE,
    },
    Scenario {
        id: 5,
        name: "S5 200 streams x 2,000 chunks, Anthropic Messages",
        model: "claude-sonnet-4-5",
        api: Api::Messages,
        streaming: true,
        calls: 200,
        concurrent: false,
        width: 1,
        chunks_per_call: 2_000,
        bytes_per_call: 2_000 * CHUNK_SIZE,
    },
    // The scaling scenarios: CPU per chunk should not grow with the length of a stream, nor CPU per
    // call with the number of calls in flight. Each stream-length row moves the same 100,000 chunks,
    // so the per-call cost is spread thinner as streams get longer: a line that falls is expected,
    // one that rises is a bug.
    scaling_stream(6, "S6 scaling: 1,000 streams x 100 chunks", "bench-scale-100", 1_000, 100),
    scaling_stream(7, "S7 scaling: 100 streams x 1,000 chunks", "bench-scale-1000", 100, 1_000),
    scaling_stream(8, "S8 scaling: 10 streams x 10,000 chunks", "bench-scale-10000", 10, 10_000),
    scaling_stream(9, "S9 scaling: 1 stream x 100,000 chunks", "bench-scale-100000", 1, 100_000),
    scaling_unary(10, "S10 scaling: 1,000 unary calls, 1 in flight", 1),
    scaling_unary(11, "S11 scaling: 1,000 unary calls, 100 in flight", 100),
    scaling_unary(12, "S12 scaling: 1,000 unary calls, 1,000 in flight", 1_000),
];

const fn scaling_stream(id: u8, name: &'static str, model: &'static str, calls: usize, chunks: usize) -> Scenario {
    Scenario {
        id,
        name,
        model,
        api: Api::Chat,
        streaming: true,
        calls,
        concurrent: false,
        width: 1,
        chunks_per_call: chunks,
        bytes_per_call: chunks * CHUNK_SIZE,
    }
}

const fn scaling_unary(id: u8, name: &'static str, width: usize) -> Scenario {
    Scenario {
        id,
        name,
        model: "bench-unary",
        api: Api::Chat,
        streaming: false,
        calls: 1_000,
        concurrent: false,
        width,
        chunks_per_call: 1,
        bytes_per_call: UNARY_TEXT.len(),
    }
}

/// The scenario with this id.
pub fn scenario(id: u8) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

/// The size of the media scenarios' image: 4 MiB of PNG, about 5.6 MB of base64 (must match
/// `bench/scenarios.json`).
pub const IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// The size of the media scenarios' speech: 20 MiB of raw PCM (must match `bench/scenarios.json`).
pub const SPEECH_BYTES: usize = 20 * 1024 * 1024;

/// What a media scenario's calls do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `images.generate` on OpenAI Images: one PNG of [`IMAGE_BYTES`] as base64 JSON.
    Image,
    /// `audio.speak(..).stream()` on OpenAI speech: [`SPEECH_BYTES`] of PCM, streamed.
    Speech,
    /// `images.generate` on a BFL job: submit, `polls` status polls, download.
    Job {
        /// Status polls per job (the last one finds it ready).
        polls: usize,
    },
}

/// A media scenario (issue 19, item 3). Only celeste-ai and the floor run them. Each comes in a
/// one-unit and a many-unit version, so that the per-unit cost is the difference divided by the
/// extra units, start-up and the first call's one-off costs cancelling out.
#[derive(Debug, Clone, Copy)]
pub struct MediaScenario {
    /// 13 and up.
    pub id: u8,
    /// A short name for tables.
    pub name: &'static str,
    /// What each call does.
    pub media: Media,
    /// The model sent; the emulator's scenario file matches on it (or on the BFL path it names).
    pub model: &'static str,
    /// Calls, one after the other.
    pub calls: usize,
    /// Media bytes each call must yield (the image, the speech); 0 for a job's image (any size).
    pub bytes_per_call: usize,
}

/// The media scenarios. They are not in [`SCENARIOS`], so `bench-runner` (which runs every client on
/// those) is unchanged; `bench-client --scenario 13..18` runs them.
pub const MEDIA_SCENARIOS: &[MediaScenario] = &[
    MediaScenario {
        id: 13,
        name: "S13 one 4 MiB base64 image",
        media: Media::Image,
        model: "gpt-image-1",
        calls: 1,
        bytes_per_call: IMAGE_BYTES,
    },
    MediaScenario {
        id: 14,
        name: "S14 ten 4 MiB base64 images",
        media: Media::Image,
        model: "gpt-image-1",
        calls: 10,
        bytes_per_call: IMAGE_BYTES,
    },
    MediaScenario {
        id: 15,
        name: "S15 one 20 MiB speech stream",
        media: Media::Speech,
        model: "tts-1",
        calls: 1,
        bytes_per_call: SPEECH_BYTES,
    },
    MediaScenario {
        id: 16,
        name: "S16 five 20 MiB speech streams",
        media: Media::Speech,
        model: "tts-1",
        calls: 5,
        bytes_per_call: SPEECH_BYTES,
    },
    MediaScenario {
        id: 17,
        name: "S17 one job settled at its first poll",
        media: Media::Job { polls: 1 },
        model: "flux-dev",
        calls: 1,
        bytes_per_call: 0,
    },
    MediaScenario {
        id: 18,
        name: "S18 one job of 50 polls",
        media: Media::Job { polls: 50 },
        model: "flux-pro-1.1",
        calls: 1,
        bytes_per_call: 0,
    },
];

/// The media scenario with this id.
pub fn media_scenario(id: u8) -> Option<&'static MediaScenario> {
    MEDIA_SCENARIOS.iter().find(|s| s.id == id)
}

impl MediaScenario {
    /// The unit of its per-unit figure: an image, a MiB of speech, a poll.
    pub fn unit(&self) -> &'static str {
        match self.media {
            Media::Image => "image",
            Media::Speech => "MiB of speech",
            Media::Job { .. } => "poll",
        }
    }

    /// How many of those units it has (the per-unit figure is the difference between two scenarios of
    /// the same media divided by the difference of their units).
    pub fn units(&self) -> f64 {
        let each = match self.media {
            Media::Image => 1.0,
            Media::Speech => self.bytes_per_call as f64 / (1024.0 * 1024.0),
            Media::Job { polls } => polls as f64,
        };
        self.calls as f64 * each
    }

    /// Checks what a client received: every image or speech byte (media chunks are not counted for
    /// speech, whose reads the network cuts as it likes), one image per image call or job.
    pub fn check(&self, client: &str, got: Counted) -> Result<(), BenchError> {
        let bytes_ok = match self.bytes_per_call {
            0 => got.bytes > 0,
            each => got.bytes == self.calls * each,
        };
        let chunks_ok = self.media == Media::Speech || got.chunks == self.calls;
        if !(bytes_ok && chunks_ok) {
            return Err(BenchError::Failed(format!(
                "{client} on scenario {}: received {} items / {} bytes, expected {} / {}",
                self.id,
                got.chunks,
                got.bytes,
                self.calls,
                self.calls * self.bytes_per_call
            )));
        }
        Ok(())
    }
}

/// What `bench-client` prints: one JSON line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// The client.
    pub client: String,
    /// The scenario id.
    pub scenario: u8,
    /// Set when the client cannot run this scenario (the API is not supported); nothing else is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub na: Option<String>,
    /// Wall time of the scenario itself, measured inside the client (client construction
    /// included, process start-up excluded), in milliseconds.
    pub wall_ms: f64,
    /// Calls made.
    pub calls: usize,
    /// Text chunks received (non-empty text deltas; one per unary reply).
    pub chunks: usize,
    /// Text bytes received.
    pub bytes: usize,
    /// Scenario 4: the most tokio tasks alive at any stream's first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_alive_tasks: Option<usize>,
}

/// Why a client did not complete a scenario.
#[derive(Debug)]
pub enum BenchError {
    /// The client does not support what the scenario needs.
    NotApplicable(String),
    /// Anything else: a bug or a failed call.
    Failed(String),
}

impl BenchError {
    /// A failure from any error.
    pub fn failed(e: impl std::fmt::Display) -> Self {
        BenchError::Failed(e.to_string())
    }
}

/// What one call yielded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counted {
    /// Non-empty text chunks.
    pub chunks: usize,
    /// Text bytes.
    pub bytes: usize,
}

impl Counted {
    /// Count one text delta (empty deltas are not chunks).
    #[inline]
    pub fn add(&mut self, text: &str) {
        if !text.is_empty() {
            self.chunks += 1;
            self.bytes += text.len();
        }
    }
}

/// Samples the runtime's live task count when a stream yields its first chunk (scenario 4), to
/// show whether a client spawns a task per stream. Reading the count is one atomic load.
#[derive(Debug, Default)]
pub struct TaskProbe {
    enabled: bool,
    max: AtomicUsize,
}

impl TaskProbe {
    /// A probe that samples (`enabled`) or does nothing.
    pub fn new(enabled: bool) -> Self {
        TaskProbe { enabled, max: AtomicUsize::new(0) }
    }

    /// A stream received its first chunk.
    #[inline]
    pub fn first_chunk(&self) {
        if self.enabled
            && let Ok(h) = tokio::runtime::Handle::try_current()
        {
            self.max.fetch_max(h.metrics().num_alive_tasks(), Ordering::Relaxed);
        }
    }

    /// The maximum seen, if enabled.
    pub fn max(&self) -> Option<usize> {
        self.enabled.then(|| self.max.load(Ordering::Relaxed))
    }
}

/// An async client under test. Each method makes one call and returns what it yielded; streams
/// are consumed to the end.
pub trait BenchClient {
    /// One non-streaming call; returns the reply text's length.
    fn unary(&self, api: Api, model: &str) -> impl Future<Output = Result<Counted, BenchError>>;
    /// One streaming call, consumed to the end. `probe.first_chunk()` is called at the first text
    /// chunk.
    fn stream(&self, api: Api, model: &str, probe: &TaskProbe) -> impl Future<Output = Result<Counted, BenchError>>;
}

/// Checks that what a client received is exactly what the scenario sent.
pub fn check(s: &Scenario, client: &str, got: Counted) -> Result<(), BenchError> {
    if got.chunks != s.expected_chunks() || got.bytes != s.expected_bytes() {
        return Err(BenchError::Failed(format!(
            "{client} on scenario {}: received {} chunks / {} bytes, expected {} / {}",
            s.id,
            got.chunks,
            got.bytes,
            s.expected_chunks(),
            s.expected_bytes()
        )));
    }
    Ok(())
}

/// Runs scenario `s` with an async client: sequential calls in order, or all calls at once on
/// the current task (no task spawned by the benchmark itself).
pub async fn run_async<C: BenchClient>(client: &C, s: &Scenario, probe: &TaskProbe) -> Result<Counted, BenchError> {
    use futures::{StreamExt, TryStreamExt};

    let mut total = Counted::default();
    if s.concurrent || s.width > 1 {
        let width = if s.concurrent { s.calls } else { s.width };
        let calls = futures::stream::iter(0..s.calls)
            .map(|_| async {
                if s.streaming {
                    client.stream(s.api, s.model, probe).await
                } else {
                    client.unary(s.api, s.model).await
                }
            })
            .buffer_unordered(width);
        total = calls
            .try_fold(Counted::default(), |mut acc, c| async move {
                acc.chunks += c.chunks;
                acc.bytes += c.bytes;
                Ok(acc)
            })
            .await?;
    } else {
        for _ in 0..s.calls {
            let c = if s.streaming {
                client.stream(s.api, s.model, probe).await?
            } else {
                client.unary(s.api, s.model).await?
            };
            total.chunks += c.chunks;
            total.bytes += c.bytes;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_scenarios_have_their_own_ids_and_check_what_arrived() {
        for m in MEDIA_SCENARIOS {
            assert!(scenario(m.id).is_none(), "S{} is also a text scenario", m.id);
            assert_eq!(media_scenario(m.id).map(|s| s.id), Some(m.id));
        }
        let image = media_scenario(14).unwrap();
        assert!(image.check("c", Counted { chunks: 10, bytes: 10 * IMAGE_BYTES }).is_ok());
        assert!(image.check("c", Counted { chunks: 10, bytes: 10 * IMAGE_BYTES - 1 }).is_err());
        assert!(image.check("c", Counted { chunks: 9, bytes: 10 * IMAGE_BYTES }).is_err());
        // Speech is counted in bytes only: the network cuts the reads as it likes.
        let speech = media_scenario(16).unwrap();
        assert!(speech.check("c", Counted { chunks: 641, bytes: 5 * SPEECH_BYTES }).is_ok());
        // A job's image has no fixed size, but there must be one per job.
        let job = media_scenario(18).unwrap();
        assert!(job.check("c", Counted { chunks: 1, bytes: 850 }).is_ok());
        // The units the runner divides by: 9 images, 80 MiB, 49 polls.
        let extra = |a: u8, b: u8| media_scenario(b).unwrap().units() - media_scenario(a).unwrap().units();
        assert_eq!((extra(13, 14), extra(15, 16), extra(17, 18)), (9.0, 80.0, 49.0));
        assert!(job.check("c", Counted { chunks: 1, bytes: 0 }).is_err());
    }
}
