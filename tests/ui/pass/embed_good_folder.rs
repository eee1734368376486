// The fixtures folder is linked into trybuild's project by tests/e2e/ui.rs.
use trek::{Checksum, Kind, Migrations};

static MIGRATIONS: Migrations = trek::embed!("fixtures/embed/good");
const ALSO_CONST: Migrations = trek::embed!("fixtures/embed/good/");

fn main() {
    let versions: Vec<&str> = MIGRATIONS
        .versioned()
        .map(|m| m.version().map_or("", |v| v.as_str()))
        .collect();
    assert_eq!(versions, ["0001", "0002", "10"]);
    assert_eq!(MIGRATIONS.repeatables().count(), 1);
    assert_eq!(MIGRATIONS.seeds().count(), 1);
    assert_eq!(MIGRATIONS.len(), 5);

    let first = &MIGRATIONS.all()[0];
    assert_eq!(first.kind(), Kind::Versioned);
    assert_eq!(first.name(), "create_users");
    assert_eq!(first.path(), "0001_create_users.sql");
    assert_eq!(
        first.checksum().as_str(),
        "sha256:a543ed5cd544718854f4eb408c155ccde98eb997c9fa16fa62fb13c46f3f903d"
    );
    assert_eq!(first.down().map(|d| d.sql()), Some("drop table users;\n"));

    let index = &MIGRATIONS.all()[1];
    assert!(index.directives().no_transaction);
    assert_eq!(index.directives().lock_timeout.as_deref(), Some("5s"));
    assert!(index.down().is_none());

    // The BOM is dropped on access; CRLF is kept in the text but not in the checksum.
    let comment = &MIGRATIONS.all()[2];
    assert_eq!(comment.path(), "10_comment.up.sql");
    assert!(comment.sql().starts_with("comment on table users"));
    assert_eq!(
        comment.checksum(),
        &Checksum::of(b"comment on table users is 'People; who log in';\n")
    );

    let views = MIGRATIONS.repeatables().next().expect("a repeatable");
    assert_eq!(views.name(), "user_emails");
    assert!(views.directives().run_always);
    assert!(MIGRATIONS.seeds().all(|s| s.down().is_some()));

    // What was embedded is exactly what the run-time reader sees.
    let dir = MIGRATIONS.source_dir().expect("the folder is recorded");
    assert!(std::path::Path::new(dir).is_absolute());
    let on_disk = trek_core::source::read_dir(dir.as_ref()).expect("the folder is valid");
    assert_eq!(MIGRATIONS.all(), on_disk.all());
    assert_eq!(MIGRATIONS.source_dir(), on_disk.source_dir());
    assert_eq!(ALSO_CONST.all(), MIGRATIONS.all());
}
