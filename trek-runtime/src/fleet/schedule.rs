//! Bounded parallelism over a fleet: at most `parallel` targets at once, at most `per_server`
//! of them on one server, in the order given; optionally stopping at the first failure.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, PoisonError};

/// How many run at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub parallel: usize,
    pub per_server: usize,
}

struct Queue {
    waiting: VecDeque<usize>,
    running: HashMap<String, usize>,
    stopped: bool,
}

/// Runs `work` on each of `servers.len()` targets (`servers[i]` is target `i`'s server)
/// within `limits`, in order; when `stop(&result)` says so, starts no more. Returns each
/// target's result, `None` for those never started.
pub(crate) fn run<R, W, S>(servers: &[&str], limits: Limits, work: W, stop: S) -> Vec<Option<R>>
where
    R: Send,
    W: Fn(usize) -> R + Sync,
    S: Fn(&R) -> bool + Sync,
{
    let queue = Mutex::new(Queue {
        waiting: (0..servers.len()).collect(),
        running: HashMap::new(),
        stopped: false,
    });
    let changed = Condvar::new();
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..servers.len()).map(|_| None).collect());
    let per_server = limits.per_server.max(1);
    let next = || -> Option<usize> {
        let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if q.stopped || q.waiting.is_empty() {
                return None;
            }
            let free = q
                .waiting
                .iter()
                .position(|&i| q.running.get(servers[i]).copied().unwrap_or(0) < per_server);
            if let Some(at) = free {
                let i = q.waiting.remove(at)?;
                *q.running.entry(servers[i].to_owned()).or_insert(0) += 1;
                return Some(i);
            }
            q = changed.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..limits.parallel.clamp(1, servers.len().max(1)) {
            scope.spawn(|| {
                while let Some(i) = next() {
                    let result = work(i);
                    let halt = stop(&result);
                    results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(result);
                    let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(n) = q.running.get_mut(servers[i]) {
                        *n -= 1;
                    }
                    q.stopped |= halt;
                    drop(q);
                    changed.notify_all();
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn never_more_than_the_limits_and_every_target_once() {
        let servers: Vec<&str> = (0..40)
            .map(|i| if i % 4 == 0 { "a" } else { "b" })
            .collect();
        let (running, most, most_b) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        let on_b = AtomicUsize::new(0);
        let limits = Limits {
            parallel: 6,
            per_server: 2,
        };
        let results = run(
            &servers,
            limits,
            |i| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if servers[i] == "b" {
                    let b = on_b.fetch_add(1, Ordering::SeqCst) + 1;
                    most_b.fetch_max(b, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(2));
                if servers[i] == "b" {
                    on_b.fetch_sub(1, Ordering::SeqCst);
                }
                running.fetch_sub(1, Ordering::SeqCst);
                i
            },
            |_| false,
        );
        assert_eq!(results, (0..40).map(Some).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 4, "2 servers x 2 each");
        assert_eq!(most_b.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_stop_starts_nothing_more() {
        let servers = vec!["s"; 20];
        let limits = Limits {
            parallel: 1,
            per_server: 1,
        };
        let results = run(&servers, limits, |i| i, |&i| i == 4);
        assert_eq!(results.iter().filter(|r| r.is_some()).count(), 5);
        assert!(results[5..].iter().all(Option::is_none));
    }
}
