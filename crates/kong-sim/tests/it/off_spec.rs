//! Kong's own DB-less Admin API spec, ported: `spec/02-integration/04-admin_api/15-off_spec.lua`
//! in Kong's repository (master, 2026). Each test names the lines it ports; expected bodies are
//! Kong's, compared whole where the spec compares them whole (`assert.same`).

use kong_sim::SimConfig;
use serde_json::{json, Value};

use crate::harness::{client, send, start, Body};

const UUID: &str = "7c5b1a3e-4a7d-4c59-9b8e-2b0f5d3c1a11";

async fn dbless() -> (kong_sim::KongSim, reqwest::Client) {
    let sim = start(SimConfig {
        db_less: true,
        ..SimConfig::default()
    })
    .await;
    (sim, client())
}

async fn post_config(
    http: &reqwest::Client,
    admin: &str,
    query: &str,
    body: Value,
) -> (u16, Value) {
    let r = send(
        http,
        admin,
        "POST",
        &format!("/config{query}"),
        &Body::Json(body),
        &[],
    )
    .await;
    (r.status, r.body)
}

fn unsupported(message: &str) -> Value {
    json!({"code": 12, "name": "operation unsupported", "message": message})
}

fn declarative(fields: &Value, message: &str) -> Value {
    json!({
        "code": 14,
        "name": "invalid declarative configuration",
        "fields": fields,
        "message": format!("declarative config is invalid: {message}"),
    })
}

/// 15-off:77-130 — creating a route is refused with 405 code 12 even though its service does
/// not exist: the refusal comes before any foreign-key check (JSON and form bodies).
#[tokio::test]
async fn route_create_is_refused_before_foreign_keys() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let simple =
        json!({"protocols": ["http"], "hosts": ["my.route.test"], "service": {"id": UUID}});
    let complex = json!({
        "protocols": ["http"], "methods": ["GET", "POST", "PATCH"],
        "hosts": ["foo.api.test", "bar.api.test"], "paths": ["/foo", "/bar"],
        "service": {"id": UUID},
    });
    for body in [simple, complex] {
        let form = crate::harness::json_to_form(&body);
        for b in [Body::Json(body.clone()), Body::Form(form)] {
            let r = send(&http, &admin, "POST", "/routes", &b, &[]).await;
            assert_eq!(r.status, 405, "{}", r.raw);
            assert_eq!(
                r.body,
                unsupported("cannot create 'routes' entities when not using a database")
            );
        }
    }
}

/// 15-off:133-154 — invalid offsets are still validated.
#[tokio::test]
async fn invalid_offsets() {
    let (sim, http) = dbless().await;
    let r = send(
        &http,
        &sim.admin_url(),
        "GET",
        "/routes?offset=x",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"code": 7, "name": "invalid offset", "message": "'x' is not a valid offset: bad base64 encoding"})
    );
    let r = send(
        &http,
        &sim.admin_url(),
        "GET",
        "/routes?offset=|potato|",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!((r.status, &r.body["code"]), (400, &json!(7)));
}

/// 15-off:156-215 — `/routes` and `/routes/{id}`: verbs the path lacks are "Method not
/// allowed"; POST and PUT reach the DAO and are refused with code 12.
#[tokio::test]
async fn method_not_allowed_versus_operation_unsupported() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let body = Body::Json(json!({"paths": ["/"], "service": {"id": UUID}}));
    for method in ["DELETE", "PUT", "PATCH"] {
        let r = send(&http, &admin, method, "/routes", &body, &[]).await;
        assert_eq!(
            (r.status, r.body),
            (405, json!({"message": "Method not allowed"})),
            "{method}"
        );
    }
    let r = send(&http, &admin, "PUT", &format!("/routes/{UUID}"), &body, &[]).await;
    assert_eq!(r.status, 405);
    assert_eq!(
        r.body,
        unsupported("cannot create or update 'routes' entities when not using a database")
    );
    let r = send(
        &http,
        &admin,
        "POST",
        &format!("/routes/{UUID}"),
        &body,
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (405, json!({"message": "Method not allowed"}))
    );
}

/// 15-off:220-298, 392-411, 539-580 — the four ways to send a config, a `null` foreign key,
/// and loading the same upstreams twice.
#[tokio::test]
async fn config_is_accepted_in_every_form() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let consumers =
        |name: &str| json!({"_format_version": "1.1", "consumers": [{"username": name}]});
    assert_eq!(
        post_config(&http, &admin, "", consumers("bobby_in_json_body"))
            .await
            .0,
        201
    );
    let yaml = "_format_version: \"1.1\"\nconsumers:\n  - username: \"bobby_in_yaml_body\"\n";
    let r = send(
        &http,
        &admin,
        "POST",
        "/config",
        &Body::Raw("application/yaml", yaml.into()),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let r = send(
        &http,
        &admin,
        "GET",
        "/consumers/bobby_in_yaml_body",
        &Body::None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "the YAML body was loaded");
    let text = consumers("bobby_in_json_under_config").to_string();
    assert_eq!(
        post_config(&http, &admin, "", json!({"config": text}))
            .await
            .0,
        201
    );
    let yaml = yaml.replace("bobby_in_yaml_body", "bobby_in_yaml_under_config");
    assert_eq!(
        post_config(&http, &admin, "", json!({"config": yaml}))
            .await
            .0,
        201
    );
    let null_service = "_format_version: \"1.1\"\nroutes:\n- paths:\n  - \"/\"\n  service: null\n";
    assert_eq!(
        post_config(&http, &admin, "", json!({"config": null_service}))
            .await
            .0,
        201
    );
    let upstreams = "_format_version: \"1.1\"\nservices:\n- host: foo\n  routes:\n  - paths:\n    - \"/\"\nupstreams:\n- name: \"foo\"\n  targets:\n  - target: 10.20.30.40\n";
    for _ in 0..2 {
        assert_eq!(
            post_config(&http, &admin, "", json!({"config": upstreams}))
                .await
                .0,
            201
        );
    }
}

/// 15-off:582-619 — `check_hash=1` answers 304 for the text already loaded. Beyond the spec
/// (`kong/api/routes/config.lua` `hydrate_config_from_request`): the hash is the text's md5,
/// `/status` reports it, and a config sent as a JSON object has no text hash, so it never 304s.
#[tokio::test]
async fn check_hash_skips_identical_text() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let text = "_format_version: \"1.1\"\nconsumers:\n- username: bobby_tables\n";
    let body = json!({"config": text});
    assert_eq!(
        post_config(&http, &admin, "?check_hash=1", body.clone())
            .await
            .0,
        201
    );
    assert_eq!(
        post_config(&http, &admin, "?check_hash=1", body).await.0,
        304
    );
    let status = send(&http, &admin, "GET", "/status", &Body::None, &[])
        .await
        .body;
    // md5 of the text, computed independently (`printf %s "$text" | md5sum`).
    assert_eq!(
        status["configuration_hash"],
        json!("d8ff830ca494249929a9d154c880b7b7")
    );
    let object = json!({"_format_version": "1.1", "consumers": [{"username": "bobby_tables"}]});
    assert_eq!(
        post_config(&http, &admin, "?check_hash=1", object.clone())
            .await
            .0,
        201
    );
    assert_eq!(
        post_config(&http, &admin, "?check_hash=1", object).await.0,
        201
    );
}

/// 15-off:621-680, 828-839 — unparsable text, a schema error, and no input at all.
#[tokio::test]
async fn parse_and_validation_errors() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let (status, body) = post_config(&http, &admin, "", json!({"config": "bobby tables"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        declarative(
            &json!({"error": "failed parsing declarative configuration: expected an object"}),
            "{error=\"failed parsing declarative configuration: expected an object\"}"
        )
    );
    let config = "_format_version: \"1.1\"\nservices:\n- port: -12\n";
    let (status, body) = post_config(&http, &admin, "", json!({"config": config})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        declarative(
            &json!({"services": [{"host": "required field missing", "port": "value should be between 0 and 65535"}]}),
            "{services={{host=\"required field missing\",port=\"value should be between 0 and 65535\"}}}"
        )
    );
    let r = send(&http, &admin, "POST", "/config", &Body::None, &[]).await;
    assert_eq!(
        (r.status, r.body),
        (
            400,
            json!({"message": "expected a declarative configuration"})
        )
    );
}

/// 15-off:682-826 — primary-key, endpoint-key and regular-key uniqueness inside one config.
#[tokio::test]
async fn uniqueness_errors() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let id = "0855b320-0dd2-547d-891d-601e9b38647f";
    let services = |second_id: bool| {
        let mut second = json!({"name": if second_id { "bar" } else { "foo" }, "host": "example.test", "port": 3000,
            "routes": [{"name": "bar", "paths": ["/"], "plugins": [{"name": "basic-auth"}]}]});
        let mut first = json!({"name": "foo", "host": "example.com", "protocol": "https",
            "routes": [{"name": "foo", "methods": ["GET"], "plugins": [{"name": "key-auth"}]}]});
        if second_id {
            first["id"] = json!(id);
            second["id"] = json!(id);
        }
        json!({"config": json!({"_format_version": "1.1", "services": [first, second]}).to_string()})
    };
    let (status, body) = post_config(&http, &admin, "", services(true)).await;
    assert_eq!(status, 400);
    let message = format!(
        "uniqueness violation: 'services' entity with primary key set to '{id}' already declared"
    );
    assert_eq!(
        body,
        declarative(
            &json!({"services": [null, message]}),
            &format!("{{services={{[2]=\"{message}\"}}}}")
        )
    );
    let (status, body) = post_config(&http, &admin, "", services(false)).await;
    assert_eq!(status, 400);
    let message = "uniqueness violation: 'services' entity with name set to 'foo' already declared";
    assert_eq!(
        body,
        declarative(
            &json!({"services": [null, message]}),
            &format!("{{services={{[2]=\"{message}\"}}}}")
        )
    );
    let consumers = "_format_version: \"1.1\"\nconsumers:\n- username: foo\n  custom_id: conflict\n- username: bar\n  custom_id: conflict\n";
    let (status, body) = post_config(&http, &admin, "", json!({"config": consumers})).await;
    assert_eq!(status, 400);
    let message = "uniqueness violation: 'consumers' entity with custom_id set to 'conflict' already declared";
    assert_eq!(
        body,
        declarative(
            &json!({"consumers": {"bar": message}}),
            &format!("{{consumers={{bar=\"{message}\"}}}}")
        )
    );
}

/// 15-off:914-958 — `GET /config` exports `_format_version: "3.0"`, `_transform: false` and the
/// entities with their nulls and given timestamps.
#[tokio::test]
async fn config_reads_back() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let consumer = json!({"username": "bobo", "id": "d885e256-1abe-5e24-80b6-8f68fe59ea8e", "created_at": 1_566_863_706});
    let (status, _) = post_config(
        &http,
        &admin,
        "",
        json!({"_format_version": "1.1", "consumers": [consumer]}),
    )
    .await;
    assert_eq!(status, 201);
    let r = send(&http, &admin, "GET", "/config", &Body::None, &[]).await;
    assert_eq!(r.status, 200);
    let config: Value = serde_yaml_ng::from_str(r.body["config"].as_str().unwrap()).unwrap();
    let updated_at = config["consumers"][0]["updated_at"].clone();
    assert!(updated_at.is_number());
    assert_eq!(
        config,
        json!({"_format_version": "3.0", "_transform": false, "consumers": [{
            "id": "d885e256-1abe-5e24-80b6-8f68fe59ea8e", "created_at": 1_566_863_706,
            "updated_at": updated_at, "username": "bobo", "custom_id": null, "tags": null,
        }]})
    );
}

/// 15-off:1076-1123 — targets without a port are listed with the default port.
#[tokio::test]
async fn targets_without_port_get_the_default() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let config = "_format_version: \"1.1\"\nupstreams:\n- name: \"foo\"\n  targets:\n  - target: 10.20.30.40\n  - target: 50.60.70.80:90\n";
    assert_eq!(
        post_config(&http, &admin, "", json!({"config": config}))
            .await
            .0,
        201
    );
    let r = send(
        &http,
        &admin,
        "GET",
        "/upstreams/foo/targets/all",
        &Body::None,
        &[],
    )
    .await;
    let mut targets: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(targets, ["10.20.30.40:8000", "50.60.70.80:90"]);
}

/// 15-off:2964-3073 — `?flatten_errors=1`: a duplicate target gets the same generated id as
/// the first, and its flattened error names that id.
#[tokio::test]
async fn flattened_duplicate_target() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let target = |tag: &str| json!({"target": "10.244.0.12:80", "weight": 1, "tags": [tag]});
    let input = json!({
        "_format_version": "3.0",
        "services": [{"name": "svc", "host": "httproute.default.0", "port": 8080,
            "routes": [{"name": "r", "paths": ["~/httproute-testing$", "/httproute-testing/"]}]}],
        "upstreams": [
            {"name": "up0", "targets": [{"target": "10.244.0.11:80", "weight": 1}, {"target": "10.244.0.12:80", "weight": 1}]},
            {"name": "up1", "id": "f9792964-6797-482c-bfdf-08220a4f6839", "targets": [target("target-1"), target("target-2")]},
        ],
    });
    let (status, body) = post_config(&http, &admin, "?flatten_errors=1", input).await;
    assert_eq!(status, 400, "{body}");
    let flattened = body["flattened_errors"]
        .as_array()
        .expect("flattened_errors");
    let entry = flattened
        .iter()
        .find(|e| e["entity_tags"] == json!(["target-2"]))
        .expect("an error for the duplicate target");
    let id = entry["entity_id"].as_str().expect("entity_id");
    assert_eq!(entry["entity_type"], json!("target"));
    assert_eq!(
        entry["errors"],
        json!([{"type": "entity", "message": format!("uniqueness violation: 'targets' entity with primary key set to '{id}' already declared")}])
    );
    assert_eq!(flattened.len(), 1, "only the duplicate: {flattened:?}");
    assert_eq!(body["fields"], json!({}), "drained into flattened_errors");
}

/// `kong/db/errors.lua` `declarative_config_flattened`: nested route errors are hoisted with
/// their parent's key, and field paths are dotted.
#[tokio::test]
async fn flattened_nested_route_error() {
    let (sim, http) = dbless().await;
    let admin = sim.admin_url();
    let input = json!({
        "_format_version": "3.0",
        "services": [{"name": "svc", "id": UUID, "host": "a.test", "tags": ["service-01"],
            "routes": [{"name": "ok", "paths": ["/"]}, {"name": "bad", "protocols": ["nope"], "paths": ["/"], "tags": ["route-02"]}]}],
        "abnormal_extra_field": 1,
    });
    let (status, body) = post_config(&http, &admin, "?flatten_errors=1", input).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["fields"],
        json!({"abnormal_extra_field": "unknown field"})
    );
    let flattened = body["flattened_errors"].as_array().unwrap();
    assert_eq!(flattened.len(), 1, "{flattened:?}");
    let route = &flattened[0];
    assert_eq!(route["entity_type"], json!("route"));
    assert_eq!(route["entity_name"], json!("bad"));
    assert_eq!(route["entity_tags"], json!(["route-02"]));
    assert_eq!(route["entity"]["service"], json!({"id": UUID}));
    assert_eq!(route["errors"][0]["type"], json!("field"));
    assert!(
        route["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("protocols"),
        "{route}"
    );
    // Without the flag the same config answers the nested tree.
    let (_, plain) = post_config(&http, &admin, "", json!({
        "_format_version": "3.0",
        "services": [{"name": "svc", "host": "a.test", "routes": [{"name": "ok", "paths": ["/"]}, {"name": "bad", "protocols": ["nope"], "paths": ["/"]}]}],
    })).await;
    assert!(
        plain["fields"]["services"][0]["routes"][0].is_null(),
        "{plain}"
    );
    assert!(
        plain["fields"]["services"][0]["routes"][1]["protocols"].is_string()
            || plain["fields"]["services"][0]["routes"][1]["protocols"].is_array(),
        "{plain}"
    );
    assert!(plain.get("flattened_errors").is_none());
}

/// `flatten_errors` came with Kong 3.2 (CHANGELOG.md, 3.2.0 "Admin API": #10161, #10256):
/// a node emulating 3.1 ignores the flag and answers the nested tree; 3.2 answers
/// `flattened_errors`, as an array even when no entity error is left to flatten
/// (`changelog/unreleased/kong/fix-error-flattening-json.yml`).
#[tokio::test]
async fn flatten_errors_is_a_3_2_feature() {
    let bad = json!({
        "_format_version": "3.0",
        "services": [{"name": "svc", "host": "a.test", "port": -1, "tags": ["svc-1"]}],
    });
    for (version, flattened) in [("3.1.1", false), ("3.2.2", true)] {
        let sim = start(SimConfig {
            db_less: true,
            version: version.into(),
            ..SimConfig::default()
        })
        .await;
        let (status, body) = post_config(
            &client(),
            &sim.admin_url(),
            "?flatten_errors=1",
            bad.clone(),
        )
        .await;
        assert_eq!(status, 400, "{version}: {body}");
        assert_eq!(body["code"], json!(14), "{version}: {body}");
        if flattened {
            let errors = body["flattened_errors"].as_array().expect("an array");
            assert_eq!(errors.len(), 1, "{body}");
            assert_eq!(errors[0]["entity_type"], json!("service"));
            assert_eq!(errors[0]["entity_tags"], json!(["svc-1"]));
            assert_eq!(errors[0]["errors"][0]["field"], json!("port"));
        } else {
            assert!(body.get("flattened_errors").is_none(), "{version}: {body}");
            assert!(
                body["fields"]["services"][0]["port"].is_string(),
                "{version}: the nested tree: {body}"
            );
        }
    }
    // Only a non-entity error: the flattened list is empty, and an array.
    let sim = start(SimConfig {
        db_less: true,
        ..SimConfig::default()
    })
    .await;
    let (status, body) = post_config(
        &client(),
        &sim.admin_url(),
        "?flatten_errors=1",
        json!({"_format_version": "3.0", "abnormal_extra_field": 1}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["flattened_errors"], json!([]), "{body}");
    assert_eq!(
        body["fields"],
        json!({"abnormal_extra_field": "unknown field"})
    );
}
