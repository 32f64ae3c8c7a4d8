//! Video wire APIs: one module per provider API, behind one seam ([`VideoApi`]) that holds the only
//! `match` over them: the path of an operation, the parameters it carries, building a request,
//! settling the reply (polling the job it started to its end), and resuming a job by its id.
//!
//! Every job API polls through [`crate::jobs::Poller`] (interval per API, `Retry-After`, a deadline,
//! progress, cancel on drop). Results come back as the provider gives them: bytes, or a URL that
//! [`crate::Client::download`] fetches with the credentials it needs.
//!
//! Adding a video API is one module here plus one arm in each method of [`VideoApi`].

pub(crate) mod byteplus;
#[cfg(feature = "google")]
pub(crate) mod omni;
#[cfg(feature = "google")]
pub(crate) mod veo;
pub(crate) mod xai;

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{Error, JobError, Result, TimeoutPhase};
use crate::jobs::{Poll, Poller};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::mime::MimeType;
use crate::types::output::Output;
use crate::types::video::Video;
use crate::wire::media::{Inputs, MediaContext, MediaRequest, Modal};

/// How long a video job may run unless the caller says otherwise: generous for the slowest
/// provider under load (Veo and Seedance take minutes), yet a bound, where the reference waits
/// for ever on Veo.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(20 * 60);

/// The video APIs this library speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoApi {
    /// Google Veo on the Gemini API (`:predictLongRunning`, then the operation).
    Veo,
    /// Google Veo on Vertex AI (`:predictLongRunning`, then `:fetchPredictOperation`).
    VeoVertex,
    /// Gemini omni models through Interactions (`/v1beta/interactions`, one long request).
    Omni,
    /// xAI Grok Imagine video (`/v1/videos/generations`, `/v1/videos/edits`, then polling).
    XAi,
    /// BytePlus ModelArk Seedance (`/api/v3/contents/generations/tasks`, then polling).
    BytePlus,
}

/// What a video call asks for, whoever serves it; its parameters are scalars by the reference's
/// names, and the reference images.
pub(crate) type VideoRequest = MediaRequest<VideoInput>;

/// A video call's inputs.
#[derive(Debug, Clone)]
pub(crate) struct VideoInput {
    pub prompt: String,
    /// The video an edit works on.
    pub video: Option<Artifact>,
    /// The image the video starts from.
    pub first_frame: Option<Artifact>,
    /// The image the video ends on (only with a first frame).
    pub last_frame: Option<Artifact>,
}

/// The frames are parameters as far as an API may not carry them (`first_frame`, `last_frame`).
impl Inputs for VideoInput {
    fn set_names(&self) -> Vec<&'static str> {
        let first = self.first_frame.as_ref().map(|_| "first_frame");
        first.into_iter().chain(self.last_frame.as_ref().map(|_| "last_frame")).collect()
    }

    fn remove(&mut self, name: &str) {
        match name {
            "first_frame" => self.first_frame = None,
            "last_frame" => self.last_frame = None,
            _ => {}
        }
    }
}

/// What a video wire module needs to know about the call it serves.
pub(crate) type VideoContext = MediaContext<VideoExtra>;

/// What a video call adds to its context.
#[derive(Debug, Clone)]
pub(crate) struct VideoExtra {
    /// Where the API's job URLs live: the base URL (Gemini API, xAI, BytePlus) or the model's URL
    /// without its method (Vertex AI).
    pub base: String,
    /// The call's credentials, for results on the API's own storage.
    pub auth: HeaderMap,
}

impl Modal for VideoExtra {
    const MODALITY: Modality = Modality::Videos;
}

impl VideoContext {
    /// The output of `videos`, with the seconds of video made when every one reports its length.
    pub(crate) fn output(&self, videos: Vec<Video>, raw: Bytes) -> Output<Vec<Video>> {
        let mut meta = self.metadata();
        meta.raw_response = Some(raw);
        let seconds = videos.iter().map(|v| v.duration).sum::<Option<f64>>();
        let mut out = Output::new(videos, meta);
        out.usage.seconds = seconds;
        out.finish_reason = Some(crate::types::usage::FinishReason::from_raw("completed"));
        out
    }
}

/// A request as a video API builds it (every video API takes JSON).
#[derive(Debug, Clone)]
pub(crate) struct VideoWireRequest {
    pub body: Value,
    /// Parameters set but not carried by this API: dropped, and reported once.
    pub dropped: Vec<String>,
}

impl VideoApi {
    /// The path of `operation` for `model` below the provider's base URL (empty for Vertex AI, whose
    /// host adapter builds the whole URL); `None` when this API does not serve it.
    pub(crate) fn path(self, operation: Operation, model: &str) -> Option<String> {
        #[cfg(not(feature = "google"))]
        let _ = model;
        match self {
            #[cfg(feature = "google")]
            VideoApi::Veo => veo::path(operation, model),
            #[cfg(feature = "google")]
            VideoApi::VeoVertex => veo::serves(operation, model).then(String::new),
            #[cfg(feature = "google")]
            VideoApi::Omni => omni::path(operation, model).map(str::to_string),
            #[cfg(not(feature = "google"))]
            VideoApi::Veo | VideoApi::VeoVertex | VideoApi::Omni => None,
            VideoApi::XAi => xai::path(operation).map(str::to_string),
            VideoApi::BytePlus => byteplus::path(operation).map(str::to_string),
        }
    }

    /// The parameters this API carries (`first_frame`, `last_frame` and `reference_images` included
    /// when it takes them).
    pub(crate) fn carried(self) -> &'static [&'static str] {
        match self {
            #[cfg(feature = "google")]
            VideoApi::Veo | VideoApi::VeoVertex => veo::CARRIED,
            #[cfg(feature = "google")]
            VideoApi::Omni => omni::CARRIED,
            #[cfg(not(feature = "google"))]
            VideoApi::Veo | VideoApi::VeoVertex | VideoApi::Omni => &[],
            VideoApi::XAi => xai::CARRIED,
            VideoApi::BytePlus => byteplus::CARRIED,
        }
    }

    /// The API's wait between polls.
    pub(crate) fn interval(self) -> Duration {
        match self {
            // The reference's: Veo every 10 s, xAI and BytePlus every 5 s.
            VideoApi::Veo | VideoApi::VeoVertex => Duration::from_secs(10),
            VideoApi::XAi | VideoApi::BytePlus | VideoApi::Omni => Duration::from_secs(5),
        }
    }

    /// Build the request body. Parameters the API does not carry are
    /// removed first and listed in `dropped`.
    pub(crate) fn build(self, req: &VideoRequest, ctx: &VideoContext) -> Result<VideoWireRequest> {
        let (req, dropped) = req.carried_only(self.carried());
        let body = match self {
            #[cfg(feature = "google")]
            VideoApi::Veo | VideoApi::VeoVertex => veo::build(&req, ctx)?,
            #[cfg(feature = "google")]
            VideoApi::Omni => omni::build(&req, ctx)?,
            #[cfg(not(feature = "google"))]
            VideoApi::Veo | VideoApi::VeoVertex | VideoApi::Omni => {
                return Err(ctx.unsupported("Google videos: enable the `google` cargo feature"));
            }
            VideoApi::XAi => xai::build(&req, ctx)?,
            VideoApi::BytePlus => byteplus::build(&req, ctx)?,
        };
        Ok(VideoWireRequest { body, dropped })
    }

    /// Turn the submit's reply into the output: poll the job it started to its end (Omni answers
    /// the video itself).
    pub(crate) fn settle<'a>(
        self,
        body: Bytes,
        ctx: &'a VideoContext,
        jobs: &'a mut Poller<'_>,
    ) -> BoxFuture<'a, Result<Output<Vec<Video>>>> {
        match self {
            #[cfg(feature = "google")]
            VideoApi::Veo | VideoApi::VeoVertex => Box::pin(async move {
                let id = veo::submitted(&body)?;
                veo::finish(self == VideoApi::VeoVertex, id, ctx, jobs).await
            }),
            #[cfg(feature = "google")]
            VideoApi::Omni => Box::pin(async move { omni::parse(&body, ctx) }),
            #[cfg(not(feature = "google"))]
            VideoApi::Veo | VideoApi::VeoVertex | VideoApi::Omni => Box::pin(async move {
                let _ = (body, jobs);
                Err(ctx.unsupported("Google videos: enable the `google` cargo feature"))
            }),
            VideoApi::XAi => Box::pin(async move {
                let id = xai::submitted(&body)?;
                xai::finish(id, ctx, jobs).await
            }),
            VideoApi::BytePlus => Box::pin(async move {
                let id = byteplus::submitted(&body)?;
                byteplus::finish(id, ctx, jobs).await
            }),
        }
    }

    /// Poll an already-submitted job to its end (see [`crate::videos::job`]).
    pub(crate) fn resume<'a>(
        self,
        id: String,
        ctx: &'a VideoContext,
        jobs: &'a mut Poller<'_>,
    ) -> BoxFuture<'a, Result<Output<Vec<Video>>>> {
        match self {
            #[cfg(feature = "google")]
            VideoApi::Veo | VideoApi::VeoVertex => Box::pin(veo::finish(self == VideoApi::VeoVertex, id, ctx, jobs)),
            VideoApi::XAi => Box::pin(xai::finish(id, ctx, jobs)),
            VideoApi::BytePlus => Box::pin(byteplus::finish(id, ctx, jobs)),
            _ => Box::pin(async move {
                let _ = (id, jobs);
                Err(ctx
                    .unsupported(format!("resuming a job of model {}: it runs as one request, not a job", ctx.model)))
            }),
        }
    }
}

/// A job deadline error as a [`JobError`] naming the job, so that it can be resumed.
pub(crate) fn expired(err: Error, job_id: &str) -> Error {
    match err {
        Error::Timeout { origin, phase: TimeoutPhase::Job, after } => Error::Job(Box::new(JobError {
            origin,
            job_id: Some(job_id.to_string()),
            status: "deadline_exceeded".into(),
            message: Some(format!(
                "the job was still running after {after:?}; it goes on at the provider: resume it with \
                 `celeste::videos::job(id, model)`"
            )),
        })),
        other => other,
    }
}

/// A video result as the provider delivered it: bytes (typed by their header, else `mime`) or a URL.
pub(crate) fn video(data: Option<Bytes>, url: Option<&str>, mime: Option<&str>, ctx: &VideoContext) -> Option<Video> {
    let declared = mime.and_then(|m| m.parse::<MimeType>().ok());
    let artifact = match (data.filter(|d| !d.is_empty()), url.filter(|u| !u.is_empty())) {
        (Some(d), _) => {
            let mime = MimeType::sniff(&d).or(declared).unwrap_or(MimeType::VideoMp4);
            Artifact::from_bytes(d).with_mime_type(mime)
        }
        (None, Some(u)) => Artifact::from_url(u).with_mime_type(declared.unwrap_or(MimeType::VideoMp4)),
        (None, None) => return None,
    };
    Some(Video::new(artifact).with_origin(ctx.origin))
}

/// A reply read as JSON, or the decode error saying it should have been `what`.
pub(crate) fn json_reply<T: serde::de::DeserializeOwned>(body: &[u8], what: &'static str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::decode(what, e.to_string(), body))
}

/// A job's id from the submit's reply `what`: the first of the `fields` that holds a non-empty string.
pub(crate) fn job_id(body: &[u8], what: &'static str, fields: &[&str]) -> Result<String> {
    let v: Value = json_reply(body, what)?;
    fields
        .iter()
        .find_map(|f| v.get(f).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .map(str::to_string)
        .ok_or_else(|| Error::decode(what, format!("it has no `{}`", fields.join("` or `")), body))
}

/// One poll of a JSON job, read: when done, the reply as JSON and its raw body.
pub(crate) type JobPoll = Poll<(Value, Bytes)>;

/// Poll the job `id` of `api` to its end at `path` (below the base URL; it receives the id as one
/// path segment), reading each poll with `read`: the done poll's JSON and its raw body. `who` names
/// the job in the error for an id that cannot be a path segment.
pub(crate) async fn poll_job(
    api: VideoApi,
    who: &str,
    id: &str,
    path: impl FnOnce(&str) -> String,
    ctx: &VideoContext,
    poller: &mut Poller<'_>,
    read: fn(&[u8]) -> Result<JobPoll>,
) -> Result<(Value, Bytes)> {
    let segment = crate::transport::urls::path_segment(id)
        .map_err(|why| Error::invalid_input(format!("the {who} id {id:?} cannot be used: {why}")))?;
    poller.set_job_id(id.to_string());
    let url = crate::providers::join_url(&ctx.extra.base, &path(&segment));
    poller.poll(&url, api.interval(), DEFAULT_DEADLINE, read).await.map_err(|e| expired(e, id))
}

/// Base64 video bytes of a reply.
#[cfg(feature = "google")]
pub(crate) fn decode_b64(data: &str, what: &'static str) -> Result<Bytes> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map(Bytes::from)
        .map_err(|e| Error::decode(what, e.to_string(), data.as_bytes()))
}

/// The origin of a URL (`https://host[:port]`, the port only when it is not the scheme's default):
/// what a result's credentials are scoped to, scheme included, so that they never go in clear text
/// to a host they were meant to reach over TLS.
pub(crate) fn origin_of(u: &reqwest::Url) -> Option<String> {
    u.host_str()?;
    Some(u.origin().ascii_serialization())
}

// The table covers every video API: it needs them all compiled in.
#[cfg(all(test, feature = "all-providers"))]
mod tests;
