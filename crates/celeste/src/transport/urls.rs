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

/// `url` parsed and fit to send to: an `http` or `https` URL with a host. Otherwise why not, in words
/// that never repeat the URL (it can carry a key in its query or credentials before its host).
pub(crate) fn check(url: &str) -> Result<Url, String> {
    let Some(parsed) = parse(url) else {
        return Err(match Url::parse(url) {
            Err(e) => format!("it does not parse ({e})"),
            Ok(_) => "it does not parse".to_string(),
        });
    };
    // `localhost:8080/v1` parses, with the scheme `localhost`: the usual slip is a missing `http://`.
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("it does not start with http:// or https://".to_string());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_string());
    }
    Ok(parsed)
}

/// `part` as one path segment, percent-escaped, or why it cannot be one: empty, `.` or `..` (which URL
/// parsers resolve as "this" and "parent" segments, escaped or not, so a model id `..` would walk up
/// the provider's path with the credential attached), or holding control characters.
///
/// Everything but the characters RFC 3986 allows in a segment is escaped (`/`, `?`, `#`, `%`, space,
/// non-ASCII, ...), so a value can neither add segments, start a query nor cut the path.
pub(crate) fn path_segment(part: &str) -> Result<String, &'static str> {
    if part.is_empty() {
        return Err("it is empty");
    }
    if part == "." || part == ".." {
        return Err("`.` and `..` are not names");
    }
    if part.chars().any(char::is_control) {
        return Err("it holds control characters");
    }
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        // RFC 3986 `pchar`: unreserved, sub-delims, `:` and `@`.
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// Append `path` (which may carry its own query) to `base`, keeping the base's query after the
/// path: `https://h/openai?api-version=1` + `/v1/x` is `https://h/openai/v1/x?api-version=1`, not a
/// path inside the query. A fragment on the base is dropped (it is never sent, and would cut the
/// path). Both queries are kept, the path's first.
pub(crate) fn append_path(base: &str, path: &str) -> String {
    let base = base.split_once('#').map_or(base, |(b, _)| b);
    let (base, base_query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q).filter(|q| !q.is_empty())),
        None => (base, None),
    };
    let joined = format!("{}{path}", base.trim_end_matches('/'));
    match base_query {
        Some(q) if joined.contains('?') => format!("{joined}&{q}"),
        Some(q) => format!("{joined}?{q}"),
        None => joined,
    }
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
    fn path_segments_are_escaped_or_refused() {
        assert_eq!(path_segment("gemini-2.5-flash").unwrap(), "gemini-2.5-flash");
        assert_eq!(path_segment("ft:gpt-4o:org@x").unwrap(), "ft:gpt-4o:org@x");
        assert_eq!(path_segment("../a?b=1#c d%").unwrap(), "..%2Fa%3Fb=1%23c%20d%25");
        assert_eq!(path_segment("é").unwrap(), "%C3%A9");
        for bad in ["", ".", "..", "a\nb", "a\u{7f}"] {
            assert!(path_segment(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_base_query_stays_after_the_path() {
        assert_eq!(append_path("http://h/a/", "/v1/x"), "http://h/a/v1/x");
        assert_eq!(append_path("http://h/a?v=1", "/v1/x"), "http://h/a/v1/x?v=1");
        assert_eq!(append_path("http://h/a/?v=1#frag", "/m:s?alt=sse"), "http://h/a/m:s?alt=sse&v=1");
        assert_eq!(append_path("http://h/a#frag", "/x"), "http://h/a/x");
        assert_eq!(append_path("http://h/a?", "/x"), "http://h/a/x");
    }

    #[test]
    fn check_names_the_problem_without_the_url() {
        assert!(check("https://example.com/v1").is_ok());
        for (url, problem) in [
            ("http://h:99999/x?key=secret", "invalid port number"),
            ("/v1/responses?key=secret", "relative URL without a base"),
            ("secret:pw@host/v1", "http:// or https://"),
            ("file:///secret", "http:// or https://"),
        ] {
            let e = check(url).unwrap_err();
            assert!(e.contains(problem), "{url}: {e}");
            assert!(!e.contains("secret"), "{url}: {e}");
        }
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
