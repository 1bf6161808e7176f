//! Unit tests of the HAProxy provider (commands, order, parsing).
use std::collections::HashMap;

use super::*;
use crate::providers::Phase;

fn plan(yaml: &str) -> Plan {
    serde_yaml_ng::from_str(yaml).unwrap()
}

const PLAN: &str = r"
apiVersion: bgctl.dev/v1
kind: Rollout
metadata: {name: app-release}
provider:
  haproxy: {runtimeApi: 'tcp://127.0.0.1:9999', backend: app}
environments:
  blue: {servers: [{name: blue1, weight: 100}, {name: blue2, weight: 50}]}
  green: {servers: [{name: green1, address: '127.0.0.1:18082'}]}
strategy: {blueGreen: {activeEnvironment: green}}
";

fn live(blue: u32, green: u32) -> Vec<LiveServer> {
    let s = |name: &str, w| LiveServer {
        name: name.into(),
        addr: "127.0.0.1:1".into(),
        op_state: 2,
        admin_state: 0,
        weight: w,
    };
    vec![s("blue1", blue), s("blue2", blue / 2), s("green1", green)]
}

#[test]
fn endpoints_parse() {
    assert_eq!(
        Endpoint::parse("tcp://127.0.0.1:9999"),
        Ok(Endpoint::Tcp("127.0.0.1:9999".into()))
    );
    assert_eq!(
        Endpoint::parse("unix:///run/haproxy.sock"),
        Ok(Endpoint::Unix("/run/haproxy.sock".into()))
    );
    assert!(Endpoint::parse("tcp://127.0.0.1").is_err());
    assert!(Endpoint::parse("unix://rel.sock").is_err());
    assert!(Endpoint::parse("http://x:1").is_err());
}

/// Regression: lowering the old side first leaves every weight at 0 for a moment, which
/// HAProxy answers with 503 (measured); every raise must come before every lower.
#[test]
fn switch_raises_new_side_before_lowering_old() {
    let h = Haproxy::new(&plan(PLAN)).unwrap();
    let to_green = Traffic::Env {
        env: "green".into(),
    };
    let (cmds, _) = h.traffic_commands(&live(100, 0), &to_green).unwrap();
    assert_eq!(
        cmds,
        [
            "set server app/green1 weight 100",
            "set server app/blue1 weight 0",
            "set server app/blue2 weight 0",
        ]
    );
    let to_blue = Traffic::Env { env: "blue".into() };
    let mut l = live(0, 100);
    l[0].admin_state = 0x08; // blue1 drained
    let (cmds, _) = h.traffic_commands(&l, &to_blue).unwrap();
    assert_eq!(
        cmds,
        [
            "set server app/blue1 state ready",
            "set server app/blue1 weight 100",
            "set server app/blue2 weight 50",
            "set server app/green1 weight 0",
        ]
    );
}

#[test]
fn split_weights_fit_0_to_256_and_round_closely() {
    for p in [0.0, 1.0, 5.0, 10.0, 12.5, 33.3, 50.0, 90.0, 99.0, 100.0] {
        let (s, c, a) = split_weights(&[100, 50], &[100], p).unwrap();
        assert!(
            s.iter().chain(&c).all(|w| *w <= MAX_WEIGHT),
            "{p}: {s:?} {c:?}"
        );
        if p > 0.0 && p < 100.0 {
            assert!(s.iter().chain(&c).all(|w| *w >= 1), "{p}: {s:?} {c:?}");
            // Stable keeps its 2:1 ratio within one unit.
            assert!(
                (i64::from(s[0]) - 2 * i64::from(s[1])).abs() <= 2,
                "{p}: {s:?}"
            );
        }
        assert!((a - p).abs() < 0.5, "{p}: achieved {a} with {s:?} {c:?}");
    }
    assert!((split_weights(&[100], &[100], 10.0).unwrap().2 - 10.0).abs() < 1e-9);
    assert_eq!(
        split_weights(&[100], &[100], 50.0).unwrap(),
        (vec![256], vec![256], 50.0)
    );
    assert_eq!(
        split_weights(&[100], &[7], 0.0).unwrap(),
        (vec![100], vec![0], 0.0)
    );
    assert_eq!(
        split_weights(&[100], &[7], 100.0).unwrap(),
        (vec![0], vec![7], 100.0)
    );
    // The smallest share HAProxy can express with one server per side.
    let (_, c, a) = split_weights(&[1], &[1], 0.1).unwrap();
    assert_eq!(c, vec![1]);
    assert!((a - 100.0 / 257.0).abs() < 1e-9);
}

#[test]
fn canary_split_orders_raise_first() {
    let h = Haproxy::new(&plan(PLAN)).unwrap();
    let to = Traffic::Split {
        stable: "blue".into(),
        canary: "green".into(),
        percent: 10.0,
    };
    let (cmds, desired) = h.traffic_commands(&live(256, 0), &to).unwrap();
    let raise = cmds.iter().position(|c| c.contains("green1")).unwrap();
    let lower = cmds.iter().position(|c| c.contains("blue1")).unwrap();
    assert!(raise < lower, "{cmds:?}");
    let w: HashMap<_, _> = desired.into_iter().collect();
    let share = f64::from(w["green1"]) / f64::from(w["green1"] + w["blue1"] + w["blue2"]);
    assert!((share - 0.10).abs() < 0.005, "{w:?}");
}

#[test]
fn servers_state_parses_and_errors_are_verbatim() {
    let text = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n3 app 1 blue1 127.0.0.1 2 8 100 100 1 1 0 2 0 0 0 0 - 18081 -\n";
    let s = parse_servers_state(text).unwrap();
    assert_eq!(s[0].name, "blue1");
    assert_eq!(s[0].addr, "127.0.0.1:18081");
    assert_eq!((s[0].weight, s[0].serving()), (100, 0));
    assert_eq!(
        parse_servers_state("Can't find backend.\n"),
        Err("Can't find backend.".into())
    );
}

#[test]
fn hex_round_trips() {
    let b = br#"{"previous":"blue"}"#;
    assert_eq!(hex_decode(&hex_encode(b)).unwrap(), b);
    assert!(hex_decode("abc").is_none());
}

#[test]
fn an_intent_reads_as_in_flight_until_its_weights_are_live_then_as_its_final_record() {
    use super::intent::Stored;
    let done = Record {
        previous: Some("blue".into()),
        phase: Phase::Completed,
        action: Some("switch".into()),
        ..Record::default()
    };
    let to_green = vec![
        ("blue1".to_string(), 0),
        ("blue2".to_string(), 0),
        ("green1".to_string(), 100),
    ];
    // Stored as JSON and read back, as the variable is.
    let json = serde_json::to_vec(&Stored::intent(&to_green, &done)).unwrap();
    let read = || -> Stored { serde_json::from_slice(&json).unwrap() };
    // Not started, and half-way (both sides serving): in flight, with the side to restore.
    for weights in [live(100, 0), live(100, 100)] {
        let r = Haproxy::resolve(read(), &weights);
        assert_eq!(r.phase, Phase::Progressing);
        assert_eq!(r.previous.as_deref(), Some("blue"));
    }
    // The weights are live: only the final record was lost, and it is what the record means.
    assert_eq!(Haproxy::resolve(read(), &live(0, 100)), done);
    // A server in maintenance does not serve its weight: not live yet.
    let mut maint = live(0, 100);
    maint[2].admin_state = 0x01;
    assert_eq!(Haproxy::resolve(read(), &maint).phase, Phase::Progressing);
    // The final form, and what an older bgctl wrote (a plain record), read as written.
    let plain = serde_json::to_vec(&done).unwrap();
    let stored: Stored = serde_json::from_slice(&plain).unwrap();
    assert_eq!(Haproxy::resolve(stored, &live(100, 0)), done);
    // An older bgctl reads the intent as a plain record (the `pending` key is ignored).
    let old: Record = serde_json::from_slice(&json).unwrap();
    assert_eq!(old.phase, Phase::Progressing);
}
