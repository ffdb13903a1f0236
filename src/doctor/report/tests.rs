use super::*;
use crate::dependencies::Mention;

fn entry(location: &str, status: DependencyStatus, fix: Option<&str>) -> Entry {
    Entry {
        location: location.into(),
        probed: None,
        mentions: vec![Mention {
            file: "Cargo.toml".into(),
            name: "x".into(),
            written: location.into(),
            reference: None,
        }],
        status,
        cause: format!("cause of {location}"),
        fix: fix.map(Into::into),
    }
}

fn plan(entries: Vec<Entry>) -> Plan {
    Plan {
        root: "/builds/group/app".into(),
        files: vec!["Cargo.toml".into()],
        servers: vec!["https://gitlab.example.com".into()],
        entries,
        unread: Vec::new(),
        notes: Vec::new(),
    }
}

fn printer() -> Diagnostics {
    Diagnostics::new(
        false,
        vec![zeroize::Zeroizing::new("glcbt-64_report_secret".into())],
    )
}

#[test]
fn report_says_healthy_only_without_problems() {
    let diagnostics = printer();
    let printer = Printer::new(&diagnostics);
    let ok = [Check::ok("token", "fine"), Check::note("git", "using git")];
    assert!(printer.text(&ok, None, false).contains("healthy") && healthy(&ok));
    let bad = [Check::problem("token", "missing", "set it")];
    let text = printer.text(&bad, None, false);
    assert!(text.contains("PROBLEM") && text.contains("fix: set it") && !text.contains("healthy"));
    assert!(!healthy(&bad));
    let broken = plan(vec![entry(
        "https://h/a.git",
        DependencyStatus::Problem,
        Some("fix a"),
    )]);
    assert!(!printer.text(&ok, Some(&broken), false).contains("healthy"));
}

#[test]
fn the_plan_groups_problems_by_fix_and_summarises_the_fixes_at_the_end() {
    let p = plan(vec![
        entry("https://h/a.git", DependencyStatus::Problem, Some("fix a")),
        entry("https://h/ok.git", DependencyStatus::Ok, None),
        entry("https://other/x.git", DependencyStatus::NotOurs, None),
        entry("https://h/b.git", DependencyStatus::Problem, Some("fix b")),
        entry("https://h/c.git", DependencyStatus::Problem, Some("fix a")),
        entry("./local", DependencyStatus::Note, None),
    ]);
    let lines = plan_lines(&p);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(
        &lines[1..],
        [
            "  read: Cargo.toml",
            "fix 1: fix a",
            "  PROBLEM   https://h/a.git: cause of https://h/a.git  [Cargo.toml: x] [fix 1]",
            "  PROBLEM   https://h/c.git: cause of https://h/c.git  [Cargo.toml: x] [fix 1]",
            "fix 2: fix b",
            "  PROBLEM   https://h/b.git: cause of https://h/b.git  [Cargo.toml: x] [fix 2]",
            "no change needed:",
            "  ok        https://h/ok.git: cause of https://h/ok.git  [Cargo.toml: x]",
            "  not ours  https://other/x.git: cause of https://other/x.git  [Cargo.toml: x]",
            "  note      ./local: cause of ./local  [Cargo.toml: x]",
            "dependencies: 3 with a problem, 2 fix(es):",
            "  1. fix a (2 dependencies)",
            "  2. fix b (1 dependency)",
        ]
    );
    assert!(
        lines[0].starts_with("dependency plan for /builds/group/app: 6 dependencies in 1 files")
    );
}

#[test]
fn every_printed_line_is_inert_and_scrubbed_whatever_a_part_holds() {
    let diagnostics = printer();
    let printer = Printer::new(&diagnostics);
    let mut forged = entry("https://h/a.git", DependencyStatus::Ok, None);
    forged.cause = "x\nhealthy: no problem found\u{1b}[2J glcbt-64_report_secret".into();
    forged.mentions[0].name = "n\r\u{202e}".into();
    let p = plan(vec![forged]);
    let text = printer.text(&[], Some(&p), true);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{202e}'),
        "{text}"
    );
    assert!(!text.contains("glcbt-64_report_secret"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("healthy")).count(),
        1,
        "only the verdict starts a line with healthy:\n{text}"
    );
    let json = printer.json(&[], Some(&p), true);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cause = value["dependencies"][0]["cause"].as_str().unwrap();
    assert!(
        !cause.contains('\n') && !cause.contains("glcbt-64_report_secret"),
        "{cause}"
    );
    assert!(value.get("checks").is_none());
    assert_eq!(value["healthy"], true);
}
