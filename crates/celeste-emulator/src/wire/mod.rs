//! The wire APIs: routing, and rendering a [`Plan`] as each API's unary body or stream.

use bytes::Bytes;
use serde_json::Value;

use crate::plan::Plan;

pub(crate) mod anthropic;
pub(crate) mod chat;
pub(crate) mod cohere;
pub(crate) mod embeddings;
pub(crate) mod gemini;
pub(crate) mod images;
pub(crate) mod interactions;
pub(crate) mod live;
pub(crate) mod ollama;
pub(crate) mod responses;
pub(crate) mod segmentation;
pub(crate) mod typesafe;
pub(crate) mod videos;

/// The wire APIs the emulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    Responses,
    Chat,
    Anthropic,
    Gemini,
    Cohere,
    Ollama,
    Interactions,
}

/// How a stream is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `text/event-stream`.
    Sse,
    /// `application/x-ndjson` (Ollama).
    Ndjson,
    /// A JSON array streamed element by element (Gemini `streamGenerateContent` without
    /// `alt=sse`).
    JsonArray,
}

/// What a recognised path is served by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    /// A text API, rendered from a [`Plan`] (Gemini and Interactions also answer images that
    /// way).
    Text(Api),
    /// An image API ([`images`]).
    Image(images::ImageApi, images::Endpoint),
    /// TypeSafe System One decisions ([`typesafe`]).
    Decision,
}

/// How a request's body must be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// A JSON object.
    Json,
    /// A JSON object or `multipart/form-data` (OpenAI edits).
    JsonOrForm,
    /// `multipart/form-data` (Topaz submits).
    Form,
    /// None: a `GET`.
    None,
}

/// A recognised API path.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub service: Service,
    /// The model named in the path (Gemini).
    pub path_model: Option<String>,
    /// `Some(true)` when the path itself asks for a stream (Gemini `:streamGenerateContent`),
    /// `Some(false)` when it asks for a unary answer, `None` when the body's `stream` decides.
    pub path_stream: Option<bool>,
    pub framing: Framing,
}

impl Route {
    fn text(api: Api, path_model: Option<String>, path_stream: Option<bool>, framing: Framing) -> Route {
        Route { service: Service::Text(api), path_model, path_stream, framing }
    }

    /// The text API, if this is one.
    pub fn api(&self) -> Option<Api> {
        match self.service {
            Service::Text(api) => Some(api),
            Service::Image(..) | Service::Decision => None,
        }
    }

    /// Whether the route is read with `GET` (the others take `POST`).
    pub fn is_get(&self) -> bool {
        matches!(&self.service, Service::Image(_, e) if e.is_get())
    }

    /// How the body must be encoded.
    pub fn body_kind(&self) -> BodyKind {
        match &self.service {
            Service::Text(_) => BodyKind::Json,
            Service::Image(_, e) if e.is_get() => BodyKind::None,
            Service::Image(images::ImageApi::Topaz, _) => BodyKind::Form,
            Service::Image(_, images::Endpoint::Edit) => BodyKind::JsonOrForm,
            Service::Image(..) | Service::Decision => BodyKind::Json,
        }
    }

    /// The JSON body of an HTTP error, in the API's shape.
    pub fn error_body(&self, err: &ErrorInfo) -> Vec<u8> {
        match &self.service {
            Service::Text(api) => api.error_body(err),
            Service::Image(api, _) => api.error_body(err),
            Service::Decision => typesafe::error_body(err),
        }
    }

    /// The request-id header the API's servers send.
    pub fn request_id_header(&self) -> Option<&'static str> {
        match &self.service {
            Service::Text(api) => api.request_id_header(),
            Service::Image(api, _) => api.request_id_header(),
            Service::Decision => None,
        }
    }
}

/// Maps a request path (without query) to its API.
pub(crate) fn route(path: &str, query: Option<&str>) -> Option<Route> {
    let plain = |api, framing| Some(Route::text(api, None, None, framing));
    match path {
        "/v1/responses" | "/responses" | "/openai/v1/responses" => {
            return plain(Api::Responses, Framing::Sse);
        }
        "/v1/chat/completions" | "/openai/v1/chat/completions" | "/chat/completions" => {
            return plain(Api::Chat, Framing::Sse);
        }
        "/v1/messages" => return plain(Api::Anthropic, Framing::Sse),
        "/v2/chat" => return plain(Api::Cohere, Framing::Sse),
        "/v1/systemone" => {
            return Some(Route {
                service: Service::Decision,
                path_model: None,
                path_stream: Some(false),
                framing: Framing::Sse,
            });
        }
        "/api/chat" => return plain(Api::Ollama, Framing::Ndjson),
        "/v1beta/interactions" | "/v1/interactions" => {
            return plain(Api::Interactions, Framing::Sse);
        }
        _ => {}
    }
    if let Some((api, endpoint, path_model)) = videos::route(path) {
        return Some(Route {
            service: Service::Image(api, endpoint),
            path_model,
            path_stream: None,
            framing: Framing::Sse,
        });
    }
    if let Some((api, endpoint, path_model)) = images::route(path, query) {
        let framing = if api == images::ImageApi::Ollama { Framing::Ndjson } else { Framing::Sse };
        return Some(Route { service: Service::Image(api, endpoint), path_model, path_stream: None, framing });
    }
    // Vertex AI's OpenAI-compatible endpoint (DeepSeek and other partner models):
    // /v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions
    if path.starts_with("/v1/projects/") && path.ends_with("/endpoints/openapi/chat/completions") {
        return plain(Api::Chat, Framing::Sse);
    }
    // Gemini: /v1beta/models/{model}:generateContent, :streamGenerateContent, and the Vertex
    // form /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:...
    let at = path.rfind("/models/")?;
    let rest = &path[at + "/models/".len()..];
    let (model, method) = rest.split_once(':')?;
    if model.is_empty() || model.contains('/') {
        return None;
    }
    // Vertex AI's partner models: /v1/projects/{p}/locations/{l}/publishers/{anthropic|mistralai}/
    // models/{model}:rawPredict (unary) or :streamRawPredict (SSE), each in its vendor's own format.
    let partner = match &path[..at] {
        p if p.ends_with("/publishers/anthropic") => Some(Api::Anthropic),
        p if p.ends_with("/publishers/mistralai") => Some(Api::Chat),
        _ => None,
    };
    if let Some(api) = partner {
        let stream = match method {
            "rawPredict" => false,
            "streamRawPredict" => true,
            _ => return None,
        };
        return Some(Route::text(api, Some(model.to_string()), Some(stream), Framing::Sse));
    }
    let stream = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return None,
    };
    let sse = query.is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
    let framing = if sse { Framing::Sse } else { Framing::JsonArray };
    Some(Route::text(Api::Gemini, Some(model.to_string()), Some(stream), framing))
}

/// A pre-rendered stream: one buffer and the end offset of every event in it.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub buf: Bytes,
    pub ends: Vec<usize>,
}

impl Rendered {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn event(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// Rebuilds the stream with event `i` replaced by `f(event)`, keeping the first `keep`
    /// events only (`f` is not applied when `i >= keep`).
    pub fn edited(&self, keep: usize, i: usize, f: impl FnOnce(&[u8]) -> Vec<u8>) -> Rendered {
        let keep = keep.min(self.len());
        let mut ev = Events::with_capacity(self.buf.len() + 64, keep + 1);
        let mut f = Some(f);
        for j in 0..keep {
            if j == i
                && let Some(f) = f.take()
            {
                ev.raw(&f(self.event(j)));
            } else {
                ev.raw(self.event(j));
            }
        }
        ev.finish()
    }

    /// The first `keep` events followed by `tail`.
    pub fn with_tail(&self, keep: usize, tail: Events) -> Rendered {
        let keep = keep.min(self.len());
        let head_end = if keep == 0 { 0 } else { self.ends[keep - 1] };
        let tail = tail.finish();
        let mut buf = Vec::with_capacity(head_end + tail.buf.len());
        buf.extend_from_slice(&self.buf[..head_end]);
        buf.extend_from_slice(&tail.buf);
        let mut ends = self.ends[..keep].to_vec();
        ends.extend(tail.ends.iter().map(|e| e + head_end));
        Rendered { buf: Bytes::from(buf), ends }
    }
}

/// Builder for a [`Rendered`] stream.
#[derive(Debug, Default)]
pub(crate) struct Events {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Events {
    pub fn with_capacity(bytes: usize, events: usize) -> Self {
        Events { buf: Vec::with_capacity(bytes), ends: Vec::with_capacity(events) }
    }

    /// One SSE event: optional `event:` line, one `data:` line written by `data`.
    pub fn sse(&mut self, event: Option<&str>, data: impl FnOnce(&mut Vec<u8>)) {
        if let Some(name) = event {
            self.buf.extend_from_slice(b"event: ");
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(b'\n');
        }
        self.buf.extend_from_slice(b"data: ");
        data(&mut self.buf);
        self.buf.extend_from_slice(b"\n\n");
        self.ends.push(self.buf.len());
    }

    /// One NDJSON line.
    pub fn line(&mut self, data: impl FnOnce(&mut Vec<u8>)) {
        data(&mut self.buf);
        self.buf.push(b'\n');
        self.ends.push(self.buf.len());
    }

    /// One event of raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.ends.push(self.buf.len());
    }

    pub fn count(&self) -> usize {
        self.ends.len()
    }

    pub fn finish(self) -> Rendered {
        Rendered { buf: Bytes::from(self.buf), ends: self.ends }
    }
}

/// Writes `s` as a JSON string literal.
pub(crate) fn push_str(b: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *b, s).expect("writing to a Vec cannot fail");
}

/// Writes an unsigned integer.
pub(crate) fn push_num(b: &mut Vec<u8>, n: u64) {
    b.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes a JSON value.
pub(crate) fn push_json(b: &mut Vec<u8>, v: &Value) {
    serde_json::to_writer(&mut *b, v).expect("writing to a Vec cannot fail");
}

pub(crate) fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serializing a Value cannot fail")
}

/// The facts of an error response or in-stream error event.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub status: u16,
    pub message: String,
    /// API-specific type override (OpenAI/Anthropic `type`, Gemini `status`).
    pub kind: Option<String>,
    /// OpenAI `code` override.
    pub code: Option<String>,
    /// The `Retry-After` value, echoed where the API puts retry hints in the body (Gemini).
    pub retry_after: Option<String>,
    /// The request field at fault, where the API names it (OpenAI `param`).
    pub param: Option<String>,
}

impl ErrorInfo {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ErrorInfo { status, message: message.into(), kind: None, code: None, retry_after: None, param: None }
    }
}

/// A human message for a status, used when a fault gives none.
pub(crate) fn default_message(status: u16) -> String {
    match status {
        400 => "The request was malformed (emulated).".into(),
        401 => "Incorrect API key provided (emulated).".into(),
        403 => "You do not have access to this resource (emulated).".into(),
        404 => "The requested resource was not found (emulated).".into(),
        408 => "The request timed out (emulated).".into(),
        409 => "The request conflicted with another request (emulated).".into(),
        413 => "The request is too large (emulated).".into(),
        422 => "The request could not be processed (emulated).".into(),
        429 => "Rate limit reached for requests (emulated).".into(),
        500 => "The server had an error while processing your request (emulated).".into(),
        502 => "Bad gateway (emulated).".into(),
        503 => "The service is temporarily unavailable (emulated).".into(),
        504 => "The upstream timed out (emulated).".into(),
        529 => "Overloaded (emulated).".into(),
        s => format!("HTTP {s} (emulated)."),
    }
}

impl Api {
    /// The complete JSON body of a non-streaming answer.
    pub fn unary(self, plan: &mut Plan) -> Vec<u8> {
        match self {
            Api::Responses => responses::unary(plan),
            Api::Chat => chat::unary(plan),
            Api::Anthropic => anthropic::unary(plan),
            Api::Gemini => gemini::unary(plan),
            Api::Cohere => cohere::unary(plan),
            Api::Ollama => ollama::unary(plan),
            Api::Interactions => interactions::unary(plan),
        }
    }

    /// The stream of a streaming answer.
    pub fn stream(self, plan: &mut Plan, framing: Framing) -> Rendered {
        let events = plan.text.ends.len()
            + plan.reasoning.as_ref().map_or(0, |r| r.ends.len())
            + plan.tools.iter().map(|t| t.args_json.ends.len() + 4).sum::<usize>()
            + 16;
        let mut ev = Events::with_capacity(events * 160 + plan.text.text.len() * 2, events);
        match self {
            Api::Responses => responses::stream(plan, &mut ev),
            Api::Chat => chat::stream(plan, &mut ev),
            Api::Anthropic => anthropic::stream(plan, &mut ev),
            Api::Gemini => gemini::stream(plan, &mut ev, framing),
            Api::Cohere => cohere::stream(plan, &mut ev),
            Api::Ollama => ollama::stream(plan, &mut ev),
            Api::Interactions => interactions::stream(plan, &mut ev),
        }
        ev.finish()
    }

    /// The API's in-stream error event(s), to follow `after_events` events of a stream.
    pub fn stream_error(self, plan: &mut Plan, framing: Framing, after_events: usize, err: &ErrorInfo) -> Events {
        let mut ev = Events::default();
        match self {
            Api::Responses => responses::stream_error(&mut ev, after_events, err),
            Api::Chat => chat::stream_error(&mut ev, err),
            Api::Anthropic => anthropic::stream_error(&mut ev, err),
            Api::Gemini => gemini::stream_error(&mut ev, framing, after_events, err),
            Api::Cohere => cohere::stream_error(&mut ev, err),
            Api::Ollama => ollama::stream_error(&mut ev, err),
            Api::Interactions => interactions::stream_error(&mut ev, plan, err),
        }
        ev
    }

    /// The JSON body of an HTTP error response.
    pub fn error_body(self, err: &ErrorInfo) -> Vec<u8> {
        match self {
            Api::Responses | Api::Chat => openai_error_body(err),
            Api::Anthropic => anthropic::error_body(err),
            Api::Gemini | Api::Interactions => gemini::error_body(err),
            Api::Cohere => cohere::error_body(err),
            Api::Ollama => ollama::error_body(err),
        }
    }

    /// The `Content-Type` of a stream in this framing.
    pub fn stream_content_type(self, framing: Framing) -> &'static str {
        match framing {
            Framing::Ndjson => "application/x-ndjson",
            Framing::JsonArray => "application/json; charset=UTF-8",
            Framing::Sse => match self {
                Api::Gemini | Api::Interactions => "text/event-stream",
                _ => "text/event-stream; charset=utf-8",
            },
        }
    }

    /// The request-id header this API's servers send.
    pub fn request_id_header(self) -> Option<&'static str> {
        match self {
            Api::Responses | Api::Chat => Some("x-request-id"),
            Api::Anthropic => Some("request-id"),
            Api::Cohere => Some("x-trace-id"),
            _ => None,
        }
    }
}

/// OpenAI's `type` and `code` for a status.
pub(crate) fn openai_kind(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        400 => ("invalid_request_error", None),
        401 => ("invalid_request_error", Some("invalid_api_key")),
        403 => ("permission_error", Some("unsupported_country_region_territory")),
        404 => ("invalid_request_error", Some("not_found")),
        409 => ("invalid_request_error", Some("conflict")),
        413 => ("invalid_request_error", Some("request_too_large")),
        422 => ("invalid_request_error", None),
        429 => ("requests", Some("rate_limit_exceeded")),
        503 => ("server_error", Some("service_unavailable")),
        _ if status >= 500 => ("server_error", Some("server_error")),
        _ => ("invalid_request_error", None),
    }
}

/// `{"error":{"message","type","param","code"}}`, the OpenAI (and OpenAI-compatible) shape.
pub(crate) fn openai_error_value(err: &ErrorInfo) -> Value {
    let (kind, code) = openai_kind(err.status);
    serde_json::json!({
        "error": {
            "message": err.message,
            "type": err.kind.as_deref().unwrap_or(kind),
            "param": err.param,
            "code": err.code.as_deref().or(code),
        }
    })
}

pub(crate) fn openai_error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&openai_error_value(err))
}

/// Makes an event's JSON invalid: keeps its framing (`event:`/`data:` prefix and terminator)
/// but cuts the JSON payload in half.
pub(crate) fn corrupt(event: &[u8]) -> Vec<u8> {
    let start = event.windows(6).rposition(|w| w == b"data: ").map_or(0, |p| p + 6);
    let end = event[start..].iter().position(|&b| b == b'\n').map_or(event.len(), |p| start + p);
    let payload = &event[start..end];
    let mut out = Vec::with_capacity(event.len());
    out.extend_from_slice(&event[..start]);
    if payload.len() < 2 {
        out.extend_from_slice(b"{\"truncated");
    } else {
        out.extend_from_slice(&payload[..payload.len() / 2]);
        if payload[0] != b'{' && payload[0] != b'[' {
            out.extend_from_slice(b"{\"");
        }
    }
    out.extend_from_slice(&event[end..]);
    out
}

/// An RFC 3339 UTC timestamp for a unix time (Ollama's `created_at`, Interactions' `created`).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem / 60) % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/v1/responses", None).unwrap().api(), Some(Api::Responses));
        assert_eq!(route("/openai/v1/chat/completions", None).unwrap().api(), Some(Api::Chat));
        let g = route("/v1beta/models/gemini-2.5-flash:streamGenerateContent", Some("alt=sse")).unwrap();
        assert_eq!(g.api(), Some(Api::Gemini));
        assert_eq!(g.path_model.as_deref(), Some("gemini-2.5-flash"));
        assert_eq!(g.framing, Framing::Sse);
        assert_eq!(g.path_stream, Some(true));
        let v =
            route("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", None)
                .unwrap();
        assert_eq!(v.path_model.as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(v.path_stream, Some(false));
        let a = route("/v1/projects/p/locations/global/publishers/anthropic/models/claude-x:streamRawPredict", None)
            .unwrap();
        assert_eq!(
            (a.api(), a.path_stream, a.path_model.as_deref()),
            (Some(Api::Anthropic), Some(true), Some("claude-x"))
        );
        let m = route("/v1/projects/p/locations/us-central1/publishers/mistralai/models/mistral-x:rawPredict", None)
            .unwrap();
        assert_eq!((m.api(), m.path_stream), (Some(Api::Chat), Some(false)));
        let d = route("/v1/projects/p/locations/us-central1/endpoints/openapi/chat/completions", None).unwrap();
        assert_eq!((d.api(), d.path_stream), (Some(Api::Chat), None));
        let i = route("/v1/images/edits", None).unwrap();
        assert_eq!(i.body_kind(), BodyKind::JsonOrForm);
        assert!(route("/image/v1/status/x", None).unwrap().is_get());
        assert_eq!(route("/image/v1/enhance/async", None).unwrap().body_kind(), BodyKind::Form);
        assert!(route("/v1/projects/p/locations/l/publishers/anthropic/models/c:generateContent", None).is_none());
        let d = route("/v1/systemone", None).unwrap();
        assert_eq!((&d.service, d.body_kind(), d.path_stream), (&Service::Decision, BodyKind::Json, Some(false)));
        assert!(route("/v1/nope", None).is_none());
        assert!(route("/v1beta/models/x:countTokens", None).is_none());
    }

    #[test]
    fn corrupts_payload_only() {
        let bad = corrupt(b"event: x\ndata: {\"a\":1,\"b\":2}\n\n");
        assert_eq!(bad, b"event: x\ndata: {\"a\":1\n\n");
        let bad = corrupt(b"data: [DONE]\n\n");
        assert!(serde_json::from_slice::<Value>(&bad[6..bad.len() - 2]).is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
