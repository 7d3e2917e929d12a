//! Evaluation of IDL constant expressions (CORBA 3.0 §3.10.2).
//!
//! An expression is evaluated against the type it will be assigned to, because IDL's rules depend
//! on it: integer expressions for a 32-bit (or smaller) target are evaluated with every
//! subexpression required to fit 32 bits, 64-bit targets with 64 bits ("it is an error if any
//! subexpression values exceed the precision of the assigned type"); floating-point expressions
//! use double precision; fixed-point expressions use exact decimal arithmetic of at most 31
//! digits. Operands of other kinds (characters, strings, booleans, enumerators) allow no
//! arithmetic. Names are looked up through [`Env`], so this module knows nothing of scopes.
//! Nothing here panics or overflows: every operation is checked.

use crate::ast::{BinOp, Expr, ExprKind, Literal, ScopedName, UnOp};
use crate::model::{ConstValue, ItemId};
use crate::source::Span;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i128),
    Float(f64),
    Fixed(Decimal),
    Char(u8),
    WChar(u32),
    Str(String),
    WStr(String),
    Bool(bool),
    Enum(ItemId, u32),
}

impl Val {
    fn describe(&self) -> &'static str {
        match self {
            Val::Int(_) => "an integer",
            Val::Float(_) => "a floating-point value",
            Val::Fixed(_) => "a fixed-point value",
            Val::Char(_) => "a character",
            Val::WChar(_) => "a wide character",
            Val::Str(_) => "a string",
            Val::WStr(_) => "a wide string",
            Val::Bool(_) => "a boolean",
            Val::Enum(..) => "an enumerator",
        }
    }

    /// Converts a value already checked against `target` into the model's form.
    pub fn into_const(self) -> ConstValue {
        match self {
            Val::Int(v) => ConstValue::Integer(v),
            Val::Float(f) => ConstValue::Float(f),
            Val::Fixed(d) => ConstValue::Fixed {
                text: d.to_string(),
                digits: d.digits() as u16,
                scale: d.scale as u16,
            },
            Val::Char(c) => ConstValue::Char(c),
            Val::WChar(c) => ConstValue::WChar(c),
            Val::Str(s) => ConstValue::String(s),
            Val::WStr(s) => ConstValue::WString(s),
            Val::Bool(b) => ConstValue::Boolean(b),
            Val::Enum(ty, index) => ConstValue::Enum { ty, index },
        }
    }

    /// The inverse of [`Val::into_const`], for constants used in later expressions.
    pub fn from_const(c: &ConstValue) -> Val {
        match c {
            ConstValue::Integer(v) => Val::Int(*v),
            ConstValue::Float(f) => Val::Float(*f),
            ConstValue::Fixed { text, .. } => {
                Val::Fixed(Decimal::parse(text).unwrap_or(Decimal { value: 0, scale: 0 }))
            }
            ConstValue::Char(c) => Val::Char(*c),
            ConstValue::WChar(c) => Val::WChar(*c),
            ConstValue::String(s) => Val::Str(s.clone()),
            ConstValue::WString(s) => Val::WStr(s.clone()),
            ConstValue::Boolean(b) => Val::Bool(*b),
            ConstValue::Enum { ty, index } => Val::Enum(*ty, *index),
        }
    }
}

/// What the expression is being evaluated for.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// An integer type with its range; `wide` for 64-bit types (sets subexpression precision).
    Int {
        min: i128,
        max: i128,
        wide: bool,
        name: &'static str,
    },
    Float {
        max: f64,
        name: &'static str,
    },
    /// `fixed<digits, scale>`, or `None` for a bare `fixed` constant.
    Fixed(Option<(u16, u16)>),
    Char,
    WChar,
    Bool,
    String(Option<u32>),
    WString(Option<u32>),
    Enum(ItemId, String),
}

/// An evaluation error: where and why.
pub type EvalError = (Span, String);

/// Name resolution for constant expressions.
pub trait Env {
    /// The value of the constant or enumerator `name`.
    fn value_of(&mut self, name: &ScopedName) -> Result<Val, EvalError>;
}

/// Evaluates `expr` for `target` and checks the result against it.
pub fn eval(expr: &Expr, target: &Target, env: &mut dyn Env) -> Result<Val, EvalError> {
    let v = Evaluator { target, env }.eval(expr)?;
    check(v, target, expr.span)
}

struct Evaluator<'a> {
    target: &'a Target,
    env: &'a mut dyn Env,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Evaluator<'_> {
    /// Bounds that every integer subexpression must respect.
    fn int_bounds(&self) -> (i128, i128) {
        match self.target {
            Target::Int { wide: false, .. } => (i32::MIN as i128, u32::MAX as i128),
            _ => (i64::MIN as i128, u64::MAX as i128),
        }
    }

    fn int(&self, v: Option<i128>, span: Span) -> Result<Val, EvalError> {
        let (lo, hi) = self.int_bounds();
        match v {
            Some(v) if v >= lo && v <= hi => Ok(Val::Int(v)),
            _ => Err((
                span,
                format!(
                    "integer overflow in constant expression (values must stay within {lo}..={hi} for {})",
                    match self.target {
                        Target::Int { name, .. } => name,
                        _ => "this type",
                    }
                ),
            )),
        }
    }

    fn eval(&mut self, e: &Expr) -> Result<Val, EvalError> {
        match &e.kind {
            ExprKind::Literal(l) => self.literal(l, e.span),
            ExprKind::Name(n) => self.env.value_of(n),
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                match (op, v) {
                    (UnOp::Plus, v @ (Val::Int(_) | Val::Float(_) | Val::Fixed(_))) => Ok(v),
                    (UnOp::Neg, Val::Int(i)) => self.int(i.checked_neg(), e.span),
                    (UnOp::Neg, Val::Float(f)) => Ok(Val::Float(-f)),
                    (UnOp::Neg, Val::Fixed(d)) => Ok(Val::Fixed(Decimal {
                        value: -d.value,
                        scale: d.scale,
                    })),
                    (UnOp::Not, Val::Int(i)) => {
                        // `~` is defined on the target's representation: unsigned targets flip all
                        // bits of the unsigned value, signed targets use two's complement.
                        let r = match self.target {
                            Target::Int { min: 0, max, .. } if i >= 0 => max - i,
                            _ => -i - 1,
                        };
                        self.int(Some(r), e.span)
                    }
                    (op, v) => Err((
                        e.span,
                        format!(
                            "unary '{}' cannot be applied to {}",
                            match op {
                                UnOp::Neg => "-",
                                UnOp::Plus => "+",
                                UnOp::Not => "~",
                            },
                            v.describe()
                        ),
                    )),
                }
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                self.binary(*op, x, y, e.span, b.span)
            }
        }
    }

    fn literal(&self, l: &Literal, span: Span) -> Result<Val, EvalError> {
        Ok(match l {
            Literal::Int(v) => {
                let v = i128::try_from(*v).ok();
                return self.int(v, span);
            }
            Literal::Float(s) => match s.parse::<f64>() {
                Ok(f) if f.is_finite() => Val::Float(f),
                _ => {
                    return Err((
                        span,
                        format!("floating-point literal '{s}' is out of range"),
                    ))
                }
            },
            Literal::Fixed(s) => match Decimal::parse(s) {
                Some(d) => Val::Fixed(d),
                None => {
                    return Err((
                        span,
                        format!("fixed-point literal '{s}d' has more than 31 digits"),
                    ))
                }
            },
            Literal::Char(c) => Val::Char(*c),
            Literal::WChar(c) => Val::WChar(*c),
            Literal::String(s) => Val::Str(s.clone()),
            Literal::WString(s) => Val::WStr(s.clone()),
            Literal::Bool(b) => Val::Bool(*b),
        })
    }

    fn binary(&self, op: BinOp, x: Val, y: Val, span: Span, rspan: Span) -> Result<Val, EvalError> {
        let sym = match op {
            BinOp::Or => "|",
            BinOp::Xor => "^",
            BinOp::And => "&",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        };
        // An integer meets a fixed-point value as one (`1.5d * 2`). It does not meet a
        // floating-point one: CORBA 3 §3.10.2 forbids mixing integers with floating point, and
        // omniidl rejects `1.5 * 2` ("write 2.0" is the fix, given below).
        let (x, y) = match (x, y) {
            (Val::Int(i), Val::Fixed(d)) => {
                (Val::Fixed(Decimal::from_int(i, span)?), Val::Fixed(d))
            }
            (Val::Fixed(d), Val::Int(i)) => {
                (Val::Fixed(d), Val::Fixed(Decimal::from_int(i, span)?))
            }
            other => other,
        };
        match (x, y) {
            (Val::Int(a), Val::Int(b)) => {
                let r = match op {
                    BinOp::Or => Some(a | b),
                    BinOp::Xor => Some(a ^ b),
                    BinOp::And => Some(a & b),
                    BinOp::Shl | BinOp::Shr => {
                        if !(0..64).contains(&b) {
                            return Err((
                                rspan,
                                format!("shift count {b} is out of range (0..64)"),
                            ));
                        }
                        if op == BinOp::Shl {
                            a.checked_mul(1i128 << b)
                        } else {
                            Some(a >> b)
                        }
                    }
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::Div | BinOp::Mod => {
                        if b == 0 {
                            return Err((rspan, "division by zero in constant expression".into()));
                        }
                        if op == BinOp::Div {
                            a.checked_div(b)
                        } else {
                            a.checked_rem(b)
                        }
                    }
                };
                self.int(r, span)
            }
            (Val::Float(a), Val::Float(b)) => {
                let r = match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => {
                        if b == 0.0 {
                            return Err((rspan, "division by zero in constant expression".into()));
                        }
                        a / b
                    }
                    _ => {
                        return Err((
                            span,
                            format!("operator '{sym}' cannot be applied to floating-point values"),
                        ))
                    }
                };
                if !r.is_finite() {
                    return Err((
                        span,
                        "floating-point overflow in constant expression".into(),
                    ));
                }
                Ok(Val::Float(r))
            }
            (Val::Fixed(a), Val::Fixed(b)) => {
                let r = match op {
                    BinOp::Add => a.add(b),
                    BinOp::Sub => a.add(Decimal {
                        value: -b.value,
                        scale: b.scale,
                    }),
                    BinOp::Mul => a.mul(b),
                    BinOp::Div => {
                        if b.value == 0 {
                            return Err((rspan, "division by zero in constant expression".into()));
                        }
                        a.div(b)
                    }
                    _ => {
                        return Err((
                            span,
                            format!("operator '{sym}' cannot be applied to fixed-point values"),
                        ))
                    }
                };
                r.map(Val::Fixed)
                    .ok_or((span, "fixed-point result exceeds 31 digits".into()))
            }
            (a, b) => {
                let hint = match (&a, &b) {
                    (Val::Int(i), Val::Float(_)) | (Val::Float(_), Val::Int(i)) => {
                        format!(" (IDL does not mix integers with floating point; write {i}.0)")
                    }
                    _ => String::new(),
                };
                Err((
                    span,
                    format!(
                        "operator '{sym}' cannot be applied to {} and {}{hint}",
                        a.describe(),
                        b.describe()
                    ),
                ))
            }
        }
    }
}

/// Checks (and converts) a final value for its target type.
fn check(v: Val, target: &Target, span: Span) -> Result<Val, EvalError> {
    let mismatch =
        |v: &Val, what: &str| Err((span, format!("cannot use {} as {what}", v.describe())));
    match (target, v) {
        (Target::Int { min, max, name, .. }, Val::Int(i)) => {
            if i < *min || i > *max {
                Err((
                    span,
                    format!("value {i} is out of range for {name} ({min}..={max})"),
                ))
            } else {
                Ok(Val::Int(i))
            }
        }
        (Target::Int { name, .. }, v) => mismatch(&v, &format!("a value of type {name}")),
        (Target::Float { max, name }, v) => {
            let f = match v {
                Val::Float(f) => f,
                // §3.10.2: the expression must be of the constant's kind (omniidl agrees).
                Val::Int(i) => {
                    return Err((
                        span,
                        format!("{name} constant given an integer ({i}): IDL does not convert integers to floating point; write a floating-point literal such as {i}.0"),
                    ))
                }
                other => return mismatch(&other, &format!("a value of type {name}")),
            };
            if f.abs() > *max {
                Err((span, format!("value {f} is out of range for {name}")))
            } else {
                Ok(Val::Float(f))
            }
        }
        (Target::Fixed(spec), v) => {
            let d = match v {
                Val::Fixed(d) => d,
                Val::Int(i) => Decimal::from_int(i, span)?,
                other => return mismatch(&other, "a fixed-point value"),
            };
            if let Some((digits, scale)) = spec {
                let int_digits = d.digits().saturating_sub(d.scale);
                if d.scale > *scale as u32
                    || int_digits > (*digits as u32).saturating_sub(*scale as u32)
                {
                    return Err((
                        span,
                        format!("value {d} does not fit fixed<{digits},{scale}>"),
                    ));
                }
            }
            Ok(Val::Fixed(d))
        }
        (Target::Char, Val::Char(c)) => Ok(Val::Char(c)),
        (Target::Char, v) => mismatch(&v, "a char"),
        (Target::WChar, Val::WChar(c)) => Ok(Val::WChar(c)),
        (Target::WChar, v) => mismatch(&v, "a wchar"),
        (Target::Bool, Val::Bool(b)) => Ok(Val::Bool(b)),
        (Target::Bool, v) => mismatch(&v, "a boolean"),
        (Target::String(bound), Val::Str(s)) => match bound {
            Some(b) if s.chars().count() > *b as usize => Err((
                span,
                format!(
                    "string of length {} exceeds the bound {b}",
                    s.chars().count()
                ),
            )),
            _ => Ok(Val::Str(s)),
        },
        (Target::String(_), v) => mismatch(&v, "a string"),
        (Target::WString(bound), Val::WStr(s)) => match bound {
            Some(b) if s.chars().count() > *b as usize => Err((
                span,
                format!(
                    "wide string of length {} exceeds the bound {b}",
                    s.chars().count()
                ),
            )),
            _ => Ok(Val::WStr(s)),
        },
        (Target::WString(_), v) => mismatch(&v, "a wstring"),
        (Target::Enum(ty, _), Val::Enum(t, i)) if *ty == t => Ok(Val::Enum(t, i)),
        (Target::Enum(_, name), v) => mismatch(&v, &format!("a value of enum {name}")),
    }
}

/// An exact decimal: `value × 10^-scale`, at most 31 significant digits (IDL's fixed limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decimal {
    pub value: i128,
    pub scale: u32,
}

const MAX_FIXED_DIGITS: u32 = 31;

fn count_digits(mut v: i128) -> u32 {
    v = v.abs();
    let mut n = 0;
    while v > 0 {
        v /= 10;
        n += 1;
    }
    n
}

impl Decimal {
    /// Parses `123`, `1.50`, `.5` (fixed literal text without its `d`).
    pub fn parse(s: &str) -> Option<Decimal> {
        let (neg, s) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = format!("{}{}", int.trim_start_matches('0'), frac);
        let digits = digits.trim_start_matches('0');
        if digits.len() > MAX_FIXED_DIGITS as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let value: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        Some(Decimal {
            value: if neg { -value } else { value },
            scale: frac.len() as u32,
        })
    }

    fn from_int(i: i128, span: Span) -> Result<Decimal, EvalError> {
        let d = Decimal { value: i, scale: 0 };
        if d.digits() > MAX_FIXED_DIGITS {
            return Err((span, "integer does not fit a fixed-point value".into()));
        }
        Ok(d)
    }

    /// Total significant digits, counting the fractional ones (`0.05` has 2).
    pub fn digits(&self) -> u32 {
        count_digits(self.value).max(self.scale)
    }

    fn checked(self) -> Option<Decimal> {
        (self.digits() <= MAX_FIXED_DIGITS).then_some(self)
    }

    fn rescale(self, scale: u32) -> Option<Decimal> {
        Some(Decimal {
            value: self
                .value
                .checked_mul(pow10(scale.checked_sub(self.scale)?)?)?,
            scale,
        })
    }

    fn add(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale.max(o.scale);
        let (a, b) = (self.rescale(s)?, o.rescale(s)?);
        Decimal {
            value: a.value.checked_add(b.value)?,
            scale: s,
        }
        .checked()
    }

    fn mul(self, o: Decimal) -> Option<Decimal> {
        let mut r = Decimal {
            value: self.value.checked_mul(o.value)?,
            scale: self.scale + o.scale,
        };
        // Drop fractional digits beyond the 31-digit limit (truncation, as the spec allows).
        while r.digits() > MAX_FIXED_DIGITS && r.scale > 0 {
            r.value /= 10;
            r.scale -= 1;
        }
        r.checked()
    }

    fn div(self, o: Decimal) -> Option<Decimal> {
        // Exact rational n/d, then long division to at most 31 significant digits.
        let n = self.value.checked_mul(pow10(o.scale)?)?;
        let d = o.value.checked_mul(pow10(self.scale)?)?;
        if d == 0 {
            return None;
        }
        let neg = (n < 0) != (d < 0);
        let (n, d) = (n.abs(), d.abs());
        let mut value = n / d;
        let mut rem = n % d;
        let mut scale = 0;
        while rem != 0 && count_digits(value) < MAX_FIXED_DIGITS && scale < MAX_FIXED_DIGITS {
            rem = rem.checked_mul(10)?;
            value = value.checked_mul(10)?.checked_add(rem / d)?;
            rem %= d;
            scale += 1;
        }
        Decimal {
            value: if neg { -value } else { value },
            scale,
        }
        .checked()
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.value.abs().to_string();
        let sign = if self.value < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (i, fr) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{i}.{fr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn decimal_arithmetic() {
        let a = Decimal::parse("1.50").unwrap();
        let b = Decimal::parse("2").unwrap();
        assert_eq!(a.add(b).unwrap().to_string(), "3.50");
        assert_eq!(a.mul(b).unwrap().to_string(), "3.00");
        assert_eq!(
            b.div(Decimal::parse("3").unwrap()).unwrap().to_string(),
            "0.6666666666666666666666666666666"
        );
        assert_eq!(Decimal::parse("0.05").unwrap().digits(), 2);
        assert!(Decimal::parse("12345678901234567890123456789012").is_none());
        let _ = FileId(0);
    }
}
