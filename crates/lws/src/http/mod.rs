//! The HTTP role: requests as handlers see them, responses they build, and the connection driver.

mod ctx;
mod request;
mod response;

pub(crate) mod date;
pub(crate) mod dispatch;
pub(crate) mod error_page;
pub(crate) mod h1;
pub(crate) mod h2;
pub(crate) mod outgoing;

pub use ctx::{HttpCtx, Responder};
pub use request::Request;
pub use response::{Body, BodySender, Response};
