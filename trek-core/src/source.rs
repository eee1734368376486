//! Reading a migrations folder into a validated [`Migrations`] set.

use std::path::Path;

use crate::{Migrations, SourceErrors};

/// Reads `dir` (recursively for `repeatable/` and `seeds/`) into a validated, sorted set whose
/// `source_dir` is `dir` made absolute.
///
/// # Errors
/// Every problem in the folder at once (bad names, equal versions, unknown directives, invalid
/// UTF-8, a down without an up, a missing folder, ...), each naming its file.
pub fn read_dir(dir: &Path) -> Result<Migrations, SourceErrors> {
    todo!()
}
