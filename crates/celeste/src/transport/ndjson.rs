//! A push-style newline-delimited JSON (NDJSON / JSON Lines) framer.
//!
//! It only frames: each line is handed out as raw bytes for the JSON decoder, which reports
//! malformed payloads. Work is linear in the input size however the input is split, and a line
//! inside one fed chunk shares that chunk's memory instead of being copied.

use bytes::Bytes;

use super::lines::{LineSplitter, Terminators};
use crate::error::Error;

/// A push-style NDJSON line decoder.
///
/// ```
/// use bytes::Bytes;
/// use celeste::framing::NdjsonDecoder;
///
/// let mut decoder = NdjsonDecoder::new(NdjsonDecoder::DEFAULT_MAX_LINE_SIZE);
/// decoder.feed(Bytes::from_static(b"{\"a\":1}\r\n\n{\"b\""));
/// assert_eq!(&decoder.next_line()?.unwrap()[..], b"{\"a\":1}");
/// assert!(decoder.next_line()?.is_none()); // the blank line is skipped, the rest incomplete
/// decoder.feed(Bytes::from_static(b":2}"));
/// assert_eq!(&decoder.finish()?.unwrap()[..], b"{\"b\":2}");
/// # Ok::<(), celeste::Error>(())
/// ```
///
/// Lines end with LF; a CR right before the LF is dropped. Lines of only ASCII whitespace are
/// skipped.
///
/// # Size limit
///
/// A line longer than `max_line_size` bytes (without its terminator) makes
/// [`next_line`](Self::next_line) return [`Error::EventTooLarge`], checked as bytes arrive so
/// memory stays bounded by the limit plus the chunks not yet drained. The decoder is then
/// unusable: it drops what it buffered, ignores further input, and every later call to
/// `next_line` or [`finish`](Self::finish) returns the same error.
#[derive(Debug)]
pub struct NdjsonDecoder {
    lines: LineSplitter,
    max_line_size: usize,
    failed: bool,
}

impl NdjsonDecoder {
    /// The default limit on one line: 64 MiB.
    pub const DEFAULT_MAX_LINE_SIZE: usize = 64 * 1024 * 1024;

    /// A decoder that rejects lines longer than `max_line_size` bytes.
    pub fn new(max_line_size: usize) -> Self {
        NdjsonDecoder { lines: LineSplitter::new(max_line_size, Terminators::Lf, false), max_line_size, failed: false }
    }

    /// Appends a chunk of the stream. Splitting happens in [`next_line`](Self::next_line), so
    /// this is cheap; ignored after an [`Error::EventTooLarge`].
    pub fn feed(&mut self, chunk: Bytes) {
        if !self.failed {
            self.lines.feed(chunk);
        }
    }

    /// The next complete non-blank line without its terminator, or `Ok(None)` when more input
    /// is needed.
    pub fn next_line(&mut self) -> Result<Option<Bytes>, Error> {
        if self.failed {
            return Err(self.too_large());
        }
        loop {
            match self.lines.next_line() {
                Ok(None) => return Ok(None),
                Ok(Some(line)) => {
                    if !is_blank(line.as_slice()) {
                        return Ok(Some(line.slice(0..)));
                    }
                }
                Err(_) => return Err(self.fail()),
            }
        }
    }

    /// Ends the input: returns the complete lines still buffered, one per call, then the last
    /// line if the stream did not end with a newline, then `Ok(None)`.
    pub fn finish(&mut self) -> Result<Option<Bytes>, Error> {
        if let Some(line) = self.next_line()? {
            return Ok(Some(line));
        }
        Ok(self.lines.take_partial().filter(|line| !is_blank(line)))
    }

    /// Whether an unterminated line is buffered. Meaningful once `next_line` has returned
    /// `Ok(None)` (before that, undrained complete lines also count).
    pub fn has_partial(&self) -> bool {
        !self.failed && self.lines.has_partial()
    }

    fn too_large(&self) -> Error {
        Error::EventTooLarge { limit: self.max_line_size }
    }

    fn fail(&mut self) -> Error {
        self.failed = true;
        self.lines.clear();
        self.too_large()
    }
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        NdjsonDecoder::new(NdjsonDecoder::DEFAULT_MAX_LINE_SIZE)
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Feeds `input` cut at `cuts`, draining after each chunk, then finishes. Returns the lines
    /// and whether decoding failed.
    fn decode_split(input: &[u8], cuts: &[usize], max: usize) -> (Vec<Bytes>, bool) {
        let input = Bytes::copy_from_slice(input);
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        cuts.push(0);
        cuts.push(input.len());
        cuts.sort_unstable();
        let mut decoder = NdjsonDecoder::new(max);
        let mut lines = Vec::new();
        let mut drain = |decoder: &mut NdjsonDecoder, last: bool| loop {
            let next = if last { decoder.finish() } else { decoder.next_line() };
            match next {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => return false,
                Err(Error::EventTooLarge { limit }) => {
                    assert_eq!(limit, max);
                    assert!(decoder.next_line().is_err(), "the error must stick");
                    return true;
                }
                Err(other) => panic!("unexpected error {other}"),
            }
        };
        for pair in cuts.windows(2) {
            decoder.feed(input.slice(pair[0]..pair[1]));
            if drain(&mut decoder, false) {
                return (lines, true);
            }
        }
        let failed = drain(&mut decoder, true);
        assert!(failed || !decoder.has_partial());
        (lines, failed)
    }

    fn decode(input: &[u8]) -> Vec<Bytes> {
        decode_split(input, &[], usize::MAX).0
    }

    fn bytewise(input: &[u8]) -> Vec<usize> {
        (0..input.len()).collect()
    }

    fn lines(lines: &[&str]) -> Vec<Bytes> {
        lines.iter().map(|l| Bytes::copy_from_slice(l.as_bytes())).collect()
    }

    /// A deliberately naive whole-input transcription of the framing rules.
    fn oracle(input: &[u8]) -> Vec<Bytes> {
        input
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
            .map(Bytes::copy_from_slice)
            .collect()
    }

    #[test]
    fn splits_on_lf_and_crlf() {
        let input = b"{\"a\":1}\n{\"b\":2}\r\n{\"c\":3}\n";
        let expected = lines(&["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        assert_eq!(decode(input), expected);
        assert_eq!(decode_split(input, &bytewise(input), usize::MAX).0, expected);
    }

    #[test]
    fn crlf_split_across_chunks() {
        let (got, _) = decode_split(b"a\r\nb\r\n", &[2], usize::MAX);
        assert_eq!(got, lines(&["a", "b"]));
        let (got, _) = decode_split(b"abc\r\n", &[1, 4], usize::MAX);
        assert_eq!(got, lines(&["abc"]));
    }

    #[test]
    fn a_lone_cr_is_not_a_terminator() {
        assert_eq!(decode(b"a\rb\nc\r\r\n"), lines(&["a\rb", "c\r"]));
    }

    #[test]
    fn blank_and_whitespace_only_lines_are_skipped() {
        assert_eq!(decode(b"\n\r\n  \t\n{}\n \r\n\n[1]\n   "), lines(&["{}", "[1]"]));
        // Surrounding whitespace of a real line is the JSON decoder's business.
        assert_eq!(decode(b" {} \n"), lines(&[" {} "]));
    }

    #[test]
    fn finish_returns_a_last_line_without_newline() {
        let mut decoder = NdjsonDecoder::default();
        decoder.feed(Bytes::from_static(b"{\"a\":1}\n{\"done\":"));
        assert_eq!(&decoder.next_line().unwrap().unwrap()[..], b"{\"a\":1}");
        assert!(decoder.next_line().unwrap().is_none());
        assert!(decoder.has_partial());
        decoder.feed(Bytes::from_static(b"true}\r"));
        assert_eq!(&decoder.finish().unwrap().unwrap()[..], b"{\"done\":true}");
        assert!(decoder.finish().unwrap().is_none());
        assert!(!decoder.has_partial());
    }

    #[test]
    fn a_line_inside_one_chunk_shares_it() {
        let chunk = Bytes::from_static(b"{\"a\":1}\n");
        let mut decoder = NdjsonDecoder::default();
        decoder.feed(chunk.clone());
        let line = decoder.next_line().unwrap().unwrap();
        assert!(chunk.as_ptr_range().contains(&line.as_ptr()));
    }

    #[test]
    fn oversize_lines_fail_early_and_the_failure_sticks() {
        let mut decoder = NdjsonDecoder::new(8);
        let mut failed_at = None;
        for i in 0..100 {
            decoder.feed(Bytes::from_static(b"x"));
            if let Err(e) = decoder.next_line() {
                assert!(matches!(e, Error::EventTooLarge { limit: 8 }));
                failed_at = Some(i);
                break;
            }
        }
        assert_eq!(failed_at, Some(8));
        decoder.feed(Bytes::from_static(b"\n{}\n"));
        assert!(decoder.next_line().is_err());
        assert!(decoder.finish().is_err());
        // The unterminated last line counts too.
        assert!(decode_split(b"{}\n123456789", &[], 8).1);
    }

    #[test]
    fn the_limit_excludes_the_terminator() {
        let input = b"12345678\r\n";
        assert_eq!(decode_split(input, &[], 8), (lines(&["12345678"]), false));
        assert!(decode_split(input, &[], 7).1);
        // Even when the CR arrives last in a chunk and could still be part of the line.
        assert_eq!(decode_split(input, &bytewise(input), 8), (lines(&["12345678"]), false));
        assert!(decode_split(input, &bytewise(input), 7).1);
    }

    proptest! {
        #[test]
        fn json_lines_survive_any_split(
            values in prop::collection::vec("[ -~]{0,30}", 0..20),
            crlf in prop::collection::vec(any::<bool>(), 1..5),
            trailing_newline in any::<bool>(),
            cuts in prop::collection::vec(0usize..700, 0..24),
        ) {
            let mut input = Vec::new();
            for (i, v) in values.iter().enumerate() {
                input.extend_from_slice(v.as_bytes());
                if i + 1 < values.len() || trailing_newline {
                    input.extend_from_slice(if crlf[i % crlf.len()] { b"\r\n" } else { b"\n" });
                }
            }
            let expected: Vec<Bytes> = values
                .iter()
                .filter(|v| !v.trim_matches(|c: char| c.is_ascii_whitespace()).is_empty())
                .map(|v| Bytes::copy_from_slice(v.as_bytes()))
                .collect();
            let whole = decode_split(&input, &[], usize::MAX);
            prop_assert_eq!(&whole.0, &expected);
            prop_assert_eq!(decode_split(&input, &cuts, usize::MAX), whole);
        }

        #[test]
        fn noise_matches_the_oracle_however_split(
            input in prop::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'{'), any::<u8>()],
                0..300,
            ),
            cuts in prop::collection::vec(0usize..300, 0..24),
            max in prop_oneof![Just(usize::MAX), 0usize..16],
        ) {
            let whole = decode_split(&input, &[], max);
            if max == usize::MAX {
                prop_assert_eq!(&whole.0, &oracle(&input));
            }
            prop_assert_eq!(decode_split(&input, &cuts, max), whole);
        }
    }
}
