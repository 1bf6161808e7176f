//! Classification and verdicts, on answers the test makes up (the sampling client itself is
//! tested in `http::sample`).

use std::time::Duration;

use super::*;

fn verifier(explicit: bool, identities: &[(&str, &[&str])]) -> Verifier {
    Verifier {
        proxy_url: "http://proxy".into(),
        nodes: vec!["http://proxy".into()],
        host: None,
        path: "/".into(),
        header: "X-Backend".into(),
        explicit,
        samples: 60,
        tolerance: 5.0,
        timeout: Duration::from_secs(5),
        identities: identities
            .iter()
            .map(|(e, ids)| (e.to_string(), ids.iter().map(ToString::to_string).collect()))
            .collect(),
    }
}

fn chk<'a>(env: &'a str, expected: f64, baseline: Option<&'a Baseline>, strict: bool) -> Check<'a> {
    Check {
        env,
        expected,
        baseline,
        strict,
        expect_evidence: false,
    }
}

const BLUE_GREEN: &[(&str, &[&str])] = &[("blue", &["blue"]), ("green", &["green"])];

/// `n` answers with `status` and header value `h`.
fn answers(n: usize, status: Result<u16, &str>, h: Option<&str>) -> Vec<Answer> {
    (0..n)
        .map(|_| Answer {
            status: status.map_err(ToString::to_string),
            latency: Duration::ZERO,
            header: h.map(ToString::to_string),
        })
        .collect()
}

fn mix(parts: Vec<Vec<Answer>>) -> Vec<Answer> {
    parts.into_iter().flatten().collect()
}

#[test]
fn named_answers_verify_the_split() {
    let v = verifier(false, BLUE_GREEN);
    let s = v.classify(&mix(vec![
        answers(57, Ok(200), Some("green-1")),
        answers(3, Ok(200), Some("blue-2")),
    ]));
    assert_eq!((s.identified(), s.unidentified(), s.failed), (60, 0, 0));
    let verdict = v.judge(&s, &chk("green", 100.0, None, false));
    assert!(verdict.ok && verdict.split, "{verdict:?}");
    let verdict = v.judge(&s, &chk("green", 50.0, None, false));
    assert!(!verdict.ok && verdict.split, "{verdict:?}");
    assert!(
        verdict.detail.contains("saw `green-1` ×57, `blue-2` ×3"),
        "{}",
        verdict.detail
    );
}

#[test]
fn anonymous_answers_are_verified_by_health_and_say_the_split_was_not_verifiable() {
    let v = verifier(false, BLUE_GREEN);
    let s = v.classify(&answers(60, Ok(200), None));
    let verdict = v.judge(&s, &chk("green", 100.0, None, false));
    assert!(verdict.ok, "{verdict:?}");
    assert!(!verdict.split);
    assert!(
        verdict.detail.contains(
            "the split itself was not verifiable: the answers carry no `X-Backend` header"
        ),
        "{}",
        verdict.detail
    );
    // Values naming no side, without identity asked for: health only too, naming them.
    let s = v.classify(&answers(60, Ok(200), Some("pod-7f9c")));
    let verdict = v.judge(&s, &chk("green", 100.0, None, false));
    assert!(verdict.ok && !verdict.split, "{verdict:?}");
    assert!(
        verdict.detail.contains("`pod-7f9c` ×60"),
        "{}",
        verdict.detail
    );
}

#[test]
fn health_only_fails_on_five_hundreds_the_old_side_did_not_have() {
    let v = verifier(false, BLUE_GREEN);
    let s = v.classify(&answers(60, Ok(500), None));
    let clean = Baseline {
        requests: 60,
        failed: 0,
        identified: 0,
    };
    let verdict = v.judge(&s, &chk("green", 100.0, Some(&clean), false));
    assert!(!verdict.ok, "{verdict:?}");
    assert!(
        verdict
            .detail
            .contains("60 of 60 requests failed (HTTP 500 ×60)")
            && verdict.detail.contains("before the change 0 of 60 failed"),
        "{}",
        verdict.detail
    );
    // One 5xx in 60 is more than a clean old side had.
    let s = v.classify(&mix(vec![
        answers(59, Ok(200), None),
        answers(1, Err("no answer within 5s"), None),
    ]));
    assert!(!v.judge(&s, &chk("green", 100.0, Some(&clean), false)).ok);
}

#[test]
fn an_old_side_that_already_failed_does_not_fail_a_correct_change() {
    let v = verifier(false, BLUE_GREEN);
    // Blue failed 20 % before; after the switch green fails 22 %: within 20 + 5.
    let before = Baseline {
        requests: 60,
        failed: 12,
        identified: 0,
    };
    let s = v.classify(&mix(vec![
        answers(47, Ok(200), None),
        answers(13, Ok(503), None),
    ]));
    assert!(v.judge(&s, &chk("green", 100.0, Some(&before), false)).ok);
    // 40 % is worse than before.
    let s = v.classify(&mix(vec![
        answers(36, Ok(200), None),
        answers(24, Ok(503), None),
    ]));
    assert!(!v.judge(&s, &chk("green", 100.0, Some(&before), false)).ok);
    // Nothing answered at all is never healthy, whatever the baseline.
    let all = Baseline {
        requests: 60,
        failed: 60,
        identified: 0,
    };
    let s = v.classify(&answers(60, Ok(502), None));
    assert!(!v.judge(&s, &chk("blue", 100.0, Some(&all), false)).ok);
}

#[test]
fn identity_lists_match_any_value_and_failures_name_what_was_seen() {
    let v = verifier(
        true,
        &[("blue", &["app-a", "app-b"]), ("green", &["app-c"])],
    );
    let s = v.classify(&mix(vec![
        answers(30, Ok(200), Some("app-a")),
        answers(30, Ok(200), Some("app-b-7")),
    ]));
    assert!(v.judge(&s, &chk("blue", 100.0, None, true)).ok);
    // Green's targets send other names: strict, the report says what came back.
    let s = v.classify(&mix(vec![
        answers(30, Ok(200), Some("app-x")),
        answers(30, Ok(200), Some("app-y")),
    ]));
    let verdict = v.judge(&s, &chk("green", 100.0, None, true));
    assert!(
        !verdict.ok && verdict.split && verdict.hopeless,
        "{verdict:?}"
    );
    assert!(
        verdict.detail.contains("saw `app-x` ×30, `app-y` ×30"),
        "{}",
        verdict.detail
    );
}

#[test]
fn strict_mode_fails_without_evidence_and_a_move_back_does_not() {
    let v = verifier(true, BLUE_GREEN);
    let s = v.classify(&answers(60, Ok(200), None));
    let forward = v.judge(&s, &chk("green", 100.0, None, true));
    assert!(!forward.ok && forward.hopeless, "{forward:?}");
    assert!(
        forward.detail.contains("no `X-Backend` ×60"),
        "{}",
        forward.detail
    );
    let back = v.judge(&s, &chk("blue", 100.0, None, false));
    assert!(back.ok && !back.split, "{back:?}");
}

#[test]
fn propagation_is_waited_for_not_given_up_on() {
    // Right after a switch the old side still answers: not hopeless, sampling goes on.
    let v = verifier(true, BLUE_GREEN);
    let s = v.classify(&answers(60, Ok(200), Some("blue-1")));
    let verdict = v.judge(&s, &chk("green", 100.0, None, true));
    assert!(!verdict.ok && !verdict.hopeless, "{verdict:?}");
}

#[test]
fn allowed_failures_follow_the_baseline() {
    let v = verifier(false, BLUE_GREEN);
    assert!(v.allowed_failures(None).abs() < 1e-9);
    let b = Baseline {
        requests: 100,
        failed: 20,
        identified: 0,
    };
    assert!((v.allowed_failures(Some(&b)) - 25.0).abs() < 1e-9);
    let b = Baseline {
        requests: 10,
        failed: 10,
        identified: 0,
    };
    assert!((v.allowed_failures(Some(&b)) - 100.0).abs() < 1e-9);
}

#[test]
fn answers_without_evidence_are_waited_out_when_the_apps_name_their_side() {
    // A fresh route not yet on every node: the gateway's own 404s carry no `X-Backend`.
    let v = verifier(false, BLUE_GREEN);
    let s = v.classify(&answers(60, Ok(404), None));
    let mut check = chk("green", 100.0, None, false);
    assert!(v.judge(&s, &check).ok, "anonymous apps: health only");
    check.expect_evidence = true;
    let verdict = v.judge(&s, &check);
    assert!(
        !verdict.ok && verdict.split && !verdict.hopeless,
        "{verdict:?}"
    );
}
