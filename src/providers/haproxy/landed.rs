//! The read-back after a write whose answer was lost: does HAProxy show what the command asked
//! for? Each command bgctl sends sets an absolute value or creates/deletes a named server, so
//! "it shows" means "it landed" and "it does not" means sending it again is safe.

use super::{Haproxy, ProviderError};

impl Haproxy {
    /// Whether `command` is visible in HAProxy's state. A command this does not know reads as
    /// not landed (it is sent again; every command bgctl writes is safe to repeat).
    pub(super) async fn landed(&self, command: &str) -> Result<bool, ProviderError> {
        let mut commands = command.split(';').map(str::trim);
        let last = commands.next_back().unwrap_or_default();
        let words: Vec<&str> = last.split_whitespace().collect();
        match words.as_slice() {
            ["set", "var", name, value] => {
                let want = value.strip_prefix("str(").and_then(|v| v.strip_suffix(')'));
                Ok(want.is_some() && self.get_var_raw(name).await?.as_deref() == want)
            }
            ["set", "server", srv, "weight", w] => {
                let reply = self.api.raw(&format!("get weight {srv}")).await?;
                Ok(reply.split_whitespace().next() == Some(*w))
            }
            ["set", "server", srv, "state", "ready"] | ["enable", "server", srv] => {
                Ok(self.server(srv).await?.is_some_and(|s| s.ready()))
            }
            ["add", "server", srv, ..] => Ok(self.server(srv).await?.is_some()),
            ["del", "server", srv] => Ok(self.server(srv).await?.is_none()),
            _ => Ok(false),
        }
    }

    /// The server `backend/name` as `show servers state` reports it.
    async fn server(&self, srv: &str) -> Result<Option<super::LiveServer>, ProviderError> {
        let name = srv.rsplit('/').next().unwrap_or(srv);
        Ok(self
            .read_servers()
            .await?
            .into_iter()
            .find(|s| s.name == name))
    }
}
