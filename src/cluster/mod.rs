//! Growing past one machine: which partitions this node holds (and at which epoch), and the
//! leases that decide it on a shared PostgreSQL database.
//!
//! On SQLite one process owns the database and holds every partition; nothing here runs but
//! [`Ownership::all`].

pub mod leases;
pub mod ownership;

pub use leases::{Directory, LeaseSettings, OnChange};
pub use ownership::{Held, Ownership};
