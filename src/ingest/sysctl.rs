//! sysctl -a output and proc/sys/... value files.
//!
//! SCAFFOLD: to be replaced by the real parser in this session (issue 3).

use super::{ParseCtx, Parsed};
use std::io::BufRead;

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {}

impl Facts {
    /// Fold another source's facts into these (sources are parsed independently).
    pub fn merge(&mut self, _other: Facts) {}
}

/// Whether `head` (the first bytes, lossily decoded) with `path` (the display path, a hint only) is this kind.
pub fn detect(_head: &str, _path: &str) -> bool {
    false
}

pub fn parse(_reader: &mut dyn BufRead, _ctx: &ParseCtx) -> Parsed<Facts> {
    Parsed::default()
}
