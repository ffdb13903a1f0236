//! A real OCI client through the docker credential-helper mode: Debian's `skopeo` pushes and
//! inspects an image on Debian's `docker-registry` (the distribution registry), which runs on
//! loopback over TLS from the test CA and requires HTTP Basic auth for `gitlab-ci-token` with the
//! test token (bcrypt `htpasswd -B`). skopeo finds the helper the way Docker does: a
//! `credHelpers` entry `"localhost:PORT": "gitlab-ci"` and `docker-credential-gitlab-ci` (a
//! symlink to the binary, as install.sh makes it) on `PATH`. There is no Docker daemon on these
//! machines; skopeo needs none.
//!
//! Needs `docker-registry`, `skopeo` and `htpasswd` (apache2-utils), which `.ci/run` installs.
//! Without them these tests say so on stderr and pass — except when `CI=true`, where they fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    binary, find_on_path, find_token_in_trees, unique_token, ClientEnv, RunOutput, TestCa,
};

const TIMEOUT: Duration = Duration::from_secs(60);

fn tool_missing() -> Option<&'static str> {
    ["docker-registry", "skopeo", "htpasswd"]
        .into_iter()
        .find(|tool| find_on_path(tool).is_none())
}

/// `false` (after saying why) when the tools are not installed; panics instead under `CI=true`.
fn prerequisites() -> bool {
    match tool_missing() {
        None => true,
        Some(tool) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but {tool} is not installed (.ci/run installs docker-registry, skopeo, apache2-utils)")
        }
        Some(tool) => {
            eprintln!("SKIPPED docker registry test: {tool} is not installed (apt-get install docker-registry skopeo apache2-utils)");
            false
        }
    }
}

/// One `docker-registry serve` on 127.0.0.1 with TLS and htpasswd auth. Killed on drop.
///
/// The registry binds its own socket (it cannot take one inherited from the test), so it is
/// told to listen on port 0 — the kernel picks a free port as it binds, with no window in which
/// another process could take it — and the port is read back from the line the registry logs
/// once it listens (`listening on 127.0.0.1:PORT, tls`, the address of the bound socket).
struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    /// A registry that accepts `gitlab-ci-token` with `token` (and nobody else).
    fn start(ca: &TestCa, token: &str) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("docker-registry-")
            .tempdir()
            .unwrap();
        let htpasswd = dir.path().join("htpasswd");
        let out = Command::new(find_on_path("htpasswd").unwrap())
            .args(["-B", "-b", "-c"])
            .arg(&htpasswd)
            .args(["gitlab-ci-token", token])
            .output()
            .expect("run htpasswd");
        assert!(out.status.success(), "htpasswd: {out:?}");
        let cert = ca.localhost_cert();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log:\n  level: info\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:0\n  tls:\n    certificate: {cert}\n    key: {key}\n\
                 auth:\n  htpasswd:\n    realm: GitLab\n    path: {htpasswd}\n",
                data = dir.path().join("data").display(),
                cert = cert.chain_path.display(),
                key = cert.key_path.display(),
                htpasswd = htpasswd.display(),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(find_on_path("docker-registry").unwrap())
            .arg("serve")
            .arg(&config)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut registry = Registry {
            child,
            port: 0,
            dir,
        };
        registry.port = registry.wait_for_port();
        registry
    }

    /// The port of the registry's listening socket, from its log; panics if it exits first or
    /// has not listened after a generous time.
    fn wait_for_port(&mut self) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(port) = listening_port(&self.log()) {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `localhost:PORT`: the registry's name for clients, `credHelpers` and `CI_REGISTRY`.
    fn name(&self) -> String {
        format!("localhost:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// How many requests the registry let through after checking their credentials.
    fn authorized_requests(&self) -> usize {
        self.log().matches("msg=\"authorized request\"").count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in the registry's `listening on 127.0.0.1:PORT` log line, once it is there.
fn listening_port(log: &str) -> Option<u16> {
    let rest = log.split("listening on 127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    // A line still being written ends in the digits: wait for what follows them.
    let complete = rest.len() > digits.len();
    digits.parse().ok().filter(|&port| complete && port != 0)
}

#[test]
fn listening_port_is_read_from_the_registry_log() {
    let line =
        "time=\"x\" level=info msg=\"listening on 127.0.0.1:33405, tls\" go.version=go1.19.8\n";
    assert_eq!(listening_port(line), Some(33405));
    assert_eq!(listening_port("msg=\"listening on 127.0.0.1:334"), None);
    assert_eq!(
        listening_port("msg=\"listening on 127.0.0.1:0, tls\""),
        None
    );
    assert_eq!(
        listening_port("level=info msg=\"redis not configured\""),
        None
    );
}

fn sha256_hex(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sha256sum");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// A one-file tar archive (ustar), enough for a layer.
fn tar_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], 0o644);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], content.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    let text = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(text.as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(content);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

/// Writes an OCI image layout with one tagged image (one gzip layer holding `hello.txt`) into
/// `dir`, as `skopeo copy oci:DIR:TAG` reads it. No daemon, no build tool.
fn oci_layout(dir: &Path, tag: &str) {
    use std::io::Write;
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let blob = |bytes: &[u8]| -> (String, usize) {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let tar = tar_one_file("hello.txt", b"hello from the test image\n");
    let diff_id = format!("sha256:{}", sha256_hex(&tar));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let (layer, layer_size) = blob(&gz.finish().unwrap());
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let (config, config_size) = blob(config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size}],
    });
    let (manifest, manifest_size) = blob(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// skopeo's isolated world: a [`ClientEnv`] (own HOME, no inherited `XDG_*`, so skopeo does not
/// consult /run/containers/0/auth.json) with `docker-credential-gitlab-ci` first on PATH, an
/// auth file with only `credHelpers`, the CA's `ca.crt` cert dir, and an OCI layout to push.
struct Client {
    env: ClientEnv,
    auth: PathBuf,
    certs: PathBuf,
}

impl Client {
    fn new(ca: &TestCa, cred_helpers: &[String], env: &[(&str, &str)]) -> Client {
        let mut job = ClientEnv::builder(ca).no_helper().build();
        let bin = job.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // The docker name is a link to the file itself (see `binary::built`).
        std::os::unix::fs::symlink(binary::built(), bin.join("docker-credential-gitlab-ci"))
            .unwrap();
        job.set_var("PATH", format!("{}:/usr/bin:/bin", bin.display()));
        for (key, value) in env {
            job.set_var(key, value);
        }
        let helpers: serde_json::Map<String, serde_json::Value> = cred_helpers
            .iter()
            .map(|name| (name.clone(), "gitlab-ci".into()))
            .collect();
        let auth = job.work().join("auth.json");
        std::fs::write(
            &auth,
            serde_json::json!({ "credHelpers": helpers }).to_string(),
        )
        .unwrap();
        oci_layout(&job.work().join("oci"), "v1");
        Client {
            env: job,
            auth,
            certs: ca.cert_dir().to_path_buf(),
        }
    }

    fn skopeo(&self, args: &[&str]) -> RunOutput {
        let mut cmd = self.env.command(find_on_path("skopeo").unwrap());
        cmd.args(args);
        self.env.run_unchecked(cmd, TIMEOUT)
    }

    fn push(&self, registry: &str) -> RunOutput {
        self.skopeo(&[
            "copy",
            "--authfile",
            self.auth.to_str().unwrap(),
            "--dest-cert-dir",
            self.certs.to_str().unwrap(),
            "oci:oci:v1",
            &format!("docker://{registry}/group/project/image:v1"),
        ])
    }

    fn inspect(&self, registry: &str) -> RunOutput {
        self.skopeo(&[
            "inspect",
            "--authfile",
            self.auth.to_str().unwrap(),
            "--cert-dir",
            self.certs.to_str().unwrap(),
            &format!("docker://{registry}/group/project/image:v1"),
        ])
    }

    fn auth_file(&self) -> String {
        std::fs::read_to_string(&self.auth).unwrap()
    }

    /// Panics if the token is in any file of the client's world.
    #[track_caller]
    fn assert_token_in_no_file(&self, token: &str) {
        let found = find_token_in_trees(&[self.env.home()], token);
        assert!(found.is_empty(), "the token was written to {found:?}");
    }
}

/// A CA, a fresh token and a registry that accepts it; `None` (after saying why) when the
/// tools are missing outside CI.
fn registry_job(label: &str) -> Option<(TestCa, String, Registry)> {
    if !prerequisites() {
        return None;
    }
    let ca = TestCa::new();
    let token = unique_token(label);
    let registry = Registry::start(&ca, &token);
    Some((ca, token, registry))
}

#[test]
fn skopeo_pushes_and_inspects_through_the_helper_on_the_job_registry() {
    let Some((ca, token, registry)) = registry_job("registry") else {
        return;
    };
    let name = registry.name();
    let client = Client::new(
        &ca,
        std::slice::from_ref(&name),
        &[("CI_REGISTRY", &name), ("CI_JOB_TOKEN", &token)],
    );
    let auth_before = client.auth_file();

    let push = client.push(&name);
    assert!(push.success(), "{push}\nregistry log:\n{}", registry.log());
    let inspect = client.inspect(&name);
    assert!(inspect.success(), "{inspect}");
    let image: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(image["RepoTags"], serde_json::json!(["v1"]));
    assert!(
        registry.authorized_requests() > 0,
        "the registry saw no authenticated request:\n{}",
        registry.log()
    );
    for out in [&push, &inspect] {
        assert!(
            !out.stdout.contains(&token) && !out.stderr.contains(&token),
            "{out}"
        );
    }
    assert_eq!(
        client.auth_file(),
        auth_before,
        "the auth file is left alone"
    );
    client.assert_token_in_no_file(&token);
}

#[test]
fn skopeo_without_the_token_is_refused_so_the_helper_is_what_authenticates() {
    let Some((ca, token, registry)) = registry_job("registry-control") else {
        return;
    };
    let name = registry.name();
    // Same setup, but the helper knows no registry: it says "not found", skopeo goes anonymous.
    let client = Client::new(
        &ca,
        std::slice::from_ref(&name),
        &[("CI_JOB_TOKEN", &token)],
    );
    let push = client.push(&name);
    assert!(!push.success(), "{push}");
    assert!(
        push.stderr.contains("authentication required") || push.stderr.contains("unauthorized"),
        "{push}"
    );
    assert_eq!(registry.authorized_requests(), 0, "{}", registry.log());
}

#[test]
fn a_second_registry_never_receives_the_token_even_when_routed_to_the_helper() {
    let Some((ca, token, ours)) = registry_job("registry-two") else {
        return;
    };
    // The other registry would accept the token, so a leak would show as a successful push.
    let other = Registry::start(&ca, &token);
    let client = Client::new(
        &ca,
        &[ours.name(), other.name()],
        &[("CI_REGISTRY", &ours.name()), ("CI_JOB_TOKEN", &token)],
    );
    let push = client.push(&other.name());
    assert!(
        !push.success(),
        "the other registry accepted a push: {push}"
    );
    assert!(
        push.stderr.contains("authentication required") || push.stderr.contains("unauthorized"),
        "{push}"
    );
    assert_eq!(
        other.authorized_requests(),
        0,
        "the other registry authenticated a request:\n{}",
        other.log()
    );
    assert!(!push.stderr.contains(&token), "{push}");
    // The job's registry still works from the same client.
    let push = client.push(&ours.name());
    assert!(push.success(), "{push}");
    client.assert_token_in_no_file(&token);
}

#[test]
fn skopeo_authenticates_to_the_dependency_proxy_named_by_ci_dependency_proxy_server() {
    let Some((ca, token, registry)) = registry_job("dependency-proxy") else {
        return;
    };
    let name = registry.name();
    // Only CI_DEPENDENCY_PROXY_SERVER names it (GitLab writes it as host:port).
    let client = Client::new(
        &ca,
        std::slice::from_ref(&name),
        &[
            ("CI_DEPENDENCY_PROXY_SERVER", &name),
            ("CI_JOB_TOKEN", &token),
        ],
    );
    let push = client.push(&name);
    assert!(push.success(), "{push}\nregistry log:\n{}", registry.log());
    let inspect = client.inspect(&name);
    assert!(inspect.success(), "{inspect}");
    assert!(registry.authorized_requests() > 0, "{}", registry.log());
}
