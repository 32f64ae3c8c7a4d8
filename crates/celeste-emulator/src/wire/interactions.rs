//! Gemini Interactions: `POST /v1beta/interactions` (streams when the body has
//! `"stream": true`; events carry `event_type` and are sent as `data:` lines only).
//!
//! Reasoning is sent as a `thought` step with a `thought_summary` text delta followed by a
//! `thought_signature` delta; the summary delta's exact shape is a best guess.
//!
//! Image output: `response_format: {type: "image", aspect_ratio?}` (the reference's request),
//! or no `response_format` and a model with `-image` in its id, is answered with one PNG as
//! `{"type": "image", "data", "mime_type"}` content of the `model_output` step (text content
//! only in the second case). Streamed, the image is one `step.delta` of that shape.

use serde_json::{Value, json};

use super::gemini::{IMAGE_TOKENS, ImageAsk};
use super::{ErrorInfo, Events, gemini, push_json, push_num, push_str, rfc3339, to_vec};
use crate::plan::{Plan, PlanImage};

/// Whether (and how) an interaction asks for an image.
pub(crate) fn image_ask(model: Option<&str>, response_format: Option<&Value>) -> Option<ImageAsk> {
    match response_format {
        Some(f) if f.get("type").and_then(Value::as_str) == Some("image") => {
            Some(ImageAsk { dims: gemini::ratio(f.get("aspect_ratio")), text: false })
        }
        Some(_) => None,
        None if model.is_some_and(|m| m.contains("-image")) => Some(ImageAsk { dims: gemini::ratio(None), text: true }),
        None => None,
    }
}

fn image_content(img: &PlanImage) -> Value {
    json!({"type": "image", "data": img.data, "mime_type": img.mime})
}

fn interaction_id(plan: &mut Plan) -> String {
    format!("v1_{}", plan.alnum(72))
}

fn status(plan: &Plan) -> &'static str {
    if plan.tools.is_empty() { "completed" } else { "requires_action" }
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    let mut v = json!({
        "total_tokens": u.total(),
        "total_input_tokens": u.input,
        "input_tokens_by_modality": [{"modality": "text", "tokens": u.input}],
        "total_cached_tokens": u.cached,
        "total_output_tokens": u.output.saturating_sub(u.reasoning),
        "total_tool_use_tokens": 0,
        "total_thought_tokens": u.reasoning,
    });
    if !plan.images.is_empty() {
        let image = (IMAGE_TOKENS * plan.images.len() as u64).min(u.output);
        v["output_tokens_by_modality"] = json!([
            {"modality": "image", "tokens": image},
            {"modality": "text", "tokens": u.output.saturating_sub(u.reasoning).saturating_sub(image)},
        ]);
    }
    v
}

fn call_ids(plan: &mut Plan) -> Vec<String> {
    (0..plan.tools.len()).map(|i| plan.tools[i].id.clone().unwrap_or_else(|| plan.alnum(8).to_lowercase())).collect()
}

fn signature(plan: &mut Plan) -> String {
    format!("Ci{}", plan.alnum(90))
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let id = interaction_id(plan);
    let sig = signature(plan);
    let calls = call_ids(plan);
    let now = rfc3339(plan.created);
    let mut steps = Vec::new();
    if let Some(r) = &plan.reasoning {
        steps.push(json!({"type": "thought", "signature": sig,
                          "summary": [{"type": "text", "text": r.text}]}));
    }
    if !plan.text.is_empty() || plan.tools.is_empty() {
        let mut content = Vec::new();
        if !plan.text.is_empty() || plan.images.is_empty() {
            content.push(json!({"type": "text", "text": plan.text.text}));
        }
        content.extend(plan.images.iter().map(image_content));
        steps.push(json!({"type": "model_output", "content": content}));
    }
    for (t, cid) in plan.tools.iter().zip(&calls) {
        steps.push(json!({"type": "function_call", "id": cid, "name": t.name,
                          "arguments": t.args, "signature": ""}));
    }
    to_vec(&json!({
        "id": id,
        "status": status(plan),
        "usage": usage(plan),
        "created": now,
        "updated": now,
        "service_tier": "standard",
        "steps": steps,
        "object": "interaction",
        "model": plan.model,
    }))
}

fn value_event(ev: &mut Events, v: &Value) {
    ev.sse(None, |b| push_json(b, v));
}

fn text_delta(ev: &mut Events, index: usize, text: &str) {
    ev.sse(None, |b| {
        b.extend_from_slice(b"{\"index\":");
        push_num(b, index as u64);
        b.extend_from_slice(b",\"delta\":{\"text\":");
        push_str(b, text);
        b.extend_from_slice(b",\"type\":\"text\"},\"event_type\":\"step.delta\"}");
    });
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events) {
    let id = interaction_id(plan);
    let sig = signature(plan);
    let calls = call_ids(plan);
    let now = rfc3339(plan.created);
    value_event(
        ev,
        &json!({"interaction": {"id": id, "status": "in_progress", "object": "interaction",
                "model": plan.model}, "event_type": "interaction.created"}),
    );
    value_event(
        ev,
        &json!({"interaction_id": id, "status": "in_progress",
                "event_type": "interaction.status_update"}),
    );
    let mut index = 0usize;
    if let Some(r) = &plan.reasoning {
        value_event(ev, &json!({"index": index, "step": {"type": "thought"}, "event_type": "step.start"}));
        for d in r.deltas() {
            value_event(
                ev,
                &json!({"index": index, "delta": {"type": "thought_summary",
                        "content": {"type": "text", "text": d}}, "event_type": "step.delta"}),
            );
        }
        value_event(
            ev,
            &json!({"index": index, "delta": {"signature": sig, "type": "thought_signature"},
                    "event_type": "step.delta"}),
        );
        value_event(ev, &json!({"index": index, "event_type": "step.stop"}));
        index += 1;
    }
    if !plan.text.is_empty() || plan.tools.is_empty() {
        value_event(ev, &json!({"index": index, "step": {"type": "model_output"}, "event_type": "step.start"}));
        for d in plan.text.deltas() {
            text_delta(ev, index, d);
        }
        for img in &plan.images {
            value_event(ev, &json!({"index": index, "delta": image_content(img), "event_type": "step.delta"}));
        }
        value_event(ev, &json!({"index": index, "event_type": "step.stop"}));
        index += 1;
    }
    for (t, cid) in plan.tools.iter().zip(&calls) {
        value_event(
            ev,
            &json!({"index": index, "step": {"id": cid, "signature": "", "type": "function_call",
                    "name": t.name, "arguments": {}}, "event_type": "step.start"}),
        );
        for d in t.args_json.deltas() {
            value_event(
                ev,
                &json!({"index": index, "delta": {"arguments": d, "type": "arguments_delta"},
                        "event_type": "step.delta"}),
            );
        }
        value_event(ev, &json!({"index": index, "event_type": "step.stop"}));
        index += 1;
    }
    value_event(
        ev,
        &json!({"interaction": {"id": id, "status": status(plan), "usage": usage(plan),
                "created": now, "updated": now, "service_tier": "standard",
                "object": "interaction", "model": plan.model},
                "event_type": "interaction.completed"}),
    );
}

/// `{"event_type":"error","error":{code,message,status}}`.
pub(crate) fn stream_error(ev: &mut Events, _plan: &mut Plan, err: &ErrorInfo) {
    let mut v = gemini::error_value(err);
    v["event_type"] = json!("error");
    value_event(ev, &v);
}
