//! The user's server as a process of its own, called by a client written against `rtorb`
//! alone: every kind of generated item works through the facade's paths.

use rtorb::Orb;
use rtorb_user_app::inventory::inventory::{
    catalog, Catalog, CatalogRef, Detail, Item, Kind, Store, StoreRef,
};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The server process, killed by its pid when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inventory-server"))
        .args(["-ORBendPoint", "giop:tcp:127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start inventory-server");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let mut ior = String::new();
    BufReader::new(stdout)
        .read_line(&mut ior)
        .expect("read the IOR");
    assert!(ior.starts_with("IOR:"), "the server printed {ior:?}");
    (server, ior.trim().to_owned())
}

#[test]
fn a_client_on_rtorb_alone_calls_a_server_on_rtorb_alone() {
    let (_server, ior) = start_server();
    let orb = Orb::init(rtorb::OrbOptions::default()).expect("client ORB");
    let obj = orb.string_to_object(&ior).expect("IOR");
    let store = StoreRef::narrow(&obj).expect("narrow").expect("a Store");

    store.set_owner("ada").expect("set owner");
    assert_eq!(store.owner().expect("owner"), "ada");
    let hammer = Item {
        name: "hammer".into(),
        sort: Kind::Tool,
        count: 3,
    };
    let bolt = Item {
        name: "bolt".into(),
        sort: Kind::Part,
        count: 500,
    };
    store
        .add(&hammer, &Detail::Maker("Stanley".into()))
        .expect("add hammer");
    store.add(&bolt, &Detail::Number(6912)).expect("add bolt");
    store.touch().expect("oneway");

    // Inherited operations, through the base interface's reference too.
    let catalog = CatalogRef::narrow(&obj)
        .expect("narrow")
        .expect("a Catalog");
    assert_eq!(catalog.size().expect("size"), 2);
    assert_eq!(catalog.list().expect("list"), vec![hammer.clone(), bolt]);
    assert_eq!(store.find("hammer").expect("find"), hammer);
    assert_eq!(
        store.describe("hammer").expect("describe").as_str(),
        Some("Stanley")
    );
    assert_eq!(
        catalog.describe("bolt").expect("describe").as_i32(),
        Some(6912)
    );
    match store.find("saw") {
        Err(catalog::FindError::Unknown(e)) => assert_eq!(e.name, "saw"),
        other => panic!("expected Unknown, got {other:?}"),
    }
}

/// The naming service through `rtorb::naming` (feature `naming`): the server's object bound
/// in a naming service, found by a client by `corbaname:`.
#[test]
fn the_object_is_found_by_name_through_the_facade() {
    use rtorb::naming::cos_naming::{NameComponent, NamingContext as _, NamingContextExtRef};
    let (_server, ior) = start_server();

    let ns_orb = Orb::init_from_args(["-ORBendPoint", "giop:tcp:127.0.0.1:0"].map(String::from))
        .expect("naming ORB")
        .0;
    let service =
        rtorb::naming::NamingService::start(&ns_orb, rtorb::naming::open_store(None).unwrap())
            .expect("naming service");
    let port = match &ns_orb.listen().expect("listen")[0] {
        rtorb::transport::Endpoint::Iiop { port, .. } => *port,
        other => panic!("listening on {other}"),
    };

    let client = Orb::init(rtorb::OrbOptions::default()).expect("client ORB");
    let root = NamingContextExtRef::unchecked_narrow(
        client
            .string_to_object(&format!("corbaloc::127.0.0.1:{port}/NameService"))
            .expect("corbaloc"),
    );
    let name = [NameComponent {
        id: "store".into(),
        kind: "inventory".into(),
    }];
    let store = client.string_to_object(&ior).expect("IOR");
    root.bind(&name, &store).expect("bind");

    let found = client
        .string_to_object(&format!("corbaname::127.0.0.1:{port}#store.inventory"))
        .expect("corbaname");
    let store = StoreRef::narrow(&found).expect("narrow").expect("a Store");
    store.set_owner("grace").expect("set owner");
    assert_eq!(store.owner().expect("owner"), "grace");
    drop(service);
    ns_orb.shutdown(true);
}
