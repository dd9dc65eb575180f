//! Finding and opening the inputs: PATH arguments (files, directories, archives, compressed
//! files, `-` for stdin) → sources handed one at a time to a `Sink`, each with its display
//! path inside the bundle, plus the entries skipped and why.
//!
//! Directories are walked in name order (deterministic output). Symlinks are never read
//! twice: one that resolves inside the bundle is listed as an alias of its target (which is
//! read under its own path), one that leaves the bundle or loops is never followed. Archives
//! follow the same rule (`archive.rs`). Known layouts map paths to kinds (`layout.rs`); every
//! byte read is charged to the limits (`limits.rs`).

pub mod archive;
pub mod layout;
pub mod limits;
pub mod pool;

use crate::model::{Diagnostic, Level, SourceKind};
use archive::{Origin, Walker};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufRead, Read, Seek};
use std::path::{Path, PathBuf};

/// Receives what a bundle holds, in reading order.
pub trait Sink {
    /// Read one source. `forced`: the kind from `--as` or the layout table, else `None`
    /// (sniff the content).
    fn source(&mut self, display: &str, reader: &mut dyn BufRead, forced: Option<SourceKind>);
    /// Offered a whole plain file on disk (a PATH argument or a directory bundle's file, not an
    /// archive member): `reader` holds its first bytes, already read. Accept it (`Ok`) to read
    /// it later or on another thread, in any order: its size is charged to the limits at once,
    /// so the walk goes on exactly as if it had been read now. `Err(reader)` declines it; the
    /// file is then read through `source` as usual. The default declines.
    fn file(
        &mut self,
        display: &str,
        reader: FileReader,
        forced: Option<SourceKind>,
    ) -> Result<(), FileReader> {
        let _ = (display, forced);
        Err(reader)
    }
    /// An entry that is not read, with the reason shown in `sources`.
    fn skip(&mut self, display: &str, reason: String);
    /// A problem not tied to one source (a truncated archive, a limit reached).
    fn diagnostic(&mut self, d: Diagnostic);
}

/// A file on disk with its first bytes read (see `Sink::file`); it can be sent to another thread.
pub type FileReader = io::BufReader<fs::File>;

/// How to open bundles.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub limits: limits::Limits,
    pub layout: layout::Layout,
}

/// The display path of standard input when it holds a single file.
pub const STDIN_DISPLAY: &str = "stdin";

/// Path order by components (`b/c/a.log` < `b.log`): the order a directory walk, GNU
/// `tar --sort=name` and our zip reading all produce, so every form of a bundle reads alike.
pub fn component_order(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Open every PATH argument and hand its sources to `sink`. Never fails: what cannot be
/// read becomes a skip or a diagnostic.
pub fn open(paths: &[PathBuf], opts: &OpenOptions, sink: &mut dyn Sink) {
    let budget = limits::Budget::new(opts.limits);
    let mut w = Walker {
        budget: budget.clone(),
        layout: &opts.layout,
        sink,
    };
    for p in paths {
        if let Some(why) = budget.stop_reason() {
            w.sink
                .diagnostic(error(&p.display().to_string(), format!("{why}: not read")));
            continue;
        }
        if p.as_os_str() == "-" {
            let stdin = io::stdin();
            let mut lock = stdin.lock();
            w.read_entry(STDIN_DISPLAY, &mut lock, root_origin());
            continue;
        }
        open_path(p, &mut w);
    }
}

fn root_origin() -> Origin {
    Origin {
        compressed: None,
        metered: false,
        depth: 0,
        is_root: true,
    }
}

fn error(path: &str, message: String) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        path: Some(path.to_string()),
        line: None,
        message,
    }
}

fn open_path(p: &Path, w: &mut Walker<'_>) {
    let arg = p.display().to_string();
    let meta = match fs::metadata(p) {
        Ok(m) => m,
        Err(e) => return w.sink.diagnostic(error(&arg, format!("cannot read: {e}"))),
    };
    if meta.is_dir() {
        let found = discover_limited(&[p.to_path_buf()], w.budget.limits.max_entries);
        for s in found.skipped {
            w.sink.skip(&s.display, s.reason);
        }
        for input in found.inputs {
            if let Some(why) = w.budget.stop_reason() {
                w.sink
                    .diagnostic(error(&arg, format!("{why}: the rest is not read")));
                break;
            }
            w.budget.take_entry();
            open_file(&input.display, &input.path, depth_one(), w);
        }
        if found.truncated {
            let why = format!(
                "entry limit reached ({} entries, --max-entries): the rest is not read",
                w.budget.limits.max_entries
            );
            w.sink.diagnostic(error(&arg, why));
        }
    } else if meta.is_file() {
        let display = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| arg.clone());
        open_file(&display, p, root_origin(), w);
    } else {
        w.sink.diagnostic(error(
            &arg,
            "cannot read: not a regular file or directory".into(),
        ));
    }
}

fn depth_one() -> Origin {
    Origin {
        depth: 1,
        is_root: false,
        ..root_origin()
    }
}

/// A file on disk: a zip is read in place through its directory, anything else streamed.
fn open_file(display: &str, path: &Path, origin: Origin, w: &mut Walker<'_>) {
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return w.sink.skip(display, format!("unreadable: {e}")),
    };
    let mut magic = [0u8; 4];
    let is_zip = f.read_exact(&mut magic).is_ok()
        && archive::container(&magic) == archive::Container::Zip
        && w.layout.noise(display).is_none();
    match f.seek(io::SeekFrom::Start(0)).map(|_| f) {
        Ok(f) if is_zip && origin.depth <= 1 => {
            let prefix = if origin.is_root {
                String::new()
            } else {
                format!("{display}/")
            };
            w.read_zip(&prefix, display, f, origin.depth)
        }
        Ok(f) if !is_zip => offer_file(display, f, origin, w),
        Ok(mut f) => w.read_entry(display, &mut f, origin),
        Err(e) => w.sink.skip(display, format!("unreadable: {e}")),
    }
}

/// Offer a plain file to `Sink::file` (to be read in parallel) when the limits leave room for
/// all of it; otherwise, or when the sink declines, read it through `read_entry` as before.
/// Compressed files and archives are never offered: their limits are charged as they stream.
fn offer_file(display: &str, f: fs::File, origin: Origin, w: &mut Walker<'_>) {
    let fallback = |f: fs::File, w: &mut Walker<'_>| {
        let mut f = f;
        match f.seek(io::SeekFrom::Start(0)) {
            Ok(_) => w.read_entry(display, &mut f, origin.clone()),
            Err(e) => w.sink.skip(display, format!("unreadable: {e}")),
        }
    };
    let len = match f.metadata() {
        Ok(m) => m.len(),
        Err(_) => return fallback(f, w),
    };
    let limits = w.budget.limits;
    let fits = w.budget.total().saturating_add(len) < limits.max_total_bytes;
    if len < pool::MIN_HANDOFF_BYTES as u64 || !fits || w.layout.noise(display).is_some() {
        return fallback(f, w);
    }
    let mut reader = io::BufReader::with_capacity(archive::READ_BUFFER, f);
    let plain = match reader.fill_buf() {
        Ok(head) => archive::container(head) == archive::Container::Plain,
        Err(_) => false,
    };
    if !plain {
        return fallback(reader.into_inner(), w);
    }
    let forced = w.layout.kind_for(display);
    match w.sink.file(display, reader, forced) {
        Ok(()) => w.budget.charge(len),
        Err(reader) => fallback(reader.into_inner(), w),
    }
}

/// A file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Path shown in the report: relative to the PATH argument, or the file name.
    pub display: String,
    pub path: PathBuf,
}

/// An entry that will not be read, with the reason shown in the sources section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub display: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub inputs: Vec<Input>,
    pub skipped: Vec<Skip>,
    /// PATH arguments that could not be read at all: (argument, reason).
    pub errors: Vec<(String, String)>,
    /// The walk stopped at the entry limit.
    pub truncated: bool,
}

/// Walk every PATH argument.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    discover_limited(paths, u64::MAX)
}

/// Walk every PATH argument, stopping after `max_entries` files.
pub fn discover_limited(paths: &[PathBuf], max_entries: u64) -> Discovery {
    let mut d = Discovery::default();
    for p in paths {
        let arg = p.display().to_string();
        let meta = match fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                d.errors.push((arg, e.to_string()));
                continue;
            }
        };
        if meta.is_dir() {
            let root = match fs::canonicalize(p) {
                Ok(r) => r,
                Err(e) => {
                    d.errors.push((arg, e.to_string()));
                    continue;
                }
            };
            let mut visited = BTreeSet::new();
            visited.insert(root.clone());
            walk(&root, p, "", &mut visited, &mut d, max_entries);
        } else if meta.is_file() {
            let display = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| arg.clone());
            d.inputs.push(Input {
                display,
                path: p.clone(),
            });
        } else {
            d.errors
                .push((arg, "not a regular file or directory".into()));
        }
    }
    d
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    visited: &mut BTreeSet<PathBuf>,
    d: &mut Discovery,
    max_entries: u64,
) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            d.skipped.push(Skip {
                display: if prefix.is_empty() {
                    ".".into()
                } else {
                    prefix.to_string()
                },
                reason: format!("unreadable directory: {e}"),
            });
            return;
        }
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    names.sort();
    for (name, path) in names {
        let display = join(prefix, &name);
        if name.starts_with('.') {
            d.skipped.push(Skip {
                display,
                reason: "hidden".into(),
            });
            continue;
        }
        let lmeta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                d.skipped.push(Skip {
                    display,
                    reason: format!("unreadable: {e}"),
                });
                continue;
            }
        };
        if d.inputs.len() as u64 >= max_entries {
            d.truncated = true;
            return;
        }
        if lmeta.file_type().is_symlink() {
            d.skipped.push(Skip {
                display,
                reason: symlink_reason(root, &path),
            });
            continue;
        }
        if lmeta.is_dir() {
            let canon = fs::canonicalize(&path).unwrap_or(path.clone());
            if visited.insert(canon) {
                walk(root, &path, &display, visited, d, max_entries);
            }
        } else if lmeta.is_file() {
            d.inputs.push(Input { display, path });
        } else {
            d.skipped.push(Skip {
                display,
                reason: "device file, FIFO or socket, not read".into(),
            });
        }
    }
}

/// A symlink in a directory bundle is never read through: inside the bundle its target is
/// read under its own path (so the same bytes are not analysed twice, as in archives);
/// outside the bundle, broken or looping, it is not followed.
fn symlink_reason(root: &Path, link: &Path) -> String {
    let shown = fs::read_link(link)
        .map(|t| t.display().to_string())
        .unwrap_or_default();
    match fs::canonicalize(link) {
        Ok(t) if t.starts_with(root) => {
            let rel = t
                .strip_prefix(root)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            let what = if t.is_dir() { "directory " } else { "" };
            let rel = if rel.is_empty() { ".".into() } else { rel };
            format!("alias of {what}{rel} (link), analysed under that path")
        }
        Ok(_) => format!("symlink to `{shown}`, outside the bundle: not followed"),
        Err(e) if e.raw_os_error() == Some(40) => {
            format!("symlink loop at `{shown}`: not followed")
        }
        Err(e) => format!("broken link to `{shown}`: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_skips_hidden_and_lists_symlinks_as_aliases() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path().join("bundle");
        fs::create_dir_all(root.join("b/c")).expect("mkdir");
        fs::write(root.join("z.log"), "z").expect("write");
        fs::write(root.join("b/c/a.log"), "a").expect("write");
        fs::write(root.join(".hidden"), "h").expect("write");
        fs::write(t.path().join("secret"), "s").expect("write");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(t.path().join("secret"), root.join("out")).expect("symlink");
            std::os::unix::fs::symlink(root.join("z.log"), root.join("in")).expect("symlink");
            std::os::unix::fs::symlink(&root, root.join("b/loop")).expect("symlink");
        }
        let d = discover(std::slice::from_ref(&root));
        let shown: Vec<&str> = d.inputs.iter().map(|i| i.display.as_str()).collect();
        // In-bundle links are aliases: their targets are read under their own paths.
        assert_eq!(shown, vec!["b/c/a.log", "z.log"]);
        let skipped: Vec<(&str, &str)> = d
            .skipped
            .iter()
            .map(|s| (s.display.as_str(), s.reason.as_str()))
            .collect();
        assert!(skipped.contains(&(".hidden", "hidden")));
        assert!(skipped
            .iter()
            .any(|(p, r)| *p == "out" && r.contains("outside")));
        assert!(skipped
            .iter()
            .any(|(p, r)| *p == "in" && r.starts_with("alias of z.log")));
        assert!(skipped
            .iter()
            .any(|(p, r)| *p == "b/loop" && r.starts_with("alias of directory .")));
    }

    #[test]
    fn single_file_shows_its_name_and_missing_paths_are_errors() {
        let t = tempfile::tempdir().expect("tempdir");
        let f = t.path().join("dmesg.txt");
        fs::write(&f, "x").expect("write");
        let d = discover(&[f, t.path().join("nope")]);
        assert_eq!(d.inputs[0].display, "dmesg.txt");
        assert_eq!(d.errors.len(), 1);
    }
}
