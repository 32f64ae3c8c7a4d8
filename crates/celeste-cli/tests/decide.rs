//! `celeste text decide` against the bundled emulator: no keys, no network.

use predicates::prelude::*;

mod support;
use support::*;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

#[test]
fn decide_prints_each_answer_then_usage() {
    celeste()
        .args([
            "text",
            "decide",
            r#"{"ticket": "My order never came. Refund now!"}"#,
            "--question",
            "urgent=boolean:Is it urgent?",
            "--question",
            "mood=choice:calm,angry",
            "--question",
            "severity=score:low,medium,high",
            "-m",
            "jev-latest",
            "--trace",
        ])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"(?m)^urgent: (yes|no) \(p\(yes\) = 0\.\d{3}\)$").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^mood: (calm|angry) \(confidence").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^severity: \d\.\d\d \(confidence .*0=").unwrap())
        .stdout(predicate::str::contains("usage: input"))
        .stdout(predicate::str::contains("span  generate_content jev-latest"))
        .stderr(predicate::str::contains("using the local emulator").and(predicate::str::contains("TYPESAFE_API_KEY")));
}

#[test]
fn decide_about_an_image_as_json_and_from_a_questions_file() {
    let dir = std::env::temp_dir().join(format!("celeste-decide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("cat.png");
    std::fs::write(&image, PNG).unwrap();
    let questions = dir.join("questions.json");
    std::fs::write(
        &questions,
        r#"{"where": {"type": "box", "instructions": "Locate the cat"},
            "mood": {"type": "choice", "instructions": "Mood?", "criteria": {"calm": "relaxed", "angry": null}}}"#,
    )
    .unwrap();
    let v = json_stdout(
        celeste()
            .args(["text", "decide", "--image", image.to_str().unwrap(), "--questions", questions.to_str().unwrap()])
            .args(["--question", "cat=boolean:Is there a cat?", "--json"]),
    );
    assert_eq!(v["content"]["where"]["type"], "box");
    assert_eq!(v["content"]["mood"]["type"], "choice");
    assert_eq!(v["content"]["cat"]["type"], "boolean");
    assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_questions_are_refused_before_any_call() {
    celeste()
        .args(["text", "decide", "state", "--question", "r=rank:a,b"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--question r=rank:a,b: unknown kind `rank`"));
    celeste()
        .args(["text", "decide", "state"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("questions: a decision needs at least one question"));
    celeste()
        .args(["text", "decide", "no image", "--question", "w=box:the cat"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("questions.w: a box question needs an image"));
    celeste()
        .args(["text", "decide", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("NAME=KIND[:SPEC]").and(predicate::str::contains("--questions")));
}
