//! `ior`: decode and make IORs from the command line.
//!
//! ```text
//! cargo run -p orb --example ior -- decode [-x] [-o] [-v] <IOR:... | corbaloc:... | corbaname:... | FILE>
//! cargo run -p orb --example ior -- encode --type-id ID --host H --port P (--key KEY | --key-hex HEX)
//!                                          [--giop 1.2] [--orb-type N] [--code-sets]
//!                                          [--alternate HOST:PORT]... [--big-endian | --little-endian]
//! ```
//!
//! `decode` prints what omniORB's `catior` prints for the same IOR (`-x` and `-o` as in
//! `catior`; `-v` adds the octets of components `catior` does not decode). A `corbaloc:` URL is
//! shown with its addresses and key, then as the IOR a client would invoke. `encode` prints a
//! stringified IOR with one IIOP profile; `--key` takes text with `%HH` escapes.
//!
//! A thin face of `orb::ior`: all parsing and formatting lives in the library.

use orb::cdr::{ByteOrder, GiopVersion};
use orb::iop::Ior;
use orb::ior::{
    describe_url, parse_object_url, CodeSetComponentInfo, Component, DescribeOptions, IiopProfile,
};
use std::process::ExitCode;

const USAGE: &str = "usage:
  ior decode [-x] [-o] [-v] <IOR:... | corbaloc:... | corbaname:... | FILE>
      -x  print object keys in hex (as catior -x)
      -o  say whether keys look like omniORB POA/BOA keys (as catior -o)
      -v  also print the octets of components catior does not decode
  ior encode --type-id ID --host HOST --port PORT (--key KEY | --key-hex HEX)
             [--giop MAJOR.MINOR] [--orb-type N] [--code-sets]
             [--alternate HOST:PORT]... [--big-endian | --little-endian]
      --key takes text in which %HH stands for the octet HH; --giop defaults to 1.2";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("ior: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Input(msg)) => {
            eprintln!("ior: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Runs the command line `args` (without the program name) and returns what to print.
/// The interop tests call this too.
pub fn run(args: &[String]) -> Result<String, Failure> {
    match args.first().map(String::as_str) {
        Some("decode") => decode(&args[1..]),
        Some("encode") => encode(&args[1..]),
        Some("-h" | "--help" | "help") => Ok(format!("{USAGE}\n")),
        Some(other) => usage(format!("unknown command {other:?}")),
        None => usage("missing command"),
    }
}

#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong: print the usage.
    Usage(String),
    /// The input is wrong: print why.
    Input(String),
}

fn usage<T>(msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(msg.into()))
}

fn decode(args: &[String]) -> Result<String, Failure> {
    let mut opts = DescribeOptions::default();
    let mut input = None;
    for a in args {
        match a.as_str() {
            "-x" => opts.hex_key = true,
            "-o" => opts.omniorb_key = true,
            "-v" => opts.raw_unknown = true,
            s if s.starts_with('-') && s.len() > 1 => return usage(format!("unknown flag {s:?}")),
            s if input.is_none() => input = Some(s.to_owned()),
            s => return usage(format!("unexpected argument {s:?}")),
        }
    }
    let Some(input) = input else {
        return usage("decode needs an IOR, a corbaloc/corbaname URL or a file");
    };
    let text = if looks_like_url(&input) {
        input
    } else {
        std::fs::read_to_string(&input).map_err(|e| {
            Failure::Input(format!(
                "{input:?} is not an IOR:, corbaloc: or corbaname: string, nor a readable file: {e}"
            ))
        })?
    };
    let url = parse_object_url(text.trim()).map_err(|e| Failure::Input(e.to_string()))?;
    describe_url(&url, opts).map_err(|e| Failure::Input(e.to_string()))
}

fn looks_like_url(s: &str) -> bool {
    let scheme = s.split(':').next().unwrap_or("");
    s.contains(':')
        && ["IOR", "corbaloc", "corbaname"]
            .iter()
            .any(|k| scheme.eq_ignore_ascii_case(k))
}

fn encode(args: &[String]) -> Result<String, Failure> {
    let mut type_id = None;
    let mut host = None;
    let mut port = None;
    let mut key = None;
    let mut version = GiopVersion::V1_2;
    let mut order = ByteOrder::NATIVE;
    let mut components = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| match it.next() {
            Some(v) => Ok(v.clone()),
            None => usage(format!("{name} needs a value")),
        };
        match flag.as_str() {
            "--type-id" => type_id = Some(value("--type-id")?),
            "--host" => host = Some(value("--host")?),
            "--port" => {
                let v = value("--port")?;
                port =
                    Some(v.parse::<u16>().or_else(|_| {
                        usage(format!("--port {v:?} is not a number from 0 to 65535"))
                    })?);
            }
            "--key" => key = Some(unescape_text(&value("--key")?)?),
            "--key-hex" => key = Some(parse_hex(&value("--key-hex")?)?),
            "--giop" => version = parse_version(&value("--giop")?)?,
            "--orb-type" => {
                let v = value("--orb-type")?;
                let n = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                    Some(h) => u32::from_str_radix(h, 16),
                    None => v.parse(),
                };
                let n = n.or_else(|_| usage(format!("--orb-type {v:?} is not a number")))?;
                components.push(Component::OrbType(n));
            }
            "--code-sets" => {
                components.push(Component::CodeSets(CodeSetComponentInfo::omniorb_default()))
            }
            "--alternate" => {
                let v = value("--alternate")?;
                let (h, p) = v
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                    .map_or_else(|| usage(format!("--alternate {v:?} is not HOST:PORT")), Ok)?;
                components.push(Component::AlternateIiopAddress {
                    host: h.trim_start_matches('[').trim_end_matches(']').to_owned(),
                    port: p,
                });
            }
            "--big-endian" => order = ByteOrder::BigEndian,
            "--little-endian" => order = ByteOrder::LittleEndian,
            other => return usage(format!("unknown option {other:?}")),
        }
    }
    let (Some(type_id), Some(host), Some(port), Some(key)) = (type_id, host, port, key) else {
        return usage("encode needs --type-id, --host, --port and --key or --key-hex");
    };
    if version.minor == 0 && !components.is_empty() {
        return usage("an IIOP 1.0 profile cannot carry components");
    }
    let mut profile = IiopProfile::new(version, host, port, key);
    for c in &components {
        profile.components.push(
            c.to_tagged(order)
                .map_err(|e| Failure::Input(e.to_string()))?,
        );
    }
    let ior = Ior::with_iiop_profile(type_id, &profile, order)
        .and_then(|ior| ior.to_ior_string_in(order))
        .map_err(|e| Failure::Input(e.to_string()))?;
    Ok(format!("{ior}\n"))
}

/// Text with `%HH` escapes (any other character stands for its UTF-8 octets).
fn unescape_text(s: &str) -> Result<Vec<u8>, Failure> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(v) =
                hex.filter(|_| b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
            else {
                return usage(format!(
                    "--key: '%' at character {i} is not followed by two hex digits"
                ));
            };
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn parse_hex(s: &str) -> Result<Vec<u8>, Failure> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits).or_else(|e| usage(format!("--key-hex: {e}")))
}

fn parse_version(s: &str) -> Result<GiopVersion, Failure> {
    match s
        .split_once('.')
        .map(|(a, b)| (a.parse::<u8>(), b.parse::<u8>()))
    {
        Some((Ok(1), Ok(minor))) => Ok(GiopVersion::new(1, minor)),
        _ => usage(format!("--giop {s:?} is not 1.0, 1.1 or 1.2")),
    }
}
