//! The pipeline's segmentation steps: the same resolve → check → build → auth → extras → send as
//! every call, with one span over the submit, the job's polls and the result's fetch, for the
//! segmentation APIs (`wire/segmentation/`).

use super::{client_or_shared, name_default_model};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use super::CallOptions;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::jobs::{JobOptions, Poller};
use crate::telemetry::{CallInfo, CallSpan};
use crate::transport::http::HttpRequest;
use crate::types::enums::{Modality, Operation};
use crate::types::output::Output;
use crate::types::segmentation::SegmentationMask;
use crate::wire::segmentation::{SegmentContext, SegmentExtra, SegmentRequest, SegmentationApi};

/// A segmentation call resolved, checked and built: ready to send.
pub(crate) struct PreparedSegment {
    client: Client,
    ctx: SegmentContext,
    api: SegmentationApi,
    request: HttpRequest,
    /// The credentials of the API's host, for the job's polls and result.
    auth: HeaderMap,
    timeout: Option<Duration>,
    telemetry: CallInfo,
    job: JobOptions,
}

/// Check, resolve, build and authenticate a segmentation call. The inputs are checked first, so a
/// call that could never succeed fails before credentials are looked up.
pub(crate) async fn prepare_segment(
    opts: CallOptions,
    mut req: SegmentRequest,
    job: JobOptions,
) -> Result<PreparedSegment> {
    let (modality, operation) = (Modality::Segmentation, Operation::Segment);
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    let size = check_inputs(&req)?;
    let client = client_or_shared(opts.client)?;
    name_default_model(&mut req.model, modality, operation, opts.target.provider)?;
    // A catalog model that does not segment is said before credentials are looked up.
    if let Some(m) = crate::catalog::get_model(&req.model, opts.target.provider)
        && !m.supports(modality, operation)
    {
        let what = format!("model {} does not segment", m.id);
        return Err(Error::unsupported(
            Some(crate::error::Origin::Provider(m.provider)),
            Some(modality),
            Some(operation),
            what,
        ));
    }
    let resolved = client.resolve_media(&req.model, &opts.target, modality, operation)?;
    let origin = resolved.origin;
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(modality), Some(operation), what);
    let api = crate::providers::segmentation_api(resolved.provider)
        .ok_or_else(|| unsupported(format!("segmentation on {}", resolved.provider)))?;
    // Check against the catalog: the operation, then each parameter against its constraint (the
    // normalised values are sent; the prompts have none, as in the reference).
    if let Some(model) = &resolved.model {
        if !model.supports(modality, operation) {
            return Err(unsupported(format!("model {} does not segment", model.id)));
        }
        let params: Map<String, Value> = req.params.values().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let checked = model.validate(&params)?;
        req.params.replace_values(checked.into_iter().collect());
    }
    // Build.
    let ctx = SegmentContext { origin, model: req.model.clone(), operation, extra: SegmentExtra { size } };
    let url = crate::providers::join_url(&resolved.base, &api.path(&req.model)?);
    // Authenticate, then the caller's extras (theirs win).
    let mut auth = HeaderMap::new();
    resolved.auth.apply(&mut auth).await?;
    let mut headers = auth.clone();
    headers.insert(reqwest::header::ACCEPT, reqwest::header::HeaderValue::from_static("application/json"));
    for (k, v) in opts.extra_headers.iter().cloned() {
        headers.insert(k, v);
    }
    let total = opts.timeout.or(client.transport().timeouts.total);
    let request = super::json_post(url, headers, api.build(&req, &ctx)?, &opts.extra_body, total)?;
    let telemetry = super::json_call_info(modality, operation, origin, &req.model, &request.url);
    Ok(PreparedSegment { client, ctx, api, request, auth, timeout: opts.timeout, telemetry, job })
}

/// What every segmentation needs whatever the model: a readable input image, a prompt that says
/// something, and prompts inside the image when its size is known. Returns that size.
fn check_inputs(req: &SegmentRequest) -> Result<Option<(u32, u32)>> {
    let a = &req.input.image;
    super::check_artifact("segment: the input image", a, "image/", "an image")?;
    if req.input.prompt.as_deref().is_some_and(|p| p.trim().is_empty()) {
        return Err(Error::invalid_input("segment: the prompt is empty (leave it out to use points or boxes)"));
    }
    for b in &req.input.boxes {
        if b.x_min >= b.x_max || b.y_min >= b.y_max {
            return Err(Error::invalid_input(format!(
                "segment: the box ({}, {}) to ({}, {}) is empty: x_min < x_max and y_min < y_max are required",
                b.x_min, b.y_min, b.x_max, b.y_max
            )));
        }
    }
    for p in &req.input.points {
        if p.label > 1 {
            return Err(Error::invalid_input(format!(
                "segment: point label {} is not 0 (background) or 1 (on the object)",
                p.label
            )));
        }
    }
    // The image's size, when its bytes are here (a URL is not fetched): the masks' size.
    let size = if a.data.is_some() || a.path.is_some() { a.image_dimensions().ok() } else { None };
    if let Some((w, h)) = size {
        let outside = |x: u32, y: u32| x >= w || y >= h;
        if let Some(p) = req.input.points.iter().find(|p| outside(p.x, p.y)) {
            return Err(Error::invalid_input(format!(
                "segment: the point ({}, {}) is outside the {w}×{h} image",
                p.x, p.y
            )));
        }
        if let Some(b) = req.input.boxes.iter().find(|b| b.x_max > w || b.y_max > h) {
            return Err(Error::invalid_input(format!(
                "segment: the box ({}, {}) to ({}, {}) reaches outside the {w}×{h} image",
                b.x_min, b.y_min, b.x_max, b.y_max
            )));
        }
    }
    Ok(size)
}

impl PreparedSegment {
    /// Submit, poll the job to its end and fetch the masks; one span covers all of it.
    pub(crate) async fn unary(self) -> Result<Output<Vec<SegmentationMask>>> {
        let span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let result = self.settle(&span).await;
        super::ended(span, result)
    }

    async fn settle(&self, span: &CallSpan) -> Result<Output<Vec<SegmentationMask>>> {
        let t = self.client.transport();
        let deadline = super::call_deadline(self.timeout, &self.client);
        let resp = t.send(self.ctx.origin, &self.request, deadline, span).await?;
        let body = t.read_body(self.ctx.origin, resp, deadline).await?;
        let mut poller = Poller::new(t, span, self.ctx.origin, self.auth.clone(), &self.request.url, self.job.clone());
        self.api.settle(body, &self.ctx, &mut poller).await
    }
}
