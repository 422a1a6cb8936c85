//! The outbound side: every reply, edit and button answer leaves through here, off the
//! dispatcher. Replies and edits wait in their chat's bounded outbox for a paced slot;
//! a 429 holds up only its own send.

mod drop_log;
mod outbox;
mod pacing;
mod request;
mod telegram;

pub use drop_log::DropLog;
pub use outbox::{Outbox, Outgoing};
pub use request::InlineAnswer;
pub use telegram::no_preview;
