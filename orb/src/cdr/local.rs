//! What IDL data may hold but CDR cannot carry: references to local interfaces and values of
//! `native` types. They live as Rust values (a trait object; a value of the application's
//! choosing) and refuse to be marshalled: encoding one is an error, which the ORB raises as
//! MARSHAL, as CORBA 3 §10.3 has it for a local object passed to a remote operation (minor 4).
//! Decoding one cannot happen with valid IDL (the front end keeps local types out of remote
//! operations) and is refused too.

use super::{CdrDecode, CdrEncode, DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder};
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A reference to a local object: `LocalRef<dyn L>` for IDL `local interface L` (the trait
/// idlc generates for it). `Default` is nil.
pub struct LocalRef<T: ?Sized>(pub Option<Arc<T>>);

impl<T: ?Sized> LocalRef<T> {
    pub fn new(object: Arc<T>) -> LocalRef<T> {
        LocalRef(Some(object))
    }

    pub fn nil() -> LocalRef<T> {
        LocalRef(None)
    }

    /// The object, `None` for nil.
    pub fn get(&self) -> Option<&Arc<T>> {
        self.0.as_ref()
    }
}

impl<T: ?Sized> Default for LocalRef<T> {
    fn default() -> Self {
        LocalRef(None)
    }
}

impl<T: ?Sized> Clone for LocalRef<T> {
    fn clone(&self) -> Self {
        LocalRef(self.0.clone())
    }
}

/// The same object, as CORBA's `is_equivalent` would say of local objects.
impl<T: ?Sized> PartialEq for LocalRef<T> {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T: ?Sized> fmt::Debug for LocalRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(a) => write!(f, "LocalRef({:p})", Arc::as_ptr(a) as *const ()),
            None => f.write_str("LocalRef(nil)"),
        }
    }
}

const LOCAL_ENCODE: &str =
    "a local interface's reference cannot be marshalled: local objects never leave their process";
const LOCAL_DECODE: &str = "a local interface's reference cannot be read from a message";

impl<T: ?Sized> CdrEncode for LocalRef<T> {
    fn encode(&self, _enc: &mut Encoder) -> Result<(), EncodeError> {
        Err(EncodeError::Invalid(LOCAL_ENCODE))
    }
}

impl<'a, T: ?Sized> CdrDecode<'a> for LocalRef<T> {
    const MIN_WIRE_SIZE: usize = 1;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Err(dec.error(DecodeErrorKind::Invalid(LOCAL_DECODE)))
    }
}

/// A value of an IDL `native` type: whatever the application puts in (what a native type
/// stands for is, by definition, the language mapping's and the application's business),
/// taken out with [`Native::downcast_ref`]. `Default` is empty.
#[derive(Clone, Default)]
pub struct Native(pub Option<Arc<dyn Any + Send + Sync>>);

impl Native {
    pub fn new<T: Any + Send + Sync>(value: T) -> Native {
        Native(Some(Arc::new(value)))
    }

    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.downcast_ref()
    }
}

impl PartialEq for Native {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl fmt::Debug for Native {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(a) => write!(f, "Native({:p})", Arc::as_ptr(a) as *const ()),
            None => f.write_str("Native(empty)"),
        }
    }
}

impl CdrEncode for Native {
    fn encode(&self, _enc: &mut Encoder) -> Result<(), EncodeError> {
        Err(EncodeError::Invalid(
            "a value of a native type cannot be marshalled: native types are local to a process",
        ))
    }
}

impl<'a> CdrDecode<'a> for Native {
    const MIN_WIRE_SIZE: usize = 1;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Err(dec.error(DecodeErrorKind::Invalid(
            "a value of a native type cannot be read from a message",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdr::ByteOrder;

    trait Counter: Send + Sync {
        fn count(&self) -> u32;
    }
    struct Ten;
    impl Counter for Ten {
        fn count(&self) -> u32 {
            10
        }
    }

    #[test]
    fn local_references_and_native_values_hold_rust_values_and_refuse_the_wire() {
        let r: LocalRef<dyn Counter> = LocalRef::new(Arc::new(Ten));
        assert_eq!(r.get().unwrap().count(), 10);
        assert_eq!(r.clone(), r);
        assert_ne!(r, LocalRef::nil());
        let mut enc = Encoder::new(ByteOrder::BigEndian);
        let e = r.encode(&mut enc).unwrap_err();
        assert!(e.to_string().contains("local interface"), "{e}");
        assert!(enc.into_vec().is_empty());
        let mut dec = Decoder::new(&[0, 0, 0, 0], ByteOrder::BigEndian);
        assert!(LocalRef::<dyn Counter>::decode(&mut dec).is_err());

        let n = Native::new(42u64);
        assert_eq!(n.downcast_ref::<u64>(), Some(&42));
        assert_eq!(n.downcast_ref::<u32>(), None);
        assert!(n.encode(&mut Encoder::new(ByteOrder::BigEndian)).is_err());
        assert_eq!(Native::default(), Native::default());
    }
}
