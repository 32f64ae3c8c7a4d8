//! Temporary stand-in until the framing branch lands (replaced wholesale on merge).
#![allow(missing_docs)]
use crate::error::{Error, Result};
use bytes::{Bytes, BytesMut};
pub struct SseEvent {
    pub event: Option<String>,
    pub data: Bytes,
    pub id: Option<String>,
    pub retry: Option<u64>,
}
impl SseEvent {
    pub fn is_done(&self) -> bool {
        &self.data[..] == b"[DONE]"
    }
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}
pub struct SseDecoder {
    buf: BytesMut,
    max: usize,
}
impl SseDecoder {
    pub const DEFAULT_MAX_EVENT_SIZE: usize = 64 * 1024 * 1024;
    pub fn new(max: usize) -> Self {
        SseDecoder { buf: BytesMut::new(), max }
    }
    pub fn feed(&mut self, b: Bytes) {
        self.buf.extend_from_slice(&b)
    }
    pub fn next_event(&mut self) -> Result<Option<SseEvent>> {
        loop {
            let Some(pos) = self.buf.windows(2).position(|w| w == b"\n\n") else {
                if self.buf.len() > self.max {
                    return Err(Error::EventTooLarge { limit: self.max });
                }
                return Ok(None);
            };
            if pos > self.max {
                return Err(Error::EventTooLarge { limit: self.max });
            }
            let block = self.buf.split_to(pos + 2);
            let mut ev = SseEvent { event: None, data: Bytes::new(), id: None, retry: None };
            let mut data = Vec::new();
            let mut has = false;
            for line in block[..].split(|b: &u8| *b == b'\n') {
                if let Some(d) = line.strip_prefix(b"data:") {
                    if has {
                        data.push(b'\n');
                    }
                    has = true;
                    data.extend_from_slice(d.strip_prefix(b" ").unwrap_or(d));
                } else if let Some(e) = line.strip_prefix(b"event:") {
                    ev.event = Some(String::from_utf8_lossy(e).trim().to_string());
                }
            }
            if has {
                ev.data = Bytes::from(data);
                return Ok(Some(ev));
            }
        }
    }
    pub fn finish(&mut self) -> Result<Option<SseEvent>> {
        Ok(None)
    }
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }
}
