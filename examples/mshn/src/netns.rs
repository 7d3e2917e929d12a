//! Hosts as network namespaces of this machine, for the bench and the tests: each host a
//! namespace with its loopback up and one address (`10.77.0.N/32`, on its loopback), every
//! two hosts joined by a veth pair with a route to each other's address over it (a full
//! mesh: no bridge, nothing changed outside the namespaces). Made with `ip` (iproute2),
//! which needs root; [`Hosts::unavailable`] says why it cannot be done here. The namespaces
//! (and with them their veths) are deleted when the [`Hosts`] is dropped.

use crate::Error;
use std::process::Command;

/// The namespaces of one run.
pub struct Hosts {
    names: Vec<String>,
}

/// Runs `ip ARGS`; its complaint, if any, as an error saying what was asked.
fn ip(args: &[&str]) -> Result<(), Error> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| Error(format!("running `ip`: {e} (is iproute2 installed?)")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Hosts {
    /// Why namespaces cannot be made here (`None`: they can): `ip` missing, or not root.
    pub fn unavailable() -> Option<String> {
        let probe = format!("mshn-probe-{}", std::process::id());
        match ip(&["netns", "add", &probe]) {
            Ok(()) => {
                let _ = ip(&["netns", "del", &probe]);
                None
            }
            Err(e) => Some(format!(
                "network namespaces cannot be made here (root is needed): {e}"
            )),
        }
    }

    /// `n` hosts (at most 200), joined pairwise.
    pub fn create(n: usize) -> Result<Hosts, Error> {
        if n == 0 || n > 200 {
            return Err(Error(format!("hosts: {n} asked for; 1 to 200 can be made")));
        }
        let pid = std::process::id();
        let mut hosts = Hosts { names: Vec::new() };
        for i in 0..n {
            let name = format!("mshn-{pid}-h{i}");
            ip(&["netns", "add", &name])?;
            hosts.names.push(name);
            let ns = &hosts.names[i];
            let addr = format!("{}/32", hosts.address(i));
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "addr", "add", &addr, "dev", "lo"])?;
        }
        for a in 0..n {
            for b in a + 1..n {
                // In host a the link to b is `to{b}`, and the other way round.
                let (na, nb) = (&hosts.names[a], &hosts.names[b]);
                let (to_b, to_a) = (format!("to{b}"), format!("to{a}"));
                ip(&[
                    "link", "add", &to_b, "netns", na, "type", "veth", "peer", "name", &to_a,
                    "netns", nb,
                ])?;
                for (ns, dev, me, peer) in [(na, &to_b, a, b), (nb, &to_a, b, a)] {
                    ip(&["-n", ns, "link", "set", dev, "up"])?;
                    let route = format!("{}/32", hosts.address(peer));
                    let src = hosts.address(me);
                    ip(&["-n", ns, "route", "add", &route, "dev", dev, "src", &src])?;
                }
            }
        }
        Ok(hosts)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Host `i`'s address, which every other host reaches.
    pub fn address(&self, i: usize) -> String {
        format!("10.77.0.{}", i + 1)
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
            if let Err(e) = ip(&["netns", "del", n]) {
                eprintln!("mshn: {e}");
            }
        }
    }
}
