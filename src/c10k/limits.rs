//! What a run needs from this machine, checked before it starts, so that a model that does
//! not fit is skipped with the reason instead of failing halfway.

use super::{CpuPlacement, Model, Work, Workload};
use nix::sys::resource::{Resource, getrlimit};

/// Descriptors a process needs beyond one per connection (listener, pipes, runtime fds).
const FD_MARGIN: u64 = 64;
/// Threads beyond the model's own (runtime workers, the acceptor, the client's).
const THREAD_MARGIN: u64 = 16;
/// Threads a runtime's blocking pool may grow to when requests are hashed on it (tokio's
/// default maximum is 512; async-std's and smol's pools stay below that).
const BLOCKING_POOL: u64 = 512;

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// How many ephemeral ports the client may use (`net.ipv4.ip_local_port_range`).
fn ephemeral_ports() -> Option<u64> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut ends = range.split_whitespace().map(|n| n.parse::<u64>().ok());
    let (low, high) = (ends.next()??, ends.next()??);
    Some(high.saturating_sub(low) + 1)
}

/// Threads (or processes) the model starts for this workload.
fn tasks_needed(model: Model, workload: &Workload) -> u64 {
    match model {
        Model::ThreadPerConnection => workload.connections as u64,
        Model::ThreadPool => workload.pool_threads as u64,
        Model::Prefork => workload.prefork_workers as u64,
        _ => match workload.work {
            Work::Cpu {
                placement: CpuPlacement::Pool,
                ..
            } => BLOCKING_POOL,
            _ => 0,
        },
    }
}

/// `Ok` when the run fits this machine, or every reason it does not.
pub fn check(model: Model, workload: &Workload) -> Result<(), String> {
    let mut problems = Vec::new();
    let fds_needed = workload.connections as u64 + FD_MARGIN;
    let hard = getrlimit(Resource::RLIMIT_NOFILE).map_or(0, |(_, hard)| hard);
    if hard < fds_needed {
        problems.push(format!(
            "needs {fds_needed} open files per process, the hard limit is {hard} (ulimit -Hn)"
        ));
    }
    if let Some(ports) = ephemeral_ports().filter(|&p| p < workload.connections as u64) {
        problems.push(format!(
            "needs {} client ports, net.ipv4.ip_local_port_range has {ports}",
            workload.connections
        ));
    }
    if let Err(why) = crate::limits::room_for_threads(tasks_needed(model, workload) + THREAD_MARGIN)
    {
        problems.push(why.0);
    }
    if model == Model::ThreadPerConnection {
        // Each thread stack is a mapping plus its guard page.
        let maps = 2 * workload.connections as u64 + 1000;
        if let Some(limit) = read_number("/proc/sys/vm/max_map_count").filter(|&l| l < maps) {
            problems.push(format!(
                "needs {maps} memory maps, vm.max_map_count is {limit}"
            ));
        }
    }
    if let Some(server) = model.server()
        && let Err(skip) = (server.available)()
    {
        problems.push(skip.0);
    }
    if workload.connections == 0 || workload.requests_per_connection == 0 {
        problems.push("needs at least one connection and one request".into());
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems.join("; ")),
    }
}

/// The listen backlog the kernel grants (`net.core.somaxconn` caps the one asked for).
pub fn granted_backlog() -> u64 {
    read_number("/proc/sys/net/core/somaxconn")
        .unwrap_or(super::BACKLOG as u64)
        .min(super::BACKLOG as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_fits_and_an_impossible_one_says_why() {
        let small = Workload {
            connections: 10,
            ..Workload::default()
        };
        assert_eq!(check(Model::ThreadPool, &small), Ok(()));
        let huge = Workload {
            connections: 10_000_000,
            ..Workload::default()
        };
        let why = check(Model::ThreadPerConnection, &huge).unwrap_err();
        assert!(why.contains("open files"), "{why}");
        let empty = Workload {
            connections: 0,
            ..Workload::default()
        };
        assert!(check(Model::from_id("smol").unwrap(), &empty).is_err());
    }
}
