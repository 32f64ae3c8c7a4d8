//! celeste-ai, async and blocking, with its default configuration (the `celeste` flavor, built with
//! the floor, which uses the same reqwest).

use futures::StreamExt;

use crate::{API_KEY, Api, BenchClient, BenchError, Counted, PROMPT, TaskProbe};

/// celeste-ai through its facade: `client.text().generate(prompt, model)`, Chat Completions via
/// `.protocol(Protocol::ChatCompletions)`, Anthropic via `.provider(Provider::Anthropic)`.
#[derive(Debug, Clone)]
pub struct Celeste {
    client: celeste::Client,
    url: String,
}

/// Maps a celeste error: an unsupported wire API makes the scenario N/A.
fn celeste_err(e: celeste::Error) -> BenchError {
    match e {
        celeste::Error::Unsupported(u) => BenchError::NotApplicable(format!("celeste-ai: {u}")),
        other => BenchError::failed(other),
    }
}

impl Celeste {
    /// A client with the default configuration and no credentials from the environment.
    ///
    /// Diagnostic knob, not used by the runner: `BENCH_CELESTE_TELEMETRY=off` builds the client with
    /// `TelemetryConfig::disabled()`, to measure what telemetry costs when no OpenTelemetry SDK is
    /// installed.
    pub fn new(url: &str) -> Result<Celeste, BenchError> {
        let mut builder = celeste::Client::builder().credentials(celeste::Credentials::empty());
        if std::env::var("BENCH_CELESTE_TELEMETRY").is_ok_and(|v| v == "off") {
            builder = builder.telemetry(celeste::TelemetryConfig::new().disabled());
        }
        let client = builder.build().map_err(BenchError::failed)?;
        Ok(Celeste { client, url: url.to_owned() })
    }

    /// The call, routed for `api`.
    pub fn call<M>(&self, call: celeste::text::Generate<M>, api: Api) -> celeste::text::Generate<M> {
        let call = match api {
            Api::Chat => call.protocol(celeste::Protocol::ChatCompletions),
            Api::Messages => call.provider(celeste::Provider::Anthropic),
        };
        call.client(self.client.clone()).base_url(self.url.as_str()).api_key(API_KEY)
    }
}

impl BenchClient for Celeste {
    async fn unary(&self, api: Api, model: &str) -> Result<Counted, BenchError> {
        let out = self.call(self.client.text().generate(PROMPT, model), api).await.map_err(celeste_err)?;
        let mut got = Counted::default();
        got.add(&out.content);
        Ok(got)
    }

    async fn stream(&self, api: Api, model: &str, probe: &TaskProbe) -> Result<Counted, BenchError> {
        let mut stream =
            self.call(self.client.text().generate(PROMPT, model), api).stream().await.map_err(celeste_err)?;
        let mut got = Counted::default();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(celeste_err)?;
            got.add(&chunk.content);
            if got.chunks == 1 && !chunk.content.is_empty() {
                probe.first_chunk();
            }
        }
        stream.output().map_err(celeste_err)?;
        Ok(got)
    }
}

/// celeste-ai's blocking API (`celeste::blocking::text`), with the same configuration. It has no
/// concurrency of its own, so scenario 4 is N/A for it.
pub fn celeste_blocking(s: &crate::Scenario, url: &str) -> Result<Counted, BenchError> {
    if s.concurrent || s.width > 1 {
        return Err(BenchError::NotApplicable(format!(
            "the blocking API runs one call per thread; {} threads would measure the OS",
            if s.concurrent { s.calls } else { s.width }
        )));
    }
    let c = Celeste::new(url)?;
    let mut total = Counted::default();
    for _ in 0..s.calls {
        let call = c.call(celeste::blocking::text::generate(PROMPT, s.model), s.api);
        if s.streaming {
            let mut stream = call.stream().send().map_err(celeste_err)?;
            for chunk in &mut stream {
                total.add(&chunk.map_err(celeste_err)?.content);
            }
            stream.output().map_err(celeste_err)?;
        } else {
            total.add(&call.send().map_err(celeste_err)?.content);
        }
    }
    Ok(total)
}
