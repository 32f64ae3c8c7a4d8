//! Gemini embeddings: `embedContent` for one input (text, or media with optional text: one combined
//! vector), `batchEmbedContents` for several (`{requests: [{model: "models/{id}", content}]}`);
//! `dimensions` → `outputDimensionality`. A batch mixes no media with text (the reference's rule).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{EmbedContext, EmbedInput, EmbedRequest, Embeddings};
use crate::error::{Error, Result};
use crate::types::output::Output;
use crate::wire::google::{Media, media};

/// A list of inputs is a batch (one vector each); single inputs, media with an optional text, are one
/// call that gives one combined vector.
fn is_batch(req: &EmbedRequest) -> bool {
    req.batch
}

pub(crate) fn path(req: &EmbedRequest) -> Result<String> {
    let model = crate::transport::urls::path_segment(&req.model)
        .map_err(|why| Error::invalid_input(format!("the model id {:?} cannot be used: {why}", req.model)))?;
    let method = if is_batch(req) { "batchEmbedContents" } else { "embedContent" };
    Ok(format!("/v1beta/models/{model}:{method}"))
}

fn part(i: &EmbedInput) -> Result<Value> {
    let a = match i {
        EmbedInput::Text(t) => return Ok(json!({"text": t})),
        EmbedInput::Image(a) | EmbedInput::Video(a) | EmbedInput::Audio(a) => a,
    };
    Ok(match media(a)? {
        Media::Inline { mime, data } => json!({"inlineData": {"mimeType": mime, "data": data}}),
        Media::Uri { uri, mime } => json!({"fileData": {"fileUri": uri, "mimeType": mime}}),
    })
}

pub(crate) fn build(req: &EmbedRequest, ctx: &EmbedContext) -> Result<Value> {
    let with_dims = |mut v: Value| {
        if let Some(d) = req.dimensions {
            v["outputDimensionality"] = d.into();
        }
        v
    };
    if !is_batch(req) {
        let parts = req.inputs.iter().map(part).collect::<Result<Vec<_>>>()?;
        return Ok(with_dims(json!({"content": {"parts": parts}})));
    }
    if req.inputs.iter().any(|i| !i.is_text()) && req.inputs.iter().any(EmbedInput::is_text) {
        return Err(ctx.unsupported("a batch that mixes text with media (embed them separately)"));
    }
    let requests = req
        .inputs
        .iter()
        .map(|i| Ok(with_dims(json!({"model": format!("models/{}", req.model), "content": {"parts": [part(i)?]}}))))
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({"requests": requests}))
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    embedding: Option<Vector>,
    #[serde(default)]
    embeddings: Vec<Vector>,
    #[serde(default, rename = "usageMetadata")]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Vector {
    #[serde(default)]
    values: Vec<f32>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default, rename = "promptTokenCount")]
    prompt: Option<u64>,
    #[serde(default, rename = "totalTokenCount")]
    total: Option<u64>,
}

pub(crate) fn parse(body: &Bytes, ctx: &EmbedContext) -> Result<Output<Embeddings>> {
    let r: Response =
        serde_json::from_slice(body).map_err(|e| Error::decode("a Gemini embeddings response", e.to_string(), body))?;
    let vectors: Embeddings = match r.embedding {
        Some(v) => vec![v.values],
        None => r.embeddings.into_iter().map(|v| v.values).collect(),
    };
    let mut out = Output::new(vectors, ctx.metadata());
    if let Some(u) = r.usage {
        out.usage.input_tokens = u.prompt;
        out.usage.total_tokens = u.total;
    }
    Ok(out)
}
