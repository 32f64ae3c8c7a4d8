//! The image wire APIs that are not a text API with image parts (those are Gemini and Gemini
//! Interactions, in [`super::gemini`] and [`super::interactions`]): routing, request access
//! (JSON or multipart), the answer type, error shapes, and the helpers the providers share.
//!
//! One module per provider, because each API has its own request fields, response body, job
//! lifecycle and error shape, and they share little beyond what is here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{ErrorInfo, Events, Rendered, openai_error_value, push_json, to_vec};
use crate::config::Reply;
use crate::image::{self, Format};
use crate::jobs::Store;
use crate::multipart::Form;

pub(crate) mod bfl;
pub(crate) mod byteplus;
pub(crate) mod files;
pub(crate) mod ollama;
pub(crate) mod openai;
pub(crate) mod topaz;
pub(crate) mod xai;

/// The image APIs served here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageApi {
    /// OpenAI Images (`gpt-image-*`).
    OpenAi,
    /// xAI Grok Imagine: the OpenAI paths, told apart by a `grok` model id.
    Xai,
    /// BytePlus ModelArk Seedream.
    BytePlus,
    /// Black Forest Labs Flux: submit, then poll.
    Bfl,
    /// Ollama `/api/generate` with an image model.
    Ollama,
    /// Topaz Labs Image API: multipart submit, status polling, download link.
    Topaz,
    /// Files the emulator stored: BFL samples, Topaz downloads, BytePlus and xAI image URLs.
    Files,
    /// OpenAI `/v1/embeddings` (served by [`crate::wire::embeddings`]: embeddings share the media
    /// APIs' request handling and faults).
    OpenAiEmbeddings,
    /// Gemini `:embedContent` / `:batchEmbedContents`.
    GeminiEmbeddings,
    /// Cohere v2 `/v2/embed`.
    CohereEmbeddings,
    /// A video API (served by [`crate::wire::videos`]: videos share the media APIs' request
    /// handling, faults and job store).
    Video(crate::wire::videos::VideoApi),
    /// fal's queue, for segmentation (served by [`crate::wire::segmentation`]: it shares the job
    /// store and request handling).
    Fal,
}

/// What a request asks of an image API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// Generate images, or submit a job (BFL).
    Create,
    /// Edit images (OpenAI and xAI `/v1/images/edits`).
    Edit,
    /// A Topaz submit to `/image/v1/{tool}/async`.
    Submit(String),
    /// A job's status: BFL `get_result?id=`, Topaz `/status/{id}`.
    Poll(String),
    /// Topaz `/download/{id}`: a JSON link to the result; fal's `response_url`: the result.
    DownloadLink(String),
    /// A stored file's bytes.
    File(String),
}

impl Endpoint {
    /// Whether the request is a `GET` (the rest are `POST`s).
    pub fn is_get(&self) -> bool {
        matches!(self, Endpoint::Poll(_) | Endpoint::DownloadLink(_) | Endpoint::File(_))
    }

    /// The job whose status this request reads, if it is a poll.
    pub fn polled_job(&self) -> Option<&str> {
        match self {
            Endpoint::Poll(id) => Some(id),
            _ => None,
        }
    }
}

/// The Topaz submit endpoints (`/image/v1/{tool}/async`).
const TOPAZ_TOOLS: &[&str] =
    &["enhance", "enhance-gen", "sharpen", "sharpen-gen", "denoise", "denoise-gen", "restore-gen", "lighting", "tool"];

/// Maps a path to an image API: `(api, endpoint, model named in the path)`.
pub(crate) fn route(path: &str, query: Option<&str>) -> Option<(ImageApi, Endpoint, Option<String>)> {
    let plain = |api, endpoint| Some((api, endpoint, None));
    match path {
        "/v1/images/generations" => return plain(ImageApi::OpenAi, Endpoint::Create),
        "/v1/images/edits" => return plain(ImageApi::OpenAi, Endpoint::Edit),
        "/api/v3/images/generations" => return plain(ImageApi::BytePlus, Endpoint::Create),
        "/api/generate" => return plain(ImageApi::Ollama, Endpoint::Create),
        "/v1/embeddings" | "/embeddings" => return plain(ImageApi::OpenAiEmbeddings, Endpoint::Create),
        "/v2/embed" => return plain(ImageApi::CohereEmbeddings, Endpoint::Create),
        "/v1/get_result" => {
            let id = query_param(query, "id").unwrap_or_default();
            return plain(ImageApi::Bfl, Endpoint::Poll(id));
        }
        _ => {}
    }
    if let Some((model, method)) = path.rsplit_once("/models/").and_then(|(_, rest)| rest.split_once(':'))
        && matches!(method, "embedContent" | "batchEmbedContents")
        && !model.is_empty()
    {
        return Some((ImageApi::GeminiEmbeddings, Endpoint::Create, Some(model.to_string())));
    }
    if let Some(rest) = path.strip_prefix("/fal-ai/") {
        return fal_route(rest);
    }
    if let Some(model) = path.strip_prefix("/v1/")
        && model.starts_with("flux")
        && !model.contains('/')
    {
        return Some((ImageApi::Bfl, Endpoint::Create, Some(model.to_string())));
    }
    if let Some(rest) = path.strip_prefix("/image/v1/") {
        if let Some(tool) = rest.strip_suffix("/async")
            && TOPAZ_TOOLS.contains(&tool)
        {
            return plain(ImageApi::Topaz, Endpoint::Submit(tool.to_string()));
        }
        if let Some(id) = rest.strip_prefix("status/").filter(|id| !id.is_empty() && !id.contains('/')) {
            return plain(ImageApi::Topaz, Endpoint::Poll(id.to_string()));
        }
        if let Some(id) = rest.strip_prefix("download/").filter(|id| !id.is_empty() && !id.contains('/')) {
            return plain(ImageApi::Topaz, Endpoint::DownloadLink(id.to_string()));
        }
        return None;
    }
    if let Some(rest) = path.strip_prefix(files::PREFIX)
        && let Some((id, name)) = rest.split_once('/')
        && !id.is_empty()
        && !name.is_empty()
    {
        return plain(ImageApi::Files, Endpoint::File(id.to_string()));
    }
    None
}

/// fal's queue below `/fal-ai/`: `{app}/requests/{id}/status` polls, `{app}/requests/{id}` is the
/// result, anything else submits to the model it names.
fn fal_route(rest: &str) -> Option<(ImageApi, Endpoint, Option<String>)> {
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let endpoint = match parts.as_slice() {
        [_, "requests", id, "status"] => Endpoint::Poll((*id).to_string()),
        [_, "requests", id] => Endpoint::DownloadLink((*id).to_string()),
        _ => return Some((ImageApi::Fal, Endpoint::Create, Some(format!("fal-ai/{rest}")))),
    };
    Some((ImageApi::Fal, endpoint, None))
}

/// The decoded value of `key` in a query string.
fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ImageApi {
    /// The JSON body of an HTTP error, in the provider's shape.
    pub fn error_body(self, err: &ErrorInfo) -> Vec<u8> {
        match self {
            ImageApi::OpenAi | ImageApi::Files => to_vec(&openai_error_value(err)),
            ImageApi::Xai => xai::error_body(err),
            ImageApi::BytePlus => byteplus::error_body(err),
            ImageApi::Bfl => bfl::error_body(err),
            ImageApi::Ollama => super::ollama::error_body(err),
            ImageApi::Topaz => topaz::error_body(err),
            ImageApi::OpenAiEmbeddings => to_vec(&openai_error_value(err)),
            ImageApi::GeminiEmbeddings => super::Api::Gemini.error_body(err),
            ImageApi::CohereEmbeddings => super::Api::Cohere.error_body(err),
            ImageApi::Video(api) => api.error_body(err),
            ImageApi::Fal => bfl::error_body(err),
        }
    }

    /// The provider's in-stream error event (only the streaming APIs have one; the others never
    /// stream, so a stream fault acts on their JSON body instead).
    pub fn stream_error(self, err: &ErrorInfo) -> Events {
        let mut ev = Events::default();
        match self {
            ImageApi::Ollama => super::ollama::stream_error(&mut ev, err),
            ImageApi::BytePlus => ev.sse(Some("error"), |b| push_json(b, &byteplus::error_value(err))),
            _ => {
                let mut v = openai_error_value(err);
                v["type"] = json!("error");
                ev.sse(Some("error"), |b| push_json(b, &v));
            }
        }
        ev
    }

    /// The request-id header the provider's servers send.
    pub fn request_id_header(self) -> Option<&'static str> {
        match self {
            ImageApi::OpenAi | ImageApi::Xai => Some("x-request-id"),
            ImageApi::BytePlus => Some("x-request-id"),
            ImageApi::Video(api) => api.request_id_header(),
            _ => None,
        }
    }
}

/// A request body: JSON, a multipart form, or nothing (GETs).
#[derive(Debug, Clone, Default)]
pub(crate) enum Payload {
    #[default]
    Empty,
    Json(Value),
    Form(Form),
}

/// A request field that is present but not of the expected type or range.
#[derive(Debug)]
pub(crate) struct BadField {
    pub param: &'static str,
    pub message: String,
}

impl BadField {
    pub fn new(param: &'static str, message: impl Into<String>) -> Self {
        BadField { param, message: message.into() }
    }
}

impl Payload {
    /// The JSON value of a field (JSON bodies only).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Payload::Json(v) => v.get(key).filter(|v| !v.is_null()),
            _ => None,
        }
    }

    /// A string field; in a form, a text part.
    pub fn str(&self, key: &'static str) -> Result<Option<&str>, BadField> {
        match self {
            Payload::Json(_) => match self.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(BadField::new(key, format!("Invalid type for '{key}': expected a string."))),
            },
            Payload::Form(f) => Ok(f.text(key)),
            Payload::Empty => Ok(None),
        }
    }

    /// A required, non-empty string field.
    pub fn required_str(&self, key: &'static str) -> Result<&str, BadField> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(BadField::new(key, format!("Missing required parameter: '{key}'."))),
        }
    }

    /// An integer field within `min..=max`; in a form, decimal text.
    pub fn int(&self, key: &'static str, min: i64, max: i64) -> Result<Option<i64>, BadField> {
        let n = match self {
            Payload::Json(_) => match self.get(key) {
                None => return Ok(None),
                Some(v) => v.as_i64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            },
            Payload::Form(f) => match f.text(key) {
                None => return Ok(None),
                Some(s) => s.trim().parse().ok(),
            },
            Payload::Empty => return Ok(None),
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Some(n) => Err(BadField::new(key, format!("Invalid '{key}': {n} is not between {min} and {max}."))),
            None => Err(BadField::new(key, format!("Invalid type for '{key}': expected an integer."))),
        }
    }

    /// A boolean field; in a form, `true` or `false` (lowercase, as the APIs require).
    pub fn bool(&self, key: &'static str) -> Result<Option<bool>, BadField> {
        match self {
            Payload::Json(_) => match self.get(key) {
                None => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(_) => Err(BadField::new(key, format!("Invalid type for '{key}': expected a boolean."))),
            },
            Payload::Form(f) => match f.text(key) {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(other) => {
                    Err(BadField::new(key, format!("Invalid '{key}': expected 'true' or 'false', got {other:?}.")))
                }
            },
            Payload::Empty => Ok(None),
        }
    }

    /// A string field that must be one of `allowed` (compared case-insensitively).
    pub fn choice(&self, key: &'static str, allowed: &[&str]) -> Result<Option<&str>, BadField> {
        match self.str(key)? {
            Some(s) if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) => Ok(Some(s)),
            Some(s) => Err(BadField::new(
                key,
                format!(
                    "Invalid value for '{key}': {s:?}. Supported values are: {}.",
                    allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ")
                ),
            )),
            None => Ok(None),
        }
    }
}

/// The body of an answer.
#[derive(Debug)]
pub(crate) enum AnswerBody {
    /// A complete body.
    Unary(Vec<u8>),
    /// Events sent one by one.
    Stream(Rendered),
}

/// A complete answer of an image API, before fault shaping.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: AnswerBody,
}

impl Answer {
    pub fn json(status: u16, v: &Value) -> Answer {
        Answer { status, content_type: "application/json", headers: Vec::new(), body: AnswerBody::Unary(to_vec(v)) }
    }

    pub fn sse(events: Rendered) -> Answer {
        Answer {
            status: 200,
            content_type: "text/event-stream; charset=utf-8",
            headers: Vec::new(),
            body: AnswerBody::Stream(events),
        }
    }

    pub fn error(api: ImageApi, err: &ErrorInfo) -> Answer {
        Answer {
            status: err.status,
            content_type: "application/json",
            headers: Vec::new(),
            body: AnswerBody::Unary(api.error_body(err)),
        }
    }

    /// A 400 (422 for BFL, whose FastAPI server validates that way) naming the bad field.
    pub fn bad_request(api: ImageApi, bad: BadField) -> Answer {
        let status = if api == ImageApi::Bfl { 422 } else { 400 };
        let mut err = ErrorInfo::new(status, bad.message);
        err.param = Some(bad.param.to_string());
        Answer::error(api, &err)
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    /// With the `Retry-After` a reply scripted for a pending job's polls, if any.
    pub fn retry_after(self, after: Option<&String>) -> Answer {
        match after {
            Some(after) => self.header("retry-after", after.clone()),
            None => self,
        }
    }
}

/// Everything a provider module needs to answer one request.
pub(crate) struct Call<'a> {
    pub api: ImageApi,
    pub endpoint: &'a Endpoint,
    pub payload: &'a Payload,
    /// The model: the body's, the form's, or the one in the path.
    pub model: Option<&'a str>,
    pub reply: &'a Reply,
    pub store: &'a Store,
    /// `http://host:port` as the client addressed the emulator, for the URLs in answers.
    pub base_url: &'a str,
    pub created: u64,
}

impl Call<'_> {
    /// Stores an image under a fresh id and returns its URL.
    pub fn store_file(&self, bytes: Vec<u8>, format: Format, job: Option<String>, name: &str) -> String {
        let id = crate::plan::fresh_hex(24);
        self.store.add_file(id.clone(), bytes, format, job);
        files::url(self.base_url, &id, &format!("{name}.{}", format.ext()))
    }
}

/// Answers one image request.
pub(crate) fn answer(call: &Call<'_>) -> Answer {
    match call.api {
        ImageApi::OpenAi => openai::answer(call),
        ImageApi::Xai => xai::answer(call),
        ImageApi::BytePlus => byteplus::answer(call),
        ImageApi::Bfl => bfl::answer(call),
        ImageApi::Ollama => ollama::answer(call),
        ImageApi::Topaz => topaz::answer(call),
        ImageApi::Files => files::answer(call),
        ImageApi::OpenAiEmbeddings | ImageApi::GeminiEmbeddings | ImageApi::CohereEmbeddings => {
            crate::wire::embeddings::answer(call)
        }
        ImageApi::Video(api) => crate::wire::videos::answer(api, call),
        ImageApi::Fal => crate::wire::segmentation::answer(call),
    }
}

/// Standard base64 of `bytes`.
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A `data:` URL of `bytes`.
#[cfg(test)]
pub(crate) fn data_url(format: Format, bytes: &[u8]) -> String {
    format!("data:{};base64,{}", format.mime(), b64(bytes))
}

/// The format and size of an input image, when it was inline (not a URL).
pub(crate) type Seen = Option<(Format, u32, u32)>;

/// An input image given as a `data:` URL, or bare base64 when `bare_ok`. `Ok(None)` for an
/// `http(s)` URL, which the emulator accepts without fetching.
pub(crate) fn inline_image(s: &str, bare_ok: bool) -> Result<Seen, String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        return Ok(None);
    }
    let payload = match s.strip_prefix("data:") {
        Some(rest) => {
            let (meta, data) = rest.split_once(',').ok_or("the data URL has no comma")?;
            if !meta.ends_with(";base64") {
                return Err("the data URL is not base64".into());
            }
            data
        }
        None if bare_ok => s,
        None => return Err("expected a data URL (data:image/...;base64,...) or an http(s) URL".into()),
    };
    let bytes = STANDARD.decode(payload.trim()).map_err(|e| format!("invalid base64 image data: {e}"))?;
    image::sniff(&bytes).map(Some).ok_or_else(|| "the data is not a PNG, JPEG, WebP or TIFF image".to_string())
}

/// A per-image seed for the pixel pattern: the prompt's hash, plus the image's index.
pub(crate) fn seed(prompt: &str, index: usize) -> u64 {
    // FNV-1a: stable across runs, so the same request draws the same images.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in prompt.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h.wrapping_add(index as u64)
}

/// The nominal size for an aspect ratio, then scaled (`"16:9"` gives 16x9).
pub(crate) fn ratio_dims(w: f64, h: f64) -> (u32, u32) {
    image::fit(w * 4096.0, h * 4096.0)
}

/// Tokens of a prompt, about four bytes each (at least one).
pub(crate) fn prompt_tokens(prompt: &str) -> u64 {
    (prompt.len() as u64).div_ceil(4).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route;
        assert_eq!(r("/v1/images/edits", None).unwrap().1, Endpoint::Edit);
        assert_eq!(r("/v1/flux-pro-1.1", None), Some((ImageApi::Bfl, Endpoint::Create, Some("flux-pro-1.1".into()))));
        assert_eq!(r("/v1/get_result", Some("id=a%2Db")).unwrap().1, Endpoint::Poll("a-b".into()));
        assert_eq!(r("/image/v1/enhance-gen/async", None).unwrap().1, Endpoint::Submit("enhance-gen".into()));
        assert_eq!(r("/image/v1/status/p1", None).unwrap().1, Endpoint::Poll("p1".into()));
        assert_eq!(r("/image/v1/download/p1", None).unwrap().1, Endpoint::DownloadLink("p1".into()));
        assert_eq!(r("/files/abc/sample.jpeg", None).unwrap().1, Endpoint::File("abc".into()));
        assert!(r("/image/v1/unknown/async", None).is_none());
        assert!(r("/v1/nope", None).is_none());
        assert!(r("/files/abc", None).is_none());
        let fal = |p| r(p, None).map(|(api, e, m)| (api, e, m.unwrap_or_default()));
        assert_eq!(
            fal("/fal-ai/sam-3/image-rle"),
            Some((ImageApi::Fal, Endpoint::Create, "fal-ai/sam-3/image-rle".into()))
        );
        assert_eq!(fal("/fal-ai/sam-3/requests/r1/status").unwrap().1, Endpoint::Poll("r1".into()));
        assert_eq!(fal("/fal-ai/sam-3/requests/r1").unwrap().1, Endpoint::DownloadLink("r1".into()));
        assert!(fal("/fal-ai//x").is_none());
    }

    #[test]
    fn inline_images() {
        let png = image::render(Format::Png, (3, 2), 1, 1.0);
        assert_eq!(inline_image(&data_url(Format::Png, &png), false).unwrap(), Some((Format::Png, 3, 2)));
        assert_eq!(inline_image(&b64(&png), true).unwrap(), Some((Format::Png, 3, 2)));
        assert!(inline_image(&b64(&png), false).is_err());
        assert!(inline_image("data:image/png;base64,aGVsbG8=", false).is_err());
        assert_eq!(inline_image("https://example.com/a.png", false).unwrap(), None);
    }
}
