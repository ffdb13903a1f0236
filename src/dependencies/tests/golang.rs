//! go.mod.

use super::*;

#[test]
fn go_mod_requires_and_replacements_are_read_line_by_line() {
    let text = r#"module gitlab.example.com/group/app

go 1.22

require gitlab.example.com/group/single v1.0.0

require (
	gitlab.example.com/group/sub/proj v1.2.3 // indirect
	github.com/other/lib v0.4.0
	"gitlab.example.com/group/quoted" v0.0.1
	gitlab.example.com/group/replaced v1.0.0
	gitlab.example.com/group/pinned v2.0.0
	gitlab.example.com/group/local v0.1.0
)

replace gitlab.example.com/group/replaced => gitlab.example.com/forks/replaced v1.0.1
replace (
	gitlab.example.com/group/pinned v2.0.0 => gitlab.example.com/forks/pinned v2.0.5
	gitlab.example.com/group/pinned => gitlab.example.com/wrong/pinned v9.9.9
	gitlab.example.com/group/local => ../local
	gitlab.example.com/group/unused => gitlab.example.com/forks/unused v0.0.2
)
"#;
    assert_eq!(
        found("go.mod", text),
        [
            row(
                "gitlab.example.com/group/single",
                "gitlab.example.com/group/single@v1.0.0",
                Some("v1.0.0")
            ),
            row(
                "gitlab.example.com/group/sub/proj",
                "gitlab.example.com/group/sub/proj@v1.2.3",
                Some("v1.2.3")
            ),
            row(
                "github.com/other/lib",
                "github.com/other/lib@v0.4.0",
                Some("v0.4.0")
            ),
            row(
                "gitlab.example.com/group/quoted",
                "gitlab.example.com/group/quoted@v0.0.1",
                Some("v0.0.1")
            ),
            row(
                "gitlab.example.com/group/replaced",
                "gitlab.example.com/forks/replaced@v1.0.1",
                Some("v1.0.0")
            ),
            row(
                "gitlab.example.com/group/pinned",
                "gitlab.example.com/forks/pinned@v2.0.5",
                Some("v2.0.0")
            ),
            row(
                "gitlab.example.com/group/local",
                "a local path",
                Some("v0.1.0")
            ),
            row(
                "gitlab.example.com/group/pinned",
                "gitlab.example.com/wrong/pinned@v9.9.9",
                None
            ),
            row(
                "gitlab.example.com/group/unused",
                "gitlab.example.com/forks/unused@v0.0.2",
                None
            ),
        ]
    );
}

#[test]
fn go_mod_lines_that_do_not_fit_are_reported_and_the_rest_read() {
    let text = "module x\nrequire only/path\nrequire \"unterminated v1\nrequire (\n\tgitlab.example.com/g/ok v1.0.0\n";
    let scan = scan(
        &[ManifestFile {
            path: "go.mod",
            text,
        }],
        None,
    );
    let messages: Vec<&str> = scan.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "line 2: require needs a module path and a version",
            "line 3: unterminated quoted string",
            "line 4: the require block is never closed",
        ]
    );
    assert_eq!(scan.dependencies.len(), 1);
}
