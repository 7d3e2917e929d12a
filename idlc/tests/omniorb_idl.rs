//! Every IDL file Debian's `omniorb-idl` package installs under /usr/share/idl/omniORB must
//! compile, with /usr/share/idl/omniORB and its COS directory on the include path.

use std::path::{Path, PathBuf};

const ROOT: &str = "/usr/share/idl/omniORB";

/// Files that cannot compile with any compiler, omniidl included (the corpus records omniidl's
/// identical failures on omniORB 4.1's copies): they include `IOP.idl` or use
/// `CORBA::ServiceOption` / `CORBA::Environment`, none of which omniORB ships. They must still be
/// rejected cleanly, at the missing name. (file, text of the expected error)
const BROKEN_UPSTREAM: &[(&str, &str)] = &[
    (
        "COS/DCE_CIOPSecurity.idl",
        "cannot find include file <IOP.idl>",
    ),
    ("COS/SECIOP.idl", "cannot find include file <IOP.idl>"),
    ("COS/SSLIOP.idl", "cannot find include file <IOP.idl>"),
    (
        "COS/CosTSPortability.idl",
        "cannot find 'Environment' in 'CORBA'",
    ),
    ("COS/Security.idl", "cannot find 'ServiceOption' in 'CORBA'"),
    (
        "COS/SecurityAdmin.idl",
        "cannot find 'ServiceOption' in 'CORBA'",
    ),
    (
        "COS/SecurityLevel1.idl",
        "cannot find 'ServiceOption' in 'CORBA'",
    ),
    (
        "COS/SecurityLevel2.idl",
        "cannot find 'ServiceOption' in 'CORBA'",
    ),
    (
        "COS/SecurityReplaceable.idl",
        "cannot find 'ServiceOption' in 'CORBA'",
    ),
    (
        "COS/NRService.idl",
        "cannot find 'ServiceOption' in 'CORBA'",
    ),
];

fn idl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            idl_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "idl") {
            out.push(p);
        }
    }
}

/// Compiles every installed file with `defines`; returns how many compiled, and how many of
/// those warned.
fn compile_all(defines: &[&str]) -> (usize, usize) {
    let root = Path::new(ROOT);
    assert!(
        root.is_dir(),
        "{ROOT} does not exist: install Debian's omniorb-idl package (apt-get install omniorb-idl)"
    );
    let mut files = Vec::new();
    idl_files(root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no IDL files under {ROOT}");
    let (mut accepted, mut warned, mut failures) = (0, 0, Vec::new());
    for f in &files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        let mut fe = idlc::Frontend::new();
        for d in defines {
            fe.define(d);
        }
        fe.include_dir(ROOT).include_dir(root.join("COS"));
        let result = fe.parse_file(f);
        match (BROKEN_UPSTREAM.iter().find(|(p, _)| *p == rel), result) {
            (None, Ok(m)) => {
                accepted += 1;
                warned += !m.warnings.is_empty() as usize;
            }
            (None, Err(d)) => failures.push(format!("{rel} rejected:\n{}", d.render())),
            (Some((_, want)), Err(d)) => {
                let e = d.first();
                if !e.is_some_and(|e| e.message.contains(want) && e.location.is_some()) {
                    failures.push(format!("{rel}: expected '{want}', got:\n{}", d.render()));
                }
            }
            (Some(_), Ok(_)) => failures.push(format!(
                "{rel} now compiles: remove it from BROKEN_UPSTREAM"
            )),
        }
    }
    println!(
        "omniORB IDL with {defines:?}: {accepted}/{} accepted, {warned} of them with warnings \
         ({} broken upstream, rejected as expected)",
        files.len(),
        BROKEN_UPSTREAM.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    (accepted, warned)
}

#[test]
fn omniorb_installed_idl_compiles() {
    // omniidl predefines __OMNIIDL__ and omniORB's COS files select their CORBA 2.3 variants
    // (escaped identifiers, ir.idl) with it.
    compile_all(&["__OMNIIDL__"]);
}

#[test]
fn omniorb_installed_idl_compiles_as_the_omg_wrote_it() {
    // Without __OMNIIDL__ the files are the OMG's text: CosLifeCycle and its users name a type
    // `Factory` (accepted with a warning: it predates the keyword), and the IR comes from
    // orb.idl when asked for, as CORBA 2's orb.idl always declared it.
    let (_, warned) = compile_all(&["ENABLE_CLIENT_IR_SUPPORT"]);
    assert!(
        warned >= 5,
        "expected the CosLifeCycle family to warn, {warned} warned"
    );
}

#[test]
fn omniorb_repository_ids_match_the_standard() {
    let root = Path::new(ROOT);
    assert!(
        root.is_dir(),
        "{ROOT} does not exist: install Debian's omniorb-idl package (apt-get install omniorb-idl)"
    );
    let mut fe = idlc::Frontend::new();
    fe.define("__OMNIIDL__")
        .include_dir(ROOT)
        .include_dir(root.join("COS"));
    let m = fe
        .parse_file(root.join("COS/CosNaming.idl"))
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let id = |n: &str| m.lookup(n).map(|i| m.item(i).repository_id.clone());
    assert_eq!(
        id("CosNaming::NamingContext").as_deref(),
        Some("IDL:omg.org/CosNaming/NamingContext:1.0")
    );
    assert_eq!(
        id("CosNaming::NamingContext::NotFound").as_deref(),
        Some("IDL:omg.org/CosNaming/NamingContext/NotFound:1.0")
    );
    assert_eq!(
        id("CosNaming::BindingIterator").as_deref(),
        Some("IDL:omg.org/CosNaming/BindingIterator:1.0")
    );
}
