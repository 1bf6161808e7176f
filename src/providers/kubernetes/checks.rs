//! Checks made before traffic moves to a side: Istio needs the side's subset in the
//! DestinationRule; a Contour root that switches `includes` needs the child HTTPProxy.

#[allow(clippy::wildcard_imports)] // an `impl` block split out of the parent module
use super::*;

impl Kubernetes {
    /// Istio: every environment that gets traffic must have its subset in the DestinationRule.
    pub(super) async fn check_subsets(&self, to: &Traffic) -> Result<(), ProviderError> {
        let Some(dr) = &self.destination_rule else {
            return Ok(());
        };
        let want = traffic::desired(to, &self.sides()).map_err(ProviderError::State)?;
        let Some(obj) = self.client.get(&DESTINATION_RULE, dr).await? else {
            return Err(ProviderError::State(format!(
                "DestinationRule `{dr}` does not exist in namespace `{}`",
                self.ns()
            )));
        };
        let subsets: Vec<&str> = obj["spec"]["subsets"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
            .unwrap_or_default();
        for e in &self.envs {
            let Some(subset) = &e.side.subset else {
                continue;
            };
            if want.get(&e.side.env).copied().unwrap_or(0) > 0
                && !subsets.contains(&subset.as_str())
            {
                return Err(ProviderError::State(format!(
                    "DestinationRule `{dr}` has no subset `{subset}` (environment `{}`); it defines {}",
                    e.side.env,
                    if subsets.is_empty() { "none".to_string() } else { subsets.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ") }
                )));
            }
        }
        Ok(())
    }

    /// Contour root `includes`: the child HTTPProxy of every environment about to get traffic
    /// must exist and must not be `invalid` (Contour's `status.currentStatus`; `orphaned` is
    /// what a child nobody includes yet looks like, so it is fine).
    pub(super) async fn check_children(&self, to: &Traffic) -> Result<(), ProviderError> {
        if self.router != Router::HttpProxyInclude {
            return Ok(());
        }
        let want = traffic::desired(to, &self.sides()).map_err(ProviderError::State)?;
        let root_ns = self.ns();
        for e in &self.envs {
            let Some(inc) = &e.side.include else {
                continue;
            };
            if want.get(&e.side.env).copied().unwrap_or(0) == 0 {
                continue;
            }
            let ns = inc.namespace.as_deref().unwrap_or(&root_ns);
            let Some(child) = self
                .client
                .get_in(&client::HTTP_PROXY, ns, &inc.name)
                .await?
            else {
                return Err(ProviderError::State(format!(
                    "HTTPProxy `{}` (the child of environment `{}`) does not exist in namespace `{ns}`; create it before switching `{}` to it; traffic was not moved",
                    inc.name, e.side.env, self.object
                )));
            };
            if child["status"]["currentStatus"].as_str() == Some("invalid") {
                return Err(ProviderError::State(format!(
                    "HTTPProxy `{ns}/{}` (the child of environment `{}`) is invalid according to Contour: {}; traffic was not moved",
                    inc.name,
                    e.side.env,
                    child["status"]["description"]
                        .as_str()
                        .filter(|d| !d.is_empty())
                        .unwrap_or("(no description)")
                )));
            }
        }
        Ok(())
    }
}
