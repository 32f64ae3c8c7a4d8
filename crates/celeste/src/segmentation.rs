//! The segmentation facade: the [`SegmentCall`] builder behind
//! [`celeste::images::segment`](crate::images::segment). It collects the image, the prompts and the options, and hands them to
//! the pipeline (`call/segmentation.rs`).
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! use celeste::types::{Artifact, BoxPrompt};
//!
//! let out = celeste::images::segment(Artifact::from_path("truck.jpg"), "fal-ai/sam-3/image-rle")
//!     .prompt("wheel")
//!     .point(420, 610)
//!     .box_prompt(BoxPrompt::new(100, 400, 900, 800))
//!     .include_scores(true)
//!     .await?;
//! for m in &out.content {
//!     println!("mask {} score {:?} area {:?}", m.index, m.score, m.mask.as_ref().map(|px| px.area()));
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::call::CallOptions;
use crate::error::Result;
use crate::jobs::JobOptions;
use crate::text::Unary;
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::output::Output;
use crate::types::segmentation::{BoxPrompt, PointPrompt, SegmentationMask};
use crate::wire::segmentation::{SegmentInput, SegmentRequest};

/// A segmentation call being configured. `.await` it to send it.
///
/// The provider runs it as a job: it is polled to its end within a deadline (the provider's own,
/// or [`job_deadline`](Self::job_deadline)), and dropping the future stops it.
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct SegmentCall<M = Unary> {
    opts: CallOptions,
    req: SegmentRequest,
    job: JobOptions,
    mode: PhantomData<M>,
}

impl<M> Clone for SegmentCall<M> {
    fn clone(&self) -> Self {
        SegmentCall { opts: self.opts.clone(), req: self.req.clone(), job: self.job.clone(), mode: PhantomData }
    }
}

impl<M> fmt::Debug for SegmentCall<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentCall")
            .field("opts", &self.opts)
            .field("request", &self.req)
            .field("job", &self.job)
            .finish()
    }
}

pub(crate) fn call(image: Artifact, model: impl Into<String>) -> SegmentCall {
    SegmentCall {
        opts: CallOptions::default(),
        req: SegmentRequest::new(
            model.into(),
            Operation::Segment,
            SegmentInput { image, prompt: None, points: Vec::new(), boxes: Vec::new() },
        ),
        job: JobOptions::default(),
        mode: PhantomData,
    }
}

impl SegmentCall<Unary> {
    /// Send the call and wait for the masks.
    pub async fn send(self) -> Result<Output<Vec<SegmentationMask>>> {
        crate::call::prepare_segment(self.opts, self.req, self.job).await?.unary().await
    }
}

impl IntoFuture for SegmentCall<Unary> {
    type Output = Result<Output<Vec<SegmentationMask>>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<M> SegmentCall<M> {
    crate::call::call_setters!(opts; client, provider, base_url, api_key, auth, extra_body, header, timeout);

    pub(crate) fn with_mode<N>(self) -> SegmentCall<N> {
        SegmentCall { opts: self.opts, req: self.req, job: self.job, mode: PhantomData }
    }

    /// What to segment, in words (`"wheel"`, `"person, dog"`).
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.req.input.prompt = Some(prompt.into());
        self
    }

    /// A point on the object, in pixels of the image (call again for more).
    pub fn point(self, x: u32, y: u32) -> Self {
        self.point_prompt(PointPrompt::foreground(x, y))
    }

    /// A point prompt of any label or object (call again for more).
    pub fn point_prompt(mut self, point: PointPrompt) -> Self {
        self.req.input.points.push(point);
        self
    }

    /// A box around the object, in pixels of the image (call again for more).
    pub fn box_prompt(mut self, b: BoxPrompt) -> Self {
        self.req.input.boxes.push(b);
        self
    }

    /// At most this many masks, with [`return_multiple_masks`](Self::return_multiple_masks).
    pub fn max_masks(self, n: u32) -> Self {
        self.option("max_masks", n)
    }

    /// Ask for each mask's confidence.
    pub fn include_scores(self, on: bool) -> Self {
        self.option("include_scores", on)
    }

    /// Ask for each mask's bounding box.
    pub fn include_boxes(self, on: bool) -> Self {
        self.option("include_boxes", on)
    }

    /// Return several masks (up to [`max_masks`](Self::max_masks)) instead of the best one.
    pub fn return_multiple_masks(self, on: bool) -> Self {
        self.option("return_multiple_masks", on)
    }

    /// Any other parameter by name, sent as is (checked against the model's constraint when the
    /// catalog declares one).
    pub fn option(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.req.params.set(name, value);
        self
    }

    // fal: every 0.5 s, for at most 120 s, by default.
    crate::jobs::job_setters!(job; "fal's own interval",
        "a job timeout, after the provider's own limit unless set");
}
