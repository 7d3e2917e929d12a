//! Code sets (CORBA 3.0 §13.10): which character encoding `char`/`string` and `wchar`/`wstring`
//! travel in. The ids are the OSF registry's; the defaults are what omniORB negotiates.

/// An OSF character and code set registry id. Open: unknown ids from a peer's IOR are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeSetId(pub u32);

impl CodeSetId {
    pub const ISO_8859_1: CodeSetId = CodeSetId(0x0001_0001);
    pub const UTF_8: CodeSetId = CodeSetId(0x0501_0001);
    pub const UCS_2: CodeSetId = CodeSetId(0x0001_0100);
    pub const UTF_16: CodeSetId = CodeSetId(0x0001_0109);
    pub const UCS_4: CodeSetId = CodeSetId(0x0001_0106);
    /// Conversion code set for `char` the specification makes every ORB support.
    pub const ISO_646: CodeSetId = CodeSetId(0x0001_0020);

    /// The registry's short name, as catior prints it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            CodeSetId::ISO_8859_1 => "ISO-8859-1",
            CodeSetId::UTF_8 => "UTF-8",
            CodeSetId::UCS_2 => "UCS-2",
            CodeSetId::UTF_16 => "UTF-16",
            CodeSetId::UCS_4 => "UCS-4",
            CodeSetId::ISO_646 => "ISO-646",
            _ => return None,
        })
    }
}

impl std::fmt::Display for CodeSetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08x}", self.0),
        }
    }
}

/// The transmission code sets in force on a connection (TCS-C for `char`, TCS-W for `wchar`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeSets {
    pub char: CodeSetId,
    pub wchar: CodeSetId,
}

impl Default for CodeSets {
    /// Before negotiation (and always in GIOP 1.0) `char` data is ISO-8859-1; UTF-16 is the
    /// `wchar` set omniORB and most ORBs fall back to.
    fn default() -> CodeSets {
        CodeSets {
            char: CodeSetId::ISO_8859_1,
            wchar: CodeSetId::UTF_16,
        }
    }
}
