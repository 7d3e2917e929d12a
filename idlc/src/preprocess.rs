//! The IDL preprocessor: a small C preprocessor that produces positioned tokens.
//!
//! It handles `#include "x"` / `#include <x>` (the quoted form looks beside the including file
//! first, then in the `-I` directories; the angle form only in the `-I` directories), object-like
//! and function-like `#define` (with `#` and `##`), `#undef`, the conditional directives with
//! `defined`, integer arithmetic and logic, `#error`, and the pragmas that matter for repository
//! IDs (`prefix`, `ID`, `version`). Other pragmas are passed on verbatim, in position: the
//! specification says a compiler must not refuse a pragma it does not understand.
//!
//! The output is not text but a token vector in which every token keeps the file, line and column
//! it was written at (a macro's expansion takes the position of the macro's use), and in which
//! include boundaries are marked, because `#pragma prefix` is scoped to the file it appears in.
//!
//! This module must never panic and never loop on hostile input: include depth, macro expansion
//! depth, expansion size and `#if` expression nesting are all bounded.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::lexer::{
    lex_directive, lex_line, pos_chars, PosChar, Pragma, PragmaName, Token, TokenKind,
};
use crate::source::{FileId, SourceMap, Span};

/// Deepest `#include` nesting accepted; far beyond any real IDL, low enough to stop a file that
/// includes itself without a guard.
const MAX_INCLUDE_DEPTH: usize = 64;
/// Bound on the tokens one expansion may produce (stops exponential macro bombs).
const MAX_EXPANSION_TOKENS: usize = 1 << 20;
const MAX_EXPANSION_DEPTH: usize = 256;
const MAX_EXPR_DEPTH: usize = 128;

/// Preprocessor settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME[=VALUE]`; a missing value means `1`.
    pub defines: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone)]
struct Macro {
    params: Option<Vec<String>>,
    body: Vec<Token>,
}

struct Frame {
    file: FileId,
    dir: PathBuf,
    /// Where the `#include` that opened this file was written (none for the main file).
    included_at: Option<Span>,
}

struct Cond {
    /// Whether the group enclosing this conditional is active.
    parent_active: bool,
    /// Whether the current branch is being taken.
    taking: bool,
    /// Whether some branch has already been taken.
    done: bool,
    else_seen: bool,
    span: Span,
}

/// Preprocesses `main` (already registered in `sm`) into tokens. On failure returns every error
/// found.
pub fn preprocess(
    sm: &mut SourceMap,
    main: FileId,
    opts: &Options,
) -> Result<Vec<Token>, Vec<Diagnostic>> {
    let mut pp = Pp {
        sm,
        include_dirs: opts.include_dirs.clone(),
        macros: HashMap::new(),
        out: Vec::new(),
        pending: Vec::new(),
        errors: Vec::new(),
        stack: Vec::new(),
        once: HashSet::new(),
    };
    pp.define_builtin("__IDLC__", "1");
    for (name, value) in &opts.defines {
        pp.define_builtin(name, value.as_deref().unwrap_or("1"));
    }
    let dir = pp
        .sm
        .path(main)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    pp.run_file(main, dir, None);
    let eof = pp.end_span(main);
    pp.out.push(Token {
        kind: TokenKind::Eof,
        span: eof,
        glued: false,
        text: String::new(),
    });
    if pp.errors.is_empty() {
        Ok(pp.out)
    } else {
        Err(pp.errors)
    }
}

/// Reads a file as text: UTF-8 when it is, otherwise Latin-1 (old IDL files are often Latin-1).
pub fn read_source(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

/// Splits a file into logical lines: continuation lines joined, comments replaced by a space.
/// Returns the lines, or the position of an unterminated block comment.
fn logical_lines(text: &str) -> (Vec<Vec<PosChar>>, Option<(u32, u32)>) {
    let mut chars = Vec::with_capacity(text.len());
    let (mut line, mut col) = (1u32, 1u32);
    for c in text.chars() {
        if c != '\r' {
            chars.push(PosChar { c, line, col });
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    let mut lines = Vec::new();
    let mut cur: Vec<PosChar> = Vec::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|p: &PosChar| p.c);
    while i < chars.len() {
        let c = chars[i].c;
        if c == '\\' && at(i + 1) == Some('\n') {
            i += 2;
            continue;
        }
        if c == '\n' {
            lines.push(std::mem::take(&mut cur));
            quote = None;
            i += 1;
            continue;
        }
        if let Some(q) = quote {
            cur.push(chars[i]);
            if c == '\\' && at(i + 1).is_some_and(|n| n != '\n') {
                cur.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '/' && at(i + 1) == Some('/') {
            // A line comment ends at the newline, unless a continuation extends it.
            while i < chars.len() && chars[i].c != '\n' {
                if chars[i].c == '\\' && at(i + 1) == Some('\n') {
                    i += 1;
                }
                i += 1;
            }
            continue;
        }
        if c == '/' && at(i + 1) == Some('*') {
            let start = chars[i];
            let mut j = i + 2;
            loop {
                if j + 1 >= chars.len() {
                    lines.push(cur);
                    return (lines, Some((start.line, start.col)));
                }
                if chars[j].c == '*' && chars[j + 1].c == '/' {
                    break;
                }
                j += 1;
            }
            cur.push(PosChar { c: ' ', ..start });
            i = j + 2;
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
        }
        cur.push(chars[i]);
        i += 1;
    }
    lines.push(cur);
    (lines, None)
}

struct Pp<'a> {
    sm: &'a mut SourceMap,
    include_dirs: Vec<PathBuf>,
    macros: HashMap<String, Macro>,
    out: Vec<Token>,
    /// Text tokens not yet macro-expanded: expansion waits for the next directive so a
    /// function-like macro's arguments may span lines.
    pending: Vec<Token>,
    errors: Vec<Diagnostic>,
    stack: Vec<Frame>,
    once: HashSet<PathBuf>,
}

fn trim_start(chars: &[PosChar]) -> &[PosChar] {
    let n = chars.iter().take_while(|p| p.c.is_whitespace()).count();
    &chars[n..]
}

fn to_string(chars: &[PosChar]) -> String {
    chars.iter().map(|p| p.c).collect()
}

impl Pp<'_> {
    fn define_builtin(&mut self, name: &str, value: &str) {
        let body = lex_line(&pos_chars(value, 1, 1), FileId(u32::MAX)).unwrap_or_default();
        self.macros
            .insert(name.to_owned(), Macro { params: None, body });
    }

    fn end_span(&self, file: FileId) -> Span {
        match self.sm.get(file) {
            Some(f) => {
                let last = f.text.rsplit('\n').next().unwrap_or("");
                let lines = f.text.matches('\n').count() as u32 + 1;
                Span::new(file, lines, last.chars().count() as u32 + 1)
            }
            None => Span::new(file, 1, 1),
        }
    }

    fn error(&mut self, span: Span, msg: impl Into<String>) {
        let mut d = Diagnostic::at(self.sm, span, msg);
        // The include chain, innermost first, as rustc-style notes.
        // Capped: a runaway self-inclusion would otherwise attach dozens of identical notes.
        for fr in self.stack.iter().rev().take(8) {
            if let Some(at) = fr.included_at {
                d = d.with_note_at(self.sm, at, "included from here");
            }
        }
        self.errors.push(d);
    }

    fn span(&self, file: FileId, p: &PosChar) -> Span {
        Span::new(file, p.line, p.col)
    }

    fn run_file(&mut self, file: FileId, dir: PathBuf, included_at: Option<Span>) {
        let text = match self.sm.get(file) {
            Some(f) => f.text.clone(),
            None => return,
        };
        self.stack.push(Frame {
            file,
            dir,
            included_at,
        });
        let (lines, unterminated) = logical_lines(&text);
        let mut conds: Vec<Cond> = Vec::new();
        for line in &lines {
            let body = trim_start(line);
            if body.first().map(|p| p.c) == Some('#') {
                self.flush();
                self.directive(file, &body[1..], body[0], &mut conds);
            } else if conds.iter().all(|c| c.taking) && !body.is_empty() {
                match lex_line(body, file) {
                    Ok(toks) => self.pending.extend(toks),
                    Err(e) => self.error(e.span, e.message),
                }
            }
        }
        self.flush();
        if let Some((l, c)) = unterminated {
            self.error(Span::new(file, l, c), "unterminated comment");
        }
        for c in conds {
            self.error(
                c.span,
                "unterminated conditional directive (missing #endif)",
            );
        }
        self.stack.pop();
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let toks = std::mem::take(&mut self.pending);
        let mut out = Vec::new();
        self.expand(&toks, &mut Vec::new(), &mut out, 0);
        self.out.extend(out);
    }

    fn directive(&mut self, file: FileId, rest: &[PosChar], hash: PosChar, conds: &mut Vec<Cond>) {
        let hash_span = self.span(file, &hash);
        let rest = trim_start(rest);
        let n = rest
            .iter()
            .take_while(|p| p.c.is_ascii_alphanumeric() || p.c == '_')
            .count();
        let name = to_string(&rest[..n]);
        let args = trim_start(&rest[n..]);
        let active = conds.iter().all(|c| c.taking);
        match name.as_str() {
            "if" | "ifdef" | "ifndef" => {
                let taking = active
                    && match name.as_str() {
                        "if" => self.eval_condition(file, args, hash_span),
                        "ifdef" => self
                            .macro_name(file, args, hash_span, &name)
                            .is_some_and(|m| self.macros.contains_key(&m)),
                        _ => self
                            .macro_name(file, args, hash_span, &name)
                            .is_some_and(|m| !self.macros.contains_key(&m)),
                    };
                conds.push(Cond {
                    parent_active: active,
                    taking,
                    done: taking,
                    else_seen: false,
                    span: hash_span,
                });
            }
            "elif" | "else" => {
                let Some(top) = conds.last() else {
                    return self.error(hash_span, format!("#{name} without #if"));
                };
                if top.else_seen {
                    return self.error(hash_span, format!("#{name} after #else"));
                }
                let (parent_active, done) = (top.parent_active, top.done);
                let taking = parent_active
                    && !done
                    && (name == "else" || self.eval_condition(file, args, hash_span));
                if let Some(top) = conds.last_mut() {
                    top.taking = taking;
                    top.done |= taking;
                    top.else_seen = name == "else";
                }
            }
            "endif" => {
                if conds.pop().is_none() {
                    self.error(hash_span, "#endif without #if");
                }
            }
            _ if !active => {}
            "" if args.is_empty() => {} // the null directive
            "" if args.first().is_some_and(|p| p.c.is_ascii_digit()) => {} // cpp line marker
            "line" => {}
            "define" => self.define(file, args, hash_span),
            "undef" => {
                if let Some(m) = self.macro_name(file, args, hash_span, "undef") {
                    self.macros.remove(&m);
                }
            }
            "include" => self.include(file, args, hash_span),
            "error" => {
                let text = to_string(args);
                self.error(hash_span, format!("#error {}", text.trim()));
            }
            "warning" => {}
            "pragma" => self.pragma(file, args, hash_span),
            _ => self.error(
                hash_span,
                format!("unknown preprocessor directive '#{name}'"),
            ),
        }
    }

    fn macro_name(
        &mut self,
        file: FileId,
        args: &[PosChar],
        at: Span,
        what: &str,
    ) -> Option<String> {
        let n = args
            .iter()
            .take_while(|p| p.c.is_ascii_alphanumeric() || p.c == '_')
            .count();
        if n == 0 || args[0].c.is_ascii_digit() {
            let span = args.first().map(|p| self.span(file, p)).unwrap_or(at);
            self.error(span, format!("#{what} expects a macro name"));
            return None;
        }
        Some(to_string(&args[..n]))
    }

    fn define(&mut self, file: FileId, args: &[PosChar], at: Span) {
        let Some(name) = self.macro_name(file, args, at, "define") else {
            return;
        };
        let mut rest = &args[name.chars().count()..];
        let mut params = None;
        if rest.first().map(|p| p.c) == Some('(') {
            let Some(close) = rest.iter().position(|p| p.c == ')') else {
                return self.error(
                    self.span(file, &rest[0]),
                    "missing ')' in macro parameter list",
                );
            };
            let list = to_string(&rest[1..close]);
            let mut ps = Vec::new();
            for p in list.split(',').map(str::trim) {
                if p.is_empty() && list.trim().is_empty() {
                    break;
                }
                if p.is_empty()
                    || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || p.starts_with(|c: char| c.is_ascii_digit())
                {
                    return self.error(
                        self.span(file, &rest[0]),
                        format!(
                            "invalid macro parameter '{p}' (variadic macros are not supported)"
                        ),
                    );
                }
                ps.push(p.to_owned());
            }
            params = Some(ps);
            rest = &rest[close + 1..];
        }
        match lex_directive(rest, file) {
            Ok(body) => {
                self.macros.insert(name, Macro { params, body });
            }
            Err(e) => self.error(e.span, e.message),
        }
    }

    fn include(&mut self, file: FileId, args: &[PosChar], at: Span) {
        let text = to_string(args);
        let text = text.trim_end();
        let (name, quoted) = if let Some(r) = text.strip_prefix('"') {
            match r.find('"') {
                Some(e) => (r[..e].to_owned(), true),
                None => return self.error(at, "missing terminating '\"' in #include"),
            }
        } else if let Some(r) = text.strip_prefix('<') {
            match r.find('>') {
                Some(e) => (r[..e].to_owned(), false),
                None => return self.error(at, "missing terminating '>' in #include"),
            }
        } else {
            // `#include MACRO`: expand and expect a string literal.
            let toks = match lex_line(args, file) {
                Ok(t) => t,
                Err(e) => return self.error(e.span, e.message),
            };
            let mut out = Vec::new();
            self.expand(&toks, &mut Vec::new(), &mut out, 0);
            match out.as_slice() {
                [Token {
                    kind: TokenKind::Str(s),
                    ..
                }] => (s.clone(), true),
                _ => return self.error(at, "#include expects \"FILE\" or <FILE>"),
            }
        };
        if name.is_empty() {
            return self.error(at, "empty file name in #include");
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return self.error(at, format!("#include nested too deeply (more than {MAX_INCLUDE_DEPTH} levels; does a file include itself?)"));
        }
        let mut candidates = Vec::new();
        if quoted {
            if let Some(fr) = self.stack.last() {
                candidates.push(fr.dir.join(&name));
            }
        }
        candidates.extend(self.include_dirs.iter().map(|d| d.join(&name)));
        let found = candidates.into_iter().find(|p| p.is_file());
        // The CCM `Components` module idlc ships, for `#include <Components.idl>` where no
        // include directory has one (component IDL written for other ORBs includes it).
        if found.is_none() && name == "Components.idl" {
            let path = PathBuf::from(crate::ccm::COMPONENTS_IDL_PATH);
            return self.include_text(path, crate::ccm::COMPONENTS_IDL.to_owned(), at);
        }
        let Some(path) = found else {
            let form = if quoted {
                format!("\"{name}\"")
            } else {
                format!("<{name}>")
            };
            let dirs: Vec<String> = self
                .include_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            let mut d = Diagnostic::at(self.sm, at, format!("cannot find include file {form}"));
            for fr in self.stack.iter().rev().take(8) {
                if let Some(site) = fr.included_at {
                    d = d.with_note_at(
                        self.sm,
                        site,
                        format!("{} was included from here", self.sm.path(fr.file).display()),
                    );
                }
            }
            d = d.with_note(if dirs.is_empty() {
                "no -I include directories were given".to_owned()
            } else {
                format!("searched {}", dirs.join(", "))
            });
            self.errors.push(d);
            return;
        };
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        if self.once.contains(&canon) {
            return;
        }
        let text = match read_source(&path) {
            Ok(t) => t,
            Err(e) => {
                return self.error(
                    at,
                    format!("cannot read include file {}: {e}", path.display()),
                )
            }
        };
        self.include_text(path, text, at);
    }

    /// Preprocesses an included file's text in place of the `#include` at `at`.
    fn include_text(&mut self, path: PathBuf, text: String, at: Span) {
        let id = self.sm.add(path.clone(), text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.out.push(Token {
            kind: TokenKind::Pragma(Pragma::EnterFile(id)),
            span: at,
            glued: false,
            text: String::new(),
        });
        self.run_file(id, dir, Some(at));
        self.out.push(Token {
            kind: TokenKind::Pragma(Pragma::LeaveFile),
            span: at,
            glued: false,
            text: String::new(),
        });
    }

    fn pragma(&mut self, file: FileId, args: &[PosChar], at: Span) {
        let n = args
            .iter()
            .take_while(|p| p.c.is_ascii_alphanumeric() || p.c == '_')
            .count();
        let word = to_string(&args[..n]);
        let rest = &args[n..];
        let raw = to_string(args).trim().to_owned();
        let pragma = match word.as_str() {
            "once" => {
                if let Some(p) = self.sm.get(file).map(|f| f.path.clone()) {
                    self.once.insert(p.canonicalize().unwrap_or(p));
                }
                return;
            }
            "prefix" | "ID" | "version" => match lex_line(rest, file) {
                Ok(toks) => match self.known_pragma(&word, &toks) {
                    Some(p) => p,
                    None => return self.error(at, format!("malformed #pragma {word}")),
                },
                Err(e) => return self.error(e.span, e.message),
            },
            _ => Pragma::Other(raw),
        };
        self.out.push(Token {
            kind: TokenKind::Pragma(pragma),
            span: at,
            glued: false,
            text: String::new(),
        });
    }

    fn known_pragma(&self, word: &str, toks: &[Token]) -> Option<Pragma> {
        if word == "prefix" {
            return match toks {
                [Token {
                    kind: TokenKind::Str(s),
                    ..
                }] => Some(Pragma::Prefix(s.clone())),
                _ => None,
            };
        }
        // A scoped name: ["::"] ident {"::" ident}.
        let mut i = 0;
        let global = toks.first()?.is_punct("::");
        if global {
            i = 1;
        }
        let span = toks.get(i)?.span;
        let mut parts = vec![toks.get(i)?.ident()?.to_owned()];
        i += 1;
        while toks.get(i).is_some_and(|t| t.is_punct("::")) {
            parts.push(toks.get(i + 1)?.ident()?.to_owned());
            i += 2;
        }
        let name = PragmaName {
            global,
            parts,
            span,
        };
        match (word, &toks[i..]) {
            (
                "ID",
                [Token {
                    kind: TokenKind::Str(s),
                    ..
                }],
            ) => Some(Pragma::Id {
                name,
                id: s.clone(),
            }),
            ("version", [t]) => {
                let (maj, min) = t.text.split_once('.')?;
                Some(Pragma::Version {
                    name,
                    major: maj.parse().ok()?,
                    minor: min.parse().ok()?,
                })
            }
            _ => None,
        }
    }

    /// Macro-expands `toks` into `out`. `disabled` holds the macros being expanded, which C
    /// forbids expanding again inside themselves.
    fn expand(
        &mut self,
        toks: &[Token],
        disabled: &mut Vec<String>,
        out: &mut Vec<Token>,
        depth: usize,
    ) {
        if depth > MAX_EXPANSION_DEPTH {
            if let Some(t) = toks.first() {
                self.error(t.span, "macro expansion nested too deeply");
            }
            return;
        }
        let mut i = 0;
        while i < toks.len() {
            if out.len() > MAX_EXPANSION_TOKENS {
                self.error(toks[i].span, "macro expansion is too large");
                return;
            }
            let t = &toks[i];
            let name = match &t.kind {
                TokenKind::Ident(n) if !disabled.contains(n) => n,
                _ => {
                    out.push(t.clone());
                    i += 1;
                    continue;
                }
            };
            let Some(m) = self.macros.get(name).cloned() else {
                out.push(t.clone());
                i += 1;
                continue;
            };
            let body = match &m.params {
                None => {
                    i += 1;
                    m.body.clone()
                }
                Some(params) => {
                    if !toks.get(i + 1).is_some_and(|n| n.is_punct("(")) {
                        // A function-like macro's name without arguments is not an invocation.
                        out.push(t.clone());
                        i += 1;
                        continue;
                    }
                    let Some((args, next)) = collect_args(toks, i + 2) else {
                        self.error(
                            t.span,
                            format!("unterminated argument list invoking macro '{name}'"),
                        );
                        return;
                    };
                    let args = if params.is_empty() && args.len() == 1 && args[0].is_empty() {
                        Vec::new()
                    } else {
                        args
                    };
                    if args.len() != params.len() {
                        self.error(
                            t.span,
                            format!(
                                "macro '{name}' takes {} argument(s) but {} were given",
                                params.len(),
                                args.len()
                            ),
                        );
                        return;
                    }
                    i = next;
                    match self.substitute(&m, params, &args, disabled, depth) {
                        Ok(b) => b,
                        Err((span, msg)) => {
                            self.error(span, msg);
                            return;
                        }
                    }
                }
            };
            // Expanded tokens take the position of the macro's use.
            let body: Vec<Token> = body
                .into_iter()
                .enumerate()
                .map(|(k, mut b)| {
                    b.span = t.span;
                    if k == 0 {
                        b.glued = t.glued;
                    }
                    b
                })
                .collect();
            disabled.push(name.clone());
            self.expand(&body, disabled, out, depth + 1);
            disabled.pop();
        }
    }

    fn substitute(
        &mut self,
        m: &Macro,
        params: &[String],
        args: &[Vec<Token>],
        disabled: &mut Vec<String>,
        depth: usize,
    ) -> Result<Vec<Token>, (Span, String)> {
        enum Piece {
            Tok(Token),
            Paste,
        }
        let param_index = |t: &Token| t.ident().and_then(|n| params.iter().position(|p| p == n));
        let mut pieces = Vec::new();
        let body = &m.body;
        let mut k = 0;
        while k < body.len() {
            let t = &body[k];
            if t.is_punct("#") {
                if let Some(pi) = body.get(k + 1).and_then(param_index) {
                    let mut s = String::new();
                    for (j, a) in args[pi].iter().enumerate() {
                        if j > 0 && !a.glued {
                            s.push(' ');
                        }
                        s.push_str(&a.text);
                    }
                    pieces.push(Piece::Tok(Token {
                        kind: TokenKind::Str(s.clone()),
                        span: t.span,
                        glued: t.glued,
                        text: format!("{s:?}"),
                    }));
                    k += 2;
                    continue;
                }
            }
            if t.is_punct("##") {
                pieces.push(Piece::Paste);
                k += 1;
                continue;
            }
            if let Some(pi) = param_index(t) {
                let next_paste = body.get(k + 1).is_some_and(|n| n.is_punct("##"));
                let prev_paste = k > 0 && body[k - 1].is_punct("##");
                if next_paste || prev_paste {
                    pieces.extend(args[pi].iter().cloned().map(Piece::Tok));
                } else {
                    let mut expanded = Vec::new();
                    self.expand(&args[pi], disabled, &mut expanded, depth + 1);
                    pieces.extend(expanded.into_iter().map(Piece::Tok));
                }
                k += 1;
                continue;
            }
            pieces.push(Piece::Tok(t.clone()));
            k += 1;
        }
        let mut result: Vec<Token> = Vec::new();
        let mut paste_next = false;
        for p in pieces {
            match p {
                Piece::Paste => paste_next = true,
                Piece::Tok(t) if paste_next && !result.is_empty() => {
                    paste_next = false;
                    let Some(left) = result.pop() else { continue };
                    let text = format!("{}{}", left.text, t.text);
                    let chars = pos_chars(&text, left.span.line, left.span.col);
                    match lex_line(&chars, left.span.file) {
                        Ok(mut v) if v.len() == 1 => {
                            let mut nt = v.remove(0);
                            nt.span = left.span;
                            nt.glued = left.glued;
                            result.push(nt);
                        }
                        _ => {
                            return Err((
                                left.span,
                                format!(
                                    "pasting '{}' and '{}' does not give a valid token",
                                    left.text, t.text
                                ),
                            ))
                        }
                    }
                }
                Piece::Tok(t) => {
                    paste_next = false;
                    result.push(t);
                }
            }
        }
        Ok(result)
    }

    /// Evaluates a `#if`/`#elif` condition; errors are reported and count as false.
    fn eval_condition(&mut self, file: FileId, args: &[PosChar], at: Span) -> bool {
        let toks = match lex_directive(args, file) {
            Ok(t) => t,
            Err(e) => {
                self.error(e.span, e.message);
                return false;
            }
        };
        // `defined X` and `defined(X)` are replaced before expansion, as in C.
        let mut replaced = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if toks[i].ident() == Some("defined") {
                let (name, next) = if toks.get(i + 1).is_some_and(|t| t.is_punct("(")) {
                    match (toks.get(i + 2).and_then(Token::ident), toks.get(i + 3)) {
                        (Some(n), Some(c)) if c.is_punct(")") => (n.to_owned(), i + 4),
                        _ => {
                            self.error(toks[i].span, "'defined' expects a macro name");
                            return false;
                        }
                    }
                } else {
                    match toks.get(i + 1).and_then(Token::ident) {
                        Some(n) => (n.to_owned(), i + 2),
                        None => {
                            self.error(toks[i].span, "'defined' expects a macro name");
                            return false;
                        }
                    }
                };
                let v = self.macros.contains_key(&name) as u128;
                replaced.push(Token {
                    kind: TokenKind::Int(v),
                    text: v.to_string(),
                    ..toks[i].clone()
                });
                i = next;
            } else {
                replaced.push(toks[i].clone());
                i += 1;
            }
        }
        let mut expanded = Vec::new();
        self.expand(&replaced, &mut Vec::new(), &mut expanded, 0);
        if expanded.is_empty() {
            self.error(at, "#if with no expression");
            return false;
        }
        let mut ev = CondEval {
            toks: &expanded,
            pos: 0,
            depth: 0,
        };
        let result = ev.ternary().and_then(|v| {
            if ev.pos < expanded.len() {
                Err((
                    expanded[ev.pos].span,
                    format!(
                        "unexpected {} in #if expression",
                        expanded[ev.pos].describe()
                    ),
                ))
            } else {
                Ok(v)
            }
        });
        match result {
            Ok(v) => v != 0,
            Err((span, msg)) => {
                self.error(span, msg);
                false
            }
        }
    }
}

/// Splits macro arguments starting after the '('; returns them and the index after the ')'.
fn collect_args(toks: &[Token], mut i: usize) -> Option<(Vec<Vec<Token>>, usize)> {
    let mut args = vec![Vec::new()];
    let mut depth = 0usize;
    while let Some(t) = toks.get(i) {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            if depth == 0 {
                return Some((args, i + 1));
            }
            depth -= 1;
        } else if t.is_punct(",") && depth == 0 {
            args.push(Vec::new());
            i += 1;
            continue;
        }
        if let Some(last) = args.last_mut() {
            last.push(t.clone());
        }
        i += 1;
    }
    None
}

/// Integer evaluator for `#if` (C semantics on i64; unknown identifiers are 0).
struct CondEval<'t> {
    toks: &'t [Token],
    pos: usize,
    depth: usize,
}

type EvalResult = Result<i64, (Span, String)>;

impl CondEval<'_> {
    fn peek_punct(&self, p: &str) -> bool {
        self.toks.get(self.pos).is_some_and(|t| t.is_punct(p))
    }

    /// Two glued single-character tokens, e.g. `<` `<` for a shift.
    fn peek_pair(&self, a: &str, b: &str) -> bool {
        self.peek_punct(a)
            && self
                .toks
                .get(self.pos + 1)
                .is_some_and(|t| t.is_punct(b) && t.glued)
    }

    fn err_here(&self, msg: &str) -> (Span, String) {
        let t = self.toks.get(self.pos).or(self.toks.last());
        let span = t.map(|t| t.span).unwrap_or(Span::new(FileId(0), 1, 1));
        (span, msg.to_owned())
    }

    fn ternary(&mut self) -> EvalResult {
        let c = self.binary(0)?;
        if self.peek_punct("?") {
            self.pos += 1;
            let a = self.ternary()?;
            if !self.peek_punct(":") {
                return Err(self.err_here("expected ':' in #if expression"));
            }
            self.pos += 1;
            let b = self.ternary()?;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }

    /// Precedence climbing over the C binary operators.
    fn binary(&mut self, min_prec: u8) -> EvalResult {
        let mut lhs = self.unary()?;
        loop {
            let (op, len, prec) = if self.peek_punct("||") {
                ("||", 1, 1)
            } else if self.peek_punct("&&") {
                ("&&", 1, 2)
            } else if self.peek_punct("|") {
                ("|", 1, 3)
            } else if self.peek_punct("^") {
                ("^", 1, 4)
            } else if self.peek_punct("&") {
                ("&", 1, 5)
            } else if self.peek_punct("==") || self.peek_punct("!=") {
                (if self.peek_punct("==") { "==" } else { "!=" }, 1, 6)
            } else if self.peek_pair("<", "<") {
                ("<<", 2, 8)
            } else if self.peek_pair(">", ">") {
                (">>", 2, 8)
            } else if self.peek_punct("<=") {
                ("<=", 1, 7)
            } else if self.peek_punct(">=") {
                (">=", 1, 7)
            } else if self.peek_punct("<") {
                ("<", 1, 7)
            } else if self.peek_punct(">") {
                (">", 1, 7)
            } else if self.peek_punct("+") || self.peek_punct("-") {
                (if self.peek_punct("+") { "+" } else { "-" }, 1, 9)
            } else if self.peek_punct("*") || self.peek_punct("/") || self.peek_punct("%") {
                let op = ["*", "/", "%"]
                    .into_iter()
                    .find(|p| self.peek_punct(p))
                    .unwrap_or("*");
                (op, 1, 10)
            } else {
                return Ok(lhs);
            };
            if prec < min_prec || prec == 0 {
                return Ok(lhs);
            }
            let op_pos = self.pos;
            self.pos += len;
            let rhs = self.binary(prec + 1)?;
            lhs = match op {
                "||" => ((lhs != 0) || (rhs != 0)) as i64,
                "&&" => ((lhs != 0) && (rhs != 0)) as i64,
                "|" => lhs | rhs,
                "^" => lhs ^ rhs,
                "&" => lhs & rhs,
                "==" => (lhs == rhs) as i64,
                "!=" => (lhs != rhs) as i64,
                "<" => (lhs < rhs) as i64,
                ">" => (lhs > rhs) as i64,
                "<=" => (lhs <= rhs) as i64,
                ">=" => (lhs >= rhs) as i64,
                "<<" => lhs.wrapping_shl(rhs as u32),
                ">>" => lhs.wrapping_shr(rhs as u32),
                "+" => lhs.wrapping_add(rhs),
                "-" => lhs.wrapping_sub(rhs),
                "*" => lhs.wrapping_mul(rhs),
                "/" | "%" => {
                    if rhs == 0 {
                        self.pos = op_pos;
                        return Err(self.err_here("division by zero in #if expression"));
                    }
                    if op == "/" {
                        lhs.wrapping_div(rhs)
                    } else {
                        lhs.wrapping_rem(rhs)
                    }
                }
                _ => lhs,
            };
        }
    }

    fn unary(&mut self) -> EvalResult {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.err_here("#if expression nested too deeply"));
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> EvalResult {
        let Some(t) = self.toks.get(self.pos) else {
            return Err(self.err_here("unexpected end of #if expression"));
        };
        self.pos += 1;
        match &t.kind {
            TokenKind::Punct("!") => Ok((self.unary()? == 0) as i64),
            TokenKind::Punct("~") => Ok(!self.unary()?),
            TokenKind::Punct("-") => Ok(self.unary()?.wrapping_neg()),
            TokenKind::Punct("+") => self.unary(),
            TokenKind::Punct("(") => {
                let v = self.ternary()?;
                if !self.peek_punct(")") {
                    return Err(self.err_here("expected ')' in #if expression"));
                }
                self.pos += 1;
                Ok(v)
            }
            TokenKind::Int(v) => Ok(*v as i64),
            TokenKind::Char(c) => Ok(*c as i64),
            TokenKind::Ident(_) => Ok(0),
            _ => {
                self.pos -= 1;
                Err(self.err_here(&format!("unexpected {} in #if expression", t.describe())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(files: &[(&str, &str)], opts: &Options) -> Result<Vec<Token>, Vec<Diagnostic>> {
        let dir = std::env::temp_dir().join(format!(
            "idlc-pp-{}-{}",
            std::process::id(),
            files[0].0.replace('/', "_")
        ));
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap_or(&dir)).ok();
            std::fs::write(&p, text).ok();
        }
        let main = dir.join(files[0].0);
        let mut sm = SourceMap::new();
        let id = sm.add(main.clone(), read_source(&main).unwrap_or_default());
        let mut o = opts.clone();
        o.include_dirs.push(dir.join("inc"));
        preprocess(&mut sm, id, &o)
    }

    fn texts(toks: &[Token]) -> String {
        toks.iter()
            .filter(|t| !matches!(t.kind, TokenKind::Pragma(_) | TokenKind::Eof))
            .map(|t| t.text.clone())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn defines_and_conditionals() {
        let src = "#define N 3\n#define F(a, b) a ## b + #a\n#if defined(N) && N > 2 || 0\nlong x[N];\n#elif 1\nbad\n#else\nbad\n#endif\n#ifndef N\nbad\n#endif\nF(foo, 1) \"N\" N_\n#undef N\nN\n";
        let toks = pp(&[("a.idl", src)], &Options::default()).unwrap();
        assert_eq!(texts(&toks), "long x [ 3 ] ; foo1 + \"foo\" \"N\" N_ N");
        // The expansion of N sits where N was written.
        let three = toks.iter().find(|t| t.text == "3").unwrap();
        assert_eq!((three.span.line, three.span.col), (4, 8));
    }

    #[test]
    fn comments_and_continuations() {
        let src = "long /* a\n b */ x; // c \\\n still comment\n#define A \\\n 7\nA";
        let toks = pp(&[("b.idl", src)], &Options::default()).unwrap();
        assert_eq!(texts(&toks), "long x ; 7");
        let x = toks.iter().find(|t| t.text == "x").unwrap();
        assert_eq!((x.span.line, x.span.col), (2, 7));
    }

    #[test]
    fn include_search_and_missing() {
        let ok = pp(
            &[
                ("c.idl", "#include \"d.idl\"\n#include <e.idl>\nz"),
                (
                    "d.idl",
                    "#ifndef D\n#define D\nd\n#include \"d.idl\"\n#endif\n",
                ),
                ("inc/e.idl", "e"),
            ],
            &Options::default(),
        )
        .unwrap();
        assert_eq!(texts(&ok), "d e z");
        let err = pp(
            &[("f.idl", "\n  #include <d.idl>\n"), ("d.idl", "")],
            &Options::default(),
        )
        .unwrap_err();
        let loc = err[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.col), (2, 3));
        assert!(err[0].message.contains("cannot find include file <d.idl>"));
    }

    #[test]
    fn errors() {
        let e = pp(&[("g.idl", "#if 1\nx\n")], &Options::default()).unwrap_err();
        assert!(e[0].message.contains("unterminated conditional"));
        let e = pp(&[("h.idl", "#error stop here\n")], &Options::default()).unwrap_err();
        assert_eq!(e[0].message, "#error stop here");
        let e = pp(
            &[("i.idl", "#define A A B\n#define B A\nA\n#if 1/0\n#endif\n")],
            &Options::default(),
        )
        .unwrap_err();
        assert!(e[0].message.contains("division by zero"));
    }

    #[test]
    fn pragmas_in_position() {
        let toks = pp(
            &[("j.idl", "a\n#pragma prefix \"omg.org\"\n#pragma version ::M::X 1.2\n#pragma ID Y \"IDL:y:1.0\"\n#pragma foo bar\nb")],
            &Options::default(),
        )
        .unwrap();
        let kinds: Vec<_> = toks.iter().map(|t| &t.kind).collect();
        assert!(matches!(kinds[1], TokenKind::Pragma(Pragma::Prefix(p)) if p == "omg.org"));
        assert!(
            matches!(kinds[2], TokenKind::Pragma(Pragma::Version { major: 1, minor: 2, name }) if name.global && name.parts == ["M", "X"])
        );
        assert!(matches!(kinds[3], TokenKind::Pragma(Pragma::Id { id, .. }) if id == "IDL:y:1.0"));
        assert!(matches!(kinds[4], TokenKind::Pragma(Pragma::Other(o)) if o == "foo bar"));
    }

    #[test]
    fn command_line_defines() {
        let o = Options {
            include_dirs: vec![],
            defines: vec![("X".into(), Some("4".into())), ("Y".into(), None)],
        };
        let toks = pp(&[("k.idl", "X Y")], &o).unwrap();
        assert_eq!(texts(&toks), "4 1");
    }
}
