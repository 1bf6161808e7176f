//! Header routes (issue 16): `setHeaderRoute` sends requests carrying `X-Canary: yes` to the
//! canary before any random share; a gate, weights and the route's removal; `abort` and the
//! automatic rollback remove every route bgctl added; a crash at any write converges, for a
//! header route and (where the target has [`Cap::Mirror`]) for a mirror.
//!
//! Which side answered is read from the backends' own request counters, never from the answer
//! naming itself. A target without [`Cap::HeaderRoutes`] must refuse the plan at validation
//! (exit 2, the step's key path and why, no write).

use super::{blue_live, faults};
use crate::conformance::run::{assert_status_truthful, bgctl, bgctl_exit, p};
use crate::conformance::target::{stderr, Cap, PlanSpec, Target, Traffic};
use crate::harness::render;

const MATCH: &str = "match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}]";

/// Set the route, then 50 %, remove it, 100 % (the crash matrix's plan).
pub const SET_AND_REMOVE: &str = "[{setHeaderRoute: {name: testers, match: [{headerName: X-Canary, headerValue: {exact: 'yes'}}]}}, {setWeight: 50}, {setHeaderRoute: {name: testers}}, {setWeight: 100}]";

/// Set a mirror of every path at 50 %, then 50 %, remove it, 100 % (the mirror matrices' plan;
/// a path condition, which every router that mirrors can express — Contour has no method one).
pub const MIRROR_SET_AND_REMOVE: &str = "[{setMirrorRoute: {name: shadow, percentage: 50, match: [{path: {prefix: /}}]}}, {setWeight: 50}, {setMirrorRoute: {name: shadow}}, {setWeight: 100}]";

fn gated() -> String {
    format!(
        "[{{setHeaderRoute: {{name: testers, {MATCH}}}}}, {{pause: {{}}}}, {{setWeight: 50}}, {{pause: {{}}}}, {{setHeaderRoute: {{name: testers}}}}, {{setWeight: 100}}]"
    )
}

/// Requests answered by each side, from the backends' counters: `n` requests through the data
/// plane, with `X-Canary: <value>` when `header` is set. Returns (blue, green, failed).
async fn sides<T: Target>(t: &T, n: u64, header: Option<&str>) -> (u64, u64, u64) {
    let (url, host) = t
        .data_plane()
        .expect("a target with header routes has a data plane");
    let count = |env: &str| -> u64 { t.backends(env).iter().map(|b| b.request_count()).sum() };
    let (b0, g0) = (count("blue"), count("green"));
    let client = reqwest::Client::new();
    let mut failed = 0;
    for _ in 0..n {
        let mut req = client.get(format!("{url}/")).header("Host", host);
        if let Some(v) = header {
            req = req.header("X-Canary", v);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {}
            _ => failed += 1,
        }
    }
    (count("blue") - b0, count("green") - g0, failed)
}

/// Every request with the header reaches green, every one without reaches `rest` (or is split
/// when `rest` is `None`), none fails.
async fn assert_routed<T: Target>(t: &T, rest: Option<&str>, ctx: &str) {
    if t.data_plane().is_none() {
        return assert_routed_by_object(t, rest, ctx).await;
    }
    let (b, g, f) = sides(t, 40, Some("yes")).await;
    assert_eq!(
        (b, g, f),
        (0, 40, 0),
        "{ctx}: with the header (blue, green, failed)"
    );
    // Kong compares header values case-insensitively; Traefik byte for byte, so there an
    // upper-case value is just another value (a target property, not a name check).
    let (b, g, f) = sides(t, 20, Some("YES")).await;
    match rest {
        _ if t.header_values_ignore_case() => assert_eq!(
            (b, g, f),
            (0, 20, 0),
            "{ctx}: with the header in upper case"
        ),
        Some("blue") => assert_eq!((b, g, f), (20, 0, 0), "{ctx}: upper case, case-sensitive"),
        Some(_) => assert_eq!((b, g, f), (0, 20, 0), "{ctx}: upper case, case-sensitive"),
        None => assert!(
            b > 0 && g > 0 && f == 0,
            "{ctx}: upper case, case-sensitive: split expected: {b}/{g}/{f}"
        ),
    }
    let (b, g, f) = sides(t, 40, Some("no")).await;
    match rest {
        Some("blue") => assert_eq!((b, g, f), (40, 0, 0), "{ctx}: another value"),
        Some(_) => assert_eq!((b, g, f), (0, 40, 0), "{ctx}: another value"),
        None => assert!(
            b > 0 && g > 0 && f == 0,
            "{ctx}: split expected: {b}/{g}/{f}"
        ),
    }
    let (b, g, f) = sides(t, 40, None).await;
    if rest == Some("blue") {
        assert_eq!((b, g, f), (40, 0, 0), "{ctx}: without the header");
    }
}

/// The same as [`assert_routed`] where the target has no data plane (Kubernetes): the rule the
/// routing object picks for a request, as kube-sim evaluates the object it holds. With the
/// header: bgctl's owned rule, first in the list, sending only to green; without it (or with
/// another value): the user's rule, as the split says.
async fn assert_routed_by_object<T: Target>(t: &T, rest: Option<&str>, ctx: &str) {
    let name = t.name();
    let with = t.routed_by_object(Some("yes")).await;
    let with = with.unwrap_or_else(|| panic!("{name} {ctx}: no rule matches"));
    match rest {
        // Promoted: no owned rule is left; everything reaches green through the user's rule.
        Some("green") => assert!(
            !with.owned && with.blue == 0 && with.green > 0,
            "{name} {ctx}: with the header: {with:?}"
        ),
        _ => assert!(
            with.owned && with.rule == 0 && with.blue == 0 && with.green > 0,
            "{name} {ctx}: with the header, bgctl's rule first and only green: {with:?}"
        ),
    }
    for header in [Some("no"), None] {
        let other = t.routed_by_object(header).await;
        let other = other.unwrap_or_else(|| panic!("{name} {ctx}: no rule matches"));
        assert!(
            !other.owned,
            "{name} {ctx}: {header:?} reached bgctl's rule: {other:?}"
        );
        let ok = match rest {
            Some("blue") => other.blue > 0 && other.green == 0,
            Some(_) => other.blue == 0 && other.green > 0,
            None => other.blue > 0 && other.green > 0,
        };
        assert!(
            ok,
            "{name} {ctx}: X-Canary {header:?} expected {rest:?}: {other:?}"
        );
    }
}

/// After abort or rollback: a request with the header reaches blue (through the data plane, or
/// as the routing object routes it).
async fn header_reaches_blue<T: Target>(t: &T, ctx: &str) {
    if let Some(r) = t.routed_by_object(Some("yes")).await {
        assert!(
            !r.owned && r.blue > 0 && r.green == 0,
            "{} {ctx}, with the header: {r:?}",
            t.name()
        );
        return;
    }
    let (b, g, f) = sides(t, 40, Some("yes")).await;
    assert_eq!((b, g, f), (40, 0, 0), "{ctx}, with the header");
}

/// Where the target cannot route by header: the plan is refused at validation, with the
/// step's key path and the reason, and `apply` writes nothing.
async fn refused<T: Target>(t: &T) -> bool {
    if t.has(Cap::HeaderRoutes) {
        return false;
    }
    let plan = t.plan(&PlanSpec::canary(SET_AND_REMOVE));
    assert_refused(t, &plan, "setHeaderRoute", "header routes", "HeaderRoutes").await;
    true
}

/// `plan validate` refuses `plan` (exit 2) naming step 0's `step` key and why, and
/// `plan apply` exits 2 with no write.
async fn assert_refused<T: Target>(
    t: &T,
    plan: &std::path::Path,
    step: &str,
    what: &str,
    cap: &str,
) {
    let out = bgctl(t, &["plan", "validate", p(plan)]).await;
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}: the {what} plan is not refused here; if the provider supports it now, give the \
         target `Cap::{cap}`: {}",
        t.name(),
        render(&out)
    );
    assert!(
        err.contains(&format!("strategy.canary.steps[0].{step}"))
            && (err.contains("cannot") || err.contains("not supported yet")),
        "{}: the refusal names the step and says why: {}",
        t.name(),
        render(&out)
    );
    t.clear_log();
    let out = bgctl(t, &["plan", "apply", "--yes", p(plan)]).await;
    assert_eq!(out.status.code(), Some(2), "{}: {}", t.name(), render(&out));
    assert!(t.writes().is_empty(), "{}: {:?}", t.name(), t.writes());
    println!("{}: {what} refused (exit 2)", t.name());
}

/// Header route → gate → 50 % → gate → removal → 100 %, each gate passed by `promote` in another
/// process; `status` lists the route and the record names it while it is active.
pub async fn header_route_gate_weights_and_removal<T: Target>() {
    let t = T::start().await;
    if refused(&t).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(&gated()));
    // The step list shows the route step and its writes, and writes nothing itself.
    let out = bgctl(&t, &["plan", "diff", "--exit-code", p(&plan)]).await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    let diff = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        diff.contains("set the header route `testers`: X-Canary = \"yes\" → green")
            && diff.contains("remove header route `testers`"),
        "{diff}"
    );
    if t.name() == "kong" {
        assert!(
            diff.contains("PUT /routes/address-route.bgctl-header-testers-0")
                && diff.contains("PUT /services/address-service.bgctl-canary"),
            "{diff}"
        );
    }
    if t.name() == "traefik" {
        traefik_diff(&diff);
    }
    assert!(t.writes().is_empty(), "plan diff wrote {:?}", t.writes());
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    assert_eq!(t.traffic().await, Traffic::Blue, "{}", t.name());
    assert_routed(&t, Some("blue"), "at the first gate").await;
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(
        st["record"]["routes"],
        serde_json::json!(["header:testers"]),
        "{st}"
    );
    let owned = t.owned_routes().await;
    assert!(!owned.is_empty(), "the route is in the system");
    for o in &owned {
        let name = o.split_whitespace().last().unwrap_or_default();
        assert!(
            st["extra"].to_string().contains(name),
            "status lists `{o}`: {st}"
        );
    }

    bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 6).await;
    assert!(
        matches!(t.traffic().await, Traffic::Split(s) if (s - 50.0).abs() < 0.5),
        "{:?}",
        t.traffic().await
    );
    assert_routed(&t, None, "at 50 %").await;

    let out = bgctl_exit(&t, &["promote", "--yes", "-f", p(&plan)], 0).await;
    assert!(
        stderr(&out).contains("remove header route `testers`"),
        "{}",
        render(&out)
    );
    assert_eq!(t.traffic().await, Traffic::Green);
    assert!(
        t.owned_routes().await.is_empty(),
        "{:?}",
        t.owned_routes().await
    );
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "completed", "{st}");
    assert_eq!(st["record"]["routes"], serde_json::json!([]), "{st}");
    assert_routed(&t, Some("green"), "promoted").await;
}

/// Traefik: each route step is one PUT of the whole REST configuration, which shows the owned
/// router with the managed rule `&& Header(…)`, pointing at the canary's service.
fn traefik_diff(diff: &str) {
    assert!(
        diff.contains("PUT /api/providers/rest")
            && diff.contains("app-bgctl-header-testers")
            && diff.contains("Header(`X-Canary`, `yes`)"),
        "{diff}"
    );
}

/// `abort` at the gate and the automatic rollback after a failed check both remove every
/// route: afterwards requests with the header reach blue.
pub async fn header_route_removed_by_abort_and_automatic_rollback<T: Target>() {
    let t = T::start().await;
    if refused(&t).await {
        return;
    }
    blue_live(&t).await;
    let plan = t.plan(&PlanSpec::canary(&gated()));
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    assert!(!t.owned_routes().await.is_empty());
    bgctl_exit(&t, &["abort", "--yes", "-f", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Blue);
    assert!(
        t.owned_routes().await.is_empty(),
        "{:?}",
        t.owned_routes().await
    );
    header_reaches_blue(&t, "after abort").await;
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "aborted", "{st}");

    // `rollback` at the gate, where all traffic is still on blue: it removes the route too
    // (rather than "blue is already live" with testers still on green).
    bgctl_exit(&t, &["plan", "apply", "--yes", p(&plan)], 6).await;
    assert!(!t.owned_routes().await.is_empty());
    bgctl_exit(&t, &["rollback", "--yes", "-f", p(&plan)], 0).await;
    assert_eq!(t.traffic().await, Traffic::Blue);
    assert!(
        t.owned_routes().await.is_empty(),
        "{:?}",
        t.owned_routes().await
    );
    header_reaches_blue(&t, "after rollback").await;
    let st = assert_status_truthful(&t, &plan, t.name()).await;
    assert_eq!(st["record"]["phase"], "rolled_back", "{st}");
    // Nothing left to undo.
    bgctl_exit(&t, &["rollback", "--yes", "-f", p(&plan)], 0).await;

    let failing = t.plan(
        &PlanSpec::canary(&format!(
            "[{{setHeaderRoute: {{name: testers, {MATCH}}}}}, {{analysis: {{checks: [smoke]}}}}, {{setWeight: 100}}]"
        ))
        .with_extra("checks:\n  smoke:\n    exec: {command: [\"sh\", \"-c\", \"echo 'smoke: testers saw 500' >&2; exit 1\"], timeout: 10s}\n"),
    );
    let out = bgctl_exit(&t, &["plan", "apply", "--yes", p(&failing)], 3).await;
    assert!(stderr(&out).contains("testers saw 500"), "{}", render(&out));
    assert_eq!(t.traffic().await, Traffic::Blue);
    assert!(
        t.owned_routes().await.is_empty(),
        "{:?}",
        t.owned_routes().await
    );
    header_reaches_blue(&t, "after the automatic rollback").await;
}

/// The kill-at-every-write matrix over a canary that sets and removes a header route: after
/// each kill, `abort` restores blue with no route left, and `plan apply` converges to green
/// with no route left (the target's `after_restore` / `after_converge` check the system).
pub async fn crash_at_every_write_of_a_header_canary<T: Target>() {
    {
        let t = T::start().await;
        if refused(&t).await {
            return;
        }
    }
    faults::crash_matrix::<T>(faults::Stage::HeaderCanary).await;
}

/// Where the target cannot mirror: the mirror plan is refused at validation (exit 2, the
/// step's key path and why) and `apply` writes nothing. Returns true then.
async fn mirror_refused<T: Target>(t: &T) -> bool {
    if t.has(Cap::Mirror) {
        return false;
    }
    let plan = t.plan(&PlanSpec::canary(MIRROR_SET_AND_REMOVE));
    assert_refused(t, &plan, "setMirrorRoute", "mirrors", "Mirror").await;
    true
}

/// The kill-at-every-write matrix over a canary that sets and removes a mirror, where the
/// target can mirror (elsewhere: [`mirror_refused`]).
pub async fn crash_at_every_write_of_a_mirror_canary<T: Target>() {
    if mirror_refused(&T::start().await).await {
        return;
    }
    faults::crash_matrix::<T>(faults::Stage::MirrorCanary).await;
}

/// A lost answer at every write of the mirror canary (the mirror's own writes included): the
/// run reads the target back instead of failing or writing blindly again, and converges.
pub async fn lost_answer_at_every_write_of_a_mirror_canary<T: Target>() {
    if mirror_refused(&T::start().await).await {
        return;
    }
    faults::lost_answer_matrix::<T>(faults::Stage::MirrorCanary).await;
}
