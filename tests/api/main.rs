//! Integration tests: the real server (in process on port 0, or the real binary) against the
//! project's JSM simulator, with a throwaway SQLite file (and, for the tests marked
//! `also_on_postgres!`, a throwaway PostgreSQL schema too).

#![allow(clippy::unwrap_used)]

mod at_rest;
mod backends;
mod chaos;
mod chaos_load;
mod chaos_pause;
mod cli;
mod commits;
mod connect;
mod console;
mod console_audit;
mod console_browser;
#[allow(dead_code)]
mod console_helpers;
mod console_pages;
mod console_runs;
mod console_sandbox;
mod crash;
mod crash_welcome;
mod deploy;
mod doctor;
mod domains;
mod engine;
mod erase;
mod faults;
mod faults_mount;
mod forge;
mod healthcheck;
#[allow(dead_code)] // each test binary uses a different subset of the harness
mod helpers;
mod import;
mod intake;
mod jsm17;
mod jwks;
mod layers;
mod logs;
mod multi_instance;
mod newcomer;
mod oauth;
mod ops;
mod overload;
mod pg_outage;
mod pg_restart;
mod postgres;
mod postgres_schema;
mod privacy;
mod process;
mod rejects;
mod replays;
mod restart;
mod schema;
mod senders;
mod senders_cli;
mod senders_routes;
mod skip;
mod sources;
mod traces;
mod vendors;
