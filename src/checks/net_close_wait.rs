//! `net.close-wait-leak`: CLOSE-WAIT sockets piling up in one process: the peer closed, the
//! application never did.

use super::net_common::{evidence, fact_in, finding, socket_lists, thousands};
use super::{CheckContext, CheckReport, CheckStatus};
use crate::ingest::sockets::{Process, RowRef, TcpState};
use crate::model::{FieldValue, Fields, Fix, Severity};
use std::collections::BTreeMap;

pub const ID: &str = "net.close-wait-leak";
const TITLE: &str =
    "Sockets stuck in CLOSE-WAIT: the application does not close connections the peer closed";

/// CLOSE-WAIT never times out: the kernel waits for the application's close(). A handful are
/// closes in flight; this many in one process is a leak (each also holds a file descriptor).
pub const CLOSE_WAIT_LEAK_MIN: u64 = 50;
/// Peers listed per finding.
const TOP_PEERS: usize = 5;

#[derive(Default)]
struct Acc<'a> {
    total: u64,
    /// peer → (count, first row)
    peers: BTreeMap<String, (u64, &'a RowRef)>,
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let lists = socket_lists(ctx);
    if lists.is_empty() {
        r.note = "no socket list".into();
        return r;
    }
    let mut worst_seen = 0u64;
    for list in lists {
        let total = list.count(TcpState::CloseWait);
        r.facts.push(fact_in(
            ctx,
            "CLOSE-WAIT sockets",
            thousands(total),
            list.source,
        ));
        // Owner → peers. Without a process column every socket is "unknown owner".
        let mut by_owner: BTreeMap<Option<&Process>, Acc> = BTreeMap::new();
        let client = list
            .client
            .iter()
            .filter(|(k, _)| k.state == TcpState::CloseWait)
            .map(|(k, g)| (k.process.as_ref(), k.destination.clone(), g));
        let server = list
            .server
            .iter()
            .filter(|(k, _)| k.state == TcpState::CloseWait)
            .map(|(k, g)| {
                (
                    k.process.as_ref(),
                    format!("{} (on {})", k.peer_ip, k.local),
                    g,
                )
            });
        for (owner, peer, g) in client.chain(server) {
            let acc = by_owner.entry(owner).or_default();
            acc.total += g.count;
            let e = acc.peers.entry(peer).or_insert((0, &g.first));
            e.0 += g.count;
        }
        let mut owners: Vec<(Option<&Process>, Acc)> = by_owner.into_iter().collect();
        owners.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(&b.0)));
        for (owner, acc) in owners {
            worst_seen = worst_seen.max(acc.total);
            let who = owner.map_or("sockets without a process column".to_string(), |p| {
                p.display()
            });
            if acc.total < CLOSE_WAIT_LEAK_MIN {
                r.facts.push(fact_in(
                    ctx,
                    &format!("CLOSE-WAIT of {who}"),
                    thousands(acc.total),
                    list.source,
                ));
                continue;
            }
            let mut peers: Vec<(String, u64, &RowRef)> = acc
                .peers
                .into_iter()
                .map(|(p, (n, row))| (p, n, row))
                .collect();
            peers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let top: Vec<String> = peers
                .iter()
                .take(TOP_PEERS)
                .map(|(p, n, _)| format!("{} to {p}", thousands(*n)))
                .collect();
            let summary = format!(
                "{} socket(s) of {who} are in CLOSE-WAIT (threshold {CLOSE_WAIT_LEAK_MIN}): the peers closed and the application never called close(); top peers: {}.",
                thousands(acc.total),
                top.join(", ")
            );
            let mut fields = Fields::new();
            fields.insert("close_wait".into(), FieldValue::Int(acc.total as i64));
            if let Some(p) = owner {
                fields.insert("process".into(), FieldValue::Text(p.name.clone()));
                fields.insert("pid".into(), FieldValue::Int(p.pid as i64));
            }
            if let Some((p, _, _)) = peers.first() {
                fields.insert("top_peer".into(), FieldValue::Text(p.clone()));
            }
            let ev = peers
                .iter()
                .take(TOP_PEERS)
                .map(|(_, _, row)| evidence(ctx, row))
                .collect();
            let pid = owner.map_or("<pid>".to_string(), |p| p.pid.to_string());
            let fix = Fix {
                title: "Close sockets when the peer closes (and bound idle time)".into(),
                text: format!(
                    "# {n} CLOSE-WAIT sockets also hold {n} file descriptors: compare with the limit\n\
                     grep 'Max open files' /proc/{pid}/limits; ls /proc/{pid}/fd | wc -l\n\
                     # Node.js: handle 'end'/'close' and call socket.destroy(); always consume or destroy HTTP response bodies\n\
                     # Go: defer resp.Body.Close() on every response; Java: try-with-resources on responses and connections\n\
                     # and set idle timeouts on the client/pool so half-closed connections are evicted",
                    n = thousands(acc.total),
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
        r.note = format!(
            "at most {} CLOSE-WAIT socket(s) per owner, below {CLOSE_WAIT_LEAK_MIN}",
            thousands(worst_seen)
        );
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
