//! `cargo trek`: see the `cargo_trek` library for everything it does.

fn main() -> std::process::ExitCode {
    cargo_trek::run()
}
