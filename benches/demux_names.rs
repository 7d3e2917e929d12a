// The demux benchmark's operation names, included by `build.rs` (which generates the
// interfaces) and by `benches/demux.rs` (which looks them up), so the two cannot drift apart.

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

/// The operation names of the interface with `n` operations.
fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{}_{i}", WORDS[i % WORDS.len()]))
        .collect()
}
