//! `-- trek:` directives at the top of a script.

use std::borrow::Cow;

/// The directives found in a script's leading comment lines.
///
/// Directives are `-- trek:NAME [ARGUMENT]` lines before the first statement:
/// `no_transaction`, `lock_timeout 5s`, `statement_timeout 10min`, and for repeatables
/// `run always`. Timeouts are a positive integer with an optional unit `ms`, `s`, `min`, `h` or
/// `d` (no unit means milliseconds, as in PostgreSQL), kept as written and handed to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directives {
    /// `-- trek:no_transaction`: run statement by statement outside a transaction.
    pub no_transaction: bool,
    /// `-- trek:lock_timeout 5s`.
    pub lock_timeout: Option<Cow<'static, str>>,
    /// `-- trek:statement_timeout 10min`.
    pub statement_timeout: Option<Cow<'static, str>>,
    /// `-- trek:run always` (repeatables only): run after every run that applied anything.
    pub run_always: bool,
}

impl Directives {
    /// No directives: the defaults.
    pub const NONE: Directives = Directives {
        no_transaction: false,
        lock_timeout: None,
        statement_timeout: None,
        run_always: false,
    };
}
