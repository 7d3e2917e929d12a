//! Objects by value through idlc's generated code (`idl/values.idl`): a `ValueTester` servant
//! answering as omniORB's `cpp/values_server.cc` does, and the checks a Rust client makes of
//! any `ValueTester`, as `cpp/values_client.cc` makes them.

use crate::generated_values::values::{
    Base, Derived, LongBox, Node, StringBox, Thing, ThingValue, ValueTester, ValueTesterRef,
};
use orb::codegen::{AbstractRef, Any, ObjectRef, ValueGraph, ValueHandle};
use orb::exception::SystemException;
use std::sync::Arc;

/// Echoes what it is sent; `make_derived` makes a `Derived` whose tail is a two-node cycle.
pub struct ValueTesterImpl;

impl Thing for ValueTesterImpl {}

impl ValueTester for ValueTesterImpl {
    fn echo_node(
        &self,
        n: &Option<ValueHandle<Node>>,
    ) -> Result<Option<ValueHandle<Node>>, SystemException> {
        Ok(n.clone())
    }
    fn echo_nodes(
        &self,
        s: &[Option<ValueHandle<Node>>],
    ) -> Result<Vec<Option<ValueHandle<Node>>>, SystemException> {
        Ok(s.to_vec())
    }
    fn echo_base(
        &self,
        b: &Option<ValueHandle<Base>>,
    ) -> Result<Option<ValueHandle<Base>>, SystemException> {
        Ok(b.clone())
    }
    fn make_derived(&self, id: i32) -> Result<Option<ValueHandle<Base>>, SystemException> {
        let mut g = ValueGraph::new();
        let a = g.insert(Node { id: 1, next: None });
        let b = g.insert(Node {
            id: 2,
            next: Some(a),
        });
        g.get_mut(a).expect("just inserted").next = Some(b);
        let d = g.insert(Derived {
            id,
            label: "made".into(),
            note: "dropped by truncation".into(),
            tail: Some(a),
        });
        Ok(ValueHandle::new(Arc::new(g), d).upcast::<Base>())
    }
    fn echo_long_box(
        &self,
        b: &Option<ValueHandle<LongBox>>,
    ) -> Result<Option<ValueHandle<LongBox>>, SystemException> {
        Ok(b.clone())
    }
    fn echo_string_box(
        &self,
        b: &Option<ValueHandle<StringBox>>,
    ) -> Result<Option<ValueHandle<StringBox>>, SystemException> {
        Ok(b.clone())
    }
    fn echo_any(&self, a: &Any) -> Result<Any, SystemException> {
        Ok(a.clone())
    }
    fn second(
        &self,
        _a: &Option<ValueHandle<Node>>,
        b: &Option<ValueHandle<Node>>,
    ) -> Result<Option<ValueHandle<Node>>, SystemException> {
        Ok(b.clone())
    }
    fn twice(
        &self,
        n: &Option<ValueHandle<Node>>,
    ) -> Result<(Option<ValueHandle<Node>>, Option<ValueHandle<Node>>), SystemException> {
        Ok((n.clone(), n.clone()))
    }
    fn echo_thing(&self, t: &AbstractRef) -> Result<AbstractRef, SystemException> {
        Ok(t.clone())
    }
}

/// `1 -> 2 -> 3 -> 2`: a chain whose last node points back at the second (a cycle, and node 2
/// shared by two others).
pub fn chain() -> Option<ValueHandle<Node>> {
    let mut g = ValueGraph::new();
    let n3 = g.insert(Node { id: 3, next: None });
    let n2 = g.insert(Node {
        id: 2,
        next: Some(n3),
    });
    g.get_mut(n3).expect("just inserted").next = Some(n2);
    let n1 = g.insert(Node {
        id: 1,
        next: Some(n2),
    });
    Some(ValueHandle::new(Arc::new(g), n1))
}

/// The ids along `h`'s `next` links, stopping at the first id seen again (`None` for a
/// link to no value of the graph); and whether it stopped at a cycle.
pub fn walk(h: &ValueHandle<Node>) -> (Vec<i32>, bool) {
    let Some(g) = h.graph() else {
        return (Vec::new(), false);
    };
    let mut ids = Vec::new();
    let mut seen = Vec::new();
    let mut at = Some(h.at());
    while let Some(r) = at {
        if seen.contains(&r) {
            return (ids, true);
        }
        seen.push(r);
        let Some(n) = g.get(r) else {
            return (ids, false);
        };
        ids.push(n.id);
        at = n.next;
    }
    (ids, false)
}

/// What one check found: the operation, and why it failed if it did.
pub struct Outcome {
    pub op: &'static str,
    pub failure: Option<String>,
}

/// Calls every operation of `t` and checks each result: graphs come back as graphs (the
/// cycle and the shared node kept), a `Derived` arrives as what the receiver knows, boxes and
/// nulls unchanged, and references as references.
pub fn check_values(t: &ValueTesterRef, me: &ObjectRef) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut check = |op: &'static str, r: Result<Option<String>, SystemException>| {
        let failure = match r {
            Ok(f) => f,
            Err(e) => Some(format!("raised {e}")),
        };
        out.push(Outcome { op, failure });
    };
    let is_chain = |h: &Option<ValueHandle<Node>>| {
        h.as_ref().is_some_and(|h| walk(h) == (vec![1, 2, 3], true))
    };

    check(
        "echo_node",
        t.echo_node(&chain())
            .map(|got| (!is_chain(&got)).then(|| format!("1 -> 2 -> 3 -> 2 came back as {got:?}"))),
    );
    check(
        "echo_node null",
        t.echo_node(&None)
            .map(|got| got.map(|g| format!("null came back as {g:?}"))),
    );
    check(
        "echo_nodes",
        t.echo_nodes(&[chain(), None, chain()]).map(|got| {
            let ok = got.len() == 3 && is_chain(&got[0]) && got[1].is_none() && is_chain(&got[2]);
            (!ok).then(|| format!("[chain, null, chain] came back as {got:?}"))
        }),
    );
    check(
        "echo_base",
        t.echo_base(
            &ValueHandle::from_value(Base {
                id: 7,
                label: "seven".into(),
            })
            .upcast::<Base>(),
        )
        .map(|got| {
            let ok = got
                .as_ref()
                .and_then(|g| g.get())
                .is_some_and(|b| b.id == 7 && b.label == "seven");
            (!ok).then(|| format!("Base(7, seven) came back as {got:?}"))
        }),
    );
    check(
        "make_derived",
        t.make_derived(42).map(|got| {
            // This receiver knows Derived only if registered; either way it is a Base to it.
            let node = got.as_ref().and_then(|g| g.node());
            let (id, label) = match node.map(|n| n.as_any()) {
                Some(a) if a.is::<Base>() => {
                    let b = a.downcast_ref::<Base>().expect("is a Base");
                    (b.id, b.label.clone())
                }
                Some(a) if a.is::<Derived>() => {
                    let d = a.downcast_ref::<Derived>().expect("is a Derived");
                    (d.id, d.label.clone())
                }
                _ => return Some(format!("no Base came back: {got:?}")),
            };
            (id != 42 || label != "made").then(|| format!("made ({id}, {label})"))
        }),
    );
    check(
        "echo_long_box",
        t.echo_long_box(&Some(ValueHandle::from_value(LongBox(-123_456))))
            .map(|got| {
                let ok = got.as_ref().and_then(|g| g.get()).map(|b| b.0) == Some(-123_456);
                (!ok).then(|| format!("LongBox(-123456) came back as {got:?}"))
            }),
    );
    check(
        "echo_string_box",
        t.echo_string_box(&Some(ValueHandle::from_value(StringBox(
            "boxed text".into(),
        ))))
        .map(|got| {
            let ok = got.as_ref().and_then(|g| g.get()).map(|b| b.0.as_str()) == Some("boxed text");
            (!ok).then(|| format!("StringBox came back as {got:?}"))
        }),
    );
    check(
        "echo_string_box null",
        t.echo_string_box(&None)
            .map(|got| got.map(|g| format!("null came back as {g:?}"))),
    );
    match Any::insert(&chain()) {
        Err(e) => check(
            "echo_any",
            Ok(Some(format!("the chain did not go into an any: {e}"))),
        ),
        Ok(a) => check(
            "echo_any",
            t.echo_any(&a)
                .map(|got| match got.get::<Option<ValueHandle<Node>>>() {
                    Ok(h) if is_chain(&h) => None,
                    other => Some(format!("an any of the chain came back as {other:?}")),
                }),
        ),
    }
    check(
        "second",
        {
            // One node as both arguments: the second an indirection into the first.
            let one = chain();
            t.second(&one, &one)
        }
        .map(|got| (!is_chain(&got)).then(|| format!("came back as {got:?}"))),
    );
    check(
        "twice",
        t.twice(&chain()).map(|(got, again)| {
            let ok = is_chain(&got)
                && is_chain(&again)
                && got.as_ref().map(|g| g.at()) == again.as_ref().map(|g| g.at());
            (!ok).then(|| format!("twice gave {got:?} and {again:?}"))
        }),
    );
    check(
        "echo_thing",
        t.echo_thing(&AbstractRef::Object(me.clone()))
            .map(|got| match got {
                AbstractRef::Object(o) if !o.is_nil() => None,
                other => Some(format!("a reference came back as {other:?}")),
            }),
    );
    // A value where the abstract interface is expected: the receiver must know its type.
    orb::codegen::register_value_factory::<ThingValue>();
    let value = AbstractRef::Value(Some(ValueHandle::from_value(ThingValue { n: 5 }).erase()));
    check(
        "echo_thing value",
        t.echo_thing(&value).map(|got| match &got {
            AbstractRef::Value(Some(v))
                if v.downcast::<ThingValue>()
                    .and_then(|h| h.get().map(|t| t.n))
                    == Some(5) =>
            {
                None
            }
            other => Some(format!("a ThingValue(5) came back as {other:?}")),
        }),
    );
    out
}
