//! Watches: initial state, live events, replay from a resourceVersion.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

async fn next_event(resp: &mut reqwest::Response, buf: &mut String) -> Value {
    loop {
        if let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            return serde_json::from_str(&line).expect("event JSON");
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
            .await
            .expect("an event within 5 s")
            .expect("chunk")
            .expect("stream still open");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn a_watch_streams_added_modified_and_deleted() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, existing) = api.post(SERVICES, &service("old", "blue")).await;
    let mut resp = reqwest::get(format!("{}{SERVICES}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", sim.url()))
        .await
        .unwrap();
    let mut buf = String::new();
    let e = next_event(&mut resp, &mut buf).await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("old"))
    );
    let e = next_event(&mut resp, &mut buf).await;
    assert_eq!(e["type"], "BOOKMARK");
    assert_eq!(
        e["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    api.post(SERVICES, &service("web", "blue")).await;
    api.patch(
        &format!("{SERVICES}/web"),
        MERGE,
        r#"{"spec":{"selector":{"version":"green"}}}"#,
    )
    .await;
    api.delete(&format!("{SERVICES}/web")).await;
    let kinds: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let e = next_event(&mut resp, &mut buf).await;
            assert_eq!(e["object"]["kind"], "Service");
            v.push(e["type"].as_str().unwrap().to_string());
        }
        v
    };
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);

    // Replay from a resourceVersion.
    let since = rv(&existing);
    let mut resp = reqwest::get(format!(
        "{}{SERVICES}?watch=1&resourceVersion={since}&fieldSelector=metadata.name%3Dweb",
        sim.url()
    ))
    .await
    .unwrap();
    let mut buf = String::new();
    let e = next_event(&mut resp, &mut buf).await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("web"))
    );
}
