// An omniORB supplier of TAO's real-time event channel, built with omniidl from the
// workspace's idl/Rtec*.idl: `rtec_supplier CHANNEL TYPE:SOURCE[,TYPE:SOURCE...] COUNT [-ORB...]`.
// Connects a push supplier (publishing the given type/source pairs), pushes COUNT events
// cycling through the pairs — event i carries pad1 = i, a payload of i % 17 octets valued
// (i + k) % 256, and an any holding the long i — then disconnects and prints `pushed COUNT`.
// Whatever CORBA raises is printed and the exit status is 1.

#include "RtecEventChannelAdmin.hh"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

static std::vector<std::pair<CORBA::Long, CORBA::Long> > parse_pairs(const std::string& arg) {
  std::vector<std::pair<CORBA::Long, CORBA::Long> > out;
  std::stringstream ss(arg);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::string::size_type colon = item.find(':');
    if (colon == std::string::npos) {
      std::cerr << "rtec_supplier: " << item << " is not TYPE:SOURCE\n";
      std::exit(2);
    }
    out.push_back(std::make_pair((CORBA::Long)std::atol(item.substr(0, colon).c_str()),
                                 (CORBA::Long)std::atol(item.substr(colon + 1).c_str())));
  }
  return out;
}

int main(int argc, char** argv) {
  try {
    CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
    if (argc != 4) {
      std::cerr << "usage: rtec_supplier CHANNEL TYPE:SOURCE[,...] COUNT [-ORB...]\n";
      return 2;
    }
    std::vector<std::pair<CORBA::Long, CORBA::Long> > pairs = parse_pairs(argv[2]);
    CORBA::ULong count = (CORBA::ULong)std::atol(argv[3]);

    CORBA::Object_var obj = orb->string_to_object(argv[1]);
    RtecEventChannelAdmin::EventChannel_var ec =
        RtecEventChannelAdmin::EventChannel::_narrow(obj);
    RtecEventChannelAdmin::SupplierAdmin_var admin = ec->for_suppliers();
    RtecEventChannelAdmin::ProxyPushConsumer_var proxy = admin->obtain_push_consumer();

    RtecEventChannelAdmin::SupplierQOS qos;
    qos.is_gateway = 0;
    qos.publications.length(pairs.size());
    for (CORBA::ULong k = 0; k < pairs.size(); ++k) {
      RtecEventComm::EventHeader& h = qos.publications[k].event.header;
      h.type = pairs[k].first;
      h.source = pairs[k].second;
      h.ttl = 1;
      h.creation_time = 0;
      h.ec_recv_time = 0;
      h.ec_send_time = 0;
      qos.publications[k].event.data.pad1 = 0;
      RtecBase::Dependency_Info& d = qos.publications[k].dependency_info;
      d.dependency_type = RtecBase::TWO_WAY_CALL;
      d.number_of_calls = 1;
      d.rt_info = 0;
      d.rt_info_depended_on = 0;
      d.enabled = RtecBase::DEPENDENCY_ENABLED;
    }
    proxy->connect_push_supplier(RtecEventComm::PushSupplier::_nil(), qos);

    for (CORBA::ULong i = 0; i < count; ++i) {
      RtecEventComm::EventSet events;
      events.length(1);
      RtecEventComm::Event& e = events[0];
      const std::pair<CORBA::Long, CORBA::Long>& p = pairs[i % pairs.size()];
      e.header.type = p.first;
      e.header.source = p.second;
      e.header.ttl = 1;
      e.header.creation_time = 0;
      e.header.ec_recv_time = 0;
      e.header.ec_send_time = 0;
      e.data.pad1 = (CORBA::Long)i;
      e.data.payload.length(i % 17);
      for (CORBA::ULong k = 0; k < i % 17; ++k) e.data.payload[k] = (CORBA::Octet)((i + k) % 256);
      e.data.any_value <<= (CORBA::Long)i;
      proxy->push(events);
    }
    proxy->disconnect_push_consumer();
    std::cout << "pushed " << count << std::endl;
    orb->destroy();
    return 0;
  } catch (const CORBA::Exception& ex) {
    std::cout << "rtec_supplier: CORBA exception " << ex._name() << std::endl;
    return 1;
  }
}
