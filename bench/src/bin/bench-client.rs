//! `bench-client --client NAME --scenario N --url http://127.0.0.1:PORT`
//!
//! Runs one scenario with one client, checks that every chunk arrived, prints one JSON line
//! (`celeste_bench::Report`) and exits. Exit status 0 also for "not applicable" (the line then
//! has `na`); 1 on any failure (the reason goes to stderr).

use std::process::ExitCode;
use std::time::Instant;

use celeste_bench::{BenchError, CLIENTS, Counted, Report, Scenario, TaskProbe, check, run_async, scenario};

const USAGE: &str = "usage: bench-client --client floor|celeste|celeste-blocking|async-openai|genai|rig \
                     --scenario 0..5 --url http://127.0.0.1:PORT";

struct Args {
    client: String,
    scenario: &'static Scenario,
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
    let scenario = scenario(id).ok_or_else(|| format!("no scenario {id}"))?;
    Ok(Args { client, scenario, url: url.ok_or("--url is required")? })
}

fn run(args: &Args) -> Result<(Counted, Option<usize>), BenchError> {
    let s = args.scenario;
    let url = args.url.as_str();
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
    let mut report = Report { client: args.client.clone(), scenario: args.scenario.id, ..Report::default() };
    match result.and_then(|(got, tasks)| check(args.scenario, &args.client, got).map(|()| (got, tasks))) {
        Ok((got, tasks)) => {
            report.wall_ms = wall_ms;
            report.calls = args.scenario.calls;
            report.chunks = got.chunks;
            report.bytes = got.bytes;
            report.max_alive_tasks = tasks;
        }
        Err(BenchError::NotApplicable(why)) => report.na = Some(why),
        Err(BenchError::Failed(why)) => {
            eprintln!("bench-client {} scenario {}: {why}", args.client, args.scenario.id);
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
