//! What the workspace's daemons (`naming-service`, and `event-service`, which uses this
//! crate already) do alike at start-up: log on stderr as much as the ORB options ask, and
//! say where they listen. Here, not in `orb`, because installing a `tracing` subscriber is
//! a program's choice, never a library's.

use orb::transport::Endpoint;
use orb::OrbOptions;

/// Installs a subscriber writing the ORB's `tracing` output on stderr, as much as
/// `-ORBtraceLevel` and `-ORBtraceInvocations` ask (warnings by default); request spans are
/// written when they close, with their outcome. Does nothing if one is installed already.
pub fn log_to_stderr(options: &OrbOptions) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(options.trace_filter())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .try_init();
}

/// `PROGRAM: listening on giop:tcp:127.0.0.1:2809, ...` on stderr: the line a supervisor or
/// a test waits for.
pub fn say_listening(program: &str, endpoints: &[Endpoint]) {
    let list: Vec<String> = endpoints.iter().map(ToString::to_string).collect();
    eprintln!("{program}: listening on {}", list.join(", "));
}
