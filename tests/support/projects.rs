//! The server's projects: full path, numeric id (the API's `:id`), access settings and the
//! package files published under them. Groups are the namespaces above projects; a group exists
//! while a project lives under it and gets an id when a test asks for one.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use super::access::{GitHttp, ProjectAccess};
use super::http::percent_decode;

pub struct Project {
    pub id: u64,
    pub access: ProjectAccess,
    pub packages: Vec<PackageFile>,
}

/// One file of a PyPI package (a wheel or an sdist).
#[derive(Clone)]
pub struct PackageFile {
    /// The package name as published (normalized when compared).
    pub name: String,
    pub version: String,
    pub filename: String,
    /// Lower-case hex SHA-256 of `data`.
    pub sha256: String,
    pub requires_python: String,
    pub data: Arc<Vec<u8>>,
}

pub struct Registry {
    projects: BTreeMap<String, Project>,
    groups: BTreeMap<String, u64>,
    next_id: u64,
    pub git_http: GitHttp,
}

impl Registry {
    pub fn new() -> Registry {
        Registry {
            projects: BTreeMap::new(),
            groups: BTreeMap::new(),
            // Projects and groups share one sequence, so an id names one thing only.
            next_id: 101,
            git_http: GitHttp {
                pull: true,
                push: true,
            },
        }
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn project(&self, path: &str) -> Option<&Project> {
        self.projects.get(path)
    }

    /// The project at `path`, registered with `access` when it does not exist yet.
    pub fn register(&mut self, path: &str, access: impl FnOnce() -> ProjectAccess) -> &mut Project {
        if !self.projects.contains_key(path) {
            let id = self.take_id();
            self.projects.insert(
                path.to_string(),
                Project {
                    id,
                    access: access(),
                    packages: Vec::new(),
                },
            );
        }
        self.projects.get_mut(path).unwrap()
    }

    /// The API's `:id`: a number, or a URL-encoded full path (`group%2Fsub%2Fproj`).
    pub fn project_by_api_id(&self, id: &str) -> Option<(&str, &Project)> {
        let decoded = percent_decode(id);
        match decoded.parse::<u64>() {
            Ok(number) => self
                .projects
                .iter()
                .find(|(_, p)| p.id == number)
                .map(|(path, p)| (path.as_str(), p)),
            Err(_) => self
                .projects
                .get_key_value(decoded.as_str())
                .map(|(path, p)| (path.as_str(), p)),
        }
    }

    /// The id of group `path` (e.g. `group` or `group/sub`), assigned on first request.
    pub fn group_id(&mut self, path: &str) -> u64 {
        if let Some(id) = self.groups.get(path) {
            return *id;
        }
        let id = self.take_id();
        self.groups.insert(path.to_string(), id);
        id
    }

    /// The group the API's `:id` names, if some project lives under it.
    pub fn group_by_api_id(&self, id: &str) -> Option<String> {
        let decoded = percent_decode(id);
        let path = match decoded.parse::<u64>() {
            Ok(number) => self
                .groups
                .iter()
                .find(|(_, g)| **g == number)
                .map(|(path, _)| path.clone())?,
            Err(_) => decoded,
        };
        self.in_group(&path).next().is_some().then_some(path)
    }

    /// Every project under group `group`, subgroups included.
    pub fn in_group<'a>(&'a self, group: &str) -> impl Iterator<Item = (&'a str, &'a Project)> {
        let group = group.to_string();
        self.projects
            .iter()
            .filter(move |(path, _)| {
                path.strip_prefix(group.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
            .map(|(path, p)| (path.as_str(), p))
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}
