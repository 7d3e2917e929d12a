//! Helpers for the RT-CORBA tests: ORBs that map no native priorities, a client's view of a
//! server's reference, and [`Who`] — what a servant answers about the request it serves
//! (its priority, its lane, its thread) — with the calls that ask it.
#![allow(dead_code)]

use orb::cdr::{Decoder, EncodeError, Encoder};
use orb::exception::SystemException;
use orb::iop::ProfileId;
use orb::ior::IiopProfile;
use orb::rt::RtCurrent;
use orb::{CollocationStrategy, ObjectRef, Orb, OrbOptions};

/// An ORB of `args` (`-ORB...` options), calling even its own objects through the
/// transport, and mapping no native priorities (`-ORBpriorityMapping off`): the mapping is
/// per process, and these tests are about queues and lanes, not the operating system's
/// scheduler.
pub fn orb(args: &str) -> Orb {
    let mut o = OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    };
    let args = format!("-ORBpriorityMapping off {args}");
    o.parse_args(args.split_whitespace().map(str::to_owned))
        .unwrap();
    Orb::init(o).unwrap()
}

/// The server's reference as the client ORB `client` reads it.
pub fn client_ref(client: &Orb, obj: &ObjectRef) -> ObjectRef {
    client
        .string_to_object(&obj.to_ior_string().unwrap())
        .unwrap()
}

/// The first IIOP profile of `obj`'s IOR.
pub fn iiop_profile(obj: &ObjectRef) -> IiopProfile {
    obj.ior()
        .profiles
        .iter()
        .find(|p| p.tag == ProfileId::INTERNET_IOP)
        .map(|p| IiopProfile::from_tagged(p).unwrap())
        .expect("an IIOP profile")
}

/// Who serves a request: the priority it runs at, its lane's priority (-1 for none) and the
/// serving thread's name.
#[derive(Clone, Debug)]
pub struct Who {
    pub priority: i16,
    pub lane: i16,
    pub thread: String,
}

impl Who {
    /// Who serves the request this thread runs.
    pub fn here() -> Who {
        Who {
            priority: RtCurrent::the_priority().unwrap_or(-1),
            lane: RtCurrent::lane_priority().unwrap_or(-1),
            thread: std::thread::current().name().unwrap_or("").to_owned(),
        }
    }

    pub fn write(&self, reply: &mut Encoder) -> Result<(), EncodeError> {
        reply.write_short(self.priority);
        reply.write_short(self.lane);
        reply.write_string(&self.thread)
    }

    pub fn read(d: &mut Decoder<'_>) -> Result<Who, orb::cdr::DecodeError> {
        Ok(Who {
            priority: d.read_short()?,
            lane: d.read_short()?,
            thread: d.read_string()?.into_owned(),
        })
    }
}

/// `whoami` on `obj`: who served it.
pub fn whoami(obj: &ObjectRef) -> Result<Who, SystemException> {
    obj.invoke("whoami", &|_: &mut Encoder| -> Result<(), EncodeError> {
        Ok(())
    })?
    .normal_result(Who::read)
}

/// [`whoami`] from this thread at CORBA priority `p` (none for `None`), which it clears
/// after.
pub fn whoami_at(obj: &ObjectRef, p: Option<i16>) -> Who {
    match p {
        Some(p) => RtCurrent::set_the_priority(p).unwrap(),
        None => RtCurrent::clear(),
    }
    let who = whoami(obj).unwrap();
    RtCurrent::clear();
    who
}
