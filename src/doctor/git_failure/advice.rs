//! What each [`Cause`] means for people, and its exact fix.

use std::fmt;

use super::{project_path, Cause, HelperProblem, Network};

/// The project a fix names: a path as GitLab printed it, or a description.
fn or_the(path: &Option<String>, what: &str) -> String {
    path.clone().unwrap_or_else(|| what.to_string())
}

impl Cause {
    /// What happened, for people.
    pub fn explanation(&self) -> String {
        match self {
            Cause::TokenRejected => "the server rejected the job token (401): it is expired (a job token lasts only as long as its job), belongs to another job, or was sent with a user name other than gitlab-ci-token".into(),
            Cause::AllowlistDenied { source, target } => format!(
                "the job token of {} may not access {} (403): the target's CI/CD job token allowlist does not include the job's project",
                or_the(source, "this job's project"),
                or_the(target, "the target project")
            ),
            Cause::UserLacksAccess { target } => format!(
                "the user who triggered the pipeline cannot read {} (403): a job token has its user's permissions",
                or_the(target, "the target project")
            ),
            Cause::NotFound => "the project does not exist, or is not visible to this job (404)".into(),
            Cause::PushNotAllowed => "the target project does not allow pushes with a job token (403)".into(),
            Cause::ArchivedProject => "the target project is archived, so nothing can be pushed to it (403)".into(),
            Cause::HttpPullDisabled => "the server or project allows git over SSH only (403: pulling over HTTP is not allowed)".into(),
            Cause::HelperNotRunnable { program, ours, problem } => format!(
                "git could not run the credential helper {program}{}: {}",
                if *ours { " (this helper)" } else { "" },
                match problem {
                    HelperProblem::Missing => "it does not exist there",
                    HelperProblem::NotExecutable => "it is not executable",
                }
            ),
            Cause::HelperFailed { message } => format!("this helper ran and failed: {message}"),
            Cause::NoHelperAnswered => "no credential helper gave a credential for this URL, so git had none to send".into(),
            Cause::Tls => "TLS failed: the server's certificate is not trusted here, or its name does not match the URL".into(),
            Cause::Network(Network::Resolve) => "the server's name did not resolve (DNS)".into(),
            Cause::Network(Network::Connect) => "nothing answered on the server's host and port".into(),
            Cause::Network(Network::Timeout) => "the server did not answer in time".into(),
            Cause::Network(Network::Proxy) => "the proxy refused or failed the connection".into(),
            Cause::Forbidden => "the server refused access (403) without saying why".into(),
            Cause::TimedOut => "git did not finish in time".into(),
            Cause::Other => "git failed for a reason not recognised here".into(),
        }
    }

    /// The exact fix. `job_project` is this job's `CI_PROJECT_PATH`, when known, for the
    /// allowlist fix when GitLab's message did not name the source.
    pub fn fix(&self, job_project: Option<&str>) -> String {
        match self {
            Cause::TokenRejected => "use the running job's CI_JOB_TOKEN with the user name gitlab-ci-token; never a token saved in an image, cache or file from an earlier job".into(),
            Cause::AllowlistDenied { source, target } => {
                let source = source
                    .clone()
                    .or_else(|| job_project.and_then(project_path))
                    .unwrap_or_else(|| "this job's project (CI_PROJECT_PATH)".into());
                let target = or_the(target, "the target project");
                format!("add {source} to {target}'s job token allowlist: in {target}, Settings → CI/CD → Job token permissions, add {source}")
            }
            Cause::UserLacksAccess { target } => format!(
                "give the user who runs the pipeline at least Reporter access to {}, or run the pipeline as a user who has it",
                or_the(target, "the target project")
            ),
            Cause::NotFound => "check the URL (group, project, .git); if the project exists, make sure the job's project may see it: in the target, Settings → CI/CD → Job token permissions".into(),
            Cause::PushNotAllowed => "in the target project, Settings → CI/CD → Job token permissions, turn on \"Allow Git push requests to the repository\" (GitLab 17.2 or later)".into(),
            Cause::ArchivedProject => "unarchive the target project, or push elsewhere".into(),
            Cause::HttpPullDisabled => "an administrator allows HTTP(S) for git (Admin → Settings → General → Visibility and access controls → Enabled Git access protocols); or fetch over SSH".into(),
            Cause::HelperNotRunnable { ours: true, .. } => "install the helper where the configuration says, or run git-credential-gitlab-ci configure again with the installed binary".into(),
            Cause::HelperNotRunnable { ours: false, .. } => "install that helper, or remove it from credential.helper".into(),
            Cause::HelperFailed { .. } => "fix what the helper's message names (run git-credential-gitlab-ci doctor)".into(),
            Cause::NoHelperAnswered => "configure this helper for the server (git-credential-gitlab-ci configure --global), and use the server's exact https URL (same host and port as CI_SERVER_URL)".into(),
            Cause::Tls => "install the server's CA (GIT_SSL_CAINFO or the system trust store; cargo's libgit2 reads SSL_CERT_FILE), and use the name the certificate is for".into(),
            Cause::Network(Network::Proxy) => "check https_proxy, NO_PROXY and git's http.proxy".into(),
            Cause::Network(_) => "check the host name and port, DNS, the firewall and the proxy settings (https_proxy, NO_PROXY)".into(),
            Cause::Forbidden => "check the project's permissions and job token settings; run git with GIT_TRACE_CURL=1 to see the answer".into(),
            Cause::TimedOut => "check the network path to the server (DNS, firewall, proxy), or give a longer --timeout".into(),
            Cause::Other => "run the command by hand with GIT_CURL_VERBOSE=1 and GIT_CREDENTIAL_GITLAB_CI_DEBUG=1".into(),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explanation())
    }
}
