//! A push-style Server-Sent Events decoder, following the WHATWG HTML "event stream" parsing rules.
//!
//! Feed it the body's chunks as they arrive with [`SseDecoder::feed`] and drain complete events
//! with [`SseDecoder::next_event`]. Work is linear in the input size however the input is split,
//! and an event whose data sits on one line inside one fed chunk shares that chunk's memory
//! instead of being copied.
//!
//! Where this decoder departs from what a browser's `EventSource` exposes, it is to suit an API
//! client: `data` stays raw bytes (invalid UTF-8 is left for the payload decoder to report), and a
//! `retry` field is reported on the next dispatched event rather than acted upon.

use bytes::{BufMut, Bytes, BytesMut};

use super::lines::{Line, LineSplitter, Terminators, TooLong};
use crate::error::Error;

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, or `None` when the event had none (or an empty one): the type is then
    /// `message`, see [`event_type`](Self::event_type).
    pub event: Option<String>,
    /// The `data` fields of the event joined with `\n`, as raw bytes. When the event had one data
    /// line inside one fed chunk this shares that chunk's memory, keeping the chunk alive while
    /// it is held.
    pub data: Bytes,
    /// The stream's last event id as of this event. As in the spec, an id persists across events
    /// until an `id` field changes it; an empty `id` field resets it to `None`.
    pub id: Option<String>,
    /// The last valid `retry` field (milliseconds) seen since the previous dispatched event, so
    /// that a `retry` sent in a block of its own is not lost.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// Whether the data is exactly `[DONE]`, the end-of-stream sentinel of OpenAI-style APIs.
    pub fn is_done(&self) -> bool {
        self.data.as_ref() == b"[DONE]"
    }

    /// The event type: the `event` field, or `message` when there was none.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// The data lines of the event being assembled.
#[derive(Debug, Default)]
enum Data {
    /// No `data` field yet: the event will not be dispatched.
    #[default]
    None,
    /// Exactly one `data` field, shared with the input when it lay inside one chunk.
    One(Bytes),
    /// Several `data` fields, copied and joined.
    Many(BytesMut),
}

/// The fields of the event being assembled, kept apart from the line splitter so a borrowed
/// [`Line`] can be applied to them.
#[derive(Debug, Default)]
struct Pending {
    data: Data,
    event: Option<String>,
    last_id: Option<String>,
    retry: Option<u64>,
    /// A field line has been seen since the last blank line.
    in_event: bool,
}

/// The data grew past the limit.
struct DataTooLarge;

impl Pending {
    /// Applies one non-empty, non-comment line.
    fn field(&mut self, line: &Line<'_>, max_data: usize) -> Result<(), DataTooLarge> {
        let bytes = line.as_slice();
        let (name, value_start) = match memchr::memchr(b':', bytes) {
            Some(colon) => {
                let after = colon + 1;
                // Exactly one space is part of the separator; any further spaces are data.
                let skip = usize::from(bytes.get(after) == Some(&b' '));
                (&bytes[..colon], after + skip)
            }
            None => (bytes, bytes.len()),
        };
        let value = &bytes[value_start..];
        self.in_event = true;
        match name {
            b"data" => self.push_data(line, value_start, max_data)?,
            b"event" => {
                self.event = (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned());
            }
            b"id" if memchr::memchr(0, value).is_none() => {
                self.last_id = (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // A value too large for u64 is ignored like any other invalid one.
                let ms = value.iter().try_fold(0u64, |acc, d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')));
                if ms.is_some() {
                    self.retry = ms;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push_data(&mut self, line: &Line<'_>, value_start: usize, max_data: usize) -> Result<(), DataTooLarge> {
        let value = &line.as_slice()[value_start..];
        match &mut self.data {
            Data::None => {
                if value.len() > max_data {
                    return Err(DataTooLarge);
                }
                self.data = Data::One(line.slice(value_start..));
            }
            Data::One(first) => {
                let total = first.len() + 1 + value.len();
                if total > max_data {
                    return Err(DataTooLarge);
                }
                let mut joined = BytesMut::with_capacity(total);
                joined.extend_from_slice(first);
                joined.put_u8(b'\n');
                joined.extend_from_slice(value);
                self.data = Data::Many(joined);
            }
            Data::Many(joined) => {
                if joined.len() + 1 + value.len() > max_data {
                    return Err(DataTooLarge);
                }
                joined.put_u8(b'\n');
                joined.extend_from_slice(value);
            }
        }
        Ok(())
    }

    /// Handles a blank line: the event if it had data, else nothing (the spec drops data-less
    /// events), and the per-event fields reset either way.
    fn dispatch(&mut self) -> Option<SseEvent> {
        self.in_event = false;
        let event = self.event.take();
        let data = match std::mem::take(&mut self.data) {
            Data::None => return None,
            Data::One(data) => data,
            Data::Many(data) => data.freeze(),
        };
        Some(SseEvent { event, data, id: self.last_id.clone(), retry: self.retry.take() })
    }
}

/// A push-style Server-Sent Events decoder.
///
/// ```
/// use bytes::Bytes;
/// use celeste::framing::SseDecoder;
///
/// let mut decoder = SseDecoder::new(SseDecoder::DEFAULT_MAX_EVENT_SIZE);
/// decoder.feed(Bytes::from_static(b"event: delta\ndata: {\"a\":1}\n\ndata: [DO"));
/// let event = decoder.next_event()?.unwrap();
/// assert_eq!(event.event_type(), "delta");
/// assert_eq!(&event.data[..], b"{\"a\":1}");
/// assert!(decoder.next_event()?.is_none()); // the rest is incomplete
/// decoder.feed(Bytes::from_static(b"NE]\n\n"));
/// assert!(decoder.next_event()?.unwrap().is_done());
/// # Ok::<(), celeste::Error>(())
/// ```
///
/// Lines end with LF, CR or CRLF, including a CRLF split across two chunks; a UTF-8 byte order
/// mark at the very start of the stream is skipped.
///
/// # Size limit
///
/// A line, or the joined data of one event, longer than `max_event_size` bytes makes
/// [`next_event`](Self::next_event) return [`Error::EventTooLarge`], checked as bytes arrive so
/// memory stays bounded by the limit plus the chunks not yet drained. The decoder is then
/// unusable: it drops what it buffered, ignores further input, and every later call to
/// `next_event` or [`finish`](Self::finish) returns the same error.
#[derive(Debug)]
pub struct SseDecoder {
    lines: LineSplitter,
    pending: Pending,
    max_event_size: usize,
    failed: bool,
}

impl SseDecoder {
    /// The default limit on one line or one event's data: 64 MiB.
    pub const DEFAULT_MAX_EVENT_SIZE: usize = 64 * 1024 * 1024;

    /// A decoder that rejects lines and event data longer than `max_event_size` bytes.
    pub fn new(max_event_size: usize) -> Self {
        SseDecoder {
            lines: LineSplitter::new(max_event_size, Terminators::Any, true),
            pending: Pending::default(),
            max_event_size,
            failed: false,
        }
    }

    /// Appends a chunk of the stream. Parsing happens in [`next_event`](Self::next_event), so
    /// this is cheap; ignored after an [`Error::EventTooLarge`].
    pub fn feed(&mut self, chunk: Bytes) {
        if !self.failed {
            self.lines.feed(chunk);
        }
    }

    /// The next complete event, or `Ok(None)` when more input is needed.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, Error> {
        if self.failed {
            return Err(self.too_large());
        }
        loop {
            let ok = match self.lines.next_line() {
                Ok(None) => return Ok(None),
                Err(TooLong) => false,
                Ok(Some(line)) => {
                    let bytes = line.as_slice();
                    if bytes.is_empty() {
                        match self.pending.dispatch() {
                            Some(event) => return Ok(Some(event)),
                            None => continue,
                        }
                    }
                    if bytes[0] == b':' {
                        continue;
                    }
                    self.pending.field(&line, self.max_event_size).is_ok()
                }
            };
            if !ok {
                return Err(self.fail());
            }
        }
    }

    /// Ends the input: returns the complete events still buffered, one per call, then `Ok(None)`.
    ///
    /// As the spec requires, an event not closed by a blank line is discarded rather than
    /// dispatched; call [`has_partial`](Self::has_partial) to tell a truncated stream from a
    /// clean end.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, Error> {
        // At the end of the stream nothing more can be decided than what next_event decides:
        // lines were already ended eagerly (even by a trailing CR), and the rest is discarded.
        self.next_event()
    }

    /// Ends the input as the providers' SDKs do: like [`finish`](Self::finish), but a last event that
    /// the body did not close with a blank line is dispatched instead of discarded, and so is a last
    /// line without any line ending. Servers that end a stream that way mean it to count, so the wire
    /// decoder sees the event; one that was cut short fails there, as a payload that does not decode.
    pub fn finish_lenient(&mut self) -> Result<Option<SseEvent>, Error> {
        if let Some(event) = self.next_event()? {
            return Ok(Some(event));
        }
        // `next_event` consumed every chunk, so what is left is one unterminated line, if any.
        if let Some(line) = self.lines.take_partial() {
            let line = Line::whole(&line);
            let comment = line.as_slice().first() == Some(&b':');
            if !comment && self.pending.field(&line, self.max_event_size).is_err() {
                return Err(self.fail());
            }
        }
        Ok(self.pending.dispatch())
    }

    /// Whether the input so far ends inside an event: an unterminated line, or field lines not
    /// yet closed by a blank line. Meaningful once `next_event` or `finish` has returned
    /// `Ok(None)` (before that, undrained complete events also count). A stream that ends while
    /// this is true was cut short. Comments do not count.
    pub fn has_partial(&self) -> bool {
        !self.failed && (self.lines.has_partial() || self.pending.in_event)
    }

    fn too_large(&self) -> Error {
        Error::EventTooLarge { limit: self.max_event_size }
    }

    fn fail(&mut self) -> Error {
        self.failed = true;
        self.lines.clear();
        self.pending = Pending::default();
        self.too_large()
    }
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new(SseDecoder::DEFAULT_MAX_EVENT_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Feeds `input` cut at `cuts` (any order, out-of-range cuts clamp) and drains after each
    /// chunk and at the end. Returns the events, whether decoding failed, and `has_partial`.
    fn decode_split(input: &[u8], cuts: &[usize], max: usize) -> (Vec<SseEvent>, bool, bool) {
        let input = Bytes::copy_from_slice(input);
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        cuts.push(0);
        cuts.push(input.len());
        cuts.sort_unstable();
        let mut decoder = SseDecoder::new(max);
        let mut events = Vec::new();
        for pair in cuts.windows(2) {
            decoder.feed(input.slice(pair[0]..pair[1]));
            loop {
                match decoder.next_event() {
                    Ok(Some(event)) => events.push(event),
                    Ok(None) => break,
                    Err(Error::EventTooLarge { limit }) => {
                        assert_eq!(limit, max);
                        assert!(decoder.next_event().is_err(), "the error must stick");
                        return (events, true, decoder.has_partial());
                    }
                    Err(other) => panic!("unexpected error {other}"),
                }
            }
        }
        assert!(decoder.finish().unwrap().is_none(), "next_event drained all");
        (events, false, decoder.has_partial())
    }

    fn decode(input: &[u8]) -> Vec<SseEvent> {
        decode_split(input, &[], SseDecoder::DEFAULT_MAX_EVENT_SIZE).0
    }

    fn decode_bytewise(input: &[u8]) -> Vec<SseEvent> {
        let cuts: Vec<usize> = (0..input.len()).collect();
        decode_split(input, &cuts, SseDecoder::DEFAULT_MAX_EVENT_SIZE).0
    }

    fn ev(event: Option<&str>, data: &str, id: Option<&str>, retry: Option<u64>) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: Bytes::copy_from_slice(data.as_bytes()),
            id: id.map(str::to_owned),
            retry,
        }
    }

    fn data(data: &str) -> SseEvent {
        ev(None, data, None, None)
    }

    /// A deliberately naive, whole-input transcription of the spec's parsing rules.
    fn oracle(input: &[u8]) -> Vec<SseEvent> {
        let mut input = input.strip_prefix(&BOM_BYTES[..]).unwrap_or(input);
        let mut lines = Vec::new();
        // An unterminated last line is discarded.
        while let Some(end) = input.iter().position(|&b| b == b'\r' || b == b'\n') {
            lines.push(&input[..end]);
            let skip = if input[end] == b'\r' && input.get(end + 1) == Some(&b'\n') { 2 } else { 1 };
            input = &input[end + skip..];
        }
        let (mut data, mut event, mut last_id, mut retry) = (Vec::new(), Vec::new(), None, None);
        let mut has_data = false;
        let mut events = Vec::new();
        for line in lines {
            if line.is_empty() {
                if has_data {
                    data.pop(); // the trailing LF
                    events.push(SseEvent {
                        event: (!event.is_empty()).then(|| String::from_utf8_lossy(&event).into_owned()),
                        data: Bytes::from(std::mem::take(&mut data)),
                        id: last_id.clone(),
                        retry: retry.take(),
                    });
                }
                data.clear();
                event.clear();
                has_data = false;
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let (name, mut value) = match line.iter().position(|&b| b == b':') {
                Some(c) => (&line[..c], &line[c + 1..]),
                None => (line, &line[line.len()..]),
            };
            if value.first() == Some(&b' ') {
                value = &value[1..];
            }
            match name {
                b"data" => {
                    data.extend_from_slice(value);
                    data.push(b'\n');
                    has_data = true;
                }
                b"event" => event = value.to_vec(),
                b"id" if !value.contains(&0) => {
                    last_id = (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned());
                }
                b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                    if let Ok(ms) = std::str::from_utf8(value).unwrap().parse() {
                        retry = Some(ms);
                    }
                }
                _ => {}
            }
        }
        events
    }

    const BOM_BYTES: [u8; 3] = [0xEF, 0xBB, 0xBF];

    #[test]
    fn decodes_a_simple_event_and_done() {
        let input = b"data: {\"a\":1}\n\ndata: [DONE]\n\n";
        let events = decode(input);
        assert_eq!(events, vec![data("{\"a\":1}"), data("[DONE]")]);
        assert!(!events[0].is_done());
        assert!(events[1].is_done());
        assert_eq!(events[0].event_type(), "message");
        assert_eq!(decode_bytewise(input), events);
    }

    #[test]
    fn lf_cr_and_crlf_all_end_lines() {
        let expected = vec![data("a"), data("b"), data("c"), data("d")];
        let input = b"data: a\n\ndata: b\r\rdata: c\r\n\r\ndata: d\r\n\n";
        assert_eq!(decode(input), expected);
        assert_eq!(decode_bytewise(input), expected);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_ending() {
        // Were the LF taken for an empty line, the event would be dispatched before `b`.
        let (events, ..) = decode_split(b"data: a\r\ndata: b\r\n\r\n", &[8], usize::MAX);
        assert_eq!(events, vec![data("a\nb")]);
        // A lone CR at a chunk end followed by a non-LF byte still ends the line.
        let (events, ..) = decode_split(b"data: a\r\rdata: b\r\r", &[8], usize::MAX);
        assert_eq!(events, vec![data("a"), data("b")]);
        // CR at the end of one chunk, LF alone in the next, then the blank line.
        let (events, ..) = decode_split(b"data: a\r\n\r\n", &[8, 9, 10], usize::MAX);
        assert_eq!(events, vec![data("a")]);
    }

    #[test]
    fn a_leading_bom_is_skipped_once_even_when_split() {
        let input = b"\xEF\xBB\xBFdata: x\n\n";
        assert_eq!(decode(input), vec![data("x")]);
        assert_eq!(decode_bytewise(input), vec![data("x")]);
        // A second BOM is part of the first field name, which is then unknown.
        assert_eq!(decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), vec![]);
        // A BOM anywhere else is not special either.
        assert_eq!(decode(b"data: x\n\n\xEF\xBB\xBFdata: y\n\ndata: z\n\n"), vec![data("x"), data("z")]);
    }

    #[test]
    fn bytes_that_only_start_like_a_bom_are_kept() {
        // Dropping the lone 0xEF would turn the unknown field into `data`.
        assert_eq!(decode(b"\xEFdata: x\n\n"), vec![]);
        assert_eq!(decode_bytewise(b"\xEF\xBBdata: x\n\n"), vec![]);
        assert_eq!(decode(b"\xEF\xBB\n\ndata: y\n\n"), vec![data("y")]);
    }

    #[test]
    fn comments_are_ignored() {
        let input = b": keep-alive\n\ndata: a\n:comment between\ndata: b\n\n:\n\n";
        assert_eq!(decode(input), vec![data("a\nb")]);
    }

    #[test]
    fn data_lines_are_joined_with_lf() {
        let input = b"data: one\ndata: two\ndata:\ndata: four\n\n";
        assert_eq!(decode(input), vec![data("one\ntwo\n\nfour")]);
        assert_eq!(decode_bytewise(input), vec![data("one\ntwo\n\nfour")]);
    }

    #[test]
    fn exactly_one_space_after_the_colon_is_stripped() {
        assert_eq!(decode(b"data:  x\n\n"), vec![data(" x")]);
        assert_eq!(decode(b"data:x\n\n"), vec![data("x")]);
        assert_eq!(decode(b"data: x \n\n"), vec![data("x ")]);
        assert_eq!(decode(b"data:\tx\n\n"), vec![data("\tx")]);
        assert_eq!(decode(b"data: a: b\n\n"), vec![data("a: b")]);
    }

    #[test]
    fn a_field_without_colon_has_an_empty_value() {
        assert_eq!(decode(b"data\n\n"), vec![data("")]);
        assert_eq!(decode(b"data\ndata\n\n"), vec![data("\n")]);
        assert_eq!(decode(b"event\ndata: x\n\n"), vec![data("x")], "an empty event type means message");
    }

    #[test]
    fn event_type_applies_to_one_event() {
        let input = b"event: delta\ndata: a\n\ndata: b\n\n";
        let events = decode(input);
        assert_eq!(events, vec![ev(Some("delta"), "a", None, None), data("b")]);
        assert_eq!(events[0].event_type(), "delta");
        assert_eq!(events[1].event_type(), "message");
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        // Its type must not leak into the next event either.
        assert_eq!(decode(b"event: ping\n\ndata: x\n\n"), vec![data("x")]);
        assert_eq!(decode(b"id: 1\n\n"), vec![]);
        // An empty data field is data.
        assert_eq!(decode(b"event: ping\ndata:\n\n"), vec![ev(Some("ping"), "", None, None)]);
    }

    #[test]
    fn the_last_event_id_persists_until_changed() {
        let input = b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\ndata: d\n\n";
        assert_eq!(
            decode(input),
            vec![
                ev(None, "a", Some("1"), None),
                ev(None, "b", Some("1"), None),
                ev(None, "c", None, None),
                ev(None, "d", Some("2"), None),
            ]
        );
    }

    #[test]
    fn ids_containing_nul_are_ignored() {
        assert_eq!(
            decode(b"id: 7\ndata: a\n\nid: x\0y\ndata: b\n\n"),
            vec![ev(None, "a", Some("7"), None), ev(None, "b", Some("7"), None)]
        );
    }

    #[test]
    fn retry_takes_digits_only() {
        assert_eq!(decode(b"retry: 1500\ndata: a\n\n"), vec![ev(None, "a", None, Some(1500))]);
        for bad in [
            &b"retry: 15a\n"[..],
            b"retry: -1\n",
            b"retry:\n",
            b"retry:  1\n",
            b"retry: 1.5\n",
            b"retry: 99999999999999999999999\n",
        ] {
            let input = [bad, b"data: a\n\n"].concat();
            assert_eq!(decode(&input), vec![data("a")], "{:?}", bad);
        }
    }

    #[test]
    fn retry_in_a_block_of_its_own_reaches_the_next_event_only() {
        assert_eq!(decode(b"retry: 3000\n\ndata: a\n\ndata: b\n\n"), vec![ev(None, "a", None, Some(3000)), data("b")]);
    }

    #[test]
    fn unknown_and_miscased_fields_are_ignored() {
        assert_eq!(decode(b"foo: bar\nData: no\ndata: yes\nDATA: no\n\n"), vec![data("yes")]);
    }

    #[test]
    fn invalid_utf8_is_kept_in_data_and_replaced_in_names() {
        let events = decode(b"event: a\xFFb\nid: \xFE\ndata: \xFF\xC0x\n\n");
        assert_eq!(&events[0].data[..], b"\xFF\xC0x");
        assert_eq!(events[0].event.as_deref(), Some("a\u{FFFD}b"));
        assert_eq!(events[0].id.as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn an_unterminated_event_is_discarded_and_reported() {
        for (input, partial) in [
            (&b"data: a\n\n"[..], false),
            (b"data: a\n\n: comment\n", false),
            (b"data: a\n\ndata: b\n", true),
            (b"data: a\n\ndata: b", true),
            (b"data: a\n\nevent: x\n", true),
            (b"\xEF\xBB", true),
        ] {
            let (events, failed, has_partial) = decode_split(input, &[], usize::MAX);
            assert!(!failed);
            assert_eq!(has_partial, partial, "{:?}", String::from_utf8_lossy(input));
            let first = usize::from(input.starts_with(b"data"));
            assert_eq!(events.len(), first);
            let (split_events, _, split_partial) =
                decode_split(input, &(0..input.len()).collect::<Vec<_>>(), usize::MAX);
            assert_eq!((split_events, split_partial), (events, has_partial));
        }
    }

    /// `finish_lenient` after feeding `input` cut at `cuts`, draining as it goes.
    fn decode_lenient(input: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
        let input = Bytes::copy_from_slice(input);
        let mut at: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        at.extend([0, input.len()]);
        at.sort_unstable();
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for pair in at.windows(2) {
            decoder.feed(input.slice(pair[0]..pair[1]));
            while let Some(event) = decoder.next_event().unwrap() {
                events.push(event);
            }
        }
        while let Some(event) = decoder.finish_lenient().unwrap() {
            events.push(event);
        }
        assert!(!decoder.has_partial());
        events
    }

    #[test]
    fn finish_lenient_dispatches_an_event_the_body_did_not_close() {
        for (input, expected) in [
            (&b"data: a\n\ndata: b\n"[..], vec![data("a"), data("b")]),
            (b"data: a\n\ndata: b", vec![data("a"), data("b")]),
            (b"data: a\r\ndata: b\r", vec![data("a\nb")]),
            (b"event: e\ndata: x\ndata: y", vec![ev(Some("e"), "x\ny", None, None)]),
            (b"data: a\n\n", vec![data("a")]),
            (b"data: a\n\n: trailing comment", vec![data("a")]),
            (b"data: a\n\nevent: no-data\n", vec![data("a")]),
            (b"data: a\n\nid: 7", vec![data("a")]),
            (b"", vec![]),
        ] {
            assert_eq!(decode_lenient(input, &[]), expected, "{:?}", String::from_utf8_lossy(input));
            let cuts: Vec<usize> = (0..input.len()).collect();
            assert_eq!(decode_lenient(input, &cuts), expected, "{:?} bytewise", String::from_utf8_lossy(input));
        }
        // The size limit holds for the last line too: each line fits, the joined data does not.
        let mut decoder = SseDecoder::new(10);
        decoder.feed(Bytes::from_static(b"data:12345\ndata:67890"));
        assert!(decoder.next_event().unwrap().is_none());
        assert!(matches!(decoder.finish_lenient(), Err(Error::EventTooLarge { limit: 10 })));
    }

    #[test]
    fn a_single_line_event_shares_the_fed_chunk() {
        let chunk = Bytes::from_static(b"data: abc\n\ndata: x\ndata: y\n\n");
        let mut decoder = SseDecoder::default();
        decoder.feed(chunk.clone());
        let event = decoder.next_event().unwrap().unwrap();
        let range = chunk.as_ptr_range();
        assert!(range.contains(&event.data.as_ptr()), "zero-copy slice");
        assert_eq!(decoder.next_event().unwrap().unwrap(), data("x\ny"));
    }

    #[test]
    fn oversize_lines_fail_without_buffering_them_whole() {
        let limit = 16;
        let mut decoder = SseDecoder::new(limit);
        let mut failed_at = None;
        for (i, &b) in b"data: ".iter().chain([b'x'; 1000].iter()).enumerate() {
            decoder.feed(Bytes::copy_from_slice(&[b]));
            if let Err(e) = decoder.next_event() {
                assert!(matches!(e, Error::EventTooLarge { limit: 16 }));
                failed_at = Some(i);
                break;
            }
        }
        assert_eq!(failed_at, Some(limit), "fails at the first byte past the limit");
        // The decoder stays failed and drops further input.
        decoder.feed(Bytes::from_static(b"\n\ndata: ok\n\n"));
        assert!(decoder.next_event().is_err());
        assert!(decoder.finish().is_err());
        assert!(!decoder.has_partial());
    }

    #[test]
    fn lines_up_to_the_limit_pass() {
        let line = format!("data: {}", "x".repeat(10));
        let input = format!("{line}\r\n\r\n");
        let (events, failed, _) = decode_split(input.as_bytes(), &[], line.len());
        assert!(!failed);
        assert_eq!(events.len(), 1);
        let (_, failed, _) = decode_split(input.as_bytes(), &[], line.len() - 1);
        assert!(failed);
        // The same in 1-byte chunks, where the line is assembled across chunks.
        let cuts: Vec<usize> = (0..input.len()).collect();
        assert!(!decode_split(input.as_bytes(), &cuts, line.len()).1);
        assert!(decode_split(input.as_bytes(), &cuts, line.len() - 1).1);
    }

    #[test]
    fn oversize_joined_data_fails() {
        // Every line is within the limit; the joined data (3 + 1 + 3 + 1 + 3 = 11) is not.
        let input = b"data: aaa\ndata: bbb\ndata: ccc\n\n";
        let (events, failed, _) = decode_split(input, &[], 10);
        assert!(failed);
        assert!(events.is_empty());
        let (events, failed, _) = decode_split(input, &[], 11);
        assert!(!failed);
        assert_eq!(events, vec![data("aaa\nbbb\nccc")]);
    }

    #[test]
    fn a_large_event_in_one_byte_chunks() {
        let payload = "y".repeat(1 << 20);
        let input = format!("data: {payload}\n\n");
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for b in input.as_bytes().chunks(1) {
            decoder.feed(Bytes::copy_from_slice(b));
            while let Some(event) = decoder.next_event().unwrap() {
                events.push(event);
            }
        }
        assert_eq!(events, vec![data(&payload)]);
    }

    #[test]
    fn the_oracle_agrees_on_the_examples() {
        for input in [
            &b"data: a\n\n"[..],
            b"\xEF\xBB\xBFdata: a\r\rid: 3\ndata: b\r\n\r\n",
            b"event: e\ndata:  x\ndata\n\nretry: 5\n\ndata: y\n\n",
        ] {
            assert_eq!(decode(input), oracle(input));
        }
    }

    /// One event block of a generated stream.
    #[derive(Debug, Clone)]
    struct Block {
        comment: bool,
        event: Option<String>,
        id: Option<String>,
        retry: Option<u32>,
        data: Vec<String>,
        unknown: bool,
    }

    fn block() -> impl Strategy<Value = Block> {
        (
            any::<bool>(),
            proptest::option::of("[a-z_]{0,12}"),
            proptest::option::of("[a-z0-9]{0,6}"),
            proptest::option::of(any::<u32>()),
            prop::collection::vec("[ -~é€😀]{0,40}", 0..4),
            any::<bool>(),
        )
            .prop_map(|(comment, event, id, retry, data, unknown)| Block {
                comment,
                event,
                id,
                retry,
                data,
                unknown,
            })
    }

    /// Serializes blocks with the given line endings (cycled), returning the bytes and the
    /// events the spec says they carry.
    fn render(blocks: &[Block], endings: &[u8], bom: bool) -> (Vec<u8>, Vec<SseEvent>) {
        let mut out = if bom { BOM_BYTES.to_vec() } else { Vec::new() };
        let mut expected = Vec::new();
        let mut n = 0usize;
        let mut last_id: Option<String> = None;
        let mut retry = None;
        let mut line = |out: &mut Vec<u8>, text: &str| {
            out.extend_from_slice(text.as_bytes());
            let ending = endings[n % endings.len()];
            n += 1;
            // After a CR, an LF would merge into a CRLF and swallow an empty line.
            let ending = if text.is_empty() && out.len() >= 2 && out[out.len() - 1] == b'\r' {
                if ending == 0 { 1 } else { ending }
            } else {
                ending
            };
            out.extend_from_slice([&b"\n"[..], b"\r", b"\r\n"][usize::from(ending) % 3]);
        };
        for b in blocks {
            if b.comment {
                line(&mut out, ": comment");
            }
            if let Some(e) = &b.event {
                line(&mut out, &format!("event: {e}"));
            }
            if let Some(id) = &b.id {
                line(&mut out, &format!("id: {id}"));
                last_id = (!id.is_empty()).then(|| id.clone());
            }
            if let Some(r) = b.retry {
                line(&mut out, &format!("retry: {r}"));
                retry = Some(u64::from(r));
            }
            if b.unknown {
                line(&mut out, "x-unknown: 1");
            }
            for d in &b.data {
                // Write the separator space only sometimes: it is optional unless the value
                // itself starts with a space.
                if d.starts_with(' ') || d.len() % 2 == 0 {
                    line(&mut out, &format!("data: {d}"));
                } else {
                    line(&mut out, &format!("data:{d}"));
                }
            }
            line(&mut out, "");
            if !b.data.is_empty() {
                expected.push(SseEvent {
                    event: b.event.clone().filter(|e| !e.is_empty()),
                    data: Bytes::from(b.data.join("\n")),
                    id: last_id.clone(),
                    retry: retry.take(),
                });
            }
        }
        (out, expected)
    }

    fn sse_fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"data".to_vec()),
            Just(b"event".to_vec()),
            Just(b"id".to_vec()),
            Just(b"retry".to_vec()),
            Just(b":".to_vec()),
            Just(b" ".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n\n".to_vec()),
            Just(BOM_BYTES.to_vec()),
            Just(b"\xEF".to_vec()),
            Just(b"\0".to_vec()),
            Just(b"12".to_vec()),
            prop::collection::vec(any::<u8>(), 0..4),
        ]
    }

    fn cuts() -> impl Strategy<Value = Vec<usize>> {
        prop::collection::vec(0usize..400, 0..24)
    }

    proptest! {
        #[test]
        fn generated_streams_decode_to_their_events_however_split(
            blocks in prop::collection::vec(block(), 0..8),
            endings in prop::collection::vec(0u8..3, 1..8),
            bom in any::<bool>(),
            cuts in cuts(),
        ) {
            let (input, expected) = render(&blocks, &endings, bom);
            let max = SseDecoder::DEFAULT_MAX_EVENT_SIZE;
            let whole = decode_split(&input, &[], max);
            prop_assert_eq!(&whole.0, &expected);
            prop_assert!(!whole.1 && !whole.2);
            prop_assert_eq!(decode_split(&input, &cuts, max), whole);
        }

        #[test]
        fn sse_like_noise_matches_the_oracle_however_split(
            fragments in prop::collection::vec(sse_fragment(), 0..80),
            cuts in cuts(),
        ) {
            let input = fragments.concat();
            let max = SseDecoder::DEFAULT_MAX_EVENT_SIZE;
            let whole = decode_split(&input, &[], max);
            prop_assert_eq!(&whole.0, &oracle(&input));
            prop_assert_eq!(decode_split(&input, &cuts, max), whole);
        }

        #[test]
        fn the_size_limit_does_not_depend_on_the_split(
            fragments in prop::collection::vec(sse_fragment(), 0..80),
            cuts in cuts(),
            max in 0usize..24,
        ) {
            let input = fragments.concat();
            prop_assert_eq!(decode_split(&input, &cuts, max), decode_split(&input, &[], max));
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            input in prop::collection::vec(any::<u8>(), 0..512),
            cuts in cuts(),
            max in prop_oneof![Just(usize::MAX), 0usize..64],
        ) {
            decode_split(&input, &cuts, max);
        }
    }
}
