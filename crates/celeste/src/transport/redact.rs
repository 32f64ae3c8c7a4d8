//! Secrets kept out of everything that is printed or recorded: the one place for the redaction rules
//! (ARCHITECTURE.md, "Secrets").
//!
//! - Headers: a header whose name says it carries a credential (see [`is_secret_header`]), or that
//!   is marked sensitive, never shows its value (`Debug` of builders, telemetry never records headers).
//! - URLs (`url.full`, cassette paths, `Debug` of base URLs), as the OpenTelemetry HTTP conventions ask:
//!   user info removed, the values of sensitive query parameters replaced by `REDACTED`, the
//!   fragment dropped.
//! - Error bodies: a server that echoes the credential it was sent ("Incorrect API key provided:
//!   sk-…") has every such value replaced in the error's message and body.

use reqwest::Url;
use reqwest::header::HeaderMap;

use crate::error::HttpError;

/// What a redacted value is replaced with.
pub(crate) const REDACTED: &str = "REDACTED";

/// A query parameter whose name contains one of these (case-insensitively) carries a secret: `key`,
/// `api_key`, `access_token`, `code` (OAuth), `pass`/`password`, `sig`/`signature`
/// (`X-Goog-Signature`, SAS `sig`), `AWSAccessKeyId`, ... Over-matching (`country_code`) costs a
/// recorded value; under-matching leaks a key.
const SECRET_PARAMS: &[&str] = &["key", "token", "code", "pass", "sig", "secret", "auth", "credential", "session"];

/// A header whose name contains one of these (case-insensitively) carries a secret: `authorization`,
/// `proxy-authorization`, `x-api-key`, `api-key`, `x-goog-api-key`, `xi-api-key`, `x-key`, `cookie`, ...
const SECRET_HEADERS: &[&str] = &["auth", "key", "token", "secret", "cookie", "session", "signature", "password"];

/// Values shorter than this are not searched for in error bodies: no real credential is that short,
/// and replacing every `k` of a message would make it unreadable.
const MIN_ECHOED_SECRET: usize = 8;

/// Whether a query parameter named `name` carries a secret.
pub(crate) fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| lower.contains(s))
}

/// Whether a header named `name` carries a secret: by its name, or because a provider profile sends
/// its key in it.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.iter().any(|s| lower.contains(s))
        || crate::types::enums::Provider::ALL
            .iter()
            .filter_map(|p| crate::providers::profile(*p)?.credential)
            .any(|c| c.header.eq_ignore_ascii_case(name))
}

/// A URL safe to record: no user info, the values of secret query parameters redacted, no fragment.
pub(crate) fn redact_url(url: &str) -> String {
    let Ok(mut u) = Url::parse(url) else { return String::from("[unparseable url]") };
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    if u.query().is_some_and(|q| !q.is_empty()) {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) { REDACTED.to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    } else {
        u.set_query(None);
    }
    u.to_string()
}

/// The secret values a request carries: its credential headers' values (whole, and each word, so
/// the key after `Bearer ` counts on its own), and its URL's user info and secret query values.
pub(crate) fn secrets_in(url: &str, headers: &HeaderMap) -> Vec<String> {
    let mut found = Vec::new();
    for (name, value) in headers {
        if !(value.is_sensitive() || is_secret_header(name.as_str())) {
            continue;
        }
        if let Ok(v) = value.to_str() {
            found.push(v.trim().to_string());
            found.extend(v.split_whitespace().map(str::to_string));
        }
    }
    if let Some(u) = super::urls::parse(url) {
        found.push(u.username().to_string());
        found.extend(u.password().map(str::to_string));
        found.extend(u.query_pairs().filter(|(k, _)| is_secret_param(k)).map(|(_, v)| v.into_owned()));
    }
    found.retain(|s| s.len() >= MIN_ECHOED_SECRET);
    // Longest first: a whole `Bearer …` value goes before the key inside it.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// `text` with every one of `secrets` replaced.
pub(crate) fn scrub(text: &mut String, secrets: &[String]) {
    for s in secrets {
        if text.contains(s.as_str()) {
            *text = text.replace(s.as_str(), REDACTED);
        }
    }
}

/// An error built from a server's answer, with every secret of the request that answer echoes removed.
pub(crate) fn scrub_http_error(e: &mut HttpError, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    scrub(&mut e.message, secrets);
    scrub(&mut e.body, secrets);
    for field in [&mut e.error_type, &mut e.code, &mut e.request_id].into_iter().flatten() {
        scrub(field, secrets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn urls_lose_credentials_secret_values_and_fragments() {
        let r = redact_url("https://user:pw@host.example/v1/x?key=SECRET&alt=sse&access_token=T#frag");
        assert_eq!(r, "https://host.example/v1/x?key=REDACTED&alt=sse&access_token=REDACTED");
        let r = redact_url("https://h/cb?code=C&password=P&X-Goog-Signature=S&sig=G&AWSAccessKeyId=A&n=1");
        assert_eq!(
            r,
            "https://h/cb?code=REDACTED&password=REDACTED&X-Goog-Signature=REDACTED&sig=REDACTED&AWSAccessKeyId=REDACTED&n=1"
        );
        assert_eq!(redact_url("https://h/x?"), "https://h/x");
        assert_eq!(redact_url("not a url ?key=k"), "[unparseable url]");
    }

    #[test]
    fn credential_headers_are_known_by_name() {
        for h in ["authorization", "Proxy-Authorization", "x-api-key", "api-key", "x-goog-api-key", "xi-api-key"] {
            assert!(is_secret_header(h), "{h}");
        }
        assert!(is_secret_header("x-key"), "Black Forest Labs' key header");
        for h in ["content-type", "x-request-id", "anthropic-version", "openai-beta"] {
            assert!(!is_secret_header(h), "{h}");
        }
    }

    #[test]
    fn echoed_secrets_are_scrubbed() {
        let mut h = HeaderMap::new();
        let mut v = HeaderValue::from_static("Bearer sk-live-0123456789");
        v.set_sensitive(true);
        h.insert("authorization", v);
        h.insert("x-custom", HeaderValue::from_static("not-a-secret-value"));
        let secrets = secrets_in("https://u:hunter2hunter2@h/x?key=AIzaSecretValue&alt=sse", &h);
        assert!(secrets.contains(&"sk-live-0123456789".to_string()));
        assert!(secrets.contains(&"hunter2hunter2".to_string()));
        assert!(secrets.contains(&"AIzaSecretValue".to_string()));
        assert!(!secrets.iter().any(|s| s == "Bearer" || s == "sse" || s.contains("not-a-secret")));
        let mut text = "bad key sk-live-0123456789 (AIzaSecretValue), hunter2hunter2".to_string();
        scrub(&mut text, &secrets);
        assert_eq!(text, "bad key REDACTED (REDACTED), REDACTED");
    }
}
