#!/usr/bin/env bash
# Regenerate orb/tests/vectors/ from real omniORB programs.
#
# Not run by CI: the generated vectors are checked in.  Needs the Debian
# packages omniorb, omniorb-nameserver, omnievents (genior, catior,
# nameclt, omniNames, /usr/sbin/omniEvents, eventc) and python3.
#
# Network: everything runs on 127.0.0.1 only.  The script re-executes
# itself inside a private network namespace (`unshare -rn`) that has
# nothing but a loopback interface, because omniEvents always listens on
# the wildcard address ("giop:::PORT").  If unshare is not permitted the
# omniNames/nameclt captures are still made (omniNames is bound to
# 127.0.0.1 explicitly) and the omniEvents part is skipped.
#
# Ports are free ephemeral ports chosen at run time, data directories are
# mktemp directories; every process started is stopped by its pid.
#
# Usage: scripts/capture-vectors.sh
set -euo pipefail

SCRIPT=$(readlink -f "$0")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)
VEC=$REPO/orb/tests/vectors
RELAY=$VEC/capture_relay.py
DESCRIBE=$VEC/describe.py
PROBE=$VEC/probe_locate.py
OMNIEVENTS=/usr/sbin/omniEvents

# ---------------------------------------------------------------- netns
if [ -z "${CAPTURE_NETNS:-}" ]; then
    if unshare -rn true 2>/dev/null; then
        export CAPTURE_NETNS=1
        exec unshare -rn bash "$SCRIPT" "$@"
    fi
    export CAPTURE_NETNS=0
    echo "warning: 'unshare -rn' not available: running in the host network" \
         "namespace; omniEvents (wildcard listener) will be skipped" >&2
fi
if [ "$CAPTURE_NETNS" = 1 ]; then
    # bring up the namespace's loopback interface
    if command -v ip >/dev/null 2>&1; then
        ip link set lo up
    else
        python3 - <<'EOF'
import fcntl, socket, struct
s = socket.socket()
ifr = fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0))  # SIOCGIFFLAGS
flags = struct.unpack("16sh", ifr[:18])[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))  # SIOCSIFFLAGS
EOF
    fi
fi

# ---------------------------------------------------------------- setup
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# omniORB must not pick up a site configuration
: > "$TMP/omniORB.cfg"
export OMNIORB_CONFIG=$TMP/omniORB.cfg
unset ORBInitRef ORBmaxGIOPVersion ORBendPoint 2>/dev/null || true

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for FILE REGEX PORT: until FILE matches REGEX and 127.0.0.1:PORT accepts
wait_for() {
    local i
    for i in $(seq 1 100); do
        if grep -q -E "$2" "$1" 2>/dev/null &&
           python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$3" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "timeout waiting for $1 / port $3" >&2
    cat "$1" >&2 || true
    return 1
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# start_omninames VARPREFIX [extra omniORB options...]
# sets ${VARPREFIX}_PORT, ${VARPREFIX}_PID, ${VARPREFIX}_IOR
start_omninames() {
    local pfx=$1; shift
    local port dir pid ior
    port=$(free_port)
    dir=$(mktemp -d "$TMP/omninames.XXXXXX")
    omniNames -start "$port" -datadir "$dir" -always \
        -ORBendPoint "giop:tcp:127.0.0.1:$port" "$@" > "$dir/log.txt" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_for "$dir/log.txt" 'Root context is IOR:' "$port"
    ior=$(grep -o 'IOR:[0-9a-f]*' "$dir/log.txt" | head -1)
    printf -v "${pfx}_PORT" '%s' "$port"
    printf -v "${pfx}_PID" '%s' "$pid"
    printf -v "${pfx}_IOR" '%s' "$ior"
}

# save_ior NAME IOR: NAME.ior, NAME.catior.txt (catior), NAME.catior-xo.txt (catior -x -o)
# (catior -o crashes on some IORs, e.g. an empty object key: the partial
# output is kept and the exit status appended)
save_ior() {
    local rc
    [ -n "$2" ] || { echo "save_ior $1: empty IOR" >&2; return 1; }
    printf '%s\n' "$2" > "$VEC/$1.ior"
    rc=0; catior "$2" > "$VEC/$1.catior.txt" 2>&1 || rc=$?
    [ "$rc" = 0 ] || echo "[catior exited with status $rc]" >> "$VEC/$1.catior.txt"
    rc=0; catior -x -o "$2" > "$VEC/$1.catior-xo.txt" 2>&1 || rc=$?
    [ "$rc" = 0 ] || echo "[catior -x -o exited with status $rc]" >> "$VEC/$1.catior-xo.txt"
}

# check that every message in DIR has GIOP version VERSION
check_version() {
    python3 - "$1" "$2" <<'EOF'
import os, sys
d, v = sys.argv[1], sys.argv[2]
bad = []
n = 0
for f in sorted(os.listdir(d)):
    if f.endswith(".bin"):
        n += 1
        b = open(os.path.join(d, f), "rb").read(6)
        if b[:4] != b"GIOP" or "%d.%d" % (b[4], b[5]) != v:
            bad.append(f)
if n == 0 or bad:
    sys.exit("%s: expected GIOP %s in every message; %d files, bad: %s" % (d, v, n, bad))
EOF
}

# capture NAME TARGET_PORT VERSION COMMAND...   ("{port}" = relay port)
# Records the GIOP messages into $VEC/NAME/, the client's stdout+stderr and
# exit status into $VEC/NAME/output.txt.
capture() {
    local name=$1 target=$2 version=$3; shift 3
    local out=$VEC/$name rc=0
    rm -rf "$out"
    timeout 60 python3 "$RELAY" --quiet --target-port "$target" --outdir "$out" -- "$@" \
        > "$TMP/output.txt" 2>&1 || rc=$?
    { cat "$TMP/output.txt"; echo "[exit status $rc]"; } > "$out/output.txt"
    check_version "$out" "$version"
    echo "captured $name (client exit $rc)" >&2
}

# ---------------------------------------------------------------- clean
rm -rf "$VEC"/nameclt-*-giop1? "$VEC"/eventc-*-giop1? "$VEC"/probe-*-giop1?
rm -f "$VEC"/*.ior "$VEC"/*.catior.txt "$VEC"/*.catior-xo.txt \
      "$VEC"/manifest.tsv "$VEC"/describe.txt "$VEC"/versions.txt

# ---------------------------------------------------------------- genior
ECHO_IOR=$(genior IDL:Test/Echo:1.0 127.0.0.1 2809 SomeKey)
save_ior genior-echo "$ECHO_IOR"
save_ior genior-echo-port65535 "$(genior IDL:Test/Echo:1.0 127.0.0.1 65535 SomeKey)"
save_ior genior-echo-localhost-port1 "$(genior IDL:Test/Echo:1.0 localhost 1 SomeKey)"
save_ior genior-echo-ipv6 "$(genior IDL:Test/Echo:1.0 ::1 2809 SomeKey)"
save_ior genior-echo-hexkey "$(genior -x IDL:Test/Echo:1.0 127.0.0.1 2809 0x00ff10204b6579)"
save_ior genior-echo-longhexkey "$(genior -x IDL:Test/Echo:1.0 127.0.0.1 2809 \
    0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3fff807f00)"
save_ior genior-echo-emptykey "$(genior IDL:Test/Echo:1.0 127.0.0.1 2809 '')"
save_ior genior-echo-autokey "$(genior IDL:Test/Echo:1.0 127.0.0.1 2809)"
save_ior genior-emptytypeid "$(genior '' 127.0.0.1 2809 SomeKey)"
save_ior genior-namingcontextext "$(genior IDL:omg.org/CosNaming/NamingContextExt:1.0 127.0.0.1 2809 NameService)"

# ------------------------------------------------- omniNames IIOP 1.0/1.1 IORs
for v in 1.0 1.1; do
    start_omninames NSV -ORBmaxGIOPVersion "$v"
    save_ior "omninames-root-iiop1${v#1.}" "$NSV_IOR"
    stop_pid "$NSV_PID"
done

# ------------------------------------------------- nameclt captures
for v in 1.0 1.1 1.2; do
    tag=giop1${v#1.}
    start_omninames NS     # server with default options (IIOP 1.2 profile)
    if [ "$v" = 1.2 ]; then
        save_ior omninames-root "$NS_IOR"
    fi
    # the corbaloc URL names IIOP 1.2 explicitly (a bare "corbaloc::" means
    # IIOP 1.0); the GIOP version used is then limited by -ORBmaxGIOPVersion
    C=(nameclt -ORBmaxGIOPVersion "$v"
       -ORBInitRef "NameService=corbaloc:iiop:1.2@127.0.0.1:{port}/NameService")
    capture "nameclt-list-empty-$tag"        "$NS_PORT" "$v" "${C[@]}" list
    capture "nameclt-bind_new_context-$tag"  "$NS_PORT" "$v" "${C[@]}" bind_new_context ctx.dir
    capture "nameclt-bind-compound-$tag"     "$NS_PORT" "$v" "${C[@]}" bind ctx.dir/echo.obj "$ECHO_IOR"
    capture "nameclt-bind-$tag"              "$NS_PORT" "$v" "${C[@]}" bind echo "$ECHO_IOR"
    capture "nameclt-list-$tag"              "$NS_PORT" "$v" "${C[@]}" list
    capture "nameclt-resolve-$tag"           "$NS_PORT" "$v" "${C[@]}" resolve ctx.dir/echo.obj
    capture "nameclt-resolve-notfound-$tag"  "$NS_PORT" "$v" "${C[@]}" resolve missing.obj
    capture "nameclt-bind-alreadybound-$tag" "$NS_PORT" "$v" "${C[@]}" bind echo "$ECHO_IOR"
    capture "nameclt-unbind-$tag"            "$NS_PORT" "$v" "${C[@]}" unbind echo
    capture "nameclt-objectnotexist-$tag"    "$NS_PORT" "$v" \
        nameclt -ORBmaxGIOPVersion "$v" -ior "corbaloc:iiop:1.2@127.0.0.1:{port}/NoSuchKey" list
    capture "probe-locate-$tag"              "$NS_PORT" "$v" python3 "$PROBE" "{port}" "$v"
    if [ "$v" = 1.2 ]; then
        ctx_ior=$(grep -o 'IOR:[0-9a-f]*' "$VEC/nameclt-bind_new_context-$tag/output.txt" | head -1)
        save_ior omninames-context "$ctx_ior"
    fi
    stop_pid "$NS_PID"
done

# ------------------------------------------------- omniEvents
if [ "$CAPTURE_NETNS" = 1 ] && [ -x "$OMNIEVENTS" ]; then
    start_omninames EVNS
    EV_PORT=$(free_port)
    EV_DIR=$(mktemp -d "$TMP/omnievents.XXXXXX")
    NSREF="NameService=corbaloc:iiop:1.2@127.0.0.1:$EVNS_PORT/NameService"
    "$OMNIEVENTS" -p "$EV_PORT" -l "$EV_DIR" -P "$EV_DIR/omniEvents.pid" -f -v \
        -t "$EV_DIR/trace.txt" -ORBInitRef "$NSREF" \
        -ORBendPointPublish "giop:tcp:127.0.0.1:$EV_PORT" > "$EV_DIR/out.txt" 2>&1 &
    EV_PID=$!
    PIDS+=("$EV_PID")
    wait_for "$EV_DIR/trace.txt" 'IOR:' "$EV_PORT"
    save_ior omnievents-factory "$(cat "$EV_DIR/trace.txt" "$EV_DIR/out.txt" | grep -o 'IOR:[0-9a-f]*' | head -1)"
    for v in 1.0 1.1 1.2; do
        tag=giop1${v#1.}
        capture "eventc-create-$tag" "$EV_PORT" "$v" \
            eventc -ORBmaxGIOPVersion "$v" -ORBInitRef "$NSREF" -v -n "chan-$tag" -i "chan-$tag" \
            "corbaloc:iiop:1.2@127.0.0.1:{port}/omniEvents"
    done
    save_ior omnievents-channel "$(grep -o 'IOR:[0-9a-f]*' "$VEC/eventc-create-giop12/output.txt" | head -1)"
    stop_pid "$EV_PID"
    stop_pid "$EVNS_PID"
else
    echo "skipping omniEvents" >&2
fi

# ------------------------------------------------- manifest etc.
{
    echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for p in libomniorb4-2 omniorb omniorb-nameserver omnievents libomnievents2; do
        echo "$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
    done
    echo "python3 $(python3 -c 'import platform; print(platform.python_version())')"
    echo "network namespace: $CAPTURE_NETNS"
} > "$VEC/versions.txt"
python3 "$DESCRIBE" --tsv "$VEC" > "$VEC/manifest.tsv"
python3 "$DESCRIBE" "$VEC" > "$VEC/describe.txt"

# refresh the generated part of README.md (between the markers)
if [ -f "$VEC/README.md" ]; then
    python3 - "$VEC" <<'EOF'
import subprocess, sys, os
vec = sys.argv[1]
readme = os.path.join(vec, "README.md")
begin, end = "<!-- BEGIN GENERATED TABLE -->", "<!-- END GENERATED TABLE -->"
s = open(readme).read()
if begin in s and end in s:
    table = subprocess.run([sys.executable, os.path.join(vec, "describe.py"), "--markdown", vec],
                           check=True, capture_output=True, text=True).stdout
    a = s.index(begin) + len(begin)
    b = s.index(end)
    s = s[:a] + "\n" + table + s[b:]
    open(readme, "w").write(s)
EOF
fi
echo "done: vectors in $VEC" >&2
