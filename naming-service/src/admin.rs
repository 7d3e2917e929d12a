//! Administers a naming service, ours or any other (omniNames), as omniORB's `nameclt` does:
//! list the tree, bind, resolve, unbind, make and remove contexts. Names are INS strings
//! (`a/b.kind/c`). What the `nsadmin` binary and `rtorb ns` both run.
//!
//! Every failure says what was being done, to which name, at which naming service, and why
//! in words (`nsadmin: resolve "a/b" at corbaloc::127.0.0.1:2809/NameService: "b" is not
//! bound in "a"`, made by [`failure_message`]), so that a script's log is enough to act on
//! it.

use crate::cos_naming::{
    naming_context, BindingIterator, BindingType, Name, NameComponent, NamingContext,
    NamingContextExtRef, NamingContextRef,
};
use clap::Subcommand;
use orb::exception::{SystemException, SystemExceptionKind};
use orb::{Orb, OrbOptions};
use std::fmt;
use std::io::Write;

/// Where a naming service is when none is named: omniNames' and ours' default port.
pub const DEFAULT_NS: &str = "corbaloc::127.0.0.1:2809/NameService";

/// What to do to the naming service.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Lists a context (the root by default), recursively with --recursive.
    List {
        name: Option<String>,
        #[arg(long, short)]
        recursive: bool,
    },
    /// Binds NAME to an object given as IOR:, corbaloc: or corbaname:.
    Bind { name: String, object: String },
    /// Binds NAME to a new context.
    BindNewContext { name: String },
    /// Prints the IOR NAME is bound to.
    Resolve { name: String },
    /// Unbinds NAME.
    Unbind { name: String },
    /// Unbinds NAME and destroys the (empty) context it named.
    RemoveContext { name: String },
}

impl Command {
    /// What the command does, for error messages: `resolve "a/b"`.
    pub fn describe(&self) -> String {
        match self {
            Command::List { name: None, .. } => "list the root context".into(),
            Command::List { name: Some(n), .. } => format!("list {n:?}"),
            Command::Bind { name, .. } => format!("bind {name:?}"),
            Command::BindNewContext { name } => format!("bind a new context as {name:?}"),
            Command::Resolve { name } => format!("resolve {name:?}"),
            Command::Unbind { name } => format!("unbind {name:?}"),
            Command::RemoveContext { name } => format!("remove the context {name:?}"),
        }
    }
}

/// The line a tool prints when `command` at `ns` failed: `PROGRAM: WHAT at NS: WHY`.
pub fn failure_message(program: &str, ns: &str, command: &Command, failure: &Failure) -> String {
    format!("{program}: {} at {ns}: {failure}", command.describe())
}

/// Why a command failed, in the naming service's terms.
#[derive(Debug)]
pub enum Failure {
    /// Not a name, said before asking anyone.
    BadName {
        name: String,
        why: &'static str,
    },
    /// Not an object reference.
    BadObject(String),
    NotFound {
        /// The full name asked for, to say where the walk stopped.
        name: Name,
        why: naming_context::NotFoundReason,
        rest: Name,
    },
    CannotProceed {
        rest: Name,
    },
    InvalidName,
    AlreadyBound,
    NotEmpty,
    /// `list NAME` where NAME is bound to an object that is not a context.
    NotAContext(String),
    System(SystemException),
    Other(String),
}

/// A name as INS text, for messages.
fn text(name: &[NameComponent]) -> String {
    orb::ior::format_string_name(name.iter().map(|c| (c.id.as_str(), c.kind.as_str())))
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use naming_context::NotFoundReason as R;
        match self {
            Failure::BadName { name, why } => write!(f, "{name:?} is not a name: {why}"),
            Failure::BadObject(why) => write!(f, "the object: {why}"),
            Failure::NotFound { name, why, rest } => {
                // rest_of_name starts at the component that failed; what precedes it was
                // found.
                let failed = rest.first().map(|c| text(std::slice::from_ref(c)));
                let found = &name[..name.len().saturating_sub(rest.len())];
                let within = if found.is_empty() {
                    "the root context".to_string()
                } else {
                    format!("{:?}", text(found))
                };
                let failed = failed.unwrap_or_else(|| text(name));
                match why {
                    R::MissingNode => write!(f, "{failed:?} is not bound in {within}"),
                    R::NotContext => write!(
                        f,
                        "{failed:?} in {within} is bound to an object, not a context"
                    ),
                    R::NotObject => write!(
                        f,
                        "{failed:?} in {within} is bound to a context, not an object"
                    ),
                }
            }
            Failure::CannotProceed { rest } => write!(
                f,
                "the naming service cannot proceed with {:?} (a context on the way is \
                 destroyed or unreachable)",
                text(rest)
            ),
            Failure::InvalidName => f.write_str("the naming service says the name is invalid"),
            Failure::AlreadyBound => f.write_str("the name is already bound"),
            Failure::NotEmpty => {
                f.write_str("the context is not empty: unbind or remove what it holds first")
            }
            Failure::NotAContext(name) => write!(
                f,
                "{name:?} is bound to an object that is not a naming context: there is \
                 nothing to list (`nsadmin resolve {name}` prints its IOR)"
            ),
            Failure::System(e) if e.kind == SystemExceptionKind::TRANSIENT => {
                write!(f, "no naming service answers there ({e})")
            }
            Failure::System(e) if e.kind == SystemExceptionKind::OBJECT_NOT_EXIST => {
                write!(f, "the context no longer exists ({e})")
            }
            Failure::System(e) => write!(f, "{e}"),
            Failure::Other(e) => f.write_str(e),
        }
    }
}

impl From<SystemException> for Failure {
    fn from(e: SystemException) -> Failure {
        Failure::System(e)
    }
}

impl From<orb::OrbError> for Failure {
    fn from(e: orb::OrbError) -> Failure {
        match e {
            orb::OrbError::System(s) => Failure::System(s),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// The generated per-operation error enums, as a [`Failure`] for the name `name`.
trait Explain {
    fn explain(self, name: &Name) -> Failure;
}

macro_rules! explain {
    ($($err:ident { $($variant:ident),* })*) => {$(
        impl Explain for naming_context::$err {
            fn explain(self, name: &Name) -> Failure {
                let _ = name; // Only NotFound needs it.
                match self {
                    $(naming_context::$err::$variant(e) => explain!(@$variant e, name),)*
                    naming_context::$err::System(e) => Failure::System(e),
                }
            }
        }
    )*};
    (@NotFound $e:ident, $name:ident) => {
        Failure::NotFound { name: $name.clone(), why: $e.why, rest: $e.rest_of_name }
    };
    (@CannotProceed $e:ident, $name:ident) => { Failure::CannotProceed { rest: $e.rest_of_name } };
    (@InvalidName $e:ident, $name:ident) => {{ let _ = $e; Failure::InvalidName }};
    (@AlreadyBound $e:ident, $name:ident) => {{ let _ = $e; Failure::AlreadyBound }};
    (@NotEmpty $e:ident, $name:ident) => {{ let _ = $e; Failure::NotEmpty }};
}

explain! {
    BindError { NotFound, CannotProceed, InvalidName, AlreadyBound }
    ResolveError { NotFound, CannotProceed, InvalidName }
    UnbindError { NotFound, CannotProceed, InvalidName }
    BindNewContextError { NotFound, AlreadyBound, CannotProceed, InvalidName }
    DestroyError { NotEmpty }
}

/// Parses an INS name here rather than asking the service (`to_name`): a bad name is our
/// caller's mistake, and needs no round trip to say so.
fn parse_name(s: &str) -> Result<Name, Failure> {
    let name = orb::ior::parse_string_name(s).map_err(|why| Failure::BadName {
        name: s.to_owned(),
        why,
    })?;
    if name.iter().any(|(id, _)| id.is_empty()) {
        return Err(Failure::BadName {
            name: s.to_owned(),
            why: "a component has an empty id",
        });
    }
    Ok(name
        .into_iter()
        .map(|(id, kind)| NameComponent { id, kind })
        .collect())
}

/// Runs `command` against the naming service `ns` (an IOR, `corbaloc:`, `corbaname:` or
/// `file://` reference), writing what it prints to `out`. The ORB takes its options from
/// the `ORB…` environment variables.
pub fn run(ns: &str, command: &Command, out: &mut dyn Write) -> Result<(), Failure> {
    let orb = Orb::init(OrbOptions::from_env().map_err(|e| Failure::Other(e.to_string()))?)?;
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(ns)?);
    match command {
        Command::List { name, recursive } => {
            let ctx = match name {
                Some(n) => {
                    let full = parse_name(n)?;
                    NamingContextRef::unchecked_narrow(
                        root.resolve(&full).map_err(|e| e.explain(&full))?,
                    )
                }
                None => NamingContextRef::unchecked_narrow(root.object().clone()),
            };
            list(&ctx, "", *recursive, out).map_err(|f| match (f, name) {
                // An object without a `list` operation: not a context (narrowing with
                // `_is_a` first would cost every listing a round trip).
                (Failure::System(e), Some(n)) if e.kind == SystemExceptionKind::BAD_OPERATION => {
                    Failure::NotAContext(n.clone())
                }
                (f, _) => f,
            })?;
        }
        Command::Bind { name, object } => {
            let full = parse_name(name)?;
            let obj = orb
                .string_to_object(object)
                .map_err(|e| Failure::BadObject(e.to_string()))?;
            root.bind(&full, &obj).map_err(|e| e.explain(&full))?;
        }
        Command::BindNewContext { name } => {
            let full = parse_name(name)?;
            let ctx = root.bind_new_context(&full).map_err(|e| e.explain(&full))?;
            writeln!(out, "{}", orb.object_to_string(ctx.object())?).map_err(output)?;
        }
        Command::Resolve { name } => {
            let full = parse_name(name)?;
            let obj = root.resolve(&full).map_err(|e| e.explain(&full))?;
            writeln!(out, "{}", orb.object_to_string(&obj)?).map_err(output)?;
        }
        Command::Unbind { name } => {
            let full = parse_name(name)?;
            root.unbind(&full).map_err(|e| e.explain(&full))?;
        }
        Command::RemoveContext { name } => {
            let full = parse_name(name)?;
            let ctx = NamingContextRef::unchecked_narrow(
                root.resolve(&full).map_err(|e| e.explain(&full))?,
            );
            ctx.destroy().map_err(|e| e.explain(&full))?;
            root.unbind(&full).map_err(|e| e.explain(&full))?;
        }
    }
    Ok(())
}

/// Prints a context's bindings, contexts with a trailing `/`, descending into them when
/// `recursive`.
fn list(
    ctx: &NamingContextRef,
    prefix: &str,
    recursive: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let (mut bindings, iterator) = ctx.list(100)?;
    if !iterator.is_nil() {
        loop {
            let (more, batch) = iterator.next_n(100)?;
            bindings.extend(batch);
            if !more {
                break;
            }
        }
        iterator.destroy()?;
    }
    for b in bindings {
        let path = format!("{prefix}{}", text(&b.binding_name));
        if b.binding_type == BindingType::Ncontext {
            writeln!(out, "{path}/").map_err(output)?;
            if recursive {
                let sub = NamingContextRef::unchecked_narrow(
                    ctx.resolve(&b.binding_name)
                        .map_err(|e| e.explain(&b.binding_name))?,
                );
                list(&sub, &format!("{path}/"), true, out)?;
            }
        } else {
            writeln!(out, "{path}").map_err(output)?;
        }
    }
    Ok(())
}

/// Output that cannot be written (a closed pipe) ends the command.
fn output(e: std::io::Error) -> Failure {
    Failure::Other(format!("cannot write the output: {e}"))
}
