//! The IDL parser: preprocessed tokens to an [`ast::Specification`](crate::ast::Specification).
//!
//! Written with nom 7 over a token slice. The grammar is OMG IDL 3.x (CORBA 3.0 chapter 3): modules,
//! interfaces (abstract, local, forward), valuetypes (abstract, custom, truncatable, boxed,
//! forward, state members, factories), constants, typedefs, structs, unions, enums, exceptions,
//! native, `typeid`, `typeprefix`, `import`, and the IDL3 component declarations (`component`
//! with its ports, `home`, `eventtype`; [`crate::ccm`] gives their equivalent IDL). IDL 3.5
//! (`porttype`, `connector`, template modules, extended ports) is refused with an error saying so.
//! To keep CORBA 2 IDL that uses the CCM words as identifiers compiling (as omniidl does), they
//! and the other CORBA 3 additions (`getraises`, `setraises`, `typeid`, `typeprefix`, `import`)
//! are keywords only where the grammar expects them.
//!
//! Errors use [`PError`], which implements nom's `ParseError` and `ContextError`; after a
//! committing keyword the parser `cut`s, so a syntax error is reported where it really is
//! ("expected ';' after struct member declaration, found 'long'"), not at the start of the
//! enclosing definition. The parser itself never panics and bounds nesting depth up front, so
//! hostile input cannot exhaust the stack.

use nom::error::{ContextError, ErrorKind, ParseError};
use nom::{Err, IResult};

use crate::ast::*;
use crate::lexer::{Token, TokenKind};
use crate::source::{FileId, Span};

/// Deepest nesting of brackets/braces accepted; real IDL stays far below it.
const MAX_NESTING: usize = 64;
/// Most operators in one declaration: a constant expression's tree is as deep as its operator
/// chain, and later passes walk it recursively.
const MAX_OPERATORS: usize = 1000;

/// The words that are IDL keywords everywhere (case-sensitive). An identifier that differs from
/// one of them only in case is rejected by the resolver when it is declared.
pub const KEYWORDS: &[&str] = &[
    "abstract",
    "any",
    "attribute",
    "boolean",
    "case",
    "char",
    "const",
    "context",
    "custom",
    "default",
    "double",
    "enum",
    "exception",
    "factory",
    "FALSE",
    "fixed",
    "float",
    "in",
    "inout",
    "interface",
    "local",
    "long",
    "module",
    "native",
    "Object",
    "octet",
    "oneway",
    "out",
    "private",
    "public",
    "raises",
    "readonly",
    "sequence",
    "short",
    "string",
    "struct",
    "supports",
    "switch",
    "TRUE",
    "truncatable",
    "typedef",
    "union",
    "unsigned",
    "ValueBase",
    "valuetype",
    "void",
    "wchar",
    "wstring",
];

pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

type In<'a> = &'a [Token];
type PResult<'a, O> = IResult<In<'a>, O, PError>;

/// A parse error: where, what, and in which construct.
#[derive(Debug, Clone, PartialEq)]
pub struct PError {
    pub span: Span,
    /// A complete message ("expected X, found Y"), or empty for nom's generic failures.
    pub message: String,
    /// Tokens left when the error happened: the error that got further wins an `alt`.
    remaining: usize,
    found: String,
    pub context: Option<&'static str>,
}

impl PError {
    fn at(i: In<'_>, message: String) -> Self {
        let t = first(i);
        PError {
            span: t.map(|t| t.span).unwrap_or(FALLBACK_SPAN),
            message,
            remaining: i.len(),
            found: t
                .map(Token::describe)
                .unwrap_or_else(|| "end of file".into()),
            context: None,
        }
    }

    /// The message to show the user.
    pub fn render(&self) -> String {
        if !self.message.is_empty() {
            return self.message.clone();
        }
        match self.context {
            Some(c) => format!("unexpected {} in {c}", self.found),
            None => format!("unexpected {}", self.found),
        }
    }
}

const FALLBACK_SPAN: Span = Span::new(FileId(0), 1, 1);

impl<'a> ParseError<In<'a>> for PError {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        PError::at(input, String::new())
    }

    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        // Prefer the alternative that got further; at a tie prefer a specific message.
        if other.remaining < self.remaining
            || (other.remaining == self.remaining && self.message.is_empty())
        {
            other
        } else {
            self
        }
    }
}

impl<'a> ContextError<In<'a>> for PError {
    fn add_context(_input: In<'a>, ctx: &'static str, mut other: Self) -> Self {
        if other.context.is_none() {
            other.context = Some(ctx);
        }
        other
    }
}

/// Parses a whole token stream (which must end with the preprocessor's `Eof` token).
pub fn parse(tokens: &[Token]) -> Result<Specification, PError> {
    check_nesting(tokens)?;
    let mut i = tokens;
    let mut definitions = Vec::new();
    loop {
        let rest = skip_pragmas_collect(i, &mut definitions);
        if rest.is_empty() || matches!(rest[0].kind, TokenKind::Eof) {
            return Ok(Specification { definitions });
        }
        match definition(Ctx::Top)(rest) {
            Ok((r, d)) => {
                definitions.push(d);
                i = r;
            }
            Err(Err::Error(e)) | Err(Err::Failure(e)) => return Err(e),
            Err(Err::Incomplete(_)) => {
                return Err(PError::at(rest, "unexpected end of input".into()))
            }
        }
    }
}

fn check_nesting(tokens: &[Token]) -> Result<(), PError> {
    let (mut depth, mut angles, mut operators) = (0usize, 0usize, 0usize);
    let mut prev_template_kw = false;
    for (k, t) in tokens.iter().enumerate() {
        if t.is_punct(";") || t.is_punct("{") || t.is_punct("}") {
            operators = 0;
        } else if matches!(t.kind, TokenKind::Punct(p) if "+-*/%|^&~<>".contains(p)) {
            operators += 1;
            if operators > MAX_OPERATORS {
                return Err(PError::at(
                    &tokens[k..],
                    format!("expression too long (more than {MAX_OPERATORS} operators)"),
                ));
            }
        }
        if t.is_punct("(") || t.is_punct("[") || t.is_punct("{") {
            depth += 1;
        } else if t.is_punct(")") || t.is_punct("]") || t.is_punct("}") {
            depth = depth.saturating_sub(1);
        } else if t.is_punct("<") && prev_template_kw {
            angles += 1;
        } else if t.is_punct(">") {
            // Only template brackets were counted, so a '>' closes one if any is open.
            angles = angles.saturating_sub(1);
        }
        if depth + angles > MAX_NESTING {
            return Err(PError::at(
                &tokens[k..],
                format!("nesting deeper than {MAX_NESTING} levels"),
            ));
        }
        prev_template_kw = matches!(t.ident(), Some("sequence" | "string" | "wstring" | "fixed"));
    }
    Ok(())
}

fn is_pragma(t: &Token) -> bool {
    matches!(t.kind, TokenKind::Pragma(_))
}

fn skip(i: In<'_>) -> In<'_> {
    let n = i.iter().take_while(|t| is_pragma(t)).count();
    &i[n..]
}

fn first(i: In<'_>) -> Option<&Token> {
    skip(i).first()
}

/// Moves pragma tokens at the head of `i` into `out` as definitions.
fn skip_pragmas_collect<'a>(mut i: In<'a>, out: &mut Vec<Definition>) -> In<'a> {
    while let Some(t) = i.first() {
        match &t.kind {
            TokenKind::Pragma(p) => {
                out.push(Definition::Pragma(p.clone(), t.span));
                i = &i[1..];
            }
            _ => break,
        }
    }
    i
}

fn err<'a, O>(i: In<'a>) -> PResult<'a, O> {
    Err(Err::Error(PError::at(i, String::new())))
}

fn fail<'a, O>(i: In<'a>, msg: String) -> PResult<'a, O> {
    Err(Err::Failure(PError::at(i, msg)))
}

fn found(i: In<'_>) -> String {
    first(i)
        .map(Token::describe)
        .unwrap_or_else(|| "end of file".into())
}

/// A punctuation token.
fn punct<'a>(p: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let i = skip(i);
        match i.first() {
            Some(t) if t.is_punct(p) => Ok((&i[1..], t.span)),
            _ => Err(Err::Error(PError::at(
                i,
                format!("expected '{p}', found {}", found(i)),
            ))),
        }
    }
}

/// A punctuation token that must be there: failure "expected 'p' {what}, found X".
fn expect_punct<'a>(p: &'static str, what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| match punct(p)(i) {
        Ok(r) => Ok(r),
        Err(_) => fail(i, format!("expected '{p}' {what}, found {}", found(i))),
    }
}

/// A keyword (exact case).
fn kw<'a>(k: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let i = skip(i);
        match i.first() {
            Some(t) if t.ident() == Some(k) => Ok((&i[1..], t.span)),
            _ => Err(Err::Error(PError::at(
                i,
                format!("expected '{k}', found {}", found(i)),
            ))),
        }
    }
}

fn peek_word(i: In<'_>) -> Option<&str> {
    first(i).and_then(Token::ident)
}

fn peek_punct(i: In<'_>, p: &str) -> bool {
    first(i).is_some_and(|t| t.is_punct(p))
}

/// An identifier that is not a reserved keyword.
fn ident(i: In<'_>) -> PResult<'_, Ident> {
    let i = skip(i);
    match i.first() {
        Some(t) => match t.ident() {
            Some(s) if !is_keyword(s) => {
                let mut chars = s.chars();
                let ok = match chars.next() {
                    Some('_') => chars.next().is_some_and(|c| c.is_ascii_alphabetic()),
                    Some(c) => c.is_ascii_alphabetic(),
                    None => false,
                };
                if !ok {
                    return fail(i, format!("'{s}' is not a valid IDL identifier"));
                }
                Ok((
                    &i[1..],
                    Ident {
                        name: s.to_owned(),
                        span: t.span,
                    },
                ))
            }
            _ => err(i),
        },
        None => err(i),
    }
}

/// An identifier that must be there.
fn expect_ident<'a>(what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Ident> {
    move |i: In<'a>| match ident(i) {
        Ok(r) => Ok(r),
        Err(Err::Failure(e)) => Err(Err::Failure(e)),
        Err(_) => {
            let f = found(i);
            let extra = if peek_word(i).is_some_and(is_keyword) {
                " (keywords cannot be used as identifiers; escape it with a leading '_')"
            } else {
                ""
            };
            fail(i, format!("expected {what}, found {f}{extra}"))
        }
    }
}

fn scoped_name(i: In<'_>) -> PResult<'_, ScopedName> {
    let start = skip(i);
    let span = start.first().map(|t| t.span).unwrap_or(FALLBACK_SPAN);
    let (mut i, global) = match punct("::")(start) {
        Ok((r, _)) => (r, true),
        Err(_) => (start, false),
    };
    let (r, firstp) = if global {
        expect_ident("identifier after '::'")(i)?
    } else {
        ident(i)?
    };
    i = r;
    let mut parts = vec![firstp];
    while let Ok((r, _)) = punct("::")(i) {
        let (r, p) = expect_ident("identifier after '::'")(r)?;
        parts.push(p);
        i = r;
    }
    Ok((
        i,
        ScopedName {
            global,
            parts,
            span,
        },
    ))
}

fn expect_scoped_name<'a>(what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, ScopedName> {
    move |i: In<'a>| match scoped_name(i) {
        Ok(r) => Ok(r),
        Err(Err::Failure(e)) => Err(Err::Failure(e)),
        Err(_) => fail(i, format!("expected {what}, found {}", found(i))),
    }
}

fn scoped_name_list<'a>(what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Vec<ScopedName>> {
    move |i: In<'a>| {
        let (mut i, n) = expect_scoped_name(what)(i)?;
        let mut v = vec![n];
        while let Ok((r, _)) = punct(",")(i) {
            let (r, n) = expect_scoped_name(what)(r)?;
            v.push(n);
            i = r;
        }
        Ok((i, v))
    }
}

fn string_literal(i: In<'_>) -> PResult<'_, String> {
    let i = skip(i);
    match i.first().map(|t| &t.kind) {
        Some(TokenKind::Str(s)) => Ok((&i[1..], s.clone())),
        _ => err(i),
    }
}

/// Where a definition appears: decides which definitions are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Module,
    Interface,
    Value,
    /// A component body: ports and attributes only.
    Component,
    /// A home body: an interface body plus `factory` and `finder`.
    Home,
}

fn span_of(i: In<'_>) -> Span {
    first(i).map(|t| t.span).unwrap_or(FALLBACK_SPAN)
}

/// One definition including its terminating ';'.
fn definition<'a>(ctx: Ctx) -> impl Fn(In<'a>) -> PResult<'a, Definition> {
    move |i: In<'a>| {
        if let Some(t) = i.first() {
            if let TokenKind::Pragma(p) = &t.kind {
                return Ok((&i[1..], Definition::Pragma(p.clone(), t.span)));
            }
        }
        let word = peek_word(i);
        if ctx == Ctx::Component {
            let (r, def) = component_export(i)?;
            let (r, _) = expect_punct(";", "after component port or attribute declaration")(r)?;
            return Ok((r, def));
        }
        let in_iface = matches!(ctx, Ctx::Interface | Ctx::Value | Ctx::Home);
        let (r, def, what) =
            match word {
                Some("module") if !in_iface => {
                    let (r, m) = module(i)?;
                    (r, Definition::Module(m), "after module definition")
                }
                Some("module") => {
                    return fail(
                        i,
                        "a module cannot be defined inside an interface or valuetype".into(),
                    )
                }
                Some("interface" | "local") if !in_iface => {
                    let (r, d) = interface(i)?;
                    (r, d, "after interface declaration")
                }
                Some("abstract") if !in_iface => {
                    let (r, d) = if matches!(
                        skip(i).get(1).and_then(Token::ident),
                        Some("valuetype" | "eventtype")
                    ) {
                        value(i)?
                    } else {
                        interface(i)?
                    };
                    (r, d, "after declaration")
                }
                Some("valuetype" | "custom") if !in_iface => {
                    let (r, d) = value(i)?;
                    (r, d, "after valuetype declaration")
                }
                Some("eventtype") if !in_iface && is_ccm(i) => {
                    let (r, d) = value(i)?;
                    (r, d, "after eventtype declaration")
                }
                Some("component") if !in_iface && is_ccm(i) => {
                    let (r, d) = component(i)?;
                    (r, d, "after component declaration")
                }
                Some("home") if !in_iface && is_ccm(i) => {
                    let (r, h) = home(i)?;
                    (r, Definition::Home(h), "after home declaration")
                }
                Some("porttype" | "connector") if !in_iface && is_ccm(i) => {
                    return fail(
                        i,
                        idl35_unsupported(&format!("'{}'", word.unwrap_or_default()), PLAIN_PORTS),
                    )
                }
                Some("interface" | "local" | "abstract" | "valuetype" | "custom") => return fail(
                    i,
                    "interfaces and valuetypes cannot be nested inside an interface or valuetype"
                        .into(),
                ),
                Some("typedef" | "struct" | "union" | "enum" | "native") => {
                    let (r, d) = type_dcl(i)?;
                    let what = match word {
                        Some("typedef") => "after typedef declaration",
                        Some("struct") => "after struct definition",
                        Some("union") => "after union definition",
                        Some("enum") => "after enum definition",
                        _ => "after native declaration",
                    };
                    (r, d, what)
                }
                Some("const") => {
                    let (r, c) = const_dcl(i)?;
                    (r, Definition::Const(c), "after constant declaration")
                }
                Some("exception") => {
                    let (r, e) = except_dcl(i)?;
                    (r, Definition::Exception(e), "after exception definition")
                }
                Some("typeid" | "typeprefix") if is_repo_dcl(i) => {
                    let (r, d) = repo_dcl(i)?;
                    (r, d, "after repository id declaration")
                }
                Some("import") if ctx == Ctx::Top && is_import(i) => {
                    let (r, d) = import(i)?;
                    (r, d, "after import declaration")
                }
                Some("attribute" | "readonly") if in_iface => {
                    let (r, a) = attr_dcl(i)?;
                    (r, Definition::Attribute(a), "after attribute declaration")
                }
                Some("public" | "private") if ctx == Ctx::Value => {
                    let (r, s) = state_member(i)?;
                    (
                        r,
                        Definition::StateMember(s),
                        "after state member declaration",
                    )
                }
                Some("factory") if matches!(ctx, Ctx::Value | Ctx::Home) => {
                    let (r, f) = initializer(i, "factory", "factory name")?;
                    (r, Definition::Factory(f), "after factory declaration")
                }
                Some("finder") if ctx == Ctx::Home => {
                    let (r, f) = initializer(i, "finder", "finder name")?;
                    (r, Definition::Finder(f), "after finder declaration")
                }
                _ if in_iface => {
                    let (r, o) = op_dcl(i)?;
                    (r, Definition::Operation(o), "after operation declaration")
                }
                _ => return err(i),
            };
        let (r, _) = expect_punct(";", what)(r)?;
        Ok((r, def))
    }
}

fn is_repo_dcl(i: In<'_>) -> bool {
    let i = skip(i);
    match scoped_name(&i[1..]) {
        Ok((r, _)) => string_literal(r).is_ok(),
        Err(_) => false,
    }
}

fn is_import(i: In<'_>) -> bool {
    let i = skip(i);
    scoped_name(&i[1..]).is_ok() || string_literal(&i[1..]).is_ok()
}

/// The message for an IDL 3.5 construct (`what`): not supported, and what to write instead.
fn idl35_unsupported(what: &str, instead: &str) -> String {
    format!(
        "{what} is IDL 3.5 (connectors, port types, extended ports and template modules), which \
         idlc does not support; {instead}"
    )
}

/// What to write instead of a connector, port type or extended port.
const PLAIN_PORTS: &str =
    "declare the ports on the component itself (provides, uses, emits, publishes, consumes)";

/// `component X`, `home X`, `eventtype X` (as opposed to an identifier used as a type name).
fn is_ccm(i: In<'_>) -> bool {
    let i = skip(i);
    i.get(1).and_then(Token::ident).is_some() && !i.get(2).is_some_and(|t| t.is_punct("::"))
}

fn body<'a>(ctx: Ctx, what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, Vec<Definition>> {
    move |i: In<'a>| {
        let (mut i, _) = expect_punct("{", what)(i)?;
        let mut defs = Vec::new();
        loop {
            i = skip_pragmas_collect(i, &mut defs);
            if let Ok((r, _)) = punct("}")(i) {
                return Ok((r, defs));
            }
            match definition(ctx)(i) {
                Ok((r, d)) => {
                    defs.push(d);
                    i = r;
                }
                Err(Err::Error(_)) => {
                    let expected = match ctx {
                        Ctx::Module | Ctx::Top => "a definition or '}'",
                        Ctx::Component => "a port, an attribute or '}'",
                        _ => "a declaration or '}'",
                    };
                    return fail(i, format!("expected {expected} {what}, found {}", found(i)));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn module(i: In<'_>) -> PResult<'_, Module> {
    let span = span_of(i);
    let (i, _) = kw("module")(i)?;
    let (i, name) = expect_ident("module name")(i)?;
    if peek_punct(i, "<") {
        return fail(
            i,
            idl35_unsupported(
                "a template module ('module M<...>')",
                "write the module out with its concrete types",
            ),
        );
    }
    let (i, definitions) = body(Ctx::Module, "in module body")(i)?;
    Ok((
        i,
        Module {
            name,
            definitions,
            span,
        },
    ))
}

fn interface(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    let (i, kind) = match peek_word(i) {
        Some("abstract") => (kw("abstract")(i)?.0, InterfaceKind::Abstract),
        Some("local") => (kw("local")(i)?.0, InterfaceKind::Local),
        _ => (i, InterfaceKind::Unconstrained),
    };
    let (i, _) = match kw("interface")(i) {
        Ok(r) => r,
        Err(_) => return fail(i, format!("expected 'interface', found {}", found(i))),
    };
    let (i, name) = expect_ident("interface name")(i)?;
    if peek_punct(i, ";") {
        return Ok((
            i,
            Definition::InterfaceForward(InterfaceForward { kind, name, span }),
        ));
    }
    let (i, bases) = if let Ok((r, _)) = punct(":")(i) {
        scoped_name_list("base interface name")(r)?
    } else {
        (i, Vec::new())
    };
    let (i, body) = body(Ctx::Interface, "in interface body")(i)?;
    Ok((
        i,
        Definition::Interface(Interface {
            kind,
            name,
            bases,
            body,
            span,
        }),
    ))
}

fn value(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    let (i, kind) = match peek_word(i) {
        Some("abstract") => (kw("abstract")(i)?.0, ValueKind::Abstract),
        Some("custom") => (kw("custom")(i)?.0, ValueKind::Custom),
        _ => (i, ValueKind::Concrete),
    };
    let event = peek_word(i) == Some("eventtype");
    let (i, _) = match kw(if event { "eventtype" } else { "valuetype" })(i) {
        Ok(r) => r,
        Err(_) => {
            return fail(
                i,
                format!("expected 'valuetype' or 'eventtype', found {}", found(i)),
            )
        }
    };
    let (i, name) = expect_ident(if event {
        "eventtype name"
    } else {
        "valuetype name"
    })(i)?;
    if peek_punct(i, ";") {
        if kind == ValueKind::Custom {
            return fail(i, "a forward declaration cannot be 'custom'".into());
        }
        let fwd = ValueForward {
            abstract_: kind == ValueKind::Abstract,
            name,
            span,
        };
        return Ok((
            i,
            if event {
                Definition::EventForward(fwd)
            } else {
                Definition::ValueForward(fwd)
            },
        ));
    }
    let full = peek_punct(i, ":") || peek_punct(i, "{") || peek_word(i) == Some("supports");
    if !full {
        if kind != ValueKind::Concrete || event {
            let what = if event { "eventtype" } else { "valuetype" };
            return fail(
                i,
                format!(
                    "expected ':', 'supports' or '{{' in {what} declaration, found {}",
                    found(i)
                ),
            );
        }
        let (i, ty) = expect_type_spec("boxed type of the value box")(i)?;
        return Ok((i, Definition::ValueBox(ValueBox { name, ty, span })));
    }
    let (mut i, mut truncatable, mut bases) = (i, false, Vec::new());
    if let Ok((r, _)) = punct(":")(i) {
        let r = match kw("truncatable")(r) {
            Ok((r, _)) => {
                truncatable = true;
                r
            }
            Err(_) => r,
        };
        let (r, b) = scoped_name_list("base valuetype name")(r)?;
        bases = b;
        i = r;
    }
    let mut supports = Vec::new();
    if let Ok((r, _)) = kw("supports")(i) {
        let (r, s) = scoped_name_list("supported interface name")(r)?;
        supports = s;
        i = r;
    }
    let (i, body) = body(
        Ctx::Value,
        if event {
            "in eventtype body"
        } else {
            "in valuetype body"
        },
    )(i)?;
    let v = ValueType {
        kind,
        name,
        truncatable,
        bases,
        supports,
        body,
        span,
    };
    Ok((
        i,
        if event {
            Definition::EventType(v)
        } else {
            Definition::ValueType(v)
        },
    ))
}

/// `component C [: Base] [supports I, ...] { ports and attributes }`, or `component C;`.
fn component(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    let (i, _) = kw("component")(i)?;
    let (i, name) = expect_ident("component name")(i)?;
    if peek_punct(i, ";") {
        return Ok((i, Definition::ComponentForward(name)));
    }
    let (i, (base, supports)) = base_and_supports(i, "component")?;
    let (i, body) = body(Ctx::Component, "in component body")(i)?;
    Ok((
        i,
        Definition::Component(Component {
            name,
            base,
            supports,
            body,
            span,
        }),
    ))
}

/// A component's or home's (`what`) `[: Base] [supports I, ...]`: single inheritance, then the
/// supported interfaces.
fn base_and_supports<'a>(
    i: In<'a>,
    what: &'static str,
) -> PResult<'a, (Option<ScopedName>, Vec<ScopedName>)> {
    let (i, base) = match punct(":")(i) {
        Ok((r, _)) => {
            let (r, b) = match scoped_name(r) {
                Ok(x) => x,
                Err(Err::Failure(e)) => return Err(Err::Failure(e)),
                Err(_) => return fail(r, format!("expected base {what} name, found {}", found(r))),
            };
            if peek_punct(r, ",") {
                return fail(r, format!("a {what} has at most one base {what}"));
            }
            (r, Some(b))
        }
        Err(_) => (i, None),
    };
    let (i, supports) = match kw("supports")(i) {
        Ok((r, _)) => scoped_name_list("supported interface name")(r)?,
        Err(_) => (i, Vec::new()),
    };
    Ok((i, (base, supports)))
}

/// One declaration of a component body (without its ';'): a port or an attribute.
fn component_export(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    let word = peek_word(i);
    let kind = match word {
        Some("attribute" | "readonly") => {
            let (r, a) = attr_dcl(i)?;
            return Ok((r, Definition::Attribute(a)));
        }
        Some("provides") => PortKind::Provides,
        Some("uses") => PortKind::Uses { multiple: false },
        Some("emits") => PortKind::Emits,
        Some("publishes") => PortKind::Publishes,
        Some("consumes") => PortKind::Consumes,
        Some(w @ ("port" | "mirrorport")) => {
            return fail(
                i,
                idl35_unsupported(&format!("'{w}' (an extended port)"), PLAIN_PORTS),
            )
        }
        _ => return err(i),
    };
    let mut r = &skip(i)[1..];
    let kind = match kind {
        PortKind::Uses { .. } => match kw("multiple")(r) {
            Ok((r2, _)) => {
                r = r2;
                PortKind::Uses { multiple: true }
            }
            Err(_) => kind,
        },
        k => k,
    };
    let interface_port = matches!(kind, PortKind::Provides | PortKind::Uses { .. });
    let (r, ty) = if interface_port && peek_word(r) == Some("Object") {
        let (r2, s) = kw("Object")(r)?;
        (
            r2,
            TypeSpec {
                kind: TypeSpecKind::Base(BaseType::Object),
                span: s,
            },
        )
    } else {
        let what = if interface_port {
            "interface type of the port"
        } else {
            "eventtype of the port"
        };
        let (r2, n) = expect_scoped_name(what)(r)?;
        let span = n.span;
        (
            r2,
            TypeSpec {
                kind: TypeSpecKind::Named(n),
                span,
            },
        )
    };
    let (r, name) = expect_ident("port name")(r)?;
    Ok((
        r,
        Definition::Port(Port {
            kind,
            ty,
            name,
            span,
        }),
    ))
}

/// `home H [: Base] [supports I, ...] manages C [primarykey K] { ... }`.
fn home(i: In<'_>) -> PResult<'_, Home> {
    let span = span_of(i);
    let (i, _) = kw("home")(i)?;
    let (i, name) = expect_ident("home name")(i)?;
    let (i, (base, supports)) = base_and_supports(i, "home")?;
    let (i, _) = match kw("manages")(i) {
        Ok(r) => r,
        Err(_) => {
            return fail(
                i,
                format!(
                    "expected 'manages' and the component the home manages, found {}",
                    found(i)
                ),
            )
        }
    };
    let (i, manages) = expect_scoped_name("managed component name")(i)?;
    let (i, primary_key) = match kw("primarykey")(i) {
        Ok((r, _)) => {
            let (r, k) = expect_scoped_name("primary key valuetype name")(r)?;
            (r, Some(k))
        }
        Err(_) => (i, None),
    };
    let (i, body) = body(Ctx::Home, "in home body")(i)?;
    Ok((
        i,
        Home {
            name,
            base,
            supports,
            manages,
            primary_key,
            body,
            span,
        },
    ))
}

fn state_member(i: In<'_>) -> PResult<'_, StateMember> {
    let span = span_of(i);
    let public = peek_word(i) == Some("public");
    let (i, _) = if public {
        kw("public")(i)?
    } else {
        kw("private")(i)?
    };
    let (i, ty) = expect_type_spec("state member type")(i)?;
    let (i, declarators) = declarators(i)?;
    Ok((
        i,
        StateMember {
            public,
            ty,
            declarators,
            span,
        },
    ))
}

/// `keyword name(in ...) [raises (...)]`: a valuetype's or home's `factory`, a home's `finder`.
fn initializer<'a>(i: In<'a>, keyword: &'static str, what: &'static str) -> PResult<'a, Factory> {
    let span = span_of(i);
    let (i, _) = kw(keyword)(i)?;
    let (i, name) = expect_ident(what)(i)?;
    let (i, params) = param_list(i, true)?;
    let (i, (raises, _)) = opt_raises(i)?;
    Ok((
        i,
        Factory {
            name,
            params,
            raises,
            span,
        },
    ))
}

fn repo_dcl(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    let is_id = peek_word(i) == Some("typeid");
    let i = &skip(i)[1..];
    let (i, name) = expect_scoped_name("name")(i)?;
    let (i, s) = match string_literal(i) {
        Ok(r) => r,
        Err(_) => return fail(i, format!("expected string literal, found {}", found(i))),
    };
    Ok((
        i,
        if is_id {
            Definition::TypeId { name, id: s, span }
        } else {
            Definition::TypePrefix {
                name,
                prefix: s,
                span,
            }
        },
    ))
}

fn import(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    let i = &skip(i)[1..];
    if let Ok((r, s)) = string_literal(i) {
        return Ok((r, Definition::Import { target: s, span }));
    }
    let (r, n) = expect_scoped_name("imported scope name")(i)?;
    Ok((
        r,
        Definition::Import {
            target: n.to_string(),
            span,
        },
    ))
}

fn type_dcl(i: In<'_>) -> PResult<'_, Definition> {
    let span = span_of(i);
    match peek_word(i) {
        Some("typedef") => {
            let (i, _) = kw("typedef")(i)?;
            let (i, ty) = expect_type_spec("type in typedef")(i)?;
            let (i, declarators) = declarators(i)?;
            Ok((
                i,
                Definition::Typedef(Typedef {
                    ty,
                    declarators,
                    span,
                }),
            ))
        }
        Some("native") => {
            let (i, _) = kw("native")(i)?;
            let (i, name) = expect_ident("native type name")(i)?;
            Ok((i, Definition::Native(name)))
        }
        Some("struct") => {
            let (i2, _) = kw("struct")(i)?;
            let (i2, name) = expect_ident("struct name")(i2)?;
            if peek_punct(i2, ";") {
                return Ok((i2, Definition::StructForward(name)));
            }
            let (i, s) = struct_type(i)?;
            Ok((i, Definition::Struct(s)))
        }
        Some("union") => {
            let (i2, _) = kw("union")(i)?;
            let (i2, name) = expect_ident("union name")(i2)?;
            if peek_punct(i2, ";") {
                return Ok((i2, Definition::UnionForward(name)));
            }
            let (i, u) = union_type(i)?;
            Ok((i, Definition::Union(u)))
        }
        _ => {
            let (i, e) = enum_type(i)?;
            Ok((i, Definition::Enum(e)))
        }
    }
}

fn members<'a>(i: In<'a>, what: &'static str, allow_empty: bool) -> PResult<'a, Vec<Member>> {
    let (mut i, _) = expect_punct("{", what)(i)?;
    let mut out = Vec::new();
    loop {
        if let Ok((r, _)) = punct("}")(i) {
            if out.is_empty() && !allow_empty {
                return fail(i, "a struct must have at least one member".into());
            }
            return Ok((r, out));
        }
        let span = span_of(i);
        let (r, ty) = match type_spec(i) {
            Ok(x) => x,
            Err(Err::Error(_)) => {
                return fail(
                    i,
                    format!("expected a member declaration or '}}', found {}", found(i)),
                )
            }
            Err(e) => return Err(e),
        };
        let (r, declarators) = declarators(r)?;
        let (r, _) = expect_punct(";", "after member declaration")(r)?;
        out.push(Member {
            ty,
            declarators,
            span,
        });
        i = r;
    }
}

fn struct_type(i: In<'_>) -> PResult<'_, Struct> {
    let span = span_of(i);
    let (i, _) = kw("struct")(i)?;
    let (i, name) = expect_ident("struct name")(i)?;
    let (i, members) = members(i, "to open struct body", false)?;
    Ok((
        i,
        Struct {
            name,
            members,
            span,
        },
    ))
}

fn except_dcl(i: In<'_>) -> PResult<'_, Exception> {
    let span = span_of(i);
    let (i, _) = kw("exception")(i)?;
    let (i, name) = expect_ident("exception name")(i)?;
    let (i, members) = members(i, "to open exception body", true)?;
    Ok((
        i,
        Exception {
            name,
            members,
            span,
        },
    ))
}

fn union_type(i: In<'_>) -> PResult<'_, Union> {
    let span = span_of(i);
    let (i, _) = kw("union")(i)?;
    let (i, name) = expect_ident("union name")(i)?;
    let (i, _) = match kw("switch")(i) {
        Ok(r) => r,
        Err(_) => {
            return fail(
                i,
                format!("expected 'switch' after union name, found {}", found(i)),
            )
        }
    };
    let (i, _) = expect_punct("(", "after 'switch'")(i)?;
    let (i, discriminator) = expect_type_spec("discriminator type")(i)?;
    let (i, _) = expect_punct(")", "after discriminator type")(i)?;
    let (mut i, _) = expect_punct("{", "to open union body")(i)?;
    let mut cases = Vec::new();
    loop {
        if let Ok((r, _)) = punct("}")(i) {
            if cases.is_empty() {
                return fail(i, "a union must have at least one case".into());
            }
            return Ok((
                r,
                Union {
                    name,
                    discriminator,
                    cases,
                    span,
                },
            ));
        }
        let case_span = span_of(i);
        let mut labels = Vec::new();
        loop {
            if let Ok((r, s)) = kw("case")(i) {
                let (r, e) = expect_const_expr(r, "case label")?;
                let (r, _) = expect_punct(":", "after case label")(r)?;
                labels.push(CaseLabel::Value(e));
                i = r;
                let _ = s;
            } else if let Ok((r, s)) = kw("default")(i) {
                let (r, _) = expect_punct(":", "after 'default'")(r)?;
                labels.push(CaseLabel::Default(s));
                i = r;
            } else {
                break;
            }
        }
        if labels.is_empty() {
            return fail(
                i,
                format!(
                    "expected 'case', 'default' or '}}' in union body, found {}",
                    found(i)
                ),
            );
        }
        let (r, ty) = expect_type_spec("union member type")(i)?;
        let (r, declarator) = declarator(r)?;
        let (r, _) = expect_punct(";", "after union member declaration")(r)?;
        cases.push(UnionCase {
            labels,
            ty,
            declarator,
            span: case_span,
        });
        i = r;
    }
}

fn enum_type(i: In<'_>) -> PResult<'_, Enum> {
    let span = span_of(i);
    let (i, _) = kw("enum")(i)?;
    let (i, name) = expect_ident("enum name")(i)?;
    let (i, _) = expect_punct("{", "to open enum body")(i)?;
    let (mut i, e) = expect_ident("enumerator")(i)?;
    let mut enumerators = vec![e];
    while let Ok((r, _)) = punct(",")(i) {
        let (r, e) = expect_ident("enumerator")(r)?;
        enumerators.push(e);
        i = r;
    }
    let (i, _) = expect_punct("}", "or ',' in enum body")(i)?;
    Ok((
        i,
        Enum {
            name,
            enumerators,
            span,
        },
    ))
}

fn const_dcl(i: In<'_>) -> PResult<'_, Const> {
    let span = span_of(i);
    let (i, _) = kw("const")(i)?;
    let (i, ty) = expect_type_spec("constant type")(i)?;
    let (i, name) = expect_ident("constant name")(i)?;
    let (i, _) = expect_punct("=", "after constant name")(i)?;
    let (i, value) = expect_const_expr(i, "constant value")?;
    Ok((
        i,
        Const {
            ty,
            name,
            value,
            span,
        },
    ))
}

fn declarator(i: In<'_>) -> PResult<'_, Declarator> {
    let (mut i, name) = expect_ident("declarator name")(i)?;
    let mut dims = Vec::new();
    while let Ok((r, _)) = punct("[")(i) {
        let (r, e) = expect_const_expr(r, "array size")?;
        let (r, _) = expect_punct("]", "after array size")(r)?;
        dims.push(e);
        i = r;
    }
    Ok((i, Declarator { name, dims }))
}

fn declarators(i: In<'_>) -> PResult<'_, Vec<Declarator>> {
    let (mut i, d) = declarator(i)?;
    let mut v = vec![d];
    while let Ok((r, _)) = punct(",")(i) {
        let (r, d) = declarator(r)?;
        v.push(d);
        i = r;
    }
    Ok((i, v))
}

fn base_type(i: In<'_>) -> PResult<'_, BaseType> {
    let Some(w) = peek_word(i) else { return err(i) };
    let one = |b: BaseType| -> PResult<'_, BaseType> { Ok((&skip(i)[1..], b)) };
    match w {
        "float" => one(BaseType::Float),
        "double" => one(BaseType::Double),
        "short" => one(BaseType::Short),
        "char" => one(BaseType::Char),
        "wchar" => one(BaseType::WChar),
        "boolean" => one(BaseType::Boolean),
        "octet" => one(BaseType::Octet),
        "any" => one(BaseType::Any),
        "Object" => one(BaseType::Object),
        "ValueBase" => one(BaseType::ValueBase),
        "long" => {
            let (r, _) = kw("long")(i)?;
            if let Ok((r, _)) = kw("long")(r) {
                Ok((r, BaseType::LongLong))
            } else if let Ok((r, _)) = kw("double")(r) {
                Ok((r, BaseType::LongDouble))
            } else {
                Ok((r, BaseType::Long))
            }
        }
        "unsigned" => {
            let (r, _) = kw("unsigned")(i)?;
            if let Ok((r, _)) = kw("short")(r) {
                Ok((r, BaseType::UShort))
            } else if let Ok((r, _)) = kw("long")(r) {
                if let Ok((r, _)) = kw("long")(r) {
                    Ok((r, BaseType::ULongLong))
                } else {
                    Ok((r, BaseType::ULong))
                }
            } else {
                fail(
                    r,
                    format!(
                        "expected 'short' or 'long' after 'unsigned', found {}",
                        found(r)
                    ),
                )
            }
        }
        _ => err(i),
    }
}

/// `<` bound `>` after string/wstring.
fn opt_bound(i: In<'_>) -> PResult<'_, Option<Box<Expr>>> {
    match punct("<")(i) {
        Ok((r, _)) => {
            let (r, e) = template_expr(r, "string bound")?;
            let (r, _) = expect_punct(">", "to close the bound")(r)?;
            Ok((r, Some(Box::new(e))))
        }
        Err(_) => Ok((i, None)),
    }
}

/// Types without an in-place struct/union/enum definition.
fn simple_type_spec(i: In<'_>) -> PResult<'_, TypeSpec> {
    let span = span_of(i);
    if let Ok((r, b)) = base_type(i) {
        return Ok((
            r,
            TypeSpec {
                kind: TypeSpecKind::Base(b),
                span,
            },
        ));
    }
    let kind_ok = |r, kind| Ok((r, TypeSpec { kind, span }));
    match peek_word(i) {
        Some("string") => {
            let (r, _) = kw("string")(i)?;
            let (r, b) = opt_bound(r)?;
            kind_ok(r, TypeSpecKind::String(b))
        }
        Some("wstring") => {
            let (r, _) = kw("wstring")(i)?;
            let (r, b) = opt_bound(r)?;
            kind_ok(r, TypeSpecKind::WString(b))
        }
        Some("sequence") => {
            let (r, _) = kw("sequence")(i)?;
            let (r, _) = expect_punct("<", "after 'sequence'")(r)?;
            let (r, elem) = match simple_type_spec(r) {
                Ok(x) => x,
                Err(Err::Error(_)) => {
                    return fail(
                        r,
                        format!("expected sequence element type, found {}", found(r)),
                    )
                }
                Err(e) => return Err(e),
            };
            let (r, bound) = match punct(",")(r) {
                Ok((r, _)) => {
                    let (r, e) = template_expr(r, "sequence bound")?;
                    (r, Some(Box::new(e)))
                }
                Err(_) => (r, None),
            };
            let (r, _) = expect_punct(">", "to close the sequence type")(r)?;
            kind_ok(r, TypeSpecKind::Sequence(Box::new(elem), bound))
        }
        Some("fixed") => {
            let (r, _) = kw("fixed")(i)?;
            match punct("<")(r) {
                Ok((r, _)) => {
                    let (r, d) = template_expr(r, "number of digits")?;
                    let (r, _) = expect_punct(",", "between digits and scale of fixed")(r)?;
                    let (r, s) = template_expr(r, "scale")?;
                    let (r, _) = expect_punct(">", "to close the fixed type")(r)?;
                    kind_ok(r, TypeSpecKind::Fixed(Some((Box::new(d), Box::new(s)))))
                }
                Err(_) => kind_ok(r, TypeSpecKind::Fixed(None)),
            }
        }
        _ => {
            let (r, n) = scoped_name(i)?;
            kind_ok(r, TypeSpecKind::Named(n))
        }
    }
}

fn type_spec(i: In<'_>) -> PResult<'_, TypeSpec> {
    let span = span_of(i);
    match peek_word(i) {
        Some("struct") => {
            let (r, s) = struct_type(i)?;
            Ok((
                r,
                TypeSpec {
                    kind: TypeSpecKind::Struct(Box::new(s)),
                    span,
                },
            ))
        }
        Some("union") => {
            let (r, u) = union_type(i)?;
            Ok((
                r,
                TypeSpec {
                    kind: TypeSpecKind::Union(Box::new(u)),
                    span,
                },
            ))
        }
        Some("enum") => {
            let (r, e) = enum_type(i)?;
            Ok((
                r,
                TypeSpec {
                    kind: TypeSpecKind::Enum(Box::new(e)),
                    span,
                },
            ))
        }
        _ => simple_type_spec(i),
    }
}

fn expect_type_spec<'a>(what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, TypeSpec> {
    move |i: In<'a>| match type_spec(i) {
        Ok(r) => Ok(r),
        Err(Err::Error(_)) => fail(i, format!("expected {what}, found {}", found(i))),
        Err(e) => Err(e),
    }
}

/// `param_type_spec`: base types, string, wstring and scoped names only (CORBA 3.0 §3.13).
fn param_type_spec<'a>(what: &'static str) -> impl Fn(In<'a>) -> PResult<'a, TypeSpec> {
    move |i: In<'a>| {
        match peek_word(i) {
            Some("sequence" | "fixed") => {
                return fail(
                    i,
                    format!(
                        "anonymous {} types are not allowed as {what}; declare a typedef",
                        peek_word(i).unwrap_or_default()
                    ),
                )
            }
            Some("struct" | "union" | "enum") => {
                return fail(i, format!("a type cannot be defined as {what}"))
            }
            _ => {}
        }
        match simple_type_spec(i) {
            Ok(r) => Ok(r),
            Err(Err::Error(_)) => fail(i, format!("expected {what}, found {}", found(i))),
            Err(e) => Err(e),
        }
    }
}

fn param_list(i: In<'_>, init: bool) -> PResult<'_, Vec<Param>> {
    let (mut i, _) = expect_punct("(", "to open the parameter list")(i)?;
    let mut params = Vec::new();
    if let Ok((r, _)) = punct(")")(i) {
        return Ok((r, params));
    }
    loop {
        let span = span_of(i);
        let dir = match peek_word(i) {
            Some("in") => ParamDir::In,
            Some("out") if !init => ParamDir::Out,
            Some("inout") if !init => ParamDir::InOut,
            _ if init => {
                return fail(
                    i,
                    format!(
                        "expected 'in' (factory parameters are in-only), found {}",
                        found(i)
                    ),
                )
            }
            _ => {
                return fail(
                    i,
                    format!(
                        "expected parameter direction 'in', 'out' or 'inout', found {}",
                        found(i)
                    ),
                )
            }
        };
        let r = &skip(i)[1..];
        let (r, ty) = param_type_spec("parameter type")(r)?;
        let (r, name) = expect_ident("parameter name")(r)?;
        params.push(Param {
            dir,
            ty,
            name,
            span,
        });
        if let Ok((r, _)) = punct(",")(r) {
            i = r;
            continue;
        }
        let (r, _) = expect_punct(")", "or ',' after parameter")(r)?;
        return Ok((r, params));
    }
}

fn exception_list(i: In<'_>) -> PResult<'_, Vec<ScopedName>> {
    let (i, _) = expect_punct("(", "to open the exception list")(i)?;
    let (i, v) = scoped_name_list("exception name")(i)?;
    let (i, _) = expect_punct(")", "or ',' in exception list")(i)?;
    Ok((i, v))
}

fn opt_raises(i: In<'_>) -> PResult<'_, (Vec<ScopedName>, Option<Span>)> {
    match kw("raises")(i) {
        Ok((r, s)) => {
            let (r, v) = exception_list(r)?;
            Ok((r, (v, Some(s))))
        }
        Err(_) => Ok((i, (Vec::new(), None))),
    }
}

fn op_dcl(i: In<'_>) -> PResult<'_, Operation> {
    let span = span_of(i);
    let (i, oneway) = match kw("oneway")(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let (i, result) = match kw("void")(i) {
        Ok((r, _)) => (r, None),
        Err(_) => {
            let (r, t) = param_type_spec("operation return type")(i)?;
            (r, Some(t))
        }
    };
    let (i, name) = expect_ident("operation name")(i)?;
    let (i, params) = param_list(i, false)?;
    let (i, (raises, raises_span)) = opt_raises(i)?;
    let (i, context) = match kw("context")(i) {
        Ok((r, _)) => {
            let (mut r, _) = expect_punct("(", "after 'context'")(r)?;
            let mut v = Vec::new();
            loop {
                let (r2, s) = match string_literal(r) {
                    Ok(x) => x,
                    Err(_) => {
                        return fail(
                            r,
                            format!(
                                "expected string literal in context list, found {}",
                                found(r)
                            ),
                        )
                    }
                };
                v.push(s);
                if let Ok((r3, _)) = punct(",")(r2) {
                    r = r3;
                    continue;
                }
                let (r3, _) = expect_punct(")", "or ',' in context list")(r2)?;
                break (r3, v);
            }
        }
        Err(_) => (i, Vec::new()),
    };
    Ok((
        i,
        Operation {
            oneway,
            result,
            name,
            params,
            raises,
            raises_span,
            context,
            span,
        },
    ))
}

fn attr_dcl(i: In<'_>) -> PResult<'_, Attribute> {
    let span = span_of(i);
    let (i, readonly) = match kw("readonly")(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let (i, _) = match kw("attribute")(i) {
        Ok(r) => r,
        Err(_) => {
            return fail(
                i,
                format!("expected 'attribute' after 'readonly', found {}", found(i)),
            )
        }
    };
    let (i, ty) = param_type_spec("attribute type")(i)?;
    let (mut i, n) = expect_ident("attribute name")(i)?;
    let mut names = vec![n];
    let (mut get_raises, mut set_raises) = (Vec::new(), Vec::new());
    if readonly {
        if let Ok((r, _)) = kw("raises")(i) {
            let (r, v) = exception_list(r)?;
            get_raises = v;
            i = r;
        }
    } else {
        if let Ok((r, _)) = kw("getraises")(i) {
            let (r, v) = exception_list(r)?;
            get_raises = v;
            i = r;
        }
        if let Ok((r, _)) = kw("setraises")(i) {
            let (r, v) = exception_list(r)?;
            set_raises = v;
            i = r;
        }
        if peek_word(i) == Some("raises") {
            return fail(
                i,
                "a writable attribute takes 'getraises' and 'setraises', not 'raises'".into(),
            );
        }
    }
    if get_raises.is_empty() && set_raises.is_empty() {
        while let Ok((r, _)) = punct(",")(i) {
            let (r, n) = expect_ident("attribute name")(r)?;
            names.push(n);
            i = r;
        }
    }
    if readonly && matches!(peek_word(i), Some("getraises" | "setraises")) {
        return fail(
            i,
            "a readonly attribute takes 'raises', not 'getraises' or 'setraises'".into(),
        );
    }
    if !readonly && peek_word(i) == Some("getraises") {
        return fail(i, "'getraises' must come before 'setraises'".into());
    }
    Ok((
        i,
        Attribute {
            readonly,
            ty,
            names,
            get_raises,
            set_raises,
            span,
        },
    ))
}

// ---- constant expressions ----

fn expect_const_expr<'a>(i: In<'a>, what: &'static str) -> PResult<'a, Expr> {
    match or_expr(i, false) {
        Ok(r) => Ok(r),
        Err(Err::Error(_)) => fail(
            i,
            format!(
                "expected {what} (a constant expression), found {}",
                found(i)
            ),
        ),
        Err(e) => Err(e),
    }
}

/// A constant expression inside `<...>`, where `>>` closes two templates rather than shifting.
fn template_expr<'a>(i: In<'a>, what: &'static str) -> PResult<'a, Expr> {
    match or_expr(i, true) {
        Ok(r) => Ok(r),
        Err(Err::Error(_)) => fail(
            i,
            format!(
                "expected {what} (a constant expression), found {}",
                found(i)
            ),
        ),
        Err(e) => Err(e),
    }
}

fn binary<'a>(
    i: In<'a>,
    no_shr: bool,
    ops: &[(&'static str, BinOp)],
    next: fn(In<'a>, bool) -> PResult<'a, Expr>,
) -> PResult<'a, Expr> {
    let (mut i, mut lhs) = next(i, no_shr)?;
    'outer: loop {
        for (p, op) in ops {
            if let Ok((r, _)) = punct(p)(i) {
                let (r, rhs) = match next(r, no_shr) {
                    Ok(x) => x,
                    Err(Err::Error(_)) => {
                        return fail(
                            r,
                            format!("expected operand after '{p}', found {}", found(r)),
                        )
                    }
                    Err(e) => return Err(e),
                };
                let span = lhs.span;
                lhs = Expr {
                    kind: ExprKind::Binary(*op, Box::new(lhs), Box::new(rhs)),
                    span,
                };
                i = r;
                continue 'outer;
            }
        }
        return Ok((i, lhs));
    }
}

fn or_expr(i: In<'_>, no_shr: bool) -> PResult<'_, Expr> {
    binary(i, no_shr, &[("|", BinOp::Or)], xor_expr)
}

fn xor_expr(i: In<'_>, no_shr: bool) -> PResult<'_, Expr> {
    binary(i, no_shr, &[("^", BinOp::Xor)], and_expr)
}

fn and_expr(i: In<'_>, no_shr: bool) -> PResult<'_, Expr> {
    binary(i, no_shr, &[("&", BinOp::And)], shift_expr)
}

/// `<<` and `>>` arrive as two glued single-character tokens (see the lexer).
fn shift_op(i: In<'_>, no_shr: bool) -> Option<(In<'_>, BinOp)> {
    let i = skip(i);
    let (a, b) = (i.first()?, i.get(1)?);
    if !b.glued {
        return None;
    }
    if a.is_punct("<") && b.is_punct("<") {
        Some((&i[2..], BinOp::Shl))
    } else if a.is_punct(">") && b.is_punct(">") && !no_shr {
        Some((&i[2..], BinOp::Shr))
    } else {
        None
    }
}

fn shift_expr(i: In<'_>, no_shr: bool) -> PResult<'_, Expr> {
    let (mut i, mut lhs) = add_expr(i, no_shr)?;
    while let Some((r, op)) = shift_op(i, no_shr) {
        let (r, rhs) = match add_expr(r, no_shr) {
            Ok(x) => x,
            Err(Err::Error(_)) => {
                return fail(
                    r,
                    format!("expected operand after shift operator, found {}", found(r)),
                )
            }
            Err(e) => return Err(e),
        };
        let span = lhs.span;
        lhs = Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        };
        i = r;
    }
    Ok((i, lhs))
}

fn add_expr(i: In<'_>, no_shr: bool) -> PResult<'_, Expr> {
    binary(
        i,
        no_shr,
        &[("+", BinOp::Add), ("-", BinOp::Sub)],
        mult_expr,
    )
}

fn mult_expr(i: In<'_>, no_shr: bool) -> PResult<'_, Expr> {
    binary(
        i,
        no_shr,
        &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
        unary_expr,
    )
}

fn unary_expr(i: In<'_>, _no_shr: bool) -> PResult<'_, Expr> {
    let span = span_of(i);
    for (p, op) in [("-", UnOp::Neg), ("+", UnOp::Plus), ("~", UnOp::Not)] {
        if let Ok((r, _)) = punct(p)(i) {
            let (r, e) = match primary_expr(r) {
                Ok(x) => x,
                Err(Err::Error(_)) => {
                    return fail(
                        r,
                        format!("expected operand after unary '{p}', found {}", found(r)),
                    )
                }
                Err(e) => return Err(e),
            };
            return Ok((
                r,
                Expr {
                    kind: ExprKind::Unary(op, Box::new(e)),
                    span,
                },
            ));
        }
    }
    primary_expr(i)
}

fn primary_expr(i: In<'_>) -> PResult<'_, Expr> {
    let i = skip(i);
    let Some(t) = i.first() else { return err(i) };
    let span = t.span;
    let lit = |r, l| {
        Ok((
            r,
            Expr {
                kind: ExprKind::Literal(l),
                span,
            },
        ))
    };
    match &t.kind {
        TokenKind::Int(v) => lit(&i[1..], Literal::Int(*v)),
        TokenKind::Float(s) => lit(&i[1..], Literal::Float(s.clone())),
        TokenKind::Fixed(s) => lit(&i[1..], Literal::Fixed(s.clone())),
        TokenKind::Char(c) => lit(&i[1..], Literal::Char(*c)),
        TokenKind::WChar(c) => lit(&i[1..], Literal::WChar(*c)),
        TokenKind::Str(_) | TokenKind::WStr(_) => {
            // Adjacent string literals concatenate.
            let wide = matches!(t.kind, TokenKind::WStr(_));
            let mut s = String::new();
            let mut r = i;
            while let Some(t) = r.first() {
                match (&t.kind, wide) {
                    (TokenKind::Str(p), false) | (TokenKind::WStr(p), true) => s.push_str(p),
                    (TokenKind::Str(_), true) | (TokenKind::WStr(_), false) => {
                        return fail(
                            r,
                            "cannot concatenate a wide and a narrow string literal".into(),
                        )
                    }
                    _ => break,
                }
                r = skip(&r[1..]);
            }
            lit(
                r,
                if wide {
                    Literal::WString(s)
                } else {
                    Literal::String(s)
                },
            )
        }
        TokenKind::Ident(w) if w == "TRUE" => lit(&i[1..], Literal::Bool(true)),
        TokenKind::Ident(w) if w == "FALSE" => lit(&i[1..], Literal::Bool(false)),
        TokenKind::Punct("(") => {
            let (r, e) = expect_const_expr(&i[1..], "expression after '('")?;
            let (r, _) = expect_punct(")", "to close the parenthesised expression")(r)?;
            Ok((r, e))
        }
        TokenKind::Ident(_) | TokenKind::Punct("::") => {
            let (r, n) = scoped_name(i)?;
            Ok((
                r,
                Expr {
                    kind: ExprKind::Name(n),
                    span,
                },
            ))
        }
        _ => err(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::{lex_line, pos_chars};

    fn toks(s: &str) -> Vec<Token> {
        let mut v = Vec::new();
        for (n, line) in s.lines().enumerate() {
            v.extend(lex_line(&pos_chars(line, n as u32 + 1, 1), FileId(0)).unwrap());
        }
        v.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(FileId(0), 999, 1),
            glued: false,
            text: String::new(),
        });
        v
    }

    fn parse_str(s: &str) -> Result<Specification, PError> {
        parse(&toks(s))
    }

    #[test]
    fn parses_a_bit_of_everything() {
        let src = r#"
module M {
  typedef sequence<sequence<long, 5>> SS;
  const long X = (1 << 3) | 0x10 >> 2;
  struct S { long a, b[2][3]; string<10> s; };
  union U switch (long) { case 1: case 2: long x; default: char c; };
  enum E { A, B };
  exception Ex { };
  interface I;
  abstract interface AI {};
  local interface L : AI { void f(); };
  interface I : ::M::AI {
    readonly attribute long ra, rb;
    attribute long w getraises (Ex) setraises (Ex);
    oneway void ping(in long a);
    long op(in S s, out string t, inout long u) raises (Ex) context ("a", "b");
  };
  valuetype VB long;
  abstract valuetype AV;
  valuetype V : truncatable AV supports I { public long x; private S y; factory make(in long x) raises (Ex); };
  typeprefix M "omg.org";
  native N;
  struct F;
};
"#;
        let spec = parse_str(src).unwrap();
        assert_eq!(spec.definitions.len(), 1);
    }

    #[test]
    fn reports_the_real_spot() {
        let e = parse_str("struct S {\n  long a\n  long b;\n};").unwrap_err();
        assert_eq!((e.span.line, e.span.col), (3, 3));
        assert_eq!(
            e.render(),
            "expected ';' after member declaration, found 'long'"
        );
        let e = parse_str("interface I { attribute long a raises (E); };").unwrap_err();
        assert!(e.render().contains("getraises"));
        let e = parse_str("interface I { attribute boolean abstract; };").unwrap_err();
        assert!(e
            .render()
            .starts_with("expected attribute name, found 'abstract'"));
        let e = parse_str("module M { ORB f(); };").unwrap_err();
        assert!(
            e.render().starts_with("expected a definition or '}'"),
            "{}",
            e.render()
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("const long X = {}1{};", "(".repeat(500), ")".repeat(500));
        let e = parse_str(&deep).unwrap_err();
        assert!(e.render().contains("nesting deeper"));
        let long = format!("const long X = 1{};", "+1".repeat(5000));
        let e = parse_str(&long).unwrap_err();
        assert!(e.render().contains("expression too long"));
    }
}
