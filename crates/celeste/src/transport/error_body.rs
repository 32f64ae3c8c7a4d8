//! Turning a non-success response into an [`HttpError`]: whatever the body is (the JSON error shapes of
//! every provider, an HTML page from a proxy, nothing, or binary), the caller gets a status, a message
//! and the raw body.

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{HttpError, Origin, truncate_lossy};
use crate::transport::retry;

/// How much of an error body is kept in the error.
const KEPT_BODY: usize = 4096;

/// Build the error for a response with status `status`, headers and body.
pub(crate) fn http_error(origin: Origin, status: u16, headers: &HeaderMap, body: &[u8]) -> HttpError {
    let (message, error_type, code) =
        decode(body).unwrap_or_else(|| (fallback_message(status, headers, body), None, None));
    HttpError {
        origin,
        status,
        message,
        error_type,
        code,
        request_id: request_id(headers),
        retry_after: retry::retry_after(headers),
        should_retry: retry::should_retry(headers),
        body: truncate_lossy(body, KEPT_BODY),
    }
}

/// Message, type and code from the JSON error shapes providers use:
/// `{"error":{"message","type","code"}}` (OpenAI family), `{"type":"error","error":{...}}` (Anthropic),
/// `{"error":{"status","message","code"}}` (Google), `{"error":"text"}`, `{"message":...}` (Cohere,
/// Mistral), `{"detail":...}` (FastAPI servers such as Hugging Face and vLLM).
fn decode(body: &[u8]) -> Option<(String, Option<String>, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    // Some servers wrap the error in a one-element array (Google's older endpoints).
    let v = match v {
        Value::Array(mut a) if a.len() == 1 => a.remove(0),
        other => other,
    };
    let obj = v.as_object()?;
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match obj.get("error") {
        Some(Value::Object(e)) => {
            let message = e.get("message").and_then(as_text).unwrap_or_else(|| Value::Object(e.clone()).to_string());
            let error_type = e.get("type").or_else(|| e.get("status")).and_then(as_text);
            let code = e.get("code").and_then(as_text);
            Some((message, error_type, code))
        }
        Some(Value::String(s)) => Some((s.clone(), obj.get("type").and_then(as_text).filter(|t| t != "error"), None)),
        _ => {
            let message = obj.get("message").or_else(|| obj.get("detail")).and_then(as_text)?;
            let code = obj.get("code").and_then(as_text);
            Some((message, obj.get("type").and_then(as_text), code))
        }
    }
}

/// The provider's message, when `body` is one of the JSON error shapes [`decode`] knows.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    decode(body).map(|(message, _, _)| message)
}

/// The message when the body is not a JSON error: short text bodies verbatim, otherwise a description.
fn fallback_message(status: u16, headers: &HeaderMap, body: &[u8]) -> String {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let text = std::str::from_utf8(body).ok().map(str::trim);
    match text {
        _ if body.is_empty() => format!("HTTP {status} with an empty body"),
        Some(t) if content_type.contains("html") || t.starts_with('<') => {
            let title = html_title(t).map(|t| format!(": {t}")).unwrap_or_default();
            format!("HTTP {status} with an HTML page{title} (a proxy or gateway answered, not the API)")
        }
        Some(t) if t.len() <= 300 => t.to_string(),
        Some(t) => truncate_lossy(t.as_bytes(), 300),
        None => format!("HTTP {status} with a {}-byte binary body", body.len()),
    }
}

/// The `<title>` of an HTML page, if it has a short one.
pub(crate) fn html_title(html: &str) -> Option<&str> {
    let lower = html.get(..html.len().min(4096))?.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = html.get(start..end)?.trim();
    (!title.is_empty() && title.len() <= 200).then_some(title)
}

/// The request id, from the headers providers use for it.
fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id", "x-goog-request-id", "cf-ray"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::enums::Provider;
    use reqwest::header::HeaderValue;

    fn err(body: &[u8], ct: &str) -> HttpError {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        h.insert("x-request-id", HeaderValue::from_static("req_9"));
        http_error(Origin::Provider(Provider::OpenAi), 400, &h, body)
    }

    #[test]
    fn openai_shape() {
        let e = err(br#"{"error":{"message":"bad model","type":"invalid_request_error","code":"model_not_found","param":null}}"#, "application/json");
        assert_eq!(e.message, "bad model");
        assert_eq!(e.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(e.code.as_deref(), Some("model_not_found"));
        assert_eq!(e.request_id.as_deref(), Some("req_9"));
    }

    #[test]
    fn anthropic_google_and_flat_shapes() {
        let a =
            err(br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, "application/json");
        assert_eq!((a.message.as_str(), a.error_type.as_deref()), ("Overloaded", Some("overloaded_error")));
        let g = err(
            br#"{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}"#,
            "application/json",
        );
        assert_eq!(
            (g.message.as_str(), g.error_type.as_deref(), g.code.as_deref()),
            ("API key not valid", Some("INVALID_ARGUMENT"), Some("400"))
        );
        let f = err(br#"{"message":"invalid api token"}"#, "application/json");
        assert_eq!(f.message, "invalid api token");
        let d = err(br#"{"detail":"Not Found"}"#, "application/json");
        assert_eq!(d.message, "Not Found");
        let s = err(br#"{"error":"model not loaded"}"#, "application/json");
        assert_eq!(s.message, "model not loaded");
    }

    #[test]
    fn html_empty_and_binary_bodies_are_tolerated() {
        let h = err(b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "text/html");
        assert!(h.message.contains("HTML page: 502 Bad Gateway"), "{}", h.message);
        assert!(err(b"", "text/plain").message.contains("empty body"));
        let b = err(&[0xff, 0x00, 0xfe, 0x01], "application/octet-stream");
        assert!(b.message.contains("binary body"), "{}", b.message);
        assert_eq!(err(b"plain failure", "text/plain").message, "plain failure");
    }

    #[test]
    fn body_is_kept_truncated() {
        let big = vec![b'a'; 10_000];
        assert!(err(&big, "text/plain").body.len() <= KEPT_BODY + 4);
    }
}
