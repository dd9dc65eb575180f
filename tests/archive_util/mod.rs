//! Builders for test archives, made in memory from fixture directories or raw entries, so no
//! archive is committed and every hostile shape is built exactly.
#![allow(dead_code)]

use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bundles")
        .join(name)
}

pub fn run(opts: AnalyzeOptions) -> Report {
    let catalog = Catalog::load(&[]).expect("catalog");
    analyze(&opts, &catalog)
}

pub fn run_paths(paths: &[&Path]) -> Report {
    run(AnalyzeOptions {
        paths: paths.iter().map(|p| p.to_path_buf()).collect(),
        ..Default::default()
    })
}

/// Entries of `dir` in walk order (names sorted per directory): (relative path, full path).
pub fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut names: Vec<_> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    for p in names {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = fs::symlink_metadata(&p).expect("meta");
        out.push((rel.clone(), p.clone()));
        if meta.is_dir() {
            walk(&p, &rel, out);
        }
    }
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// A tar of `dir` (paths relative to it, under `top` if not empty), symlinks kept as links.
pub fn tar_dir(dir: &Path, top: &str) -> Vec<u8> {
    let mut entries = Vec::new();
    walk(dir, "", &mut entries);
    let mut b = tar::Builder::new(Vec::new());
    for (rel, p) in entries {
        let name = if top.is_empty() {
            rel
        } else {
            format!("{top}/{rel}")
        };
        let meta = fs::symlink_metadata(&p).expect("meta");
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&p).expect("readlink");
            let mut h = header(tar::EntryType::Symlink, 0);
            b.append_link(&mut h, &name, &target).expect("link");
        } else if meta.is_dir() {
            let mut h = header(tar::EntryType::Directory, 0);
            b.append_data(&mut h, format!("{name}/"), &[][..])
                .expect("dir");
        } else {
            let data = fs::read(&p).expect("read");
            let mut h = header(tar::EntryType::Regular, data.len() as u64);
            b.append_data(&mut h, &name, &data[..]).expect("file");
        }
    }
    b.into_inner().expect("tar")
}

/// One raw tar entry with a name written as is (the tar crate refuses `..` and absolute
/// names on purpose; hostile archives have them).
pub fn raw_entry(name: &[u8], kind: tar::EntryType, link: &[u8], data: &[u8]) -> Vec<u8> {
    let mut h = header(kind, data.len() as u64);
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
    }
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    let pad = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
    out
}

/// Close a tar made of raw entries.
pub fn end_tar(mut entries: Vec<u8>) -> Vec<u8> {
    entries.extend(std::iter::repeat_n(0u8, 1024));
    entries
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gz");
    e.finish().expect("gz")
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).expect("xz");
    e.finish().expect("xz")
}

pub fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

/// A zip of `dir` (paths relative to it), deflated, symlinks as zip symlinks.
pub fn zip_dir(dir: &Path) -> Vec<u8> {
    let mut entries = Vec::new();
    walk(dir, "", &mut entries);
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (rel, p) in entries {
        let meta = fs::symlink_metadata(&p).expect("meta");
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&p).expect("readlink");
            z.add_symlink(rel, target.to_string_lossy(), opts)
                .expect("symlink");
        } else if meta.is_dir() {
            z.add_directory(rel, opts).expect("dir");
        } else {
            z.start_file(rel, opts).expect("file");
            z.write_all(&fs::read(&p).expect("read")).expect("write");
        }
    }
    z.finish().expect("zip").into_inner()
}

/// The findings as JSON, to compare analyses.
pub fn findings_json(r: &Report) -> serde_json::Value {
    serde_json::to_value(&r.findings).expect("json")
}

pub fn source<'a>(r: &'a Report, path: &str) -> &'a coroner::model::Source {
    r.sources
        .iter()
        .find(|s| s.path == path)
        .unwrap_or_else(|| {
            let all: Vec<_> = r.sources.iter().map(|s| (&s.path, &s.skipped)).collect();
            panic!("no source {path} in {all:?}")
        })
}

pub fn signatures(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.signature.as_str()).collect()
}
