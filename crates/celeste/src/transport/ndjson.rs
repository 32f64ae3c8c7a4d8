//! Temporary stand-in until the framing branch lands (replaced wholesale on merge).
#![allow(missing_docs)]
use crate::error::Result;
use bytes::{Bytes, BytesMut};
pub struct NdjsonDecoder {
    buf: BytesMut,
}
impl NdjsonDecoder {
    pub fn new(_max: usize) -> Self {
        NdjsonDecoder { buf: BytesMut::new() }
    }
    pub fn feed(&mut self, b: Bytes) {
        self.buf.extend_from_slice(&b)
    }
    pub fn next_line(&mut self) -> Result<Option<Bytes>> {
        let Some(p) = self.buf.iter().position(|b| *b == b'\n') else {
            return Ok(None);
        };
        Ok(Some(self.buf.split_to(p + 1).freeze().slice(..p)))
    }
    pub fn finish(&mut self) -> Result<Option<Bytes>> {
        Ok(None)
    }
}
