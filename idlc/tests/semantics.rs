//! Focused tests of the semantic model: constant evaluation, repository IDs, union labels and
//! name resolution through inheritance.

use idlc::model::{CaseLabel, ConstValue, ItemKind, Model, ParamDir, Primitive, TypeRef};

fn model(src: &str) -> Model {
    match idlc::Frontend::new().parse_str("test.idl", src) {
        Ok(m) => m,
        Err(d) => panic!("unexpected errors:\n{}", d.render()),
    }
}

fn error(src: &str) -> String {
    match idlc::Frontend::new().parse_str("test.idl", src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(d) => d.first().map(|e| e.short()).unwrap_or_default(),
    }
}

fn value(m: &Model, name: &str) -> ConstValue {
    let id = m.lookup(name).unwrap_or_else(|| panic!("no item {name}"));
    match &m.item(id).kind {
        ItemKind::Const(c) => c.value.clone(),
        other => panic!("{name} is not a constant: {other:?}"),
    }
}

fn repo_id(m: &Model, name: &str) -> String {
    let id = m.lookup(name).unwrap_or_else(|| panic!("no item {name}"));
    m.item(id).repository_id.clone()
}

// ---- constant expressions ----

#[test]
fn integer_constants() {
    let m = model(
        r#"
        const long A = (0xf | 0xf000) & 0xfffe;
        const long B = -1234 % 100;
        const unsigned long C = 0xFFFFFFFF;
        const unsigned short D = ~0;
        const short E = ~0;
        const long long F = 1 << 40;
        const unsigned long long G = 18446744073709551615;
        const long long H = -9223372036854775808;
        const long I = -2147483648;
        const octet J = 017 + 1;
        const long K = A ^ 3 + 2 * 4 >> 1;
        const long L = 7 / 2;
        module M { const long N = ::A + 1; };
    "#,
    );
    assert_eq!(value(&m, "A"), ConstValue::Integer(0xf00e));
    assert_eq!(value(&m, "B"), ConstValue::Integer(-34));
    assert_eq!(value(&m, "C"), ConstValue::Integer(0xFFFF_FFFF));
    assert_eq!(value(&m, "D"), ConstValue::Integer(65535));
    assert_eq!(value(&m, "E"), ConstValue::Integer(-1));
    assert_eq!(value(&m, "F"), ConstValue::Integer(1 << 40));
    assert_eq!(value(&m, "G"), ConstValue::Integer(u64::MAX as i128));
    assert_eq!(value(&m, "H"), ConstValue::Integer(i64::MIN as i128));
    assert_eq!(value(&m, "I"), ConstValue::Integer(i32::MIN as i128));
    assert_eq!(value(&m, "J"), ConstValue::Integer(16));
    assert_eq!(value(&m, "K"), ConstValue::Integer(0xf00e ^ 5));
    assert_eq!(value(&m, "L"), ConstValue::Integer(3));
    assert_eq!(value(&m, "M::N"), ConstValue::Integer(0xf00f));
}

#[test]
fn other_constant_kinds() {
    let m = model(
        r#"
        const double D = 50.23 - 1532.718 * 0.029;
        const float F = 1.5e3;
        const double I = 2.0 * 1.25;
        const fixed X = 1.50d + 2d;
        typedef fixed<5,2> Money;
        const Money Y = 123.45d;
        const char C = '\x41';
        const wchar W = L'\u00e9';
        const string S = "ab" "cd";
        const string<4> SB = "abcd";
        const wstring WS = L"w\u00e9";
        const boolean B = TRUE;
        enum Color { RED, GREEN };
        const Color K = GREEN;
    "#,
    );
    assert_eq!(value(&m, "D"), ConstValue::Float(50.23 - 1532.718 * 0.029));
    assert_eq!(value(&m, "F"), ConstValue::Float(1500.0));
    assert_eq!(value(&m, "I"), ConstValue::Float(2.5));
    assert!(
        matches!(value(&m, "X"), ConstValue::Fixed { text, digits: 3, scale: 2 } if text == "3.50")
    );
    assert!(matches!(value(&m, "Y"), ConstValue::Fixed { text, .. } if text == "123.45"));
    assert_eq!(value(&m, "C"), ConstValue::Char(b'A'));
    assert_eq!(value(&m, "W"), ConstValue::WChar(0xe9));
    assert_eq!(value(&m, "S"), ConstValue::String("abcd".into()));
    assert_eq!(value(&m, "WS"), ConstValue::WString("w\u{e9}".into()));
    assert_eq!(value(&m, "B"), ConstValue::Boolean(true));
    let color = m.lookup("Color").unwrap();
    assert_eq!(
        value(&m, "K"),
        ConstValue::Enum {
            ty: color,
            index: 1
        }
    );
    let x = m.lookup("X").unwrap();
    assert!(
        matches!(&m.item(x).kind, ItemKind::Const(c) if c.ty == TypeRef::Fixed { digits: 3, scale: 2 })
    );
}

#[test]
fn constant_errors() {
    assert!(error("const short S = 32768;").contains("out of range for short"));
    assert!(error("const unsigned long U = -1;").contains("out of range"));
    assert!(error("const long L = 1 << 64;").contains("shift count"));
    assert!(error("const float F = 1e39;").contains("out of range for float"));
    assert!(error("const long L = 1.5;").contains("cannot use a floating-point value"));
    assert!(error("const boolean B = TRUE + 1;").contains("cannot be applied"));
    assert!(error("const string<3> S = \"abcd\";").contains("exceeds the bound 3"));
    assert!(error("const any A = 1;").contains("not allowed"));
    assert!(error("const long A = B;").contains("cannot find 'B'"));
    assert!(error("struct S { long a; }; const long A = S;").contains("not a constant"));
}

// ---- repository IDs ----

#[test]
fn default_repository_ids() {
    let m =
        model("module M { interface I { typedef long T; void op(); }; struct _S { long a; }; };");
    assert_eq!(repo_id(&m, "M"), "IDL:M:1.0");
    assert_eq!(repo_id(&m, "M::I"), "IDL:M/I:1.0");
    assert_eq!(repo_id(&m, "M::I::T"), "IDL:M/I/T:1.0");
    assert_eq!(repo_id(&m, "M::I::op"), "IDL:M/I/op:1.0");
    // Escaped identifiers lose their underscore.
    assert_eq!(repo_id(&m, "M::S"), "IDL:M/S:1.0");
}

#[test]
fn pragma_prefix_version_and_id() {
    // The example of CORBA 3.0 §10.7.5.
    let m = model(
        r#"
        module M1 {
            typedef long T1;
            typedef long T2;
            #pragma ID T2 "DCE:d62207a2-011e-11ce-88b4-0800090b5d3e:3"
        };
        #pragma prefix "P1"
        module M2 {
            module M3 {
                #pragma prefix "P2"
                typedef long T3;
            };
            typedef long T4;
            #pragma version T4 2.4
        };
    "#,
    );
    assert_eq!(repo_id(&m, "M1::T1"), "IDL:M1/T1:1.0");
    assert_eq!(
        repo_id(&m, "M1::T2"),
        "DCE:d62207a2-011e-11ce-88b4-0800090b5d3e:3"
    );
    assert_eq!(repo_id(&m, "M2::M3::T3"), "IDL:P2/T3:1.0");
    assert_eq!(repo_id(&m, "M2::T4"), "IDL:P1/M2/T4:2.4");
}

#[test]
fn prefix_is_scoped_to_module_and_file() {
    let dir = std::env::temp_dir().join(format!("idlc-prefix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("inc.idl"),
        "typedef long FromInclude;\n#pragma prefix \"inner\"\ntypedef long AfterInner;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.idl"),
        "#pragma prefix \"outer\"\nmodule M {\n#pragma prefix \"m\"\ntypedef long A;\n};\ntypedef long B;\n#include \"inc.idl\"\ntypedef long C;\n",
    )
    .unwrap();
    let out = idlc::Frontend::new().compile_file(dir.join("main.idl"));
    let m = out.result.unwrap_or_else(|d| panic!("{}", d.render()));
    assert_eq!(repo_id(&m, "M::A"), "IDL:m/A:1.0");
    // The prefix set inside M ends with M.
    assert_eq!(repo_id(&m, "B"), "IDL:outer/B:1.0");
    // An included file starts with no prefix, and its prefix does not leak out.
    assert_eq!(repo_id(&m, "FromInclude"), "IDL:FromInclude:1.0");
    assert_eq!(repo_id(&m, "AfterInner"), "IDL:inner/AfterInner:1.0");
    assert_eq!(repo_id(&m, "C"), "IDL:outer/C:1.0");
    // Every file read is reported, for rerun-if-changed.
    assert_eq!(out.files.len(), 2);
    assert!(out.files.iter().any(|f| f.ends_with("inc.idl")));
}

#[test]
fn typeid_and_typeprefix() {
    let m = model(
        r#"
        module CosNaming {
            typeprefix CosNaming "omg.org";
            interface NamingContext { struct Inner { long a; }; };
        };
        module X { interface Y {}; typeid Y "IDL:custom/Y:2.0"; };
    "#,
    );
    assert_eq!(repo_id(&m, "CosNaming"), "IDL:omg.org/CosNaming:1.0");
    assert_eq!(
        repo_id(&m, "CosNaming::NamingContext"),
        "IDL:omg.org/CosNaming/NamingContext:1.0"
    );
    assert_eq!(
        repo_id(&m, "CosNaming::NamingContext::Inner"),
        "IDL:omg.org/CosNaming/NamingContext/Inner:1.0"
    );
    assert_eq!(repo_id(&m, "X::Y"), "IDL:custom/Y:2.0");
}

#[test]
fn conflicting_repository_ids() {
    assert!(
        error("interface A {};\n#pragma ID A \"IDL:A:1.1\"\n#pragma version A 2.0\n")
            .contains("cannot set version")
    );
    assert!(
        error("interface A {};\n#pragma ID Nope \"IDL:A:1.1\"\n").contains("cannot find 'Nope'")
    );
    // The same ID twice is fine (§10.7.5.1).
    model("interface B {};\n#pragma ID B \"IDL:BB:1.1\"\n#pragma ID B \"IDL:BB:1.1\"\n");
}

// ---- unions ----

#[test]
fn union_labels() {
    let m = model(
        r#"
        enum E { A, B, C };
        typedef E Alias;
        union U switch (Alias) { case A: case B: long x; default: string s; };
        union V switch (char) { case 'a': long x; case 'b': short y; };
        union W switch (boolean) { case TRUE: long x; case FALSE: short y; };
        const long K = 3;
        union X switch (unsigned long) { case 0x80000000: long a; case K: long b; };
        union Y switch (octet) { case 255: long a; };
    "#,
    );
    let e = m.lookup("E").unwrap();
    let u = m.lookup("U").unwrap();
    let ItemKind::Union(u) = &m.item(u).kind else {
        panic!("U is not a union")
    };
    assert_eq!(u.cases.len(), 2);
    assert_eq!(
        u.cases[0].labels,
        vec![
            CaseLabel::Value(ConstValue::Enum { ty: e, index: 0 }),
            CaseLabel::Value(ConstValue::Enum { ty: e, index: 1 })
        ]
    );
    assert_eq!(u.cases[1].labels, vec![CaseLabel::Default]);
    assert_eq!(u.cases[1].ty, TypeRef::String(None));
    let x = m.lookup("X").unwrap();
    let ItemKind::Union(x) = &m.item(x).kind else {
        panic!("X is not a union")
    };
    assert_eq!(
        x.cases[1].labels,
        vec![CaseLabel::Value(ConstValue::Integer(3))]
    );
}

#[test]
fn union_label_errors() {
    assert!(
        error("union U switch (short) { case 40000: long a; };").contains("out of range for short")
    );
    assert!(error("union U switch (boolean) { case 1: long a; };")
        .contains("cannot use an integer as a boolean"));
    assert!(
        error("union U switch (char) { case 'a': long a; case 'a': long b; };")
            .contains("duplicate union label 'a'")
    );
    assert!(
        error("enum E { A }; union U switch (E) { case A: long x; case A: long y; };")
            .contains("duplicate union label A")
    );
    assert!(
        error("struct S { long a; }; union U switch (S) { case 1: long a; };")
            .contains("discriminator")
    );
    assert!(
        error("union U switch (long) { case 1: long a; case 2: long a; };")
            .contains("redefinition of 'a'")
    );
}

// ---- scopes and inheritance ----

#[test]
fn lookup_through_inheritance() {
    let m = model(
        r#"
        module M {
            interface Base {
                typedef long Id;
                exception Failed { string why; };
                const long Max = 10;
            };
            interface Left : Base {};
            interface Right : Base {};
            // Diamond: Id reaches Diamond twice, but it is the same definition.
            interface Diamond : Left, Right {
                Id next(in Id after) raises (Failed);
                attribute string<Max> label;
            };
        };
        interface Outer : M::Diamond { M::Base::Id again(); };
    "#,
    );
    let base_id = m.lookup("M::Base::Id").unwrap();
    let failed = m.lookup("M::Base::Failed").unwrap();
    let next = m.lookup("M::Diamond::next").unwrap();
    let ItemKind::Operation(op) = &m.item(next).kind else {
        panic!("next is not an operation")
    };
    assert_eq!(op.result, Some(TypeRef::Named(base_id)));
    assert_eq!(op.params[0].ty, TypeRef::Named(base_id));
    assert_eq!(op.params[0].dir, ParamDir::In);
    assert_eq!(op.raises, vec![failed]);
    let label = m.lookup("M::Diamond::label").unwrap();
    assert!(
        matches!(&m.item(label).kind, ItemKind::Attribute(a) if a.ty == TypeRef::String(Some(10)))
    );
    let outer = m.lookup("Outer").unwrap();
    let diamond = m.lookup("M::Diamond").unwrap();
    assert!(
        matches!(&m.item(outer).kind, ItemKind::Interface(i) if i.bases == vec![diamond] && i.defined)
    );
}

#[test]
fn forward_declarations_and_reopened_modules() {
    let m = model(
        r#"
        module M { interface I; typedef sequence<I> ISeq; struct Node; typedef sequence<Node> Nodes; };
        module M { interface I { ISeq peers(); }; struct Node { Nodes children; long value; }; };
        module M { const long X = 1; };
    "#,
    );
    // One module item for three openings, with every content.
    let modules = m
        .items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Module(_)))
        .count();
    assert_eq!(modules, 1);
    let mid = m.lookup("M").unwrap();
    let ItemKind::Module(md) = &m.item(mid).kind else {
        panic!("M is not a module")
    };
    assert_eq!(md.contents.len(), 5);
    // The forward declaration and the definition are one item.
    let i = m.lookup("M::I").unwrap();
    assert!(
        matches!(&m.item(i).kind, ItemKind::Interface(x) if x.defined && x.contents.len() == 1)
    );
    let iseq = m.lookup("M::ISeq").unwrap();
    assert!(
        matches!(&m.item(iseq).kind, ItemKind::Typedef(t) if t.ty == TypeRef::Sequence(Box::new(TypeRef::Named(i)), None))
    );
    assert_eq!(m.roots, vec![mid]);
}

#[test]
fn types_are_resolved() {
    let m = model(
        r#"
        typedef long Matrix[3][4];
        typedef sequence<sequence<octet, 8>> Blob;
        struct S { unsigned long long a; long double b; wstring<5> c; fixed<10,2> d; any e; Object f; CORBA::TypeCode g; };
        typedef ValueBase VB;
    "#,
    );
    let mat = m.lookup("Matrix").unwrap();
    assert!(
        matches!(&m.item(mat).kind, ItemKind::Typedef(t) if t.ty == TypeRef::Array(Box::new(TypeRef::Primitive(Primitive::Long)), vec![3, 4]))
    );
    let blob = m.lookup("Blob").unwrap();
    let inner = TypeRef::Sequence(Box::new(TypeRef::Primitive(Primitive::Octet)), Some(8));
    assert!(
        matches!(&m.item(blob).kind, ItemKind::Typedef(t) if t.ty == TypeRef::Sequence(Box::new(inner.clone()), None))
    );
    let s = m.lookup("S").unwrap();
    let ItemKind::Struct(st) = &m.item(s).kind else {
        panic!("S is not a struct")
    };
    let tys: Vec<&TypeRef> = st.members.iter().map(|x| &x.ty).collect();
    assert_eq!(
        tys,
        vec![
            &TypeRef::Primitive(Primitive::ULongLong),
            &TypeRef::Primitive(Primitive::LongDouble),
            &TypeRef::WString(Some(5)),
            &TypeRef::Fixed {
                digits: 10,
                scale: 2
            },
            &TypeRef::Primitive(Primitive::Any),
            &TypeRef::Primitive(Primitive::Object),
            &TypeRef::Primitive(Primitive::TypeCode),
        ]
    );
}

#[test]
fn valuetypes() {
    let m = model(
        r#"
        interface Account { void deposit(in long amount); };
        abstract valuetype Printable { void print(); };
        valuetype Base { public long id; };
        valuetype Saving : truncatable Base, Printable supports Account {
            private double rate;
            factory create(in long id, in double rate);
        };
        valuetype Name string;
        valuetype Later;
        valuetype Later { public Later next; };
    "#,
    );
    let saving = m.lookup("Saving").unwrap();
    let ItemKind::ValueType(v) = &m.item(saving).kind else {
        panic!("Saving is not a valuetype")
    };
    assert!(v.truncatable && v.defined);
    assert_eq!(
        v.bases,
        vec![m.lookup("Base").unwrap(), m.lookup("Printable").unwrap()]
    );
    assert_eq!(v.supports, vec![m.lookup("Account").unwrap()]);
    assert_eq!(v.contents.len(), 2);
    let name = m.lookup("Name").unwrap();
    assert!(matches!(&m.item(name).kind, ItemKind::ValueBox(b) if b.ty == TypeRef::String(None)));
    assert!(
        error("valuetype V : long {};").contains("cannot find 'long'")
            || error("valuetype V : long {};").contains("expected")
    );
    assert!(
        error("interface I {}; valuetype V : I {};").contains("can only inherit from valuetypes")
    );
}

#[test]
fn introduced_names_follow_the_spec_examples() {
    // CORBA 3.0 §3.15.3: using Inner1 in Inner2 introduces it there...
    assert!(error("module M { module Inner1 { typedef string S1; }; module Inner2 { typedef Inner1::S1 S2; typedef string inner1; }; };").contains("clashes with the earlier use"));
    // ...but without the use, a similarly named typedef is fine.
    model("module M { module Inner1 { typedef string S1; }; module Inner2 { typedef string inner1; }; };");
    // Derived interfaces may redefine inherited types.
    model("interface A { typedef long T; }; interface B : A { typedef string T; };");
    // Parameters live in their own scope and may reuse the operation's name.
    model("interface I { void a(in short a); };");
}

/// What the front end accepts with a warning: the warnings' positions and texts.
fn warnings(src: &str) -> Vec<String> {
    model(src).warnings.iter().map(|w| w.short()).collect()
}

#[test]
fn lenient_constructs_are_accepted_with_a_warning() {
    // CosLifeCycle (OMG, shipped by omniORB) predates the `factory` keyword.
    let w = warnings(
        "module CosLifeCycle { typedef Object Factory; typedef sequence<Factory> Factories; };",
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "test.idl:1:38: identifier 'Factory' differs only in case from the keyword 'factory'"
        ),
        "{w:?}"
    );
    // Escaped, it is silent.
    assert!(warnings("typedef Object _Factory;").is_empty());
    // An exception named twice in `raises` is one exception.
    let m = model("exception E {}; interface I { void op() raises (E, E); };");
    assert_eq!(m.warnings.len(), 1);
    assert!(m.warnings[0]
        .short()
        .contains("exception 'E' is listed twice"));
    assert!(m.warnings[0].render().starts_with("warning: "));
    let op = m.lookup("I::op").unwrap();
    let ItemKind::Operation(o) = &m.item(op).kind else {
        panic!("not an operation")
    };
    assert_eq!(o.raises, vec![m.lookup("E").unwrap()]);
    // Clean IDL has none.
    assert!(warnings("interface I { void op(); };").is_empty());
}

#[test]
fn bases_may_be_named_through_typedefs() {
    let m = model(
        "interface J {}; typedef J JA; typedef JA JB; interface K : JB {};
         valuetype V { public long x; }; typedef V VA; valuetype W : VA {};",
    );
    let ItemKind::Interface(k) = &m.item(m.lookup("K").unwrap()).kind else {
        panic!("not an interface")
    };
    assert_eq!(k.bases, vec![m.lookup("J").unwrap()]);
    let ItemKind::ValueType(w) = &m.item(m.lookup("W").unwrap()).kind else {
        panic!("not a valuetype")
    };
    assert_eq!(w.bases, vec![m.lookup("V").unwrap()]);
    // An alias of anything else is still refused, naming what it is.
    assert!(
        error("typedef long L; interface K : L {};").contains("can only inherit from interfaces")
    );
}

#[test]
fn local_types_stay_out_of_remote_signatures_only() {
    let local = "local interface L {};";
    // A local interface may use local types freely, and a remote one may name them inside.
    model(&format!(
        "{local} local interface M {{ L get(in L x); attribute L a; }};"
    ));
    model(&format!("{local} interface R {{ typedef L Alias; }};"));
    for remote in [
        "interface R { void f(in L x); };",
        "interface R { L f(); };",
        "interface R { attribute L a; };",
        "typedef sequence<L> Ls; interface R { void f(in Ls x); };",
        "union U switch (long) { case 1: L x; }; interface R { void f(out U y); };",
    ] {
        let e = error(&format!("{local} {remote}"));
        assert!(e.contains("has the local type 'L'"), "{remote}: {e}");
    }
}
