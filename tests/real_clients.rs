mod support;

use support::*;

const SHELL_HELPER: &str =
    "!f() { echo username=gitlab-ci-token; echo password=$CI_JOB_TOKEN; }; f";

#[test]
fn smoke_shell_helper_clone() {
    let ca = TestCa::new();
    let token = unique_token("smoke");
    let server = GitServer::start(&ca, &token);
    server.create_repo("group/project", &[("README.md", b"hello\n")]);
    let env = ClientEnv::builder(&ca)
        .server_url(server.url())
        .token(&token)
        .helper_value(SHELL_HELPER)
        .build();
    let out = env.run(env.git(["clone", &server.repo_url("group/project"), "clone"]));
    eprintln!("{out}");
    eprintln!("{}", server.log_text());
}
