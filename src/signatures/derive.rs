//! Derived fields: facts a capture implies but does not spell out, computed in Rust because
//! they need more than a regex (a Kubernetes cgroup path names a pod UID and a container id in
//! half a dozen spellings).

use crate::model::{FieldValue, Fields};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derivation {
    /// `k8s-cgroup:<capture>`: pod UID, container id, QoS class and runtime from a memcg path.
    K8sCgroup { input: String },
}

impl Derivation {
    pub fn parse(spec: &str) -> Result<Derivation, String> {
        match spec.split_once(':') {
            Some(("k8s-cgroup", input)) if !input.is_empty() => Ok(Derivation::K8sCgroup {
                input: input.to_string(),
            }),
            _ => Err(format!(
                "derive `{spec}` is unknown (known: `k8s-cgroup:<capture>`)"
            )),
        }
    }

    pub fn spec(&self) -> String {
        match self {
            Derivation::K8sCgroup { input } => format!("k8s-cgroup:{input}"),
        }
    }

    pub fn input(&self) -> &str {
        match self {
            Derivation::K8sCgroup { input } => input,
        }
    }

    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Derivation::K8sCgroup { .. } => {
                &["pod_uid", "container_id", "pod_qos", "container_runtime"]
            }
        }
    }

    /// Add the derived fields to `fields` (never overwriting a captured value).
    pub fn apply(&self, fields: &mut Fields) {
        match self {
            Derivation::K8sCgroup { input } => {
                let Some(FieldValue::Text(path)) = fields.get(input) else {
                    return;
                };
                let k = parse_k8s_cgroup(path);
                let mut put = |name: &str, v: Option<String>| {
                    if let Some(v) = v {
                        fields
                            .entry(name.to_string())
                            .or_insert(FieldValue::Text(v));
                    }
                };
                put("pod_uid", k.pod_uid);
                put("container_id", k.container_id);
                put("pod_qos", k.qos);
                put("container_runtime", k.runtime);
            }
        }
    }
}

/// What a Kubernetes cgroup path says about the pod and container.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct K8sCgroup {
    pub pod_uid: Option<String>,
    pub container_id: Option<String>,
    /// `guaranteed`, `burstable` or `besteffort`.
    pub qos: Option<String>,
    /// `containerd`, `cri-o` or `docker`.
    pub runtime: Option<String>,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A pod UID in canonical `8-4-4-4-12` form from either `-` or the systemd driver's `_` spelling.
fn canonical_uid(s: &str) -> Option<String> {
    let u = s.replace('_', "-");
    let parts: Vec<&str> = u.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    (parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, l)| p.len() == l && is_hex(p)))
    .then(|| u.to_ascii_lowercase())
}

/// Parse systemd-driver (`kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`) and
/// cgroupfs-driver (`/kubepods/burstable/pod<uid>/<id>`) paths. Unknown shapes give nothing.
pub fn parse_k8s_cgroup(path: &str) -> K8sCgroup {
    let mut out = K8sCgroup::default();
    if !path.contains("kubepods") {
        return out;
    }
    for seg in path.split('/') {
        let seg_body = seg
            .strip_suffix(".slice")
            .or_else(|| seg.strip_suffix(".scope"))
            .unwrap_or(seg);
        // QoS: `kubepods-burstable.slice`, `burstable`, `kubepods-besteffort-pod….slice`.
        for q in ["burstable", "besteffort"] {
            if seg_body == q || seg_body.starts_with(&format!("kubepods-{q}")) {
                out.qos = Some(q.to_string());
            }
        }
        let pod_uid = seg_body.match_indices("pod").find_map(|(i, _)| {
            let before = &seg_body[..i];
            (before.is_empty() || before.ends_with('-'))
                .then(|| canonical_uid(&seg_body[i + 3..]))
                .flatten()
        });
        if let Some(uid) = pod_uid {
            out.pod_uid = Some(uid);
            if out.qos.is_none() {
                out.qos = Some("guaranteed".into());
            }
            continue;
        }
        let runtimes = [
            ("cri-containerd-", "containerd"),
            ("crio-conmon-", "cri-o"),
            ("crio-", "cri-o"),
            ("docker-", "docker"),
        ];
        let mut matched = false;
        for (prefix, rt) in runtimes {
            if let Some(id) = seg_body.strip_prefix(prefix) {
                if id.len() >= 12 && is_hex(id) {
                    out.container_id = Some(id.to_ascii_lowercase());
                    out.runtime = Some(rt.to_string());
                    matched = true;
                }
                break;
            }
        }
        // cgroupfs driver: the container id is the bare 64-hex segment after the pod.
        if !matched && out.pod_uid.is_some() && seg_body.len() == 64 && is_hex(seg_body) {
            out.container_id = Some(seg_body.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CID: &str = "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6";

    #[test]
    fn systemd_driver_containerd() {
        let p = format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-{CID}.scope");
        let k = parse_k8s_cgroup(&p);
        assert_eq!(
            k.pod_uid.as_deref(),
            Some("2c7713fd-2aed-4fa2-a60f-f006ab94b3df")
        );
        assert_eq!(k.container_id.as_deref(), Some(CID));
        assert_eq!(k.qos.as_deref(), Some("burstable"));
        assert_eq!(k.runtime.as_deref(), Some("containerd"));
    }

    #[test]
    fn systemd_driver_crio_and_docker_guaranteed() {
        let p = format!("/kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/crio-{CID}.scope");
        let k = parse_k8s_cgroup(&p);
        assert_eq!(
            k.pod_uid.as_deref(),
            Some("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d")
        );
        assert_eq!(k.qos.as_deref(), Some("guaranteed"));
        assert_eq!(k.runtime.as_deref(), Some("cri-o"));
        let p = format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/docker-{CID}.scope");
        let k = parse_k8s_cgroup(&p);
        assert_eq!(k.runtime.as_deref(), Some("docker"));
        assert_eq!(k.qos.as_deref(), Some("besteffort"));
    }

    #[test]
    fn cgroupfs_driver() {
        let p = format!("/kubepods/burstable/pod2c7713fd-2aed-4fa2-a60f-f006ab94b3df/{CID}");
        let k = parse_k8s_cgroup(&p);
        assert_eq!(
            k.pod_uid.as_deref(),
            Some("2c7713fd-2aed-4fa2-a60f-f006ab94b3df")
        );
        assert_eq!(k.container_id.as_deref(), Some(CID));
        assert_eq!(k.qos.as_deref(), Some("burstable"));
        assert_eq!(k.runtime, None);
    }

    #[test]
    fn non_kubernetes_paths_give_nothing() {
        assert_eq!(
            parse_k8s_cgroup("/system.slice/nginx.service"),
            K8sCgroup::default()
        );
        assert_eq!(
            parse_k8s_cgroup("/kubepods/burstable/podnot-a-uid"),
            K8sCgroup {
                qos: Some("burstable".into()),
                ..Default::default()
            }
        );
    }
}
