//! `celeste-emulator`: serve the provider emulator from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use celeste_emulator::{Config, serve_forever};
use clap::Parser;

/// A local server that speaks the OpenAI, Anthropic, Gemini, Cohere and Ollama text wire APIs and
/// the OpenAI, xAI, BytePlus, Gemini, BFL, Ollama and Topaz image wire APIs from scenario files,
/// with timing, fault injection and scripted image jobs.
#[derive(Parser, Debug)]
#[command(name = "celeste-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// A JSON scenario file (an object with `scenarios`, or a bare array of scenarios).
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match &args.scenarios {
        Some(path) => match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("celeste-emulator: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    let config = config.bind(args.bind);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("celeste-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve_forever(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("celeste-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
