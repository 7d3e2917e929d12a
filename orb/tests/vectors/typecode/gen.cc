// Writes the CDR of anys built by omniORB to <name>-<be|le>.cdr in the current directory.
#include <cstdio>
#include <string>
#include <omniORB4/CORBA.h>
#include "interop.hh"

static void dump(const char* name, const CORBA::Any& a, bool swap) {
  cdrMemoryStream s;
  s.setByteSwapFlag(swap);
  a >>= s;
  const unsigned char* p = (const unsigned char*)s.bufPtr();
  // Every vector is a struct: tk_struct (15) as the first ulong says the stream's order.
  const char* order = p[0] == 15 ? "le" : "be";
  std::string file = std::string(name) + "-" + order + ".cdr";
  FILE* f = std::fopen(file.c_str(), "wb");
  std::fwrite(p, 1, s.bufSize(), f);
  std::fclose(f);
  std::printf("%s %u octets\n", file.c_str(), (unsigned)s.bufSize());
}

int main(int argc, char** argv) {
  CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
  Interop::Pair pair; pair.a = 7; pair.b = CORBA::string_dup("seven");
  Interop::Node leaf1; leaf1.name = CORBA::string_dup("leaf1");
  Interop::Node leaf2; leaf2.name = CORBA::string_dup("leaf2");
  Interop::Node mid; mid.name = CORBA::string_dup("mid");
  mid.children.length(1); mid.children[0] = leaf2;
  Interop::Node root; root.name = CORBA::string_dup("root");
  root.children.length(2); root.children[0] = leaf1; root.children[1] = mid;
  Interop::Holder h; h.p1 = pair; h.p2.a = -1; h.p2.b = CORBA::string_dup("");
  h.sel.b(true); h.d.length(2); h.d[0] = 1.5; h.d[1] = -0.25;
  for (int swap = 0; swap < 2; ++swap) {
    CORBA::Any a1; a1 <<= pair; dump("pair", a1, swap);
    CORBA::Any a2; a2 <<= root; dump("node", a2, swap);
    CORBA::Any a3; a3 <<= h; dump("holder", a3, swap);
  }
  orb->destroy();
  return 0;
}
