//! A throw-away certificate authority for one test, and leaf certificates signed by it.
//!
//! Everything is written as PEM into a temporary directory that lives as long as the
//! [`TestCa`] (clones share it). Clients are pointed at the files:
//! - [`TestCa::ca_cert_path`] for `GIT_SSL_CAINFO` (git, git-lfs) or a `ca.crt` in a cert dir;
//! - [`TestCa::bundle_path`] (system CAs + test CA) for `SSL_CERT_FILE`, which libgit2
//!   (cargo's default transport) and Go read.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Where Debian keeps the system's trusted CAs.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A CA generated for this test. Cheap to clone; the files are removed when the last clone
/// is dropped.
#[derive(Clone)]
pub struct TestCa {
    inner: Arc<CaInner>,
}

struct CaInner {
    dir: tempfile::TempDir,
    cert: rcgen::Certificate,
    key: KeyPair,
    ca_cert_path: PathBuf,
    bundle_path: PathBuf,
    cert_dir: PathBuf,
    issued: AtomicUsize,
}

/// A leaf certificate and its key, in memory and as PEM files.
pub struct LeafCert {
    pub names: Vec<String>,
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// Leaf followed by the CA certificate, for servers that want a full chain file.
    pub chain_path: PathBuf,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl TestCa {
    /// Generates a new CA (ECDSA P-256) and writes `ca.crt` and `bundle.crt`.
    pub fn new() -> TestCa {
        let dir = tempfile::Builder::new()
            .prefix("gitlab-ci-test-ca-")
            .tempdir()
            .expect("create CA temp dir");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "git-credential-gitlab-ci test CA");
        dn.push(DnType::OrganizationName, "git-credential-gitlab-ci tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("generate CA key");
        let cert = params.self_signed(&key).expect("self-sign CA");

        let ca_cert_path = dir.path().join("ca.crt");
        fs::write(&ca_cert_path, cert.pem()).expect("write ca.crt");
        let cert_dir = dir.path().join("cert-dir");
        fs::create_dir(&cert_dir).expect("create cert-dir");
        fs::write(cert_dir.join("ca.crt"), cert.pem()).expect("write cert-dir/ca.crt");

        let mut bundle = fs::read(SYSTEM_CA_BUNDLE).unwrap_or_default();
        if !bundle.is_empty() && !bundle.ends_with(b"\n") {
            bundle.push(b'\n');
        }
        bundle.extend_from_slice(cert.pem().as_bytes());
        let bundle_path = dir.path().join("bundle.crt");
        fs::write(&bundle_path, bundle).expect("write bundle.crt");

        TestCa {
            inner: Arc::new(CaInner {
                dir,
                cert,
                key,
                ca_cert_path,
                bundle_path,
                cert_dir,
                issued: AtomicUsize::new(0),
            }),
        }
    }

    /// The CA certificate alone (PEM).
    pub fn ca_cert_path(&self) -> &Path {
        &self.inner.ca_cert_path
    }

    /// The CA certificate as PEM text.
    pub fn ca_cert_pem(&self) -> String {
        self.inner.cert.pem()
    }

    /// System CAs followed by the test CA (PEM), for `SSL_CERT_FILE`.
    pub fn bundle_path(&self) -> &Path {
        &self.inner.bundle_path
    }

    /// A directory holding only `ca.crt`, for `skopeo --cert-dir` / `--dest-cert-dir` and
    /// Docker's `certs.d/<host:port>/` layout. ([`Self::dir`] is not suitable: containers/image
    /// treats every `*.key` there as half of a client certificate.)
    pub fn cert_dir(&self) -> &Path {
        &self.inner.cert_dir
    }

    /// The directory holding this CA's files (and the leaf certificates it issued).
    pub fn dir(&self) -> &Path {
        self.inner.dir.path()
    }

    /// The certificate our test git server uses: DNS `localhost` and IP `127.0.0.1`.
    pub fn localhost_cert(&self) -> LeafCert {
        self.issue(&["localhost", "127.0.0.1"])
    }

    /// Issues a server certificate signed by this CA for the given names. A name that parses
    /// as an IP address becomes an IP subject alternative name, anything else a DNS name.
    /// Files are written as `leaf-N.crt`, `leaf-N.key` and `leaf-N-chain.crt` in [`Self::dir`].
    pub fn issue(&self, names: &[&str]) -> LeafCert {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("leaf params");
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_else(|| "test".into()),
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("generate leaf key");
        let cert = params
            .signed_by(&key, &self.inner.cert, &self.inner.key)
            .expect("sign leaf");

        let n = self.inner.issued.fetch_add(1, Ordering::SeqCst);
        let dir = self.dir();
        let cert_path = dir.join(format!("leaf-{n}.crt"));
        let key_path = dir.join(format!("leaf-{n}.key"));
        let chain_path = dir.join(format!("leaf-{n}-chain.crt"));
        fs::write(&cert_path, cert.pem()).expect("write leaf cert");
        fs::write(&key_path, key.serialize_pem()).expect("write leaf key");
        fs::write(&chain_path, format!("{}{}", cert.pem(), self.ca_cert_pem()))
            .expect("write chain");
        LeafCert {
            names,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_path,
            key_path,
            chain_path,
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl LeafCert {
    /// A rustls server configuration (ring provider, TLS 1.2 and 1.3) serving this
    /// certificate followed by the CA certificate.
    pub fn rustls_server_config(&self, ca: &TestCa) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = vec![self.cert_der.clone(), ca.inner.cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}
