//! OpenAI Responses API: `POST /v1/responses`.

use serde_json::{Value, json};

use super::{ErrorInfo, Events, openai_kind, push_json, push_num, push_str, to_vec};
use crate::plan::Plan;

struct Ids {
    resp: String,
    reasoning: String,
    message: String,
    /// (item id, call id) per tool call.
    calls: Vec<(String, String)>,
}

fn ids(plan: &mut Plan) -> Ids {
    let resp = format!("resp_{}", plan.hex(48));
    let reasoning = format!("rs_{}", plan.hex(48));
    let message = format!("msg_{}", plan.hex(48));
    let calls = (0..plan.tools.len())
        .map(|i| {
            let item = format!("fc_{}", plan.hex(48));
            let call = plan.tools[i].id.clone().unwrap_or_else(|| format!("call_{}", plan.alnum(24)));
            (item, call)
        })
        .collect();
    Ids { resp, reasoning, message, calls }
}

fn has_message(plan: &Plan) -> bool {
    !plan.text.is_empty() || plan.tools.is_empty()
}

fn reasoning_item(plan: &Plan, ids: &Ids) -> Option<Value> {
    plan.reasoning.as_ref().map(|r| {
        json!({
            "id": ids.reasoning,
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": r.text}],
        })
    })
}

fn message_item(plan: &Plan, ids: &Ids, status: &str) -> Value {
    json!({
        "id": ids.message,
        "type": "message",
        "status": status,
        "content": [{
            "type": "output_text",
            "annotations": [],
            "logprobs": [],
            "text": plan.text.text,
        }],
        "role": "assistant",
    })
}

fn call_item(plan: &Plan, ids: &Ids, i: usize, status: &str, complete: bool) -> Value {
    json!({
        "id": ids.calls[i].0,
        "type": "function_call",
        "status": status,
        "arguments": if complete { plan.tools[i].args_json.text.as_str() } else { "" },
        "call_id": ids.calls[i].1,
        "name": plan.tools[i].name,
    })
}

fn output(plan: &Plan, ids: &Ids) -> Vec<Value> {
    let mut out = Vec::new();
    out.extend(reasoning_item(plan, ids));
    if has_message(plan) {
        out.push(message_item(plan, ids, "completed"));
    }
    for i in 0..plan.tools.len() {
        out.push(call_item(plan, ids, i, "completed", true));
    }
    out
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    json!({
        "input_tokens": u.input,
        "input_tokens_details": {"cached_tokens": u.cached},
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.total(),
    })
}

/// `completed`, or `incomplete` with a reason when the reply overrides the finish reason.
fn final_status(plan: &Plan) -> (&'static str, Value) {
    match plan.finish_reason.as_deref() {
        None | Some("completed") | Some("stop") => ("completed", Value::Null),
        Some(reason) => ("incomplete", json!({"reason": reason})),
    }
}

fn response(plan: &Plan, ids: &Ids, status: &str, details: Value, out: Vec<Value>) -> Value {
    let done = status != "in_progress";
    json!({
        "id": ids.resp,
        "object": "response",
        "created_at": plan.created,
        "status": status,
        "background": false,
        "error": null,
        "incomplete_details": details,
        "instructions": null,
        "max_output_tokens": null,
        "model": plan.model,
        "output": out,
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": true,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": if done { usage(plan) } else { Value::Null },
        "user": null,
        "metadata": {},
    })
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let ids = ids(plan);
    let (status, details) = final_status(plan);
    let out = output(plan, &ids);
    to_vec(&response(plan, &ids, status, details, out))
}

/// Writes `{"type":T,"sequence_number":N` — the caller continues the object.
fn head(b: &mut Vec<u8>, kind: &str, seq: u64) {
    b.extend_from_slice(b"{\"type\":\"");
    b.extend_from_slice(kind.as_bytes());
    b.extend_from_slice(b"\",\"sequence_number\":");
    push_num(b, seq);
}

fn event_value(ev: &mut Events, seq: &mut u64, kind: &str, fields: Value) {
    ev.sse(Some(kind), |b| {
        head(b, kind, *seq);
        if let Value::Object(map) = fields {
            for (k, v) in map {
                b.push(b',');
                push_str(b, &k);
                b.push(b':');
                push_json(b, &v);
            }
        }
        b.push(b'}');
    });
    *seq += 1;
}

/// A delta event: `{"type","sequence_number","item_id","output_index",<extra>,"delta"}`.
fn delta_event(ev: &mut Events, seq: &mut u64, kind: &str, item_ref: &[u8], delta: &str, tail: &[u8]) {
    ev.sse(Some(kind), |b| {
        head(b, kind, *seq);
        b.extend_from_slice(item_ref);
        b.extend_from_slice(b",\"delta\":");
        push_str(b, delta);
        b.extend_from_slice(tail);
    });
    *seq += 1;
}

fn item_ref(item_id: &str, output_index: usize, extra: &str) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(b",\"item_id\":");
    push_str(&mut r, item_id);
    r.extend_from_slice(b",\"output_index\":");
    push_num(&mut r, output_index as u64);
    r.extend_from_slice(extra.as_bytes());
    r
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events) {
    let ids = ids(plan);
    let mut seq = 0u64;
    let start = response(plan, &ids, "in_progress", Value::Null, Vec::new());
    event_value(ev, &mut seq, "response.created", json!({"response": start.clone()}));
    event_value(ev, &mut seq, "response.in_progress", json!({"response": start}));

    let mut index = 0usize;
    if let Some(r) = &plan.reasoning {
        event_value(
            ev,
            &mut seq,
            "response.output_item.added",
            json!({"output_index": index, "item": {"id": ids.reasoning, "type": "reasoning", "summary": []}}),
        );
        event_value(
            ev,
            &mut seq,
            "response.reasoning_summary_part.added",
            json!({"item_id": ids.reasoning, "output_index": index, "summary_index": 0,
                   "part": {"type": "summary_text", "text": ""}}),
        );
        let r_ref = item_ref(&ids.reasoning, index, ",\"summary_index\":0");
        for d in r.deltas() {
            delta_event(ev, &mut seq, "response.reasoning_summary_text.delta", &r_ref, d, b"}");
        }
        event_value(
            ev,
            &mut seq,
            "response.reasoning_summary_text.done",
            json!({"item_id": ids.reasoning, "output_index": index, "summary_index": 0, "text": r.text}),
        );
        event_value(
            ev,
            &mut seq,
            "response.reasoning_summary_part.done",
            json!({"item_id": ids.reasoning, "output_index": index, "summary_index": 0,
                   "part": {"type": "summary_text", "text": r.text}}),
        );
        event_value(
            ev,
            &mut seq,
            "response.output_item.done",
            json!({"output_index": index, "item": reasoning_item(plan, &ids)}),
        );
        index += 1;
    }

    if has_message(plan) {
        event_value(
            ev,
            &mut seq,
            "response.output_item.added",
            json!({"output_index": index, "item": {"id": ids.message, "type": "message",
                   "status": "in_progress", "content": [], "role": "assistant"}}),
        );
        event_value(
            ev,
            &mut seq,
            "response.content_part.added",
            json!({"item_id": ids.message, "output_index": index, "content_index": 0,
                   "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}}),
        );
        let m_ref = item_ref(&ids.message, index, ",\"content_index\":0");
        for d in plan.text.deltas() {
            delta_event(ev, &mut seq, "response.output_text.delta", &m_ref, d, b",\"logprobs\":[]}");
        }
        event_value(
            ev,
            &mut seq,
            "response.output_text.done",
            json!({"item_id": ids.message, "output_index": index, "content_index": 0,
                   "text": plan.text.text, "logprobs": []}),
        );
        event_value(
            ev,
            &mut seq,
            "response.content_part.done",
            json!({"item_id": ids.message, "output_index": index, "content_index": 0,
                   "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": plan.text.text}}),
        );
        event_value(
            ev,
            &mut seq,
            "response.output_item.done",
            json!({"output_index": index, "item": message_item(plan, &ids, "completed")}),
        );
        index += 1;
    }

    for i in 0..plan.tools.len() {
        event_value(
            ev,
            &mut seq,
            "response.output_item.added",
            json!({"output_index": index, "item": call_item(plan, &ids, i, "in_progress", false)}),
        );
        let c_ref = item_ref(&ids.calls[i].0, index, "");
        for d in plan.tools[i].args_json.deltas() {
            delta_event(ev, &mut seq, "response.function_call_arguments.delta", &c_ref, d, b"}");
        }
        event_value(
            ev,
            &mut seq,
            "response.function_call_arguments.done",
            json!({"item_id": ids.calls[i].0, "output_index": index,
                   "arguments": plan.tools[i].args_json.text}),
        );
        event_value(
            ev,
            &mut seq,
            "response.output_item.done",
            json!({"output_index": index, "item": call_item(plan, &ids, i, "completed", true)}),
        );
        index += 1;
    }

    let (status, details) = final_status(plan);
    let terminal = if status == "completed" { "response.completed" } else { "response.incomplete" };
    let out = output(plan, &ids);
    let full = response(plan, &ids, status, details, out);
    event_value(ev, &mut seq, terminal, json!({"response": full}));
}

/// `{"type":"error","sequence_number","code","message","param"}`, then the stream closes.
pub(crate) fn stream_error(ev: &mut Events, after_events: usize, err: &ErrorInfo) {
    let (_, code) = openai_kind(err.status);
    let code = err.code.as_deref().or(code).unwrap_or("server_error");
    let mut seq = after_events as u64;
    event_value(ev, &mut seq, "error", json!({"code": code, "message": err.message, "param": null}));
}
