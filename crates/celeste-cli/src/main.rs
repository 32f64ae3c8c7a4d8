//! `celeste`: every celeste-ai operation from the shell.

mod args;
mod audio;
mod decide;
mod images;
mod live;
mod text;
mod trace;
mod videos;

use std::io::Write;

use clap::Parser;

use args::{
    AudioCommand, Cli, Command, DocumentsCommand, EmulatorCommand, ImagesCommand, LiveCommand, ModelsCommand,
    TextCommand, VideosCommand,
};
use celeste::Error;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("celeste: error: could not start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `eprintln!` would panic if stderr is gone too; the exit code still tells.
            let _ = writeln!(std::io::stderr(), "celeste: error: {e}{}", hint(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Set once stdout's reader has gone away: a stream stops reading what nobody will see.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write `text` to stdout: every stdout write of the command goes through here. A reader that went
/// away (`celeste models list | head -1`) is not a failure (`println!` would panic): nobody is left
/// to read the rest, so the command stops writing and succeeds, as `head` expects of what it reads
/// from.
fn out(text: &str) -> Result<(), Error> {
    if STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::InvalidInput(format!("could not write to standard output: {e}"))),
        Ok(()) => Ok(()),
    }
}

/// Write `value` to stdout as pretty JSON (`--json`), through [`out`].
fn out_json(value: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::InvalidInput(e.to_string()))?;
    out(&format!("{text}\n"))
}

/// Whether stdout's reader has gone away (see [`out`]).
fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

async fn run(cli: Cli) -> Result<(), Error> {
    let g = &cli.global;
    match cli.command {
        Command::Text(TextCommand::Generate(a)) => {
            text::run(g, text::Ask::Generate, &a.prompt, &a.target, &a.params).await
        }
        Command::Images(ImagesCommand::Analyze(a)) => analyze(g, "image", a).await,
        Command::Audio(AudioCommand::Analyze(a)) => analyze(g, "audio", a).await,
        Command::Videos(VideosCommand::Analyze(a)) => analyze(g, "video", a).await,
        Command::Documents(DocumentsCommand::Analyze(a)) => analyze(g, "document", a).await,
        Command::Text(TextCommand::Embed(a)) => embed(g, a).await,
        Command::Text(TextCommand::Decide(a)) => decide::run(g, *a).await,
        Command::Images(ImagesCommand::Generate(a)) => images::run(g, images::Ask::Generate(a)).await,
        Command::Images(ImagesCommand::Edit(a)) => images::run(g, images::Ask::Edit(a)).await,
        Command::Images(ImagesCommand::Upscale(a)) => images::run(g, images::Ask::Upscale(a)).await,
        Command::Images(ImagesCommand::Segment(a)) => images::segment(g, *a).await,
        Command::Audio(AudioCommand::Speak(a)) => audio::run(g, audio::Ask::Speak(a)).await,
        Command::Audio(AudioCommand::Transcribe(a)) => audio::run(g, audio::Ask::Transcribe(a)).await,
        Command::Audio(AudioCommand::Generate(a)) => audio::run(g, audio::Ask::Generate(a)).await,
        Command::Videos(VideosCommand::Generate(a)) => videos::run(g, videos::Ask::Generate(a)).await,
        Command::Videos(VideosCommand::Edit(a)) => videos::run(g, videos::Ask::Edit(a)).await,
        Command::Videos(VideosCommand::Job(a)) => videos::run(g, videos::Ask::Job(a)).await,
        Command::Live(LiveCommand::Connect(a)) => live::run(g, a).await,
        Command::Models(ModelsCommand::List { provider, modality, operation }) => {
            models(g.json, provider.as_deref(), modality.as_deref(), operation.as_deref())
        }
        Command::Models(ModelsCommand::Voices { model, provider }) => {
            audio::voices(g.json, &model, provider.as_deref())
        }
        Command::Emulator(EmulatorCommand::Serve { bind, scenarios }) => serve(&bind, scenarios).await,
    }
}

async fn analyze(g: &args::Global, kind: &str, a: args::AnalyzeArgs) -> Result<(), Error> {
    text::run(g, text::Ask::Analyze { kind, input: &a.input }, &a.prompt, &a.target, &a.params).await
}

/// `celeste text embed`: the vectors as JSON (`--json`: the whole output), else one line each.
async fn embed(g: &args::Global, a: args::EmbedArgs) -> Result<(), Error> {
    let target = args::Target::at(&a.model, a.protocol.clone(), &a.endpoint);
    let route = text::route(&target).await?;
    if let Some(note) = &route.note {
        let _ = writeln!(std::io::stderr(), "celeste: {note}");
    }
    let mut call = celeste::text::embed_many(a.texts.clone(), a.model.clone());
    call = crate::text::with_route!(call, route);
    if let Some(p) = route.protocol {
        call = call.protocol(p);
    }
    if let Some(d) = a.dimensions {
        call = call.dimensions(d);
    }
    let result = call.await?;
    if g.json {
        out_json(&result)?;
    } else {
        for (text, v) in a.texts.iter().zip(&result.content) {
            let head: Vec<String> = v.iter().take(4).map(|f| format!("{f:.4}")).collect();
            out(&format!("{} dims [{} …] {text}\n", v.len(), head.join(", ")))?;
        }
    }
    if let Some(e) = route.emulator {
        e.shutdown().await;
    }
    Ok(())
}

fn models(json: bool, provider: Option<&str>, modality: Option<&str>, operation: Option<&str>) -> Result<(), Error> {
    let provider: Option<celeste::Provider> = provider.map(str::parse).transpose()?;
    let modality: Option<celeste::Modality> = modality.map(str::parse).transpose()?;
    let operation: Option<celeste::Operation> = operation.map(str::parse).transpose()?;
    let models = celeste::catalog::list_models(provider, modality, operation);
    if json {
        return out_json(&models);
    }
    let mut table = String::new();
    for m in &models {
        let ops: Vec<String> = m
            .operations
            .iter()
            .map(|(modality, ops)| {
                let ops: Vec<&str> = ops.iter().map(|o| o.as_str()).collect();
                format!("{modality}:{}", ops.join(","))
            })
            .collect();
        let stream = if m.streaming { "stream" } else { "" };
        table.push_str(&format!("{:<12} {:<40} {:<28} {stream}\n", m.provider.as_str(), m.id, ops.join(" ")));
    }
    out(&table)?;
    let _ = writeln!(std::io::stderr(), "{} models", models.len());
    Ok(())
}

async fn serve(bind: &str, scenarios: Option<std::path::PathBuf>) -> Result<(), Error> {
    let mut config = match scenarios {
        Some(path) => celeste_emulator::Config::from_file(&path)
            .map_err(|e| Error::InvalidInput(format!("scenario file {}: {e}", path.display())))?,
        None => celeste_emulator::Config::default(),
    };
    config.bind = bind.parse().map_err(|e| Error::InvalidInput(format!("--bind {bind}: {e}")))?;
    let emulator = celeste_emulator::Emulator::start(config)
        .await
        .map_err(|e| Error::InvalidInput(format!("could not start the emulator on {bind}: {e}")))?;
    out(&format!("listening on {}\n", emulator.url()))?;
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    Ok(())
}

/// A hint a user can act on, for the errors that have one.
fn hint(e: &Error) -> String {
    let h = match e {
        Error::Http(h) if h.status == 401 || h.status == 403 => {
            match e.provider().and_then(celeste::providers::profile) {
                Some(p) => match p.credential {
                    Some(c) => format!("check the key in {}", c.env_var),
                    None => "check the credentials".into(),
                },
                None => "check the API key".into(),
            }
        }
        Error::Http(h) if h.status == 429 => "rate limited: wait, or lower the request rate".into(),
        Error::Timeout { .. } => "the server did not answer in time; retry, or raise the timeout".into(),
        Error::Transport { connect: true, .. } => "could not connect: check --base-url and that the server runs".into(),
        Error::ModelNotFound { .. } => "see `celeste models list`, or pass --provider or --base-url".into(),
        _ => return String::new(),
    };
    format!(" (hint: {h})")
}
