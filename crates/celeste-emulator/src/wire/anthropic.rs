//! Anthropic Messages: `POST /v1/messages`.

use serde_json::{Value, json};

use super::{ErrorInfo, Events, push_json, push_num, push_str, to_vec};
use crate::plan::Plan;

fn stop_reason(plan: &Plan) -> String {
    plan.finish_reason.clone().unwrap_or_else(
        || {
            if plan.tools.is_empty() { "end_turn".into() } else { "tool_use".into() }
        },
    )
}

fn usage(plan: &Plan, output: u64) -> Value {
    let u = plan.usage;
    json!({
        "input_tokens": u.input.saturating_sub(u.cached),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output,
        "service_tier": "standard",
    })
}

fn signature(plan: &mut Plan) -> String {
    // Looks like the real opaque base64 signatures; nothing checks it.
    let mut s = String::from("Eu");
    s.push_str(&plan.alnum(94));
    s.push_str("==");
    s
}

fn tool_ids(plan: &mut Plan) -> Vec<String> {
    (0..plan.tools.len())
        .map(|i| plan.tools[i].id.clone().unwrap_or_else(|| format!("toolu_01{}", plan.alnum(22))))
        .collect()
}

fn has_text(plan: &Plan) -> bool {
    !plan.text.is_empty() || plan.tools.is_empty()
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let id = format!("msg_01{}", plan.alnum(22));
    let sig = plan.reasoning.is_some().then(|| signature(plan));
    let tools = tool_ids(plan);
    let mut content = Vec::new();
    if let (Some(r), Some(sig)) = (&plan.reasoning, &sig) {
        content.push(json!({"type": "thinking", "thinking": r.text, "signature": sig}));
    }
    if has_text(plan) {
        content.push(json!({"type": "text", "text": plan.text.text}));
    }
    for (t, id) in plan.tools.iter().zip(&tools) {
        content.push(json!({"type": "tool_use", "id": id, "name": t.name, "input": t.args}));
    }
    to_vec(&json!({
        "model": plan.model,
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": stop_reason(plan),
        "stop_sequence": null,
        "usage": usage(plan, plan.usage.output),
    }))
}

fn delta_event(ev: &mut Events, index: usize, kind: &[u8], field: &[u8], text: &str) {
    ev.sse(Some("content_block_delta"), |b| {
        b.extend_from_slice(b"{\"type\":\"content_block_delta\",\"index\":");
        push_num(b, index as u64);
        b.extend_from_slice(b",\"delta\":{\"type\":\"");
        b.extend_from_slice(kind);
        b.extend_from_slice(b"\",\"");
        b.extend_from_slice(field);
        b.extend_from_slice(b"\":");
        push_str(b, text);
        b.extend_from_slice(b"}}");
    });
}

fn value_event(ev: &mut Events, name: &str, v: &Value) {
    ev.sse(Some(name), |b| push_json(b, v));
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events) {
    let id = format!("msg_01{}", plan.alnum(22));
    let sig = plan.reasoning.is_some().then(|| signature(plan));
    let tools = tool_ids(plan);
    value_event(
        ev,
        "message_start",
        &json!({"type": "message_start", "message": {
            "model": plan.model,
            "id": id,
            "type": "message",
            "role": "assistant",
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": usage(plan, 1),
        }}),
    );
    let mut index = 0usize;
    let mut pinged = false;
    let mut ping = |ev: &mut Events| {
        if !pinged {
            ev.sse(Some("ping"), |b| b.extend_from_slice(b"{\"type\":\"ping\"}"));
            pinged = true;
        }
    };
    if let (Some(r), Some(sig)) = (&plan.reasoning, &sig) {
        value_event(
            ev,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        );
        ping(ev);
        for d in r.deltas() {
            delta_event(ev, index, b"thinking_delta", b"thinking", d);
        }
        delta_event(ev, index, b"signature_delta", b"signature", sig);
        value_event(ev, "content_block_stop", &json!({"type": "content_block_stop", "index": index}));
        index += 1;
    }
    if has_text(plan) {
        value_event(
            ev,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": ""}}),
        );
        ping(ev);
        for d in plan.text.deltas() {
            delta_event(ev, index, b"text_delta", b"text", d);
        }
        value_event(ev, "content_block_stop", &json!({"type": "content_block_stop", "index": index}));
        index += 1;
    }
    for (t, tid) in plan.tools.iter().zip(&tools) {
        value_event(
            ev,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": tid, "name": t.name, "input": {}}}),
        );
        ping(ev);
        // The real API opens with an empty fragment.
        delta_event(ev, index, b"input_json_delta", b"partial_json", "");
        for d in t.args_json.deltas() {
            delta_event(ev, index, b"input_json_delta", b"partial_json", d);
        }
        value_event(ev, "content_block_stop", &json!({"type": "content_block_stop", "index": index}));
        index += 1;
    }
    value_event(
        ev,
        "message_delta",
        &json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason(plan), "stop_sequence": null},
        "usage": {
            "input_tokens": plan.usage.input.saturating_sub(plan.usage.cached),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": plan.usage.cached,
            "output_tokens": plan.usage.output,
        }}),
    );
    ev.sse(Some("message_stop"), |b| b.extend_from_slice(b"{\"type\":\"message_stop\"}"));
}

/// Anthropic's error `type` for a status.
fn kind(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

fn error_value(err: &ErrorInfo, stream: bool) -> Value {
    let default_kind = if stream && err.status >= 500 { "overloaded_error" } else { kind(err.status) };
    json!({
        "type": "error",
        "error": {
            "type": err.kind.as_deref().unwrap_or(default_kind),
            "message": err.message,
        },
    })
}

pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    let mut v = error_value(err, false);
    v["request_id"] = Value::String(format!("req_emulator_{}", err.status));
    to_vec(&v)
}

/// `event: error` with `{"type":"error","error":{"type":"overloaded_error",...}}`.
pub(crate) fn stream_error(ev: &mut Events, err: &ErrorInfo) {
    value_event(ev, "error", &error_value(err, true));
}
