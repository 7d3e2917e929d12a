#!/usr/bin/env python3
"""Recording TCP relay that splits a GIOP byte stream into whole messages.

Listens on 127.0.0.1:<listen-port>, forwards every accepted connection to
127.0.0.1:<target-port>, and writes every complete GIOP message seen in
either direction to its own file in <outdir>:

    001-c2s-Request.bin, 002-s2c-Reply.bin, ...

Numbering is global (over all connections) in the order in which the
relay saw each message complete.  Messages of a second, third, ...
connection get a connection tag: 005-conn2-c2s-Request.bin.

Each direction has its own buffer and is cut at GIOP message boundaries
using the 12-byte header ("GIOP", major, minor, flags, type, ulong size;
the size is in the byte order given by bit 0 of flags), so it does not
matter how the peers segment their writes.  Bytes that do not start with
the "GIOP" magic are written out unparsed as NNN-dir-raw.bin and the rest
of that direction is then passed through unrecorded.

Only loopback is used: both the listening and the upstream address are
127.0.0.1.

Two ways to use it:

  # run until SIGINT/SIGTERM
  capture_relay.py --listen-port 0 --target-port 2809 --outdir out \
      --port-file out.port

  # run one client command and stop when it has finished; "{port}" in
  # the command is replaced with the relay's listening port.  The command's
  # stdout/stderr are passed through; the relay exits with its status.
  capture_relay.py --target-port 2809 --outdir out -- \
      nameclt -ORBInitRef NameService=corbaloc::127.0.0.1:{port}/NameService list
"""

import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"

MSG_TYPES = {
    0: "Request",
    1: "Reply",
    2: "CancelRequest",
    3: "LocateRequest",
    4: "LocateReply",
    5: "CloseConnection",
    6: "MessageError",
    7: "Fragment",
}


QUIET = False


def log(msg):
    if not QUIET:
        sys.stderr.write("relay: " + msg + "\n")


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lock = threading.Lock()
        self.seq = 0
        os.makedirs(outdir, exist_ok=True)

    def write(self, conn_no, direction, kind, data):
        with self.lock:
            self.seq += 1
            tag = "" if conn_no == 1 else "conn%d-" % conn_no
            name = "%03d-%s%s-%s.bin" % (self.seq, tag, direction, kind)
            with open(os.path.join(self.outdir, name), "wb") as f:
                f.write(data)
            log("%s (%d bytes)" % (name, len(data)))


class DirectionSplitter:
    """Buffers one direction of one connection and emits whole messages."""

    def __init__(self, recorder, conn_no, direction):
        self.rec = recorder
        self.conn_no = conn_no
        self.direction = direction
        self.buf = bytearray()
        self.broken = False

    def feed(self, data):
        if self.broken:
            return
        self.buf += data
        while len(self.buf) >= 12:
            if self.buf[:4] != b"GIOP":
                self.rec.write(self.conn_no, self.direction, "raw", bytes(self.buf))
                self.buf.clear()
                self.broken = True
                return
            flags = self.buf[6]
            fmt = "<I" if flags & 1 else ">I"
            (size,) = struct.unpack(fmt, self.buf[8:12])
            total = 12 + size
            if len(self.buf) < total:
                return
            msg = bytes(self.buf[:total])
            del self.buf[:total]
            kind = MSG_TYPES.get(msg[7], "Type%d" % msg[7])
            self.rec.write(self.conn_no, self.direction, kind, msg)

    def finish(self):
        if self.buf and not self.broken:
            self.rec.write(self.conn_no, self.direction, "partial", bytes(self.buf))
            self.buf.clear()


def pump(src, dst, splitter):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            splitter.feed(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        splitter.finish()
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Relay:
    def __init__(self, listen_port, target_port, recorder):
        self.target_port = target_port
        self.rec = recorder
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, listen_port))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.conn_count = 0
        self.threads = []
        self.socks = []
        self.stopping = False

    def serve(self):
        while not self.stopping:
            try:
                csock, _ = self.lsock.accept()
            except OSError:
                break
            self.conn_count += 1
            n = self.conn_count
            usock = socket.create_connection((HOST, self.target_port))
            for s in (csock, usock):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.socks += [csock, usock]
            log("connection %d accepted" % n)
            t1 = threading.Thread(
                target=pump, args=(csock, usock, DirectionSplitter(self.rec, n, "c2s")),
                daemon=True)
            t2 = threading.Thread(
                target=pump, args=(usock, csock, DirectionSplitter(self.rec, n, "s2c")),
                daemon=True)
            t1.start()
            t2.start()
            self.threads += [t1, t2]

    def start(self):
        t = threading.Thread(target=self.serve, daemon=True)
        t.start()
        return t

    def stop(self, grace=1.0):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass
        deadline = time.time() + grace
        for t in self.threads:
            t.join(max(0.0, deadline - time.time()))
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen-port", type=int, default=0)
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--port-file", help="write the listening port here once listening")
    ap.add_argument("--quiet", action="store_true", help="no log lines on stderr")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    global QUIET
    QUIET = a.quiet
    cmd = a.command
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]

    relay = Relay(a.listen_port, a.target_port, Recorder(a.outdir))
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % relay.port)
        os.rename(a.port_file + ".tmp", a.port_file)
    log("listening on %s:%d -> %s:%d" % (HOST, relay.port, HOST, a.target_port))
    relay.start()

    if cmd:
        cmd = [c.replace("{port}", str(relay.port)) for c in cmd]
        rc = subprocess.call(cmd)
        # let the last bytes drain and the peers close the connection
        time.sleep(0.3)
        relay.stop()
        sys.exit(rc)
    else:
        done = threading.Event()

        def handler(signum, frame):
            done.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        while not done.wait(0.2):
            pass
        relay.stop()


if __name__ == "__main__":
    main()
