//! How a run ended. Every verb returns an [`Outcome`]; `main` turns it into the exit status, in
//! one place, as documented in `--help`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status 0: answered, or left to the next helper; configured; healthy.
    Success,
    /// Exit status 1: the request or the setup is wrong (one line on standard error says what),
    /// doctor found a problem, or the docker or keyring mode has no credentials for what was
    /// asked.
    Failure,
    /// Exit status 2: the command line is wrong.
    Usage,
}

impl Outcome {
    /// [`Outcome::Success`] when `ok`, else [`Outcome::Failure`].
    pub fn from_success(ok: bool) -> Outcome {
        match ok {
            true => Outcome::Success,
            false => Outcome::Failure,
        }
    }

    /// The exit status.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::Usage => 2,
        }
    }
}
