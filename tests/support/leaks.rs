//! Leaks: tokens that cannot be mistaken for anything else, and the scan that finds them in
//! files (raw, or base64-encoded inside a Basic `Authorization` value).
#![allow(dead_code)]

use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

use base64::Engine as _;

/// A token that appears nowhere else: `glcbt-64_<label>_<random hex>`, shaped like GitLab's
/// prefixed job tokens, unique enough that finding it on disk means it leaked.
pub fn unique_token(label: &str) -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.write_u32(std::process::id());
    let a = hasher.finish();
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(a);
    let b = hasher.finish();
    format!("glcbt-64_{label}_{a:016x}{b:016x}")
}

/// Every file under `roots` that holds `token` in one of its [`token_needles`] forms.
pub fn find_token_in_trees(roots: &[&Path], token: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for root in roots {
        for needle in token_needles(token) {
            found.extend(find_bytes_in_tree(root, needle.as_bytes()));
        }
    }
    found
}

/// The forms in which a token can leak: raw and inside a Basic credential.
pub fn token_needles(token: &str) -> Vec<String> {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("gitlab-ci-token:{token}"));
    vec![token.to_string(), basic]
}

/// Every file under `root` (not following symlinks) whose content or name contains `needle`.
pub fn find_bytes_in_tree(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    assert!(!needle.is_empty());
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let name_hit = path
            .file_name()
            .is_some_and(|n| contains(n.as_encoded_bytes(), needle));
        if meta.is_dir() {
            if name_hit {
                found.push(path.clone());
            }
            if let Ok(entries) = fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_symlink() {
            let target_hit = fs::read_link(&path)
                .is_ok_and(|t| contains(t.as_os_str().as_encoded_bytes(), needle));
            if name_hit || target_hit {
                found.push(path);
            }
        } else if meta.is_file() {
            let content_hit = fs::read(&path).is_ok_and(|data| contains(&data, needle));
            if name_hit || content_hit {
                found.push(path);
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w == needle)
}
