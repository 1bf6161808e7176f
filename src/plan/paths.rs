//! Relative paths in a plan resolve against the plan's own folder, every one of them the same
//! way: the Kubernetes `kubeconfig` and each environment's `manifest`, Kong's `tls.caFile`,
//! `tls.certFile` and `tls.keyFile`, and Traefik's `stateFile`. A plan then means the same
//! thing whichever directory a person or a CI job runs bgctl from. Absolute paths stay as
//! written. (Commands — hooks, `exec` checks — are not paths: they run in the current
//! directory, like any command a shell runs.)

use std::path::Path;

use super::Plan;

/// Makes every relative path in `plan` relative to `base` (the plan file's folder).
pub fn resolve(plan: &mut Plan, base: &Path) {
    let join = |p: &mut String| {
        if !p.is_empty() && Path::new(p.as_str()).is_relative() {
            *p = base.join(&*p).to_string_lossy().into_owned();
        }
    };
    if let Some(k) = plan.provider.kubernetes.as_mut() {
        k.kubeconfig.as_mut().map(join);
    }
    for env in plan.environments.values_mut() {
        env.manifest.as_mut().map(join);
    }
    if let Some(tls) = plan.provider.kong.as_mut().and_then(|k| k.tls.as_mut()) {
        for p in [&mut tls.ca_file, &mut tls.cert_file, &mut tls.key_file] {
            p.as_mut().map(join);
        }
    }
    if let Some(t) = plan.provider.traefik.as_mut() {
        t.state_file.as_mut().map(join);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Plan {
        serde_yaml_ng::from_str(yaml).expect("plan")
    }

    #[test]
    fn relative_paths_join_the_plan_folder_and_absolute_ones_stay() {
        let mut p = plan(
            "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata: {name: r}\n\
             provider:\n  kong:\n    adminUrl: http://127.0.0.1:8001\n    \
             tls: {caFile: ca.pem, certFile: /etc/c.pem, keyFile: keys/c.key}\n\
             service: {name: s}\n\
             environments:\n  blue: {upstream: a.v1, targets: [{target: 127.0.0.1:1}]}\n  \
             green: {upstream: a.v2, targets: [{target: 127.0.0.1:2}]}\n\
             strategy: {blueGreen: {activeEnvironment: blue}}\n",
        );
        resolve(&mut p, Path::new("/srv/plans"));
        let tls = p.provider.kong.as_ref().unwrap().tls.as_ref().unwrap();
        assert_eq!(tls.ca_file.as_deref(), Some("/srv/plans/ca.pem"));
        assert_eq!(tls.cert_file.as_deref(), Some("/etc/c.pem"));
        assert_eq!(tls.key_file.as_deref(), Some("/srv/plans/keys/c.key"));
    }
}
