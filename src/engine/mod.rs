//! What cuts across the API's types and knows none of them: the generic loaders and
//! their SQL, pages and cursors, filters, the gate and limits, and the answer writer.
//! The API (`crate::api`) declares its types on top of it; nothing here imports the API.

pub mod connection;
pub mod datetime;
pub mod declare;
pub mod filter;
pub mod gate;
pub mod ids;
pub mod introspection;
pub mod lean;
pub mod limits;
pub mod listing;
pub mod loaders;
pub mod pagination;
pub mod relation;
pub mod request;
pub mod rules;
