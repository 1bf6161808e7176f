//! Unit tests of the Traefik provider (per-mille split, the configuration document, owned
//! header and mirror routes in it).
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
    let c = t.config(&w, &routes::Owned::default());
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

#[test]
fn header_and_mirror_routes_are_owned_objects_beside_the_managed_ones() {
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
    router: {rule: 'Host(`a`)', entryPoints: [web]}
environments:
  blue: {servers: [{url: 'http://127.0.0.1:1'}]}
  green: {servers: [{url: 'http://127.0.0.1:2'}]}
strategy:
  canary:
    stable: blue
    canary: green
    steps:
      - setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}]}
      - setMirrorRoute: {name: shadow, percentage: 25, match: [{method: {exact: GET}}]}
      - setWeight: 100
",
    )
    .unwrap();
    let t = Traefik::new(&plan).unwrap();
    let canary = plan.strategy.canary.as_ref().unwrap();
    let owned = t.desired_owned(&crate::providers::routes::active_routes(canary, 2));
    let w = t.weights_for(&Traffic::Env { env: "blue".into() }).unwrap();
    let c = t.config(&w, &owned);
    // `Host(`a`)` is 9 long: Traefik's default priority for the managed router.
    assert_eq!(
        c["http"]["routers"]["app-bgctl-header-testers"],
        json!({"rule": "(Host(`a`)) && (Header(`X-Canary`, `yes`))", "priority": 11,
               "service": "app-green", "entryPoints": ["web"]})
    );
    assert_eq!(
        c["http"]["routers"]["app-bgctl-mirror-shadow"],
        json!({"rule": "(Host(`a`)) && (Method(`GET`))", "priority": 10,
               "service": "app-bgctl-mirror-shadow", "entryPoints": ["web"]})
    );
    assert_eq!(
        c["http"]["services"]["app-bgctl-mirror-shadow"],
        json!({"mirroring": {"service": "app", "mirrors": [{"name": "app-green", "percent": 25}]}})
    );
    assert_eq!(
        c["http"]["routers"]["app"]["service"], "app",
        "managed router untouched"
    );
    // What a document holds of the owned objects is what was put in, and the managed objects
    // are not owned.
    assert_eq!(t.owned_in(&c), owned);
    assert_eq!(
        Traefik::owned_pending(&owned, &routes::Owned::default()),
        [
            "router `app-bgctl-header-testers@rest` is still there",
            "router `app-bgctl-mirror-shadow@rest` is still there",
            "service `app-bgctl-mirror-shadow@rest` is still there"
        ]
    );
    // A promotion or rollback ends the routes in the same write; weights keep them.
    assert!(routes_after(&Traffic::Env { env: "blue".into() }, &owned).is_empty());
    let split = Traffic::Split {
        stable: "blue".into(),
        canary: "green".into(),
        percent: 10.0,
    };
    assert_eq!(routes_after(&split, &owned), owned);
}
