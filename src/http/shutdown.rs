//! Graceful shutdown of what axum's own does not cover: WebSocket sessions. On
//! shutdown each one gets a close frame (1001, going away), and the server waits,
//! for a bounded time, until they have been sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

/// Shared by the server and its WebSocket sessions.
#[derive(Clone)]
pub struct Shutdown {
    begun: Arc<watch::Sender<bool>>,
    sessions: Arc<Sessions>,
}

#[derive(Default)]
struct Sessions {
    open: AtomicUsize,
    closed: Notify,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            begun: Arc::new(watch::channel(false).0),
            sessions: Arc::default(),
        }
    }
}

/// Held by a WebSocket session while it runs.
pub struct Session(Arc<Sessions>);

impl Drop for Session {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        self.0.closed.notify_waiters();
    }
}

impl Shutdown {
    /// Tells every session to close.
    pub fn begin(&self) {
        self.begun.send_replace(true);
    }

    /// Whether shutdown has begun.
    pub fn has_begun(&self) -> bool {
        *self.begun.borrow()
    }

    /// Resolves once shutdown has begun.
    pub async fn begun(&self) {
        let mut begun = self.begun.subscribe();
        // The sender lives in `self`, so the channel cannot close under us.
        let _ = begun.wait_for(|begun| *begun).await;
    }

    /// Registers a session; it counts as open until the returned guard drops.
    pub fn session(&self) -> Session {
        self.sessions.open.fetch_add(1, Ordering::AcqRel);
        Session(self.sessions.clone())
    }

    /// Waits until every session has closed, or `limit` passed.
    pub async fn drained(&self, limit: Duration) {
        let all_closed = async {
            loop {
                // Registered before the count is read, so a close in between wakes it.
                let mut closed = std::pin::pin!(self.sessions.closed.notified());
                closed.as_mut().enable();
                if self.sessions.open.load(Ordering::Acquire) == 0 {
                    return;
                }
                closed.await;
            }
        };
        if tokio::time::timeout(limit, all_closed).await.is_err() {
            tracing::warn!("WebSocket sessions still open after {limit:?}; stopping anyway");
        }
    }
}
