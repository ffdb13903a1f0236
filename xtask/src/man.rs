//! The man page, generated from the command tree: the title, name, description and global
//! options by `clap_mangen`; a synopsis line per verb, the git operations and a subsection per
//! verb with its own options from the same tree; then the sections clap's help texts do not
//! hold (environment, files, exit status, examples, see also) from [`crate::man_text`].
//!
//! Nothing here names a verb or an option: a verb added to the command tree shows up in the
//! page by itself, and `xtask/tests/man_page.rs` checks that every one does.

use clap::{Arg, ArgAction, Command};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;

use crate::man_text;

/// The page's file name, as `man` looks it up in `share/man/man1`.
pub const FILE_NAME: &str = "git-credential-gitlab-ci.1";

/// The roff source of the whole page. `date` (`YYYY-MM-DD`, may be empty) goes into the title
/// line; nothing else depends on when or where it runs.
pub fn render(mut cmd: Command, date: &str) -> Vec<u8> {
    // Propagates the global options into every subcommand, so each knows its full set.
    cmd.build();
    let name = cmd.get_name().to_string();
    let source = format!("{name} {}", cmd.get_version().unwrap_or_default());
    let man = Man::new(cmd.clone())
        .title(name.to_uppercase())
        .date(date)
        .source(source)
        .manual("User Commands");

    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut piece = |f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut out = Vec::new();
        f(&mut out).expect("writing to memory");
        pieces.push(out);
    };
    piece(&|w| man.render_title(w));
    // Option names and commands must never be hyphenated across lines.
    piece(&|w| Roff::new().control("nh", []).to_writer(w));
    piece(&|w| man.render_name_section(w));
    piece(&|w| synopsis(&cmd).to_writer(w));
    piece(&|w| man.render_description_section(w));
    piece(&|w| man.render_options_section(w));
    piece(&|w| operations(&cmd).to_writer(w));
    piece(&|w| commands(&cmd).to_writer(w));
    piece(&|w| man_text::sections().to_writer(w));
    piece(&|w| man.render_version_section(w));
    join(pieces)
}

/// Each piece starts with roff's apostrophe preamble (a string definition); keep the first.
fn join(pieces: Vec<Vec<u8>>) -> Vec<u8> {
    let preamble = Roff::new().render().into_bytes();
    let mut page = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        match piece.strip_prefix(preamble.as_slice()) {
            Some(rest) if i > 0 => page.extend_from_slice(rest),
            _ => page.extend_from_slice(&piece),
        }
    }
    page
}

/// The options and operands a command itself defines: not those it inherits from `parent`
/// (global options, listed once where they are defined), not `--help` or `--version`.
fn own_options<'a>(cmd: &'a Command, parent: &Command) -> Vec<&'a Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter(|a| !parent.get_arguments().any(|p| p.get_id() == a.get_id()))
        .filter(|a| {
            !matches!(
                a.get_action(),
                ArgAction::Help | ArgAction::HelpLong | ArgAction::HelpShort | ArgAction::Version
            )
        })
        .collect()
}

fn visible_subcommands(cmd: &Command) -> Vec<&Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect()
}

/// A git protocol operation: no options or operands of its own, no subcommands.
fn is_operation(cmd: &Command, parent: &Command) -> bool {
    own_options(cmd, parent).is_empty() && visible_subcommands(cmd).is_empty()
}

fn synopsis(root: &Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    // Left-aligned: stretched spaces inside a command line read as part of it.
    roff.control("ad", ["l"]);
    let name = root.get_name();
    let operations: Vec<&str> = visible_subcommands(root)
        .into_iter()
        .filter(|s| is_operation(s, root))
        .map(Command::get_name)
        .collect();
    let mut first = vec![bold(name), roman(" ["), italic("OPTIONS"), roman("] ")];
    first.extend(alternatives(&operations));
    roff.text(first);
    for verb in visible_subcommands(root)
        .into_iter()
        .filter(|s| !is_operation(s, root))
    {
        roff.control("br", []);
        roff.text(usage_line(root, verb));
    }
    for line in man_text::other_invocations() {
        roff.control("br", []);
        roff.text(line);
    }
    roff.control("ad", []);
    roff
}

/// `NAME [OPTIONS] verb [--own <VALUE>]... [OPERAND] a | b | c`.
fn usage_line(root: &Command, verb: &Command) -> Vec<Inline> {
    let mut line = vec![
        bold(root.get_name()),
        roman(" ["),
        italic("OPTIONS"),
        roman("] "),
    ];
    line.push(bold(verb.get_name()));
    for arg in own_options(verb, root)
        .into_iter()
        .filter(|a| !a.is_positional())
    {
        line.push(roman(" ["));
        line.extend(option_term(arg));
        line.push(roman("]"));
        if matches!(arg.get_action(), ArgAction::Append) {
            line.push(roman("..."));
        }
    }
    for arg in own_options(verb, root)
        .into_iter()
        .filter(|a| a.is_positional())
    {
        let (open, close) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        line.push(roman(format!(" {open}")));
        line.push(italic(value_name(arg)));
        line.push(roman(close));
    }
    let subs: Vec<&str> = visible_subcommands(verb)
        .into_iter()
        .map(Command::get_name)
        .collect();
    if !subs.is_empty() {
        line.push(roman(" "));
        line.extend(alternatives(&subs));
    }
    line
}

fn alternatives(names: &[&str]) -> Vec<Inline> {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(roman(" | "));
        }
        out.push(bold(*name));
    }
    out
}

fn value_name(arg: &Arg) -> String {
    arg.get_value_names()
        .map(|v| v.join(" "))
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

/// `--name <VALUE>` (or just `--name` for a flag).
fn option_term(arg: &Arg) -> Vec<Inline> {
    let mut term = Vec::new();
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => {
            term.extend([bold(format!("-{s}")), roman(", "), bold(format!("--{l}"))])
        }
        (Some(s), None) => term.push(bold(format!("-{s}"))),
        (None, Some(l)) => term.push(bold(format!("--{l}"))),
        (None, None) => {}
    }
    if arg.get_num_args().is_some_and(|n| n.takes_values()) {
        term.push(roman(" "));
        term.push(italic(format!("<{}>", value_name(arg))));
    }
    term
}

/// A `.TP` entry per option or operand: its term, default, and help text.
fn option_list(roff: &mut Roff, args: &[&Arg]) {
    for arg in args {
        roff.control("TP", []);
        let mut term = if arg.is_positional() {
            vec![italic(value_name(arg))]
        } else {
            option_term(arg)
        };
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
        if takes_value && !defaults.is_empty() && !arg.is_hide_default_value_set() {
            term.push(roman(format!(" [default: {}]", defaults.join(","))));
        }
        roff.text(term);
        if let Some(help) = arg.get_long_help().or_else(|| arg.get_help()) {
            roff.text([roman(help.to_string())]);
        }
    }
}

fn operations(root: &Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["OPERATIONS"]);
    roff.text([roman(
        "git runs the helper with one of these as the last argument and the request on \
         standard input.",
    )]);
    for op in visible_subcommands(root)
        .into_iter()
        .filter(|s| is_operation(s, root))
    {
        roff.control("TP", []);
        roff.text([bold(op.get_name())]);
        paragraphs(&mut roff, &about(op));
    }
    if root.is_allow_external_subcommands_set() {
        roff.control("TP", []);
        roff.text([italic("any other operation")]);
        roff.text([roman(
            "Ignored: nothing is read or printed and the exit status is 0, as git asks of \
             helpers, so a future git operation never breaks a job.",
        )]);
    }
    roff
}

fn commands(root: &Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    roff.text([roman(
        "Verbs for people, scripts and images rather than for git.",
    )]);
    for verb in visible_subcommands(root)
        .into_iter()
        .filter(|s| !is_operation(s, root))
    {
        roff.control("SS", [verb.get_name()]);
        roff.text(usage_line(root, verb));
        roff.control("PP", []);
        paragraphs(&mut roff, &about(verb));
        let options = own_options(verb, root);
        if !options.is_empty() {
            roff.control("PP", []);
            roff.text([
                italic("Options and operands of "),
                bold(verb.get_name()),
                roman(":"),
            ]);
            option_list(&mut roff, &options);
        }
        let subs = visible_subcommands(verb);
        if !subs.is_empty() {
            roff.control("PP", []);
            roff.text([italic("Operations of "), bold(verb.get_name()), roman(":")]);
            for sub in subs {
                roff.control("TP", []);
                roff.text([bold(sub.get_name())]);
                paragraphs(&mut roff, &about(sub));
                let own = own_options(sub, verb);
                option_list(&mut roff, &own);
            }
        }
        if let Some(after) = verb.get_after_long_help().or_else(|| verb.get_after_help()) {
            roff.control("PP", []);
            paragraphs(&mut roff, &after.to_string());
        }
    }
    roff
}

fn about(cmd: &Command) -> String {
    cmd.get_long_about()
        .or_else(|| cmd.get_about())
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// Help text as roff: paragraphs at blank lines; runs of indented lines (tables, commands)
/// kept as written (no fill), everything else filled.
fn paragraphs(roff: &mut Roff, text: &str) {
    for (i, block) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        let mut verbatim = false;
        for line in block.lines() {
            let indented = line.starts_with(' ');
            if indented != verbatim {
                roff.control(if indented { "nf" } else { "fi" }, []);
                verbatim = indented;
            }
            roff.text([roman(line)]);
        }
        if verbatim {
            roff.control("fi", []);
        }
    }
}
