// An omniORB consumer of TAO's real-time event channel, built with omniidl from the
// workspace's idl/Rtec*.idl: `rtec_consumer CHANNEL TYPE:SOURCE COUNT [-ORB...]`.
// Connects a push consumer whose ConsumerQOS depends on TYPE from SOURCE (0 is TAO's
// wildcard), prints `connected`, and waits (30 s at most) for COUNT events. Each event must
// be of the subscribed type and source (unless wildcarded) and carry what rtec_supplier puts
// in event pad1: a payload of pad1 % 17 octets valued (pad1 + k) % 256 and an any holding
// pad1. Prints `received N`, one line per event (`event TYPE SOURCE PAD1`) and any mismatch,
// then disconnects; exits 0 only if COUNT well-formed events of the right kind arrived.

#include "RtecEventChannelAdmin.hh"

#include <omnithread.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

class Consumer : public POA_RtecEventComm::PushConsumer {
 public:
  Consumer(CORBA::Long type, CORBA::Long source, CORBA::ULong expected)
      : type_(type), source_(source), expected_(expected), cond_(&mutex_), bad_(0),
        disconnected_(0) {}

  void push(const RtecEventComm::EventSet& data) {
    omni_mutex_lock lock(mutex_);
    for (CORBA::ULong i = 0; i < data.length(); ++i) {
      const RtecEventComm::Event& e = data[i];
      std::ostringstream line;
      line << "event " << e.header.type << " " << e.header.source << " " << e.data.pad1;
      CORBA::Long pad1 = e.data.pad1;
      CORBA::Long held = -1;
      bool ok = (type_ == 0 || e.header.type == type_) &&
                (source_ == 0 || e.header.source == source_) &&
                e.data.payload.length() == (CORBA::ULong)(pad1 % 17) &&
                (e.data.any_value >>= held) && held == pad1;
      for (CORBA::ULong k = 0; ok && k < e.data.payload.length(); ++k)
        ok = e.data.payload[k] == (CORBA::Octet)((pad1 + k) % 256);
      if (!ok) {
        ++bad_;
        line << " MISMATCH";
      }
      lines_.push_back(line.str());
    }
    cond_.broadcast();
  }

  void disconnect_push_consumer() {
    omni_mutex_lock lock(mutex_);
    disconnected_ = 1;
    cond_.broadcast();
  }

  // Waits for the expected count (or the channel's disconnect); false on time-out.
  bool wait(unsigned long seconds) {
    omni_mutex_lock lock(mutex_);
    unsigned long s, ns;
    omni_thread::get_time(&s, &ns, seconds, 0);
    while (lines_.size() < expected_ && !disconnected_) {
      if (!cond_.timedwait(s, ns)) return false;
    }
    return lines_.size() >= expected_;
  }

  void report() {
    omni_mutex_lock lock(mutex_);
    std::cout << "received " << lines_.size() << std::endl;
    for (size_t i = 0; i < lines_.size(); ++i) std::cout << lines_[i] << std::endl;
  }

  bool good() {
    omni_mutex_lock lock(mutex_);
    return bad_ == 0 && lines_.size() == expected_;
  }

 private:
  CORBA::Long type_, source_;
  CORBA::ULong expected_;
  omni_mutex mutex_;
  omni_condition cond_;
  std::vector<std::string> lines_;
  int bad_;
  int disconnected_;
};

int main(int argc, char** argv) {
  try {
    CORBA::ORB_var orb = CORBA::ORB_init(argc, argv);
    if (argc != 4) {
      std::cerr << "usage: rtec_consumer CHANNEL TYPE:SOURCE COUNT [-ORB...]\n";
      return 2;
    }
    std::string pair(argv[2]);
    std::string::size_type colon = pair.find(':');
    if (colon == std::string::npos) {
      std::cerr << "rtec_consumer: " << pair << " is not TYPE:SOURCE\n";
      return 2;
    }
    CORBA::Long type = (CORBA::Long)std::atol(pair.substr(0, colon).c_str());
    CORBA::Long source = (CORBA::Long)std::atol(pair.substr(colon + 1).c_str());
    CORBA::ULong count = (CORBA::ULong)std::atol(argv[3]);

    CORBA::Object_var root = orb->resolve_initial_references("RootPOA");
    PortableServer::POA_var poa = PortableServer::POA::_narrow(root);
    PortableServer::POAManager_var manager = poa->the_POAManager();
    manager->activate();

    Consumer* servant = new Consumer(type, source, count);
    PortableServer::ObjectId_var id = poa->activate_object(servant);
    CORBA::Object_var self = poa->id_to_reference(id);
    RtecEventComm::PushConsumer_var consumer = RtecEventComm::PushConsumer::_narrow(self);

    CORBA::Object_var obj = orb->string_to_object(argv[1]);
    RtecEventChannelAdmin::EventChannel_var ec =
        RtecEventChannelAdmin::EventChannel::_narrow(obj);
    RtecEventChannelAdmin::ConsumerAdmin_var admin = ec->for_consumers();
    RtecEventChannelAdmin::ProxyPushSupplier_var proxy = admin->obtain_push_supplier();

    RtecEventChannelAdmin::ConsumerQOS qos;
    qos.is_gateway = 0;
    qos.dependencies.length(1);
    RtecEventComm::EventHeader& h = qos.dependencies[0].event.header;
    h.type = type;
    h.source = source;
    h.ttl = 0;
    h.creation_time = 0;
    h.ec_recv_time = 0;
    h.ec_send_time = 0;
    qos.dependencies[0].event.data.pad1 = 0;
    qos.dependencies[0].rt_info = 0;
    proxy->connect_push_consumer(consumer, qos);
    std::cout << "connected" << std::endl;

    bool arrived = servant->wait(30);
    servant->report();
    proxy->disconnect_push_supplier();
    bool good = arrived && servant->good();
    servant->_remove_ref();
    orb->destroy();
    return good ? 0 : 1;
  } catch (const CORBA::Exception& ex) {
    std::cout << "rtec_consumer: CORBA exception " << ex._name() << std::endl;
    return 1;
  }
}
