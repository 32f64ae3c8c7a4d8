//! What the CLI test suites share: the `celeste` command with nothing in its environment that could
//! send a call to a real provider (so every call goes to the bundled emulator) or change what is
//! printed, and a fresh folder per test.

#![allow(dead_code, reason = "each suite uses the part it needs")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The variables that would route a call elsewhere (a provider's key, Vertex AI's project) or change
/// the output (content capture).
const ENVIRONMENT: &[&str] = &[
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "XAI_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "COHERE_API_KEY",
    "ELEVENLABS_API_KEY",
    "GRADIUM_API_KEY",
    "BYTEPLUS_API_KEY",
    "BFL_API_KEY",
    "FAL_KEY",
    "TYPESAFE_API_KEY",
    "CELESTE_API_KEY",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
];

/// The command, run in `dir`.
pub fn celeste_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("celeste").unwrap();
    for var in ENVIRONMENT {
        c.env_remove(var);
    }
    c.current_dir(dir);
    c
}

/// The command, run in the temporary folder: one without a `.env` file, so a developer's keys
/// cannot leak in.
pub fn celeste() -> Command {
    celeste_in(&std::env::temp_dir())
}

/// A fresh, empty folder for one test's files (`suite` and `name` keep the tests apart).
pub fn workdir(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("celeste-cli-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run the command, which must succeed, and read what it printed as JSON (`--json`).
pub fn json_stdout(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}
