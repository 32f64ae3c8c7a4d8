//! `celeste audio` and `celeste models voices` against the bundled emulator: no keys, no network.

use predicates::prelude::*;

mod support;
use support::*;

#[test]
fn speak_streams_to_the_file_then_transcribe_reads_it_back() {
    let dir = workdir("audio", "speak");
    celeste_in(&dir)
        .args(["audio", "speak", "Hello", "-m", "tts-1", "--voice", "alloy", "--format", "wav", "-o", "hello.wav"])
        .arg("--emulator")
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote hello.wav").and(predicate::str::contains("audio/wav")));
    let wav = std::fs::read(dir.join("hello.wav")).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["hello.wav"]);

    celeste_in(&dir)
        .args(["audio", "transcribe", "hello.wav", "-m", "whisper-1", "--emulator"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Hello from the celeste emulator"));
    let v = json_stdout(celeste_in(&dir).args([
        "audio",
        "transcribe",
        "hello.wav",
        "-m",
        "scribe_v1",
        "--emulator",
        "--json",
    ]));
    assert!(v["content"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert!(v["usage"]["seconds"].as_f64().is_some(), "{v}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn speak_json_music_and_voices() {
    let dir = workdir("audio", "music");
    let v = json_stdout(
        celeste_in(&dir)
            .args(["audio", "speak", "Bonjour", "-m", "eleven_flash_v2_5", "--voice", "alicia", "--language", "fr"])
            .args(["--format", "pcm_16000", "--emulator", "--json"]),
    );
    assert_eq!(v["mime_type"], "audio/pcm");
    assert_eq!(v["sample_rate"], 16000);
    assert_eq!(v["path"], "speech.pcm");
    assert!(dir.join("speech.pcm").is_file());

    celeste_in(&dir)
        .args(["audio", "generate", "a calm piano piece", "-m", "lyria-3.5", "-o", "piano.mp3", "--emulator"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote piano.mp3").and(predicate::str::contains("audio/")));
    assert!(dir.join("piano.mp3").is_file());

    celeste_in(&dir)
        .args(["models", "voices", "-m", "tts-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("alloy").and(predicate::str::contains("marin").not()))
        .stderr(predicate::str::contains("9 voices"));
    celeste_in(&dir).args(["models", "voices", "-m", "whisper-1"]).assert().failure();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_one_line_naming_what_is_allowed() {
    let dir = workdir("audio", "bad");
    celeste_in(&dir)
        .args(["audio", "speak", "Hi", "-m", "tts-1", "--voice", "alloi", "--emulator"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("close matches: Alloy (alloy)"));
    std::fs::write(dir.join("notes.txt"), "not audio").unwrap();
    celeste_in(&dir)
        .args(["audio", "transcribe", "notes.txt", "-m", "whisper-1", "--emulator"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not audio"));
    // Nothing was written for the failed speech.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["notes.txt"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
