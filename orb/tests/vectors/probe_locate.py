#!/usr/bin/env python3
"""Send hand-made GIOP LocateRequests to an ORB and read its LocateReplies.

Used by scripts/capture-vectors.sh to obtain omniORB's *server side*
LocateReply encoding (omniORB's own clients, e.g. nameclt, never send a
LocateRequest).  Only the replies (s2c files) are omniORB output; the c2s
LocateRequest files recorded by capture_relay.py are made by this script.

  probe_locate.py PORT VERSION     (VERSION = 1.0 | 1.1 | 1.2)

Connects to 127.0.0.1:PORT and, one after the other, waits for each reply:
  request_id 1: LocateRequest, little endian, key "NameService"
  request_id 2: LocateRequest, little endian, key "NoSuchKey"
  request_id 3: LocateRequest, BIG endian,    key "NameService"
then closes the connection.
"""

import socket
import struct
import sys


def locate_request(minor, little, request_id, key):
    e = "<" if little else ">"
    body = struct.pack(e + "I", request_id)          # offset 12, aligned
    if minor >= 2:
        body += struct.pack(e + "h", 0)              # TargetAddress KeyAddr
        body += b"\0\0"                              # pad to 4
    body += struct.pack(e + "I", len(key)) + key     # sequence<octet>
    hdr = b"GIOP" + bytes([1, minor, 1 if little else 0, 3])
    return hdr + struct.pack(e + "I", len(body)) + body


def read_msg(s):
    def recvn(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError("connection closed")
            b += c
        return b
    hdr = recvn(12)
    (size,) = struct.unpack("<I" if hdr[6] & 1 else ">I", hdr[8:12])
    return hdr + recvn(size)


def main():
    port = int(sys.argv[1])
    minor = {"1.0": 0, "1.1": 1, "1.2": 2}[sys.argv[2]]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    for rid, little, key in ((1, True, b"NameService"),
                             (2, True, b"NoSuchKey"),
                             (3, False, b"NameService")):
        s.sendall(locate_request(minor, little, rid, key))
        m = read_msg(s)
        print("request %d: reply type %d, %d bytes" % (rid, m[7], len(m)))
    s.close()


if __name__ == "__main__":
    main()
