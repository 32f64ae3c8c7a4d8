//! `celeste::images`: generate, edit, upscale (and analyze, embed, segment).
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! let out = celeste::images::generate("a lighthouse at dusk", "gpt-image-1")
//!     .aspect_ratio("1536x1024")
//!     .quality("high")
//!     .await?;
//! out.content[0].save("lighthouse.png").await?;
//! # Ok(())
//! # }
//! ```
//!
//! Every setter is checked against the model's catalog constraints before anything is sent; a
//! parameter the provider's API cannot carry is dropped with one warning. Providers that run image
//! jobs (BFL, Topaz) are polled to the end within a deadline; watch them with
//! [`on_progress`](ImageCall::on_progress).

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::call::{CallOptions, prepare_image};
use crate::client::Client;
use crate::error::Result;
use crate::jobs::JobOptions;
use crate::stream::Stream;
use crate::text::{Generate, Streaming, Unary};
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::media::Image;
use crate::types::message::Part;
use crate::types::output::Output;
use crate::wire::images::{ImageInput, ImageRequest};

pub use crate::decision::decide_image as decide;

/// A stream of partial images; its output holds the finished ones.
pub type ImageStream = Stream<Image, Vec<Image>>;

/// An image call being configured. `.await` it to send it.
///
/// `M` says how it is sent: [`Unary`] (the finished images) or [`Streaming`] (partial images as they
/// are drawn, for the providers that stream).
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct ImageCall<M = Unary> {
    opts: CallOptions,
    req: ImageRequest,
    job: JobOptions,
    mode: PhantomData<M>,
}

impl<M> Clone for ImageCall<M> {
    fn clone(&self) -> Self {
        ImageCall { opts: self.opts.clone(), req: self.req.clone(), job: self.job.clone(), mode: PhantomData }
    }
}

impl<M> fmt::Debug for ImageCall<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageCall")
            .field("opts", &self.opts)
            .field("request", &self.req)
            .field("job", &self.job)
            .field("mode", &std::any::type_name::<M>())
            .finish()
    }
}

fn call(operation: Operation, model: String, prompt: Option<String>, image: Option<Artifact>) -> ImageCall {
    ImageCall {
        opts: CallOptions::default(),
        req: ImageRequest::new(model, operation, ImageInput { prompt, image }),
        job: JobOptions::default(),
        mode: PhantomData,
    }
}

/// Generate images from a prompt.
pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> ImageCall {
    call(Operation::Generate, model.into(), Some(prompt.into()), None)
}

/// Edit an image as the prompt says.
pub fn edit(image: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> ImageCall {
    call(Operation::Edit, model.into(), Some(prompt.into()), Some(image))
}

/// Upscale an image.
pub fn upscale(image: Artifact, model: impl Into<String>) -> ImageCall {
    call(Operation::Upscale, model.into(), None, Some(image))
}

/// Ask a model about an image (a text call; `.stream()` streams it).
pub fn analyze(image: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
    crate::text::generate(prompt, model).part(Part::image(image)).operation(Operation::Analyze)
}

/// Embed images.
pub fn embed(images: Vec<Artifact>, model: impl Into<String>) -> crate::embeddings::EmbedCall {
    crate::embeddings::embed_media(images, crate::wire::embeddings::EmbedInput::Image, model)
}

/// Segment an image: masks of what a text prompt, points or boxes point at (fal SAM-3). Add the
/// prompts on the returned [`SegmentCall`](crate::SegmentCall); each mask comes with its decoded
/// pixels when the image's size is known.
pub fn segment(image: Artifact, model: impl Into<String>) -> crate::SegmentCall {
    crate::segmentation::call(image, model)
}

impl ImageCall<Unary> {
    /// Stream partial images as they are drawn (OpenAI, BytePlus, Ollama).
    pub fn stream(self) -> ImageCall<Streaming> {
        self.with_mode()
    }

    /// Send the call and wait for the finished images (polling the provider's job, if it runs one).
    pub async fn send(self) -> Result<Output<Vec<Image>>> {
        prepare_image(self.opts, self.req, false, self.job).await?.unary().await
    }
}

impl ImageCall<Streaming> {
    /// Open the stream: it is returned once the response headers have arrived.
    pub async fn send(self) -> Result<ImageStream> {
        prepare_image(self.opts, self.req, true, self.job).await?.stream().await
    }
}

impl IntoFuture for ImageCall<Unary> {
    type Output = Result<Output<Vec<Image>>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl IntoFuture for ImageCall<Streaming> {
    type Output = Result<ImageStream>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<M> ImageCall<M> {
    crate::call::call_setters!(opts; client, provider, base_url, api_key, auth, extra_body, header, timeout);

    pub(crate) fn with_mode<N>(self) -> ImageCall<N> {
        ImageCall { opts: self.opts, req: self.req, job: self.job, mode: PhantomData }
    }

    fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.req.params.set(name, value);
        self
    }

    /// The aspect ratio or size (`"16:9"`, `"1536x1024"`: the model's catalog entry lists its values).
    pub fn aspect_ratio(self, ratio: impl Into<String>) -> Self {
        self.set("aspect_ratio", ratio.into())
    }

    /// Quality or resolution tier (`low`, `high`, `2K`, ...).
    pub fn quality(self, quality: impl Into<String>) -> Self {
        self.set("quality", quality.into())
    }

    /// How many images to make.
    pub fn num_images(self, n: u32) -> Self {
        self.set("num_images", n)
    }

    /// The file format of the images (`png`, `jpeg`, `webp`).
    pub fn output_format(self, format: impl Into<String>) -> Self {
        self.set("output_format", format.into())
    }

    /// Background (`transparent`, `opaque`, `auto`).
    pub fn background(self, background: impl Into<String>) -> Self {
        self.set("background", background.into())
    }

    /// Compression level for JPEG and WebP output, 0–100.
    pub fn output_compression(self, level: u32) -> Self {
        self.set("output_compression", level)
    }

    /// Sampling seed.
    pub fn seed(self, seed: i64) -> Self {
        self.set("seed", seed)
    }

    /// Moderation strictness: a level (BFL, `0`–`6`) or a name (OpenAI, `low`/`auto`).
    pub fn safety_tolerance(self, tolerance: impl Into<Value>) -> Self {
        self.set("safety_tolerance", tolerance)
    }

    /// Diffusion steps.
    pub fn steps(self, steps: u32) -> Self {
        self.set("steps", steps)
    }

    /// Guidance scale.
    pub fn guidance(self, guidance: f64) -> Self {
        self.set("guidance", guidance)
    }

    /// What the image must not show.
    pub fn negative_prompt(self, prompt: impl Into<String>) -> Self {
        self.set("negative_prompt", prompt.into())
    }

    /// Let the provider rewrite the prompt.
    pub fn prompt_upsampling(self, on: bool) -> Self {
        self.set("prompt_upsampling", on)
    }

    /// Ground the prompt in web and image search (BFL `flux-3-image`).
    pub fn grounding(self, on: bool) -> Self {
        self.set("grounding", on)
    }

    /// A provider watermark on the image.
    pub fn watermark(self, on: bool) -> Self {
        self.set("watermark", on)
    }

    /// How many partial images a stream sends before each finished one.
    pub fn partial_images(self, n: u32) -> Self {
        self.set("partial_images", n)
    }

    /// A reasoning level, for image models that think (Gemini image models).
    pub fn thinking_level(self, level: impl Into<String>) -> Self {
        self.set("thinking_level", level.into())
    }

    /// An image that guides the result (call again for more).
    pub fn reference_image(mut self, image: Artifact) -> Self {
        self.req.params.reference_images.push(image);
        self
    }

    /// The area an edit repaints (transparent pixels), for APIs that take a mask.
    pub fn mask(mut self, mask: Artifact) -> Self {
        self.req.params.mask = Some(mask);
        self
    }

    /// Any other parameter the model's catalog entry names (Topaz's `face_enhancement`,
    /// `output_width`, ...), checked against its constraint like the others.
    pub fn option(self, name: &str, value: impl Into<Value>) -> Self {
        self.set(name, value)
    }

    crate::jobs::job_setters!(job; "the provider's own interval",
        "a job timeout, after the provider's own limit unless set");
}

impl crate::videos::Downloadable for Image {}

impl crate::videos::sealed::Sealed for Image {
    fn fetch<'a>(&'a self, client: &'a Client) -> BoxFuture<'a, Result<Self>> {
        Box::pin(client.download_image(self))
    }
}

impl Client {
    /// Image operations with this client.
    pub fn images(&self) -> ImageOps<'_> {
        ImageOps { client: self }
    }

    /// Fetch the bytes of an image the provider returned as a URL (see [`Client::download`]). No
    /// credentials are sent: image result URLs are presigned or public.
    pub(crate) async fn download_image(&self, image: &Image) -> Result<Image> {
        let a = &image.artifact;
        let Some(url) = a.url.as_deref().filter(|u| !u.is_empty() && a.data.is_none()) else {
            return Ok(image.clone());
        };
        let origin = image.origin.ok_or_else(|| {
            crate::Error::invalid_input("this image did not come from a provider call: fetch its URL yourself")
        })?;
        let bytes = self.fetch(origin, url, None).await?;
        let mut artifact = a.clone();
        artifact.data = Some(bytes);
        let mut out = Image::new(artifact);
        out.revised_prompt = image.revised_prompt.clone();
        out.origin = image.origin;
        Ok(out)
    }
}

/// Image operations bound to a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct ImageOps<'a> {
    client: &'a Client,
}

impl ImageOps<'_> {
    /// Generate images (see [`generate`]).
    pub fn generate(&self, prompt: impl Into<String>, model: impl Into<String>) -> ImageCall {
        generate(prompt, model).client(self.client.clone())
    }

    /// Edit an image (see [`edit`]).
    pub fn edit(&self, image: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> ImageCall {
        edit(image, prompt, model).client(self.client.clone())
    }

    /// Upscale an image (see [`upscale`]).
    pub fn upscale(&self, image: Artifact, model: impl Into<String>) -> ImageCall {
        upscale(image, model).client(self.client.clone())
    }

    /// Segment an image (see [`segment`]).
    pub fn segment(&self, image: Artifact, model: impl Into<String>) -> crate::SegmentCall {
        segment(image, model).client(self.client.clone())
    }
}

#[cfg(test)]
mod tests;
