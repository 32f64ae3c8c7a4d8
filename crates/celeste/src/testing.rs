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

/// The messages of the `tracing` events emitted while `f` runs on this thread (a minimal subscriber:
/// the library only needs to see its own warnings in tests).
pub(crate) fn capture_events<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata};

    struct Collect(Arc<Mutex<Vec<String>>>);
    struct Text(String);
    impl Visit for Text {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={value:?} ", field.name()));
        }
    }
    impl tracing::Subscriber for Collect {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut text = Text(String::new());
            event.record(&mut text);
            self.0.lock().unwrap().push(text.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = tracing::subscriber::with_default(Collect(seen.clone()), f);
    let events = seen.lock().unwrap().clone();
    (out, events)
}
