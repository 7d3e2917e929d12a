//! IDL tokens and the lexer that makes them.
//!
//! The preprocessor lexes one logical line at a time (comments already removed, continuation lines
//! already joined) and hands the parser a flat token vector. Each token keeps the position of its
//! first character in the original file, so no later stage needs a separate source map.
//!
//! Keywords are not a separate token kind: IDL keywords depend on context in CORBA 3 (`component`,
//! `home`...), so the parser decides. Two-character operators that could also close nested
//! templates (`>>`) are lexed as two `>` tokens with [`Token::glued`] set, so
//! `sequence<sequence<long>>` parses without token splitting.

use crate::source::{FileId, Span};

/// A pragma the preprocessor recognised, or a file boundary; passed to the parser in position.
#[derive(Debug, Clone, PartialEq)]
pub enum Pragma {
    /// `#pragma prefix "..."`.
    Prefix(String),
    /// `#pragma ID name "..."`.
    Id { name: PragmaName, id: String },
    /// `#pragma version name major.minor`.
    Version {
        name: PragmaName,
        major: u16,
        minor: u16,
    },
    /// Any other pragma, kept verbatim so a later stage may use it.
    Other(String),
    /// The tokens that follow come from a newly `#include`d file (prefixes reset per file).
    EnterFile(FileId),
    /// The `#include`d file entered last has ended.
    LeaveFile,
}

/// A (possibly scoped) name written in a pragma.
#[derive(Debug, Clone, PartialEq)]
pub struct PragmaName {
    pub global: bool,
    pub parts: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Int(u128),
    /// Floating-point literal, as written.
    Float(String),
    /// Fixed-point literal, as written without its `d` suffix.
    Fixed(String),
    Char(u8),
    WChar(u32),
    Str(String),
    WStr(String),
    Punct(&'static str),
    Pragma(Pragma),
    /// End of the whole token stream; its span is the end of the main file.
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// No white space separates this token from the previous one.
    pub glued: bool,
    /// The token's source text (used for macro stringizing and pasting).
    pub text: String,
}

impl Token {
    pub fn is_punct(&self, p: &str) -> bool {
        matches!(&self.kind, TokenKind::Punct(q) if *q == p)
    }

    pub fn ident(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Ident(s) => Some(s),
            _ => None,
        }
    }

    /// A short description for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Ident(s) => format!("'{s}'"),
            TokenKind::Punct(p) => format!("'{p}'"),
            TokenKind::Eof => "end of file".to_owned(),
            TokenKind::Pragma(_) => "#pragma".to_owned(),
            TokenKind::Str(_) | TokenKind::WStr(_) => "string literal".to_owned(),
            TokenKind::Char(_) | TokenKind::WChar(_) => "character literal".to_owned(),
            _ => format!("'{}'", self.text),
        }
    }
}

/// A character of a logical line with its original position.
#[derive(Debug, Clone, Copy)]
pub struct PosChar {
    pub c: char,
    pub line: u32,
    pub col: u32,
}

/// A lexical error: where, and what.
#[derive(Debug, Clone)]
pub struct LexError {
    pub span: Span,
    pub message: String,
}

const PUNCT2: [&str; 8] = ["::", "##", "&&", "||", "==", "!=", "<=", ">="];
const PUNCT1: &str = ";{}()[]<>,:=+-*/%~|^&!#?.";

/// Lexes one logical line of IDL.
pub fn lex_line(chars: &[PosChar], file: FileId) -> Result<Vec<Token>, LexError> {
    Lexer {
        chars,
        pos: 0,
        file,
        directive: false,
    }
    .run()
}

/// Lexes the rest of a preprocessor directive, where C integer suffixes (`255U`, `1L`) are
/// allowed because IDL files copy C headers' macros.
pub fn lex_directive(chars: &[PosChar], file: FileId) -> Result<Vec<Token>, LexError> {
    Lexer {
        chars,
        pos: 0,
        file,
        directive: true,
    }
    .run()
}

struct Lexer<'a> {
    chars: &'a [PosChar],
    pos: usize,
    file: FileId,
    directive: bool,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).map(|p| p.c)
    }

    fn span_at(&self, idx: usize) -> Span {
        match self.chars.get(idx).or(self.chars.last()) {
            Some(p) => Span::new(self.file, p.line, p.col),
            None => Span::new(self.file, 1, 1),
        }
    }

    fn err<T>(&self, idx: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            span: self.span_at(idx),
            message: message.into(),
        })
    }

    fn text(&self, from: usize) -> String {
        self.chars[from..self.pos].iter().map(|p| p.c).collect()
    }

    fn run(mut self) -> Result<Vec<Token>, LexError> {
        let mut out = Vec::new();
        let mut glued = false;
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() {
                self.pos += 1;
                glued = false;
                continue;
            }
            let start = self.pos;
            let kind = self.token(c)?;
            out.push(Token {
                kind,
                span: self.span_at(start),
                glued,
                text: self.text(start),
            });
            glued = true;
        }
        Ok(out)
    }

    fn token(&mut self, c: char) -> Result<TokenKind, LexError> {
        let start = self.pos;
        if c == 'L' && matches!(self.peek(1), Some('"') | Some('\'')) {
            self.pos += 1;
            return if self.peek(0) == Some('"') {
                Ok(TokenKind::WStr(self.string(true)?))
            } else {
                Ok(TokenKind::WChar(self.char_lit(true)?))
            };
        }
        if is_ident_start(c) {
            while self.peek(0).is_some_and(is_ident_char) {
                self.pos += 1;
            }
            // Preprocessor names like `__FOO_IDL__` are lexed too; the parser checks that an
            // IDL identifier is a letter, or '_' and a letter (an escaped identifier).
            return Ok(TokenKind::Ident(self.text(start)));
        }
        if c.is_ascii_digit() || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) {
            return self.number();
        }
        if c == '"' {
            return Ok(TokenKind::Str(self.string(false)?));
        }
        if c == '\'' {
            let v = self.char_lit(false)?;
            return match u8::try_from(v) {
                Ok(b) => Ok(TokenKind::Char(b)),
                Err(_) => self.err(start, "character literal does not fit in a char"),
            };
        }
        if let Some(n) = self.peek(1) {
            let two: String = [c, n].iter().collect();
            if let Some(p) = PUNCT2.iter().find(|p| **p == two) {
                self.pos += 2;
                return Ok(TokenKind::Punct(p));
            }
        }
        if let Some(i) = PUNCT1.find(c) {
            self.pos += 1;
            return Ok(TokenKind::Punct(&PUNCT1[i..i + c.len_utf8()]));
        }
        self.err(
            start,
            format!("unexpected character '{}'", c.escape_default()),
        )
    }

    fn digits(&mut self, radix: u32) -> usize {
        let from = self.pos;
        while self.peek(0).is_some_and(|d| d.is_digit(radix)) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<TokenKind, LexError> {
        let start = self.pos;
        if self.peek(0) == Some('0') && matches!(self.peek(1), Some('x') | Some('X')) {
            self.pos += 2;
            let ds = self.pos;
            if self.digits(16) == 0 {
                return self.err(start, "hexadecimal literal has no digits");
            }
            let digits: String = self.chars[ds..self.pos].iter().map(|p| p.c).collect();
            self.c_suffix();
            self.no_suffix(start)?;
            return self.int_value(start, &digits, 16);
        }
        let int_digits = self.digits(10);
        let mut is_float = false;
        if self.peek(0) == Some('.') {
            is_float = true;
            self.pos += 1;
            self.digits(10);
        }
        if matches!(self.peek(0), Some('e') | Some('E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(0), Some('+') | Some('-')) {
                self.pos += 1;
            }
            if self.digits(10) == 0 {
                self.pos = save;
                return self.err(save, "exponent has no digits");
            }
            self.no_suffix(start)?;
            return Ok(TokenKind::Float(self.text(start)));
        }
        if matches!(self.peek(0), Some('d') | Some('D')) {
            let text = self.text(start);
            self.pos += 1;
            self.no_suffix(start)?;
            return Ok(TokenKind::Fixed(text));
        }
        let text = self.text(start);
        if !is_float {
            self.c_suffix();
        }
        self.no_suffix(start)?;
        if is_float {
            return Ok(TokenKind::Float(text));
        }
        if int_digits > 1 && text.starts_with('0') {
            if let Some(bad) = text.chars().find(|c| !c.is_digit(8)) {
                return self.err(start, format!("invalid digit '{bad}' in octal literal"));
            }
            return self.int_value(start, &text[1..], 8);
        }
        self.int_value(start, &text, 10)
    }

    fn c_suffix(&mut self) {
        if self.directive {
            while matches!(self.peek(0), Some('u' | 'U' | 'l' | 'L')) {
                self.pos += 1;
            }
        }
    }

    fn no_suffix(&self, start: usize) -> Result<(), LexError> {
        if self.peek(0).is_some_and(is_ident_char) {
            return self.err(start, "invalid suffix on numeric literal");
        }
        Ok(())
    }

    fn int_value(&self, start: usize, digits: &str, radix: u32) -> Result<TokenKind, LexError> {
        let mut v: u128 = 0;
        for d in digits.chars() {
            let dv = d.to_digit(radix).unwrap_or(0) as u128;
            v = match v.checked_mul(radix as u128).and_then(|x| x.checked_add(dv)) {
                Some(x) => x,
                None => return self.err(start, "integer literal is too large"),
            };
        }
        Ok(TokenKind::Int(v))
    }

    /// Reads one escape sequence after the backslash; returns the code point.
    fn escape(&mut self, wide: bool) -> Result<u32, LexError> {
        let at = self.pos;
        let Some(c) = self.peek(0) else {
            return self.err(at, "unterminated escape sequence");
        };
        self.pos += 1;
        let simple = match c {
            'n' => Some(10),
            't' => Some(9),
            'v' => Some(11),
            'b' => Some(8),
            'r' => Some(13),
            'f' => Some(12),
            'a' => Some(7),
            '\\' | '?' | '\'' | '"' => Some(c as u32),
            _ => None,
        };
        if let Some(v) = simple {
            return Ok(v);
        }
        let (radix, max) = match c {
            '0'..='7' => {
                self.pos -= 1;
                (8, 3)
            }
            'x' => (16, 2),
            'u' if wide => (16, 4),
            'u' => {
                return self.err(
                    at.saturating_sub(1),
                    "\\u escapes may only be used in wide characters and strings",
                )
            }
            // The spec leaves other escapes undefined; like omniidl, take the character itself.
            other => return Ok(other as u32),
        };
        let mut v = 0u32;
        let mut n = 0;
        while n < max {
            match self.peek(0).and_then(|d| d.to_digit(radix)) {
                Some(d) => {
                    v = v * radix + d;
                    self.pos += 1;
                    n += 1;
                }
                None => break,
            }
        }
        if n == 0 {
            return self.err(at, "escape sequence has no digits");
        }
        if radix == 8 && v > 255 {
            return self.err(at, "octal escape value is too large");
        }
        Ok(v)
    }

    fn string(&mut self, wide: bool) -> Result<String, LexError> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return self.err(start, "unterminated string literal");
            };
            self.pos += 1;
            let v = match c {
                '"' => return Ok(s),
                '\\' => self.escape(wide)?,
                other => other as u32,
            };
            if v == 0 {
                return self.err(start, "string literal cannot contain a zero character");
            }
            match char::from_u32(v) {
                Some(ch) => s.push(ch),
                None => return self.err(start, "invalid character in wide string literal"),
            }
        }
    }

    fn char_lit(&mut self, wide: bool) -> Result<u32, LexError> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let v = match self.peek(0) {
            None | Some('\'') => return self.err(start, "empty character literal"),
            Some('\\') => {
                self.pos += 1;
                self.escape(wide)?
            }
            Some(c) => {
                self.pos += 1;
                c as u32
            }
        };
        if self.peek(0) != Some('\'') {
            return self.err(start, "unterminated character literal");
        }
        self.pos += 1;
        Ok(v)
    }
}

/// Turns a string into positioned characters on one line (for tests and macro pasting).
pub fn pos_chars(s: &str, line: u32, col: u32) -> Vec<PosChar> {
    s.chars()
        .enumerate()
        .map(|(i, c)| PosChar {
            c,
            line,
            col: col + i as u32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        lex_line(&pos_chars(s, 1, 1), FileId(0))
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0 017 0x1F 12 1.5 1e3 .5 1.5d 3D"),
            vec![
                TokenKind::Int(0),
                TokenKind::Int(15),
                TokenKind::Int(31),
                TokenKind::Int(12),
                TokenKind::Float("1.5".into()),
                TokenKind::Float("1e3".into()),
                TokenKind::Float(".5".into()),
                TokenKind::Fixed("1.5".into()),
                TokenKind::Fixed("3".into()),
            ]
        );
    }

    #[test]
    fn literals_and_escapes() {
        assert_eq!(
            kinds(r"'a' '\n' '\101' '\x41' L'\u0041' L'b'"),
            vec![
                TokenKind::Char(b'a'),
                TokenKind::Char(b'\n'),
                TokenKind::Char(b'A'),
                TokenKind::Char(b'A'),
                TokenKind::WChar(0x41),
                TokenKind::WChar(u32::from('b')),
            ]
        );
        assert_eq!(
            kinds(r#""a\tb" L"x\u00e9""#),
            vec![
                TokenKind::Str("a\tb".into()),
                TokenKind::WStr("x\u{e9}".into())
            ]
        );
        assert!(lex_line(&pos_chars(r"'\u41'", 1, 1), FileId(0)).is_err());
        assert!(lex_line(&pos_chars("\"abc", 1, 1), FileId(0)).is_err());
    }

    #[test]
    fn glued_shift() {
        let toks = lex_line(&pos_chars("a >> b > > c", 1, 1), FileId(0)).unwrap();
        assert!(toks[1].is_punct(">") && !toks[1].glued);
        assert!(toks[2].is_punct(">") && toks[2].glued);
        assert!(toks[5].is_punct(">") && !toks[5].glued);
        assert_eq!(toks[5].span.col, 10);
    }
}
