fn main() {
    // Rebuild when a migration is added, so the binary never embeds a stale folder.
    println!("cargo:rerun-if-changed=migrations");
}
