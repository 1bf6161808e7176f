//! Cases ported from Kong's Admin API specs with a database (Kong's repository,
//! `spec/02-integration/04-admin_api/`), where kong-sim used to diverge. Each test names the
//! file and lines it ports.

use kong_sim::SimConfig;
use serde_json::{json, Value};

use crate::harness::{client, json_to_form, send, start, Body};

const PROTOCOLS: &str = "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp";

/// 02-kong_routes_spec.lua:35-72 — HEAD answers GET's headers (Content-Length included) without
/// a body; OPTIONS lists the verbs sorted, with `Access-Control-Allow-Headers`.
#[tokio::test]
async fn head_and_options_on_root() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let get = send(&http, &admin, "GET", "/", &Body::None, &[]).await;
    let head = send(&http, &admin, "HEAD", "/", &Body::None, &[]).await;
    assert_eq!((get.status, head.status), (200, 200));
    assert!(!get.raw.is_empty());
    assert_eq!(head.raw, "");
    let strip = |h: &reqwest::header::HeaderMap| {
        let mut h = h.clone();
        h.remove("date");
        h.remove("x-kong-admin-latency");
        h
    };
    assert_eq!(strip(&get.headers), strip(&head.headers));
    assert_eq!(
        head.headers["content-length"].to_str().unwrap(),
        get.raw.len().to_string()
    );

    let r = send(&http, &admin, "OPTIONS", "/", &Body::None, &[]).await;
    assert_eq!((r.status, r.raw.as_str()), (204, ""));
    assert_eq!(r.headers["allow"], "GET, HEAD, OPTIONS");
    assert_eq!(
        r.headers["access-control-allow-methods"],
        "GET, HEAD, OPTIONS"
    );
    assert_eq!(r.headers["access-control-allow-headers"], "Content-Type");
    assert_eq!(r.headers["access-control-allow-origin"], "*");
}

/// 09-routes_routes_spec.lua:618-632 — OPTIONS on an entity: `DELETE, GET, HEAD, OPTIONS,
/// PATCH, PUT`, sorted.
#[tokio::test]
async fn options_on_an_entity_is_sorted() {
    let sim = start(SimConfig::default()).await;
    let r = send(
        &client(),
        &sim.admin_url(),
        "OPTIONS",
        "/routes/test",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.headers["allow"], "DELETE, GET, HEAD, OPTIONS, PATCH, PUT");
    assert_eq!(r.headers["access-control-allow-headers"], "Content-Type");
}

fn schema_violation(message: &str, fields: &Value) -> Value {
    json!({"code": 2, "name": "schema violation", "message": message, "fields": fields})
}

/// 09-routes_routes_spec.lua:355-461 — a route's foreign key: the given service fields are
/// validated against the services schema, a name that resolves to nothing is code 13, an empty
/// or null name and a record without an id are "missing primary key" (JSON and form bodies).
#[tokio::test]
async fn route_foreign_key_errors() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    for form in [false, true] {
        let post = |body: Value| {
            let (http, admin) = (http.clone(), admin.clone());
            let body = if form {
                Body::Form(json_to_form(&body))
            } else {
                Body::Json(body)
            };
            async move { send(&http, &admin, "POST", "/routes", &body, &[]).await }
        };
        let r = post(json!({"methods": ["GET"], "protocols": ["foo", "http"], "service": {"protocol": "foo"}})).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            schema_violation(
                &format!(
                    "2 schema violations (protocols.1: {PROTOCOLS}; service.protocol: {PROTOCOLS})"
                ),
                &json!({"protocols": [PROTOCOLS], "service": {"protocol": PROTOCOLS}})
            ),
            "form: {form}"
        );
        let r = post(json!({"methods": ["GET"], "service": {"name": "non-existing"}})).await;
        assert_eq!(r.status, 400);
        let why = "the foreign key cannot be resolved with '{name=\"non-existing\"}' for an existing 'services' entity";
        assert_eq!(
            r.body,
            json!({"code": 13, "name": "foreign keys unresolved",
                   "message": format!("foreign key unresolved (service.name: {why})"),
                   "fields": {"service": {"name": why}}}),
            "form: {form}"
        );
        let missing = schema_violation(
            "schema violation (service.id: missing primary key)",
            &json!({"service": {"id": "missing primary key"}}),
        );
        let empty_name = if form { json!("") } else { Value::Null };
        let r = post(json!({"methods": ["GET"], "service": {"name": empty_name}})).await;
        assert_eq!((r.status, &r.body), (400, &missing), "form: {form}");
        let r = post(json!({"methods": ["GET"], "service": {"protocol": "http"}})).await;
        assert_eq!((r.status, &r.body), (400, &missing), "form: {form}");
    }
}

/// 10-services_routes_spec.lua:894-920 — `url: "invalid url"` has no scheme, so it is all path:
/// no host, and a path that does not start with `/`.
#[tokio::test]
async fn service_url_without_scheme() {
    let sim = start(SimConfig::default()).await;
    let r = send(
        &client(),
        &sim.admin_url(),
        "POST",
        "/services",
        &Body::Json(json!({"url": "invalid url"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        schema_violation(
            "2 schema violations (host: required field missing; path: should start with: /)",
            &json!({"host": "required field missing", "path": "should start with: /"})
        )
    );
}

/// 09-routes_routes_spec.lua:1504-1522 — `DELETE /routes/{route}/service`: 405 for a route that
/// exists, 404 (by id or name) for one that does not.
#[tokio::test]
async fn delete_of_a_routes_service() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let body = Body::Json(json!({"name": "r", "paths": ["/my-route"]}));
    assert_eq!(
        send(&http, &admin, "POST", "/routes", &body, &[])
            .await
            .status,
        201
    );
    let r = send(
        &http,
        &admin,
        "DELETE",
        "/routes/r/service",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (405, json!({"message": "Method not allowed"}))
    );
    let missing = "/routes/0f5e9d34-6d0c-4d7e-9b51-2d4a8a2c6a10/service";
    let r = send(&http, &admin, "DELETE", missing, &Body::None, &[]).await;
    assert_eq!(r.status, 404);
    let r = send(
        &http,
        &admin,
        "DELETE",
        "/routes/in-existent-route/service",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 404);
}

/// 08-targets_routes_spec.lua:166-176 — the Admin API's own message for a bad target (the
/// targets DAO formats it before the schema runs; declarative configs get the schema's longer
/// one).
#[tokio::test]
async fn invalid_target_message() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let up = Body::Json(json!({"name": "up.test"}));
    assert_eq!(
        send(&http, &admin, "POST", "/upstreams", &up, &[])
            .await
            .status,
        201
    );
    let bad = Body::Json(json!({"target": "some invalid host name", "weight": 100}));
    let r = send(
        &http,
        &admin,
        "POST",
        "/upstreams/up.test/targets/",
        &bad,
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["name"], json!("schema violation"));
    assert_eq!(
        r.body["fields"],
        json!({"target": "Invalid target; not a valid hostname or ip address"})
    );
}

/// 14-tags_spec.lua:131-157 — tag filters mixing `,` and `/`, or carrying a byte that is not
/// UTF-8, are "invalid filter syntax".
#[tokio::test]
async fn invalid_tag_filters() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    for query in [
        "/consumers?tags=consumer_%203,consumer_%202/consumer_%201",
        "/consumers?tags=consumer_%203/consumer_%202,consumer_%201",
        "/consumers?tags=%FF",
        "/services?tags=%FF",
    ] {
        let r = send(&http, &admin, "GET", query, &Body::None, &[]).await;
        assert_eq!(r.status, 400, "{query}");
        assert_eq!(
            r.body["message"],
            json!("invalid option (tags: invalid filter syntax)"),
            "{query}"
        );
    }
}

/// 09-routes_routes_spec.lua:99-124, 960-1030 — gRPC routes: `strip_path` defaults to false
/// and cannot be set, `methods` cannot be set, and hosts/headers/paths (snis with grpcs) are
/// needed (JSON and form bodies).
#[tokio::test]
async fn grpc_route_rules() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let ok = json!({"protocols": ["grpc", "grpcs"], "hosts": ["my.route.test"]});
    let r = send(&http, &admin, "POST", "/routes", &Body::Json(ok), &[]).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["protocols"], json!(["grpc", "grpcs"]));
    assert_eq!(r.body["strip_path"], json!(false));
    for form in [false, true] {
        let post = |body: Value| {
            let (http, admin) = (http.clone(), admin.clone());
            let body = if form {
                Body::Form(json_to_form(&body))
            } else {
                Body::Json(body)
            };
            async move { send(&http, &admin, "POST", "/routes", &body, &[]).await }
        };
        let need =
            "must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'";
        let r = post(json!({"protocols": ["grpc", "grpcs"]})).await;
        assert_eq!(
            (r.status, r.body),
            (
                400,
                schema_violation(
                    &format!("schema violation ({need})"),
                    &json!({"@entity": [need]})
                )
            ),
            "form: {form}"
        );
        let strip = "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'";
        let r =
            post(json!({"protocols": ["grpc", "grpcs"], "paths": ["/"], "strip_path": true})).await;
        assert_eq!(
            (r.status, r.body),
            (
                400,
                schema_violation(
                    &format!("schema violation (strip_path: {strip})"),
                    &json!({"strip_path": strip})
                )
            ),
            "form: {form}"
        );
        let methods = "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'";
        let r =
            post(json!({"protocols": ["grpc", "grpcs"], "paths": ["/"], "methods": ["GET"]})).await;
        assert_eq!(
            (r.status, r.body),
            (
                400,
                schema_violation(
                    &format!("schema violation (methods: {methods})"),
                    &json!({"methods": methods})
                )
            ),
            "form: {form}"
        );
    }
}

/// 07-upstreams_routes_spec.lua:232-459 — an upstream's hashing fields are validated on the
/// condition of `hash_on` / `hash_fallback` (Kong's `conditional` entity checks): the fallback
/// cannot repeat or follow `hash_on` where Kong forbids it, a header or cookie hash needs its
/// name, names must be valid, and two header hashes must use distinct headers (JSON and form
/// bodies; where the spec compares `json.fields` whole, so does this test).
#[tokio::test]
async fn upstream_hash_conditional_validation() {
    let sim = start(SimConfig::default()).await;
    let http = client();
    let admin = sim.admin_url();
    let on = |field: &str| format!("failed conditional validation given value of field '{field}'");
    let fallbacks = "expected one of: none, ip, header, cookie, path, query_arg, uri_capture";
    let bad_header = "bad header name 'not a <> valid <> header name', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
    let bad_cookie = r#"contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\"/?={}[] are not allowed."#;
    // (spec line, body, the whole `fields` or one field's message)
    let whole: Vec<(u32, Value, Value)> = vec![
        (
            232,
            json!({"hash_on": "something that is invalid"}),
            json!({"hash_on": "expected one of: none, consumer, ip, header, cookie, path, query_arg, uri_capture"}),
        ),
        (
            247,
            json!({"hash_on": "consumer", "hash_fallback": "something that is invalid"}),
            json!({"@entity": [on("hash_on")], "hash_fallback": fallbacks}),
        ),
        (
            267,
            json!({"hash_on": "consumer", "hash_fallback": "consumer"}),
            json!({"@entity": [on("hash_on")], "hash_fallback": fallbacks}),
        ),
        (
            318,
            json!({"hash_on": "header", "hash_fallback": "header", "hash_on_header": "headername", "hash_fallback_header": "headername"}),
            json!({"@entity": ["values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'"]}),
        ),
        (
            336,
            json!({"hash_on": "cookie", "hash_on_cookie": "cookiename", "hash_fallback": "header", "hash_fallback_header": "Cool-Header"}),
            json!({"@entity": [on("hash_on")], "hash_fallback": "expected one of: none"}),
        ),
        (
            356,
            json!({"hash_on": "header", "hash_fallback": "header", "hash_fallback_header": "HeaderName"}),
            json!({"@entity": [on("hash_on")], "hash_on_header": "required field missing"}),
        ),
        (
            376,
            json!({"hash_on": "consumer", "hash_fallback": "header"}),
            json!({"@entity": [on("hash_fallback")], "hash_fallback_header": "required field missing"}),
        ),
        (
            410,
            json!({"hash_on": "cookie", "hash_on_cookie": "hashme", "hash_on_cookie_path": "not a path"}),
            json!({"hash_on_cookie_path": "should start with: /"}),
        ),
        (
            443,
            json!({"hash_on": "consumer", "hash_fallback": "cookie", "hash_on_cookie": "my-cookie", "hash_on_cookie_path": "not a path"}),
            json!({"hash_on_cookie_path": "should start with: /"}),
        ),
    ];
    let one: Vec<(u32, Value, &str, &str)> = vec![
        (
            284,
            json!({"hash_on": "header", "hash_fallback": "consumer", "hash_on_header": "not a <> valid <> header name"}),
            "hash_on_header",
            bad_header,
        ),
        (
            301,
            json!({"hash_on": "consumer", "hash_fallback": "header", "hash_fallback_header": "not a <> valid <> header name"}),
            "hash_fallback_header",
            bad_header,
        ),
        (
            394,
            json!({"hash_on": "cookie", "hash_on_cookie": "not a <> valid <> cookie name"}),
            "hash_on_cookie",
            bad_cookie,
        ),
        (
            426,
            json!({"hash_on": "consumer", "hash_fallback": "cookie", "hash_on_cookie": "not a <> valid <> cookie name"}),
            "hash_on_cookie",
            bad_cookie,
        ),
    ];
    let body_of = |mut v: Value, form: bool| {
        v["name"] = json!("my.upstream");
        if form {
            Body::Form(json_to_form(&v))
        } else {
            Body::Json(v)
        }
    };
    for form in [false, true] {
        for (line, body, fields) in &whole {
            let r = send(
                &http,
                &admin,
                "POST",
                "/upstreams",
                &body_of(body.clone(), form),
                &[],
            )
            .await;
            assert_eq!(r.status, 400, "line {line}, form {form}: {}", r.raw);
            assert_eq!(r.body["name"], "schema violation", "line {line}");
            assert_eq!(&r.body["fields"], fields, "line {line}, form {form}");
        }
        for (line, body, field, message) in &one {
            let r = send(
                &http,
                &admin,
                "POST",
                "/upstreams",
                &body_of(body.clone(), form),
                &[],
            )
            .await;
            assert_eq!(r.status, 400, "line {line}, form {form}: {}", r.raw);
            assert_eq!(
                r.body["fields"][*field],
                json!(message),
                "line {line}, form {form}: {}",
                r.raw
            );
        }
    }
    // 07-upstreams_routes_spec.lua:61-136 — the valid combinations are created.
    for body in [
        json!({"hash_on": "consumer", "hash_fallback": "ip", "hash_on_header": "HeaderName", "hash_fallback_header": "HeaderFallback"}),
        json!({"hash_on": "cookie", "hash_on_cookie": "CookieName1", "hash_on_cookie_path": "/foo"}),
        json!({"hash_on": "header", "hash_fallback": "header", "hash_on_header": "HeaderName1", "hash_fallback_header": "HeaderName2"}),
    ] {
        let r = send(
            &http,
            &admin,
            "POST",
            "/upstreams",
            &body_of(body.clone(), false),
            &[],
        )
        .await;
        assert_eq!(r.status, 201, "{body}: {}", r.raw);
        for (k, v) in body.as_object().unwrap() {
            assert_eq!(&r.body[k], v, "{k}");
        }
        let del = send(
            &http,
            &admin,
            "DELETE",
            "/upstreams/my.upstream",
            &Body::None,
            &[],
        )
        .await;
        assert_eq!(del.status, 204);
    }
}
