//! The facts interoperability with TAO's real-time event service rests on, checked on the Rust
//! idlc generates from `idl/Rtec*.idl`: every repository id (TAO's, no prefix but TimeBase's
//! and CORBA's `omg.org`), the members of every struct and enum in TAO's order, each
//! interface's operations and bases, and the CDR octets of an event worked out by hand from
//! the encoding rules, so that a member out of place fails here rather than on the wire.
//! omniidl, an independent compiler, must accept the same IDL and give it the same ids.

use event_service::rtec::{
    self, corba, rtec_base as base, rtec_event_channel_admin as admin, rtec_event_comm as comm,
    rtec_scheduler as sched, time_base,
};
use orb::cdr::{decode_from_slice, encode_to_vec, ByteOrder, CdrDecode, Decoder, Encoder};
use orb::codegen::DispatchStatus;
use orb::exception::SystemException;
use orb::typecode::{Any, TCKind, TypeCode};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Every named type of the service with the repository id TAO gives it, and the TypeCode
/// our generated code carries for it. TAO's files declare no `#pragma prefix` (they reset it
/// to ""), so the ids are bare scoped names; `_EventType` is an escaped identifier whose id
/// has no underscore; TimeBase and CORBA::OctetSeq come from OMG files with prefix omg.org.
fn every_type() -> Vec<(&'static str, TypeCode)> {
    vec![
        (
            "IDL:omg.org/TimeBase/TimeT:1.0",
            time_base::time_t_type_code(),
        ),
        (
            "IDL:omg.org/TimeBase/InaccuracyT:1.0",
            time_base::inaccuracy_t_type_code(),
        ),
        (
            "IDL:omg.org/TimeBase/TdfT:1.0",
            time_base::tdf_t_type_code(),
        ),
        (
            "IDL:omg.org/TimeBase/UtcT:1.0",
            time_base::UtcT::type_code(),
        ),
        (
            "IDL:omg.org/TimeBase/IntervalT:1.0",
            time_base::IntervalT::type_code(),
        ),
        (
            "IDL:omg.org/CORBA/OctetSeq:1.0",
            corba::octet_seq_type_code(),
        ),
        ("IDL:EventPayload:1.0", rtec::event_payload_type_code()),
        ("IDL:RtecEventData:1.0", rtec::RtecEventData::type_code()),
        // RtecBase
        (
            "IDL:RtecBase/Dependency_Type_t:1.0",
            base::DependencyTypeT::type_code(),
        ),
        ("IDL:RtecBase/handle_t:1.0", base::handle_t_type_code()),
        (
            "IDL:RtecBase/Dependency_Enabled_Type_t:1.0",
            base::DependencyEnabledTypeT::type_code(),
        ),
        (
            "IDL:RtecBase/Dependency_Info:1.0",
            base::DependencyInfo::type_code(),
        ),
        (
            "IDL:RtecBase/OS_Priority:1.0",
            base::os_priority_type_code(),
        ),
        (
            "IDL:RtecBase/Preemption_Priority_t:1.0",
            base::preemption_priority_t_type_code(),
        ),
        (
            "IDL:RtecBase/Preemption_Subpriority_t:1.0",
            base::preemption_subpriority_t_type_code(),
        ),
        // RtecEventComm
        (
            "IDL:RtecEventComm/EventData:1.0",
            comm::event_data_type_code(),
        ),
        ("IDL:RtecEventComm/Time:1.0", comm::time_type_code()),
        (
            "IDL:RtecEventComm/EventSourceID:1.0",
            comm::event_source_id_type_code(),
        ),
        (
            "IDL:RtecEventComm/EventType:1.0",
            comm::event_type_type_code(),
        ),
        (
            "IDL:RtecEventComm/EventHeader:1.0",
            comm::EventHeader::type_code(),
        ),
        ("IDL:RtecEventComm/Event:1.0", comm::Event::type_code()),
        (
            "IDL:RtecEventComm/EventSet:1.0",
            comm::event_set_type_code(),
        ),
        (
            "IDL:RtecEventComm/PushConsumer:1.0",
            comm::push_consumer::type_code(),
        ),
        (
            "IDL:RtecEventComm/PushSupplier:1.0",
            comm::push_supplier::type_code(),
        ),
        // RtecEventChannelAdmin
        (
            "IDL:RtecEventChannelAdmin/AlreadyConnected:1.0",
            admin::AlreadyConnected::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/Dependency:1.0",
            admin::Dependency::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/DependencySet:1.0",
            admin::dependency_set_type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/ConsumerQOS:1.0",
            admin::ConsumerQos::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/Publication:1.0",
            admin::Publication::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/PublicationSet:1.0",
            admin::publication_set_type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/SupplierQOS:1.0",
            admin::SupplierQos::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/TypeError:1.0",
            admin::TypeError::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/ProxyPushSupplier:1.0",
            admin::proxy_push_supplier::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/ProxyPushConsumer:1.0",
            admin::proxy_push_consumer::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/ConsumerAdmin:1.0",
            admin::consumer_admin::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/SupplierAdmin:1.0",
            admin::supplier_admin::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/Observer:1.0",
            admin::observer::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/Observer_Handle:1.0",
            admin::observer_handle_type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel:1.0",
            admin::event_channel::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/SYNCHRONIZATION_ERROR:1.0",
            admin::event_channel::SynchronizationError::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/CANT_APPEND_OBSERVER:1.0",
            admin::event_channel::CantAppendObserver::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/CANT_REMOVE_OBSERVER:1.0",
            admin::event_channel::CantRemoveObserver::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/QOS_ERROR:1.0",
            admin::event_channel::QosError::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/SUBSCRIPTION_ERROR:1.0",
            admin::event_channel::SubscriptionError::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/CORRELATION_ERROR:1.0",
            admin::event_channel::CorrelationError::type_code(),
        ),
        (
            "IDL:RtecEventChannelAdmin/EventChannel/DISPATCH_ERROR:1.0",
            admin::event_channel::DispatchError::type_code(),
        ),
        // RtecScheduler
        ("IDL:RtecScheduler/Time:1.0", sched::time_type_code()),
        (
            "IDL:RtecScheduler/Quantum_t:1.0",
            sched::quantum_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/Period_t:1.0",
            sched::period_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/Threads_t:1.0",
            sched::threads_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/Period_Set:1.0",
            sched::period_set_type_code(),
        ),
        (
            "IDL:RtecScheduler/Criticality_t:1.0",
            sched::CriticalityT::type_code(),
        ),
        (
            "IDL:RtecScheduler/Importance_t:1.0",
            sched::ImportanceT::type_code(),
        ),
        (
            "IDL:RtecScheduler/Info_Type_t:1.0",
            sched::InfoTypeT::type_code(),
        ),
        (
            "IDL:RtecScheduler/Dependency_Enabled_Type_t:1.0",
            sched::dependency_enabled_type_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/Dependency_Type_t:1.0",
            sched::dependency_type_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/RT_Info_Enabled_Type_t:1.0",
            sched::RtInfoEnabledTypeT::type_code(),
        ),
        (
            "IDL:RtecScheduler/handle_t:1.0",
            sched::handle_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/RT_Info_Enable_State_Pair:1.0",
            sched::RtInfoEnableStatePair::type_code(),
        ),
        (
            "IDL:RtecScheduler/RT_Info_Enable_State_Pair_Set:1.0",
            sched::rt_info_enable_state_pair_set_type_code(),
        ),
        (
            "IDL:RtecScheduler/Dependency_Info:1.0",
            sched::dependency_info_type_code(),
        ),
        (
            "IDL:RtecScheduler/Dependency_Set:1.0",
            sched::dependency_set_type_code(),
        ),
        (
            "IDL:RtecScheduler/OS_Priority:1.0",
            sched::os_priority_type_code(),
        ),
        (
            "IDL:RtecScheduler/Preemption_Subpriority_t:1.0",
            sched::preemption_subpriority_t_type_code(),
        ),
        (
            "IDL:RtecScheduler/Preemption_Priority_t:1.0",
            sched::preemption_priority_t_type_code(),
        ),
        ("IDL:RtecScheduler/RT_Info:1.0", sched::RtInfo::type_code()),
        (
            "IDL:RtecScheduler/Dispatching_Type_t:1.0",
            sched::DispatchingTypeT::type_code(),
        ),
        (
            "IDL:RtecScheduler/Config_Info:1.0",
            sched::ConfigInfo::type_code(),
        ),
        (
            "IDL:RtecScheduler/Config_Info_Set:1.0",
            sched::config_info_set_type_code(),
        ),
        (
            "IDL:RtecScheduler/Anomaly_Severity:1.0",
            sched::AnomalySeverity::type_code(),
        ),
        (
            "IDL:RtecScheduler/Scheduling_Anomaly:1.0",
            sched::SchedulingAnomaly::type_code(),
        ),
        (
            "IDL:RtecScheduler/Scheduling_Anomaly_Set:1.0",
            sched::scheduling_anomaly_set_type_code(),
        ),
        (
            "IDL:RtecScheduler/CYCLIC_DEPENDENCIES:1.0",
            sched::CyclicDependencies::type_code(),
        ),
        (
            "IDL:RtecScheduler/UNRESOLVED_LOCAL_DEPENDENCIES:1.0",
            sched::UnresolvedLocalDependencies::type_code(),
        ),
        (
            "IDL:RtecScheduler/THREAD_SPECIFICATION:1.0",
            sched::ThreadSpecification::type_code(),
        ),
        (
            "IDL:RtecScheduler/DUPLICATE_NAME:1.0",
            sched::DuplicateName::type_code(),
        ),
        (
            "IDL:RtecScheduler/UNKNOWN_TASK:1.0",
            sched::UnknownTask::type_code(),
        ),
        (
            "IDL:RtecScheduler/NOT_SCHEDULED:1.0",
            sched::NotScheduled::type_code(),
        ),
        (
            "IDL:RtecScheduler/UTILIZATION_BOUND_EXCEEDED:1.0",
            sched::UtilizationBoundExceeded::type_code(),
        ),
        (
            "IDL:RtecScheduler/INSUFFICIENT_THREAD_PRIORITY_LEVELS:1.0",
            sched::InsufficientThreadPriorityLevels::type_code(),
        ),
        (
            "IDL:RtecScheduler/TASK_COUNT_MISMATCH:1.0",
            sched::TaskCountMismatch::type_code(),
        ),
        (
            "IDL:RtecScheduler/UNKNOWN_PRIORITY_LEVEL:1.0",
            sched::UnknownPriorityLevel::type_code(),
        ),
        (
            "IDL:RtecScheduler/SYNCHRONIZATION_FAILURE:1.0",
            sched::SynchronizationFailure::type_code(),
        ),
        (
            "IDL:RtecScheduler/INTERNAL:1.0",
            sched::Internal::type_code(),
        ),
        (
            "IDL:RtecScheduler/RT_Info_Set:1.0",
            sched::rt_info_set_type_code(),
        ),
        (
            "IDL:RtecScheduler/Scheduler:1.0",
            sched::scheduler::type_code(),
        ),
    ]
}

#[test]
fn every_type_carries_taos_repository_id() {
    for (id, tc) in every_type() {
        assert_eq!(tc.id(), Some(id), "TypeCode {tc:?}");
    }
    // The constants requests and replies use (a user exception's id on the wire, `_is_a`, an
    // IOR's type id) agree with the TypeCodes.
    let consts = [
        (comm::Event::REPOSITORY_ID, "IDL:RtecEventComm/Event:1.0"),
        (
            comm::EventHeader::REPOSITORY_ID,
            "IDL:RtecEventComm/EventHeader:1.0",
        ),
        (rtec::RtecEventData::REPOSITORY_ID, "IDL:RtecEventData:1.0"),
        (
            comm::push_consumer::REPOSITORY_ID,
            "IDL:RtecEventComm/PushConsumer:1.0",
        ),
        (
            comm::push_supplier::REPOSITORY_ID,
            "IDL:RtecEventComm/PushSupplier:1.0",
        ),
        (
            admin::event_channel::REPOSITORY_ID,
            "IDL:RtecEventChannelAdmin/EventChannel:1.0",
        ),
        (
            admin::proxy_push_supplier::REPOSITORY_ID,
            "IDL:RtecEventChannelAdmin/ProxyPushSupplier:1.0",
        ),
        (
            admin::proxy_push_consumer::REPOSITORY_ID,
            "IDL:RtecEventChannelAdmin/ProxyPushConsumer:1.0",
        ),
        (
            admin::AlreadyConnected::REPOSITORY_ID,
            "IDL:RtecEventChannelAdmin/AlreadyConnected:1.0",
        ),
        (
            admin::ConsumerQos::REPOSITORY_ID,
            "IDL:RtecEventChannelAdmin/ConsumerQOS:1.0",
        ),
        (
            sched::scheduler::REPOSITORY_ID,
            "IDL:RtecScheduler/Scheduler:1.0",
        ),
        (
            sched::RtInfo::REPOSITORY_ID,
            "IDL:RtecScheduler/RT_Info:1.0",
        ),
    ];
    for (got, want) in consts {
        assert_eq!(got, want);
    }
}

#[test]
fn proxies_are_the_comm_interfaces_they_stand_for() {
    assert_eq!(
        admin::proxy_push_supplier::BASE_IDS,
        ["IDL:RtecEventComm/PushSupplier:1.0"]
    );
    assert_eq!(
        admin::proxy_push_consumer::BASE_IDS,
        ["IDL:RtecEventComm/PushConsumer:1.0"]
    );
    // A TAO client narrows a proxy to its base to call disconnect_push_* on it.
    assert!(admin::proxy_push_supplier::is_a(
        "IDL:RtecEventComm/PushSupplier:1.0"
    ));
    assert!(admin::proxy_push_consumer::is_a(
        "IDL:RtecEventComm/PushConsumer:1.0"
    ));
    assert!(!admin::proxy_push_consumer::is_a(
        "IDL:RtecEventComm/PushSupplier:1.0"
    ));
    for bases in [
        comm::push_consumer::BASE_IDS,
        comm::push_supplier::BASE_IDS,
        admin::consumer_admin::BASE_IDS,
        admin::supplier_admin::BASE_IDS,
        admin::observer::BASE_IDS,
        admin::event_channel::BASE_IDS,
        sched::scheduler::BASE_IDS,
    ] {
        assert!(bases.is_empty(), "{bases:?}");
    }
}

/// The IDL operations a skeleton answers to, without the CORBA::Object ones every
/// interface has (`_is_a`, `_non_existent`, ...).
fn idl_operations(all: &[&'static str]) -> BTreeSet<&'static str> {
    all.iter()
        .copied()
        .filter(|o| !o.starts_with('_'))
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[test]
fn every_interface_has_exactly_taos_operations() {
    let cases: [(&str, &[&'static str], &[&str]); 8] = [
        (
            "PushConsumer",
            &comm::push_consumer::OPERATIONS,
            &["push", "disconnect_push_consumer"],
        ),
        (
            "PushSupplier",
            &comm::push_supplier::OPERATIONS,
            &["disconnect_push_supplier"],
        ),
        (
            "ProxyPushSupplier",
            &admin::proxy_push_supplier::OPERATIONS,
            &[
                "disconnect_push_supplier",
                "connect_push_consumer",
                "suspend_connection",
                "resume_connection",
            ],
        ),
        (
            "ProxyPushConsumer",
            &admin::proxy_push_consumer::OPERATIONS,
            &["push", "disconnect_push_consumer", "connect_push_supplier"],
        ),
        (
            "ConsumerAdmin",
            &admin::consumer_admin::OPERATIONS,
            &["obtain_push_supplier"],
        ),
        (
            "SupplierAdmin",
            &admin::supplier_admin::OPERATIONS,
            &["obtain_push_consumer"],
        ),
        (
            "Observer",
            &admin::observer::OPERATIONS,
            &["update_consumer", "update_supplier"],
        ),
        (
            "EventChannel",
            &admin::event_channel::OPERATIONS,
            &[
                "for_consumers",
                "for_suppliers",
                "destroy",
                "append_observer",
                "remove_observer",
            ],
        ),
    ];
    for (name, ops, want) in cases {
        assert_eq!(idl_operations(ops), set(want), "{name}");
    }
    assert_eq!(
        idl_operations(&sched::scheduler::OPERATIONS),
        set(&[
            "create",
            "lookup",
            "get",
            "set",
            "reset",
            "set_seq",
            "reset_seq",
            "replace_seq",
            "add_dependency",
            "remove_dependency",
            "set_dependency_enable_state",
            "set_dependency_enable_state_seq",
            "set_rt_info_enable_state",
            "set_rt_info_enable_state_seq",
            "priority",
            "entry_point_priority",
            "compute_scheduling",
            "recompute_scheduling",
            "get_rt_info_set",
            "get_dependency_set",
            "get_config_info_set",
            "dispatch_configuration",
            "last_scheduled_priority",
            "get_config_infos",
        ]),
        "Scheduler"
    );
}

fn member_names(tc: &TypeCode) -> Vec<&str> {
    let tc = tc.unalias();
    let n = tc
        .member_count()
        .unwrap_or_else(|| panic!("no members: {tc:?}"));
    (0..n).map(|i| tc.member_name(i).unwrap()).collect()
}

#[test]
fn members_and_enumerators_are_in_taos_order() {
    // The order is the wire layout (structs) and the values (enums, 0 upwards).
    let cases: Vec<(TypeCode, &[&str])> = vec![
        (
            time_base::UtcT::type_code(),
            &["time", "inacclo", "inacchi", "tdf"],
        ),
        (
            time_base::IntervalT::type_code(),
            &["lower_bound", "upper_bound"],
        ),
        (
            rtec::RtecEventData::type_code(),
            &["pad1", "payload", "any_value"],
        ),
        (
            comm::EventHeader::type_code(),
            &[
                "type",
                "source",
                "ttl",
                "creation_time",
                "ec_recv_time",
                "ec_send_time",
            ],
        ),
        (comm::Event::type_code(), &["header", "data"]),
        (
            base::DependencyTypeT::type_code(),
            &["ONE_WAY_CALL", "TWO_WAY_CALL"],
        ),
        (
            base::DependencyEnabledTypeT::type_code(),
            &[
                "DEPENDENCY_DISABLED",
                "DEPENDENCY_ENABLED",
                "DEPENDENCY_NON_VOLATILE",
            ],
        ),
        (
            base::DependencyInfo::type_code(),
            &[
                "dependency_type",
                "number_of_calls",
                "rt_info",
                "rt_info_depended_on",
                "enabled",
            ],
        ),
        (admin::Dependency::type_code(), &["event", "rt_info"]),
        (
            admin::ConsumerQos::type_code(),
            &["dependencies", "is_gateway"],
        ),
        (
            admin::Publication::type_code(),
            &["event", "dependency_info"],
        ),
        (
            admin::SupplierQos::type_code(),
            &["publications", "is_gateway"],
        ),
        (
            sched::CriticalityT::type_code(),
            &[
                "VERY_LOW_CRITICALITY",
                "LOW_CRITICALITY",
                "MEDIUM_CRITICALITY",
                "HIGH_CRITICALITY",
                "VERY_HIGH_CRITICALITY",
            ],
        ),
        (
            sched::ImportanceT::type_code(),
            &[
                "VERY_LOW_IMPORTANCE",
                "LOW_IMPORTANCE",
                "MEDIUM_IMPORTANCE",
                "HIGH_IMPORTANCE",
                "VERY_HIGH_IMPORTANCE",
            ],
        ),
        (
            sched::InfoTypeT::type_code(),
            &[
                "OPERATION",
                "CONJUNCTION",
                "DISJUNCTION",
                "REMOTE_DEPENDANT",
            ],
        ),
        (
            sched::RtInfoEnabledTypeT::type_code(),
            &[
                "RT_INFO_DISABLED",
                "RT_INFO_ENABLED",
                "RT_INFO_NON_VOLATILE",
            ],
        ),
        (
            sched::RtInfoEnableStatePair::type_code(),
            &["handle", "enabled"],
        ),
        (
            sched::RtInfo::type_code(),
            &[
                "entry_point",
                "handle",
                "worst_case_execution_time",
                "typical_execution_time",
                "cached_execution_time",
                "period",
                "criticality",
                "importance",
                "quantum",
                "threads",
                "dependencies",
                "priority",
                "preemption_subpriority",
                "preemption_priority",
                "info_type",
                "enabled",
                "volatile_token",
            ],
        ),
        (
            sched::DispatchingTypeT::type_code(),
            &[
                "STATIC_DISPATCHING",
                "DEADLINE_DISPATCHING",
                "LAXITY_DISPATCHING",
            ],
        ),
        (
            sched::ConfigInfo::type_code(),
            &[
                "preemption_priority",
                "thread_priority",
                "dispatching_type",
                "timer_periods",
            ],
        ),
        (
            sched::AnomalySeverity::type_code(),
            &[
                "ANOMALY_FATAL",
                "ANOMALY_ERROR",
                "ANOMALY_WARNING",
                "ANOMALY_NONE",
            ],
        ),
        (
            sched::SchedulingAnomaly::type_code(),
            &["description", "severity"],
        ),
    ];
    for (tc, want) in cases {
        assert_eq!(member_names(&tc), want, "{:?}", tc.id());
    }
    // RT_Info's token is 64 bits in TAO 2 and later (32 in TAO 1.x).
    let rt = sched::RtInfo::type_code();
    assert_eq!(rt.member_type(16).unwrap().kind(), TCKind::ULongLong);
}

#[test]
fn the_payload_is_an_alias_of_corba_octet_seq_as_in_tao() {
    // Event.data: EventData -> RtecEventData; its payload: EventPayload -> CORBA::OctetSeq ->
    // sequence<octet>. An `any` holding an Event carries this chain, and a TypeCode `equal`
    // comparison at the receiver sees every link.
    let data = comm::Event::type_code().member_type(1).unwrap().clone();
    assert_eq!(data.kind(), TCKind::Alias);
    assert_eq!(data.id(), Some("IDL:RtecEventComm/EventData:1.0"));
    let payload = data.content_type().unwrap().member_type(1).unwrap().clone();
    assert_eq!(payload.id(), Some("IDL:EventPayload:1.0"));
    let octet_seq = payload.content_type().unwrap();
    assert_eq!(octet_seq.kind(), TCKind::Alias);
    assert_eq!(octet_seq.id(), Some("IDL:omg.org/CORBA/OctetSeq:1.0"));
    let seq = octet_seq.content_type().unwrap();
    assert_eq!(seq.kind(), TCKind::Sequence);
    assert_eq!(seq.content_type().unwrap().kind(), TCKind::Octet);
    // The header's times are TimeBase::TimeT through RtecEventComm::Time.
    let created = comm::EventHeader::type_code()
        .member_type(3)
        .unwrap()
        .clone();
    assert_eq!(created.id(), Some("IDL:RtecEventComm/Time:1.0"));
    assert_eq!(
        created.content_type().unwrap().id(),
        Some("IDL:omg.org/TimeBase/TimeT:1.0")
    );
}

fn header() -> comm::EventHeader {
    // Every member a different value, so that two members swapped change the octets.
    comm::EventHeader {
        r#type: 0x0102_0304,
        source: -2,
        ttl: 5,
        creation_time: 0x1122_3344_5566_7788,
        ec_recv_time: 0x0a,
        ec_send_time: 0x0b00_0000_0000_000c,
    }
}

/// The header's CDR, worked out by hand: three longs (type, source, ttl) at offsets 0, 4, 8;
/// four octets of padding to align the first unsigned long long (TimeT) to 8; the three times
/// at 16, 24 and 32: 40 octets.
const HEADER_BIG_ENDIAN: [u8; 40] = [
    0x01, 0x02, 0x03, 0x04, // type
    0xff, 0xff, 0xff, 0xfe, // source = -2
    0x00, 0x00, 0x00, 0x05, // ttl
    0x00, 0x00, 0x00, 0x00, // padding to 16
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // creation_time
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, // ec_recv_time
    0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, // ec_send_time
];

const HEADER_LITTLE_ENDIAN: [u8; 40] = [
    0x04, 0x03, 0x02, 0x01, // type
    0xfe, 0xff, 0xff, 0xff, // source = -2
    0x05, 0x00, 0x00, 0x00, // ttl
    0x00, 0x00, 0x00, 0x00, // padding to 16
    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // creation_time
    0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ec_recv_time
    0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // ec_send_time
];

#[test]
fn event_header_octets_are_the_hand_worked_ones() {
    for (order, want) in [
        (ByteOrder::BigEndian, HEADER_BIG_ENDIAN),
        (ByteOrder::LittleEndian, HEADER_LITTLE_ENDIAN),
    ] {
        let got = encode_to_vec(&header(), order).unwrap();
        assert_eq!(got, want, "{order:?}");
        let back: comm::EventHeader = decode_from_slice(&want, order).unwrap();
        assert_eq!(back, header(), "{order:?}");
    }
}

#[test]
fn an_events_payload_starts_on_an_8_octet_boundary() {
    // The reason for TAO's pad1: after the 40-octet header, pad1 (4) and the sequence's
    // length (4) put the payload's first octet at 48, so it can be read in place as 8-aligned
    // data. The empty `any` that follows is its TypeCode's kind, tk_null, aligned to 4.
    let event = comm::Event {
        header: header(),
        data: rtec::RtecEventData {
            pad1: 0x7f00_0001,
            payload: vec![0xaa, 0xbb, 0xcc],
            any_value: Any::default(),
        },
    };
    let mut want = HEADER_BIG_ENDIAN.to_vec();
    want.extend_from_slice(&[
        0x7f, 0x00, 0x00, 0x01, // pad1, at 40
        0x00, 0x00, 0x00, 0x03, // payload's length, at 44
        0xaa, 0xbb, 0xcc, // payload, at 48
        0x00, // padding to 52
        0x00, 0x00, 0x00, 0x00, // any_value: TypeCode kind tk_null (0), no value
    ]);
    let got = encode_to_vec(&event, ByteOrder::BigEndian).unwrap();
    assert_eq!(got, want);
    let back: comm::Event = decode_from_slice(&want, ByteOrder::BigEndian).unwrap();
    assert_eq!(back, event);
}

fn event(i: u8) -> comm::Event {
    comm::Event {
        header: comm::EventHeader {
            r#type: 16 + i32::from(i),
            source: i32::from(i),
            ttl: 1,
            creation_time: u64::from(i) << 40,
            ec_recv_time: 0,
            ec_send_time: u64::MAX,
        },
        data: rtec::RtecEventData {
            pad1: 0,
            // Lengths 0 to 8 put whatever follows at every alignment.
            payload: (0..i).collect(),
            any_value: if i % 2 == 0 {
                Any::from(i32::from(i) * -1000)
            } else {
                Any::from(format!("event {i}"))
            },
        },
    }
}

#[test]
fn events_and_event_sets_round_trip_in_both_byte_orders() {
    let set: comm::EventSet = (0..9).map(event).collect();
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        for e in &set {
            let octets = encode_to_vec(e, order).unwrap();
            assert!(octets.len() >= comm::Event::MIN_WIRE_SIZE);
            let back: comm::Event = decode_from_slice(&octets, order).unwrap();
            assert_eq!(&back, e, "{order:?}");
        }
        let octets = encode_to_vec(&set, order).unwrap();
        let back: comm::EventSet = decode_from_slice(&octets, order).unwrap();
        assert_eq!(back, set, "{order:?}");
        // A sequence is its length, then its elements.
        let count = &octets[..4];
        let want_count = match order {
            ByteOrder::BigEndian => [0, 0, 0, 9],
            ByteOrder::LittleEndian => [9, 0, 0, 0],
        };
        assert_eq!(count, want_count);
        // A truncated set is refused, not misread.
        assert!(decode_from_slice::<comm::EventSet>(&octets[..octets.len() - 1], order).is_err());
    }
}

#[derive(Default)]
struct Recorder {
    pushed: Mutex<Vec<comm::Event>>,
}

impl comm::PushConsumer for Recorder {
    fn push(&self, data: &[comm::Event]) -> Result<(), SystemException> {
        self.pushed.lock().unwrap().extend_from_slice(data);
        Ok(())
    }
    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

#[test]
fn the_push_skeleton_hands_the_servant_the_event_set_a_supplier_sent() {
    // A TAO supplier's `push` request body is the EventSet alone.
    let set: comm::EventSet = (0..3).map(event).collect();
    for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
        let args = encode_to_vec(&set, order).unwrap();
        let servant = Recorder::default();
        let mut reply = Encoder::new(order);
        let status = comm::push_consumer::dispatch(
            &servant,
            "push",
            &mut Decoder::new(&args, order),
            &mut reply,
        )
        .unwrap();
        assert_eq!(status, DispatchStatus::NoException);
        assert_eq!(*servant.pushed.lock().unwrap(), set, "{order:?}");
        assert!(reply.into_vec().is_empty(), "push has no results");
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn idl_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl")
}

/// Where omniORB's own IDL lives: `OctetSeq.idl` takes CORBA::OctetSeq from its corbaidl.idl
/// under omniidl (see that file for why).
const OMNIORB_IDL: &str = "/usr/share/idl/omniORB";

fn omniidl(backend_args: &[&str], file: &Path, out: &Path) -> std::process::Output {
    let idl = idl_dir();
    Command::new("omniidl")
        .args(backend_args)
        .arg(format!("-I{}", idl.display()))
        .arg(format!("-I{OMNIORB_IDL}"))
        .arg(format!("-C{}", out.display()))
        .arg(file)
        .output()
        .expect("run omniidl")
}

#[test]
fn omniidl_accepts_every_idl_file_and_gives_the_same_ids() {
    if on_path("omniidl").is_none() {
        test_support::skip(
            "omniidl_accepts_every_idl_file_and_gives_the_same_ids",
            "omniidl is not on PATH (install omniORB's omniidl to run this check)",
        );
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(idl_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "idl"))
        .collect();
    files.sort();
    let names: BTreeSet<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for f in [
        "TimeBase.idl",
        "OctetSeq.idl",
        "RtecBase.idl",
        "RtecDefaultEventData.idl",
        "RtecEventComm.idl",
        "RtecScheduler.idl",
        "RtecEventChannelAdmin.idl",
        "RtecEventService.idl",
    ] {
        assert!(names.contains(f), "{f} missing from idl/");
    }
    let mut rejected = Vec::new();
    for f in &files {
        // The C++ back end, not just the front end: it also refuses names C++ cannot hold.
        let out = tempfile::tempdir().unwrap();
        let run = omniidl(&["-bcxx"], f, out.path());
        if !run.status.success() {
            rejected.push(format!(
                "{}:\n{}",
                f.display(),
                String::from_utf8_lossy(&run.stderr)
            ));
        }
    }
    assert!(
        rejected.is_empty(),
        "omniidl rejected:\n{}",
        rejected.join("\n")
    );

    // omniidl's C++ for the whole service (-Wbinline: the included files' too, -Wba: the
    // TypeCodes, typedefs' included) holds the repository id of every type: it must be our
    // list, no more and no fewer. (omniORB's own CORBA module comes along through
    // corbaidl.idl; of it only OctetSeq is ours.)
    let out = tempfile::tempdir().unwrap();
    let run = omniidl(
        &["-bcxx", "-Wba", "-Wbinline"],
        &idl_dir().join("RtecEventService.idl"),
        out.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut omniidl_ids = BTreeSet::new();
    for e in std::fs::read_dir(out.path()).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            if piece.starts_with("IDL:")
                && (!piece.starts_with("IDL:omg.org/CORBA/")
                    || piece == "IDL:omg.org/CORBA/OctetSeq:1.0")
            {
                omniidl_ids.insert(piece.to_owned());
            }
        }
    }
    let ours: BTreeSet<String> = every_type().iter().map(|(id, _)| id.to_string()).collect();
    let only_omniidl: Vec<_> = omniidl_ids.difference(&ours).collect();
    let only_ours: Vec<_> = ours.difference(&omniidl_ids).collect();
    assert!(
        only_omniidl.is_empty() && only_ours.is_empty(),
        "ids omniidl gives but our list lacks: {only_omniidl:?}; ids in our list omniidl does not give: {only_ours:?}"
    );
}
