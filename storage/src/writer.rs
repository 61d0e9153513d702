//! Write-behind writers with group commit.
//!
//! A [`WriterPool`] is a fixed set of writer actors. Each conversation's writes go to one
//! writer (chosen by conversation id), so they are committed in the order the conversation
//! handed them over. A writer collects every request waiting in its mailbox into one batch and
//! commits it in a single transaction: under load, hundreds of messages share one commit, and
//! when idle a lone message is committed at once, with no timer to wait for.
//!
//! Only after the commit does the writer announce the batch's events (through the
//! [`EventSink`]) and answer each request. So an event is never seen for a change that could
//! still be lost, and a webhook is acknowledged only once what it carried is durable. If the
//! commit of a batch fails, its requests are committed again one by one, so that one bad
//! request fails alone; a request that still fails gets the error and its `on_failure` hook
//! runs, so the owning conversation can drop its in-memory state and reload it from storage.

use crate::records::{Write, WriteKey};
use crate::{StorageError, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use switchyard_engine::event::Event;
use tokio::sync::oneshot;

/// Where committed events go (the event bus). Called on the writer's task, in commit order.
pub type EventSink = Arc<dyn Fn(Vec<Event>) + Send + Sync>;

/// The most writes one transaction carries; a larger backlog is committed in several.
const MAX_BATCH_WRITES: usize = 2_000;

/// One conversation's changes, to be committed together.
pub struct WriteRequest {
    /// The conversation the changes belong to.
    pub key: WriteKey,
    /// The changes, in order.
    pub writes: Vec<Write>,
    /// Told the outcome once the batch holding these changes is committed (or failed).
    pub done: Option<oneshot::Sender<Result<(), Arc<StorageError>>>>,
    /// Run if the commit fails, before `done` is told.
    pub on_failure: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteRequest")
            .field("key", &self.key)
            .field("writes", &self.writes.len())
            .finish()
    }
}

/// The messages a writer actor handles.
#[derive(Debug)]
pub enum WriterMessage {
    /// Queue a request for the next commit.
    Write(WriteRequest),
    /// Commit everything queued so far. A writer sends itself this after the first request of
    /// a batch; because it goes to the back of the mailbox, every request already waiting is
    /// queued before the commit starts.
    Flush,
}

/// A set of writer actors, one per shard.
#[derive(Clone)]
pub struct WriterPool {
    shards: Vec<ActorRef<WriterMessage>>,
}

impl std::fmt::Debug for WriterPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterPool")
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl WriterPool {
    /// Starts `shards` writer actors over `store`, announcing committed events to `sink`.
    pub async fn start(store: Store, shards: usize, sink: EventSink) -> Result<Self, StorageError> {
        let mut refs = Vec::with_capacity(shards.max(1));
        for _ in 0..shards.max(1) {
            let writer = StorageWriter {
                store: store.clone(),
                sink: sink.clone(),
            };
            let (actor, _handle) = Actor::spawn(None, writer, ()).await.map_err(|error| {
                StorageError::Database(format!("writer failed to start: {error}"))
            })?;
            refs.push(actor);
        }
        Ok(WriterPool { shards: refs })
    }

    /// Hands a request to its conversation's writer. Does not wait for the commit: the
    /// request's `done` channel says when it is durable.
    pub fn submit(&self, request: WriteRequest) -> Result<(), StorageError> {
        let shard = request.key.0.rem_euclid(self.shards.len() as i64) as usize;
        self.shards[shard]
            .cast(WriterMessage::Write(request))
            .map_err(|_| StorageError::WriterGone)
    }

    /// Hands over the writes and waits until they are durable.
    pub async fn write(&self, key: WriteKey, writes: Vec<Write>) -> Result<(), StorageError> {
        let (done, durable) = oneshot::channel();
        self.submit(WriteRequest {
            key,
            writes,
            done: Some(done),
            on_failure: None,
        })?;
        match durable.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(StorageError::Database(error.to_string())),
            Err(_) => Err(StorageError::WriterGone),
        }
    }

    /// Stops the writers after they have committed what they hold.
    pub fn stop(&self) {
        for shard in &self.shards {
            shard.stop(Some("shutdown".into()));
        }
    }
}

/// One writer actor.
struct StorageWriter {
    store: Store,
    sink: EventSink,
}

/// A writer's queue of requests not yet committed.
#[derive(Default)]
struct Pending {
    requests: Vec<WriteRequest>,
    writes: usize,
    flush_scheduled: bool,
}

impl Actor for StorageWriter {
    type Msg = WriterMessage;
    type State = Pending;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        _: (),
    ) -> Result<Pending, ActorProcessingErr> {
        Ok(Pending::default())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: WriterMessage,
        pending: &mut Pending,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            WriterMessage::Write(request) => {
                pending.writes += request.writes.len();
                pending.requests.push(request);
                if pending.writes >= MAX_BATCH_WRITES {
                    self.flush(pending).await;
                } else if !pending.flush_scheduled {
                    pending.flush_scheduled = true;
                    myself.cast(WriterMessage::Flush)?;
                }
            }
            WriterMessage::Flush => {
                pending.flush_scheduled = false;
                self.flush(pending).await;
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<Self::Msg>,
        pending: &mut Pending,
    ) -> Result<(), ActorProcessingErr> {
        self.flush(pending).await;
        Ok(())
    }
}

impl StorageWriter {
    /// Commits the queued requests as one transaction, then announces and answers.
    async fn flush(&self, pending: &mut Pending) {
        let requests = std::mem::take(&mut pending.requests);
        pending.writes = 0;
        if requests.is_empty() {
            return;
        }
        let writes: Vec<&Write> = requests
            .iter()
            .flat_map(|request| &request.writes)
            .collect();
        let started = std::time::Instant::now();
        let outcome = self.store.commit(&writes).await;
        metrics::histogram!("switchyard_storage_commit_seconds").record(started.elapsed());
        metrics::histogram!("switchyard_storage_batch_requests").record(requests.len() as f64);
        let result = if outcome.is_ok() {
            "committed"
        } else {
            "failed"
        };
        metrics::counter!("switchyard_storage_batches_total", "outcome" => result).increment(1);
        tracing::debug!(
            batch.requests = requests.len(),
            batch.writes = writes.len(),
            batch.micros = started.elapsed().as_micros() as u64,
            "batch committed"
        );
        match outcome {
            Ok(()) => self.announce(requests),
            Err(error) if requests.len() == 1 => fail(requests, error),
            Err(error) => {
                // One bad request must not fail its neighbours: commit each on its own.
                tracing::warn!(error = %error, batch.requests = requests.len(), "batch failed; committing one by one");
                for request in requests {
                    let writes: Vec<&Write> = request.writes.iter().collect();
                    match self.store.commit(&writes).await {
                        Ok(()) => self.announce(vec![request]),
                        Err(error) => fail(vec![request], error),
                    }
                }
            }
        }
    }

    fn announce(&self, requests: Vec<WriteRequest>) {
        let mut events = Vec::new();
        let mut waiters = Vec::with_capacity(requests.len());
        for request in requests {
            events.extend(request.writes.into_iter().filter_map(|write| match write {
                Write::AppendEvent(event) => Some(event),
                _ => None,
            }));
            waiters.extend(request.done);
        }
        if !events.is_empty() {
            (self.sink)(events);
        }
        for waiter in waiters {
            // A caller that stopped waiting (a closed HTTP request) needs no answer.
            let _ = waiter.send(Ok(()));
        }
    }
}

fn fail(requests: Vec<WriteRequest>, error: StorageError) {
    tracing::error!(error = %error, batch.requests = requests.len(), "batch commit failed");
    let error = Arc::new(error);
    for request in requests {
        if let Some(on_failure) = request.on_failure {
            on_failure();
        }
        if let Some(done) = request.done {
            let _ = done.send(Err(error.clone()));
        }
    }
}
