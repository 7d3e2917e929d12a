//! Generates the stubs and skeletons of the event services from the workspace's `idl/`:
//!
//! - `CosEventChannelAdmin.idl` (which includes `CosEventComm.idl`, so one output holds both
//!   modules): the COS event channel;
//! - `RtecEventService.idl`, which includes every module of TAO's real-time event service
//!   (`RtecEventChannelAdmin`, `RtecEventComm`, `RtecScheduler`, `RtecBase`, the default
//!   event data, `TimeBase`), so the types the channel and the scheduler share are generated
//!   once, in one output.
fn main() {
    idlc::Builder::new()
        .include("../idl")
        .compile(&["../idl/CosEventChannelAdmin.idl"])
        .expect("idlc failed on idl/CosEventChannelAdmin.idl");
    idlc::Builder::new()
        .include("../idl")
        .compile(&["../idl/RtecEventService.idl"])
        .expect("idlc failed on idl/RtecEventService.idl");
}
