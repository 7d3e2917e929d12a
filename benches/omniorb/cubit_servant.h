// The cubit servant and the ORB set-up shared by the in-process library (cubit.cc) and the
// server executable (cubit_server_main.cc).
//
// The servant does what rtorb's (CubitImpl in benches/src/cubit.rs) does: every cube wraps
// around on overflow as two's complement, as Rust's wrapping_mul does, so both sides return
// the same octets for the same arguments.

#ifndef RTORB_CUBIT_SERVANT_H
#define RTORB_CUBIT_SERVANT_H

#include "cubit.hh"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <atomic>
#include <string>

namespace rtorb_cubit {

// Two's-complement wrapping cube: signed overflow is undefined in C++, unsigned is not.
inline CORBA::Long cube(CORBA::Long v) {
  uint32_t u = static_cast<uint32_t>(v);
  return static_cast<CORBA::Long>(u * u * u);
}

// The thread that ran the last cube_octet: the in-process client compares it with its own to
// prove a call was collocated (run on the caller's thread, no connection in between).
inline std::atomic<pthread_t>& last_octet_thread() {
  static std::atomic<pthread_t> t;
  return t;
}

class CubitImpl : public POA_CubitApp::Cubit {
 public:
  CORBA::Octet cube_octet(CORBA::Octet o) {
    last_octet_thread().store(pthread_self(), std::memory_order_relaxed);
    return static_cast<CORBA::Octet>(o * o * o);
  }

  CORBA::Long cube_long(CORBA::Long l) { return cube(l); }

  CubitApp::Cubit::Many cube_struct(const CubitApp::Cubit::Many& m) {
    CubitApp::Cubit::Many r;
    r.o = static_cast<CORBA::Octet>(m.o * m.o * m.o);
    r.l = cube(m.l);
    r.s = static_cast<CORBA::Short>(cube(m.s));
    return r;
  }

  CubitApp::Cubit::LongSeq* cube_seq(const CubitApp::Cubit::LongSeq& s) {
    CORBA::ULong n = s.length();
    CubitApp::Cubit::LongSeq* r = new CubitApp::Cubit::LongSeq(n);
    r->length(n);
    for (CORBA::ULong i = 0; i < n; i++) (*r)[i] = cube(s[i]);
    return r;
  }

  void ping() {}
};

// Initialises this process's ORB listening on 127.0.0.1:port only (port 0: a free port the
// kernel picks), publishing that address in its IORs and using TCP alone, so that nothing
// leaves loopback and no Unix socket or other host name is tried. `argc`/`argv` (a program
// name, then `-ORBname value` pairs) add omniORB options, such as its server thread model;
// ORB_init removes those it takes, so any left over were not omniORB's.
inline CORBA::ORB_ptr init_orb(unsigned port, int& argc, char** argv) {
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "giop:tcp:127.0.0.1:%u", port);
  const char* options[][2] = {{"endPoint", endpoint},
                              {"endPointPublish", "addr"},
                              {"clientTransportRule", "* tcp"},
                              {"serverTransportRule", "* tcp"},
                              {"traceLevel", "0"},
                              {0, 0}};
  return CORBA::ORB_init(argc, argv, "omniORB4", options);
}

// The same with no further options.
inline CORBA::ORB_ptr init_orb(unsigned port) {
  int argc = 0;
  return init_orb(port, argc, static_cast<char**>(0));
}

// A cubit servant activated in the root POA (its manager activated), and its reference.
struct Served {
  CubitImpl* servant;
  PortableServer::POA_var poa;
  PortableServer::ObjectId_var oid;
  CubitApp::Cubit_var ref;
};

inline void serve(CORBA::ORB_ptr orb, Served& s) {
  CORBA::Object_var obj = orb->resolve_initial_references("RootPOA");
  s.poa = PortableServer::POA::_narrow(obj);
  s.servant = new CubitImpl;
  s.oid = s.poa->activate_object(s.servant);
  // The POA holds its own reference to the servant from here on.
  s.servant->_remove_ref();
  obj = s.poa->id_to_reference(s.oid);
  s.ref = CubitApp::Cubit::_narrow(obj);
  PortableServer::POAManager_var manager = s.poa->the_POAManager();
  manager->activate();
}

}  // namespace rtorb_cubit

#endif
