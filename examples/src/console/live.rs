//! The running programs as the console sees them: a server's session tables (asked of each
//! loop) and shared PPP tables (`/ppp active remove`); a client's interface.

use std::time::Duration;

use ovpn_session::{SessionInfo, Shared};

use crate::runtime::Control;

/// How long the console waits for a loop's answer.
const ANSWER: Duration = Duration::from_secs(2);

/// The servers of one program: their loops' controls and their shared tables.
#[derive(Debug, Clone)]
pub struct ServerLive {
    /// Each server loop's control.
    pub controls: Vec<Control>,
    /// The tables they share.
    pub shared: Shared,
}

impl super::exec::Live for ServerLive {
    fn sessions(&self) -> Vec<SessionInfo> {
        let asked: Vec<_> = self
            .controls
            .iter()
            .map(Control::request_sessions)
            .collect();
        let mut rows: Vec<SessionInfo> = asked
            .into_iter()
            .filter_map(|rx| rx.recv_timeout(ANSWER).ok())
            .flatten()
            .collect();
        rows.sort_by_key(|s| s.session_id);
        rows
    }

    fn remove_session(&self, session_id: u32) -> Result<(), String> {
        self.shared
            .remove_session(session_id)
            .map_err(|e| e.to_string())?;
        // Each loop ends it at its next turn.
        self.controls.iter().for_each(Control::wake);
        Ok(())
    }
}

/// A client program: its loop's control.
#[derive(Debug, Clone)]
pub struct ClientLive {
    /// The client loop's control.
    pub control: Control,
}

impl super::exec::Live for ClientLive {
    fn clients(&self) -> Vec<super::exec::ClientRow> {
        self.control
            .request_client_row()
            .recv_timeout(ANSWER)
            .into_iter()
            .collect()
    }
}
