//! `celeste videos` against the bundled emulator: no keys, no network.

use predicates::prelude::*;

mod support;
use support::*;

#[test]
fn videos_generate_and_edit_write_real_mp4s() {
    let dir = workdir("videos", "generate");
    celeste_in(&dir)
        .args(["videos", "generate", "a paper boat", "-m", "veo-3.1-fast-generate-preview", "-o", "clip.mp4"])
        .args(["--duration", "6", "--aspect-ratio", "16:9"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote clip.mp4"))
        .stderr(predicate::str::contains("using the local emulator"));
    let clip = std::fs::read(dir.join("clip.mp4")).unwrap();
    assert_eq!(&clip[4..8], b"ftyp", "an MP4 file");
    assert_eq!(celeste_emulator::mp4::duration(&clip), Some(6.0));
    let v = json_stdout(celeste_in(&dir).args([
        "videos",
        "edit",
        "clip.mp4",
        "make it night",
        "-m",
        "grok-imagine-video",
        "-o",
        "night.mp4",
        "--json",
    ]));
    assert_eq!(v["videos"][0]["path"], "night.mp4");
    assert_eq!(v["videos"][0]["mime_type"], "video/mp4");
    assert!(v["job_id"].is_string());
    assert!(celeste_emulator::mp4::boxes(&std::fs::read(dir.join("night.mp4")).unwrap()).is_some());
    // Seedance, to the default file name.
    celeste_in(&dir)
        .args(["videos", "generate", "a kite", "-m", "seedance-1-0-pro-250528", "--resolution", "720p"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote video.mp4"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn videos_bad_input_fails_before_any_request_and_leaves_no_file() {
    let dir = workdir("videos", "bad");
    std::fs::write(
        dir.join("end.png"),
        celeste_emulator::image::render(celeste_emulator::image::Format::Png, (4, 4), 1, 1.0),
    )
    .unwrap();
    celeste_in(&dir)
        .args([
            "videos",
            "generate",
            "a boat",
            "-m",
            "gemini-omni-1.1-flash",
            "--last-frame",
            "end.png",
            "-o",
            "out.mp4",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("a last frame needs a first frame"));
    celeste_in(&dir)
        .args(["videos", "generate", "a boat", "-m", "veo-3.1-generate-preview", "--duration", "5", "-o", "out.mp4"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("duration"));
    celeste_in(&dir)
        .args(["videos", "job", "no-such-job", "-m", "grok-imagine-video", "-o", "out.mp4"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("404"));
    assert!(!dir.join("out.mp4").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
