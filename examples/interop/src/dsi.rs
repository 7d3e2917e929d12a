//! `Interop::Tester` as a DSI servant: every operation but the large-value ones, implemented
//! by hand from the operation's name and TypeCodes, with no generated skeleton. `interop-server --dsi` serves it so that the
//! omniORB client checks rtorb's DSI over the wire.

use crate::interop::{self, Color, Failure, Grid, Point, Record, Shape};
use orb::cdr::{WChar, WString};
use orb::dynamic::{DynamicImplementation, ParamMode, ServerRequest};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::typecode::{Any, AnyType, TypeCode};
use orb::Orb;
use std::sync::Mutex;

/// The Tester's state, as [`crate::TesterImpl`] keeps it.
pub struct DsiTester {
    /// Where `make_peer` activates its Peers.
    orb: Orb,
    counter: Mutex<i32>,
    last_notified: Mutex<i32>,
}

impl DsiTester {
    pub fn new(orb: Orb) -> DsiTester {
        DsiTester {
            orb,
            counter: Mutex::new(0),
            last_notified: Mutex::new(0),
        }
    }
}

/// Operations that return their one `in` argument unchanged, and its type.
fn echoed(operation: &str) -> Option<TypeCode> {
    Some(match operation {
        "echo_short" => TypeCode::Short,
        "echo_ushort" => TypeCode::UShort,
        "echo_long" => TypeCode::Long,
        "echo_ulong" => TypeCode::ULong,
        "echo_longlong" => TypeCode::LongLong,
        "echo_ulonglong" => TypeCode::ULongLong,
        "echo_float" => TypeCode::Float,
        "echo_double" => TypeCode::Double,
        "echo_octet" => TypeCode::Octet,
        "echo_record" => Record::type_code(),
        "echo_shape" => Shape::type_code(),
        "echo_any" => TypeCode::Any,
        "echo_peer" => interop::peer::type_code(),
        _ => return None,
    })
}

/// An argument that is not what the operation's TypeCodes said it is cannot happen once
/// they decoded; a mismatch is the servant's own mistake.
fn get<T: AnyType>(a: &Any) -> Result<T, SystemException> {
    a.get::<T>()
        .map_err(|_| SystemException::new(SystemExceptionKind::BAD_PARAM, 0, CompletionStatus::No))
}

fn put<T: AnyType>(v: &T) -> Result<Any, SystemException> {
    Any::insert(v)
        .map_err(|_| SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::Yes))
}

/// One `in` parameter of type `tc`.
fn one_in(req: &mut ServerRequest<'_, '_>, tc: TypeCode) -> Result<Any, SystemException> {
    let mut args = req.arguments(&[(ParamMode::In, tc)])?;
    args.pop().ok_or(SystemException::new(
        SystemExceptionKind::INTERNAL,
        0,
        CompletionStatus::No,
    ))
}

fn lock(m: &Mutex<i32>) -> std::sync::MutexGuard<'_, i32> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DynamicImplementation for DsiTester {
    fn repository_id(&self) -> &'static str {
        interop::tester::REPOSITORY_ID
    }

    fn is_a(&self, id: &str) -> bool {
        interop::tester::is_a(id)
    }

    fn invoke(&self, req: &mut ServerRequest<'_, '_>) -> Result<(), SystemException> {
        let op = req.operation().to_owned();
        if let Some(tc) = echoed(&op) {
            let v = one_in(req, tc)?;
            req.set_result(v);
            return Ok(());
        }
        use ParamMode::{In, InOut, Out};
        match op.as_str() {
            "negate" => {
                let v: bool = get(&one_in(req, TypeCode::Boolean)?)?;
                req.set_result(Any::from(!v));
            }
            "next_char" => {
                let v: char = get(&one_in(req, TypeCode::Char)?)?;
                req.set_result(Any::from(super::next_latin1(v)));
            }
            "reverse_string" => {
                let v: String = get(&one_in(req, TypeCode::string(0))?)?;
                req.set_result(Any::from(v.chars().rev().collect::<String>()));
            }
            "next_color" => {
                let c: Color = get(&one_in(req, Color::type_code())?)?;
                let next = match c {
                    Color::Red => Color::Green,
                    Color::Green => Color::Blue,
                    Color::Blue => Color::Red,
                };
                req.set_result(put(&next)?);
            }
            "next_wchar" => {
                let c: WChar = get(&one_in(req, TypeCode::WChar)?)?;
                req.set_result(put(&WChar(super::next_bmp(c.0)))?);
            }
            "reverse_wstring" => {
                let s: WString = get(&one_in(req, TypeCode::wstring(0))?)?;
                req.set_result(put(&WString(super::reverse_utf16(&s.0)))?);
            }
            "reverse_records" => {
                let mut rs: Vec<Record> = get(&one_in(req, interop::records_type_code())?)?;
                rs.reverse();
                req.set_result(Any::insert_as(interop::records_type_code(), &rs).map_err(
                    |_| {
                        SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::Yes)
                    },
                )?);
            }
            "rotate_add" => {
                let args =
                    req.arguments(&[(In, interop::grid_type_code()), (In, TypeCode::Long)])?;
                let g: Grid = get(&args[0])?;
                let k: i32 = get(&args[1])?;
                req.set_result(put(&super::rotate_add(&g, k))?);
            }
            "make_peer" => {
                let id: i32 = get(&one_in(req, TypeCode::Long)?)?;
                let peer = self
                    .orb
                    .activate(
                        &self.orb.root_poa(),
                        interop::peer::servant(super::PeerImpl { id }),
                    )
                    .map_err(|e| match e {
                        orb::OrbError::System(s) => s,
                        _ => SystemException::new(
                            SystemExceptionKind::INTERNAL,
                            0,
                            CompletionStatus::No,
                        ),
                    })?;
                req.set_result(Any::insert_as(interop::peer::type_code(), &peer).map_err(
                    |_| {
                        SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::Yes)
                    },
                )?);
            }
            "exchange" => {
                let args = req.arguments(&[
                    (InOut, TypeCode::Long),
                    (InOut, TypeCode::string(0)),
                    (Out, TypeCode::Double),
                    (Out, Point::type_code()),
                ])?;
                let a: i32 = get(&args[0])?;
                let s: String = get(&args[1])?;
                req.set_result(Any::from(a.wrapping_mul(2)));
                req.set_outs(vec![
                    Any::from(a.wrapping_add(1)),
                    Any::from(s + "!"),
                    Any::from(f64::from(a) / 4.0),
                    put(&Point {
                        x: a,
                        y: a.wrapping_neg(),
                    })?,
                ]);
            }
            "_get_counter" => {
                req.arguments(&[])?;
                req.set_result(Any::from(*lock(&self.counter)));
            }
            "_set_counter" => {
                *lock(&self.counter) = get(&one_in(req, TypeCode::Long)?)?;
            }
            "_get_name" => {
                req.arguments(&[])?;
                req.set_result(Any::from(crate::NAME));
            }
            "fail" => {
                let code: i32 = get(&one_in(req, TypeCode::Long)?)?;
                req.set_exception(put(&Failure {
                    code,
                    reason: format!("failure {code}"),
                })?);
            }
            "notify" => {
                *lock(&self.last_notified) = get(&one_in(req, TypeCode::Long)?)?;
            }
            "last_notified" => {
                req.arguments(&[])?;
                req.set_result(Any::from(*lock(&self.last_notified)));
            }
            _ => return Err(SystemException::bad_operation()),
        }
        Ok(())
    }
}
