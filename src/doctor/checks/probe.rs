//! What the outcome of the probe means: 401, 403, 404, no helper answered, TLS, the network.

use super::super::report::Check;

/// What the outcome of `git ls-remote PROBE_URL` means.
pub fn explain(url: &str, success: bool, timed_out: bool, stderr: &str) -> Check {
    let shown = last_line(stderr);
    if success {
        return Check::ok("probe", format!("git ls-remote {url} succeeded"));
    }
    if timed_out {
        return Check::problem(
            "probe",
            format!("git ls-remote {url} did not finish in time"),
            "check the network path to the server: DNS, firewall, proxy (https_proxy, NO_PROXY)",
        );
    }
    let low = stderr.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| low.contains(n));
    let (text, fix) = if has(&[
        "returned error: 401",
        "authentication failed",
        "access denied",
    ]) {
        (
            "the server rejected the job token (401): it is expired (job tokens last as long as the job) or not a job token",
            "use the token of the running job (CI_JOB_TOKEN); do not cache it in an image or a file that outlives the job",
        )
    } else if has(&["returned error: 403", "403 forbidden"]) {
        (
            "the server refused access (403): the project is probably not in the target project's CI/CD job token allowlist",
            "in the target project: Settings > CI/CD > Job token permissions, add this job's project (or group) to the allowlist",
        )
    } else if has(&["not found", "returned error: 404"]) {
        (
            "the server answered 404: the project is not in the target project's CI/CD job token allowlist, or it does not exist (GitLab says 404 rather than 403 for projects a token may not see)",
            "check the URL; in the target project: Settings > CI/CD > Job token permissions, add this job's project (or group) to the allowlist",
        )
    } else if has(&[
        "terminal prompts disabled",
        "could not read username",
        "could not read password",
    ]) {
        (
            "no credential helper answered for this URL: its scheme, host and port are not those of a configured server, or the helper is not configured (see the checks above)",
            "use the server's exact https URL (same host and port as CI_SERVER_URL), or add it with --server",
        )
    } else if has(&["ssl", "certificate", "tls"]) {
        (
            "TLS failed: the server's certificate is not trusted here, or the name does not match",
            "install the CA (GIT_SSL_CAINFO, or the system trust store); for cargo's libgit2 use SSL_CERT_FILE",
        )
    } else if has(&[
        "could not resolve",
        "failed to connect",
        "couldn't connect",
        "connection refused",
        "timed out",
        "network is unreachable",
        "no route to host",
    ]) {
        (
            "the server could not be reached: a network, name or port problem",
            "check the host name and port, DNS, firewall and proxy settings",
        )
    } else {
        (
            "git ls-remote failed for another reason",
            "run it by hand with GIT_CURL_VERBOSE=1 and GIT_CREDENTIAL_GITLAB_CI_DEBUG=1",
        )
    };
    Check::problem(
        "probe",
        format!("git ls-remote {url}: {text} (git said: {shown})"),
        fix,
    )
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("nothing")
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::super::report::Status;
    use super::*;

    #[test]
    fn probe_failures_are_explained_by_kind() {
        let cases = [
            ("fatal: Authentication failed for 'https://h/x.git/'", "401"),
            ("fatal: unable to access 'https://h/x/': The requested URL returned error: 403", "allowlist"),
            ("remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://h/x.git/' not found", "Job token permissions"),
            ("fatal: could not read Username for 'https://h': terminal prompts disabled", "no credential helper answered"),
            ("fatal: unable to access 'https://h/x/': SSL certificate problem: self-signed certificate", "TLS"),
            ("fatal: unable to access 'https://h/x/': Could not resolve host: h", "could not be reached"),
        ];
        for (stderr, needle) in cases {
            let check = explain("https://h/x.git", false, false, stderr);
            let all = format!("{} {}", check.text, check.fix.clone().unwrap_or_default());
            assert!(all.contains(needle), "{stderr}: {all}");
            assert_eq!(check.status, Status::Problem);
        }
        assert_eq!(explain("u", true, false, "").status, Status::Ok);
        assert!(explain("u", false, true, "").text.contains("in time"));
    }
}
