//! The line splitter under both framing decoders.
//!
//! Input arrives as a queue of [`Bytes`] chunks. A line that lies inside one chunk is handed out
//! as a view of that chunk, so callers can keep parts of it with a zero-copy [`Bytes::slice`]. A
//! line that spans chunks is copied once, byte by byte as its pieces arrive, into `partial`; the
//! tail of a chunk that holds no terminator moves there whole, so no byte is ever searched twice
//! and the cost stays linear however the input is split.

use std::collections::VecDeque;
use std::ops::Range;

use bytes::{Bytes, BytesMut};

/// The UTF-8 byte order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Which bytes end a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminators {
    /// LF, CR or CRLF (Server-Sent Events).
    Any,
    /// LF only; one CR right before it is dropped from the line (NDJSON).
    Lf,
}

/// A complete line, without its terminator.
pub(crate) struct Line<'a> {
    buf: &'a Bytes,
    range: Range<usize>,
}

impl<'a> Line<'a> {
    /// All of `buf` as one line.
    pub(crate) fn whole(buf: &'a Bytes) -> Self {
        Line { buf, range: 0..buf.len() }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }

    /// The bytes of `range` (relative to the line) as a `Bytes` sharing the input's memory.
    pub(crate) fn slice(&self, range: std::ops::RangeFrom<usize>) -> Bytes {
        self.buf.slice(self.range.start + range.start..self.range.end)
    }
}

/// The line was longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong;

#[derive(Debug)]
pub(crate) struct LineSplitter {
    chunks: VecDeque<Bytes>,
    /// Bytes of `chunks[0]` before this index are consumed.
    pos: usize,
    /// The beginning of a line whose terminator has not arrived yet.
    partial: BytesMut,
    /// The last line assembled from `partial`, held here so a [`Line`] can borrow it.
    joined: Bytes,
    max_line: usize,
    terminators: Terminators,
    /// The last line ended with a CR at the very end of a chunk: an LF opening the next chunk
    /// belongs to that line ending, not to an empty line.
    after_cr: bool,
    /// How many bytes of a leading BOM have been matched; `BOM.len()` once the check is over.
    bom_matched: usize,
}

impl LineSplitter {
    pub(crate) fn new(max_line: usize, terminators: Terminators, skip_bom: bool) -> Self {
        LineSplitter {
            chunks: VecDeque::new(),
            pos: 0,
            partial: BytesMut::new(),
            joined: Bytes::new(),
            max_line,
            terminators,
            after_cr: false,
            bom_matched: if skip_bom { 0 } else { BOM.len() },
        }
    }

    pub(crate) fn feed(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.chunks.push_back(chunk);
        }
    }

    /// Drops all buffered input, releasing its memory.
    pub(crate) fn clear(&mut self) {
        self.chunks = VecDeque::new();
        self.pos = 0;
        self.partial = BytesMut::new();
        self.joined = Bytes::new();
        self.after_cr = false;
    }

    /// Whether some input is buffered that is not part of a line returned so far.
    pub(crate) fn has_partial(&self) -> bool {
        !self.partial.is_empty()
            || (self.bom_matched > 0 && self.bom_matched < BOM.len())
            // Empty chunks are never queued, so any chunk past the first holds unread bytes.
            || self.chunks.len() > 1
            || self.chunks.front().is_some_and(|c| c.len() > self.pos)
    }

    /// The next complete line, or `None` when more input is needed.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line<'_>>, TooLong> {
        if !self.joined.is_empty() {
            // Dropping our handle lets `partial` reclaim the allocation when the caller kept
            // nothing of the previous line.
            self.joined = Bytes::new();
        }
        loop {
            let Some(front) = self.chunks.front() else {
                return Ok(None);
            };
            if self.pos == front.len() {
                self.chunks.pop_front();
                self.pos = 0;
                continue;
            }
            let rest = &front[self.pos..];
            if self.bom_matched < BOM.len() {
                if rest[0] == BOM[self.bom_matched] {
                    self.bom_matched += 1;
                    self.pos += 1;
                } else {
                    // Not a BOM after all: the bytes that looked like one start the first line.
                    self.partial.extend_from_slice(&BOM[..self.bom_matched]);
                    self.bom_matched = BOM.len();
                }
                continue;
            }
            if self.after_cr {
                self.after_cr = false;
                if rest[0] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let found = match self.terminators {
                Terminators::Any => memchr::memchr2(b'\n', b'\r', rest),
                Terminators::Lf => memchr::memchr(b'\n', rest),
            };
            let Some(i) = found else {
                let pending = self.partial.len() + rest.len();
                // A trailing CR may turn out to be half of this line's CRLF, so it does not count.
                let counted =
                    if self.terminators == Terminators::Lf && rest.ends_with(b"\r") { pending - 1 } else { pending };
                if counted > self.max_line {
                    return Err(TooLong);
                }
                self.partial.extend_from_slice(rest);
                self.chunks.pop_front();
                self.pos = 0;
                continue;
            };
            let start = self.pos;
            let mut end = start + i;
            self.pos = end + 1;
            if rest[i] == b'\r' {
                match rest.get(i + 1) {
                    Some(b'\n') => self.pos += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.partial.is_empty() {
                if self.terminators == Terminators::Lf && i > 0 && rest[i - 1] == b'\r' {
                    end -= 1;
                }
                if end - start > self.max_line {
                    return Err(TooLong);
                }
                return Ok(Some(Line { buf: &self.chunks[0], range: start..end }));
            }
            // Checked before copying, so a huge chunk is never copied only to be rejected.
            let mut len = self.partial.len() + i;
            let last = if i > 0 { rest.get(i - 1) } else { self.partial.last() };
            let drop_cr = self.terminators == Terminators::Lf && last == Some(&b'\r');
            if drop_cr {
                len -= 1;
            }
            if len > self.max_line {
                return Err(TooLong);
            }
            self.partial.extend_from_slice(&rest[..i]);
            self.partial.truncate(len);
            self.joined = self.partial.split().freeze();
            return Ok(Some(Line { buf: &self.joined, range: 0..self.joined.len() }));
        }
    }

    /// The unterminated last line, once [`next_line`](Self::next_line) has returned `None`
    /// (a CR before the end is dropped in [`Terminators::Lf`] mode).
    pub(crate) fn take_partial(&mut self) -> Option<Bytes> {
        debug_assert!(self.chunks.is_empty(), "take_partial with unsplit input");
        if self.partial.is_empty() {
            return None;
        }
        if self.terminators == Terminators::Lf && self.partial.ends_with(b"\r") {
            self.partial.truncate(self.partial.len() - 1);
        }
        Some(self.partial.split().freeze())
    }
}
