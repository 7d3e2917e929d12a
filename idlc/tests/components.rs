//! IDL3 components, homes and eventtypes: the model holds their equivalent IDL (CCM "Equivalent
//! IDL" rules) with the right names, parameter and result types and exceptions, the built-in
//! `Components` module is added only when needed, and the CCM words stay identifiers elsewhere.

use std::path::Path;

use idlc::model::{ItemId, ItemKind, Model, ParamDir, Primitive, TypeRef, ValueKind};

fn components_idl() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idl/components.idl")
}

fn shop() -> Model {
    match idlc::Frontend::new().parse_file(components_idl()) {
        Ok(m) => m,
        Err(d) => panic!("components.idl rejected:\n{}", d.render()),
    }
}

fn model(src: &str) -> Model {
    match idlc::Frontend::new().parse_str("test.idl", src) {
        Ok(m) => m,
        Err(d) => panic!("unexpected errors:\n{}", d.render()),
    }
}

fn id(m: &Model, name: &str) -> ItemId {
    m.lookup(name).unwrap_or_else(|| panic!("no item {name}"))
}

fn named(m: &Model, name: &str) -> TypeRef {
    TypeRef::Named(id(m, name))
}

fn names(m: &Model, ids: &[ItemId]) -> Vec<String> {
    ids.iter().map(|&i| m.item(i).scoped()).collect()
}

fn bases(m: &Model, name: &str) -> Vec<String> {
    match &m.item(id(m, name)).kind {
        ItemKind::Interface(i) => names(m, &i.bases),
        ItemKind::ValueType(v) => names(m, &v.bases),
        other => panic!("{name} is a {}", other.describe()),
    }
}

/// An operation: its result, its parameters (name, direction, type) and what it raises.
struct Op {
    result: Option<TypeRef>,
    params: Vec<(String, ParamDir, TypeRef)>,
    raises: Vec<String>,
}

fn op(m: &Model, name: &str) -> Op {
    match &m.item(id(m, name)).kind {
        ItemKind::Operation(o) => Op {
            result: o.result.clone(),
            params: o
                .params
                .iter()
                .map(|p| (p.name.clone(), p.dir, p.ty.clone()))
                .collect(),
            raises: names(m, &o.raises),
        },
        other => panic!("{name} is a {}", other.describe()),
    }
}

fn raises(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| format!("Components::{s}")).collect()
}

#[test]
fn a_component_is_an_interface_on_its_base_component_and_supported_interfaces() {
    let m = shop();
    assert_eq!(bases(&m, "Shop::Base"), ["Components::CCMObject"]);
    assert_eq!(bases(&m, "Shop::Till"), ["Shop::Base", "Shop::Clock"]);
    assert_eq!(
        m.item(id(&m, "Shop::Till")).repository_id,
        "IDL:Shop/Till:1.0"
    );
    match &m.item(id(&m, "Shop::Till::sales")).kind {
        ItemKind::Attribute(a) => {
            assert!(a.readonly);
            assert_eq!(a.ty, TypeRef::Primitive(Primitive::Long));
        }
        other => panic!("sales is a {}", other.describe()),
    }
    assert!(matches!(
        m.item(id(&m, "Shop::Base::label")).kind,
        ItemKind::Attribute(_)
    ));
}

#[test]
fn provides_and_simplex_uses_become_their_operations() {
    let m = shop();
    let p = op(&m, "Shop::Till::provide_clock");
    assert_eq!(p.result, Some(named(&m, "Shop::Clock")));
    assert!(p.params.is_empty() && p.raises.is_empty());
    let any = op(&m, "Shop::Till::provide_anything");
    assert_eq!(any.result, Some(TypeRef::Primitive(Primitive::Object)));

    let logger = named(&m, "Shop::Logger");
    let c = op(&m, "Shop::Till::connect_logger");
    assert_eq!(c.result, None);
    assert_eq!(c.params, [("conxn".into(), ParamDir::In, logger.clone())]);
    assert_eq!(c.raises, raises(&["AlreadyConnected", "InvalidConnection"]));
    let d = op(&m, "Shop::Till::disconnect_logger");
    assert_eq!(d.result, Some(logger.clone()));
    assert_eq!(d.raises, raises(&["NoConnection"]));
    let g = op(&m, "Shop::Till::get_connection_logger");
    assert_eq!(g.result, Some(logger));
    assert!(g.params.is_empty());
}

#[test]
fn uses_multiple_has_cookies_and_a_sequence_of_connections() {
    let m = shop();
    let cookie = named(&m, "Components::Cookie");
    let logger = named(&m, "Shop::Logger");
    match &m.item(id(&m, "Shop::Till::mirrorsConnection")).kind {
        ItemKind::Struct(s) => {
            let members: Vec<(&str, &TypeRef)> =
                s.members.iter().map(|x| (x.name.as_str(), &x.ty)).collect();
            assert_eq!(members, [("objref", &logger), ("ck", &cookie)]);
        }
        other => panic!("mirrorsConnection is a {}", other.describe()),
    }
    match &m.item(id(&m, "Shop::Till::mirrorsConnections")).kind {
        ItemKind::Typedef(t) => assert_eq!(
            t.ty,
            TypeRef::Sequence(Box::new(named(&m, "Shop::Till::mirrorsConnection")), None)
        ),
        other => panic!("mirrorsConnections is a {}", other.describe()),
    }
    let c = op(&m, "Shop::Till::connect_mirrors");
    assert_eq!(c.result, Some(cookie.clone()));
    assert_eq!(
        c.params,
        [("connection".into(), ParamDir::In, logger.clone())]
    );
    assert_eq!(
        c.raises,
        raises(&["ExceededConnectionLimit", "InvalidConnection"])
    );
    let d = op(&m, "Shop::Till::disconnect_mirrors");
    assert_eq!(d.result, Some(logger));
    assert_eq!(d.params, [("ck".into(), ParamDir::In, cookie)]);
    assert_eq!(d.raises, raises(&["InvalidConnection"]));
    let g = op(&m, "Shop::Till::get_connections_mirrors");
    assert_eq!(g.result, Some(named(&m, "Shop::Till::mirrorsConnections")));
}

#[test]
fn event_ports_use_the_eventtypes_consumer_interfaces() {
    let m = shop();
    let tick_consumer = named(&m, "Shop::TickConsumer");
    let alarm_consumer = named(&m, "Shop::AlarmConsumer");
    let cookie = named(&m, "Components::Cookie");

    let c = op(&m, "Shop::Till::connect_ticks");
    assert_eq!(c.result, None);
    assert_eq!(
        c.params,
        [("consumer".into(), ParamDir::In, tick_consumer.clone())]
    );
    assert_eq!(c.raises, raises(&["AlreadyConnected"]));
    let d = op(&m, "Shop::Till::disconnect_ticks");
    assert_eq!(d.result, Some(tick_consumer.clone()));
    assert_eq!(d.raises, raises(&["NoConnection"]));

    let s = op(&m, "Shop::Till::subscribe_alarms");
    assert_eq!(s.result, Some(cookie.clone()));
    assert_eq!(
        s.params,
        [("consumer".into(), ParamDir::In, alarm_consumer.clone())]
    );
    assert_eq!(s.raises, raises(&["ExceededConnectionLimit"]));
    let u = op(&m, "Shop::Till::unsubscribe_alarms");
    assert_eq!(u.result, Some(alarm_consumer));
    assert_eq!(u.params, [("ck".into(), ParamDir::In, cookie)]);
    assert_eq!(u.raises, raises(&["InvalidConnection"]));

    let g = op(&m, "Shop::Till::get_consumer_tick_in");
    assert_eq!(g.result, Some(tick_consumer));
    assert!(g.params.is_empty());
}

#[test]
fn an_eventtype_is_a_valuetype_on_event_base_with_a_consumer_interface() {
    let m = shop();
    assert_eq!(bases(&m, "Shop::Tick"), ["Components::EventBase"]);
    assert_eq!(bases(&m, "Shop::Alarm"), ["Shop::Tick"]);
    match &m.item(id(&m, "Shop::Notice")).kind {
        ItemKind::ValueType(v) => assert_eq!(v.kind, ValueKind::Abstract),
        other => panic!("Notice is a {}", other.describe()),
    }
    assert_eq!(
        bases(&m, "Shop::TickConsumer"),
        ["Components::EventConsumerBase"]
    );
    assert_eq!(bases(&m, "Shop::AlarmConsumer"), ["Shop::TickConsumer"]);
    let push = op(&m, "Shop::AlarmConsumer::push_Alarm");
    assert_eq!(push.result, None);
    assert_eq!(
        push.params,
        [("the_Alarm".into(), ParamDir::In, named(&m, "Shop::Alarm"))]
    );
    assert!(m.lookup("Shop::NoticeConsumer::push_Notice").is_some());
}

#[test]
fn a_keyless_home_has_explicit_implicit_and_combined_interfaces() {
    let m = shop();
    let till = named(&m, "Shop::Till");
    assert_eq!(bases(&m, "Shop::TillHomeExplicit"), ["Components::CCMHome"]);
    assert_eq!(
        bases(&m, "Shop::TillHomeImplicit"),
        ["Components::KeylessCCMHome"]
    );
    assert_eq!(
        bases(&m, "Shop::TillHome"),
        ["Shop::TillHomeExplicit", "Shop::TillHomeImplicit"]
    );
    let f = op(&m, "Shop::TillHomeExplicit::open_at");
    assert_eq!(f.result, Some(till.clone()));
    assert_eq!(
        f.params,
        [("where".into(), ParamDir::In, TypeRef::String(None))]
    );
    assert_eq!(f.raises, raises(&["CreateFailure", "InvalidConfiguration"]));
    let find = op(&m, "Shop::TillHomeExplicit::find_at");
    assert_eq!(find.result, Some(till.clone()));
    assert_eq!(find.raises, raises(&["FinderFailure"]));
    assert!(m.lookup("Shop::TillHomeExplicit::opened").is_some());
    assert!(m.lookup("Shop::TillHomeExplicit::count").is_some());
    let create = op(&m, "Shop::TillHomeImplicit::create");
    assert_eq!(create.result, Some(till));
    assert!(create.params.is_empty());
    assert_eq!(create.raises, raises(&["CreateFailure"]));
}

#[test]
fn a_keyed_home_creates_finds_and_removes_by_primary_key() {
    let m = shop();
    let till = named(&m, "Shop::Till");
    let key = named(&m, "Shop::TillKey");
    let by_key = vec![("key".to_owned(), ParamDir::In, key.clone())];
    assert!(bases(&m, "Shop::KeyedTillHomeImplicit").is_empty());
    let c = op(&m, "Shop::KeyedTillHomeImplicit::create");
    assert_eq!(c.result, Some(till.clone()));
    assert_eq!(c.params, by_key);
    assert_eq!(
        c.raises,
        raises(&["CreateFailure", "DuplicateKeyValue", "InvalidKey"])
    );
    let f = op(&m, "Shop::KeyedTillHomeImplicit::find_by_primary_key");
    assert_eq!(f.result, Some(till.clone()));
    assert_eq!(f.params, by_key);
    assert_eq!(
        f.raises,
        raises(&["FinderFailure", "UnknownKeyValue", "InvalidKey"])
    );
    let r = op(&m, "Shop::KeyedTillHomeImplicit::remove");
    assert_eq!(r.result, None);
    assert_eq!(r.params, by_key);
    assert_eq!(
        r.raises,
        raises(&["RemoveFailure", "UnknownKeyValue", "InvalidKey"])
    );
    let g = op(&m, "Shop::KeyedTillHomeImplicit::get_primary_key");
    assert_eq!(g.result, Some(key));
    assert_eq!(g.params, [("comp".into(), ParamDir::In, till)]);
}

#[test]
fn the_built_in_components_module_has_omg_repository_ids_and_is_no_file_to_rerun_on() {
    let m = shop();
    for (name, rid) in [
        (
            "Components::CCMObject",
            "IDL:omg.org/Components/CCMObject:1.0",
        ),
        ("Components::Cookie", "IDL:omg.org/Components/Cookie:1.0"),
        (
            "Components::EventBase",
            "IDL:omg.org/Components/EventBase:1.0",
        ),
        (
            "Components::InvalidConnection",
            "IDL:omg.org/Components/InvalidConnection:1.0",
        ),
    ] {
        assert_eq!(m.item(id(&m, name)).repository_id, rid);
    }
    // The prefix ends with the built-in file.
    assert_eq!(
        m.item(id(&m, "Shop::Tick")).repository_id,
        "IDL:Shop/Tick:1.0"
    );
    let out = idlc::Frontend::new().compile_file(components_idl());
    assert_eq!(out.files, [components_idl()]);
}

#[test]
fn the_components_module_is_added_only_when_needed() {
    let plain = model("interface I {};");
    assert!(plain.lookup("Components").is_none());
    // An application's own Components module (from its CCM implementation) is used instead.
    let own = model(
        "module Components { interface CCMObject { void mine(); }; abstract valuetype EventBase {}; \
         interface EventConsumerBase {}; };\n\
         eventtype E {}; component C { consumes E e; };",
    );
    assert!(own.lookup("Components::CCMObject::mine").is_some());
    assert!(own.lookup("Components::Navigation").is_none());
    assert_eq!(bases(&own, "C"), ["Components::CCMObject"]);
}

#[test]
fn ccm_words_stay_identifiers_where_no_declaration_starts() {
    let m = model(
        "typedef long component; typedef long home;\n\
         struct S { component eventtype; home manages; };\n\
         interface I { home finder(in component provides); attribute long emits; };",
    );
    assert!(m.lookup("S").is_some() && m.lookup("I::finder").is_some());
    assert!(m.lookup("Components").is_none());
}

#[test]
fn forward_declared_components_and_eventtypes_are_forward_interfaces_and_values() {
    let m = model(
        "component C; eventtype E; abstract eventtype A;\n\
         interface User { C get(); void take(in E ev, in EConsumer c); };\n\
         eventtype E {}; component C {};",
    );
    assert!(matches!(&m.item(id(&m, "C")).kind, ItemKind::Interface(i) if i.defined));
    assert!(matches!(&m.item(id(&m, "EConsumer")).kind, ItemKind::Interface(i) if i.defined));
    assert!(
        matches!(&m.item(id(&m, "A")).kind, ItemKind::ValueType(v) if v.kind == ValueKind::Abstract)
    );
    assert!(m.lookup("AConsumer").is_some());
}

#[test]
fn a_custom_eventtype_and_a_supporting_component_resolve() {
    let m = model(
        "interface Admin { void reset(); };\n\
         custom eventtype Raw { public long n; };\n\
         component Box supports Admin { publishes Raw raw; };",
    );
    match &m.item(id(&m, "Raw")).kind {
        ItemKind::ValueType(v) => assert_eq!(v.kind, ValueKind::Custom),
        other => panic!("Raw is a {}", other.describe()),
    }
    assert_eq!(bases(&m, "Box"), ["Components::CCMObject", "Admin"]);
}

#[test]
fn include_components_idl_reads_the_built_in_one_when_no_directory_has_it() {
    let src = "#include <Components.idl>\n#include \"Components.idl\"\n\
               interface Facet {};\n\
               component C { provides Facet f; };";
    let m = model(src);
    assert_eq!(bases(&m, "C"), ["Components::CCMObject"]);
    assert_eq!(
        m.item(id(&m, "Components::KeylessCCMHome")).repository_id,
        "IDL:omg.org/Components/KeylessCCMHome:1.0"
    );
    // Without a component, the include alone provides the module (and nothing is added twice).
    let m = model("#include <Components.idl>\ninterface Mine : Components::CCMObject {};");
    assert_eq!(bases(&m, "Mine"), ["Components::CCMObject"]);
}
