//! The value encoding checked octet for octet against §15.3.4's layout, then as random graphs.

use super::samples::{
    all_factories, base_only_factories, same_graph, Base, Derived, NameBox, Node,
};
use super::*;
use crate::cdr::{ByteOrder, DecodeErrorKind, Decoder, Encoder};
use proptest::prelude::*;

/// Hand-assembles a big-endian CDR stream.
#[derive(Default)]
struct Wire(Vec<u8>);

impl Wire {
    fn pad(&mut self) -> &mut Self {
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
        self
    }
    fn long(&mut self, v: i32) -> &mut Self {
        self.pad();
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn ulong(&mut self, v: u32) -> &mut Self {
        self.long(v as i32)
    }
    fn string(&mut self, s: &str) -> &mut Self {
        self.ulong(s.len() as u32 + 1);
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }
    fn pos(&mut self) -> usize {
        self.pad();
        self.0.len()
    }
    /// An indirection to `target`, from here.
    fn indirection(&mut self, target: usize) -> &mut Self {
        self.ulong(INDIRECTION_TAG);
        let field = self.pos() as i32;
        self.long(target as i32 - field)
    }
    /// A chunk of the octets `body` writes (positions inside stay those of the whole stream).
    fn chunk(&mut self, body: impl FnOnce(&mut Wire)) -> &mut Self {
        let at = self.pos();
        self.long(0);
        let start = self.0.len();
        body(self);
        let len = (self.0.len() - start) as i32;
        self.0[at..at + 4].copy_from_slice(&len.to_be_bytes());
        self
    }
}

fn write(
    graph: &ValueGraph,
    root: Option<ValueRef<dyn ValueType>>,
    writer: ValueWriter,
) -> Vec<u8> {
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    let mut writer = writer;
    writer.write(&mut enc, graph, root).unwrap();
    enc.into_vec()
}

fn read_with(
    bytes: &[u8],
    factories: &ValueFactories,
) -> Result<(ValueGraph, Option<ValueRef<dyn ValueType>>), DecodeError> {
    let mut dec = Decoder::new(bytes, ByteOrder::BigEndian);
    let mut reader = ValueReader::new(factories, &dec);
    let root = reader.read_value_base(&mut dec, None)?;
    dec.expect_end()?;
    Ok((reader.into_graph(), root))
}

fn read(bytes: &[u8]) -> (ValueGraph, Option<ValueRef<dyn ValueType>>) {
    read_with(bytes, &all_factories()).unwrap()
}

fn node(label: &str, value: i32) -> Node {
    Node {
        label: label.into(),
        value,
        left: None,
        right: None,
        any: None,
    }
}

fn err_kind(bytes: &[u8], factories: &ValueFactories) -> DecodeErrorKind {
    read_with(bytes, factories).unwrap_err().kind().clone()
}

const NODE: &str = Node::REPOSITORY_ID;
const BASE: &str = Base::REPOSITORY_ID;
const DERIVED: &str = Derived::REPOSITORY_ID;

#[test]
fn null_is_a_zero_long() {
    let bytes = write(&ValueGraph::new(), None, ValueWriter::new());
    assert_eq!(bytes, [0, 0, 0, 0]);
    assert!(read(&bytes).1.is_none());
}

#[test]
fn a_value_is_its_tag_its_repository_id_and_its_state() {
    let mut g = ValueGraph::new();
    let b = g.insert(Base { x: 7 });
    let bytes = write(&g, Some(b.erase()), ValueWriter::new());
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).string(BASE).long(7);
    assert_eq!(bytes, w.0);
    let (g2, r) = read(&bytes);
    assert_eq!(
        g2.get(g2.downcast::<Base>(r.unwrap()).unwrap()),
        Some(&Base { x: 7 })
    );
}

#[test]
fn a_value_box_carries_its_content_as_its_state() {
    let mut g = ValueGraph::new();
    let b = g.insert(NameBox("hi".into()));
    let bytes = write(&g, Some(b.erase()), ValueWriter::new());
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02)
        .string(NameBox::REPOSITORY_ID)
        .string("hi");
    assert_eq!(bytes, w.0);
    let (g2, r) = read(&bytes);
    assert!(same_graph(&g, Some(b.erase()), &g2, r));
}

#[test]
fn a_codebase_url_comes_before_the_type_information_and_repeats_as_an_indirection() {
    let mut g = ValueGraph::new();
    let inner = g.insert(Base { x: 1 });
    let mut n = node("n", 2);
    n.any = Some(inner.erase());
    let n = g.insert(n);
    let bytes = write(
        &g,
        Some(n.erase()),
        ValueWriter::new().with_codebase("http://cb"),
    );
    let mut w = Wire::default();
    w.ulong(0x7fff_ff03);
    let url = w.pos();
    w.string("http://cb")
        .string(NODE)
        .string("n")
        .long(2)
        .long(0)
        .long(0);
    w.ulong(0x7fff_ff03).indirection(url).string(BASE).long(1);
    assert_eq!(bytes, w.0);
    let (g2, r) = read(&bytes);
    assert!(same_graph(&g, Some(n.erase()), &g2, r));
}

#[test]
fn a_shared_value_and_a_repeated_repository_id_are_indirections() {
    let mut g = ValueGraph::new();
    let b = g.insert(node("b", 2));
    let mut a = node("a", 1);
    a.left = Some(b);
    a.right = Some(b);
    let a = g.insert(a);
    let bytes = write(&g, Some(a.erase()), ValueWriter::new());
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).string(NODE).string("a").long(1);
    let b_tag = w.pos();
    // b is a member whose formal type is its own: sent without its id, as omniORB does.
    w.ulong(0x7fff_ff00).string("b").long(2);
    w.long(0).long(0).long(0); // b's left, right, any
    w.indirection(b_tag).long(0); // a's right, any
    assert_eq!(bytes, w.0);
    let (g2, r) = read(&bytes);
    assert!(same_graph(&g, Some(a.erase()), &g2, r));
    assert_eq!(g2.len(), 2, "the shared node is decoded once");
}

#[test]
fn a_cycle_decodes_as_a_cycle() {
    let mut g = ValueGraph::new();
    let a = g.insert(node("a", 1));
    g.get_mut(a).unwrap().left = Some(a);
    let bytes = write(&g, Some(a.erase()), ValueWriter::new());
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).string(NODE).string("a").long(1);
    w.indirection(0).long(0).long(0);
    assert_eq!(bytes, w.0);
    let (g2, r) = read(&bytes);
    let a2 = g2.downcast::<Node>(r.unwrap()).unwrap();
    assert_eq!(g2.get(a2).unwrap().left, Some(a2));
}

/// `Derived{x, extra, child}` with a nested `Node` child, written chunked; the child with its
/// repository id or (as a writer that knows `child`'s formal type is `Node` may) without.
fn derived_stream(child_end_tag: Option<i32>, child_id: bool) -> Vec<u8> {
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0e).ulong(2).string(DERIVED).string(BASE);
    w.chunk(|w| {
        w.long(5).string("more");
    });
    // The nested value: its own chunk at level 2.
    if child_id {
        w.ulong(0x7fff_ff0a).string(NODE);
    } else {
        w.ulong(0x7fff_ff08);
    }
    w.chunk(|w| {
        w.string("c").long(9).long(0).long(0).long(0);
    });
    match child_end_tag {
        // Closes the child and then, in a chunk of its own, nothing: the parent's end tag.
        None => {
            w.long(-2).long(-1);
        }
        // One end tag closing both levels.
        Some(t) => {
            w.long(t);
        }
    }
    w.0
}

#[test]
fn a_truncatable_value_is_chunked_with_its_repository_id_list() {
    let mut g = ValueGraph::new();
    let c = g.insert(node("c", 9));
    let d = g.insert(Derived {
        x: 5,
        extra: "more".into(),
        child: Some(c),
    });
    let bytes = write(&g, Some(d.erase()), ValueWriter::new());
    // The child ends the Derived's state: one end tag closes both.
    assert_eq!(bytes, derived_stream(Some(-1), true));
    let (g2, r) = read(&bytes);
    assert!(same_graph(&g, Some(d.erase()), &g2, r));
}

#[test]
fn one_end_tag_may_close_several_nested_values() {
    // And an end tag per level reads the same.
    let (g, r) = read(&derived_stream(None, true));
    let d = g.get(g.downcast::<Derived>(r.unwrap()).unwrap()).unwrap();
    assert_eq!(g.get(d.child.unwrap()).unwrap().label, "c");
    let (g, r) = read_with(&derived_stream(None, true), &base_only_factories()).unwrap();
    assert_eq!(
        g.get(g.downcast::<Base>(r.unwrap()).unwrap()),
        Some(&Base { x: 5 })
    );
    let bytes = derived_stream(Some(-1), true);
    let (g, r) = read(&bytes);
    let d = g.get(g.downcast::<Derived>(r.unwrap()).unwrap()).unwrap();
    assert_eq!((d.x, d.extra.as_str()), (5, "more"));
    assert_eq!(g.get(d.child.unwrap()).unwrap().label, "c");
    // Truncated as well: the end tag closes the skipped nested value and the base.
    let (g, r) = read_with(&bytes, &base_only_factories()).unwrap();
    assert_eq!(
        g.get(g.downcast::<Base>(r.unwrap()).unwrap()),
        Some(&Base { x: 5 })
    );
}

#[test]
fn a_receiver_that_knows_only_the_base_truncates_and_keeps_nested_values_it_knows() {
    // Derived{child: n} then, after it, n again as an indirection into the skipped state.
    let mut g = ValueGraph::new();
    let c = g.insert(node("c", 9));
    let d = g.insert(Derived {
        x: 5,
        extra: "more".into(),
        child: Some(c),
    });
    let mut root = node("root", 0);
    root.any = Some(d.erase());
    root.left = Some(c);
    let root = g.insert(root);
    let bytes = write(&g, Some(root.erase()), ValueWriter::new());
    let (g2, r) = read_with(&bytes, &base_only_factories()).unwrap();
    let root2 = g2.get(g2.downcast::<Node>(r.unwrap()).unwrap()).unwrap();
    let base = g2.downcast::<Base>(root2.any.unwrap()).unwrap();
    assert_eq!(g2.get(base), Some(&Base { x: 5 }));
    assert_eq!(g2.get(root2.left.unwrap()).unwrap().label, "c");
}

#[test]
fn chunking_every_value_round_trips() {
    let mut g = ValueGraph::new();
    let b = g.insert(NameBox("box".into()));
    let mut a = node("a", 1);
    a.any = Some(b.erase());
    let a = g.insert(a);
    g.get_mut(a).unwrap().right = Some(a);
    let bytes = write(&g, Some(a.erase()), ValueWriter::new().chunk_all(true));
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0a).string(NODE);
    w.chunk(|w| {
        w.string("a").long(1).long(0).indirection(0);
    });
    w.ulong(0x7fff_ff0a).string(NameBox::REPOSITORY_ID);
    w.chunk(|w| {
        w.string("box");
    });
    w.long(-1); // closes the box and the node
    assert_eq!(bytes, w.0);
    let (g2, r) = read(&bytes);
    assert!(same_graph(&g, Some(a.erase()), &g2, r));
}

#[test]
fn state_split_over_several_chunks_and_an_id_list_indirection_read() {
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0e);
    let list = w.pos();
    w.ulong(2).string(DERIVED).string(BASE);
    w.chunk(|w| {
        w.long(1);
    });
    w.chunk(|w| {
        w.string("x").long(0);
    });
    w.long(-1);
    let first_end = w.0.len();
    let mut g_bytes = w.0.clone();
    // A second Derived after the first, its id list an indirection.
    let mut w2 = Wire(std::mem::take(&mut g_bytes));
    w2.ulong(0x7fff_ff0e).indirection(list);
    w2.chunk(|w| {
        w.long(2).string("y").long(0);
    });
    w2.long(-1);
    let factories = all_factories();
    let mut dec = Decoder::new(&w2.0, ByteOrder::BigEndian);
    let mut reader = ValueReader::new(&factories, &dec);
    let first = reader.read_value_base(&mut dec, None).unwrap().unwrap();
    assert_eq!(dec.position(), first_end);
    let second = reader.read_value_base(&mut dec, None).unwrap().unwrap();
    dec.expect_end().unwrap();
    let g = reader.into_graph();
    assert_eq!(
        g.get(g.downcast::<Derived>(first).unwrap()).unwrap().extra,
        "x"
    );
    assert_eq!(g.get(g.downcast::<Derived>(second).unwrap()).unwrap().x, 2);
}

#[test]
fn a_value_of_unknown_type_that_cannot_be_truncated_names_its_id() {
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).string("IDL:Unknown:1.0").long(1);
    assert_eq!(
        err_kind(&w.0, &all_factories()),
        DecodeErrorKind::UnknownValueType("IDL:Unknown:1.0".into())
    );
    // To a peer: MARSHAL, minor "no value factory" (OMG standard minor 1).
    let e = read_with(&w.0, &all_factories()).unwrap_err();
    let sys = crate::exception::SystemException::from(e);
    assert_eq!(sys.minor_name(), Some("NoValueFactory"));
    // Listed with bases of which none is known: still unknown.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0e)
        .ulong(2)
        .string("IDL:X:1.0")
        .string("IDL:Y:1.0");
    w.chunk(|w| {
        w.long(1);
    });
    w.long(-1);
    assert_eq!(
        err_kind(&w.0, &all_factories()),
        DecodeErrorKind::UnknownValueType("IDL:X:1.0".into())
    );
    // A derived value not chunked cannot be truncated.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff06)
        .ulong(2)
        .string(DERIVED)
        .string(BASE)
        .long(1);
    assert_eq!(
        err_kind(&w.0, &base_only_factories()),
        DecodeErrorKind::UnknownValueType(DERIVED.into())
    );
}

fn assert_invalid(bytes: &[u8], want: &str) {
    let e = read_with(bytes, &all_factories()).unwrap_err();
    assert!(
        e.to_string().contains(want),
        "expected an error about {want:?}, got: {e}"
    );
}

#[test]
fn hostile_indirections_are_refused() {
    // Forward.
    let mut w = Wire::default();
    w.ulong(INDIRECTION_TAG).long(8);
    assert_invalid(&w.0, "does not point backwards");
    // To itself (the offset field) and to somewhere that is not a value tag.
    let mut w = Wire::default();
    w.ulong(INDIRECTION_TAG).long(0);
    assert_invalid(&w.0, "does not point backwards");
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).string(NODE).string("a").long(1);
    w.ulong(INDIRECTION_TAG).long(-12);
    assert_invalid(&w.0, "does not point back at a value tag");
    // Before the start of the stream.
    let mut w = Wire::default();
    w.ulong(INDIRECTION_TAG).long(-400);
    assert_invalid(&w.0, "before the stream");
    // A repository id indirection to a non-string.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).ulong(INDIRECTION_TAG).long(-8);
    assert_invalid(&w.0, "does not point back at a repository id");
}

#[test]
fn hostile_chunks_and_end_tags_are_refused() {
    // A chunk longer than the message.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0a).string(BASE).long(1000).long(1);
    assert!(matches!(
        err_kind(&w.0, &all_factories()),
        DecodeErrorKind::LengthTooLarge { .. }
    ));
    // State that runs past its chunk.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0a).string(BASE).long(2).long(1).long(-1);
    assert_invalid(&w.0, "runs past the end of its chunk");
    // State shorter than its chunk.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0a)
        .string(BASE)
        .long(8)
        .long(1)
        .long(2)
        .long(-1);
    assert_invalid(&w.0, "ends before its chunk");
    // An end tag for a deeper level than open.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0a).string(BASE).long(4).long(1).long(-2);
    assert_invalid(&w.0, "end tag does not close");
    // No end tag at all.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0a).string(BASE).long(4).long(1);
    assert!(read_with(&w.0, &all_factories()).is_err());
    // An unchunked value inside a chunked one.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0e).ulong(2).string(DERIVED).string(BASE);
    w.chunk(|w| {
        w.long(1).string("e");
    });
    w.ulong(0x7fff_ff02).string(NODE);
    assert_invalid(&w.0, "is not chunked itself");
    // A value tag inside a chunk.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff0e).ulong(2).string(DERIVED).string(BASE);
    w.chunk(|w| {
        w.long(1).string("e").ulong(0x7fff_ff0a);
    });
    assert_invalid(&w.0, "value tag inside a chunk");
    // Reserved tag bits, and a long that is no tag.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff12);
    assert_eq!(
        err_kind(&w.0, &all_factories()),
        DecodeErrorKind::InvalidValueTag(0x7fff_ff12)
    );
    let mut w = Wire::default();
    w.ulong(5);
    assert_eq!(
        err_kind(&w.0, &all_factories()),
        DecodeErrorKind::InvalidValueTag(5)
    );
}

/// A chain of `n` nodes, each the previous one's left.
fn chain(n: usize) -> (ValueGraph, ValueRef<Node>) {
    let mut g = ValueGraph::new();
    let mut prev = None;
    for i in 0..n {
        let mut v = node("", i as i32);
        v.left = prev;
        prev = Some(g.insert(v));
    }
    (g, prev.unwrap())
}

#[test]
fn nesting_and_value_counts_are_bounded() {
    let limits = ValueLimits {
        max_depth: 10,
        max_values: 100,
    };
    let (g, root) = chain(11);
    let bytes = write(&g, Some(root.erase()), ValueWriter::new());
    let factories = all_factories();
    let dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let mut reader = ValueReader::with_limits(&factories, &dec, limits);
    let e = reader.read_value_base(&mut dec.clone(), None).unwrap_err();
    assert_eq!(e.kind(), &DecodeErrorKind::TooDeep);
    // The writer refuses what a reader with the same limits would.
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    assert!(ValueWriter::new()
        .with_limits(limits)
        .write(&mut enc, &g, Some(root))
        .is_err());
    // Many values side by side (not nested) stop at max_values.
    let (g, root) = chain(1);
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    for _ in 0..101 {
        ValueWriter::new().write(&mut enc, &g, Some(root)).unwrap();
    }
    let bytes = enc.into_vec();
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let mut reader = ValueReader::with_limits(&factories, &dec, limits);
    let e = (0..101)
        .try_for_each(|_| reader.read_value_base(&mut dec, None).map(|_| ()))
        .unwrap_err();
    assert!(e.to_string().contains("max_values"), "{e}");
}

#[test]
fn a_member_refers_to_a_value_of_its_own_type_only() {
    // Node.left holding a Base.
    let mut w = Wire::default();
    w.ulong(0x7fff_ff02).string(NODE).string("a").long(1);
    w.ulong(0x7fff_ff02).string(BASE).long(3);
    w.long(0).long(0);
    assert_invalid(&w.0, "another type");
}

/// Encodes `write` cut into GIOP 1.1 fragments of `max_len` octets after a 12-octet message
/// header, and returns the joined data with where each continuation fragment's data starts.
fn fragmented(
    order: ByteOrder,
    max_len: usize,
    write: impl FnOnce(&mut Encoder),
) -> (Vec<u8>, Vec<u32>) {
    let mut enc = Encoder::new(order);
    enc.extend_zeroed(12);
    enc.start_fragments(max_len, max_len, 12);
    write(&mut enc);
    let starts = enc.fragment_starts().to_vec();
    let bytes = enc.into_vec();
    let mut joined = Vec::new();
    let mut data_starts = Vec::new();
    let mut from = 0;
    for &s in &starts {
        joined.extend_from_slice(&bytes[from..s]);
        data_starts.push(joined.len() as u32);
        from = s + 12;
    }
    joined.extend_from_slice(&bytes[from..]);
    (joined, data_starts)
}

fn arb_graph() -> impl Strategy<Value = (ValueGraph, Option<ValueRef<dyn ValueType>>)> {
    // Kinds (0 Node, 1 Base, 2 Derived, 3 NameBox) and edges as indices into the nodes.
    let spec_of_node = (
        0u8..4,
        any::<i32>(),
        "[a-z]{0,6}",
        proptest::option::of(any::<prop::sample::Index>()),
        proptest::option::of(any::<prop::sample::Index>()),
        proptest::option::of(any::<prop::sample::Index>()),
    );
    (
        prop::collection::vec(spec_of_node, 1..16),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(spec, root)| {
            let nodes: Vec<usize> = (0..spec.len()).filter(|&i| spec[i].0 == 0).collect();
            let mut g = ValueGraph::new();
            for (kind, n, s, ..) in &spec {
                match kind {
                    0 => {
                        g.insert(node(s, *n));
                    }
                    1 => {
                        g.insert(Base { x: *n });
                    }
                    2 => {
                        g.insert(Derived {
                            x: *n,
                            extra: s.clone(),
                            child: None,
                        });
                    }
                    _ => {
                        g.insert(NameBox(s.clone()));
                    }
                }
            }
            let pick_node = |i: &Option<prop::sample::Index>| -> Option<ValueRef<Node>> {
                let i = i.as_ref()?;
                (!nodes.is_empty()).then(|| ValueRef::new(nodes[i.index(nodes.len())] as u32))
            };
            for (i, (kind, _, _, a, b, c)) in spec.iter().enumerate() {
                let r = ValueRef::<dyn ValueType>::new(i as u32);
                match kind {
                    0 => {
                        let left = pick_node(a);
                        let right = pick_node(b);
                        let any = c
                            .as_ref()
                            .map(|c| ValueRef::new(c.index(spec.len()) as u32));
                        let v = g.get_mut(g.downcast::<Node>(r).unwrap()).unwrap();
                        (v.left, v.right, v.any) = (left, right, any);
                    }
                    2 => {
                        let child = pick_node(a);
                        g.get_mut(g.downcast::<Derived>(r).unwrap()).unwrap().child = child;
                    }
                    _ => {}
                }
            }
            let root = ValueRef::new(root.index(spec.len()) as u32);
            (g, Some(root))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_graphs_round_trip_as_graphs(
        (g, root) in arb_graph(),
        little in any::<bool>(),
        chunk_all in any::<bool>(),
        fragment in proptest::option::of(2usize..8),
    ) {
        let order = if little { ByteOrder::LittleEndian } else { ByteOrder::BigEndian };
        let factories = all_factories();
        let encode = |enc: &mut Encoder| {
            ValueWriter::new().chunk_all(chunk_all).write(enc, &g, root).unwrap();
        };
        let (bytes, starts, skip) = match fragment {
            Some(units) => {
                let (joined, starts) = fragmented(order, units * 8 + 16, encode);
                (joined, starts, 12)
            }
            None => {
                let mut enc = Encoder::new(order);
                encode(&mut enc);
                (enc.into_vec(), Vec::new(), 0)
            }
        };
        let mut dec = Decoder::new_at(&bytes, skip, order);
        dec.set_fragments(&starts);
        let mut reader = ValueReader::new(&factories, &dec);
        let r2 = reader.read_value_base(&mut dec, None).unwrap();
        dec.expect_end().unwrap();
        let g2 = reader.into_graph();
        prop_assert!(same_graph(&g, root, &g2, r2));

        // A receiver that knows only Base reads the same stream too, Derived truncated.
        let base_only = base_only_factories();
        let mut dec = Decoder::new_at(&bytes, skip, order);
        dec.set_fragments(&starts);
        let mut reader = ValueReader::new(&base_only, &dec);
        let r3 = reader.read_value_base(&mut dec, None);
        prop_assert!(r3.is_ok(), "{:?}", r3);
        dec.expect_end().unwrap();
    }
}

#[test]
fn values_decode_across_giop_1_1_fragments() {
    let (g, root) = chain(30);
    for max_len in [32, 40, 48, 64] {
        let (bytes, starts) = fragmented(ByteOrder::BigEndian, max_len, |enc| {
            ValueWriter::new()
                .chunk_all(true)
                .write(enc, &g, Some(root))
                .unwrap()
        });
        assert!(!starts.is_empty());
        let factories = all_factories();
        let mut dec = Decoder::new_at(&bytes, 12, ByteOrder::BigEndian);
        dec.set_fragments(&starts);
        let mut reader = ValueReader::new(&factories, &dec);
        let r = reader.read_value_base(&mut dec, None).unwrap();
        dec.expect_end().unwrap();
        assert!(same_graph(&g, Some(root.erase()), &reader.into_graph(), r));
    }
}

#[test]
fn fuzz_body_accepts_what_the_writer_writes_and_refuses_garbage() {
    let (g, root) = chain(3);
    for flags in 0..4u8 {
        let order = ByteOrder::from_flag(flags);
        let mut enc = Encoder::new(order);
        ValueWriter::new()
            .chunk_all(flags & 2 != 0)
            .write(&mut enc, &g, Some(root))
            .unwrap();
        let mut data = vec![flags];
        data.extend(enc.into_vec());
        samples::fuzz_value(&data);
        // Every prefix and every single-octet corruption: an error or a value, never a panic.
        for cut in 0..data.len() {
            samples::fuzz_value(&data[..cut]);
            let mut bad = data.clone();
            bad[cut] ^= 0x80;
            samples::fuzz_value(&bad);
        }
    }
}

#[test]
fn a_chain_as_deep_as_the_default_limit_round_trips_on_a_test_thread_stack() {
    let depth = ValueLimits::default().max_depth as usize;
    let (g, root) = chain(depth);
    for chunk_all in [false, true] {
        let bytes = write(
            &g,
            Some(root.erase()),
            ValueWriter::new().chunk_all(chunk_all),
        );
        let (g2, r) = read(&bytes);
        assert!(same_graph(&g, Some(root.erase()), &g2, r));
        // Truncating receivers skip by recursion too.
        let (_, r) = read_with(&bytes, &base_only_factories()).unwrap();
        assert!(r.is_some());
    }
    let (g, root) = chain(depth + 1);
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    assert!(ValueWriter::new().write(&mut enc, &g, Some(root)).is_err());
}

/// Reads what omniORB 4.2.5 wrote (see `orb/tests/vectors/value/README.md`), little-endian.
fn read_omniorb<T: ValueFactory>(
    bytes: &[u8],
    factories: &ValueFactories,
) -> (ValueGraph, Option<ValueRef<T>>) {
    let mut dec = Decoder::new(bytes, ByteOrder::LittleEndian);
    let mut reader = ValueReader::new(factories, &dec);
    let root = reader.read_value::<T>(&mut dec).unwrap();
    dec.expect_end().unwrap();
    (reader.into_graph(), root)
}

#[test]
fn what_omniorb_writes_reads() {
    // No repository id: the formal type's.
    let (g, r) = read_omniorb::<Node>(
        include_bytes!("../../../tests/vectors/value/one.cdr"),
        &all_factories(),
    );
    let one = g.get(r.unwrap()).unwrap();
    assert_eq!((one.label.as_str(), one.value), ("one", 1));

    // p.right = q, q.left = p.
    let (g, r) = read_omniorb::<Node>(
        include_bytes!("../../../tests/vectors/value/cycle.cdr"),
        &all_factories(),
    );
    let p = r.unwrap();
    let q = g.get(p).unwrap().right.unwrap();
    assert_eq!(g.get(q).unwrap().label, "q");
    assert_eq!(g.get(q).unwrap().left, Some(p));

    // A Derived where a Base is expected, its null child in a chunk of its own.
    let bytes = include_bytes!("../../../tests/vectors/value/derived.cdr");
    let mut dec = Decoder::new(bytes, ByteOrder::LittleEndian);
    let factories = all_factories();
    let mut reader = ValueReader::new(&factories, &dec);
    let d = reader
        .read_value_base(&mut dec, Some(Base::REPOSITORY_ID))
        .unwrap();
    dec.expect_end().unwrap();
    let g = reader.into_graph();
    let d = g.get(g.downcast::<Derived>(d.unwrap()).unwrap()).unwrap();
    assert_eq!((d.x, d.extra.as_str(), d.child), (3, "x", None));
    // Truncated by a receiver that knows only Base.
    let (g, r) = read_omniorb::<Base>(bytes, &base_only_factories());
    assert_eq!(g.get(r.unwrap()), Some(&Base { x: 3 }));
}

// ---- Handles: values in data types and parameters, each encoder and decoder a stream.

/// Two parameters of one message: `first` a two-node cycle, `second` the same node again.
fn two_parameters() -> (Option<ValueHandle<Node>>, Option<ValueHandle<Node>>) {
    let mut g = ValueGraph::new();
    let a = g.insert(node("a", 1));
    let b = g.insert(node("b", 2));
    g.get_mut(a).unwrap().left = Some(b);
    g.get_mut(b).unwrap().left = Some(a);
    let g = std::sync::Arc::new(g);
    (
        Some(ValueHandle::new(g.clone(), a)),
        Some(ValueHandle::new(g, b)),
    )
}

#[test]
fn a_value_shared_by_two_parameters_is_written_once_and_read_back_shared() {
    let (first, second) = two_parameters();
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    first.encode(&mut enc).unwrap();
    second.encode(&mut enc).unwrap();
    None::<ValueHandle<Node>>.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();
    // The second parameter is an indirection: 0xffffffff and a negative offset, then null.
    assert_eq!(&bytes[bytes.len() - 12..bytes.len() - 8], &[0xff; 4]);
    assert_eq!(&bytes[bytes.len() - 4..], &[0; 4]);

    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let one = Option::<ValueHandle<Node>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    let two = Option::<ValueHandle<Node>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    assert!(Option::<ValueHandle<Node>>::decode(&mut dec)
        .unwrap()
        .is_none());
    dec.expect_end().unwrap();
    let a = one.get().unwrap();
    let graph = one.graph().unwrap();
    let b = graph.get(a.left.unwrap()).unwrap();
    assert_eq!((a.label.as_str(), b.label.as_str()), ("a", "b"));
    // The second parameter is the very node the first one's cycle holds, not a copy.
    assert_eq!(two.at(), a.left.unwrap());
    assert_eq!(graph.get(b.left.unwrap()).unwrap().label, "a");
    assert_eq!(Some(one), first);
    assert_eq!(Some(two), second);
}

#[test]
fn a_later_parameter_may_point_into_an_earlier_ones_graph() {
    // Written by hand as a peer may: the second value's member refers to the first value.
    let mut g = ValueGraph::new();
    let a = g.insert(node("a", 1));
    let c = g.insert(node("c", 3));
    g.get_mut(c).unwrap().right = Some(a);
    let mut writer = ValueWriter::new();
    let mut enc = Encoder::new(ByteOrder::LittleEndian);
    writer.write(&mut enc, &g, Some(a)).unwrap();
    writer.write(&mut enc, &g, Some(c)).unwrap();
    let bytes = enc.into_vec();

    let mut dec = Decoder::new(&bytes, ByteOrder::LittleEndian);
    let first = Option::<ValueHandle<Node>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    let second = Option::<ValueHandle<Node>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    let c = second.get().unwrap();
    assert_eq!(c.right, Some(first.at()));
    // The second graph extends the first: the first value is reachable from it.
    assert_eq!(
        second.graph().unwrap().get(c.right.unwrap()).unwrap().label,
        "a"
    );
}

#[test]
fn a_handle_of_a_base_type_holds_a_derived_value_and_refuses_an_unrelated_one() {
    let mut g = ValueGraph::new();
    let d = g.insert(Derived {
        x: 7,
        extra: "more".into(),
        child: None,
    });
    let derived = Some(ValueHandle::new(std::sync::Arc::new(g), d));
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    derived.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();

    // Not registered: truncated to the base the formal type names.
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let base = Option::<ValueHandle<Base>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    assert_eq!(base.get().unwrap().x, 7);

    // An unrelated formal type: refused, saying so.
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let e = Option::<ValueHandle<Node>>::decode(&mut dec).unwrap_err();
    assert!(e.to_string().contains("samples/Derived"), "{e}");

    // As any value, with the derived type known through the decoder's registry.
    register_value_factory::<Derived>();
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let any = Option::<ValueHandle<dyn ValueType>>::decode(&mut dec)
        .unwrap()
        .unwrap();
    assert_eq!(
        any.downcast::<Derived>().unwrap().get().unwrap().extra,
        "more"
    );
}

#[test]
fn a_relative_handle_is_written_only_inside_its_graph_and_equal_handles_compare_by_shape() {
    let h = Some(ValueHandle::<Node>::relative(ValueRef::new(0)));
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    let e = h.encode(&mut enc).unwrap_err();
    assert!(e.to_string().contains("relative value handle"), "{e}");

    // Two graphs of the same shape are equal; a tree and a graph with sharing are not.
    let shared = |share: bool| {
        let mut g = ValueGraph::new();
        let leaf = g.insert(node("leaf", 0));
        let other = if share {
            leaf
        } else {
            g.insert(node("leaf", 0))
        };
        let mut root = node("root", 1);
        root.left = Some(leaf);
        root.right = Some(other);
        let root = g.insert(root);
        ValueHandle::new(std::sync::Arc::new(g), root)
    };
    assert_eq!(shared(true), shared(true));
    assert_ne!(shared(true), shared(false));
}
