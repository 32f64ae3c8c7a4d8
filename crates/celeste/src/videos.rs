//! `celeste::videos`: generate and edit videos (long-running provider jobs), analyze and embed.
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! let client = celeste::Client::builder().build()?;
//! let out = client
//!     .videos()
//!     .generate("a paper boat on a stormy sea", "veo-3.1-fast-generate-preview")
//!     .duration(8)
//!     .aspect_ratio("16:9")
//!     .on_progress(|p| eprintln!("{} after {} polls", p.status, p.polls))
//!     .await?;
//! let video = client.download(&out.content[0]).await?;
//! video.save("boat.mp4").await?;
//! # Ok(())
//! # }
//! ```
//!
//! Every setter is checked against the model's catalog constraints before anything is sent (a
//! duration or resolution the model does not offer, a last frame without a first frame, an input
//! that is not an image or a video: a clear error, no request). A parameter the provider's API cannot
//! carry is dropped with one warning.
//!
//! A video call submits a job and polls it to its end through the one job engine: the provider's
//! own interval (or longer when it sends `Retry-After`), a deadline (20 minutes unless
//! [`job_deadline`](VideoCall::job_deadline) says otherwise), progress after every poll
//! ([`on_progress`](VideoCall::on_progress)), and no more polls once the call's future is dropped.
//! A job that fails is [`Error::Job`] with the provider's status and message and
//! the job's id; a job still running at the deadline is too (status `deadline_exceeded`): it goes
//! on at the provider, and [`job`] picks it up again by that id. Gemini omni models answer in one
//! request: there is no job to resume.

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::call::{CallOptions, prepare_video};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::jobs::JobOptions;
use crate::text::{Generate, Unary};
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::message::Part;
use crate::types::output::Output;
use crate::types::video::Video;
use crate::wire::videos::{VideoInput, VideoRequest};

/// A video call being configured. `.await` it to send it (the blocking API sends it with `.send()`).
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct VideoCall<M = Unary> {
    opts: CallOptions,
    req: VideoRequest,
    job: JobOptions,
    /// The job to resume instead of submitting one ([`job`]).
    resume: Option<String>,
    mode: PhantomData<M>,
}

impl<M> Clone for VideoCall<M> {
    fn clone(&self) -> Self {
        VideoCall {
            opts: self.opts.clone(),
            req: self.req.clone(),
            job: self.job.clone(),
            resume: self.resume.clone(),
            mode: PhantomData,
        }
    }
}

impl<M> fmt::Debug for VideoCall<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VideoCall")
            .field("opts", &self.opts)
            .field("request", &self.req)
            .field("job", &self.job)
            .field("resume", &self.resume)
            .finish()
    }
}

fn call(operation: Operation, model: String, prompt: String, video: Option<Artifact>) -> VideoCall {
    VideoCall {
        opts: CallOptions::default(),
        req: VideoRequest::new(model, operation, VideoInput { prompt, video, first_frame: None, last_frame: None }),
        job: JobOptions::default(),
        resume: None,
        mode: PhantomData,
    }
}

/// Generate a video from a prompt (and, with the setters, frames and reference images).
pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> VideoCall {
    call(Operation::Generate, model.into(), prompt.into(), None)
}

/// Edit a video as the prompt says (Gemini omni models, xAI Grok Imagine video).
pub fn edit(video: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> VideoCall {
    call(Operation::Edit, model.into(), prompt.into(), Some(video))
}

/// Resume an already-submitted job by its id: poll it to its end as the call that submitted it
/// would have, with the same deadline, progress and cancel-on-drop, and nothing submitted again.
///
/// The id is [`JobError::job_id`](crate::JobError::job_id) of a call that failed or ran out of
/// time, [`JobProgress::job_id`](crate::types::JobProgress::job_id) of one being watched, or the output's
/// [`Metadata::response_id`](crate::types::Metadata::response_id): a Veo operation name
/// (`models/veo-…/operations/…`), an xAI `request_id`, a BytePlus task id. `model` is the model
/// the job was submitted with: it picks the provider and API (Veo on Vertex AI with Vertex
/// authentication, as for the submit).
///
/// ```no_run
/// # async fn demo() -> celeste::Result<()> {
/// match celeste::videos::generate("waves", "veo-3.1-generate-preview").job_deadline(std::time::Duration::from_secs(60)).await {
///     Err(celeste::Error::Job(job)) if job.status == "deadline_exceeded" => {
///         let id = job.job_id.unwrap_or_default();
///         let out = celeste::videos::job(id, "veo-3.1-generate-preview").await?;
///         println!("{} video(s)", out.content.len());
///     }
///     other => { other?; }
/// }
/// # Ok(())
/// # }
/// ```
pub fn job(id: impl Into<String>, model: impl Into<String>) -> VideoCall {
    let mut c = call(Operation::Generate, model.into(), String::new(), None);
    c.resume = Some(id.into());
    c
}

/// Ask a model about a video (a text call; `.stream()` streams it).
pub fn analyze(video: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
    crate::text::generate(prompt, model).part(Part::video(video)).operation(Operation::Analyze)
}

/// Embed videos.
pub fn embed(videos: Vec<Artifact>, model: impl Into<String>) -> crate::embeddings::EmbedCall {
    crate::embeddings::embed_media(videos, crate::wire::embeddings::EmbedInput::Video, model)
}

impl VideoCall<Unary> {
    /// Send the call: submit the job and poll it to its end (or, for [`job`], poll the job).
    pub async fn send(self) -> Result<Output<Vec<Video>>> {
        prepare_video(self.opts, self.req, self.job, self.resume).await?.unary().await
    }
}

impl IntoFuture for VideoCall<Unary> {
    type Output = Result<Output<Vec<Video>>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<M> VideoCall<M> {
    crate::call::call_setters!(opts; client, provider, base_url, api_key, auth, extra_body, header, timeout);

    pub(crate) fn with_mode<N>(self) -> VideoCall<N> {
        VideoCall { opts: self.opts, req: self.req, job: self.job, resume: self.resume, mode: PhantomData }
    }

    fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.req.params.set(name, value);
        self
    }

    /// The aspect ratio (`"16:9"`, `"9:16"`: the model's catalog entry lists its values).
    pub fn aspect_ratio(self, ratio: impl Into<String>) -> Self {
        self.set("aspect_ratio", ratio.into())
    }

    /// The resolution (`"720p"`, `"1080p"`, `"4k"`, ...).
    pub fn resolution(self, resolution: impl Into<String>) -> Self {
        self.set("resolution", resolution.into())
    }

    /// The length in seconds (Veo offers 4, 6 or 8; the others a range).
    pub fn duration(self, seconds: u32) -> Self {
        self.set("duration", seconds)
    }

    /// The image the video starts from.
    pub fn first_frame(mut self, image: Artifact) -> Self {
        self.req.input.first_frame = Some(image);
        self
    }

    /// The image the video ends on (with a first frame: the video goes from one to the other).
    pub fn last_frame(mut self, image: Artifact) -> Self {
        self.req.input.last_frame = Some(image);
        self
    }

    /// An image whose subject or style the video keeps (call again for more).
    pub fn reference_image(mut self, image: Artifact) -> Self {
        self.req.params.reference_images.push(image);
        self
    }

    /// What the video must not show (Veo).
    pub fn negative_prompt(self, prompt: impl Into<String>) -> Self {
        self.set("negative_prompt", prompt.into())
    }

    /// Sampling seed (Veo, Seedance).
    pub fn seed(self, seed: i64) -> Self {
        self.set("seed", seed)
    }

    /// A provider watermark on the video (Seedance).
    pub fn watermark(self, on: bool) -> Self {
        self.set("watermark", on)
    }

    /// Keep the camera still (Seedance).
    pub fn camera_fixed(self, on: bool) -> Self {
        self.set("camera_fixed", on)
    }

    /// Any other parameter by the reference's name, checked against its constraint like the others.
    pub fn option(self, name: &str, value: impl Into<Value>) -> Self {
        self.set(name, value)
    }

    crate::jobs::job_setters!(job; "the provider's own interval: 10 s for Veo, 5 s for xAI and BytePlus",
        "a `deadline_exceeded` `Error::Job` naming the job, after 20 minutes unless set; the job goes \
         on at the provider and `videos::job` resumes it");
}

/// Media a provider call returned, which [`Client::download`] can fetch: [`crate::types::Image`]
/// and [`Video`].
pub trait Downloadable: sealed::Sealed {}

pub(crate) mod sealed {
    use super::*;

    /// Fetching is the library's: the trait cannot be implemented elsewhere.
    pub trait Sealed: Sized {
        /// Fetch the bytes with `client`.
        fn fetch<'a>(&'a self, client: &'a Client) -> BoxFuture<'a, Result<Self>>;
    }
}

impl Downloadable for Video {}

impl sealed::Sealed for Video {
    fn fetch<'a>(&'a self, client: &'a Client) -> BoxFuture<'a, Result<Self>> {
        Box::pin(client.download_video(self))
    }
}

impl Client {
    /// Video operations with this client.
    pub fn videos(&self) -> VideoOps<'_> {
        VideoOps { client: self }
    }

    /// Fetch the bytes of an image or video the provider returned as a URL, through this client's
    /// transport (timeouts, retries, error bodies as for any call). Media that already has bytes
    /// comes back as it is.
    ///
    /// Credentials go only where the result needs them: a Gemini API file gets the call's key, a
    /// Vertex AI result in Cloud Storage (`gs://…`, fetched from `storage.googleapis.com`) the
    /// call's token, each to that one host; presigned URLs (xAI, BytePlus, BFL, CDNs) get none.
    pub async fn download<M: Downloadable>(&self, media: &M) -> Result<M> {
        media.fetch(self).await
    }

    /// GET `url` through this client's transport (timeouts, retries, error bodies as for any call),
    /// following up to 21 redirects (as the reference does for Google's downloads). `auth` goes only
    /// to its own origin, checked again at every hop: a file URL of the API redirects to a storage
    /// host that must not see the key.
    pub(crate) async fn fetch(
        &self,
        origin: crate::error::Origin,
        url: &str,
        auth: Option<&crate::types::video::FetchAuth>,
    ) -> Result<bytes::Bytes> {
        const MAX_REDIRECTS: usize = 21;
        let t = self.transport();
        let deadline = t.deadline();
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let here = crate::transport::urls::parse(&url);
            let at = here.as_ref().and_then(crate::wire::videos::origin_of);
            let headers = match auth {
                Some(a) if at.as_deref() == Some(a.host.as_str()) => a.headers.clone(),
                _ => reqwest::header::HeaderMap::new(),
            };
            let req = crate::transport::http::HttpRequest {
                method: reqwest::Method::GET,
                url: url.clone(),
                headers,
                body: crate::transport::http::RequestBody::Empty,
                total: None,
            };
            let resp = t.send_redirectable(origin, &req, deadline, &()).await?;
            if !resp.status().is_redirection() {
                return t.read_body(origin, resp, deadline).await;
            }
            let location = resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok());
            let next = location.and_then(|l| here.as_ref()?.join(l).ok());
            url = next
                .ok_or_else(|| Error::invalid_input("the download was redirected to a location that is not a URL"))?
                .to_string();
        }
        Err(Error::invalid_input(format!("the download was redirected more than {MAX_REDIRECTS} times")))
    }

    async fn download_video(&self, video: &Video) -> Result<Video> {
        let a = &video.artifact;
        let Some(url) = a.url.as_deref().filter(|u| !u.is_empty() && !video.has_bytes()) else {
            return Ok(video.clone());
        };
        let origin = video.origin.ok_or_else(|| {
            Error::invalid_input("this video did not come from a provider call: fetch its URL yourself")
        })?;
        let bytes = self.fetch(origin, url, video.fetch.as_ref()).await?;
        if bytes.is_empty() {
            return Err(Error::decode("a video download", "the download is empty", &bytes));
        }
        let sniffed = crate::types::mime::MimeType::sniff(&bytes);
        if sniffed.as_ref().is_some_and(|m| !m.as_str().starts_with("video/")) {
            return Err(Error::decode("a video download", "the download is not a video", &bytes));
        }
        let mut out = video.clone();
        out.artifact.data = Some(bytes);
        if let Some(m) = sniffed {
            out.artifact.mime_type = Some(m);
        }
        Ok(out)
    }
}

/// Video operations bound to a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct VideoOps<'a> {
    client: &'a Client,
}

impl VideoOps<'_> {
    /// Generate a video (see [`generate`]).
    pub fn generate(&self, prompt: impl Into<String>, model: impl Into<String>) -> VideoCall {
        generate(prompt, model).client(self.client.clone())
    }

    /// Edit a video (see [`edit`]).
    pub fn edit(&self, video: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> VideoCall {
        edit(video, prompt, model).client(self.client.clone())
    }

    /// Resume a submitted job (see [`job`]).
    pub fn job(&self, id: impl Into<String>, model: impl Into<String>) -> VideoCall {
        job(id, model).client(self.client.clone())
    }
}
