//! End-to-end tests of trek against a real PostgreSQL: one binary, one module per area.

mod concurrency;
mod downs;
mod dry_run;
mod dump;
mod failures;
mod faults;
mod local_server;
mod pgbouncer;
mod round_trips;
mod runtime;
mod seeds;
mod splitter;
mod support;
mod ui;
mod workflows;
