// omniORB's cubit server as a process of its own, for the benches that call omniORB over TCP
// loopback (benches/benches/cubit.rs, benches/src/bin/cubit_latency.rs): an omniORB client in
// the same process as this servant would be collocated and never touch a socket.
//
//   cubit_server [PORT]
//
// Listens on 127.0.0.1:PORT (default 0: a free port), prints the servant's stringified IOR on
// one line of stdout, then serves with omniORB's default thread-per-connection model until
// stdin closes (or it is killed); exits 0 after a clean shutdown, 1 on any failure.

#include "cubit_servant.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  unsigned port = 0;
  if (argc > 1) {
    char* end = 0;
    unsigned long p = strtoul(argv[1], &end, 10);
    if (*end != '\0' || p > 65535) {
      fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
      return 1;
    }
    port = static_cast<unsigned>(p);
  }
  try {
    CORBA::ORB_var orb = rtorb_cubit::init_orb(port);
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
