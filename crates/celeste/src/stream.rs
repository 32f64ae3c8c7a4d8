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

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};

use crate::error::{Error, Origin, Result, TimeoutPhase, UnexpectedBodyError, truncate_lossy};
use crate::transport::error_body::{error_message, html_title};
use crate::transport::http::{TotalLimit, transport_error};
use crate::transport::ndjson::NdjsonDecoder;
use crate::transport::sse::{SseDecoder, SseEvent};
use crate::types::output::{Chunk, Output};

/// How a body is cut into frames.
pub(crate) enum Framing {
    /// Server-sent events.
    Sse(SseDecoder),
    /// One JSON document per line.
    Ndjson(NdjsonDecoder),
    /// Raw byte chunks, as they arrive (audio streams).
    Raw(Option<Bytes>),
}

/// One frame of a body.
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

    /// The frames left at the end of the body, one per call. As the providers' SDKs do, a last event
    /// or line that the server did not terminate still counts.
    fn finish(&mut self) -> Result<Option<Frame>> {
        Ok(match self {
            Framing::Sse(d) => d.finish_lenient()?.map(Frame::Sse),
            Framing::Ndjson(d) => d.finish()?.map(Frame::Line),
            Framing::Raw(slot) => slot.take().map(Frame::Raw),
        })
    }

    /// What a body in this framing is, for an [`Error::UnexpectedBody`]; `None` for raw bytes, which
    /// can be anything.
    fn expected(&self) -> Option<&'static str> {
        match self {
            Framing::Sse(_) => Some("an event stream"),
            Framing::Ndjson(_) => Some("NDJSON lines"),
            Framing::Raw(_) => None,
        }
    }
}

/// A wire API's stream state: turns frames into chunks and, at the end, into the output.
pub(crate) trait Decoder<D, C>: Send {
    /// Handle one frame, pushing any chunks it produces. An error ends the stream; chunks the failing
    /// frame pushed are discarded (those of earlier frames are still yielded).
    fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<D>>) -> Result<()>;
    /// Whether the wire API's terminal event has arrived. No frame is decoded after it: whatever the
    /// body holds behind it is ignored.
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

/// A body: its bytes as they arrive.
pub(crate) type Body = Pin<Box<dyn FuturesStream<Item = reqwest::Result<Bytes>> + Send>>;

/// What the response's headers say about its body, kept until its first bytes arrive and are checked
/// against the framing (see [`Error::UnexpectedBody`]).
#[derive(Debug, Default)]
struct BodyCheck {
    content_type: Option<String>,
    content_encoding: Option<String>,
}

/// After the terminal event, at most this many reads the body already has are taken and dropped
/// (never waited for), so that a body ending right behind its terminal event returns its connection to
/// the pool instead of being cut.
const TAIL_READS: usize = 16;

/// A streaming response: a `futures::Stream` of [`Chunk`]s, and the aggregated [`Output`] once it has
/// been consumed to the end.
///
/// `D` is the chunk content (`String` for text), `C` the output content. Dropping the stream closes the
/// connection.
///
/// The items do not depend on how the body's bytes fall into network reads: decoding stops at the wire
/// API's terminal event (anything the body holds behind it is ignored), and an error comes after every
/// chunk decoded before it.
pub struct Stream<D, C = D> {
    origin: Origin,
    /// `None` once the body has ended (or the stream has).
    body: Option<Body>,
    framing: Framing,
    decoder: Box<dyn Decoder<D, C>>,
    pending: VecDeque<Chunk<D>>,
    /// The error that ends the stream, once the chunks decoded before it have been yielded.
    failure: Option<Error>,
    /// Until the body's first non-blank bytes have been checked.
    check: Option<BodyCheck>,
    timer: Pin<Box<Sleep>>,
    idle: Duration,
    deadline: Option<Instant>,
    /// The total limit to name when the deadline passes (see [`TotalLimit`]).
    total: Option<Duration>,
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
        let header = |name| {
            let v = response.headers().get(name)?.to_str().ok()?.trim();
            // Only ever shown in an error: a server cannot make it large.
            (!v.is_empty()).then(|| truncate_lossy(v.as_bytes(), 200))
        };
        let check = BodyCheck { content_type: header(CONTENT_TYPE), content_encoding: header(CONTENT_ENCODING) };
        let total = response.extensions().get::<TotalLimit>().map(|t| t.0);
        Self::build(Box::pin(response.bytes_stream()), parts, check, total)
    }

    /// Decode `body` (no response headers to check it against): test bodies, and the messages of a
    /// WebSocket as lines.
    #[cfg_attr(not(any(test, feature = "gradium")), allow(dead_code, reason = "only Gradium streams a socket"))]
    pub(crate) fn from_body(body: Body, parts: StreamParts<D, C>) -> Self {
        Self::build(body, parts, BodyCheck::default(), None)
    }

    fn build(body: Body, parts: StreamParts<D, C>, check: BodyCheck, total: Option<Duration>) -> Self {
        let first = wake_at(parts.idle, parts.deadline);
        Stream {
            origin: parts.origin,
            body: Some(body),
            check: parts.framing.expected().map(|_| check),
            framing: parts.framing,
            decoder: parts.decoder,
            pending: VecDeque::new(),
            failure: None,
            timer: Box::pin(tokio::time::sleep_until(first)),
            idle: parts.idle,
            deadline: parts.deadline,
            total,
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

    /// End normally: build the output and notify the observer.
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

    /// Decode the complete frames buffered in the framing decoder, stopping at the terminal event or
    /// the first error, so the result never depends on how many frames one read carried.
    fn drain_frames(&mut self) {
        while !self.decoder.is_terminal() && self.failure.is_none() {
            match self.framing.next() {
                Ok(Some(frame)) => self.decode(frame, false),
                Ok(None) => return,
                Err(e) => self.failure = Some(e),
            }
        }
    }

    /// The body has ended: decode what the framing still holds (an event the server did not close).
    fn drain_tail(&mut self) {
        while !self.decoder.is_terminal() && self.failure.is_none() {
            match self.framing.finish() {
                Ok(Some(frame)) => self.decode(frame, true),
                Ok(None) => return,
                Err(e) => self.failure = Some(e),
            }
        }
    }

    fn decode(&mut self, frame: Frame, unclosed: bool) {
        let before = self.pending.len();
        if let Err(e) = self.decoder.on_frame(frame, &mut self.pending) {
            // The failing frame's own chunks are not delivered: it was not decoded.
            self.pending.truncate(before);
            self.failure = Some(match e {
                // A last event that the body did not close and that does not decode was cut short.
                // The reason is the library's own words: serde's message can quote the event's text
                // (model output), and a truncation's reason is recorded on spans whatever the
                // content capture setting.
                Error::Decode { what, .. } if unclosed => Error::StreamTruncated {
                    origin: self.origin,
                    reason: format!("the body ended inside an event ({what} does not decode)"),
                },
                e => e,
            });
        }
    }

    /// Bytes of the body: checked while nothing but blank space has arrived, then framed.
    fn on_bytes(&mut self, bytes: Bytes) {
        if let Some(check) = &self.check {
            match unexpected_body(check, &self.framing, &bytes) {
                Verdict::Undecided => {}
                Verdict::Fine => self.check = None,
                Verdict::Unexpected(found) => {
                    let check = self.check.take().unwrap_or_default();
                    self.failure = Some(Error::UnexpectedBody(Box::new(UnexpectedBodyError {
                        origin: self.origin,
                        expected: self.framing.expected().unwrap_or("a stream"),
                        found,
                        content_type: check.content_type,
                        body: truncate_lossy(&bytes, 512),
                    })));
                    return;
                }
            }
        }
        self.framing.feed(bytes);
    }

    /// After the terminal event: take and drop what the body has already delivered, without waiting.
    fn discard_tail(&mut self, cx: &mut Context<'_>) {
        if let Some(body) = self.body.as_mut() {
            for _ in 0..TAIL_READS {
                if !matches!(body.as_mut().poll_next(cx), Poll::Ready(Some(Ok(_)))) {
                    break;
                }
            }
        }
    }

    fn timeout_error(&self) -> Error {
        // The timer fires at the idle limit or the deadline, whichever comes first.
        if self.deadline.is_some_and(|d| d <= Instant::now()) {
            let after = self.total.unwrap_or_default();
            Error::Timeout { origin: self.origin, phase: TimeoutPhase::Total, after }
        } else {
            Error::Timeout { origin: self.origin, phase: TimeoutPhase::Idle, after: self.idle }
        }
    }
}

/// Whether a body is plainly not in the framing the call reads, judged on its first non-blank bytes.
enum Verdict {
    /// Only blank space so far.
    Undecided,
    Fine,
    /// What it is instead, in words.
    Unexpected(String),
}

fn unexpected_body(check: &BodyCheck, framing: &Framing, bytes: &[u8]) -> Verdict {
    // The client asks for no compression, so it decodes none.
    if let Some(enc) = check.content_encoding.as_deref().filter(|e| !e.eq_ignore_ascii_case("identity")) {
        return Verdict::Unexpected(format!("a {enc}-compressed body"));
    }
    let head = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Verdict::Undecided;
    };
    let head = &head[start..];
    // No event stream or JSON line begins with any of these.
    match head[0] {
        0x1f if head.get(1).is_none_or(|&b| b == 0x8b) => Verdict::Unexpected("a gzip-compressed body".into()),
        b'<' => {
            let text = String::from_utf8_lossy(head);
            let title = html_title(&text).map(|t| format!(": {t}")).unwrap_or_default();
            Verdict::Unexpected(format!("an HTML page{title}"))
        }
        // A JSON document where events were expected: a server that ignored `stream: true`, or an error
        // sent with a success status. (JSON is what NDJSON lines are, so only for event streams.)
        b'{' | b'[' if matches!(framing, Framing::Sse(_)) => {
            let message = error_message(head).map(|m| format!(": {}", truncate_lossy(m.as_bytes(), 300)));
            Verdict::Unexpected(format!("a JSON document{}", message.unwrap_or_default()))
        }
        _ => Verdict::Fine,
    }
}

/// When the timer should fire: after the idle gap, or at the total deadline if that comes first.
fn wake_at(idle: Duration, deadline: Option<Instant>) -> Instant {
    let now = Instant::now();
    // An idle limit too long to represent is no limit (tokio caps far-future timers itself).
    let idle_at = now.checked_add(idle).unwrap_or_else(|| now + FAR_FUTURE);
    match deadline {
        Some(d) if d < idle_at => d,
        _ => idle_at,
    }
}

/// Later than any stream lives, and still an `Instant` on every platform.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

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
            if let Some(err) = this.failure.take() {
                return this.fail(err);
            }
            // The terminal event has been decoded (the stream completes now rather than wait for a
            // server that keeps the connection open), or the body has ended: the decoder decides.
            if this.decoder.is_terminal() || this.body.is_none() {
                this.discard_tail(cx);
                return match this.complete() {
                    Ok(()) => Poll::Ready(None),
                    Err(e) => this.fail(e),
                };
            }
            this.drain_frames();
            if !this.pending.is_empty() || this.failure.is_some() || this.decoder.is_terminal() {
                continue;
            }
            let Some(body) = this.body.as_mut() else { continue };
            match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    // Only telemetry observes streams: compiled out, it reads no clock.
                    if cfg!(feature = "telemetry") && this.observer.is_some() {
                        this.received = std::time::Instant::now();
                    }
                    let at = wake_at(this.idle, this.deadline);
                    this.timer.as_mut().reset(at);
                    this.on_bytes(bytes);
                }
                Poll::Ready(Some(Err(e))) => {
                    this.failure = Some(transport_error(this.origin, e, this.connect_limit));
                }
                Poll::Ready(None) => {
                    this.body = None;
                    this.drain_tail();
                }
                Poll::Pending => {
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
        if self.state == State::Streaming && self.decoder.is_terminal() && self.failure.is_none() {
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

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::types::enums::{Modality, Provider};
    use crate::types::output::Metadata;

    const ORIGIN: Origin = Origin::Provider(Provider::Ollama);

    /// A wire API of NDJSON lines `{"t": text}`, ended by a line with `"end": true`; a line with an
    /// `error` is an error event.
    #[derive(Default)]
    struct Lines {
        text: String,
        end: bool,
    }

    impl Decoder<String, String> for Lines {
        fn on_frame(&mut self, frame: Frame, out: &mut VecDeque<Chunk<String>>) -> Result<()> {
            let Frame::Line(line) = frame else { return Ok(()) };
            let v: serde_json::Value = serde_json::from_slice(&line).map_err(|e| Error::decode("line", e, &line))?;
            if let Some(e) = v.get("error") {
                return Err(Error::invalid_input(e.to_string()));
            }
            let t = v["t"].as_str().unwrap_or_default().to_string();
            self.text.push_str(&t);
            out.push_back(Chunk::content(t));
            self.end = v["end"] == true;
            Ok(())
        }

        fn is_terminal(&self) -> bool {
            self.end
        }

        fn finish(&mut self) -> Result<Output<String>> {
            if !self.end {
                return Err(Error::StreamTruncated { origin: ORIGIN, reason: "no end line".into() });
            }
            Ok(Output::new(std::mem::take(&mut self.text), Metadata::new("m", Some(ORIGIN), Modality::Text)))
        }
    }

    /// The chunks' text and the ending (the output's text, or the error's kind) of `body` read in
    /// `pieces`-byte reads (0: one read).
    async fn run(body: &[u8], pieces: usize) -> (Vec<String>, std::result::Result<String, &'static str>) {
        let reads: Vec<reqwest::Result<Bytes>> = if pieces == 0 {
            vec![Ok(Bytes::copy_from_slice(body))]
        } else {
            body.chunks(pieces).map(|p| Ok(Bytes::copy_from_slice(p))).collect()
        };
        let parts = StreamParts {
            origin: ORIGIN,
            framing: Framing::Ndjson(NdjsonDecoder::default()),
            decoder: Box::new(Lines::default()),
            idle: Duration::from_secs(60),
            deadline: None,
            connect_limit: Duration::from_secs(10),
            observer: None,
        };
        let mut s: Stream<String, String> = Stream::from_body(Box::pin(futures::stream::iter(reads)), parts);
        let mut chunks = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(c) => chunks.push(c.content),
                Err(e) => return (chunks, Err(e.kind())),
            }
        }
        (chunks, Ok(s.output().unwrap().content.clone()))
    }

    async fn same_however_read(body: &[u8]) -> (Vec<String>, std::result::Result<String, &'static str>) {
        let whole = run(body, 0).await;
        for pieces in [1, 2, 3, 7] {
            assert_eq!(run(body, pieces).await, whole, "{:?} in {pieces}-byte reads", String::from_utf8_lossy(body));
        }
        whole
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn an_ndjson_last_line_without_newline_counts() {
        let got = same_however_read(b"{\"t\":\"a\"}\n{\"t\":\"b\",\"end\":true}").await;
        assert_eq!(got, (strings(&["a", "b"]), Ok("ab".to_string())));
        // Cut inside the last line: truncated, not a decoding failure.
        let got = same_however_read(b"{\"t\":\"a\"}\n{\"t\":\"b\",\"en").await;
        assert_eq!(got, (strings(&["a"]), Err("stream_truncated")));
    }

    #[tokio::test]
    async fn nothing_after_the_terminal_line_is_decoded() {
        let got = same_however_read(b"{\"t\":\"a\"}\n{\"t\":\"b\",\"end\":true}\n{\"t\":\"late\"}\nnot json\n").await;
        assert_eq!(got, (strings(&["a", "b"]), Ok("ab".to_string())));
    }

    #[tokio::test]
    async fn chunks_before_an_error_are_delivered_then_the_error() {
        let got =
            same_however_read(b"{\"t\":\"a\"}\n{\"t\":\"b\"}\n{\"error\":\"boom\"}\n{\"t\":\"c\",\"end\":true}\n")
                .await;
        assert_eq!(got, (strings(&["a", "b"]), Err("invalid_input")));
        // A framing error too.
        let mut big = b"{\"t\":\"a\"}\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', NdjsonDecoder::DEFAULT_MAX_LINE_SIZE + 1));
        assert_eq!(run(&big, 0).await, (strings(&["a"]), Err("event_too_large")));
    }

    #[tokio::test]
    async fn an_html_body_is_not_ndjson_but_a_json_one_is() {
        let got = same_however_read(b"\n  <html><title>Gateway</title></html>").await;
        assert_eq!(got, (vec![], Err("unexpected_body")));
        let got = same_however_read(b"\n{\"t\":\"a\",\"end\":true}\n").await;
        assert_eq!(got, (strings(&["a"]), Ok("a".to_string())));
    }
}
