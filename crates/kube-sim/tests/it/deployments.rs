//! The simulated Deployment controller: ready, stalled and failed rollouts.

use std::time::Duration;

use kube_sim::{DeploymentBehavior, KubeSim, SimConfig};
use serde_json::{json, Value};

use crate::support::*;

fn condition<'a>(d: &'a Value, ty: &str) -> &'a Value {
    d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == ty))
        .unwrap_or(&Value::Null)
}

/// What `kubectl rollout status` calls done.
fn rolled_out(d: &Value) -> bool {
    let s = &d["status"];
    let want = d["spec"]["replicas"].as_i64().unwrap();
    d["metadata"]["generation"].as_i64() <= s["observedGeneration"].as_i64()
        && s["updatedReplicas"].as_i64().unwrap_or(0) >= want
        && s["replicas"].as_i64().unwrap_or(0) <= s["updatedReplicas"].as_i64().unwrap_or(0)
        && s["availableReplicas"].as_i64().unwrap_or(0)
            >= s["updatedReplicas"].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn without_ready_after_nothing_happens_until_tick() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(DEPLOYMENTS, &deployment("green", "web:2", 3))
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let d = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert!(!rolled_out(&d), "{d}");
    sim.tick();
    let d = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert!(rolled_out(&d), "{d}");
    assert_eq!(d["status"]["readyReplicas"], 3);
    assert_eq!(
        condition(&d, "Available")["reason"],
        "MinimumReplicasAvailable"
    );
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(
        d["metadata"]["generation"], 1,
        "status writes keep generation"
    );
    // A spec change leaves observedGeneration behind until the next tick.
    let (_, d) = api
        .patch(
            &format!("{DEPLOYMENTS}/green"),
            MERGE,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:3"}]}}}}"#,
        )
        .await;
    assert_eq!(d["metadata"]["generation"], 2);
    assert!(!rolled_out(&d));
    let before = rv(&sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap());
    sim.tick();
    let d = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert!(rolled_out(&d));
    assert!(rv(&d) > before);
    // A tick with nothing to change writes nothing.
    sim.tick();
    assert_eq!(
        rv(&sim
            .get("apps/v1", "Deployment", "default", "green")
            .unwrap()),
        rv(&d)
    );
}

#[tokio::test]
async fn stall_never_becomes_available() {
    let sim = sim().await;
    let api = Api::new(&sim);
    sim.set_deployment_behavior("default", "green", DeploymentBehavior::Stall);
    api.post(DEPLOYMENTS, &deployment("green", "web:2", 2))
        .await;
    sim.tick();
    let d = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert!(!rolled_out(&d), "{d}");
    assert_eq!(d["status"]["observedGeneration"], 1);
    assert_eq!(d["status"]["unavailableReplicas"], 2);
    assert_eq!(condition(&d, "Available")["status"], "False");
    assert_eq!(condition(&d, "Progressing")["status"], "True");
}

#[tokio::test]
async fn fail_reports_progress_deadline_exceeded() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.post(DEPLOYMENTS, &deployment("green", "web:2", 1))
        .await;
    sim.set_deployment_behavior("default", "green", DeploymentBehavior::Fail);
    sim.tick();
    let d = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert!(!rolled_out(&d));
    let p = condition(&d, "Progressing");
    assert_eq!(
        (p["status"].as_str(), p["reason"].as_str()),
        (Some("False"), Some("ProgressDeadlineExceeded"))
    );
    // Switching back to Ready recovers on the next pass.
    sim.set_deployment_behavior("default", "green", DeploymentBehavior::Ready);
    sim.tick();
    assert!(rolled_out(
        &sim.get("apps/v1", "Deployment", "default", "green")
            .unwrap()
    ));
}

#[tokio::test]
async fn ready_after_makes_deployments_ready_by_themselves() {
    let sim = KubeSim::start(SimConfig {
        ready_after: Some(Duration::from_millis(100)),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    sim.set_deployment_behavior("default", "stuck", DeploymentBehavior::Stall);
    api.post(DEPLOYMENTS, &deployment("green", "web:2", 2))
        .await;
    api.post(DEPLOYMENTS, &deployment("stuck", "web:2", 2))
        .await;
    let d = sim
        .get("apps/v1", "Deployment", "default", "green")
        .unwrap();
    assert!(!rolled_out(&d), "not before the delay");
    let mut settled = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let green = sim
            .get("apps/v1", "Deployment", "default", "green")
            .unwrap();
        let stuck = sim
            .get("apps/v1", "Deployment", "default", "stuck")
            .unwrap();
        if rolled_out(&green) && stuck["status"]["observedGeneration"] == json!(1) {
            settled = true;
            break;
        }
    }
    assert!(settled, "green ready and stuck observed within 2 s");
    let stuck = sim
        .get("apps/v1", "Deployment", "default", "stuck")
        .unwrap();
    assert!(!rolled_out(&stuck), "{stuck}");
    sim.shutdown().await;
}
