//! End-to-end tests of the `rota` binary and (later) the service: one test binary, one module per
//! area, each running the real thing.

mod cli;
mod import;
mod notify;
mod one_truth;
mod replicas;
mod server;
mod slack;
mod swaps;
mod timeoff;
mod util;
mod webhooks;
