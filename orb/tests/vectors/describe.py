#!/usr/bin/env python3
"""Describe captured GIOP messages (one raw message per .bin file).

Independent, minimal GIOP 1.0/1.1/1.2 header decoder used to build the
manifest of the test vectors in this directory.  It does not use omniORB.

Usage:
  describe.py [PATH ...]             human-readable description (default)
  describe.py --tsv [PATH ...]       manifest.tsv rows (with header line)
  describe.py --markdown [PATH ...]  Markdown table (used in README.md)

PATH may be a .bin file or a directory (searched recursively for *.bin).
Without PATH the directory containing this script is used.  File names in
the output are relative to that directory when possible.

What is decoded (CDR alignment is relative to the first byte of the
message, i.e. the 'G' of "GIOP"; the 12-byte header counts):

  header   : "GIOP", major, minor, flags (bit 0 = little endian; in 1.0 the
             whole octet is the byte_order boolean; bit 1 = more fragments
             in 1.1+), message type, ulong message_size (bytes after header)
  Request  1.0: ServiceContextList, ulong request_id, boolean
                response_expected, sequence<octet> object_key, string
                operation, sequence<octet> requesting_principal
           1.1: as 1.0 but 3 reserved octets after response_expected
           1.2: ulong request_id, octet response_flags, 3 reserved octets,
                TargetAddress (short disc: 0 KeyAddr sequence<octet>,
                1 ProfileAddr TaggedProfile, 2 ReferenceAddr
                IORAddressingInfo), string operation, ServiceContextList;
                body aligned to 8
  Reply    1.0/1.1: ServiceContextList, ulong request_id, ulong reply_status
           1.2: ulong request_id, ulong reply_status, ServiceContextList;
                body aligned to 8
  LocateRequest 1.0/1.1: request_id, object_key; 1.2: request_id,
                TargetAddress
  LocateReply   request_id, ulong locate_status (1.2: body aligned to 8)
  CancelRequest request_id;  Fragment (1.2) request_id
  CloseConnection, MessageError: header only

For replies with USER_EXCEPTION / SYSTEM_EXCEPTION the exception
repository id (first string of the body) is shown, for SYSTEM_EXCEPTION
also the minor code and completion status; for LOCATION_FORWARD the
type id of the forwarded IOR.

manifest.tsv columns (tab separated, '-' when not applicable):
  file            path relative to the vectors directory
  giop_version    "1.0" | "1.1" | "1.2"
  little_endian   0 | 1
  msg_type        Request Reply CancelRequest LocateRequest LocateReply
                  CloseConnection MessageError Fragment
  msg_size        the header's message_size (file length - 12)
  request_id      decimal (Request, Reply, CancelRequest, LocateRequest,
                  LocateReply, Fragment 1.2)
  operation       Request operation name
  reply_status    Reply: NO_EXCEPTION USER_EXCEPTION SYSTEM_EXCEPTION
                  LOCATION_FORWARD LOCATION_FORWARD_PERM
                  NEEDS_ADDRESSING_MODE;  LocateReply: UNKNOWN_OBJECT
                  OBJECT_HERE OBJECT_FORWARD OBJECT_FORWARD_PERM
                  LOC_SYSTEM_EXCEPTION LOC_NEEDS_ADDRESSING_MODE
  object_key_hex  object key of Request / LocateRequest (KeyAddr), lower
                  case hex (an empty key would be an empty field)
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MSG_TYPES = ["Request", "Reply", "CancelRequest", "LocateRequest",
             "LocateReply", "CloseConnection", "MessageError", "Fragment"]
REPLY_STATUS = ["NO_EXCEPTION", "USER_EXCEPTION", "SYSTEM_EXCEPTION",
                "LOCATION_FORWARD", "LOCATION_FORWARD_PERM",
                "NEEDS_ADDRESSING_MODE"]
LOCATE_STATUS = ["UNKNOWN_OBJECT", "OBJECT_HERE", "OBJECT_FORWARD",
                 "OBJECT_FORWARD_PERM", "LOC_SYSTEM_EXCEPTION",
                 "LOC_NEEDS_ADDRESSING_MODE"]
COMPLETION = ["COMPLETED_YES", "COMPLETED_NO", "COMPLETED_MAYBE"]
SERVICE_IDS = {0: "TransactionService", 1: "CodeSets", 2: "ChainBypassCheck",
               3: "ChainBypassInfo", 4: "LogicalThreadId", 5: "BI_DIR_IIOP",
               6: "SendingContextRunTime", 7: "INVOCATION_POLICIES",
               8: "FORWARDED_IDENTITY", 9: "UnknownExceptionInfo",
               10: "RTCorbaPriority", 11: "RTCorbaPriorityRange",
               12: "FT_GROUP_VERSION", 13: "FT_REQUEST",
               14: "ExceptionDetailMessage", 15: "SecurityAttributeService",
               16: "ActivityService"}


class DecodeError(Exception):
    pass


class Reader:
    """CDR reader; positions are absolute offsets in the whole message."""

    def __init__(self, data, little, pos=12):
        self.d = data
        self.le = little
        self.pos = pos

    def align(self, n):
        self.pos = (self.pos + n - 1) // n * n

    def take(self, n):
        if self.pos + n > len(self.d):
            raise DecodeError("truncated at offset %d (need %d bytes)" % (self.pos, n))
        b = self.d[self.pos:self.pos + n]
        self.pos += n
        return b

    def octet(self):
        return self.take(1)[0]

    def ushort(self):
        self.align(2)
        return struct.unpack("<H" if self.le else ">H", self.take(2))[0]

    def short(self):
        self.align(2)
        return struct.unpack("<h" if self.le else ">h", self.take(2))[0]

    def ulong(self):
        self.align(4)
        return struct.unpack("<I" if self.le else ">I", self.take(4))[0]

    def octets(self):
        n = self.ulong()
        return bytes(self.take(n))

    def string(self):
        n = self.ulong()
        b = bytes(self.take(n))
        if n == 0 or b[-1] != 0:
            raise DecodeError("string without terminating NUL")
        return b[:-1].decode("latin-1")

    def service_contexts(self):
        out = []
        for _ in range(self.ulong()):
            cid = self.ulong()
            out.append((cid, self.octets()))
        return out

    def target_address(self):
        disc = self.short()
        if disc == 0:
            return ("KeyAddr", self.octets())
        if disc == 1:
            tag = self.ulong()
            return ("ProfileAddr", (tag, self.octets()))
        if disc == 2:
            idx = self.ulong()
            type_id = self.string()
            profs = []
            for _ in range(self.ulong()):
                tag = self.ulong()
                profs.append((tag, self.octets()))
            return ("ReferenceAddr", (idx, type_id, profs))
        raise DecodeError("bad TargetAddress discriminator %d" % disc)


def decode(data):
    """Return a dict describing one GIOP message."""
    if len(data) < 12:
        raise DecodeError("shorter than a GIOP header")
    if data[:4] != b"GIOP":
        raise DecodeError("no GIOP magic")
    major, minor, flags, mtype = data[4], data[5], data[6], data[7]
    little = bool(flags & 1)
    (size,) = struct.unpack("<I" if little else ">I", data[8:12])
    m = {
        "version": "%d.%d" % (major, minor),
        "major": major, "minor": minor,
        "little_endian": little,
        "flags": flags,
        "fragment_follows": bool(flags & 2) if minor >= 1 else False,
        "type_code": mtype,
        "type": MSG_TYPES[mtype] if mtype < len(MSG_TYPES) else "Type%d" % mtype,
        "size": size,
        "length_ok": len(data) == 12 + size,
        "request_id": None, "operation": None, "status": None,
        "object_key": None, "notes": [],
    }
    r = Reader(data, little)

    def finish_body(align8):
        if align8 and r.pos < len(data):
            r.align(8)
        m["body_offset"] = r.pos if r.pos <= len(data) else len(data)
        m["body_len"] = max(0, len(data) - m["body_offset"])

    if mtype == 0:  # Request
        if minor <= 1:
            m["service_contexts"] = r.service_contexts()
            m["request_id"] = r.ulong()
            m["response_expected"] = r.octet()
            if minor == 1:
                m["reserved"] = bytes(r.take(3))
            m["object_key"] = r.octets()
            m["operation"] = r.string()
            m["principal"] = r.octets()
            finish_body(False)
        else:
            m["request_id"] = r.ulong()
            m["response_flags"] = r.octet()
            m["reserved"] = bytes(r.take(3))
            kind, val = r.target_address()
            m["target_kind"] = kind
            if kind == "KeyAddr":
                m["object_key"] = val
            else:
                m["notes"].append("target %s %r" % (kind, val))
            m["operation"] = r.string()
            m["service_contexts"] = r.service_contexts()
            finish_body(True)
    elif mtype == 1:  # Reply
        if minor <= 1:
            m["service_contexts"] = r.service_contexts()
            m["request_id"] = r.ulong()
            st = r.ulong()
            finish_body(False)
        else:
            m["request_id"] = r.ulong()
            st = r.ulong()
            m["service_contexts"] = r.service_contexts()
            finish_body(True)
        m["status"] = REPLY_STATUS[st] if st < len(REPLY_STATUS) else str(st)
        body = Reader(data, little, m["body_offset"])
        try:
            if st in (1, 2):
                m["exception_id"] = body.string()
                if st == 2:
                    minor_code = body.ulong()
                    comp = body.ulong()
                    m["notes"].append("minor=0x%08x %s" % (
                        minor_code, COMPLETION[comp] if comp < 3 else comp))
            elif st in (3, 4):
                m["forward_type_id"] = body.string()
        except DecodeError as e:
            m["notes"].append("body: %s" % e)
    elif mtype == 2:  # CancelRequest
        m["request_id"] = r.ulong()
        finish_body(False)
    elif mtype == 3:  # LocateRequest
        m["request_id"] = r.ulong()
        if minor <= 1:
            m["object_key"] = r.octets()
        else:
            kind, val = r.target_address()
            m["target_kind"] = kind
            if kind == "KeyAddr":
                m["object_key"] = val
            else:
                m["notes"].append("target %s %r" % (kind, val))
        finish_body(False)
    elif mtype == 4:  # LocateReply
        m["request_id"] = r.ulong()
        st = r.ulong()
        m["status"] = LOCATE_STATUS[st] if st < len(LOCATE_STATUS) else str(st)
        finish_body(minor >= 2)
    elif mtype == 7 and minor >= 2:  # Fragment 1.2
        m["request_id"] = r.ulong()
        finish_body(False)
    else:
        finish_body(False)
    return m


def find_bins(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(".bin"):
                        out.append(os.path.join(root, f))
        else:
            out.append(p)
    return out


def relname(p):
    ap = os.path.abspath(p)
    if ap.startswith(HERE + os.sep):
        return os.path.relpath(ap, HERE)
    return p


def dash(v):
    return "-" if v is None else str(v)


def text(path, m):
    lines = ["%s" % relname(path)]
    lines.append("  GIOP %s  %s-endian  flags=0x%02x  %s (%d)  size=%d%s" % (
        m["version"], "little" if m["little_endian"] else "big", m["flags"],
        m["type"], m["type_code"], m["size"],
        "" if m["length_ok"] else "  (FILE LENGTH MISMATCH)"))
    if m["request_id"] is not None:
        lines.append("  request_id=%d" % m["request_id"])
    if "response_expected" in m:
        lines.append("  response_expected=%d" % m["response_expected"])
    if "response_flags" in m:
        lines.append("  response_flags=0x%02x" % m["response_flags"])
    if "reserved" in m:
        lines.append("  reserved=%s" % m["reserved"].hex())
    if "target_kind" in m:
        lines.append("  target=%s" % m["target_kind"])
    if m["object_key"] is not None:
        lines.append("  object_key=%s (%r)" % (m["object_key"].hex(), m["object_key"]))
    if m["operation"] is not None:
        lines.append("  operation=%s" % m["operation"])
    if "principal" in m:
        lines.append("  requesting_principal=%s" % (m["principal"].hex() or "(empty)"))
    if "service_contexts" in m:
        scs = ", ".join("%s(0x%x,%d bytes)" % (SERVICE_IDS.get(c, "?"), c, len(d))
                        for c, d in m["service_contexts"]) or "(none)"
        lines.append("  service_contexts=%s" % scs)
    if m["status"] is not None:
        lines.append("  status=%s" % m["status"])
    if "exception_id" in m:
        lines.append("  exception=%s" % m["exception_id"])
    if "forward_type_id" in m:
        lines.append("  forward IOR type_id=%s" % m["forward_type_id"])
    if "body_offset" in m:
        lines.append("  body_offset=%d body_len=%d" % (m["body_offset"], m["body_len"]))
    for n in m["notes"]:
        lines.append("  note: %s" % n)
    return "\n".join(lines)


TSV_COLUMNS = ["file", "giop_version", "little_endian", "msg_type", "msg_size",
               "request_id", "operation", "reply_status", "object_key_hex"]


def tsv_row(path, m):
    return "\t".join([
        relname(path), m["version"], "1" if m["little_endian"] else "0",
        m["type"], str(m["size"]), dash(m["request_id"]), dash(m["operation"]),
        dash(m["status"]),
        "-" if m["object_key"] is None else m["object_key"].hex(),
    ])


def md_row(path, m):
    extra = []
    if "exception_id" in m:
        extra.append(m["exception_id"])
    if "forward_type_id" in m:
        extra.append("fwd " + m["forward_type_id"])
    if "response_expected" in m:
        extra.append("resp_exp=%d" % m["response_expected"])
    if "response_flags" in m:
        extra.append("resp_flags=%d" % m["response_flags"])
    if "body_offset" in m and m["body_len"]:
        extra.append("body@%d" % m["body_offset"])
    key = m["object_key"]
    return "| `%s` | %s | %s | %s | %d | %s | %s | %s | %s | %s |" % (
        relname(path), m["version"], "LE" if m["little_endian"] else "BE",
        m["type"], m["size"], dash(m["request_id"]), dash(m["operation"]),
        dash(m["status"]), "-" if key is None else (key.hex() or "(empty)"),
        "; ".join(extra) or "")


def main(argv):
    mode = "text"
    args = []
    for a in argv:
        if a == "--tsv":
            mode = "tsv"
        elif a == "--markdown":
            mode = "md"
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    files = find_bins(args or [HERE])
    rc = 0
    if mode == "tsv":
        print("\t".join(TSV_COLUMNS))
    elif mode == "md":
        print("| file | GIOP | order | type | size | req id | operation | status | object key (hex) | notes |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    for p in files:
        with open(p, "rb") as f:
            data = f.read()
        try:
            m = decode(data)
        except DecodeError as e:
            sys.stderr.write("%s: %s\n" % (p, e))
            rc = 1
            continue
        if not m["length_ok"]:
            sys.stderr.write("%s: size field %d but file has %d bytes\n"
                             % (p, m["size"], len(data)))
            rc = 1
        if mode == "tsv":
            print(tsv_row(p, m))
        elif mode == "md":
            print(md_row(p, m))
        else:
            print(text(p, m))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
