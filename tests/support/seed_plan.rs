//! Seed 000's plan with `n` targets per side, at addresses nobody serves (no probes, no proxy):
//! the plan of the scale tests (`tests/it/kong_scale.rs`) and of the benchmark
//! (`bench/compare.rs`), which compares its setup with the seed's curl sequence.

/// The plan's text, with `active` live.
pub fn text(n: usize, active: &str) -> String {
    let targets = |side: usize| {
        let mut out = String::new();
        for i in 0..n {
            out += &format!(
                "      - {{target: 10.{side}.{}.{}:80, weight: 100}}\n",
                i / 250,
                i % 250 + 1
            );
        }
        out
    };
    format!(
        "apiVersion: bgctl.dev/v1\nkind: Rollout\nmetadata: {{name: address-service}}\nprovider:\n  kong: {{adminUrl: '${{KONG_ADMIN_URL}}'}}\n\
service:\n  name: address-service\n  path: /address\n  routes: [{{name: address-route, hosts: [address.mydomain.com]}}]\n\
environments:\n  blue:\n    upstream: address.v1.service\n    targets:\n{}  green:\n    upstream: address.v2.service\n    targets:\n{}\
strategy:\n  blueGreen: {{activeEnvironment: {active}}}\n",
        targets(1),
        targets(2)
    )
}
