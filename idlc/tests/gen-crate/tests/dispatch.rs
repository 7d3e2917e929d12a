//! Generated skeletons: every operation of a 50-operation interface dispatched with each demux
//! strategy to a servant that records its calls, replies compared octet for octet; `_is_a`,
//! `_non_existent`, unknown operations, undecodable arguments and user exceptions; the four
//! strategies give identical transcripts.

use orb::cdr::{ByteOrder, CdrEncode, Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::{minor, SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use std::sync::Mutex;

/// A servant that records each call as `(operation, arguments)`.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(String, String)>>,
}

impl Recorder {
    fn record(&self, op: &str, args: String) {
        self.calls.lock().unwrap().push((op.to_owned(), args));
    }

    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }
}

fn number(op: &str) -> i32 {
    op[2..].parse().unwrap()
}

// The five shapes of ops50.idl, one macro each, so that every strategy's copy of the trait
// gets the same implementation.
macro_rules! shape0 {
    ($($op:ident),*) => {$(
        fn $op(&self, a: i32) -> Result<i32, SystemException> {
            self.record(stringify!($op), format!("{a}"));
            Ok(a.wrapping_add(number(stringify!($op))))
        }
    )*};
}
macro_rules! shape1 {
    ($($op:ident),*) => {$(
        fn $op(&self, s: &str) -> Result<(String, i32), SystemException> {
            self.record(stringify!($op), s.to_owned());
            Ok((format!("{s}/{}", stringify!($op)), s.len() as i32))
        }
    )*};
}
macro_rules! shape2 {
    ($($op:ident),*) => {$(
        fn $op(&self, d: &mut f64) -> Result<(), SystemException> {
            self.record(stringify!($op), format!("{d}"));
            *d *= 2.0;
            Ok(())
        }
    )*};
}
macro_rules! shape3 {
    ($($op:ident),*) => {$(
        fn $op(&self, values: &[i32], reverse: bool) -> Result<Vec<i32>, SystemException> {
            self.record(stringify!($op), format!("{values:?} {reverse}"));
            let mut v = values.to_vec();
            if reverse {
                v.reverse();
            }
            v.push(number(stringify!($op)));
            Ok(v)
        }
    )*};
}
macro_rules! shape4 {
    ($m:ident; $($op:ident $err:ident),*) => {$(
        fn $op(&self, p: &$m::Point) -> Result<($m::Point, i16), $m::ops50::$err> {
            self.record(stringify!($op), format!("{} {}", p.x, p.y));
            if p.x < 0 {
                return Err($m::Bad { which: number(stringify!($op)) }.into());
            }
            if p.y < 0 {
                return Err(SystemException::new(SystemExceptionKind::TRANSIENT, 7, CompletionStatus::No).into());
            }
            Ok(($m::Point { x: p.y, y: p.x }, number(stringify!($op)) as i16))
        }
    )*};
}

macro_rules! impl_ops50 {
    ($($strategy:ident),*) => {$(
        impl idlc_tests::$strategy::ops50::many::Ops50 for Recorder {
            shape0!(op00, op05, op10, op15, op20, op25, op30, op35, op40, op45);
            shape1!(op01, op06, op11, op16, op21, op26, op31, op36, op41, op46);
            shape2!(op02, op07, op12, op17, op22, op27, op32, op37, op42, op47);
            shape3!(op03, op08, op13, op18, op23, op28, op33, op38, op43, op48);
            shape4!(m; op04 Op04Error, op09 Op09Error, op14 Op14Error, op19 Op19Error, op24 Op24Error,
                    op29 Op29Error, op34 Op34Error, op39 Op39Error, op44 Op44Error, op49 Op49Error);
        }
    )*};
}

mod m {
    pub use idlc_tests::perfect::ops50::many::*;
}

// Each strategy module has its own copy of the types; shape4 names them through `m`, so the
// impls for the other strategies need their own `m`.
impl_ops50!(perfect);
mod linear_impl {
    use super::*;
    mod m {
        pub use idlc_tests::linear::ops50::many::*;
    }
    impl_ops50!(linear);
}
mod binary_impl {
    use super::*;
    mod m {
        pub use idlc_tests::binary::ops50::many::*;
    }
    impl_ops50!(binary);
}
mod dynamic_impl {
    use super::*;
    mod m {
        pub use idlc_tests::dynamic::ops50::many::*;
    }
    impl_ops50!(dynamic);
}

const ORDER: ByteOrder = ByteOrder::BigEndian;

type Outcome = Result<(DispatchStatus, Vec<u8>), SystemException>;
type DispatchFn =
    fn(&Recorder, &str, &mut Decoder<'_>, &mut Encoder) -> Result<DispatchStatus, SystemException>;

fn call(dispatch: DispatchFn, servant: &Recorder, op: &str, args: &[u8]) -> Outcome {
    let mut dec = Decoder::new(args, ORDER);
    let mut reply = Encoder::new(ORDER);
    dispatch(servant, op, &mut dec, &mut reply).map(|s| (s, reply.into_vec()))
}

fn encode(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut e = Encoder::new(ORDER);
    f(&mut e);
    e.into_vec()
}

fn point(x: i32, y: i32) -> Vec<u8> {
    encode(|e| {
        e.write_long(x);
        e.write_long(y);
    })
}

/// Dispatches every operation (and the failure cases) and checks each reply and recorded
/// call; returns the transcript.
fn exercise(
    dispatch: DispatchFn,
    operations: &[&str],
    index: fn(&str) -> Option<usize>,
) -> Vec<(String, Outcome)> {
    let servant = Recorder::default();
    let mut transcript = Vec::new();
    assert_eq!(operations.len(), 53);
    for (i, name) in operations.iter().enumerate() {
        assert_eq!(index(name), Some(i), "{name}");
    }
    for n in 0..50 {
        let op = format!("op{n:02}");
        let (args, want, recorded): (Vec<u8>, Vec<u8>, String) = match n % 5 {
            0 => (
                encode(|e| e.write_long(1000)),
                encode(|e| e.write_long(1000 + n)),
                "1000".into(),
            ),
            1 => (
                encode(|e| e.write_string("hi").unwrap()),
                encode(|e| {
                    e.write_string(&format!("hi/{op}")).unwrap();
                    e.write_long(2);
                }),
                "hi".into(),
            ),
            2 => (
                encode(|e| e.write_double(1.5)),
                encode(|e| e.write_double(3.0)),
                "1.5".into(),
            ),
            3 => (
                encode(|e| {
                    vec![1i32, 2, 3].encode(e).unwrap();
                    e.write_bool(true);
                }),
                encode(|e| vec![3i32, 2, 1, n].encode(e).unwrap()),
                "[1, 2, 3] true".into(),
            ),
            _ => (
                point(4, 5),
                encode(|e| {
                    e.write_long(5);
                    e.write_long(4);
                    e.write_short(n as i16);
                }),
                "4 5".into(),
            ),
        };
        let got = call(dispatch, &servant, &op, &args);
        assert_eq!(got, Ok((DispatchStatus::NoException, want)), "{op}");
        assert_eq!(servant.take(), vec![(op.clone(), recorded)], "{op}");
        transcript.push((op.clone(), got));

        if n % 5 == 4 {
            // The user exception: its repository id, then its members.
            let got = call(dispatch, &servant, &op, &point(-1, 0));
            let want = encode(|e| {
                e.write_string("IDL:Many/Bad:1.0").unwrap();
                e.write_long(n);
            });
            assert_eq!(got, Ok((DispatchStatus::UserException, want)), "{op}");
            transcript.push((op.clone(), got));
            // A system exception from the servant passes through.
            let got = call(dispatch, &servant, &op, &point(0, -1));
            let e = got.clone().unwrap_err();
            assert_eq!((e.kind, e.minor), (SystemExceptionKind::TRANSIENT, 7));
            transcript.push((op.clone(), got));
            servant.take();
        }
    }

    // _is_a: the interface's id and CORBA::Object's, nothing else.
    for (id, yes) in [
        ("IDL:Many/Ops50:1.0", true),
        ("IDL:omg.org/CORBA/Object:1.0", true),
        ("IDL:Many/Other:1.0", false),
    ] {
        let got = call(
            dispatch,
            &servant,
            "_is_a",
            &encode(|e| e.write_string(id).unwrap()),
        );
        assert_eq!(
            got,
            Ok((DispatchStatus::NoException, vec![yes as u8])),
            "{id}"
        );
        transcript.push(("_is_a".into(), got));
    }
    for op in ["_non_existent", "_not_existent"] {
        let got = call(dispatch, &servant, op, &[]);
        assert_eq!(got, Ok((DispatchStatus::NoException, vec![0])));
        transcript.push((op.into(), got));
    }

    // Unknown operations (including near misses) are BAD_OPERATION, completed NO.
    for op in [
        "",
        "op50",
        "op0",
        "Op00",
        "op00 ",
        "_is_A",
        "_get_x",
        "a_much_longer_name_than_any_operation",
    ] {
        let got = call(dispatch, &servant, op, &[]);
        assert_eq!(
            got,
            Err(SystemException::new(
                SystemExceptionKind::BAD_OPERATION,
                minor::BAD_OPERATION_UNKNOWN_OPERATION,
                CompletionStatus::No
            )),
            "{op:?}"
        );
        transcript.push((op.into(), got));
    }

    // Arguments that do not decode are MARSHAL, completed NO, and the servant is not called.
    let got = call(dispatch, &servant, "op01", &[0, 0, 0, 9, b'x']);
    let e = got.clone().unwrap_err();
    assert_eq!(
        (e.kind, e.completed),
        (SystemExceptionKind::MARSHAL, CompletionStatus::No)
    );
    assert!(servant.take().is_empty());
    transcript.push(("op01".into(), got));
    transcript
}

macro_rules! strategy_tests {
    ($($strategy:ident),*) => {$(
        #[test]
        fn $strategy() {
            use idlc_tests::$strategy::ops50::many::ops50 as s;
            exercise(s::dispatch::<Recorder>, &s::OPERATIONS, s::operation_index);
        }
    )*};
}

mod ops50 {
    use super::*;
    strategy_tests!(perfect, linear, binary, dynamic);
}

#[test]
fn all_four_strategies_give_identical_results() {
    use idlc_tests::{binary, dynamic, linear, perfect};
    let p = exercise(
        perfect::ops50::many::ops50::dispatch::<Recorder>,
        &perfect::ops50::many::ops50::OPERATIONS,
        perfect::ops50::many::ops50::operation_index,
    );
    let l = exercise(
        linear::ops50::many::ops50::dispatch::<Recorder>,
        &linear::ops50::many::ops50::OPERATIONS,
        linear::ops50::many::ops50::operation_index,
    );
    let b = exercise(
        binary::ops50::many::ops50::dispatch::<Recorder>,
        &binary::ops50::many::ops50::OPERATIONS,
        binary::ops50::many::ops50::operation_index,
    );
    let d = exercise(
        dynamic::ops50::many::ops50::dispatch::<Recorder>,
        &dynamic::ops50::many::ops50::OPERATIONS,
        dynamic::ops50::many::ops50::operation_index,
    );
    assert_eq!(p, l);
    assert_eq!(p, b);
    assert_eq!(p, d);
    let mut names: Vec<&str> = perfect::ops50::many::ops50::OPERATIONS.to_vec();
    names.sort_unstable();
    assert_eq!(names, binary::ops50::many::ops50::OPERATIONS);
}
