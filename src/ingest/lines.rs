//! Streaming physical-line reader: memchr line splitting over a `BufRead`, a cap on line
//! length that never buffers past it, and lossless-enough decoding of non-UTF-8 bytes.

use crate::model::Diagnostic;
use memchr::memchr;
use std::borrow::Cow;
use std::io::{self, BufRead};

/// Longest line kept by default. Longer lines keep their first bytes, the rest is skipped
/// without being buffered, and the reader reports it (a 100 MB minified line must not cost 100 MB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_line: usize,
    line_no: u64,
    /// Lines cut at `max_line`: (line number, full length in bytes).
    pub truncated: Vec<(u64, u64)>,
    pub truncated_total: u64,
    /// Lines that held invalid UTF-8 (decoded with U+FFFD replacements).
    pub non_utf8_lines: u64,
    pub first_non_utf8_line: Option<u64>,
    pub bytes_read: u64,
    /// An I/O error that ended the stream (a truncated archive member, a limit hit):
    /// (the line it stopped at, the error).
    pub read_error: Option<(u64, String)>,
}

/// One physical line, 1-based, without its line terminator.
pub struct Line<'a> {
    pub number: u64,
    pub text: Cow<'a, str>,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(256),
            max_line: max_line.max(64),
            line_no: 0,
            truncated: Vec::new(),
            truncated_total: 0,
            non_utf8_lines: 0,
            first_non_utf8_line: None,
            bytes_read: 0,
            read_error: None,
        }
    }

    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// The next line; `None` at the end of input and after a read error, which is kept and
    /// reported by `diagnostics()` (so one bad archive member never stops the analysis).
    pub fn next_or_stop(&mut self) -> Option<Line<'_>> {
        self.next_line().ok().flatten()
    }

    /// What the reader had to do to the input, for the source's diagnostics: a read error that
    /// ended it, lines cut at the length cap, lines that were not UTF-8. Every parser reports
    /// these the same way.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some((line, e)) = &self.read_error {
            out.push(Diagnostic::warning(
                Some(*line),
                format!("read error at line {line}, the rest of the source is not read: {e}"),
            ));
        }
        if self.truncated_total > 0 {
            let first = self
                .truncated
                .iter()
                .map(|(n, len)| format!("line {n} ({len} bytes)"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Diagnostic::warning(
                self.truncated.first().map(|t| t.0),
                format!(
                    "{} line(s) longer than {} bytes were cut to that length: {first}",
                    self.truncated_total, self.max_line
                ),
            ));
        }
        if self.non_utf8_lines > 0 {
            out.push(Diagnostic::info(
                self.first_non_utf8_line,
                format!(
                    "{} line(s) held bytes that are not UTF-8; they were read with U+FFFD in their place",
                    self.non_utf8_lines
                ),
            ));
        }
        out
    }

    /// The next line, or `None` at end of input. I/O errors (a truncated archive member,
    /// a vanished file) end the stream with the error so the caller can report it.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut full_len: u64 = 0;
        let mut saw_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.read_error = Some((self.line_no + 1, e.to_string()));
                    return Err(e);
                }
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (take, done) = match memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            let room = self.max_line.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            full_len += take as u64;
            let consumed = if done { take + 1 } else { take };
            self.bytes_read += consumed as u64;
            self.inner.consume(consumed);
            if done {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.line_no += 1;
        if full_len > self.max_line as u64 {
            self.truncated_total += 1;
            if self.truncated.len() < 16 {
                self.truncated.push((self.line_no, full_len));
            }
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        // A byte-order mark (files saved by Windows editors) is encoding, not content: without
        // this the first line's prefix would not be recognised.
        if self.line_no == 1 && self.buf.starts_with(UTF8_BOM) {
            self.buf.drain(..UTF8_BOM.len());
        }
        // A cut may split a multi-byte character: drop the incomplete tail rather than report
        // the line as not UTF-8.
        if full_len > self.max_line as u64 {
            if let Err(e) = std::str::from_utf8(&self.buf) {
                if e.error_len().is_none() {
                    self.buf.truncate(e.valid_up_to());
                }
            }
        }
        let text = match std::str::from_utf8(&self.buf) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                self.non_utf8_lines += 1;
                self.first_non_utf8_line.get_or_insert(self.line_no);
                String::from_utf8_lossy(&self.buf)
            }
        };
        Ok(Some(Line {
            number: self.line_no,
            text,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> (Vec<(u64, String)>, LineReader<&[u8]>) {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().expect("in-memory read") {
            out.push((l.number, l.text.into_owned()));
        }
        (out, r)
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let (lines, r) = collect(b"a\r\nb\n\nc", 1024);
        assert_eq!(
            lines,
            vec![
                (1, "a".to_string()),
                (2, "b".to_string()),
                (3, String::new()),
                (4, "c".to_string())
            ]
        );
        assert_eq!(r.bytes_read, 7);
    }

    #[test]
    fn caps_long_lines_without_losing_the_next() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nnext\n");
        let (lines, r) = collect(&input, 100);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1.len(), 100);
        assert_eq!(lines[1], (2, "next".to_string()));
        assert_eq!(r.truncated, vec![(1, 10_000)]);
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_whole_and_one_more_byte_is_cut() {
        let mut input = vec![b'x'; 100];
        input.push(b'\n');
        input.extend(vec![b'y'; 101]);
        input.push(b'\n');
        let (lines, r) = collect(&input, 100);
        assert_eq!(lines[0].1.len(), 100);
        assert_eq!(lines[1].1.len(), 100);
        assert_eq!(r.truncated, vec![(2, 101)]);
        assert_eq!(r.truncated_total, 1);
    }

    #[test]
    fn replaces_invalid_utf8() {
        let (lines, r) = collect(b"ok\nbad \xff\xfe here\n", 1024);
        assert_eq!(lines[1].1, "bad \u{fffd}\u{fffd} here");
        assert_eq!(r.non_utf8_lines, 1);
        assert_eq!(r.first_non_utf8_line, Some(2));
    }

    #[test]
    fn strips_a_leading_byte_order_mark_only() {
        let (lines, r) = collect(b"\xef\xbb\xbfNov 21 x\n\xef\xbb\xbfkeep\n", 1024);
        assert_eq!(lines[0].1, "Nov 21 x");
        assert_eq!(lines[1].1, "\u{feff}keep");
        assert_eq!(r.non_utf8_lines, 0);
    }

    #[test]
    fn a_cut_inside_a_multibyte_character_is_not_reported_as_bad_utf8() {
        let mut input = vec![b'a'; 99];
        input.extend_from_slice("é and more text after the cut".as_bytes());
        input.push(b'\n');
        let (lines, r) = collect(&input, 100);
        assert_eq!(lines[0].1, "a".repeat(99));
        assert_eq!(r.non_utf8_lines, 0);
        assert_eq!(r.truncated_total, 1);
    }

    #[test]
    fn empty_input_has_no_lines() {
        let (lines, _) = collect(b"", 1024);
        assert!(lines.is_empty());
    }

    /// A reader that yields its bytes, then fails (a truncated archive member).
    struct FailsAfter(&'static [u8], bool);

    impl std::io::Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 {
                return Err(std::io::Error::other("unexpected end of gzip stream"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.1 = true;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_stops_the_lines_and_is_reported() {
        let mut r = LineReader::new(
            std::io::BufReader::new(FailsAfter(b"one\ntwo\n", false)),
            1024,
        );
        let mut got = Vec::new();
        while let Some(l) = r.next_or_stop() {
            got.push(l.text.into_owned());
        }
        assert_eq!(got, vec!["one", "two"]);
        let d = r.diagnostics();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(3));
        assert_eq!(
            d[0].message,
            "read error at line 3, the rest of the source is not read: unexpected end of gzip stream"
        );
    }
}
