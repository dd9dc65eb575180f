#!/usr/bin/env python3
"""Generate fixtures/bundles/fd-exhaustion/ deterministically (no randomness, no clock).

The incident: `orders-api` (a Go HTTP service, pid 4242, on host api-1) leaks PostgreSQL
connections to 10.0.4.17:5432 until it holds 1021 descriptors against a soft RLIMIT_NOFILE of
1024 (hard 524288, the systemd default since v240), then its accept loop logs Go's
`accept4: ... ; retrying in 5ms` in bursts for about four minutes.

Writes:
  app/orders-api.journal.txt   `journalctl -u orders-api --no-pager` (short format)
  lsof-nP-p4242.txt            `lsof -nP -p 4242` (lsof 4.87 layout, no TID/TASKCMD columns)
  proc/4242/limits             `/proc/4242/limits`

Usage: scripts/gen-fd-exhaustion.py [OUT_DIR]   (default: fixtures/bundles/fd-exhaustion)
"""

import os
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "bundles", "fd-exhaustion")

PID = 4242
HOST = "api-1"
LOCAL = "10.0.1.23"
DB = "10.0.4.17:5432"
TOTAL_FDS = 1021


def lsof_rows():
    """(COMMAND, PID, USER, FD, TYPE, DEVICE, SIZE/OFF, NODE, NAME) rows of `lsof -nP -p 4242`."""
    cmd, user = "orders-ap", "orders"
    rows = [
        (cmd, PID, user, "cwd", "DIR", "259,2", "4096", "1835010", "/srv/orders"),
        (cmd, PID, user, "rtd", "DIR", "259,2", "4096", "2", "/"),
        (cmd, PID, user, "txt", "REG", "259,2", "18874368", "1835122", "/srv/orders/bin/orders-api"),
        (cmd, PID, user, "0r", "CHR", "1,3", "0t0", "5", "/dev/null"),
        (cmd, PID, user, "1u", "unix", "0xffff9a2b41c3e400", "0t0", "38211", "type=STREAM"),
        (cmd, PID, user, "2u", "unix", "0xffff9a2b41c3e400", "0t0", "38211", "type=STREAM"),
        (cmd, PID, user, "3u", "IPv6", "38240", "0t0", "TCP", "*:8080 (LISTEN)"),
        (cmd, PID, user, "4u", "a_inode", "0,14", "0", "11437", "[eventpoll]"),
        (cmd, PID, user, "5r", "FIFO", "0,13", "0t0", "38237", "pipe"),
        (cmd, PID, user, "6w", "FIFO", "0,13", "0t0", "38237", "pipe"),
        (cmd, PID, user, "7w", "REG", "259,2", "73400320", "1835311", "/var/log/orders/access.log"),
        (cmd, PID, user, "8w", "REG", "259,2", "10485760", "1835290", "/var/log/orders/access.log.1 (deleted)"),
    ]
    fd = 9
    inode = 812000
    port = 40100
    client = 0
    while len([r for r in rows if r[3][0].isdigit()]) < TOTAL_FDS:
        # One in 25 descriptors is an accepted client connection from the load balancer;
        # the rest are pooled database connections that were never returned.
        if fd % 25 == 0:
            peer_port = 51000 + client * 7
            client += 1
            name = "[::ffff:%s]:8080->[::ffff:10.0.2.4]:%d (ESTABLISHED)" % (LOCAL, peer_port)
            typ = "IPv6"
        else:
            name = "%s:%d->%s (ESTABLISHED)" % (LOCAL, port, DB)
            port += 3
            typ = "IPv4"
        rows.append((cmd, PID, user, "%du" % fd, typ, str(inode), "0t0", "TCP", name))
        fd += 1
        inode += 11
    return rows


def render_lsof(rows):
    header = ("COMMAND", "PID", "USER", "FD", "TYPE", "DEVICE", "SIZE/OFF", "NODE", "NAME")
    # lsof pads each column to its widest value: COMMAND and NAME left-aligned, the rest
    # right-aligned; an FD number's mode character sits one column past the FD header.
    w = [max(len(str(r[i])) for r in rows + [header]) for i in range(8)]
    fdw = max(max(len(r[3]) - 1 if r[3][0].isdigit() else len(r[3]) for r in rows), len("FD"))

    def fd_cell(v, is_header=False):
        if not is_header and v[0].isdigit():
            return (v[:-1]).rjust(fdw) + v[-1]
        return v.rjust(fdw) + " "

    out = []
    for i, r in enumerate([header] + rows):
        h = i == 0
        cells = [
            str(r[0]).ljust(w[0]),
            str(r[1]).rjust(w[1]),
            str(r[2]).rjust(w[2]),
            fd_cell(r[3], h),
            str(r[4]).rjust(w[4]),
            str(r[5]).rjust(w[5]),
            str(r[6]).rjust(w[6]),
            str(r[7]).rjust(w[7]),
            str(r[8]),
        ]
        out.append(" ".join(cells))
    return "\n".join(out) + "\n"


LIMITS = """\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             63499                63499                processes 
Max open files            1024                 524288               files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       63499                63499                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
"""


def journal():
    p = "Nov 21 %s " + HOST + " orders-api[%d]: " % PID
    lines = ["-- Logs begin at Fri 2026-11-20 06:12:01 UTC, end at Sat 2026-11-21 14:31:44 UTC. --"]
    lines.append("Nov 21 13:02:11 %s systemd[1]: Started Orders API." % HOST)
    lines.append(p % "13:02:11" + "2026/11/21 13:02:11 orders-api v2.14.3 starting (go1.18.10)")
    lines.append(p % "13:02:11" + "2026/11/21 13:02:11 db: pool configured max_open=0 max_idle=2 dsn=postgres://orders@10.0.4.17:5432/orders")
    lines.append(p % "13:02:11" + "2026/11/21 13:02:11 listening on [::]:8080")
    # Normal traffic every few minutes, with slow queries creeping in.
    t = 13 * 3600 + 5 * 60
    i = 0
    while t < 14 * 3600 + 22 * 60:
        hh, mm, ss = t // 3600, t // 60 % 60, t % 60
        stamp = "%02d:%02d:%02d" % (hh, mm, ss)
        ms = 12 + (i * 37) % 90 + (i * 5 if t > 14 * 3600 else 0)
        path = ["/v1/orders", "/v1/orders/81723", "/healthz", "/v1/cart"][i % 4]
        lines.append(p % stamp + "2026/11/21 %s %s %s 200 %dms" % (stamp, "GET" if i % 3 else "POST", path, ms))
        if t > 14 * 3600 and i % 5 == 0:
            lines.append(p % stamp + "2026/11/21 %s db: acquire conn: open connections=%d idle=0 in_use=%d" % (stamp, 600 + i * 9, 600 + i * 9))
        t += 173
        i += 1
    # 14:23:07 .. 14:27:xx: the accept loop fails in bursts; database dials fail too.
    start = 14 * 3600 + 23 * 60 + 7
    for burst in range(9):
        t0 = start + burst * 29
        for k in range(6):
            t = t0 + (k // 3)
            hh, mm, ss = t // 3600, t // 60 % 60, t % 60
            stamp = "%02d:%02d:%02d" % (hh, mm, ss)
            delay = [5, 10, 20, 40, 80, 160][k]
            lines.append(p % stamp + "2026/11/21 %s http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in %dms" % (stamp, delay))
        if burst % 2 == 0:
            t = t0 + 2
            stamp = "%02d:%02d:%02d" % (t // 3600, t // 60 % 60, t % 60)
            lines.append(p % stamp + "2026/11/21 %s db: dial tcp %s: socket: too many open files" % (stamp, DB))
            lines.append(p % stamp + "2026/11/21 %s POST /v1/orders 500 3ms error=\"db: acquire conn: dial tcp %s: socket: too many open files\"" % (stamp, DB))
    lines.append("Nov 21 14:31:44 %s systemd[1]: Stopping Orders API..." % HOST)
    return "\n".join(lines) + "\n"


def main():
    os.makedirs(os.path.join(OUT, "app"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "proc", str(PID)), exist_ok=True)
    with open(os.path.join(OUT, "lsof-nP-p%d.txt" % PID), "w") as f:
        f.write(render_lsof(lsof_rows()))
    with open(os.path.join(OUT, "proc", str(PID), "limits"), "w") as f:
        f.write(LIMITS)
    with open(os.path.join(OUT, "app", "orders-api.journal.txt"), "w") as f:
        f.write(journal())


if __name__ == "__main__":
    main()
