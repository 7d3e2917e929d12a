//! Errors reported by the front end, rendered the way rustc renders its own.
//!
//! A [`Diagnostic`] is self-contained: it copies the file name and the quoted source line out of
//! the [`SourceMap`] when it is made, so it can be printed, stored or sent across threads after
//! the compilation that produced it is gone. [`Diagnostics`] is what the public API returns: one
//! or more diagnostics, because the semantic pass reports every independent problem it finds.
//! Nothing here panics, whatever the positions say (a line that does not exist is simply not
//! quoted).

use std::fmt;
use std::path::PathBuf;

use crate::source::{SourceMap, Span};

/// A place in a file, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// A secondary message attached to a diagnostic ("previous declaration here", include chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub message: String,
    pub location: Option<Location>,
}

/// Whether a diagnostic stops the compilation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Severity {
    #[default]
    Error,
    /// Accepted IDL that is probably not what its author meant, or that other compilers
    /// reject: the compilation goes on ([`crate::Model::warnings`]).
    Warning,
}

/// One error or warning: a message, where it happened, and the source line it happened on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// The text of the offending line, when the file was readable.
    pub source_line: Option<String>,
    pub notes: Vec<Note>,
}

impl Diagnostic {
    /// A diagnostic with no position (e.g. the main file cannot be read).
    #[cold]
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            source_line: None,
            notes: Vec::new(),
        }
    }

    /// A diagnostic at `span`, quoting the source line from `sm`.
    #[cold]
    pub fn at(sm: &SourceMap, span: Span, message: impl Into<String>) -> Self {
        let file = sm.get(span.file);
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: Some(location(sm, span)),
            source_line: file.and_then(|f| f.line_text(span.line)).map(str::to_owned),
            notes: Vec::new(),
        }
    }

    /// A warning at `span`, quoting the source line from `sm`.
    #[cold]
    pub fn warning_at(sm: &SourceMap, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::at(sm, span, message)
        }
    }

    /// Adds a note that points at another place.
    #[must_use]
    pub fn with_note_at(mut self, sm: &SourceMap, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            message: message.into(),
            location: Some(location(sm, span)),
        });
        self
    }

    /// Adds a note without a position.
    #[must_use]
    pub fn with_note(mut self, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            message: message.into(),
            location: None,
        });
        self
    }

    /// `file:line:col: message`, the one-line form used by tests and build scripts.
    pub fn short(&self) -> String {
        match &self.location {
            Some(l) => format!("{l}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// The rustc-like multi-line form (`warning:` for a warning):
    ///
    /// ```text
    /// error: message
    ///   --> file:line:col
    ///    |
    /// 12 | source line
    ///    |     ^
    /// ```
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{level}: {}", self.message);
        if let Some(loc) = &self.location {
            let num = loc.line.to_string();
            let pad = " ".repeat(num.len());
            let _ = write!(out, "\n{pad}--> {loc}");
            if let Some(src) = &self.source_line {
                // Tabs are kept in the caret line so the caret lines up under a tabbed source line.
                let lead: String = src
                    .chars()
                    .take(loc.col.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = write!(out, "\n{pad} |\n{num} | {src}\n{pad} | {lead}^");
            }
        }
        for n in &self.notes {
            match &n.location {
                Some(l) => {
                    let _ = write!(out, "\n  = note: {} ({l})", n.message);
                }
                None => {
                    let _ = write!(out, "\n  = note: {}", n.message);
                }
            }
        }
        out
    }
}

fn location(sm: &SourceMap, span: Span) -> Location {
    Location {
        file: sm.path(span.file).to_path_buf(),
        line: span.line,
        col: span.col,
    }
}

/// One or more diagnostics: the error type of the front end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn first(&self) -> Option<&Diagnostic> {
        self.errors.first()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.errors.iter()
    }

    /// All diagnostics, rustc style, separated by blank lines.
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = self.errors.iter().map(Diagnostic::render).collect();
        if self.errors.len() > 1 {
            parts.push(format!(
                "error: aborting due to {} previous errors",
                self.errors.len()
            ));
        }
        parts.join("\n\n")
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { errors: vec![d] }
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(errors: Vec<Diagnostic>) -> Self {
        Diagnostics { errors }
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}
