//! Deterministic batching: the loaders' fetches of a request run only when the
//! request itself can make no further progress.
//!
//! async-graphql's `DataLoader` hands each batch to a spawner and starts it after a
//! fixed delay, on whatever thread is free; siblings that have not registered their
//! keys by then (a slow debug build, a busy machine) end up in another batch, so the
//! number of statements depends on timing. Here the spawner only queues the batch,
//! and [`BatchScheduler::run`] polls queued batches only once the request future is
//! pending without having woken itself, that is once every resolver that could run
//! has asked for its key. The
//! statement count then depends on the shape of the query alone.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};

/// The queue of one request's pending batch loads.
#[derive(Clone, Default)]
pub struct BatchScheduler {
    queue: Arc<Mutex<Vec<BoxFuture<'static, ()>>>>,
}

impl BatchScheduler {
    /// The spawner to give the request's `DataLoader`: it queues instead of running.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        let queue = self.queue.clone();
        move |task| queue.lock().unwrap_or_else(|e| e.into_inner()).push(task)
    }

    /// Runs `request` to completion, driving its queued batches whenever it waits.
    pub async fn run<F: Future>(&self, request: F) -> F::Output {
        let mut request = pin!(request);
        let mut batches = FuturesUnordered::new();
        std::future::poll_fn(|cx| {
            for _ in 0..MAX_SELF_WAKES {
                let woken = Arc::new(WakeFlag {
                    woken: AtomicBool::new(false),
                    outer: cx.waker().clone(),
                });
                let waker = Waker::from(woken.clone());
                if let Poll::Ready(output) = request.as_mut().poll(&mut Context::from_waker(&waker))
                {
                    return Poll::Ready(output);
                }
                if !woken.woken.load(Ordering::Acquire) {
                    break;
                }
            }
            batches.extend(self.take_queued());
            while let Poll::Ready(Some(())) = batches.poll_next_unpin(cx) {}
            Poll::Pending
        })
        .await
    }

    fn take_queued(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// How often in a row the request may wake itself before its batches run anyway,
/// so a request that never settles cannot starve its own loads.
const MAX_SELF_WAKES: usize = 1_000;

/// A waker that notes whether the request was woken while it was being polled:
/// then it has more work of its own, and its batches are not complete yet.
struct WakeFlag {
    woken: AtomicBool,
    outer: Waker,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.outer.wake_by_ref();
    }
}
