//! Generates the demux benchmark's interfaces: 1, 5, 10, 20 and 50 operations, each compiled
//! with every demux strategy into `$OUT_DIR/<strategy>/ops<N>.rs`.

use std::path::PathBuf;

/// Operation names shaped like real ones (CosNaming, CosEvent, the design's examples), of
/// varied lengths, made distinct by a counter.
const WORDS: &[&str] = &[
    "resolve",
    "bind_new_context",
    "push",
    "list",
    "connect_push_supplier",
    "get_balance",
    "unbind",
    "obtain_push_consumer",
    "cube_long",
    "to_name",
    "destroy",
    "send_event_batch",
];

/// The operation names of the interface with `n` operations; the benchmark looks up these.
pub fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{}_{i}", WORDS[i % WORDS.len()]))
        .collect()
}

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let idl_dir = out.join("idl");
    std::fs::create_dir_all(&idl_dir).expect("create idl dir");
    let mut files = Vec::new();
    for n in [1usize, 5, 10, 20, 50] {
        let mut idl = format!("interface Ops{n} {{\n");
        for name in names(n) {
            idl.push_str(&format!("  long {name}(in long a);\n"));
        }
        idl.push_str("};\n");
        let path = idl_dir.join(format!("ops{n}.idl"));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(idl.as_str()) {
            std::fs::write(&path, idl).expect("write idl");
        }
        files.push(path);
    }
    for demux in idlc::Demux::ALL {
        idlc::Builder::new()
            .demux(demux)
            .out_dir(out.join(demux.name()))
            .compile(&files)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    println!("cargo:rerun-if-changed=build.rs");
}
