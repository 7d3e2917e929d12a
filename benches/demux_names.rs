// The demux benchmark's interface sizes and operation names, included by `build.rs` (which
// generates the interfaces) and by `src/op_demux.rs` (which looks them up), so the two cannot
// drift apart.

/// The numbers of operations of the generated interfaces `Ops<N>`.
const OPERATION_COUNTS: [usize; 6] = [1, 5, 10, 20, 50, 100];

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
