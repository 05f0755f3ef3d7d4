//! An ordered, bounded parallel map: item `i` of `0..count` is made on a rayon worker, and
//! results are handed to the caller's thread in index order, as they become ready.
//!
//! Why not `par_iter` over chunks (what [`super::stream`] did before): a chunk is a barrier.
//! The workers wait for the chunk's slowest file, and the pool idles while the caller hands the
//! chunk's results on. Here each worker takes the next batch as soon as it is free, and the
//! caller takes results while the workers go on. `render` takes less wall time, its sink
//! (staging the text) now overlapping the work; `validate`, whose sink does nothing, about the
//! same, paying a little CPU for the hand-over (BENCHMARKS.md).
//!
//! Memory stays bounded: a worker may start a batch only while it is less than a window ahead
//! of what the caller has taken, so about `window` results at most are made and not yet handed
//! on, however slow one item is. Rayon stays the pool (so `RAYON_NUM_THREADS` still sets the
//! threads); an ordered crate such as pariter would bring a second pool and its own thread knob
//! for these sixty lines.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError, mpsc};

/// Makes `make(i)` for every `i` in `0..count` on `threads` rayon workers and calls `take` with
/// each result in index order on the calling thread, until `take` breaks. About `window`
/// results at most (rounded up to whole batches) are made ahead of `take`. With one thread or
/// one item everything runs on the calling thread.
pub(super) fn map<R, M, T>(count: usize, threads: usize, window: usize, make: M, mut take: T)
where
    R: Send,
    M: Fn(usize) -> R + Sync,
    T: FnMut(R) -> ControlFlow<()>,
{
    if threads <= 1 || count <= 1 {
        for index in 0..count {
            if take(make(index)).is_break() {
                return;
            }
        }
        return;
    }
    // Items are made in batches of consecutive indices, so the calling thread is woken once a
    // batch rather than once an item (a wake-up costs about what a small file does); each
    // worker can still have two batches inside the window.
    let window = window.max(1);
    let batch = (window / (2 * threads)).max(1);
    let batches = count.div_ceil(batch);
    let shared = Shared {
        cursor: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        handed: Mutex::new(0),
        moved: Condvar::new(),
    };
    let (sender, receiver) = mpsc::sync_channel::<(usize, Vec<R>)>(batches.min(window));
    rayon::in_place_scope(|scope| {
        for _ in 0..threads.min(batches) {
            let sender = sender.clone();
            let (shared, make) = (&shared, &make);
            scope.spawn(move |_| {
                let _stop_on_panic = StopOnPanic(shared);
                while let Some(first) = shared.next(batches, window.div_ceil(batch)) {
                    let indices = first * batch..((first + 1) * batch).min(count);
                    if sender.send((first, indices.map(make).collect())).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        // Ends when every worker has stopped: all items made, or a worker panicked (the
        // scope then resumes the panic here).
        'results: for (first, made) in receiver {
            waiting.insert(first, made);
            while let Some(made) = waiting.remove(&next) {
                next += 1;
                shared.handed_on(next);
                for made in made {
                    if take(made).is_break() {
                        break 'results;
                    }
                }
            }
        }
        // Workers waiting for the window, or for a place in the channel (gone with the
        // receiver), stop instead of making results nobody will take.
        shared.halt();
    });
}

/// What the workers and the calling thread share.
struct Shared {
    /// The next index to make.
    cursor: AtomicUsize,
    /// Set when the caller stops early or a worker panicked: no new item is started.
    stop: AtomicBool,
    /// How many batches the caller has taken, in order.
    handed: Mutex<usize>,
    /// Signalled when `handed` grows or `stop` is set.
    moved: Condvar,
}

impl Shared {
    /// The next batch for a worker, once it is inside the window (both counted in batches);
    /// `None` when all are taken or the map stopped.
    fn next(&self, count: usize, window: usize) -> Option<usize> {
        let index = self.cursor.fetch_add(1, Ordering::Relaxed);
        if index >= count {
            return None;
        }
        let mut handed = self.handed.lock().unwrap_or_else(PoisonError::into_inner);
        while index >= *handed + window && !self.stop.load(Ordering::Acquire) {
            handed = self
                .moved
                .wait(handed)
                .unwrap_or_else(PoisonError::into_inner);
        }
        (!self.stop.load(Ordering::Acquire)).then_some(index)
    }

    fn handed_on(&self, handed: usize) {
        *self.handed.lock().unwrap_or_else(PoisonError::into_inner) = handed;
        self.moved.notify_all();
    }

    fn halt(&self) {
        // Set under the lock, so a worker between its check and its wait cannot miss it.
        let _handed = self.handed.lock().unwrap_or_else(PoisonError::into_inner);
        self.stop.store(true, Ordering::Release);
        self.moved.notify_all();
    }
}

/// Stops the map when a worker unwinds, so the others and the caller do not wait forever for
/// the item that will never come.
struct StopOnPanic<'a>(&'a Shared);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn collect(count: usize, threads: usize, window: usize) -> Vec<usize> {
        let mut got = Vec::new();
        map(
            count,
            threads,
            window,
            |index| index * 10,
            |made| {
                got.push(made);
                ControlFlow::Continue(())
            },
        );
        got
    }

    #[test]
    fn results_come_in_index_order_whatever_the_threads() {
        let expected: Vec<usize> = (0..500).map(|i| i * 10).collect();
        for threads in [1, 2, 3, 8] {
            for window in [1, 2, 7, 64] {
                assert_eq!(
                    collect(500, threads, window),
                    expected,
                    "{threads}/{window}"
                );
            }
        }
        assert_eq!(collect(0, 4, 4), Vec::<usize>::new());
        assert_eq!(collect(1, 4, 4), vec![0]);
    }

    #[test]
    fn no_item_starts_beyond_the_window() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let started = AtomicUsize::new(0);
        let mut worst = 0;
        pool.install(|| {
            map(
                300,
                4,
                5,
                |index| {
                    started.fetch_max(index + 1, Ordering::SeqCst);
                    index
                },
                |made| {
                    // Items started beyond the one being handed on now.
                    let ahead = started.load(Ordering::SeqCst) - (made + 1);
                    worst = worst.max(ahead);
                    ControlFlow::Continue(())
                },
            )
        });
        assert!(worst <= 5, "{worst} items in flight with a window of 5");
    }

    #[test]
    fn a_break_stops_the_workers() {
        let made = AtomicUsize::new(0);
        let mut taken = 0;
        map(
            10_000,
            4,
            8,
            |index| {
                made.fetch_add(1, Ordering::SeqCst);
                index
            },
            |_| {
                taken += 1;
                if taken == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(taken, 3);
        // The three taken and at most a window's worth started beyond them.
        assert!(made.load(Ordering::SeqCst) <= 3 + 8);
    }

    #[test]
    fn a_panicking_item_reaches_the_caller_instead_of_hanging() {
        let outcome = std::panic::catch_unwind(|| {
            map(
                1_000,
                4,
                4,
                |index| {
                    assert_ne!(index, 17, "item 17 fails");
                    index
                },
                |_| ControlFlow::Continue(()),
            )
        });
        assert!(outcome.is_err());
    }
}
