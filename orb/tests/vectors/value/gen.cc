// Marshals sample value graphs with omniORB into files of raw CDR (native byte order, the
// stream's first octet the alignment origin), and reads such a file back: the fixture
// generator for orb/src/cdr/value/omniorb/ (see its README.md).
#include <omniORB4/CORBA.h>
#include <omniORB4/cdrStream.h>
#include "values.hh"
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <vector>

struct NodeFactory : public samples::Node_init {
  CORBA::ValueBase* create_for_unmarshal() { return new OBV_samples::Node(); }
};
struct BaseFactory : public samples::Base_init {
  CORBA::ValueBase* create_for_unmarshal() { return new OBV_samples::Base(); }
};
struct DerivedFactory : public samples::Derived_init {
  CORBA::ValueBase* create_for_unmarshal() { return new OBV_samples::Derived(); }
};

static void dump(const char* path, cdrMemoryStream& s) {
  std::ofstream out(path, std::ios::binary);
  out.write((const char*)s.bufPtr(), s.bufSize());
}

static void print(CORBA::ValueBase* v, std::vector<CORBA::ValueBase*>& seen, int depth) {
  for (int i = 0; i < depth; i++) std::cout << "  ";
  if (!v) { std::cout << "null\n"; return; }
  for (size_t i = 0; i < seen.size(); i++)
    if (seen[i] == v) { std::cout << "shared #" << i << "\n"; return; }
  seen.push_back(v);
  if (samples::Node* n = samples::Node::_downcast(v)) {
    std::cout << "#" << seen.size() - 1 << " Node " << n->label() << " " << n->value() << "\n";
    print(n->left(), seen, depth + 1);
    print(n->right(), seen, depth + 1);
    print(n->other(), seen, depth + 1);
  } else if (samples::Derived* d = samples::Derived::_downcast(v)) {
    std::cout << "#" << seen.size() - 1 << " Derived " << d->x() << " " << d->extra() << "\n";
    print(d->child(), seen, depth + 1);
  } else if (samples::Base* b = samples::Base::_downcast(v)) {
    std::cout << "#" << seen.size() - 1 << " Base " << b->x() << "\n";
  } else if (samples::NameBox* b = samples::NameBox::_downcast(v)) {
    std::cout << "#" << seen.size() - 1 << " NameBox " << b->_value() << "\n";
  } else {
    std::cout << "#" << seen.size() - 1 << " ?\n";
  }
}

int main(int argc, char** argv) {
  CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
  if (argc == 3 && (!strcmp(argv[1], "read") || !strcmp(argv[1], "read-base"))) {
    // Reads a Node-typed value written by rtorb; with "read-base" Derived is not registered.
    orb->register_value_factory("IDL:samples/Node:1.0", new NodeFactory);
    orb->register_value_factory("IDL:samples/Base:1.0", new BaseFactory);
    if (!strcmp(argv[1], "read"))
      orb->register_value_factory("IDL:samples/Derived:1.0", new DerivedFactory);
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    cdrMemoryStream s;
    s.put_octet_array((const CORBA::Octet*)bytes.data(), bytes.size());
    cdrMemoryStream r(s, 1);
    samples::Node* n = samples::Node::_NP_unmarshal(r);
    std::vector<CORBA::ValueBase*> seen;
    print(n, seen, 0);
    return 0;
  }
  // One value of its formal type: omniORB sends no repository id.
  {
    OBV_samples::Node* one = new OBV_samples::Node("one", 1, 0, 0, 0);
    cdrMemoryStream s;
    samples::Node::_NP_marshal(one, s);
    dump("one.cdr", s);
  }
  // p <-> q: the second visit of p is an indirection.
  {
    OBV_samples::Node* p = new OBV_samples::Node("p", 1, 0, 0, 0);
    OBV_samples::Node* q = new OBV_samples::Node("q", 2, p, 0, 0);
    p->right(q);
    cdrMemoryStream s;
    samples::Node::_NP_marshal(p, s);
    dump("cycle.cdr", s);
  }
  // A truncatable value where its base is the formal type: chunked, with the id list.
  {
    OBV_samples::Derived* d = new OBV_samples::Derived(3, "x", 0);
    cdrMemoryStream s;
    samples::Base::_NP_marshal(d, s);
    dump("derived.cdr", s);
  }
  // (A Node nested in the Derived's state is not here: omniORB 4.2.5 loops for ever in
  // cdrValueChunkStream::reserveOutputSpaceForPrimitiveType marshalling it into a
  // cdrMemoryStream.)
  return 0;
}
