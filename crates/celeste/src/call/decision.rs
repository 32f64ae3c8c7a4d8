//! The pipeline's decision steps (the `decision` modality): the same resolve → check → build →
//! auth → extras → send as every call, with one span, for the decision APIs (`wire/decision/`).

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;

use super::{CallOptions, deep_merge};
use crate::catalog::Model;
use crate::client::Client;
use crate::error::{Error, Origin, Result};
use crate::telemetry::{CallInfo, CallSpan};
use crate::transport::http::{HttpRequest, RequestBody};
use crate::types::decision::{Answers, Question};
use crate::types::enums::{Modality, Operation};
use crate::types::output::Output;
use crate::wire::decision::{DecisionApi, DecisionRequest};

/// A decision call resolved, checked and built: ready to send.
pub(crate) struct PreparedDecision {
    client: Client,
    origin: Origin,
    api: DecisionApi,
    model: String,
    request: HttpRequest,
    timeout: Option<Duration>,
    telemetry: CallInfo,
}

/// Check, resolve, build and authenticate a decision call. The inputs are checked first, so a call
/// that could never be answered fails before credentials are even looked up.
pub(crate) async fn prepare_decision(
    opts: CallOptions,
    mut req: DecisionRequest,
    stream: bool,
) -> Result<PreparedDecision> {
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    check_decision_inputs(&req)?;
    let client = match opts.client {
        Some(c) => c,
        None => Client::shared()?,
    };
    let (modality, operation) = (Modality::Decision, Operation::Decide);
    // Resolve.
    if req.model.is_empty() {
        req.model = crate::catalog::default_model(modality, operation, opts.target.provider)
            .map(|m| m.id)
            .ok_or_else(|| Error::ModelNotFound { model: String::new(), provider: opts.target.provider })?;
    }
    let resolved = client.resolve_media(&req.model, &opts.target, modality, operation)?;
    let origin = resolved.origin;
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(modality), Some(operation), what);
    let api = crate::providers::decision_api(resolved.provider)
        .ok_or_else(|| unsupported(format!("decisions on {}", resolved.provider)))?;
    // Check against the catalog; no decision API streams, registered model or not.
    if let Some(model) = &resolved.model {
        check_decision(model, stream, origin)?;
    }
    if stream {
        return Err(unsupported("streaming decisions (the decision APIs answer in one reply)".into()));
    }
    // Build.
    let mut ids = crate::wire::decision::typesafe::random_id;
    let built = api.build(&req, &mut ids).await?;
    // Authenticate, then the API's own headers, then the caller's extras (theirs win).
    let mut headers = HeaderMap::new();
    resolved.auth.apply(&mut headers).await?;
    for (k, v) in built.headers.into_iter().chain(opts.extra_headers.iter().cloned()) {
        headers.insert(k, v);
    }
    let mut body = built.body;
    if let Some(extra) = &opts.extra_body {
        deep_merge(&mut body, extra);
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| Error::invalid_input(format!("request body: {e}")))?;
    let url = crate::providers::join_url(&resolved.base, api.path());
    let total = opts.timeout.or(client.transport().timeouts.total);
    let request =
        HttpRequest { method: Method::POST, url, headers, body: RequestBody::Json(Bytes::from(bytes)), total };
    // The answers are structured data; there are no messages to capture (the reference emits no
    // input content either).
    let telemetry = super::json_call_info(modality, operation, origin, &req.model, &request.url);
    Ok(PreparedDecision { client, origin, api, model: req.model, request, timeout: opts.timeout, telemetry })
}

impl PreparedDecision {
    /// Send, and decode the answers; one span covers the call.
    pub(crate) async fn unary(self) -> Result<Output<Answers>> {
        let mut span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let result = self.send(&span).await;
        match &result {
            Ok(out) => span.end_ok(out),
            Err(e) => span.end_err(e),
        }
        result
    }

    async fn send(&self, span: &CallSpan) -> Result<Output<Answers>> {
        let t = self.client.transport();
        let deadline = match self.timeout {
            Some(d) => tokio::time::Instant::now().checked_add(d),
            None => t.deadline(),
        };
        let resp = t.send(self.origin, &self.request, deadline, span).await?;
        let body = t.read_body(self.origin, resp, deadline).await?;
        self.api.parse(body, &self.model, self.origin)
    }
}

/// What every decision needs, whatever the model: questions, each answerable, and an image in the
/// state for a box to be drawn on. Each error names the question (the parameter) at fault.
fn check_decision_inputs(req: &DecisionRequest) -> Result<()> {
    if req.questions.is_empty() {
        return Err(Error::invalid_input("questions: a decision needs at least one question"));
    }
    let mut seen = HashSet::new();
    for (name, q) in &req.questions {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("questions: a question has an empty name"));
        }
        if !seen.insert(name.as_str()) {
            return Err(Error::invalid_input(format!("questions.{name}: the name is given twice")));
        }
        match q {
            Question::Choice(c) if c.options.is_empty() => {
                return Err(Error::invalid_input(format!("questions.{name}: a choice question needs options")));
            }
            Question::Choice(c) if c.options.iter().any(|(o, _)| o.trim().is_empty()) => {
                return Err(Error::invalid_input(format!("questions.{name}: a choice option has an empty name")));
            }
            Question::Score(s) if s.levels.is_empty() => {
                return Err(Error::invalid_input(format!("questions.{name}: a score question needs levels")));
            }
            Question::Box(_) if !req.state.has_image() => {
                return Err(Error::invalid_input(format!(
                    "questions.{name}: a box question needs an image in the state to draw the box on"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Check a decision call against the catalog's model: the operation and streaming. The catalog's
/// `image` constraint only declares that images are accepted (as in the reference, no media check
/// runs on it).
fn check_decision(model: &Model, stream: bool, origin: Origin) -> Result<()> {
    let op = Operation::Decide;
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(Modality::Decision), Some(op), what);
    if !model.supports(Modality::Decision, op) {
        return Err(unsupported(format!("model {} does not support decision {op}", model.id)));
    }
    if stream && !model.streaming {
        return Err(unsupported(format!("streaming with model {}", model.id)));
    }
    Ok(())
}
