//! Finding the inputs: PATH arguments → files to read, each with its display path (relative to
//! the argument that contained it), plus the entries skipped and why.
//!
//! Directories are walked in name order (deterministic output), symlinks are followed only
//! when they resolve inside the argument's root, and each directory is visited once (loops).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

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
}

/// Walk every PATH argument.
pub fn discover(paths: &[PathBuf]) -> Discovery {
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
            walk(&root, p, "", &mut visited, &mut d);
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

fn walk(root: &Path, dir: &Path, prefix: &str, visited: &mut BTreeSet<PathBuf>, d: &mut Discovery) {
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
        let (target, meta) = if lmeta.file_type().is_symlink() {
            match fs::canonicalize(&path) {
                Ok(t) if t.starts_with(root) => match fs::metadata(&t) {
                    Ok(m) => (t, m),
                    Err(e) => {
                        d.skipped.push(Skip {
                            display,
                            reason: format!("broken symlink: {e}"),
                        });
                        continue;
                    }
                },
                Ok(_) => {
                    d.skipped.push(Skip {
                        display,
                        reason: "symlink pointing outside the bundle, not followed".into(),
                    });
                    continue;
                }
                Err(e) => {
                    d.skipped.push(Skip {
                        display,
                        reason: format!("broken or looping symlink, not followed: {e}"),
                    });
                    continue;
                }
            }
        } else {
            (path.clone(), lmeta)
        };
        if meta.is_dir() {
            let canon = fs::canonicalize(&target).unwrap_or(target.clone());
            if !visited.insert(canon) {
                d.skipped.push(Skip {
                    display,
                    reason: "directory already visited (symlink loop or alias), not followed"
                        .into(),
                });
                continue;
            }
            walk(root, &target, &display, visited, d);
        } else if meta.is_file() {
            d.inputs.push(Input {
                display,
                path: target,
            });
        } else {
            d.skipped.push(Skip {
                display,
                reason: "not a regular file (device, FIFO or socket)".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_skips_hidden_and_outside_symlinks() {
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
        assert_eq!(shown, vec!["b/c/a.log", "in", "z.log"]);
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
            .any(|(p, r)| *p == "b/loop" && r.contains("already visited")));
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
