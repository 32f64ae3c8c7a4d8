//! The one stream machine. Every streaming call, whatever its wire API, is the same pipeline:
//!
//! ```text
//! transport bytes → framing (SSE | NDJSON | raw) → wire decoder → Chunk → (aggregated in the decoder) → Output
//! ```
//!
//! [`Stream`] is a plain `futures::Stream`: no task is spawned per stream and nothing is buffered beyond
//! the framing decoder's bounded buffer and the chunks one network read produced. The blocking iterator
//! ([`crate::blocking::Stream`]) drives this very same type. Every way a stream can end (exhaustion, an
//! error, a drop before the end) passes through one place that notifies the observer exactly once.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream as FuturesStream;
use tokio::time::{Instant, Sleep};

use crate::error::{Error, Origin, Result, TimeoutPhase};
use crate::transport::http::transport_error;
use crate::transport::ndjson::NdjsonDecoder;
use crate::transport::sse::{SseDecoder, SseEvent};
use crate::types::output::{Chunk, Output};

/// How a body is cut into frames.
#[expect(dead_code, reason = "NDJSON and raw framing serve the Ollama and audio wire APIs, which land next")]
pub(crate) enum Framing {
    /// Server-sent events.
    Sse(SseDecoder),
    /// One JSON document per line.
    Ndjson(NdjsonDecoder),
    /// Raw byte chunks, as they arrive (audio streams).
    Raw(Option<Bytes>),
}

/// One frame of a body.
#[expect(dead_code, reason = "NDJSON and raw framing serve the Ollama and audio wire APIs, which land next")]
pub(crate) enum Frame {
    /// An SSE event.
    Sse(SseEvent),
    /// An NDJSON line.
    Line(Bytes),
    /// A raw chunk.
    Raw(Bytes),
}

impl Framing {
    fn feed(&mut self, bytes: Bytes) {
        match self {
            Framing::Sse(d) => d.feed(bytes),
            Framing::Ndjson(d) => d.feed(bytes),
            Framing::Raw(slot) => *slot = Some(bytes),
        }
    }

    fn next(&mut self) -> Result<Option<Frame>> {
        Ok(match self {
            Framing::Sse(d) => d.next_event()?.map(Frame::Sse),
            Framing::Ndjson(d) => d.next_line()?.map(Frame::Line),
            Framing::Raw(slot) => slot.take().map(Frame::Raw),
        })
    }

    fn finish(&mut self) -> Result<Option<Frame>> {
        Ok(match self {
            Framing::Sse(d) => d.finish()?.map(Frame::Sse),
            Framing::Ndjson(d) => d.finish()?.map(Frame::Line),
            Framing::Raw(slot) => slot.take().map(Frame::Raw),
        })
    }
}

/// A wire API's stream state: turns frames into chunks and, at the end, into the output.
pub(crate) trait Decoder<D, C>: Send {
    /// Handle one frame, pushing any chunks it produces. An error ends the stream.
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<D>>) -> Result<()>;
    /// Whether the wire API's terminal event has arrived (the body may still have a tail).
    fn is_terminal(&self) -> bool;
    /// Build the output from everything seen. Called once, at the terminal event or the end of the
    /// body; a decoder that has not seen enough to call the stream complete returns
    /// [`Error::StreamTruncated`].
    fn finish(&mut self) -> Result<Output<C>>;
}

/// How a stream ended, for its observer.
#[cfg_attr(not(feature = "telemetry"), allow(dead_code, reason = "only telemetry observes streams"))]
pub(crate) enum End<'a, C> {
    /// Exhausted; the output is complete.
    Completed(&'a Output<C>),
    /// Ended by an error (after any chunks already yielded).
    Failed(&'a Error),
    /// Dropped by the consumer before the end.
    Dropped,
}

/// Watches a stream (telemetry). `on_end` is called exactly once.
pub(crate) trait Observer<D, C>: Send {
    /// A chunk is about to be yielded; `received` is when the read that carried its last byte returned
    /// (chunks decoded from one read share it).
    fn on_chunk(&mut self, chunk: &Chunk<D>, received: std::time::Instant);
    /// The stream ended.
    fn on_end(&mut self, end: End<'_, C>);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Streaming,
    Done,
    Failed,
}

type Body = Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>;

/// A streaming response: a `futures::Stream` of [`Chunk`]s, and the aggregated [`Output`] once it has
/// been consumed to the end.
///
/// `D` is the chunk content (`String` for text), `C` the output content. Dropping the stream closes the
/// connection.
pub struct Stream<D, C = D> {
    origin: Origin,
    body: Option<Body>,
    framing: Framing,
    decoder: Box<dyn Decoder<D, C>>,
    pending: VecDeque<Chunk<D>>,
    timer: Pin<Box<Sleep>>,
    idle: Duration,
    deadline: Option<Instant>,
    connect_limit: Duration,
    state: State,
    output: Option<Output<C>>,
    chunks: usize,
    observer: Option<Box<dyn Observer<D, C>>>,
    /// When the last read returned (kept only for an observer: one clock read per read, not per chunk).
    received: std::time::Instant,
}

// No field is structurally pinned (the body and timer are boxed), so the stream can move freely.
impl<D, C> Unpin for Stream<D, C> {}

/// Everything needed to start decoding a response body.
pub(crate) struct StreamParts<D, C> {
    pub origin: Origin,
    pub framing: Framing,
    pub decoder: Box<dyn Decoder<D, C>>,
    pub idle: Duration,
    pub deadline: Option<Instant>,
    pub connect_limit: Duration,
    pub observer: Option<Box<dyn Observer<D, C>>>,
}

impl<D, C> Stream<D, C> {
    /// Decode `response`'s body with `parts`.
    pub(crate) fn new(response: reqwest::Response, parts: StreamParts<D, C>) -> Self {
        Self::from_body(Box::pin(response.bytes_stream()), parts)
    }

    pub(crate) fn from_body(body: Body, parts: StreamParts<D, C>) -> Self {
        let first = wake_at(parts.idle, parts.deadline);
        Stream {
            origin: parts.origin,
            body: Some(body),
            framing: parts.framing,
            decoder: parts.decoder,
            pending: VecDeque::new(),
            timer: Box::pin(tokio::time::sleep_until(first)),
            idle: parts.idle,
            deadline: parts.deadline,
            connect_limit: parts.connect_limit,
            state: State::Streaming,
            output: None,
            chunks: 0,
            observer: parts.observer,
            received: std::time::Instant::now(),
        }
    }

    /// The aggregated output, once the stream has been consumed to the end. Before that (or after the
    /// stream failed) it is [`Error::StreamNotExhausted`]. A stream that completed without any content
    /// still has an output (with usage, if the provider sent it).
    pub fn output(&self) -> Result<&Output<C>> {
        self.output.as_ref().ok_or(Error::StreamNotExhausted)
    }

    /// Take the aggregated output (see [`output`](Self::output)).
    pub fn into_output(mut self) -> Result<Output<C>> {
        self.output.take().ok_or(Error::StreamNotExhausted)
    }

    /// How many chunks have been yielded so far.
    pub fn chunk_count(&self) -> usize {
        self.chunks
    }

    /// Whether the stream has ended (completed or failed).
    pub fn is_finished(&self) -> bool {
        self.state != State::Streaming
    }

    /// End with an error: close the connection, notify the observer, and hand the error out.
    fn fail(&mut self, err: Error) -> Poll<Option<Result<Chunk<D>>>> {
        self.state = State::Failed;
        self.body = None;
        self.pending.clear();
        if let Some(mut o) = self.observer.take() {
            o.on_end(End::Failed(&err));
        }
        Poll::Ready(Some(Err(err)))
    }

    /// End normally: build the output and notify the observer. Remaining chunks are still yielded.
    fn complete(&mut self) -> Result<()> {
        let output = self.decoder.finish()?;
        self.state = State::Done;
        self.body = None;
        if let Some(mut o) = self.observer.take() {
            o.on_end(End::Completed(&output));
        }
        self.output = Some(output);
        Ok(())
    }

    /// Decode every complete frame buffered in the framing decoder.
    fn drain_frames(&mut self) -> Result<()> {
        while let Some(frame) = self.framing.next()? {
            self.decoder.on_frame(frame, &mut self.pending)?;
        }
        Ok(())
    }

    fn timeout_error(&self) -> Error {
        let total_first = self.deadline.is_some_and(|d| d <= Instant::now() + self.idle);
        if total_first {
            let after = self.deadline.map(|d| d.saturating_duration_since(Instant::now())).unwrap_or_default();
            Error::Timeout { origin: self.origin, phase: TimeoutPhase::Total, after }
        } else {
            Error::Timeout { origin: self.origin, phase: TimeoutPhase::Idle, after: self.idle }
        }
    }
}

/// When the timer should fire: after the idle gap, or at the total deadline if that comes first.
fn wake_at(idle: Duration, deadline: Option<Instant>) -> Instant {
    let idle_at = Instant::now() + idle;
    match deadline {
        Some(d) if d < idle_at => d,
        _ => idle_at,
    }
}

impl<D, C> FuturesStream for Stream<D, C> {
    type Item = Result<Chunk<D>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.pending.pop_front() {
                this.chunks += 1;
                if let Some(o) = this.observer.as_mut() {
                    o.on_chunk(&chunk, this.received);
                }
                return Poll::Ready(Some(Ok(chunk)));
            }
            if this.state != State::Streaming {
                return Poll::Ready(None);
            }
            if let Err(e) = this.drain_frames() {
                return this.fail(e);
            }
            if !this.pending.is_empty() {
                continue;
            }
            let Some(body) = this.body.as_mut() else {
                return this.fail(Error::Cancelled);
            };
            match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    // Only telemetry observes streams: compiled out, it reads no clock.
                    if cfg!(feature = "telemetry") && this.observer.is_some() {
                        this.received = std::time::Instant::now();
                    }
                    this.framing.feed(bytes);
                    let at = wake_at(this.idle, this.deadline);
                    this.timer.as_mut().reset(at);
                }
                Poll::Ready(Some(Err(e))) => {
                    // A connection that breaks after the terminal event has lost nothing.
                    if this.decoder.is_terminal() {
                        if let Err(e) = this.complete() {
                            return this.fail(e);
                        }
                        continue;
                    }
                    let err = transport_error(this.origin, e, this.connect_limit);
                    return this.fail(err);
                }
                Poll::Ready(None) => {
                    let tail = this.framing.finish().and_then(|f| match f {
                        Some(frame) => this.decoder.on_frame(frame, &mut this.pending),
                        None => Ok(()),
                    });
                    if let Err(e) = tail.and_then(|()| this.complete()) {
                        return this.fail(e);
                    }
                }
                Poll::Pending => {
                    // The terminal event arrived and nothing more is ready: finish now rather than wait
                    // for a server that keeps the connection open.
                    if this.decoder.is_terminal() {
                        if let Err(e) = this.complete() {
                            return this.fail(e);
                        }
                        continue;
                    }
                    ready!(this.timer.as_mut().poll(cx));
                    let err = this.timeout_error();
                    return this.fail(err);
                }
            }
        }
    }
}

impl<D, C> Drop for Stream<D, C> {
    fn drop(&mut self) {
        // A stream whose terminal event has arrived is complete even if the consumer stops reading
        // before the final `None`: its output (and usage) are real.
        if self.state == State::Streaming && self.decoder.is_terminal() {
            let _ = self.complete();
        }
        if let Some(mut o) = self.observer.take() {
            o.on_end(End::Dropped);
        }
    }
}

impl<D, C> fmt::Debug for Stream<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Streaming if self.chunks == 0 => "idle",
            State::Streaming => "streaming",
            State::Done => "done",
            State::Failed => "failed",
        };
        f.debug_struct("Stream")
            .field("origin", &self.origin)
            .field("state", &state)
            .field("chunks", &self.chunks)
            .field("has_output", &self.output.is_some())
            .finish()
    }
}
