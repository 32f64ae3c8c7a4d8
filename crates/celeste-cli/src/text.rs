//! `celeste text generate` and every `analyze`: one text call, streamed to the terminal, against the
//! real provider when its key is set, otherwise against the bundled emulator started in-process.

use std::io::Write;

use celeste::text::{Generate, Unary};
use celeste::types::Artifact;
use celeste::{Client, Credentials, Error, Message, Protocol, Provider};
use celeste_emulator::{Config, Emulator};
use futures::StreamExt;

use crate::args::{Global, Target, TextParams};
use crate::trace::Telemetry;

/// Where the call goes, and the emulator serving it if one was started.
pub(crate) struct Route {
    pub(crate) provider: Option<Provider>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) base_url: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) emulator: Option<Emulator>,
    pub(crate) note: Option<String>,
}

fn parse<T: std::str::FromStr<Err = Error>>(v: &Option<String>) -> Result<Option<T>, Error> {
    v.as_deref().map(str::parse).transpose()
}

/// Decide between the real provider and the emulator.
pub(crate) async fn route(target: &Target) -> Result<Route, Error> {
    let provider: Option<Provider> = parse(&target.provider)?;
    let protocol: Option<Protocol> = parse(&target.protocol)?;
    let mut r =
        Route { provider, protocol, base_url: target.base_url.clone(), api_key: None, emulator: None, note: None };
    if protocol.is_some() {
        return Ok(r);
    }
    if target.base_url.is_some() {
        // A model the catalog knows keeps its provider (and so its wire API, paths and parameter
        // checks) at the other base URL; an unknown id means a compatible endpoint (the library's
        // rule for a base URL without a provider).
        r.provider = provider.or_else(|| celeste::catalog::provider_of(&target.model));
        return Ok(r);
    }
    let resolved = provider.or_else(|| celeste::catalog::provider_of(&target.model));
    let env_var = resolved.and_then(celeste::providers::profile).and_then(|p| p.credential).map(|c| c.env_var);
    let has_key = resolved.is_some_and(|p| Credentials::from_env().has_credential(p));
    // A key for the provider, or an id nobody serves (the library reports it), means no emulator
    // unless asked for.
    if (has_key || resolved.is_none()) && !target.emulator {
        return Ok(r);
    }
    let emulator = Emulator::start(Config::default())
        .await
        .map_err(|e| Error::InvalidInput(format!("could not start the local emulator: {e}")))?;
    r.note = Some(match (resolved, env_var) {
        (Some(p), Some(var)) if !target.emulator => {
            format!("using the local emulator at {}: set {var} to call {p} instead", emulator.url())
        }
        _ => format!("using the local emulator at {}", emulator.url()),
    });
    r.base_url = Some(emulator.url());
    match resolved {
        Some(p) => {
            r.provider = Some(p);
            r.api_key = Some("emulator".into());
        }
        None => r.protocol = Some(Protocol::OpenResponses),
    }
    r.emulator = Some(emulator);
    Ok(r)
}

/// What the command asks for: a generation, or an analysis of one media input.
pub enum Ask<'a> {
    Generate,
    Analyze { kind: &'a str, input: &'a str },
}

/// The call for `ask`, with the route, parameters and client applied.
fn build(
    client: &Client,
    ask: &Ask<'_>,
    prompt: &str,
    target: &Target,
    params: &TextParams,
    r: &Route,
) -> Generate<Unary> {
    let model = target.model.clone();
    let mut call = match ask {
        Ask::Generate => celeste::text::generate(prompt, model),
        Ask::Analyze { kind, input } => {
            let artifact = media_artifact(input);
            match *kind {
                "image" => celeste::images::analyze(artifact, prompt, model),
                "audio" => celeste::audio::analyze(artifact, prompt, model),
                "video" => celeste::videos::analyze(artifact, prompt, model),
                _ => celeste::documents::analyze(artifact, prompt, model),
            }
        }
    }
    .client(client.clone());
    if let Some(p) = r.provider {
        call = call.provider(p);
    }
    if let Some(p) = r.protocol {
        call = call.protocol(p);
    }
    if let Some(u) = &r.base_url {
        call = call.base_url(u.clone());
    }
    if let Some(k) = &r.api_key {
        call = call.api_key(k.as_str());
    }
    if let Some(t) = params.temperature {
        call = call.temperature(t);
    }
    if let Some(n) = params.max_tokens {
        call = call.max_tokens(n);
    }
    if let Some(p) = params.top_p {
        call = call.top_p(p);
    }
    if let Some(k) = params.top_k {
        call = call.top_k(k);
    }
    if let Some(s) = params.seed {
        call = call.seed(s);
    }
    for s in &params.stop {
        call = call.stop(s.clone());
    }
    if let Some(p) = params.frequency_penalty {
        call = call.frequency_penalty(p);
    }
    if let Some(p) = params.presence_penalty {
        call = call.presence_penalty(p);
    }
    if let Some(b) = params.thinking_budget {
        call = call.thinking_budget(b);
    }
    if let Some(l) = &params.thinking_level {
        call = call.thinking_level(l.clone());
    }
    if let Some(v) = &params.verbosity {
        call = call.verbosity(v.clone());
    }
    if let Some(s) = &params.system {
        call = call.messages([Message::system(s.clone())]);
    }
    call
}

/// A media artifact from a path or URL.
fn media_artifact(input: &str) -> Artifact {
    if input.starts_with("http://") || input.starts_with("https://") {
        Artifact::from_url(input)
    } else {
        Artifact::from_path(input)
    }
}

/// Run one text call and print it.
pub async fn run(
    global: &Global,
    ask: Ask<'_>,
    prompt: &str,
    target: &Target,
    params: &TextParams,
) -> Result<(), Error> {
    let telemetry = Telemetry::new(global.trace, global.otlp_endpoint.as_deref()).map_err(Error::InvalidInput)?;
    let mut builder = Client::builder();
    if let Some(t) = &telemetry {
        builder = builder.telemetry(t.config());
    }
    let client = builder.build()?;
    let r = route(target).await?;
    if let Some(note) = &r.note {
        eprintln!("celeste: {note}");
    }
    let call = build(&client, &ask, prompt, target, params, &r);
    let out = if params.no_stream || global.json {
        call.await?
    } else {
        let mut stream = call.stream().await?;
        let mut stdout = std::io::stdout().lock();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if !chunk.content.is_empty() {
                let _ = stdout.write_all(chunk.content.as_bytes());
                let _ = stdout.flush();
            }
        }
        let _ = writeln!(stdout);
        stream.into_output()?
    };
    if global.json {
        let v = serde_json::to_string_pretty(&out).map_err(|e| Error::InvalidInput(e.to_string()))?;
        println!("{v}");
    } else {
        if params.no_stream {
            println!("{}", out.content);
        }
        let u = &out.usage;
        let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        let finish = out.finish_reason.as_ref().map_or("-", |f| f.kind.as_str());
        println!(
            "usage: input {} · output {} · total {} tokens · finish {finish} · model {}",
            n(u.input_tokens),
            n(u.output_tokens),
            n(u.total_tokens),
            out.metadata.response_model.as_deref().unwrap_or(&out.metadata.model)
        );
    }
    drop(client);
    if let Some(t) = telemetry {
        // Exporters flush on their own threads; keep the runtime free while they do.
        let summary = tokio::task::spawn_blocking(move || t.finish()).await.ok().flatten();
        if let Some(s) = summary {
            print!("{s}");
        }
    }
    if let Some(e) = r.emulator {
        e.shutdown().await;
    }
    Ok(())
}
