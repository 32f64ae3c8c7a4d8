//! The floor: the least work any client must do for these scenarios, written by hand on the same
//! reqwest as celeste-ai.
//!
//! It sends the same request body celeste-ai sends, and then does only what cannot be avoided:
//! SSE framing (a memchr-based splitter that never rescans bytes it has already searched and
//! copies only the tail of a read that ends inside an event) and one typed serde decode per event
//! into a small struct that borrows the text delta from the buffer when it has no escapes. A unary
//! call is one typed decode of the body.
//!
//! Simplifications that a real client could not make, all in the floor's favour: only `\n\n`
//! ends an event (the emulator never sends `\r`), and each `data:` line is handed over on its own
//! (the emulator sends one per event).

use std::borrow::Cow;

use futures::StreamExt;
use memchr::memmem;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::{API_KEY, Api, BenchClient, BenchError, Counted, PROMPT, TaskProbe};

/// Splits a byte stream into SSE events and hands out their `data:` payloads.
#[derive(Debug)]
pub struct SseSplitter {
    /// The start of an event whose end has not arrived yet.
    carry: Vec<u8>,
    finder: memmem::Finder<'static>,
}

impl Default for SseSplitter {
    fn default() -> Self {
        SseSplitter { carry: Vec::new(), finder: memmem::Finder::new(b"\n\n") }
    }
}

impl SseSplitter {
    /// Feeds one network read; calls `on_data` with the `data:` payload of every event it
    /// completes, in order.
    pub fn feed<E>(&mut self, chunk: &[u8], on_data: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            // Only the new bytes (and the carried last byte, for a delimiter split across reads)
            // are searched.
            let old = self.carry.len();
            let from = old - 1;
            self.carry.extend_from_slice(chunk);
            let Some(i) = self.finder.find(&self.carry[from..]) else {
                return Ok(());
            };
            let end = from + i;
            data_lines(&self.carry[..end], on_data)?;
            rest = &chunk[end + 2 - old..];
            self.carry.clear();
        }
        let mut pos = 0;
        while let Some(i) = self.finder.find(&rest[pos..]) {
            data_lines(&rest[pos..pos + i], on_data)?;
            pos += i + 2;
        }
        self.carry.extend_from_slice(&rest[pos..]);
        Ok(())
    }
}

/// Hands out each `data:` line of one event (one optional space after the colon is removed). Lines
/// are found with memchr, so a multi-megabyte line costs a vectorized scan, not a byte loop.
fn data_lines<E>(event: &[u8], on_data: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
    let mut start = 0;
    while start < event.len() {
        let end = memchr::memchr(b'\n', &event[start..]).map_or(event.len(), |i| start + i);
        if let Some(data) = event[start..end].strip_prefix(b"data:") {
            on_data(data.strip_prefix(b" ").unwrap_or(data))?;
        }
        start = end + 1;
    }
    Ok(())
}

// ---- Request bodies (the same JSON celeste-ai sends) ----

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [Message<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: [Message<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

// ---- Response shapes: only what carries the text ----

#[derive(Deserialize)]
struct ChatResponse<'a> {
    #[serde(borrow)]
    choices: Vec<ChatChoice<'a>>,
}

#[derive(Deserialize)]
struct ChatChoice<'a> {
    #[serde(borrow)]
    message: TextField<'a>,
}

#[derive(Deserialize)]
struct TextField<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    content: Option<Cow<'a, str>>,
}

/// A JSON string borrowed from the input when it has no escapes. serde borrows a `Cow<str>` field
/// only when the field's type is exactly `Cow<str>`; inside an `Option` it would allocate, so the
/// `Cow` is wrapped in a newtype here.
fn borrowed_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

#[derive(Deserialize)]
struct ChatChunk<'a> {
    #[serde(borrow)]
    choices: Vec<ChunkChoice<'a>>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(borrow)]
    delta: TextField<'a>,
}

#[derive(Deserialize)]
struct MessagesResponse<'a> {
    #[serde(borrow)]
    content: Vec<MessagesBlock<'a>>,
}

#[derive(Deserialize)]
struct MessagesBlock<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct MessagesEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    delta: Option<MessagesDelta<'a>>,
}

#[derive(Deserialize)]
struct MessagesDelta<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    text: Option<Cow<'a, str>>,
}

/// The floor client.
#[derive(Debug, Clone)]
pub struct Floor {
    http: reqwest::Client,
    chat_url: String,
    messages_url: String,
}

impl Floor {
    /// A floor client for the emulator at `url` (`http://127.0.0.1:PORT`).
    pub fn new(url: &str) -> Result<Floor, BenchError> {
        let http = reqwest::Client::builder().build().map_err(BenchError::failed)?;
        Ok(Floor { http, chat_url: format!("{url}/v1/chat/completions"), messages_url: format!("{url}/v1/messages") })
    }

    async fn send(&self, api: Api, model: &str, stream: bool) -> Result<reqwest::Response, BenchError> {
        let json = HeaderValue::from_static("application/json");
        let req = match api {
            Api::Chat => {
                let payload = ChatRequest {
                    model,
                    messages: [Message { role: "user", content: PROMPT }],
                    stream: stream.then_some(true),
                    stream_options: stream.then_some(StreamOptions { include_usage: true }),
                };
                let body = serde_json::to_vec(&payload).map_err(BenchError::failed)?;
                self.http
                    .post(&self.chat_url)
                    .header(AUTHORIZATION, HeaderValue::from_static("Bearer k"))
                    .header(CONTENT_TYPE, json)
                    .body(body)
            }
            Api::Messages => {
                let payload = MessagesRequest {
                    model,
                    max_tokens: 1024,
                    messages: [Message { role: "user", content: PROMPT }],
                    stream: stream.then_some(true),
                };
                let body = serde_json::to_vec(&payload).map_err(BenchError::failed)?;
                self.http
                    .post(&self.messages_url)
                    .header("x-api-key", HeaderValue::from_static(API_KEY))
                    .header("anthropic-version", HeaderValue::from_static("2023-06-01"))
                    .header(CONTENT_TYPE, json)
                    .body(body)
            }
        };
        let resp = req.send().await.map_err(BenchError::failed)?;
        if !resp.status().is_success() {
            return Err(BenchError::Failed(format!("HTTP {}", resp.status())));
        }
        Ok(resp)
    }
}

impl BenchClient for Floor {
    async fn unary(&self, api: Api, model: &str) -> Result<Counted, BenchError> {
        let body = self.send(api, model, false).await?.bytes().await.map_err(BenchError::failed)?;
        let mut got = Counted::default();
        match api {
            Api::Chat => {
                let r: ChatResponse<'_> = serde_json::from_slice(&body).map_err(BenchError::failed)?;
                if let Some(text) = r.choices.first().and_then(|c| c.message.content.as_deref()) {
                    got.add(text);
                }
            }
            Api::Messages => {
                let r: MessagesResponse<'_> = serde_json::from_slice(&body).map_err(BenchError::failed)?;
                for text in r.content.iter().filter_map(|b| b.text.as_deref()) {
                    got.add(text);
                }
            }
        }
        Ok(got)
    }

    async fn stream(&self, api: Api, model: &str, probe: &TaskProbe) -> Result<Counted, BenchError> {
        let mut body = self.send(api, model, true).await?.bytes_stream();
        let mut sse = SseSplitter::default();
        let mut got = Counted::default();
        let mut done = false;
        let mut on_data = |data: &[u8]| -> Result<(), BenchError> {
            let before = got.chunks;
            match api {
                Api::Chat => {
                    if data == b"[DONE]" {
                        done = true;
                        return Ok(());
                    }
                    let c: ChatChunk<'_> = serde_json::from_slice(data).map_err(BenchError::failed)?;
                    if let Some(text) = c.choices.first().and_then(|c| c.delta.content.as_deref()) {
                        got.add(text);
                    }
                }
                Api::Messages => {
                    let e: MessagesEvent<'_> = serde_json::from_slice(data).map_err(BenchError::failed)?;
                    match e.kind {
                        "content_block_delta" => {
                            if let Some(text) = e.delta.as_ref().and_then(|d| d.text.as_deref()) {
                                got.add(text);
                            }
                        }
                        "message_stop" => done = true,
                        "error" => return Err(BenchError::Failed("error event".into())),
                        _ => {}
                    }
                }
            }
            if before == 0 && got.chunks == 1 {
                probe.first_chunk();
            }
            Ok(())
        };
        // Read to the end of the body (not just the terminal event) so the connection goes back to
        // the pool, as every other client's does.
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BenchError::failed)?;
            sse.feed(&chunk, &mut on_data)?;
        }
        if !done {
            return Err(BenchError::Failed("stream ended without its terminal event".into()));
        }
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(reads: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut sse = SseSplitter::default();
        let mut out = Vec::new();
        for r in reads {
            sse.feed(r, &mut |d: &[u8]| -> Result<(), ()> {
                out.push(d.to_vec());
                Ok(())
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn text_is_borrowed_unless_escaped() {
        let c: ChatChunk<'_> = serde_json::from_slice(br#"{"choices":[{"delta":{"content":"abc"}}]}"#).unwrap();
        assert!(matches!(c.choices[0].delta.content, Some(Cow::Borrowed("abc"))));
        let c: ChatChunk<'_> = serde_json::from_slice(br#"{"choices":[{"delta":{"content":"a\nb"}}]}"#).unwrap();
        assert!(matches!(c.choices[0].delta.content.as_deref(), Some("a\nb")));
        let c: ChatChunk<'_> = serde_json::from_slice(br#"{"choices":[{"delta":{"content":null}}]}"#).unwrap();
        assert!(c.choices[0].delta.content.is_none());
        let c: ChatChunk<'_> = serde_json::from_slice(br#"{"choices":[{"delta":{}}]}"#).unwrap();
        assert!(c.choices[0].delta.content.is_none());
    }

    #[test]
    fn splits_events_across_any_read_boundary() {
        let body: &[u8] = b"data: {\"a\":1}\n\nevent: x\ndata: two\n\ndata:[DONE]\n\n";
        let want: Vec<Vec<u8>> = vec![b"{\"a\":1}".to_vec(), b"two".to_vec(), b"[DONE]".to_vec()];
        assert_eq!(split(&[body]), want);
        for cut in 0..=body.len() {
            assert_eq!(split(&[&body[..cut], &body[cut..]]), want, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(split(&bytes), want);
    }
}
