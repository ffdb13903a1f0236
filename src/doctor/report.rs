//! The report: one line per check, with a fix under each problem, and a verdict at the end.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Worth knowing, not a failure.
    Note,
    Problem,
}

/// One line of the report, with a fix when something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub topic: &'static str,
    pub status: Status,
    pub text: String,
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(topic: &'static str, text: impl Into<String>) -> Check {
        Check {
            topic,
            status: Status::Ok,
            text: text.into(),
            fix: None,
        }
    }

    pub fn note(topic: &'static str, text: impl Into<String>) -> Check {
        Check {
            topic,
            status: Status::Note,
            text: text.into(),
            fix: None,
        }
    }

    pub fn problem(topic: &'static str, text: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            topic,
            status: Status::Problem,
            text: text.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Healthy: no check found a problem.
pub fn healthy(checks: &[Check]) -> bool {
    !checks.iter().any(|c| c.status == Status::Problem)
}

/// The report as printed.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for check in checks {
        let status = match check.status {
            Status::Ok => "ok",
            Status::Note => "note",
            Status::Problem => "PROBLEM",
        };
        out.push_str(&format!("{status:<8} {:<11} {}\n", check.topic, check.text));
        if let Some(fix) = &check.fix {
            out.push_str(&format!("{:<20} fix: {fix}\n", ""));
        }
    }
    let problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    match problems {
        0 => out.push_str("\nhealthy: no problem found\n"),
        n => out.push_str(&format!(
            "\n{n} problem(s) found; docs/troubleshooting.md explains each check\n"
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_says_healthy_only_without_problems() {
        let ok = [Check::ok("token", "fine"), Check::note("git", "using git")];
        assert!(render(&ok).contains("healthy") && healthy(&ok));
        let bad = [Check::problem("token", "missing", "set it")];
        let text = render(&bad);
        assert!(
            text.contains("PROBLEM") && text.contains("fix: set it") && !text.contains("healthy")
        );
        assert!(!healthy(&bad));
    }
}
