//! `net.client-pool-cap`: ESTAB connections from one process to one destination sitting
//! exactly at a client library's default pool size while the same destination shows a
//! TIME-WAIT pile-up or the logs show queueing/timeout errors: the pool, not the downstream,
//! is the bottleneck.

use super::net_common::{evidence, fact, finding, log_evidence, socket_lists, thousands};
use super::{CheckContext, CheckReport, CheckStatus};
use crate::ingest::sockets::{Process, RowRef, TcpState};
use crate::model::{FieldValue, Fields, Finding, Fix, Severity};
use std::collections::BTreeMap;

pub const ID: &str = "net.client-pool-cap";
const TITLE: &str = "Client connection pool capped at a library default";

/// Default pool sizes of common client libraries: a count of ESTAB connections exactly at
/// one of these, per process and destination, is a pool at its cap.
pub const POOL_DEFAULTS: &[(u64, &str)] = &[
    (5, "Sequelize pool.max / SQLAlchemy pool_size"),
    (6, "undici / Node.js fetch connections per origin"),
    (
        10,
        "node-postgres pg.Pool max / HikariCP maximumPoolSize / mysql2 connectionLimit",
    ),
    (20, "a round configured pool size"),
];
/// TIME-WAIT sockets to the same destination at or above this mean connections are opened
/// beside the pool: 100 in 60 s is more than one new connection per second to one
/// destination, which a client that reuses its pool does not open.
pub const TIME_WAIT_PILEUP_MIN: u64 = 100;
/// Proposed pool size = observed concurrency × this: headroom over the cap it hit.
pub const POOL_HEADROOM: f64 = 1.5;
/// Idle keep-alive long enough that pooled connections survive gaps between bursts.
pub const KEEPALIVE_MIN_SECONDS: u64 = 30;
/// Words in a log signature id that mean requests queued or timed out waiting.
pub const PRESSURE_SIGNATURE_WORDS: &[&str] = &["timeout", "pool", "queue"];

/// The proposed pool size for an observed concurrency.
pub fn proposed_pool(observed: u64) -> u64 {
    (observed as f64 * POOL_HEADROOM).ceil() as u64
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let lists: Vec<_> = socket_lists(ctx)
        .into_iter()
        .filter(|l| l.has_processes)
        .collect();
    if lists.is_empty() {
        r.note = "no socket list with process owners (ss -tanp / netstat -tanp)".into();
        return r;
    }
    let pressure: Vec<&Finding> = ctx
        .log_findings
        .iter()
        .filter(|f| {
            PRESSURE_SIGNATURE_WORDS
                .iter()
                .any(|w| f.signature.contains(w))
        })
        .collect();
    let mut candidates = 0usize;
    for list in lists {
        // (process, destination) → (ESTAB count, first row)
        let mut estab: BTreeMap<(&Process, &str), (u64, &RowRef)> = BTreeMap::new();
        for (k, g) in &list.client {
            if k.state != TcpState::Established {
                continue;
            }
            if let Some(p) = &k.process {
                let e = estab
                    .entry((p, k.destination.as_str()))
                    .or_insert((0, &g.first));
                e.0 += g.count;
            }
        }
        let tw = list.client_by_destination(TcpState::TimeWait, None);
        for ((proc_, dest), (n, row)) in estab {
            let Some((_, library)) = POOL_DEFAULTS.iter().find(|(size, _)| *size == n) else {
                continue;
            };
            candidates += 1;
            let tw_dest = tw.iter().find(|(d, _, _)| d == dest);
            let tw_count = tw_dest.map_or(0, |t| t.1);
            let pileup = tw_count >= TIME_WAIT_PILEUP_MIN;
            let eaddr_here: Vec<&Finding> = ctx
                .log_findings_of("net.eaddrnotavail")
                .filter(|f| {
                    f.fields
                        .get("destination")
                        .is_some_and(|d| d.to_string() == dest)
                })
                .collect();
            r.facts.push(fact(
                ctx,
                &format!("ESTAB from {} to {dest}", proc_.display()),
                format!(
                    "{n} = {library} default; {} TIME-WAIT to {dest}",
                    thousands(tw_count)
                ),
                Some(row),
            ));
            if !pileup && pressure.is_empty() && eaddr_here.is_empty() {
                continue;
            }
            let mut why = Vec::new();
            let mut ev = vec![evidence(ctx, row)];
            if pileup {
                why.push(format!(
                    "{} sockets to {dest} sit in TIME-WAIT (connections opened beside the pool)",
                    thousands(tw_count)
                ));
                if let Some((_, _, twrow)) = tw_dest {
                    ev.push(evidence(ctx, twrow));
                }
            }
            for f in pressure.iter().chain(eaddr_here.iter()) {
                why.push(format!("{} logged {} time(s)", f.signature, f.count));
                ev.extend(log_evidence(f, 3));
            }
            let pool = proposed_pool(n);
            let summary = format!(
                "{} holds exactly {n} ESTAB connections to {dest}, the {library} default, while {}: the pool, not {dest}, is the bottleneck.",
                proc_.display(),
                why.join(" and ")
            );
            let mut fields = Fields::new();
            fields.insert("process".into(), FieldValue::Text(proc_.name.clone()));
            fields.insert("pid".into(), FieldValue::Int(proc_.pid as i64));
            fields.insert("destination".into(), FieldValue::Text(dest.to_string()));
            fields.insert("established".into(), FieldValue::Int(n as i64));
            fields.insert("time_wait".into(), FieldValue::Int(tw_count as i64));
            fields.insert("proposed_pool_size".into(), FieldValue::Int(pool as i64));
            let ka_ms = KEEPALIVE_MIN_SECONDS * 1000;
            let fix = Fix {
                title: format!("Size the pool to {dest} explicitly: {pool} connections, keep-alive ≥ {KEEPALIVE_MIN_SECONDS} s"),
                text: format!(
                    "# observed concurrency {n} (flat at the default) × {POOL_HEADROOM} = {pool}\n\
                     node-postgres: new Pool({{ max: {pool}, idleTimeoutMillis: {ka_ms} }})\n\
                     undici / fetch: new Agent({{ connections: {pool}, keepAliveTimeout: {ka_ms} }})\n\
                     HikariCP: maximumPoolSize={pool}, keepaliveTime={ka_ms}\n\
                     # check that {dest} accepts {pool} connections from every replica (e.g. Postgres max_connections)"
                ),
            };
            r.findings.push(finding(
                ID,
                Severity::Warning,
                TITLE,
                summary,
                fields,
                ev,
                vec![fix],
            ));
        }
    }
    if r.findings.is_empty() {
        r.status = CheckStatus::Healthy;
        r.note = if candidates == 0 {
            "no process holds a default-sized pool of connections to one destination".into()
        } else {
            format!("{candidates} connection group(s) at a default pool size, without TIME-WAIT pile-up or queueing errors")
        };
    } else {
        r.status = CheckStatus::Fired;
        r.note = r
            .findings
            .iter()
            .map(|f| f.summary.clone())
            .collect::<Vec<_>>()
            .join(" ");
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_size_is_concurrency_times_one_and_a_half() {
        assert_eq!(proposed_pool(10), 15);
        assert_eq!(proposed_pool(6), 9);
        assert_eq!(proposed_pool(5), 8);
    }
}
