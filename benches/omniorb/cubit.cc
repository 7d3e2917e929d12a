// omniORB's side of the cubit latency experiment (benches/benches/cubit.rs and
// benches/src/bin/cubit_latency.rs), called from Rust through benches/benches/omniorb/cubit_ffi.rs.
//
// - A server: this process's ORB, listening on 127.0.0.1 only, with a cubit servant activated
//   in its root POA; it hands out the servant's stringified IOR and object key.
// - Clients: an object reference made from a stringified IOR by this process's ORB. For the IOR
//   of omniORB's server process (cubit_server_main.cc) every call goes over TCP loopback; for
//   this process's own servant omniORB sees the object is local and calls it collocated, on the
//   caller's thread, without marshalling over a connection.
// - Loops that make N calls in C++ (one FFI call for the whole batch), optionally timing each
//   call into a buffer the caller passes, and returning a checksum of the results so that
//   nothing can be optimised away.
//
// omniORB allows one ORB per process, so the server's ORB is also the one the clients use: a
// client must be freed before the server it was made from. No C++ exception crosses into Rust:
// every entry point catches everything, stores a description for rtorb_cubit_last_error and
// returns -1 (or null).

#include "cubit_servant.h"

#include <omniORB4/omniIOR.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

namespace {

thread_local std::string last_error;

// Runs `body`, turning any exception into a description and -1.
template <typename F>
int guarded(F body) {
  try {
    body();
    return 0;
  } catch (CORBA::SystemException& e) {
    last_error = std::string(e._name()) + " (minor " + std::to_string(e.minor()) + ")";
  } catch (CORBA::Exception& e) {
    last_error = e._name();
  } catch (std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception";
  }
  return -1;
}

// The clock Rust's Instant reads on Linux, so C++ and Rust per-call figures are comparable.
inline uint64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct Server {
  CORBA::ORB_var orb;
  rtorb_cubit::Served served;
  std::string ior;
  std::vector<uint8_t> key;
};

struct Client {
  CubitApp::Cubit_var ref;
};

// The object key in the first IIOP profile of `ref`'s IOR, as a client puts it in a Request.
std::vector<uint8_t> object_key(CORBA::Object_ptr ref) {
  omniIOR* ior = ref->_PR_getobj()->_getIOR();
  std::vector<uint8_t> key;
  try {
    const IOP::TaggedProfileList& profiles = ior->iopProfiles();
    for (CORBA::ULong i = 0; i < profiles.length(); i++) {
      if (profiles[i].tag != IOP::TAG_INTERNET_IOP) continue;
      IIOP::ProfileBody body;
      IIOP::unmarshalProfile(profiles[i], body);
      key.assign(body.object_key.get_buffer(),
                 body.object_key.get_buffer() + body.object_key.length());
      break;
    }
  } catch (...) {
    ior->release();
    throw;
  }
  ior->release();
  return key;
}

void to_long_seq(const int32_t* values, size_t len, CubitApp::Cubit::LongSeq& seq) {
  seq.length(static_cast<CORBA::ULong>(len));
  for (size_t i = 0; i < len; i++) seq[static_cast<CORBA::ULong>(i)] = values[i];
}

}  // namespace

extern "C" {

// What the last call that returned -1 or null on this thread failed with.
const char* rtorb_cubit_last_error(void) { return last_error.c_str(); }

// Initialises this process's ORB on 127.0.0.1:port (0: a free port) and activates a cubit
// servant in it. Null on failure. Only one per process (omniORB's ORB is a singleton).
void* rtorb_cubit_server_start(uint16_t port) {
  Server* s = new Server;
  int rc = guarded([&] {
    s->orb = rtorb_cubit::init_orb(port);
    rtorb_cubit::serve(s->orb, s->served);
    CORBA::String_var ior = s->orb->object_to_string(s->served.ref);
    s->ior = static_cast<const char*>(ior);
    s->key = object_key(s->served.ref);
    if (s->key.empty()) throw CORBA::INTERNAL(0, CORBA::COMPLETED_NO);
  });
  if (rc != 0) {
    delete s;
    return 0;
  }
  return s;
}

// The servant's stringified IOR (NUL-terminated, valid until the server is stopped).
const char* rtorb_cubit_server_ior(void* server) {
  return static_cast<Server*>(server)->ior.c_str();
}

// The servant's object key: sets `*len` and returns a pointer valid until the server stops.
const uint8_t* rtorb_cubit_server_key(void* server, size_t* len) {
  Server* s = static_cast<Server*>(server);
  *len = s->key.size();
  return s->key.data();
}

// Deactivates the servant and destroys the ORB. Every client must have been freed.
void rtorb_cubit_server_stop(void* server) {
  Server* s = static_cast<Server*>(server);
  guarded([&] {
    s->served.ref = CubitApp::Cubit::_nil();
    s->served.poa->deactivate_object(s->served.oid);
    s->served.poa = PortableServer::POA::_nil();
    s->orb->destroy();
  });
  delete s;
}

// An object reference to the cubit at `ior`, made by the server's ORB. Null on failure.
void* rtorb_cubit_client_new(void* server, const char* ior) {
  Server* s = static_cast<Server*>(server);
  Client* c = new Client;
  int rc = guarded([&] {
    CORBA::Object_var obj = s->orb->string_to_object(ior);
    c->ref = CubitApp::Cubit::_narrow(obj);
    if (CORBA::is_nil(c->ref)) throw CORBA::BAD_PARAM(0, CORBA::COMPLETED_NO);
  });
  if (rc != 0) {
    delete c;
    return 0;
  }
  return c;
}

void rtorb_cubit_client_free(void* client) { delete static_cast<Client*>(client); }

// One cube_long(x) into `*out`.
int rtorb_cubit_cube_long(void* client, int32_t x, int32_t* out) {
  Client* c = static_cast<Client*>(client);
  return guarded([&] { *out = c->ref->cube_long(x); });
}

// One cube_seq(values) into `out`, which has room for `len` elements; fails if the result has
// another length.
int rtorb_cubit_cube_seq(void* client, const int32_t* values, size_t len, int32_t* out) {
  Client* c = static_cast<Client*>(client);
  return guarded([&] {
    CubitApp::Cubit::LongSeq args;
    to_long_seq(values, len, args);
    CubitApp::Cubit::LongSeq_var r = c->ref->cube_seq(args);
    if (r->length() != len) throw CORBA::MARSHAL(0, CORBA::COMPLETED_YES);
    for (CORBA::ULong i = 0; i < r->length(); i++) out[i] = r[i];
  });
}

// One cube_struct({o, l, s}) into `*o_out`, `*l_out`, `*s_out`.
int rtorb_cubit_cube_struct(void* client, uint8_t o, int32_t l, int16_t s, uint8_t* o_out,
                            int32_t* l_out, int16_t* s_out) {
  Client* c = static_cast<Client*>(client);
  return guarded([&] {
    CubitApp::Cubit::Many m;
    m.o = o;
    m.l = l;
    m.s = s;
    CubitApp::Cubit::Many r = c->ref->cube_struct(m);
    *o_out = r.o;
    *l_out = r.l;
    *s_out = r.s;
  });
}

// One cube_octet(3); sets `*same_thread` to whether the servant ran on this thread, which it
// does only for a collocated call.
int rtorb_cubit_served_here(void* client, int* same_thread) {
  Client* c = static_cast<Client*>(client);
  return guarded([&] {
    rtorb_cubit::last_octet_thread().store(pthread_t(), std::memory_order_relaxed);
    if (c->ref->cube_octet(3) != 27) throw CORBA::BAD_OPERATION(0, CORBA::COMPLETED_YES);
    *same_thread = pthread_equal(rtorb_cubit::last_octet_thread().load(), pthread_self()) ? 1 : 0;
  });
}

// `iters` calls of cube_long(x). With `ns` non-null, ns[i] gets call i's nanoseconds (the
// caller's buffer holds `iters`). `*checksum` gets the sum of the results.
int rtorb_cubit_cube_long_loop(void* client, int32_t x, uint64_t iters, uint64_t* ns,
                               int64_t* checksum) {
  Client* c = static_cast<Client*>(client);
  CubitApp::Cubit_ptr ref = c->ref;
  int64_t sum = 0;
  int rc = guarded([&] {
    if (ns) {
      for (uint64_t i = 0; i < iters; i++) {
        uint64_t t = now_ns();
        sum += ref->cube_long(x);
        ns[i] = now_ns() - t;
      }
    } else {
      for (uint64_t i = 0; i < iters; i++) sum += ref->cube_long(x);
    }
  });
  *checksum = sum;
  return rc;
}

// `iters` calls of cube_struct({o, l, s}), as cube_long_loop; `*checksum` gets the sum of
// the results' members.
int rtorb_cubit_cube_struct_loop(void* client, uint8_t o, int32_t l, int16_t s, uint64_t iters,
                                 uint64_t* ns, int64_t* checksum) {
  Client* c = static_cast<Client*>(client);
  CubitApp::Cubit_ptr ref = c->ref;
  int64_t sum = 0;
  int rc = guarded([&] {
    CubitApp::Cubit::Many m;
    m.o = o;
    m.l = l;
    m.s = s;
    for (uint64_t i = 0; i < iters; i++) {
      uint64_t t = ns ? now_ns() : 0;
      CubitApp::Cubit::Many r = ref->cube_struct(m);
      sum += static_cast<int64_t>(r.o) + r.l + r.s;
      if (ns) ns[i] = now_ns() - t;
    }
  });
  *checksum = sum;
  return rc;
}

// `iters` oneway ping() calls, then one cube_long(x) into `*out`: it returns once the server
// has read every ping before it (they share the connection, read in order).
int rtorb_cubit_ping_loop(void* client, uint64_t iters, int32_t x, int32_t* out) {
  Client* c = static_cast<Client*>(client);
  CubitApp::Cubit_ptr ref = c->ref;
  return guarded([&] {
    for (uint64_t i = 0; i < iters; i++) ref->ping();
    *out = ref->cube_long(x);
  });
}

// `iters` calls of cube_seq(values), as cube_long_loop; `*checksum` gets the sum over calls of
// the result's length, first and last elements (what omniORB returns is a fresh LongSeq each
// call, unmarshalled in full whatever is read from it).
int rtorb_cubit_cube_seq_loop(void* client, const int32_t* values, size_t len, uint64_t iters,
                              uint64_t* ns, int64_t* checksum) {
  Client* c = static_cast<Client*>(client);
  CubitApp::Cubit_ptr ref = c->ref;
  int64_t sum = 0;
  int rc = guarded([&] {
    if (len == 0) throw CORBA::BAD_PARAM(0, CORBA::COMPLETED_NO);
    CubitApp::Cubit::LongSeq args;
    to_long_seq(values, len, args);
    CORBA::ULong last = static_cast<CORBA::ULong>(len - 1);
    for (uint64_t i = 0; i < iters; i++) {
      uint64_t t = ns ? now_ns() : 0;
      {
        // The result is freed inside the timed region, as the Rust cases drop theirs.
        CubitApp::Cubit::LongSeq_var r = ref->cube_seq(args);
        if (r->length() != len) throw CORBA::MARSHAL(0, CORBA::COMPLETED_YES);
        sum += static_cast<int64_t>(r->length()) + r[0] + r[last];
      }
      if (ns) ns[i] = now_ns() - t;
    }
  });
  *checksum = sum;
  return rc;
}

}  // extern "C"
