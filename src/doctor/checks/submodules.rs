//! Submodules: SSH-style URLs for a server bypass https, and so this helper, unless an
//! `insteadOf` rewrites them.

use crate::gitconfig::Entry;

use super::super::report::Check;

/// The host of an SSH-style URL: `ssh://[user@]host[:port]/path` or `[user@]host:path`.
pub fn ssh_host(url: &str) -> Option<String> {
    if let Some(rest) = url
        .strip_prefix("ssh://")
        .or_else(|| url.strip_prefix("git+ssh://"))
        .or_else(|| url.strip_prefix("ssh+git://"))
    {
        let authority = rest.split('/').next()?;
        let host = authority.rsplit('@').next()?;
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next()?.to_string(),
            None => host.split(':').next()?.to_string(),
        };
        return Some(host.to_ascii_lowercase());
    }
    if url.contains("://") {
        return None;
    }
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None; // a local path
    }
    let host = url[..colon].rsplit('@').next()?;
    Some(host.to_ascii_lowercase())
}

/// SSH-style submodule URLs for a server host that no `insteadOf` rewrites to https.
pub fn check(submodules: &[(String, String)], hosts: &[String], entries: &[Entry]) -> Vec<Check> {
    let rewrites: Vec<(&str, &str)> = entries
        .iter()
        .filter_map(|e| match (e.parts(), e.value.as_deref()) {
            (("url", Some(base), "insteadof"), Some(value)) if !value.is_empty() => {
                Some((base, value))
            }
            _ => None,
        })
        .collect();
    let mut checks = Vec::new();
    for (name, url) in submodules {
        let Some(host) = ssh_host(url) else { continue };
        if !hosts.contains(&host) {
            continue;
        }
        let best = rewrites
            .iter()
            .filter(|(_, value)| url.starts_with(value))
            .max_by_key(|(_, value)| value.len());
        match best {
            Some((base, _)) if base.starts_with("https://") || base.starts_with("http://") => {
                checks.push(Check::ok(
                    "submodules",
                    format!("submodule {name} ({url}) is rewritten to {base}"),
                ))
            }
            _ => checks.push(Check::problem(
                "submodules",
                format!("submodule {name} uses the SSH URL {url}, which bypasses https and this helper"),
                "git-credential-gitlab-ci configure --global --rewrite-ssh (or use a relative or https URL in .gitmodules)",
            )),
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::super::super::report::Status;
    use super::*;
    use crate::doctor::fixtures::entry;

    #[test]
    fn ssh_submodule_urls_for_the_server_need_a_rewrite() {
        assert_eq!(
            ssh_host("git@GitLab.example.com:g/x.git").as_deref(),
            Some("gitlab.example.com")
        );
        assert_eq!(
            ssh_host("ssh://git@gitlab.example.com:2222/g/x.git").as_deref(),
            Some("gitlab.example.com")
        );
        assert_eq!(ssh_host("https://gitlab.example.com/g/x.git"), None);
        assert_eq!(ssh_host("../x.git"), None);
        assert_eq!(ssh_host("./a:b"), None);
        let subs = vec![
            (
                "a".to_string(),
                "git@gitlab.example.com:g/a.git".to_string(),
            ),
            ("b".to_string(), "git@github.com:g/b.git".to_string()),
            ("c".to_string(), "../c.git".to_string()),
        ];
        let hosts = vec!["gitlab.example.com".to_string()];
        let checks = check(&subs, &hosts, &[]);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Problem);
        let rewrite = [entry(
            "url.https://gitlab.example.com/.insteadof",
            "git@gitlab.example.com:",
            "/h/.gitconfig",
        )];
        let checks = check(&subs, &hosts, &rewrite);
        assert_eq!(checks[0].status, Status::Ok);
    }
}
