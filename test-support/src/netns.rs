//! Hosts as network namespaces of this machine, joined pairwise by veth pairs: host `i` has
//! the address `10.77.0.(i+1)/32` on its loopback and a `/32` route to every other host over
//! the veth between them (a full mesh: no bridge, nothing changed outside the namespaces).
//! Made with `ip` (iproute2), which needs root; [`Hosts::unavailable`] says why it cannot be
//! done here.
//!
//! Namespaces are named `OWNER-PID-TAG-hN` (`OWNER-PID-hN` without a tag) after the program
//! that made them (`faults`, `mshn`) and its process: they are deleted when the [`Hosts`] is
//! dropped (a failing test included), and those of processes that no longer exist (a test
//! killed before its destructors ran) are deleted by the owner's next [`Hosts::create`].
//!
//! A partition takes a host off a link the way a host that disappears does: its end of the
//! veth goes down, so the other host's packets to it vanish with no error (its end only
//! loses carrier; its route stays), and new connections wait for SYNs that are never
//! answered. Healing brings the end up and puts back the route the kernel removed with it.

use std::process::Command;

/// What went wrong making or changing the hosts, said in full.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The namespaces of one test.
pub struct Hosts {
    names: Vec<String>,
}

/// Runs `ip ARGS`; its complaint, if any, as an error saying what was asked.
fn ip(args: &[&str]) -> Result<String, Error> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| Error(format!("running `ip`: {e} (is iproute2 installed?)")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Deletes `owner`'s namespaces whose processes are gone, after killing what still runs in
/// them (the processes such a test started in its own namespaces).
fn delete_stale(owner: &str) {
    let prefix = format!("{owner}-");
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        kill_all_in(name);
        let _ = ip(&["netns", "del", name]);
    }
}

/// SIGKILL to every process in namespace `name` (`ip netns pids`): only ever called on
/// namespaces made here, so these are processes their owner started.
fn kill_all_in(name: &str) {
    if let Ok(pids) = ip(&["netns", "pids", name]) {
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}

impl Hosts {
    /// Why namespaces cannot be made here (`None`: they can): `ip` missing, or not root.
    pub fn unavailable() -> Option<String> {
        // Unique per call: tests of one binary run side by side, and a second probe of the
        // same name would fail ("File exists") and skip its test.
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let probe = format!("rtorb-probe-{}-{n}", std::process::id());
        match ip(&["netns", "add", &probe]) {
            Ok(_) => {
                let _ = ip(&["netns", "del", &probe]);
                None
            }
            Err(e) => Some(format!(
                "network namespaces cannot be made here (root and iproute2 are needed): {e}"
            )),
        }
    }

    /// `n` hosts (1 to 200), joined pairwise, named for `owner` (a short word: `faults`,
    /// `mshn`). `owner`'s namespaces left by dead processes are deleted first. `tag` (may be
    /// empty) keeps apart the hosts of tests that run side by side in one process.
    pub fn create(owner: &str, tag: &str, n: usize) -> Result<Hosts, Error> {
        if !(1..=200).contains(&n) {
            return Err(Error(format!("hosts: {n} asked for; 1 to 200 can be made")));
        }
        if owner.is_empty() || owner.contains('-') {
            return Err(Error(format!(
                "hosts: owner {owner:?}: a word without '-' is needed (namespaces are \
                 named OWNER-PID-...)"
            )));
        }
        delete_stale(owner);
        let pid = std::process::id();
        let mut hosts = Hosts { names: Vec::new() };
        for i in 0..n {
            let name = if tag.is_empty() {
                format!("{owner}-{pid}-h{i}")
            } else {
                format!("{owner}-{pid}-{tag}-h{i}")
            };
            ip(&["netns", "add", &name])?;
            hosts.names.push(name);
            let ns = &hosts.names[i];
            let addr = format!("{}/32", hosts.address(i));
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "addr", "add", &addr, "dev", "lo"])?;
        }
        for a in 0..n {
            for b in a + 1..n {
                let (na, nb) = (&hosts.names[a], &hosts.names[b]);
                ip(&[
                    "link",
                    "add",
                    &Hosts::device(b),
                    "netns",
                    na,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    &Hosts::device(a),
                    "netns",
                    nb,
                ])?;
                hosts.link_up(a, b)?;
                hosts.link_up(b, a)?;
            }
        }
        Ok(hosts)
    }

    /// In every host, the veth to host `peer` is `to{peer}`.
    fn device(peer: usize) -> String {
        format!("to{peer}")
    }

    /// Host `me`'s end of the link to `peer` up, with its route to `peer` (again).
    fn link_up(&self, me: usize, peer: usize) -> Result<(), Error> {
        let (ns, dev) = (&self.names[me], Hosts::device(peer));
        ip(&["-n", ns, "link", "set", &dev, "up"])?;
        let route = format!("{}/32", self.address(peer));
        let src = self.address(me);
        // `replace`: the route may have survived (a carrier loss keeps it).
        ip(&[
            "-n", ns, "route", "replace", &route, "dev", &dev, "src", &src,
        ])?;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Host `i`'s namespace.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Host `i`'s address, which every other host reaches.
    pub fn address(&self, i: usize) -> String {
        format!("10.77.0.{}", i + 1)
    }

    /// Host `gone` disappears from host `seen_from`'s view: `gone`'s end of their link goes
    /// down. Packets between them are lost without an error until [`Hosts::heal`].
    pub fn partition(&self, seen_from: usize, gone: usize) -> Result<(), Error> {
        ip(&[
            "-n",
            &self.names[gone],
            "link",
            "set",
            &Hosts::device(seen_from),
            "down",
        ])?;
        Ok(())
    }

    /// Undoes [`Hosts::partition`]: the link is up and routed both ways again.
    pub fn heal(&self, seen_from: usize, gone: usize) -> Result<(), Error> {
        self.link_up(gone, seen_from)?;
        self.link_up(seen_from, gone)
    }

    /// `program` to be run in host `i` (`ip netns exec` execs it: its pid is the program's).
    pub fn command(&self, i: usize, program: &std::path::Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.names[i]]).arg(program);
        c
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for n in &self.names {
            // The processes a test started are killed by their guards first; anything still
            // there would keep the namespace's network alive after `del`.
            kill_all_in(n);
            if let Err(e) = ip(&["netns", "del", n]) {
                eprintln!("netns: {e}");
            }
        }
    }
}
