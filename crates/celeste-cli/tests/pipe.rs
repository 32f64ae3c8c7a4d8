//! A closed output pipe (`celeste models list --json | head -1`) ends the command quietly: no panic
//! message, and a success exit (or the conventional death by SIGPIPE).

use std::process::{Command, Stdio};

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    for args in [&["models", "list", "--json"][..], &["models", "list"], &["--json", "models", "list"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_celeste"))
            .args(args)
            .current_dir(std::env::temp_dir())
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
}
