//! `bench-client --client NAME --scenario N --url http://127.0.0.1:PORT`
//!
//! Runs one scenario with one client, checks that every chunk arrived, prints one JSON line
//! (`celeste_bench::Report`) and exits. Exit status 0 also for "not applicable" (the line then
//! has `na`); 1 on any failure (the reason goes to stderr).

use std::process::ExitCode;
use std::time::Instant;

use celeste_bench::{
    BenchError, CLIENTS, Counted, MediaScenario, Report, Scenario, TaskProbe, check, media_scenario, run_async,
    scenario,
};

const USAGE: &str = "usage: bench-client --client floor|celeste|celeste-blocking|async-openai|genai|rig \
                     --scenario 0..18 --url http://127.0.0.1:PORT (13..18, the media scenarios: floor and celeste only)";

/// A text scenario, or a media one (13 and up).
#[derive(Clone, Copy)]
enum Which {
    Text(&'static Scenario),
    Media(&'static MediaScenario),
}

impl Which {
    fn id(self) -> u8 {
        match self {
            Which::Text(s) => s.id,
            Which::Media(s) => s.id,
        }
    }
}

struct Args {
    client: String,
    scenario: Which,
    url: String,
}

fn parse_args() -> Result<Args, String> {
    let mut client = None;
    let mut scenario_id = None;
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--client" => client = Some(value),
            "--scenario" => scenario_id = Some(value.parse::<u8>().map_err(|e| format!("--scenario: {e}"))?),
            "--url" => url = Some(value.trim_end_matches('/').to_owned()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let client = client.ok_or("--client is required")?;
    if !CLIENTS.contains(&client.as_str()) {
        return Err(format!("unknown client {client}"));
    }
    let id = scenario_id.ok_or("--scenario is required")?;
    let scenario = scenario(id)
        .map(Which::Text)
        .or_else(|| media_scenario(id).map(Which::Media))
        .ok_or_else(|| format!("no scenario {id}"))?;
    Ok(Args { client, scenario, url: url.ok_or("--url is required")? })
}

fn run(args: &Args) -> Result<(Counted, Option<usize>), BenchError> {
    let url = args.url.as_str();
    let s = match args.scenario {
        Which::Text(s) => s,
        Which::Media(m) => return run_media(args, m).map(|c| (c, None)),
    };
    #[cfg(feature = "celeste")]
    if args.client == "celeste-blocking" {
        return celeste_bench::clients::celeste::celeste_blocking(s, url).map(|c| (c, None));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(BenchError::failed)?;
    rt.block_on(async {
        let probe = TaskProbe::new(s.concurrent);
        let got = match args.client.as_str() {
            #[cfg(feature = "celeste")]
            "floor" => run_async(&celeste_bench::floor::Floor::new(url)?, s, &probe).await,
            #[cfg(feature = "celeste")]
            "celeste" => run_async(&celeste_bench::clients::celeste::Celeste::new(url)?, s, &probe).await,
            #[cfg(feature = "async-openai")]
            "async-openai" => run_async(&celeste_bench::clients::async_openai::AsyncOpenAi::new(url)?, s, &probe).await,
            #[cfg(feature = "genai")]
            "genai" => run_async(&celeste_bench::clients::genai::Genai::new(url)?, s, &probe).await,
            #[cfg(feature = "rig")]
            "rig" => run_async(&celeste_bench::clients::rig::Rig::new(url)?, s, &probe).await,
            other => Err(BenchError::Failed(format!(
                "this bench-client was built without the `{}` feature",
                celeste_bench::flavor(other)
            ))),
        }?;
        Ok((got, probe.max()))
    })
}

/// A media scenario: celeste-ai and the floor only.
fn run_media(args: &Args, s: &MediaScenario) -> Result<Counted, BenchError> {
    #[cfg(feature = "celeste")]
    if matches!(args.client.as_str(), "celeste" | "floor") {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(BenchError::failed)?;
        return rt.block_on(celeste_bench::media::run(&args.client, s, &args.url));
    }
    #[cfg(not(feature = "celeste"))]
    let _ = args;
    Err(BenchError::NotApplicable(format!("scenario {} runs with celeste and the floor only", s.id)))
}

/// Checks what a client received against the scenario.
fn check_any(which: Which, client: &str, got: Counted) -> Result<(), BenchError> {
    match which {
        Which::Text(s) => check(s, client, got),
        Which::Media(s) => s.check(client, got),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench-client: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let result = run(&args);
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let mut report = Report { client: args.client.clone(), scenario: args.scenario.id(), ..Report::default() };
    match result.and_then(|(got, tasks)| check_any(args.scenario, &args.client, got).map(|()| (got, tasks))) {
        Ok((got, tasks)) => {
            report.wall_ms = wall_ms;
            report.calls = match args.scenario {
                Which::Text(s) => s.calls,
                Which::Media(s) => s.calls,
            };
            report.chunks = got.chunks;
            report.bytes = got.bytes;
            report.max_alive_tasks = tasks;
        }
        Err(BenchError::NotApplicable(why)) => report.na = Some(why),
        Err(BenchError::Failed(why)) => {
            eprintln!("bench-client {} scenario {}: {why}", args.client, args.scenario.id());
            return ExitCode::FAILURE;
        }
    }
    match serde_json::to_string(&report) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-client: {e}");
            ExitCode::FAILURE
        }
    }
}
