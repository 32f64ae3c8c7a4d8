//! Embedding wire APIs: one module per API behind one seam ([`EmbeddingsApi`]): the path, building a
//! request, and decoding the vectors (straight into `Vec<Vec<f32>>`, without a JSON value tree).

pub(crate) mod cohere;
#[cfg(feature = "google")]
pub(crate) mod google;
pub(crate) mod openai;

use bytes::Bytes;
use serde_json::Value;

use crate::error::{Error, Origin, Result};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::output::Output;

/// Embedding vectors: one per input, in input order.
pub type Embeddings = Vec<Vec<f32>>;

/// The embedding APIs this library speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmbeddingsApi {
    /// OpenAI `/v1/embeddings`, also Mistral's and any compatible server's.
    OpenAi,
    /// Gemini `embedContent` / `batchEmbedContents`.
    Google,
    /// Cohere v2 `/v2/embed`.
    Cohere,
}

/// One input to embed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EmbedInput {
    /// Text.
    Text(String),
    /// An image.
    Image(Artifact),
    /// A video.
    Video(Artifact),
    /// Audio.
    Audio(Artifact),
}

impl EmbedInput {
    /// Whether this input is text.
    pub fn is_text(&self) -> bool {
        matches!(self, EmbedInput::Text(_))
    }
}

/// What an embeddings call asks for, whoever serves it.
#[derive(Debug, Clone)]
pub(crate) struct EmbedRequest {
    pub model: String,
    pub inputs: Vec<EmbedInput>,
    /// The vector size, for models that can shorten their vectors.
    pub dimensions: Option<u32>,
    /// The inputs were given as a list (one vector each), not as one item (one vector in all).
    #[cfg_attr(not(feature = "google"), allow(dead_code, reason = "only Gemini has separate batch calls"))]
    pub batch: bool,
}

/// What an embeddings wire module needs to know about the call it serves.
#[derive(Debug, Clone)]
pub(crate) struct EmbedContext {
    pub origin: Origin,
    pub model: String,
}

impl EmbedContext {
    pub(crate) fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::unsupported(Some(self.origin), Some(Modality::Embeddings), Some(Operation::Embed), what)
    }

    pub(crate) fn metadata(&self) -> crate::types::output::Metadata {
        crate::types::output::Metadata::new(self.model.clone(), Some(self.origin), Modality::Embeddings)
    }
}

impl EmbeddingsApi {
    /// The path below the base URL (Gemini's depends on the model and on a batch).
    pub(crate) fn path(self, req: &EmbedRequest) -> Result<String> {
        match self {
            EmbeddingsApi::OpenAi => Ok("/v1/embeddings".into()),
            EmbeddingsApi::Cohere => Ok("/v2/embed".into()),
            #[cfg(feature = "google")]
            EmbeddingsApi::Google => google::path(req),
            #[cfg(not(feature = "google"))]
            EmbeddingsApi::Google => {
                let _ = req;
                Err(Error::invalid_input("Gemini embeddings: enable the `google` cargo feature"))
            }
        }
    }

    /// The request body.
    pub(crate) fn build(self, req: &EmbedRequest, ctx: &EmbedContext) -> Result<Value> {
        match self {
            EmbeddingsApi::OpenAi => openai::build(req, ctx),
            EmbeddingsApi::Cohere => cohere::build(req, ctx),
            #[cfg(feature = "google")]
            EmbeddingsApi::Google => google::build(req, ctx),
            #[cfg(not(feature = "google"))]
            EmbeddingsApi::Google => Err(ctx.unsupported("Gemini embeddings: enable the `google` cargo feature")),
        }
    }

    /// Decode a reply body of this API as a call does (vectors in input order, usage, the
    /// response model): for replies stored or received by other means, and for the decoding
    /// benchmark (`benches/embeddings.rs`).
    pub fn parse_response(self, body: &Bytes, model: &str) -> Result<Output<Embeddings>> {
        let provider = match self {
            EmbeddingsApi::OpenAi => crate::types::enums::Provider::OpenAi,
            EmbeddingsApi::Google => crate::types::enums::Provider::Google,
            EmbeddingsApi::Cohere => crate::types::enums::Provider::Cohere,
        };
        self.parse(body, &EmbedContext { origin: Origin::Provider(provider), model: model.to_string() })
    }

    /// Decode the vectors and usage.
    pub(crate) fn parse(self, body: &Bytes, ctx: &EmbedContext) -> Result<Output<Embeddings>> {
        let out = match self {
            EmbeddingsApi::OpenAi => openai::parse(body, ctx)?,
            EmbeddingsApi::Cohere => cohere::parse(body, ctx)?,
            #[cfg(feature = "google")]
            EmbeddingsApi::Google => google::parse(body, ctx)?,
            #[cfg(not(feature = "google"))]
            EmbeddingsApi::Google => {
                return Err(ctx.unsupported("Gemini embeddings: enable the `google` cargo feature"));
            }
        };
        Ok(out)
    }
}

/// The texts of a request that must be all text (the APIs that embed text only).
pub(crate) fn texts<'a>(req: &'a EmbedRequest, ctx: &EmbedContext) -> Result<Vec<&'a str>> {
    req.inputs
        .iter()
        .map(|i| match i {
            EmbedInput::Text(t) => Ok(t.as_str()),
            _ => Err(ctx.unsupported("media inputs (this embeddings API takes text)")),
        })
        .collect()
}

#[cfg(test)]
mod tests;
