//! Release tooling for git-credential-gitlab-ci, kept out of the shipped binary: the man page is
//! generated from the binary's clap definitions here, so `clap_mangen` and `roff` are never
//! linked into the program users install.

pub mod man;
mod man_text;

// The binary's own command-line module, included as it is (it names the library by its crate
// name), so the page describes exactly the parser users run.
#[allow(dead_code)]
#[path = "../../src/cli.rs"]
mod cli;

/// The binary's full command tree. This is the only place that knows where the clap
/// definitions live.
pub fn command() -> clap::Command {
    cli::command()
}

/// `SOURCE_DATE_EPOCH` (seconds since 1970, UTC) as the `YYYY-MM-DD` a man page's title line
/// carries; the reproducible-builds convention for "when this was last changed".
pub fn date_from_epoch(epoch: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    let days = (epoch / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::date_from_epoch;

    #[test]
    fn epoch_seconds_become_the_utc_calendar_date() {
        assert_eq!(date_from_epoch(0), "1970-01-01");
        assert_eq!(date_from_epoch(951_782_400), "2000-02-29");
        assert_eq!(date_from_epoch(951_868_799), "2000-02-29");
        assert_eq!(date_from_epoch(951_868_800), "2000-03-01");
        assert_eq!(date_from_epoch(1_735_689_599), "2024-12-31");
        assert_eq!(date_from_epoch(4_107_542_400), "2100-03-01");
    }
}
