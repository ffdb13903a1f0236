//! How the real-client tests (`tests/clients_*.rs`, `tests/near_miss_origins.rs`) set each
//! client up in a [`ClientEnv`]: Go's environment, a Python virtual environment, the `keyring`
//! link pip and uv run, and a Python package that builds without downloading a build tool.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use super::binary;
use super::env::ClientEnv;
use super::git_server::GitServer;

/// `GOAUTH` running the helper under test by absolute path, as the docs set it.
pub fn goauth_command() -> String {
    format!("{} goauth", binary::path().display())
}

/// `env` set up for `go`: everything Go writes under `HOME`, modules fetched directly from
/// their servers (go-get, then git), no proxy or checksum database for `private` (a `GOPRIVATE`
/// pattern), no toolchain download, and `GOAUTH=goauth`.
pub fn go_env(env: &mut ClientEnv, private: &str, goauth: &str) {
    let home = env.home().to_path_buf();
    for (key, dir) in [
        ("GOPATH", home.join("go")),
        ("GOMODCACHE", home.join("go/pkg/mod")),
        ("GOCACHE", home.join(".cache/go-build")),
    ] {
        fs::create_dir_all(&dir).unwrap();
        env.set_var(key, dir);
    }
    for (key, value) in [
        ("GOPROXY", "direct"),
        ("GOPRIVATE", private),
        ("GOAUTH", goauth),
        ("GOTOOLCHAIN", "local"),
        ("GOTELEMETRY", "off"),
        ("GOFLAGS", "-modcacherw"),
    ] {
        env.set_var(key, value);
    }
}

/// A `keyring` link to the helper under test, alone in a directory, first on `PATH` — as the
/// docs tell users, so a real keyring elsewhere is not shadowed for other commands.
pub fn link_keyring(env: &mut ClientEnv) {
    let dir = env.home().join("keyring-bin");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(binary::path(), dir.join("keyring")).unwrap();
    let path = env.var("PATH").unwrap_or_default().to_os_string();
    let dirs = std::iter::once(dir).chain(std::env::split_paths(&path));
    env.set_var("PATH", std::env::join_paths(dirs).unwrap());
}

/// A virtual environment `work/<name>` made by the `python3` on `PATH`; its pip is the one
/// `ensurepip` bundles (23.2 with CPython 3.11 on these machines).
pub fn venv(env: &ClientEnv, name: &str) -> PathBuf {
    let venv = env.work().join(name);
    env.run(env.command("python3").arg("-m").arg("venv").arg(&venv));
    venv
}

/// `git+<repository URL>`, as npm, pip, uv and poetry write git dependencies.
pub fn git_url(server: &GitServer, name: &str) -> String {
    format!("git+{}", server.repo_url(name))
}

/// A pure-Python package `name` in `group/<name>` on `server`, with a PEP 621 `[project]` table
/// and a ten-line in-tree PEP 517 backend, so pip, uv and poetry build it without downloading
/// setuptools; `requires` become its dependencies. Its module's `ANSWER` is
/// `"<name> from the private server"`. Returns the commit.
pub fn python_package(server: &GitServer, name: &str, requires: &[String]) -> String {
    let quoted: Vec<String> = requires.iter().map(|r| format!("{r:?}")).collect();
    let pyproject = format!(
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n\n\
         [project]\nname = \"{name}\"\nversion = \"0.1.0\"\ndependencies = [{}]\n",
        quoted.join(", ")
    );
    let requires_dist: String = requires
        .iter()
        .map(|r| format!("Requires-Dist: {r}\\n"))
        .collect();
    let backend = format!(
        r#"# A PEP 517 backend for one pure-Python module, so no build tool is downloaded.
import base64, hashlib, os, zipfile

NAME, VERSION = "{name}", "0.1.0"
METADATA = "Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n{requires_dist}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist = f"{{NAME}}-{{VERSION}}.dist-info"
    with open(os.path.join(NAME, "__init__.py"), "rb") as f:
        module = f.read()
    files = {{
        f"{{NAME}}/__init__.py": module,
        f"{{dist}}/METADATA": METADATA.encode(),
        f"{{dist}}/WHEEL": b"Wheel-Version: 1.0\nGenerator: backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }}
    digest = lambda d: base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    record = "".join(f"{{p}},sha256={{digest(d)}},{{len(d)}}\n" for p, d in files.items())
    wheel = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
        z.writestr(f"{{dist}}/RECORD", record + f"{{dist}}/RECORD,,\n")
    return wheel
"#
    );
    let answer = format!("ANSWER = {:?}\n", format!("{name} from the private server"));
    server.create_repo(
        &format!("group/{name}"),
        &[
            ("pyproject.toml", pyproject.as_bytes()),
            ("backend.py", backend.as_bytes()),
            (&format!("{name}/__init__.py"), answer.as_bytes()),
        ],
    )
}
