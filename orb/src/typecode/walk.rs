//! DynAny, lite: taking an `any` of a type no Rust type was generated for apart by member
//! name, and building one from its parts, each step checked against the TypeCode (the
//! member exists, the part's type is the member's, every member is given once). For generic
//! tools (a bridge, an event browser) that see types only at run time.
//!
//! A part of a recursive type (`struct Node { sequence<Node> children; }`) comes out with a
//! TypeCode of its own: the recursive reference inside it is replaced by the type it names,
//! so the part is an `any` that stands alone.

use super::typed::describe;
use super::{Any, AnyError, TypeCode, UnionLabel, UnionValue, Value};

fn invalid(msg: String) -> AnyError {
    AnyError::Invalid(msg)
}

fn not_a(what: &str, tc: &TypeCode) -> AnyError {
    invalid(format!("the any holds {}, not {what}", describe(tc)))
}

/// `tc` with the recursive references that `outer` binds replaced by `outer`, so that a part
/// of a value of type `outer` has a TypeCode that stands alone.
fn close(tc: &TypeCode, outer: &TypeCode) -> TypeCode {
    use TypeCode as T;
    match tc {
        T::Recursive(r) if outer.binds(r) => outer.clone(),
        T::Alias(a) => TypeCode::alias(a.id.clone(), a.name.clone(), close(&a.content, outer)),
        T::Sequence(s) => TypeCode::sequence(close(&s.content, outer), s.bound),
        T::Array(a) => TypeCode::array(close(&a.content, outer), a.length),
        // A constructed member type encloses its own references; those to `outer` inside it
        // stay bound by `outer` once the member is re-embedded, but a part taken out of the
        // member alone is closed again at that step.
        _ => tc.clone(),
    }
}

/// Octet sequences and arrays are held as octets; the walk hands out single octets.
fn elements_of(value: &Value) -> Option<Vec<Value>> {
    match value {
        Value::Sequence(vs) | Value::Array(vs) => Some(vs.clone()),
        Value::Octets(b) => Some(b.iter().map(|&o| Value::Octet(o)).collect()),
        _ => None,
    }
}

impl Any {
    /// The members of a struct or exception, by name, in order.
    pub fn members(&self) -> Result<Vec<(String, Any)>, AnyError> {
        let tc = self.type_code().unalias();
        let (TypeCode::Struct(s) | TypeCode::Except(s), Value::Struct(vs)) = (tc, self.value())
        else {
            return Err(not_a("a struct or exception", self.type_code()));
        };
        Ok(s.members
            .iter()
            .zip(vs)
            .map(|(m, v)| {
                (
                    m.name.clone(),
                    Any::from_checked_parts(close(&m.type_code, tc), v.clone()),
                )
            })
            .collect())
    }

    /// The member `name` of a struct or exception, or of a union when it is the member the
    /// union holds.
    pub fn member(&self, name: &str) -> Result<Any, AnyError> {
        if let TypeCode::Union(_) = self.type_code().unalias() {
            return match self.union_member()? {
                Some((member, value)) if member == name => Ok(value),
                Some((member, _)) => Err(invalid(format!(
                    "the union {} holds member {member:?}, not {name:?}",
                    describe(self.type_code())
                ))),
                None => Err(invalid(format!(
                    "the union {} holds no member",
                    describe(self.type_code())
                ))),
            };
        }
        let members = self.members()?;
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        let missing = invalid(format!(
            "{} has no member {name:?} (its members: {})",
            describe(self.type_code()),
            names.join(", ")
        ));
        members
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
            .ok_or(missing)
    }

    /// The member a union holds, by name; `None` for a union that holds none, and for an
    /// `any` that is not a union.
    pub fn union_member(&self) -> Result<Option<(String, Any)>, AnyError> {
        let tc = self.type_code().unalias();
        let (TypeCode::Union(u), Value::Union(uv)) = (tc, self.value()) else {
            return Ok(None);
        };
        Ok(uv.member.as_ref().and_then(|(i, v)| {
            u.members.get(*i).map(|m| {
                (
                    m.name.clone(),
                    Any::from_checked_parts(close(&m.type_code, tc), v.clone()),
                )
            })
        }))
    }

    /// A union's discriminator.
    pub fn discriminator(&self) -> Result<Any, AnyError> {
        match (self.type_code().unalias(), self.value()) {
            (TypeCode::Union(u), Value::Union(uv)) => Ok(Any::from_checked_parts(
                u.discriminator.clone(),
                uv.discriminator.clone(),
            )),
            _ => Err(not_a("a union", self.type_code())),
        }
    }

    /// The elements of a sequence or array.
    pub fn elements(&self) -> Result<Vec<Any>, AnyError> {
        let tc = self.type_code().unalias();
        let content = match tc {
            TypeCode::Sequence(s) => &s.content,
            TypeCode::Array(a) => &a.content,
            _ => return Err(not_a("a sequence or array", self.type_code())),
        };
        let content = close(content, tc);
        let values = elements_of(self.value()).ok_or_else(|| not_a("a sequence or array", tc))?;
        Ok(values
            .into_iter()
            .map(|v| Any::from_checked_parts(content.clone(), v))
            .collect())
    }

    /// An enum's enumerator, by name.
    pub fn enumerator(&self) -> Result<&str, AnyError> {
        match (self.type_code().unalias(), self.value()) {
            (TypeCode::Enum(e), Value::Enum(i)) => e
                .members
                .get(*i as usize)
                .map(String::as_str)
                .ok_or_else(|| not_a("an enum in range", self.type_code())),
            _ => Err(not_a("an enum", self.type_code())),
        }
    }

    /// A struct or exception of type `type_code` from its members by name, in any order,
    /// each given once with its member's type.
    pub fn from_members<'n>(
        type_code: TypeCode,
        members: impl IntoIterator<Item = (&'n str, Any)>,
    ) -> Result<Any, AnyError> {
        let tc = type_code.unalias().clone();
        let (TypeCode::Struct(s) | TypeCode::Except(s)) = &tc else {
            return Err(invalid(format!(
                "from_members builds a struct or exception, not {}",
                describe(&type_code)
            )));
        };
        let mut values: Vec<Option<Value>> = vec![None; s.members.len()];
        for (name, part) in members {
            let i = s
                .members
                .iter()
                .position(|m| m.name == name)
                .ok_or_else(|| {
                    invalid(format!("{} has no member {name:?}", describe(&type_code)))
                })?;
            if values[i].is_some() {
                return Err(invalid(format!("member {name:?} is given twice")));
            }
            values[i] = Some(part_value(
                &close(&s.members[i].type_code, &tc),
                part,
                name,
            )?);
        }
        let values = values
            .into_iter()
            .zip(&s.members)
            .map(|(v, m)| v.ok_or_else(|| invalid(format!("member {:?} is missing", m.name))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Any::new(type_code, Value::Struct(values))?)
    }

    /// The enum of type `type_code` whose enumerator is `name`.
    pub fn from_enumerator(type_code: TypeCode, name: &str) -> Result<Any, AnyError> {
        let TypeCode::Enum(e) = type_code.unalias() else {
            return Err(invalid(format!(
                "from_enumerator builds an enum, not {}",
                describe(&type_code)
            )));
        };
        let i = e.members.iter().position(|m| m == name).ok_or_else(|| {
            invalid(format!(
                "{} has no enumerator {name:?} (its enumerators: {})",
                describe(&type_code),
                e.members.join(", ")
            ))
        })?;
        let i = u32::try_from(i).map_err(|_| invalid("enumerator index out of range".into()))?;
        Ok(Any::new(type_code, Value::Enum(i))?)
    }

    /// The union of type `type_code` holding member `name` with value `part`, its
    /// discriminator the member's first label. The `default:` member has no label: build it
    /// with [`Any::from_union`].
    pub fn from_union_member(type_code: TypeCode, name: &str, part: Any) -> Result<Any, AnyError> {
        let TypeCode::Union(u) = type_code.unalias() else {
            return Err(invalid(format!(
                "from_union_member builds a union, not {}",
                describe(&type_code)
            )));
        };
        let label = u
            .members
            .iter()
            .find_map(|m| match &m.label {
                UnionLabel::Value(v) if m.name == name => Some(v.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                invalid(format!(
                    "{} has no labelled member {name:?} (for the default member, give the discriminator to Any::from_union)",
                    describe(&type_code)
                ))
            })?;
        let disc = Any::from_checked_parts(u.discriminator.clone(), label);
        Any::from_union(type_code, disc, Some(part))
    }

    /// The union of type `type_code` with discriminator `discriminator`, holding `part` as
    /// the member the discriminator selects (`None` when it selects none).
    pub fn from_union(
        type_code: TypeCode,
        discriminator: Any,
        part: Option<Any>,
    ) -> Result<Any, AnyError> {
        let tc = type_code.unalias().clone();
        let TypeCode::Union(u) = &tc else {
            return Err(invalid(format!(
                "from_union builds a union, not {}",
                describe(&type_code)
            )));
        };
        let disc = part_value(&u.discriminator, discriminator, "discriminator")?;
        let member = match (u.member_index(&disc), part) {
            (None, None) => None,
            (Some(i), Some(part)) => {
                let m = &u.members[i];
                Some((i, part_value(&close(&m.type_code, &tc), part, &m.name)?))
            }
            (Some(i), None) => {
                return Err(invalid(format!(
                    "the discriminator selects member {:?}, and no value is given for it",
                    u.members[i].name
                )))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "the discriminator selects no member, yet a value is given".into(),
                ))
            }
        };
        Ok(Any::new(
            type_code,
            Value::Union(Box::new(UnionValue {
                discriminator: disc,
                member,
            })),
        )?)
    }

    /// The sequence or array of type `type_code` holding `elements`, each of its element
    /// type.
    pub fn from_elements(
        type_code: TypeCode,
        elements: impl IntoIterator<Item = Any>,
    ) -> Result<Any, AnyError> {
        let tc = type_code.unalias().clone();
        let (content, is_seq) = match &tc {
            TypeCode::Sequence(s) => (close(&s.content, &tc), true),
            TypeCode::Array(a) => (close(&a.content, &tc), false),
            _ => {
                return Err(invalid(format!(
                    "from_elements builds a sequence or array, not {}",
                    describe(&type_code)
                )))
            }
        };
        let values = elements
            .into_iter()
            .enumerate()
            .map(|(i, e)| part_value(&content, e, &format!("element {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        let value = if matches!(content.unalias(), TypeCode::Octet) {
            Value::Octets(
                values
                    .iter()
                    .map(|v| match v {
                        Value::Octet(o) => Ok(*o),
                        _ => Err(invalid("an octet element holds no octet".into())),
                    })
                    .collect::<Result<_, _>>()?,
            )
        } else if is_seq {
            Value::Sequence(values)
        } else {
            Value::Array(values)
        };
        Ok(Any::new(type_code, value)?)
    }
}

/// The value of `part`, if its type is `expected` (equivalent); `what` names it in errors.
fn part_value(expected: &TypeCode, part: Any, what: &str) -> Result<Value, AnyError> {
    if !part.type_code().equivalent(expected) {
        return Err(invalid(format!(
            "{what} must be {}, not {}",
            describe(expected),
            describe(part.type_code())
        )));
    }
    Ok(part.into_parts().1)
}
