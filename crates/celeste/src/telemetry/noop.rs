//! Telemetry compiled out (`telemetry` feature disabled): the same API, doing nothing.

use reqwest::header::HeaderMap;
use serde::Serialize;

use super::{CallInfo, TelemetryConfig};
use crate::error::Error;
use crate::stream::{End, Observer};
use crate::types::output::{Chunk, Output};

/// The GenAI span of one call; records nothing in this build.
pub(crate) struct CallSpan;

impl CallSpan {
    pub fn start(_config: &TelemetryConfig, _info: &CallInfo) -> Self {
        CallSpan
    }
    pub fn http_attempt(&self, _method: &str, _url: &str, _resend_count: u32) -> HttpSpan {
        HttpSpan
    }
    pub fn end_ok<C: Serialize>(&mut self, _out: &Output<C>) {}
    pub fn embedding_dimensions(&mut self, _count: usize) {}
    pub fn end_err(&mut self, _err: &Error) {}
    pub fn chunk(&mut self, _received: std::time::Instant) {}
    pub fn usage_event(&mut self, _name: &'static str, _usage: &crate::types::usage::Usage) {}
}

impl<D, C: Serialize> Observer<D, C> for CallSpan {
    fn on_chunk(&mut self, _chunk: &Chunk<D>, _received: std::time::Instant) {}
    fn on_end(&mut self, _end: End<'_, C>) {}
}

/// The span of one HTTP attempt; records nothing in this build.
pub(crate) struct HttpSpan;

impl HttpSpan {
    pub fn inject(&self, _headers: &mut HeaderMap) {}
    pub fn status(&mut self, _status: u16) {}
    pub fn error(&mut self, _err: &Error) {}
}

impl crate::transport::AttemptObserver for CallSpan {
    type Attempt = HttpSpan;
    fn attempt(&self, method: &str, url: &str, resend_count: u32) -> HttpSpan {
        self.http_attempt(method, url, resend_count)
    }
}

impl crate::transport::Attempt for HttpSpan {
    fn inject(&self, headers: &mut HeaderMap) {
        HttpSpan::inject(self, headers);
    }
    fn status(&mut self, status: u16) {
        HttpSpan::status(self, status);
    }
    fn error(&mut self, err: &Error) {
        HttpSpan::error(self, err);
    }
}
