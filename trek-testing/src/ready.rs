//! Copies made ahead: after a test takes its database, a background thread copies the
//! template again, so the next test of the process finds one ready instead of waiting for
//! `CREATE DATABASE`. A process keeps at most [`READY`] copies per template; the ones left
//! when it exits are dropped by a later run (see the sweep in [`crate::template`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::server::Server;
use crate::template::{self, CloneStrategy, Template};

/// How many copies a process keeps ready per template.
const READY: usize = 2;

#[derive(Default)]
struct Shelf {
    /// Copies ready to hand out.
    ready: Vec<String>,
    /// Whether a thread is making copies.
    filling: bool,
}

type Shelves = Mutex<HashMap<String, Shelf>>;

fn shelves() -> &'static Shelves {
    static SHELVES: std::sync::OnceLock<Shelves> = std::sync::OnceLock::new();
    SHELVES.get_or_init(Shelves::default)
}

fn key(template: &Template, strategy: CloneStrategy) -> String {
    format!("{}/{strategy:?}", template.name)
}

/// A copy of `template` made ahead, when one is ready; in any case, starts making more.
/// `name` makes the name of a new copy.
pub(crate) fn take(
    server: &Arc<Server>,
    template: &Template,
    strategy: CloneStrategy,
    name: fn(&str) -> String,
) -> Option<String> {
    let key = key(template, strategy);
    let (taken, start) = {
        let mut shelves = shelves().lock().unwrap_or_else(PoisonError::into_inner);
        let shelf = shelves.entry(key.clone()).or_default();
        let taken = shelf.ready.pop();
        let start = !shelf.filling;
        shelf.filling = true;
        (taken, start)
    };
    if start {
        let server = Arc::clone(server);
        let template = template.clone();
        let filling = key.clone();
        let spawned = thread::Builder::new()
            .name("trek-testdb-ahead".to_owned())
            .spawn(move || fill(&server, &template, strategy, name, &filling));
        if spawned.is_err() {
            let mut shelves = shelves().lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(shelf) = shelves.get_mut(&key) {
                shelf.filling = false;
            }
        }
    }
    taken
}

/// Makes copies until [`READY`] are on the shelf, or until a copy fails (the template was
/// replaced or dropped: the next test copies it itself and rebuilds it when needed).
fn fill(
    server: &Server,
    template: &Template,
    strategy: CloneStrategy,
    name: fn(&str) -> String,
    key: &str,
) {
    loop {
        let full = {
            let shelves = shelves().lock().unwrap_or_else(PoisonError::into_inner);
            shelves.get(key).is_some_and(|s| s.ready.len() >= READY)
        };
        if full {
            break;
        }
        let copy = name(&template.slot);
        let made = server.maintenance().map(|mut admin| {
            let result = template::clone_into(&mut admin, &template.name, &copy, strategy);
            server.put_back(admin);
            result
        });
        match made {
            Ok(Ok(())) => {
                let mut shelves = shelves().lock().unwrap_or_else(PoisonError::into_inner);
                shelves.entry(key.to_owned()).or_default().ready.push(copy);
            }
            Ok(Err(e)) => {
                tracing::debug!(template = %template.name, error = %trek::describe_postgres_error(&e), "stopped making copies ahead");
                break;
            }
            Err(e) => {
                tracing::debug!(template = %template.name, error = %e, "stopped making copies ahead");
                break;
            }
        }
    }
    let mut shelves = shelves().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(shelf) = shelves.get_mut(key) {
        shelf.filling = false;
    }
}
