//! Origins that are almost the job's server, for every protocol the helper speaks (git's `url=`,
//! Go's GOAUTH argument, a keyring SERVICE): each must get nothing. One table, so that a near
//! miss added for one protocol is tried on all of them.
#![allow(dead_code)]

/// The configured server of the table.
pub const SERVER: &str = "https://gitlab.example.com";

/// URLs that are not exactly [`SERVER`]'s origin, or that two readers could take for different
/// origins, by the trick they try.
pub const NEAR_MISSES: &[(&str, &str)] = &[
    ("suffix", "https://gitlab.example.com.evil.com/"),
    (
        "suffix",
        "https://gitlab.example.com.evil.com/group/project",
    ),
    ("prefix", "https://evilgitlab.example.com/"),
    ("prefix", "https://xgitlab.example.com/"),
    ("subdomain", "https://sub.gitlab.example.com/"),
    ("truncated", "https://gitlab.example.co/"),
    ("port", "https://gitlab.example.com:8443/"),
    ("port", "https://gitlab.example.com:444/"),
    ("port", "https://gitlab.example.com:0443/"),
    ("port", "https://gitlab.example.com:/"),
    ("port", "https://gitlab.example.com:443x/"),
    ("http", "http://gitlab.example.com/"),
    ("http", "http://gitlab.example.com:443/"),
    ("userinfo", "https://gitlab.example.com@evil.com/"),
    ("userinfo", "https://gitlab.example.com:443@evil.com/"),
    ("userinfo", "https://gitlab-ci-token@evil.com/"),
    ("userinfo", "https://gitlab-ci-token:x@gitlab.example.com/"),
    ("userinfo", "https://alice@gitlab.example.com/"),
    ("backslash", "https://gitlab.example.com\\@evil.com/"),
    ("backslash", "https:\\\\gitlab.example.com\\"),
    ("backslash", "https://evil.com\\gitlab.example.com/"),
    ("path", "https://evil.com/https://gitlab.example.com/"),
    ("path", "https://evil.com/gitlab.example.com"),
    ("query", "https://evil.com?gitlab.example.com"),
    ("fragment", "https://evil.com#@gitlab.example.com/"),
    ("trailing dot", "https://gitlab.example.com./"),
    ("percent", "https://gitlab.example.com%2e/"),
    ("percent", "https://%67itlab.example.com/"),
    ("percent", "https://gitlab%2eexample.com/"),
    ("full-width dot", "https://gitlab\u{ff0e}example.com/"),
    ("Cyrillic a", "https://gitlab.ex\u{430}mple.com/"),
    ("IPv6", "https://[::1]/"),
    ("IPv6", "https://[::ffff:127.0.0.1]/"),
    ("no //", "https:gitlab.example.com/"),
    ("no //", "https:/gitlab.example.com/"),
    ("no scheme", "//gitlab.example.com/"),
    ("bare host", "gitlab.example.com"),
    ("bare host", "gitlab.example.com:443"),
    ("bare host", "gitlab.example.com/simple/"),
    ("blank", " https://gitlab.example.com/"),
    ("blank", "https://gitlab.example.com /"),
    ("control", "https://gitlab.exa\tmple.com/"),
    ("control", "https://gitlab.example.com\n.evil.com/"),
    ("control", "https://gitlab.example.com/\n"),
    ("control", "https://gitlab.example.com\r\nhttps://evil.com/"),
    ("scheme", "ssh://gitlab.example.com/"),
    ("scheme", "HTTPS://gitlab.example.com/"),
    ("scheme", "file:///etc/passwd"),
    ("empty", ""),
];

/// The same origin as [`SERVER`], spelled otherwise: these are answered.
pub const SAME_ORIGIN: &[&str] = &[
    "https://gitlab.example.com",
    "https://gitlab.example.com/",
    "https://gitlab.example.com:443/",
    "https://GitLab.Example.COM/group/sub/proj?go-get=1",
    "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple/",
    "https://gitlab-ci-token@gitlab.example.com/simple",
    "https://gitlab.example.com/../x/%2e%2e/y#z",
];
