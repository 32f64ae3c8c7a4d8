//! `bench-runner [--runs N] [--scenarios 0,1,..] [--clients a,b,..] [--python] [--no-build]`
//! `bench-runner --media [--runs N] [--no-build]`
//!
//! Builds the emulator and one `bench-client-FLAVOR` per client family (each in its own cargo
//! invocation: see `celeste_bench::clients` for why), starts the `celeste-emulator` binary with
//! `bench/scenarios.json`, then for each scenario, N times, runs one `bench-client` process per
//! client (clients interleaved and rotated, so a burst of load from elsewhere on the machine hits
//! every client alike). For each child it records:
//!
//! - CPU time (user + sys) and peak RSS (`ru_maxrss`) from `wait4(pid)`. `wait4` returns the
//!   rusage of exactly the child it reaps. `getrusage(RUSAGE_CHILDREN)` deltas would give the CPU
//!   time too, but its `ru_maxrss` is the maximum over every child reaped so far, not a per-child
//!   figure, so it cannot be "delta'd"; `/proc/<pid>/stat` read just before reaping would miss
//!   the child's last instants and has no peak RSS. So: `wait4`.
//! - The wall time the client measured around the scenario (runtime and client construction
//!   included, process start-up excluded).
//!
//! `--python` adds the Python clients (`bench/python/bench_client.py`: celeste-ai 1.0.0, the
//! reference, and LiteLLM), measured the same way: one process per run, `wait4` rusage. They need a
//! Python ≥ 3.12; the runner looks for one (`CELESTE_BENCH_PYTHON`, `python3.13`, `python3.12`,
//! `python3`, then pyenv's versions), makes a virtual environment beside its own binary with the
//! pinned packages of `bench/python/requirements.txt`, and skips both clients with a message where
//! there is no such Python. They are opt-in because they are slow: LiteLLM spends about two minutes
//! of CPU on each S2 or S5 run.
//!
//! It prints the medians as Markdown tables with each figure's ratio to the floor and to the best
//! peer, and the verdicts against the targets of issue 8.
//!
//! `--media` runs the media scenarios instead (13 to 18: a 4 MiB base64 image, a 20 MiB speech
//! stream, a polled job; celeste-ai and the floor only, the only clients with these APIs here), the
//! same way, and prints CPU per image, per MiB of speech and per poll (each from two scenarios of the
//! same media, start-up cancelling out). It is opt-in, so the default run and its output are those of
//! the text scenarios alone.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

use celeste_bench::{CLIENTS, MEDIA_SCENARIOS, PEERS, PYTHON_CLIENTS, Report, SCENARIOS, Scenario, flavor};

struct Args {
    runs: usize,
    scenarios: Vec<u8>,
    clients: Vec<String>,
    build: bool,
    media: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        runs: 5,
        scenarios: SCENARIOS.iter().map(|s| s.id).collect(),
        clients: CLIENTS.iter().map(|c| c.to_string()).collect(),
        build: true,
        media: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--no-build" => a.build = false,
            "--media" => a.media = true,
            "--python" => a.clients.extend(PYTHON_CLIENTS.iter().map(|c| c.to_string())),
            "--runs" => a.runs = it.next().ok_or("--runs N")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--scenarios" => {
                a.scenarios = it
                    .next()
                    .ok_or("--scenarios 0,1,..")?
                    .split(',')
                    .map(|s| s.trim().parse::<u8>().map_err(|e| format!("--scenarios: {e}")))
                    .collect::<Result<_, _>>()?;
                if !a.scenarios.contains(&0) {
                    // The baseline is needed for the per-unit figures.
                    a.scenarios.insert(0, 0);
                }
            }
            "--clients" => {
                a.clients = it.next().ok_or("--clients a,b")?.split(',').map(|s| s.trim().to_owned()).collect();
                let known = |c: &str| CLIENTS.contains(&c) || PYTHON_CLIENTS.contains(&c);
                if let Some(bad) = a.clients.iter().find(|c| !known(c.as_str())) {
                    return Err(format!("unknown client {bad}"));
                }
            }
            "-h" | "--help" => {
                return Err(
                    "usage: bench-runner [--runs N] [--scenarios 0,1,..] [--clients a,b,..] [--python] [--no-build]\n       \
                     bench-runner --media [--runs N] [--no-build]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(a)
}

/// The directory holding this executable, where cargo also puts `bench-client` and
/// `celeste-emulator` of the same profile.
fn bin_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    exe.parent().map(Path::to_path_buf).ok_or_else(|| "executable has no directory".into())
}

/// Builds the emulator and one `bench-client` per flavor (see `celeste_bench::clients`), each in its
/// own cargo invocation so that no two clients share feature-unified dependencies, with the
/// runner's own profile. Each flavor's binary is copied to `bench-client-FLAVOR`. Fresh builds are
/// no-ops: cargo keeps each feature set's artifacts apart.
fn build(dir: &Path, flavors: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let release = dir.file_name().is_some_and(|n| n == "release");
    let run = |args: &[&str]| -> Result<(), String> {
        let mut cmd = Command::new(&cargo);
        cmd.arg("build").arg("--quiet").args(args);
        if release {
            cmd.arg("--release");
        }
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        let status = cmd.status().map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build {} failed: {status}", args.join(" ")));
        }
        Ok(())
    };
    run(&["-p", "celeste-emulator", "--bin", "celeste-emulator"])?;
    for f in flavors.iter().filter(|f| **f != "python") {
        eprintln!("bench-runner: building bench-client-{f}");
        run(&["-p", "celeste-bench", "--bin", "bench-client", "--no-default-features", "--features", f])?;
        std::fs::copy(dir.join("bench-client"), dir.join(format!("bench-client-{f}")))
            .map_err(|e| format!("copy bench-client-{f}: {e}"))?;
    }
    Ok(())
}

/// The emulator process; stopped with SIGINT (its clean shutdown) when dropped.
struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start(bin: &Path) -> Result<Emulator, String> {
        let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios.json");
        let mut child = Command::new(bin)
            .args(["--bind", "127.0.0.1:0", "--scenarios"])
            .arg(&scenarios)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no emulator stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("emulator stdout: {e}"))?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected emulator output {line:?}"))?
            .to_owned();
        Ok(Emulator { child, url })
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our own child, not yet reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        let _ = self.child.wait();
    }
}

/// One child's measurements.
#[derive(Debug, Clone, Copy)]
struct Sample {
    cpu_ms: f64,
    wall_ms: f64,
    rss_kib: f64,
    tasks: Option<usize>,
}

/// Waits for `pid` with `wait4` and returns its exit status and resource usage.
fn wait4(pid: u32) -> Result<(libc::c_int, libc::rusage), String> {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals of the right types; the pid is our unreaped child.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if r == pid as libc::pid_t {
            return Ok((status, usage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {err}"));
        }
    }
}

fn tv_ms(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 * 1e3 + tv.tv_usec as f64 / 1e3
}

enum Outcome {
    Sample(Sample),
    NotApplicable(String),
}

/// The interpreters tried for the Python clients, best first.
fn python_candidates() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::env::var_os("CELESTE_BENCH_PYTHON").map(PathBuf::from).into_iter().collect();
    found.extend(["python3.13", "python3.12", "python3"].map(PathBuf::from));
    // pyenv's shims answer `python3.13` with an error unless that version is selected, so its
    // installed versions are tried directly as well (the first that is new enough wins).
    if let Some(home) = std::env::var_os("HOME") {
        let versions = Path::new(&home).join(".pyenv/versions");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(versions)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin/python3")).collect())
            .unwrap_or_default();
        dirs.sort_by(|a, b| b.cmp(a));
        found.extend(dirs);
    }
    found
}

/// A Python ≥ 3.12 with the pinned packages of `bench/python/requirements.txt`, in a virtual
/// environment beside the runner (made on first use). `Ok(None)` when this machine has no such
/// Python: the caller skips the Python clients.
fn python_env(dir: &Path, install: bool) -> Result<Option<PathBuf>, String> {
    let venv = dir.join("bench-python");
    let python = venv.join("bin/python");
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|have| have == wanted) {
        return Ok(Some(python));
    }
    if !install {
        return Err(format!("{} is missing or stale (run without --no-build)", venv.display()));
    }
    let new_enough = |py: &Path| {
        Command::new(py)
            .args(["-c", "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let Some(base) = python_candidates().into_iter().find(|p| new_enough(p)) else {
        return Ok(None);
    };
    eprintln!("bench-runner: making {} with {} and {}", venv.display(), base.display(), requirements.display());
    let ok = |cmd: &mut Command| cmd.status().map_err(|e| format!("{cmd:?}: {e}")).map(|s| s.success());
    if !ok(Command::new(&base).arg("-m").arg("venv").arg("--clear").arg(&venv))? {
        return Err(format!("{} -m venv failed", base.display()));
    }
    if !ok(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?
    {
        return Err("pip install of the Python clients failed".into());
    }
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(Some(python))
}

/// How to start one client process: a `bench-client-FLAVOR` binary, or the Python script.
enum Launcher {
    Binary(PathBuf),
    Python(PathBuf),
}

impl Launcher {
    fn command(&self) -> Command {
        match self {
            Launcher::Binary(bin) => Command::new(bin),
            Launcher::Python(python) => {
                let mut cmd = Command::new(python);
                cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("python/bench_client.py"));
                // LiteLLM otherwise fetches its cost map from GitHub at import.
                cmd.env("LITELLM_LOCAL_MODEL_COST_MAP", "True");
                cmd
            }
        }
    }
}

fn run_client(launcher: &Launcher, client: &str, id: u8, url: &str) -> Result<Outcome, String> {
    let mut cmd = launcher.command();
    let mut child = cmd
        .args(["--client", client, "--scenario", &id.to_string(), "--url", url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).map_err(|e| format!("client stdout: {e}"))?;
    }
    // Reaped here, not through `child.wait()`: `wait4` is what returns the rusage. Dropping
    // `child` afterwards neither waits nor kills.
    let (status, usage) = wait4(child.id())?;
    drop(child);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{client} on scenario {id} failed (wait status {status})"));
    }
    let report: Report = serde_json::from_str(out.trim()).map_err(|e| format!("{client}: bad report {out:?}: {e}"))?;
    if let Some(na) = report.na {
        return Ok(Outcome::NotApplicable(na));
    }
    Ok(Outcome::Sample(Sample {
        cpu_ms: tv_ms(usage.ru_utime) + tv_ms(usage.ru_stime),
        wall_ms: report.wall_ms,
        rss_kib: usage.ru_maxrss as f64,
        tasks: report.max_alive_tasks,
    }))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Medians of one client on one scenario.
#[derive(Debug, Clone, Copy)]
struct Medians {
    cpu_ms: f64,
    wall_ms: f64,
    rss_mib: f64,
    tasks: Option<usize>,
    /// CPU per unit (call, chunk or run), the baseline (scenario 0) subtracted, in µs.
    net_us: f64,
}

enum Cell {
    Measured(Medians),
    NotApplicable(String),
}

type Results = BTreeMap<(u8, String), Cell>;

fn medians(samples: &[Sample]) -> Medians {
    let tasks = samples.iter().filter_map(|s| s.tasks).max();
    Medians {
        cpu_ms: median(samples.iter().map(|s| s.cpu_ms).collect()),
        wall_ms: median(samples.iter().map(|s| s.wall_ms).collect()),
        rss_mib: median(samples.iter().map(|s| s.rss_kib / 1024.0).collect()),
        tasks,
        net_us: 0.0,
    }
}

fn ratio(x: f64, base: Option<f64>) -> String {
    match base {
        Some(b) if b > 0.0 => format!("{:.2}×", x / b),
        _ => "–".into(),
    }
}

fn fmt_us(us: f64) -> String {
    if us.abs() >= 1000.0 {
        format!("{:.1} ms", us / 1e3)
    } else if us.abs() >= 1.0 {
        format!("{us:.2} µs")
    } else {
        format!("{:.0} ns", us * 1e3)
    }
}

fn measured<'a>(results: &'a Results, s: u8, client: &str) -> Option<&'a Medians> {
    match results.get(&(s, client.to_owned())) {
        Some(Cell::Measured(m)) => Some(m),
        _ => None,
    }
}

/// The best (lowest) value of `f` among the peers measured on scenario `s`, and which peer.
fn best_peer(results: &Results, s: u8, f: impl Fn(&Medians) -> f64) -> Option<(f64, &'static str)> {
    PEERS.iter().filter_map(|p| measured(results, s, p).map(|m| (f(m), *p))).min_by(|a, b| a.0.total_cmp(&b.0))
}

fn print_table(results: &Results, s: &Scenario, clients: &[String]) {
    println!("\n#### {}\n", s.name);
    let per = if s.id == 0 { "CPU".to_string() } else { format!("net CPU / {}", s.unit()) };
    println!(
        "| Client | CPU (ms) | {per} | × floor | × best peer | Wall (ms) | × floor | × best peer | Peak RSS (MiB) | × floor | × best peer |{}",
        if s.concurrent { " Max live tasks |" } else { "" }
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|{}", if s.concurrent { "---:|" } else { "" });
    let floor = measured(results, s.id, "floor");
    let net = |m: &Medians| if s.id == 0 { m.cpu_ms * 1e3 } else { m.net_us };
    let bp_cpu = best_peer(results, s.id, net).map(|b| b.0);
    let bp_wall = best_peer(results, s.id, |m| m.wall_ms).map(|b| b.0);
    let bp_rss = best_peer(results, s.id, |m| m.rss_mib).map(|b| b.0);
    for c in clients {
        match results.get(&(s.id, c.clone())) {
            Some(Cell::Measured(m)) => println!(
                "| {c} | {:.1} | {} | {} | {} | {:.1} | {} | {} | {:.1} | {} | {} |{}",
                m.cpu_ms,
                fmt_us(net(m)),
                ratio(net(m), floor.map(net)),
                ratio(net(m), bp_cpu),
                m.wall_ms,
                ratio(m.wall_ms, floor.map(|f| f.wall_ms)),
                ratio(m.wall_ms, bp_wall),
                m.rss_mib,
                ratio(m.rss_mib, floor.map(|f| f.rss_mib)),
                ratio(m.rss_mib, bp_rss),
                if s.concurrent {
                    format!(" {} |", m.tasks.map_or("–".into(), |t| t.to_string()))
                } else {
                    String::new()
                }
            ),
            Some(Cell::NotApplicable(_)) => {
                println!("| {c} | N/A | | | | | | | | | |{}", if s.concurrent { " |" } else { "" })
            }
            None => {}
        }
    }
    let na: Vec<_> = clients
        .iter()
        .filter_map(|c| match results.get(&(s.id, c.clone())) {
            Some(Cell::NotApplicable(why)) => Some(format!("{c}: {why}")),
            _ => None,
        })
        .collect();
    if !na.is_empty() {
        println!("\nN/A — {}.", na.join("; "));
    }
}

fn verdicts(results: &Results) {
    println!("\n#### Verdicts (celeste, async API)\n");
    let celeste = |s| measured(results, s, "celeste");
    let floor = |s| measured(results, s, "floor");
    let line = |name: &str, ok: Option<bool>, detail: String| {
        let mark = match ok {
            Some(true) => "MET",
            Some(false) => "MISSED",
            None => "not measured",
        };
        println!("- {name}: **{mark}** — {detail}");
    };
    // S1 and S2: CPU per unit against the floor and the best peer.
    for (s, floor_max, peer_min) in [(1u8, 1.2, 1.2), (2u8, 1.3, 1.5)] {
        let name = format!(
            "S{s} CPU/{} ≤ {floor_max}× floor and ≥ {peer_min}× better than the best peer",
            if s == 1 { "call" } else { "chunk" }
        );
        match (celeste(s), floor(s), best_peer(results, s, |m| m.net_us)) {
            (Some(c), Some(f), Some((bp, who))) => {
                let vs_floor = c.net_us / f.net_us;
                let vs_peer = bp / c.net_us;
                line(
                    &name,
                    Some(vs_floor <= floor_max && vs_peer >= peer_min),
                    format!(
                        "celeste {} vs floor {} ({vs_floor:.2}×); best peer {who} {} ({vs_peer:.2}× celeste)",
                        fmt_us(c.net_us),
                        fmt_us(f.net_us),
                        fmt_us(bp)
                    ),
                );
            }
            _ => line(&name, None, "missing data".into()),
        }
    }
    match (celeste(3), floor(3)) {
        (Some(c), Some(f)) => line(
            "S3 ≤ 2× floor (net CPU of the 5 MiB event)",
            Some(c.net_us / f.net_us <= 2.0),
            format!("celeste {} vs floor {} ({:.2}×)", fmt_us(c.net_us), fmt_us(f.net_us), c.net_us / f.net_us),
        ),
        _ => line("S3 ≤ 2× floor", None, "missing data".into()),
    }
    match (celeste(4), floor(4)) {
        (Some(c), Some(f)) => {
            // Every client has one connection task per stream (hyper's); a task per stream of its
            // own would add another 2,000. Sampling jitter is allowed 10% of the stream count.
            let streams = SCENARIOS.iter().find(|s| s.id == 4).map_or(0, |s| s.calls);
            let no_task = match (c.tasks, f.tasks) {
                (Some(ct), Some(ft)) => ct <= ft + streams / 10,
                _ => false,
            };
            line(
                "S4 peak RSS ≤ 1.3× floor and no task spawned per stream",
                Some(c.rss_mib / f.rss_mib <= 1.3 && no_task),
                format!(
                    "celeste {:.1} MiB vs floor {:.1} MiB ({:.2}×); max live tasks celeste {} vs floor {}",
                    c.rss_mib,
                    f.rss_mib,
                    c.rss_mib / f.rss_mib,
                    c.tasks.map_or("–".into(), |t| t.to_string()),
                    f.tasks.map_or("–".into(), |t| t.to_string())
                ),
            );
        }
        _ => line("S4 peak RSS ≤ 1.3× floor", None, "missing data".into()),
    }
    // The Python clients: how many times celeste's net CPU per unit each one spends. Per chunk the
    // goal is to stay ≥ 20× ahead of the reference; per unary call the best celeste can show is the
    // floor's own ratio, so that is printed beside it.
    for py in PYTHON_CLIENTS {
        for s in [1u8, 2, 5] {
            let (Some(p), Some(c)) = (measured(results, s, py), celeste(s)) else { continue };
            let times = p.net_us / c.net_us;
            let unit = if s == 1 { "call" } else { "chunk" };
            let detail = format!("{py} {} vs celeste {} per {unit}: {times:.1}×", fmt_us(p.net_us), fmt_us(c.net_us));
            if s == 1 {
                let of_floor = floor(1).map_or("–".into(), |f| format!("{:.1}×", p.net_us / f.net_us));
                println!("- S1 {py} per call (the floor's own ratio: {of_floor}): {detail}");
            } else if *py == "celeste-python" {
                line(&format!("S{s} the reference costs ≥ 20× celeste per chunk"), Some(times >= 20.0), detail);
            } else {
                println!("- S{s} {py} per chunk: {detail}");
            }
        }
    }
}

/// The scaling rows (S6–S9 per chunk by stream length, S10–S12 per call by calls in flight), one
/// line per client, each figure with its ratio to the row's first column; then celeste's verdict:
/// its last column over its cheapest no more than the floor's, plus 10%.
fn scaling(results: &Results, clients: &[String]) {
    let groups: [(&str, &[u8], [&str; 4]); 2] = [
        ("net CPU per chunk, by stream length", &[6, 7, 8, 9], ["100", "1,000", "10,000", "100,000"]),
        ("net CPU per unary call, by calls in flight", &[10, 11, 12], ["1", "100", "1,000", ""]),
    ];
    for (title, ids, heads) in groups {
        if !ids.iter().any(|&id| clients.iter().any(|c| measured(results, id, c).is_some())) {
            continue;
        }
        println!("\n#### Scaling: {title}\n");
        let heads = &heads[..ids.len()];
        println!("| Client | {} |", heads.join(" | "));
        println!("|---|{}", "---:|".repeat(ids.len()));
        // Growth: the last column over the cheapest one. Longer streams spread a call's fixed cost
        // thinner, so the cheapest column need not be the first.
        let growth = |c: &str| -> Option<f64> {
            let figures: Vec<f64> =
                ids.iter().map(|&id| measured(results, id, c).map(|m| m.net_us)).collect::<Option<_>>()?;
            let least = figures.iter().copied().fold(f64::INFINITY, f64::min);
            Some(figures.last()? / least)
        };
        for c in clients {
            let first = measured(results, ids[0], c).map(|m| m.net_us);
            let cells: Vec<String> = ids
                .iter()
                .map(|&id| match measured(results, id, c) {
                    Some(m) => format!("{} ({})", fmt_us(m.net_us), ratio(m.net_us, first)),
                    None => "–".into(),
                })
                .collect();
            if cells.iter().any(|x| x != "–") {
                println!("| {c} | {} |", cells.join(" | "));
            }
        }
        if let (Some(c), Some(f)) = (growth("celeste"), growth("floor")) {
            let ok = c <= f * 1.1;
            println!(
                "\n- the last column is {c:.2}× celeste's cheapest, {f:.2}× for the floor: **{}**",
                if ok { "MET (no more than the floor's growth + 10%)" } else { "MISSED (grows faster than the floor)" }
            );
        }
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// `--media`: the media scenarios, celeste-ai and the floor, `runs` rounds; prints CPU per unit.
fn run_media(args: &Args, dir: &Path) -> Result<(), String> {
    const MEDIA_CLIENTS: [&str; 2] = ["floor", "celeste"];
    if args.build {
        build(dir, &["celeste"])?;
    }
    let bin = dir.join("bench-client-celeste");
    let emulator_bin = dir.join("celeste-emulator");
    for b in [&bin, &emulator_bin] {
        if !b.exists() {
            return Err(format!("{} is missing (run without --no-build)", b.display()));
        }
    }
    let emulator = Emulator::start(&emulator_bin)?;
    eprintln!("bench-runner: emulator at {}; {} runs per media scenario × client", emulator.url, args.runs);
    let load_before = loadavg();
    let launcher = Launcher::Binary(bin);
    let mut got: BTreeMap<(u8, &str), Medians> = BTreeMap::new();
    for s in MEDIA_SCENARIOS {
        let mut samples: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
        for rep in 0..args.runs {
            for c in (0..MEDIA_CLIENTS.len()).map(|i| MEDIA_CLIENTS[(i + rep) % MEDIA_CLIENTS.len()]) {
                match run_client(&launcher, c, s.id, &emulator.url)? {
                    Outcome::Sample(x) => samples.entry(c).or_default().push(x),
                    Outcome::NotApplicable(why) => return Err(format!("{c} on scenario {}: {why}", s.id)),
                }
            }
        }
        for (c, v) in samples {
            got.insert((s.id, c), medians(&v));
        }
        eprintln!("bench-runner: {} done", s.name);
    }
    drop(emulator);

    println!("Machine: {}. Load average before: {load_before}; after: {}.", machine(), loadavg());
    println!(
        "Medians of {} runs. CPU = user+sys of the client process (wait4), per unit: the difference between \
         two scenarios of the same media divided by their difference in units.",
        args.runs
    );
    println!("\n| per unit | floor CPU | celeste CPU | celeste / floor | floor peak RSS | celeste peak RSS |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    // Consecutive scenarios with the same unit: 13 and 14, 15 and 16, 17 and 18.
    let pairs = MEDIA_SCENARIOS.windows(2).filter(|w| w[0].unit() == w[1].unit());
    for w in pairs {
        let (a, b) = (&w[0], &w[1]);
        let per = |c: &str| -> Option<(f64, f64)> {
            let (ma, mb) = (got.get(&(a.id, c))?, got.get(&(b.id, c))?);
            Some(((mb.cpu_ms - ma.cpu_ms) * 1e3 / (b.units() - a.units()), mb.rss_mib))
        };
        if let (Some((f, frss)), Some((c, crss))) = (per("floor"), per("celeste")) {
            println!(
                "| per {} (S{} − S{}) | {f:.1} µs | {c:.1} µs | {:.2}× | {frss:.0} MiB | {crss:.0} MiB |",
                a.unit(),
                b.id,
                a.id,
                c / f
            );
        }
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let mut args = parse_args()?;
    let started = Instant::now();
    let dir = bin_dir()?;
    if args.media {
        return run_media(&args, &dir);
    }
    let wants_python = args.clients.iter().any(|c| flavor(c) == "python");
    let python = if wants_python { python_env(&dir, args.build)? } else { None };
    if wants_python && python.is_none() {
        eprintln!("bench-runner: no Python ≥ 3.12 on this machine: the celeste-python and litellm columns are skipped");
        args.clients.retain(|c| flavor(c) != "python");
    }
    let mut flavors: Vec<&str> = args.clients.iter().map(|c| flavor(c)).collect();
    flavors.sort_unstable();
    flavors.dedup();
    if args.build {
        build(&dir, &flavors)?;
    }
    let emulator_bin = dir.join("celeste-emulator");
    let launcher = |c: &str| match (flavor(c), &python) {
        ("python", Some(py)) => Launcher::Python(py.clone()),
        (f, _) => Launcher::Binary(dir.join(format!("bench-client-{f}"))),
    };
    let binaries = flavors.iter().filter(|f| **f != "python").map(|f| dir.join(format!("bench-client-{f}")));
    for b in binaries.chain([emulator_bin.clone()]) {
        if !b.exists() {
            return Err(format!("{} is missing (run without --no-build)", b.display()));
        }
    }
    let emulator = Emulator::start(&emulator_bin)?;
    eprintln!(
        "bench-runner: emulator at {}; {} runs per scenario × client; machine {}; load {}",
        emulator.url,
        args.runs,
        machine(),
        loadavg()
    );
    let load_before = loadavg();

    let mut results: Results = BTreeMap::new();
    for &id in &args.scenarios {
        let s = SCENARIOS.iter().find(|s| s.id == id).ok_or_else(|| format!("no scenario {id}"))?;
        let t = Instant::now();
        let mut samples: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
        let mut na: BTreeMap<&str, String> = BTreeMap::new();
        for rep in 0..args.runs {
            // Rotate the order each round, so no client is always the first process after a scenario
            // change (or after another particular client).
            let n = args.clients.len();
            for c in (0..n).map(|i| &args.clients[(i + rep) % n]) {
                if na.contains_key(c.as_str()) {
                    continue;
                }
                match run_client(&launcher(c), c, s.id, &emulator.url)? {
                    Outcome::Sample(x) => samples.entry(c).or_default().push(x),
                    Outcome::NotApplicable(why) => {
                        na.insert(c, why);
                    }
                }
            }
        }
        for (c, v) in samples {
            let mut m = medians(&v);
            if id != 0 {
                let base = measured(&results, 0, c).map_or(0.0, |b| b.cpu_ms);
                m.net_us = (m.cpu_ms - base) * 1e3 / s.units() as f64;
            }
            results.insert((id, c.to_owned()), Cell::Measured(m));
        }
        for (c, why) in na {
            results.insert((id, c.to_owned()), Cell::NotApplicable(why));
        }
        eprintln!("bench-runner: {} done in {:.1} s", s.name, t.elapsed().as_secs_f64());
    }
    drop(emulator);

    println!("Machine: {}. Load average before: {load_before}; after: {}.", machine(), loadavg());
    println!(
        "Medians of {} runs. CPU = user+sys of the client process (wait4); net CPU subtracts the client's S0 \
         baseline (process start, client construction, one call). Wall = measured inside the client. \
         Ratios below 1 are better.",
        args.runs
    );
    for &id in &args.scenarios {
        if let Some(s) = SCENARIOS.iter().find(|s| s.id == id) {
            print_table(&results, s, &args.clients);
        }
    }
    verdicts(&results);
    scaling(&results, &args.clients);
    println!("\nTotal runner wall time: {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-runner: {e}");
            ExitCode::FAILURE
        }
    }
}
