// omniORB's side of the wire-layer comparison in benches/benches/wire.rs.
//
// Each bench is a `Bench` object prepared once (outside the timed region) and then run for a
// given number of iterations in C++, so that one FFI call covers many iterations and its cost
// does not distort nanosecond figures. Every iteration folds something it produced into a
// checksum that is returned to Rust, so that the work cannot be optimised away; `verify` runs
// one iteration and returns a checksum over *all* of the result, which the Rust side compares
// with what rtorb decodes from the same octets.
//
// Only omniORB's public or semi-public headers are used (the ones libomniorb4-dev installs):
// cdrMemoryStream, the sequence templates' marshalling operators, IOP::IOR, IIOP::unmarshalProfile,
// omniObjKey and CORBA::ORB::string_to_object.
//
// No C++ exception may cross into Rust: every entry point catches everything and reports it as
// a failure.

#include <omniORB4/CORBA.h>
#include <omniORB4/omniObjKey.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

namespace {

enum Kind {
  // sequence<long>: `seq >>= stream` into a rewound cdrMemoryStream.
  SEQ_ENCODE = 0,
  // sequence<long>: `seq <<= stream` from a read-only cdrMemoryStream over the octets.
  SEQ_DECODE = 1,
  // Stringified IOR to IOP::IOR: what omniObjRef::_fromString does before it builds the
  // object reference.
  IOR_DECODE = 2,
  // IOR_DECODE, then IIOP::unmarshalProfile of the first profile.
  IOR_AND_PROFILE = 3,
  // CORBA::ORB::string_to_object (and release): IOR_DECODE plus building an object reference.
  STRING_TO_OBJECT = 4,
  // A GIOP 1.2 Request for cube_seq with a sequence<long> of 1,024, marshalled field by field
  // into a cdrMemoryStream, then unmarshalled as omniORB's server does (see run_request).
  REQUEST = 5,
};

// The ORB, initialised once, lazily, for the benches that need one (string_to_object). The
// others use only cdrMemoryStream and the marshalling operators, which work without an ORB.
CORBA::ORB_ptr the_orb() {
  static CORBA::ORB_ptr orb = [] {
    int argc = 0;
    return CORBA::ORB_init(argc, static_cast<char**>(0));
  }();
  return orb;
}

// Little-endian is TRUE in CDR's byte-order flag; omni::myByteOrder is this machine's.
inline CORBA::Boolean little_endian(bool swapped) {
  CORBA::Boolean native = omni::myByteOrder;
  return swapped ? !native : native;
}

struct Bench {
  Kind kind;
  bool swapped;
  // SEQ_ENCODE, REQUEST: the argument; SEQ_DECODE: unused.
  CORBA::LongSeq values;
  // SEQ_ENCODE, REQUEST: the reused output stream. It clears its buffer when it allocates it
  // (once, on the first iteration, before any timing), so that alignment padding, which
  // omniORB skips over without writing, reads as zeros, as rtorb writes it: the Rust side can
  // then compare whole messages octet for octet.
  cdrMemoryStream out;
  // SEQ_DECODE: the octets to decode, copied into an 8-aligned buffer (cdrMemoryStream aligns
  // by address); REQUEST: the object key.
  std::vector<CORBA::Double> aligned;
  size_t input_len;
  std::vector<CORBA::Octet> key;
  // IOR kinds: the stringified IOR.
  std::string text;

  Bench() : kind(SEQ_ENCODE), swapped(false), out(static_cast<CORBA::ULong>(0), static_cast<CORBA::Boolean>(1)), input_len(0) {}

  const CORBA::Octet* input() const {
    return reinterpret_cast<const CORBA::Octet*>(aligned.data());
  }
};

// ---- sequence<long> --------------------------------------------------------------------------

uint64_t seq_encode_once(Bench& b) {
  b.out.rewindPtrs();
  b.out.setByteSwapFlag(little_endian(b.swapped));
  b.values >>= b.out;
  return b.out.bufSize();
}

// Decodes from a fresh read-only stream over the octets (as rtorb's bench makes a fresh Decoder
// over its slice) into a fresh LongSeq (as rtorb's decodes into a fresh Vec): both allocate the
// elements once per iteration.
uint64_t seq_decode_once(const Bench& b, bool full) {
  cdrMemoryStream in(const_cast<CORBA::Octet*>(b.input()), b.input_len);
  in.setByteSwapFlag(little_endian(b.swapped));
  CORBA::LongSeq seq;
  seq <<= in;
  CORBA::ULong n = seq.length();
  uint64_t sum = n;
  if (full) {
    for (CORBA::ULong i = 0; i < n; i++) sum += static_cast<uint32_t>(seq[i]);
  } else if (n) {
    sum += static_cast<uint32_t>(seq[n - 1]);
  }
  return sum;
}

// ---- stringified IOR ---------------------------------------------------------------------------

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The first half of omniObjRef::_fromString (omniORB 4.2's objectRef.cc), which has no public
// entry point of its own: check the prefix, turn the hex into octets in a cdrMemoryStream one
// marshalOctet at a time, read the byte-order octet, then unmarshal the type id and the tagged
// profiles as omniObjRef::_unMarshal does. The second half, omni::createObjRef, is what
// STRING_TO_OBJECT adds.
void ior_decode(const std::string& text, IOP::IOR& ior) {
  const char* p = text.c_str();
  size_t len = text.size();
  if (len < 4 || !((p[0] == 'I' || p[0] == 'i') && (p[1] == 'O' || p[1] == 'o') &&
                   (p[2] == 'R' || p[2] == 'r') && p[3] == ':'))
    throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
  size_t n = (len - 4) / 2;
  p += 4;
  cdrMemoryStream buf(static_cast<CORBA::ULong>(n), 0);
  for (size_t i = 0; i < n; i++) {
    int hi = hex_value(p[2 * i]);
    int lo = hex_value(p[2 * i + 1]);
    if (hi < 0 || lo < 0) throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
    buf.marshalOctet(static_cast<CORBA::Octet>(hi << 4 | lo));
  }
  buf.rewindInputPtr();
  buf.setByteSwapFlag(buf.unmarshalBoolean());
  ior.type_id = IOP::IOR::unmarshaltype_id(buf);
  ior.profiles <<= buf;
}

uint64_t ior_once(const Bench& b, bool full) {
  IOP::IOR ior;
  ior_decode(b.text, ior);
  uint64_t sum = strlen(ior.type_id) | static_cast<uint64_t>(ior.profiles.length()) << 16;
  if (ior.profiles.length() == 0) return sum;
  sum |= static_cast<uint64_t>(ior.profiles[0].profile_data.length()) << 32;
  if (b.kind == IOR_AND_PROFILE) {
    IIOP::ProfileBody body;
    IIOP::unmarshalProfile(ior.profiles[0], body);
    sum = static_cast<uint64_t>(body.address.port) |
          static_cast<uint64_t>(body.object_key.length()) << 16 |
          static_cast<uint64_t>(body.components.length()) << 32 |
          static_cast<uint64_t>(strlen(body.address.host)) << 48;
  }
  if (full) {
    // Every octet of every profile, so that the check covers all of what was decoded.
    for (CORBA::ULong i = 0; i < ior.profiles.length(); i++) {
      const IOP::TaggedProfile& t = ior.profiles[i];
      for (CORBA::ULong j = 0; j < t.profile_data.length(); j++)
        sum += static_cast<uint64_t>(t.profile_data[j]) * (j + 1);
    }
  }
  return sum;
}

uint64_t string_to_object_once(const Bench& b) {
  CORBA::Object_var obj = the_orb()->string_to_object(b.text.c_str());
  return CORBA::is_nil(obj) ? 0 : 1;
}

// ---- a cube_seq Request --------------------------------------------------------------------

const CORBA::ULong REQUEST_ID = 7;
const char OPERATION[] = "cube_seq";

// The octets of a GIOP 1.2 Request (§15.4.2.2) for cube_seq, marshalled with cdrMemoryStream in
// the order and alignment omniORB's giopImpl12 marshals them. omniORB's own header marshalling
// (giopImpl12::marshalRequestHeader) writes into a giopStream that belongs to a connection
// (giopStrand) and cannot be driven without one, so the fields are written here one by one with
// the same primitives; the message is octet-for-octet what rtorb's MessageWriter produces (the
// Rust side checks it).
void request_encode(Bench& b) {
  cdrMemoryStream& s = b.out;
  s.rewindPtrs();
  s.setByteSwapFlag(omni::myByteOrder);
  // The 12-octet GIOP header; message_size is patched in below.
  const CORBA::Octet header[12] = {'G', 'I', 'O', 'P', 1, 2,
                                   static_cast<CORBA::Octet>(omni::myByteOrder & 1),
                                   0 /* Request */, 0, 0, 0, 0};
  s.put_octet_array(header, 12);
  REQUEST_ID >>= s;
  s.marshalOctet(3);  // response_flags: SYNC_WITH_TARGET
  const CORBA::Octet reserved[3] = {0, 0, 0};
  s.put_octet_array(reserved, 3);
  CORBA::Short disposition = 0;  // GIOP::KeyAddr
  disposition >>= s;
  // The object key as sequence<octet>, and the operation as a string, as giopImpl12 does.
  CORBA::ULong keylen = static_cast<CORBA::ULong>(b.key.size());
  keylen >>= s;
  s.put_octet_array(b.key.data(), static_cast<int>(keylen));
  CORBA::ULong oplen = sizeof OPERATION;  // with its terminating NUL
  oplen >>= s;
  s.put_octet_array(reinterpret_cast<const CORBA::Octet*>(OPERATION), static_cast<int>(oplen));
  CORBA::ULong contexts = 0;  // an empty service context list
  contexts >>= s;
  // GIOP 1.2: the body starts 8-aligned.
  s.alignOutput(omni::ALIGN_8);
  b.values >>= s;
  CORBA::ULong size = s.bufSize() - 12;
  memcpy(static_cast<char*>(s.bufPtr()) + 8, &size, 4);
}

// Unmarshals the request from a read-only stream over the octets as omniORB's server does
// (giopImpl12::unmarshalRequestHeader into GIOP_S): the key into an omniObjKey and the operation
// into a fixed inline buffer (neither allocates for a key of 12 octets and a short name), the
// service contexts into an IOP::ServiceContextList; then the argument into a fresh LongSeq.
uint64_t request_decode(const CORBA::Octet* bytes, size_t len, bool full) {
  cdrMemoryStream s(const_cast<CORBA::Octet*>(bytes), len);
  CORBA::Octet header[12];
  s.get_octet_array(header, 12);
  if (memcmp(header, "GIOP", 4) != 0 || header[4] != 1 || header[5] != 2 || header[7] != 0)
    throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
  s.setByteSwapFlag(header[6] & 1);
  CORBA::ULong size;
  memcpy(&size, header + 8, 4);
  if (s.unmarshal_byte_swap()) size = cdrStream::byteSwap(size);
  if (size != len - 12) throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);

  CORBA::ULong request_id;
  request_id <<= s;
  CORBA::Octet response_flags = s.unmarshalOctet();
  s.skipInput(3);
  CORBA::Short disposition;
  disposition <<= s;
  if (disposition != 0) throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
  CORBA::ULong keylen;
  keylen <<= s;
  if (!s.checkInputOverrun(1, keylen)) throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
  omniObjKey key;
  key.set_size(static_cast<int>(keylen));
  s.get_octet_array(key.write_key(), static_cast<int>(keylen));
  CORBA::ULong oplen;
  oplen <<= s;
  char op[32];
  if (oplen == 0 || oplen > sizeof op || !s.checkInputOverrun(1, oplen))
    throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
  s.get_octet_array(reinterpret_cast<CORBA::Octet*>(op), static_cast<int>(oplen));
  if (op[oplen - 1] != '\0') throw CORBA::MARSHAL(0, CORBA::COMPLETED_NO);
  IOP::ServiceContextList contexts;
  contexts <<= s;
  if (s.checkInputOverrun(1, 1)) s.alignInput(omni::ALIGN_8);

  CORBA::LongSeq args;
  args <<= s;
  CORBA::ULong n = args.length();
  uint64_t sum = request_id + response_flags + static_cast<uint64_t>(key.size()) +
                 static_cast<uint64_t>(op[0]) + oplen + contexts.length() + n;
  if (full) {
    for (int i = 0; i < key.size(); i++) sum += key.key()[i];
    for (CORBA::ULong i = 0; i < oplen; i++) sum += static_cast<uint64_t>(op[i]);
    for (CORBA::ULong i = 0; i < n; i++) sum += static_cast<uint32_t>(args[i]);
  } else if (n) {
    sum += static_cast<uint32_t>(args[n - 1]);
  }
  return sum;
}

uint64_t request_once(Bench& b, bool full) {
  request_encode(b);
  return request_decode(static_cast<const CORBA::Octet*>(b.out.bufPtr()), b.out.bufSize(),
                        full);
}

uint64_t run_once(Bench& b, bool full) {
  switch (b.kind) {
    case SEQ_ENCODE: return seq_encode_once(b);
    case SEQ_DECODE: return seq_decode_once(b, full);
    case IOR_DECODE:
    case IOR_AND_PROFILE: return ior_once(b, full);
    case STRING_TO_OBJECT: return string_to_object_once(b);
    case REQUEST: return request_once(b, full);
  }
  return 0;
}

}  // namespace

extern "C" {

// Prepares a bench of `kind` (see Kind). `values`/`nvalues`: the sequence<long> to encode
// (SEQ_ENCODE, REQUEST); `input`/`input_len`: the octets to decode (SEQ_DECODE), the object key
// (REQUEST) or the stringified IOR (the IOR kinds); `swapped`: use the byte order that is not
// this machine's (the sequence kinds). Returns null on failure.
void* rtorb_omni_bench_new(int kind, const int32_t* values, size_t nvalues,
                           const uint8_t* input, size_t input_len, int swapped) {
  try {
    if (kind < SEQ_ENCODE || kind > REQUEST) return 0;
    Bench* b = new Bench;
    b->kind = static_cast<Kind>(kind);
    b->swapped = swapped != 0;
    b->values.length(static_cast<CORBA::ULong>(nvalues));
    for (size_t i = 0; i < nvalues; i++) b->values[static_cast<CORBA::ULong>(i)] = values[i];
    switch (b->kind) {
      case SEQ_DECODE:
        b->aligned.resize(input_len / sizeof(CORBA::Double) + 1);
        if (input_len) memcpy(b->aligned.data(), input, input_len);
        b->input_len = input_len;
        break;
      case REQUEST:
        b->key.assign(input, input + input_len);
        break;
      case IOR_DECODE:
      case IOR_AND_PROFILE:
      case STRING_TO_OBJECT:
        b->text.assign(reinterpret_cast<const char*>(input), input_len);
        break;
      case SEQ_ENCODE:
        break;
    }
    if (b->kind == STRING_TO_OBJECT) the_orb();
    return b;
  } catch (...) {
    return 0;
  }
}

// Runs `iters` iterations and stores a checksum of what they produced in `*checksum`.
// Returns 0, or -1 if omniORB threw (a CORBA exception: malformed input).
int rtorb_omni_bench_run(void* bench, uint64_t iters, uint64_t* checksum) {
  Bench& b = *static_cast<Bench*>(bench);
  try {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) sum += run_once(b, false);
    *checksum = sum;
    return 0;
  } catch (...) {
    return -1;
  }
}

// Runs one iteration and stores a checksum over all of its result in `*checksum` (see the
// *_once functions for what each kind sums). Returns 0, or -1 if omniORB threw.
int rtorb_omni_bench_verify(void* bench, uint64_t* checksum) {
  Bench& b = *static_cast<Bench*>(bench);
  try {
    *checksum = run_once(b, true);
    return 0;
  } catch (...) {
    return -1;
  }
}

// The octets the last iteration of SEQ_ENCODE or REQUEST wrote: copies at most `cap` of them
// to `out` and returns how many there are (0 for the other kinds).
size_t rtorb_omni_bench_output(void* bench, uint8_t* out, size_t cap) {
  Bench& b = *static_cast<Bench*>(bench);
  if (b.kind != SEQ_ENCODE && b.kind != REQUEST) return 0;
  size_t n = b.out.bufSize();
  if (cap) memcpy(out, b.out.bufPtr(), n < cap ? n : cap);
  return n;
}

void rtorb_omni_bench_free(void* bench) { delete static_cast<Bench*>(bench); }

}  // extern "C"
