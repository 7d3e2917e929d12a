// The omniORB Tester server: `interop_server [--ior-file PATH] [--bind NAME] [-ORB...]`.
// Answers exactly as the Rust servant (src/lib.rs, TesterImpl) does. Prints its IOR on
// stdout (and writes it to PATH); with --bind, binds itself as NAME (`a/b.kind`) in the
// naming service -ORBInitRef NameService=... names. Serves until killed.

#include "interop.hh"
#include "large.h"

#include <omniORB4/Naming.hh>

#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

class PeerImpl : public POA_Interop::Peer {
 public:
  explicit PeerImpl(CORBA::Long id) : id_(id) {}
  CORBA::Long id() { return id_; }

 private:
  CORBA::Long id_;
};

// A large value that arrived wrong, as both servants tell the client: so a failure says
// which way the value was going when it went wrong.
static void refuse_if(const std::string& why) {
  if (!why.empty()) throw Interop::Failure(1, ("the request: " + why).c_str());
}

class TesterImpl : public POA_Interop::Tester {
 public:
  explicit TesterImpl(PortableServer::POA_ptr poa)
      : poa_(PortableServer::POA::_duplicate(poa)), counter_(0), last_(0) {}

  CORBA::Short echo_short(CORBA::Short v) { return v; }
  CORBA::UShort echo_ushort(CORBA::UShort v) { return v; }
  CORBA::Long echo_long(CORBA::Long v) { return v; }
  CORBA::ULong echo_ulong(CORBA::ULong v) { return v; }
  CORBA::LongLong echo_longlong(CORBA::LongLong v) { return v; }
  CORBA::ULongLong echo_ulonglong(CORBA::ULongLong v) { return v; }
  CORBA::Float echo_float(CORBA::Float v) { return v; }
  CORBA::Double echo_double(CORBA::Double v) { return v; }
  CORBA::Boolean negate(CORBA::Boolean v) { return !v; }
  CORBA::Octet echo_octet(CORBA::Octet v) { return v; }
  CORBA::Char next_char(CORBA::Char v) {
    return (CORBA::Char)(((unsigned char)v + 1) & 0xff);
  }
  char* reverse_string(const char* v) {
    std::string s(v);
    return CORBA::string_dup(std::string(s.rbegin(), s.rend()).c_str());
  }
  Interop::Color next_color(Interop::Color c) {
    return (Interop::Color)(((int)c + 1) % 3);
  }
  CORBA::WChar next_wchar(CORBA::WChar v) {
    unsigned n = ((unsigned)v + 1) & 0xffff;
    if (n >= 0xd800 && n < 0xe000) n = 0xe000;
    return (CORBA::WChar)n;
  }
  CORBA::WChar* reverse_wstring(const CORBA::WChar* v) {
    CORBA::ULong len = 0;
    while (v[len]) ++len;
    CORBA::WChar* r = CORBA::wstring_alloc(len);
    for (CORBA::ULong i = 0; i < len; ++i) r[i] = v[len - 1 - i];
    r[len] = 0;
    return r;
  }
  CORBA::LongDouble widen(CORBA::Double v) { return (CORBA::LongDouble)v; }
  CORBA::Double shrink(CORBA::LongDouble v) { return (CORBA::Double)v; }
  Interop::Record* echo_record(const Interop::Record& r) {
    return new Interop::Record(r);
  }
  Interop::Shape* echo_shape(const Interop::Shape& s) {
    return new Interop::Shape(s);
  }
  Interop::Records* reverse_records(const Interop::Records& rs) {
    Interop::Records* r = new Interop::Records;
    r->length(rs.length());
    for (CORBA::ULong i = 0; i < rs.length(); ++i)
      (*r)[i] = rs[rs.length() - 1 - i];
    return r;
  }
  Interop::Grid_slice* rotate_add(const Interop::Grid g, CORBA::Long k) {
    Interop::Grid_slice* r = Interop::Grid_alloc();
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) r[i][j] = g[1 - i][2 - j] + k;
    return r;
  }
  CORBA::Any* echo_any(const CORBA::Any& a) { return new CORBA::Any(a); }
  Interop::Peer_ptr make_peer(CORBA::Long id) {
    PeerImpl* p = new PeerImpl(id);
    PortableServer::ObjectId_var oid = poa_->activate_object(p);
    p->_remove_ref();
    CORBA::Object_var obj = poa_->id_to_reference(oid);
    return Interop::Peer::_narrow(obj);
  }
  Interop::Peer_ptr echo_peer(Interop::Peer_ptr p) {
    return Interop::Peer::_duplicate(p);
  }
  CORBA::Long exchange(CORBA::Long& a, char*& s, CORBA::Double& d,
                       Interop::Point& p) {
    CORBA::Long old = a;
    a = old + 1;
    std::string grown = std::string(s) + "!";
    CORBA::string_free(s);
    s = CORBA::string_dup(grown.c_str());
    d = old / 4.0;
    p.x = old;
    p.y = -old;
    return old * 2;
  }
  CORBA::Long counter() { return counter_; }
  void counter(CORBA::Long v) { counter_ = v; }
  char* name() { return CORBA::string_dup("interop-tester"); }
  void fail(CORBA::Long code) {
    std::string reason = "failure " + std::to_string(code);
    throw Interop::Failure(code, reason.c_str());
  }
  void notify(CORBA::Long token) { last_ = token; }
  CORBA::Long last_notified() { return last_; }
  Interop::PairSeq* echo_pairs(const Interop::PairSeq& p) {
    refuse_if(large::check_pairs(p, p.length()));
    return new Interop::PairSeq(p);
  }
  Interop::Bulk* echo_bulk(const Interop::Bulk& b) {
    refuse_if(large::check_bulk(b));
    return new Interop::Bulk(b);
  }
  void raise_large(const char* lead) {
    unsigned seed = large::seed_of(lead);
    if (!seed) refuse_if("lead is " + large::show(lead) + ", not one of ours");
    throw Interop::Failure((CORBA::Long)seed, large::reason(seed).c_str());
  }
  CORBA::Any* echo_held(const char* lead, const CORBA::Any& held) {
    refuse_if(large::check_held(lead, held));
    return new CORBA::Any(held);
  }
  Interop::AnySeq* echo_trees(const char* lead, const Interop::AnySeq& trees) {
    refuse_if(large::check_trees(lead, trees));
    return new Interop::AnySeq(trees);
  }
  Interop::WideBulk* echo_wide_bulk(const Interop::WideBulk& w) {
    refuse_if(large::check_wide_bulk(w));
    return new Interop::WideBulk(w);
  }

 private:
  PortableServer::POA_var poa_;
  CORBA::Long counter_;
  CORBA::Long last_;
};

static void bind(CORBA::ORB_ptr orb, CORBA::Object_ptr obj, const char* name) {
  CORBA::Object_var ns_obj = orb->resolve_initial_references("NameService");
  CosNaming::NamingContextExt_var ns = CosNaming::NamingContextExt::_narrow(ns_obj);
  if (CORBA::is_nil(ns)) throw CORBA::OBJECT_NOT_EXIST();
  CosNaming::Name_var n = ns->to_name(name);
  // Make the contexts on the way (`a/b` needs context `a`), keeping those that exist.
  for (CORBA::ULong len = 1; len < n->length(); ++len) {
    CosNaming::Name prefix(n.in());
    prefix.length(len);
    try {
      CosNaming::NamingContext_var ctx = ns->bind_new_context(prefix);
    } catch (CosNaming::NamingContext::AlreadyBound&) {
    }
  }
  ns->rebind(n, obj);
}

int main(int argc, char** argv) {
  try {
    CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
    const char* ior_file = 0;
    const char* bind_name = 0;
    for (int i = 1; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--ior-file") && i + 1 < argc) {
        ior_file = argv[++i];
      } else if (!std::strcmp(argv[i], "--bind") && i + 1 < argc) {
        bind_name = argv[++i];
      } else {
        std::cerr << "interop_server: unexpected argument " << argv[i] << std::endl;
        return 2;
      }
    }
    CORBA::Object_var poa_obj = orb->resolve_initial_references("RootPOA");
    PortableServer::POA_var poa = PortableServer::POA::_narrow(poa_obj);
    TesterImpl* tester = new TesterImpl(poa);
    PortableServer::ObjectId_var oid = poa->activate_object(tester);
    tester->_remove_ref();
    CORBA::Object_var obj = poa->id_to_reference(oid);
    CORBA::String_var ior = orb->object_to_string(obj);
    PortableServer::POAManager_var manager = poa->the_POAManager();
    manager->activate();
    if (bind_name) bind(orb, obj, bind_name);
    if (ior_file) {
      std::ofstream f(ior_file);
      f << ior << std::endl;
    }
    std::cout << ior << std::endl;
    orb->run();
    orb->destroy();
  } catch (CORBA::SystemException& e) {
    std::cerr << "interop_server: " << e._name() << " minor 0x" << std::hex
              << e.minor() << std::endl;
    return 1;
  } catch (CORBA::Exception& e) {
    std::cerr << "interop_server: " << e._name() << std::endl;
    return 1;
  }
  return 0;
}
