//! Gemini embeddings on Vertex AI: Vertex has `:embedContent` but no `:batchEmbedContents`, so a
//! batch is sent as one call per input (as the reference does), at most [`FAN_OUT`] at a time. The
//! vectors come back in input order whatever order the calls finish in; the first call to fail
//! (in time) fails the whole call and drops the ones still running. Usage is summed.

use futures::StreamExt;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::time::Instant;

use super::json_post;
use crate::error::{Error, Result};
use crate::telemetry::CallSpan;
use crate::transport::http::{HttpRequest, Transport};
use crate::types::output::Output;
use crate::vertex::Vertex;
use crate::wire::embeddings::{EmbedContext, EmbedRequest, Embeddings, EmbeddingsApi};

/// How many calls of one batch run at once: enough to hide each call's latency, few enough not to
/// trip a project's per-minute quota with one large batch.
pub(crate) const FAN_OUT: usize = 8;

/// The requests of an embeddings call on Vertex: one for a single input (or media with its text),
/// one per input for a batch. Each carries the Google credentials and the caller's extras.
#[allow(clippy::too_many_arguments, reason = "the pipeline's values, passed once")]
pub(crate) async fn vertex_requests(
    vertex: &Vertex,
    base: &str,
    api: EmbeddingsApi,
    req: &EmbedRequest,
    ctx: &EmbedContext,
    extra_body: &Option<Value>,
    extra_headers: &[(HeaderName, HeaderValue)],
    total: Option<std::time::Duration>,
) -> Result<Vec<HttpRequest>> {
    let mut headers = HeaderMap::new();
    let url = vertex.embed_host(base, &req.model, &mut headers).await?;
    for (k, v) in extra_headers.iter().cloned() {
        headers.insert(k, v);
    }
    let singles: Vec<EmbedRequest> = if req.batch {
        // A batch that mixes text and media is refused as on the Gemini API.
        api.build(req, ctx)?;
        req.inputs.iter().map(|i| EmbedRequest { inputs: vec![i.clone()], batch: false, ..req.clone() }).collect()
    } else {
        vec![req.clone()]
    };
    singles
        .iter()
        .map(|single| json_post(url.clone(), headers.clone(), api.build(single, ctx)?, extra_body, total))
        .collect()
}

/// One call's input position, output and reply body.
type Done = (usize, Output<Embeddings>, bytes::Bytes);

/// Send every request, at most [`FAN_OUT`] at once, and put the vectors back in input order.
pub(crate) async fn run(
    t: &Transport,
    api: EmbeddingsApi,
    ctx: &EmbedContext,
    requests: &[HttpRequest],
    deadline: Option<Instant>,
    span: &CallSpan,
) -> Result<Output<Embeddings>> {
    // Boxed and collected first: a lazy iterator of borrowing futures inside `buffer_unordered`
    // makes the call's future fail the compiler's `Send` check.
    let calls: Vec<BoxFuture<'_, Result<Done>>> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Box::pin(async move {
                let resp = t.send(ctx.origin, r, deadline, span).await?;
                let body = t.read_body(ctx.origin, resp, deadline).await?;
                let out = api.parse(&body, ctx)?;
                Ok((i, out, body))
            }) as BoxFuture<'_, _>
        })
        .collect();
    let mut running = futures::stream::iter(calls).buffer_unordered(FAN_OUT);
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; requests.len()];
    let (mut input, mut total) = (None::<u64>, None::<u64>);
    while let Some(done) = running.next().await {
        // The first failure ends the call; dropping `running` cancels the calls still in flight.
        let (i, out, body) = done?;
        let mut vectors = out.content.into_iter();
        let (Some(v), None) = (vectors.next(), vectors.next()) else {
            return Err(Error::decode("a Vertex AI embeddings reply", "expected exactly one vector", &body));
        };
        slots[i] = Some(v);
        let add = |sum: Option<u64>, n: Option<u64>| match (sum, n) {
            (s, None) => s,
            (s, Some(n)) => Some(s.unwrap_or(0) + n),
        };
        input = add(input, out.usage.input_tokens);
        total = add(total, out.usage.total_tokens);
    }
    // Every call succeeded, so every slot is filled.
    let vectors: Embeddings = slots.into_iter().flatten().collect();
    let mut out = Output::new(vectors, ctx.metadata());
    out.usage.input_tokens = input;
    out.usage.total_tokens = total;
    Ok(out)
}
