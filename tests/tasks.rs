//! Every runtime flavour really does what the task benches claim: tasks spawned and awaited,
//! tokens passed around a ring exactly as often as asked, and yields that interleave.

use concurrency_costs::flavours::FLAVOURS;
use concurrency_costs::loaded_loop::LoadedLoop;
use concurrency_costs::tasks::TaskScheduler;

/// Whether the flavour runs all its tasks on one thread, where two yielding tasks must
/// alternate and a ring never crosses threads.
fn single_threaded(id: &str) -> bool {
    FLAVOURS.iter().any(|f| f.id == id && f.workers == 1)
}

fn each_flavour(mut check: impl FnMut(&str, &mut dyn TaskScheduler)) {
    for flavour in FLAVOURS {
        match (flavour.start)() {
            Ok(mut scheduler) => check(flavour.id, scheduler.as_mut()),
            Err(why) => eprintln!("skipped {}: {why}", flavour.id),
        }
    }
}

#[test]
fn every_flavour_runs_every_task_it_spawns() {
    each_flavour(|id, scheduler| {
        assert_eq!(scheduler.spawn_await(50).completed, 50, "{id}");
        // 25 tasks asked in batches of 10: three whole batches run.
        assert_eq!(scheduler.spawn_batch(10, 25).completed, 30, "{id}");
    });
}

#[test]
fn rings_pass_the_token_exactly_as_often_as_asked() {
    each_flavour(|id, scheduler| {
        for members in [2, 3, 64] {
            let run = scheduler.ring(members, 30);
            let laps = 30u64.div_ceil(members as u64) + 1; // one untimed warm-up lap
            assert_eq!(run.hops, laps * members as u64, "{id}, {members} members");
            assert!(run.crossed <= run.hops, "{id}");
            if single_threaded(id) {
                assert_eq!(run.crossed, 0, "{id} ran a ring on more than one thread");
            }
        }
    });
}

#[test]
fn two_yielding_tasks_interleave() {
    each_flavour(|id, scheduler| {
        if let Err(why) = scheduler.yield_switches_tasks() {
            // Prove the reason given for skipping: the yielding task is never left.
            let order = scheduler.yield_order(50);
            assert!(
                order[..50].iter().all(|&t| t == 0),
                "{id}: {why}, yet {order:?}"
            );
            return;
        }
        let order = scheduler.yield_order(50);
        assert_eq!(order.len(), 100, "{id}");
        assert_eq!(order.iter().filter(|&&t| t == 1).count(), 50, "{id}");
        if single_threaded(id) {
            // Both tasks run in every scheduler round: no task runs three turns in a row.
            // (tokio wakes yielded tasks last-in first-out, so it runs them in pairs,
            // 0 1 1 0 0 1 1 0: half its yields switch tasks, half re-poll the same one.)
            let interleaved = order.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2]));
            let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
            assert!(interleaved, "{id} did not interleave: {order:?}");
            assert!(
                switches >= order.len() / 2 - 1,
                "{id}: {switches} switches in {order:?}"
            );
        }
    });
}

/// Batches of probes the test may send while waiting for the hog's next round. A batch spans
/// 4 ms, where a 200 µs round fits many times over on an idle machine; on a loaded one the
/// hog's thread may get no CPU for a whole batch, so the test waits for the round, bounded
/// (250 batches: a second of probes), instead of expecting it within any one batch.
const BATCHES_FOR_A_ROUND: usize = 250;

/// Sends batches of 40 probes, each answered in full, until the hog has finished more than
/// `rounds` rounds; false if it has not within the bound.
fn the_hog_passes(
    id: &str,
    scheduler: &mut dyn TaskScheduler,
    loaded: &LoadedLoop,
    rounds: u64,
) -> bool {
    (0..BATCHES_FOR_A_ROUND).any(|_| {
        let probes = scheduler.probe(loaded, 40);
        assert_eq!((probes.answered, probes.unanswered), (40, 0), "{id}");
        assert_eq!(probes.histogram.len(), 40, "{id}");
        loaded.rounds() > rounds
    })
}

#[test]
fn a_loaded_loop_keeps_one_hog_running_across_batches_of_probes() {
    use std::time::Duration;
    let work = Duration::from_micros(200);
    each_flavour(|id, scheduler| {
        for offloaded in [false, true] {
            if let (false, Err(why)) = (offloaded, scheduler.answers_under_inline_load()) {
                eprintln!("skipped {id} inline: {why}");
                continue;
            }
            let loaded = scheduler.load(work, offloaded);
            let first = the_hog_passes(id, scheduler, &loaded, 0);
            let after_first = loaded.rounds();
            // The hog rests between batches; the same hog, its count never reset, must
            // take up its work again when probes come back.
            let again = the_hog_passes(id, scheduler, &loaded, after_first);
            scheduler.unload(loaded);
            assert!(first, "{id} offloaded={offloaded}: the hog never ran");
            assert!(
                again,
                "{id} offloaded={offloaded}: the hog never ran again after resting"
            );
        }
    });
}

#[test]
fn an_idle_loop_runs_no_hog() {
    each_flavour(|id, scheduler| {
        let loaded = scheduler.load(std::time::Duration::ZERO, false);
        let batch = scheduler.probe(&loaded, 20);
        assert_eq!((batch.answered, loaded.rounds()), (20, 0), "{id}");
        scheduler.unload(loaded);
    });
}
