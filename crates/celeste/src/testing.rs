//! Helpers shared by unit tests.

use std::collections::VecDeque;
use std::path::PathBuf;

use bytes::Bytes;

use crate::error::Result;
use crate::stream::{Decoder, Frame};
use crate::transport::sse::SseEvent;
use crate::types::output::{Chunk, Output};

/// Feed SSE data payloads to a decoder as a stream would, stopping at the first error, and finish it.
pub(crate) fn decode_all<D, C>(dec: &mut dyn Decoder<D, C>, events: &[Vec<u8>]) -> (Vec<Chunk<D>>, Result<Output<C>>) {
    let mut out = VecDeque::new();
    for data in events {
        let ev = SseEvent { event: None, data: Bytes::from(data.clone()), id: None, retry: None };
        if let Err(e) = dec.on_frame(Frame::Sse(ev), &mut out) {
            return (out.into(), Err(e));
        }
    }
    let res = dec.finish();
    (out.into(), res)
}

/// The third-party recordings folder, when `../shared` is beside the checkout.
pub(crate) fn recorded_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/recorded/vercel-ai");
    dir.is_dir().then_some(dir)
}
