//! Objects by value between rtorb and omniORB 4.2.5 (`idl/values.idl`), both ways, in GIOP
//! 1.0, 1.1 and 1.2, through rtorb's dynamic interfaces (`rtorb_interop::values`): rtorb's DII
//! client against omniORB's server (`cpp/values_server.cc`), omniORB's client
//! (`cpp/values_client.cc`) against an rtorb DSI servant, and rtorb against itself. Each
//! client checks that graphs (a shared node, cycles) come back as graphs, that a truncatable
//! `Derived` reaches a receiver that knows only `Base` as its `Base`, and that boxes and nulls
//! round-trip; and what omniORB sends for a large graph (a shared node written twice). omniORB
//! processes are killed by pid when their guard drops.

mod common;
use common::{client, server};

use orb::dynamic::Request;
use orb::typecode::Any;
use orb::{Orb, OrbOptions};
use rtorb_interop::values::{
    chains, check_values, graph_of, instance_count, node_seq_tc, ValuesDsi,
};

const CXX_SERVER: &str = env!("VALUES_CXX_SERVER");
const CXX_CLIENT: &str = env!("VALUES_CXX_CLIENT");

const VERSIONS: [&str; 3] = ["1.0", "1.1", "1.2"];

/// The Rust DII client's checks against the server at `ior`, in each GIOP version: the
/// summaries of those that failed.
fn dii_failures(ior: &str) -> Vec<String> {
    VERSIONS
        .iter()
        .filter_map(|v| {
            let (orb, _) = Orb::init_from_args(["-ORBmaxGIOPVersion".to_owned(), v.to_string()])
                .expect("client ORB");
            let target = orb.string_to_object(ior).expect("the server's IOR");
            let report = check_values(&target);
            orb.shutdown(true);
            let summary = report.summary();
            println!("GIOP {v}: {summary}");
            (summary != "15/15 ops ok").then(|| format!("GIOP {v}: {summary}"))
        })
        .collect()
}

/// An rtorb ORB serving [`ValuesDsi`], and its IOR.
fn dsi_server() -> (Orb, String) {
    let orb = Orb::init(OrbOptions::default()).expect("server ORB");
    let obj = orb
        .activate(&orb.root_poa(), orb::dynamic::dynamic_servant(ValuesDsi))
        .expect("activate the DSI servant");
    let ior = orb.object_to_string(&obj).expect("its IOR");
    (orb, ior)
}

#[test]
fn rust_dii_sends_values_to_the_omniorb_server_in_giop_1_0_1_1_1_2() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    let failures = dii_failures(&ior);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn omniorb_client_sends_values_to_a_rust_dsi_servant_in_giop_1_0_1_1_1_2() {
    let (orb, ior) = dsi_server();
    let failures: Vec<String> = VERSIONS
        .iter()
        .filter_map(|v| {
            let (ok, out) = client(CXX_CLIENT, &[&ior, "-ORBmaxGIOPVersion", v]);
            println!("GIOP {v}: {out}");
            (!(ok && out == "16/16 ops ok")).then(|| format!("GIOP {v}: {out}"))
        })
        .collect();
    orb.shutdown(true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// DII and DSI agree with each other as they do with omniORB.
#[test]
fn rust_dii_sends_values_to_the_rust_dsi_servant_in_giop_1_0_1_1_1_2() {
    let (orb, ior) = dsi_server();
    let failures = dii_failures(&ior);
    orb.shutdown(true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `echo_nodes` of [`chains`]`(n)` for each `n`, by DII: how many value instances came back.
fn echoed_instances(ior: &str, sizes: &[u32]) -> Vec<usize> {
    let (orb, _) = Orb::init_from_args(Vec::<String>::new()).expect("client ORB");
    let target = orb.string_to_object(ior).expect("the server's IOR");
    let counts = sizes
        .iter()
        .map(|&n| {
            let mut req = Request::new(&target, "echo_nodes");
            req.add_in_arg(Any::new(node_seq_tc(), chains(n)).expect("a NodeSeq"))
                .set_return_type(node_seq_tc());
            let reply = req.invoke().expect("echo_nodes");
            if instance_count(reply.result.value()) == n as usize {
                // Same count: then exactly the graph.
                assert_eq!(
                    graph_of(reply.result.value()),
                    graph_of(&chains(n)),
                    "{n} nodes"
                );
            }
            instance_count(reply.result.value())
        })
        .collect();
    orb.shutdown(true);
    counts
}

/// What omniORB 4.2.5 sends for a graph of more than 80-odd values: its indirection tracker
/// misses a node it has already written and writes it again, so the graph comes back with a
/// shared node copied (the values bench sees the same in a `cdrMemoryStream`). rtorb reads
/// what is sent; the Rust server keeps every shared node (next test).
#[test]
fn omniorb_wire_writes_a_shared_node_again_in_a_large_graph() {
    let (_server, ior) = server(CXX_SERVER, &[]);
    assert_eq!(echoed_instances(&ior, &[80, 100, 1000]), [80, 101, 1002]);
}

#[test]
fn rust_dsi_echoes_a_thousand_node_graph_exactly() {
    let (orb, ior) = dsi_server();
    let counts = echoed_instances(&ior, &[80, 100, 1000]);
    orb.shutdown(true);
    assert_eq!(counts, [80, 100, 1000]);
}
