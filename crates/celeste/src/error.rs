//! The one error type of the library.
//!
//! Every failure, from a bad parameter to a provider's 429 to a malformed stream event, is an
//! [`Error`]. Large variants are boxed so `Result<T>` stays small on the hot path. No variant ever
//! carries a credential: request URLs are stripped from transport errors, and auth headers are never
//! part of an error.

use std::fmt;
use std::time::Duration;

use crate::types::enums::{Modality, Operation, Protocol, Provider};

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who answered (or failed to answer) a request: a named provider or a bring-your-own-endpoint protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// A provider from the catalog.
    Provider(Provider),
    /// A protocol against a user-supplied `base_url`.
    Protocol(Protocol),
}

impl Origin {
    /// The provider, if this is one.
    pub fn provider(self) -> Option<Provider> {
        match self {
            Origin::Provider(p) => Some(p),
            Origin::Protocol(_) => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Provider(p) => write!(f, "{p}"),
            Origin::Protocol(p) => write!(f, "{p} endpoint"),
        }
    }
}

impl From<Provider> for Origin {
    fn from(p: Provider) -> Self {
        Origin::Provider(p)
    }
}

impl From<Protocol> for Origin {
    fn from(p: Protocol) -> Self {
        Origin::Protocol(p)
    }
}

/// The phase of a request that ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the TCP/TLS connection.
    Connect,
    /// Waiting for the response status and headers.
    Headers,
    /// Waiting for the next chunk of a streamed body (the idle gap).
    Idle,
    /// The whole operation, retries included.
    Total,
    /// A long-running provider job (image, video, upscale, segmentation) did not settle before its
    /// deadline.
    Job,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::Headers => "waiting for response headers",
            TimeoutPhase::Idle => "idle between stream chunks",
            TimeoutPhase::Total => "total",
            TimeoutPhase::Job => "waiting for the job to finish",
        })
    }
}

/// A non-success HTTP response, decoded as far as the body allows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpError {
    /// Who answered.
    pub origin: Origin,
    /// The HTTP status code.
    pub status: u16,
    /// The provider's human-readable message (from the JSON error body, else the body text, else
    /// `HTTP {status}`).
    pub message: String,
    /// The provider's error type (`invalid_request_error`, `rate_limit_error`, `INVALID_ARGUMENT`, ...).
    pub error_type: Option<String>,
    /// The provider's error code, when it sends one separately from the type.
    pub code: Option<String>,
    /// The request id header (`x-request-id`, `request-id`, ...), for support tickets.
    pub request_id: Option<String>,
    /// How long the server asked us to wait (`Retry-After`, `retry-after-ms`).
    pub retry_after: Option<Duration>,
    /// The server's `x-should-retry` verdict, when it sent one.
    pub should_retry: Option<bool>,
    /// The raw body, truncated to a few KiB (lossy UTF-8 for binary bodies).
    pub body: String,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} API error (HTTP {})", self.origin, self.status)?;
        if let Some(t) = self.error_type.as_deref().or(self.code.as_deref()) {
            write!(f, " [{t}]")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// An error event inside an otherwise successful stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamEventError {
    /// Who sent it.
    pub origin: Origin,
    /// The provider's message (`"Unknown error"` when it sent none).
    pub message: String,
    /// The provider's error type or code.
    pub error_type: Option<String>,
    /// The raw event payload, truncated.
    pub event: String,
}

impl fmt::Display for StreamEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} stream error", self.origin)?;
        if let Some(t) = &self.error_type {
            write!(f, " [{t}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A success response whose body is not the kind the call reads: an HTML page, a compressed or JSON
/// body where an event stream was expected (see [`Error::UnexpectedBody`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UnexpectedBodyError {
    /// Who answered.
    pub origin: Origin,
    /// What the call reads (`an event stream`, `NDJSON lines`).
    pub expected: &'static str,
    /// What the body is, in words (`an HTML page: Sign in`, `a gzip-compressed body`).
    pub found: String,
    /// The response's `content-type`, when it sent one.
    pub content_type: Option<String>,
    /// The first bytes of the body, truncated (lossy UTF-8).
    pub body: String,
}

impl fmt::Display for UnexpectedBodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered with {} (content-type: ", self.origin, self.found)?;
        match &self.content_type {
            Some(ct) => write!(f, "{ct}")?,
            None => f.write_str("none")?,
        }
        write!(f, ") where {} was expected", self.expected)
    }
}

/// A parameter value the model does not accept.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ValidationError {
    /// The model the value was checked against, when known.
    pub model: Option<String>,
    /// The parameter name.
    pub parameter: String,
    /// The offending value, rendered.
    pub value: String,
    /// What is allowed, in words (`0.0..=2.0 in steps of 0.1`, `one of: low, medium, high`).
    pub allowed: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}` = {}", self.parameter, self.value)?;
        if let Some(m) = &self.model {
            write!(f, " for model {m}")?;
        }
        write!(f, "; allowed: {}", self.allowed)
    }
}

/// Something this provider, model or wire API cannot do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnsupportedError {
    /// The provider or protocol, when known.
    pub origin: Option<Origin>,
    /// The modality, when relevant.
    pub modality: Option<Modality>,
    /// The operation, when relevant.
    pub operation: Option<Operation>,
    /// What is unsupported, in words (`image content parts`, `streaming`, `parameter \`seed\``).
    pub what: String,
}

impl fmt::Display for UnsupportedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsupported: {}", self.what)?;
        match (self.origin, self.modality, self.operation) {
            (Some(o), Some(m), Some(op)) => write!(f, " ({o}, {m} {op})"),
            (Some(o), Some(m), None) => write!(f, " ({o}, {m})"),
            (Some(o), None, _) => write!(f, " ({o})"),
            (None, Some(m), Some(op)) => write!(f, " ({m} {op})"),
            _ => Ok(()),
        }
    }
}

/// Why credentials could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsError {
    /// No key in the environment, `.env` or the call.
    Missing {
        /// The provider.
        provider: Provider,
        /// The environment variable that would supply it.
        env_var: &'static str,
    },
    /// A key was given but is empty or whitespace.
    Blank {
        /// The provider.
        provider: Provider,
        /// Where the blank key came from (the env var name, or `api_key` for an explicit key).
        source: String,
    },
    /// The provider has no credential scheme (not implemented).
    UnsupportedProvider {
        /// The provider.
        provider: Provider,
    },
    /// Anything else (an ADC failure, an invalid header value), described.
    Other {
        /// The provider, when known.
        provider: Option<Provider>,
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::Missing { provider, env_var } => {
                write!(f, "no API key for {provider}: set {env_var} (environment or .env) or pass an api_key")
            }
            CredentialsError::Blank { provider, source } => {
                write!(f, "the API key for {provider} from {source} is blank")
            }
            CredentialsError::UnsupportedProvider { provider } => {
                write!(f, "{provider} has no credential scheme yet; pass an explicit auth")
            }
            CredentialsError::Other { provider: Some(p), message } => write!(f, "{p} credentials: {message}"),
            CredentialsError::Other { provider: None, message } => write!(f, "credentials: {message}"),
        }
    }
}

/// A reply that does not fit the type the call declared (see [`Error::OutputValidation`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct OutputValidationError {
    /// What did not fit (`structured output`, `arguments of tool call get_weather`).
    pub what: String,
    /// Why, as the deserialiser put it.
    pub message: String,
    /// The whole reply as text, with the tool calls as the provider sent them, so nothing is lost.
    pub output: crate::types::output::Output<String>,
}

/// A long-running provider job that reported failure (or was refused: moderated, not found).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobError {
    /// Who ran the job.
    pub origin: Origin,
    /// The provider's job id, to look the job up again.
    pub job_id: Option<String>,
    /// The provider's status word (`Error`, `Request Moderated`, `Failed`, ...).
    pub status: String,
    /// The provider's message, when it gave one.
    pub message: Option<String>,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} job", self.origin)?;
        if let Some(id) = &self.job_id {
            write!(f, " {id}")?;
        }
        write!(f, " failed ({})", self.status)?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for OutputValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} does not fit the declared type: {}", self.what, self.message)
    }
}

/// The error type of every fallible operation in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider answered with a non-success status.
    #[error("{0}")]
    Http(Box<HttpError>),
    /// The connection failed or broke (no status, or the body broke mid-read).
    #[error("{origin} transport error: {message}")]
    Transport {
        /// Who we were talking to.
        origin: Origin,
        /// What happened, without the request URL.
        message: String,
        /// Whether the failure happened while connecting (safe to retry).
        connect: bool,
        /// The underlying error, URL stripped.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A configured time limit ran out.
    #[error("{origin} request timed out ({phase}) after {after:?}")]
    Timeout {
        /// Who we were talking to.
        origin: Origin,
        /// Which phase ran out of time.
        phase: TimeoutPhase,
        /// The configured limit.
        after: Duration,
    },
    /// The provider sent an error event inside a stream. Chunks already yielded stay with the caller.
    #[error("{0}")]
    StreamEvent(Box<StreamEventError>),
    /// The stream's body ended (or broke) before the wire API's terminal event.
    #[error("{origin} stream ended before completion: {reason}")]
    StreamTruncated {
        /// Who was streaming.
        origin: Origin,
        /// What was missing, in the library's own words: never the stream's content (it is recorded on
        /// telemetry spans whatever the content capture setting).
        reason: String,
    },
    /// The response succeeded but its body is not what the call reads: an HTML page from a proxy or
    /// captive portal, a compressed body, a JSON document where an event stream was expected. Nothing
    /// of it was decoded.
    #[error("{0}")]
    UnexpectedBody(Box<UnexpectedBodyError>),
    /// A long-running provider job reported failure.
    #[error("{0}")]
    Job(Box<JobError>),
    /// A single stream event exceeded the configured maximum size.
    #[error("stream event exceeds the {limit}-byte limit (raise it with max_event_size)")]
    EventTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A response or event could not be decoded.
    #[error("could not decode {what}: {message}; payload: {payload}")]
    Decode {
        /// What was being decoded (`openresponses response`, `chat completions stream event`, ...).
        what: &'static str,
        /// The decoder's message.
        message: String,
        /// The offending payload, truncated.
        payload: String,
    },
    /// A parameter value was rejected locally, before any request.
    #[error("{0}")]
    Validation(Box<ValidationError>),
    /// The reply does not fit the type the call declared: structured output that does not parse into
    /// the requested type, or tool-call arguments that do not fit the tool's Rust type. The whole
    /// reply is kept in the error.
    #[error("{0}")]
    OutputValidation(Box<OutputValidationError>),
    /// The provider, model or wire API cannot do what was asked.
    #[error("{0}")]
    Unsupported(Box<UnsupportedError>),
    /// Credentials are missing or unusable.
    #[error("{0}")]
    Credentials(CredentialsError),
    /// No model with this id is known.
    #[error("model `{model}` not found{}; pass a provider or protocol to use an unregistered id", .provider.map(|p| format!(" for {p}")).unwrap_or_default())]
    ModelNotFound {
        /// The requested id.
        model: String,
        /// The provider it was looked up under, if any.
        provider: Option<Provider>,
    },
    /// `Stream::output` was called before the stream was exhausted.
    #[error("the stream has not been consumed to the end yet; output() is available after exhaustion")]
    StreamNotExhausted,
    /// The operation was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The caller's input is unusable (an empty request, an unreadable artifact, a bad URL, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl Error {
    pub(crate) fn invalid_input(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    pub(crate) fn unsupported(
        origin: Option<Origin>,
        modality: Option<Modality>,
        operation: Option<Operation>,
        what: impl Into<String>,
    ) -> Self {
        Error::Unsupported(Box::new(UnsupportedError { origin, modality, operation, what: what.into() }))
    }

    pub(crate) fn decode(what: &'static str, err: impl fmt::Display, payload: &[u8]) -> Self {
        Error::Decode { what, message: err.to_string(), payload: truncate_lossy(payload, 512) }
    }

    /// Whether sending the same request again is safe and could succeed: 408, 409, 429, 500, 502,
    /// 503, 504 and 529 statuses (unless the server said `x-should-retry: false`), failures to connect,
    /// and connect timeouts.
    ///
    /// A request the provider may still be processing ([`may_have_been_processed`](Self::may_have_been_processed))
    /// is not: sending it again can run (and bill) the generation twice. The retry policy re-sends
    /// those only when asked to ([`RetryPolicy::with_retry_after_send`](crate::RetryPolicy::with_retry_after_send)).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(h) => match h.should_retry {
                Some(v) => v,
                None => matches!(h.status, 408 | 409 | 429 | 500 | 502 | 503 | 504 | 529),
            },
            Error::Transport { connect, .. } => *connect,
            Error::Timeout { phase, .. } => matches!(phase, TimeoutPhase::Connect),
            _ => false,
        }
    }

    /// Whether the request was sent and no answer came: the response headers did not arrive in time,
    /// or the connection was lost after it was established. The provider may have received the
    /// request and may still be generating (and billing) the reply.
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            Error::Transport { connect, .. } => !*connect,
            Error::Timeout { phase, .. } => matches!(phase, TimeoutPhase::Headers),
            _ => false,
        }
    }

    /// The HTTP status, for [`Error::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http(h) => Some(h.status),
            _ => None,
        }
    }

    /// The provider involved, when there is one.
    pub fn provider(&self) -> Option<Provider> {
        self.origin().and_then(Origin::provider)
    }

    /// The provider or protocol involved, when known.
    pub fn origin(&self) -> Option<Origin> {
        match self {
            Error::Http(h) => Some(h.origin),
            Error::Transport { origin, .. } | Error::Timeout { origin, .. } | Error::StreamTruncated { origin, .. } => {
                Some(*origin)
            }
            Error::StreamEvent(e) => Some(e.origin),
            Error::UnexpectedBody(e) => Some(e.origin),
            Error::Job(e) => Some(e.origin),
            Error::Unsupported(u) => u.origin,
            Error::Credentials(
                CredentialsError::Missing { provider, .. }
                | CredentialsError::Blank { provider, .. }
                | CredentialsError::UnsupportedProvider { provider },
            ) => Some(Origin::Provider(*provider)),
            Error::Credentials(CredentialsError::Other { provider, .. }) => provider.map(Origin::Provider),
            Error::ModelNotFound { provider, .. } => provider.map(Origin::Provider),
            _ => None,
        }
    }

    /// A short, low-cardinality name for the kind of error (`http_429`, `timeout`, `validation`, ...),
    /// suitable for metrics and span attributes.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Http(h) => http_kind(h.status),
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
            Error::StreamEvent(_) => "stream_event",
            Error::StreamTruncated { .. } => "stream_truncated",
            Error::UnexpectedBody(_) => "unexpected_body",
            Error::EventTooLarge { .. } => "event_too_large",
            Error::Job(_) => "job_failed",
            Error::Decode { .. } => "decode",
            Error::Validation(_) => "validation",
            Error::OutputValidation(_) => "output_validation",
            Error::Unsupported(_) => "unsupported",
            Error::Credentials(_) => "credentials",
            Error::ModelNotFound { .. } => "model_not_found",
            Error::StreamNotExhausted => "stream_not_exhausted",
            Error::Cancelled => "cancelled",
            Error::InvalidInput(_) => "invalid_input",
        }
    }
}

/// Static names for statuses so `kind()` needs no allocation.
fn http_kind(status: u16) -> &'static str {
    const NAMED: [(u16, &str); 14] = [
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (408, "408"),
        (409, "409"),
        (413, "413"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
        (529, "529"),
    ];
    if let Some((_, name)) = NAMED.iter().find(|(s, _)| *s == status) {
        return name;
    }
    match status {
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "http",
    }
}

impl From<CredentialsError> for Error {
    fn from(e: CredentialsError) -> Self {
        Error::Credentials(e)
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(Box::new(e))
    }
}

/// Up to `max` bytes of `bytes` as lossy UTF-8, cut on a character boundary, with a marker when cut.
pub(crate) fn truncate_lossy(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    let mut s = s.into_owned();
    if bytes.len() > max {
        // The cut may have split a multi-byte character into U+FFFD; that is fine for a diagnostic.
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, should_retry: Option<bool>) -> Error {
        Error::Http(Box::new(HttpError {
            origin: Provider::OpenAi.into(),
            status,
            message: "m".into(),
            error_type: Some("t".into()),
            code: None,
            request_id: Some("req_1".into()),
            retry_after: None,
            should_retry,
            body: String::new(),
        }))
    }

    #[test]
    fn retryable_statuses_match_the_policy() {
        for s in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(http(s, None).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!http(s, None).is_retryable(), "{s}");
        }
        assert!(!http(503, Some(false)).is_retryable());
        assert!(http(400, Some(true)).is_retryable());
    }

    #[test]
    fn http_display_names_provider_status_type_and_request_id() {
        let e = http(429, None);
        assert_eq!(e.to_string(), "openai API error (HTTP 429) [t]: m (request id req_1)");
        assert_eq!(e.status(), Some(429));
        assert_eq!(e.provider(), Some(Provider::OpenAi));
        assert_eq!(e.kind(), "429");
    }

    #[test]
    fn missing_credentials_name_the_env_var() {
        let e: Error = CredentialsError::Missing { provider: Provider::Anthropic, env_var: "ANTHROPIC_API_KEY" }.into();
        assert!(e.to_string().contains("ANTHROPIC_API_KEY"));
        assert_eq!(e.provider(), Some(Provider::Anthropic));
    }

    #[test]
    fn truncation_is_marked_and_safe_on_binary() {
        assert_eq!(truncate_lossy(b"abc", 10), "abc");
        assert_eq!(truncate_lossy(b"abcdef", 3), "abc…");
        let bin = [0xff, 0xfe, 0x00, 0x80];
        assert!(!truncate_lossy(&bin, 3).is_empty());
    }

    #[test]
    fn error_is_small_and_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Error>();
        assert!(std::mem::size_of::<Error>() <= 64, "{}", std::mem::size_of::<Error>());
    }
}
