//! GIOP messages captured from real omniORB 4.2.5 traffic (nameclt, omniNames, eventc,
//! omniEvents; see tests/vectors/README.md): every message decodes, every manifest field
//! matches exactly, and re-encoding the decoded header and body reproduces the captured
//! octets except where omniORB left uninitialised padding (which a decoder must ignore).

use orb::cdr::ByteOrder;
use orb::giop::{CompletionStatus, Framer, Header, Message, ReplyStatus, TargetAddress};
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

struct Row {
    file: String,
    giop_version: String,
    little_endian: String,
    msg_type: String,
    msg_size: String,
    request_id: String,
    operation: String,
    reply_status: String,
    object_key_hex: String,
}

fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(vectors_dir().join("manifest.tsv")).expect("manifest.tsv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("file\tgiop_version\tlittle_endian\tmsg_type\tmsg_size\trequest_id\toperation\treply_status\tobject_key_hex")
    );
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 9, "manifest row {l:?}");
            Row {
                file: c[0].into(),
                giop_version: c[1].into(),
                little_endian: c[2].into(),
                msg_type: c[3].into(),
                msg_size: c[4].into(),
                request_id: c[5].into(),
                operation: c[6].into(),
                reply_status: c[7].into(),
                object_key_hex: c[8].into(),
            }
        })
        .collect()
}

fn bin_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            bin_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "bin") {
            let rel = path.strip_prefix(vectors_dir()).unwrap();
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

fn dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Positions whose value the decoder ignores (padding and reserved octets): changing one
/// leaves the decoded header and the body offset unchanged.
fn ignored_positions(bytes: &[u8], msg: &Message<'_>) -> Vec<usize> {
    let mut ignored = Vec::new();
    for i in 12..msg.body_offset() {
        let mut copy = bytes.to_vec();
        copy[i] ^= 0xff;
        if let Ok(m) = Message::decode(&copy) {
            if m.header() == msg.header() && m.body_offset() == msg.body_offset() {
                ignored.push(i);
            }
        }
    }
    ignored
}

#[test]
fn every_captured_message_matches_its_manifest_row_and_re_encodes() {
    let rows = manifest();
    let mut files = Vec::new();
    bin_files(&vectors_dir(), &mut files);
    files.sort();
    let mut listed: Vec<String> = rows.iter().map(|r| r.file.clone()).collect();
    listed.sort();
    assert_eq!(files, listed, "manifest.tsv lists exactly the .bin files");
    assert!(rows.len() >= 100, "only {} vectors", rows.len());

    let mut masked = 0;
    for row in &rows {
        let bytes = std::fs::read(vectors_dir().join(&row.file)).unwrap();
        let ctx = &row.file;

        // The framer cuts the file into exactly one message, whole.
        let mut framer = Framer::giop();
        framer.push(&bytes);
        let frame = framer
            .poll_message()
            .unwrap_or_else(|e| panic!("{ctx}: {e}"))
            .unwrap();
        assert_eq!(frame.as_bytes(), &bytes[..], "{ctx}");
        assert!(framer.poll_message().unwrap().is_none(), "{ctx}");

        let msg = Message::decode(&bytes).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(msg.version().to_string(), row.giop_version, "{ctx}");
        let le = (msg.order() == ByteOrder::LittleEndian) as u8;
        assert_eq!(le.to_string(), row.little_endian, "{ctx}");
        assert_eq!(msg.msg_type().to_string(), row.msg_type, "{ctx}");
        assert_eq!((bytes.len() - 12).to_string(), row.msg_size, "{ctx}");
        assert_eq!(dash(msg.header().request_id()), row.request_id, "{ctx}");
        let (operation, status, key) = match msg.header() {
            Header::Request(r) => (
                Some(r.operation.to_string()),
                None,
                r.target.object_key().map(hex),
            ),
            Header::Reply(r) => (None, Some(r.reply_status.to_string()), None),
            Header::LocateRequest(r) => (None, None, r.target.object_key().map(hex)),
            Header::LocateReply(r) => (None, Some(r.locate_status.to_string()), None),
            _ => (None, None, None),
        };
        assert_eq!(dash(operation), row.operation, "{ctx}");
        assert_eq!(dash(status), row.reply_status, "{ctx}");
        assert_eq!(
            key.unwrap_or_else(|| "-".into()),
            row.object_key_hex,
            "{ctx}"
        );

        // Re-encoding reproduces every octet the decoder looks at; the octets it ignores
        // come back as zeros.
        let again = msg.encode().unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(again.len(), bytes.len(), "{ctx}");
        let ignored = ignored_positions(&bytes, &msg);
        for (i, (&a, &b)) in again.iter().zip(&bytes).enumerate() {
            if ignored.contains(&i) {
                assert_eq!(a, 0, "{ctx}: ignored octet {i} re-encodes as zero");
                masked += (a != b) as usize;
            } else {
                assert_eq!(a, b, "{ctx}: octet {i}");
            }
        }
        // Nothing but padding and reserved octets is ignored: at most 7 per aligned field.
        assert!(
            ignored.len() <= 24,
            "{ctx}: {} ignored octets",
            ignored.len()
        );
        assert_eq!(
            Message::decode(&again).unwrap().header(),
            msg.header(),
            "{ctx}"
        );

        check_body(ctx, &msg);
    }
    // The README promises non-zero padding in the captures; make sure the mask was needed.
    assert!(masked > 0, "no capture exercised the padding mask");
}

/// What the README says the bodies hold.
fn check_body(ctx: &str, msg: &Message<'_>) {
    match msg.header() {
        Header::Request(r) => {
            assert!(
                r.service_context.is_empty(),
                "{ctx}: omniORB sent no contexts"
            );
            assert!(r.requesting_principal.is_empty(), "{ctx}");
            assert!(matches!(r.target, TargetAddress::KeyAddr(_)), "{ctx}");
            if r.operation == "_is_a" {
                let id = msg.body_decoder().read_string().unwrap();
                assert!(id.starts_with("IDL:"), "{ctx}: {id}");
            }
        }
        Header::Reply(r) => match r.reply_status {
            ReplyStatus::SystemException => {
                let ex = msg.system_exception().unwrap();
                assert_eq!(
                    ex.exception_id, "IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0",
                    "{ctx}"
                );
                assert_eq!(ex.minor, 0x4f4d_0001, "{ctx}");
                assert_eq!(ex.completed, CompletionStatus::No, "{ctx}");
            }
            ReplyStatus::UserException => {
                let id = msg.body_decoder().read_string().unwrap();
                assert!(
                    id.starts_with("IDL:omg.org/CosNaming/NamingContext/"),
                    "{ctx}: {id}"
                );
            }
            _ => {}
        },
        _ => {}
    }
}

/// Each direction of each captured connection, concatenated, frames back into its messages
/// whatever the chunking.
#[test]
fn captured_streams_frame_in_any_chunking() {
    let rows = manifest();
    let mut streams: std::collections::BTreeMap<(String, bool), Vec<Vec<u8>>> = Default::default();
    for row in &rows {
        let (dir, name) = row.file.split_once('/').unwrap();
        let c2s = name.contains("-c2s-");
        let bytes = std::fs::read(vectors_dir().join(&row.file)).unwrap();
        streams
            .entry((dir.to_string(), c2s))
            .or_default()
            .push(bytes);
    }
    for ((dir, _), msgs) in streams {
        let stream = msgs.concat();
        for chunk in [1, 3, 7, 64, 4096] {
            let mut framer = Framer::giop();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                framer.push(piece);
                while let Some(f) = framer.poll_message().unwrap() {
                    got.push(f.into_vec());
                }
            }
            assert_eq!(got, msgs, "{dir} in chunks of {chunk}");
        }
    }
}
