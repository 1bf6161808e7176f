//! One renderer for every error: `error: <headline>`, then `Caused by:` lines, then `hint:`
//! lines. Typed errors from the modules are converted here, at the edge, and carry their exit
//! code. Messages never contain secrets: header values are never part of any error's text, and
//! the renderer passes everything through [`crate::redact`] in case a server echoed one.

use std::fmt::Write as _;
use std::path::Path;

use crate::engine::step::Command;
use crate::engine::EngineError;
use crate::exit::Exit;
use crate::plan::PlanErrors;

/// An error ready to be shown.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub exit: Exit,
    /// First line.
    pub headline: String,
    /// Pre-formatted detail block (plan problems).
    pub detail: Option<String>,
    /// Cause chain, outermost first.
    pub causes: Vec<String>,
    /// What to do.
    pub hints: Vec<String>,
}

impl CliError {
    /// A usage error (exit 2).
    pub fn usage(headline: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError {
            exit: Exit::Usage,
            headline: headline.into(),
            detail: None,
            causes: Vec::new(),
            hints: vec![hint.into()],
        }
    }

    /// A general error (exit 1) from any error with a source chain.
    pub fn from_std(
        headline: impl Into<String>,
        err: &(dyn std::error::Error + 'static),
    ) -> CliError {
        CliError {
            exit: Exit::Error,
            headline: headline.into(),
            detail: None,
            causes: chain(err),
            hints: Vec::new(),
        }
    }

    /// An engine error, its hints naming runnable commands for the plan at `plan`.
    pub fn engine(e: &EngineError, plan: &Path) -> CliError {
        let mut causes = chain(e);
        let headline = if causes.is_empty() {
            e.to_string()
        } else {
            causes.remove(0)
        };
        let mut hints = crate::cli::remedy::hints(e, plan);
        if let EngineError::Provider(p) = &e {
            hints.push(provider_hint(p, plan));
        }
        CliError {
            exit: e.exit(),
            headline,
            detail: None,
            causes,
            hints,
        }
    }

    /// The text written to stderr. Every part passes through [`crate::redact`]: secrets are
    /// replaced, and the headline, each cause and each hint is one line without control
    /// characters, so text a server sent cannot forge lines or reach the terminal raw.
    pub fn render(&self) -> String {
        let line = crate::redact::one_line;
        let mut out = format!("error: {}\n", line(&self.headline));
        if let Some(d) = &self.detail {
            for l in crate::redact::terminal(d).lines() {
                let _ = writeln!(out, "  {l}");
            }
        }
        if !self.causes.is_empty() {
            out.push_str("Caused by:\n");
            for c in &self.causes {
                let _ = writeln!(out, "  {}", line(c));
            }
        }
        for h in &self.hints {
            let _ = writeln!(out, "hint: {}", line(h));
        }
        out
    }
}

/// The messages of an error's sources, outermost first, without repeats.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let msg = e.to_string();
        if !msg.is_empty() && !out.iter().any(|m| m == &msg || m.contains(&msg)) {
            out.push(msg);
        }
        cur = e.source();
    }
    out
}

impl From<PlanErrors> for CliError {
    fn from(e: PlanErrors) -> Self {
        CliError {
            exit: Exit::Usage,
            headline: e.headline(),
            detail: Some(e.details()),
            causes: Vec::new(),
            hints: vec!["nothing was changed; fix the plan and run again".into()],
        }
    }
}

fn provider_hint(e: &crate::providers::ProviderError, plan: &Path) -> String {
    use crate::providers::kong::client::KongError;
    use crate::providers::ProviderError;
    let status = || crate::cli::remedy::command_line(&Command::Status, plan, false);
    match e {
        ProviderError::Kong(KongError::Unreachable { .. })
            if chain(e).iter().any(|c| c.contains("certificate")) =>
        {
            "the Admin API's TLS certificate is not trusted: set `provider.kong.tls.caFile` to the CA that signed it (or `certFile`/`keyFile` if it asks for a client certificate); nothing was changed".into()
        }
        ProviderError::Kong(KongError::Unreachable { .. } | KongError::Timeout { .. }) => "check `provider.kong.adminUrl` and that the Admin API listens there; nothing was changed".into(),
        ProviderError::Kong(KongError::Status { status, .. }) if status.as_u16() == 401 || status.as_u16() == 403 => {
            "the Admin API refused the credentials: check `provider.kong.headers` (e.g. `Kong-Admin-Token`)".into()
        }
        ProviderError::Kong(KongError::Deadline { .. }) => "raise `--timeout` or check why the Admin API is slow".into(),
        ProviderError::Kong(KongError::Redirect { .. }) => "point `provider.kong.adminUrl` at the Admin API itself (bgctl never follows redirects: the plan's headers would go along); nothing was sent to the redirect's target".into(),
        ProviderError::Haproxy(crate::providers::haproxy::HaproxyError::Unreachable { .. } | crate::providers::haproxy::HaproxyError::Timeout { .. }) => "check `provider.haproxy.runtimeApi` and that HAProxy's stats socket listens there with `level admin`".into(),
        ProviderError::Traefik(crate::providers::traefik::TraefikError::Status { status: 404, .. }) => "Traefik has no such route: is it started with `--api` and `--providers.rest` (and has it finished starting)?".into(),
        ProviderError::Traefik(crate::providers::traefik::TraefikError::Unreachable { .. }) => "check `provider.traefik.apiUrl` and that Traefik runs with `--api` and `--providers.rest`".into(),
        ProviderError::Kube(k) => kube_hint(k, &status()),
        _ => format!("run `{}` to see the live state", status()),
    }
}

fn kube_hint(e: &crate::providers::kubernetes::client::KubeError, status: &str) -> String {
    use crate::providers::kubernetes::client::KubeError;
    match e {
        KubeError::Config { .. } => "set `KUBECONFIG`, `provider.kubernetes.kubeconfig` or `--context`; nothing was changed".into(),
        // A write whose connection failed may have been carried out (the answer was lost).
        KubeError::Transport { verb: verb @ ("POST" | "PUT" | "PATCH" | "DELETE"), what, .. } => format!(
            "check that the cluster in the kubeconfig is reachable; the {verb} of {what} may have been carried out before the connection failed: run `{status}` to see the live state"
        ),
        KubeError::Transport { .. } => "check that the cluster in the kubeconfig is reachable; nothing was changed".into(),
        KubeError::Deadline { .. } => "raise `--timeout` or check why the API server is slow".into(),
        KubeError::Api { code: 401 | 403, .. } => "the API server refused the credentials or the RBAC role lacks a verb; see README § Kubernetes".into(),
        KubeError::Api { .. } => format!("run `{status}` to see the live state"),
    }
}
