//! Off-line scheduling for the real-time event channel: TAO's `RtecScheduler` service.
//!
//! - [`Registry`]: the RT_Infos of an application (timing, criticality, importance, threads)
//!   and the one-way and two-way dependencies between them;
//! - [`analyze`]: rate-monotonic priorities mapped onto dispatching lanes, per-lane
//!   [`ConfigInfo`](idl::ConfigInfo)s, and the verdict (utilization, the Liu & Layland bound,
//!   exact response-time analysis);
//! - [`SchedulerServant`] / [`SchedulerService`]: the `RtecScheduler::Scheduler` interface over
//!   them, collocated or remote;
//! - [`table`]: the task tables `rtsched` reads.
//!
//! The analysis is pure (no clock, no I/O); only the servant touches the ORB. See
//! `event-service/SCHEDULER.md` for the mapping and where it differs from TAO.

mod analysis;
mod registry;
mod servant;
pub mod table;

pub use crate::rtec::rtec_scheduler as idl;
pub use analysis::{
    analyze, liu_layland_bound, response_time, AnalysisError, Lane, Options, Schedule, Stream,
    TaskRow, Verdict,
};
pub use registry::{Attributes, Registry, RegistryError};
pub use servant::{SchedulerServant, SchedulerService};
