//! Gemini: `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`
//! (`?alt=sse` for SSE, otherwise a streamed JSON array), also under Vertex-style
//! `/v1/projects/.../models/{model}:...` paths.
//!
//! Image output: a request whose `generationConfig.responseModalities` has `IMAGE`, or that
//! names no modalities and a model with `-image` in its id, is answered with one PNG as an
//! `inlineData {mimeType, data}` part after the text (the text part only when `TEXT` is asked
//! for, or no modalities are named), sized by `generationConfig.imageConfig.aspectRatio`.

use serde_json::{Value, json};

use super::{ErrorInfo, Events, Framing, images, push_json, push_str, to_vec};
use crate::image::{self, Format};
use crate::plan::{Plan, PlanImage};

/// Output tokens Gemini bills per generated image (1024x1024).
pub(crate) const IMAGE_TOKENS: u64 = 1290;

/// An image asked of a text API (Gemini, Interactions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageAsk {
    /// The scaled output size.
    pub dims: (u32, u32),
    /// Whether a text part goes with the image.
    pub text: bool,
}

impl ImageAsk {
    /// Renders the image into the plan, and adds its tokens to the output unless the reply set
    /// them.
    pub fn apply(self, plan: &mut Plan, seed_text: &str, output_tokens_set: bool) {
        if !self.text {
            plan.text = crate::plan::Cut::default();
        }
        let bytes = image::render(Format::Png, self.dims, images::seed(seed_text, 0), 1.0);
        plan.images.push(PlanImage { mime: Format::Png.mime(), data: images::b64(&bytes) });
        if !output_tokens_set {
            plan.usage.output += IMAGE_TOKENS;
        }
    }
}

/// The size for an `aspectRatio` / `aspect_ratio` value (1:1 when absent or unreadable).
pub(crate) fn ratio(value: Option<&Value>) -> (u32, u32) {
    match value.and_then(Value::as_str).and_then(image::parse_ratio) {
        Some((w, h)) => images::ratio_dims(w, h),
        None => images::ratio_dims(1.0, 1.0),
    }
}

/// Whether (and how) a generateContent request asks for an image.
pub(crate) fn image_ask(model: Option<&str>, generation_config: Option<&Value>) -> Option<ImageAsk> {
    let modalities: Option<Vec<String>> = generation_config
        .and_then(|g| g.get("responseModalities").or_else(|| g.get("response_modalities")))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_ascii_uppercase).collect());
    let text = match &modalities {
        Some(m) if m.iter().any(|x| x == "IMAGE") => m.iter().any(|x| x == "TEXT"),
        Some(_) => return None,
        None if model.is_some_and(|m| m.contains("-image")) => true,
        None => return None,
    };
    let config = generation_config.and_then(|g| g.get("imageConfig").or_else(|| g.get("image_config")));
    let aspect = config.and_then(|c| c.get("aspectRatio").or_else(|| c.get("aspect_ratio")));
    Some(ImageAsk { dims: ratio(aspect), text })
}

fn image_part(img: &PlanImage) -> Value {
    json!({"inlineData": {"mimeType": img.mime, "data": img.data}})
}

fn finish_reason(plan: &Plan) -> String {
    plan.finish_reason.clone().unwrap_or_else(|| "STOP".into())
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    let mut v = json!({
        "promptTokenCount": u.input,
        "candidatesTokenCount": u.output.saturating_sub(u.reasoning),
        "totalTokenCount": u.total(),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u.input}],
    });
    if u.reasoning > 0 {
        v["thoughtsTokenCount"] = json!(u.reasoning);
    }
    if u.cached > 0 {
        v["cachedContentTokenCount"] = json!(u.cached);
    }
    if !plan.images.is_empty() {
        let image = (IMAGE_TOKENS * plan.images.len() as u64).min(u.output);
        v["candidatesTokensDetails"] = json!([
            {"modality": "IMAGE", "tokenCount": image},
            {"modality": "TEXT", "tokenCount": u.output.saturating_sub(u.reasoning).saturating_sub(image)},
        ]);
    }
    v
}

fn call_part(t: &crate::plan::ToolPlan) -> Value {
    let mut call = json!({"name": t.name, "args": t.args});
    if let Some(id) = &t.id {
        call["id"] = Value::String(id.clone());
    }
    json!({"functionCall": call})
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let response_id = plan.alnum(23);
    let mut parts = Vec::new();
    if let Some(r) = &plan.reasoning {
        parts.push(json!({"text": r.text, "thought": true}));
    }
    if !plan.text.is_empty() || (plan.tools.is_empty() && plan.images.is_empty()) {
        parts.push(json!({"text": plan.text.text}));
    }
    parts.extend(plan.images.iter().map(image_part));
    parts.extend(plan.tools.iter().map(call_part));
    to_vec(&json!({
        "candidates": [{
            "content": {"parts": parts, "role": "model"},
            "finishReason": finish_reason(plan),
            "index": 0,
        }],
        "usageMetadata": usage(plan),
        "modelVersion": plan.model,
        "responseId": response_id,
    }))
}

/// Opens one stream element: `data: ` for SSE, `[` or `,\r\n` for the JSON array.
fn element(ev: &mut Events, framing: Framing, body: impl FnOnce(&mut Vec<u8>)) {
    match framing {
        Framing::Sse | Framing::Ndjson => ev.sse(None, body),
        Framing::JsonArray => {
            let first = ev.count() == 0;
            let mut b = Vec::with_capacity(128);
            b.extend_from_slice(if first { b"[" } else { b",\r\n" });
            body(&mut b);
            ev.raw(&b);
        }
    }
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events, framing: Framing) {
    let response_id = plan.alnum(23);
    // `{"candidates":[{"content":{"parts":[` + part + TAIL
    let head: &[u8] = b"{\"candidates\":[{\"content\":{\"parts\":[";
    let mut tail = Vec::new();
    tail.extend_from_slice(b"],\"role\":\"model\"},\"index\":0}],\"modelVersion\":");
    push_str(&mut tail, &plan.model);
    tail.extend_from_slice(b",\"responseId\":");
    push_str(&mut tail, &response_id);
    tail.push(b'}');

    if let Some(r) = &plan.reasoning {
        for d in r.deltas() {
            element(ev, framing, |b| {
                b.extend_from_slice(head);
                b.extend_from_slice(b"{\"text\":");
                push_str(b, d);
                b.extend_from_slice(b",\"thought\":true}");
                b.extend_from_slice(&tail);
            });
        }
    }
    for d in plan.text.deltas() {
        element(ev, framing, |b| {
            b.extend_from_slice(head);
            b.extend_from_slice(b"{\"text\":");
            push_str(b, d);
            b.push(b'}');
            b.extend_from_slice(&tail);
        });
    }
    for img in &plan.images {
        element(ev, framing, |b| {
            b.extend_from_slice(head);
            push_json(b, &image_part(img));
            b.extend_from_slice(&tail);
        });
    }
    for t in &plan.tools {
        element(ev, framing, |b| {
            b.extend_from_slice(head);
            push_json(b, &call_part(t));
            b.extend_from_slice(&tail);
        });
    }
    let last = json!({
        "candidates": [{
            "content": {"parts": [{"text": ""}], "role": "model"},
            "finishReason": finish_reason(plan),
            "index": 0,
        }],
        "usageMetadata": usage(plan),
        "modelVersion": plan.model,
        "responseId": response_id,
    });
    element(ev, framing, |b| push_json(b, &last));
    if framing == Framing::JsonArray {
        ev.raw(b"]");
    }
}

/// Google's canonical status name for an HTTP status.
fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ if status >= 500 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

pub(crate) fn error_value(err: &ErrorInfo) -> Value {
    let mut v = json!({
        "error": {
            "code": err.status,
            "message": err.message,
            "status": err.kind.as_deref().unwrap_or(status_name(err.status)),
        }
    });
    // Google puts the retry delay in a RetryInfo detail, e.g. "retryDelay": "34s".
    if let Some(secs) = err.retry_after.as_deref().and_then(|s| s.parse::<f64>().ok()) {
        v["error"]["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{secs}s"),
        }]);
    }
    v
}

pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&error_value(err))
}

/// An `{"error":{code,message,status}}` element, then the stream closes.
pub(crate) fn stream_error(ev: &mut Events, framing: Framing, after_events: usize, err: &ErrorInfo) {
    let v = error_value(err);
    match framing {
        Framing::JsonArray => {
            let mut b = Vec::new();
            b.extend_from_slice(if after_events == 0 { b"[" } else { b",\r\n" });
            push_json(&mut b, &v);
            b.push(b']');
            ev.raw(&b);
        }
        _ => ev.sse(None, |b| push_json(b, &v)),
    }
}
