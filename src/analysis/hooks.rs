//! Hooks: commands and webhooks run around traffic changes (`preSwitch`, `postSwitch`,
//! `onRollback`).
//!
//! A hook is one call with no measurements and no policy: it succeeds or it does not, and the
//! engine decides what a failure means (a failed `preSwitch` stops the rollout before traffic
//! moves; a failed `onRollback` is reported but cannot undo the rollback). Either way the result
//! says what ran and what happened, with the exit code or HTTP status and a short stderr/body
//! snippet.
//!
//! - `exec`: exit 0 succeeds (see [`exec`](crate::analysis::exec) for timeouts and process-group
//!   kills). The command gets `BGCTL_HOOK=<kind>` in its environment.
//! - `webhook`: a 2xx status succeeds; `POST`/`PUT`/`PATCH` send `{"hook": "<kind>"}`.

use serde_json::json;

use crate::analysis::checks::{fmt_duration, snippet, CheckContext};
use crate::analysis::exec::{self, End};
use crate::analysis::webhook;
use crate::plan::model::HookSpec;

/// Runs one hook of `kind` (`preSwitch`, `postSwitch` or `onRollback`). `Ok` and `Err` both
/// carry one line for the user, e.g. ``preSwitch hook `./migrate.sh up` exited 0 after 1.2s`` or
/// ``onRollback hook `POST http://…/page` answered HTTP 500: boom``.
pub async fn run_hook(kind: &str, hook: &HookSpec, ctx: &CheckContext) -> Result<String, String> {
    match (&hook.exec, &hook.webhook) {
        (Some(e), None) => {
            let what = format!("{kind} hook `{}`", exec::describe(&e.command));
            let run = exec::run(e, ctx, &[("BGCTL_HOOK", kind)]).await;
            match run.end {
                End::Exited(0) => Ok(format!(
                    "{what} exited 0 after {}",
                    fmt_duration(run.elapsed)
                )),
                End::NotStarted(_) => Err(format!("{what}: {}", run.explain())),
                _ => Err(format!("{what} {}", run.explain())),
            }
        }
        (None, Some(w)) => {
            let what = format!("{kind} hook `{}`", webhook::describe(w));
            match webhook::call(w, &json!({ "hook": kind }), ctx).await {
                Ok(a) if (200..300).contains(&a.status) => {
                    Ok(format!("{what} answered HTTP {}", a.status))
                }
                Ok(a) => {
                    let body = snippet(&a.body, 200);
                    Err(if body.is_empty() {
                        format!("{what} answered HTTP {} (empty body)", a.status)
                    } else {
                        format!("{what} answered HTTP {}: {body}", a.status)
                    })
                }
                Err(e) => Err(format!("{what}: {e}")),
            }
        }
        _ => Err(format!(
            "{kind} hook: a hook has exactly one of `exec` or `webhook`"
        )),
    }
}
