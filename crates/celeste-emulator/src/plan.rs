//! A [`Reply`] resolved against one request: the exact deltas, ids and token counts that every
//! wire API renders from.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::config::{DEFAULT_TEXT, Reply};

/// What the request asked for, as far as rendering cares.
#[derive(Debug, Default, Clone)]
pub(crate) struct RequestFacts {
    pub model: Option<String>,
    pub body_len: usize,
    pub include_usage: bool,
}

/// Text cut into deltas: `ends[i]` is the byte offset where delta `i` ends.
#[derive(Debug, Default)]
pub(crate) struct Cut {
    pub text: String,
    pub ends: Vec<usize>,
}

impl Cut {
    pub fn deltas(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let s = &self.text[start..end];
            start = end;
            s
        })
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

#[derive(Debug)]
pub(crate) struct ToolPlan {
    /// The call id from the reply, if any (each API generates its own style otherwise).
    pub id: Option<String>,
    pub name: String,
    pub args: Value,
    /// The arguments as a compact JSON string, cut into deltas.
    pub args_json: Cut,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Tokens {
    pub input: u64,
    pub output: u64,
    pub reasoning: u64,
    pub cached: u64,
}

impl Tokens {
    pub fn total(&self) -> u64 {
        self.input + self.output
    }
}

/// An image part of an answer (Gemini `inlineData`, Interactions `image` content).
#[derive(Debug, Clone)]
pub(crate) struct PlanImage {
    pub mime: &'static str,
    /// The encoded image, base64.
    pub data: String,
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub model: String,
    pub text: Cut,
    pub reasoning: Option<Cut>,
    pub tools: Vec<ToolPlan>,
    /// Generated images, after the text (APIs that answer images as content parts).
    pub images: Vec<PlanImage>,
    pub usage: Tokens,
    pub finish_reason: Option<String>,
    pub include_usage: bool,
    pub created: u64,
    ids: IdGen,
}

impl Plan {
    pub fn with_event_bytes(
        reply: &Reply,
        facts: &RequestFacts,
        default_model: &str,
        event_bytes: Option<usize>,
    ) -> Plan {
        let chunk = reply.chunk_size.max(1);
        let text = if let Some(bytes) = event_bytes {
            let source = if reply.text.is_empty() { DEFAULT_TEXT } else { &reply.text };
            let text = fill_bytes(source, bytes);
            let ends = if text.is_empty() { Vec::new() } else { vec![text.len()] };
            Cut { text, ends }
        } else if let Some(n) = reply.chunks {
            let source = if reply.text.is_empty() { DEFAULT_TEXT } else { &reply.text };
            cycle_chunks(source, n, chunk)
        } else {
            cut(reply.text.clone(), chunk)
        };
        let reasoning = reply.reasoning.as_ref().map(|r| cut(r.clone(), chunk));
        let tools: Vec<ToolPlan> = reply
            .tool_calls
            .iter()
            .map(|t| ToolPlan {
                id: t.id.clone(),
                name: t.name.clone(),
                args: t.arguments.clone(),
                args_json: cut(t.arguments.to_string(), chunk),
            })
            .collect();

        let est = |bytes: usize| (bytes as u64).div_ceil(4);
        let reasoning_tokens = reply
            .usage
            .reasoning_tokens
            .unwrap_or_else(|| reasoning.as_ref().map_or(0, |r| est(r.text.len()).max(u64::from(!r.is_empty()))));
        let tool_tokens: u64 = tools.iter().map(|t| est(t.args_json.text.len()) + 3).sum();
        let output =
            reply.usage.output_tokens.unwrap_or_else(|| (est(text.text.len()) + tool_tokens + reasoning_tokens).max(1));
        let input = reply.usage.input_tokens.unwrap_or_else(|| est(facts.body_len).max(1));
        let usage =
            Tokens { input, output, reasoning: reasoning_tokens, cached: reply.usage.cached_tokens.unwrap_or(0) };

        Plan {
            model: facts.model.clone().unwrap_or_else(|| default_model.to_string()),
            text,
            reasoning,
            tools,
            images: Vec::new(),
            usage,
            finish_reason: reply.finish_reason.clone(),
            include_usage: facts.include_usage,
            created: unix_now(),
            ids: IdGen::new(),
        }
    }

    /// A fresh lowercase hex id fragment of `len` characters.
    pub fn hex(&mut self, len: usize) -> String {
        self.ids.hex(len)
    }

    /// A fresh alphanumeric id fragment of `len` characters.
    pub fn alnum(&mut self, len: usize) -> String {
        self.ids.alnum(len)
    }
}

/// Cuts `text` into deltas of `chunk` characters.
pub(crate) fn cut(text: String, chunk: usize) -> Cut {
    let mut ends = Vec::with_capacity(text.len() / chunk + 1);
    let mut count = 0;
    for (i, c) in text.char_indices() {
        count += 1;
        if count == chunk {
            ends.push(i + c.len_utf8());
            count = 0;
        }
    }
    if count > 0 {
        ends.push(text.len());
    }
    Cut { text, ends }
}

/// Exactly `n` deltas of `chunk` characters, taken cyclically from `source`.
fn cycle_chunks(source: &str, n: usize, chunk: usize) -> Cut {
    let mut text = String::with_capacity(n * chunk);
    let mut ends = Vec::with_capacity(n);
    let mut chars = source.chars().cycle();
    for _ in 0..n {
        for _ in 0..chunk {
            text.push(chars.next().unwrap_or(' '));
        }
        ends.push(text.len());
    }
    Cut { text, ends }
}

/// `source` repeated or cut to exactly `bytes` bytes (padding with spaces at a char boundary).
fn fill_bytes(source: &str, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes);
    if source.is_empty() {
        text.extend(std::iter::repeat_n(' ', bytes));
        return text;
    }
    while text.len() < bytes {
        let room = bytes - text.len();
        if source.len() <= room {
            text.push_str(source);
        } else {
            let mut end = room;
            while !source.is_char_boundary(end) {
                end -= 1;
            }
            text.push_str(&source[..end]);
            text.extend(std::iter::repeat_n(' ', room - end));
        }
    }
    text
}

/// A fresh lowercase hex id of `len` characters, outside any plan.
pub(crate) fn fresh_hex(len: usize) -> String {
    IdGen::new().hex(len)
}

/// A fresh random-looking UUID (version 4 layout), the id style of BFL and Topaz jobs.
pub(crate) fn fresh_uuid() -> String {
    let h = IdGen::new().hex(32);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Deterministic-enough unique ids without a random number crate: splitmix64 over a global
/// counter seeded from the clock.
#[derive(Debug)]
struct IdGen {
    state: u64,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl IdGen {
    fn new() -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        IdGen { state: nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&mut self, alphabet: &[u8], len: usize) -> String {
        let mut s = String::with_capacity(len);
        let mut bits = 0u64;
        let mut left = 0;
        for _ in 0..len {
            if left == 0 {
                bits = self.next();
                left = 8;
            }
            s.push(alphabet[(bits & 0xff) as usize % alphabet.len()] as char);
            bits >>= 8;
            left -= 1;
        }
        s
    }

    fn hex(&mut self, len: usize) -> String {
        self.pick(b"0123456789abcdef", len)
    }

    fn alnum(&mut self, len: usize) -> String {
        self.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_by_chars() {
        let c = cut("héllo wörld".to_string(), 4);
        assert_eq!(c.deltas().collect::<Vec<_>>(), ["héll", "o wö", "rld"]);
    }

    #[test]
    fn exact_chunk_count() {
        let c = cycle_chunks("abc", 5, 2);
        assert_eq!(c.deltas().collect::<Vec<_>>(), ["ab", "ca", "bc", "ab", "ca"]);
    }

    #[test]
    fn exact_bytes() {
        assert_eq!(fill_bytes("añb", 7), "añbañ");
        assert_eq!(fill_bytes("añb", 6), "añba ");
        assert_eq!(fill_bytes("", 3), "   ");
    }
}
