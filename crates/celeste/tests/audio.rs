//! Audio calls over real sockets against the project's emulator: speech (unary and streamed, bytes
//! reassembled exactly), music, transcriptions on every provider, the requests each API receives,
//! bad input refused before any request, stream faults, the blocking twins, and one span per call
//! on every way a stream ends.

use std::time::Duration;

use celeste::types::{Artifact, MimeType};
use celeste::{Client, Credentials, Error, Provider, TelemetryConfig, Timeouts};
use celeste_emulator::{Config, Emulator, Fault, Reply, Scenario};
use futures::StreamExt;

const PROVIDERS: [Provider; 6] =
    [Provider::OpenAi, Provider::ElevenLabs, Provider::Google, Provider::Groq, Provider::Mistral, Provider::Gradium];

fn builder(emu: &Emulator) -> celeste::ClientBuilder {
    let mut creds = Credentials::empty();
    let mut b = Client::builder();
    for p in PROVIDERS {
        creds = creds.with_key(p, "test-audio-key");
        b = b.base_url(p, emu.url());
    }
    b.credentials(creds)
}

fn client(emu: &Emulator) -> Client {
    builder(emu).telemetry(TelemetryConfig::new().disabled()).build().unwrap()
}

/// Read a stream to its end: how many chunks came, and the error that ended it, if one did.
async fn drain(mut s: celeste::AudioStream) -> (usize, Option<Error>) {
    let (mut ok, mut err) = (0, None);
    while let Some(item) = s.next().await {
        match item {
            Ok(_) => ok += 1,
            Err(e) => err = Some(e),
        }
    }
    (ok, err)
}

/// A real WAV to transcribe: the emulator's own speech.
async fn a_wav(c: &Client) -> Artifact {
    c.audio().speak("Hello there", "tts-1").output_format("wav").await.unwrap().content.artifact
}

#[tokio::test]
async fn openai_speech_unary_and_streamed_are_the_same_bytes() {
    // A pause between the chunks, so that they arrive as separate reads.
    let emu = Emulator::start(Config::default().default_reply(Reply::default().delay_ms(5))).await.unwrap();
    let c = client(&emu);
    let out = c.audio().speak("Hello from celeste", "tts-1").voice("Nova").speed(1.25).output_format("wav").await;
    let out = out.unwrap();
    let audio = &out.content;
    assert_eq!(audio.mime(), Some(MimeType::AudioWav));
    assert_eq!(MimeType::sniff(audio.artifact.data.as_deref().unwrap()), Some(MimeType::AudioWav));
    assert_eq!(audio.sample_rate, Some(24_000));
    assert!(audio.duration.is_some_and(|d| d > 0.5), "{:?}", audio.duration);
    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1/audio/speech");
    assert_eq!(req.header("authorization"), Some("Bearer test-audio-key"));
    let body = req.json().unwrap();
    assert_eq!(body["voice"], "nova", "the name resolves to the catalog's id");
    assert_eq!((body["speed"].as_f64(), body["response_format"].as_str()), (Some(1.25), Some("wav")));

    let call = c.audio().speak("Hello from celeste", "tts-1").voice("nova").output_format("wav").stream();
    let mut stream = call.send().await.unwrap();
    let mut bytes = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap().content);
        chunks += 1;
    }
    assert!(chunks > 1, "the audio arrives in pieces");
    assert_eq!(bytes, audio.artifact.data.as_deref().unwrap(), "byte-exact reassembly");
    assert_eq!(stream.output().unwrap().content.artifact.data.as_deref(), Some(&bytes[..]));

    let path = std::env::temp_dir().join(format!("celeste-hello-{}.wav", std::process::id()));
    audio.save(&path).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    std::fs::remove_file(&path).unwrap();
    emu.shutdown().await;
}

/// Read a speech stream to its end, asked to keep its audio or not: the bytes handed out, and the
/// output.
async fn spoken(
    call: celeste::AudioCall<celeste::text::Streaming>,
    keep: bool,
) -> (Vec<u8>, celeste::Output<celeste::types::Audio>) {
    let mut stream = call.keep_audio(keep).send().await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap().content);
    }
    (bytes, stream.into_output().unwrap())
}

/// `keep_audio(false)`: the same bytes are handed out, in as many pieces, and the output describes
/// the audio (type, rate, duration from the WAV header, usage, ids) without holding it; over a raw
/// body, Google's SSE deltas and Gradium's WebSocket.
#[tokio::test]
async fn a_stream_that_does_not_keep_its_audio_hands_out_the_same_bytes_and_holds_none() {
    let emu = Emulator::start(Config::default().default_reply(Reply::default().delay_ms(2))).await.unwrap();
    let c = client(&emu);
    #[cfg_attr(not(any(feature = "google", feature = "gradium")), allow(unused_mut))]
    let mut calls = vec![c.audio().speak("Hello from celeste, at some length", "tts-1").output_format("wav").stream()];
    #[cfg(feature = "google")]
    calls.push(c.audio().speak("Say cheerfully: have a wonderful day", "gemini-2.5-flash-preview-tts").stream());
    #[cfg(feature = "gradium")]
    calls.push(c.audio().speak("Hello over a socket", "default").output_format("pcm_16000").stream());
    for call in calls {
        let what = format!("{call:?}");
        let (kept_bytes, kept) = spoken(call.clone(), true).await;
        let (bytes, out) = spoken(call, false).await;
        assert!(!bytes.is_empty(), "{what}");
        assert_eq!(bytes, kept_bytes, "the same audio is handed out: {what}");
        assert_eq!(kept.content.artifact.data.as_deref(), Some(&kept_bytes[..]), "{what}");
        assert_eq!(out.content.artifact.data, None, "no audio held: {what}");
        assert_eq!(out.content.mime(), kept.content.mime(), "{what}");
        assert_eq!(out.content.sample_rate, kept.content.sample_rate, "{what}");
        assert_eq!(out.content.duration, kept.content.duration, "{what}");
        assert_eq!(out.content.text, kept.content.text, "{what}");
        assert_eq!(out.usage, kept.usage, "{what}");
        assert_eq!(out.finish_reason, kept.finish_reason, "{what}");
    }
    // The blocking twin, off the runtime that serves the emulator.
    let c2 = c.clone();
    let out = tokio::task::spawn_blocking(move || {
        let call = celeste::blocking::audio::speak("Hi", "tts-1").client(c2).output_format("wav").stream();
        let mut stream = call.keep_audio(false).send().unwrap();
        let n = stream.by_ref().map(|chunk| chunk.unwrap().content.len()).sum::<usize>();
        (n, stream.into_output().unwrap())
    })
    .await
    .unwrap();
    assert!(out.0 > 0);
    assert_eq!((out.1.content.artifact.data.as_ref(), out.1.content.mime()), (None, Some(MimeType::AudioWav)));
    emu.shutdown().await;
}

#[tokio::test]
async fn elevenlabs_speech_puts_voice_in_the_path_and_format_in_the_query() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let mut stream = c
        .audio()
        .speak("Bonjour", "eleven_flash_v2_5")
        .voice("alicia")
        .speed(1.1)
        .language("fr")
        .output_format("pcm_16000")
        .stream()
        .await
        .unwrap();
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        assert!(!chunk.unwrap().content.is_empty());
        n += 1;
    }
    let out = stream.into_output().unwrap();
    assert!(n >= 1);
    assert_eq!((out.content.mime(), out.content.sample_rate), (Some(MimeType::AudioPcm), Some(16_000)));
    let req = &emu.requests()[0];
    assert_eq!(req.path, "/v1/text-to-speech/BFd5oBc2DDna33pSi4Gf/stream?output_format=pcm_16000");
    assert_eq!(req.header("xi-api-key"), Some("test-audio-key"));
    let body = req.json().unwrap();
    assert_eq!(body["model_id"], "eleven_flash_v2_5");
    assert_eq!(body["voice_settings"]["speed"], 1.1);
    assert_eq!(body["language_code"], "fr");

    // Unary, default voice and format: MP3 frames, typed by the reply.
    let out = c.audio().speak("Hi", "eleven_v3").await.unwrap();
    assert_eq!(out.content.mime(), Some(MimeType::AudioMpeg));
    assert_eq!(MimeType::sniff(out.content.artifact.data.as_deref().unwrap()), Some(MimeType::AudioMpeg));
    assert_eq!(emu.requests()[1].path, "/v1/text-to-speech/eLDc7xhWxG2FElT3kUTj");
    emu.shutdown().await;
}

#[cfg(feature = "google")]
#[tokio::test]
async fn google_tts_streams_audio_deltas_and_lyria_makes_music() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let call = c.audio().speak("Say cheerfully: have a wonderful day", "gemini-2.5-flash-preview-tts");
    let call = call.voice("kore").language("en").output_format("wav");
    let whole = call.clone().await.unwrap();
    assert_eq!(whole.content.mime(), Some(MimeType::AudioWav));
    assert!(whole.content.duration.is_some_and(|d| d > 0.0));
    let mut stream = call.stream().await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap().content);
    }
    assert_eq!(bytes, whole.content.artifact.data.as_deref().unwrap());
    let out = stream.into_output().unwrap();
    assert!(out.usage.total_tokens.is_some());
    let reqs = emu.requests();
    assert_eq!(reqs[1].path, "/v1beta/interactions");
    assert_eq!(reqs[1].header("x-goog-api-key"), Some("test-audio-key"));
    let body = reqs[1].json().unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["response_format"], serde_json::json!({"type": "audio", "mime_type": "audio/wav"}));
    assert_eq!(
        body["generation_config"]["speech_config"][0],
        serde_json::json!({"voice": "Kore", "language": "en-US"})
    );

    let music = c.audio().generate("a calm piano piece", "lyria-3.5").await.unwrap();
    assert_eq!(MimeType::sniff(music.content.artifact.data.as_deref().unwrap()), Some(MimeType::AudioMpeg));
    assert!(!music.content.text.is_empty(), "Lyria's lyrics are kept");
    // Lyria does not stream.
    let err = c.audio().generate("a calm piano piece", "lyria-3.5").stream().await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn transcriptions_on_every_provider() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let wav = a_wav(&c).await;
    let path = std::env::temp_dir().join(format!("celeste-meeting-{}.wav", std::process::id()));
    wav.save(&path).await.unwrap();
    // (model, path, model field, seconds expected, tokens expected)
    let cases = [
        ("whisper-1", "/v1/audio/transcriptions", "model", true, false),
        ("gpt-4o-transcribe", "/v1/audio/transcriptions", "model", false, true),
        ("whisper-large-v3", "/openai/v1/audio/transcriptions", "model", true, false),
        ("voxtral-mini-latest", "/v1/audio/transcriptions", "model", true, true),
        ("scribe_v1", "/v1/speech-to-text", "model_id", true, false),
    ];
    for (i, (model, req_path, field, seconds, tokens)) in cases.into_iter().enumerate() {
        let out = c.audio().transcribe(Artifact::from_path(&path), model).language("en").temperature(0.0).await;
        let out = out.unwrap_or_else(|e| panic!("{model}: {e}"));
        assert!(!out.content.is_empty(), "{model}");
        assert_eq!(out.usage.seconds.is_some(), seconds, "{model}: {:?}", out.usage);
        assert_eq!(out.usage.total_tokens.is_some(), tokens, "{model}: {:?}", out.usage);
        let req = &emu.requests()[i + 1];
        assert_eq!(req.path, req_path, "{model}");
        assert!(req.header("content-type").unwrap().starts_with("multipart/form-data"), "{model}");
        let text = req.body_text();
        assert!(text.contains(&format!("name=\"{field}\"\r\n\r\n{model}")), "{model}");
        assert!(text.contains("filename=\"celeste-meeting-"), "{model}: the file keeps its name");
    }
    std::fs::remove_file(&path).unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let err = c.audio().speak("Hi", "tts-1").voice("alloi").await.unwrap_err();
    let Error::Validation(v) = &err else { panic!("{err:?}") };
    assert_eq!(v.parameter, "voice");
    assert!(v.allowed.contains("close matches: Alloy (alloy)"), "{err}");
    // tts-1 does not offer the newer voices.
    let err = c.audio().speak("Hi", "tts-1").voice("marin").await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    let err = c.audio().speak("Hi", "tts-1").output_format("mp4").await.unwrap_err();
    assert!(err.to_string().contains("audio/mpeg"), "names what is allowed: {err}");
    let err = c.audio().speak("Hi", "eleven_v3").output_format("mp3").await.unwrap_err();
    assert!(err.to_string().contains("mp3_44100_128"), "{err}");
    let err = c.audio().speak("Hi", "eleven_v3").speed(3.0).await.unwrap_err();
    assert!(err.to_string().contains("0.7"), "{err}");
    let err = c.audio().speak("   ", "tts-1").await.unwrap_err();
    assert!(err.to_string().contains("the text to speak is empty"), "{err}");
    let pdf = Artifact::from_bytes(&b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"[..]);
    let err = c.audio().transcribe(pdf, "whisper-1").await.unwrap_err();
    assert!(err.to_string().contains("application/pdf") && err.to_string().contains("not audio"), "{err}");
    let aiff = Artifact::from_bytes(&b"FORM\0\0\0\x04AIFF"[..]);
    let err = c.audio().transcribe(aiff, "whisper-1").await.unwrap_err();
    assert!(err.to_string().contains("audio/wav"), "names the types the model takes: {err}");
    let err = c.audio().transcribe(Artifact::from_bytes(&b"RIFF"[..]), "tts-1").await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    let err = c.audio().speak("Hi", "whisper-1").await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    assert!(emu.requests().is_empty(), "nothing was sent: {:?}", emu.requests());
    emu.shutdown().await;
}

#[tokio::test]
async fn stream_faults_cut_or_stall_the_audio() {
    let config = Config::default()
        .scenario(Scenario::new("reset").model("tts-1").then(Fault::reset_after_events(2)))
        .scenario(Scenario::new("stall").model("tts-1-hd").then(Fault::stall_after_events(1, 5_000)))
        .default_reply(Reply::default().chunks(6));
    let emu = Emulator::start(config).await.unwrap();
    let c = builder(&emu)
        .telemetry(TelemetryConfig::new().disabled())
        .timeouts(Timeouts::default().with_idle(Duration::from_millis(300)))
        .build()
        .unwrap();
    let s = c.audio().speak("Hello there, a longer sentence", "tts-1").stream().await.unwrap();
    let (ok, failed) = drain(s).await;
    assert!(ok >= 1, "chunks before the cut are delivered");
    assert!(failed.is_some(), "a reset mid-stream is an error");
    let mut s = c.audio().speak("Hello there", "tts-1-hd").stream().await.unwrap();
    let first = s.next().await.unwrap();
    assert!(first.is_ok());
    let err = s.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    emu.shutdown().await;
}

#[test]
fn blocking_twins() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start(Config::default())).unwrap();
    let c = client(&emu);
    let out = celeste::blocking::audio::speak("Hi", "tts-1").client(c.clone()).output_format("wav").send().unwrap();
    assert_eq!(out.content.mime(), Some(MimeType::AudioWav));
    let mut stream =
        celeste::blocking::audio::speak("Hi", "tts-1").client(c.clone()).output_format("wav").stream().send().unwrap();
    let bytes: Vec<u8> = stream.by_ref().flat_map(|c| c.unwrap().content.to_vec()).collect();
    assert_eq!(bytes, out.content.artifact.data.as_deref().unwrap());
    assert_eq!(stream.output().unwrap().content.artifact.data.as_deref(), Some(&bytes[..]));
    let heard = celeste::blocking::audio::transcribe(out.content.artifact, "whisper-1").client(c.clone()).send();
    assert!(!heard.unwrap().content.is_empty());
    #[cfg(feature = "google")]
    {
        let music = celeste::blocking::audio::generate("drums", "lyria-3-clip-preview").client(c).send().unwrap();
        assert!(music.content.artifact.data.is_some());
    }
    rt.block_on(emu.shutdown());
}

/// One span per call, ended exactly once, however the stream ends: exhausted, dropped early, failed,
/// and driven by the blocking iterator.
#[cfg(feature = "telemetry")]
#[tokio::test]
async fn one_span_per_audio_call_on_every_exit_path() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let config = Config::default()
        .scenario(Scenario::new("reset").model("tts-1-hd").then(Fault::reset_after_events(1)))
        .default_reply(Reply::default().chunks(4));
    let emu = Emulator::start(config).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = builder(&emu).telemetry(TelemetryConfig::new().tracer_provider(tp.clone())).build().unwrap();
    // Exhausted.
    let mut s = c.audio().speak("one", "tts-1").stream().await.unwrap();
    while s.next().await.is_some() {}
    drop(s);
    // Dropped after the first chunk.
    let mut s = c.audio().speak("two", "tts-1").stream().await.unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    // Failed mid-stream.
    let mut s = c.audio().speak("three, a longer one", "tts-1-hd").stream().await.unwrap();
    while s.next().await.is_some() {}
    drop(s);
    // Blocking, on a thread of its own (the emulator keeps running on this one).
    let blocking = c.clone();
    tokio::task::spawn_blocking(move || {
        let s = celeste::blocking::audio::speak("four", "gpt-4o-mini-tts").client(blocking).stream().send().unwrap();
        assert!(s.count() >= 1);
    })
    .await
    .unwrap();
    // A transcription.
    let wav = Artifact::from_bytes(emu_wav());
    c.audio().transcribe(wav, "whisper-1").await.unwrap();
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let attr = |s: &opentelemetry_sdk::trace::SpanData, k: &str| {
        s.attributes.iter().find(|kv| kv.key.as_str() == k).map(|kv| kv.value.to_string())
    };
    let calls: Vec<_> = finished.iter().filter(|s| s.name.starts_with("generate_content ")).collect();
    let names: Vec<&str> = calls.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "generate_content tts-1",
            "generate_content tts-1",
            "generate_content tts-1-hd",
            "generate_content gpt-4o-mini-tts",
            "generate_content whisper-1"
        ]
    );
    for s in &calls[..4] {
        assert_eq!(attr(s, "gen_ai.output.type").as_deref(), Some("speech"));
    }
    assert_eq!(attr(calls[4], "gen_ai.output.type").as_deref(), Some("text"));
    assert!(attr(calls[0], "error.type").is_none());
    assert!(attr(calls[2], "error.type").is_some(), "the failed stream's span says so");
    assert!(!format!("{finished:?}").contains("test-audio-key"), "no key in any span");
    emu.shutdown().await;
}

/// A small WAV (16-bit mono, 8 kHz, a tenth of a second of silence).
#[cfg(feature = "telemetry")]
fn emu_wav() -> Vec<u8> {
    let data = 1600u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&[1, 0, 1, 0]);
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 16, 0]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

/// Gradium over a WebSocket: setup, ready, text, end of input; audio frames reassembled exactly; the
/// frames the server received, in order.
#[cfg(feature = "gradium")]
#[tokio::test]
async fn gradium_speaks_over_a_websocket() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let whole = c.audio().speak("Hello over a socket", "default").voice("Zoey").output_format("pcm_16000").await;
    let whole = whole.unwrap();
    assert_eq!((whole.content.mime(), whole.content.sample_rate), (Some(MimeType::AudioPcm), Some(16_000)));
    assert!(whole.metadata.response_id.is_some(), "the request id of `ready`");
    let call = c.audio().speak("Hello over a socket", "default").voice("Zoey").output_format("pcm_16000");
    let mut stream = call.stream().await.unwrap();
    let mut bytes = Vec::new();
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap().content);
        n += 1;
    }
    assert!(n >= 2, "audio frames arrive one by one");
    assert_eq!(bytes, whole.content.artifact.data.as_deref().unwrap(), "byte-exact reassembly");
    let reqs = emu.requests();
    let (upgrade, frames): (Vec<_>, Vec<_>) = reqs.iter().take(4).partition(|r| r.method == "GET");
    assert_eq!(upgrade[0].path, "/api/speech/tts");
    assert_eq!(upgrade[0].header("x-api-key"), Some("test-audio-key"));
    let frames: Vec<serde_json::Value> = frames.iter().map(|r| r.json().unwrap()).collect();
    assert_eq!(
        frames[0],
        serde_json::json!({"type": "setup", "model_name": "default", "voice_id": "NbpkqMVS3CJeq2j8",
                           "output_format": "pcm_16000"})
    );
    assert_eq!(frames[1], serde_json::json!({"type": "text", "text": "Hello over a socket"}));
    assert_eq!(frames[2], serde_json::json!({"type": "end_of_stream"}));
    // WAV by default, with its header's duration.
    let wav = c.audio().speak("Hi", "default").await.unwrap();
    assert_eq!(MimeType::sniff(wav.content.artifact.data.as_deref().unwrap()), Some(MimeType::AudioWav));
    assert!(wav.content.duration.is_some());
    emu.shutdown().await;
}

/// The WebSocket's faults are typed errors, after the audio that came before them; a setup the
/// server refuses fails the call when it is sent.
#[cfg(feature = "gradium")]
#[tokio::test]
async fn gradium_faults_are_typed_errors() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = builder(&emu)
        .telemetry(TelemetryConfig::new().disabled())
        .timeouts(Timeouts::default().with_idle(Duration::from_millis(400)))
        .build()
        .unwrap();
    let faulty = |fault: &str| c.audio().speak("Hello there", "default").header("x-emulator-ws-fault", fault).stream();
    let mut outcomes = Vec::new();
    for fault in ["close", "error", "drop", "stall", "early-end"] {
        let (ok, err) = drain(faulty(fault).await.unwrap()).await;
        assert_eq!(ok, 1, "{fault}: the frame before the fault is delivered");
        outcomes.push((fault, err.unwrap_or_else(|| panic!("{fault}: no error"))));
    }
    let find = |f: &str| &outcomes.iter().find(|(k, _)| *k == f).unwrap().1;
    let Error::StreamEvent(e) = find("close") else { panic!("{:?}", find("close")) };
    assert_eq!(e.error_type.as_deref(), Some("websocket_close_1011"));
    let Error::StreamEvent(e) = find("error") else { panic!("{:?}", find("error")) };
    assert!(e.message.contains("synthesis failed"), "{e}");
    assert!(matches!(find("drop"), Error::Transport { .. }), "{:?}", find("drop"));
    assert!(matches!(find("stall"), Error::Timeout { .. }), "{:?}", find("stall"));
    assert!(matches!(find("early-end"), Error::StreamTruncated { .. }), "{:?}", find("early-end"));

    // Refused at setup: the call fails when it is sent.
    let err = c.audio().speak("Hi", "default").output_format("opus").stream().await.unwrap_err();
    let Error::StreamEvent(e) = &err else { panic!("{err:?}") };
    assert!(e.message.contains("opus"), "{e}");
    // Checked before any connection: a format Gradium does not have.
    let before = emu.requests().len();
    let err = c.audio().speak("Hi", "default").output_format("mp3").await.unwrap_err();
    assert!(err.to_string().contains("pcm_16000"), "{err}");
    assert_eq!(emu.requests().len(), before);
    emu.shutdown().await;
}

#[cfg(feature = "gradium")]
#[test]
fn gradium_blocking_twin() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start(Config::default())).unwrap();
    let c = client(&emu);
    let out = celeste::blocking::audio::speak("Hi", "default").client(c.clone()).send().unwrap();
    let s = celeste::blocking::audio::speak("Hi", "default").client(c).stream().send().unwrap();
    let bytes: Vec<u8> = s.flat_map(|c| c.unwrap().content.to_vec()).collect();
    assert_eq!(bytes, out.content.artifact.data.as_deref().unwrap());
    rt.block_on(emu.shutdown());
}

/// A socket's stream has one span, ended once, on every way it ends.
#[cfg(all(feature = "gradium", feature = "telemetry"))]
#[tokio::test]
async fn gradium_spans() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let spans = InMemorySpanExporter::default();
    let tp = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    let c = builder(&emu).telemetry(TelemetryConfig::new().tracer_provider(tp.clone())).build().unwrap();
    c.audio().speak("one", "default").await.unwrap();
    let mut s = c.audio().speak("two", "default").stream().await.unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    let mut s = c.audio().speak("three", "default").header("x-emulator-ws-fault", "close").stream().await.unwrap();
    while s.next().await.is_some() {}
    drop(s);
    let _ = c.audio().speak("four", "default").output_format("opus").await.unwrap_err();
    tp.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let calls: Vec<_> = finished.iter().filter(|s| s.name == "generate_content default").collect();
    assert_eq!(calls.len(), 4, "{:?}", finished.iter().map(|s| &s.name).collect::<Vec<_>>());
    let error = |s: &opentelemetry_sdk::trace::SpanData| {
        s.attributes.iter().find(|kv| kv.key.as_str() == "error.type").map(|kv| kv.value.to_string())
    };
    let errors: Vec<Option<String>> = calls.iter().map(|s| error(s)).collect();
    assert_eq!(errors[0], None, "the drained stream");
    assert_eq!(errors[1].as_deref(), Some("cancelled"), "the stream dropped early");
    assert!(errors[2].is_some() && errors[3].is_some(), "the closed socket and the refused setup: {errors:?}");
    assert!(!format!("{finished:?}").contains("test-audio-key"));
    emu.shutdown().await;
}

/// Every audio model of the catalog can be called (against the emulator), for each of its operations.
#[cfg(feature = "all-providers")]
#[tokio::test]
async fn every_catalog_audio_model_is_callable() {
    use celeste::{Modality, Operation};
    let emu = Emulator::start(Config::default()).await.unwrap();
    let c = client(&emu);
    let wav = a_wav(&c).await;
    let mut called = 0;
    for m in celeste::catalog::list_models(None, Some(Modality::Audio), None) {
        for op in &m.operations[&Modality::Audio] {
            let call = c.audio();
            let done = match op {
                Operation::Speak => {
                    call.speak("Hello", &m.id).provider(m.provider).await.map(|o| o.content.artifact.data.is_some())
                }
                Operation::Generate => {
                    call.generate("a tune", &m.id).provider(m.provider).await.map(|o| o.content.artifact.data.is_some())
                }
                Operation::Transcribe => {
                    call.transcribe(wav.clone(), &m.id).provider(m.provider).await.map(|o| !o.content.is_empty())
                }
                other => panic!("{}: unexpected audio operation {other}", m.id),
            };
            assert!(done.unwrap_or_else(|e| panic!("{} ({}) {op}: {e}", m.id, m.provider)), "{}", m.id);
            called += 1;
        }
    }
    assert_eq!(called, 33, "the 1.0.0 catalog's audio models");
    emu.shutdown().await;
}

/// An Interactions audio stream that fails mid-way: the audio deltas before the error event are
/// delivered, then the provider's error, typed.
#[cfg(feature = "google")]
#[tokio::test]
async fn google_audio_stream_error_event_is_typed() {
    let config = Config::default()
        .scenario(Scenario::new("boom").model("gemini-2.5-pro-preview-tts").then(Fault::stream_error_at(3)));
    let emu = Emulator::start(config).await.unwrap();
    let c = client(&emu);
    let s = c.audio().speak("Hello there", "gemini-2.5-pro-preview-tts").stream().await.unwrap();
    let (ok, err) = drain(s).await;
    assert!(ok >= 1, "the deltas before the error");
    let err = err.expect("an error");
    assert!(matches!(err, Error::StreamEvent(_)), "{err:?}");
    assert!(err.to_string().contains("emulated in-stream error"), "{err}");
    emu.shutdown().await;
}
