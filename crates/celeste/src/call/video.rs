//! The pipeline's video steps: the same resolve → check → build → host (Vertex) → auth → extras →
//! send as every call, with one span covering the submit, every poll and the result, for the video
//! APIs (`wire/videos/`); and resuming a job by its id through the same steps, minus the submit.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use super::{CallOptions, client_or_shared, deep_merge, name_default_model, telemetry_name};
use crate::auth::Auth;
use crate::catalog::Model;
use crate::client::Client;
use crate::error::{Error, Origin, Result};
use crate::jobs::{JobOptions, Poller};
use crate::telemetry::{CallInfo, CallSpan};
use crate::transport::http::{HttpRequest, RequestBody};
use crate::types::artifact::Artifact;
use crate::types::enums::{Modality, Operation};
use crate::types::output::Output;
use crate::types::video::Video;
use crate::wire::videos::{VideoApi, VideoContext, VideoExtra, VideoRequest};

/// A video call resolved, checked and built: ready to send (or, resuming, to poll).
pub(crate) struct PreparedVideo {
    client: Client,
    ctx: VideoContext,
    api: VideoApi,
    request: HttpRequest,
    timeout: Option<Duration>,
    telemetry: CallInfo,
    job: JobOptions,
    /// The job to resume instead of submitting one.
    resume: Option<String>,
}

/// Resolve, check, build and authenticate a video call. With `resume`, the call polls that job
/// instead: the request is resolved and authenticated the same way, and nothing is submitted.
pub(crate) async fn prepare_video(
    opts: CallOptions,
    mut req: VideoRequest,
    job: JobOptions,
    resume: Option<String>,
) -> Result<PreparedVideo> {
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    if resume.is_none() {
        check_inputs(&req)?;
    } else if resume.as_deref().is_some_and(|id| id.trim().is_empty()) {
        return Err(Error::invalid_input("videos job: the job id is empty"));
    }
    let client = client_or_shared(opts.client)?;
    let operation = req.operation;
    if !req.model.is_empty() && req.model.trim().is_empty() {
        return Err(Error::invalid_input("video call: the model id is blank"));
    }
    name_default_model(&mut req.model, Modality::Videos, operation, opts.target.provider)?;
    let resolved = client.resolve_media(&req.model, &opts.target, Modality::Videos, operation)?;
    let unsupported =
        |what: String| Error::unsupported(Some(resolved.origin), Some(Modality::Videos), Some(operation), what);
    let vertex = match &resolved.auth {
        Auth::Vertex(v) => Some(v.clone()),
        _ => None,
    };
    let api = match &vertex {
        Some(_) if req.model.starts_with("veo") => VideoApi::VeoVertex,
        Some(_) => return Err(unsupported(format!("model {} on Vertex AI (Veo models only)", req.model))),
        None => crate::providers::video_api(resolved.provider, &req.model)
            .ok_or_else(|| unsupported(format!("videos on {}", resolved.provider)))?,
    };
    let path = api
        .path(operation, &req.model)
        .ok_or_else(|| unsupported(format!("video {operation} with model {}", req.model)))?;
    if resume.is_none()
        && let Some(model) = &resolved.model
    {
        check_video(model, &mut req, resolved.origin)?;
    }
    // Authenticate (the Vertex host adapter also gives the model's URL).
    let mut auth = HeaderMap::new();
    let (base, url) = match &vertex {
        Some(v) => {
            let model_url = v.media_host(resolved.provider, &resolved.base, &req.model, &mut auth).await?;
            let base = model_url.strip_suffix(":generateContent").unwrap_or(&model_url).to_string();
            let url = format!("{base}:predictLongRunning");
            (base, url)
        }
        None => {
            resolved.auth.apply(&mut auth).await?;
            (resolved.base.clone(), crate::providers::join_url(&resolved.base, &path))
        }
    };
    let extra = VideoExtra { base, auth: auth.clone() };
    let ctx = VideoContext { origin: resolved.origin, model: req.model.clone(), operation, extra };
    let body = if resume.is_none() {
        let built = api.build(&req, &ctx)?;
        if !built.dropped.is_empty() {
            tracing::warn!(origin = %ctx.origin, model = %ctx.model, parameters = ?built.dropped, "parameters this video API cannot carry were dropped");
        }
        let mut v = built.body;
        if let Some(extra) = &opts.extra_body {
            deep_merge(&mut v, extra);
        }
        let bytes = serde_json::to_vec(&v).map_err(|e| Error::invalid_input(format!("request body: {e}")))?;
        RequestBody::Json(Bytes::from(bytes))
    } else {
        RequestBody::Empty
    };
    let mut headers = auth;
    for (k, v) in opts.extra_headers.iter().cloned() {
        headers.insert(k, v);
    }
    let total = opts.timeout.or(client.transport().timeouts.total);
    let request = HttpRequest { method: Method::POST, url, headers, body, total };
    let telemetry = CallInfo {
        modality: Modality::Videos,
        operation,
        provider_name: if vertex.is_some() { "gcp.vertex_ai" } else { telemetry_name(resolved.origin) },
        model: req.model.clone(),
        url: request.url.clone(),
        stream: false,
        output_type: Some("video"),
        content: None,
        params: Default::default(),
    };
    Ok(PreparedVideo { client, ctx, api, request, timeout: opts.timeout, telemetry, job, resume })
}

impl PreparedVideo {
    /// Submit, and poll the job to its end (or poll the job being resumed). One span covers the
    /// whole call; each request is a child span.
    pub(crate) async fn unary(self) -> Result<Output<Vec<Video>>> {
        let span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let result = self.settle(&span).await;
        super::ended(span, result)
    }

    async fn settle(&self, span: &CallSpan) -> Result<Output<Vec<Video>>> {
        let t = self.client.transport();
        let mut poller =
            Poller::new(t, span, self.ctx.origin, self.ctx.extra.auth.clone(), &self.request.url, self.job.clone());
        if let Some(id) = &self.resume {
            return self.api.resume(id.clone(), &self.ctx, &mut poller).await;
        }
        let deadline = super::call_deadline(self.timeout, &self.client);
        let resp = t.send(self.ctx.origin, &self.request, deadline, span).await?;
        let body = t.read_body(self.ctx.origin, resp, deadline).await?;
        self.api.settle(body, &self.ctx, &mut poller).await
    }
}

/// Inputs every video call needs, whatever the model: a prompt; an edit's video (and only an
/// edit's); a last frame only after a first frame; every input present, and of its kind.
fn check_inputs(req: &VideoRequest) -> Result<()> {
    let op = req.operation;
    if req.input.prompt.trim().is_empty() {
        return Err(Error::invalid_input(format!("video {op}: the prompt is empty")));
    }
    match (&req.input.video, op) {
        (None, Operation::Edit) => return Err(Error::invalid_input("video edit: no input video given")),
        (Some(_), Operation::Generate) => {
            return Err(Error::invalid_input("video generate takes no input video (use `videos::edit`)"));
        }
        _ => {}
    }
    if req.input.last_frame.is_some() && req.input.first_frame.is_none() {
        return Err(Error::invalid_input(
            "a last frame needs a first frame: set `first_frame` too (a video is generated between the two)",
        ));
    }
    let images = [("the first frame", &req.input.first_frame), ("the last frame", &req.input.last_frame)]
        .into_iter()
        .filter_map(|(w, a)| a.as_ref().map(|a| (w.to_string(), a)))
        .chain(req.params.reference_images.iter().enumerate().map(|(i, a)| (format!("reference image {}", i + 1), a)));
    for (what, a) in images {
        super::check_artifact(&what, a, "image/", "image")?;
    }
    if let Some(v) = &req.input.video {
        super::check_artifact("the input video", v, "video/", "video")?;
    }
    Ok(())
}

/// Check a video call against the catalog's model: the operation, and each parameter against its
/// own constraint (frames and reference images by type and count); the normalised values are sent.
fn check_video(model: &Model, req: &mut VideoRequest, origin: Origin) -> Result<()> {
    let op = req.operation;
    if !model.supports(Modality::Videos, op) {
        return Err(Error::unsupported(
            Some(origin),
            Some(Modality::Videos),
            Some(op),
            format!("model {} does not support video {op}", model.id),
        ));
    }
    let mime = |a: &Artifact| serde_json::json!({ "mime_type": a.mime().map(|m| m.as_str().to_string()) });
    let mut params: Map<String, Value> = req.params.values().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let media = ["reference_images", "first_frame", "last_frame"];
    if !req.params.reference_images.is_empty() {
        params.insert(media[0].into(), Value::Array(req.params.reference_images.iter().map(mime).collect()));
    }
    if let Some(a) = &req.input.first_frame {
        params.insert(media[1].into(), mime(a));
    }
    if let Some(a) = &req.input.last_frame {
        params.insert(media[2].into(), mime(a));
    }
    let mut checked = model.validate(&params)?;
    for m in media {
        checked.remove(m);
    }
    req.params.replace_values(checked.into_iter().collect());
    Ok(())
}
