// omniORB's side of the value-graph bench in benches/benches/values.rs: a 1,000-node graph of
// BenchValues::Node (values.idl) marshalled by omniORB's generated code into a
// cdrMemoryStream, and unmarshalled from one, as rtorb's ValueWriter and ValueReader do it.
//
// The graph is handed over as two index arrays (`next[i]`, `other[i]`: the node node i points
// at, -1 for null) and carried as a NodeSeq of every node in order, so that each node is
// reachable from the sequence; its shape is rtorb's (values.rs says which). A batch of
// iterations runs per call, so that crossing the FFI boundary does not count. Decoding frees
// what it decoded, as rtorb's side drops its graph: omniORB's values are reference counted,
// so the cycles are cut first (every `next` set to null), a cost of omniORB's way of
// freeing. No C++ exception may cross into Rust: every entry point catches everything.

#include "values.hh"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <map>
#include <vector>

namespace {

struct Bench {
  BenchValues::NodeSeq graph;
  // The reused output stream; cleared when it allocates (once, before timing), so that
  // padding reads as zeros.
  cdrMemoryStream out;
  // Octets to decode, copied into an 8-aligned buffer (cdrMemoryStream aligns by address).
  std::vector<CORBA::Double> aligned;
  size_t input_len;

  Bench() : out(static_cast<CORBA::ULong>(1 << 18), static_cast<CORBA::Boolean>(1)), input_len(0) {}
};

void register_factory() {
  static bool done = false;
  if (done) return;
  int argc = 0;
  CORBA::ORB_var orb = CORBA::ORB_init(argc, static_cast<char**>(0));
  BenchValues::Node_init* f = new BenchValues::Node_init;
  orb->register_value_factory(BenchValues::Node::_PD_repoId, f);
  f->_remove_ref();
  done = true;
}

uint64_t encode_once(Bench& b) {
  b.out.rewindPtrs();
  b.graph >>= b.out;
  // The indirections of one iteration must not point into the last one.
  b.out.clearValueTracker();
  return b.out.bufSize();
}

// The structure of a decoded graph, as values.rs's `shape_checksum` computes it: per node in
// sequence order, its id and the positions of the nodes it points at (from 1; 0 for null,
// all ones for a node that is not in the sequence: a copy).
uint64_t shape_checksum(const BenchValues::NodeSeq& seq) {
  std::map<const BenchValues::Node*, uint64_t> position;
  for (CORBA::ULong i = 0; i < seq.length(); i++) position[seq[i].in()] = i + 1;
  auto pos = [&position](const BenchValues::Node* n) -> uint64_t {
    if (!n) return 0;
    auto it = position.find(n);
    return it == position.end() ? ~static_cast<uint64_t>(0) : it->second;
  };
  uint64_t h = seq.length();
  for (CORBA::ULong i = 0; i < seq.length(); i++) {
    const BenchValues::Node* n = seq[i].in();
    if (!n) return 0;
    h = h * 1000003u + static_cast<uint32_t>(n->id());
    h = h * 1000003u + pos(n->next());
    h = h * 1000003u + pos(n->other());
  }
  return h;
}

uint64_t decode_once(Bench& b, bool full) {
  cdrMemoryStream in(b.aligned.data(), b.input_len);
  BenchValues::NodeSeq seq;
  seq <<= in;
  in.clearValueTracker();
  uint64_t sum = full ? shape_checksum(seq) : seq.length();
  for (CORBA::ULong i = 0; i < seq.length(); i++)
    if (seq[i].in()) seq[i]->next(0);
  return sum;
}

}  // namespace

extern "C" {

void* rtorb_omni_values_new(const int32_t* next, const int32_t* other, size_t n,
                            const uint8_t* input, size_t input_len) {
  try {
    register_factory();
    Bench* b = new Bench;
    b->graph.length(static_cast<CORBA::ULong>(n));
    for (size_t i = 0; i < n; i++) {
      BenchValues::Node* node = new OBV_BenchValues::Node;
      node->id(static_cast<CORBA::Long>(i));
      b->graph[i] = node;  // the sequence takes the reference
    }
    for (size_t i = 0; i < n; i++) {
      // The setters add their own reference.
      if (next[i] >= 0) b->graph[i]->next(b->graph[next[i]].in());
      if (other[i] >= 0) b->graph[i]->other(b->graph[other[i]].in());
    }
    b->aligned.resize((input_len + 7) / 8 + 1);
    if (input_len) memcpy(b->aligned.data(), input, input_len);
    b->input_len = input_len;
    return b;
  } catch (...) {
    return 0;
  }
}

int rtorb_omni_values_encode(void* bench, uint64_t iters, uint64_t* checksum) {
  try {
    Bench& b = *static_cast<Bench*>(bench);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) sum += encode_once(b);
    *checksum = sum;
    return 0;
  } catch (...) {
    return 1;
  }
}

int rtorb_omni_values_decode(void* bench, uint64_t iters, uint64_t* checksum) {
  try {
    Bench& b = *static_cast<Bench*>(bench);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) sum += decode_once(b, false);
    *checksum = sum;
    return 0;
  } catch (...) {
    return 1;
  }
}

int rtorb_omni_values_verify(void* bench, uint64_t* checksum) {
  try {
    *checksum = decode_once(*static_cast<Bench*>(bench), true);
    return 0;
  } catch (...) {
    return 1;
  }
}

size_t rtorb_omni_values_output(void* bench, uint8_t* out, size_t cap) {
  Bench& b = *static_cast<Bench*>(bench);
  size_t len = b.out.bufSize();
  if (out && cap >= len) memcpy(out, b.out.bufPtr(), len);
  return len;
}

void rtorb_omni_values_free(void* bench) {
  Bench* b = static_cast<Bench*>(bench);
  // Cut the cycles so that the nodes are freed with the sequence.
  for (CORBA::ULong i = 0; i < b->graph.length(); i++) b->graph[i]->next(0);
  delete b;
}

}  // extern "C"
