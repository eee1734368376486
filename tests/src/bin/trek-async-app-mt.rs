//! A `#[tokio::main]` application (multi-thread runtime) that migrates itself with
//! `Migrator::run_async`: see `common/async_app.rs`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "common/async_app.rs"]
mod async_app;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    async_app::migrate().await
}
