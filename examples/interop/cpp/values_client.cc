// The omniORB ValueTester client (idl/values.idl): `values_client IOR [-ORB...]`. Calls every
// operation and checks each result as tests/values.rs's Rust client does: graphs come back as
// graphs (a shared node is one value, a cycle closes), a Derived comes back as its Base, boxes
// and nulls unchanged. Prints `N/N ops ok`, or names each failed check and exits 1. Registers
// factories for Node and Base only: it knows no Derived, so one that arrives is truncated.

#include "values.hh"

#include <iostream>
#include <string>

static int checked = 0;
static int failed = 0;

static void check(const char* op, bool ok, const std::string& why) {
  ++checked;
  if (!ok) {
    ++failed;
    std::cout << "FAILED " << op << ": " << why << std::endl;
  }
}

// Runs `body`, which checks the result; a CORBA exception is a failure naming the op.
#define CALL(op, body)                                              \
  do {                                                              \
    try {                                                           \
      body;                                                         \
    } catch (CORBA::Exception & e_) {                               \
      check(op, false, std::string("raised ") + e_._name());        \
    }                                                               \
  } while (0)

// A new node. Built with the setters, which add a reference to `next`: omniORB's member-wise
// constructor takes over the caller's reference instead.
static Values::Node* node(CORBA::Long id, Values::Node* next) {
  Values::Node* n = new OBV_Values::Node;
  n->id(id);
  n->next(next);
  return n;
}

// 1 -> 2 -> 3 -> back to 2: node 2 is shared (by 1 and 3) and closes a cycle. (Cycles are
// never freed: a value lives as long as references to it, and this client is short-lived.)
static Values::Node* cyclic_chain() {
  Values::Node_var n3 = node(3, 0);
  Values::Node_var n2 = node(2, n3);
  n3->next(n2);
  return node(1, n2);
}

static bool is_cyclic_chain(Values::Node* n) {
  return n && n->id() == 1 && n->next() && n->next()->id() == 2 && n->next()->next() &&
         n->next()->next()->id() == 3 && n->next()->next()->next() == n->next();
}

static void check_all(Values::ValueTester_ptr t) {
  CALL("echo_node", {
    Values::Node_var sent = cyclic_chain();
    Values::Node_var got = t->echo_node(sent);
    check("echo_node", got.in() != sent.in() && is_cyclic_chain(got),
          "the chain 1 -> 2 -> 3 -> 2 did not come back as that graph");
  });
  CALL("echo_node null", {
    Values::Node_var got = t->echo_node(0);
    check("echo_node null", got.in() == 0, "a null node came back non-null");
  });
  CALL("echo_nodes", {
    // [x, y, x, null] with x -> y -> x.
    Values::Node_var x = node(10, 0);
    Values::Node_var y = node(20, x);
    x->next(y);
    Values::NodeSeq s;
    s.length(4);
    s[0] = x;
    s[1] = y;
    s[2] = x;
    s[3] = (Values::Node*)0;
    Values::NodeSeq_var got = t->echo_nodes(s);
    bool ok = got->length() == 4 && got[0].in() && got[0]->id() == 10 && got[1].in() &&
              got[1]->id() == 20 && got[0].in() == got[2].in() &&
              got[0]->next() == got[1].in() && got[1]->next() == got[0].in() &&
              got[3].in() == 0;
    check("echo_nodes", ok, "[x, y, x, null] with x -> y -> x did not come back as that graph");
  });
  CALL("echo_base", {
    Values::Node_var tail = cyclic_chain();
    Values::Derived* d = new OBV_Values::Derived;
    d->id(7);
    d->label("seven");
    d->note("dropped by truncation");
    d->tail(tail);
    Values::Base_var sent = d;
    Values::Base_var got = t->echo_base(sent);
    bool ok = got.in() && got->id() == 7 && std::string(got->label()) == "seven" &&
              !Values::Derived::_downcast(got.in());
    check("echo_base", ok, "a Derived did not come back as its Base (7, \"seven\")");
  });
  CALL("make_derived", {
    Values::Base_var got = t->make_derived(42);
    bool ok = got.in() && got->id() == 42 && std::string(got->label()) == "made" &&
              !Values::Derived::_downcast(got.in());
    check("make_derived", ok, "the Derived made was not read as its Base (42, \"made\")");
  });
  CALL("echo_long_box", {
    Values::LongBox_var sent = new Values::LongBox(-123456);
    Values::LongBox_var got = t->echo_long_box(sent);
    check("echo_long_box", got.in() && got->_value() == -123456, "LongBox(-123456) changed");
  });
  CALL("echo_long_box null", {
    Values::LongBox_var got = t->echo_long_box(0);
    check("echo_long_box null", got.in() == 0, "a null LongBox came back non-null");
  });
  CALL("echo_string_box", {
    Values::StringBox_var sent = new Values::StringBox("boxed text");
    Values::StringBox_var got = t->echo_string_box(sent);
    check("echo_string_box", got.in() && std::string(got->_value()) == "boxed text",
          "StringBox(\"boxed text\") changed");
  });
  CALL("echo_string_box null", {
    Values::StringBox_var got = t->echo_string_box(0);
    check("echo_string_box null", got.in() == 0, "a null StringBox came back non-null");
  });
  CALL("echo_any", {
    Values::Node_var sent = cyclic_chain();
    CORBA::Any a;
    a <<= sent.in();
    CORBA::Any_var got = t->echo_any(a);
    Values::Node* n = 0;
    bool ok = (got.in() >>= n) && is_cyclic_chain(n);
    check("echo_any", ok, "an any holding the chain 1 -> 2 -> 3 -> 2 did not come back so");
  });
  CALL("echo_any null", {
    CORBA::Any a;
    a <<= (Values::Node*)0;
    CORBA::Any_var got = t->echo_any(a);
    Values::Node* n = (Values::Node*)1;
    bool ok = (got.in() >>= n) && n == 0;
    check("echo_any null", ok, "an any holding a null Node did not come back so");
  });
  CALL("second", {
    Values::Node_var n = cyclic_chain();
    Values::Node_var got = t->second(n, n);
    check("second", is_cyclic_chain(got),
          "one chain passed as both arguments did not come back as the second");
  });
  CALL("second of two", {
    Values::Node_var n = cyclic_chain();
    Values::Node_var m = node(9, 0);
    Values::Node_var got = t->second(n, m);
    check("second of two", got.in() && got->id() == 9 && !got->next(),
          "the second of two nodes did not come back");
  });
  CALL("twice", {
    Values::Node_var n = cyclic_chain();
    Values::Node_var again;
    Values::Node_var got = t->twice(n, again.out());
    check("twice", is_cyclic_chain(got) && is_cyclic_chain(again),
          "the chain did not come back as both the result and the out argument");
  });
  CALL("echo_thing", {
    Values::Thing_var got = t->echo_thing(t);
    CORBA::Object_var o = got.in() ? got->_to_object() : CORBA::Object::_nil();
    check("echo_thing", !CORBA::is_nil(o) && o->_is_equivalent(t),
          "the tester's own reference, as a Thing, did not come back as that reference");
  });
  CALL("echo_thing nil", {
    Values::Thing_var got = t->echo_thing(Values::Thing::_nil());
    check("echo_thing nil", CORBA::is_nil(got.in()), "a nil Thing came back non-nil");
  });
}

int main(int argc, char** argv) {
  try {
    CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
    if (argc != 2) {
      std::cerr << "usage: values_client IOR [-ORB...]" << std::endl;
      return 2;
    }
    Values::Node_init* node_factory = new Values::Node_init;
    orb->register_value_factory(Values::Node::_PD_repoId, node_factory);
    node_factory->_remove_ref();
    Values::Base_init* base_factory = new Values::Base_init;
    orb->register_value_factory(Values::Base::_PD_repoId, base_factory);
    base_factory->_remove_ref();

    CORBA::Object_var obj = orb->string_to_object(argv[1]);
    Values::ValueTester_var t = Values::ValueTester::_narrow(obj);
    if (CORBA::is_nil(t)) {
      std::cerr << "values_client: " << argv[1] << " is not a ValueTester" << std::endl;
      return 1;
    }
    check_all(t);
    orb->destroy();
  } catch (CORBA::SystemException& e) {
    std::cerr << "values_client: " << e._name() << " minor 0x" << std::hex << e.minor()
              << std::endl;
    return 1;
  } catch (CORBA::Exception& e) {
    std::cerr << "values_client: " << e._name() << std::endl;
    return 1;
  }
  std::cout << (checked - failed) << "/" << checked << " ops ok" << std::endl;
  return failed ? 1 : 0;
}
