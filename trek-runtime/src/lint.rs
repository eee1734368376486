//! Static analysis of migrations: statements that lock, rewrite or break a live database.
//!
//! [`check`] reads a migration's statements (split by `trek-core`'s splitter) and reports
//! each risky one as a [`Finding`] with its line and column, the rule it broke, what happens
//! and what to do instead. The rules and their names are [squawk](https://squawkhq.com)'s
//! (`changing-column-type`, `require-concurrent-index-creation`, `adding-required-field`,
//! ...), so its documentation applies and its ignore comments work:
//!
//! ```sql
//! -- squawk-ignore-file ban-drop-column          (this rule, anywhere in the file)
//! -- squawk-ignore-file                          (every rule, anywhere in the file)
//! -- squawk-ignore changing-column-type          (this rule, on the next statement)
//! ```
//!
//! Why not the `squawk-linter` crate itself: every published 2.x release declares a
//! `rust-version` above trek's 1.89 (2.27 to 2.40 need 1.90, later ones 1.93 to 1.99), and the
//! 0.x releases depend on the GPL-3.0 `squawk-parser`. So these rules are trek's own
//! implementation of the most important ones, on the tokens of each statement (read by
//! [`trek_core::lex`], the lexer the statement splitter uses, so a string, a quoted name or a
//! comment is never mistaken for SQL): they recognise the statements they look for, and say
//! nothing about the rest.
//!
//! A rule about a table rewrite or a long lock matters on a big table and hardly on an empty
//! one: [`measure`] looks up the tables findings name (`pg_class.reltuples`,
//! `pg_total_relation_size`) and lowers such findings to [`Severity::Note`] under a row
//! threshold. Statements on a table created earlier in the same file are never reported: the
//! table is new and empty.
//!
//! ```
//! let findings = trek::lint::check_sql("ALTER TABLE users ALTER COLUMN id TYPE bigint;", false);
//! assert_eq!(findings[0].rule, trek::lint::Rule::ChangingColumnType);
//! assert_eq!(findings[0].table.as_deref(), Some("users"));
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use postgres::Client;
use trek_core::lex::{tokens, Token, TokenKind};
use trek_core::{Location, Migration};

use crate::error::{Error, Result};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; harmless here (a rewrite of a small table).
    Note,
    /// Risky on a live database: `cargo trek lint` exits 1.
    Warning,
    /// Will fail when applied.
    Error,
}

impl Severity {
    /// `note`, `warning` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rules, named as squawk names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `ADD COLUMN ... NOT NULL` without a default: fails on a table that has rows.
    AddingRequiredField,
    /// `ADD COLUMN` with a volatile default, a serial, identity or stored generated column:
    /// rewrites the table under an `ACCESS EXCLUSIVE` lock.
    AddingFieldWithDefault,
    /// `ALTER COLUMN ... TYPE`: usually rewrites the table and its indexes under an
    /// `ACCESS EXCLUSIVE` lock.
    ChangingColumnType,
    /// `ALTER COLUMN ... SET NOT NULL`: scans the whole table under an `ACCESS EXCLUSIVE` lock.
    SettingNotNullField,
    /// `CREATE INDEX` without `CONCURRENTLY`: blocks writes while the index builds.
    RequireConcurrentIndexCreation,
    /// `DROP INDEX` without `CONCURRENTLY`: takes an `ACCESS EXCLUSIVE` lock on the table.
    RequireConcurrentIndexDeletion,
    /// `CONCURRENTLY` in a migration that runs in a transaction: PostgreSQL refuses it.
    BanConcurrentIndexCreationInTransaction,
    /// `ADD FOREIGN KEY` (or `REFERENCES`) without `NOT VALID`: scans the table while both
    /// tables are locked against writes.
    AddingForeignKeyConstraint,
    /// `ADD CHECK` without `NOT VALID`: scans the table under an `ACCESS EXCLUSIVE` lock.
    ConstraintMissingNotValid,
    /// `ADD UNIQUE` without `USING INDEX`: builds the index under an `ACCESS EXCLUSIVE` lock.
    DisallowedUniqueConstraint,
    /// `ADD PRIMARY KEY` without `USING INDEX`: builds the index under an `ACCESS EXCLUSIVE`
    /// lock.
    AddingSerialPrimaryKeyField,
    /// `RENAME COLUMN`: breaks the clients still running that use the old name.
    RenamingColumn,
    /// `RENAME TO`: breaks the clients still running that use the old name.
    RenamingTable,
    /// `DROP COLUMN`: breaks the clients still running that read it.
    BanDropColumn,
    /// `DROP TABLE`: loses data and breaks the clients still running that use it.
    BanDropTable,
    /// `DROP DATABASE`.
    BanDropDatabase,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 16] = [
        Rule::AddingRequiredField,
        Rule::AddingFieldWithDefault,
        Rule::ChangingColumnType,
        Rule::SettingNotNullField,
        Rule::RequireConcurrentIndexCreation,
        Rule::RequireConcurrentIndexDeletion,
        Rule::BanConcurrentIndexCreationInTransaction,
        Rule::AddingForeignKeyConstraint,
        Rule::ConstraintMissingNotValid,
        Rule::DisallowedUniqueConstraint,
        Rule::AddingSerialPrimaryKeyField,
        Rule::RenamingColumn,
        Rule::RenamingTable,
        Rule::BanDropColumn,
        Rule::BanDropTable,
        Rule::BanDropDatabase,
    ];

    /// The rule's name, as squawk spells it (`changing-column-type`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Rule::AddingRequiredField => "adding-required-field",
            Rule::AddingFieldWithDefault => "adding-field-with-default",
            Rule::ChangingColumnType => "changing-column-type",
            Rule::SettingNotNullField => "setting-not-null-field",
            Rule::RequireConcurrentIndexCreation => "require-concurrent-index-creation",
            Rule::RequireConcurrentIndexDeletion => "require-concurrent-index-deletion",
            Rule::BanConcurrentIndexCreationInTransaction => {
                "ban-concurrent-index-creation-in-transaction"
            }
            Rule::AddingForeignKeyConstraint => "adding-foreign-key-constraint",
            Rule::ConstraintMissingNotValid => "constraint-missing-not-valid",
            Rule::DisallowedUniqueConstraint => "disallowed-unique-constraint",
            Rule::AddingSerialPrimaryKeyField => "adding-serial-primary-key-field",
            Rule::RenamingColumn => "renaming-column",
            Rule::RenamingTable => "renaming-table",
            Rule::BanDropColumn => "ban-drop-column",
            Rule::BanDropTable => "ban-drop-table",
            Rule::BanDropDatabase => "ban-drop-database",
        }
    }

    /// The rule named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether what the rule warns about grows with the table (a rewrite, a scan, an index
    /// build, a lock held that long), so that it matters little on a small table.
    pub const fn scales_with_table(self) -> bool {
        matches!(
            self,
            Rule::AddingRequiredField
                | Rule::AddingFieldWithDefault
                | Rule::ChangingColumnType
                | Rule::SettingNotNullField
                | Rule::RequireConcurrentIndexCreation
                | Rule::AddingForeignKeyConstraint
                | Rule::ConstraintMissingNotValid
                | Rule::DisallowedUniqueConstraint
                | Rule::AddingSerialPrimaryKeyField
        )
    }

    /// What to do instead.
    pub const fn help(self) -> &'static str {
        match self {
            Rule::AddingRequiredField => {
                "add the column with a DEFAULT, or add it nullable, backfill it, then SET NOT NULL \
                 after adding a CHECK (col IS NOT NULL) NOT VALID constraint and validating it"
            }
            Rule::AddingFieldWithDefault => {
                "add the column without a default (or with a constant one), then backfill it in \
                 batches"
            }
            Rule::ChangingColumnType => {
                "add a new column of the new type, backfill it in batches, and switch the clients \
                 over to it"
            }
            Rule::SettingNotNullField => {
                "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in a later \
                 migration, then SET NOT NULL (PostgreSQL 12+ skips the scan)"
            }
            Rule::RequireConcurrentIndexCreation => {
                "use CREATE INDEX CONCURRENTLY in a migration marked -- trek:no_transaction"
            }
            Rule::RequireConcurrentIndexDeletion => {
                "use DROP INDEX CONCURRENTLY in a migration marked -- trek:no_transaction"
            }
            Rule::BanConcurrentIndexCreationInTransaction => {
                "mark the migration -- trek:no_transaction (and keep it to this one statement)"
            }
            Rule::AddingForeignKeyConstraint => {
                "add the constraint NOT VALID, then VALIDATE CONSTRAINT it in a later migration"
            }
            Rule::ConstraintMissingNotValid => {
                "add the constraint NOT VALID, then VALIDATE CONSTRAINT it in a later migration"
            }
            Rule::DisallowedUniqueConstraint => {
                "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING \
                 INDEX"
            }
            Rule::AddingSerialPrimaryKeyField => {
                "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY \
                 USING INDEX"
            }
            Rule::RenamingColumn | Rule::RenamingTable => {
                "add the new name beside the old one (a new column, or a view) and drop the old \
                 one once no client uses it"
            }
            Rule::BanDropColumn | Rule::BanDropTable => {
                "stop using it in every deployed client first; drop it in a later release"
            }
            Rule::BanDropDatabase => "drop databases by hand, not in a migration",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The size of a table a finding concerns, from the live database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableSize {
    /// Whether the table exists (one a pending migration creates does not, yet: it will be
    /// empty when this statement runs).
    pub exists: bool,
    /// Its rows: `pg_class.reltuples` (an estimate) when it is positive, otherwise counted, up
    /// to a cap: a table never analysed has -1 on PostgreSQL 14 and later but 0 on 13, where
    /// 0 cannot tell "empty" from "never analysed".
    pub rows: u64,
    /// Whether `rows` is an estimate (or the cap of the count).
    pub rows_estimated: bool,
    /// `pg_total_relation_size`: the table, its indexes and TOAST.
    pub bytes: u64,
}

/// One risky statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// What the statement does and why it is risky.
    pub message: String,
    /// What to do instead.
    pub help: String,
    /// 1-based line of the statement (of the clause the rule is about) in the file.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// How much it matters; lowered to [`Severity::Note`] by [`measure`] on small tables.
    pub severity: Severity,
    /// The table the statement touches, as written in the script (`users`, `app."Users"`).
    pub table: Option<String>,
    /// The table's size, once [`measure`] looked it up.
    pub size: Option<TableSize>,
}

/// The findings of `migration`'s up script (its `-- trek:no_transaction` directive decides
/// whether `CONCURRENTLY` is allowed), in file order, minus the ones its
/// `-- squawk-ignore` comments silence.
pub fn check(migration: &Migration) -> Vec<Finding> {
    check_sql(migration.sql(), migration.directives().no_transaction)
}

/// The findings of `migration`'s down script, when it has one: checked like an up script
/// (outside a transaction when [`Migration::down_outside_transaction`] says so), except for
/// `ban-drop-table` and `ban-drop-column`, which flag what a down is for (undoing a
/// `CREATE`). A down runs at every dev rewind and every `down`; what would fail or lock there
/// is found before it runs.
pub fn check_down(migration: &Migration) -> Vec<Finding> {
    let Some(down) = migration.down() else {
        return Vec::new();
    };
    check_sql(down.sql(), migration.down_outside_transaction())
        .into_iter()
        .filter(|f| !matches!(f.rule, Rule::BanDropTable | Rule::BanDropColumn))
        .collect()
}

/// The findings of script `sql`; `no_transaction` says whether it runs outside a transaction.
pub fn check_sql(sql: &str, no_transaction: bool) -> Vec<Finding> {
    let ignores = Ignores::read(sql);
    let mut created: HashSet<String> = HashSet::new();
    let mut findings = Vec::new();
    for statement in trek_core::split::split(sql) {
        let significant: Vec<Token<'_>> =
            tokens(statement.text).filter(|t| !t.is_trivia()).collect();
        let mut found = Vec::new();
        analyze(
            statement.text,
            &significant,
            no_transaction,
            &mut created,
            &mut found,
        );
        let start_line = Location::of_byte_offset(sql, statement.offset).line;
        for raw in found {
            let at = Location::of_byte_offset(sql, statement.offset + raw.offset);
            if ignores.silences(raw.rule, at.line, start_line) {
                continue;
            }
            let severity = if raw.rule == Rule::BanConcurrentIndexCreationInTransaction {
                Severity::Error
            } else {
                Severity::Warning
            };
            findings.push(Finding {
                rule: raw.rule,
                message: raw.message,
                help: raw.rule.help().to_owned(),
                line: at.line,
                column: at.column,
                severity,
                table: raw.table,
                size: None,
            });
        }
    }
    findings
}

/// Looks up the size of each table `findings` name, records it in [`Finding::size`], and
/// lowers to [`Severity::Note`] the findings whose rule [scales with the
/// table](Rule::scales_with_table) when the table has fewer than `small_table_rows` rows (or
/// does not exist yet). Reads the catalogue only; a table that was never analysed is counted,
/// up to a million rows.
///
/// # Errors
/// When the catalogue cannot be read.
pub fn measure(client: &mut Client, findings: &mut [Finding], small_table_rows: u64) -> Result<()> {
    let mut sizes: BTreeMap<String, TableSize> = BTreeMap::new();
    for table in findings.iter().filter_map(|f| f.table.clone()) {
        if let std::collections::btree_map::Entry::Vacant(entry) = sizes.entry(table) {
            let size = table_size(client, entry.key())?;
            entry.insert(size);
        }
    }
    for finding in findings.iter_mut() {
        let Some(size) = finding.table.as_ref().and_then(|t| sizes.get(t)) else {
            continue;
        };
        finding.size = Some(*size);
        if finding.rule.scales_with_table()
            && finding.severity == Severity::Warning
            && (!size.exists || size.rows < small_table_rows)
        {
            finding.severity = Severity::Note;
        }
    }
    Ok(())
}

/// How many rows a never-analysed table is counted up to.
const COUNT_CAP: i64 = 1_000_000;

fn table_size(client: &mut Client, table: &str) -> Result<TableSize> {
    let row = client
        .query_opt(
            "SELECT c.oid::regclass::text, c.reltuples::float8, \
                    pg_total_relation_size(c.oid)::int8 \
             FROM pg_class c WHERE c.oid = to_regclass($1)",
            &[&table],
        )
        .map_err(|e| Error::db(format!("could not read the size of table {table}"), e))?;
    let Some(row) = row else {
        return Ok(TableSize {
            exists: false,
            rows: 0,
            rows_estimated: false,
            bytes: 0,
        });
    };
    let name: String = row.get(0);
    let reltuples: f64 = row.get(1);
    let bytes: i64 = row.get(2);
    // PostgreSQL 13 says 0 for a table never analysed (14 and later: -1), however many rows
    // were loaded since: only a positive estimate is taken; an empty table costs nothing to
    // count.
    let (rows, rows_estimated) = if reltuples > 0.0 {
        // reltuples is a float estimate; rounding it to a count is what it means.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rows = reltuples.round() as u64;
        (rows, true)
    } else {
        // `name` is the regclass's own text: quoted and qualified as needed.
        let counted: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM (SELECT FROM {name} LIMIT {COUNT_CAP}) t"),
                &[],
            )
            .map_err(|e| Error::db(format!("could not count the rows of table {table}"), e))?
            .get(0);
        (counted.unsigned_abs(), counted >= COUNT_CAP)
    };
    Ok(TableSize {
        exists: true,
        rows,
        rows_estimated,
        bytes: bytes.unsigned_abs(),
    })
}

// ---------------------------------------------------------------------------------------------
// Ignore comments

/// The `-- squawk-ignore-file` and `-- squawk-ignore` comments of a script.
#[derive(Debug, Default)]
struct Ignores {
    /// `-- squawk-ignore-file [RULES]`; `None`: every rule.
    file: Vec<Option<Vec<String>>>,
    /// `-- squawk-ignore [RULES]`: (the 1-based line it applies to, the rules). It applies to
    /// the line of the next token that is neither whitespace nor a comment.
    next: Vec<(usize, Option<Vec<String>>)>,
}

impl Ignores {
    /// The ignore comments of `sql`: `--` comments (not text inside a string or a block
    /// comment) that start their line.
    fn read(sql: &str) -> Ignores {
        let mut ignores = Ignores::default();
        // `-- squawk-ignore` comments waiting for the line of the next token that is neither
        // whitespace nor a comment.
        let mut waiting = Vec::new();
        let (mut line, mut line_start) = (1, 0);
        for token in tokens(sql) {
            if token.kind == TokenKind::LineComment {
                if sql[line_start..token.offset].trim().is_empty() {
                    match Ignore::parse(&token.text[2..]) {
                        Some(Ignore::File(rules)) => ignores.file.push(rules),
                        Some(Ignore::Next(rules)) => waiting.push(rules),
                        None => {}
                    }
                }
            } else if !token.is_trivia() {
                ignores
                    .next
                    .extend(waiting.drain(..).map(|rules| (line, rules)));
            }
            if let Some(last) = token.text.rfind('\n') {
                line += token.text.matches('\n').count();
                line_start = token.offset + last + 1;
            }
        }
        ignores
    }

    /// Whether `rule` is silenced for a finding on `line`, in a statement starting on
    /// `statement_line`.
    fn silences(&self, rule: Rule, line: usize, statement_line: usize) -> bool {
        let names = |rules: &Option<Vec<String>>| {
            rules
                .as_ref()
                .is_none_or(|r| r.iter().any(|n| n == rule.as_str()))
        };
        self.file.iter().any(names)
            || self.next.iter().any(|(target, rules)| {
                (*target == line || *target == statement_line) && names(rules)
            })
    }
}

/// One ignore comment: `squawk-ignore-file [RULES]` or `squawk-ignore [RULES]` (`None`: every
/// rule).
enum Ignore {
    File(Option<Vec<String>>),
    Next(Option<Vec<String>>),
}

impl Ignore {
    /// The ignore comment whose text after the `--` is `comment`, if it is one.
    fn parse(comment: &str) -> Option<Ignore> {
        let comment = comment.trim();
        let (file, rest) = if let Some(rest) = comment.strip_prefix("squawk-ignore-file") {
            (true, rest)
        } else {
            (false, comment.strip_prefix("squawk-ignore")?)
        };
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let rules: Vec<String> = rest
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        let rules = (!rules.is_empty()).then_some(rules);
        Some(if file {
            Ignore::File(rules)
        } else {
            Ignore::Next(rules)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Names

/// The text of a possibly qualified name starting at `tokens[0]` (`app."Users"`), and how
/// many tokens it took.
fn name(tokens: &[Token<'_>], statement: &str) -> Option<(String, usize)> {
    let first = tokens.first()?;
    if !matches!(first.kind, TokenKind::Word | TokenKind::QuotedIdent) {
        return None;
    }
    let mut n = 1;
    while tokens.get(n).is_some_and(|t| t.is_symbol("."))
        && tokens
            .get(n + 1)
            .is_some_and(|t| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent))
    {
        n += 2;
    }
    let last = &tokens[n - 1];
    Some((statement[first.offset..last.end()].to_owned(), n))
}

/// A name as PostgreSQL resolves it: unquoted parts folded to lower case.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in name.chars() {
        match c {
            '"' => quoted = !quoted,
            c if quoted => out.push(c),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rules

struct Raw {
    rule: Rule,
    message: String,
    table: Option<String>,
    /// Byte offset in the statement of the clause the finding is about.
    offset: usize,
}

struct Scan<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
}

impl<'a> Scan<'_, 'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, keyword: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_keyword(keyword)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let all = keywords.iter().enumerate().all(|(k, w)| {
            self.tokens
                .get(self.pos + k)
                .is_some_and(|t| t.is_keyword(w))
        });
        if all {
            self.pos += keywords.len();
        }
        all
    }

    fn name(&mut self, statement: &str) -> Option<String> {
        let (name, n) = name(&self.tokens[self.pos.min(self.tokens.len())..], statement)?;
        self.pos += n;
        Some(name)
    }

    fn offset(&self) -> usize {
        self.peek().map_or(0, |t| t.offset)
    }
}

fn analyze(
    text: &str,
    tokens: &[Token<'_>],
    no_transaction: bool,
    created: &mut HashSet<String>,
    out: &mut Vec<Raw>,
) {
    let Some(first) = tokens.first() else {
        return;
    };
    let s = &mut Scan { tokens, pos: 0 };
    let concurrently = tokens.iter().any(|t| t.is_keyword("CONCURRENTLY"));
    if concurrently
        && !no_transaction
        && (first.is_keyword("CREATE") || first.is_keyword("DROP") || first.is_keyword("REINDEX"))
    {
        out.push(Raw {
            rule: Rule::BanConcurrentIndexCreationInTransaction,
            message: format!(
                "{} CONCURRENTLY cannot run inside a transaction, and this migration runs in one",
                first.text.to_ascii_uppercase()
            ),
            table: None,
            offset: first.offset,
        });
    }
    if s.eat("CREATE") {
        s.eat("UNIQUE");
        if s.eat("INDEX") {
            create_index(s, text, concurrently, created, out);
            return;
        }
        s.eat_all(&["OR", "REPLACE"]);
        for modifier in ["GLOBAL", "LOCAL", "TEMPORARY", "TEMP", "UNLOGGED"] {
            s.eat(modifier);
        }
        if s.eat("TABLE") {
            s.eat_all(&["IF", "NOT", "EXISTS"]);
            if let Some(table) = s.name(text) {
                created.insert(normalize(&table));
            }
        }
    } else if s.eat("ALTER") && s.eat("TABLE") {
        s.eat_all(&["IF", "EXISTS"]);
        s.eat("ONLY");
        let Some(table) = s.name(text) else {
            return;
        };
        if created.contains(&normalize(&table)) {
            return;
        }
        if s.peek().is_some_and(|t| t.is_symbol("*")) {
            s.pos += 1;
        }
        for action in split_top_level(&tokens[s.pos..]) {
            alter_action(action, &table, text, out);
        }
    } else if s.eat("DROP") {
        if s.eat("TABLE") {
            s.eat_all(&["IF", "EXISTS"]);
            while let Some(table) = s.name(text) {
                if !created.contains(&normalize(&table)) {
                    out.push(Raw {
                        rule: Rule::BanDropTable,
                        message: format!("dropping table {table} loses its data"),
                        table: Some(table),
                        offset: first.offset,
                    });
                }
                if !s.peek().is_some_and(|t| t.is_symbol(",")) {
                    break;
                }
                s.pos += 1;
            }
        } else if s.eat("INDEX") {
            if !concurrently {
                out.push(Raw {
                    rule: Rule::RequireConcurrentIndexDeletion,
                    message: "DROP INDEX without CONCURRENTLY locks the table against reads \
                              and writes until it is done"
                        .to_owned(),
                    table: None,
                    offset: first.offset,
                });
            }
        } else if s.eat("DATABASE") {
            out.push(Raw {
                rule: Rule::BanDropDatabase,
                message: "a migration drops a database".to_owned(),
                table: None,
                offset: first.offset,
            });
        }
    }
}

fn create_index(
    s: &mut Scan<'_, '_>,
    text: &str,
    concurrently: bool,
    created: &HashSet<String>,
    out: &mut Vec<Raw>,
) {
    let start = s.tokens[0].offset;
    // Find `ON [ONLY] table`.
    while let Some(t) = s.peek() {
        if t.is_keyword("ON") {
            break;
        }
        s.pos += 1;
    }
    if !s.eat("ON") {
        return;
    }
    s.eat("ONLY");
    let Some(table) = s.name(text) else {
        return;
    };
    if concurrently || created.contains(&normalize(&table)) {
        return;
    }
    out.push(Raw {
        rule: Rule::RequireConcurrentIndexCreation,
        message: format!(
            "CREATE INDEX without CONCURRENTLY blocks writes to {table} while the index builds"
        ),
        table: Some(table),
        offset: start,
    });
}

/// Splits an `ALTER TABLE` action list at its top-level commas.
fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_symbol("(") {
            depth += 1;
        } else if t.is_symbol(")") {
            depth -= 1;
        } else if t.is_symbol(",") && depth == 0 {
            out.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    out.push(&tokens[start..]);
    out.retain(|a| !a.is_empty());
    out
}

fn alter_action(action: &[Token<'_>], table: &str, text: &str, out: &mut Vec<Raw>) {
    let s = &mut Scan {
        tokens: action,
        pos: 0,
    };
    let offset = s.offset();
    let mut push = |rule: Rule, message: String| {
        out.push(Raw {
            rule,
            message,
            table: Some(table.to_owned()),
            offset,
        });
    };
    let has = |keyword: &str| action.iter().any(|t| t.is_keyword(keyword));
    let has_seq = |a: &str, b: &str| {
        action
            .windows(2)
            .any(|w| w[0].is_keyword(a) && w[1].is_keyword(b))
    };
    if s.eat("ADD") {
        let constraint = s.eat("CONSTRAINT");
        if constraint {
            s.name(text);
        }
        let Some(next) = s.peek().copied() else {
            return;
        };
        // Constraints whose check or index build locks the table, unless the statement says
        // it will not (`NOT VALID`, `USING INDEX`).
        let constraints: [(&str, (&str, &str), Rule, &str); 4] = [
            (
                "FOREIGN",
                ("NOT", "VALID"),
                Rule::AddingForeignKeyConstraint,
                "adding a foreign key validates every row of {table} while it and the referenced \
                 table are locked against writes",
            ),
            (
                "CHECK",
                ("NOT", "VALID"),
                Rule::ConstraintMissingNotValid,
                "adding a CHECK constraint scans every row of {table} under an ACCESS EXCLUSIVE lock",
            ),
            (
                "UNIQUE",
                ("USING", "INDEX"),
                Rule::DisallowedUniqueConstraint,
                "adding a UNIQUE constraint builds its index on {table} under an ACCESS EXCLUSIVE \
                 lock",
            ),
            (
                "PRIMARY",
                ("USING", "INDEX"),
                Rule::AddingSerialPrimaryKeyField,
                "adding a primary key builds its index on {table} under an ACCESS EXCLUSIVE lock",
            ),
        ];
        if let Some((_, (a, b), rule, message)) =
            constraints.iter().find(|(kw, ..)| next.is_keyword(kw))
        {
            if !has_seq(a, b) {
                push(*rule, message.replace("{table}", table));
            }
        } else if next.is_keyword("EXCLUDE") || constraint {
            // An exclusion constraint or something unknown: not a rule of ours.
        } else {
            s.eat("COLUMN");
            s.eat_all(&["IF", "NOT", "EXISTS"]);
            let Some(column) = s.name(text) else {
                return;
            };
            add_column(&action[s.pos..], table, &column, &mut push);
        }
    } else if s.eat("ALTER") {
        s.eat("COLUMN");
        let Some(column) = s.name(text) else {
            return;
        };
        if s.eat("TYPE") || s.eat_all(&["SET", "DATA", "TYPE"]) {
            push(
                Rule::ChangingColumnType,
                format!(
                    "changing the type of {table}.{column} rewrites the table and its indexes \
                     under an ACCESS EXCLUSIVE lock (unless the new type is binary compatible)"
                ),
            );
        } else if s.eat_all(&["SET", "NOT", "NULL"]) {
            push(
                Rule::SettingNotNullField,
                format!(
                    "SET NOT NULL on {table}.{column} scans every row under an ACCESS EXCLUSIVE \
                     lock"
                ),
            );
        }
    } else if s.eat("DROP") {
        if s.peek().is_some_and(|t| t.is_keyword("CONSTRAINT")) {
            return;
        }
        s.eat("COLUMN");
        s.eat_all(&["IF", "EXISTS"]);
        if let Some(column) = s.name(text) {
            push(
                Rule::BanDropColumn,
                format!("dropping {table}.{column} breaks the clients still running that read it"),
            );
        }
    } else if s.eat("RENAME") {
        if s.eat("TO") {
            push(
                Rule::RenamingTable,
                format!("renaming {table} breaks the clients still running that use its name"),
            );
        } else if !has("CONSTRAINT") {
            s.eat("COLUMN");
            if let Some(column) = s.name(text) {
                push(
                    Rule::RenamingColumn,
                    format!(
                        "renaming {table}.{column} breaks the clients still running that use it"
                    ),
                );
            }
        }
    }
}

/// Functions whose value changes from row to row: a default calling one makes PostgreSQL
/// rewrite the table to fill the new column.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "pg_current_xact_id",
];

fn add_column(
    definition: &[Token<'_>],
    table: &str,
    column: &str,
    push: &mut impl FnMut(Rule, String),
) {
    let at = |i: usize, keyword: &str| definition.get(i).is_some_and(|t| t.is_keyword(keyword));
    let seq = |a: &str, b: &str| (0..definition.len()).any(|i| at(i, a) && at(i + 1, b));
    let serial = definition.first().is_some_and(|t| {
        [
            "serial",
            "bigserial",
            "smallserial",
            "serial2",
            "serial4",
            "serial8",
        ]
        .iter()
        .any(|s| t.is_keyword(s))
    });
    let default = definition.iter().position(|t| t.is_keyword("DEFAULT"));
    let generated = definition.iter().any(|t| t.is_keyword("GENERATED"));
    let identity = generated && definition.iter().any(|t| t.is_keyword("IDENTITY"));
    let stored = generated && definition.iter().any(|t| t.is_keyword("STORED"));
    let volatile = default.and_then(|d| {
        definition[d + 1..].windows(2).find_map(|w| {
            (w[1].is_symbol("(") && VOLATILE.iter().any(|v| w[0].is_keyword(v)))
                .then(|| w[0].text.to_ascii_lowercase())
        })
    });
    if seq("NOT", "NULL") && default.is_none() && !generated && !serial {
        push(
            Rule::AddingRequiredField,
            format!(
                "adding {table}.{column} NOT NULL without a DEFAULT fails if {table} has any row"
            ),
        );
    }
    let rewrite = if let Some(function) = volatile {
        Some(format!("a volatile default ({function}())"))
    } else if serial {
        Some("a serial type (a volatile nextval() default)".to_owned())
    } else if identity {
        Some("an identity column".to_owned())
    } else if stored {
        Some("a stored generated column".to_owned())
    } else {
        None
    };
    if let Some(why) = rewrite {
        push(
            Rule::AddingFieldWithDefault,
            format!(
                "adding {table}.{column} with {why} rewrites the table under an ACCESS EXCLUSIVE \
                 lock"
            ),
        );
    }
    if seq("PRIMARY", "KEY") {
        push(
            Rule::AddingSerialPrimaryKeyField,
            format!(
                "adding {table}.{column} as a primary key builds its index under an ACCESS \
                 EXCLUSIVE lock"
            ),
        );
    } else if definition.iter().any(|t| t.is_keyword("UNIQUE")) {
        push(
            Rule::DisallowedUniqueConstraint,
            format!(
                "adding {table}.{column} UNIQUE builds its index under an ACCESS EXCLUSIVE lock"
            ),
        );
    }
    if definition.iter().any(|t| t.is_keyword("REFERENCES")) {
        push(
            Rule::AddingForeignKeyConstraint,
            format!(
                "adding {table}.{column} with REFERENCES validates the foreign key while both \
                 tables are locked against writes"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(sql: &str) -> Vec<(Rule, usize, usize, Option<String>)> {
        check_sql(sql, false)
            .into_iter()
            .map(|f| (f.rule, f.line, f.column, f.table))
            .collect()
    }

    fn only(sql: &str) -> Rule {
        let found = rules(sql);
        assert_eq!(found.len(), 1, "{sql}: {found:?}");
        found[0].0
    }

    #[test]
    fn a_column_type_change_is_a_rewrite_of_the_named_table() {
        let found = rules("-- widen\nALTER TABLE app.\"Users\"\n  ALTER COLUMN id TYPE bigint;");
        assert_eq!(
            found,
            vec![(
                Rule::ChangingColumnType,
                3,
                3,
                Some("app.\"Users\"".to_owned())
            )]
        );
        assert_eq!(
            only("alter table t alter column c set data type text"),
            Rule::ChangingColumnType
        );
    }

    #[test]
    fn each_action_of_an_alter_table_is_checked() {
        let found = rules(
            "ALTER TABLE t ADD COLUMN a int NOT NULL, DROP COLUMN b,\n  ALTER c SET NOT NULL, \
             ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES u (id), ADD CHECK (a > 0) NOT VALID;",
        );
        let names: Vec<Rule> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            vec![
                Rule::AddingRequiredField,
                Rule::BanDropColumn,
                Rule::SettingNotNullField,
                Rule::AddingForeignKeyConstraint,
            ]
        );
        assert_eq!((found[2].1, found[2].2), (2, 3), "points at the clause");
    }

    #[test]
    fn adding_columns() {
        assert!(rules("ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0").is_empty());
        assert!(rules("ALTER TABLE t ADD COLUMN a timestamptz DEFAULT now()").is_empty());
        assert!(rules("ALTER TABLE t ADD a text").is_empty());
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid()"),
            Rule::AddingFieldWithDefault
        );
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN IF NOT EXISTS n bigserial"),
            Rule::AddingFieldWithDefault
        );
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN n int GENERATED ALWAYS AS (a + 1) STORED"),
            Rule::AddingFieldWithDefault
        );
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN u int REFERENCES users (id)"),
            Rule::AddingForeignKeyConstraint
        );
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN e text UNIQUE"),
            Rule::DisallowedUniqueConstraint
        );
    }

    #[test]
    fn constraints_need_not_valid_or_an_existing_index() {
        assert_eq!(
            only("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"),
            Rule::ConstraintMissingNotValid
        );
        assert!(rules("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID").is_empty());
        assert!(rules("ALTER TABLE t VALIDATE CONSTRAINT c").is_empty());
        assert_eq!(
            only("ALTER TABLE t ADD UNIQUE (a)"),
            Rule::DisallowedUniqueConstraint
        );
        assert!(rules("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_a").is_empty());
        assert_eq!(
            only("ALTER TABLE t ADD PRIMARY KEY (id)"),
            Rule::AddingSerialPrimaryKeyField
        );
        assert!(rules("ALTER TABLE t DROP CONSTRAINT c").is_empty());
    }

    #[test]
    fn indexes_are_built_and_dropped_concurrently_outside_a_transaction() {
        assert_eq!(
            rules("CREATE INDEX i ON public.t (a)"),
            vec![(
                Rule::RequireConcurrentIndexCreation,
                1,
                1,
                Some("public.t".to_owned())
            )]
        );
        assert_eq!(
            only("CREATE UNIQUE INDEX IF NOT EXISTS i ON ONLY t USING btree (a)"),
            Rule::RequireConcurrentIndexCreation
        );
        assert!(check_sql("CREATE INDEX CONCURRENTLY i ON t (a)", true).is_empty());
        let in_transaction = check_sql("CREATE INDEX CONCURRENTLY i ON t (a)", false);
        assert_eq!(
            in_transaction[0].rule,
            Rule::BanConcurrentIndexCreationInTransaction
        );
        assert_eq!(in_transaction[0].severity, Severity::Error);
        assert_eq!(only("DROP INDEX i"), Rule::RequireConcurrentIndexDeletion);
        assert!(check_sql("DROP INDEX CONCURRENTLY i", true).is_empty());
    }

    #[test]
    fn renames_and_drops() {
        assert_eq!(
            only("ALTER TABLE t RENAME COLUMN a TO b"),
            Rule::RenamingColumn
        );
        assert_eq!(only("ALTER TABLE t RENAME a TO b"), Rule::RenamingColumn);
        assert_eq!(only("ALTER TABLE t RENAME TO u"), Rule::RenamingTable);
        assert!(rules("ALTER TABLE t RENAME CONSTRAINT a TO b").is_empty());
        let drops = rules("DROP TABLE IF EXISTS a, b CASCADE");
        assert_eq!(drops.len(), 2);
        assert_eq!(drops[1].3.as_deref(), Some("b"));
        assert_eq!(only("DROP DATABASE x"), Rule::BanDropDatabase);
    }

    #[test]
    fn a_table_created_in_the_same_file_is_new_and_exempt() {
        let sql = "CREATE TABLE IF NOT EXISTS Orders (id int);\n\
                   CREATE INDEX orders_id ON orders (id);\n\
                   ALTER TABLE \"orders\" ADD COLUMN total int NOT NULL;\n\
                   ALTER TABLE orders ALTER COLUMN id TYPE bigint;\n\
                   ALTER TABLE other ALTER COLUMN id TYPE bigint;";
        assert_eq!(
            rules(sql),
            vec![(Rule::ChangingColumnType, 5, 19, Some("other".to_owned()))]
        );
    }

    #[test]
    fn strings_comments_and_function_bodies_are_not_statements() {
        let sql = "-- DROP TABLE users;\n/* ALTER TABLE t ALTER COLUMN a TYPE int */\n\
                   INSERT INTO log VALUES ('DROP TABLE users');\n\
                   CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DROP TABLE t $$;";
        assert!(rules(sql).is_empty(), "{:?}", rules(sql));
    }

    #[test]
    fn squawk_ignore_comments_silence_a_rule_for_the_file_or_the_next_statement() {
        let sql = "-- squawk-ignore-file ban-drop-column\n\
                   ALTER TABLE t DROP COLUMN a;\n\
                   -- squawk-ignore changing-column-type, renaming-column\n\
                   ALTER TABLE t ALTER COLUMN b TYPE bigint;\n\
                   ALTER TABLE t ALTER COLUMN c TYPE bigint;\n";
        assert_eq!(
            rules(sql),
            vec![(Rule::ChangingColumnType, 5, 15, Some("t".to_owned()))]
        );
        assert!(rules("-- squawk-ignore-file\nDROP TABLE t;").is_empty());
        // A different rule named: not silenced.
        assert_eq!(
            only("-- squawk-ignore ban-drop-table\nALTER TABLE t RENAME TO u"),
            Rule::RenamingTable
        );
        // `-- squawk-ignored` is not the comment.
        assert_eq!(only("-- squawk-ignored\nDROP TABLE t"), Rule::BanDropTable);
    }

    #[test]
    fn a_typed_literal_is_a_plain_string_not_an_escape_string() {
        // `name'C:\'` is the type `name` and the standard string `'C:\'`: the backslash does
        // not escape the quote, so the next action is still read.
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN dir text DEFAULT name'C:\\', ADD COLUMN n int NOT NULL"),
            Rule::AddingRequiredField
        );
        assert_eq!(
            only("ALTER TABLE t ADD COLUMN d date DEFAULT date'2024-01-01', ADD COLUMN n int NOT NULL"),
            Rule::AddingRequiredField
        );
        // ... and what lies between two such strings is not read as actions.
        assert!(rules(
            "ALTER TABLE t ADD COLUMN a text DEFAULT name'\\', \
             ADD COLUMN b text DEFAULT ', DROP COLUMN x, '"
        )
        .is_empty());
    }

    #[test]
    fn text_inside_strings_is_not_read_as_actions() {
        // A dollar-quote tag may hold any non-ASCII character.
        assert!(rules("ALTER TABLE t ADD COLUMN c text DEFAULT $→$x, DROP COLUMN y$→$").is_empty());
        // A string continued on the next line keeps its escapes.
        assert!(
            rules("ALTER TABLE t ADD COLUMN a text DEFAULT E'a'\n'\\', DROP COLUMN x, '")
                .is_empty()
        );
    }

    #[test]
    fn a_unicode_quoted_table_name_is_one_name() {
        assert_eq!(
            rules("ALTER TABLE U&\"t\\0061\" ALTER COLUMN a TYPE bigint"),
            vec![(
                Rule::ChangingColumnType,
                1,
                24,
                Some("U&\"t\\0061\"".to_owned())
            )]
        );
    }

    #[test]
    fn ignore_comments_inside_strings_do_not_count() {
        assert_eq!(
            only("INSERT INTO t VALUES ('\n-- squawk-ignore-file\n');\nDROP TABLE t;"),
            Rule::BanDropTable
        );
        assert_eq!(
            only("SELECT $$\n-- squawk-ignore ban-drop-table\n$$;\nDROP TABLE t;"),
            Rule::BanDropTable
        );
        // A block comment between the ignore comment and its statement is skipped.
        assert!(
            rules("-- squawk-ignore ban-drop-table\n/* why:\n   obsolete */\nDROP TABLE t;")
                .is_empty()
        );
    }

    #[test]
    fn every_rule_has_a_name_that_round_trips_and_help() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_name(rule.as_str()), Some(rule));
            assert!(!rule.help().is_empty());
        }
        assert_eq!(Rule::from_name("nonsense"), None);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for sql in [
            "",
            ";;;",
            "ALTER",
            "ALTER TABLE",
            "ALTER TABLE t ADD",
            "ALTER TABLE t ADD CONSTRAINT",
            "CREATE INDEX",
            "CREATE INDEX ON",
            "DROP TABLE",
            "ALTER TABLE t ALTER",
            "'unterminated",
            "$tag$ unterminated",
            "\"unterminated",
            "/* unterminated",
            "ALTER TABLE é ADD ü int NOT NULL",
            "$1 $ $$",
        ] {
            let _ = check_sql(sql, false);
            let _ = check_sql(sql, true);
        }
    }
}
