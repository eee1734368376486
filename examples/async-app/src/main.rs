//! An async service that migrates its own database at start-up, then serves it.
//!
//! `#[tokio::main]` with axum: the migrations are compiled in by `trek::embed!` and applied by
//! `Migrator::run_async`, which does trek's blocking work on a thread of its own, so the
//! runtime's threads never block. Then `GET /notes` reads the migrated table with
//! `tokio-postgres`. With `DATABASE_URL` set it uses that database; with nothing configured it
//! starts trek's local PostgreSQL server for this workspace (under `target/trek/`), so
//! `cargo run -p trek-example-async-app` works on a fresh clone. It listens on
//! `127.0.0.1:$PORT` (3000 by default) until Ctrl-C; with `--once` it answers one request to
//! itself, prints the answer and exits.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_postgres::NoTls;

/// Every migration of `examples/async-app/migrations`, checked and checksummed at compile time.
static MIGRATIONS: trek::Migrations = trek::embed!();

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let once = std::env::args().any(|a| a == "--once");
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => local_database().await?,
    };

    // Migrate before serving: on a thread of trek's own, awaited here.
    let config: trek::postgres::Config = url.parse()?;
    let report = trek::Migrator::new(&MIGRATIONS)
        .workflow(trek::Workflow::Prod)
        .run_async(config, trek::postgres::NoTls)
        .await?;
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    if report.applied.is_empty() {
        println!(
            "database is up to date ({} migrations embedded)",
            MIGRATIONS.versioned().count()
        );
    }
    for step in &report.applied {
        println!("applied {step} in {:.1?}", step.duration);
    }

    let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("database connection ended: {e}");
        }
    });
    let app = Router::new()
        .route("/notes", get(notes))
        .with_state(Arc::new(client));

    if once {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        print!(
            "GET /notes → {}",
            get_once(&addr.to_string(), "/notes").await?
        );
        return Ok(());
    }
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "serving http://{}/notes (Ctrl-C to stop)",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// `GET /notes`: the titles of the notes, one per line.
async fn notes(
    State(client): State<Arc<tokio_postgres::Client>>,
) -> Result<String, (StatusCode, String)> {
    let rows = client
        .query("SELECT title FROM notes ORDER BY id", &[])
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut body = format!("{} notes\n", rows.len());
    for row in rows {
        body.push_str(&format!("- {}\n", row.get::<_, &str>(0)));
    }
    Ok(body)
}

/// Starts trek's local server (blocking work: off the runtime's threads) and creates the
/// example's database on it when missing; returns its URL.
async fn local_database() -> Result<String, BoxError> {
    let info = tokio::task::spawn_blocking(|| {
        trek_local_server::LocalServer::for_manifest_dir(env!("CARGO_MANIFEST_DIR").as_ref())
            .start()
    })
    .await??;
    println!(
        "using trek's local PostgreSQL server on port {} (set DATABASE_URL to use another database)",
        info.port
    );
    let (admin, connection) = tokio_postgres::connect(&info.url("postgres"), NoTls).await?;
    let driver = tokio::spawn(connection);
    let name = "trek_example_async";
    if admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_none()
    {
        // Identifiers cannot be bind parameters; `name` is a constant of this program.
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await?;
    }
    drop(admin);
    driver.await??;
    Ok(info.url(name))
}

/// One HTTP/1.1 `GET` of `path` on `addr`; returns the response body.
async fn get_once(addr: &str, path: &str) -> Result<String, BoxError> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or("the response has no body")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("the service answered {}", head.lines().next().unwrap_or("")).into());
    }
    Ok(body.to_owned())
}
