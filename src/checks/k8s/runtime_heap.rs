//! `k8s.runtime-heap-vs-limit`: a container with a memory limit whose runtime heap cap
//! (`--max-old-space-size` in NODE_OPTIONS or args, `-Xmx` in JAVA_OPTS/JAVA_TOOL_OPTIONS or
//! args, `GOMEMLIMIT`) is above 75% of that limit, or missing for a runtime that needs one.

use super::{
    container_fields, container_label, evidence, fact, finding, int, pods, settle, text, Collector,
};
use crate::checks::{CheckContext, CheckReport};
use crate::ingest::k8s::{human_bytes, Container, HeapFlag, Runtime, MIB};
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.runtime-heap-vs-limit";
pub const TITLE: &str = "Runtime heap cap does not fit the container memory limit";

/// The heap may take at most 3/4 of the limit: the rest is for what the heap flag does not
/// bound (code, thread stacks, buffers, native allocations, GC bookkeeping). Above it the
/// cgroup OOM killer strikes before the runtime's own GC pressure or OOM error can.
pub const HEAP_SHARE_NUM: u64 = 3;
pub const HEAP_SHARE_DEN: u64 = 4;

/// Largest heap that fits a limit, in whole MiB (the unit of every heap flag).
pub fn max_heap_mib(limit_bytes: u64) -> u64 {
    limit_bytes / HEAP_SHARE_DEN * HEAP_SHARE_NUM / MIB
}

/// The flag a runtime reads, set to `mib`.
pub fn flag_for(runtime: &Runtime, mib: u64) -> String {
    match runtime {
        Runtime::Node => format!("--max-old-space-size={mib}"),
        Runtime::Java => format!("-Xmx{mib}m"),
        Runtime::Go => format!("GOMEMLIMIT={mib}MiB"),
    }
}

/// The env var that carries the flag for a runtime when none is set yet.
fn env_var_for(runtime: &Runtime) -> &'static str {
    match runtime {
        Runtime::Node => "NODE_OPTIONS",
        Runtime::Java => "JAVA_TOOL_OPTIONS",
        Runtime::Go => "GOMEMLIMIT",
    }
}

/// The YAML that sets the recommended flag where the old one was (or in the usual env var).
fn snippet(c: &Container, flag: Option<&HeapFlag>, runtime: &Runtime, mib: u64) -> String {
    let new_flag = flag_for(runtime, mib);
    match flag {
        Some(f) if f.origin == "args" || f.origin == "command" => {
            let items = if f.origin == "args" {
                &c.args
            } else {
                &c.command
            };
            let list: Vec<String> = items
                .iter()
                .map(|a| {
                    let v = if a.value == f.flag {
                        new_flag.clone()
                    } else {
                        a.value.clone()
                    };
                    format!("  - \"{v}\"")
                })
                .collect();
            format!("{}:\n{}", f.origin, list.join("\n"))
        }
        _ => {
            let name = flag.map_or(env_var_for(runtime), |f| f.origin.as_str());
            let value = if *runtime == Runtime::Go {
                format!("{mib}MiB")
            } else {
                let old = c
                    .env
                    .iter()
                    .find(|e| e.value.0 == name)
                    .map(|e| e.value.1.clone())
                    .unwrap_or_default();
                match flag {
                    Some(f) => old.replace(&f.flag, &new_flag),
                    None if old.is_empty() => new_flag,
                    None => format!("{old} {new_flag}"),
                }
            };
            format!("env:\n  - name: {name}\n    value: \"{value}\"")
        }
    }
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for pod in pods(ctx) {
        for c in &pod.containers {
            let Some(limit) = &c.limits.memory_bytes else {
                continue;
            };
            let flags = c.heap_flags();
            // The last flag wins: command-line options override the environment's.
            let flag = flags.iter().rev().find(|f| f.bytes.is_some());
            let runtime = flag.map(|f| f.runtime.clone()).or_else(|| c.runtime_hint());
            let Some(runtime) = runtime else {
                continue;
            };
            looked += 1;
            let label = container_label(pod, c);
            let max_mib = max_heap_mib(limit.value);
            let max_bytes = max_mib * MIB;
            let heap = flag.and_then(|f| f.bytes);
            let name = format!("{label} heap cap");
            match (flag, heap) {
                (Some(f), Some(h)) => report.facts.push(fact(
                    ctx,
                    pod.source,
                    name,
                    format!(
                        "{} = {} of a {} limit",
                        f.flag,
                        human_bytes(h),
                        human_bytes(limit.value)
                    ),
                    &crate::ingest::k8s::At::new((), f.line, &f.text),
                )),
                _ => report.facts.push(fact(
                    ctx,
                    pod.source,
                    name,
                    format!(
                        "none ({} runtime, {} limit)",
                        runtime.as_str(),
                        human_bytes(limit.value)
                    ),
                    limit,
                )),
            }
            if heap.is_some_and(|h| h <= max_bytes) {
                continue;
            }
            let recommended = flag_for(&runtime, max_mib);
            let mut fields = container_fields(pod, c);
            fields.insert("runtime".into(), text(runtime.as_str()));
            fields.insert("max_heap_bytes".into(), int(max_bytes));
            fields.insert("recommended_flag".into(), text(&recommended));
            let mut ev = vec![evidence(ctx, pod.source, limit)];
            let (severity, summary) = match (flag, heap) {
                (Some(f), Some(h)) => {
                    fields.insert("heap_flag".into(), text(&f.flag));
                    fields.insert("heap_bytes".into(), int(h));
                    fields.insert("heap_percent_of_limit".into(), int(super::percent(h, limit.value)));
                    ev.push(ctx.evidence(pod.source, f.line, &f.text));
                    let over = h >= limit.value;
                    (
                        if over { Severity::Critical } else { Severity::Warning },
                        format!(
                            "{label} caps its heap at {} ({} in {}) under a memory limit of {}: {}% of the limit, above the \
                             {}% that leaves room for non-heap memory.{}",
                            human_bytes(h),
                            f.flag,
                            f.origin,
                            human_bytes(limit.value),
                            super::percent(h, limit.value),
                            HEAP_SHARE_NUM * 100 / HEAP_SHARE_DEN,
                            if over {
                                " The heap may grow past the limit itself, so the kernel OOM-kills the container instead of \
                                 the runtime collecting garbage or failing cleanly."
                            } else {
                                ""
                            }
                        ),
                    )
                }
                _ => (
                    if runtime == Runtime::Java { Severity::Info } else { Severity::Warning },
                    format!(
                        "{label} runs {} under a memory limit of {} with no heap cap ({}).{}",
                        runtime.as_str(),
                        human_bytes(limit.value),
                        match runtime {
                            Runtime::Node => "--max-old-space-size",
                            Runtime::Java => "-Xmx",
                            Runtime::Go => "GOMEMLIMIT",
                        },
                        match runtime {
                            Runtime::Node => " V8 sizes its old space from the host, not the cgroup limit (before Node 20), \
                                               so the heap can grow until the kernel kills the container.",
                            Runtime::Java => " A container-aware JVM (10+) defaults to 25% of the limit (MaxRAMPercentage): \
                                               safe but small; set it explicitly.",
                            Runtime::Go => " The Go GC does not know the limit without it.",
                        }
                    ),
                ),
            };
            if let Some(img) = &c.image {
                ev.push(evidence(ctx, pod.source, img));
            }
            let fixes = vec![Fix {
                title: format!(
                    "Cap the heap at {}% of the limit: {recommended}",
                    HEAP_SHARE_NUM * 100 / HEAP_SHARE_DEN
                ),
                text: format!(
                    "{} of a {} limit is {max_mib} MiB. Set it in the container spec:\n{}",
                    format_args!("{}/{}", HEAP_SHARE_NUM, HEAP_SHARE_DEN),
                    human_bytes(limit.value),
                    snippet(c, flag, &runtime, max_mib)
                ),
            }];
            let key = format!(
                "{}/{}/{}",
                pod.namespace_str(),
                pod.name.value,
                c.name.value
            );
            out.add(
                key,
                finding(ID, severity, TITLE, summary, fields, ev, fixes),
            );
        }
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!(
            "{n} container(s) with a heap cap missing or above {}% of the limit",
            HEAP_SHARE_NUM * 100 / HEAP_SHARE_DEN
        ),
        format!("{looked} container(s) with a memory limit and a known runtime: heap caps fit"),
        "no container with both a memory limit and a recognisable runtime",
    );
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_flags_are_75_percent() {
        let gi = 1024 * MIB;
        assert_eq!(max_heap_mib(gi), 768);
        assert_eq!(max_heap_mib(2 * gi), 1536);
        assert_eq!(max_heap_mib(512 * MIB), 384);
        assert_eq!(flag_for(&Runtime::Node, 768), "--max-old-space-size=768");
        assert_eq!(flag_for(&Runtime::Java, 768), "-Xmx768m");
        assert_eq!(flag_for(&Runtime::Go, 768), "GOMEMLIMIT=768MiB");
    }
}
