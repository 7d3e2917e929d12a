//! rtsched: the off-line scheduling analysis of a task table (see `event_service::sched::table`
//! for the format), or of the RT_Infos a running `RtecScheduler::Scheduler` holds. Prints
//! the priorities, the lanes and the verdict; exits 0 when schedulable, 1 when not, 2 when
//! the input is bad. ORB options (`-ORB...`) may follow `--`.

use clap::Parser;
use event_service::rtec::rtec_scheduler::Scheduler as _;
use event_service::sched::{idl::SchedulerRef, table, Options, Registry};
use orb::{Orb, OrbOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rtsched",
    about = "Rate-monotonic priorities and schedulability of RtecScheduler task sets"
)]
struct Args {
    /// The task table to analyse.
    #[arg(required_unless_present = "scheduler", conflicts_with = "scheduler")]
    table: Option<PathBuf>,
    /// Analyse the RT_Infos of this running scheduler instead (an IOR, `corbaloc:`,
    /// `corbaname:` or `file://`).
    #[arg(long)]
    scheduler: Option<String>,
    /// At most this many dispatching lanes; slower rates share the lowest.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    lanes: Option<u32>,
    /// The OS priority of the lowest lane's floor (TAO's minimum_priority).
    #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
    min_priority: i32,
    /// The OS priority of the highest lane (TAO's maximum_priority).
    #[arg(long, default_value_t = 99, allow_hyphen_values = true)]
    max_priority: i32,
    /// ORB options after `--`, e.g. `-- -ORBclientCallTimeOutPeriod 5000`.
    #[arg(allow_hyphen_values = true, last = true)]
    orb_args: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let registry = match load(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rtsched: {e}");
            return ExitCode::from(2);
        }
    };
    let options = Options {
        max_os_priority: args.max_priority,
        min_os_priority: args.min_priority,
        lanes: args.lanes.map(|n| n as usize),
    };
    match registry.schedule(&options) {
        Ok(schedule) => {
            print!("{}", table::render(&schedule));
            if schedule.is_schedulable() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("rtsched: {e}");
            ExitCode::from(2)
        }
    }
}

fn load(args: &Args) -> Result<Registry, Box<dyn std::error::Error>> {
    if let Some(path) = &args.table {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return table::parse(&text).map_err(|e| format!("{}: {e}", path.display()).into());
    }
    let url = args.scheduler.as_deref().unwrap_or_default();
    let mut options = OrbOptions::from_env()?;
    options.parse_args(args.orb_args.iter().cloned())?;
    let orb = Orb::init(options)?;
    let result = (|| -> Result<Registry, Box<dyn std::error::Error>> {
        let obj = orb.string_to_object(url)?;
        let scheduler = SchedulerRef::narrow(&obj)?
            .ok_or_else(|| format!("{url} is not an RtecScheduler::Scheduler"))?;
        // Reading only: the analysis runs here on what the scheduler holds, so asking
        // changes nothing there.
        let infos = scheduler.get_rt_info_set()?;
        Ok(Registry::from_infos(&infos)?)
    })();
    orb.shutdown(true);
    result
}
