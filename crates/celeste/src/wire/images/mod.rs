//! Image wire APIs: one module per provider API, behind one seam ([`ImageApi`]) that holds the only
//! `match` over them: the path of an operation, building a request, settling the reply (decoding it,
//! or polling a job to its end), decoding a stream, and the parameter table.
//!
//! Adding an image API is one module here plus one arm in each method of [`ImageApi`].

pub(crate) mod bfl;
pub(crate) mod byteplus;
// Gemini image models speak Interactions and share its Google helpers: compiled with `google`.
#[cfg(feature = "google")]
pub(crate) mod google;
pub(crate) mod ollama;
pub(crate) mod openai;
pub(crate) mod topaz;
// Gemini image models on Vertex AI (generateContent), also with `google`.
#[cfg(feature = "google")]
pub(crate) mod vertex;
pub(crate) mod xai;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::jobs::Poller;
use crate::stream::{Decoder, Framing};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::media::Image;
use crate::types::output::Output;
use crate::wire::media::{Inputs, MediaContext, MediaRequest, Modal};

/// The image APIs this library speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageApi {
    /// OpenAI Images (`/v1/images/generations`, `/v1/images/edits`).
    OpenAi,
    /// BytePlus ModelArk Seedream (`/api/v3/images/generations`).
    BytePlus,
    /// xAI Grok Imagine (`/v1/images/generations`, `/v1/images/edits`).
    XAi,
    /// Gemini image models through Interactions (`/v1beta/interactions`).
    Google,
    /// Gemini image models on Vertex AI (generateContent at the model's Vertex URL).
    GoogleVertex,
    /// Ollama image models (`/api/generate`).
    Ollama,
    /// Black Forest Labs Flux (`/v1/{model}`, then polling).
    Bfl,
    /// Topaz Labs Image API (`/image/v1/{tool}/async`, then polling and a download link).
    Topaz,
}

/// What an image call asks for, whoever serves it.
pub(crate) type ImageRequest = MediaRequest<ImageInput>;

/// An image call's inputs.
#[derive(Debug, Clone)]
pub(crate) struct ImageInput {
    /// The prompt (absent for an upscale).
    pub prompt: Option<String>,
    /// The image an edit or upscale works on.
    pub image: Option<Artifact>,
}

impl Inputs for ImageInput {}

/// The output of an image reply or stream that completed: its images, their usage (`usage` is given
/// how many there are), and the reply's body when it came whole.
pub(crate) fn completed(
    images: Vec<Image>,
    metadata: crate::types::output::Metadata,
    usage: impl FnOnce(usize) -> crate::types::usage::Usage,
    body: Option<&Bytes>,
) -> Output<Vec<Image>> {
    let usage = usage(images.len());
    let mut out = Output::new(images, metadata);
    out.usage = usage;
    out.finish_reason = Some(crate::types::usage::FinishReason::from_raw("completed"));
    out.metadata.raw_response = body.cloned();
    out
}

/// The body fields a JSON image API starts from: the model, the prompt when there is one, and each
/// set parameter under the API's name for it (`table`: ours → theirs).
pub(crate) fn named_fields(req: &ImageRequest, table: &[(&str, &'static str)]) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("model".into(), req.model.clone().into());
    if let Some(prompt) = &req.input.prompt {
        m.insert("prompt".into(), prompt.clone().into());
    }
    m.extend(crate::wire::kit::renamed(&req.params, table).map(|(theirs, v)| (theirs.into(), v.clone())));
    m
}

/// Where an image API puts its token counts in its usage object (`None`: it has no such count).
pub(crate) struct UsageNames {
    pub input: Option<&'static str>,
    pub output: &'static str,
    /// Thinking tokens, counted inside the output tokens as for text.
    pub thoughts: Option<&'static str>,
    pub total: &'static str,
    /// The number of images, when the API counts them; else the images returned are counted.
    pub images: Option<&'static str>,
}

#[cfg(feature = "google")]
impl UsageNames {
    /// Gemini's four counts (input, output, thoughts, total), by the API's names for them.
    pub(crate) const fn gemini(
        input: &'static str,
        output: &'static str,
        thoughts: &'static str,
        total: &'static str,
    ) -> Self {
        UsageNames { input: Some(input), output, thoughts: Some(thoughts), total, images: None }
    }
}

/// The usage of an image reply from the API's usage object, kept raw.
pub(crate) fn usage_from(raw: Option<Value>, images: usize, names: &UsageNames) -> crate::types::usage::Usage {
    let mut u = crate::types::usage::Usage::default();
    if let Some(v) = &raw {
        let n = |k: Option<&str>| k.and_then(|k| v.get(k)).and_then(Value::as_u64);
        u.input_tokens = n(names.input);
        u.reasoning_tokens = n(names.thoughts);
        u.output_tokens = crate::wire::kit::sum_counts(n(Some(names.output)), u.reasoning_tokens);
        u.total_tokens = n(Some(names.total));
        u.images = n(names.images);
    }
    u.images = u.images.or(Some(images as u64));
    u.raw = raw.filter(|v| !v.is_null()).map(crate::types::usage::RawJson::from);
    u
}

/// The output of a reply of Gemini image models: the images it held, with the response's id and
/// model. A reply without an image is an error that says what the model answered instead (`said`: its
/// text parts; a refusal, most often).
#[cfg(feature = "google")]
pub(crate) fn gemini_output(
    images: Vec<Image>,
    said: &[String],
    (id, model): (Option<String>, Option<String>),
    what: &'static str,
    body: &Bytes,
    ctx: &ImageContext,
) -> Result<Output<Vec<Image>>> {
    if images.is_empty() {
        let why = match said.join("").trim() {
            "" => "it holds no image".to_string(),
            text => format!("it holds no image; the model said: {text}"),
        };
        return Err(Error::decode(what, why, body));
    }
    let mut meta = crate::types::output::Metadata::new(ctx.model.clone(), Some(ctx.origin), Modality::Images);
    meta.response_id = id;
    meta.response_model = model;
    meta.raw_response = Some(body.clone());
    Ok(Output::new(images, meta))
}

/// The images a request sends, in order: the edited image (an edit's), then the reference images.
pub(crate) fn input_images<'r>(req: &'r ImageRequest, ctx: &ImageContext) -> Result<Vec<&'r Artifact>> {
    let edited = match req.operation {
        Operation::Edit => Some(req.input.image.as_ref().ok_or_else(|| ctx.unsupported("an edit without an image"))?),
        _ => None,
    };
    Ok(edited.into_iter().chain(&req.params.reference_images).collect())
}

/// What an image wire module needs to know about the call it serves.
pub(crate) type ImageContext = MediaContext<ImageExtra>;

/// Images add nothing to the call's context.
#[derive(Debug, Clone)]
pub(crate) struct ImageExtra;

impl Modal for ImageExtra {
    const MODALITY: Modality = Modality::Images;
}

impl ImageContext {
    /// The error for a reply that does not decode.
    pub(crate) fn decode_error(&self, what: &'static str, e: impl std::fmt::Display, body: &[u8]) -> Error {
        Error::decode(what, e.to_string(), body)
    }
}

/// A request body as an image API builds it.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// A JSON document.
    Json(Value),
    /// A multipart form.
    Form(Vec<FormField>),
}

/// One field of a multipart form.
#[derive(Debug, Clone)]
pub(crate) enum FormField {
    /// A text field.
    Text(&'static str, String),
    /// A file.
    File { name: &'static str, bytes: Bytes, filename: String, mime: String },
}

/// A request as an image API builds it: its body, its own headers (`Accept` for streams), its URL, and
/// the parameters it dropped (by name).
pub(crate) type ImageWireRequest = crate::wire::WireRequest<Body, String>;

/// What an image API accepts as input images, by its documentation (`None`: not documented, not
/// checked).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InputRules {
    /// The largest input image, in bytes.
    pub max_bytes: Option<u64>,
    /// The MIME types it takes.
    pub mime_types: Option<&'static [&'static str]>,
}

impl ImageApi {
    /// The input images this API takes, checked before any request.
    pub(crate) fn input_rules(self) -> InputRules {
        #[allow(unreachable_patterns, reason = "APIs without documented limits take the default")]
        match self {
            // "Each image should be a png, webp, or jpg file less than 50MB" (gpt-image edits).
            ImageApi::OpenAi => InputRules {
                max_bytes: Some(50 * 1000 * 1000),
                mime_types: Some(&["image/png", "image/jpeg", "image/webp"]),
            },
            _ => InputRules::default(),
        }
    }

    /// The path of `operation` for `model` below the provider's base URL.
    #[cfg_attr(not(feature = "google"), allow(unused_variables, reason = "only Gemini puts the model in the path"))]
    pub(crate) fn path(self, operation: Operation, model: &str) -> Option<String> {
        match self {
            ImageApi::OpenAi => openai::path(operation).map(str::to_string),
            ImageApi::BytePlus => byteplus::path(operation).map(str::to_string),
            ImageApi::XAi => xai::path(operation).map(str::to_string),
            #[cfg(feature = "google")]
            ImageApi::Google => google::path(operation, model).map(str::to_string),
            #[cfg(not(feature = "google"))]
            ImageApi::Google => None,
            // The host adapter builds the whole URL (`Vertex::media_url`).
            #[cfg(feature = "google")]
            ImageApi::GoogleVertex => vertex::serves(operation, model).then(String::new),
            #[cfg(not(feature = "google"))]
            ImageApi::GoogleVertex => None,
            ImageApi::Ollama => ollama::path(operation).map(str::to_string),
            ImageApi::Bfl => bfl::path(operation, model),
            ImageApi::Topaz => topaz::path(operation, model),
        }
    }

    /// The parameters this API carries for `model` (`reference_images` and `mask` included when it
    /// takes them).
    pub(crate) fn carried(self, model: &str) -> &'static [&'static str] {
        match self {
            ImageApi::OpenAi => openai::CARRIED,
            ImageApi::BytePlus => byteplus::CARRIED,
            ImageApi::XAi => xai::CARRIED,
            #[cfg(feature = "google")]
            ImageApi::Google => google::CARRIED,
            #[cfg(not(feature = "google"))]
            ImageApi::Google => &[],
            #[cfg(feature = "google")]
            ImageApi::GoogleVertex => vertex::CARRIED,
            #[cfg(not(feature = "google"))]
            ImageApi::GoogleVertex => &[],
            ImageApi::Ollama => ollama::CARRIED,
            ImageApi::Bfl => bfl::carried(model),
            ImageApi::Topaz => topaz::CARRIED,
        }
    }

    /// Build the request (`url` is the operation's URL below the base URL). Parameters the API does
    /// not carry are removed first and listed in `dropped`.
    pub(crate) async fn build(
        self,
        req: &ImageRequest,
        ctx: &ImageContext,
        stream: bool,
        url: String,
    ) -> Result<ImageWireRequest> {
        let (req, dropped) = req.carried_only(self.carried(&req.model));
        let body = match self {
            ImageApi::OpenAi => openai::build(&req, ctx, stream).await?,
            ImageApi::BytePlus => byteplus::build(&req, ctx, stream).await?,
            ImageApi::XAi => xai::build(&req, ctx).await?,
            #[cfg(feature = "google")]
            ImageApi::Google => google::build(&req, ctx).await?,
            #[cfg(feature = "google")]
            ImageApi::GoogleVertex => vertex::build(&req, ctx)?,
            #[cfg(not(feature = "google"))]
            ImageApi::Google | ImageApi::GoogleVertex => {
                return Err(ctx.unsupported("Gemini images: enable the `google` cargo feature"));
            }
            ImageApi::Ollama => ollama::build(&req, stream).await?,
            ImageApi::Bfl => bfl::build(&req, ctx).await?,
            ImageApi::Topaz => topaz::build(&req, ctx).await?,
        };
        let mut headers = Vec::new();
        let accept = match self {
            // Ollama streams NDJSON; the others SSE.
            ImageApi::Ollama if stream => Some("application/x-ndjson"),
            _ if stream => Some("text/event-stream"),
            // The reference asks BFL for JSON explicitly.
            ImageApi::Bfl => Some("application/json"),
            _ => None,
        };
        if let Some(accept) = accept {
            headers.push((reqwest::header::ACCEPT, HeaderValue::from_static(accept)));
        }
        Ok(ImageWireRequest { body, headers, url, dropped })
    }

    /// Turn a successful reply into the output: decode it, or (for job APIs) poll the job it started
    /// to its end and fetch the result.
    pub(crate) fn settle<'a>(
        self,
        body: Bytes,
        ctx: &'a ImageContext,
        jobs: &'a mut Poller<'_>,
    ) -> BoxFuture<'a, Result<Output<Vec<Image>>>> {
        match self {
            ImageApi::OpenAi => Box::pin(async move { openai::parse(&body, ctx) }),
            ImageApi::BytePlus => Box::pin(async move { byteplus::parse(&body, ctx) }),
            ImageApi::XAi => Box::pin(async move { xai::parse(&body, ctx) }),
            #[cfg(feature = "google")]
            ImageApi::Google => Box::pin(async move { google::parse(&body, ctx) }),
            #[cfg(feature = "google")]
            ImageApi::GoogleVertex => Box::pin(async move { vertex::parse(&body, ctx) }),
            #[cfg(not(feature = "google"))]
            ImageApi::Google | ImageApi::GoogleVertex => Box::pin(async move {
                let _ = body;
                Err(ctx.unsupported("Gemini images: enable the `google` cargo feature"))
            }),
            ImageApi::Ollama => Box::pin(async move { ollama::parse(&body, ctx) }),
            ImageApi::Bfl => Box::pin(bfl::settle(body, ctx, jobs)),
            ImageApi::Topaz => Box::pin(topaz::settle(body, ctx, jobs)),
        }
    }

    /// Whether the API streams partial images, and how its stream is framed.
    pub(crate) fn framing(self, max_event_size: usize) -> Framing {
        match self {
            // The job APIs never stream (their decoder refuses first): SSE stands in.
            ImageApi::OpenAi | ImageApi::Bfl | ImageApi::Topaz => {
                Framing::Sse(crate::transport::sse::SseDecoder::new(max_event_size))
            }
            ImageApi::BytePlus => Framing::Sse(crate::transport::sse::SseDecoder::new(max_event_size)),
            // xAI and Gemini image models do not stream: their decoder refuses first.
            ImageApi::XAi => Framing::Sse(crate::transport::sse::SseDecoder::new(max_event_size)),
            ImageApi::Google | ImageApi::GoogleVertex => {
                Framing::Sse(crate::transport::sse::SseDecoder::new(max_event_size))
            }
            ImageApi::Ollama => Framing::Ndjson(crate::transport::ndjson::NdjsonDecoder::new(max_event_size)),
        }
    }

    /// A decoder for the API's stream.
    pub(crate) fn decoder(self, ctx: ImageContext, req: &ImageRequest) -> Result<Box<dyn Decoder<Image, Vec<Image>>>> {
        match self {
            ImageApi::OpenAi => Ok(Box::new(openai::ImagesDecoder::new(ctx, req))),
            ImageApi::BytePlus => Ok(Box::new(byteplus::SeedreamDecoder::new(ctx, req))),
            ImageApi::XAi => Err(ctx.unsupported("streaming xAI images (the API is unary)")),
            #[cfg(feature = "google")]
            ImageApi::Google => Err(ctx.unsupported("streaming Gemini images (the API is unary here)")),
            ImageApi::GoogleVertex => Err(ctx.unsupported("streaming Gemini images (the API is unary here)")),
            #[cfg(not(feature = "google"))]
            ImageApi::Google => Err(ctx.unsupported("Gemini images: enable the `google` cargo feature")),
            ImageApi::Ollama => Ok(Box::new(ollama::GenerateDecoder::new(ctx))),
            ImageApi::Bfl | ImageApi::Topaz => Err(ctx.unsupported(format!("streaming with model {}", ctx.model))),
        }
    }
}

/// A file field for `artifact`, read (without blocking) and typed; `what` names it in errors.
pub(crate) async fn file_field(name: &'static str, artifact: &Artifact, what: &str) -> Result<FormField> {
    let bytes = artifact.read_bytes().await.map_err(|e| Error::invalid_input(format!("{what}: {e}")))?;
    let mime = artifact.mime_type.clone().or_else(|| crate::types::mime::MimeType::sniff(&bytes)).ok_or_else(|| {
        Error::invalid_input(format!("{what}: the image's type is unknown (set it with `with_mime_type`)"))
    })?;
    let ext = mime.as_str().rsplit('/').next().unwrap_or("bin").to_string();
    Ok(FormField::File { name, bytes, filename: format!("image.{ext}"), mime: mime.as_str().to_string() })
}

/// An image a job API delivered as bytes from `url`: it must be an image (a storage host's error
/// page or an empty body is not one), typed by its bytes.
pub(crate) fn downloaded(bytes: Bytes, url: Option<String>, what: &'static str, ctx: &ImageContext) -> Result<Image> {
    if bytes.is_empty() {
        return Err(Error::decode(what, "the download is empty", &bytes));
    }
    let mime = crate::types::mime::MimeType::sniff(&bytes).filter(|m| m.as_str().starts_with("image/"));
    let mime = mime.ok_or_else(|| Error::decode(what, "the download is not an image", &bytes))?;
    let mut artifact = Artifact::from_bytes(bytes).with_mime_type(mime);
    artifact.url = url;
    Ok(Image::new(artifact).with_origin(ctx.origin))
}

#[cfg(test)]
mod job_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
#[cfg(feature = "all-providers")]
mod provider_tests;
