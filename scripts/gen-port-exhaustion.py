#!/usr/bin/env python3
"""Write fixtures/bundles/port-exhaustion/ss-tan.txt deterministically.

The incident: orders-api on api-7 (10.0.2.15) opens a new Postgres connection per request
to 10.0.4.17:5432 instead of pooling. Every closed connection parks its local port in
TIME-WAIT for 60 s; at ~440 new connections/s the 28,232 ports of the default
ip_local_port_range (32768-60999) run out and connect() fails with EADDRNOTAVAIL.

The dump mimics `ss -tan` from iproute2 6.x: LISTEN sockets first (the kernel dumps its
listening hash before the established hash), addresses right-aligned and ports
left-aligned around the colon, padded columns with trailing spaces.

Counts asserted by tests/net_bundle.rs:
  TIME-WAIT from 10.0.2.15: 27,900 = 26,310 to 10.0.4.17:5432
                                     + 1,200 to 10.0.4.22:6379
                                     +   390 to 10.0.5.9:443
  client ESTAB from 10.0.2.15: 12 = 4 to 10.0.4.17:5432 + 8 to 10.0.4.22:6379
  server side: LISTEN 0.0.0.0:3000 (backlog 511), LISTEN 0.0.0.0:22 (128),
               20 ESTAB from the load balancer 10.0.1.10 to 10.0.2.15:3000

Run from the repository root: python3 scripts/gen-port-exhaustion.py
No randomness from the platform: a fixed linear congruential generator orders the rows.
"""
import os

OUT = os.path.join("fixtures", "bundles", "port-exhaustion", "ss-tan.txt")
LOCAL = "10.0.2.15"
RANGE_LO, RANGE_HI = 32768, 60999
WIDTH = RANGE_HI - RANGE_LO + 1  # 28,232
STRIDE = 7919  # prime, coprime with 28,232: i -> port is a permutation of the range


def port(i):
    return RANGE_LO + (i * STRIDE) % WIDTH


def row(state, rq, sq, laddr, lport, paddr, pport):
    return "%-10s %-6s %-6s %20s:%-8s %20s:%-8s" % (state, rq, sq, laddr, lport, paddr, pport)


def lcg(seed):
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield x >> 33


def main():
    client = []
    for dest, n in (("10.0.4.17:5432", 26310), ("10.0.4.22:6379", 1200), ("10.0.5.9:443", 390)):
        client += [("TIME-WAIT", dest)] * n
    client += [("ESTAB", "10.0.4.17:5432")] * 4 + [("ESTAB", "10.0.4.22:6379")] * 8
    rows = []
    for i, (state, dest) in enumerate(client):
        addr, dport = dest.rsplit(":", 1)
        rows.append(row(state, 0, 0, LOCAL, port(i), addr, dport))
    for i in range(20):
        rows.append(row("ESTAB", 0, 0, LOCAL, 3000, "10.0.1.10", 40100 + i * 37))
    # Shuffle the established hash deterministically (Fisher-Yates on a fixed LCG).
    rnd = lcg(20261121)
    for i in range(len(rows) - 1, 0, -1):
        j = next(rnd) % (i + 1)
        rows[i], rows[j] = rows[j], rows[i]
    header = "%-10s %-6s %-6s %29s %29s Process" % (
        "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port")
    listeners = [
        row("LISTEN", 0, 511, "0.0.0.0", 3000, "0.0.0.0", "*"),
        row("LISTEN", 0, 128, "0.0.0.0", 22, "0.0.0.0", "*"),
        row("LISTEN", 0, 4096, "127.0.0.53%lo", 53, "0.0.0.0", "*"),
        row("LISTEN", 0, 128, "[::]", 22, "[::]", "*"),
    ]
    with open(OUT, "w", newline="\n") as f:
        f.write(header + "\n")
        for r in listeners + rows:
            f.write(r + "\n")


if __name__ == "__main__":
    main()
