//! `Interop::Tester` called through DII: requests built from operation names, `Any`
//! arguments and TypeCodes, no generated stub, checked exactly as [`crate::check_all`] checks
//! the stubs' results. Against the omniORB server this checks rtorb's DII on the wire; against
//! `interop-server --dsi`, DII and DSI together.

use crate::interop::{self, Color, Failure, Grid, Point, Record, Shape};
use crate::{sample_record, Report, NAME};
use orb::dynamic::{Request, RequestError, Response};
use orb::typecode::{Any, AnyType, TypeCode};
use orb::ObjectRef;

/// A request for `op` with `in` arguments `args` and a result of type `result`.
fn request(target: &ObjectRef, op: &str, args: Vec<Any>, result: TypeCode) -> Request {
    let mut req = Request::new(target, op);
    for a in args {
        req.add_in_arg(a);
    }
    req.set_return_type(result);
    req
}

/// Invokes `req` and takes its result out as a `T`, or says what went wrong.
fn result<T: AnyType>(req: &Request) -> Result<T, String> {
    let Response { result, .. } = req.invoke().map_err(|e| format!("{e}"))?;
    result.get::<T>().map_err(|e| e.to_string())
}

/// Calls `op(arg)` returning the same type as `arg` (or `R`, given by its TypeCode).
fn call<A: AnyType, R: AnyType>(target: &ObjectRef, op: &str, arg: &A) -> Result<R, String> {
    let arg = Any::insert(arg).map_err(|e| e.to_string())?;
    result(&request(target, op, vec![arg], R::type_code()))
}

fn any<T: AnyType>(v: &T) -> Any {
    // The values are the checks' own, which fit their types.
    Any::insert(v).unwrap_or_default()
}

/// The DII checks: every operation of `check_all` with no wide characters or `long double`
/// (which [`crate::PeerOrb`] keeps from omniORB), plus a deferred request.
pub fn check_dii(t: &ObjectRef) -> Report {
    let mut r = Report::default();
    r.check(
        "echo_long",
        call::<i32, i32>(t, "echo_long", &i32::MIN),
        i32::MIN,
    );
    r.check(
        "echo_ulonglong",
        call::<u64, u64>(t, "echo_ulonglong", &(u64::MAX - 7)),
        u64::MAX - 7,
    );
    r.check(
        "echo_double",
        call::<f64, f64>(t, "echo_double", &(std::f64::consts::PI * 1e300)),
        std::f64::consts::PI * 1e300,
    );
    r.check("negate", call::<bool, bool>(t, "negate", &true), false);
    r.check("echo_octet", call::<u8, u8>(t, "echo_octet", &0xa5), 0xa5);
    r.check("next_char", call::<char, char>(t, "next_char", &'é'), 'ê');
    r.check(
        "reverse_string",
        call::<String, String>(t, "reverse_string", &"Grüß dich, omniORB".to_owned()),
        "BROinmo ,hcid ßürG".to_owned(),
    );
    r.check(
        "next_color",
        call::<Color, Color>(t, "next_color", &Color::Blue),
        Color::Red,
    );
    r.check(
        "echo_record",
        call::<Record, Record>(t, "echo_record", &sample_record(3)),
        sample_record(3),
    );
    for shape in [
        Shape::Radius(7),
        Shape::Label(3, "three".into()),
        Shape::Weight(99, -0.5),
    ] {
        r.check(
            "echo_shape",
            call::<Shape, Shape>(t, "echo_shape", &shape),
            shape,
        );
    }
    let records: Vec<Record> = (1..=4).map(sample_record).collect();
    r.check(
        "reverse_records",
        Any::insert_as(interop::records_type_code(), &records)
            .map_err(|e| e.to_string())
            .and_then(|a| {
                result::<Vec<Record>>(&request(
                    t,
                    "reverse_records",
                    vec![a],
                    interop::records_type_code(),
                ))
            }),
        records.iter().rev().cloned().collect(),
    );
    let grid: Grid = [[1, 2, 3], [4, 5, 6]];
    r.check(
        "rotate_add",
        result::<Grid>(&request(
            t,
            "rotate_add",
            vec![any(&grid), Any::from(10i32)],
            interop::grid_type_code(),
        )),
        [[16, 15, 14], [13, 12, 11]],
    );
    let point = Point { x: -8, y: 1 << 20 };
    r.check(
        "echo_any",
        call::<Any, Any>(t, "echo_any", &any(&point)).and_then(|a| {
            a.get::<Point>()
                .map_err(|e| format!("the any came back without an Interop::Point: {e}"))
        }),
        point,
    );
    r.check("make_peer", make_peer(t, 41), 41);
    r.check("exchange", exchange(t), true);
    r.check(
        "_set_counter",
        request(t, "_set_counter", vec![Any::from(-77i32)], TypeCode::Void)
            .invoke()
            .map(|_| ()),
        (),
    );
    r.check(
        "_get_counter",
        result::<i32>(&request(t, "_get_counter", vec![], TypeCode::Long)),
        -77,
    );
    r.check(
        "_get_name",
        result::<String>(&request(t, "_get_name", vec![], TypeCode::string(0))),
        NAME.to_owned(),
    );
    r.check(
        "fail",
        fail(t, true),
        "IDL:Interop/Failure:1.0 1234 failure 1234".to_owned(),
    );
    r.check(
        "fail undeclared",
        fail(t, false),
        "IDL:Interop/Failure:1.0".to_owned(),
    );
    r.check(
        "notify",
        request(t, "notify", vec![Any::from(8086i32)], TypeCode::Void).send_oneway(),
        (),
    );
    r.check("last_notified", last_notified(t, 8086), 8086);
    r.check("echo_long deferred", deferred(t), 7);
    r
}

/// `make_peer(id)`, then the Peer's `id` attribute through the reference that came back.
fn make_peer(t: &ObjectRef, id: i32) -> Result<i32, String> {
    let peer: ObjectRef = result(&request(
        t,
        "make_peer",
        vec![Any::from(id)],
        interop::peer::type_code(),
    ))?;
    result(&request(&peer, "_get_id", vec![], TypeCode::Long))
}

/// `exchange(inout a, inout s, out d, out p)`: whether every value came back as expected.
fn exchange(t: &ObjectRef) -> Result<bool, String> {
    let mut req = Request::new(t, "exchange");
    req.add_inout_arg(Any::from(21i32))
        .add_inout_arg(Any::from("hé"))
        .add_out_arg(TypeCode::Double)
        .add_out_arg(Point::type_code())
        .set_return_type(TypeCode::Long);
    let resp = req.invoke().map_err(|e| e.to_string())?;
    let outs = &resp.outs;
    if outs.len() != 4 {
        return Err(format!("{} out values, expected 4", outs.len()));
    }
    let got = (
        resp.result.get::<i32>(),
        outs[0].get::<i32>(),
        outs[1].get::<String>(),
        outs[2].get::<f64>(),
        outs[3].get::<Point>(),
    );
    let want = (
        Ok(42),
        Ok(22),
        Ok("hé!".to_owned()),
        Ok(5.25),
        Ok(Point { x: 21, y: -21 }),
    );
    if got == want {
        Ok(true)
    } else {
        Err(format!("returned {got:?}"))
    }
}

/// `fail(1234)`: the user exception as an any of its type when `declared`, else only its id.
fn fail(t: &ObjectRef, declared: bool) -> Result<String, String> {
    let mut req = request(t, "fail", vec![Any::from(1234i32)], TypeCode::Void);
    if declared {
        req.add_exception(Failure::type_code());
    }
    match req.invoke() {
        Err(RequestError::User { id, exception }) => {
            let f = exception.get::<Failure>().map_err(|e| e.to_string())?;
            Ok(format!("{id} {} {}", f.code, f.reason))
        }
        Err(RequestError::UndeclaredUser { id }) if !declared => Ok(id),
        other => Err(format!("{other:?}")),
    }
}

/// What `last_notified` says once the oneway `notify(token)` arrived (asked up to 200 times,
/// as the C++ client does).
fn last_notified(t: &ObjectRef, token: i32) -> Result<i32, String> {
    let req = request(t, "last_notified", vec![], TypeCode::Long);
    let mut seen = 0;
    for _ in 0..200 {
        seen = result(&req)?;
        if seen == token {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(seen)
}

/// `echo_long(7)` sent deferred, polled until its reply came, then collected.
fn deferred(t: &ObjectRef) -> Result<i32, String> {
    let mut pending =
        request(t, "echo_long", vec![Any::from(7i32)], TypeCode::Long).send_deferred();
    // The call itself is bounded by the ORB's timeouts; the poll only waits for it.
    while !pending.poll_response() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let resp = pending.get_response().map_err(|e| e.to_string())?;
    resp.result.get::<i32>().map_err(|e| e.to_string())
}
