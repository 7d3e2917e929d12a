//! Value types as idlc maps them (values.idl): graphs with sharing and cycles, truncation,
//! boxes, `ValueBase` and abstract value types, values inside structs, sequences and other
//! values — through CDR, and through generated stubs and skeletons over a real ORB in every
//! collocation strategy.

use idlc_tests::values::values::{
    self as v, Bag, Base, Circle, Derived, Echo, EchoRef, Holder, LongBox, NameBox, Node, Square,
};
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use orb::codegen::{ValueGraph, ValueHandle, ValueRef, ValueType};
use orb::exception::SystemException;
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn node(id: i32, label: &str) -> Node {
    Node {
        id,
        label: label.into(),
        next: None,
        other: None,
    }
}

/// `a -> b -> a`, `a.other = b`: a cycle and a shared node.
fn ring() -> (Arc<ValueGraph>, ValueRef<Node>, ValueRef<Node>) {
    let mut g = ValueGraph::new();
    let a = g.insert(node(1, "a"));
    let b = g.insert(node(2, "b"));
    g.get_mut(a).unwrap().next = Some(b);
    g.get_mut(a).unwrap().other = Some(b);
    g.get_mut(b).unwrap().next = Some(a);
    (Arc::new(g), a, b)
}

fn round_trip<T: CdrEncode + for<'a> CdrDecode<'a>>(value: &T, order: ByteOrder) -> T {
    let mut enc = Encoder::new(order);
    value.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();
    let mut dec = Decoder::new(&bytes, order);
    let back = T::decode(&mut dec).unwrap();
    dec.expect_end().unwrap();
    back
}

/// Checks that `h` is the ring: a cycle of two with `a.other` the very node `a.next` is.
fn assert_ring(h: &ValueHandle<Node>) {
    let g = h.graph().unwrap();
    let a = h.get().unwrap();
    assert_eq!((a.id, a.label.as_str()), (1, "a"));
    let b_ref = a.next.unwrap();
    assert_eq!(a.other, Some(b_ref), "shared, not copied");
    let b = g.get(b_ref).unwrap();
    assert_eq!((b.id, b.label.as_str()), (2, "b"));
    assert_eq!(b.next, Some(h.at()), "a cycle, not a tree");
}

#[test]
fn a_graph_with_a_cycle_and_a_shared_node_round_trips_as_a_graph() {
    let (g, a, _) = ring();
    let h = Some(ValueHandle::new(g, a));
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let back = round_trip(&h, order);
        assert_ring(back.as_ref().unwrap());
        assert_eq!(back, h);
    }
}

#[test]
fn values_in_a_struct_share_across_members_and_boxes_carry_their_content() {
    // Where the formal type is ValueBase or abstract, the receiver must know the types.
    register_any_value_types();
    let (g, a, b) = ring();
    let holder = Holder {
        tag: 9,
        first: Some(ValueHandle::new(g.clone(), a)),
        second: Some(ValueHandle::new(g, b)),
        anything: Some(ValueHandle::from_value(NameBox("boxed".into())).erase()),
        the_shape: Some(ValueHandle::from_value(Circle { radius: 2.0 }).erase()),
    };
    let back = round_trip(&holder, ByteOrder::BigEndian);
    assert_eq!(back.tag, 9);
    let first = back.first.as_ref().unwrap();
    assert_ring(first);
    // The second member is the node the first one's cycle holds.
    assert_eq!(
        back.second.as_ref().unwrap().at(),
        first.get().unwrap().next.unwrap()
    );
    let anything = back.anything.as_ref().unwrap();
    assert_eq!(
        anything.downcast::<NameBox>().unwrap().get().unwrap().0,
        "boxed"
    );
    let shape = back.the_shape.as_ref().unwrap();
    assert_eq!(
        shape.downcast::<Circle>().unwrap().get().unwrap().radius,
        2.0
    );
    assert_eq!(back, holder);
}

#[test]
fn a_value_of_another_type_is_refused_where_a_value_type_is_expected() {
    // Sent where any value may stand, so with its repository id (a value of exactly the
    // formal type is sent without one: the receiver's formal type says what it is).
    let square = Some(ValueHandle::from_value(Square { side: 1.0 }).erase());
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    square.encode(&mut enc).unwrap();
    let bytes = enc.into_vec();
    let mut dec = Decoder::new(&bytes, ByteOrder::BigEndian);
    let e = Option::<ValueHandle<Node>>::decode(&mut dec).unwrap_err();
    assert!(e.to_string().contains("Square"), "{e}");
}

fn bag() -> Option<ValueHandle<Bag>> {
    let (g, a, b) = ring();
    let mut graph = ValueGraph::extending(g.clone());
    let boxed = graph.insert(LongBox(42));
    let bag = graph.insert(Bag {
        nodes: vec![
            Some(ValueHandle::new(g.clone(), a)),
            None,
            Some(ValueHandle::new(g.clone(), b)),
        ],
        held: Holder {
            tag: 1,
            first: Some(ValueHandle::new(g, a)),
            second: None,
            anything: None,
            the_shape: None,
        },
        any_value: Some(boxed.erase()),
        outline: None,
        boxed: Some(boxed),
    });
    Some(ValueHandle::new(Arc::new(graph), bag))
}

#[test]
fn a_value_holding_sequences_structs_and_boxes_round_trips() {
    let bag = bag();
    let back = round_trip(&bag, ByteOrder::LittleEndian);
    let h = back.as_ref().unwrap();
    let b = h.get().unwrap();
    assert_eq!(b.nodes.len(), 3);
    assert!(b.nodes[1].is_none());
    // A handle inside a value's state is relative to the value's graph.
    let g = h.graph().unwrap();
    let first = b.nodes[0].as_ref().unwrap();
    assert_eq!(first.get_in(g).unwrap().label, "a");
    assert_eq!(b.held.first.as_ref().unwrap().at(), first.at());
    assert_eq!(g.get(b.boxed.unwrap()).unwrap().0, 42);
    assert_eq!(b.any_value, b.boxed.map(|r| r.erase()));
    assert_eq!(back, bag);
}

/// The types these tests send where the formal type is `ValueBase` or the abstract `Shape`:
/// no formal type reaches them, so a receiver knows them only by registration.
fn register_any_value_types() {
    orb::codegen::register_value_factory::<NameBox>();
    orb::codegen::register_value_factory::<Circle>();
    orb::codegen::register_value_factory::<LongBox>();
}

#[derive(Default)]
struct EchoImpl {
    /// What `two` saw: whether its two arguments shared a node.
    shared: Mutex<Vec<bool>>,
}

impl Echo for EchoImpl {
    fn echo_node(
        &self,
        n: &Option<ValueHandle<Node>>,
    ) -> Result<Option<ValueHandle<Node>>, SystemException> {
        Ok(n.clone())
    }
    fn two(
        &self,
        a: &Option<ValueHandle<Node>>,
        b: &Option<ValueHandle<Node>>,
    ) -> Result<Option<ValueHandle<Node>>, SystemException> {
        let shared = match (a, b) {
            (Some(a), Some(b)) => a.get().unwrap().next == Some(b.at()),
            _ => false,
        };
        self.shared.lock().unwrap().push(shared);
        Ok(b.clone())
    }
    fn echo_base(
        &self,
        b: &Option<ValueHandle<Base>>,
    ) -> Result<Option<ValueHandle<Base>>, SystemException> {
        Ok(b.clone())
    }
    fn echo_holder(&self, h: &Holder) -> Result<Holder, SystemException> {
        Ok(h.clone())
    }
    fn echo_seq(&self, s: &[Option<ValueHandle<Node>>]) -> Result<v::NodeSeq, SystemException> {
        Ok(s.to_vec())
    }
    fn echo_box(
        &self,
        b: &Option<ValueHandle<LongBox>>,
    ) -> Result<Option<ValueHandle<LongBox>>, SystemException> {
        Ok(b.as_ref()
            .map(|b| ValueHandle::from_value(LongBox(b.get().unwrap().0 + 1))))
    }
    fn echo_any_value(
        &self,
        v: &Option<ValueHandle<dyn ValueType>>,
    ) -> Result<Option<ValueHandle<dyn ValueType>>, SystemException> {
        Ok(v.clone())
    }
    fn echo_bag(
        &self,
        b: &Option<ValueHandle<Bag>>,
    ) -> Result<Option<ValueHandle<Bag>>, SystemException> {
        Ok(b.clone())
    }
}

fn orb(collocation: CollocationStrategy) -> Orb {
    Orb::init(OrbOptions {
        collocation,
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .expect("ORB")
}

#[test]
fn values_travel_through_stubs_and_skeletons_in_every_collocation_strategy() {
    orb::codegen::register_value_factory::<Derived>();
    for strategy in [
        CollocationStrategy::None,
        CollocationStrategy::ThruPoa,
        CollocationStrategy::Direct,
    ] {
        for remote in [false, true] {
            let server = orb(strategy);
            let imp = Arc::new(EchoImpl::default());
            let obj = server
                .activate(
                    &server.root_poa(),
                    std::sync::Arc::new(v::echo::Tie::from_arc(imp.clone())),
                )
                .expect("activate");
            let client = if remote {
                orb(strategy)
            } else {
                server.clone()
            };
            let ior = server.object_to_string(&obj).unwrap();
            let obj = client.string_to_object(&ior).unwrap();
            let echo = EchoRef::narrow(&obj).unwrap().unwrap();
            let case = format!("{strategy:?}, remote {remote}");

            let (g, a, b) = ring();
            let ring_a = Some(ValueHandle::new(g.clone(), a));
            let back = echo.echo_node(&ring_a).expect(&case);
            assert_ring(back.as_ref().unwrap());
            assert_eq!(echo.echo_node(&None).expect(&case), None);

            // Two parameters sharing a node arrive sharing it.
            let ring_b = Some(ValueHandle::new(g, b));
            let c = echo.two(&ring_a, &ring_b).expect(&case);
            assert_eq!(c, ring_b, "{case}");
            assert_eq!(imp.shared.lock().unwrap().pop(), Some(true), "{case}");

            let boxed = echo
                .echo_box(&Some(ValueHandle::from_value(LongBox(41))))
                .expect(&case);
            assert_eq!(boxed.unwrap().get().unwrap().0, 42, "{case}");

            let seq = vec![ring_a.clone(), None, ring_b.clone()];
            let back = echo.echo_seq(&seq).expect(&case);
            assert_eq!(
                back[2].as_ref().unwrap().at(),
                back[0].as_ref().unwrap().get().unwrap().next.unwrap(),
                "{case}"
            );

            let any = Some(ValueHandle::from_value(Circle { radius: 1.5 }).erase());
            let back = echo.echo_any_value(&any).expect(&case);
            assert_eq!(back, any, "{case}");

            let bag = bag();
            assert_eq!(echo.echo_bag(&bag).expect(&case), bag, "{case}");

            // A derived value where its base is the formal type: whole, as it is known.
            let derived = ValueHandle::from_value(Derived {
                x: 8,
                extra: "e".into(),
                child: None,
            });
            let back = echo.echo_base(&derived.upcast::<Base>()).expect(&case);
            let back = back
                .unwrap()
                .downcast::<Derived>()
                .expect("still a Derived");
            assert_eq!(back.get().unwrap().extra, "e", "{case}");
        }
    }
}

#[test]
fn a_custom_value_is_refused_until_its_marshaling_is_registered_then_written_as_the_application_says(
) {
    use idlc_tests::values::packing::Packed;
    let packed = Some(ValueHandle::from_value(Packed {
        a: 7,
        b: "seven".into(),
    }));
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    let e = packed.encode(&mut enc).unwrap_err();
    assert!(e.to_string().contains("register_custom_marshaling"), "{e}");

    // The application's format: the string first, then the number twice.
    orb::codegen::register_custom_marshaling::<Packed>(
        |p, out| {
            out.encoder().write_string(&p.b)?;
            out.encoder().write_long(p.a);
            out.encoder().write_long(p.a);
            Ok(())
        },
        |input| {
            let b = input.decoder().read_string()?.into_owned();
            let a = input.decoder().read_long()?;
            let again = input.decoder().read_long()?;
            assert_eq!(a, again);
            Ok(Packed { a, b })
        },
    );
    let back = round_trip(&packed, ByteOrder::LittleEndian);
    assert_eq!(back, packed);
    // Custom values are chunked: the value tag says so.
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    packed.encode(&mut enc).unwrap();
    assert_eq!(enc.into_vec()[3] & 0x08, 0x08);
}

/// The application's side of a value type's operations and initializers. (Generated code
/// included into the application's crate can implement them for the value's struct itself;
/// this test crate is another crate, so it wraps the struct.)
struct MyCircle(Circle);

impl v::ShapeOperations for MyCircle {
    fn area(&self) -> Result<f64, SystemException> {
        Ok(std::f64::consts::PI * self.0.radius * self.0.radius)
    }
}

impl v::CircleOperations for MyCircle {
    fn label(&self) -> Result<String, SystemException> {
        Ok(format!("circle of {}", self.0.radius))
    }
    fn set_label(&self, _value: &str) -> Result<(), SystemException> {
        Err(SystemException::no_implement())
    }
    fn grow(&self, by: f64) -> Result<(), v::circle::GrowError> {
        if by < 0.0 {
            return Err(v::Refused {
                why: "shrinking".into(),
            }
            .into());
        }
        Ok(())
    }
}

struct Circles;
impl v::CircleInit for Circles {
    fn with_radius(&self, r: f64) -> Result<Circle, SystemException> {
        Ok(Circle { radius: r })
    }
}

#[test]
fn a_value_types_operations_and_initializers_are_traits_the_application_implements() {
    use v::{CircleInit, CircleOperations, ShapeOperations};
    let c = MyCircle(Circles.with_radius(2.0).unwrap());
    assert!((c.area().unwrap() - 4.0 * std::f64::consts::PI).abs() < 1e-9);
    assert_eq!(c.label().unwrap(), "circle of 2");
    assert!(matches!(
        c.grow(-1.0),
        Err(v::circle::GrowError::Refused(_))
    ));
    // The operations travel nowhere: only the state does.
    let back = round_trip(&Some(ValueHandle::from_value(c.0)), ByteOrder::BigEndian);
    assert_eq!(back.unwrap().get().unwrap().radius, 2.0);
    let shapes: Vec<Box<dyn ShapeOperations>> = vec![Box::new(MyCircle(Circle { radius: 1.0 }))];
    assert!(shapes[0].area().unwrap() > 3.0);
}

#[test]
fn values_go_into_an_any_and_come_out_a_graph() {
    use orb::codegen::Any;
    let (g, a, _) = ring();
    let h = Some(ValueHandle::new(g, a));
    let any = Any::insert(&h).unwrap();
    assert_eq!(any.type_code(), &Node::type_code());
    // Through the any's own encoding and back.
    let back = round_trip(&any, ByteOrder::BigEndian);
    let out: Option<ValueHandle<Node>> = back.get().unwrap();
    assert_ring(out.as_ref().unwrap());
    assert_eq!(out, h);
    // A box, and the wrong type refused.
    let boxed = Any::insert(&Some(ValueHandle::from_value(LongBox(5)))).unwrap();
    let b: Option<ValueHandle<LongBox>> = boxed.get().unwrap();
    assert_eq!(b.unwrap().get().unwrap().0, 5);
    assert!(boxed.get::<Option<ValueHandle<Node>>>().is_err());
}
