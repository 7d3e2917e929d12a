//! The payload of an MSHN event: one IDL struct as a CDR encapsulation (a byte-order octet,
//! then the struct with alignment counted from that octet), so a receiver of either byte
//! order reads it and nothing in the channel needs to know its type.

use crate::idl::mshn;
use crate::Error;
use event_service::rtec::{self, rtec_event_comm::Event};
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The event with `value` as its payload, stamped with [`now_ns`] in `creation_time`, with
/// a `ttl` of 1: channels federated in a full mesh of gateways pass it on exactly once (a
/// gateway drops an event whose `ttl` is spent, and the default is 0).
pub fn event<T: CdrEncode>(source: i32, ty: i32, value: &T) -> Result<Event, Error> {
    let mut enc = Encoder::new(ByteOrder::NATIVE);
    enc.write_octet(ByteOrder::NATIVE.flag());
    value.encode(&mut enc)?;
    let mut e = rtec::event(source, ty);
    e.header.creation_time = now_ns();
    e.header.ttl = 1;
    e.data.payload = enc.into_vec();
    Ok(e)
}

/// The struct in `event`'s payload; an empty payload, a bad byte-order octet, a short or
/// overlong payload is an error naming the event type.
pub fn decode<'a, T: CdrDecode<'a>>(event: &'a Event) -> Result<T, Error> {
    let p = &event.data.payload;
    let ty = event.header.r#type;
    let (&flag, _) = p
        .split_first()
        .ok_or_else(|| Error(format!("event type {ty}: empty payload")))?;
    if flag > 1 {
        return Err(Error(format!(
            "event type {ty}: byte-order octet {flag} is neither 0 nor 1"
        )));
    }
    let mut dec = Decoder::new_at(p, 1, ByteOrder::from_flag(flag));
    let v = T::decode(&mut dec).map_err(|e| Error(format!("event type {ty}: {e}")))?;
    dec.expect_end()
        .map_err(|e| Error(format!("event type {ty}: {e}")))?;
    Ok(v)
}

/// Nanoseconds since the Unix epoch, from the wall clock: publishers stamp events with it
/// so that an observer can put what it saw in the order it was published, even when the
/// publishers are other processes (in other network namespaces) of the same machine. A
/// clock step between two stamps would misorder them; the machines this runs on do not step.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The instant a stamp of this machine names.
pub fn stamp_instant(ns: u64) -> Instant {
    let now = Instant::now();
    let age = now_ns().saturating_sub(ns);
    now.checked_sub(Duration::from_nanos(age)).unwrap_or(now)
}

/// The name of an MSHN event type, for traces and tables.
pub fn type_name(ty: i32) -> &'static str {
    match ty {
        mshn::JOB_REQUEST_EVENT => "JobRequest",
        mshn::STATUS_QUERY_EVENT => "StatusQuery",
        mshn::REQUIREMENTS_QUERY_EVENT => "RequirementsQuery",
        mshn::STATUS_ANSWER_EVENT => "StatusAnswer",
        mshn::REQUIREMENTS_ANSWER_EVENT => "RequirementsAnswer",
        mshn::SCHEDULE_EVENT => "Schedule",
        mshn::EXEC_REQUEST_EVENT => "ExecRequest",
        mshn::EXEC_STARTED_EVENT => "ExecStarted",
        mshn::EXEC_RESULT_EVENT => "ExecResult",
        mshn::STATUS_REPORT_EVENT => "StatusReport",
        mshn::HEARTBEAT_EVENT => "Heartbeat",
        mshn::RESOURCE_ALARM_EVENT => "ResourceAlarm",
        _ => "unknown",
    }
}

/// The job an event is about, if it is about one.
pub fn job_of(e: &Event) -> Option<mshn::JobId> {
    Some(match e.header.r#type {
        mshn::JOB_REQUEST_EVENT => decode::<mshn::JobRequest>(e).ok()?.job,
        mshn::STATUS_QUERY_EVENT => decode::<mshn::StatusQuery>(e).ok()?.job,
        mshn::REQUIREMENTS_QUERY_EVENT => decode::<mshn::RequirementsQuery>(e).ok()?.job,
        mshn::STATUS_ANSWER_EVENT => decode::<mshn::StatusAnswer>(e).ok()?.job,
        mshn::REQUIREMENTS_ANSWER_EVENT => decode::<mshn::RequirementsAnswer>(e).ok()?.job,
        mshn::SCHEDULE_EVENT => decode::<mshn::Schedule>(e).ok()?.job,
        mshn::EXEC_REQUEST_EVENT => decode::<mshn::ExecRequest>(e).ok()?.job,
        mshn::EXEC_STARTED_EVENT => decode::<mshn::ExecStarted>(e).ok()?.job,
        mshn::EXEC_RESULT_EVENT => decode::<mshn::ExecResult>(e).ok()?.job,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_struct_round_trips_and_bad_payloads_are_errors() {
        let q = mshn::RequirementsQuery {
            job: 7,
            program: "sleep".into(),
        };
        let mut e = event(crate::SA_SOURCE, mshn::REQUIREMENTS_QUERY_EVENT, &q).unwrap();
        assert_eq!(decode::<mshn::RequirementsQuery>(&e).unwrap(), q);
        assert_eq!(job_of(&e), Some(7));
        e.data.payload.push(0);
        let err = decode::<mshn::RequirementsQuery>(&e).unwrap_err().0;
        assert!(err.starts_with("event type 18:"), "{err}");
        e.data.payload[0] = 9;
        let err = decode::<mshn::RequirementsQuery>(&e).unwrap_err().0;
        assert!(err.contains("byte-order octet 9"), "{err}");
        e.data.payload.truncate(3);
        e.data.payload[0] = 1;
        assert!(decode::<mshn::RequirementsQuery>(&e).is_err());
        e.data.payload.clear();
        assert!(decode::<mshn::RequirementsQuery>(&e)
            .unwrap_err()
            .0
            .contains("empty"));
    }
}
