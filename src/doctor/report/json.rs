//! The report as JSON, for scripts: `checks` (not with `--deps`), `dependencies` (one entry per
//! dependency: the files that name it, its URL, status, cause and fix), the files not read, the
//! number of problems and the verdict. Every string passes through [`Printer::line`], as in the
//! text report; serde_json writes the JSON.

use serde_json::{json, Map, Value};

use super::super::plan::{Entry, Plan, Status as DependencyStatus};
use super::{Check, Printer, Status};

pub fn render(printer: &Printer, checks: &[Check], plan: Option<&Plan>, deps_only: bool) -> String {
    let text = |s: &str| Value::String(printer.line(s));
    let optional = |s: Option<&String>| s.map_or(Value::Null, |s| text(s));
    let mut report = Map::new();
    if !deps_only {
        let checks: Vec<Value> = checks
            .iter()
            .map(|c| {
                json!({
                    "topic": c.topic,
                    "status": match c.status {
                        Status::Ok => "ok",
                        Status::Note => "note",
                        Status::Problem => "problem",
                    },
                    "text": text(&c.text),
                    "fix": optional(c.fix.as_ref()),
                })
            })
            .collect();
        report.insert("checks".into(), Value::Array(checks));
    }
    let mut problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    if let Some(plan) = plan {
        problems += plan.problems();
        let entry = |e: &Entry| {
            let mut files: Vec<&str> = Vec::new();
            for m in &e.mentions {
                if !files.contains(&m.file.as_str()) {
                    files.push(&m.file);
                }
            }
            json!({
                "url": text(&e.location),
                "probed": optional(e.probed.as_ref()),
                "status": match e.status {
                    DependencyStatus::Ok => "ok",
                    DependencyStatus::Note => "note",
                    DependencyStatus::NotOurs => "not_ours",
                    DependencyStatus::Problem => "problem",
                },
                "cause": text(&e.cause),
                "fix": optional(e.fix.as_ref()),
                "files": files.iter().map(|f| text(f)).collect::<Vec<_>>(),
                "mentions": e.mentions.iter().map(|m| json!({
                    "file": text(&m.file),
                    "name": text(&m.name),
                    "written": text(&m.written),
                    "reference": optional(m.reference.as_ref()),
                })).collect::<Vec<_>>(),
            })
        };
        report.insert("root".into(), text(&plan.root));
        report.insert(
            "servers".into(),
            Value::Array(plan.servers.iter().map(|s| text(s)).collect()),
        );
        report.insert(
            "files".into(),
            Value::Array(plan.files.iter().map(|f| text(f)).collect()),
        );
        report.insert(
            "dependencies".into(),
            Value::Array(plan.entries.iter().map(entry).collect()),
        );
        report.insert(
            "not_read".into(),
            Value::Array(
                plan.unread
                    .iter()
                    .map(|u| json!({"file": text(&u.file), "problem": text(&u.message)}))
                    .chain(
                        plan.notes
                            .iter()
                            .map(|n| json!({"file": null, "problem": text(n)})),
                    )
                    .collect(),
            ),
        );
    }
    report.insert("problems".into(), json!(problems));
    report.insert("healthy".into(), json!(problems == 0));
    let mut out = serde_json::to_string_pretty(&Value::Object(report)).unwrap_or_default();
    out.push('\n');
    out
}
