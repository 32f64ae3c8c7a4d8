//! A closed output pipe (`celeste models list --json | head -1`) ends the command quietly: no panic
//! message, and a success exit (or the conventional death by SIGPIPE).

use std::process::{Command, Stdio};

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    // The media commands write their files, then report on stdout.
    let dir = std::env::temp_dir().join(format!("celeste-cli-pipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let image = ["images", "generate", "a lighthouse", "-m", "gpt-image-1", "--emulator", "-o", "l.png"];
    let video = ["videos", "generate", "waves", "-m", "grok-imagine-video", "--emulator", "-o", "w.mp4"];
    let speech = ["audio", "speak", "Hello", "-m", "tts-1", "--emulator", "-o", "h.mp3"];
    for args in [
        &["models", "list", "--json"][..],
        &["models", "list"],
        &["--json", "models", "list"],
        &image,
        &["--json"].iter().chain(&image).copied().collect::<Vec<_>>(),
        &video,
        &["--json"].iter().chain(&video).copied().collect::<Vec<_>>(),
        &speech,
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_celeste"))
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command writes anything: every write meets a closed pipe.
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        #[cfg(unix)]
        let killed_by_sigpipe = std::os::unix::process::ExitStatusExt::signal(&done.status) == Some(13);
        #[cfg(not(unix))]
        let killed_by_sigpipe = false;
        assert!(done.status.success() || killed_by_sigpipe, "{args:?}: {:?} {stderr}", done.status);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
