//! What an accepted upgrade (or an opened client connection) decided for the WebSocket that follows: data
//! only, so the roles that produce it need not know the driver that runs it.

use std::sync::Arc;

use lws_proto::ws::{MessageCodec, Role, WsConfig};

use super::{Members, WsInfo};
use crate::protocol::DynProtocol;

/// Everything decided at the upgrade that the connection needs.
pub(crate) struct WsSetup {
    /// Server for accepted upgrades, client for connections we opened.
    pub(crate) role: Role,
    pub(crate) protocol: Arc<dyn DynProtocol>,
    pub(crate) info: Arc<WsInfo>,
    pub(crate) config: WsConfig,
    pub(crate) codec: Option<Box<dyn MessageCodec + Send>>,
    /// The member list to join; it also holds the validity policy.
    pub(crate) members: Arc<Members>,
}
