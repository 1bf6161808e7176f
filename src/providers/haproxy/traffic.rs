//! Which runtime API commands move traffic: the weight every plan server should have for a
//! destination, ordered so every raise (and `state ready`) comes before any lower, and the
//! read-back that checks HAProxy took them.

use super::{split_weights, Desired, Env, Haproxy, LiveServer};
use crate::providers::{ProviderError, Traffic};

impl Haproxy {
    /// Desired weight of every plan server for `to`.
    pub(super) fn desired(&self, to: &Traffic) -> Result<Vec<(String, u32)>, ProviderError> {
        let mut out: Vec<(String, u32)> = self
            .envs
            .iter()
            .flat_map(|e| e.servers.iter().map(|s| (s.name.clone(), 0)))
            .collect();
        let mut set = |name: &str, w: u32| {
            if let Some(slot) = out.iter_mut().find(|o| o.0 == name) {
                slot.1 = w;
            }
        };
        match to {
            Traffic::Env { env } => {
                let e = self
                    .env(env)
                    .ok_or_else(|| ProviderError::State(format!("unknown environment `{env}`")))?;
                for s in &e.servers {
                    set(&s.name, s.weight);
                }
            }
            Traffic::Split {
                stable,
                canary,
                percent,
            } => {
                let (Some(s), Some(c)) = (self.env(stable), self.env(canary)) else {
                    return Err(ProviderError::State(format!(
                        "unknown environments `{stable}`/`{canary}`"
                    )));
                };
                let base = |e: &Env| e.servers.iter().map(|s| s.weight).collect::<Vec<_>>();
                let (sw, cw, _) = split_weights(&base(s), &base(c), *percent)?;
                for (srv, w) in s.servers.iter().zip(sw).chain(c.servers.iter().zip(cw)) {
                    set(&srv.name, w);
                }
            }
            Traffic::Missing | Traffic::Foreign { .. } => {
                return Err(ProviderError::State(
                    "traffic can only be pointed at an environment or a split".into(),
                ))
            }
        }
        Ok(out)
    }

    /// The commands that move traffic to `to`: every raise (and `state ready`) before any lower.
    pub(super) fn traffic_commands(
        &self,
        live: &[LiveServer],
        to: &Traffic,
    ) -> Result<(Vec<String>, Desired), ProviderError> {
        let desired = self.desired(to)?;
        let mut raises = Vec::new();
        let mut lowers = Vec::new();
        for (name, want) in &desired {
            let cur = live.iter().find(|l| &l.name == name);
            let (cur_w, ready, serving) =
                cur.map_or((0, false, 0), |l| (l.weight, l.ready(), l.serving()));
            if *want > 0 {
                if !ready {
                    raises.push(format!("set server {} state ready", self.srv(name)));
                }
                if cur_w != *want {
                    if *want > serving {
                        raises.push(format!("set server {} weight {want}", self.srv(name)));
                    } else {
                        lowers.push(format!("set server {} weight {want}", self.srv(name)));
                    }
                }
            } else if cur_w != 0 {
                lowers.push(format!("set server {} weight 0", self.srv(name)));
            }
        }
        raises.extend(lowers);
        Ok((raises, desired))
    }

    /// Reads each weight back and fails on the first that differs.
    pub(super) async fn read_back(&self, desired: &[(String, u32)]) -> Result<(), ProviderError> {
        for (name, want) in desired {
            let command = format!("get weight {}", self.srv(name));
            let reply = self.api.raw(&command).await?;
            let got = reply
                .split_whitespace()
                .next()
                .and_then(|w| w.parse::<u32>().ok());
            if got != Some(*want) {
                return Err(ProviderError::NotApplied(format!(
                    "after the change HAProxy reports `{}` for `{command}`, expected weight {want}",
                    reply.trim()
                )));
            }
        }
        Ok(())
    }
}
