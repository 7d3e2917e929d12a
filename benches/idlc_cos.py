#!/usr/bin/env python3
"""How long idlc takes to compile omniORB's COS IDL, beside omniidl -bcxx on the same files.

    cargo build --release -p idlc --bin idlc
    python3 benches/idlc_cos.py [ROUNDS]

Runs, interleaved, ROUNDS times each (default 5):
  - idlc, all files in one invocation (what a build script's Builder::compile does),
  - idlc, one invocation per file,
  - omniidl -bcxx, one invocation per file (omniidl compiles only the first file it is given),
and prints the median wall time and CPU time (user + system, of the processes run) of each,
with the ratio idlc / omniidl. Wall time depends on how many of the machine's cores are free;
CPU time does not, so on a shared machine compare CPU times.

The files are those of /usr/share/idl/omniORB/COS that an IDL compiler can accept: the ten
that need IDL omniORB does not ship (see idlc-tests' build script) are left out. Note what
each side writes: idlc's output for a file holds every definition the file includes, so it
can be compiled on its own; omniidl's holds the file's own definitions only.
"""

import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = "/usr/share/idl/omniORB"
COS = os.path.join(ROOT, "COS")
BROKEN_UPSTREAM = {
    "DCE_CIOPSecurity", "SECIOP", "SSLIOP", "CosTSPortability", "Security", "SecurityAdmin",
    "SecurityLevel1", "SecurityLevel2", "SecurityReplaceable", "NRService",
}


def idlc_binary():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target")
    path = os.path.join(target, "release", "idlc")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: cargo build --release -p idlc --bin idlc")
    return path


def timed(commands, cwd):
    """Runs the commands one after the other; returns (wall s, CPU s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for cmd in commands:
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    files = sorted(f for f in glob.glob(os.path.join(COS, "*.idl"))
                   if os.path.splitext(os.path.basename(f))[0] not in BROKEN_UPSTREAM)
    if not files or not shutil.which("omniidl"):
        sys.exit("needs omniidl and /usr/share/idl/omniORB (apt-get install omniidl omniorb-idl)")
    idlc = idlc_binary()
    flags = ["-D__OMNIIDL__", "-I", ROOT, "-I", COS]
    work = tempfile.mkdtemp(prefix="idlc-cos-")
    try:
        out = os.path.join(work, "rs")
        os.mkdir(out)
        cases = {
            "idlc, one invocation": [[idlc, *flags, "--out", out, *files]],
            "idlc, one per file": [[idlc, *flags, "--out", out, f] for f in files],
            "omniidl -bcxx, one per file": [["omniidl", "-bcxx", "-I", ROOT, "-I", COS, f]
                                            for f in files],
        }
        results = {name: [] for name in cases}
        for _ in range(rounds):
            for name, commands in cases.items():
                results[name].append(timed(commands, work))
        rs_bytes = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        cc_bytes = sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work)
                       if os.path.isfile(os.path.join(work, f)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{len(files)} COS IDL files, {rounds} rounds, medians; idlc writes "
          f"{rs_bytes / 1e6:.1f} MB of Rust, omniidl {cc_bytes / 1e6:.1f} MB of C++")
    omni_wall, omni_cpu = (statistics.median(x) for x in zip(*results["omniidl -bcxx, one per file"]))
    print(f"{'':32} {'wall':>8} {'CPU':>8} {'CPU ÷ omniidl':>14}")
    for name, runs in results.items():
        wall, cpu = (statistics.median(x) for x in zip(*runs))
        print(f"{name:32} {wall:7.2f}s {cpu:7.2f}s {cpu / omni_cpu:13.2f}×")


if __name__ == "__main__":
    main()
