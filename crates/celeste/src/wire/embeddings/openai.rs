//! OpenAI `/v1/embeddings` (also Mistral's and any compatible server's): `{model, input, dimensions}`
//! in, `{data: [{index, embedding}], usage}` out. Vectors are asked for as base64 (`encoding_format`),
//! which is a third of the JSON's size and decodes without parsing a number per element; a server
//! that answers with number lists anyway is read too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::{Value, json};

use super::{EmbedContext, EmbedRequest, Embeddings, texts};
use crate::error::{Error, Result};
use crate::types::output::Output;
use crate::types::usage::Usage;

pub(crate) fn build(req: &EmbedRequest, ctx: &EmbedContext) -> Result<Value> {
    let input = texts(req, ctx)?;
    let mut body = json!({"model": req.model, "input": input, "encoding_format": "base64"});
    if let Some(d) = req.dimensions {
        body["dimensions"] = d.into();
    }
    Ok(body)
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Vec<Datum>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Datum {
    #[serde(default)]
    index: Option<usize>,
    #[serde(deserialize_with = "vector")]
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

/// A vector as a number list or as base64 of little-endian `f32`s, read in one pass: a visitor that
/// takes either, rather than an untagged enum (which buffers every number of the vector into an
/// intermediate tree before trying each shape: see BENCHMARKS.md, "Embeddings decoding").
fn vector<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<f32>, D::Error> {
    struct Vector;

    impl<'de> de::Visitor<'de> for Vector {
        type Value = Vec<f32>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of numbers or a base64 string of little-endian f32s")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<f32>, A::Error> {
            // As serde's own `Vec` impl: a cautious hint (serde_json gives none), then growth.
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(x) = seq.next_element::<f32>()? {
                v.push(x);
            }
            Ok(v)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Vec<f32>, E> {
            let bytes = STANDARD.decode(s).map_err(E::custom)?;
            if bytes.len() % 4 != 0 {
                return Err(E::custom("base64 vector is not a whole number of f32s"));
            }
            Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }
    }

    d.deserialize_any(Vector)
}

pub(crate) fn parse(body: &Bytes, ctx: &EmbedContext) -> Result<Output<Embeddings>> {
    let mut r: Response =
        serde_json::from_slice(body).map_err(|e| Error::decode("an embeddings response", e.to_string(), body))?;
    // Servers answer in input order with an `index`; sort by it when they say it.
    r.data.sort_by_key(|d| d.index.unwrap_or(usize::MAX));
    let vectors: Embeddings = r.data.into_iter().map(|d| d.embedding).collect();
    let mut meta = ctx.metadata();
    meta.response_model = r.model;
    let mut out = Output::new(vectors, meta);
    if let Some(u) = r.usage {
        out.usage = Usage { input_tokens: u.prompt_tokens, total_tokens: u.total_tokens, ..Usage::default() };
    }
    Ok(out)
}
