//! Typed `any`: putting a Rust value of an IDL type into an [`Any`] and taking it out again,
//! checked against the `any`'s TypeCode (the C++ mapping's `<<=` and `>>=`).
//!
//! [`AnyType`] is implemented here for the primitive types, strings, sequences (`Vec`), arrays,
//! `any` and `TypeCode`, by `ObjectRef` in [`crate::object`], and by idlc's generated code for
//! every struct, union, enum, exception and typed object reference. A type only has to say
//! what its TypeCode is: the value moves between the Rust type and [`Value`] through the
//! type's own CDR encoding, read back (or written) by the TypeCode, so the generated CDR code
//! stays the one place that knows a type's shape. Primitives build their [`Value`] directly.

use super::any::{ValueReader, ValueWriter};
use super::{Any, TypeCode, Value};
use crate::cdr::value::{ValueFactory, ValueHandle};
use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, CodeSetId, CodeSets, DecodeError, Decoder, EncodeError,
    Encoder, LongDouble, WChar, WString,
};

/// A Rust type that maps an IDL type: it can go into an [`Any`] ([`Any::insert`]) and come out
/// of one ([`Any::get`]).
pub trait AnyType: CdrEncode + for<'a> CdrDecode<'a> {
    /// The TypeCode of the IDL type this Rust type maps.
    fn type_code() -> TypeCode;

    /// Whether a value described by `tc` can be taken out as `Self`: by default when `tc` is
    /// [`TypeCode::equivalent`] to [`AnyType::type_code`] (aliases looked through, repository
    /// ids compared). Strings and sequences also accept bounded forms, which map to the same
    /// Rust type.
    fn accepts(tc: &TypeCode) -> bool {
        Self::type_code().equivalent(tc)
    }

    /// `self` as a [`Value`] of the type `tc`, which [`AnyType::accepts`] (so may be an alias
    /// or a bounded form). Fails when `self` does not fit `tc` (too long for a bound, a NUL in
    /// a string, a union whose discriminator selects another member).
    fn to_value(&self, tc: &TypeCode) -> Result<Value, AnyError> {
        let (bytes, codesets) = with_scratch_codesets(|codesets| {
            let mut enc = scratch_encoder(codesets);
            self.encode(&mut enc)?;
            Ok((enc.into_vec(), codesets))
        })?;
        let mut dec = scratch_decoder(&bytes, codesets);
        if matches!(tc.unalias(), TypeCode::Except(_)) {
            // An exception's CDR form starts with its repository id; in an `any` only the
            // members travel (the id is in the TypeCode).
            dec.read_string()?;
        }
        let value = ValueReader::new(bytes.len()).read(&mut dec, tc)?;
        dec.expect_end()?;
        Ok(value)
    }

    /// The value `value` of type `tc` (which [`AnyType::accepts`]) as `Self`.
    fn from_value(tc: &TypeCode, value: &Value) -> Result<Self, AnyError> {
        let (bytes, codesets) = with_scratch_codesets(|codesets| {
            let mut enc = scratch_encoder(codesets);
            if let TypeCode::Except(e) = tc.unalias() {
                enc.write_string(&e.id)?;
            }
            ValueWriter::default().write(&mut enc, tc, value)?;
            Ok((enc.into_vec(), codesets))
        })?;
        let mut dec = scratch_decoder(&bytes, codesets);
        let v = Self::decode(&mut dec)?;
        dec.expect_end()?;
        Ok(v)
    }
}

/// Why a value did not go into or come out of an [`Any`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AnyError {
    #[error("the any holds {found}, not {wanted}: extract it as the type it holds (its TypeCode says which), or as orb::typecode::Value")]
    WrongType { wanted: String, found: String },
    #[error("the value does not fit its TypeCode: {0}")]
    Encode(#[from] EncodeError),
    #[error("the value does not read back as its Rust type: {0}")]
    Decode(#[from] DecodeError),
    /// A part of a constructed value that does not fit its TypeCode (see `Any::member`,
    /// `Any::from_members`): said which and why.
    #[error("{0}")]
    Invalid(String),
}

/// A TypeCode for a message: its kind and, where it has one, repository id.
pub fn describe(tc: &TypeCode) -> String {
    match tc.id() {
        Some(id) if !id.is_empty() => format!("{} {id}", tc.kind()),
        _ => match tc.unalias() {
            TypeCode::Sequence(s) => format!("sequence<{}>", describe(&s.content)),
            TypeCode::Array(a) => format!("{}[{}]", describe(&a.content), a.length),
            other => other.kind().to_string(),
        },
    }
}

/// Values move between Rust types and [`Value`]s through a private CDR stream: native order,
/// GIOP 1.2 rules. Its `char` code set is UTF-8, so that strings hold any character, unless
/// the value has a `char` UTF-8 cannot hold in one octet ('é'): then it is ISO-8859-1, as on
/// the wire before code set negotiation. (`wchar` is UTF-16 either way.)
const SCRATCH_CODESETS: [CodeSets; 2] = [
    CodeSets {
        char: CodeSetId::UTF_8,
        wchar: CodeSetId::UTF_16,
    },
    CodeSets {
        char: CodeSetId::ISO_8859_1,
        wchar: CodeSetId::UTF_16,
    },
];

/// Encodes with the first scratch code sets the value fits.
fn with_scratch_codesets<R>(
    mut encode: impl FnMut(CodeSets) -> Result<R, EncodeError>,
) -> Result<R, EncodeError> {
    match encode(SCRATCH_CODESETS[0]) {
        Err(EncodeError::Unrepresentable(..)) => encode(SCRATCH_CODESETS[1]),
        r => r,
    }
}

fn scratch_encoder(codesets: CodeSets) -> Encoder {
    let mut enc = Encoder::new(ByteOrder::NATIVE);
    enc.set_codesets(codesets);
    enc
}

fn scratch_decoder(bytes: &[u8], codesets: CodeSets) -> Decoder<'_> {
    let mut dec = Decoder::new(bytes, ByteOrder::NATIVE);
    dec.set_codesets(codesets);
    dec
}

impl Any {
    /// An `any` holding `value` under its type's TypeCode ([`AnyType::type_code`]).
    ///
    /// ```
    /// use orb::typecode::Any;
    /// let any = Any::insert(&vec![1i32, 2, 3]).unwrap();
    /// assert_eq!(any.get::<Vec<i32>>().unwrap(), [1, 2, 3]);
    /// assert!(any.get::<Vec<u16>>().is_err());
    /// ```
    pub fn insert<T: AnyType>(value: &T) -> Result<Any, AnyError> {
        Any::insert_as(T::type_code(), value)
    }

    /// An `any` holding `value` under `type_code`, which `T` must accept: a typedef's TypeCode
    /// (idlc generates a `…_tc()` function per typedef) or a bounded string or sequence.
    pub fn insert_as<T: AnyType>(type_code: TypeCode, value: &T) -> Result<Any, AnyError> {
        if !T::accepts(&type_code) {
            return Err(AnyError::WrongType {
                wanted: describe(&T::type_code()),
                found: describe(&type_code),
            });
        }
        let value = value.to_value(&type_code)?;
        Ok(Any::from_checked_parts(type_code, value))
    }

    /// The value, if the `any` holds a `T` (its TypeCode equivalent to `T`'s, aliases looked
    /// through); else [`AnyError::WrongType`] naming what it holds.
    pub fn get<T: AnyType>(&self) -> Result<T, AnyError> {
        if !T::accepts(self.type_code()) {
            return Err(AnyError::WrongType {
                wanted: describe(&T::type_code()),
                found: describe(self.type_code()),
            });
        }
        T::from_value(self.type_code(), self.value())
    }

    /// Whether the `any` holds a `T` (what [`Any::get`] checks before extracting).
    pub fn holds<T: AnyType>(&self) -> bool {
        T::accepts(self.type_code())
    }
}

/// Primitive types: their TypeCode is their kind, their value one [`Value`] variant.
macro_rules! primitive_any_types {
    ($($ty:ty => $variant:ident;)*) => {$(
        impl AnyType for $ty {
            fn type_code() -> TypeCode {
                TypeCode::$variant
            }

            fn to_value(&self, _tc: &TypeCode) -> Result<Value, AnyError> {
                Ok(Value::$variant(*self))
            }

            fn from_value(tc: &TypeCode, value: &Value) -> Result<Self, AnyError> {
                match value {
                    Value::$variant(v) => Ok(*v),
                    _ => Err(value_mismatch(tc)),
                }
            }
        }
    )*};
}

primitive_any_types! {
    i16 => Short;
    i32 => Long;
    u16 => UShort;
    u32 => ULong;
    i64 => LongLong;
    u64 => ULongLong;
    f32 => Float;
    f64 => Double;
    bool => Boolean;
    char => Char;
    u8 => Octet;
    LongDouble => LongDouble;
}

/// A [`Value`] not shaped as its TypeCode says, which [`Any::new`] and decoding rule out; an
/// `Any` built some other way would be a bug, reported rather than panicked on.
fn value_mismatch(tc: &TypeCode) -> AnyError {
    AnyError::WrongType {
        wanted: describe(tc),
        found: "a value of another shape".to_owned(),
    }
}

impl AnyType for WChar {
    fn type_code() -> TypeCode {
        TypeCode::WChar
    }

    fn to_value(&self, _tc: &TypeCode) -> Result<Value, AnyError> {
        Ok(Value::WChar(self.0))
    }

    fn from_value(tc: &TypeCode, value: &Value) -> Result<Self, AnyError> {
        match value {
            Value::WChar(c) => Ok(WChar(*c)),
            _ => Err(value_mismatch(tc)),
        }
    }
}

impl AnyType for String {
    /// Unbounded `string`; [`AnyType::accepts`] any `string<N>`.
    fn type_code() -> TypeCode {
        TypeCode::String(0)
    }

    fn accepts(tc: &TypeCode) -> bool {
        matches!(tc.unalias(), TypeCode::String(_))
    }
}

impl AnyType for WString {
    /// Unbounded `wstring`; [`AnyType::accepts`] any `wstring<N>`.
    fn type_code() -> TypeCode {
        TypeCode::WString(0)
    }

    fn accepts(tc: &TypeCode) -> bool {
        matches!(tc.unalias(), TypeCode::WString(_))
    }
}

impl<T: AnyType> AnyType for Vec<T> {
    /// Unbounded `sequence<T>`; [`AnyType::accepts`] bounded ones too.
    fn type_code() -> TypeCode {
        TypeCode::sequence(T::type_code(), 0)
    }

    fn accepts(tc: &TypeCode) -> bool {
        matches!(tc.unalias(), TypeCode::Sequence(s) if T::accepts(&s.content))
    }
}

impl<T: AnyType, const N: usize> AnyType for [T; N] {
    /// `T[N]`; a multi-dimensional IDL array `T[2][3]` is `[[T; 3]; 2]`.
    fn type_code() -> TypeCode {
        // An array longer than a CDR unsigned long cannot be marshalled anyway; saturating
        // gives a TypeCode no value will match rather than a wrong length.
        TypeCode::array(T::type_code(), u32::try_from(N).unwrap_or(u32::MAX))
    }

    fn accepts(tc: &TypeCode) -> bool {
        matches!(tc.unalias(), TypeCode::Array(a) if a.length as usize == N && T::accepts(&a.content))
    }
}

/// The TypeCode of a value type or value box, which idlc's generated code gives each: what
/// lets `Option<ValueHandle<T>>` go into an [`Any`].
pub trait ValueTypeCode {
    fn value_type_code() -> TypeCode;
}

/// A value (null for `None`) with the values it reaches, sharing and cycles kept.
impl<T: ValueFactory + ValueTypeCode> AnyType for Option<ValueHandle<T>> {
    fn type_code() -> TypeCode {
        T::value_type_code()
    }
}

impl AnyType for Any {
    /// `any`: an `any` inside an `any`.
    fn type_code() -> TypeCode {
        TypeCode::Any
    }

    fn to_value(&self, _tc: &TypeCode) -> Result<Value, AnyError> {
        Ok(Value::Any(Box::new(self.clone())))
    }

    fn from_value(tc: &TypeCode, value: &Value) -> Result<Self, AnyError> {
        match value {
            Value::Any(a) => Ok((**a).clone()),
            _ => Err(value_mismatch(tc)),
        }
    }
}

impl AnyType for TypeCode {
    fn type_code() -> TypeCode {
        TypeCode::TypeCode
    }

    fn to_value(&self, _tc: &TypeCode) -> Result<Value, AnyError> {
        Ok(Value::TypeCode(self.clone()))
    }

    fn from_value(tc: &TypeCode, value: &Value) -> Result<Self, AnyError> {
        match value {
            Value::TypeCode(t) => Ok(t.clone()),
            _ => Err(value_mismatch(tc)),
        }
    }
}
