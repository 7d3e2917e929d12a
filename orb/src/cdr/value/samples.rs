//! Value types written by hand the way generated code will be, for the tests and the fuzz
//! target: a graph node (sharing, cycles), a truncatable base and derived pair, a value box.

use super::{
    ValueFactories, ValueFactory, ValueGraph, ValueInput, ValueOutput, ValueRef, ValueType,
};
use crate::cdr::{ByteOrder, DecodeError, Decoder, EncodeError, Encoder};

/// `valuetype Node { public string label; public long value; public Node left, right;
/// public ValueBase any; }`
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub label: String,
    pub value: i32,
    pub left: Option<ValueRef<Node>>,
    pub right: Option<ValueRef<Node>>,
    /// Any value at all: a [`Base`], [`Derived`], [`NameBox`] or [`Node`].
    pub any: Option<ValueRef<dyn ValueType>>,
}

/// `valuetype Base { public long x; }`
#[derive(Debug, Clone, PartialEq)]
pub struct Base {
    pub x: i32,
}

/// `valuetype Derived : truncatable Base { public string extra; public Node child; }`
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub x: i32,
    pub extra: String,
    pub child: Option<ValueRef<Node>>,
}

/// `valuetype NameBox string;`
#[derive(Debug, Clone, PartialEq)]
pub struct NameBox(pub String);

macro_rules! any_impls {
    () => {
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
        fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
            self
        }
    };
}

impl ValueType for Node {
    fn repository_id(&self) -> &str {
        Self::REPOSITORY_ID
    }
    fn write_state(&self, out: &mut ValueOutput<'_>) -> Result<(), EncodeError> {
        out.encoder().write_string(&self.label)?;
        out.encoder().write_long(self.value);
        out.write_value(self.left)?;
        out.write_value(self.right)?;
        out.write_value(self.any)
    }
    any_impls!();
}

impl ValueFactory for Node {
    const REPOSITORY_ID: &'static str = "IDL:samples/Node:1.0";
    fn read_state(input: &mut ValueInput<'_, '_>) -> Result<Self, DecodeError> {
        Ok(Node {
            label: input.decoder().read_string()?.into_owned(),
            value: input.decoder().read_long()?,
            left: input.read_value::<Node>()?,
            right: input.read_value::<Node>()?,
            any: input.read_value_base(None)?,
        })
    }
}

impl ValueType for Base {
    fn repository_id(&self) -> &str {
        Self::REPOSITORY_ID
    }
    fn write_state(&self, out: &mut ValueOutput<'_>) -> Result<(), EncodeError> {
        out.encoder().write_long(self.x);
        Ok(())
    }
    any_impls!();
}

impl ValueFactory for Base {
    const REPOSITORY_ID: &'static str = "IDL:samples/Base:1.0";
    fn read_state(input: &mut ValueInput<'_, '_>) -> Result<Self, DecodeError> {
        Ok(Base {
            x: input.decoder().read_long()?,
        })
    }
}

impl ValueType for Derived {
    fn repository_id(&self) -> &str {
        Self::REPOSITORY_ID
    }
    fn truncatable_bases(&self) -> &[&'static str] {
        &[Base::REPOSITORY_ID]
    }
    fn write_state(&self, out: &mut ValueOutput<'_>) -> Result<(), EncodeError> {
        out.encoder().write_long(self.x);
        out.encoder().write_string(&self.extra)?;
        out.write_value(self.child)
    }
    any_impls!();
}

impl ValueFactory for Derived {
    const REPOSITORY_ID: &'static str = "IDL:samples/Derived:1.0";
    fn read_state(input: &mut ValueInput<'_, '_>) -> Result<Self, DecodeError> {
        Ok(Derived {
            x: input.decoder().read_long()?,
            extra: input.decoder().read_string()?.into_owned(),
            child: input.read_value::<Node>()?,
        })
    }
}

impl ValueType for NameBox {
    fn repository_id(&self) -> &str {
        Self::REPOSITORY_ID
    }
    fn write_state(&self, out: &mut ValueOutput<'_>) -> Result<(), EncodeError> {
        out.encoder().write_string(&self.0)
    }
    any_impls!();
}

impl ValueFactory for NameBox {
    const REPOSITORY_ID: &'static str = "IDL:samples/NameBox:1.0";
    fn read_state(input: &mut ValueInput<'_, '_>) -> Result<Self, DecodeError> {
        Ok(NameBox(input.decoder().read_string()?.into_owned()))
    }
}

/// Every sample type.
pub fn all_factories() -> ValueFactories {
    let mut f = ValueFactories::new();
    f.register::<Node>()
        .register::<Base>()
        .register::<Derived>()
        .register::<NameBox>();
    f
}

/// A receiver that knows [`Base`] but not [`Derived`].
pub fn base_only_factories() -> ValueFactories {
    let mut f = ValueFactories::new();
    f.register::<Node>()
        .register::<Base>()
        .register::<NameBox>();
    f
}

/// Whether the graphs reached from `ra` in `a` and `rb` in `b` are the same graph: the same
/// values, shared and cyclic in the same places (a bijection between their nodes).
pub fn same_graph(
    a: &ValueGraph,
    ra: Option<ValueRef<dyn ValueType>>,
    b: &ValueGraph,
    rb: Option<ValueRef<dyn ValueType>>,
) -> bool {
    let mut a_to_b = std::collections::HashMap::new();
    let mut b_to_a = std::collections::HashMap::new();
    let mut work = vec![(ra, rb)];
    while let Some((x, y)) = work.pop() {
        let (x, y) = match (x, y) {
            (None, None) => continue,
            (Some(x), Some(y)) => (x, y),
            _ => return false,
        };
        match (a_to_b.get(&x.index()), b_to_a.get(&y.index())) {
            (Some(&bx), Some(&ay)) if bx == y.index() && ay == x.index() => continue,
            (None, None) => {}
            _ => return false,
        }
        a_to_b.insert(x.index(), y.index());
        b_to_a.insert(y.index(), x.index());
        let (Some(nx), Some(ny)) = (a.node(x), b.node(y)) else {
            return false;
        };
        let (nx, ny) = (nx.as_any(), ny.as_any());
        if let (Some(p), Some(q)) = (nx.downcast_ref::<Node>(), ny.downcast_ref::<Node>()) {
            if (&p.label, p.value) != (&q.label, q.value) {
                return false;
            }
            work.push((p.left.map(ValueRef::erase), q.left.map(ValueRef::erase)));
            work.push((p.right.map(ValueRef::erase), q.right.map(ValueRef::erase)));
            work.push((p.any, q.any));
        } else if let (Some(p), Some(q)) =
            (nx.downcast_ref::<Derived>(), ny.downcast_ref::<Derived>())
        {
            if (p.x, &p.extra) != (q.x, &q.extra) {
                return false;
            }
            work.push((p.child.map(ValueRef::erase), q.child.map(ValueRef::erase)));
        } else if let (Some(p), Some(q)) = (nx.downcast_ref::<Base>(), ny.downcast_ref::<Base>()) {
            if p != q {
                return false;
            }
        } else if let (Some(p), Some(q)) =
            (nx.downcast_ref::<NameBox>(), ny.downcast_ref::<NameBox>())
        {
            if p != q {
                return false;
            }
        } else {
            return false;
        }
    }
    true
}

/// Fuzz target body: `data[0]` bit 0 is the byte order, bit 1 picks the receiver that knows
/// only [`Base`]; the rest is read as one value of any sample type. What decodes must encode,
/// decode and encode again to the same octets, as the same graph; this panics if not (a bug).
pub fn fuzz_value(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let order = ByteOrder::from_flag(flags);
    let factories = if flags & 2 != 0 {
        base_only_factories()
    } else {
        all_factories()
    };
    let decode = |bytes: &[u8]| {
        let mut dec = Decoder::new(bytes, order);
        let mut reader = super::ValueReader::new(&factories, &dec);
        let root = reader.read_value_base(&mut dec, None)?;
        Ok::<_, DecodeError>((reader.into_graph(), root))
    };
    let encode = |graph: &ValueGraph, root| {
        let mut enc = Encoder::new(order);
        super::ValueWriter::new().write(&mut enc, graph, root)?;
        Ok::<_, EncodeError>(enc.into_vec())
    };
    let Ok((graph, root)) = decode(body) else {
        return;
    };
    let first = encode(&graph, root).expect("a decoded value graph must encode");
    let (again, root_again) = decode(&first).expect("an encoded value graph must decode");
    assert!(
        same_graph(&graph, root, &again, root_again),
        "value graph changed through encode/decode"
    );
    let second = encode(&again, root_again).expect("a decoded value graph must encode");
    assert_eq!(first, second, "value graph did not encode the same twice");
}
