//! Everything in one process: an ORB on loopback, a naming service started in it (or found
//! on the given port), the real-time channel bound there as [`crate::CHANNEL_NAME`], and
//! each component finding the channel through the naming service, as separate processes do.

use crate::bus::Link;
use crate::cl::ClientLibrary;
use crate::daemon::{Daemon, DaemonOptions};
use crate::rrd::RequirementsDb;
use crate::rss::{RssOptions, StatusServer};
use crate::sa::SchedulingAdvisor;
use crate::{Error, CHANNEL_NAME, FIRST_PLATFORM};
use event_service::rtec::rtec_event_channel_admin::EventChannelRef;
use event_service::rtec::{RtecChannel, RtecOptions};
use naming_service::cos_naming::{NamingContext, NamingContextExt, NamingContextExtRef};
use orb::Orb;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct SystemOptions {
    pub platforms: usize,
    /// TAO-style `-EC...` options of the channel (default: reactive dispatching, so that
    /// in one process an event path is a chain of direct calls).
    pub channel_args: Vec<String>,
    pub rrd_file: Option<PathBuf>,
    pub heartbeat: Duration,
    pub misses: u32,
    /// Naming-service port (0: a free one; a naming service is started there if none runs).
    pub naming_port: u16,
    /// The daemons run nothing (see [`DaemonOptions::zero_work`]).
    pub zero_work: bool,
}

impl Default for SystemOptions {
    fn default() -> Self {
        SystemOptions {
            platforms: 3,
            channel_args: vec!["-ECFiltering".into(), "prefix".into()],
            rrd_file: None,
            heartbeat: Duration::from_millis(20),
            misses: 3,
            naming_port: 0,
            zero_work: false,
        }
    }
}

/// An ORB serving on loopback (port 0), with a pool for the channel's calls.
pub fn loopback_orb() -> Result<Orb, Error> {
    let orb = unbound_orb()?;
    orb.listen()?;
    Ok(orb)
}

/// [`loopback_orb`] before it binds its port: a process that is to serve the naming
/// service on a given port starts that first, so that its own ephemeral port cannot be
/// the one the naming service was given (a port just found free is the next one the
/// kernel hands out).
pub fn unbound_orb() -> Result<Orb, Error> {
    unbound_orb_on("127.0.0.1")
}

/// [`unbound_orb`] serving on `host` (an address of this machine, or of its network
/// namespace): what a channel that other hosts' gateways reach needs.
pub fn unbound_orb_on(host: &str) -> Result<Orb, Error> {
    let (orb, _) = Orb::init_from_args([
        "-ORBendPoint".to_string(),
        format!("giop:tcp:{host}:0"),
        "-ORBthreadPoolSize".to_string(),
        "8".to_string(),
    ])?;
    Ok(orb)
}

/// Binds `channel` as [`CHANNEL_NAME`] in `root` (replacing what was there).
pub fn bind_channel(root: &NamingContextExtRef, channel: &orb::ObjectRef) -> Result<(), Error> {
    let name = root
        .to_name(CHANNEL_NAME)
        .map_err(|e| Error(format!("naming: {e:?}")))?;
    // The context may exist already (a restarted channel): that is fine.
    let _ = root.bind_new_context(&name[..1]);
    root.rebind(&name, channel)
        .map_err(|e| Error(format!("naming: binding {CHANNEL_NAME}: {e:?}")))
}

/// The channel bound as [`CHANNEL_NAME`].
pub fn resolve_channel(root: &NamingContextExtRef) -> Result<EventChannelRef, Error> {
    let obj = root
        .resolve_str(CHANNEL_NAME)
        .map_err(|e| Error(format!("naming: resolving {CHANNEL_NAME}: {e:?}")))?;
    Ok(EventChannelRef::unchecked_narrow(obj))
}

/// The naming service's root on 127.0.0.1:`port` (started in this process if none answers).
pub fn naming(
    orb: &Orb,
    port: u16,
) -> Result<(NamingContextExtRef, u16, Option<naming_service::Embedded>), Error> {
    let port = if port == 0 {
        std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
    } else {
        port
    };
    let (root, embedded) = naming_service::connect_or_start(orb, port, None)?;
    Ok((root, port, embedded))
}

pub struct System {
    pub orb: Orb,
    pub channel: RtecChannel,
    /// How the components found the channel (by name: they find a new one too).
    pub link: Link,
    pub root: NamingContextExtRef,
    pub cl: Arc<ClientLibrary>,
    pub sa: Arc<SchedulingAdvisor>,
    pub rss: Arc<StatusServer>,
    pub rrd: Arc<RequirementsDb>,
    pub daemons: Vec<Arc<Daemon>>,
    pub options: SystemOptions,
    _naming: Option<naming_service::Embedded>,
}

impl System {
    pub fn start(options: SystemOptions) -> Result<System, Error> {
        let orb = loopback_orb()?;
        let (root, port, embedded) = naming(&orb, options.naming_port)?;
        let mut ec = RtecOptions::default();
        ec.parse_args(options.channel_args.iter().map(String::as_str))
            .map_err(|e| Error(format!("channel options: {e}")))?;
        let channel = RtecChannel::start(&orb, ec)?;
        bind_channel(&root, channel.object())?;
        let url = format!("corbaloc::127.0.0.1:{port}/NameService");
        let link = Link::named(&orb, &url, Duration::from_secs(10))?;
        let rss = StatusServer::start(
            &link,
            RssOptions {
                heartbeat: options.heartbeat,
                misses: options.misses,
            },
        )?;
        let rrd = RequirementsDb::start(&link, options.rrd_file.clone())?;
        let sa = SchedulingAdvisor::start(&link)?;
        let cl = ClientLibrary::start(&link, 1)?;
        let mut system = System {
            orb,
            channel,
            link,
            root,
            cl,
            sa,
            rss,
            rrd,
            daemons: Vec::new(),
            options,
            _naming: embedded,
        };
        for i in 0..system.options.platforms {
            system.add_platform(FIRST_PLATFORM + 1 + i as i32, 1.0, 4096)?;
        }
        Ok(system)
    }

    /// Starts a daemon for another platform and waits until the RSS knows it.
    pub fn add_platform(
        &mut self,
        platform: i32,
        cpu_capacity: f64,
        memory_mb: u32,
    ) -> Result<Arc<Daemon>, Error> {
        let mut o = DaemonOptions::new(platform);
        o.cpu_capacity = cpu_capacity;
        o.memory_mb = memory_mb;
        o.heartbeat = self.options.heartbeat;
        o.zero_work = self.options.zero_work;
        let d = Daemon::start(&self.link, o)?;
        self.daemons.push(d.clone());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !self
            .rss
            .statuses()
            .iter()
            .any(|s| s.platform == platform && s.alive)
        {
            if std::time::Instant::now() > deadline {
                return Err(Error(format!("platform {platform} never reached the RSS")));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(d)
    }

    /// The channel, found through the naming service.
    pub fn channel_ref(&self) -> Result<EventChannelRef, Error> {
        resolve_channel(&self.root)
    }

    /// Destroys the channel and starts another, bound under the same name: what a
    /// restarted channel process looks like to the components.
    pub fn restart_channel(&mut self) -> Result<(), Error> {
        self.channel.destroy();
        let mut ec = RtecOptions::default();
        ec.parse_args(self.options.channel_args.iter().map(String::as_str))
            .map_err(|e| Error(format!("channel options: {e}")))?;
        self.channel = RtecChannel::start(&self.orb, ec)?;
        bind_channel(&self.root, self.channel.object())
    }

    pub fn daemon(&self, platform: i32) -> Option<&Arc<Daemon>> {
        self.daemons.iter().find(|d| d.platform() == platform)
    }

    pub fn shutdown(&self) {
        for d in &self.daemons {
            d.kill();
        }
        self.cl.shutdown();
        self.sa.shutdown();
        self.rss.shutdown();
        self.rrd.shutdown();
        self.channel.destroy();
        self.orb.shutdown(true);
    }
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown();
    }
}
