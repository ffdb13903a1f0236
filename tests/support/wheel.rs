//! Small, valid pure-Python wheels (PEP 427) built in memory, for the PyPI registry: one module,
//! `METADATA`, `WHEEL` and a `RECORD` with each file's SHA-256, in a zip archive whose entries
//! are stored uncompressed (any zip reader accepts that; pip and uv verify the RECORD).
#![allow(dead_code)]

use base64::Engine as _;

/// A built wheel.
#[derive(Clone)]
pub struct Wheel {
    /// The distribution name as given (e.g. `private-lib`).
    pub name: String,
    pub version: String,
    /// `<name with _>-<version>-py3-none-any.whl`.
    pub filename: String,
    /// The importable module (`private_lib`).
    pub module: String,
    pub bytes: Vec<u8>,
}

impl Wheel {
    /// A wheel of distribution `name` (letters, digits, `-`, `_`, `.`) at `version` holding one
    /// module, named after the distribution with `-`/`.` as `_`, whose source is `source`.
    pub fn pure(name: &str, version: &str, source: &str) -> Wheel {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "not a distribution name: {name:?}"
        );
        let escaped: String = name
            .chars()
            .map(|c| if matches!(c, '-' | '.') { '_' } else { c })
            .collect();
        let module = escaped.to_ascii_lowercase();
        let dist_info = format!("{escaped}-{version}.dist-info");
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (format!("{module}.py"), source.as_bytes().to_vec()),
            (
                format!("{dist_info}/METADATA"),
                format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n").into_bytes(),
            ),
            (
                format!("{dist_info}/WHEEL"),
                b"Wheel-Version: 1.0\nGenerator: git-credential-gitlab-ci-tests\n\
                  Root-Is-Purelib: true\nTag: py3-none-any\n"
                    .to_vec(),
            ),
            (
                format!("{dist_info}/top_level.txt"),
                format!("{module}\n").into_bytes(),
            ),
        ];
        let mut record = String::new();
        for (path, data) in &files {
            let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(data));
            record.push_str(&format!("{path},sha256={digest},{}\n", data.len()));
        }
        record.push_str(&format!("{dist_info}/RECORD,,\n"));
        files.push((format!("{dist_info}/RECORD"), record.into_bytes()));
        Wheel {
            name: name.to_string(),
            version: version.to_string(),
            filename: format!("{escaped}-{version}-py3-none-any.whl"),
            module,
            bytes: stored_zip(&files),
        }
    }

    /// Lower-case hex SHA-256 of the wheel, as indexes link it (`#sha256=…`).
    pub fn sha256_hex(&self) -> String {
        sha256_hex(&self.bytes)
    }
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

pub fn sha256_hex(data: &[u8]) -> String {
    sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// A zip archive of `files`, each stored (method 0), dated 1980-01-01.
fn stored_zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    fn u16le(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let (crc, size, name_len) = (crc.sum(), data.len() as u32, name.len() as u16);
        let offset = out.len() as u32;
        // Local file header.
        u32le(&mut out, 0x0403_4b50);
        for v in [20, 0, 0, 0, DOS_DATE_1980_01_01] {
            u16le(&mut out, v); // version needed, flags, method, time, date
        }
        for v in [crc, size, size] {
            u32le(&mut out, v);
        }
        u16le(&mut out, name_len);
        u16le(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry: made by Unix (3), mode 0644.
        u32le(&mut central, 0x0201_4b50);
        for v in [0x0314, 20, 0, 0, 0, DOS_DATE_1980_01_01] {
            u16le(&mut central, v);
        }
        for v in [crc, size, size] {
            u32le(&mut central, v);
        }
        for v in [name_len, 0, 0, 0, 0] {
            u16le(&mut central, v); // name, extra, comment, disk, internal attributes
        }
        u32le(&mut central, 0o100644 << 16);
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (central_offset, central_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    for v in [0, 0, files.len() as u16, files.len() as u16] {
        u16le(&mut out, v);
    }
    u32le(&mut out, central_size);
    u32le(&mut out, central_offset);
    u16le(&mut out, 0);
    out
}
