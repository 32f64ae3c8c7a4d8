//! Parsed request URLs, remembered.
//!
//! Parsing a URL costs about 20,000 instructions (host parsing dominates), a fifth of the client's
//! own work on a small unary call (measured with callgrind in the side-by-side benchmark, see
//! BENCHMARKS.md). An application sends to a handful of distinct URLs, so each is parsed once: the
//! transport hands reqwest a parsed `Url` (which it then does not parse again) and telemetry reads
//! the host and port from the same value.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use reqwest::Url;

/// More distinct URLs than this (Gemini puts the model in the path; a gateway may put ids there)
/// and the memo starts over rather than grow without bound.
const CAPACITY: usize = 256;

/// `url` parsed, from the process-wide memo when it has been parsed before. `None` when it does not
/// parse.
pub(crate) fn parse(url: &str) -> Option<Url> {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(Memo::default).parse(url)
}

#[derive(Default)]
struct Memo(Mutex<HashMap<Box<str>, Url>>);

impl Memo {
    fn parse(&self, url: &str) -> Option<Url> {
        if let Some(u) = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(url) {
            return Some(u.clone());
        }
        // Parsed outside the lock: two threads may both parse a new URL once, which is harmless.
        let parsed = Url::parse(url).ok()?;
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(url.into(), parsed.clone());
        Some(parsed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A URL safe to record: no user info, and the values of key-bearing query parameters redacted.
pub(crate) fn redact_url(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else { return String::from("[unparseable url]") };
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = ["key", "token", "sig", "secret", "auth", "password", "credential"]
                    .iter()
                    .any(|s| lower.contains(s));
                (k.into_owned(), if secret { "REDACTED".to_string() } else { v.into_owned() })
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_gives_the_same_url() {
        let memo = Memo::default();
        let a = memo.parse("http://127.0.0.1:8080/v1/chat/completions?x=1").unwrap();
        let b = memo.parse("http://127.0.0.1:8080/v1/chat/completions?x=1").unwrap();
        assert_eq!(a, b);
        assert_eq!(memo.len(), 1);
        assert_eq!(a.port(), Some(8080));
        assert!(memo.parse("not a url").is_none());
        assert_eq!(memo.len(), 1, "failures are not remembered");
        assert_eq!(parse("https://example.com/a").unwrap().host_str(), Some("example.com"));
    }

    #[test]
    fn urls_lose_credentials() {
        let r = redact_url("https://user:pw@host.example/v1/x?key=SECRET&alt=sse&access_token=T");
        assert_eq!(r, "https://host.example/v1/x?key=REDACTED&alt=sse&access_token=REDACTED");
    }

    #[test]
    fn stays_bounded() {
        let memo = Memo::default();
        for i in 0..(CAPACITY * 2 + 3) {
            memo.parse(&format!("http://h/{i}")).unwrap();
            assert!(memo.len() <= CAPACITY);
        }
    }
}
