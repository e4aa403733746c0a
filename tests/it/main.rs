//! The one integration-test binary: every test starts the real `hourglass` binary on an
//! ephemeral port with a temporary data directory and talks to it with `aws-sdk-sfn`,
//! except `page_cache`'s, which opens the daemon's SQLite connections in its own process.

mod support;

mod activities;
mod auth;
mod callbacks;
mod calls;
mod cli;
mod cluster;
mod compose;
mod conformance;
mod connections;
mod console;
mod crash;
mod distributed;
mod errors;
mod executions;
mod fanout;
mod fidelity;
mod fuzz;
mod hardening;
mod history;
mod http_task;
mod integrations;
mod lambda;
mod locking;
mod mocks;
mod nested;
mod operations;
mod page_cache;
mod parameters_and_secrets;
mod recovery;
mod redrive;
mod restart;
mod s3_objects;
mod smoke;
mod state_machines;
mod structure;
mod support_services;
mod test_state;
mod upgrade;
mod variable_references;
mod versions;
mod wait;
