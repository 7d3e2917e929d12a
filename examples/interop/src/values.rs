//! Objects by value with omniORB (`idl/values.idl`), through the dynamic interfaces only: the
//! values are [`Value`]s shaped by hand-written TypeCodes, sent by DII ([`check_values`],
//! against `cpp/values_server.cc`) and received by a DSI servant ([`ValuesDsi`], called by
//! `cpp/values_client.cc`). The two clients make the same checks:
//!
//! - a graph comes back as that graph: the chain 1 → 2 → 3 → 2 (node 2 shared by 1 and 3, and
//!   closing a cycle) and the sequence `[x, y, x, null]` with x → y → x keep their shared
//!   values as indirections ([`Value::SharedValue`] here), not copies;
//! - a `Derived` (truncatable, with a nested node graph in the part that is dropped) sent to a
//!   receiver that knows only `Base`, and one made by the server for a client that knows only
//!   `Base`, arrive as their `Base` state;
//! - value boxes (`long`, `string`) and null values of every kind come back unchanged;
//! - an `any` holding the chain (or a null node) comes back holding it;
//! - an abstract interface (`Thing`) carrying an object reference, or nil, comes back so. (One
//!   carrying a value is not exchanged: an `any` cannot hold it, as its TypeCode is not sent.)

use crate::Report;
use orb::dynamic::{DynamicImplementation, ParamMode, Request, ServerRequest};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::iop::Ior;
use orb::typecode::{
    Any, Named, TCKind, TypeCode, Value, ValueInstance, ValueMember, ValueType, ValueTypeInfo,
};
use orb::ObjectRef;
use std::sync::Arc;

pub const NODE_ID: &str = "IDL:Values/Node:1.0";
pub const NODE_SEQ_ID: &str = "IDL:Values/NodeSeq:1.0";
pub const BASE_ID: &str = "IDL:Values/Base:1.0";
pub const DERIVED_ID: &str = "IDL:Values/Derived:1.0";
pub const LONG_BOX_ID: &str = "IDL:Values/LongBox:1.0";
pub const STRING_BOX_ID: &str = "IDL:Values/StringBox:1.0";
pub const VALUE_TESTER_ID: &str = "IDL:Values/ValueTester:1.0";
pub const THING_ID: &str = "IDL:Values/Thing:1.0";

/// `abstract interface Thing`.
pub fn thing_tc() -> TypeCode {
    TypeCode::AbstractInterface(Arc::new(Named {
        id: THING_ID.into(),
        name: "Thing".into(),
    }))
}

fn public(name: &str, type_code: TypeCode) -> ValueMember {
    ValueMember {
        name: name.into(),
        type_code,
        visibility: ValueMember::PUBLIC,
    }
}

fn value_tc(
    id: &str,
    name: &str,
    modifier: i16,
    concrete_base: TypeCode,
    members: Vec<ValueMember>,
) -> TypeCode {
    TypeCode::Value(Arc::new(ValueType {
        id: id.into(),
        name: name.into(),
        modifier,
        concrete_base,
        members,
    }))
}

/// `valuetype Node { public long id; public Node next; }`.
pub fn node_tc() -> TypeCode {
    value_tc(
        NODE_ID,
        "Node",
        ValueType::VM_NONE,
        TypeCode::Null,
        vec![
            public("id", TypeCode::Long),
            public("next", TypeCode::recursive(TCKind::Value, NODE_ID)),
        ],
    )
}

/// `typedef sequence<Node> NodeSeq`.
pub fn node_seq_tc() -> TypeCode {
    TypeCode::alias(NODE_SEQ_ID, "NodeSeq", TypeCode::sequence(node_tc(), 0))
}

/// `valuetype Base { public long id; public string label; }`.
pub fn base_tc() -> TypeCode {
    value_tc(
        BASE_ID,
        "Base",
        ValueType::VM_NONE,
        TypeCode::Null,
        vec![
            public("id", TypeCode::Long),
            public("label", TypeCode::string(0)),
        ],
    )
}

/// `valuetype Derived : truncatable Base { public string note; public Node tail; }`.
pub fn derived_tc() -> TypeCode {
    value_tc(
        DERIVED_ID,
        "Derived",
        ValueType::VM_TRUNCATABLE,
        base_tc(),
        vec![
            public("note", TypeCode::string(0)),
            public("tail", node_tc()),
        ],
    )
}

pub fn long_box_tc() -> TypeCode {
    TypeCode::value_box(LONG_BOX_ID, "LongBox", TypeCode::Long)
}

pub fn string_box_tc() -> TypeCode {
    TypeCode::value_box(STRING_BOX_ID, "StringBox", TypeCode::string(0))
}

/// A value instance sent with its one repository id.
fn instance(id: &str, state: Vec<Value>) -> Value {
    Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info: ValueTypeInfo::Single(id.into()),
        state,
    })))
}

fn node(id: i32, next: Value) -> Value {
    instance(NODE_ID, vec![Value::Long(id), next])
}

const NULL: Value = Value::Valuetype(None);

/// 1 → 2 → 3 → back to 2. Instances are numbered in the order their tags are written (1 is
/// 0, 2 is 1, 3 is 2), so 3's `next` is `SharedValue(1)`.
pub fn cyclic_chain() -> Value {
    node(1, node(2, node(3, Value::SharedValue(1))))
}

/// `[x, y, x, null]` with x → y → x: y is written inside x, so the second and third elements
/// are indirections (to y, instance 1, and x, instance 0).
pub fn shared_sequence() -> Value {
    Value::Sequence(vec![
        node(10, node(20, Value::SharedValue(0))),
        Value::SharedValue(1),
        Value::SharedValue(0),
        NULL,
    ])
}

/// `n` nodes as a `NodeSeq` of all of them, in chains of 10 whose last node points back at the
/// first: the first element of each chain holds the chain, the other nine are indirections
/// into it. Node `i` is instance `i`.
pub fn chains(n: u32) -> Value {
    let chain = |first: u32| {
        let last = (first + 9).min(n - 1);
        (first..=last)
            .rev()
            .fold(Value::SharedValue(first), |next, id| node(id as i32, next))
    };
    Value::Sequence(
        (0..n)
            .map(|i| {
                if i % 10 == 0 {
                    chain(i)
                } else {
                    Value::SharedValue(i)
                }
            })
            .collect(),
    )
}

/// How many value instances `value` holds (written in full, not as indirections).
pub fn instance_count(value: &Value) -> usize {
    match value {
        Value::Valuetype(Some(v)) => 1 + v.state.iter().map(instance_count).sum::<usize>(),
        Value::Sequence(vs) | Value::Struct(vs) | Value::Array(vs) => {
            vs.iter().map(instance_count).sum()
        }
        _ => 0,
    }
}

/// A `Derived`: its `Base` state (`id`, `label`), then a note and a tail, the two-node cycle
/// 1 → 2 → 1, that a receiver knowing only `Base` skips. Sent with the list of its
/// truncatable ids, most derived first.
pub fn derived(id: i32, label: &str) -> Value {
    Value::Valuetype(Some(Box::new(ValueInstance {
        codebase: None,
        type_info: ValueTypeInfo::Truncatable(vec![DERIVED_ID.into(), BASE_ID.into()]),
        state: vec![
            Value::Long(id),
            Value::String(label.into()),
            Value::String("dropped by truncation".into()),
            node(1, node(2, Value::SharedValue(1))),
        ],
    })))
}

fn boxed(id: &str, content: Value) -> Value {
    instance(id, vec![content])
}

/// `value` with what the sender chose and the graph does not depend on taken out: whether the
/// repository id was sent or implied by the formal type (omniORB sends none for a `Node` whose
/// formal type is `Node`), and codebase URLs. What remains is the shape: states, nulls, and
/// which places are shared.
pub fn graph_of(value: &Value) -> Value {
    match value {
        Value::Valuetype(Some(v)) => Value::Valuetype(Some(Box::new(ValueInstance {
            codebase: None,
            type_info: ValueTypeInfo::Implied,
            state: v.state.iter().map(graph_of).collect(),
        }))),
        Value::Sequence(vs) => Value::Sequence(vs.iter().map(graph_of).collect()),
        Value::Any(a) => Value::Any(Box::new(
            Any::new(a.type_code().clone(), graph_of(a.value())).unwrap_or_default(),
        )),
        other => other.clone(),
    }
}

/// What a receiver that knows only `Base` makes of a `Base` or a `Derived`: the `Base` state
/// and, when ids came with it, `Base`'s id first. `None` for anything else.
pub fn as_base(value: &Value) -> Option<(i32, String)> {
    let Value::Valuetype(Some(v)) = value else {
        return None;
    };
    if v.type_info.ids().first().is_some_and(|id| id != BASE_ID) {
        return None;
    }
    match v.state.as_slice() {
        [Value::Long(id), Value::String(label)] => Some((*id, label.clone())),
        _ => None,
    }
}

/// `op(args...)` returning a value of type `result`, the result's value.
fn call(target: &ObjectRef, op: &str, args: Vec<Any>, result: TypeCode) -> Result<Value, String> {
    let mut req = Request::new(target, op);
    for a in args {
        req.add_in_arg(a);
    }
    req.set_return_type(result);
    let response = req.invoke().map_err(|e| e.to_string())?;
    Ok(response.result.into_parts().1)
}

fn any(type_code: TypeCode, value: Value) -> Result<Any, String> {
    Any::new(type_code, value).map_err(|e| format!("the argument does not fit its type: {e}"))
}

/// `op` echoes `value` of type `tc`: what came back, as a graph.
fn echo(target: &ObjectRef, op: &str, tc: TypeCode, value: Value) -> Result<Value, String> {
    let arg = any(tc.clone(), value)?;
    call(target, op, vec![arg], tc).map(|v| graph_of(&v))
}

/// The DII client's checks against a ValueTester (the omniORB server, or [`ValuesDsi`]).
/// Each argument is an `any` holding its own values, so DII sends a node passed twice as two
/// values (omniORB sends one and an indirection); replies may refer back across the result
/// and the out values (`twice`).
pub fn check_values(t: &ObjectRef) -> Report {
    let mut r = Report::default();
    r.check(
        "echo_node",
        echo(t, "echo_node", node_tc(), cyclic_chain()),
        graph_of(&cyclic_chain()),
    );
    r.check(
        "echo_node null",
        echo(t, "echo_node", node_tc(), NULL),
        NULL,
    );
    r.check(
        "echo_nodes",
        echo(t, "echo_nodes", node_seq_tc(), shared_sequence()),
        graph_of(&shared_sequence()),
    );
    r.check(
        "echo_base",
        any(derived_tc(), derived(7, "seven"))
            .and_then(|a| call(t, "echo_base", vec![a], base_tc()))
            .map(|v| as_base(&v)),
        Some((7, "seven".to_owned())),
    );
    r.check(
        "make_derived",
        call(t, "make_derived", vec![Any::from(42i32)], base_tc()).map(|v| as_base(&v)),
        Some((42, "made".to_owned())),
    );
    r.check(
        "echo_long_box",
        echo(
            t,
            "echo_long_box",
            long_box_tc(),
            boxed(LONG_BOX_ID, Value::Long(-123456)),
        ),
        graph_of(&boxed(LONG_BOX_ID, Value::Long(-123456))),
    );
    r.check(
        "echo_long_box null",
        echo(t, "echo_long_box", long_box_tc(), NULL),
        NULL,
    );
    let text = boxed(STRING_BOX_ID, Value::String("boxed text".into()));
    r.check(
        "echo_string_box",
        echo(t, "echo_string_box", string_box_tc(), text.clone()),
        graph_of(&text),
    );
    r.check(
        "echo_string_box null",
        echo(t, "echo_string_box", string_box_tc(), NULL),
        NULL,
    );
    for (label, held) in [("echo_any", cyclic_chain()), ("echo_any null", NULL)] {
        let want = Value::Any(Box::new(
            Any::new(node_tc(), graph_of(&held)).unwrap_or_default(),
        ));
        r.check(
            label,
            any(node_tc(), held)
                .and_then(|a| echo(t, "echo_any", TypeCode::Any, Value::Any(Box::new(a)))),
            want,
        );
    }
    let single = node(9, NULL);
    r.check(
        "second",
        any(node_tc(), cyclic_chain())
            .and_then(|a| Ok((a, any(node_tc(), single.clone())?)))
            .and_then(|(a, b)| call(t, "second", vec![a, b], node_tc()))
            .map(|v| graph_of(&v)),
        graph_of(&single),
    );
    r.check(
        "twice",
        any(node_tc(), cyclic_chain()).and_then(|a| {
            let mut req = Request::new(t, "twice");
            req.add_in_arg(a)
                .add_out_arg(node_tc())
                .set_return_type(node_tc());
            let response = req.invoke().map_err(|e| e.to_string())?;
            Ok(std::iter::once(&response.result)
                .chain(&response.outs)
                .map(|a| graph_of(a.value()))
                .collect::<Vec<_>>())
        }),
        vec![graph_of(&cyclic_chain()); 2],
    );
    for (label, sent) in [
        ("echo_thing", t.ior().clone()),
        ("echo_thing nil", Ior::nil()),
    ] {
        r.check(
            label,
            any(thing_tc(), Value::ObjRef(Box::new(sent.clone())))
                .and_then(|a| call(t, "echo_thing", vec![a], thing_tc())),
            Value::ObjRef(Box::new(sent)),
        );
    }
    r
}

/// A ValueTester implemented by DSI: each operation reads its arguments by the TypeCodes
/// above and answers as `cpp/values_server.cc` does. It knows no `Derived` when reading: an
/// argument of formal type `Base` is read by `Base`'s TypeCode, which truncates.
pub struct ValuesDsi;

fn one_in(req: &mut ServerRequest<'_, '_>, tc: TypeCode) -> Result<Any, SystemException> {
    let mut args = req.arguments(&[(ParamMode::In, tc)])?;
    args.pop().ok_or(SystemException::new(
        SystemExceptionKind::INTERNAL,
        0,
        CompletionStatus::No,
    ))
}

impl DynamicImplementation for ValuesDsi {
    fn repository_id(&self) -> &'static str {
        VALUE_TESTER_ID
    }

    fn is_a(&self, id: &str) -> bool {
        [
            VALUE_TESTER_ID,
            THING_ID,
            orb::codegen::OBJECT_REPOSITORY_ID,
        ]
        .contains(&id)
    }

    fn invoke(&self, req: &mut ServerRequest<'_, '_>) -> Result<(), SystemException> {
        let echoed = match req.operation() {
            "echo_node" => node_tc(),
            "echo_nodes" => node_seq_tc(),
            "echo_base" => base_tc(),
            "echo_long_box" => long_box_tc(),
            "echo_string_box" => string_box_tc(),
            "echo_any" => TypeCode::Any,
            "echo_thing" => thing_tc(),
            "make_derived" => {
                let id = one_in(req, TypeCode::Long)?.as_i32().ok_or(bad_param())?;
                let made = Any::new(derived_tc(), derived(id, "made")).map_err(|_| marshal())?;
                req.set_result(made);
                return Ok(());
            }
            "second" => {
                let mut args =
                    req.arguments(&[(ParamMode::In, node_tc()), (ParamMode::In, node_tc())])?;
                req.set_result(args.pop().ok_or(bad_param())?);
                return Ok(());
            }
            "twice" => {
                let mut args =
                    req.arguments(&[(ParamMode::In, node_tc()), (ParamMode::Out, node_tc())])?;
                let n = args.pop().ok_or(bad_param())?;
                req.set_outs(vec![n.clone()]);
                req.set_result(n);
                return Ok(());
            }
            _ => return Err(SystemException::bad_operation()),
        };
        let v = one_in(req, echoed)?;
        req.set_result(v);
        Ok(())
    }
}

fn bad_param() -> SystemException {
    SystemException::new(SystemExceptionKind::BAD_PARAM, 0, CompletionStatus::No)
}

fn marshal() -> SystemException {
    SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::Yes)
}
