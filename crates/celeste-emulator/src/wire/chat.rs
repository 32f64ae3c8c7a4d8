//! OpenAI Chat Completions (and the OpenAI-compatible providers): `POST /v1/chat/completions`,
//! `/openai/v1/chat/completions` (Groq), `/chat/completions`.

use serde_json::{Value, json};

use super::{ErrorInfo, Events, openai_error_value, push_json, push_num, push_str, to_vec};
use crate::plan::Plan;

const FINGERPRINT: &str = "fp_emulator";

fn finish_reason(plan: &Plan) -> String {
    plan.finish_reason.clone().unwrap_or_else(
        || {
            if plan.tools.is_empty() { "stop".into() } else { "tool_calls".into() }
        },
    )
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    json!({
        "prompt_tokens": u.input,
        "completion_tokens": u.output,
        "total_tokens": u.total(),
        "prompt_tokens_details": {"cached_tokens": u.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}

fn call_ids(plan: &mut Plan) -> Vec<String> {
    (0..plan.tools.len())
        .map(|i| plan.tools[i].id.clone().unwrap_or_else(|| format!("call_{}", plan.alnum(24))))
        .collect()
}

pub(crate) fn unary(plan: &mut Plan) -> Vec<u8> {
    let id = format!("chatcmpl-{}", plan.alnum(29));
    let calls = call_ids(plan);
    let mut message = json!({
        "role": "assistant",
        "content": if plan.text.is_empty() && !plan.tools.is_empty() {
            Value::Null
        } else {
            Value::String(plan.text.text.clone())
        },
        "refusal": null,
        "annotations": [],
    });
    if let Some(r) = &plan.reasoning {
        message["reasoning_content"] = Value::String(r.text.clone());
    }
    if !plan.tools.is_empty() {
        message["tool_calls"] = plan
            .tools
            .iter()
            .zip(&calls)
            .map(|(t, id)| {
                json!({
                    "id": id,
                    "type": "function",
                    "function": {"name": t.name, "arguments": t.args_json.text},
                })
            })
            .collect();
    }
    to_vec(&json!({
        "id": id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(plan),
        }],
        "usage": usage(plan),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }))
}

pub(crate) fn stream(plan: &mut Plan, ev: &mut Events) {
    let id = format!("chatcmpl-{}", plan.alnum(29));
    let calls = call_ids(plan);
    // Every chunk is `prefix + delta + middle + finish_reason + "}]}"`.
    let mut prefix = Vec::new();
    prefix.extend_from_slice(b"{\"id\":");
    push_str(&mut prefix, &id);
    prefix.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
    push_num(&mut prefix, plan.created);
    prefix.extend_from_slice(b",\"model\":");
    push_str(&mut prefix, &plan.model);
    prefix.extend_from_slice(b",\"system_fingerprint\":");
    push_str(&mut prefix, FINGERPRINT);
    let choice_head: &[u8] = b",\"choices\":[{\"index\":0,\"delta\":";
    let open = |b: &mut Vec<u8>| {
        b.extend_from_slice(&prefix);
        b.extend_from_slice(choice_head);
    };
    let close: &[u8] = b",\"logprobs\":null,\"finish_reason\":null}]}";

    ev.sse(None, |b| {
        open(b);
        b.extend_from_slice(b"{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}");
        b.extend_from_slice(close);
    });
    if let Some(r) = &plan.reasoning {
        for d in r.deltas() {
            ev.sse(None, |b| {
                open(b);
                b.extend_from_slice(b"{\"reasoning_content\":");
                push_str(b, d);
                b.push(b'}');
                b.extend_from_slice(close);
            });
        }
    }
    for d in plan.text.deltas() {
        ev.sse(None, |b| {
            open(b);
            b.extend_from_slice(b"{\"content\":");
            push_str(b, d);
            b.push(b'}');
            b.extend_from_slice(close);
        });
    }
    for (i, t) in plan.tools.iter().enumerate() {
        ev.sse(None, |b| {
            open(b);
            push_json(
                b,
                &json!({"tool_calls": [{
                    "index": i,
                    "id": calls[i],
                    "type": "function",
                    "function": {"name": t.name, "arguments": ""},
                }]}),
            );
            b.extend_from_slice(close);
        });
        for d in t.args_json.deltas() {
            ev.sse(None, |b| {
                open(b);
                b.extend_from_slice(b"{\"tool_calls\":[{\"index\":");
                push_num(b, i as u64);
                b.extend_from_slice(b",\"function\":{\"arguments\":");
                push_str(b, d);
                b.extend_from_slice(b"}}]}");
                b.extend_from_slice(close);
            });
        }
    }
    ev.sse(None, |b| {
        open(b);
        b.extend_from_slice(b"{},\"logprobs\":null,\"finish_reason\":");
        push_str(b, &finish_reason(plan));
        b.extend_from_slice(b"}]}");
    });
    if plan.include_usage {
        ev.sse(None, |b| {
            b.extend_from_slice(&prefix);
            b.extend_from_slice(b",\"choices\":[],\"usage\":");
            push_json(b, &usage(plan));
            b.push(b'}');
        });
    }
    ev.sse(None, |b| b.extend_from_slice(b"[DONE]"));
}

/// `data: {"error":{...}}`, then the stream closes without `[DONE]`.
pub(crate) fn stream_error(ev: &mut Events, err: &ErrorInfo) {
    ev.sse(None, |b| push_json(b, &openai_error_value(err)));
}
