//! The field lists of services, routes, upstreams (with their health checks) and targets, per
//! simulated Kong version.

use serde_json::json;

use super::{
    arr_of, boolean, check_cookie_name, check_header_name, check_host_no_port,
    check_host_with_port, check_method, check_path, check_route_host, check_route_path,
    check_target, check_upstream_name, check_utf8_name, check_uuid, f, http_statuses, id_field,
    int, rec, s, set_of, tags, ts, ts_ms, Field, Ty, Ver,
};

pub(crate) const SERVICE_PROTOCOLS: &[&str] = &[
    "grpc",
    "grpcs",
    "http",
    "https",
    "tcp",
    "tls",
    "tls_passthrough",
    "udp",
];

/// Fields of `services`.
pub(crate) fn services(_ver: &Ver) -> Vec<Field> {
    let timeout = |n| int(n).def(json!(60000)).between(1, 2_147_483_646);
    vec![
        id_field(),
        ts("created_at"),
        ts("updated_at"),
        s("name").uniq().check(check_utf8_name),
        int("retries").def(json!(5)).between(0, 32767),
        s("protocol")
            .req()
            .def(json!("http"))
            .one_of(SERVICE_PROTOCOLS),
        s("host").req().check(check_host_no_port),
        int("port").req().def(json!(80)).between(0, 65535),
        s("path").check(check_path),
        timeout("connect_timeout"),
        timeout("write_timeout"),
        timeout("read_timeout"),
        tags(),
        f("client_certificate", Ty::Foreign("certificates")),
        boolean("tls_verify"),
        int("tls_verify_depth").between(0, 64),
        set_of("ca_certificates", s("").check(check_uuid)),
        boolean("enabled").req().def(json!(true)),
    ]
}

/// Fields of `routes`.
pub(crate) fn routes(_ver: &Ver) -> Vec<Field> {
    let cidr_port = |name| arr_of(name, rec("", vec![s("ip"), int("port").between(0, 65535)]));
    vec![
        id_field(),
        ts("created_at"),
        ts("updated_at"),
        s("name").uniq().check(check_utf8_name),
        set_of(
            "protocols",
            s("").one_of(&[
                "grpc",
                "grpcs",
                "http",
                "https",
                "tcp",
                "tls",
                "tls_passthrough",
                "udp",
            ]),
        )
        .req()
        .def(json!(["http", "https"])),
        set_of("methods", s("").check(check_method)),
        arr_of("hosts", s("").check(check_route_host)),
        arr_of("paths", s("").check(check_route_path)),
        f("headers", Ty::Map(Box::new(arr_of("", s(""))))),
        int("https_redirect_status_code")
            .req()
            .def(json!(426))
            .one_of_int(&[426, 301, 302, 307, 308]),
        int("regex_priority").def(json!(0)),
        boolean("strip_path").req().def(json!(true)),
        s("path_handling").def(json!("v0")).one_of(&["v0", "v1"]),
        boolean("preserve_host").req().def(json!(false)),
        boolean("request_buffering").req().def(json!(true)),
        boolean("response_buffering").req().def(json!(true)),
        set_of("snis", s("")),
        cidr_port("sources"),
        cidr_port("destinations"),
        tags(),
        f("service", Ty::Foreign("services")),
    ]
}

pub(super) fn healthchecks(ver: &Ver) -> Field {
    let mut active = vec![
        s("type")
            .def(json!("http"))
            .one_of(&["tcp", "http", "https", "grpc", "grpcs"]),
        int("timeout").def(json!(1)).between(0, 65535),
        int("concurrency").def(json!(10)).between(1, 2_147_483_648),
        s("http_path").def(json!("/")).check(check_path),
        s("https_sni"),
        boolean("https_verify_certificate").def(json!(true)),
    ];
    if ver.at_least(3, 0) {
        active.push(f("headers", Ty::Map(Box::new(arr_of("", s(""))))));
    }
    active.push(rec(
        "healthy",
        vec![
            int("interval").def(json!(0)).between(0, 65535),
            http_statuses(&[200, 302]),
            int("successes").def(json!(0)).between(0, 255),
        ],
    ));
    active.push(rec(
        "unhealthy",
        vec![
            int("interval").def(json!(0)).between(0, 65535),
            http_statuses(&[429, 404, 500, 501, 502, 503, 504, 505]),
            int("tcp_failures").def(json!(0)).between(0, 255),
            int("timeouts").def(json!(0)).between(0, 255),
            int("http_failures").def(json!(0)).between(0, 255),
        ],
    ));
    let passive = vec![
        s("type")
            .def(json!("http"))
            .one_of(&["tcp", "http", "https", "grpc", "grpcs"]),
        rec(
            "healthy",
            vec![
                http_statuses(&[
                    200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305,
                    306, 307, 308,
                ]),
                int("successes").def(json!(0)).between(0, 255),
            ],
        ),
        rec(
            "unhealthy",
            vec![
                http_statuses(&[429, 500, 503]),
                int("tcp_failures").def(json!(0)).between(0, 255),
                int("timeouts").def(json!(0)).between(0, 255),
                int("http_failures").def(json!(0)).between(0, 255),
            ],
        ),
    ];
    rec(
        "healthchecks",
        vec![
            rec("active", active),
            rec("passive", passive),
            f("threshold", Ty::Num).def(json!(0)).between(0, 100),
        ],
    )
}

/// Fields of `upstreams`.
pub(crate) fn upstreams(ver: &Ver) -> Vec<Field> {
    let hash_values: &[&str] = if ver.at_least(3, 0) {
        &[
            "none",
            "consumer",
            "ip",
            "header",
            "cookie",
            "path",
            "query_arg",
            "uri_capture",
        ]
    } else {
        &["none", "consumer", "ip", "header", "cookie"]
    };
    let algorithms: &[&str] = if ver.at_least(3, 2) {
        &[
            "consistent-hashing",
            "least-connections",
            "round-robin",
            "latency",
        ]
    } else {
        &["consistent-hashing", "least-connections", "round-robin"]
    };
    let mut fields = vec![id_field(), ts("created_at")];
    if ver.at_least(3, 3) {
        fields.push(ts("updated_at"));
    }
    fields.extend([
        s("name").req().uniq().check(check_upstream_name),
        s("algorithm").def(json!("round-robin")).one_of(algorithms),
        s("hash_on").def(json!("none")).one_of(hash_values),
        s("hash_fallback").def(json!("none")).one_of(hash_values),
        s("hash_on_header").check(check_header_name),
        s("hash_fallback_header").check(check_header_name),
        s("hash_on_cookie").check(check_cookie_name),
        s("hash_on_cookie_path").def(json!("/")).check(check_path),
        s("hash_on_query_arg"),
        s("hash_fallback_query_arg"),
        s("hash_on_uri_capture"),
        s("hash_fallback_uri_capture"),
        int("slots").def(json!(10000)).between(10, 65536),
        healthchecks(ver),
        tags(),
        s("host_header").check(check_host_with_port),
        f("client_certificate", Ty::Foreign("certificates")),
    ]);
    if ver.at_least(3, 1) {
        fields.push(boolean("use_srv_name").def(json!(false)));
    }
    fields
}

/// Fields of `targets`.
pub(crate) fn targets(ver: &Ver) -> Vec<Field> {
    let mut fields = vec![id_field(), ts_ms("created_at")];
    if ver.at_least(3, 3) {
        fields.push(ts_ms("updated_at"));
    }
    fields.extend([
        f("upstream", Ty::Foreign("upstreams")).req(),
        s("target").req().check(check_target),
        int("weight").def(json!(100)).between(0, 65535),
        tags(),
    ]);
    fields
}
