//! Cohere v2 chat: `POST /v2/chat`.
//!
//! When a reply has tool calls, its text travels as the `tool_plan`, as Cohere does.

use serde_json::{Value, json};

use super::{ErrorInfo, Events, push_json, push_num, push_str, to_vec};
use crate::plan::Plan;

fn finish_reason(plan: &Plan) -> String {
    plan.finish_reason
        .clone()
        .unwrap_or_else(|| if plan.tools.is_empty() { "COMPLETE".into() } else { "TOOL_CALL".into() })
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    json!({
        "billed_units": {"input_tokens": u.input.saturating_sub(u.cached), "output_tokens": u.output},
        "tokens": {"input_tokens": u.input, "output_tokens": u.output},
        "cached_tokens": u.cached,
    })
}

fn uuid(plan: &mut Plan) -> String {
    let h = plan.hex(32);
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

fn call_ids(plan: &mut Plan) -> Vec<String> {
    (0..plan.tools.len())
        .map(|i| {
            plan.tools[i].id.clone().unwrap_or_else(|| {
                let suffix = plan.alnum(12).to_lowercase();
                format!("{}_{suffix}", plan.tools[i].name)
            })
        })
        .collect()
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let id = uuid(plan);
    let calls = call_ids(plan);
    let mut message = json!({"role": "assistant"});
    let mut content = Vec::new();
    if let Some(r) = &plan.reasoning {
        content.push(json!({"type": "thinking", "thinking": r.text}));
    }
    if plan.tools.is_empty() {
        content.push(json!({"type": "text", "text": plan.text.text}));
    } else {
        message["tool_plan"] = Value::String(plan.text.text.clone());
        message["tool_calls"] = plan
            .tools
            .iter()
            .zip(&calls)
            .map(|(t, id)| {
                json!({"id": id, "type": "function",
                       "function": {"name": t.name, "arguments": t.args_json.text}})
            })
            .collect();
    }
    if !content.is_empty() {
        message["content"] = Value::Array(content);
    }
    to_vec(&json!({
        "id": id,
        "message": message,
        "finish_reason": finish_reason(plan),
        "usage": usage(plan),
    }))
}

fn content_delta(ev: &mut Events, index: usize, field: &[u8], text: &str) {
    ev.sse(Some("content-delta"), |b| {
        b.extend_from_slice(b"{\"type\":\"content-delta\",\"index\":");
        push_num(b, index as u64);
        b.extend_from_slice(b",\"delta\":{\"message\":{\"content\":{\"");
        b.extend_from_slice(field);
        b.extend_from_slice(b"\":");
        push_str(b, text);
        b.extend_from_slice(b"}}}}");
    });
}

fn value_event(ev: &mut Events, name: &str, v: &Value) {
    ev.sse(Some(name), |b| push_json(b, v));
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events) {
    let id = uuid(plan);
    let calls = call_ids(plan);
    value_event(
        ev,
        "message-start",
        &json!({"id": id, "type": "message-start", "delta": {"message": {
            "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []
        }}}),
    );
    let mut index = 0usize;
    if let Some(r) = &plan.reasoning {
        value_event(
            ev,
            "content-start",
            &json!({"type": "content-start", "index": index,
                    "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}),
        );
        for d in r.deltas() {
            content_delta(ev, index, b"thinking", d);
        }
        value_event(ev, "content-end", &json!({"type": "content-end", "index": index}));
        index += 1;
    }
    if plan.tools.is_empty() {
        value_event(
            ev,
            "content-start",
            &json!({"type": "content-start", "index": index,
                    "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        );
        for d in plan.text.deltas() {
            content_delta(ev, index, b"text", d);
        }
        value_event(ev, "content-end", &json!({"type": "content-end", "index": index}));
    } else {
        for d in plan.text.deltas() {
            ev.sse(Some("tool-plan-delta"), |b| {
                b.extend_from_slice(b"{\"type\":\"tool-plan-delta\",\"delta\":{\"message\":{\"tool_plan\":");
                push_str(b, d);
                b.extend_from_slice(b"}}}");
            });
        }
        for (i, (t, cid)) in plan.tools.iter().zip(&calls).enumerate() {
            value_event(
                ev,
                "tool-call-start",
                &json!({"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls": {
                    "id": cid, "type": "function", "function": {"name": t.name, "arguments": ""}
                }}}}),
            );
            for d in t.args_json.deltas() {
                ev.sse(Some("tool-call-delta"), |b| {
                    b.extend_from_slice(b"{\"type\":\"tool-call-delta\",\"index\":");
                    push_num(b, i as u64);
                    b.extend_from_slice(b",\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":");
                    push_str(b, d);
                    b.extend_from_slice(b"}}}}}");
                });
            }
            value_event(ev, "tool-call-end", &json!({"type": "tool-call-end", "index": i}));
        }
    }
    value_event(
        ev,
        "message-end",
        &json!({"type": "message-end", "delta": {
            "finish_reason": finish_reason(plan), "usage": usage(plan)
        }}),
    );
}

pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&json!({"id": format!("emulator-{}", err.status), "message": err.message}))
}

/// Cohere reports a failed generation as `message-end` with `finish_reason: "ERROR"`.
pub(crate) fn stream_error(ev: &mut Events, err: &ErrorInfo) {
    value_event(
        ev,
        "message-end",
        &json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": err.message}}),
    );
}
