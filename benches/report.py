#!/usr/bin/env python3
"""Prints the medians criterion saved under target/criterion, one table per group, with each
benchmark's ratio to a comparison in the same group (rtorb ÷ comparison: below 1 is faster).

    cargo bench -p rtorb-benches --bench wire && python3 benches/report.py [GROUP...]

Pairs: `X` against `omniorb_X` when both exist (and the differently named pairs below); every
row against the group's floor of the same size (`memcpy`, or `raw_tcp` in the cubit groups) when
the group has one.
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.1f} ns"


def medians(group_dir):
    out = {}
    for est in group_dir.rglob("new/estimates.json"):
        name = str(est.parent.parent.relative_to(group_dir))
        out[name] = json.loads(est.read_text())["median"]["point_estimate"]
    return out


# Comparisons whose names differ: rtorb's benchmark → omniORB's.
PAIRS = {
    "encode_decode_giop_1_2": "omniorb_cdr_payload",
    "ior": "omniorb",
    "ior_and_iiop_profile": "omniorb_and_iiop_profile",
    # cubit: every rtorb round trip (and oneway) against omniORB's client and server, the
    # collocated calls against omniORB's collocated one.
    "rtorb_to_omniorb": "omniorb_to_omniorb",
    "rtorb_giop_reactive": "omniorb_to_omniorb",
    "rtorb_giop_pool": "omniorb_to_omniorb",
    "rtorb_giop_tpc": "omniorb_to_omniorb",
    "rtorb_lite_reactive": "omniorb_to_omniorb",
    "rtorb_uiop_reactive": "omniorb_to_omniorb",
    "rtorb_giop_reactive_batched": "omniorb_to_omniorb",
    "rtorb_lite_reactive_batched": "omniorb_to_omniorb",
    "rtorb_direct": "omniorb_collocated",
    "rtorb_thru_poa": "omniorb_collocated",
    "plain_rust_call": "omniorb_collocated",
}

# What costs at least as much as any benchmark of its group: copying the octets, or moving
# them over TCP without a protocol.
FLOORS = ("memcpy", "raw_tcp")


def peer_of(name, rows):
    head, _, tail = name.partition("/")
    if head.startswith("omniorb") or head in FLOORS:
        return None
    peer = PAIRS.get(head, f"omniorb_{head}")
    return rows.get("/".join(filter(None, [peer, tail])))


wanted = sys.argv[1:]
for group_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    if wanted and group_dir.name not in wanted:
        continue
    rows = medians(group_dir)
    if not rows:
        continue
    print(f"\n{group_dir.name}\n")
    print("| benchmark | median | vs omniORB | vs floor |")
    print("|---|---|---|---|")
    for name in sorted(rows):
        head, _, tail = name.partition("/")
        peer = peer_of(name, rows)
        floor = next(
            (rows[f] for f in ("/".join(filter(None, [h, tail])) for h in FLOORS) if f in rows),
            None,
        )
        vs_omni = f"{rows[name] / peer:.2f}×" if peer else ""
        vs_floor = f"{rows[name] / floor:.2f}×" if floor and head not in FLOORS else ""
        print(f"| {name} | {fmt(rows[name])} | {vs_omni} | {vs_floor} |")
