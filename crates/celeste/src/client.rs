//! The configured client: HTTP pool, timeouts, retries, credentials and stream limits. Cheap to clone;
//! every clone shares one connection pool.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::auth::{Auth, Credentials, SecretString};
use crate::catalog::{self, Model};
use crate::error::{Error, Origin, Result};
use crate::providers::{PROTOCOL_DEFAULT_BASE_URL, Route, profile, protocol_route, route_for};
use crate::telemetry::TelemetryConfig;
use crate::text::{Generate, Unary};
use crate::transport::cassette::Cassette;
use crate::transport::http::{Timeouts, Transport};
use crate::transport::redact::redact_url;
use crate::transport::retry::RetryPolicy;
use crate::transport::sse::SseDecoder;
use crate::types::enums::{Modality, Operation, Protocol, Provider};

/// A configured client. Build one with [`Client::builder`], or use the facade functions
/// ([`crate::text::generate`], ...), which share a default client configured from the environment.
///
/// ```
/// use std::time::Duration;
/// use celeste::{Client, Timeouts, RetryPolicy};
///
/// let client = Client::builder()
///     .timeouts(Timeouts::default().with_idle(Duration::from_secs(30)))
///     .retry(RetryPolicy::default().with_max_retries(4))
///     .build()
///     .unwrap();
/// let call = client.text().generate("Hello", "gpt-5-mini").max_tokens(100);
/// # drop(call);
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    credentials: Credentials,
    base_urls: BaseUrls,
    max_event_size: usize,
    telemetry: TelemetryConfig,
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    timeouts: Timeouts,
    retry: RetryPolicy,
    credentials: Option<Credentials>,
    base_urls: BaseUrls,
    max_event_size: usize,
    telemetry: TelemetryConfig,
    cassette: Option<Cassette>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            credentials: None,
            base_urls: BaseUrls::default(),
            max_event_size: SseDecoder::DEFAULT_MAX_EVENT_SIZE,
            telemetry: TelemetryConfig::default(),
            cassette: None,
        }
    }
}

impl ClientBuilder {
    /// Per-phase timeouts.
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = t;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }

    /// Where keys come from (default: the environment and the nearest `.env`).
    pub fn credentials(mut self, c: Credentials) -> Self {
        self.credentials = Some(c);
        self
    }

    /// Set one provider's key.
    pub fn api_key(mut self, provider: Provider, key: impl Into<SecretString>) -> Self {
        let c = self.credentials.take().unwrap_or_else(Credentials::from_env);
        self.credentials = Some(c.with_key(provider, key));
        self
    }

    /// Send every call for `provider` to this base URL instead of the provider's own (a proxy, a
    /// gateway, a regional endpoint, or the emulator in tests). The provider's paths are joined to
    /// it, as to the default; a call's own `base_url` still wins.
    ///
    /// ```
    /// use celeste::{Client, Provider};
    ///
    /// let client = Client::builder()
    ///     .base_url(Provider::Anthropic, "http://127.0.0.1:8080")
    ///     .build()
    ///     .unwrap();
    /// let call = client.text().generate("Hello", "claude-sonnet-4-5"); // → http://127.0.0.1:8080/v1/messages
    /// # drop(call);
    /// ```
    pub fn base_url(mut self, provider: Provider, url: impl Into<String>) -> Self {
        let url = url.into();
        match self.base_urls.0.iter_mut().find(|(p, _)| *p == provider) {
            Some(slot) => slot.1 = url,
            None => self.base_urls.0.push((provider, url)),
        }
        self
    }

    /// The largest single stream event accepted (default 64 MiB; image deltas are megabytes).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// OpenTelemetry settings (providers, content capture, conventions version).
    pub fn telemetry(mut self, t: TelemetryConfig) -> Self {
        self.telemetry = t;
        self
    }

    /// Record exchanges to, or replay them from, a cassette (see [`Cassette`]). Without this, the
    /// `CELESTE_CASSETTE` and `CELESTE_CASSETTE_MODE` environment variables choose one.
    pub fn cassette(mut self, cassette: Cassette) -> Self {
        self.cassette = Some(cassette);
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Client> {
        let cassette = match self.cassette {
            Some(c) => Some(c),
            None => Cassette::from_env()?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport: Transport::new(self.timeouts, self.retry, cassette)?,
                credentials: self.credentials.unwrap_or_else(Credentials::from_env),
                base_urls: self.base_urls,
                max_event_size: self.max_event_size,
                telemetry: self.telemetry.resolve(),
            }),
        })
    }
}

/// Per-provider base URLs. A base URL can carry a key (`https://user:key@host`, `?key=…`), so its
/// `Debug` shows them redacted.
#[derive(Clone, Default)]
struct BaseUrls(Vec<(Provider, String)>);

impl fmt::Debug for BaseUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(p, url)| (p, redact_url(url)))).finish()
    }
}

/// Where a call goes, as the caller asked for it.
#[derive(Clone, Default)]
pub(crate) struct Target {
    pub provider: Option<Provider>,
    pub protocol: Option<Protocol>,
    pub base_url: Option<String>,
    pub api_key: Option<SecretString>,
    pub auth: Option<Auth>,
}

// By hand: the base URL may hold a key (see `BaseUrls`).
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("provider", &self.provider)
            .field("protocol", &self.protocol)
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("api_key", &self.api_key)
            .field("auth", &self.auth)
            .finish()
    }
}

/// Where a call goes, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub origin: Origin,
    pub route: Route,
    pub url: String,
    pub auth: Auth,
    /// The catalog's model, when the id is registered for the provider (`None`: validation is off).
    pub model: Option<Model>,
    /// The base URL the route's path was joined to.
    pub base: String,
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with the default configuration.
    pub fn new() -> Result<Client> {
        Client::builder().build()
    }

    /// The shared default client used by the facade functions.
    pub(crate) fn shared() -> Result<Client> {
        static SHARED: OnceLock<std::result::Result<Client, String>> = OnceLock::new();
        SHARED.get_or_init(|| Client::new().map_err(|e| e.to_string())).clone().map_err(Error::InvalidInput)
    }

    /// Text operations with this client.
    pub fn text(&self) -> TextOps<'_> {
        TextOps { client: self }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn telemetry(&self) -> &TelemetryConfig {
        &self.inner.telemetry
    }

    pub(crate) fn max_event_size(&self) -> usize {
        self.inner.max_event_size
    }

    /// Resolve the provider or protocol, route, URL and auth of a call.
    ///
    /// Rules (from the reference): an explicit protocol wins; a `base_url` with neither provider nor
    /// protocol means the OpenResponses protocol; otherwise the provider is the explicit one or the
    /// catalog's for the model id. `base_url` is honoured for every provider.
    pub(crate) fn resolve(
        &self,
        model: &str,
        target: &Target,
        modality: Modality,
        operation: Operation,
    ) -> Result<Resolved> {
        // Model ids go into URL paths (Gemini, Vertex AI): one that cannot be a path segment is refused
        // here, before any request, whichever route would have carried it.
        crate::transport::urls::path_segment(model)
            .map_err(|why| Error::InvalidInput(format!("the model id {model:?} cannot be used: {why}")))?;
        let vertex = matches!(target.auth, Some(Auth::Vertex(_)));
        // A base URL without a provider means a compatible endpoint, unless the call is for Vertex AI,
        // where the model id still picks the provider and the base URL only replaces the host.
        let protocol = target.protocol.or_else(|| {
            (target.base_url.is_some() && target.provider.is_none() && !vertex).then_some(Protocol::OpenResponses)
        });
        if let Some(protocol) = protocol {
            if vertex {
                let what = format!("Vertex AI authentication with the {protocol} protocol");
                return Err(Error::unsupported(
                    Some(Origin::Protocol(protocol)),
                    Some(modality),
                    Some(operation),
                    what,
                ));
            }
            let route = protocol_route(protocol);
            let base = target.base_url.as_deref().unwrap_or(PROTOCOL_DEFAULT_BASE_URL);
            let auth = match (&target.auth, &target.api_key) {
                (Some(a), _) => a.clone(),
                (None, Some(k)) => Auth::bearer(k.clone())?,
                (None, None) => Auth::None,
            };
            // A user endpoint serves whatever it serves: no catalog constraints apply.
            let url = route.url(base, model).map_err(Error::InvalidInput)?;
            return Ok(Resolved {
                origin: Origin::Protocol(protocol),
                route,
                url,
                auth,
                model: None,
                base: base.to_string(),
            });
        }
        let (provider, model_entry, prof) = Self::provider_of(model, target, modality, operation)?;
        let origin = Origin::Provider(provider);
        let route = route_for(provider, modality).ok_or_else(|| {
            Error::unsupported(Some(origin), Some(modality), Some(operation), format!("{modality} on {provider}"))
        })?;
        if !route.wire.is_implemented() {
            return Err(Error::unsupported(
                Some(origin),
                Some(modality),
                Some(operation),
                format!("the {:?} wire API is compiled out: enable the `{provider}` cargo feature", route.wire),
            ));
        }
        let configured = self.inner.base_urls.0.iter().find(|(p, _)| *p == provider).map(|(_, url)| url.as_str());
        if let Some(Auth::Vertex(v)) = &target.auth {
            // Vertex serves the model in its provider's wire format; the URL needs the project,
            // which may take the credentials to find, so the call builds it (`vertex::model_url`).
            let wire = crate::vertex::wire_for(provider).filter(|_| modality == Modality::Text).ok_or_else(|| {
                Error::unsupported(Some(origin), Some(modality), Some(operation), format!("{modality} on Vertex AI"))
            })?;
            let base = target.base_url.clone().or(configured.map(str::to_string)).unwrap_or_else(|| v.base_url());
            let route = Route { wire, path: "" };
            return Ok(Resolved {
                origin,
                route,
                url: String::new(),
                auth: Auth::Vertex(v.clone()),
                model: model_entry,
                base,
            });
        }
        let auth = match &target.auth {
            Some(a) => a.clone(),
            None => self.inner.credentials.auth_for(provider, target.api_key.as_ref())?,
        };
        let base = target.base_url.as_deref().or(configured).unwrap_or(prof.base_url);
        let url = route.url(base, model).map_err(Error::InvalidInput)?;
        Ok(Resolved { origin, route, url, auth, model: model_entry, base: base.to_string() })
    }
}

impl Client {
    /// The provider of a call (the explicit one, else the catalog's for the model id), its catalog
    /// entry, and its profile; a provider compiled out or not implemented is `Unsupported`.
    fn provider_of(
        model: &str,
        target: &Target,
        modality: Modality,
        operation: Operation,
    ) -> Result<(Provider, Option<Model>, &'static crate::providers::ProviderProfile)> {
        let (provider, model_entry) = match target.provider {
            Some(p) => match catalog::get_model(model, Some(p)) {
                Some(m) => (p, Some(m)),
                None => {
                    warn_unregistered(model, p);
                    (p, None)
                }
            },
            None => {
                let m = catalog::get_model(model, None)
                    .ok_or_else(|| Error::ModelNotFound { model: model.to_string(), provider: None })?;
                (m.provider, Some(m))
            }
        };
        let origin = Origin::Provider(provider);
        let unsupported = |what: String| Error::unsupported(Some(origin), Some(modality), Some(operation), what);
        if crate::providers::implemented(provider) && !crate::providers::compiled_in(provider) {
            return Err(unsupported(format!(
                "the {provider} provider is compiled out: enable the `{provider}` cargo feature of celeste-ai"
            )));
        }
        let prof =
            profile(provider).ok_or_else(|| unsupported(format!("the {provider} provider is not implemented")))?;
        Ok((provider, model_entry, prof))
    }

    /// Resolve a media call: the provider (a base URL keeps the model's provider: media has no
    /// compatible-endpoint protocol), its catalog entry, base URL and auth.
    pub(crate) fn resolve_media(
        &self,
        model: &str,
        target: &Target,
        modality: Modality,
        operation: Operation,
    ) -> Result<MediaResolved> {
        // Media APIs put model ids in paths too (BFL, Gemini).
        crate::transport::urls::path_segment(model)
            .map_err(|why| Error::InvalidInput(format!("the model id {model:?} cannot be used: {why}")))?;
        if let Some(protocol) = target.protocol {
            return Err(Error::unsupported(
                Some(Origin::Protocol(protocol)),
                Some(modality),
                Some(operation),
                format!("{modality} over the {protocol} protocol (it is a text protocol)"),
            ));
        }
        let (provider, model_entry, prof) = Self::provider_of(model, target, modality, operation)?;
        let origin = Origin::Provider(provider);
        let configured = self.inner.base_urls.0.iter().find(|(p, _)| *p == provider).map(|(_, url)| url.as_str());
        let auth = match &target.auth {
            // Vertex AI serves Google's image models (generateContent), Veo (predictLongRunning), the
            // Live API and Gemini embeddings; the call's host adapter builds the URL, which needs the
            // project.
            Some(Auth::Vertex(v))
                if provider == Provider::Google
                    && matches!(
                        modality,
                        Modality::Images | Modality::Videos | Modality::Live | Modality::Embeddings
                    ) =>
            {
                let base = target.base_url.clone().or(configured.map(str::to_string)).unwrap_or_else(|| v.base_url());
                return Ok(MediaResolved { origin, provider, auth: Auth::Vertex(v.clone()), model: model_entry, base });
            }
            Some(Auth::Vertex(_)) => {
                let what = format!("{modality} on Vertex AI");
                return Err(Error::unsupported(Some(origin), Some(modality), Some(operation), what));
            }
            Some(a) => a.clone(),
            None => self.inner.credentials.auth_for(provider, target.api_key.as_ref())?,
        };
        let base = target.base_url.as_deref().or(configured).unwrap_or(prof.base_url).to_string();
        Ok(MediaResolved { origin, provider, auth, model: model_entry, base })
    }
}

/// Where a media call goes, resolved.
#[derive(Debug, Clone)]
pub(crate) struct MediaResolved {
    pub origin: Origin,
    pub provider: Provider,
    pub auth: Auth,
    /// The catalog's model, when the id is registered for the provider (`None`: validation is off).
    pub model: Option<Model>,
    /// The base URL the operation's path is joined to.
    pub base: String,
}

/// Say once per (model, provider) that an unregistered id is used without validation, as the reference
/// warns (`UserWarning`), without repeating it on every call.
fn warn_unregistered(model: &str, provider: Provider) {
    static SEEN: OnceLock<Mutex<HashSet<(String, Provider)>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let first = seen.lock().unwrap_or_else(PoisonError::into_inner).insert((model.to_string(), provider));
    if first {
        tracing::warn!(%model, %provider, "model is not in the catalog: parameter validation disabled");
    }
}

/// Text operations bound to a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct TextOps<'a> {
    client: &'a Client,
}

impl TextOps<'_> {
    /// Generate text from a prompt (see [`crate::text::generate`]).
    pub fn generate(&self, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
        Generate::new(Some(prompt.into()), model.into()).client(self.client.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder().credentials(Credentials::empty().with_key(Provider::OpenAi, "sk-test")).build().unwrap()
    }

    #[cfg(not(feature = "groq"))]
    #[test]
    fn a_compiled_out_provider_names_its_feature() {
        let t = Target { provider: Some(Provider::Groq), ..Target::default() };
        let err = client().resolve("llama-3.3-70b-versatile", &t, Modality::Text, Operation::Generate).unwrap_err();
        assert!(err.to_string().contains("enable the `groq` cargo feature"), "{err}");
    }

    #[test]
    fn the_default_text_model_is_the_first_registered() {
        let m = crate::catalog::default_model(Modality::Text, Operation::Generate, None).unwrap();
        assert_eq!(m.id, "claude-haiku-5-5");
        let m = crate::catalog::default_model(Modality::Text, Operation::Generate, Some(Provider::OpenAi)).unwrap();
        assert_eq!(m.provider, Provider::OpenAi);
    }

    /// Every model of the catalog, for every operation it declares, resolves to an implemented wire API
    /// or to a documented `Unsupported` (media wire APIs not implemented yet). Every text model resolves.
    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn every_catalog_operation_resolves_or_is_documented_unsupported() {
        let mut creds = Credentials::empty();
        for p in Provider::ALL {
            creds = creds.with_key(*p, "k");
        }
        let c = Client::builder().credentials(creds).build().unwrap();
        let (mut ok, mut unsupported) = (0, 0);
        for m in crate::catalog::list_models(None, None, None) {
            for (modality, ops) in &m.operations {
                for op in ops {
                    let t = Target { provider: Some(m.provider), ..Target::default() };
                    match c.resolve(&m.id, &t, *modality, *op) {
                        Ok(r) => {
                            assert!(r.route.wire.is_implemented(), "{} {modality} {op}", m.id);
                            ok += 1;
                        }
                        Err(Error::Unsupported(u)) => {
                            assert_ne!(*modality, Modality::Text, "text model {} must resolve: {u}", m.id);
                            assert_eq!((u.modality, u.operation), (Some(*modality), Some(*op)));
                            assert!(u.origin.is_some(), "{u}");
                            unsupported += 1;
                        }
                        Err(e) => panic!("{} {modality} {op}: {e}", m.id),
                    }
                }
            }
        }
        let text_ops: usize = crate::catalog::list_models(None, Some(Modality::Text), None)
            .iter()
            .map(|m| m.operations.get(&Modality::Text).map_or(0, |o| o.len()))
            .sum();
        assert_eq!(ok, text_ops, "exactly the text operations resolve today");
        assert!(unsupported > 0);
    }

    #[cfg(feature = "all-providers")]
    #[test]
    fn resolution_rules() {
        let c = client();
        let r = c.resolve("gpt-5-mini", &Target::default(), Modality::Text, Operation::Generate).unwrap();
        assert_eq!(r.origin, Origin::Provider(Provider::OpenAi));
        assert_eq!(r.url, "https://api.openai.com/v1/responses");

        let t = Target { base_url: Some("http://127.0.0.1:9/v1".into()), ..Target::default() };
        let r = c.resolve("anything", &t, Modality::Text, Operation::Generate).unwrap();
        assert_eq!(r.origin, Origin::Protocol(Protocol::OpenResponses));
        assert_eq!(r.url, "http://127.0.0.1:9/v1/responses");
        assert!(matches!(r.auth, Auth::None));

        let t = Target {
            provider: Some(Provider::OpenAi),
            base_url: Some("http://127.0.0.1:9".into()),
            ..Target::default()
        };
        let r = c.resolve("my-finetune", &t, Modality::Text, Operation::Generate).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9/v1/responses");
        assert!(matches!(r.auth, Auth::Header { .. }));

        let err = c.resolve("no-such-model", &Target::default(), Modality::Text, Operation::Generate).unwrap_err();
        assert!(matches!(err, Error::ModelNotFound { .. }), "{err}");

        // Google text goes to Interactions; generateContent puts the model in the path.
        let c = Client::builder().credentials(Credentials::empty().with_key(Provider::Google, "g")).build().unwrap();
        let r = c.resolve("gemini-2.5-flash", &Target::default(), Modality::Text, Operation::Generate).unwrap();
        assert_eq!(r.url, "https://generativelanguage.googleapis.com/v1beta/interactions");
        let t = Target {
            provider: Some(Provider::Google),
            base_url: Some("http://127.0.0.1:9/".into()),
            ..Target::default()
        };
        let r = c.resolve("gemini-3.6-flash", &t, Modality::Text, Operation::Generate).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9/v1beta/interactions");

        let t = Target { provider: Some(Provider::Luma), ..Target::default() };
        let err = c.resolve("x", &t, Modality::Text, Operation::Generate).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
    }
}
