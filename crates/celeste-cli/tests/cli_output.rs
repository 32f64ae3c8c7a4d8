//! What `celeste text generate` prints against the emulator: tool calls, reasoning, refusals, JSON
//! for streamed calls, `--trace` of a failed call; keys chosen by environment variable name (never
//! echoed), Vertex AI flags; and a closed output pipe during a stream.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use predicates::prelude::*;

mod support;
use support::celeste;

const KEY: &str = "sk-cli-canary-0123456789";

/// Scenarios: a reply only for the right key, tool calls with reasoning, a refusal, and a reply that
/// says whether the request asked for a stream.
const SCENARIOS: &str = r#"[
  {"name": "keyed", "match": {"header": ["authorization", "Bearer sk-cli-canary-0123456789"]},
   "responses": [{"text": "authorized reply"}]},
  {"name": "tools", "match": {"contains": "weather"},
   "responses": [{"text": "Let me check.", "reasoning": "The user wants the weather.",
                  "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}]},
  {"name": "refusal", "match": {"contains": "forbidden"},
   "responses": [{"text": "", "finish_reason": "content_filter"}]},
  {"name": "streamed", "match": {"contains": "\"stream\":true"}, "responses": [{"text": "streamed reply"}]}
]"#;

/// `celeste emulator serve --scenarios …` on a free port.
struct Served(Child, String);

impl Served {
    fn start(test: &str) -> Served {
        let file = std::env::temp_dir().join(format!("celeste-cli-output-{}-{test}.json", std::process::id()));
        std::fs::write(&file, SCENARIOS).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("celeste"))
            .args(["emulator", "serve", "--bind", &format!("127.0.0.1:{port}"), "--scenarios"])
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        std::fs::remove_file(&file).ok();
        assert!(line.starts_with("listening on"), "{line}");
        Served(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stdout_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[test]
fn trace_prints_the_span_of_a_failed_call() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    celeste()
        .args(["text", "generate", "hi", "--protocol", "openresponses", "--trace"])
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .assert()
        .failure()
        .stdout(predicate::str::contains("span  chat gpt-5-mini").and(predicate::str::contains("status Error")))
        .stdout(predicate::str::contains("error.type = transport"))
        .stderr(predicate::str::contains("celeste: error:"));
}

#[test]
fn a_closed_output_pipe_during_a_stream_ends_quietly() {
    for extra in [&[][..], &["--no-stream"], &["--json-stream"]] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("celeste"))
            .args(["text", "generate", "hi", "--emulator"])
            .args(extra)
            .env_remove("OPENAI_API_KEY")
            .env_remove("CELESTE_API_KEY")
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before anything is written: every write meets a closed pipe.
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{extra:?}: {stderr}");
        #[cfg(unix)]
        let killed_by_sigpipe = std::os::unix::process::ExitStatusExt::signal(&done.status) == Some(13);
        #[cfg(not(unix))]
        let killed_by_sigpipe = false;
        assert!(done.status.success() || killed_by_sigpipe, "{extra:?}: {:?} {stderr}", done.status);
    }
}

#[test]
fn output_shows_tool_calls_reasoning_and_refusals() {
    let served = Served::start("tools");
    let base = ["--base-url", served.1.as_str(), "--api-key-env", "CELESTE_TEST_KEY"];
    let run = |flags: &[&str]| {
        stdout_of(
            celeste()
                .args(["text", "generate", "the weather in Paris?"])
                .args(base)
                .args(flags)
                .env("CELESTE_TEST_KEY", "k")
                .assert()
                .success(),
        )
    };
    // Tool calls always; reasoning only with --reasoning (plain: stdout is not a terminal).
    for mode in [&[][..], &["--no-stream"]] {
        let out = run(mode);
        assert!(out.contains("Let me check.\n"), "{mode:?}: {out}");
        assert!(out.contains("tool call: get_weather({\"city\":\"Paris\"})"), "{mode:?}: {out}");
        assert!(!out.contains("The user wants the weather."), "{mode:?}: {out}");
        let out = run(&[mode, &["--reasoning"]].concat());
        let reasoning = out.find("The user wants the weather.").expect("reasoning shown");
        assert!(reasoning < out.find("Let me check.").unwrap() && !out.contains('\u{1b}'), "{mode:?}: {out}");
    }
    celeste()
        .args(["text", "generate", "something forbidden", "--protocol", "chatcompletions"])
        .args(base)
        .env("CELESTE_TEST_KEY", "k")
        .assert()
        .success()
        .stdout(predicate::str::contains("refused: the provider withheld the output (content_filter)"));
}

#[test]
fn json_works_for_streamed_calls() {
    let served = Served::start("json");
    let base = ["--base-url", served.1.as_str(), "--api-key-env", "CELESTE_TEST_KEY"];
    let run = |flag: &str| {
        stdout_of(
            celeste().args(["text", "generate", "hi", flag]).args(base).env("CELESTE_TEST_KEY", "k").assert().success(),
        )
    };
    let out = run("--json");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["content"], "streamed reply", "streamed, then printed whole: {out}");

    let out = run("--json-stream");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (last, chunks) = lines.split_last().unwrap();
    let text: String = chunks.iter().filter_map(|c| c["content"].as_str()).collect();
    assert_eq!(text, "streamed reply");
    assert_eq!(last["output"]["content"], "streamed reply");
    assert!(last["output"]["usage"]["output_tokens"].as_u64().is_some(), "{last}");
}

/// `--api-key-env NAME` (or `CELESTE_API_KEY`) sends that key to any target, `--protocol` endpoints
/// included; the key appears in no output, `--trace` included.
#[test]
fn an_explicit_key_reaches_any_target_and_is_never_echoed() {
    let served = Served::start("keys");
    for protocol in ["chatcompletions", "openresponses"] {
        let args = ["text", "generate", "hi", "--protocol", protocol, "--base-url", served.1.as_str(), "--trace"];
        let assert = celeste().args(args).args(["--api-key-env", "MY_KEY"]).env("MY_KEY", KEY).assert().success();
        let out = assert.get_output();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(all.contains("authorized reply") && !all.contains(KEY), "{protocol}: {all}");

        celeste()
            .args(args)
            .env("CELESTE_API_KEY", KEY)
            .assert()
            .success()
            .stdout(predicate::str::contains("authorized reply").and(predicate::str::contains(KEY).not()));
    }
    celeste()
        .args(["text", "generate", "hi", "--base-url", served.1.as_str(), "--api-key-env", "NO_SUCH_VAR_FOR_CELESTE"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("NO_SUCH_VAR_FOR_CELESTE is not set"));
    celeste()
        .args(["text", "generate", "hi", "--api-key-env", "A=B"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not an environment variable name"));
    // The embedding, decision and image commands take the same flag.
    for command in [
        &["text", "embed", "a cat"][..],
        &["text", "decide", "{}", "--question", "q=boolean:Q?"],
        &["images", "generate", "a cat"],
    ] {
        celeste()
            .args(command)
            .args(["--base-url", served.1.as_str(), "--api-key-env", "NO_SUCH_VAR_FOR_CELESTE"])
            .current_dir(std::env::temp_dir())
            .assert()
            .failure()
            .stderr(predicate::str::contains("--api-key-env: the variable NO_SUCH_VAR_FOR_CELESTE is not set"));
    }
}

/// `--provider google` with the Vertex flags reaches generateContent on Vertex AI.
#[test]
fn vertex_flags_reach_generate_content() {
    let served = Served::start("vertex");
    let token = "ya29.cli-canary-token";
    let expected_url = format!(
        "url.full = {}/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        served.1
    );
    let assert = celeste()
        .args(["text", "generate", "hi", "-m", "gemini-2.5-flash", "--provider", "google", "--trace"])
        .args(["--vertex-project", "my-project", "--vertex-location", "us-central1", "--vertex-token-env", "VTOKEN"])
        .args(["--base-url", served.1.as_str()])
        .env("VTOKEN", token)
        .assert()
        .success()
        .stdout(predicate::str::contains("Hello from the celeste emulator"))
        .stdout(predicate::str::contains("gen_ai.provider.name = gcp.vertex_ai"))
        .stdout(predicate::str::contains(expected_url));
    assert!(!String::from_utf8_lossy(&assert.get_output().stdout).contains(token));
    celeste()
        .args(["text", "generate", "hi", "-m", "gemini-2.5-flash", "--vertex-project", "p"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("need --vertex-token-env"));
}
