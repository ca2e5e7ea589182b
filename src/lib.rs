//! relgql: a fast, safe, standard GraphQL API over relational models.
//!
//! The library exposes everything the binary does, so tests build the app in-process.

pub mod api;
pub mod auth;
pub mod commands;
pub mod config;
pub mod db;
pub mod engine;
pub mod error;
pub mod events;
pub mod http;
pub mod metrics;
pub mod persisted;
pub mod replicas;
pub mod seed;
pub mod signing_keys;
pub mod telemetry;
pub mod throttle;

pub use http::{AppState, app};
