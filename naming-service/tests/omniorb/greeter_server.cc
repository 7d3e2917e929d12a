// An omniORB C++ server for tests/omniorb.rs: it activates one Greeter, binds it in the
// naming service given as -ORBInitRef NameService=... under the INS name argv[1] (whose
// leading contexts must exist), prints "READY" and serves until killed.
#include "greeter.hh"

#include <iostream>
#include <string>

class Greeter_i : public POA_Greeter {
 public:
  char* greet(const char* who) {
    std::string s = std::string("Hello, ") + who + ", from omniORB";
    return CORBA::string_dup(s.c_str());
  }
};

int main(int argc, char** argv) {
  try {
    CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
    if (argc != 2) {
      std::cerr << "usage: greeter_server [-ORB...] NAME" << std::endl;
      return 2;
    }
    CORBA::Object_var obj = orb->resolve_initial_references("RootPOA");
    PortableServer::POA_var poa = PortableServer::POA::_narrow(obj);
    PortableServer::Servant_var<Greeter_i> servant = new Greeter_i();
    PortableServer::ObjectId_var id = poa->activate_object(servant);
    CORBA::Object_var ref = poa->id_to_reference(id);
    poa->the_POAManager()->activate();

    // _narrow asks the service (_is_a), to_name parses there: both go through our servant.
    obj = orb->resolve_initial_references("NameService");
    CosNaming::NamingContextExt_var ns = CosNaming::NamingContextExt::_narrow(obj);
    if (CORBA::is_nil(ns)) {
      std::cerr << "NameService is not a NamingContextExt" << std::endl;
      return 1;
    }
    CosNaming::Name_var name = ns->to_name(argv[1]);
    ns->rebind(name, ref);

    std::cout << "READY" << std::endl;
    orb->run();
  } catch (CosNaming::NamingContext::NotFound&) {
    std::cerr << "greeter_server: NotFound" << std::endl;
    return 1;
  } catch (CORBA::Exception& e) {
    std::cerr << "greeter_server: " << e._name() << std::endl;
    return 1;
  }
  return 0;
}
