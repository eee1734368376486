//! trek from async code: the blocking engine on a thread of its own, awaited as a future.
//!
//! trek is a blocking engine (rust-postgres's `postgres` client, which drives
//! `tokio-postgres` on a private current-thread runtime). Called on an executor thread it
//! would block that thread, and inside a tokio runtime the driver refuses to start ("Cannot
//! start a runtime from within a runtime"). [`Migrator::run_async`] and
//! [`Migrator::call_async`] instead open trek's own session and do the work on a dedicated
//! OS thread, and hand back a [`Pending`] future that any executor can await (tokio,
//! async-std, smol, `futures::executor::block_on`): it is woken through a
//! `tokio::sync::oneshot` channel, which needs no runtime. No second driver stack: the same
//! `postgres` crate does the work.
//!
//! Why trek does not take the application's `tokio_postgres::Client` or a pooled connection
//! (refinery's `run_async` does): trek's advisory lock and its session-state guarantees belong
//! to one server session that trek controls from start to end, and a pool hands out sessions
//! that other tasks share. trek opens one session with the application's own configuration
//! and TLS connector, and closes it when the run ends.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::{Client, Config, Socket};
use tokio::sync::oneshot;

use crate::connect::ConfigConnector;
use crate::error::{Error, Result};
use crate::migrator::Migrator;
use crate::report::Report;

/// The result of work trek does on a thread of its own ([`Migrator::run_async`],
/// [`Migrator::call_async`]): a future that resolves when the work is done. Dropping it does
/// not stop the work (a migration is never abandoned halfway); the thread finishes, records
/// what it did and closes its session.
///
/// # Panics
/// Polling it resumes a panic of the work, as joining a thread would.
#[must_use = "the work runs whether or not it is awaited; await it to get its result"]
#[derive(Debug)]
pub struct Pending<T> {
    receiver: oneshot::Receiver<std::thread::Result<T>>,
}

impl<T> Future for Pending<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.receiver).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(Ok(value))) => Poll::Ready(value),
            Poll::Ready(Ok(Err(payload))) => panic::resume_unwind(payload),
            // The sender is dropped only after sending, or when the thread could not start.
            Poll::Ready(Err(_)) => panic!("trek's worker thread ended without a result"),
        }
    }
}

impl<T: Send + 'static> Pending<T> {
    /// Runs `work` on a new OS thread named `name` and returns the future of its result: for
    /// any blocking work an async caller must not do on its executor (trek-testing's
    /// `TestDb::new_async` uses it).
    ///
    /// # Errors
    /// When the operating system cannot start the thread.
    pub fn on_thread(
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<Pending<T>> {
        let (sender, receiver) = oneshot::channel();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let result = panic::catch_unwind(AssertUnwindSafe(work));
                let _ = sender.send(result);
            })?;
        Ok(Pending { receiver })
    }

    /// A future already resolved to `value`.
    pub fn ready(value: T) -> Pending<T> {
        let (sender, receiver) = oneshot::channel();
        let _ = sender.send(Ok(value));
        Pending { receiver }
    }
}

/// Runs `work` on a thread named `trek`; a thread that cannot start is [`Error::Io`].
fn spawn<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Pending<Result<T>> {
    Pending::on_thread("trek", work).unwrap_or_else(|e| {
        Pending::ready(Err(Error::io("could not start trek's worker thread", e)))
    })
}

impl Migrator<'static> {
    /// [`Migrator::run`] from async code: connects with `config` through `tls` (the TLS
    /// connector the application uses for its own connections, or `postgres::NoTls`), runs the
    /// workflow and closes the session, all on a thread of its own, so no executor thread is
    /// blocked. Works from any runtime (and from none). Unless a connector was set with
    /// [`Migrator::connector`], snapshots and resets connect with the same `config` and `tls`.
    ///
    /// The migrations must be `'static`, as `trek::embed!` makes them
    /// (`static MIGRATIONS: trek::Migrations = trek::embed!();`).
    ///
    /// ```no_run
    /// # async fn start(migrations: &'static trek::Migrations) -> Result<(), Box<dyn std::error::Error>> {
    /// let config: trek::postgres::Config = std::env::var("DATABASE_URL")?.parse()?;
    /// let report = trek::Migrator::new(migrations)
    ///     .run_async(config, trek::postgres::NoTls)
    ///     .await?;
    /// println!("applied {} migrations", report.applied.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// What [`Migrator::run`] returns, and [`Error::Database`] when the session cannot be
    /// opened.
    pub fn run_async<T>(self, config: Config, tls: T) -> Pending<Result<Report>>
    where
        T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
        T::TlsConnect: Send,
        T::Stream: Send + Sync,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        self.call_async(config, tls, |migrator, client| migrator.run(client))
    }

    /// Any of trek's blocking calls from async code: connects with `config` through `tls`, calls
    /// `work` with this migrator and the session on a thread of its own, and closes the
    /// session. For [`Migrator::status`], [`Migrator::revert`], a dry run, …:
    /// `migrator.call_async(config, tls, |m, client| m.status(client)).await`.
    ///
    /// # Errors
    /// What `work` returns, and [`Error::Database`] when the session cannot be opened.
    pub fn call_async<T, R, F>(self, config: Config, tls: T, work: F) -> Pending<Result<R>>
    where
        T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
        T::TlsConnect: Send,
        T::Stream: Send + Sync,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
        R: Send + 'static,
        F: FnOnce(&Migrator<'static>, &mut Client) -> Result<R> + Send + 'static,
    {
        let migrator = if self.has_connector() {
            self
        } else {
            self.connector(ConfigConnector::new(config.clone(), tls.clone()))
        };
        spawn(move || {
            let mut client = config
                .connect(tls)
                .map_err(|e| Error::db("could not connect to the database", e))?;
            let result = work(&migrator, &mut client);
            drop(client);
            result
        })
    }
}
