//! COS event channel and real-time event channel.
//!
//! Built on the ORB core; this crate holds only the channels, never wire code.
#![forbid(unsafe_code)]
