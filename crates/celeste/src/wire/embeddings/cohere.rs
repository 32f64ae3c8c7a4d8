//! Cohere v2 `/v2/embed`: `{model, texts, input_type, embedding_types: ["float"], output_dimension}` in,
//! `{embeddings: {float: [[...]]}, meta: {billed_units}}` out. Images go as data URLs in `images`
//! (one image per call, as Cohere takes them).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{EmbedContext, EmbedInput, EmbedRequest, Embeddings};
use crate::error::{Error, Result};
use crate::types::output::Output;

pub(crate) fn build(req: &EmbedRequest, ctx: &EmbedContext) -> Result<Value> {
    let mut body = json!({"model": req.model, "embedding_types": ["float"], "input_type": "search_document"});
    let (texts, images): (Vec<&EmbedInput>, Vec<&EmbedInput>) = req.inputs.iter().partition(|i| i.is_text());
    match (texts.is_empty(), images.as_slice()) {
        (false, []) => {
            let t: Vec<&str> = texts
                .iter()
                .filter_map(|i| match i {
                    EmbedInput::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            body["texts"] = json!(t);
        }
        (true, [EmbedInput::Image(a)]) => {
            body["input_type"] = "image".into();
            body["images"] = json!([a.data_url()?]);
        }
        _ => return Err(ctx.unsupported("this mix of inputs (Cohere embeds texts, or one image)")),
    }
    if let Some(d) = req.dimensions {
        body["output_dimension"] = d.into();
    }
    Ok(body)
}

#[derive(Deserialize)]
struct Response {
    embeddings: Vectors,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Vectors {
    #[serde(default)]
    float: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    billed_units: Option<Billed>,
}

#[derive(Deserialize)]
struct Billed {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    images: Option<u64>,
}

pub(crate) fn parse(body: &Bytes, ctx: &EmbedContext) -> Result<Output<Embeddings>> {
    let r: Response =
        serde_json::from_slice(body).map_err(|e| Error::decode("a Cohere embed response", e.to_string(), body))?;
    let mut out = Output::new(r.embeddings.float, ctx.metadata());
    if let Some(b) = r.meta.and_then(|m| m.billed_units) {
        out.usage.input_tokens = b.input_tokens;
        out.usage.images = b.images;
    }
    Ok(out)
}
