//! OpenAI Responses API bodies the socket tests script their replies from.

use serde_json::json;

/// A completed, non-streamed response whose one message says `text`.
pub fn ok_body(text: &str) -> String {
    json!({
        "id": "resp_1", "model": "gpt-5-mini", "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}],
        "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    })
    .to_string()
}

/// One streamed text delta event.
pub fn delta(text: &str) -> String {
    json!({"type": "response.output_text.delta", "delta": text}).to_string()
}

/// The streamed `response.completed` event that ends a stream.
pub fn completed() -> String {
    json!({"type": "response.completed", "response": {"id": "resp_s", "status": "completed",
        "usage": {"input_tokens": 2, "output_tokens": 2, "total_tokens": 4}}})
    .to_string()
}
