//! Embeddings: `celeste::text::embed(text, model)` and `embed_many(texts, model)`, and the media
//! `embed` of `celeste::{images, audio, videos}`.
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! let out = celeste::text::embed_many(["a cat", "a dog"], "gemini-embedding-2").dimensions(256).await?;
//! assert_eq!(out.content.len(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! The output is always one vector per input (`Vec<Vec<f32>>`): a single input gives a list of one.
//! Google embeds media too (a single media input with an optional text gives one combined vector);
//! OpenAI, Mistral and any OpenAI-compatible server (`protocol` + `base_url`) and Cohere embed text.

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;

use crate::call::{CallOptions, prepare_embed};
use crate::error::Result;
use crate::text::Unary;
use crate::types::artifact::Artifact;
use crate::types::output::Output;
use crate::wire::embeddings::{EmbedInput, EmbedRequest, Embeddings};

/// An embeddings call being configured. `.await` it to send it.
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct EmbedCall<M = Unary> {
    opts: CallOptions,
    req: EmbedRequest,
    mode: PhantomData<M>,
}

impl<M> Clone for EmbedCall<M> {
    fn clone(&self) -> Self {
        EmbedCall { opts: self.opts.clone(), req: self.req.clone(), mode: PhantomData }
    }
}

impl<M> fmt::Debug for EmbedCall<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbedCall").field("opts", &self.opts).field("request", &self.req).finish()
    }
}

pub(crate) fn call(inputs: Vec<EmbedInput>, batch: bool, model: impl Into<String>) -> EmbedCall {
    EmbedCall {
        opts: CallOptions::default(),
        req: EmbedRequest { model: model.into(), inputs, dimensions: None, batch },
        mode: PhantomData,
    }
}

/// Embed one text: one vector.
pub fn embed(text: impl Into<String>, model: impl Into<String>) -> EmbedCall {
    call(vec![EmbedInput::Text(text.into())], false, model)
}

/// Embed several texts: one vector each, in order.
pub fn embed_many<I: IntoIterator<Item = S>, S: Into<String>>(texts: I, model: impl Into<String>) -> EmbedCall {
    call(texts.into_iter().map(|t| EmbedInput::Text(t.into())).collect(), true, model)
}

/// Embed media of one kind: one vector each.
pub(crate) fn embed_media(
    items: Vec<Artifact>,
    wrap: fn(Artifact) -> EmbedInput,
    model: impl Into<String>,
) -> EmbedCall {
    call(items.into_iter().map(wrap).collect(), true, model)
}

impl EmbedCall<Unary> {
    /// Send the call and wait for the vectors.
    pub async fn send(self) -> Result<Output<Embeddings>> {
        prepare_embed(self.opts, self.req).await?.unary().await
    }
}

impl IntoFuture for EmbedCall<Unary> {
    type Output = Result<Output<Embeddings>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<M> EmbedCall<M> {
    crate::call::call_setters!(opts; client, provider, protocol, base_url, api_key, auth, extra_body, header, timeout);

    pub(crate) fn with_mode<N>(self) -> EmbedCall<N> {
        EmbedCall { opts: self.opts, req: self.req, mode: PhantomData }
    }

    /// The vector size, for models that can shorten their vectors.
    pub fn dimensions(mut self, n: u32) -> Self {
        self.req.dimensions = Some(n);
        self
    }

    /// Embed this text with the media of a single-item call (Google: one combined vector).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.req.inputs.push(EmbedInput::Text(text.into()));
        self
    }
}
