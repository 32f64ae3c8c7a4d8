//! `celeste text generate` and every `analyze`: one text call, streamed to the terminal, against the
//! real provider when its key is set, otherwise against the bundled emulator started in-process.

use std::io::Write;

use celeste::text::{Generate, Unary};
use celeste::types::Artifact;
use celeste::types::{FinishKind, Output};
use celeste::{Auth, Client, Credentials, Error, Message, Protocol, Provider, Vertex};
use celeste_emulator::{Config, Emulator};
use futures::StreamExt;

use crate::args::{Endpoint, Global, Target, TextParams};
use crate::trace::Telemetry;

/// Where the call goes, and the emulator serving it if one was started.
pub(crate) struct Route {
    pub(crate) provider: Option<Provider>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) base_url: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) auth: Option<Auth>,
    pub(crate) emulator: Option<Emulator>,
    pub(crate) note: Option<String>,
}

/// What a media command runs with: the client (with the telemetry the flags ask for), and where
/// the call goes (the provider, or the emulator).
pub(crate) struct Session {
    pub client: Client,
    pub telemetry: Option<Telemetry>,
    pub route: Route,
}

impl Session {
    /// The client and route for `model` at `endpoint`; says when the emulator answers.
    pub(crate) async fn start(global: &Global, model: &str, endpoint: &Endpoint) -> Result<Session, Error> {
        let telemetry = Telemetry::new(global.trace, global.otlp_endpoint.as_deref()).map_err(Error::InvalidInput)?;
        let mut builder = Client::builder();
        if let Some(t) = &telemetry {
            builder = builder.telemetry(t.config());
        }
        let client = builder.build()?;
        let route = route(&Target::at(model, None, endpoint)).await?;
        if let Some(note) = &route.note {
            eprintln!("celeste: {note}");
        }
        Ok(Session { client, telemetry, route })
    }

    /// Print the telemetry summary (once the client, and so its exporters, are done) and stop the
    /// emulator.
    pub(crate) async fn finish(self) {
        let Session { client, telemetry, route } = self;
        drop(client);
        if let Some(t) = telemetry {
            let summary = tokio::task::spawn_blocking(move || t.finish()).await.ok().flatten();
            if let Some(s) = summary {
                let _ = crate::out(&s);
            }
        }
        if let Some(e) = route.emulator {
            e.shutdown().await;
        }
    }
}

fn parse<T: std::str::FromStr<Err = Error>>(v: &Option<String>) -> Result<Option<T>, Error> {
    v.as_deref().map(str::parse).transpose()
}

/// The value of the environment variable `name` that `flag` named. Messages name the variable,
/// never its value (a key).
fn env_value(flag: &str, name: &str) -> Result<String, Error> {
    // `std::env::var` panics on such names.
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(Error::InvalidInput(format!("{flag}: `{name}` is not an environment variable name")));
    }
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        Ok(_) => Err(Error::InvalidInput(format!("{flag}: the variable {name} is blank"))),
        Err(std::env::VarError::NotPresent) => {
            Err(Error::InvalidInput(format!("{flag}: the variable {name} is not set")))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::InvalidInput(format!("{flag}: the variable {name} is not valid UTF-8")))
        }
    }
}

/// The key the user chose for this call: `--api-key-env NAME`, else `CELESTE_API_KEY` when set.
fn explicit_key(target: &Target) -> Result<Option<String>, Error> {
    match &target.api_key_env {
        Some(name) => env_value("--api-key-env", name).map(Some),
        None => Ok(std::env::var("CELESTE_API_KEY").ok().map(|k| k.trim().to_string()).filter(|k| !k.is_empty())),
    }
}

/// Vertex AI authentication, when a `--vertex-*` flag asks for it.
fn vertex_auth(target: &Target) -> Result<Option<Auth>, Error> {
    let (project, location) = (&target.vertex_project, &target.vertex_location);
    let Some(name) = &target.vertex_token_env else {
        if project.is_some() || location.is_some() {
            return Err(Error::InvalidInput(
                "--vertex-project and --vertex-location need --vertex-token-env NAME, the variable holding an \
                 access token (`gcloud auth print-access-token`)"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let mut vertex = Vertex::with_token(env_value("--vertex-token-env", name)?);
    if let Some(p) = project {
        vertex = vertex.project(p.clone());
    }
    if let Some(l) = location {
        vertex = vertex.location(l.clone());
    }
    Ok(Some(Auth::vertex(vertex)))
}

/// `with_route!(call, route)`: the call with the route's provider, base URL, key and auth set. The
/// library's call builders share these setters by name rather than through a trait, so a macro is
/// what reaches all of them (text, images, embeddings, decisions).
macro_rules! with_route {
    ($call:expr, $route:expr) => {{
        let (mut call, route) = ($call, &$route);
        if let Some(p) = route.provider {
            call = call.provider(p);
        }
        if let Some(u) = &route.base_url {
            call = call.base_url(u.clone());
        }
        if let Some(k) = &route.api_key {
            call = call.api_key(k.as_str());
        }
        if let Some(a) = &route.auth {
            call = call.auth(a.clone());
        }
        call
    }};
}
pub(crate) use with_route;

/// Decide between the real provider and the emulator.
pub(crate) async fn route(target: &Target) -> Result<Route, Error> {
    let provider: Option<Provider> = parse(&target.provider)?;
    let protocol: Option<Protocol> = parse(&target.protocol)?;
    let api_key = explicit_key(target)?;
    let auth = vertex_auth(target)?;
    let chosen = api_key.is_some() || auth.is_some();
    let mut r =
        Route { provider, protocol, base_url: target.base_url.clone(), api_key, auth, emulator: None, note: None };
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
    let has_key = chosen || resolved.is_some_and(|p| Credentials::from_env().has_credential(p));
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
    call = with_route!(call, r);
    if let Some(p) = r.protocol {
        call = call.protocol(p);
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

/// Run one text call and print it; with `--trace`, print its span and metrics afterwards, whether
/// the call succeeded or failed.
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
    let result = match route(target).await {
        Ok(r) => {
            if let Some(note) = &r.note {
                let _ = writeln!(std::io::stderr(), "celeste: {note}");
            }
            let call = build(&client, &ask, prompt, target, params, &r);
            let result = print_call(call, global, params).await;
            if let Some(e) = r.emulator {
                e.shutdown().await;
            }
            result
        }
        Err(e) => Err(e),
    };
    drop(client);
    if let Some(t) = telemetry {
        // Exporters flush on their own threads; keep the runtime free while they do.
        let summary = tokio::task::spawn_blocking(move || t.finish()).await.ok().flatten();
        if let Some(s) = summary {
            // The call's own error, if any, is the one to report.
            let printed = crate::out(&s);
            result?;
            return printed;
        }
    }
    result
}

/// Send the call and print what it returns, streaming unless `--no-stream`.
async fn print_call(call: Generate<Unary>, global: &Global, params: &TextParams) -> Result<(), Error> {
    let look = Look::new(params.reasoning);
    if params.no_stream {
        let out = call.await?;
        if global.json {
            return print_json(&out);
        }
        if let Some(r) = out.reasoning.as_deref().filter(|r| params.reasoning && !r.is_empty()) {
            crate::out(&format!("{}\n\n", look.dim(r)))?;
        }
        crate::out(&format!("{}\n", out.content))?;
        return print_summary(&out);
    }
    let mut stream = call.stream().await?;
    let mut in_reasoning = false;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if crate::stdout_closed() {
            // Nobody reads what follows: stop here (the span records the stream as dropped).
            return Ok(());
        }
        if params.json_stream {
            crate::out(&format!("{}\n", to_json(serde_json::to_value(&chunk), false)?))?;
            continue;
        }
        if global.json {
            continue;
        }
        if let Some(r) = chunk.reasoning.as_deref().filter(|r| params.reasoning && !r.is_empty()) {
            crate::out(&look.dim(r))?;
            in_reasoning = true;
        }
        if !chunk.content.is_empty() {
            if std::mem::take(&mut in_reasoning) {
                crate::out("\n\n")?;
            }
            crate::out(&chunk.content)?;
        }
    }
    let out = stream.into_output()?;
    if params.json_stream {
        return crate::out(&format!(
            "{}\n",
            to_json(serde_json::to_value(&out).map(|o| serde_json::json!({ "output": o })), false)?
        ));
    }
    if global.json {
        return print_json(&out);
    }
    crate::out("\n")?;
    print_summary(&out)
}

/// `v` (already turned into JSON by `serde_json::to_value`) as text.
fn to_json(v: serde_json::Result<serde_json::Value>, pretty: bool) -> Result<String, Error> {
    let text = v.and_then(|v| if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) });
    text.map_err(|e| Error::InvalidInput(format!("could not print the output as JSON: {e}")))
}

fn print_json(out: &Output<String>) -> Result<(), Error> {
    crate::out(&format!("{}\n", to_json(serde_json::to_value(out), true)?))
}

/// What the output carries besides its text: tool calls, grounding sources, a refusal, and usage.
fn print_summary(out: &Output<String>) -> Result<(), Error> {
    let mut text = String::new();
    for call in &out.tool_calls {
        text.push_str(&format!("tool call: {}({})\n", call.name, call.arguments));
    }
    if let Some(g) = &out.grounding {
        for (i, source) in g.sources.iter().enumerate() {
            match &source.title {
                Some(title) => text.push_str(&format!("source [{}]: {title} <{}>\n", i + 1, source.url)),
                None => text.push_str(&format!("source [{}]: <{}>\n", i + 1, source.url)),
            }
        }
    }
    if let Some(f) = out.finish_reason.as_ref().filter(|f| f.kind == FinishKind::ContentFilter) {
        text.push_str(&format!("refused: the provider withheld the output ({})\n", f.raw));
    }
    let u = &out.usage;
    let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let finish = out.finish_reason.as_ref().map_or("-", |f| f.kind.as_str());
    text.push_str(&format!(
        "usage: input {} · output {} · total {} tokens · finish {finish} · model {}\n",
        n(u.input_tokens),
        n(u.output_tokens),
        n(u.total_tokens),
        out.metadata.response_model.as_deref().unwrap_or(&out.metadata.model)
    ));
    crate::out(&text)
}

/// How reasoning looks: dimmed when stdout is a terminal, plain otherwise (no escape codes in files
/// and pipes).
struct Look {
    dim: bool,
}

impl Look {
    fn new(reasoning: bool) -> Look {
        Look { dim: reasoning && std::io::IsTerminal::is_terminal(&std::io::stdout()) }
    }

    fn dim(&self, text: &str) -> String {
        if self.dim { format!("\x1b[2m{text}\x1b[0m") } else { text.to_string() }
    }
}
