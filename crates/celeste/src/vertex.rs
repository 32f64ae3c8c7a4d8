//! Google Vertex AI: authentication (application default credentials, or an access token of your own),
//! project and location, and where each publisher's models live.
//!
//! Vertex is chosen the way the reference chooses it: by authentication. A call to a Google, Anthropic,
//! Mistral or DeepSeek model with [`Auth::Vertex`](crate::Auth::Vertex) goes to Vertex AI instead of the
//! provider's own API, in the same wire format (Gemini generateContent, Anthropic Messages through
//! `rawPredict`, Mistral chat through `rawPredict`, DeepSeek through Vertex's OpenAI-compatible
//! endpoint).
//!
//! ```no_run
//! # #[cfg(feature = "vertex")]
//! # async fn demo() -> celeste::Result<()> {
//! use celeste::{Auth, Vertex};
//!
//! let vertex = Auth::vertex(Vertex::adc().project("my-project").location("us-east5"));
//! let out = celeste::text::generate("Hello", "claude-sonnet-4-5").auth(vertex).await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
#[cfg(feature = "vertex")]
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::SecretString;
use crate::error::{CredentialsError, Error, Result};
use crate::types::enums::Provider;
use crate::wire::{WireApi, WireRequest};

/// The OAuth scope Vertex AI calls need.
#[cfg(feature = "vertex")]
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Vertex AI settings: where (project, location) and with which token.
#[derive(Clone)]
#[must_use]
pub struct Vertex {
    project: Option<String>,
    location: Option<String>,
    token: Token,
}

#[derive(Clone)]
enum Token {
    /// Application default credentials, through `gcp_auth` (service account file in
    /// `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's user credentials, or the metadata server). The
    /// provider is found on first use and cached, with its tokens, for the life of this value.
    #[cfg(feature = "vertex")]
    Adc(Arc<tokio::sync::OnceCell<Arc<dyn gcp_auth::TokenProvider>>>),
    /// An access token of the caller's (`gcloud auth print-access-token`, a proxy's token, tests).
    Static(SecretString),
}

impl fmt::Debug for Vertex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = match &self.token {
            #[cfg(feature = "vertex")]
            Token::Adc(_) => "application default credentials",
            Token::Static(_) => "[redacted]",
        };
        f.debug_struct("Vertex")
            .field("project", &self.project)
            .field("location", &self.location)
            .field("token", &token)
            .finish()
    }
}

impl Vertex {
    /// Authenticate with Google application default credentials (cargo feature `vertex`).
    #[cfg(feature = "vertex")]
    pub fn adc() -> Self {
        Vertex { project: None, location: None, token: Token::Adc(Arc::default()) }
    }

    /// Authenticate as the service account whose JSON key file is at `path` (cargo feature `vertex`).
    /// The file is read now; a missing or malformed file is an [`Error::Credentials`].
    #[cfg(feature = "vertex")]
    pub fn service_account(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let account = gcp_auth::CustomServiceAccount::from_file(path)
            .map_err(|e| credentials_error(Provider::Google, format!("Google service account key: {e}")))?;
        let provider: Arc<dyn gcp_auth::TokenProvider> = Arc::new(account);
        let cell = tokio::sync::OnceCell::new_with(Some(provider));
        Ok(Vertex { project: None, location: None, token: Token::Adc(Arc::new(cell)) })
    }

    /// Authenticate with an OAuth access token you obtained yourself.
    pub fn with_token(token: impl Into<SecretString>) -> Self {
        Vertex { project: None, location: None, token: Token::Static(token.into()) }
    }

    /// The Google Cloud project. Default: `GOOGLE_CLOUD_PROJECT`, then the credentials' own project.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The location (`global`, `us`, `eu`, or a region such as `us-east5`). Default:
    /// `GOOGLE_CLOUD_LOCATION`, then `global`.
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// The location calls go to.
    pub fn resolved_location(&self) -> String {
        self.location
            .clone()
            .or_else(|| std::env::var("GOOGLE_CLOUD_LOCATION").ok().filter(|l| !l.trim().is_empty()))
            .unwrap_or_else(|| "global".into())
    }

    /// The API host for the location: `global` → `https://aiplatform.googleapis.com`, the
    /// multi-regions `us` and `eu` → `https://aiplatform.{loc}.rep.googleapis.com`, any region →
    /// `https://{loc}-aiplatform.googleapis.com`.
    pub fn base_url(&self) -> String {
        base_url_for(&self.resolved_location())
    }

    /// The project calls are billed to.
    pub(crate) async fn project_id(&self, provider: Provider) -> Result<String> {
        if let Some(p) = &self.project {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var("GOOGLE_CLOUD_PROJECT").ok().filter(|p| !p.trim().is_empty()) {
            return Ok(p);
        }
        #[cfg(feature = "vertex")]
        if let Token::Adc(cell) = &self.token {
            let adc = adc_provider(cell, provider).await?;
            return adc.project_id().await.map(|p| p.to_string()).map_err(|e| adc_error(provider, &e));
        }
        Err(credentials_error(
            provider,
            "Vertex AI needs a project: set it with `Vertex::project` or GOOGLE_CLOUD_PROJECT".into(),
        ))
    }

    /// Adapt a request built by `provider`'s wire API to Vertex AI: the model's Vertex URL, the
    /// Anthropic envelope (the API version in the body, not the header, and no `model`: it is in the
    /// URL), and Google credentials. The call pipeline calls this in one place, after the wire API has
    /// built the request and before the caller's extra body and headers are merged.
    pub(crate) async fn host(
        &self,
        provider: Provider,
        base: &str,
        model: &str,
        stream: bool,
        req: &mut WireRequest,
        headers: &mut HeaderMap,
    ) -> Result<()> {
        let project = self.project_id(provider).await?;
        let location = self.resolved_location();
        check_location(&location)?;
        req.url = model_url(base, &project, &location, provider, model, stream)?;
        #[cfg(feature = "anthropic")]
        if wire_for(provider) == Some(WireApi::AnthropicMessages) {
            crate::wire::anthropic::vertex_envelope(req);
        }
        self.apply(headers, &project, provider).await
    }

    /// Vertex AI as the host of a media call (Gemini image models): the model's generateContent URL,
    /// with Google credentials put in `headers`.
    pub(crate) async fn media_host(
        &self,
        provider: Provider,
        base: &str,
        model: &str,
        headers: &mut HeaderMap,
    ) -> Result<String> {
        let project = self.project_id(provider).await?;
        let location = self.resolved_location();
        check_location(&location)?;
        let url = model_url(base, &project, &location, provider, model, false)?;
        self.apply(headers, &project, provider).await?;
        Ok(url)
    }

    /// A live session's model resource (`projects/{p}/locations/{l}/publishers/google/models/{id}`)
    /// and the project, discovered first (ADC) as the reference does before building the URL.
    pub(crate) async fn live_resource(&self, provider: Provider, model: &str) -> Result<(String, String)> {
        let project = self.project_id(provider).await?;
        let location = self.resolved_location();
        check_location(&location)?;
        Ok((format!("projects/{project}/locations/{location}/publishers/google/models/{model}"), project))
    }

    /// The credentials of a call to `project` (see [`Vertex::apply`]).
    pub(crate) async fn apply_to(&self, headers: &mut HeaderMap, project: &str, provider: Provider) -> Result<()> {
        self.apply(headers, project, provider).await
    }

    /// Vertex AI as the host of Gemini embeddings: the model's `:embedContent` URL (Vertex has no
    /// batch method: a batch is sent as one call per input), with Google credentials put in
    /// `headers`.
    pub(crate) async fn embed_host(&self, base: &str, model: &str, headers: &mut HeaderMap) -> Result<String> {
        let provider = Provider::Google;
        let project = self.project_id(provider).await?;
        let location = self.resolved_location();
        check_location(&location)?;
        let url = model_url(base, &project, &location, provider, model, false)?;
        self.apply(headers, &project, provider).await?;
        // The Google publisher URL ends in its method; embeddings take another one.
        let url = match url.split_once(":generateContent") {
            Some((head, tail)) => format!("{head}:embedContent{tail}"),
            None => url,
        };
        Ok(url)
    }

    /// `Authorization: Bearer {token}` and `x-goog-user-project: {project}`.
    async fn apply(&self, headers: &mut HeaderMap, project: &str, provider: Provider) -> Result<()> {
        let bearer = |token: &str| {
            HeaderValue::from_str(&format!("Bearer {}", token.trim()))
                .map_err(|_| credentials_error(provider, "the access token is not a valid header value".into()))
        };
        let mut value = match &self.token {
            #[cfg(feature = "vertex")]
            Token::Adc(cell) => {
                let adc = adc_provider(cell, provider).await?;
                let token = adc.token(&[SCOPE]).await.map_err(|e| adc_error(provider, &e))?;
                bearer(token.as_str())?
            }
            Token::Static(t) if t.is_blank() => {
                return Err(credentials_error(provider, "the Vertex access token is blank".into()));
            }
            Token::Static(t) => bearer(t.expose())?,
        };
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
        if let Ok(p) = HeaderValue::from_str(project) {
            headers.insert(HeaderName::from_static("x-goog-user-project"), p);
        }
        Ok(())
    }
}

/// The ADC token provider, found on first use (`gcp_auth::provider` looks at the key file in
/// `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's credentials, then the metadata server) and kept.
#[cfg(feature = "vertex")]
async fn adc_provider(
    cell: &tokio::sync::OnceCell<Arc<dyn gcp_auth::TokenProvider>>,
    provider: Provider,
) -> Result<Arc<dyn gcp_auth::TokenProvider>> {
    cell.get_or_try_init(gcp_auth::provider).await.cloned().map_err(|e| adc_error(provider, &e))
}

/// The wire API Vertex serves `provider`'s text models in, or `None` if Vertex does not serve it.
pub(crate) fn wire_for(provider: Provider) -> Option<WireApi> {
    match provider {
        Provider::Google => Some(WireApi::GeminiGenerateContent),
        Provider::Anthropic => Some(WireApi::AnthropicMessages),
        Provider::Mistral | Provider::DeepSeek => Some(WireApi::ChatCompletions),
        _ => None,
    }
}

/// The URL of `model` from `provider` below `base`, for a unary call or a stream. Project, location
/// and model are each one percent-escaped path segment (a project `../x` or a model `a?b` cannot
/// reshape the URL the token is sent to); a base URL's query stays after the path.
pub(crate) fn model_url(
    base: &str,
    project: &str,
    location: &str,
    provider: Provider,
    model: &str,
    stream: bool,
) -> Result<String> {
    let segment = |what: &str, value: &str| {
        crate::transport::urls::path_segment(value).map_err(|why| {
            Error::invalid_input(format!("the Vertex AI {what} {value:?} cannot be used in a URL: {why}"))
        })
    };
    let (project, location) = (segment("project", project)?, segment("location", location)?);
    let root = format!("/v1/projects/{project}/locations/{location}");
    let path = match provider {
        Provider::Google | Provider::Anthropic | Provider::Mistral => {
            let model = segment("model id", model)?;
            let (name, unary, streaming) = match provider {
                Provider::Google => ("google", "generateContent", "streamGenerateContent?alt=sse"),
                Provider::Anthropic => ("anthropic", "rawPredict", "streamRawPredict"),
                _ => ("mistralai", "rawPredict", "streamRawPredict"),
            };
            format!("{root}/publishers/{name}/models/{model}:{}", if stream { streaming } else { unary })
        }
        // DeepSeek and the other open models are served by Vertex's OpenAI-compatible endpoint.
        _ => format!("{root}/endpoints/openapi/chat/completions"),
    };
    Ok(crate::transport::urls::append_path(base, &path))
}

/// A location names a host (`{location}-aiplatform.googleapis.com`) as well as a path segment: only
/// the letters, digits and dashes of Google's location names are accepted, so that no location can
/// point the token at another host.
fn check_location(location: &str) -> Result<()> {
    if !location.is_empty() && location.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "the Vertex AI location {location:?} is not a location name (letters, digits and dashes, such as `us-east5`)"
    )))
}

fn base_url_for(location: &str) -> String {
    match location {
        "global" => "https://aiplatform.googleapis.com".into(),
        "us" | "eu" => format!("https://aiplatform.{location}.rep.googleapis.com"),
        region => format!("https://{region}-aiplatform.googleapis.com"),
    }
}

fn credentials_error(provider: Provider, message: String) -> Error {
    Error::Credentials(CredentialsError::Other { provider: Some(provider), message })
}

#[cfg(feature = "vertex")]
fn adc_error(provider: Provider, e: &gcp_auth::Error) -> Error {
    credentials_error(provider, format!("Google application default credentials: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_rules() {
        assert_eq!(base_url_for("global"), "https://aiplatform.googleapis.com");
        assert_eq!(base_url_for("us"), "https://aiplatform.us.rep.googleapis.com");
        assert_eq!(base_url_for("eu"), "https://aiplatform.eu.rep.googleapis.com");
        assert_eq!(base_url_for("us-east5"), "https://us-east5-aiplatform.googleapis.com");
        assert_eq!(base_url_for("europe-west4"), "https://europe-west4-aiplatform.googleapis.com");
        assert_eq!(Vertex::with_token("t").location("eu").base_url(), "https://aiplatform.eu.rep.googleapis.com");
    }

    /// Every location rule × every model family × unary and streaming.
    #[test]
    fn model_urls() {
        let cases = [
            (Provider::Google, "gemini-2.5-pro", false, "publishers/google/models/gemini-2.5-pro:generateContent"),
            (
                Provider::Google,
                "gemini-2.5-pro",
                true,
                "publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
            ),
            (
                Provider::Anthropic,
                "claude-sonnet-4-5",
                false,
                "publishers/anthropic/models/claude-sonnet-4-5:rawPredict",
            ),
            (
                Provider::Anthropic,
                "claude-sonnet-4-5",
                true,
                "publishers/anthropic/models/claude-sonnet-4-5:streamRawPredict",
            ),
            (Provider::Mistral, "mistral-medium-3", false, "publishers/mistralai/models/mistral-medium-3:rawPredict"),
            (
                Provider::Mistral,
                "mistral-medium-3",
                true,
                "publishers/mistralai/models/mistral-medium-3:streamRawPredict",
            ),
            (Provider::DeepSeek, "deepseek-ai/deepseek-v3.1-maas", false, "endpoints/openapi/chat/completions"),
            (Provider::DeepSeek, "deepseek-ai/deepseek-v3.1-maas", true, "endpoints/openapi/chat/completions"),
        ];
        for location in ["global", "us", "eu", "us-east5"] {
            let base = base_url_for(location);
            for (provider, model, stream, tail) in cases {
                let url = model_url(&base, "proj", location, provider, model, stream).unwrap();
                assert_eq!(url, format!("{base}/v1/projects/proj/locations/{location}/{tail}"));
            }
        }
        // A base URL of the caller's (a proxy, the emulator) keeps the path.
        assert_eq!(
            model_url("http://127.0.0.1:9/", "p", "global", Provider::Anthropic, "c", false).unwrap(),
            "http://127.0.0.1:9/v1/projects/p/locations/global/publishers/anthropic/models/c:rawPredict"
        );
        assert_eq!(wire_for(Provider::Google), Some(WireApi::GeminiGenerateContent));
        assert_eq!(wire_for(Provider::OpenAi), None);
    }

    #[tokio::test]
    async fn project_comes_from_the_builder_and_is_required() {
        let v = Vertex::with_token("t").project("p1");
        assert_eq!(v.project_id(Provider::Google).await.unwrap(), "p1");
        if std::env::var_os("GOOGLE_CLOUD_PROJECT").is_none() {
            let err = Vertex::with_token("t").project_id(Provider::Google).await.unwrap_err();
            assert!(err.to_string().contains("GOOGLE_CLOUD_PROJECT"), "{err}");
        }
    }

    #[tokio::test]
    async fn headers_carry_the_token_and_the_project_and_never_show_it() {
        let v = Vertex::with_token("ya29.secret-token").project("p");
        let mut h = HeaderMap::new();
        v.apply(&mut h, "p", Provider::Anthropic).await.unwrap();
        assert_eq!(h["authorization"], "Bearer ya29.secret-token");
        assert!(h["authorization"].is_sensitive());
        assert_eq!(h["x-goog-user-project"], "p");
        assert!(!format!("{v:?}").contains("secret"));
        let err = Vertex::with_token("  ").apply(&mut HeaderMap::new(), "p", Provider::Google).await.unwrap_err();
        assert!(matches!(err, Error::Credentials(_)), "{err}");
    }

    /// A service-account key that cannot be used fails with a typed error, before any network.
    #[cfg(feature = "vertex")]
    #[test]
    fn unusable_service_account_keys_are_credential_errors() {
        let dir = std::env::temp_dir().join(format!("celeste-sa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sa.json");
        std::fs::write(&file, "{\"type\": \"service_account\", \"not\": \"a key\"}").unwrap();
        for path in [file.clone(), dir.join("missing.json")] {
            let err = Vertex::service_account(&path).unwrap_err();
            assert!(matches!(err, Error::Credentials(_)), "{err}");
            assert!(err.to_string().contains("service account key"), "{err}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
