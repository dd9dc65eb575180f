//! Hits → findings: group repeated hits by the signature's `group_by` fields, type the fields,
//! derive what the captures imply, and render the summary and fixes from them.

use super::template;
use super::{Catalog, FieldType, Signature};
use crate::model::{rfc3339, Evidence, FieldValue, Fields, Finding, Fix, Hit, Source};
use crate::timeline::Resolution;
use std::collections::BTreeMap;

/// Evidence lines listed per finding; the rest are counted in `evidence_omitted`.
/// Enough to show a pattern and its spread without burying the report.
pub const EVIDENCE_CAP: usize = 20;

/// Typed fields of one hit: captures (ints parsed where the signature says so), built-ins,
/// then derived fields.
pub fn hit_fields(sig: &Signature, hit: &Hit, sources: &[Source]) -> Fields {
    let mut f = Fields::new();
    for (k, v) in &hit.captures {
        let value = match sig.field_type(k) {
            FieldType::Int => match v.replace(',', "").parse::<i64>() {
                Ok(i) => FieldValue::Int(i),
                Err(_) => FieldValue::Text(v.clone()),
            },
            FieldType::Text => FieldValue::Text(v.clone()),
        };
        f.insert(k.clone(), value);
    }
    let path = sources
        .get(hit.source)
        .map(|s| s.path.clone())
        .unwrap_or_default();
    let builtins = [
        ("source", Some(FieldValue::Text(path))),
        ("line", Some(FieldValue::Int(hit.first_line as i64))),
        ("host", hit.host.clone().map(FieldValue::Text)),
        ("program", hit.program.clone().map(FieldValue::Text)),
    ];
    for (k, v) in builtins {
        if let Some(v) = v {
            f.entry(k.to_string()).or_insert(v);
        }
    }
    for d in &sig.derive {
        d.apply(&mut f);
    }
    f
}

fn group_key(sig: &Signature, fields: &Fields) -> Vec<String> {
    sig.group_by
        .iter()
        .map(|g| fields.get(g).map(|v| v.to_string()).unwrap_or_default())
        .collect()
}

/// Group all hits into findings, in a deterministic order: severity (worst first), then the
/// first evidence location, then signature id.
/// `res` gives each hit's resolved time and marks copies of one record in several files:
/// copies add their evidence but are not counted again.
pub fn build(
    catalog: &Catalog,
    sources: &[Source],
    hits: &[Hit],
    res: &Resolution,
) -> Vec<Finding> {
    // Hits in source order (sources are sorted by path), then line order.
    let mut order: Vec<usize> = (0..hits.len()).collect();
    order.sort_by_key(|&i| (hits[i].source, hits[i].first_line, hits[i].signature));

    struct Acc {
        first_hit: usize,
        fields: Fields,
        count: u64,
        first: Option<chrono::DateTime<chrono::Utc>>,
        last: Option<chrono::DateTime<chrono::Utc>>,
        evidence: Vec<Evidence>,
        omitted: u64,
    }
    let mut groups: BTreeMap<(usize, Vec<String>), Acc> = BTreeMap::new();
    let mut first_seen: Vec<(usize, Vec<String>)> = Vec::new();
    for &i in &order {
        let hit = &hits[i];
        let Some(sig) = catalog.signatures.get(hit.signature) else {
            continue;
        };
        let fields = hit_fields(sig, hit, sources);
        let key = (hit.signature, group_key(sig, &fields));
        let acc = groups.entry(key.clone()).or_insert_with(|| {
            first_seen.push(key.clone());
            Acc {
                first_hit: i,
                fields,
                count: 0,
                first: None,
                last: None,
                evidence: Vec::new(),
                omitted: 0,
            }
        });
        let is_copy = res.copy_of.get(i).copied().flatten().is_some();
        if !is_copy {
            acc.count += 1;
        }
        // Copies repeat the event's time in another clock: they would only blur first/last.
        if let Some(t) = res.times.get(i).copied().flatten().filter(|_| !is_copy) {
            acc.first = Some(acc.first.map_or(t, |f| f.min(t)));
            acc.last = Some(acc.last.map_or(t, |l| l.max(t)));
        }
        let path = sources
            .get(hit.source)
            .map(|s| s.path.as_str())
            .unwrap_or_default();
        // A copy of a record already listed only needs to say where else it is.
        let shown = if is_copy {
            &hit.evidence[..hit.evidence.len().min(1)]
        } else {
            &hit.evidence[..]
        };
        for (line, text) in shown {
            if acc.evidence.len() < EVIDENCE_CAP {
                acc.evidence.push(Evidence {
                    path: path.to_string(),
                    line: *line,
                    text: text.clone(),
                });
            } else {
                acc.omitted += 1;
            }
        }
    }

    let mut findings: Vec<(usize, Finding)> = Vec::new();
    for (rank, key) in first_seen.iter().enumerate() {
        let Some(acc) = groups.remove(key) else {
            continue;
        };
        let Some(sig) = catalog.signatures.get(key.0) else {
            continue;
        };
        let mut render_fields = acc.fields.clone();
        render_fields.insert("count".into(), FieldValue::Int(acc.count as i64));
        let fixes = sig
            .fixes
            .iter()
            .map(|f| Fix {
                title: template::render(&f.title, &render_fields),
                text: template::render(&f.text, &render_fields),
            })
            .collect();
        // Public fields: captures, derived values, and the host/program the line names;
        // source and line are in the evidence already.
        let mut fields = acc.fields;
        for b in ["source", "line"] {
            fields.remove(b);
        }
        let _ = acc.first_hit;
        findings.push((
            rank,
            Finding {
                signature: sig.id.clone(),
                severity: sig.severity,
                title: sig.title.clone(),
                summary: template::render(&sig.summary, &render_fields),
                count: acc.count,
                first: acc.first.as_ref().map(rfc3339),
                last: acc.last.as_ref().map(rfc3339),
                fields,
                evidence: acc.evidence,
                evidence_omitted: acc.omitted,
                fixes,
            },
        ));
    }
    findings.sort_by(|(ra, a), (rb, b)| {
        b.severity
            .cmp(&a.severity)
            .then(ra.cmp(rb))
            .then(a.signature.cmp(&b.signature))
    });
    findings.into_iter().map(|(_, f)| f).collect()
}
