//! Reading sources on worker threads while the bundle is walked (`--threads`).
//!
//! The walk itself stays on one thread and in one order: it decides every source id, charges
//! the limits and reads archives and compressed streams exactly as a sequential run does. What
//! moves to the workers is the reading of a source's content:
//!
//! - a whole plain file on disk (`Sink::file`): the worker gets the open file and reads it
//!   itself, so the files of a directory bundle are read and scanned side by side;
//! - any other source (a tar or zip member, a decompressed file, stdin): the walking thread
//!   reads its bytes (decompressing them) and streams them to a worker through a bounded
//!   channel of chunks, so decompression and scanning overlap. A tar stream is sequential, so
//!   its members are handed over one after the other; a member is read ahead by at most
//!   `CHUNKS_PER_SOURCE` chunks.
//!
//! Sources under `MIN_HANDOFF_BYTES` stay on the walking thread (a hand-off costs more than
//! scanning them).
//!
//! Memory stays flat: at most `workers` queued jobs, and each streamed source holds at most
//! `CHUNKS_PER_SOURCE + 1` chunks of `READ_BUFFER` bytes; chunk buffers are reused. Results
//! come back tagged with their source id, and the caller orders them by id, so the output does
//! not depend on which worker finished first.

use super::archive::READ_BUFFER;
use super::FileReader;
use std::io::{self, BufRead, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Mutex;

/// Chunks a streamed source may have in flight (read but not yet scanned): 16 × 256 KiB =
/// 4 MiB per source, enough to keep a decompressing walker and a scanning worker both busy
/// through the jitter of either, without buffering a large member.
pub const CHUNKS_PER_SOURCE: usize = 16;

/// Sources smaller than this are read on the walking thread rather than handed to a worker:
/// a hand-off costs about as much as scanning a few KiB (measured on 3,000 pod logs of ~5 KiB:
/// handed over one by one, the run was slower than on one thread); at 64 KiB it is a few
/// percent of the scan.
pub const MIN_HANDOFF_BYTES: usize = 64 * 1024;

/// The worker threads to start for `--threads N`: 0 means run everything on the calling thread
/// (`N` = 1, or one core). `N` = 0 means one worker per core.
pub fn workers(threads: usize) -> usize {
    let n = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    if n <= 1 {
        0
    } else {
        n
    }
}

/// A read error carried to the worker: kind and message (`io::Error` is not `Clone`).
type Chunk = Result<Vec<u8>, (io::ErrorKind, String)>;

enum Input {
    File(FileReader),
    Stream(ChunkReader),
}

struct Job {
    id: usize,
    display: String,
    input: Input,
}

/// What `Pool::stream` did with a source.
pub enum Streamed {
    /// A worker reads it; its result comes back with the others.
    HandedOff,
    /// Too small to be worth a worker: its bytes, as read, to be read on this thread.
    Small(SmallSource),
}

/// A small source's bytes (and the read error that ended them, if any), as a `BufRead`.
pub struct SmallSource(ChunkReader);

impl Read for SmallSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl BufRead for SmallSource {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.0.consume(amt)
    }
}

/// Hands sources to the workers; see the module comment.
pub struct Pool {
    jobs: SyncSender<Job>,
    /// Chunk buffers the workers are done with, for reuse.
    spare: Receiver<Vec<u8>>,
    spare_back: Sender<Vec<u8>>,
}

impl Pool {
    /// Read `reader` to its end (or first error) on this thread. A source of at least
    /// `MIN_HANDOFF_BYTES` is streamed to a worker that runs the work function on it
    /// (`Streamed::HandedOff`); a smaller one is given back whole, as read, for the caller to
    /// read on this thread (`Streamed::Small`). Either way the reader is read exactly as far as
    /// a scan reads it, so the limits see the same bytes.
    pub fn stream(&self, id: usize, display: &str, reader: &mut dyn BufRead) -> Streamed {
        let mut first: Vec<Chunk> = Vec::new();
        let mut first_bytes = 0;
        while first_bytes < MIN_HANDOFF_BYTES {
            match self.next_chunk(reader) {
                None => return Streamed::Small(self.replay(first)),
                Some(chunk) => {
                    let last = chunk.is_err();
                    first_bytes += chunk.as_ref().map_or(0, Vec::len);
                    first.push(chunk);
                    if last {
                        return Streamed::Small(self.replay(first));
                    }
                }
            }
        }
        let (tx, rx) = sync_channel::<Chunk>(CHUNKS_PER_SOURCE);
        let job = Job {
            id,
            display: display.to_string(),
            input: Input::Stream(self.chunk_reader(rx)),
        };
        // The workers are gone only if one panicked; the scope reports that at its end, so the
        // rest is still read (for the limits) and dropped.
        let mut alive = self.jobs.send(job).is_ok();
        for chunk in first {
            alive = alive && tx.send(chunk).is_ok();
        }
        while let Some(chunk) = self.next_chunk(reader) {
            let last = chunk.is_err();
            alive = alive && tx.send(chunk).is_ok();
            if last {
                break;
            }
        }
        Streamed::HandedOff
    }

    /// The next chunk of `reader`: bytes, or the read error that ends it; `None` at its end.
    fn next_chunk(&self, reader: &mut dyn BufRead) -> Option<Chunk> {
        loop {
            return match reader.fill_buf() {
                Ok([]) => None,
                Ok(bytes) => {
                    let mut buf = self
                        .spare
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(READ_BUFFER));
                    buf.clear();
                    buf.extend_from_slice(bytes);
                    let n = bytes.len();
                    reader.consume(n);
                    Some(Ok(buf))
                }
                // As `LineReader` does: an interrupted read is retried.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Some(Err((e.kind(), e.to_string()))),
            };
        }
    }

    fn chunk_reader(&self, chunks: Receiver<Chunk>) -> ChunkReader {
        ChunkReader {
            chunks,
            current: Vec::new(),
            pos: 0,
            done: false,
            spare: self.spare_back.clone(),
        }
    }

    /// A reader over chunks already read (a small source read on this thread).
    fn replay(&self, chunks: Vec<Chunk>) -> SmallSource {
        let (tx, rx) = channel();
        for c in chunks {
            // The receiver is right here: sending cannot fail.
            let _ = tx.send(c);
        }
        SmallSource(self.chunk_reader(rx))
    }

    /// Queue a whole file; `Err` gives it back if no worker is left.
    pub fn file(&self, id: usize, display: &str, reader: FileReader) -> Result<(), FileReader> {
        let job = Job {
            id,
            display: display.to_string(),
            input: Input::File(reader),
        };
        self.jobs.send(job).map_err(|e| match e.0.input {
            Input::File(r) => r,
            Input::Stream(_) => unreachable!("a file job holds a file"),
        })
    }
}

/// Start `workers` threads running `work(id, display, reader)` on the sources `walk` hands to
/// the pool, run `walk` on this thread, and return its value with every worker result (in no
/// particular order: sort by id).
pub fn run<T, C, W>(
    workers: usize,
    work: &(dyn Fn(usize, &str, &mut dyn BufRead) -> T + Sync),
    walk: W,
) -> (C, Vec<(usize, T)>)
where
    T: Send,
    W: FnOnce(&Pool) -> C,
{
    let (jobs_tx, jobs_rx) = sync_channel::<Job>(workers);
    let jobs_rx = Mutex::new(jobs_rx);
    let (results_tx, results_rx) = channel::<(usize, T)>();
    let (spare_back, spare) = channel::<Vec<u8>>();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (jobs_rx, results_tx) = (&jobs_rx, results_tx.clone());
            s.spawn(move || loop {
                // The lock is held only to take the next job, never while working on one.
                let next = match jobs_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(job) = next else { return };
                let r = match job.input {
                    Input::File(mut f) => work(job.id, &job.display, &mut f),
                    Input::Stream(mut c) => work(job.id, &job.display, &mut c),
                };
                if results_tx.send((job.id, r)).is_err() {
                    return;
                }
            });
        }
        drop(results_tx);
        let pool = Pool {
            jobs: jobs_tx,
            spare,
            spare_back,
        };
        let walked = walk(&pool);
        // Closing the job queue lets the workers finish what is queued and stop.
        drop(pool);
        (walked, results_rx.iter().collect())
    })
}

/// The worker's side of a streamed source: a `BufRead` over the chunks, ending with the read
/// error the walking thread met, if any.
struct ChunkReader {
    chunks: Receiver<Chunk>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
    spare: Sender<Vec<u8>>,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.current.len() && !self.done {
            match self.chunks.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    if used.capacity() > 0 {
                        let _ = self.spare.send(used);
                    }
                }
                Ok(Err((kind, message))) => {
                    self.done = true;
                    return Err(io::Error::new(kind, message));
                }
                Err(_) => self.done = true,
            }
        }
        Ok(self.current.get(self.pos..).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.current.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_bytes_and_the_read_error_reach_the_worker_in_order() {
        struct Failing {
            data: Vec<u8>,
            pos: usize,
        }
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.pos >= self.data.len() {
                    return Err(io::Error::other("truncated member"));
                }
                let n = (self.data.len() - self.pos).min(buf.len()).min(1000);
                buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
                self.pos += n;
                Ok(n)
            }
        }
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert!(data.len() > MIN_HANDOFF_BYTES);
        let work = |_id: usize, _d: &str, r: &mut dyn BufRead| {
            let mut got = Vec::new();
            let err = r.read_to_end(&mut got).err().map(|e| e.to_string());
            (got, err)
        };
        let ((), mut results) = run(2, &work, |pool| {
            for id in 0..3 {
                let mut r = io::BufReader::with_capacity(
                    4096,
                    Failing {
                        data: data.clone(),
                        pos: 0,
                    },
                );
                assert!(matches!(
                    pool.stream(id, "x.log", &mut r),
                    Streamed::HandedOff
                ));
            }
        });
        results.sort_by_key(|(id, _)| *id);
        assert_eq!(results.len(), 3);
        for (i, (id, (got, err))) in results.into_iter().enumerate() {
            assert_eq!(id, i);
            assert_eq!(got, data);
            assert_eq!(err.as_deref(), Some("truncated member"));
        }
    }

    #[test]
    fn one_thread_means_no_workers() {
        assert_eq!(workers(1), 0);
        assert_eq!(workers(3), 3);
    }
}
