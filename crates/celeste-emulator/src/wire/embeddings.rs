//! Embeddings: OpenAI `/v1/embeddings` (floats or base64), Gemini `:embedContent` /
//! `:batchEmbedContents`, Cohere v2 `/v2/embed`. Vectors are deterministic (a hash of the input
//! seeds them), unit length, of the requested dimension (default 8), so tests can compare them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::images::{Answer, BadField, Call, ImageApi, Payload};

const DEFAULT_DIMENSIONS: usize = 8;

/// A unit vector of `dims` floats seeded by `seed`.
fn vector(seed: &str, dims: usize) -> Vec<f32> {
    // FNV-1a of the input, then a xorshift sequence: deterministic, different per input.
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|f| f * f).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
    v.iter_mut().for_each(|f| *f /= norm);
    v
}

fn dims(v: Option<&Value>) -> Result<usize, BadField> {
    match v {
        None | Some(Value::Null) => Ok(DEFAULT_DIMENSIONS),
        Some(v) => v
            .as_u64()
            .filter(|d| (1..=4096).contains(d))
            .map(|d| d as usize)
            .ok_or_else(|| BadField::new("dimensions", "dimensions must be an integer from 1 to 4096")),
    }
}

fn tokens(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.split_whitespace().count().max(1) as u64).sum()
}

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    let result = match call.api {
        ImageApi::OpenAiEmbeddings => openai(call.payload),
        ImageApi::GeminiEmbeddings => gemini(call.payload),
        _ => cohere(call.payload),
    };
    match result {
        Ok(v) => Answer::json(200, &v),
        Err(bad) => Answer::bad_request(call.api, bad),
    }
}

fn texts_of(v: Option<&Value>, field: &'static str) -> Result<Vec<String>, BadField> {
    match v {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| BadField::new(field, format!("'{field}' must hold strings")))
            })
            .collect(),
        _ => Err(BadField::new(field, format!("'{field}' is required: a string or a non-empty list of strings"))),
    }
}

fn openai(p: &Payload) -> Result<Value, BadField> {
    let model = p.required_str("model")?.to_string();
    let texts = texts_of(p.get("input"), "input")?;
    let d = dims(p.get("dimensions"))?;
    let base64 = p.str("encoding_format")? == Some("base64");
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = vector(t, d);
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let n = tokens(&texts);
    Ok(json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": n, "total_tokens": n}}))
}

/// The text of a Gemini `content`, or a stand-in for its media parts (they seed the vector too).
fn content_seed(content: Option<&Value>) -> Result<String, BadField> {
    let parts = content
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| BadField::new("content", "content.parts is required"))?;
    Ok(parts
        .iter()
        .map(|p| {
            p.get("text").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
                let data = p.pointer("/inlineData/data").and_then(Value::as_str).unwrap_or_default();
                format!("media:{}", &data[..data.len().min(64)])
            })
        })
        .collect::<Vec<_>>()
        .join(" "))
}

fn gemini(p: &Payload) -> Result<Value, BadField> {
    if let Some(requests) = p.get("requests") {
        let requests = requests
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| BadField::new("requests", "requests must be a non-empty list"))?;
        let mut embeddings = Vec::with_capacity(requests.len());
        let mut seeds = Vec::new();
        for r in requests {
            let seed = content_seed(r.get("content"))?;
            embeddings.push(json!({"values": vector(&seed, dims(r.get("outputDimensionality"))?)}));
            seeds.push(seed);
        }
        let n = tokens(&seeds);
        return Ok(json!({"embeddings": embeddings, "usageMetadata": {"promptTokenCount": n, "totalTokenCount": n}}));
    }
    let seed = content_seed(p.get("content"))?;
    let n = tokens(std::slice::from_ref(&seed));
    Ok(json!({
        "embedding": {"values": vector(&seed, dims(p.get("outputDimensionality"))?)},
        "usageMetadata": {"promptTokenCount": n, "totalTokenCount": n},
    }))
}

fn cohere(p: &Payload) -> Result<Value, BadField> {
    p.required_str("model")?;
    let seeds = match (p.get("texts"), p.get("images")) {
        (Some(t), _) => texts_of(Some(t), "texts")?,
        (None, Some(i)) => {
            texts_of(Some(i), "images")?.into_iter().map(|u| format!("media:{}", &u[..u.len().min(64)])).collect()
        }
        (None, None) => return Err(BadField::new("texts", "one of texts or images is required")),
    };
    let d = dims(p.get("output_dimension"))?;
    let float: Vec<Vec<f32>> = seeds.iter().map(|s| vector(s, d)).collect();
    Ok(json!({
        "id": "emulator-embed",
        "embeddings": {"float": float},
        "texts": seeds,
        "meta": {"billed_units": {"input_tokens": tokens(&seeds)}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_deterministic_and_differ_per_input() {
        let a = vector("a cat", 16);
        assert_eq!(a, vector("a cat", 16));
        assert_ne!(a, vector("a dog", 16));
        let norm: f32 = a.iter().map(|f| f * f).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
