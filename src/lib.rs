//! git-credential-gitlab-ci (skeleton)
