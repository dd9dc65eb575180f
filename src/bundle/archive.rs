//! Reading entries in place: compressed files decompressed on the fly, tar streamed entry by
//! entry, zip through its central directory, one level of nested archive. Nothing is written
//! to disk; every byte passes through the limits of `limits.rs`.
//!
//! Symlinks and hard links inside an archive are never read twice: tar is sequential, so a
//! link may come before or after its target, and re-reading is impossible. Regular entries
//! are read as they come, under their own path; links are recorded and resolved when the
//! archive ends, inside the archive root only, and listed in `sources` as aliases (or as
//! pointing outside, broken, or looping). Directory bundles follow the same rule (mod.rs).

use super::limits::{counter, Budget, Counter, Counting, Metered, RatioGuard};
use super::{component_order, Sink};
use crate::model::{Diagnostic, Level};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::rc::Rc;

/// Bytes looked at to recognise a container (a tar header is 512 bytes, `ustar` at 257).
const HEAD_BYTES: usize = 512;
/// Read capacity per source: large enough that the content sniffer sees its 8 KiB in one fill.
pub(crate) const READ_BUFFER: usize = 256 * 1024;
/// Longest symlink target read from a zip entry (Linux PATH_MAX).
const MAX_LINK_TARGET: u64 = 4096;
/// Symlink hops followed before calling it a loop (Linux MAXSYMLINKS is 40).
const MAX_LINK_HOPS: usize = 40;
/// Archives are opened at depth 0 (the PATH argument) and 1 (an entry of a bundle): a
/// sosreport inside a support bundle, but no further.
const MAX_ARCHIVE_DEPTH: u32 = 1;

/// Memory the xz decoder may use: `xz -9` needs 65 MiB to decompress; a header asking for
/// more (up to 4 GiB of dictionary) is refused instead of allocated.
const XZ_MEMLIMIT: u64 = 256 << 20;

/// What the first bytes of a stream say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Gzip,
    Xz,
    Zstd,
    Bzip2,
    Tar,
    Zip,
    Plain,
}

pub fn container(head: &[u8]) -> Container {
    if head.starts_with(b"\x1f\x8b") {
        Container::Gzip
    } else if head.starts_with(b"\xfd7zXZ\x00") {
        Container::Xz
    } else if head.starts_with(b"\x28\xb5\x2f\xfd") {
        Container::Zstd
    } else if head.starts_with(b"BZh") && head.get(4..10) == Some(b"1AY&SY") {
        Container::Bzip2
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Container::Zip
    } else if head.get(257..262) == Some(b"ustar") {
        Container::Tar
    } else {
        Container::Plain
    }
}

/// Read up to `n` bytes (fewer only at end of input) without losing them.
fn peek(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// An archive entry's path made safe: relative, no `..`, no empty or `.` components.
pub fn normalise(name: &str) -> Result<String, String> {
    if name.starts_with('/') || name.get(1..2) == Some(":") {
        return Err("absolute path in archive, not read".into());
    }
    let mut parts = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("path with `..` in archive, not read".into()),
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// Where the entries of an archive are: display prefix ("" for the PATH argument itself).
pub(crate) struct Walker<'a> {
    pub budget: Rc<Budget>,
    pub layout: &'a super::layout::Layout,
    pub sink: &'a mut dyn Sink,
}

/// How an entry's bytes reached us, for the limits.
#[derive(Clone)]
pub(crate) struct Origin {
    /// Compressed bytes beneath this entry's content (its decoder's input), if compressed.
    pub compressed: Option<Counter>,
    /// Whether a `Metered` below already charges these bytes (tar streams).
    pub metered: bool,
    /// 0 for the PATH argument, 1 inside a bundle, 2 inside a nested archive.
    pub depth: u32,
    /// True for the PATH argument itself: an archive's entries then sit at the root.
    pub is_root: bool,
}

impl Walker<'_> {
    fn diag(&mut self, level: Level, path: &str, message: String) {
        self.sink.diagnostic(Diagnostic {
            level,
            path: Some(path.to_string()),
            line: None,
            message,
        });
    }

    fn archive_prefix(display: &str, origin: &Origin) -> String {
        if origin.is_root {
            String::new()
        } else {
            format!("{display}/")
        }
    }

    /// Read one file-like entry: decompress, open as an archive, or hand to the sink.
    pub fn read_entry(&mut self, display: &str, reader: &mut dyn Read, origin: Origin) {
        if let Some(why) = self.layout.noise(display) {
            self.sink.skip(display, format!("known noise: {why}"));
            return;
        }
        let head = match peek(reader, HEAD_BYTES) {
            Ok(h) => h,
            Err(e) => return self.sink.skip(display, format!("unreadable: {e}")),
        };
        let mut joined = Cursor::new(head).chain(reader);
        let kind = container(joined.get_ref().0.get_ref());
        match kind {
            Container::Gzip | Container::Xz | Container::Zstd => {
                self.read_compressed(display, &mut joined, kind, origin)
            }
            _ => self.read_content(display, &mut joined, kind, origin),
        }
    }

    fn read_compressed(
        &mut self,
        display: &str,
        reader: &mut dyn Read,
        kind: Container,
        origin: Origin,
    ) {
        let compressed = counter();
        let counting = Counting::new(reader, compressed.clone());
        let decoder: Box<dyn Read + '_> = match kind {
            Container::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counting)),
            Container::Xz => {
                match xz2::stream::Stream::new_stream_decoder(
                    XZ_MEMLIMIT,
                    xz2::stream::CONCATENATED,
                ) {
                    Ok(stream) => Box::new(xz2::read::XzDecoder::new_stream(counting, stream)),
                    Err(e) => return self.sink.skip(display, format!("xz decoder: {e}")),
                }
            }
            _ => match zstd::stream::read::Decoder::new(counting) {
                Ok(d) => Box::new(d),
                Err(e) => return self.sink.skip(display, format!("corrupt zstd data: {e}")),
            },
        };
        let guard = RatioGuard::new(decoder, compressed.clone(), self.budget.limits.max_ratio);
        let (tripped, active) = (guard.tripped(), guard.active());
        let mut metered = Metered::new(guard, self.budget.clone());
        let head = match peek(&mut metered, HEAD_BYTES) {
            Ok(h) => h,
            Err(e) => {
                return self
                    .sink
                    .skip(display, format!("corrupt compressed data: {e}"))
            }
        };
        let inner = container(&head);
        let mut joined = Cursor::new(head).chain(metered);
        let origin = Origin {
            compressed: Some(compressed),
            metered: true,
            ..origin
        };
        match inner {
            Container::Gzip | Container::Xz | Container::Zstd => self.sink.skip(
                display,
                "compressed twice (a compressed file inside a compressed file), not opened".into(),
            ),
            Container::Tar | Container::Zip => {
                // An archive's ratio is judged per entry: one bomb must not stop its siblings.
                active.set(false);
                self.read_content(display, &mut joined, inner, origin)
            }
            _ => {
                // This decoder's guard already judges the whole file.
                let plain = Origin {
                    compressed: None,
                    ..origin
                };
                self.read_plain(display, &mut joined, &plain)
            }
        }
        if tripped.get() {
            let msg = super::limits::ratio_message(self.budget.limits.max_ratio);
            self.diag(Level::Warning, display, msg);
        }
    }

    /// Decompressed bytes: an archive to open, or a source for the sink.
    fn read_content(
        &mut self,
        display: &str,
        reader: &mut dyn Read,
        kind: Container,
        origin: Origin,
    ) {
        let can_open = origin.depth <= MAX_ARCHIVE_DEPTH;
        match kind {
            Container::Tar | Container::Zip if !can_open => self.sink.skip(
                display,
                "archive nested more than one level deep, not opened".into(),
            ),
            Container::Tar => {
                let prefix = Self::archive_prefix(display, &origin);
                self.read_tar(&prefix, display, reader, origin)
            }
            Container::Zip => self.read_buffered_zip(display, reader, origin),
            Container::Bzip2 => self.sink.skip(
                display,
                "bzip2-compressed data is not supported: recompress it with gzip, xz or zstd"
                    .into(),
            ),
            _ => self.read_plain(display, reader, &origin),
        }
    }

    fn read_plain(&mut self, display: &str, reader: &mut dyn Read, origin: &Origin) {
        let forced = self.layout.kind_for(display);
        let budget = self.budget.clone();
        let mut metered;
        let mut counted: &mut dyn Read = if origin.metered {
            reader
        } else {
            metered = Metered::new(reader, budget);
            &mut metered
        };
        // Entries of a compressed tar are judged against the tar stream's compressed bytes.
        let (tripped, mut guarded);
        let input: &mut dyn Read = match &origin.compressed {
            Some(c) => {
                guarded = RatioGuard::new(counted, c.clone(), self.budget.limits.max_ratio);
                tripped = Some(guarded.tripped());
                &mut guarded
            }
            _ => {
                tripped = None;
                &mut counted
            }
        };
        let mut buffered = BufReader::with_capacity(READ_BUFFER, input);
        self.sink.source(display, &mut buffered, forced);
        if tripped.is_some_and(|t| t.get()) {
            let msg = super::limits::ratio_message(self.budget.limits.max_ratio);
            self.diag(Level::Warning, display, msg);
        }
    }

    /// A zip that is not a file on disk (inside a tar, or stdin): buffered under a cap.
    fn read_buffered_zip(&mut self, display: &str, reader: &mut dyn Read, origin: Origin) {
        let cap = self.budget.limits.max_nested_zip_bytes;
        let mut buf = Vec::new();
        if let Err(e) = reader.take(cap.saturating_add(1)).read_to_end(&mut buf) {
            return self.sink.skip(display, format!("unreadable zip: {e}"));
        }
        if buf.len() as u64 > cap {
            return self.sink.skip(
                display,
                format!(
                    "a zip needs random access and this one is larger than the {cap}-byte \
                     in-memory cap, not opened"
                ),
            );
        }
        let prefix = Self::archive_prefix(display, &origin);
        self.read_zip(&prefix, display, Cursor::new(buf), origin.depth + 1);
    }

    /// Stream a tar: each entry is read when reached.
    pub fn read_tar(&mut self, prefix: &str, label: &str, reader: &mut dyn Read, origin: Origin) {
        let stream: Box<dyn Read + '_> = if origin.metered {
            Box::new(reader)
        } else {
            Box::new(Metered::new(reader, self.budget.clone()))
        };
        let mut archive = tar::Archive::new(stream);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return self.diag(Level::Error, label, format!("unreadable tar: {e}")),
        };
        let mut links = Links::default();
        let entry_origin = Origin {
            metered: true,
            depth: origin.depth + 1,
            is_root: false,
            ..origin
        };
        for item in entries {
            if self.budget.stop_reason().is_some() {
                break;
            }
            let mut entry = match item {
                Ok(e) => e,
                Err(e) => {
                    self.diag(
                        Level::Error,
                        label,
                        format!("truncated or corrupt tar: {e}; the entries after this point are not read"),
                    );
                    break;
                }
            };
            if !self.budget.take_entry() {
                break;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = match normalise(&name) {
                Ok(p) if p.is_empty() => continue,
                Ok(p) => p,
                Err(why) => {
                    self.sink.skip(&format!("{prefix}{name}"), why);
                    continue;
                }
            };
            if let Some(first) = links.hidden(&path) {
                if let Some(top) = first {
                    self.sink.skip(&format!("{prefix}{top}"), "hidden".into());
                }
                continue;
            }
            let display = format!("{prefix}{path}");
            use tar::EntryType as T;
            match entry.header().entry_type() {
                T::Regular | T::Continuous | T::GNUSparse => {
                    if links.note_file(&path) {
                        self.read_entry(&display, &mut entry, entry_origin.clone());
                    } else {
                        self.sink.skip(&display, DUPLICATE.into());
                    }
                }
                T::Directory => links.note_dir(&path),
                T::Symlink | T::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let hard = entry.header().entry_type() == T::Link;
                    links.note_link(&path, target, hard);
                }
                T::Char | T::Block | T::Fifo => {
                    self.sink.skip(&display, DEVICE.into());
                }
                T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => {}
                other => self
                    .sink
                    .skip(&display, format!("unsupported tar entry type {other:?}")),
            }
        }
        if let Some(why) = self.budget.stop_reason() {
            self.diag(Level::Error, label, format!("{why}: the rest is not read"));
        }
        links.finish(prefix, self.sink);
    }

    /// Read a zip through its central directory, entries in path order.
    pub fn read_zip<R: Read + Seek>(&mut self, prefix: &str, label: &str, reader: R, depth: u32) {
        let compressed = counter();
        let mut zip = match zip::ZipArchive::new(Counting::new(reader, compressed.clone())) {
            Ok(z) => z,
            Err(e) => return self.diag(Level::Error, label, format!("unreadable zip: {e}")),
        };
        if zip.has_duplicate_names() {
            self.diag(
                Level::Warning,
                label,
                "zip lists the same name more than once: only one entry per name is read".into(),
            );
        }
        let mut order: Vec<(String, usize)> = (0..zip.len())
            .filter_map(|i| match zip.name_for_index(i) {
                Some(Ok(n)) => Some((n.replace('\\', "/"), i)),
                _ => None,
            })
            .collect();
        order.sort_by(|a, b| component_order(&a.0, &b.0));
        let mut links = Links::default();
        let origin = Origin {
            compressed: Some(compressed),
            metered: false,
            depth: depth + 1,
            is_root: false,
        };
        for (name, i) in order {
            if !self.budget.take_entry() || self.budget.total_exhausted() {
                let why = self.budget.stop_reason().unwrap_or_default();
                self.diag(Level::Error, label, format!("{why}: the rest is not read"));
                break;
            }
            let path = match normalise(&name) {
                Ok(p) if p.is_empty() => continue,
                Ok(p) => p,
                Err(why) => {
                    self.sink.skip(&format!("{prefix}{name}"), why);
                    continue;
                }
            };
            if let Some(first) = links.hidden(&path) {
                if let Some(top) = first {
                    self.sink.skip(&format!("{prefix}{top}"), "hidden".into());
                }
                continue;
            }
            let display = format!("{prefix}{path}");
            let mut file = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.sink
                        .skip(&display, format!("unreadable zip entry: {e}"));
                    continue;
                }
            };
            const S_IFMT: u32 = 0o170000;
            let mode = file.unix_mode().unwrap_or(0) & S_IFMT;
            if file.is_dir() {
                links.note_dir(&path);
            } else if file.is_symlink() {
                let mut target = String::new();
                let _ = (&mut file)
                    .take(MAX_LINK_TARGET)
                    .read_to_string(&mut target);
                links.note_link(&path, target, false);
            } else if matches!(mode, 0o020000 | 0o060000 | 0o010000 | 0o140000) {
                self.sink.skip(&display, DEVICE.into());
            } else if links.note_file(&path) {
                self.read_entry(&display, &mut file, origin.clone());
            } else {
                self.sink.skip(&display, DUPLICATE.into());
            }
        }
        links.finish(prefix, self.sink);
    }
}

const DUPLICATE: &str = "duplicate entry name: an earlier entry with this path was read";
const DEVICE: &str = "device file, FIFO or socket, not read";

/// The regular entries, directories and links of one archive, to resolve links at its end.
#[derive(Default)]
struct Links {
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
    /// link path → (target as written, hard link)
    links: BTreeMap<String, (String, bool)>,
    hidden_seen: BTreeSet<String>,
}

enum Resolved {
    Inside(String),
    Outside,
    Loop,
}

impl Links {
    /// The first hidden component's path (`a/.git` for `a/.git/x`), reported once per archive
    /// as the directory walk does: hidden entries are skipped in every form of a bundle.
    fn hidden(&mut self, path: &str) -> Option<Option<String>> {
        let mut end = 0;
        for c in path.split('/') {
            end += c.len();
            if c.starts_with('.') {
                let top = path[..end].to_string();
                let first = self.hidden_seen.insert(top.clone());
                return Some(first.then_some(top));
            }
            end += 1;
        }
        None
    }

    /// Record a regular entry; false if the path was already seen.
    fn note_file(&mut self, path: &str) -> bool {
        !self.links.contains_key(path) && self.files.insert(path.to_string())
    }

    fn note_dir(&mut self, path: &str) {
        self.dirs.insert(path.to_string());
    }

    fn note_link(&mut self, path: &str, target: String, hard: bool) {
        self.links.insert(path.to_string(), (target, hard));
    }

    fn is_dir(&self, path: &str) -> bool {
        let inside = format!("{path}/");
        self.dirs.contains(path)
            || self
                .files
                .range(inside.clone()..)
                .next()
                .is_some_and(|f| f.starts_with(&inside))
    }

    /// Resolve `target` as written in the link at `link` (relative to its directory; hard
    /// links are relative to the archive root), following other links, inside the root.
    fn resolve(&self, link: &str, target: &str, hard: bool) -> Resolved {
        if target.starts_with('/') {
            return Resolved::Outside;
        }
        let mut parts: Vec<String> = if hard {
            Vec::new()
        } else {
            link.split('/').map(str::to_string).collect()
        };
        if !hard {
            parts.pop();
        }
        let mut pending: Vec<String> = target.split('/').rev().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "" | "." => continue,
                ".." => {
                    if parts.pop().is_none() {
                        return Resolved::Outside;
                    }
                    continue;
                }
                _ => parts.push(c),
            }
            let so_far = parts.join("/");
            if let Some((next, next_hard)) = self.links.get(&so_far) {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Resolved::Loop;
                }
                if next.starts_with('/') {
                    return Resolved::Outside;
                }
                parts.pop();
                if *next_hard {
                    parts.clear();
                }
                pending.extend(next.split('/').rev().map(str::to_string));
            }
        }
        Resolved::Inside(parts.join("/"))
    }

    fn finish(self, prefix: &str, sink: &mut dyn Sink) {
        for (link, (target, hard)) in &self.links {
            let display = format!("{prefix}{link}");
            let reason = match self.resolve(link, target, *hard) {
                Resolved::Outside => {
                    format!("symlink to `{target}`, outside the bundle: not followed")
                }
                Resolved::Loop => format!("symlink loop at `{target}`: not followed"),
                Resolved::Inside(p) if self.files.contains(&p) => {
                    format!("alias of {prefix}{p} (link), analysed under that path")
                }
                Resolved::Inside(p) if p.is_empty() || self.is_dir(&p) => {
                    let shown = format!("{prefix}{p}");
                    let shown = if shown.is_empty() {
                        "."
                    } else {
                        shown.as_str()
                    };
                    format!(
                        "alias of directory {shown} (link), its files are analysed under that path"
                    )
                }
                Resolved::Inside(p) => {
                    format!("broken link: {prefix}{p} is not in the bundle")
                }
            };
            sink.skip(&display, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_sniffed_by_magic() {
        assert_eq!(container(b"\x1f\x8b\x08"), Container::Gzip);
        assert_eq!(container(b"\xfd7zXZ\x00\x00"), Container::Xz);
        assert_eq!(container(b"\x28\xb5\x2f\xfd\x00"), Container::Zstd);
        assert_eq!(container(b"PK\x03\x04"), Container::Zip);
        assert_eq!(container(b"BZh91AY&SY"), Container::Bzip2);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(container(&tar), Container::Tar);
        assert_eq!(container(b"Nov 21 kernel"), Container::Plain);
        assert_eq!(container(b""), Container::Plain);
    }

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalise("./a//b/./c").as_deref(), Ok("a/b/c"));
        assert!(normalise("../../etc/passwd").is_err());
        assert!(normalise("a/../../b").is_err());
        assert!(normalise("/etc/shadow").is_err());
        assert!(normalise("C:/x").is_err());
        assert_eq!(normalise("./").as_deref(), Ok(""));
    }

    #[test]
    fn links_resolve_inside_the_root_only() {
        let mut l = Links::default();
        l.note_file("s/sos_commands/kernel/dmesg");
        l.note_dir("s/sos_commands");
        l.note_link("s/dmesg", "sos_commands/kernel/dmesg".into(), false);
        l.note_link("s/kern", "sos_commands/kernel".into(), false);
        l.note_link("s/via", "kern/dmesg".into(), false);
        l.note_link("s/out", "/etc/shadow".into(), false);
        l.note_link("s/up", "../../etc/passwd".into(), false);
        l.note_link("s/a", "b".into(), false);
        l.note_link("s/b", "a".into(), false);
        l.note_link("s/hard", "s/sos_commands/kernel/dmesg".into(), true);
        let r = |p: &str| {
            let (t, h) = l.links.get(p).expect("link").clone();
            l.resolve(p, &t, h)
        };
        assert!(matches!(r("s/dmesg"), Resolved::Inside(p) if p == "s/sos_commands/kernel/dmesg"));
        assert!(matches!(r("s/via"), Resolved::Inside(p) if p == "s/sos_commands/kernel/dmesg"));
        assert!(matches!(r("s/kern"), Resolved::Inside(p) if l.is_dir(&p)));
        assert!(matches!(r("s/hard"), Resolved::Inside(p) if p == "s/sos_commands/kernel/dmesg"));
        assert!(matches!(r("s/out"), Resolved::Outside));
        assert!(matches!(r("s/up"), Resolved::Outside));
        assert!(matches!(r("s/a"), Resolved::Loop));
    }

    #[test]
    fn hidden_components_are_reported_once() {
        let mut l = Links::default();
        assert_eq!(l.hidden("a/b.log"), None);
        assert_eq!(l.hidden("a/.git/config"), Some(Some("a/.git".into())));
        assert_eq!(l.hidden("a/.git/HEAD"), Some(None));
        assert_eq!(l.hidden(".hidden"), Some(Some(".hidden".into())));
    }
}
