//! What GitLab answers, and to whom: the texts of its refusals (one place, for the server and for
//! the tests that classify them) and the per-project access model, as pure functions.
//!
//! Read from GitLab's own sources (`lib/gitlab/git_access.rb`, `app/controllers/repositories/
//! git_http_client_controller.rb`, `lib/gitlab/middleware/go.rb`, `lib/api/pypi_packages.rb`,
//! `lib/api/helpers/packages/basic_auth_helpers.rb`) and `../shared/reference/gitlab-responses.md`.
//! The order of the checks is GitLab's: authentication first (so a missing or private project is
//! a 401 for anyone without valid credentials — existence is never revealed), then whether git
//! over HTTP is enabled at all, then whether the project exists, then whether the caller may read
//! it, then push rights.
//!
//! **Project paths in the job-token messages are GitLab's `Project#path`, the last segment only**
//! (`from app to lib`, not `from group/app to group/sub/lib`): GitLab formats them with
//! `source_project.path` and `project.path`. A classifier cannot read the full paths from the
//! message; it knows the source from `CI_PROJECT_PATH` and the target from the URL.
#![allow(dead_code)]

/// `WWW-Authenticate` of every git-over-HTTP 401.
pub const GIT_REALM: &str = "Basic realm=\"GitLab\"";
/// `WWW-Authenticate` of the package registries' 401 (PyPI, npm, Maven, ...).
pub const PACKAGES_REALM: &str = "Basic realm=\"GitLab Packages Registry\"";

/// GitLab's template of the 401 body (`%{help_page_url}` is [`HELP_PAGE_PATH`] on the server).
pub const ACCESS_DENIED: &str = "HTTP Basic: Access denied. If a password was provided for Git \
authentication, the password was incorrect or you're required to use a token instead of a \
password. If a token was provided, it was either incorrect, expired, or improperly scoped. See \
%{help_page_url}";
pub const HELP_PAGE_PATH: &str =
    "/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied";
/// 403: the source project is not in the target's "Job token permissions" allowlist.
pub const NOT_ALLOWLISTED: &str = "Authentication by CI/CD job token not allowed from \
%{source_project_path} to %{target_project_path}.";
/// 403: allowlisted, but the user who triggered the pipeline cannot read the target.
pub const USER_LACKS_ACCESS: &str =
    "Insufficient permissions to pull from the repository of project %{target_project_path}.";
/// 404: no such project, or one this (authenticated) caller may not see.
pub const PROJECT_NOT_FOUND: &str =
    "The project you were looking for could not be found or you don't have permission to view it.";
/// 404: the project exists but has no repository yet.
pub const NO_REPOSITORY: &str = "A repository for this project does not exist yet.";
/// 403 on push: job-token pushes are off ("Allow Git push requests to the repository").
pub const PUSH_NOT_ALLOWED: &str = "You are not allowed to push code to this project.";
/// 403 on push to an archived project.
pub const ARCHIVED: &str = "You can't push code to an archived project.";
/// 403: the instance disabled `git-upload-pack` over HTTP.
pub const PULL_OVER_HTTP_DISABLED: &str = "Pulling over HTTP is not allowed.";
/// 403: the instance disabled `git-receive-pack` over HTTP.
pub const PUSH_OVER_HTTP_DISABLED: &str = "Pushing over HTTP is not allowed.";
/// LFS 403 `message` (only when the caller could read the project).
pub const LFS_FORBIDDEN: &str = "Access forbidden. Check your access level.";
/// LFS 404 `message` (also what a caller who may not read the project gets).
pub const LFS_NOT_FOUND: &str = "Not found.";
/// API (package registry) error bodies.
pub const API_UNAUTHORIZED: &str = r#"{"message":"401 Unauthorized"}"#;
pub const API_NOT_FOUND: &str = r#"{"message":"404 Not Found"}"#;
pub const API_PACKAGE_NOT_FOUND: &str = r#"{"message":"404 Package Not Found"}"#;

/// GitLab's `format(template, key: value)`.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("%{{{key}}}"), value)
        })
}

/// The 401 body as `server_url` (e.g. `https://gitlab.test`) sends it.
pub fn access_denied(server_url: &str) -> String {
    fill(
        ACCESS_DENIED,
        &[("help_page_url", &format!("{server_url}{HELP_PAGE_PATH}"))],
    )
}

/// GitLab's `Project#path`: the last segment of a full path.
pub fn project_slug(full_path: &str) -> &str {
    full_path.rsplit('/').next().unwrap_or(full_path)
}

/// The allowlist refusal for a job of `source` (full path) reaching `target` (full path).
pub fn not_allowlisted(source: &str, target: &str) -> String {
    fill(
        NOT_ALLOWLISTED,
        &[
            ("source_project_path", project_slug(source)),
            ("target_project_path", project_slug(target)),
        ],
    )
}

/// The refusal when the triggering user cannot read `target` (full path).
pub fn user_lacks_access(target: &str) -> String {
    fill(
        USER_LACKS_ACCESS,
        &[("target_project_path", project_slug(target))],
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone may read (clone, go-get, packages) without credentials.
    Public,
    Private,
}

/// One project's settings that decide GitLab's answer to a job token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectAccess {
    pub visibility: Visibility,
    /// Settings → CI/CD → Job token permissions: the projects (full paths) whose job tokens may
    /// reach this one. A group's path admits every project below it. A project's own jobs are
    /// always admitted.
    pub allowlist: Vec<String>,
    /// Whether the user who triggered the job's pipeline may read this project.
    pub triggering_user_has_access: bool,
    /// "Allow Git push requests to the repository" for job tokens (GitLab ≥ 17.2; off by
    /// default on GitLab, on by default here so the existing push tests keep working).
    pub job_token_push: bool,
    pub archived: bool,
}

impl ProjectAccess {
    /// What `GitServer::create_repo` gives a project: private, admitting the
    /// job's project `job_project`, readable by the triggering user, job-token pushes allowed.
    pub fn private_for(job_project: &str) -> ProjectAccess {
        ProjectAccess {
            visibility: Visibility::Private,
            allowlist: vec![job_project.to_string()],
            triggering_user_has_access: true,
            job_token_push: true,
            archived: false,
        }
    }

    /// Whether a job of project `source` passes this project's (`target`'s) allowlist.
    pub fn admits(&self, source: &str, target: &str) -> bool {
        source == target
            || self.allowlist.iter().any(|entry| {
                source == entry
                    || source
                        .strip_prefix(entry.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

/// Instance-wide settings (GitLab's `gitlab_shell.upload_pack` / `receive_pack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GitHttp {
    pub pull: bool,
    pub push: bool,
}

/// What a request's credentials amount to, as GitLab's authentication sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// No HTTP Basic credentials (no header, or another scheme).
    Anonymous,
    /// HTTP Basic credentials that do not authenticate: a wrong or expired token, or a user
    /// name other than `gitlab-ci-token`.
    Rejected,
    /// `gitlab-ci-token` with the job's token.
    JobToken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GitOperation {
    /// `git-upload-pack`: clone, fetch, ls-remote (and LFS downloads).
    Pull,
    /// `git-receive-pack`: push (and LFS uploads).
    Push,
}

/// Why GitLab refuses a git request, with the status and text it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    Unauthorized,
    PullOverHttpDisabled,
    PushOverHttpDisabled,
    ProjectNotFound,
    NotAllowlisted { source: String, target: String },
    UserLacksAccess { target: String },
    Archived,
    PushNotAllowed,
}

impl Denial {
    pub fn status(&self) -> u16 {
        match self {
            Denial::Unauthorized => 401,
            Denial::ProjectNotFound => 404,
            _ => 403,
        }
    }

    /// The `text/plain` body; `server_url` only appears in the 401's help link.
    pub fn message(&self, server_url: &str) -> String {
        match self {
            Denial::Unauthorized => access_denied(server_url),
            Denial::PullOverHttpDisabled => PULL_OVER_HTTP_DISABLED.into(),
            Denial::PushOverHttpDisabled => PUSH_OVER_HTTP_DISABLED.into(),
            Denial::ProjectNotFound => PROJECT_NOT_FOUND.into(),
            Denial::NotAllowlisted { source, target } => not_allowlisted(source, target),
            Denial::UserLacksAccess { target } => user_lacks_access(target),
            Denial::Archived => ARCHIVED.into(),
            Denial::PushNotAllowed => PUSH_NOT_ALLOWED.into(),
        }
    }
}

/// GitLab's `read_project` for this caller: public projects for anyone; private ones for a job
/// token whose project passes the allowlist, when the triggering user may read them.
pub fn can_read(target: &str, access: &ProjectAccess, credential: Credential, job: &str) -> bool {
    access.visibility == Visibility::Public
        || (credential == Credential::JobToken
            && access.admits(job, target)
            && access.triggering_user_has_access)
}

/// GitLab's answer to a git request (`info/refs` or the POST that follows) for project `target`
/// (`None`: there is no such project), from a job of project `job` (its `CI_PROJECT_PATH`).
pub fn git_access(
    target: &str,
    project: Option<&ProjectAccess>,
    operation: GitOperation,
    credential: Credential,
    job: &str,
    http: GitHttp,
) -> Result<(), Denial> {
    // GitHttpClientController#authenticate_user: credentials that fail are a 401 even for a
    // public project; without credentials only a pull of a public project goes on.
    let anonymous_pull = operation == GitOperation::Pull
        && project.is_some_and(|p| p.visibility == Visibility::Public);
    match credential {
        Credential::Rejected => return Err(Denial::Unauthorized),
        Credential::Anonymous if !anonymous_pull => return Err(Denial::Unauthorized),
        _ => {}
    }
    // GitAccess#check: command disabled, container, accessibility, then push rights.
    match operation {
        GitOperation::Pull if !http.pull => return Err(Denial::PullOverHttpDisabled),
        GitOperation::Push if !http.push => return Err(Denial::PushOverHttpDisabled),
        _ => {}
    }
    let Some(access) = project else {
        return Err(Denial::ProjectNotFound);
    };
    if !can_read(target, access, credential, job) {
        // Only a job token gets here (anonymous callers stopped at the 401).
        return Err(if access.admits(job, target) {
            Denial::UserLacksAccess {
                target: target.into(),
            }
        } else {
            Denial::NotAllowlisted {
                source: job.into(),
                target: target.into(),
            }
        });
    }
    if operation == GitOperation::Push {
        if access.archived {
            return Err(Denial::Archived);
        }
        let job_may_push = credential == Credential::JobToken
            && access.job_token_push
            && access.admits(job, target)
            && access.triggering_user_has_access;
        if !job_may_push {
            return Err(Denial::PushNotAllowed);
        }
    }
    Ok(())
}
