//! The command line's own documentation, generated from its clap definition so it never
//! drifts: shell completions (`clap_complete`) and the manual page (`clap_mangen`).

use std::io::Write;

use fgd::error::Exit;

/// `fgd completions SHELL`: the script on stdout.
pub fn completions(shell: clap_complete::Shell, mut cli: clap::Command) -> Exit {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cli, "fgd", &mut out);
    // A reader gone (`| head`) is not fgd's failure.
    let _ = out.flush();
    Exit::Success
}

/// `fgd man`: the manual page, in roff, on stdout; each subcommand's options in a section
/// of its own after the main page's.
pub fn man(cli: clap::Command) -> Exit {
    let mut out = std::io::stdout().lock();
    let _ = render(cli, &mut out).and_then(|()| out.flush());
    Exit::Success
}

fn render(cli: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let cli = cli.version(env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(cli.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("fgd {}", sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(name);
        let page = clap_mangen::Man::new(sub.clone());
        let mut text = Vec::new();
        page.render_synopsis_section(&mut text)?;
        page.render_description_section(&mut text)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            page.render_options_section(&mut text)?;
        }
        // One level down, under the subcommand's own heading.
        let text = String::from_utf8_lossy(&text).replace("\n.SH ", "\n.SS ");
        let text = text
            .strip_prefix(".SH ")
            .map_or(text.clone(), |t| format!(".SS {t}"));
        out.write_all(text.as_bytes())?;
    }
    man.render_extra_section(out)?;
    out.write_all(ENVIRONMENT.as_bytes())?;
    man.render_version_section(out)?;
    Ok(())
}

/// The environment fgd reads, beside the options that take their defaults from it (listed
/// with those).
const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBFGD_LOG\fR
A log of the run, to a file only: a level (\fBdebug\fR) or \fItarget\fR=\fIlevel\fR pairs (\fBfgd=trace,libgit2=debug\fR).
.TP
\fBFGD_LOG_FILE\fR
Where that log goes (default: $XDG_STATE_HOME/fgd/fgd.log).
.TP
\fBFGD_GIT_CONNECT_TIMEOUT_MS\fR, \fBFGD_GIT_TIMEOUT_MS\fR
Git's connect and read timeouts (default: 10000 and 30000).
.TP
\fBFGD_PORTABLE_SYSCALLS\fR
1: use only the system calls fgd uses off Linux (tests).
"#;
