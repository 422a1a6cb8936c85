//! The bot as people meet it, driven through the fake Bot API.

mod abuse;
mod commands;
mod digests;
mod failures;
mod groups;
mod instances;
mod never_stalls;
mod restart;
mod webhook;
