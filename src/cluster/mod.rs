//! Growing past one machine: which partitions this node holds (and at which epoch), and the
//! leases that decide it on a shared PostgreSQL database.
//!
//! On SQLite one process owns the database and holds every partition; nothing here runs but
//! [`Ownership::all`].
//!
//! The design, on PostgreSQL:
//!
//! - **Partitions.** An execution belongs to `hash(ARN) % partitions`; the count is stored in
//!   the database by the first node (`cluster_settings`). Timers and calls carry their
//!   execution's partition, so a node reads only the rows of the partitions it holds.
//! - **Leases** ([`leases`]): a row per partition with its owner, an expiry on the database's
//!   clock and an epoch that grows on every change of owner. Each node renews every
//!   `lease / 3`, takes expired or free partitions up to its fair share, and gives up its
//!   excess when a node joins. It acts on a partition only until `sent + lease - margin` by its
//!   own monotonic clock, `sent` being when the renewal that extended it was sent.
//! - **Fencing** ([`Ownership::fence`]): every commit that changes an execution carries a
//!   `Fence { partition, epoch }`; the writer checks, in the commit's own transaction (with the
//!   lease rows locked), that the node still holds each partition at that epoch, and leaves out
//!   the requests that fail (`Fenced`). A node paused past its lease therefore writes nothing
//!   over the new owner.
//! - **Forwarding** (`api::forward`): any node answers any request. Reads come from the
//!   database. A change to an execution of a partition held elsewhere is sent to the holder
//!   over HTTP, marked with an HMAC of the operation, time and body under a secret the nodes
//!   share (made by the first node, kept in the database), and the holder's answer is relayed.
//!   When no node holds the partition (its owner died, or it is passing to a node that joined),
//!   the request waits up to 2 s for a new owner, then gets a 503 the SDKs retry. Forwarding
//!   was chosen over a queue in the database woken by LISTEN/NOTIFY: the answer (an ARN, an
//!   error) comes back in the same request, and no extra table is written per request.
//! - **Gaining a partition** resets the timer window and rescans unfinished calls, so its
//!   timers and calls are recovered as at a start; losing one drops nothing from the database.

pub mod leases;
pub mod ownership;

pub use leases::{Directory, LeaseSettings, OnChange};
pub use ownership::{Held, Ownership};
