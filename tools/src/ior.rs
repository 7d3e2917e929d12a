//! `rtorb ior decode|encode`: a thin face of `rtorb::ior`, which does all the parsing and
//! formatting (decode prints what omniORB's `catior` prints).

use clap::{Args, Subcommand};
use rtorb::cdr::{ByteOrder, GiopVersion};
use rtorb::iop::Ior;
use rtorb::ior::{
    describe_url, parse_object_url, unescape_key, CodeSetComponentInfo, Component, DescribeOptions,
    IiopProfile,
};

#[derive(Subcommand, Debug)]
pub enum IorCommand {
    /// Shows an IOR's type id and profiles (GIOP version, host, port, object key,
    /// components), or a corbaloc:/corbaname: URL's addresses and key.
    Decode(DecodeArgs),
    /// Makes a stringified IOR with one IIOP profile.
    Encode(EncodeArgs),
}

#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Object keys in hex (as `catior -x`).
    #[arg(short = 'x', long)]
    hex_key: bool,
    /// Says whether keys look like omniORB POA/BOA keys (as `catior -o`).
    #[arg(short = 'o', long)]
    omniorb_key: bool,
    /// Also prints the octets of components catior does not decode.
    #[arg(short, long)]
    verbose: bool,
    /// `IOR:…`, `corbaloc:…`, `corbaname:…`, or a file holding one.
    reference: String,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("object_key").required(true).args(["key", "key_hex"])))]
pub struct EncodeArgs {
    /// The repository id (`IDL:Echo:1.0`).
    #[arg(long)]
    type_id: String,
    #[arg(long)]
    host: String,
    #[arg(long)]
    port: u16,
    /// The object key as text; `%HH` stands for the octet HH.
    #[arg(long)]
    key: Option<String>,
    /// The object key in hex (`0x` optional).
    #[arg(long, value_parser = crate::parse_hex)]
    key_hex: Option<Vec<u8>>,
    /// The profile's IIOP version.
    #[arg(long, default_value = "1.2", value_parser = parse_version)]
    giop: GiopVersion,
    /// Adds TAG_ORB_TYPE with this number (decimal or 0x hex; omniORB's is 0x41545400).
    #[arg(long, value_parser = parse_u32)]
    orb_type: Option<u32>,
    /// Adds TAG_CODE_SETS with omniORB's defaults.
    #[arg(long)]
    code_sets: bool,
    /// Adds TAG_ALTERNATE_IIOP_ADDRESS (repeatable).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    alternate: Vec<(String, u16)>,
    /// Encodes big-endian (default: this machine's order).
    #[arg(long, conflicts_with = "little_endian")]
    big_endian: bool,
    #[arg(long)]
    little_endian: bool,
}

/// What the command prints, or why it cannot.
pub fn run(command: &IorCommand) -> Result<String, String> {
    match command {
        IorCommand::Decode(a) => decode(a),
        IorCommand::Encode(a) => encode(a),
    }
}

fn decode(a: &DecodeArgs) -> Result<String, String> {
    let text = if is_reference(&a.reference) {
        a.reference.clone()
    } else {
        std::fs::read_to_string(&a.reference).map_err(|e| {
            format!(
                "{:?} is not an IOR:, corbaloc: or corbaname: string, nor a readable file: {e}",
                a.reference
            )
        })?
    };
    let url = parse_object_url(text.trim()).map_err(|e| e.to_string())?;
    let opts = DescribeOptions {
        hex_key: a.hex_key,
        omniorb_key: a.omniorb_key,
        raw_unknown: a.verbose,
    };
    describe_url(&url, opts).map_err(|e| e.to_string())
}

fn is_reference(s: &str) -> bool {
    let scheme = s.split(':').next().unwrap_or("");
    s.contains(':')
        && ["IOR", "corbaloc", "corbaname"]
            .iter()
            .any(|k| scheme.eq_ignore_ascii_case(k))
}

fn encode(a: &EncodeArgs) -> Result<String, String> {
    let key = match (&a.key, &a.key_hex) {
        (Some(text), _) => unescape_key(text).map_err(|e| format!("--key: {e}"))?,
        (None, Some(octets)) => octets.clone(),
        (None, None) => return Err("give the object key with --key or --key-hex".into()),
    };
    let order = match (a.big_endian, a.little_endian) {
        (true, _) => ByteOrder::BigEndian,
        (_, true) => ByteOrder::LittleEndian,
        _ => ByteOrder::NATIVE,
    };
    let mut components: Vec<Component> = Vec::new();
    components.extend(a.orb_type.map(Component::OrbType));
    if a.code_sets {
        components.push(Component::CodeSets(CodeSetComponentInfo::omniorb_default()));
    }
    components.extend(
        a.alternate
            .iter()
            .map(|(host, port)| Component::AlternateIiopAddress {
                host: host.clone(),
                port: *port,
            }),
    );
    if a.giop.minor == 0 && !components.is_empty() {
        return Err("an IIOP 1.0 profile cannot carry components: use --giop 1.1 or 1.2".into());
    }
    let mut profile = IiopProfile::new(a.giop, a.host.clone(), a.port, key);
    for c in &components {
        profile
            .components
            .push(c.to_tagged(order).map_err(|e| e.to_string())?);
    }
    let ior = Ior::with_iiop_profile(a.type_id.clone(), &profile, order)
        .and_then(|ior| ior.to_ior_string_in(order))
        .map_err(|e| e.to_string())?;
    Ok(format!("{ior}\n"))
}

fn parse_version(s: &str) -> Result<GiopVersion, String> {
    let minor = s.strip_prefix("1.").and_then(|m| m.parse::<u8>().ok());
    match minor {
        Some(minor @ 0..=2) => Ok(GiopVersion::new(1, minor)),
        _ => Err("give 1.0, 1.1 or 1.2".into()),
    }
}

fn parse_u32(s: &str) -> Result<u32, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("not a 32-bit number: {e}"))
}

fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or("give HOST:PORT")?;
    let port = port
        .parse()
        .map_err(|_| format!("port {port:?} is not a number from 0 to 65535"))?;
    Ok((
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
    ))
}
