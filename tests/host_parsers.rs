//! Host-resource parsers (`lsof`, `proc-limits`, `memory-stat`) over the fixtures: detection,
//! exact values, and bad input.

use coroner::ingest::lsof::FdOrigin;
use coroner::ingest::memory_stat::Amount;
use coroner::ingest::proc_limits::{LimitValue, LimitsOrigin};
use coroner::ingest::{self, Facts, Sniff};
use coroner::model::{Source, SourceKind};
use coroner::signatures::Catalog;
use coroner::{read_source, AnalyzeOptions};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn files_under(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for e in entries {
            files_under(&e, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// Read every file under `rel` (relative to fixtures/) the way `analyze` does, with display
/// paths relative to `rel`, and merge their facts.
fn read(rel: &str) -> (Facts, Vec<Source>) {
    let root = fixtures().join(rel);
    let catalog = Catalog::load(&[]).expect("catalog");
    let mut files = Vec::new();
    files_under(&root, &mut files);
    let mut facts = Facts::default();
    let mut sources = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let display = if root.is_dir() {
            f.strip_prefix(&root)
                .expect("under root")
                .display()
                .to_string()
        } else {
            f.file_name().expect("name").to_string_lossy().into_owned()
        };
        let bytes = std::fs::read(f).expect("read fixture");
        let r = read_source(
            &display,
            &mut bytes.as_slice(),
            i,
            &catalog,
            &AnalyzeOptions::default(),
        );
        facts.merge(r.facts);
        sources.push(r.source);
    }
    (facts, sources)
}

fn read_text(display: &str, text: &[u8]) -> (Facts, Source) {
    let catalog = Catalog::load(&[]).expect("catalog");
    let r = read_source(
        display,
        &mut &text[..],
        0,
        &catalog,
        &AnalyzeOptions::default(),
    );
    (r.facts, r.source)
}

// ---------------------------------------------------------------- lsof

#[test]
fn lsof_with_tid_columns_counts_each_fd_once_per_pid() {
    let (facts, sources) = read("lsof/lsof-n-tid.txt");
    assert_eq!(sources[0].kind, SourceKind::Lsof);
    assert_eq!(sources[0].format, "lsof-tid");
    // The two `lsof: WARNING` lines are reported, not parsed.
    assert!(sources[0]
        .diagnostics
        .iter()
        .any(|d| d.line == Some(1) && d.message.contains("2 line(s)")));
    let p = &facts.lsof.processes;
    assert_eq!(
        p.keys().copied().collect::<Vec<_>>(),
        vec![1, 812, 4242, 9001]
    );

    let node = &p[&4242];
    assert_eq!(node.command, "node");
    assert_eq!(node.user, "app");
    assert_eq!(node.open_fds, 13);
    assert_eq!(node.thread_rows, 30);
    let types: Vec<(&str, u64)> = node.by_type.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        types,
        vec![
            ("CHR", 1),
            ("FIFO", 2),
            ("IPv4", 4),
            ("IPv6", 2),
            ("REG", 3),
            ("a_inode", 1)
        ]
    );
    assert_eq!(node.socket_states.get("ESTABLISHED"), Some(&3));
    assert_eq!(node.socket_states.get("LISTEN"), Some(&1));
    assert_eq!(node.socket_states.get("CLOSE_WAIT"), Some(&1));
    assert_eq!(node.peers.get("db.internal:postgresql"), Some(&2));
    assert_eq!(node.peers.get("[2001:db8::99]:52044"), Some(&1));
    assert_eq!(node.peers.get("10.96.0.10:domain"), Some(&1));
    assert_eq!(node.deleted, 1);
    assert_eq!(node.network_sockets(), 6);
    let first = node.first.as_ref().expect("first row");
    assert_eq!(first.line, 19);
    assert!(first.text.starts_with("node      4242"));

    let systemd = &p[&1];
    assert_eq!(systemd.open_fds, 5);
    assert_eq!(systemd.of_type("a_inode"), 2);
    assert_eq!(systemd.of_type("netlink"), 1);
    assert_eq!(systemd.of_type("unix"), 1);

    let sshd = &p[&812];
    assert_eq!(sshd.open_fds, 3, "DEL/cwd/txt rows are not descriptors");
    assert_eq!(sshd.socket_states.get("LISTEN"), Some(&2));

    let app = &p[&9001];
    assert_eq!(app.command, "my\\x20app");
    assert_eq!(app.user, "svc");
    assert_eq!(app.open_fds, 1);
}

#[test]
fn lsof_without_tid_columns() {
    let (facts, sources) = read("lsof/lsof-nP-rhel7.txt");
    assert_eq!(sources[0].kind, SourceKind::Lsof);
    assert_eq!(sources[0].format, "lsof");
    assert!(
        sources[0].diagnostics.is_empty(),
        "{:?}",
        sources[0].diagnostics
    );
    let master = &facts.lsof.processes[&2101];
    assert_eq!(master.open_fds, 6);
    assert_eq!(master.user, "root");
    let worker = &facts.lsof.processes[&2102];
    assert_eq!(worker.user, "nginx");
    assert_eq!(worker.open_fds, 19);
    assert_eq!(worker.of_type("IPv4"), 9);
    assert_eq!(worker.of_type("IPv6"), 2);
    assert_eq!(worker.of_type("REG"), 3);
    assert_eq!(worker.of_type("CHR"), 2);
    assert_eq!(worker.of_type("unix"), 1);
    assert_eq!(worker.of_type("a_inode"), 2);
    assert_eq!(worker.socket_states.get("ESTABLISHED"), Some(&8));
    assert_eq!(worker.socket_states.get("CLOSE_WAIT"), Some(&1));
    assert_eq!(worker.peers.get("192.168.10.9:8080"), Some(&2));
    assert_eq!(worker.peers.get("[::1]:39002"), Some(&1));
    assert_eq!(worker.deleted, 1);
}

#[test]
fn grepped_lsof_rows_without_a_header() {
    let (facts, sources) = read("lsof/lsof-nP-grep-java.txt");
    assert_eq!(sources[0].kind, SourceKind::Lsof);
    assert_eq!(sources[0].format, "lsof-headerless");
    let p = &facts.lsof.processes[&7311];
    assert_eq!(p.command, "java");
    assert_eq!(p.user, "app");
    assert_eq!(p.open_fds, 8);
    assert_eq!(p.thread_rows, 8);
    assert_eq!(p.of_type("IPv6"), 3);
    assert_eq!(p.of_type("IPv4"), 1);
    assert_eq!(p.of_type("sock"), 1);
    assert_eq!(p.of_type("REG"), 2);
    assert_eq!(p.socket_states.get("CLOSE_WAIT"), Some(&1));
    assert_eq!(p.peers.get("10.0.4.20:6379"), Some(&1));
    assert_eq!(p.peers.get("[::ffff:10.0.1.9]:40114"), Some(&1));
    assert_eq!(facts.lsof.processes[&7402].open_fds, 0);
}

#[test]
fn proc_fd_listings() {
    let (facts, sources) = read("lsof/proc-7311-fd.txt");
    assert_eq!(sources[0].kind, SourceKind::Lsof);
    assert_eq!(sources[0].format, "proc-fd-listing");
    let p = &facts.lsof.processes[&7311];
    assert_eq!(p.origin, FdOrigin::ProcFdListing);
    assert_eq!(p.open_fds, 40);
    assert_eq!(p.of_type("socket"), 22);
    assert_eq!(p.of_type("REG"), 11);
    assert_eq!(p.of_type("FIFO"), 4);
    assert_eq!(p.of_type("a_inode"), 2);
    assert_eq!(p.of_type("CHR"), 1);

    let (facts, sources) = read("lsof/ls-l-proc-fd.txt");
    assert_eq!(sources[0].kind, SourceKind::Lsof);
    let p = &facts.lsof.processes;
    assert_eq!(p[&812].open_fds, 5);
    assert_eq!(p[&812].of_type("socket"), 4);
    assert_eq!(p[&2102].open_fds, 8);
    assert_eq!(p[&2102].deleted, 1);
}

#[test]
fn lsof_bundle_dump_has_1021_fds_of_pid_4242() {
    let (facts, _) = read("bundles/fd-exhaustion/lsof-nP-p4242.txt");
    let p = &facts.lsof.processes[&4242];
    assert_eq!(p.command, "orders-ap");
    assert_eq!(p.open_fds, 1021);
    assert_eq!(p.of_type("IPv4"), 972);
    assert_eq!(p.of_type("IPv6"), 41);
    assert_eq!(p.peers.get("10.0.4.17:5432"), Some(&972));
    assert_eq!(p.socket_states.get("ESTABLISHED"), Some(&1012));
    assert_eq!(p.socket_states.get("LISTEN"), Some(&1));
}

#[test]
fn lsof_same_pid_in_two_snapshots_keeps_the_peak() {
    let (mut a, _) = read_text(
        "a.txt",
        b"COMMAND  PID USER   FD TYPE DEVICE SIZE/OFF NODE NAME\nnode    4242  app    3u IPv4  100      0t0  TCP *:3000 (LISTEN)\n",
    );
    let (b, _) = read_text(
        "b.txt",
        b"COMMAND  PID USER   FD TYPE DEVICE SIZE/OFF NODE NAME\nnode    4242  app    3u IPv4  100      0t0  TCP *:3000 (LISTEN)\nnode    4242  app    4u IPv4  101      0t0  TCP 1.2.3.4:5->6.7.8.9:10 (ESTABLISHED)\n",
    );
    a.merge(b);
    assert_eq!(a.lsof.processes[&4242].open_fds, 2);
    // A larger /proc/<pid>/fd listing wins the count and keeps lsof's COMMAND.
    let (listing, _) = read_text(
        "proc/4242/fd.txt",
        b"total 0\nlrwx------ 1 app app 64 Nov 21 14:23 0 -> /dev/null\nlrwx------ 1 app app 64 Nov 21 14:23 3 -> socket:[1]\nlrwx------ 1 app app 64 Nov 21 14:23 4 -> socket:[2]\n",
    );
    a.merge(listing);
    let p = &a.lsof.processes[&4242];
    assert_eq!(p.open_fds, 3);
    assert_eq!(p.command, "node");
    assert_eq!(p.origin, FdOrigin::ProcFdListing);
}

// ---------------------------------------------------------------- proc limits

#[test]
fn proc_limits_with_pid_from_the_path() {
    let (facts, sources) = read("proc");
    let kinds: Vec<(&str, SourceKind)> =
        sources.iter().map(|s| (s.path.as_str(), s.kind)).collect();
    for (path, kind) in &kinds {
        assert_eq!(*kind, SourceKind::ProcLimits, "{path}");
    }
    let low = facts.proc_limits.open_files_of(4242).expect("pid 4242");
    assert_eq!(low.soft, LimitValue::Value(1024));
    assert_eq!(low.hard, Some(LimitValue::Value(4096)));
    assert_eq!(low.units, "files");
    assert_eq!(low.at.line, 9);
    assert_eq!(
        low.at.text,
        "Max open files            1024                 4096                 files     "
    );
    let ok = facts.proc_limits.open_files_of(7311).expect("pid 7311");
    assert_eq!(ok.soft, LimitValue::Value(1048576));
    assert_eq!(ok.hard, Some(LimitValue::Value(1048576)));
    let l7311 = facts
        .proc_limits
        .limits
        .iter()
        .find(|l| l.pid == Some(7311))
        .expect("7311");
    assert_eq!(l7311.rows.len(), 16);
    assert_eq!(l7311.rows["Max processes"].soft, LimitValue::Unlimited);
    assert_eq!(l7311.rows["Max nice priority"].units, "");
}

#[test]
fn file_nr() {
    let (facts, sources) = read("proc/file-nr");
    assert_eq!(sources[0].kind, SourceKind::ProcLimits);
    assert_eq!(sources[0].format, "file-nr");
    let nr = &facts.proc_limits.file_nr[0];
    assert_eq!(
        (nr.allocated, nr.unused, nr.max),
        (14848, 0, 9223372036854775807)
    );
    assert_eq!(nr.at.line, 1);
}

#[test]
fn ulimit_outputs_of_each_shell() {
    for (file, nofile, rows) in [
        ("proc/ulimit-a-bash.txt", 1024, 17),
        ("proc/ulimit-a-busybox.txt", 1048576, 13),
        ("proc/ulimit-a-dash.txt", 4096, 12),
    ] {
        let (facts, sources) = read(file);
        assert_eq!(sources[0].kind, SourceKind::ProcLimits, "{file}");
        assert_eq!(sources[0].format, "ulimit", "{file}");
        let l = &facts.proc_limits.limits[0];
        assert_eq!(l.origin, LimitsOrigin::Ulimit);
        assert_eq!(l.pid, None);
        assert_eq!(l.rows.len(), rows, "{file}: {:?}", l.rows.keys());
        let of = l.open_files.as_ref().expect("open files row");
        assert_eq!(of.soft, LimitValue::Value(nofile), "{file}");
        assert_eq!(of.hard, None);
    }
}

#[test]
fn concatenated_limits_dump() {
    let (facts, sources) = read("proc/limits-loop-dump.txt");
    assert_eq!(sources[0].kind, SourceKind::ProcLimits);
    assert!(
        sources[0].diagnostics.is_empty(),
        "{:?}",
        sources[0].diagnostics
    );
    let pids: Vec<Option<u32>> = facts.proc_limits.limits.iter().map(|l| l.pid).collect();
    assert_eq!(pids, vec![Some(1), Some(812), Some(4242)]);
    let sshd = facts.proc_limits.open_files_of(812).expect("812");
    assert_eq!(sshd.soft, LimitValue::Value(1024));
    assert_eq!(sshd.hard, Some(LimitValue::Value(524288)));
    assert_eq!(sshd.at.line, 28);
    assert_eq!(
        facts.proc_limits.open_files_of(1).expect("1").soft,
        LimitValue::Value(1073741816)
    );
}

#[test]
fn limits_head_and_grep_headers() {
    let text = "==> /proc/31/limits <==\nLimit                     Soft Limit           Hard Limit           Units     \nMax open files            4096                 4096                 files     \n\n/proc/77/limits:Max open files            1024                 4096                 files     \n";
    let (facts, source) = read_text("limits.txt", text.as_bytes());
    assert_eq!(source.kind, SourceKind::ProcLimits);
    assert_eq!(
        facts.proc_limits.open_files_of(31).expect("31").soft,
        LimitValue::Value(4096)
    );
    let l77 = facts.proc_limits.open_files_of(77).expect("77");
    assert_eq!(l77.soft, LimitValue::Value(1024));
    assert_eq!(l77.at.line, 5);
}

#[test]
fn limits_without_pid_and_unlimited_values() {
    let text = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            unlimited            unlimited            files     \n";
    let (facts, source) = read_text("limits.txt", text.as_bytes());
    let l = &facts.proc_limits.limits[0];
    assert_eq!(l.pid, None);
    assert_eq!(
        l.open_files.as_ref().expect("row").soft,
        LimitValue::Unlimited
    );
    assert!(source
        .diagnostics
        .iter()
        .any(|d| d.message.contains("without a pid")));
    let (facts, _) = read_text("limits-4242.txt", text.as_bytes());
    assert_eq!(facts.proc_limits.limits[0].pid, Some(4242));
}

// ---------------------------------------------------------------- memory.stat

const V2_CG: &str = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope";

#[test]
fn cgroup_v2_files_join_by_directory() {
    let (facts, sources) = read("cgroup/v2");
    assert_eq!(sources.len(), 6);
    for s in &sources {
        assert_eq!(s.kind, SourceKind::MemoryStat, "{}", s.path);
        assert!(s.format.starts_with("cgroup-v2"), "{} {}", s.path, s.format);
    }
    assert_eq!(facts.memory_stat.cgroups.len(), 1);
    let cg = &facts.memory_stat.cgroups[V2_CG];
    assert_eq!(cg.cgroup_path.as_deref(), Some(V2_CG));
    assert_eq!(cg.version, Some(2));
    assert_eq!(
        cg.pod_uid.as_deref(),
        Some("2c7713fd-2aed-4fa2-a60f-f006ab94b3df")
    );
    assert_eq!(
        cg.container_id.as_deref(),
        Some("8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6")
    );
    assert_eq!(cg.limit().expect("limit").amount, Amount::Bytes(1073741824));
    assert_eq!(cg.usage().expect("usage").amount, Amount::Bytes(1053315072));
    assert_eq!(cg.peak().expect("peak").amount, Amount::Bytes(1073741824));
    assert_eq!(cg.files["memory.high"].amount, Amount::Max);
    assert_eq!(cg.oom_kills().expect("oom_kill").amount, Amount::Bytes(2));
    assert_eq!(cg.events["max"].amount, Amount::Bytes(1843));
    assert_eq!(cg.stat.len(), 51);
    assert_eq!(cg.stat["anon"].amount, Amount::Bytes(1004535808));
    assert_eq!(cg.stat["anon"].at.line, 1);
    assert_eq!(cg.stat["file"].amount, Amount::Bytes(31457280));
    assert_eq!(cg.stat["kernel"].amount, Amount::Bytes(15728640));
    assert_eq!(cg.stat["sock"].amount, Amount::Bytes(1212416));
    assert_eq!(cg.stat["slab"].amount, Amount::Bytes(10245312));
}

#[test]
fn cgroup_v1_files_join_by_directory() {
    let (facts, sources) = read("cgroup/v1");
    assert_eq!(sources.len(), 6);
    let key = "/kubepods/burstable/pod0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/3f9e2d1c0b4a59687766554433221100ffeeddccbbaa99887766554433221100";
    let cg = &facts.memory_stat.cgroups[key];
    assert_eq!(cg.version, Some(1));
    assert_eq!(
        cg.pod_uid.as_deref(),
        Some("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d")
    );
    assert_eq!(cg.limit().expect("limit").amount, Amount::Bytes(2147483648));
    assert_eq!(cg.usage().expect("usage").amount, Amount::Bytes(1717567488));
    assert_eq!(cg.peak().expect("peak").amount, Amount::Bytes(2013265920));
    assert_eq!(cg.files["memory.failcnt"].amount, Amount::Bytes(0));
    assert_eq!(cg.events["oom_kill_disable"].amount, Amount::Bytes(0));
    assert_eq!(cg.oom_kills().expect("oom_kill").amount, Amount::Bytes(0));
    assert_eq!(cg.stat["total_cache"].amount, Amount::Bytes(1288437760));
    assert_eq!(cg.stat["total_rss"].amount, Amount::Bytes(398458880));
    assert_eq!(cg.stat["hierarchical_memsw_limit"].amount, Amount::Max);
    assert_eq!(
        cg.stat["hierarchical_memory_limit"].amount,
        Amount::Bytes(2147483648)
    );
}

#[test]
fn cgroup_v2_unlimited() {
    let (facts, _) = read("cgroup/v2-unlimited");
    let cg = &facts.memory_stat.cgroups["/system.slice/orders-api.service"];
    assert_eq!(cg.limit().expect("limit").amount, Amount::Max);
    assert_eq!(cg.usage().expect("usage").amount, Amount::Bytes(524288000));
}

#[test]
fn cgroup_dump_from_head_with_cd() {
    let (facts, sources) = read("cgroup/dump-head-v2.txt");
    assert_eq!(sources[0].kind, SourceKind::MemoryStat);
    assert_eq!(sources[0].format, "cgroup-dump");
    let key = "/kubepods.slice/kubepods-pod7d1f4a2b_9c3e_4b5a_8d6f_1e2a3b4c5d6e.slice/cri-containerd-c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789.scope";
    let cg = &facts.memory_stat.cgroups[key];
    assert_eq!(
        cg.pod_uid.as_deref(),
        Some("7d1f4a2b-9c3e-4b5a-8d6f-1e2a3b4c5d6e")
    );
    assert_eq!(cg.limit().expect("limit").amount, Amount::Bytes(536870912));
    assert_eq!(cg.limit().expect("limit").at.line, 4);
    assert_eq!(cg.usage().expect("usage").amount, Amount::Bytes(161062912));
    assert_eq!(cg.oom_kills().expect("oom").amount, Amount::Bytes(0));
    assert_eq!(cg.stat["anon"].amount, Amount::Bytes(125829120));
    assert_eq!(cg.stat.len(), 22);
}

#[test]
fn cgroup_dump_from_grep() {
    let (facts, sources) = read("cgroup/dump-grep-v1.txt");
    assert_eq!(sources[0].kind, SourceKind::MemoryStat);
    let cg = &facts.memory_stat.cgroups["/system.slice/mysqld.service"];
    assert_eq!(cg.version, Some(1));
    assert_eq!(cg.limit().expect("limit").amount, Amount::Bytes(4294967296));
    assert_eq!(cg.usage().expect("usage").amount, Amount::Bytes(1932525568));
    assert_eq!(cg.usage().expect("usage").at.line, 16);
    assert_eq!(cg.stat["cache"].amount, Amount::Bytes(1073741824));
    assert_eq!(cg.oom_kills().expect("oom").amount, Amount::Bytes(0));
}

#[test]
fn cgroup_cat_prompts() {
    let text = "root@n:/sys/fs/cgroup/app.slice# cat memory.max\n1073741824\nroot@n:/sys/fs/cgroup/app.slice# cat memory.current\n805306368\n$ cat /sys/fs/cgroup/app.slice/memory.events\nlow 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n";
    let (facts, source) = read_text("notes.txt", text.as_bytes());
    assert_eq!(source.kind, SourceKind::MemoryStat);
    let cg = &facts.memory_stat.cgroups["/app.slice"];
    assert_eq!(cg.limit().expect("limit").amount, Amount::Bytes(1 << 30));
    assert_eq!(cg.usage().expect("usage").amount, Amount::Bytes(805306368));
    assert_eq!(cg.oom_kills().expect("oom").amount, Amount::Bytes(1));
}

#[test]
fn cgroup_cat_of_several_files_routes_by_key() {
    let text = "# cd /sys/fs/cgroup/app.slice\n# cat memory.stat memory.events\nanon 700\nfile 200\nlow 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n";
    let (facts, source) = read_text("notes.txt", text.as_bytes());
    assert_eq!(source.kind, SourceKind::MemoryStat);
    let cg = &facts.memory_stat.cgroups["/app.slice"];
    assert_eq!(cg.stat.len(), 2);
    assert_eq!(cg.stat["anon"].amount, Amount::Bytes(700));
    assert_eq!(cg.events.len(), 6);
    assert_eq!(cg.oom_kills().expect("oom").at.line, 9);
}

#[test]
fn memory_stat_detected_by_content_under_another_name() {
    let text = b"anon 1024\nfile 2048\nkernel 0\n";
    assert_eq!(
        ingest::sniff(text, "stat.txt"),
        Sniff::Text(SourceKind::MemoryStat)
    );
    let v1 = b"cache 4096\nrss 8192\n";
    assert_eq!(
        ingest::sniff(v1, "cg.txt"),
        Sniff::Text(SourceKind::MemoryStat)
    );
    // A bare number is only a cgroup file when the name says so.
    assert_eq!(
        ingest::sniff(b"1073741824\n", "memory.max"),
        Sniff::Text(SourceKind::MemoryStat)
    );
    assert_ne!(
        ingest::sniff(b"1073741824\n", "value.txt"),
        Sniff::Text(SourceKind::MemoryStat)
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_input_gives_diagnostics_and_no_panic() {
    let ctx = |path: &str| ingest::ParseCtx {
        source: 0,
        path: path.into(),
        max_line_bytes: 256,
    };
    let garbage: &[&[u8]] = &[
        b"",
        b"\n\n\n",
        b"\xff\xfe\x00garbage \xc3\x28 bytes\n",
        b"COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnode",
        b"COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\nnode 12x app 3u IPv4 1 0t0 TCP *:1 (LISTEN)\n",
        b"COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac 1 root 3u \xe2\x82\xac x\n",
        b"Limit                     Soft Limit           Hard Limit           Units     \nMax open fi",
        b"Limit                     Soft Limit           Hard Limit           Units     \nMax open files            lots                 more                 files\n",
        b"anon\nfile x\n-1\nmax max\n",
        b"==> memory.stat <==\nanon 18446744073709551616\n",
        &[b'x'; 5000],
    ];
    for g in garbage {
        for path in ["x", "proc/1/limits", "memory.stat", "memory.max", "file-nr"] {
            let p = coroner::ingest::lsof::parse(&mut &g[..], &ctx(path));
            assert!(!p.diagnostics.is_empty() || !p.facts.processes.is_empty());
            let p = coroner::ingest::proc_limits::parse(&mut &g[..], &ctx(path));
            assert!(!p.diagnostics.is_empty() || !p.facts.limits.is_empty());
            let p = coroner::ingest::memory_stat::parse(&mut &g[..], &ctx(path));
            assert!(!p.diagnostics.is_empty() || !p.facts.cgroups.is_empty());
        }
    }
}

#[test]
fn truncated_inputs_keep_partial_results() {
    let full = std::fs::read(fixtures().join("lsof/lsof-nP-rhel7.txt")).expect("fixture");
    let cut = &full[..full.len() / 2];
    let (facts, source) = read_text("lsof.txt", cut);
    assert_eq!(source.kind, SourceKind::Lsof);
    assert_eq!(facts.lsof.processes[&2101].open_fds, 6);

    let limits = std::fs::read(fixtures().join("proc/4242/limits")).expect("fixture");
    let (facts, source) = read_text("proc/4242/limits", &limits[..300]);
    assert_eq!(source.kind, SourceKind::ProcLimits);
    let l = &facts.proc_limits.limits[0];
    assert!(l.open_files.is_none());
    assert!(source
        .diagnostics
        .iter()
        .any(|d| d.message.contains("without an open-files row")));
}

#[test]
fn wrong_kind_is_not_claimed() {
    // A kernel log and an ss listing are not host-resource snapshots.
    for (text, path) in [
        (
            &b"Nov 21 14:23:07 api-1 kernel: Memory cgroup out of memory: Killed process 1 (x)\n"[..],
            "kern.log",
        ),
        (
            &b"State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nESTAB  0      0      10.0.0.5:43210 10.0.4.17:5432\n"[..],
            "ss.txt",
        ),
    ] {
        let k = match ingest::sniff(text, path) {
            Sniff::Text(k) => k,
            other => panic!("{other:?}"),
        };
        assert!(
            !matches!(
                k,
                SourceKind::Lsof | SourceKind::ProcLimits | SourceKind::MemoryStat
            ),
            "{path} sniffed as {k}"
        );
    }
    // And a limits parser fed an lsof listing says so.
    let p = coroner::ingest::proc_limits::parse(
        &mut &b"COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n"[..],
        &ingest::ParseCtx {
            source: 0,
            path: "x".into(),
            max_line_bytes: 1024,
        },
    );
    assert!(p.facts.limits.is_empty());
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.message.contains("no limits")));
}

/// Every fixture, cut at many points and with bytes flipped, parses without panicking.
#[test]
fn mutated_fixtures_never_panic() {
    let mut files = Vec::new();
    for d in ["lsof", "proc", "cgroup"] {
        files_under(&fixtures().join(d), &mut files);
    }
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for f in files {
        let bytes = std::fs::read(&f).expect("fixture");
        let bytes = &bytes[..bytes.len().min(4096)];
        for _ in 0..40 {
            let mut m = bytes.to_vec();
            if !m.is_empty() {
                let cut = (next() as usize) % m.len();
                m.truncate(cut.max(1));
                for _ in 0..4 {
                    let i = (next() as usize) % m.len();
                    m[i] =
                        [b' ', b'\n', b'\t', 0xff, b'9', b'(', b'>', b':'][(next() % 8) as usize];
                }
            }
            for path in [
                "x",
                "proc/1/limits",
                "memory.stat",
                "memory.max",
                "file-nr",
                "proc/1/fd",
            ] {
                let ctx = ingest::ParseCtx {
                    source: 0,
                    path: path.into(),
                    max_line_bytes: 128,
                };
                let _ = coroner::ingest::lsof::parse(&mut &m[..], &ctx);
                let _ = coroner::ingest::proc_limits::parse(&mut &m[..], &ctx);
                let _ = coroner::ingest::memory_stat::parse(&mut &m[..], &ctx);
                let _ = ingest::sniff(&m, path);
            }
        }
    }
}
