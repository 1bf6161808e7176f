//! Verification as the engine runs it: the baseline before the first traffic change, and the
//! checks after each change (forward: strict when the plan asks for identity; back: never).

use super::{Check, Sample, Verifier};
use crate::engine::events::{Event, SideCount};
use crate::engine::{Engine, EngineError};
use crate::providers::{Provider, Snapshot, Traffic};

/// The sample taken through the proxy before the first traffic change of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Requests sent.
    pub requests: u32,
    /// Requests that failed (no answer, or a 5xx).
    pub failed: u32,
    /// Answers that named a side.
    pub identified: u32,
}

impl Baseline {
    /// Share of requests that failed, percent.
    pub fn fail_rate(&self) -> f64 {
        super::pct(self.failed, self.requests)
    }
}

/// Which way a verified change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A switch or a canary step: strict when the plan asks for identity.
    Forward,
    /// A rollback or abort: back to a side that served; never strict.
    Back,
}

impl<P: Provider> Engine<'_, P> {
    fn verifier(&self) -> Option<Verifier> {
        let over = self
            .plan
            .strategy
            .canary
            .as_ref()
            .and_then(|c| c.verify.as_ref());
        Verifier::from_plan(self.plan, over)
    }

    /// Before the first traffic change: one sample through the proxy of what is live now,
    /// kept as the health baseline of this run. When the plan asks for identity and the
    /// answers do not carry it, the run stops here, before any write (exit 2), saying what
    /// was seen. `check_identity` is false for rollbacks and aborts (never refused). Nothing
    /// is sampled without a proxy, or when nothing is live yet.
    pub(crate) async fn baseline(
        &self,
        snap: &Snapshot,
        check_identity: bool,
    ) -> Result<(), EngineError> {
        let Some(v) = self.verifier() else {
            return Ok(());
        };
        // A run has one "before": the first baseline is kept.
        if self.baseline.lock().expect("baseline").is_some() {
            return Ok(());
        }
        let (env, expected) = match &snap.traffic {
            Traffic::Env { env } => (env.clone(), 100.0),
            Traffic::Split {
                canary, percent, ..
            } => (canary.clone(), *percent),
            Traffic::Missing | Traffic::Foreign { .. } => return Ok(()),
        };
        let stop = tokio::time::Instant::now() + v.timeout.min(super::REQUEST_TIMEOUT * 2);
        let s = v
            .sample(&self.http, stop.min(self.opts.deadline.get()))
            .await;
        let baseline = Baseline {
            requests: s.requests,
            failed: s.failed,
            identified: s.identified(),
        };
        let evidence = v.evidence(&s, false);
        let mut detail = format!(
            "before the change, through {}: {} of {} requests answered below 500",
            v.proxy_url,
            s.answered(),
            s.requests
        );
        if s.failed > 0 {
            detail += &format!(" ({} failed: {})", s.failed, s.failures);
        }
        detail += &format!("; saw {}", s.seen_text(&v.header));
        self.emit(Event::VerifyBaseline {
            requests: s.requests,
            failed: s.failed,
            unidentified: s.unidentified(),
            detail: detail.clone(),
        });
        *self.baseline.lock().expect("baseline") = Some(baseline.clone());
        if !(check_identity && v.explicit) || s.answered() == 0 {
            if v.explicit && s.answered() == 0 {
                self.emit(Event::Warning {
                    message: format!(
                        "no request through {} got an answer below 500, so whether the live side carries `{}` cannot be checked",
                        v.proxy_url, v.header
                    ),
                });
            }
            return Ok(());
        }
        let judged = v.judge(
            &s,
            &Check {
                env: &env,
                expected,
                baseline: Some(&baseline),
                strict: true,
                expect_evidence: true,
            },
        );
        if judged.ok || !judged.split {
            return Ok(());
        }
        let asked = match (evidence, s.identified()) {
            (super::Evidence::HealthOnly(_), _) | (_, 0) => format!(
                "the plan verifies by identity (`{}`), but the live side's answers do not carry it",
                v.header
            ),
            _ => format!(
                "the plan verifies by identity (`{}`), but the live side's answers do not match it",
                v.header
            ),
        };
        let ids: Vec<String> = v
            .identities
            .iter()
            .map(|(e, ids)| format!("`{e}` = {}", ids.join(" | ")))
            .collect();
        Err(EngineError::NotIdentified {
            headline: format!("{asked}; nothing was changed"),
            seen: format!(
                "`{env}` is live; through {}: saw {} (expected identities: {})",
                v.proxy_url,
                s.seen_text(&v.header),
                ids.join(", ")
            ),
            hint: format!(
                "have the app send `{}: <side>`, correct `environments.<env>.identity`, or remove `verify.header` and `identity` to verify by health only",
                v.header
            ),
        })
    }

    /// With nothing live before the change (no baseline): whether `env`'s apps name their side,
    /// asked directly — one GET of the verify path to each of its first four targets.
    async fn targets_name_themselves(&self, v: &Verifier, env: &str) -> bool {
        for target in self.provider.probe_targets(env).iter().take(4) {
            let url = format!("http://{target}{}", v.path);
            let req = crate::http::sample::Request {
                url: &url,
                host: v.host.as_deref(),
                header: Some(&v.header),
            };
            let answer =
                crate::http::sample::get(&self.http, &req, std::time::Duration::from_secs(2)).await;
            if v.classify(&[answer]).identified() > 0 {
                return true;
            }
        }
        false
    }

    /// Verifies through the proxy that `env` gets `expected` percent after a forward change;
    /// `Ok` when not configured.
    pub async fn verify_env(&self, env: &str, expected: f64) -> Result<(), String> {
        self.verify_dir(env, expected, Direction::Forward).await
    }

    /// Verifies a move back (rollback, abort) to `env`: never strict about identity.
    pub async fn verify_restored(&self, env: &str) -> Result<(), String> {
        self.verify_dir(env, 100.0, Direction::Back).await
    }

    /// Waits until every place that serves traffic has this run's writes
    /// ([`Provider::settled`]: Kong hybrid mode's data planes), bounded by the verification's
    /// timeout (30 s without one) and the command's deadline. The outcome is reported like a
    /// verification: `Err` is handled as a failed one.
    pub(crate) async fn settle(&self) -> Result<(), String> {
        let timeout = self
            .verifier()
            .map_or(std::time::Duration::from_secs(30), |v| v.timeout);
        let deadline = (tokio::time::Instant::now() + timeout).min(self.opts.deadline.get());
        match self.provider.settled(deadline).await {
            Ok(settled) => {
                for message in settled.warnings {
                    self.emit(Event::Warning { message });
                }
                for detail in settled.verified {
                    self.emit(Event::Settled { ok: true, detail });
                }
                Ok(())
            }
            Err(reason) => {
                self.emit(Event::Settled {
                    ok: false,
                    detail: reason.clone(),
                });
                Err(reason)
            }
        }
    }

    async fn verify_dir(&self, env: &str, expected: f64, dir: Direction) -> Result<(), String> {
        self.settle().await?;
        let Some(v) = self.verifier() else {
            return Ok(());
        };
        let baseline = self.baseline.lock().expect("baseline").clone();
        let expect_evidence = match &baseline {
            Some(b) => b.identified > 0,
            None => self.targets_name_themselves(&v, env).await,
        };
        let check = Check {
            env,
            expected,
            baseline: baseline.as_ref(),
            strict: v.explicit && dir == Direction::Forward,
            expect_evidence,
        };
        // Every node (`proxyUrls`) at once; each must pass, each is reported.
        let several = v.nodes.len() > 1;
        let nodes: Vec<Verifier> = v.nodes.iter().map(|n| v.on_node(n)).collect();
        let verdicts = futures::future::join_all(nodes.iter().map(|node| {
            let label = several.then(|| node.proxy_url.clone());
            async move {
                let on = |s: &Sample, observed: f64| {
                    self.reporter.event(&Event::VerifySample {
                        expected,
                        observed,
                        requests: s.requests,
                        by_side: s
                            .by_side
                            .iter()
                            .map(|(env, responses)| SideCount {
                                env: env.clone(),
                                responses: *responses,
                            })
                            .collect(),
                        failed: s.failed,
                        unidentified: s.unidentified(),
                        node: label.clone(),
                    });
                };
                let mut verdict = node
                    .until(&self.http, &check, self.opts.deadline.get(), &on)
                    .await;
                if several {
                    // Name the node in a pass, too (a failure already does).
                    verdict.detail = verdict
                        .detail
                        .replace("through the proxy", &format!("through {}", node.proxy_url));
                }
                verdict
            }
        }))
        .await;
        let mut failures = Vec::new();
        for verdict in verdicts {
            self.emit(Event::Verified {
                ok: verdict.ok,
                split: verdict.split,
                detail: verdict.detail.clone(),
            });
            if !verdict.ok {
                failures.push(verdict.detail);
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }
}
