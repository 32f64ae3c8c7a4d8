//! The `celeste` command against the bundled emulator: no keys, no network.

use predicates::prelude::*;

mod support;
use support::*;

#[test]
fn text_generate_streams_from_the_emulator_and_prints_usage_and_trace() {
    celeste()
        .args(["text", "generate", "Explain quantum computing", "--model", "gpt-5-mini", "--trace"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Hello from the celeste emulator"))
        .stdout(predicate::str::contains("usage: input"))
        .stdout(predicate::str::contains("span  chat gpt-5-mini"))
        .stdout(predicate::str::contains("gen_ai.usage.output_tokens"))
        .stdout(predicate::str::contains("metric gen_ai.client.operation.duration"))
        .stdout(predicate::str::contains("metric gen_ai.client.token.usage"))
        .stderr(predicate::str::contains("using the local emulator").and(predicate::str::contains("OPENAI_API_KEY")));
}

#[test]
fn json_output_is_machine_readable() {
    let v = json_stdout(celeste().args(["text", "generate", "hi", "--json"]));
    assert!(v["content"].as_str().unwrap().starts_with("Hello from the celeste emulator"));
    assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(v["finish_reason"]["kind"], "stop");
}

#[test]
fn unary_mode_and_parameters() {
    celeste()
        .args([
            "text",
            "generate",
            "hi",
            "--no-stream",
            "--temperature",
            "0.2",
            "--max-tokens",
            "50",
            "--system",
            "be brief",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Hello from the celeste emulator"));
}

#[test]
fn errors_are_one_line_with_a_hint() {
    celeste().args(["text", "generate", "hi", "--protocol", "smoke-signals"]).assert().failure().stderr(
        predicate::str::contains("unknown protocol `smoke-signals`; expected one of: openresponses, chatcompletions"),
    );
    celeste()
        .args(["text", "generate", "hi", "--model", "no-such-model"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("model `no-such-model` not found").and(predicate::str::contains("hint:")));
    celeste()
        .args(["text", "generate", "hi", "--provider", "openai", "--base-url", "http://127.0.0.1:9"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no API key for openai: set OPENAI_API_KEY"));
    celeste()
        .args(["text", "generate", "hi", "--protocol", "openresponses", "--base-url", "http://127.0.0.1:9"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("hint: could not connect"));
}

#[test]
fn images_generate_and_edit_write_real_images() {
    let dir = workdir("cli", "images");
    celeste()
        .current_dir(&dir)
        .args(["images", "generate", "a lighthouse at dusk", "-m", "gpt-image-1", "-o", "lighthouse.png"])
        .args(["--aspect-ratio", "1536x1024"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote lighthouse.png"))
        .stderr(predicate::str::contains("using the local emulator"));
    let png = std::fs::read(dir.join("lighthouse.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    // Two edits: numbered files, and JSON output that names them.
    let v = json_stdout(
        celeste()
            .current_dir(&dir)
            .args(["images", "edit", "lighthouse.png", "make it night", "-m", "gpt-image-1", "-o", "night.jpg"])
            .args(["-n", "2", "--output-format", "jpeg", "--json"]),
    );
    assert_eq!(v["images"][1]["path"], "night-2.jpg");
    assert_eq!(v["images"][0]["mime_type"], "image/jpeg");
    for name in ["night-1.jpg", "night-2.jpg"] {
        assert!(std::fs::read(dir.join(name)).unwrap().starts_with(&[0xFF, 0xD8]), "{name} is a JPEG");
    }
    // Streamed partial images, then the finished one on disk.
    celeste()
        .current_dir(&dir)
        .args(["images", "generate", "a cat", "-m", "gpt-image-1", "--stream", "-o", "cat.png"])
        .assert()
        .success();
    assert!(dir.join("cat.png").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_segment_prints_masks_from_the_emulators_job() {
    let dir = workdir("cli", "segment");
    celeste()
        .current_dir(&dir)
        .args(["images", "generate", "a truck", "-m", "gpt-image-1", "-o", "truck.png"])
        .assert()
        .success();
    // The emulator draws 16×16 images; its mask is their middle half, 8 × 8 pixels.
    celeste()
        .current_dir(&dir)
        .args(["images", "segment", "truck.png", "-m", "fal-ai/sam-3/image-rle", "--prompt", "wheel"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mask 0 score 0.950 16x16 · 64 pixels"))
        .stderr(predicate::str::contains("set FAL_KEY"));
    // Points, a box and several masks, as JSON.
    let v = json_stdout(
        celeste()
            .current_dir(&dir)
            .args(["--json", "images", "segment", "truck.png", "-m", "fal-ai/sam-3-1/image-rle"])
            .args(["--point", "10,12", "--box", "2,3,12,9", "--max-masks", "2"]),
    );
    assert_eq!(v["masks"].as_array().map(Vec::len), Some(2));
    // The box's rectangle: rows 3..9, columns 2..12; the first run is row 3 from column 2 (1-based).
    assert_eq!(v["masks"][0]["mask"], serde_json::json!({"width": 16, "height": 16, "area": 10 * 6}));
    assert!(v["masks"][0]["rle"].as_str().is_some_and(|r| r.starts_with("51 10 67 10 ")), "{v}");
    // A bad point is refused before anything is sent.
    celeste()
        .current_dir(&dir)
        .args(["images", "segment", "truck.png", "--point", "1"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--point 1"));
}

#[test]
fn images_bad_input_fails_before_any_request_and_leaves_no_file() {
    let dir = workdir("cli", "images-bad");
    celeste()
        .current_dir(&dir)
        .args(["images", "edit", "missing.png", "night", "-m", "gpt-image-1", "-o", "out.png"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no readable file"));
    celeste()
        .current_dir(&dir)
        .args(["images", "generate", "a cat", "-m", "gpt-image-1", "-n", "99", "-o", "out.png"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("num_images"));
    assert!(!dir.join("out.png").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn analyze_sends_the_media_part() {
    let dir = std::env::temp_dir().join(format!("celeste-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("pixel.png");
    // A 1x1 PNG header is enough for MIME sniffing and the data URL.
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
    std::fs::write(&png, bytes).unwrap();
    celeste()
        .args(["images", "analyze", png.to_str().unwrap(), "--prompt", "What is it?"])
        .assert()
        .success()
        .stdout(predicate::str::contains("usage:"));
    // Audio parts are not accepted by the Responses wire API: a typed error names it.
    celeste()
        .args(["audio", "analyze", "https://example.com/a.mp3"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("audio input with model gpt-5-mini"));
}

#[test]
fn models_list_filters_the_catalog() {
    celeste()
        .args(["models", "list", "--provider", "anthropic"])
        .assert()
        .success()
        .stdout(predicate::str::contains("claude-sonnet-4-5"))
        .stdout(predicate::str::contains("gpt-5").not())
        .stderr(predicate::str::contains("17 models"));
    let v = json_stdout(celeste().args(["models", "list", "--json"]));
    assert_eq!(v.as_array().unwrap().len(), 212);
    celeste()
        .args(["models", "list", "--modality", "pictures"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown modality"));
}

#[test]
fn emulator_serve_listens_and_answers() {
    use std::io::{BufRead, BufReader, Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("celeste"))
        .args(["emulator", "serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("listening on http://127.0.0.1:{port}"));
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.write_all(b"GET /_emulator/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    sock.read_to_string(&mut reply).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

/// `celeste emulator serve` on a free port, for commands that are given a `--base-url`.
struct Served(std::process::Child, String);

impl Served {
    fn start() -> Served {
        use std::io::{BufRead, BufReader};
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("celeste"))
            .args(["emulator", "serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        Served(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn base_url_keeps_a_known_models_provider_and_its_checks() {
    // Checked against the catalog before anything is sent: no connection is attempted.
    celeste()
        .args(["text", "generate", "hi", "-m", "claude-haiku-4-5", "--base-url", "http://127.0.0.1:9"])
        .args(["--max-tokens", "99999999"])
        .env("ANTHROPIC_API_KEY", "test-key")
        .assert()
        .failure()
        .stderr(predicate::str::contains("max_tokens").and(predicate::str::contains("connect").not()));
    // The provider's own wire API and path at the other base URL.
    let served = Served::start();
    celeste()
        .args(["text", "generate", "hi", "-m", "claude-haiku-4-5", "--base-url", &served.1, "--trace"])
        .env("ANTHROPIC_API_KEY", "test-key")
        .assert()
        .success()
        .stdout(predicate::str::contains("gen_ai.provider.name = anthropic"))
        .stdout(predicate::str::contains(format!("url.full = {}/v1/messages", served.1)));
}

#[test]
fn analyze_is_sent_as_the_analyze_operation() {
    let png = std::env::temp_dir().join(format!("celeste-cli-op-{}.png", std::process::id()));
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
    std::fs::write(&png, bytes).unwrap();
    celeste()
        .args(["images", "analyze", png.to_str().unwrap(), "--trace"])
        .assert()
        .success()
        .stdout(predicate::str::contains("celeste.operation = analyze"));
    celeste()
        .args(["text", "generate", "hi", "--trace"])
        .assert()
        .success()
        .stdout(predicate::str::contains("celeste.operation = generate"));
}

#[test]
fn text_embed_prints_one_vector_per_text() {
    celeste()
        .args(["text", "embed", "a cat", "a dog", "--dimensions", "128"])
        .assert()
        .success()
        .stdout(predicate::str::contains("128 dims").and(predicate::str::contains("a dog")));
    let v = json_stdout(celeste().args([
        "text",
        "embed",
        "a cat",
        "-m",
        "text-embedding-3-small",
        "--provider",
        "openai",
        "--json",
    ]));
    assert_eq!(v["content"].as_array().unwrap().len(), 1);
    assert!(v["content"][0].as_array().unwrap().len() >= 8);
}

/// A mono 16-bit PCM WAV file of `samples` silent samples at `rate`.
fn wav(rate: u32, samples: usize) -> Vec<u8> {
    let data = (samples * 2) as u32;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    w.resize(w.len() + samples * 2, 0);
    w
}

#[test]
fn live_connect_sends_a_wav_or_text_prints_transcripts_and_writes_the_answer() {
    let dir = workdir("cli", "live");
    std::fs::write(dir.join("question.wav"), wav(24_000, 2_400)).unwrap();
    celeste()
        .current_dir(&dir)
        .args(["live", "connect", "-m", "gpt-live-1", "--input", "question.wav", "-o", "answer.pcm"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("> What is the weather like?")
                .and(predicate::str::contains("It is sunny and warm.")),
        )
        .stderr(predicate::str::contains("wrote answer.pcm").and(predicate::str::contains("billed seconds")));
    assert_eq!(std::fs::read(dir.join("answer.pcm")).unwrap().len(), 3 * 960);
    let out = celeste()
        .current_dir(&dir)
        .args(["live", "connect", "-m", "gemini-3.8-live", "--text", "Say hello", "-o", "hello.pcm", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    assert_eq!(v["sample_rate"], 24000);
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert_eq!(v["messages"][1]["content"][0]["text"], "It is sunny and warm.");
    // OpenAI Live takes no text: a clear error.
    celeste()
        .current_dir(&dir)
        .args(["live", "connect", "-m", "gpt-live-1", "--text", "hi"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unsupported: sending text"));
}
