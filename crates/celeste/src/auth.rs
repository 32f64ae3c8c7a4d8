//! Credentials: keys from the call, the environment or the nearest `.env`; how each provider wants
//! them sent; and a trait for custom schemes.
//!
//! Keys live in [`SecretString`], whose `Debug` and `Display` never show the key, and travel as
//! sensitive header values, so they cannot leak into errors, logs or spans.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{CredentialsError, Error, Result};
use crate::providers::profile;
use crate::types::enums::Provider;

/// A secret string (an API key). Its `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Arc<str>);

impl SecretString {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(Arc::from(secret.into()))
    }

    /// The secret itself. Call only where it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString::new(s)
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString::new(s)
    }
}

/// A custom authentication scheme: produces the headers for each request (and may refresh tokens).
pub trait AuthProvider: Send + Sync {
    /// The headers to add to the next request.
    fn headers(&self) -> BoxFuture<'_, Result<HeaderMap>>;
}

/// How a request is authenticated.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No authentication (Ollama, local servers).
    #[default]
    None,
    /// One header carrying the key, already formatted (`Authorization: Bearer …`, `x-api-key: …`).
    Header {
        /// The header name.
        name: HeaderName,
        /// The header value, marked sensitive.
        value: HeaderValue,
    },
    /// A custom scheme.
    Custom(Arc<dyn AuthProvider>),
    /// Google Vertex AI: calls to Google, Anthropic, Mistral and DeepSeek models go to Vertex AI with an
    /// OAuth token (see [`crate::Vertex`]).
    Vertex(crate::vertex::Vertex),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Header { name, .. } => write!(f, "Auth::Header({name}: [redacted])"),
            Auth::Custom(_) => f.write_str("Auth::Custom"),
            Auth::Vertex(v) => write!(f, "Auth::Vertex({v:?})"),
        }
    }
}

impl Auth {
    /// `Authorization: Bearer {key}`.
    pub fn bearer(key: impl Into<SecretString>) -> Result<Self> {
        Auth::header("authorization", "Bearer ", key)
    }

    /// `{header}: {prefix}{key}`, with surrounding whitespace stripped from the key. A blank key is an
    /// error.
    pub fn header(header: &str, prefix: &str, key: impl Into<SecretString>) -> Result<Self> {
        let key = key.into();
        let invalid = |what: &str| CredentialsError::Other { provider: None, message: what.to_string() };
        if key.is_blank() {
            return Err(invalid("the API key is blank").into());
        }
        let name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| invalid("invalid auth header name"))?;
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose().trim()))
            // The message must not echo the key.
            .map_err(|_| invalid("the API key contains characters not allowed in a header"))?;
        value.set_sensitive(true);
        Ok(Auth::Header { name, value })
    }

    /// Google Vertex AI (see [`crate::Vertex`]).
    pub fn vertex(vertex: crate::vertex::Vertex) -> Self {
        Auth::Vertex(vertex)
    }

    /// A custom scheme.
    pub fn custom(provider: impl AuthProvider + 'static) -> Self {
        Auth::Custom(Arc::new(provider))
    }

    /// Add this scheme's headers to a request's headers.
    pub(crate) async fn apply(&self, headers: &mut HeaderMap) -> Result<()> {
        match self {
            Auth::None => {}
            Auth::Header { name, value } => {
                headers.insert(name.clone(), value.clone());
            }
            Auth::Custom(p) => {
                for (k, v) in p.headers().await? {
                    if let Some(k) = k {
                        let mut v = v;
                        v.set_sensitive(true);
                        headers.insert(k, v);
                    }
                }
            }
            // Vertex needs the project and provider: the call applies it (`text::Generate::prepare`).
            Auth::Vertex(_) => {
                return Err(Error::invalid_input(
                    "Auth::Vertex applies to text calls to Google, Anthropic, Mistral and DeepSeek models only",
                ));
            }
        }
        Ok(())
    }
}

/// Where keys come from: explicit overrides, then the process environment, then the nearest `.env`
/// file (searched from the current directory upwards). Lookups are case-insensitive, as in the reference.
#[derive(Clone, Default)]
pub struct Credentials {
    overrides: HashMap<Provider, SecretString>,
    dotenv: HashMap<String, String>,
    read_env: bool,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .field("dotenv_keys", &self.dotenv.len())
            .field("read_env", &self.read_env)
            .finish()
    }
}

impl Credentials {
    /// Credentials from the process environment and the nearest `.env` file.
    pub fn from_env() -> Self {
        let dotenv =
            std::env::current_dir().ok().and_then(|d| find_dotenv(&d)).map(|p| read_dotenv(&p)).unwrap_or_default();
        Credentials { overrides: HashMap::new(), dotenv, read_env: true }
    }

    /// Credentials with nothing from the environment: only what is set explicitly.
    pub fn empty() -> Self {
        Credentials::default()
    }

    /// Read a specific `.env` file (in addition to the environment, which takes precedence).
    pub fn with_dotenv_file(mut self, path: impl AsRef<Path>) -> Self {
        self.dotenv = read_dotenv(path.as_ref());
        self
    }

    /// Set the key for a provider, overriding the environment.
    pub fn with_key(mut self, provider: Provider, key: impl Into<SecretString>) -> Self {
        self.overrides.insert(provider, key.into());
        self
    }

    /// The key for a provider, if one is configured (blank keys included, so they can be reported).
    fn lookup(&self, provider: Provider, env_var: &'static str) -> Option<(SecretString, String)> {
        if let Some(k) = self.overrides.get(&provider) {
            return Some((k.clone(), "the configured key".into()));
        }
        if self.read_env {
            if let Ok(v) = std::env::var(env_var) {
                return Some((SecretString::new(v), env_var.to_string()));
            }
            // Case-insensitive match, as pydantic-settings does in the reference.
            if let Some((_, v)) = std::env::vars().find(|(k, _)| k.eq_ignore_ascii_case(env_var)) {
                return Some((SecretString::new(v), env_var.to_string()));
            }
        }
        self.dotenv
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(env_var))
            .map(|(_, v)| (SecretString::new(v.clone()), format!("{env_var} in .env")))
    }

    /// The key by a provider's credential spec: its variable, else its fallback variable.
    fn lookup_spec(
        &self,
        provider: Provider,
        spec: &crate::providers::CredentialSpec,
    ) -> Option<(SecretString, String)> {
        self.lookup(provider, spec.env_var).or_else(|| spec.fallback_env_var.and_then(|v| self.lookup(provider, v)))
    }

    /// Whether a non-blank key is available for a provider (always true for providers without auth).
    pub fn has_credential(&self, provider: Provider) -> bool {
        match profile(provider).and_then(|p| p.credential) {
            None => profile(provider).is_some(),
            Some(spec) => self.lookup_spec(provider, &spec).is_some_and(|(k, _)| !k.is_blank()),
        }
    }

    /// The providers that can be used with the configured credentials.
    pub fn available_providers(&self) -> Vec<Provider> {
        Provider::ALL.iter().copied().filter(|p| self.has_credential(*p)).collect()
    }

    /// The auth for a provider. An explicit `api_key` wins over everything and never falls back to the
    /// environment when blank.
    pub fn auth_for(&self, provider: Provider, api_key: Option<&SecretString>) -> Result<Auth> {
        let Some(prof) = profile(provider) else {
            return match api_key {
                Some(k) => Auth::bearer(k.clone()),
                None => Err(CredentialsError::UnsupportedProvider { provider }.into()),
            };
        };
        let Some(spec) = prof.credential else {
            return Ok(Auth::None);
        };
        let (key, source) = match api_key {
            Some(k) => (k.clone(), "api_key".to_string()),
            None => self
                .lookup_spec(provider, &spec)
                .ok_or(CredentialsError::Missing { provider, env_var: spec.env_var })?,
        };
        if key.is_blank() {
            return Err(CredentialsError::Blank { provider, source }.into());
        }
        Auth::header(spec.header, spec.prefix, key)
    }
}

/// The nearest `.env` file from `dir` upwards.
fn find_dotenv(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(".env")).find(|p| p.is_file())
}

/// The variables of a `.env` file; an unreadable or malformed file contributes nothing (as a missing
/// one would), rather than failing every call.
fn read_dotenv(path: &Path) -> HashMap<String, String> {
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter.filter_map(|r| r.ok()).collect(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not read .env file");
            HashMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_value(auth: &Auth) -> (String, String) {
        match auth {
            Auth::Header { name, value } => (name.to_string(), value.to_str().unwrap().to_string()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = SecretString::new("sk-canary-123");
        assert!(!format!("{s:?}").contains("canary"));
        assert!(!format!("{s}").contains("canary"));
        let a = Auth::bearer("sk-canary-123").unwrap();
        assert!(!format!("{a:?}").contains("canary"));
        let c = Credentials::empty().with_key(Provider::OpenAi, "sk-canary-123");
        assert!(!format!("{c:?}").contains("canary"));
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn header_and_prefix_per_provider() {
        let c = Credentials::empty();
        let cases = [
            (Provider::OpenAi, "authorization", "Bearer k"),
            (Provider::Anthropic, "x-api-key", "k"),
            (Provider::Google, "x-goog-api-key", "k"),
            (Provider::Cohere, "authorization", "bearer k"),
            (Provider::ElevenLabs, "xi-api-key", "k"),
            (Provider::Bfl, "x-key", "k"),
            (Provider::Fal, "authorization", "Key k"),
            (Provider::TopazLabs, "x-api-key", "k"),
        ];
        for (p, h, v) in cases {
            let a = c.auth_for(p, Some(&SecretString::new(" k \n"))).unwrap();
            assert_eq!(header_value(&a), (h.to_string(), v.to_string()), "{p}");
        }
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn ollama_needs_no_key() {
        assert!(matches!(Credentials::empty().auth_for(Provider::Ollama, None).unwrap(), Auth::None));
    }

    #[cfg_attr(not(feature = "meta"), ignore = "needs the meta provider compiled in")]
    #[test]
    fn meta_reads_model_api_key_then_meta_api_key() {
        let with = |pairs: &[(&str, &str)]| {
            let mut c = Credentials::empty();
            c.read_env = false;
            c.dotenv = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            c
        };
        let c = with(&[("META_API_KEY", "m-key")]);
        assert_eq!(header_value(&c.auth_for(Provider::Meta, None).unwrap()).1, "Bearer m-key");
        let c = with(&[("META_API_KEY", "m-key"), ("MODEL_API_KEY", "model-key")]);
        assert_eq!(header_value(&c.auth_for(Provider::Meta, None).unwrap()).1, "Bearer model-key");
        let err = with(&[]).auth_for(Provider::Meta, None).unwrap_err();
        assert!(err.to_string().contains("MODEL_API_KEY"), "{err}");
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn missing_key_names_the_env_var() {
        let err = Credentials::empty().auth_for(Provider::Mistral, None).unwrap_err();
        assert!(err.to_string().contains("MISTRAL_API_KEY"), "{err}");
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn blank_explicit_key_is_an_error_and_does_not_fall_back() {
        let c = Credentials::empty().with_key(Provider::OpenAi, "sk-real");
        let err = c.auth_for(Provider::OpenAi, Some(&SecretString::new("   "))).unwrap_err();
        assert!(matches!(err, crate::Error::Credentials(CredentialsError::Blank { .. })), "{err}");
        let err = Credentials::empty().with_key(Provider::OpenAi, "").auth_for(Provider::OpenAi, None).unwrap_err();
        assert!(matches!(err, crate::Error::Credentials(CredentialsError::Blank { .. })));
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn explicit_key_overrides_configured_key() {
        let c = Credentials::empty().with_key(Provider::XAi, "from-config");
        let a = c.auth_for(Provider::XAi, Some(&SecretString::new("explicit"))).unwrap();
        assert_eq!(header_value(&a).1, "Bearer explicit");
        assert_eq!(header_value(&c.auth_for(Provider::XAi, None).unwrap()).1, "Bearer from-config");
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn dotenv_file_is_read_case_insensitively() {
        let dir = std::env::temp_dir().join(format!("celeste-dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, "# comment\ngroq_api_key=gsk-from-file\n").unwrap();
        let mut c = Credentials::empty().with_dotenv_file(&path);
        c.read_env = false;
        assert!(c.has_credential(Provider::Groq));
        assert_eq!(header_value(&c.auth_for(Provider::Groq, None).unwrap()).1, "Bearer gsk-from-file");
        assert_eq!(find_dotenv(&dir.join("sub/deeper")).as_deref(), Some(path.as_path()));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unimplemented_provider_without_key_is_unsupported() {
        let err = Credentials::empty().auth_for(Provider::Luma, None).unwrap_err();
        assert!(matches!(err, crate::Error::Credentials(CredentialsError::UnsupportedProvider { .. })));
        // With an explicit key the reference falls back to a bearer header.
        assert!(Credentials::empty().auth_for(Provider::Luma, Some(&"k".into())).is_ok());
    }
}
