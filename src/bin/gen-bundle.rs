//! gen-bundle: a deterministic synthetic support bundle for benchmarks, with its ground truth.
//!
//! `gen-bundle OUT --size 1GiB --seed 7` writes the directory OUT (kernel logs in several
//! formats, journal text and JSON, nginx and Node.js application logs, `date` and `sysctl -a`
//! snapshots) dominated by ordinary noise drawn from ~80 real-shaped templates, with a fixed
//! set of incidents (memcg OOM kills with full reports, SYN floods, conntrack-full bursts,
//! EMFILE and EADDRNOTAVAIL bursts) at known times, and OUT.truth.json beside it.
//! Same seed and size → byte-identical output (a hand-rolled SplitMix64, no clock, no HashMap).
//!
//! `gen-bundle --verify OUT.truth.json report.json` checks a `coroner analyze --format json`
//! report against the truth: every expected finding present with its count, key fields and
//! first evidence line, and no other finding of a catalog signature (a false positive).
//!
//! `gen-bundle --user-signatures DIR` writes 20 valid, realistic user signatures (distinct
//! literals that never occur in the generated noise) for the cost-per-signature measurement.

use chrono::{DateTime, Datelike, Timelike, Utc};
use clap::Parser;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "gen-bundle",
    about = "Write a deterministic synthetic support bundle and its ground truth"
)]
struct Args {
    /// Bundle directory to write (OUT.truth.json is written beside it).
    #[arg(value_name = "OUT", required_unless_present_any = ["verify", "user_signatures"])]
    out: Option<PathBuf>,
    /// Approximate total size: plain bytes or with a unit (100MiB, 1GiB, 500MB, 2M).
    #[arg(long, default_value = "100MiB", value_parser = parse_size)]
    size: u64,
    /// PRNG seed: same seed and size, same bytes.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Check a coroner JSON report against a truth file: --verify TRUTH REPORT.
    #[arg(long, num_args = 2, value_names = ["TRUTH", "REPORT"])]
    verify: Option<Vec<PathBuf>>,
    /// Write 20 user signature files into DIR.
    #[arg(long, value_name = "DIR")]
    user_signatures: Option<PathBuf>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("bad size `{s}`"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "kb" => 1000,
        "m" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        _ => return Err(format!("unknown size unit in `{s}` (use KiB, MiB, GiB)")),
    };
    let bytes = (n * mult as f64) as u64;
    if bytes < 64 * 1024 {
        return Err("size must be at least 64KiB".into());
    }
    Ok(bytes)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(v) = &args.verify {
        return match verify(&v[0], &v[1]) {
            Ok(n) => {
                println!("truth check: OK ({n} expected findings matched, no false positives)");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                eprintln!("truth check: FAILED");
                for p in problems {
                    eprintln!("  - {p}");
                }
                ExitCode::from(1)
            }
        };
    }
    if let Some(dir) = &args.user_signatures {
        return match write_user_signatures(dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gen-bundle: {e}");
                ExitCode::from(2)
            }
        };
    }
    let Some(out) = args.out else {
        return ExitCode::from(2);
    };
    match generate(&out, args.size, args.seed) {
        Ok(truth) => {
            let truth_path = truth_path_for(&out);
            let text = serde_json::to_string_pretty(&truth).unwrap_or_default() + "\n";
            if let Err(e) = fs::write(&truth_path, text) {
                eprintln!("gen-bundle: cannot write {}: {e}", truth_path.display());
                return ExitCode::from(2);
            }
            eprintln!(
                "gen-bundle: wrote {} ({} bytes) and {}",
                out.display(),
                truth["bytes_written"],
                truth_path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-bundle: {e}");
            ExitCode::from(2)
        }
    }
}

fn truth_path_for(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".truth.json");
    PathBuf::from(s)
}

// ------------------------------------------------------------------------------------ PRNG

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified, so output never
/// depends on a crate's version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0; the modulo bias is irrelevant for log noise).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize, out: &mut String) {
        const H: &[u8; 16] = b"0123456789abcdef";
        let mut x = 0u64;
        for i in 0..n {
            if i % 16 == 0 {
                x = self.next();
            }
            out.push(H[(x & 15) as usize] as char);
            x >>= 4;
        }
    }
    fn hexs(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.hex(n, &mut s);
        s
    }
}

// ------------------------------------------------------------------------------- time text

/// Capture time of the bundle (the `date` file); logs end two minutes before it.
const CAPTURE: &str = "2026-11-21T14:30:02Z";
/// Logs span this long before the capture.
const SPAN_SECS: i64 = 2 * 86_400;
/// The host booted this long before the first log line (kernel stamps start at 3 h).
const BOOT_BEFORE_START_SECS: i64 = 3 * 3600;
const HOST: &str = "node-7";
const BOOT_ID: &str = "9c1f4e2ab3d54c6e8f7a6b5c4d3e2f10";

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Per-second timestamp strings, rebuilt only when the second changes (lines are many per second).
struct Stamps {
    sec: i64,
    /// `Nov 21 14:23:07` (syslog, day space-padded).
    syslog: String,
    /// `2026-11-21T14:23:07` (add `+00:00` or `.mmmZ`).
    iso: String,
    /// `2026/11/21 14:23:07` (nginx error log, Go log).
    slash: String,
    /// `21/Nov/2026:14:23:07 +0000` (nginx access log).
    access: String,
    /// `1121 14:23:07` (klog, after the level letter).
    klog: String,
}

impl Stamps {
    fn new() -> Self {
        Stamps {
            sec: i64::MIN,
            syslog: String::new(),
            iso: String::new(),
            slash: String::new(),
            access: String::new(),
            klog: String::new(),
        }
    }
    fn at(&mut self, us: i64) -> &Self {
        let sec = us.div_euclid(1_000_000);
        if sec != self.sec {
            self.sec = sec;
            let t = DateTime::<Utc>::from_timestamp(sec, 0).unwrap_or_default();
            let (y, mo, d) = (t.year(), t.month(), t.day());
            let (h, mi, s) = (t.hour(), t.minute(), t.second());
            let mon = MONTHS[(mo - 1) as usize];
            self.syslog = format!("{mon} {d:>2} {h:02}:{mi:02}:{s:02}");
            self.iso = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            self.slash = format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}");
            self.access = format!("{d:02}/{mon}/{y:04}:{h:02}:{mi:02}:{s:02} +0000");
            self.klog = format!("{mo:02}{d:02} {h:02}:{mi:02}:{s:02}");
        }
        self
    }
}

fn epoch_us(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_micros())
        .unwrap_or(0)
}

fn rfc3339_us(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------- the files

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// `/var/log/kern.log`: `Nov 21 14:23:07 node-7 kernel: [ 8812.310042] msg`.
    KernLog,
    /// `/var/log/syslog`: daemons, `Nov 21 14:23:07 node-7 sshd[812]: msg`.
    Syslog,
    /// `journalctl -o short-iso`: `2026-11-21T14:23:07+00:00 node-7 kubelet[2211]: msg`.
    ShortIso,
    /// `dmesg` raw: `[ 8812.310042] msg`.
    Dmesg,
    /// `journalctl -o json`.
    JournalJson,
    /// nginx `combined` access log.
    NginxAccess,
    /// nginx error log: `2026/11/21 14:23:07 [warn] 31#31: *88 …`.
    NginxError,
    /// A Node.js service's stdout: `2026-11-21T14:23:07.123Z info: …`.
    NodeApp,
}

/// (path in the bundle, kind, share of the total size in per-mille).
const FILES: &[(&str, Kind, u64)] = &[
    ("var/log/kern.log", Kind::KernLog, 220),
    ("var/log/syslog", Kind::Syslog, 180),
    (
        "sos_commands/logs/journalctl_--no-pager_-o_short-iso",
        Kind::ShortIso,
        140,
    ),
    ("sos_commands/kernel/dmesg", Kind::Dmesg, 100),
    (
        "sos_commands/logs/journalctl_-o_json",
        Kind::JournalJson,
        160,
    ),
    ("var/log/nginx/access.log", Kind::NginxAccess, 120),
    ("var/log/nginx/error.log", Kind::NginxError, 30),
    ("var/log/pods/api/app.log", Kind::NodeApp, 50),
];

struct Sink {
    w: BufWriter<File>,
    written: u64,
    lines: u64,
}

impl Sink {
    fn line(&mut self, s: &str) -> std::io::Result<u64> {
        self.w.write_all(s.as_bytes())?;
        self.w.write_all(b"\n")?;
        self.written += s.len() as u64 + 1;
        self.lines += 1;
        Ok(self.lines)
    }
}

/// One log line before its prefix: who said it and what.
struct Msg {
    /// syslog identifier (`kernel` for kernel lines).
    ident: &'static str,
    pid: u32,
    text: String,
}

/// Writes one file's lines with the prefix of its kind.
struct Writer {
    kind: Kind,
    path: &'static str,
    sink: Sink,
    stamps: Stamps,
    boot_us: i64,
    line: String,
    cursor_seq: u64,
}

impl Writer {
    /// Write `m` at time `us`; returns the line number.
    fn emit(&mut self, us: i64, m: &Msg) -> std::io::Result<u64> {
        let mono = (us - self.boot_us).max(0);
        let (ms, micros) = ((us.rem_euclid(1_000_000)) / 1000, us.rem_euclid(1_000_000));
        let st = self.stamps.at(us);
        let l = &mut self.line;
        l.clear();
        match self.kind {
            Kind::KernLog => {
                let _ = write!(
                    l,
                    "{} {HOST} kernel: [{:>5}.{:06}] {}",
                    st.syslog,
                    mono / 1_000_000,
                    mono % 1_000_000,
                    m.text
                );
            }
            Kind::Dmesg => {
                let _ = write!(
                    l,
                    "[{:>5}.{:06}] {}",
                    mono / 1_000_000,
                    mono % 1_000_000,
                    m.text
                );
            }
            Kind::Syslog | Kind::ShortIso => {
                let stamp = if self.kind == Kind::Syslog {
                    &st.syslog
                } else {
                    &st.iso
                };
                let zone = if self.kind == Kind::ShortIso {
                    "+00:00"
                } else {
                    ""
                };
                if m.ident == "kernel" {
                    let _ = write!(l, "{stamp}{zone} {HOST} kernel: {}", m.text);
                } else {
                    let _ = write!(l, "{stamp}{zone} {HOST} {}[{}]: {}", m.ident, m.pid, m.text);
                }
            }
            Kind::JournalJson => {
                self.cursor_seq += 1;
                let kernel = m.ident == "kernel";
                let msg = serde_json::to_string(&m.text).unwrap_or_default();
                let _ = write!(
                    l,
                    "{{\"__CURSOR\":\"s=6c1e0f2d8b9a4c3e9d7f5a4b3c2d1e0f;i={:x};b={BOOT_ID};m={:x};t={:x};x=4f2e1d0c9b8a7f6e\",\"__REALTIME_TIMESTAMP\":\"{us}\",\"__MONOTONIC_TIMESTAMP\":\"{mono}\",\"_BOOT_ID\":\"{BOOT_ID}\",\"PRIORITY\":\"{}\",\"_TRANSPORT\":\"{}\",\"SYSLOG_FACILITY\":\"{}\",\"SYSLOG_IDENTIFIER\":\"{}\",",
                    0x1f00000 + self.cursor_seq,
                    mono,
                    us,
                    if kernel { 4 } else { 6 },
                    if kernel { "kernel" } else { "syslog" },
                    if kernel { 0 } else { 3 },
                    m.ident
                );
                if !kernel {
                    let _ = write!(l, "\"_PID\":\"{}\",", m.pid);
                }
                let _ = write!(l, "\"_HOSTNAME\":\"{HOST}\",\"MESSAGE\":{msg}}}");
            }
            Kind::NginxAccess => {
                // The access line carries its own stamp inside the text (built by the template).
                let _ = write!(l, "{}", m.text.replace("{ts}", &st.access));
            }
            Kind::NginxError => {
                let _ = write!(l, "{} {}", st.slash, m.text);
            }
            Kind::NodeApp => {
                let _ = write!(l, "{}.{:03}Z {}", st.iso, ms, m.text);
            }
        }
        let _ = micros;
        self.sink.line(&self.line)
    }
}

// -------------------------------------------------------------------------- noise templates

const USERS: &[&str] = &["alice", "bob", "deploy", "ops", "ubuntu", "ci-runner"];
const BAD_USERS: &[&str] = &["admin", "test", "oracle", "postgres", "user1", "guest"];
const UNITS: &[&str] = &[
    "logrotate.service",
    "man-db.service",
    "apt-daily.service",
    "apt-daily-upgrade.service",
    "sysstat-collect.service",
    "fstrim.service",
    "motd-news.service",
    "systemd-tmpfiles-clean.service",
    "phpsessionclean.service",
    "update-notifier-download.service",
];
const PODS: &[&str] = &[
    "default/api-7f9c6d8b5-xk2pq",
    "default/web-5d4c8f7b9-7hj2m",
    "payments/orders-6b8d9c7f4-q9z8w",
    "kube-system/coredns-5d78c9869d-4xw2v",
    "monitoring/node-exporter-8xk2l",
    "ingress-nginx/ingress-nginx-controller-7c9d8-p2m4x",
];
const CONTAINERS: &[&str] = &[
    "api",
    "web",
    "orders",
    "coredns",
    "node-exporter",
    "controller",
];
const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/items",
    "/api/v1/cart",
    "/healthz",
    "/static/app.js",
    "/static/style.css",
    "/api/v1/users/me",
    "/metrics",
    "/api/v2/search",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "kube-probe/1.28",
    "curl/8.5.0",
    "Prometheus/2.48.0",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
];

fn ip(r: &mut Rng, out: &mut String) {
    let _ = write!(
        out,
        "10.{}.{}.{}",
        r.below(4),
        r.below(256),
        r.range(1, 254)
    );
}

fn ipv4(r: &mut Rng) -> String {
    let mut s = String::new();
    ip(r, &mut s);
    s
}

fn veth(r: &mut Rng) -> String {
    format!("veth{}", r.hexs(8))
}

/// Kernel ring-buffer noise: devices, filesystems, bridges, audit, ipvs. 34 templates.
fn kernel_noise(r: &mut Rng) -> Msg {
    let mut t = String::with_capacity(160);
    match r.below(34) {
        0 => {
            let _ = write!(
                t,
                "usb 1-1.{}: new high-speed USB device number {} using xhci_hcd",
                r.range(1, 4),
                r.range(2, 40)
            );
        }
        1 => {
            let _ = write!(t, "usb 1-1.{}: New USB device found, idVendor=0781, idProduct=5583, bcdDevice= 1.00", r.range(1, 4));
        }
        2 => {
            let _ = write!(
                t,
                "usb 1-1.{}: USB disconnect, device number {}",
                r.range(1, 4),
                r.range(2, 40)
            );
        }
        3 => {
            let _ = write!(t, "EXT4-fs (nvme1n1p{}): mounted filesystem {}-{}-{}-{}-{} with ordered data mode. Quota mode: none.", r.range(1, 3), r.hexs(8), r.hexs(4), r.hexs(4), r.hexs(4), r.hexs(12));
        }
        4 => {
            let _ = write!(
                t,
                "EXT4-fs (dm-{}): re-mounted. Opts: errors=remount-ro. Quota mode: none.",
                r.below(4)
            );
        }
        5 => t.push_str(
            "ena 0000:00:05.0 eth0: NIC Link is Up 25000 Mbps Full Duplex, Flow Control: Rx/Tx",
        ),
        6 => {
            let _ = write!(
                t,
                "IPv6: ADDRCONF(NETDEV_CHANGE): {}: link becomes ready",
                veth(r)
            );
        }
        7 => {
            let _ = write!(
                t,
                "cni0: port {}({}) entered blocking state",
                r.range(1, 60),
                veth(r)
            );
        }
        8 => {
            let _ = write!(
                t,
                "cni0: port {}({}) entered forwarding state",
                r.range(1, 60),
                veth(r)
            );
        }
        9 => {
            let _ = write!(
                t,
                "cni0: port {}({}) entered disabled state",
                r.range(1, 60),
                veth(r)
            );
        }
        10 => {
            let _ = write!(t, "device {} entered promiscuous mode", veth(r));
        }
        11 => {
            let _ = write!(t, "device {} left promiscuous mode", veth(r));
        }
        12 => {
            let pid = r.range(1000, 99999);
            let _ = write!(t, "audit: type=1400 audit({}.{:03}:{}): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"cri-containerd.apparmor.d\" name=\"/proc/{}/mountinfo\" pid={} comm=\"runc:[2:INIT]\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0", 1_763_500_000 + r.below(300_000), r.below(1000), r.range(100, 99999), pid, pid);
        }
        13 => {
            let _ = write!(t, "audit: type=1130 audit({}.{:03}:{}): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit={} comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'", 1_763_500_000 + r.below(300_000), r.below(1000), r.range(100, 99999), r.pick(UNITS));
        }
        14 => t.push_str("overlayfs: upperdir is in-use as upperdir/workdir of another mount, accessing files from both mounts will result in undefined behavior."),
        15 => {
            let _ = write!(t, "nvme nvme{}: {}/0/0 default/read/poll queues", r.below(2), r.range(2, 8));
        }
        16 => {
            let _ = write!(t, "IPVS: rr: TCP 10.96.{}.{}:443 - no destination available", r.below(256), r.range(1, 254));
        }
        17 => {
            let a = r.range(2500, 9000);
            let _ = write!(t, "perf: interrupt took too long ({} > {}), lowering kernel.perf_event_max_sample_rate to {}", a, a - r.range(10, 400), r.range(20000, 80000));
        }
        18 => {
            let _ = write!(t, "kauditd_printk_skb: {} callbacks suppressed", r.range(1, 60));
        }
        19 => t.push_str("bridge: filtering via arp/ip/ip6tables is no longer available by default. Update your scripts to load br_netfilter if you need this."),
        20 => t.push_str("Netfilter messages via NETLINK v0.30."),
        21 => {
            let _ = write!(t, "eth0: renamed from {}", veth(r));
        }
        22 => {
            let _ = write!(t, "loop{}: detected capacity change from 0 to {}", r.below(12), r.range(1000, 900000) * 8);
        }
        23 => {
            let _ = write!(t, "hrtimer: interrupt took {} ns", r.range(100000, 9000000));
        }
        24 => t.push_str("TCP: eth0: Driver has suspect GRO implementation, TCP performance may be compromised."),
        25 => {
            let _ = write!(t, "nfs: server 10.0.{}.{} OK", r.below(4), r.range(2, 20));
        }
        26 => {
            let _ = write!(t, "xfs filesystem being remounted at /var/lib/kubelet/pods/{}-{}-{}-{}-{}/volume-subpaths supports timestamps until 2038 (0x7fffffff)", r.hexs(8), r.hexs(4), r.hexs(4), r.hexs(4), r.hexs(12));
        }
        27 => {
            let _ = write!(t, "docker0: port {}({}) entered blocking state", r.range(1, 9), veth(r));
        }
        28 => {
            let _ = write!(t, "IPv6: ADDRCONF(NETDEV_UP): {}: link is not ready", veth(r));
        }
        29 => {
            let _ = write!(t, "EXT4-fs (nvme0n1p1): resizing filesystem from {} to {} blocks", r.range(1_000_000, 2_000_000), r.range(2_000_001, 5_000_000));
        }
        30 => {
            let _ = write!(t, "process 'usr/local/bin/{}' started with executable stack", r.pick(&["java", "node", "envoy", "ruby"]));
        }
        31 => {
            let _ = write!(t, "workqueue: drain_local_pages_wq hogged CPU for >10000us {} times, consider switching to WQ_UNBOUND", r.range(4, 64));
        }
        32 => {
            let _ = write!(t, "sd {}:0:0:0: [sd{}] Attached SCSI disk", r.below(4), ['a', 'b', 'c'][r.below(3) as usize]);
        }
        _ => {
            let _ = write!(t, "net_ratelimit: {} callbacks suppressed", r.range(2, 900));
        }
    }
    Msg {
        ident: "kernel",
        pid: 0,
        text: t,
    }
}

/// Daemon noise: systemd, sshd, cron, kubelet (klog), containerd (logfmt), NetworkManager,
/// logind, resolved, chrony, rsyslog, multipathd, networkd. 36 templates.
/// `st` is the klog stamp (`1121 14:23:07`), `iso` the RFC 3339 second (`2026-11-21T14:23:07`).
fn daemon_noise(r: &mut Rng, st: &str, iso: &str) -> Msg {
    let mut t = String::with_capacity(200);
    let (ident, pid): (&'static str, u32) = match r.below(36) {
        0 => {
            let _ = write!(t, "Started {}.", r.pick(UNITS).trim_end_matches(".service"));
            ("systemd", 1)
        }
        1 => {
            let _ = write!(
                t,
                "Starting {}...",
                r.pick(UNITS).trim_end_matches(".service")
            );
            ("systemd", 1)
        }
        2 => {
            let _ = write!(t, "{}: Deactivated successfully.", r.pick(UNITS));
            ("systemd", 1)
        }
        3 => {
            let _ = write!(
                t,
                "Finished {}.",
                r.pick(UNITS).trim_end_matches(".service")
            );
            ("systemd", 1)
        }
        4 => {
            let _ = write!(
                t,
                "run-containerd-runc-k8s.io-{}-runc.{}.mount: Deactivated successfully.",
                r.hexs(64),
                r.hexs(6)
            );
            ("systemd", 1)
        }
        5 => {
            let _ = write!(
                t,
                "Started Session {} of User {}.",
                r.range(100, 9999),
                r.pick(USERS)
            );
            ("systemd", 1)
        }
        6 => {
            let _ = write!(t, "Created slice kubepods-burstable-pod{}_{}_{}_{}_{}.slice - libcontainer container kubepods-burstable-pod.slice.", r.hexs(8), r.hexs(4), r.hexs(4), r.hexs(4), r.hexs(12));
            ("systemd", 1)
        }
        7 => {
            let _ = write!(
                t,
                "Accepted publickey for {} from {} port {} ssh2: ED25519 SHA256:{}",
                r.pick(USERS),
                ipv4(r),
                r.range(32768, 60999),
                r.hexs(43)
            );
            ("sshd", r.range(1000, 60000) as u32)
        }
        8 => {
            let _ = write!(
                t,
                "pam_unix(sshd:session): session opened for user {}(uid=1000) by (uid=0)",
                r.pick(USERS)
            );
            ("sshd", r.range(1000, 60000) as u32)
        }
        9 => {
            let _ = write!(
                t,
                "Disconnected from user {} {} port {}",
                r.pick(USERS),
                ipv4(r),
                r.range(32768, 60999)
            );
            ("sshd", r.range(1000, 60000) as u32)
        }
        10 => {
            let _ = write!(
                t,
                "Received disconnect from {} port {}:11: disconnected by user",
                ipv4(r),
                r.range(32768, 60999)
            );
            ("sshd", r.range(1000, 60000) as u32)
        }
        11 => {
            let _ = write!(
                t,
                "Invalid user {} from 203.0.113.{} port {}",
                r.pick(BAD_USERS),
                r.range(1, 254),
                r.range(1024, 65535)
            );
            ("sshd", r.range(1000, 60000) as u32)
        }
        12 => {
            let _ = write!(
                t,
                "Connection closed by invalid user {} 203.0.113.{} port {} [preauth]",
                r.pick(BAD_USERS),
                r.range(1, 254),
                r.range(1024, 65535)
            );
            ("sshd", r.range(1000, 60000) as u32)
        }
        13 => {
            t.push_str("(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)");
            ("CRON", r.range(1000, 60000) as u32)
        }
        14 => {
            t.push_str("pam_unix(cron:session): session closed for user root");
            ("CRON", r.range(1000, 60000) as u32)
        }
        15 => {
            let pod = r.pick(PODS);
            let _ = write!(t, "I{}.{:06}    2211 kubelet.go:2164] \"SyncLoop (PLEG): event for pod\" pod=\"{}\" event={{ID:{}-{}-{}-{}-{} Type:ContainerStarted Data:{}}}", st, r.below(1_000_000), pod, r.hexs(8), r.hexs(4), r.hexs(4), r.hexs(4), r.hexs(12), r.hexs(64));
            ("kubelet", 2211)
        }
        16 => {
            let _ = write!(t, "I{}.{:06}    2211 prober.go:107] \"Probe failed\" probeType=\"Readiness\" pod=\"{}\" podUID={}-{}-{}-{}-{} containerName=\"{}\" probeResult=failure output=\"HTTP probe failed with statuscode: 503\"", st, r.below(1_000_000), r.pick(PODS), r.hexs(8), r.hexs(4), r.hexs(4), r.hexs(4), r.hexs(12), r.pick(CONTAINERS));
            ("kubelet", 2211)
        }
        17 => {
            let c = r.pick(CONTAINERS);
            let _ = write!(t, "E{}.{:06}    2211 pod_workers.go:1300] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"{}\\\" with CrashLoopBackOff: \\\"back-off 5m0s restarting failed container={} pod={}\\\"\" pod=\"{}\"", st, r.below(1_000_000), c, c, r.pick(PODS), r.pick(PODS));
            ("kubelet", 2211)
        }
        18 => {
            let _ = write!(t, "I{}.{:06}    2211 reconciler_common.go:258] \"operationExecutor.VerifyControllerAttachedVolume started for volume \\\"kube-api-access-{}\\\" (UniqueName: \\\"kubernetes.io/projected/{}-kube-api-access\\\") pod=\\\"{}\\\"\"", st, r.below(1_000_000), r.hexs(5), r.hexs(8), r.pick(PODS));
            ("kubelet", 2211)
        }
        19 => {
            let _ = write!(t, "I{}.{:06}    2211 kuberuntime_container.go:770] \"Killing container with a grace period\" pod=\"{}\" containerName=\"{}\" gracePeriod=30", st, r.below(1_000_000), r.pick(PODS), r.pick(CONTAINERS));
            ("kubelet", 2211)
        }
        20 => {
            let _ = write!(t, "W{}.{:06}    2211 watcher.go:93] Error while processing event (\"/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice\": 0x40000100 == IN_CREATE|IN_ISDIR): inotify_add_watch: no such file or directory", st, r.below(1_000_000));
            ("kubelet", 2211)
        }
        21 => {
            let _ = write!(t, "time=\"{iso}.{:09}Z\" level=info msg=\"StartContainer for \\\"{}\\\" returns successfully\"", r.below(1_000_000_000), r.hexs(64));
            ("containerd", 1187)
        }
        22 => {
            let _ = write!(
                t,
                "time=\"{iso}.{:09}Z\" level=info msg=\"shim disconnected\" id={} namespace=k8s.io",
                r.below(1_000_000_000),
                r.hexs(64)
            );
            ("containerd", 1187)
        }
        23 => {
            let _ = write!(t, "time=\"{iso}.{:09}Z\" level=info msg=\"ImageCreate event name:\\\"sha256:{}\\\" labels:{{key:\\\"io.cri-containerd.image\\\" value:\\\"managed\\\"}}\"", r.below(1_000_000_000), r.hexs(64));
            ("containerd", 1187)
        }
        24 => {
            let _ = write!(t, "time=\"{iso}.{:09}Z\" level=info msg=\"RemoveContainer for \\\"{}\\\" returns successfully\"", r.below(1_000_000_000), r.hexs(64));
            ("containerd", 1187)
        }
        25 => {
            let _ = write!(
                t,
                "<info>  [1763{}.{:04}] device ({}): carrier: link connected",
                r.range(400000, 999999),
                r.below(10000),
                veth(r)
            );
            ("NetworkManager", 702)
        }
        26 => {
            let _ = write!(
                t,
                "<info>  [1763{}.{:04}] dhcp4 (eth0): state changed new lease, address=10.0.3.7",
                r.range(400000, 999999),
                r.below(10000)
            );
            ("NetworkManager", 702)
        }
        27 => {
            let _ = write!(t, "<info>  [1763{}.{:04}] manager: ({}): new Veth device (/org/freedesktop/NetworkManager/Devices/{})", r.range(400000, 999999), r.below(10000), veth(r), r.range(10, 9999));
            ("NetworkManager", 702)
        }
        28 => {
            let _ = write!(
                t,
                "New session {} of user {}.",
                r.range(100, 9999),
                r.pick(USERS)
            );
            ("systemd-logind", 688)
        }
        29 => {
            let _ = write!(
                t,
                "Session {} logged out. Waiting for processes to exit.",
                r.range(100, 9999)
            );
            ("systemd-logind", 688)
        }
        30 => {
            let _ = write!(t, "Removed session {}.", r.range(100, 9999));
            ("systemd-logind", 688)
        }
        31 => {
            t.push_str("Using degraded feature set UDP instead of EDNS0 for DNS server 10.0.0.2.");
            ("systemd-resolved", 611)
        }
        32 => {
            let _ = write!(t, "Selected source 169.254.169.123 (169.254.169.123)");
            ("chronyd", 655)
        }
        33 => {
            t.push_str("[origin software=\"rsyslogd\" swVersion=\"8.2112.0\" x-pid=\"731\" x-info=\"https://www.rsyslog.com\"] rsyslogd was HUPed");
            ("rsyslogd", 731)
        }
        34 => {
            let _ = write!(t, "{}: Gained IPv6LL", veth(r));
            ("systemd-networkd", 598)
        }
        _ => {
            let _ = write!(
                t,
                "sd{}: add missing path",
                ['a', 'b', 'c'][r.below(3) as usize]
            );
            ("multipathd", 402)
        }
    };
    Msg {
        ident,
        pid,
        text: t,
    }
}

/// nginx `combined` access line; `{ts}` is replaced with the line's time.
fn access_noise(r: &mut Rng) -> Msg {
    let mut t = String::with_capacity(220);
    let method = *r.pick(&["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"]);
    let status = *r.pick(&[
        200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 404, 499, 502, 503,
    ]);
    ip(r, &mut t);
    let _ = write!(
        t,
        " - - [{{ts}}] \"{method} {}/{}?page={} HTTP/1.1\" {status} {} \"-\" \"{}\"",
        r.pick(PATHS),
        r.range(1, 99999),
        r.range(1, 40),
        r.range(0, 48000),
        r.pick(AGENTS)
    );
    Msg {
        ident: "nginx",
        pid: 0,
        text: t,
    }
}

/// nginx error log noise (no incident wording). 5 templates.
fn nginx_error_noise(r: &mut Rng) -> Msg {
    let mut t = String::with_capacity(220);
    let w = r.range(20, 35);
    match r.below(5) {
        0 => {
            let _ = write!(t, "[warn] {w}#{w}: *{} an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/{}/{}/{:010} while reading upstream, client: {}, server: api.example.internal, request: \"GET {} HTTP/1.1\", upstream: \"http://10.0.2.15:8080{}\", host: \"api.example.internal\"", r.range(1, 9_999_999), r.below(10), r.range(10, 99), r.below(9_999_999_999), ipv4(r), r.pick(PATHS), r.pick(PATHS));
        }
        1 => {
            let _ = write!(
                t,
                "[info] {w}#{w}: *{} client {} closed keepalive connection",
                r.range(1, 9_999_999),
                ipv4(r)
            );
        }
        2 => {
            let _ = write!(t, "[error] {w}#{w}: *{} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {}, server: api.example.internal, request: \"POST /api/v1/checkout HTTP/1.1\", upstream: \"http://10.0.2.15:8080/api/v1/checkout\", host: \"api.example.internal\"", r.range(1, 9_999_999), ipv4(r));
        }
        3 => {
            let _ = write!(t, "[warn] {w}#{w}: *{} a client request body is buffered to a temporary file /var/cache/nginx/client_temp/{:010}, client: {}, server: api.example.internal, request: \"POST /api/v1/upload HTTP/1.1\", host: \"api.example.internal\"", r.range(1, 9_999_999), r.below(9_999_999_999), ipv4(r));
        }
        _ => {
            let _ = write!(t, "[notice] {w}#{w}: signal process started");
        }
    }
    Msg {
        ident: "nginx",
        pid: 0,
        text: t,
    }
}

/// Node.js service noise. 8 templates.
fn app_noise(r: &mut Rng) -> Msg {
    let mut t = String::with_capacity(160);
    match r.below(8) {
        0 => {
            let _ = write!(
                t,
                "info: GET {}/{} 200 {}ms",
                r.pick(PATHS),
                r.range(1, 99999),
                r.range(1, 900)
            );
        }
        1 => {
            let _ = write!(
                t,
                "info: POST /api/v1/checkout 201 {}ms user={}",
                r.range(20, 2000),
                r.range(1, 500000)
            );
        }
        2 => {
            let _ = write!(
                t,
                "debug: cache hit ratio {}.{:02} over {} lookups",
                r.below(100),
                r.below(100),
                r.range(100, 100000)
            );
        }
        3 => {
            let _ = write!(
                t,
                "info: db pool: {} active, {} idle, {} waiting",
                r.below(20),
                r.below(20),
                r.below(3)
            );
        }
        4 => {
            let _ = write!(t, "warn: slow query {}ms: SELECT id, status, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 50", r.range(500, 9000));
        }
        5 => {
            let _ = write!(
                t,
                "info: worker {} heartbeat rss={}MB heapUsed={}MB",
                r.below(8),
                r.range(150, 900),
                r.range(60, 700)
            );
        }
        6 => {
            let _ = write!(
                t,
                "debug: refreshed feature flags (rev {})",
                r.range(1000, 99999)
            );
        }
        _ => {
            let _ = write!(
                t,
                "info: user {} logged in from {}",
                r.range(1, 500000),
                ipv4(r)
            );
        }
    }
    Msg {
        ident: "node",
        pid: 0,
        text: t,
    }
}

fn noise(kind: Kind, r: &mut Rng, klog_stamp: &str, iso: &str) -> Msg {
    match kind {
        Kind::KernLog | Kind::Dmesg => kernel_noise(r),
        Kind::Syslog => daemon_noise(r, klog_stamp, iso),
        Kind::ShortIso | Kind::JournalJson => {
            // The journal holds kernel and daemon records alike.
            if r.below(4) == 0 {
                kernel_noise(r)
            } else {
                daemon_noise(r, klog_stamp, iso)
            }
        }
        Kind::NginxAccess => access_noise(r),
        Kind::NginxError => nginx_error_noise(r),
        Kind::NodeApp => app_noise(r),
    }
}

// -------------------------------------------------------------------------------- incidents

/// One memcg OOM kill, written as the kernel's full report.
struct Oom {
    comm: &'static str,
    pid: u32,
    uid: u32,
    pod_uid: &'static str,
    container_id: &'static str,
    runtime: &'static str,
    anon_kb: u64,
    file_kb: u64,
    limit_kb: u64,
    failcnt: u64,
}

const OOMS: [Oom; 3] = [
    Oom {
        comm: "node",
        pid: 4242,
        uid: 1000,
        pod_uid: "2c7713fd-2aed-4fa2-a60f-f006ab94b3df",
        container_id: "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6",
        runtime: "cri-containerd",
        anon_kb: 1_003_412,
        file_kb: 31_244,
        limit_kb: 1_048_576,
        failcnt: 812,
    },
    Oom {
        comm: "java",
        pid: 31337,
        uid: 1001,
        pod_uid: "5f0c9a7e-1b2d-4c3e-8f9a-0b1c2d3e4f5a",
        container_id: "3e9a7c1b5d2f4e6a8b0c9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a",
        runtime: "cri-containerd",
        anon_kb: 2_079_744,
        file_kb: 12_288,
        limit_kb: 2_097_152,
        failcnt: 3_117,
    },
    Oom {
        comm: "python3",
        pid: 7781,
        uid: 0,
        pod_uid: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        container_id: "c0ffee1234567890abcdef1234567890abcdef1234567890abcdef1234567890",
        runtime: "crio",
        anon_kb: 520_192,
        file_kb: 4_096,
        limit_kb: 524_288,
        failcnt: 41,
    },
];

impl Oom {
    fn pod_slice(&self) -> String {
        format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice",
            self.pod_uid.replace('-', "_")
        )
    }

    /// The report as mm/oom_kill.c and mm/memcontrol.c print it on a 5.15 kernel.
    fn lines(&self) -> Vec<String> {
        let pod = self.pod_slice();
        let scope = format!("{}-{}.scope", self.runtime, self.container_id);
        let usage = self.limit_kb;
        let rss_pages = self.anon_kb / 4;
        let mut v = vec![
            format!(
                "{} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=996",
                self.comm
            ),
            format!(
                "CPU: 3 PID: {} Comm: {} Not tainted 5.15.0-1019-aws #23-Ubuntu",
                self.pid, self.comm
            ),
            "Hardware name: Amazon EC2 m5.xlarge/, BIOS 1.0 10/16/2017".into(),
            "Call Trace:".into(),
            " <TASK>".into(),
        ];
        for f in [
            "dump_stack_lvl+0x4a/0x63",
            "dump_header+0x4a/0x1f4",
            "oom_kill_process.cold+0xb/0x10",
            "out_of_memory+0x1bd/0x4f0",
            "mem_cgroup_out_of_memory+0x136/0x150",
            "try_charge_memcg+0x6e5/0x7d0",
            "charge_memcg+0x45/0xb0",
            "__mem_cgroup_charge+0x2d/0x80",
            "__handle_mm_fault+0x4ff/0x6f0",
            "handle_mm_fault+0xd8/0x2c0",
            "do_user_addr_fault+0x1c9/0x670",
            "exc_page_fault+0x77/0x170",
            "asm_exc_page_fault+0x27/0x30",
        ] {
            v.push(format!(" {f}"));
        }
        v.extend([
            "RIP: 0033:0x7f3c2a1b4e2d".to_string(),
            "Code: Unable to access opcode bytes at RIP 0x7f3c2a1b4e03.".into(),
            "RSP: 002b:00007ffd4b1c9a58 EFLAGS: 00010206".into(),
            "RAX: 00007f3b9c000000 RBX: 0000000000100000 RCX: 00007f3b9c0ff000".into(),
            " </TASK>".into(),
            format!("memory: usage {usage}kB, limit {}kB, failcnt {}", self.limit_kb, self.failcnt),
            "memory+swap: usage 0kB, limit 9007199254740988kB, failcnt 0".into(),
            "kmem: usage 10404kB, limit 9007199254740988kB, failcnt 0".into(),
            format!("Memory cgroup stats for {pod}:"),
            format!("anon {}", self.anon_kb * 1024),
            format!("file {}", self.file_kb * 1024),
            "kernel 10653696".into(),
            "kernel_stack 442368".into(),
            "pagetables 2789376".into(),
            "sock 0".into(),
            "shmem 0".into(),
            "file_mapped 8192".into(),
            "file_dirty 0".into(),
            "slab 5824512".into(),
            "Tasks state (memory values in pages):".into(),
            "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name".into(),
            "[   4230]     0  4230      243        1    28672        0          -998 pause".into(),
            format!("[{:>7}]  {:>4} {:>5}  1234567  {:>7}  2666496        0           996 {}", self.pid, self.uid, self.pid, rss_pages, self.comm),
            format!("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset={scope},mems_allowed=0,oom_memcg={pod},task_memcg={pod}/{scope},task={},pid={},uid={}", self.comm, self.pid, self.uid),
            format!("Memory cgroup out of memory: Killed process {} ({}) total-vm:4938268kB, anon-rss:{}kB, file-rss:{}kB, shmem-rss:0kB, UID:{} pgtables:2604kB oom_score_adj:996", self.pid, self.comm, self.anon_kb, self.file_kb, self.uid),
            format!("oom_reaper: reaped process {} ({}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB", self.pid, self.comm),
        ]);
        v
    }

    fn truth_fields(&self) -> Value {
        json!({
            "pid": self.pid,
            "process": self.comm,
            "anon_rss_kb": self.anon_kb,
            "file_rss_kb": self.file_kb,
            "usage_kb": self.limit_kb,
            "limit_kb": self.limit_kb,
            "constraint": "CONSTRAINT_MEMCG",
            "pod_uid": self.pod_uid,
            "container_id": self.container_id,
        })
    }
}

/// What an incident writes, and where its truth is grouped.
enum Incident {
    Oom(usize),
    /// `(port, style)`: 0 = 3.x wording, 1 = late-2022 with `0.0.0.0:`, 2 = `[::]:` Dropping.
    SynFlood(u16, u8),
    /// n lines of `table full`, optional netns.
    Conntrack(u32, Option<u64>),
    /// n Node.js `connect EADDRNOTAVAIL` lines to destination.
    NodeAddrNotAvail(u32, &'static str),
    /// n Go `dial tcp … cannot assign requested address` lines.
    GoAddrNotAvail(u32, &'static str),
    /// n Node.js EMFILE lines.
    NodeEmfile(u32),
    /// n nginx `accept4() failed (24: Too many open files)` lines.
    NginxEmfile(u32),
}

/// (file index in FILES, position as a fraction of the file, incident). Fixed for every size and
/// seed, so the truth only differs in line numbers and times.
fn plan() -> Vec<(usize, f64, Incident)> {
    vec![
        (0, 0.30, Incident::Oom(0)),
        (0, 0.41, Incident::SynFlood(443, 0)),
        (0, 0.55, Incident::SynFlood(443, 0)),
        (0, 0.62, Incident::SynFlood(8080, 0)),
        (0, 0.70, Incident::Conntrack(50, None)),
        (0, 0.83, Incident::SynFlood(443, 0)),
        (0, 0.88, Incident::Oom(1)),
        (3, 0.50, Incident::Oom(2)),
        (3, 0.75, Incident::Conntrack(20, Some(4_026_532_345))),
        (2, 0.35, Incident::SynFlood(3000, 1)),
        (2, 0.36, Incident::SynFlood(3000, 1)),
        (2, 0.65, Incident::GoAddrNotAvail(30, "10.26.2.1:3306")),
        (4, 0.20, Incident::SynFlood(9443, 2)),
        (7, 0.45, Incident::NodeAddrNotAvail(120, "10.0.4.17:5432")),
        (7, 0.78, Incident::NodeEmfile(40)),
        (6, 0.79, Incident::NginxEmfile(25)),
    ]
}

/// One expected finding: what coroner must report for a group of incident lines.
struct Expected {
    signature: String,
    /// The `group_by` value(s) as text, to add later lines to the same finding.
    group: String,
    fields: Value,
    count: u64,
    /// First evidence line: (path in the bundle, 1-based line).
    first_evidence: (String, u64),
    /// RFC 3339 time of the first line.
    first: String,
}

/// Expected findings, accumulated while writing, in the order they were first written.
#[derive(Default)]
struct Truth {
    findings: Vec<Expected>,
}

impl Truth {
    fn add(&mut self, sig: &str, group: String, fields: Value, n: u64, at: (&str, u64), us: i64) {
        if let Some(f) = self
            .findings
            .iter_mut()
            .find(|f| f.signature == sig && f.group == group)
        {
            f.count += n;
            return;
        }
        self.findings.push(Expected {
            signature: sig.to_string(),
            group,
            fields,
            count: n,
            first_evidence: (at.0.to_string(), at.1),
            first: rfc3339_us(us),
        });
    }
}

fn kmsg(text: String) -> Msg {
    Msg {
        ident: "kernel",
        pid: 0,
        text,
    }
}

/// Write one incident at `us`; record what coroner should find.
fn write_incident(
    w: &mut Writer,
    inc: &Incident,
    us: i64,
    r: &mut Rng,
    truth: &mut Truth,
) -> std::io::Result<i64> {
    let path = w.path;
    let mut t = us;
    match inc {
        Incident::Oom(i) => {
            let o = &OOMS[*i];
            let mut first = 0;
            for (k, l) in o.lines().into_iter().enumerate() {
                let n = w.emit(t, &kmsg(l))?;
                if k == 0 {
                    first = n;
                }
                t += 7;
            }
            truth.add(
                "mem.oom-kill-memcg",
                o.pid.to_string(),
                o.truth_fields(),
                1,
                (path, first),
                us,
            );
        }
        Incident::SynFlood(port, style) => {
            let text = match style {
                0 => format!("TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.  Check SNMP counters."),
                1 => format!("TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:{port}. Sending cookies."),
                _ => format!("TCP: request_sock_TCPv6: Possible SYN flooding on port [::]:{port}. Dropping request."),
            };
            let n = w.emit(t, &kmsg(text))?;
            let action = if *style == 2 {
                "Dropping request"
            } else {
                "Sending cookies"
            };
            truth.add(
                "net.syn-flood",
                port.to_string(),
                json!({"port": port, "action": action}),
                1,
                (path, n),
                us,
            );
        }
        Incident::Conntrack(count, netns) => {
            let mut first = 0;
            for k in 0..*count {
                let text = match netns {
                    Some(ns) => format!("nf_conntrack: table full in netns {ns}, dropping packet"),
                    None => "nf_conntrack: table full, dropping packet".to_string(),
                };
                let n = w.emit(t, &kmsg(text))?;
                if k == 0 {
                    first = n;
                }
                // The kernel rate-limits the line; the suppressed count shows between bursts.
                if k % 10 == 9 {
                    w.emit(
                        t,
                        &kmsg(format!(
                            "net_ratelimit: {} callbacks suppressed",
                            r.range(50, 900)
                        )),
                    )?;
                }
                t += 180_000 + r.below(40_000) as i64;
            }
            let fields = match netns {
                Some(ns) => json!({"table": "nf", "netns": ns.to_string()}),
                None => json!({"table": "nf"}),
            };
            let key = netns.map(|n| n.to_string()).unwrap_or_default();
            truth.add(
                "net.conntrack-full",
                key,
                fields,
                *count as u64,
                (path, first),
                us,
            );
        }
        Incident::NodeAddrNotAvail(count, dest) => {
            let mut first = 0;
            for k in 0..*count {
                let text = format!("error: request failed: Error: connect EADDRNOTAVAIL {dest} - Local (0.0.0.0:0)");
                let n = w.emit(
                    t,
                    &Msg {
                        ident: "node",
                        pid: 0,
                        text,
                    },
                )?;
                if k == 0 {
                    first = n;
                }
                t += 20_000 + r.below(30_000) as i64;
            }
            truth.add(
                "net.eaddrnotavail",
                dest.to_string(),
                json!({"destination": dest, "local": "0.0.0.0:0"}),
                *count as u64,
                (path, first),
                us,
            );
        }
        Incident::GoAddrNotAvail(count, dest) => {
            let mut first = 0;
            for k in 0..*count {
                let mut st = Stamps::new();
                let slash = st.at(t).slash.clone();
                let text =
                    format!("{slash} dial tcp {dest}: connect: cannot assign requested address");
                let n = w.emit(
                    t,
                    &Msg {
                        ident: "orders",
                        pid: 2811,
                        text,
                    },
                )?;
                if k == 0 {
                    first = n;
                }
                t += 50_000 + r.below(50_000) as i64;
            }
            truth.add(
                "net.eaddrnotavail",
                dest.to_string(),
                json!({"destination": dest}),
                *count as u64,
                (path, first),
                us,
            );
        }
        Incident::NodeEmfile(count) => {
            let mut first = 0;
            for k in 0..*count {
                let f = *r.pick(&["index", "cart", "checkout", "orders", "layout"]);
                let text = format!("error: render failed: Error: EMFILE: too many open files, open '/srv/app/templates/{f}.html'");
                let n = w.emit(
                    t,
                    &Msg {
                        ident: "node",
                        pid: 0,
                        text,
                    },
                )?;
                if k == 0 {
                    first = n;
                }
                t += 30_000 + r.below(30_000) as i64;
            }
            truth.add(
                "fd.emfile",
                path.to_string(),
                json!({"syscall": "open"}),
                *count as u64,
                (path, first),
                us,
            );
        }
        Incident::NginxEmfile(count) => {
            let mut first = 0;
            for k in 0..*count {
                let n = w.emit(
                    t,
                    &Msg {
                        ident: "nginx",
                        pid: 0,
                        text: "[crit] 31#31: accept4() failed (24: Too many open files)".into(),
                    },
                )?;
                if k == 0 {
                    first = n;
                }
                t += 5_000 + r.below(10_000) as i64;
            }
            truth.add(
                "fd.emfile",
                path.to_string(),
                json!({"syscall": "accept4"}),
                *count as u64,
                (path, first),
                us,
            );
        }
    }
    Ok(t)
}

// ------------------------------------------------------------------------------- generate

fn generate(out: &Path, size: u64, seed: u64) -> Result<Value, String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if out.exists() {
        fs::remove_dir_all(out).map_err(|e| io(out, e))?;
    }
    fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let capture_us = epoch_us(CAPTURE);
    let end_us = capture_us - 120 * 1_000_000;
    let start_us = end_us - SPAN_SECS * 1_000_000;
    let boot_us = start_us - BOOT_BEFORE_START_SECS * 1_000_000;

    // Snapshots first (they are tiny): the `date` and `/proc/uptime` anchors (so raw dmesg
    // stamps resolve to wall time) and a sysctl excerpt.
    let uptime_cs = (capture_us - boot_us) / 10_000;
    let snapshots: [(&str, String); 3] = [
        ("sos_commands/date/date", {
            let t = DateTime::parse_from_rfc3339(CAPTURE).map_err(|e| e.to_string())?;
            format!("{}\n", t.format("%a %b %e %H:%M:%S UTC %Y"))
        }),
        (
            "proc/uptime",
            format!(
                "{}.{:02} {}.{:02}\n",
                uptime_cs / 100,
                uptime_cs % 100,
                uptime_cs * 2 / 100 - 1187,
                (uptime_cs * 2) % 100
            ),
        ),
        ("sos_commands/kernel/sysctl_-a", SYSCTL.to_string()),
    ];
    let snapshot_bytes: u64 = snapshots.iter().map(|(_, s)| s.len() as u64).sum();
    let mut files_truth = Vec::new();
    for (p, text) in &snapshots {
        let path = out.join(p);
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(|e| io(d, e))?;
        }
        fs::write(&path, text).map_err(|e| io(&path, e))?;
        files_truth.push(json!({"path": p, "bytes": text.len(), "kind": "snapshot"}));
    }

    let logs_budget = size.saturating_sub(snapshot_bytes);
    let mut truth = Truth::default();
    let mut plan = plan();
    let mut total = snapshot_bytes;
    for (fi, &(rel, kind, permille)) in FILES.iter().enumerate() {
        let budget = logs_budget * permille / 1000;
        let path = out.join(rel);
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(|e| io(d, e))?;
        }
        let f = File::create(&path).map_err(|e| io(&path, e))?;
        let mut w = Writer {
            kind,
            path: rel,
            sink: Sink {
                w: BufWriter::with_capacity(1 << 20, f),
                written: 0,
                lines: 0,
            },
            stamps: Stamps::new(),
            boot_us,
            line: String::with_capacity(512),
            cursor_seq: 0,
        };
        // Each file has its own stream so adding a file never changes the others' bytes.
        let mut r = Rng(seed ^ (0xA076_1D64_78BD_642F_u64.wrapping_mul(fi as u64 + 1)));
        let mut incidents: Vec<(f64, Incident)> = Vec::new();
        let mut rest = Vec::new();
        for (i, frac, inc) in plan.drain(..) {
            if i == fi {
                incidents.push((frac, inc));
            } else {
                rest.push((i, frac, inc));
            }
        }
        plan = rest;
        incidents.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut next = 0;
        let span = (end_us - start_us) as f64;
        let (mut klog, mut iso) = (String::new(), String::new());
        let mut floor_us = start_us;
        while w.sink.written < budget {
            let frac = w.sink.written as f64 / budget as f64;
            // Noise time never goes back behind an incident's last line.
            let us = (start_us + (span * frac) as i64).max(floor_us);
            if let Some((at, inc)) = incidents.get(next) {
                if frac >= *at {
                    floor_us = write_incident(&mut w, inc, us, &mut r, &mut truth)
                        .map_err(|e| io(&path, e))?;
                    next += 1;
                    continue;
                }
            }
            let st = w.stamps.at(us);
            klog.clear();
            klog.push_str(&st.klog);
            iso.clear();
            iso.push_str(&st.iso);
            let m = noise(kind, &mut r, &klog, &iso);
            w.emit(us + r.below(1000) as i64, &m)
                .map_err(|e| io(&path, e))?;
        }
        // A budget too small to reach a late incident still writes it, so the truth holds.
        while let Some((_, inc)) = incidents.get(next) {
            let us = (start_us + span as i64).max(floor_us);
            floor_us =
                write_incident(&mut w, inc, us, &mut r, &mut truth).map_err(|e| io(&path, e))?;
            next += 1;
        }
        w.sink.w.flush().map_err(|e| io(&path, e))?;
        total += w.sink.written;
        files_truth.push(json!({
            "path": rel,
            "bytes": w.sink.written,
            "lines": w.sink.lines,
            "kind": format!("{kind:?}"),
        }));
    }

    let mut by_sig: std::collections::BTreeMap<String, u64> = Default::default();
    let findings: Vec<Value> = truth
        .findings
        .iter()
        .map(|e| {
            *by_sig.entry(e.signature.clone()).or_insert(0) += e.count;
            json!({
                "signature": e.signature,
                "group": e.group,
                "count": e.count,
                "fields": e.fields,
                "first_evidence": {"path": e.first_evidence.0, "line": e.first_evidence.1},
                "first": e.first,
            })
        })
        .collect();
    Ok(json!({
        "generator": "gen-bundle",
        "format": 1,
        "seed": seed,
        "size_requested": size,
        "bytes_written": total,
        "capture_time": CAPTURE,
        "boot_time": rfc3339_us(boot_us),
        "host": HOST,
        "files": files_truth,
        "signature_counts": by_sig,
        "findings": findings,
    }))
}

const SYSCTL: &str = "\
net.core.somaxconn = 4096
net.core.netdev_max_backlog = 1000
net.ipv4.ip_local_port_range = 32768\t60999
net.ipv4.tcp_fin_timeout = 60
net.ipv4.tcp_max_syn_backlog = 1024
net.ipv4.tcp_max_tw_buckets = 262144
net.ipv4.tcp_syncookies = 1
net.ipv4.tcp_tw_reuse = 2
net.netfilter.nf_conntrack_buckets = 65536
net.netfilter.nf_conntrack_count = 262144
net.netfilter.nf_conntrack_max = 262144
fs.file-max = 9223372036854775807
fs.nr_open = 1048576
vm.overcommit_memory = 1
vm.panic_on_oom = 0
";

// --------------------------------------------------------------------------------- verify

/// Check a coroner JSON report against the truth. Returns the number of matched findings.
fn verify(truth_path: &Path, report_path: &Path) -> Result<usize, Vec<String>> {
    let load = |p: &Path| -> Result<Value, Vec<String>> {
        let text = fs::read_to_string(p).map_err(|e| vec![format!("{}: {e}", p.display())])?;
        serde_json::from_str(&text).map_err(|e| vec![format!("{}: {e}", p.display())])
    };
    let truth = load(truth_path)?;
    let report = load(report_path)?;
    let catalog: Vec<String> = coroner::signatures::Catalog::load(&[])
        .map(|c| c.signatures.iter().map(|s| s.id.clone()).collect())
        .unwrap_or_default();
    let empty = Vec::new();
    let expected = truth["findings"].as_array().unwrap_or(&empty);
    let got = report["findings"].as_array().unwrap_or(&empty);
    let mut problems = Vec::new();
    let mut used = vec![false; got.len()];
    for e in expected {
        let sig = e["signature"].as_str().unwrap_or_default();
        let fields = e["fields"].as_object();
        let ev_path = e["first_evidence"]["path"].as_str().unwrap_or_default();
        let ev_line = e["first_evidence"]["line"].as_u64().unwrap_or(0);
        let candidates: Vec<usize> = got
            .iter()
            .enumerate()
            .filter(|(i, g)| {
                !used[*i]
                    && g["signature"] == sig
                    && g["evidence"][0]["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with(ev_path))
                    && g["evidence"][0]["line"].as_u64() == Some(ev_line)
            })
            .map(|(i, _)| i)
            .collect();
        let label = format!("{sig} [{}] at {ev_path}:{ev_line}", e["group"]);
        let Some(&i) = candidates.first() else {
            problems.push(format!("missing finding {label}"));
            continue;
        };
        used[i] = true;
        let g = &got[i];
        if g["count"] != e["count"] {
            problems.push(format!(
                "{label}: count {} expected {}",
                g["count"], e["count"]
            ));
        }
        // Times: the report's `first` must be the incident's first line, to the second
        // (syslog stamps have whole seconds).
        let want = e["first"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        match (
            want,
            g["first"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        ) {
            (Some(w), Some(h)) if (h - w).num_milliseconds().abs() < 1000 => {}
            (Some(w), h) => problems.push(format!(
                "{label}: first time {} expected {}",
                h.map(|h| h.to_rfc3339())
                    .unwrap_or_else(|| "unresolved".into()),
                w.to_rfc3339()
            )),
            (None, _) => {}
        }
        for (k, v) in fields.into_iter().flatten() {
            let have = &g["fields"][k];
            // Typed fields come back as JSON numbers; text fields as strings.
            let same = have == v || have.as_str().is_some_and(|s| Some(s) == v.as_str());
            if !same {
                problems.push(format!("{label}: field {k} = {have} expected {v}"));
            }
        }
    }
    for (i, g) in got.iter().enumerate() {
        let sig = g["signature"].as_str().unwrap_or_default();
        let ours = catalog.iter().any(|c| c == sig) || sig.starts_with("user.bench-");
        if !used[i] && ours {
            problems.push(format!(
                "unexpected finding {sig} (count {}) at {}:{}: {}",
                g["count"], g["evidence"][0]["path"], g["evidence"][0]["line"], g["summary"]
            ));
        }
    }
    if problems.is_empty() {
        Ok(expected.len())
    } else {
        Err(problems)
    }
}

// ------------------------------------------------------------------------- user signatures

/// 20 user signatures for the cost-per-signature measurement: real application and daemon
/// failure wordings, each with a distinct literal that the generated noise never contains, so
/// they add prefilter and regex cost but no findings.
const USER_SIGS: &[(&str, &str, &str)] = &[
    (
        "redis-oom",
        "OOM command not allowed when used memory",
        r"OOM command not allowed when used memory > '(?P<maxmemory>\w+)'",
    ),
    (
        "pg-too-many-clients",
        "sorry, too many clients already",
        r"FATAL:\s+sorry, too many clients already",
    ),
    (
        "mysql-gone-away",
        "MySQL server has gone away",
        r"MySQL server has gone away",
    ),
    (
        "kafka-not-leader",
        "NOT_LEADER_OR_FOLLOWER",
        r"NOT_LEADER_OR_FOLLOWER",
    ),
    (
        "etcd-slow-apply",
        "apply request took too long",
        r"apply request took too long.*took\W+(?P<took>[0-9.]+m?s)",
    ),
    ("dns-servfail", "SERVFAIL", r"SERVFAIL"),
    (
        "tls-handshake-timeout",
        "TLS handshake timeout",
        r"net/http: TLS handshake timeout",
    ),
    (
        "jvm-metaspace",
        "OutOfMemoryError: Metaspace",
        r"java\.lang\.OutOfMemoryError: Metaspace",
    ),
    (
        "go-deadlock",
        "all goroutines are asleep",
        r"fatal error: all goroutines are asleep - deadlock!",
    ),
    (
        "node-heap",
        "JavaScript heap out of memory",
        r"JavaScript heap out of memory",
    ),
    (
        "disk-full",
        "No space left on device",
        r"No space left on device",
    ),
    (
        "readonly-fs",
        "Read-only file system",
        r"Read-only file system",
    ),
    (
        "image-pull",
        "ErrImagePull",
        r"ErrImagePull|ImagePullBackOff",
    ),
    (
        "cni-ip-exhausted",
        "failed to allocate for range",
        r"failed to allocate for range \d+: no IP addresses available in range set",
    ),
    (
        "kube-evicted",
        "The node was low on resource",
        r"The node was low on resource: (?P<resource>[\w-]+)",
    ),
    (
        "pg-deadlock",
        "deadlock detected",
        r"ERROR:\s+deadlock detected",
    ),
    (
        "envoy-overflow",
        "upstream connect error or disconnect/reset before headers",
        r"upstream connect error or disconnect/reset before headers\. reset reason: (?P<reason>[\w ]+)",
    ),
    (
        "grpc-unavailable",
        "code = Unavailable desc",
        r"rpc error: code = Unavailable desc = (?P<desc>.+)",
    ),
    (
        "segfault",
        "segfault at",
        r"(?P<comm>\S+)\[(?P<pid>\d+)\]: segfault at (?P<addr>[0-9a-f]+)",
    ),
    (
        "nfs-not-responding",
        "not responding, still trying",
        r"nfs: server (?P<server>\S+) not responding, still trying",
    ),
];

fn write_user_signatures(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, literal, regex) in USER_SIGS {
        let example = toml_basic_string(example_for(name));
        let text = format!(
            "id = \"user.bench-{name}\"\n\
             title = \"Benchmark user signature: {name}\"\n\
             severity = \"warning\"\n\
             summary = \"{name} seen {{count}} time(s).\"\n\
             what = \"Lines containing `{lit}`.\"\n\
             why = \"Added by scripts/bench.sh to measure the cost of a larger catalog.\"\n\n\
             [[pattern]]\n\
             literals = [\"{lit}\"]\n\
             regex = '''{regex}'''\n\n\
             [[fix]]\n\
             title = \"Investigate {name}\"\n\
             text = \"See the evidence lines.\"\n\n\
             [[example]]\n\
             text = {example}\n\n\
             [[counterexample]]\n\
             text = 'Nov 21 14:23:07 node-7 systemd[1]: Started logrotate.'\n",
            lit = literal.replace('"', "\\\""),
        );
        let p = dir.join(format!("{name}.toml"));
        fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// A TOML basic string (`"…"` with `\\` and `"` escaped).
fn toml_basic_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn example_for(name: &str) -> &'static str {
    match name {
        "redis-oom" => "OOM command not allowed when used memory > 'maxmemory'.",
        "pg-too-many-clients" => "FATAL:  sorry, too many clients already",
        "mysql-gone-away" => "ERROR 2006 (HY000): MySQL server has gone away",
        "kafka-not-leader" => "Got error produce response with correlation id 4 on topic-partition orders-3, retrying. Error: NOT_LEADER_OR_FOLLOWER",
        "etcd-slow-apply" => "{\"level\":\"warn\",\"msg\":\"apply request took too long\",\"took\":\"212.3ms\"}",
        "dns-servfail" => "[ERROR] plugin/errors: 2 api.example.internal. A: read udp 10.0.0.5:53: SERVFAIL",
        "tls-handshake-timeout" => "Get \"https://10.0.0.1:6443/healthz\": net/http: TLS handshake timeout",
        "jvm-metaspace" => "Exception in thread \"main\" java.lang.OutOfMemoryError: Metaspace",
        "go-deadlock" => "fatal error: all goroutines are asleep - deadlock!",
        "node-heap" => "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        "disk-full" => "write /var/lib/docker/tmp/x: No space left on device",
        "readonly-fs" => "touch: cannot touch '/data/x': Read-only file system",
        "image-pull" => "Error: ErrImagePull",
        "cni-ip-exhausted" => "failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254",
        "kube-evicted" => "The node was low on resource: ephemeral-storage.",
        "pg-deadlock" => "ERROR:  deadlock detected",
        "envoy-overflow" => "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        "grpc-unavailable" => "rpc error: code = Unavailable desc = connection closed",
        "segfault" => "python3[2211]: segfault at 0 ip 00007f sp 00007ffd error 4 in libc.so.6",
        _ => "nfs: server 10.0.0.9 not responding, still trying",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_stream() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut r = Rng(0);
        assert_eq!(r.next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("100MiB"), Ok(100 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("70000"), Ok(70_000));
        assert!(parse_size("1TiB").is_err());
        assert!(parse_size("12KiB").is_err(), "below the 64 KiB floor");
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn oom_report_is_the_kernels_shape() {
        let lines = OOMS[0].lines();
        assert!(lines[0].starts_with("node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL)"));
        let summary = lines
            .iter()
            .find(|l| l.starts_with("oom-kill:constraint=CONSTRAINT_MEMCG"))
            .expect("summary line");
        assert!(summary.contains("task=node,pid=4242,uid=1000"));
        assert!(
            summary.contains("kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice")
        );
        let kill = lines
            .iter()
            .position(|l| l.starts_with("Memory cgroup out of memory: Killed process 4242 (node)"))
            .expect("kill line");
        assert!(lines[kill + 1].starts_with("oom_reaper: reaped process 4242 (node)"));
        assert_eq!(kill + 2, lines.len(), "the reaper line closes the report");
    }
}
