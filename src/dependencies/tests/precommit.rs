//! .pre-commit-config.yaml.

use super::*;

#[test]
fn pre_commit_repositories_are_found_and_local_ones_skipped() {
    let text = r#"
default_stages: [pre-commit]
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.5.0
    hooks:
      - id: trailing-whitespace
      - id: end-of-file-fixer
        args: [--fix, {nested: [1, 2]}]
  - repo: local
    hooks: [{id: mine, name: mine, entry: ./x, language: system}]
  - repo: meta
    hooks:
      - id: check-hooks-apply
  - {repo: "https://gitlab.example.com/group/hooks.git", rev: "1.0"}
  - repo: git@gitlab.example.com:group/ssh-hooks.git
    rev: &anchor v2
  - repo: https://gitlab.example.com/group/aliased
    rev: *anchor
ci:
  autofix_prs: false
"#;
    assert_eq!(
        found(".pre-commit-config.yaml", text),
        [
            row(
                "pre-commit-hooks",
                "https://github.com/pre-commit/pre-commit-hooks",
                Some("v4.5.0")
            ),
            row(
                "hooks",
                "https://gitlab.example.com/group/hooks.git",
                Some("1.0")
            ),
            row(
                "ssh-hooks",
                "git@gitlab.example.com:group/ssh-hooks.git",
                Some("v2")
            ),
            row("aliased", "https://gitlab.example.com/group/aliased", None),
        ]
    );
}
