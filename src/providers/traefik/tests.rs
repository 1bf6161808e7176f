//! Unit tests of the Traefik provider (per-mille split, the configuration document).
use super::*;

#[test]
fn per_mille_split_rounds_and_keeps_both_sides_alive() {
    assert_eq!(split_per_mille(0.0), (1000, 0));
    assert_eq!(split_per_mille(10.0), (900, 100));
    assert_eq!(split_per_mille(12.5), (875, 125));
    assert_eq!(split_per_mille(0.01), (999, 1));
    assert_eq!(split_per_mille(99.99), (1, 999));
    assert_eq!(split_per_mille(100.0), (0, 1000));
}

#[test]
fn config_is_router_to_weighted_to_one_lb_per_env() {
    let plan: Plan = serde_yaml_ng::from_str(
        r"
apiVersion: bgctl.dev/v1
kind: Rollout
metadata: {name: web}
provider:
  traefik:
    apiUrl: http://127.0.0.1:8081/
    service: app
    stateFile: /tmp/x.json
    router: {rule: 'PathPrefix(`/`)', entryPoints: [web]}
environments:
  blue: {servers: [{url: 'http://127.0.0.1:1'}]}
  green: {servers: [{url: 'http://127.0.0.1:2', weight: 3}]}
strategy: {blueGreen: {activeEnvironment: blue}}
",
    )
    .unwrap();
    let t = Traefik::new(&plan).unwrap();
    let w = t
        .weights_for(&Traffic::Env {
            env: "green".into(),
        })
        .unwrap();
    let c = t.config(&w);
    assert_eq!(c["http"]["routers"]["app"]["service"], "app");
    assert_eq!(
        c["http"]["services"]["app"]["weighted"]["services"],
        json!([{"name": "app-blue", "weight": 0}, {"name": "app-green", "weight": 1000}])
    );
    assert_eq!(
        c["http"]["services"]["app-green"]["loadBalancer"]["servers"],
        json!([{"url": "http://127.0.0.1:2", "weight": 3}])
    );
    assert_eq!(t.probe_targets("blue"), ["127.0.0.1:1"]);
}
