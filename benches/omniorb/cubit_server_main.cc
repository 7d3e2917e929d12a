// omniORB's cubit server as a process of its own, for the benches that call omniORB over TCP
// loopback (benches/benches/cubit.rs, benches/src/bin/cubit_latency.rs): an omniORB client in
// the same process as this servant would be collocated and never touch a socket.
//
//   cubit_server [PORT [-ORBname value ...]]
//
// Listens on 127.0.0.1:PORT (default 0: a free port), prints the servant's stringified IOR on
// one line of stdout, then serves until stdin closes (or it is killed); exits 0 after a clean
// shutdown, 1 on any failure. The options after the port go to omniORB: without any it serves
// with its default model, a thread per connection; `-ORBthreadPerConnectionPolicy 0` makes it
// serve from its thread pool.

#include "cubit_servant.h"

#include <stdio.h>
#include <stdlib.h>

#include <vector>

int main(int argc, char** argv) {
  unsigned port = 0;
  if (argc > 1) {
    char* end = 0;
    unsigned long p = strtoul(argv[1], &end, 10);
    if (*end != '\0' || p > 65535) {
      fprintf(stderr, "usage: %s [PORT [-ORBname value ...]]\n", argv[0]);
      return 1;
    }
    port = static_cast<unsigned>(p);
  }
  // omniORB reads options from argv[1] on: the program name, then what follows the port.
  std::vector<char*> orb_argv(1, argv[0]);
  for (int i = 2; i < argc; i++) orb_argv.push_back(argv[i]);
  int orb_argc = static_cast<int>(orb_argv.size());
  try {
    CORBA::ORB_var orb = rtorb_cubit::init_orb(port, orb_argc, orb_argv.data());
    if (orb_argc > 1) {
      fprintf(stderr, "cubit_server: %s is not an omniORB option (-ORBname value)\n",
              orb_argv[1]);
      orb->destroy();
      return 1;
    }
    {
      rtorb_cubit::Served served;
      rtorb_cubit::serve(orb, served);
      CORBA::String_var ior = orb->object_to_string(served.ref);
      printf("%s\n", static_cast<const char*>(ior));
      fflush(stdout);
      // omniORB's own threads serve; this one only waits for the end of stdin.
      while (getchar() != EOF) {
      }
    }
    orb->destroy();
    return 0;
  } catch (CORBA::SystemException& e) {
    fprintf(stderr, "cubit_server: %s (minor %lu)\n", e._name(),
            static_cast<unsigned long>(e.minor()));
  } catch (CORBA::Exception& e) {
    fprintf(stderr, "cubit_server: %s\n", e._name());
  } catch (...) {
    fprintf(stderr, "cubit_server: unknown exception\n");
  }
  return 1;
}
