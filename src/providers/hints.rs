//! What a person can do about a provider's failure. Each backend words its own hints next to
//! its error type, in the plan's `provider.*` terms (`KongError::hint`, `HaproxyError::hint`,
//! `TraefikError::hint`, `KubeError::hint`); this only picks the backend's and falls back to
//! looking at the live state. `crate::error` composes the result into the rendered error.

use super::ProviderError;

impl ProviderError {
    /// What a person can do about this failure: the backend's own hint (each backend words
    /// its failures next to its client, in the plan's `provider.*` terms), else to look at the
    /// live state with `status`, the command that shows it.
    pub fn hint(&self, status: &str) -> String {
        let own = match self {
            ProviderError::Kong(e) => e.hint(),
            ProviderError::Haproxy(e) => e.hint(),
            ProviderError::Traefik(e) => e.hint(),
            ProviderError::Kube(e) => Some(e.hint(status)),
            _ => None,
        };
        own.unwrap_or_else(|| format!("run `{status}` to see the live state"))
    }
}

/// Whether any message in `e`'s source chain (itself included) mentions `word`.
pub(super) fn error_chain_mentions(e: &(dyn std::error::Error + 'static), word: &str) -> bool {
    std::iter::successors(Some(e), |e| e.source()).any(|e| e.to_string().contains(word))
}
