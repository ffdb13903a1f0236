//! The report: one line per check, with a fix under each problem; the dependency plan, one
//! line per dependency grouped by fix, the fixes summarised at the end; a verdict. Or the same
//! as JSON ([`json`]).
//!
//! Every line printed passes through [`Printer::line`]: the secrets in use are scrubbed
//! ([`Diagnostics::scrub`]) and control and invisible characters escaped
//! ([`printable::inert`]) — the last word on what reaches the terminal, whatever a check or a
//! file put in a line.

mod json;

use crate::diagnostics::Diagnostics;
use crate::printable;

use super::plan::{Entry, Plan, Status as DependencyStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Worth knowing, not a failure.
    Note,
    Problem,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Note => "note",
            Status::Problem => "PROBLEM",
        }
    }
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

/// Writes the report, every line made safe by the one scrubber.
pub struct Printer<'a> {
    diagnostics: &'a Diagnostics,
}

impl<'a> Printer<'a> {
    pub fn new(diagnostics: &'a Diagnostics) -> Printer<'a> {
        Printer { diagnostics }
    }

    /// `text` as printed: no secret in use, no control or invisible character.
    pub fn line(&self, text: &str) -> String {
        printable::inert(&self.diagnostics.scrub(text))
    }

    /// The report for people: the checks (unless `deps_only`), the plan, the verdict.
    pub fn text(&self, checks: &[Check], plan: Option<&Plan>, deps_only: bool) -> String {
        let mut out = String::new();
        let mut push = |text: &str| {
            out.push_str(&self.line(text));
            out.push('\n');
        };
        for check in checks {
            push(&format!(
                "{:<8} {:<11} {}",
                check.status.as_str(),
                check.topic,
                check.text
            ));
            if let Some(fix) = &check.fix {
                push(&format!("{:<20} fix: {fix}", ""));
            }
        }
        if let Some(plan) = plan {
            if !deps_only {
                push("");
            }
            for line in plan_lines(plan) {
                push(&line);
            }
        }
        let problems = checks
            .iter()
            .filter(|c| c.status == Status::Problem)
            .count()
            + plan.map_or(0, Plan::problems);
        push("");
        match problems {
            0 => push("healthy: no problem found"),
            n => push(&format!(
                "{n} problem(s) found; docs/troubleshooting.md explains each check and each cause"
            )),
        }
        out
    }

    /// The report for scripts: the same checks and plan as JSON.
    pub fn json(&self, checks: &[Check], plan: Option<&Plan>, deps_only: bool) -> String {
        json::render(self, checks, plan, deps_only)
    }
}

/// The plan for people: a header, the problems grouped by their fix, the rest, the files that
/// could not be read, and the fixes once more, numbered.
pub fn plan_lines(plan: &Plan) -> Vec<String> {
    let mut lines = vec![format!(
        "dependency plan for {}: {} dependencies in {} files; those on {} probed with git through this helper alone",
        plan.root,
        plan.entries.len(),
        plan.files.len(),
        match plan.servers.is_empty() {
            true => "no server (none is known)".to_string(),
            false => plan.servers.join(", "),
        }
    )];
    if !plan.files.is_empty() {
        lines.push(format!("  read: {}", plan.files.join(", ")));
    }
    let fixes = fixes(plan);
    for (number, (fix, entries)) in fixes.iter().enumerate() {
        lines.push(format!("fix {}: {fix}", number + 1));
        lines.extend(entries.iter().map(|e| entry_line(e, Some(number + 1))));
    }
    let mut rest: Vec<&Entry> = plan
        .entries
        .iter()
        .filter(|e| e.status != DependencyStatus::Problem)
        .collect();
    // The healthy first, then those of other hosts, then the notes.
    rest.sort_by_key(|e| match e.status {
        DependencyStatus::Ok => 0,
        DependencyStatus::NotOurs => 1,
        _ => 2,
    });
    if !rest.is_empty() {
        lines.push(match fixes.is_empty() {
            true => "every dependency:".into(),
            false => "no change needed:".into(),
        });
        lines.extend(rest.into_iter().map(|e| entry_line(e, None)));
    }
    if !plan.unread.is_empty() || !plan.notes.is_empty() {
        lines.push("not read (their dependencies are not in the plan):".into());
        for unread in &plan.unread {
            lines.push(format!("  note      {}: {}", unread.file, unread.message));
        }
        for note in &plan.notes {
            lines.push(format!("  note      {note}"));
        }
    }
    match fixes.len() {
        0 => lines.push(format!(
            "dependencies: no problem found{}",
            if plan.entries.is_empty() {
                " (none found)"
            } else {
                ""
            }
        )),
        n => {
            lines.push(format!(
                "dependencies: {} with a problem, {n} fix(es):",
                plan.problems()
            ));
            for (number, (fix, entries)) in fixes.iter().enumerate() {
                lines.push(format!(
                    "  {}. {fix} ({} dependenc{})",
                    number + 1,
                    entries.len(),
                    if entries.len() == 1 { "y" } else { "ies" }
                ));
            }
        }
    }
    lines
}

/// The problems' fixes in the order first met, each with its dependencies.
fn fixes(plan: &Plan) -> Vec<(&str, Vec<&Entry>)> {
    let mut fixes: Vec<(&str, Vec<&Entry>)> = Vec::new();
    for entry in &plan.entries {
        let (DependencyStatus::Problem, Some(fix)) = (entry.status, &entry.fix) else {
            continue;
        };
        match fixes.iter_mut().find(|(f, _)| f == fix) {
            Some((_, entries)) => entries.push(entry),
            None => fixes.push((fix, vec![entry])),
        }
    }
    fixes
}

/// `  STATUS    location: cause  [file: name; …]`
fn entry_line(entry: &Entry, fix: Option<usize>) -> String {
    let sources: Vec<String> = entry
        .mentions
        .iter()
        .map(|m| format!("{}: {}", m.file, m.name))
        .collect();
    let probed = match &entry.probed {
        Some(url) => format!(" (probed as {url})"),
        None => String::new(),
    };
    let fix = fix.map_or(String::new(), |n| format!(" [fix {n}]"));
    format!(
        "  {:<9} {}{probed}: {}  [{}]{fix}",
        entry.status.as_str(),
        entry.location,
        entry.cause,
        sources.join("; ")
    )
}

#[cfg(test)]
mod tests;
