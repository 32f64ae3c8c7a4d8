//! Segmentation wire APIs behind one seam ([`SegmentationApi`]): the path of a model, building the
//! submit request, and settling the reply (polling the job to its end and decoding the masks into
//! [`SegmentationMask`]s, never a JSON value tree).
//!
//! Adding a segmentation API is one module here, one variant of [`SegmentationApi`] and one arm in
//! each of its methods, and the provider in `providers::segmentation_api`.

pub(crate) mod fal;

use bytes::Bytes;
use serde_json::Value;

use crate::error::Result;
use crate::jobs::Poller;
use crate::types::artifact::Artifact;
use crate::types::enums::Modality;
use crate::types::output::Output;
use crate::types::segmentation::{BoxPrompt, PointPrompt, SegmentationMask};
use crate::wire::media::{Inputs, MediaContext, MediaRequest, Modal};

/// The segmentation APIs this library speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(not(feature = "fal"), allow(dead_code, reason = "reached through fal's profile only"))]
pub(crate) enum SegmentationApi {
    /// fal's queue (`queue.fal.run/{model}`, then `status_url` and `response_url`).
    FalQueue,
}

/// What a segmentation call asks for, whoever serves it; its parameters are `max_masks`,
/// `include_scores`, `include_boxes`, `return_multiple_masks`, and any other by the reference's name
/// (checked against the catalog like image parameters).
pub(crate) type SegmentRequest = MediaRequest<SegmentInput>;

/// A segmentation call's inputs: the image and what to find in it.
#[derive(Debug, Clone)]
pub(crate) struct SegmentInput {
    pub image: Artifact,
    /// What to segment, in words.
    pub prompt: Option<String>,
    pub points: Vec<PointPrompt>,
    pub boxes: Vec<BoxPrompt>,
}

impl Inputs for SegmentInput {}

/// What a segmentation wire module needs to know about the call it serves.
pub(crate) type SegmentContext = MediaContext<SegmentExtra>;

/// What a segmentation call adds to its context.
#[derive(Debug, Clone)]
pub(crate) struct SegmentExtra {
    /// The input image's `(width, height)`, when its bytes are at hand: the size of the masks.
    pub size: Option<(u32, u32)>,
}

impl Modal for SegmentExtra {
    const MODALITY: Modality = Modality::Segmentation;
}

impl SegmentationApi {
    /// The path below the base URL.
    pub(crate) fn path(self, model: &str) -> Result<String> {
        match self {
            SegmentationApi::FalQueue => fal::path(model),
        }
    }

    /// The submit request's body.
    pub(crate) fn build(self, req: &SegmentRequest, ctx: &SegmentContext) -> Result<Value> {
        match self {
            SegmentationApi::FalQueue => fal::build(req, ctx),
        }
    }

    /// Settle the submit's reply: poll the job to its end, fetch the result and decode the masks.
    pub(crate) async fn settle(
        self,
        body: Bytes,
        ctx: &SegmentContext,
        poller: &mut Poller<'_>,
    ) -> Result<Output<Vec<SegmentationMask>>> {
        match self {
            SegmentationApi::FalQueue => fal::settle(body, ctx, poller).await,
        }
    }
}
