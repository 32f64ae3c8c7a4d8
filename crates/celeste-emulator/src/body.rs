//! The response body: pre-rendered events sent in large batches, with delays, stalls, clean
//! truncation and connection resets.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use crate::wire::Rendered;

/// Largest batch of small events coalesced into one body frame when there is no delay.
const BATCH_BYTES: usize = 256 * 1024;

/// How long to wait before an injected reset, so the events before it are flushed.
const RESET_GRACE: Duration = Duration::from_millis(25);

/// What happens after the last event that is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The body ends normally.
    Clean,
    /// The TCP connection is aborted (RST).
    Reset,
}

/// A response body made of pre-rendered events.
pub(crate) struct EmuBody {
    buf: Bytes,
    ends: Vec<usize>,
    next: usize,
    limit: usize,
    end: End,
    delay: Duration,
    stall: Option<(usize, Duration)>,
    sleep: Option<Pin<Box<Sleep>>>,
    abort: Option<Arc<AtomicBool>>,
    reset_armed: bool,
    exact_len: Option<u64>,
}

impl EmuBody {
    /// A complete body of known length (may be empty).
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let buf: Bytes = bytes.into();
        let len = buf.len();
        let ends = if len == 0 { Vec::new() } else { vec![len] };
        let limit = ends.len();
        EmuBody {
            buf,
            ends,
            next: 0,
            limit,
            end: End::Clean,
            delay: Duration::ZERO,
            stall: None,
            sleep: None,
            abort: None,
            reset_armed: false,
            exact_len: Some(len as u64),
        }
    }

    /// A stream of events; its length is not announced (chunked encoding).
    pub fn events(rendered: Rendered, delay: Duration) -> Self {
        let limit = rendered.ends.len();
        EmuBody {
            buf: rendered.buf,
            ends: rendered.ends,
            next: 0,
            limit,
            end: End::Clean,
            delay,
            stall: None,
            sleep: None,
            abort: None,
            reset_armed: false,
            exact_len: None,
        }
    }

    /// A unary body split in two halves, to be cut after the first half.
    pub fn halves(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        let half = len / 2;
        let ends = if len < 2 { vec![len] } else { vec![half, len] };
        EmuBody::events(Rendered { buf: Bytes::from(bytes), ends }, Duration::ZERO)
    }

    /// Stops after `events` events and then ends as `end`. `abort` is the connection's
    /// abort flag, required for [`End::Reset`].
    pub fn cut_after(mut self, events: usize, end: End, abort: Arc<AtomicBool>) -> Self {
        self.limit = events.min(self.ends.len());
        self.end = end;
        self.abort = Some(abort);
        self
    }

    /// Goes silent for `dur` after `events` events.
    pub fn stall_after(mut self, events: usize, dur: Duration) -> Self {
        self.stall = Some((events.min(self.limit), dur));
        self
    }

    fn start_of(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] }
    }
}

impl Body for EmuBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(sleep) = this.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            if let Some((at, dur)) = this.stall
                && this.next == at
            {
                this.stall = None;
                this.sleep = Some(Box::pin(tokio::time::sleep(dur)));
                continue;
            }
            if this.next >= this.limit {
                if this.end == End::Reset {
                    if !this.reset_armed {
                        // Let the connection flush what was sent before aborting it.
                        this.reset_armed = true;
                        this.sleep = Some(Box::pin(tokio::time::sleep(RESET_GRACE)));
                        continue;
                    }
                    if let Some(flag) = &this.abort {
                        flag.store(true, Ordering::SeqCst);
                    }
                    this.end = End::Clean;
                    this.limit = 0;
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "celeste-emulator: injected connection reset",
                    ))));
                }
                return Poll::Ready(None);
            }
            let start = this.start_of(this.next);
            let mut upto = this.next + 1;
            if this.delay.is_zero() {
                let stop = match this.stall {
                    Some((at, _)) if at > this.next => at.min(this.limit),
                    _ => this.limit,
                };
                while upto < stop && this.ends[upto] - start <= BATCH_BYTES {
                    upto += 1;
                }
            }
            let chunk = this.buf.slice(start..this.ends[upto - 1]);
            this.next = upto;
            if !this.delay.is_zero() && this.next < this.limit {
                this.sleep = Some(Box::pin(tokio::time::sleep(this.delay)));
            }
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.limit && self.end == End::Clean && self.sleep.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
