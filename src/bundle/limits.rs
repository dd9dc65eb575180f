//! What one analysis may cost: decompressed bytes, compression ratio per entry, number of
//! entries. Bundles come from customers, so an archive can be a bomb; hitting a limit stops
//! the offending entry (ratio) or the rest of the input (total bytes, entries), never the run.
//!
//! The readers here are the only place limits are enforced: `Counting` measures compressed
//! bytes under a decoder, `RatioGuard` compares one entry's output against them, `Metered`
//! charges every byte produced to the analysis-wide `Budget`.

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

/// 20 GiB: a large sosreport with rotated journals is a few GiB decompressed; past this a run
/// would take many minutes and is more likely a bomb than evidence.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 20 << 30;
/// Text logs compress 5–20×, very repetitive ones up to ~100×; deflate's own ceiling is ~1032×.
/// Past 200× an entry is almost surely a bomb (zeros, one repeated byte).
pub const DEFAULT_MAX_RATIO: u64 = 200;
/// Real sosreports hold ~10–50k entries; 200k leaves room while bounding per-entry work.
pub const DEFAULT_MAX_ENTRIES: u64 = 200_000;
/// A zip inside a tar cannot be streamed (its directory is at the end): it is buffered in
/// memory, so only up to this size.
pub const DEFAULT_MAX_NESTED_ZIP_BYTES: u64 = 256 << 20;
/// The ratio is judged only past this many bytes of an entry: a small file of one repeated
/// line legitimately compresses far beyond 200× and costs nothing to read.
pub const RATIO_GRACE_BYTES: u64 = 1 << 20;

/// The limits of one analysis (flags `--max-total-bytes`, `--max-ratio`, `--max-entries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_total_bytes: u64,
    pub max_ratio: u64,
    pub max_entries: u64,
    pub max_nested_zip_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_ratio: DEFAULT_MAX_RATIO,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_nested_zip_bytes: DEFAULT_MAX_NESTED_ZIP_BYTES,
        }
    }
}

/// The running cost of one analysis, shared by every reader of it (single-threaded).
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    total: Cell<u64>,
    entries: Cell<u64>,
}

impl Budget {
    pub fn new(limits: Limits) -> Rc<Budget> {
        Rc::new(Budget {
            limits,
            total: Cell::new(0),
            entries: Cell::new(0),
        })
    }

    /// Decompressed bytes read so far.
    pub fn total(&self) -> u64 {
        self.total.get()
    }

    pub fn total_exhausted(&self) -> bool {
        self.total.get() >= self.limits.max_total_bytes
    }

    /// Charge bytes read outside a `Metered` reader (a whole file handed to `Sink::file`, whose
    /// size is charged when it is handed over).
    pub fn charge(&self, bytes: u64) {
        self.total.set(self.total().saturating_add(bytes));
    }

    /// Count one more entry; false once the entry limit is passed.
    pub fn take_entry(&self) -> bool {
        let n = self.entries.get() + 1;
        self.entries.set(n);
        n <= self.limits.max_entries
    }

    /// Why nothing more should be read, if so.
    pub fn stop_reason(&self) -> Option<String> {
        if self.total_exhausted() {
            Some(format!(
                "total decompressed bytes limit reached ({} bytes, --max-total-bytes)",
                self.limits.max_total_bytes
            ))
        } else if self.entries.get() > self.limits.max_entries {
            Some(format!(
                "entry limit reached ({} entries, --max-entries)",
                self.limits.max_entries
            ))
        } else {
            None
        }
    }
}

/// A shared byte counter (compressed bytes consumed by a decoder).
pub type Counter = Rc<Cell<u64>>;

pub fn counter() -> Counter {
    Rc::new(Cell::new(0))
}

/// Counts the bytes read through it (seeks pass through, for zip).
pub struct Counting<R> {
    inner: R,
    count: Counter,
}

impl<R> Counting<R> {
    pub fn new(inner: R, count: Counter) -> Self {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn limit_error(msg: String) -> io::Error {
    io::Error::other(msg)
}

/// Charges every byte read to the budget; fails once the total limit is reached.
pub struct Metered<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R> Metered<R> {
    pub fn new(inner: R, budget: Rc<Budget>) -> Self {
        Metered { inner, budget }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let b = &self.budget;
        let room = b.limits.max_total_bytes.saturating_sub(b.total());
        if room == 0 && !buf.is_empty() {
            return Err(limit_error(format!(
                "total decompressed bytes limit reached ({} bytes, --max-total-bytes)",
                b.limits.max_total_bytes
            )));
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        b.total.set(b.total() + n as u64);
        Ok(n)
    }
}

/// Stops one entry whose output outgrows its compressed input by more than `max_ratio`.
pub struct RatioGuard<R> {
    inner: R,
    compressed: Counter,
    start: u64,
    produced: u64,
    max_ratio: u64,
    tripped: Rc<Cell<bool>>,
    active: Rc<Cell<bool>>,
}

impl<R> RatioGuard<R> {
    pub fn new(inner: R, compressed: Counter, max_ratio: u64) -> Self {
        let start = compressed.get();
        RatioGuard {
            inner,
            compressed,
            start,
            produced: 0,
            max_ratio,
            tripped: Rc::new(Cell::new(false)),
            active: Rc::new(Cell::new(true)),
        }
    }

    /// Set once the entry was stopped (for the caller's diagnostic).
    pub fn tripped(&self) -> Rc<Cell<bool>> {
        self.tripped.clone()
    }

    /// Clear to stop judging (a stream found to hold an archive is judged per entry instead).
    pub fn active(&self) -> Rc<Cell<bool>> {
        self.active.clone()
    }
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped.get() {
            return Err(limit_error(ratio_message(self.max_ratio)));
        }
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let consumed = self.compressed.get().saturating_sub(self.start).max(1);
        if self.active.get()
            && self.produced > RATIO_GRACE_BYTES
            && self.produced > consumed.saturating_mul(self.max_ratio)
        {
            self.tripped.set(true);
            return Err(limit_error(ratio_message(self.max_ratio)));
        }
        Ok(n)
    }
}

pub fn ratio_message(max_ratio: u64) -> String {
    format!(
        "decompressed size exceeds {max_ratio}× the compressed size (--max-ratio): \
         the rest of this entry is skipped"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metered_stops_at_the_total() {
        let budget = Budget::new(Limits {
            max_total_bytes: 10,
            ..Limits::default()
        });
        let mut r = Metered::new(&[7u8; 25][..], budget.clone());
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).expect_err("limit");
        assert_eq!(out.len(), 10);
        assert!(err.to_string().contains("--max-total-bytes"));
        assert!(budget.total_exhausted());
        assert!(budget.stop_reason().is_some());
    }

    #[test]
    fn ratio_guard_trips_only_past_grace_and_ratio() {
        let c = counter();
        c.set(100);
        // 2 MiB from 100 compressed bytes... but nothing consumed since start: trips past grace.
        let data = vec![0u8; 2 << 20];
        let mut g = RatioGuard::new(&data[..], c.clone(), 200);
        let tripped = g.tripped();
        let mut out = Vec::new();
        assert!(g.read_to_end(&mut out).is_err());
        assert!(tripped.get());
        // Below the grace size nothing trips, whatever the ratio.
        let small = vec![0u8; RATIO_GRACE_BYTES as usize];
        let mut g = RatioGuard::new(&small[..], c.clone(), 200);
        assert_eq!(g.read_to_end(&mut out).expect("small"), small.len());
        // Enough compressed input: no trip.
        let c2 = counter();
        let mut g = RatioGuard::new(Counting::new(&data[..], c2.clone()), c2, 200);
        assert!(g.read_to_end(&mut Vec::new()).is_ok());
    }

    #[test]
    fn entries_are_counted() {
        let b = Budget::new(Limits {
            max_entries: 2,
            ..Limits::default()
        });
        assert!(b.take_entry());
        assert!(b.take_entry());
        assert!(!b.take_entry());
        assert!(b.stop_reason().expect("stop").contains("--max-entries"));
    }
}
