//! The write queue every store's writer drains: callers queue a request (the changes that must
//! commit together) and await its acknowledgement; the writer takes whatever has queued — up to
//! `max_batch` requests — commits it in one transaction (group commit), and only then
//! acknowledges each request, so a caller that got `Ok` knows its changes are durable.

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Error, Result, WriteOp};

/// One caller's changes and where to say how they went.
pub struct Request {
    pub ops: Vec<WriteOp>,
    pub ack: oneshot::Sender<Result<()>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("ops", &self.ops.len())
            .finish()
    }
}

/// The handle callers use to submit writes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<Request>,
}

impl Writer {
    /// A queue of `capacity` requests: the handle, and the receiving end for the writer.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<Request>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx }, rx)
    }

    /// Queue `ops` and wait until they are committed. Waits for room when the queue is full.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Request { ops, ack })
            .await
            .map_err(|_| Error::WriterGone)?;
        done.await.map_err(|_| Error::WriterGone)?
    }

    /// Like [`Writer::write`], but answers [`Error::Busy`] at once when the queue is full, so
    /// the API can throttle instead of piling up requests.
    pub async fn try_write(&self, ops: Vec<WriteOp>) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .try_send(Request { ops, ack })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Error::Busy,
                mpsc::error::TrySendError::Closed(_) => Error::WriterGone,
            })?;
        done.await.map_err(|_| Error::WriterGone)?
    }
}

/// The next batch for a writer: waits for one request, then takes what else has queued, up to
/// `max_batch`. After `shutdown` it takes no new requests but drains those queued; `None` once
/// there are none left.
pub async fn next_batch(
    rx: &mut mpsc::Receiver<Request>,
    max_batch: usize,
    shutdown: &CancellationToken,
) -> Option<Vec<Request>> {
    let first = tokio::select! {
        biased;
        r = rx.recv() => r,
        _ = shutdown.cancelled() => {
            rx.close();
            rx.recv().await
        }
    }?;
    let mut batch = Vec::with_capacity(max_batch);
    batch.push(first);
    while batch.len() < max_batch {
        match rx.try_recv() {
            Ok(r) => batch.push(r),
            Err(_) => break,
        }
    }
    Some(batch)
}
