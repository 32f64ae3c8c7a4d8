//! The domain namespaces of the reference: `celeste::{videos, documents}` (and the
//! non-text half of `celeste::text`). Every `analyze` is a text call with the media attached; the media
//! operations resolve their model and provider like any call and, until their wire APIs land, fail with
//! [`Error::Unsupported`] naming the provider, modality and operation.

use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;

use crate::auth::SecretString;
use crate::client::{Client, Target};
use crate::error::{Error, Result};
use crate::text::{Generate, Unary};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation, Provider};
use crate::types::message::Part;
use crate::types::output::Output;

/// A media operation being configured (images, audio, video, embeddings). `.await` it to send it.
#[derive(Debug, Clone)]
#[must_use = "a call does nothing until it is awaited"]
pub struct MediaCall<C> {
    client: Option<Client>,
    target: Target,
    model: String,
    modality: Modality,
    operation: Operation,
    inputs: Vec<Part>,
    prompt: Option<String>,
    content: PhantomData<fn() -> C>,
}

impl<C> MediaCall<C> {
    pub(crate) fn new(modality: Modality, operation: Operation, model: impl Into<String>) -> Self {
        MediaCall {
            client: None,
            target: Target::default(),
            model: model.into(),
            modality,
            operation,
            inputs: Vec::new(),
            prompt: None,
            content: PhantomData,
        }
    }

    pub(crate) fn input(mut self, part: Part) -> Self {
        self.inputs.push(part);
        self
    }

    fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// Use this client instead of the default one.
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Use this provider.
    pub fn provider(mut self, provider: Provider) -> Self {
        self.target.provider = Some(provider);
        self
    }

    /// Send to this base URL instead of the provider's.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.target.base_url = Some(url.into());
        self
    }

    /// Use this API key instead of the configured one.
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.target.api_key = Some(key.into());
        self
    }

    /// Check the call; no media wire API is implemented yet, so a call that names a known model fails
    /// with [`Error::Unsupported`] naming the wire API that is missing, before any request.
    async fn send(self) -> Result<Output<C>> {
        let (modality, operation) = (self.modality, self.operation);
        if self.prompt.is_none() && self.inputs.is_empty() {
            return Err(Error::invalid_input(format!("{modality} {operation}: no input given")));
        }
        let provider = match self.target.provider {
            Some(p) => p,
            None => {
                crate::catalog::get_model(&self.model, None)
                    .ok_or_else(|| Error::ModelNotFound { model: self.model.clone(), provider: None })?
                    .provider
            }
        };
        let what = format!("the {provider} {modality} wire API ({operation}) is not implemented yet");
        Err(Error::unsupported(Some(crate::error::Origin::Provider(provider)), Some(modality), Some(operation), what))
    }
}

impl<C: Send + 'static> IntoFuture for MediaCall<C> {
    type Output = Result<Output<C>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

fn analyze(part: Part, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
    crate::text::generate(prompt, model).part(part).operation(Operation::Analyze)
}

/// `celeste::videos`: generate, analyze, embed.
pub mod videos {
    use super::*;

    /// Ask a model about a video (a text call; `.stream()` streams it).
    pub fn analyze(video: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
        super::analyze(Part::video(video), prompt, model)
    }

    /// Generate a video from a prompt.
    pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> MediaCall<Artifact> {
        MediaCall::new(Modality::Videos, Operation::Generate, model).prompt(prompt)
    }

    /// Embed videos.
    pub fn embed(videos: Vec<Artifact>, model: impl Into<String>) -> crate::embeddings::EmbedCall {
        crate::embeddings::embed_media(videos, crate::wire::embeddings::EmbedInput::Video, model)
    }
}

/// `celeste::documents`: analyze.
pub mod documents {
    use super::*;

    /// Ask a model about a document (a text call; `.stream()` streams it).
    pub fn analyze(document: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
        super::analyze(Part::document(document), prompt, model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credentials;

    fn client() -> Client {
        Client::builder().credentials(Credentials::empty().with_key(Provider::OpenAi, "k")).build().unwrap()
    }

    #[tokio::test]
    async fn media_operations_name_provider_modality_and_operation() {
        let err = videos::generate("waves", "veo-3.1-generate-preview").client(client()).await.unwrap_err();
        let Error::Unsupported(u) = err else { panic!("{err:?}") };
        assert_eq!(u.origin, Some(crate::error::Origin::Provider(Provider::Google)));
        assert_eq!((u.modality, u.operation), (Some(Modality::Videos), Some(Operation::Generate)));
        let err = crate::images::embed(Vec::new(), "gemini-embedding-2").client(client()).await.unwrap_err();
        assert!(err.to_string().contains("empty batch"), "{err}");
        let err = videos::generate("waves", "no-such-video-model").client(client()).await.unwrap_err();
        assert!(matches!(err, Error::ModelNotFound { .. }), "{err:?}");
    }
}
