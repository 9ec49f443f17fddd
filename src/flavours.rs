//! The one list of runtime flavours. Every measurement over runtimes follows from it: the
//! task, spawn, switch, ring, blocked-loop and footprint scenarios, the round trip to each
//! runtime's own pool (`offload/roundtrip`), and the async servers of `costs c10k`. Each
//! flavour has an explicit worker count, carried in its ID, so numbers compare across
//! machines.

use crate::runtime::serve::ServeHook;
use crate::runtime::{
    AsyncStd, FuturesLocal, Monoio, Smol, SmolLocal, Tokio, WORKERS, async_std, may, monoio, smol,
    tokio,
};
use crate::skip::Skip;
use crate::tasks::{Async, MaySchedulers, TaskScheduler};

/// A runtime flavour: a stable ID, the OS threads its tasks run on, and how to start it here.
pub struct Flavour {
    pub id: &'static str,
    /// OS threads that run its tasks: 1 for a single-threaded scheduler, where two yielding
    /// tasks must alternate and a ring never crosses threads.
    pub workers: usize,
    pub start: fn() -> Result<Box<dyn TaskScheduler>, Skip>,
    /// The name of its own pool for blocking work, measured from this flavour as
    /// `offload/roundtrip/<pool>`; `None` where it has none of its own, or where the same
    /// pool is measured from another flavour.
    pub pool: Option<&'static str>,
    /// Its server in `costs c10k`, if it serves TCP.
    pub server: Option<Server>,
}

/// A flavour's TCP server, one of the concurrency models of `costs c10k`.
pub struct Server {
    /// The model's ID. Older than the flavour IDs (which name their worker count) and kept,
    /// because c10k reports and claims key on it.
    pub model: &'static str,
    pub serve: ServeHook,
    /// Whether it can start here, or why not, checked before a run starts.
    pub available: fn() -> Result<(), Skip>,
}

impl Flavour {
    pub fn by_id(id: &str) -> Option<&'static Flavour> {
        FLAVOURS.iter().find(|f| f.id == id)
    }
}

fn boxed<R: crate::runtime::AsyncRuntime + 'static>(rt: R) -> Result<Box<dyn TaskScheduler>, Skip> {
    Ok(Box::new(Async(rt)))
}

fn always() -> Result<(), Skip> {
    Ok(())
}

/// Every flavour, in report order.
pub static FLAVOURS: &[Flavour] = &[
    Flavour {
        id: "tokio_current_thread",
        workers: 1,
        start: || boxed(Tokio::current_thread()),
        // spawn_blocking's pool is the same whichever scheduler calls it: measured from
        // the multi-threaded one.
        pool: None,
        server: Some(Server {
            model: "tokio_current_thread",
            serve: tokio::serve_current_thread,
            available: always,
        }),
    },
    Flavour {
        id: "tokio_multi_thread_2w",
        workers: WORKERS,
        start: || boxed(Tokio::multi_thread()),
        pool: Some("tokio_spawn_blocking"),
        server: Some(Server {
            model: "tokio_multi_thread",
            serve: tokio::serve_multi_thread,
            available: always,
        }),
    },
    Flavour {
        id: "async_std_2w",
        workers: WORKERS,
        start: || boxed(AsyncStd::new()),
        pool: Some("async_std_spawn_blocking"),
        server: Some(Server {
            model: "async_std",
            serve: async_std::serve,
            available: always,
        }),
    },
    Flavour {
        id: "smol_2w",
        workers: WORKERS,
        start: || boxed(Smol::new()),
        pool: Some("smol_unblock"),
        server: Some(Server {
            model: "smol",
            serve: smol::serve,
            available: always,
        }),
    },
    Flavour {
        id: "smol_local",
        workers: 1,
        start: || boxed(SmolLocal::new()),
        // smol_unblock, measured from smol_2w.
        pool: None,
        server: None,
    },
    Flavour {
        id: "futures_local",
        workers: 1,
        start: || boxed(FuturesLocal::new()),
        pool: None,
        server: None,
    },
    Flavour {
        id: "may_2w",
        workers: WORKERS,
        start: || Ok(Box::new(MaySchedulers::start())),
        pool: None,
        server: Some(Server {
            model: "may",
            serve: may::serve,
            available: always,
        }),
    },
    Flavour {
        id: "monoio",
        workers: 1,
        start: || boxed(Monoio::new()?),
        pool: None,
        server: Some(Server {
            model: "monoio",
            serve: monoio::serve,
            available: || Monoio::new().map(drop),
        }),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn lower_snake_case(id: &str) -> bool {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn ids_pools_and_models_are_unique_and_lower_snake_case() {
        let mut seen = HashSet::new();
        let names = FLAVOURS.iter().flat_map(|f| {
            [Some(f.id), f.pool, f.server.as_ref().map(|s| s.model)]
                .into_iter()
                .flatten()
                .map(move |name| (f.id, name))
        });
        let mut named = 0;
        for (flavour, name) in names {
            named += 1;
            assert!(lower_snake_case(name), "{flavour}: {name}");
            // A flavour's server may keep the flavour's own ID; nothing else may repeat.
            assert!(
                seen.insert(name) || name == flavour,
                "{flavour}: {name} twice"
            );
        }
        assert!(named > FLAVOURS.len());
    }

    #[test]
    fn every_flavour_is_found_by_its_id() {
        for flavour in FLAVOURS {
            assert!(std::ptr::eq(Flavour::by_id(flavour.id).unwrap(), flavour));
        }
        assert!(Flavour::by_id("tokio").is_none());
    }
}
