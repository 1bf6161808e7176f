//! The engine's side of notifications ([`crate::notify`]): after each record write that
//! landed, the transition it makes ([`super::history::Carried::transition`]) is sent to the
//! plan's receivers that want it, and each result is an event (`notified`). Sent after the
//! write, so a receiver hears only of what the target holds; awaited in line, so their order
//! is the rollout's, and bounded by the receivers' timeouts and retries (and the run's
//! deadline), so a dead receiver delays a release by that much at most and never fails it.

use super::events::Event;
use super::{now_secs, rfc3339, Engine};
use crate::notify::{self, Payload};
use crate::providers::{Provider, Record};

impl<P: Provider> Engine<'_, P> {
    /// Notifies the plan's receivers of the transition `record` (as written) makes, if any.
    pub(crate) async fn notify(&self, record: &Record) {
        if self.plan.notifications.is_empty() || self.opts.dry_run {
            return;
        }
        let promote = record.action.as_deref() == Some("promote");
        let Some(event) = self.carried.transition(record.phase, promote) else {
            return;
        };
        let receivers = notify::wanted(self.plan, event);
        if receivers.is_empty() {
            return;
        }
        let entry = self.carried.entry();
        let (from, to, command, reason) = entry.map_or_else(
            || (String::new(), String::new(), String::new(), None),
            |e| (e.from, e.to, e.command, e.detail),
        );
        let steps = self.plan.strategy.canary.as_ref().map(|c| c.steps.len());
        let text = format!(
            "{}: {command} {from} → {to} {}{}{}",
            self.plan.metadata.name,
            event.as_str(),
            reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            format_args!(" ({})", self.opts.actor.who),
        );
        let payload = Payload {
            rollout: self.plan.metadata.name.clone(),
            event,
            command,
            from,
            to,
            phase: record.phase.as_str().to_string(),
            step: steps.and(record.step),
            steps,
            weight: steps.and(record.weight),
            verdicts: record.verdicts.clone(),
            reason,
            who: self.opts.actor.who.clone(),
            link: self.opts.actor.link.clone(),
            run: self.run_id.clone(),
            at: rfc3339(now_secs()),
            text,
        };
        let sent =
            notify::send_all(&self.http, &receivers, &payload, self.opts.deadline.get()).await;
        for s in sent {
            self.emit(Event::Notified {
                transition: event.as_str().to_string(),
                kind: s.kind.to_string(),
                target: s.target,
                ok: s.ok,
                attempts: s.attempts,
                detail: s.detail,
            });
        }
    }
}
