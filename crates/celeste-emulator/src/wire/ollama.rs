//! Ollama: `POST /api/chat` (NDJSON stream; Ollama streams unless `"stream": false`).

use serde_json::{Value, json};

use super::{ErrorInfo, Events, push_json, push_str, rfc3339, to_vec};
use crate::plan::Plan;

fn done_reason(plan: &Plan) -> String {
    plan.finish_reason.clone().unwrap_or_else(|| "stop".into())
}

fn final_fields(plan: &Plan, v: &mut Value) {
    let u = plan.usage;
    v["done"] = json!(true);
    v["done_reason"] = json!(done_reason(plan));
    // Plausible timings in nanoseconds: ~1 ms per token.
    v["total_duration"] = json!((u.input + u.output) * 1_000_000 + 5_000_000);
    v["load_duration"] = json!(2_000_000);
    v["prompt_eval_count"] = json!(u.input);
    v["prompt_eval_duration"] = json!(u.input * 500_000);
    v["eval_count"] = json!(u.output);
    v["eval_duration"] = json!(u.output * 1_000_000);
}

fn tool_calls(plan: &Plan) -> Value {
    plan.tools.iter().map(|t| json!({"function": {"name": t.name, "arguments": t.args}})).collect()
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let mut message = json!({"role": "assistant", "content": plan.text.text});
    if let Some(r) = &plan.reasoning {
        message["thinking"] = json!(r.text);
    }
    if !plan.tools.is_empty() {
        message["tool_calls"] = tool_calls(plan);
    }
    let mut v = json!({
        "model": plan.model,
        "created_at": rfc3339(plan.created),
        "message": message,
    });
    final_fields(plan, &mut v);
    to_vec(&v)
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events) {
    let mut head = Vec::new();
    head.extend_from_slice(b"{\"model\":");
    push_str(&mut head, &plan.model);
    head.extend_from_slice(b",\"created_at\":");
    push_str(&mut head, &rfc3339(plan.created));
    head.extend_from_slice(b",\"message\":{\"role\":\"assistant\",\"content\":");
    if let Some(r) = &plan.reasoning {
        for d in r.deltas() {
            ev.line(|b| {
                b.extend_from_slice(&head);
                b.extend_from_slice(b"\"\",\"thinking\":");
                push_str(b, d);
                b.extend_from_slice(b"},\"done\":false}");
            });
        }
    }
    for d in plan.text.deltas() {
        ev.line(|b| {
            b.extend_from_slice(&head);
            push_str(b, d);
            b.extend_from_slice(b"},\"done\":false}");
        });
    }
    if !plan.tools.is_empty() {
        ev.line(|b| {
            b.extend_from_slice(&head);
            b.extend_from_slice(b"\"\",\"tool_calls\":");
            push_json(b, &tool_calls(plan));
            b.extend_from_slice(b"},\"done\":false}");
        });
    }
    let mut last = json!({
        "model": plan.model,
        "created_at": rfc3339(plan.created),
        "message": {"role": "assistant", "content": ""},
    });
    final_fields(plan, &mut last);
    ev.line(|b| push_json(b, &last));
}

pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&json!({"error": err.message}))
}

/// `{"error": "..."}` as the last line.
pub(crate) fn stream_error(ev: &mut Events, err: &ErrorInfo) {
    ev.line(|b| push_json(b, &json!({"error": err.message})));
}
