// The omniORB ValueTester server (idl/values.idl): `values_server [-ORB...]`. Prints its IOR on
// stdout and serves until killed. Registers factories for Node and Base only, so a Derived
// that arrives is truncated to its Base, as a receiver that does not know Derived must.

#include "values.hh"

#include <iostream>

class ValueTesterImpl : public POA_Values::ValueTester {
 public:
  Values::Node* echo_node(Values::Node* n) {
    CORBA::add_ref(n);
    return n;
  }
  // Copying the sequence copies its element pointers (adding references): shared elements
  // stay one value.
  Values::NodeSeq* echo_nodes(const Values::NodeSeq& s) { return new Values::NodeSeq(s); }
  Values::Base* echo_base(Values::Base* b) {
    CORBA::add_ref(b);
    return b;
  }
  Values::Base* make_derived(CORBA::Long id) {
    // Built with the setters, which add a reference: omniORB's member-wise constructors take
    // over the caller's instead. The tail's cycle is never freed (a value lives as long as
    // references to it), which a test server does not mind.
    Values::Node_var a = new OBV_Values::Node;
    Values::Node_var b = new OBV_Values::Node;
    a->id(1);
    a->next(b);
    b->id(2);
    b->next(a);
    Values::Derived* d = new OBV_Values::Derived;
    d->id(id);
    d->label("made");
    d->note("dropped by truncation");
    d->tail(a);
    return d;
  }
  Values::LongBox* echo_long_box(Values::LongBox* b) {
    CORBA::add_ref(b);
    return b;
  }
  Values::StringBox* echo_string_box(Values::StringBox* b) {
    CORBA::add_ref(b);
    return b;
  }
  CORBA::Any* echo_any(const CORBA::Any& a) { return new CORBA::Any(a); }
  Values::Node* second(Values::Node*, Values::Node* b) {
    CORBA::add_ref(b);
    return b;
  }
  Values::Thing_ptr echo_thing(Values::Thing_ptr t) { return Values::Thing::_duplicate(t); }
  // The out argument and the result each take a reference.
  Values::Node* twice(Values::Node* n, Values::Node_out again) {
    CORBA::add_ref(n);
    again = n;
    CORBA::add_ref(n);
    return n;
  }
};

// A value type that supports an interface is left abstract by omniidl (the application
// chooses its reference counting): a ThingValue counting its own references.
class ThingValueImpl : public OBV_Values::ThingValue, public CORBA::DefaultValueRefCountBase {};

// Makes the ThingValues this server reads (what echo_thing's abstract argument may carry).
class ThingValueFactory : public CORBA::ValueFactoryBase {
 public:
  CORBA::ValueBase* create_for_unmarshal() { return new ThingValueImpl; }
};

int main(int argc, char** argv) {
  try {
    CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
    if (argc > 1) {
      std::cerr << "values_server: unexpected argument " << argv[1] << std::endl;
      return 2;
    }
    Values::Node_init* node_factory = new Values::Node_init;
    orb->register_value_factory(Values::Node::_PD_repoId, node_factory);
    node_factory->_remove_ref();
    Values::Base_init* base_factory = new Values::Base_init;
    orb->register_value_factory(Values::Base::_PD_repoId, base_factory);
    base_factory->_remove_ref();
    // A value type that supports an interface gets no default factory from omniidl.
    ThingValueFactory* thing_factory = new ThingValueFactory;
    orb->register_value_factory(Values::ThingValue::_PD_repoId, thing_factory);
    thing_factory->_remove_ref();

    CORBA::Object_var poa_obj = orb->resolve_initial_references("RootPOA");
    PortableServer::POA_var poa = PortableServer::POA::_narrow(poa_obj);
    ValueTesterImpl* tester = new ValueTesterImpl;
    PortableServer::ObjectId_var oid = poa->activate_object(tester);
    tester->_remove_ref();
    CORBA::Object_var obj = poa->id_to_reference(oid);
    CORBA::String_var ior = orb->object_to_string(obj);
    PortableServer::POAManager_var manager = poa->the_POAManager();
    manager->activate();
    std::cout << ior << std::endl;
    orb->run();
    orb->destroy();
  } catch (CORBA::SystemException& e) {
    std::cerr << "values_server: " << e._name() << " minor 0x" << std::hex << e.minor()
              << std::endl;
    return 1;
  } catch (CORBA::Exception& e) {
    std::cerr << "values_server: " << e._name() << std::endl;
    return 1;
  }
  return 0;
}
