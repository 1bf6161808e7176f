//! The reference table itself: one [`Case`] per row of §7 of kong-admin-api.md and per rule of
//! §0–§5, in the reference's order. The runner and its checks are in the parent module.

use serde_json::{json, Value};

use super::{case, Case, B};

pub(super) fn cases() -> Vec<Case> {
    let up = || json!({"name": "up.test"});
    let svc = || json!({"name": "svc", "host": "svc.test"});
    let target = |t: &str, w: u64| json!({"target": t, "weight": w});
    vec![
        // ---- §7: PUT is 200 on create and replace, POST is 201
        case("POST creates with 201", "POST", "/services", B::Both(json!({"name": "s1", "host": "example.test"})), 201)
            .eq("/name", json!("s1")).eq("/port", json!(80)).eq("/protocol", json!("http"))
            .eq("/retries", json!(5)).eq("/connect_timeout", json!(60000)).eq("/enabled", json!(true))
            .eq("/path", Value::Null).eq("/tags", Value::Null).present("/id").present("/created_at")
            .header("content-type", "application/json; charset=utf-8").header("server", "kong/3.9.0"),
        case("PUT creates with 200", "PUT", "/services/s1", B::Both(json!({"host": "example.test"})), 200)
            .eq("/name", json!("s1")),
        case("PUT full replace resets omitted fields", "PUT", "/routes/r1", B::Both(json!({"paths": ["/p"]})), 200)
            .given("POST", "/routes", json!({"name": "r1", "hosts": ["a.test"], "methods": ["GET"], "strip_path": false}))
            .eq("/hosts", Value::Null).eq("/methods", Value::Null).eq("/strip_path", json!(true))
            .eq("/paths", json!(["/p"])).eq("/id", json!("{0}")),
        case("PUT by id creates with that id", "PUT", "/upstreams/6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d", B::Both(json!({"name": "u.test"})), 200)
            .eq("/id", json!("6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d")),
        case("PUT route without service creates it", "PUT", "/routes/lonely", B::Both(json!({"paths": ["/x"]})), 200)
            .eq("/service", Value::Null),
        // ---- §7: DELETE codes
        case("top-level DELETE of missing is 204", "DELETE", "/services/nope", B::None, 204),
        case("top-level DELETE of missing id is 204", "DELETE", "/upstreams/6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d", B::None, 204),
        case("target DELETE of missing is 404", "DELETE", "/upstreams/up.test/targets/nope.test:8000", B::None, 404)
            .given("POST", "/upstreams", up()),
        case("target DELETE of existing is 204", "DELETE", "/upstreams/up.test/targets/a.test:8000", B::None, 204)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 10)),
        case("nested route DELETE of missing is 404", "DELETE", "/services/svc/routes/nope", B::None, 404)
            .given("POST", "/services", svc()),
        case("nested route of another service is 404", "GET", "/services/other/routes/{2}", B::None, 404)
            .given("POST", "/services", svc())
            .given("POST", "/services", json!({"name": "other", "host": "o.test"}))
            .given("POST", "/services/svc/routes", json!({"paths": ["/a"]})),
        // ---- §7: target PUT is a partial update and 404s
        case("target PUT is a partial update", "PUT", "/upstreams/up.test/targets/a.test:8000", B::Both(json!({"weight": 5})), 200)
            .given("POST", "/upstreams", up())
            .given("POST", "/upstreams/up.test/targets", json!({"target": "a.test", "weight": 10, "tags": ["keep"]}))
            .eq("/weight", json!(5)).eq("/tags", json!(["keep"])).eq("/target", json!("a.test:8000")).eq("/id", json!("{1}")),
        case("target PUT of missing is 404", "PUT", "/upstreams/up.test/targets/b.test:8000", B::Both(json!({"weight": 5})), 404)
            .given("POST", "/upstreams", up()),
        case("target PUT by id (go-kong Create) of missing is 404", "PUT", "/upstreams/up.test/targets/0b1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d", B::Both(json!({"target": "a.test:80"})), 404)
            .given("POST", "/upstreams", up()),
        case("target PATCH weight works", "PATCH", "/upstreams/up.test/targets/{1}", B::Both(json!({"weight": 0})), 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test:80", 100))
            .eq("/weight", json!(0)).present("/updated_at"),
        case("target PATCH to a used target is 409", "PATCH", "/upstreams/up.test/targets/{1}", B::Both(json!({"target": "b.test:80"})), 409)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test:80", 1))
            .given("POST", "/upstreams/up.test/targets", target("b.test:80", 1)).eq("/code", json!(5)),
        case("target PATCH can change the port", "PATCH", "/upstreams/up.test/targets/a.test:80", B::Both(json!({"target": "a.test:81"})), 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test:80", 1))
            .eq("/target", json!("a.test:81")),
        // ---- §7: target lookup needs the normalised string
        case("target GET by un-normalised name is 404", "GET", "/upstreams/up.test/targets/a.test", B::None, 404)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1)),
        case("target GET by normalised name", "GET", "/upstreams/up.test/targets/a.test:8000", B::None, 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .eq("/target", json!("a.test:8000")).eq("/upstream/id", json!("{0}")),
        case("target GET by id", "GET", "/upstreams/up.test/targets/{1}", B::None, 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1)),
        case("target of another upstream is 404", "GET", "/upstreams/other.test/targets/{1}", B::None, 404)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .given("POST", "/upstreams", json!({"name": "other.test"})),
        case("IPv6 target is stored expanded", "POST", "/upstreams/up.test/targets", B::Both(json!({"target": "[::1]:80"})), 201)
            .given("POST", "/upstreams", up())
            .eq("/target", json!("[0000:0000:0000:0000:0000:0000:0000:0001]:80")).eq("/weight", json!(100)),
        case("target default port is 8000", "POST", "/upstreams/up.test/targets", B::Both(json!({"target": "10.0.0.1"})), 201)
            .given("POST", "/upstreams", up()).eq("/target", json!("10.0.0.1:8000")).eq("/upstream", json!({"id": "{0}"})),
        case("target upstream comes from the URL", "POST", "/upstreams/up.test/targets", B::Json(json!({"target": "a.test", "upstream": {"id": "0b1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d"}})), 201)
            .given("POST", "/upstreams", up()).eq("/upstream/id", json!("{0}")),
        case("invalid target", "POST", "/upstreams/up.test/targets", B::Both(json!({"target": "bad host"})), 400)
            .given("POST", "/upstreams", up()).eq("/code", json!(2))
            // The DAO's message, not the schema's (`kong/db/dao/targets.lua` `format_target`;
            // 08-targets_routes_spec.lua:176). The shared reference quotes the schema's.
            .eq("/fields/target", json!("Invalid target; not a valid hostname or ip address")),
        case("weight above 65535", "POST", "/upstreams/up.test/targets", B::Both(json!({"target": "a.test", "weight": 70000})), 400)
            .given("POST", "/upstreams", up()).eq("/code", json!(2)).eq("/name", json!("schema violation"))
            .eq("/fields/weight", json!("value should be between 0 and 65535"))
            .eq("/message", json!("schema violation (weight: value should be between 0 and 65535)")),
        case("target POST to missing upstream is 404", "POST", "/upstreams/nope.test/targets", B::Both(json!({"target": "a.test"})), 404)
            .eq("/message", json!("Not found")),
        // ---- §7: lists
        case("targets list newest first with numeric offset", "GET", "/upstreams/up.test/targets?size=2", B::None, 200)
            .given("POST", "/upstreams", up())
            .given("POST", "/upstreams/up.test/targets", target("a.test", 0))
            .given("POST", "/upstreams/up.test/targets", target("b.test", 1))
            .given("POST", "/upstreams/up.test/targets", target("c.test", 2))
            .len("/data", 2)
            .eq("/offset", json!("2")).eq("/next", json!("/upstreams/up.test/targets?offset=2")),
        case("targets list second page ends", "GET", "/upstreams/up.test/targets?size=2&offset=2", B::None, 200)
            .given("POST", "/upstreams", up())
            .given("POST", "/upstreams/up.test/targets", target("a.test", 0))
            .given("POST", "/upstreams/up.test/targets", target("b.test", 1))
            .given("POST", "/upstreams/up.test/targets", target("c.test", 2))
            .len("/data", 1)
            .absent("/offset").eq("/next", Value::Null),
        case("empty list shape", "GET", "/services", B::None, 200)
            .eq("", json!({"data": [], "next": null})),
        case("list pages by id with base64 offset", "GET", "/upstreams?size=1", B::None, 200)
            .given("POST", "/upstreams", json!({"name": "a.test"}))
            .given("POST", "/upstreams", json!({"name": "b.test"}))
            .len("/data", 1).present("/offset").contains("/next", "/upstreams?offset=").contains("/next", "&size=1"),
        case("tag filter on nested collection is ignored", "GET", "/services/svc/routes?tags=nomatch", B::None, 200)
            .given("POST", "/services", svc())
            .given("POST", "/services/svc/routes", json!({"paths": ["/a"], "tags": ["t1"]}))
            .len("/data", 1),
        case("tag filter targets ignored", "GET", "/upstreams/up.test/targets?tags=nomatch", B::None, 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .len("/data", 1),
        case("tags AND", "GET", "/services?tags=a,b", B::None, 200)
            .given("POST", "/services", json!({"name": "s1", "host": "h.test", "tags": ["a", "b"]}))
            .given("POST", "/services", json!({"name": "s2", "host": "h.test", "tags": ["a"]}))
            .len("/data", 1).eq("/data/0/name", json!("s1")),
        case("tags OR", "GET", "/services?tags=b/c", B::None, 200)
            .given("POST", "/services", json!({"name": "s1", "host": "h.test", "tags": ["a", "b"]}))
            .given("POST", "/services", json!({"name": "s2", "host": "h.test", "tags": ["c"]}))
            .given("POST", "/services", json!({"name": "s3", "host": "h.test", "tags": ["a"]}))
            .len("/data", 2),
        case("tags mixing , and / is 400 code 11", "GET", "/services?tags=a,b/c", B::None, 400)
            .eq("/code", json!(11)).eq("/name", json!("invalid options"))
            .eq("/message", json!("invalid option (tags: invalid filter syntax)"))
            .eq("/options/tags", json!("invalid filter syntax")).absent("/fields"),
        case("more than 5 tags is 400", "GET", "/services?tags=a,b,c,d,e,f", B::None, 400).eq("/code", json!(11)),
        case("empty tags is 400 in 3.9", "GET", "/services?tags=", B::None, 400)
            .eq("/message", json!("invalid option (tags: cannot be null)")),
        case("bad size", "GET", "/services?size=abc", B::None, 400)
            .eq("/code", json!(9)).eq("/message", json!("size must be a number")),
        case("size out of range", "GET", "/services?size=1001", B::None, 400)
            .eq("/code", json!(9)).eq("/message", json!("size must be an integer between 1 and 1000")),
        case("bad offset", "GET", "/services?offset=%25%25", B::None, 400)
            .eq("/code", json!(7)).eq("/message", json!("'%%' is not a valid offset: bad base64 encoding")),
        // ---- §7: primary key violation is 400
        case("POST with existing id is 400 code 3", "POST", "/upstreams", B::Both(json!({"id": "{0}", "name": "other.test"})), 400)
            .given("POST", "/upstreams", up()).eq("/code", json!(3)).eq("/name", json!("primary key violation")),
        // ---- §7: duplicate targets
        case("duplicate target POST is 409 in 3.x", "POST", "/upstreams/up.test/targets", B::Both(json!({"target": "a.test:8000"})), 409)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .eq("/code", json!(5)).eq("/name", json!("unique constraint violation"))
            .eq("/fields", json!({"target": "a.test:8000", "upstream": {"id": "{0}"}}))
            .eq("/message", json!("UNIQUE violation detected on '{target=\"a.test:8000\",upstream={id=\"{0}\"}}'")),
        case("duplicate target POST updates in 2.8", "POST", "/upstreams/up.test/targets", B::Both(json!({"target": "a.test", "weight": 7})), 200)
            .version("2.8.0")
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .eq("/weight", json!(7)).eq("/id", json!("{1}")).header("deprecation", "true"),
        // ---- §7 / §2.3: healthy/unhealthy verbs
        case("unhealthy PUT is 204", "PUT", "/upstreams/up.test/targets/a.test:8000/unhealthy", B::None, 204)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1)),
        case("healthy POST (go-kong) is 405 in 3.x", "POST", "/upstreams/up.test/targets/a.test:8000/healthy", B::None, 405)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .eq("/message", json!("Method not allowed")),
        case("healthy POST works in 2.8", "POST", "/upstreams/up.test/targets/a.test:8000/healthy", B::None, 204)
            .version("2.8.0")
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1)),
        case("unhealthy of missing target is 404", "PUT", "/upstreams/up.test/targets/zz.test:1/unhealthy", B::None, 404)
            .given("POST", "/upstreams", up()),
        case("health view reflects manual mark", "GET", "/upstreams/up.test/health", B::None, 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 10))
            .given("PUT", "/upstreams/up.test/targets/a.test:8000/unhealthy", Value::Null)
            .eq("/data/0/health", json!("UNHEALTHY")).present("/node_id").eq("/data/0/data/weight/available", json!(0)),
        case("health view weight 0 is HEALTHCHECKS_OFF", "GET", "/upstreams/up.test/health", B::None, 200)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 0))
            .eq("/data/0/health", json!("HEALTHCHECKS_OFF")),
        case("balancer health", "GET", "/upstreams/up.test/health?balancer_health=1", B::None, 200)
            .given("POST", "/upstreams", up())
            .eq("/data/balancer_health", json!("HEALTHCHECKS_OFF")).eq("/data/id", json!("{0}")),
        // ---- §1.1 upstream names
        case("upstream name with IP", "POST", "/upstreams", B::Both(json!({"name": "1.2.3.4"})), 400)
            .eq("/fields/name", json!("Invalid name ('1.2.3.4'); no ip addresses allowed")),
        case("upstream name with port", "POST", "/upstreams", B::Both(json!({"name": "a.test:80"})), 400)
            .eq("/fields/name", json!("Invalid name ('a.test:80'); no port allowed")),
        case("upstream name not a hostname", "POST", "/upstreams", B::Both(json!({"name": "-bad-"})), 400)
            .eq("/fields/name", json!("Invalid name ('-bad-'); must be a valid hostname")),
        case("upstream name is not lower-cased", "POST", "/upstreams", B::Both(json!({"name": "My.Upstream"})), 201)
            .eq("/name", json!("My.Upstream")),
        case("upstream name required", "POST", "/upstreams", B::Both(json!({"slots": 100})), 400)
            .eq("/fields/name", json!("required field missing")),
        case("PUT upstream by IP name is 400 code 10", "PUT", "/upstreams/1.2.3.4", B::Both(json!({"slots": 100})), 400)
            .eq("/code", json!(10)).eq("/message", json!("Invalid name ('1.2.3.4'); no ip addresses allowed")),
        case("upstream defaults", "POST", "/upstreams", B::Both(up()), 201)
            .eq("/algorithm", json!("round-robin")).eq("/hash_on", json!("none")).eq("/slots", json!(10000))
            .eq("/hash_on_cookie_path", json!("/")).eq("/use_srv_name", json!(false))
            .eq("/healthchecks/active/healthy/http_statuses", json!([200, 302]))
            .eq("/healthchecks/passive/unhealthy/http_statuses", json!([429, 500, 503]))
            .eq("/healthchecks/active/unhealthy/http_statuses", json!([429, 404, 500, 501, 502, 503, 504, 505]))
            .eq("/healthchecks/threshold", json!(0)).eq("/healthchecks/active/concurrency", json!(10))
            .eq("/healthchecks/active/headers", Value::Null).present("/updated_at"),
        case("upstream hash_on header forces consistent-hashing", "POST", "/upstreams", B::Both(json!({"name": "h.test", "hash_on": "header", "hash_on_header": "x-user"})), 201)
            .eq("/algorithm", json!("consistent-hashing")),
        case("upstream hash_on header needs hash_on_header", "POST", "/upstreams", B::Both(json!({"name": "h.test", "hash_on": "header"})), 400)
            .eq("/code", json!(2)).present("/fields/hash_on_header"),
        case("upstream slots range", "POST", "/upstreams", B::Both(json!({"name": "h.test", "slots": 5})), 400)
            .eq("/fields/slots", json!("value should be between 10 and 65536")),
        case("unique upstream name is 409", "POST", "/upstreams", B::Both(up()), 409)
            .given("POST", "/upstreams", up()).eq("/code", json!(5))
            .eq("/message", json!("UNIQUE violation detected on '{name=\"up.test\"}'")).eq("/fields", json!({"name": "up.test"})),
        case("deleting an upstream cascades to targets", "GET", "/upstreams/up.test/targets", B::None, 404)
            .given("POST", "/upstreams", up()).given("POST", "/upstreams/up.test/targets", target("a.test", 1))
            .given("DELETE", "/upstreams/up.test", Value::Null),
        // ---- §3: PATCH deep merge
        case("PATCH deep-merges records", "PATCH", "/upstreams/up.test", B::Both(json!({"healthchecks": {"passive": {"unhealthy": {"tcp_failures": 3}}}})), 200)
            .given("POST", "/upstreams", up())
            .eq("/healthchecks/passive/unhealthy/tcp_failures", json!(3))
            .eq("/healthchecks/passive/unhealthy/http_statuses", json!([429, 500, 503]))
            .eq("/healthchecks/active/timeout", json!(1)),
        case("PATCH replaces arrays whole", "PATCH", "/upstreams/up.test", B::Both(json!({"healthchecks": {"active": {"healthy": {"http_statuses": [200]}}}})), 200)
            .given("POST", "/upstreams", up()).eq("/healthchecks/active/healthy/http_statuses", json!([200])),
        case("PATCH null clears a field", "PATCH", "/services/svc", B::Json(json!({"path": null, "tags": []})), 200)
            .given("POST", "/services", json!({"name": "svc", "host": "svc.test", "path": "/x", "tags": ["a"]}))
            .eq("/path", Value::Null).eq("/tags", json!([])),
        case("PATCH form empty value is null", "PATCH", "/services/svc", B::Raw("application/x-www-form-urlencoded", "path="), 200)
            .given("POST", "/services", json!({"name": "svc", "host": "svc.test", "path": "/x"}))
            .eq("/path", Value::Null),
        case("PATCH missing entity is 404 code 6", "PATCH", "/services/nope", B::Both(json!({"retries": 1})), 404)
            .eq("/code", json!(6)).eq("/name", json!("not found"))
            .eq("/message", json!("could not find the entity with '{name=\"nope\"}'")),
        case("PATCH missing id is 404 with primary key", "PATCH", "/services/6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d", B::Both(json!({"retries": 1})), 404)
            .eq("/message", json!("could not find the entity with primary key '{id=\"6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d\"}'")),
        case("seed PATCH of service host", "PATCH", "/services/address-service", B::Both(json!({"host": "address.v2.service"})), 200)
            .given("POST", "/services", json!({"name": "address-service", "host": "address.v1.service", "path": "/address"}))
            .eq("/host", json!("address.v2.service")).eq("/path", json!("/address")),
        // ---- §1.3 services
        case("service host with port", "POST", "/services", B::Both(json!({"host": "a.test:80"})), 400)
            .eq("/fields/host", json!("must not have a port")),
        case("service host required", "POST", "/services", B::Both(json!({"name": "x"})), 400)
            .eq("/fields/host", json!("required field missing")),
        case("service url shorthand", "POST", "/services", B::Both(json!({"url": "https://api.test/v1"})), 201)
            .eq("/protocol", json!("https")).eq("/host", json!("api.test")).eq("/port", json!(443))
            .eq("/path", json!("/v1")).absent("/url"),
        case("service url with port", "POST", "/services", B::Both(json!({"url": "http://api.test:8080"})), 201)
            .eq("/port", json!(8080)).eq("/path", Value::Null),
        case("service port range", "POST", "/services", B::Both(json!({"host": "a.test", "port": 70000})), 400)
            .eq("/fields/port", json!("value should be between 0 and 65535")),
        case("service protocol one_of", "POST", "/services", B::Both(json!({"host": "a.test", "protocol": "ftp"})), 400)
            .contains("/fields/protocol", "expected one of: "),
        case("integer field rejects a string", "POST", "/services", B::Json(json!({"host": "a.test", "retries": "many"})), 400)
            .eq("/fields/retries", json!("expected an integer")),
        case("unknown field", "POST", "/services", B::Both(json!({"host": "a.test", "colour": "blue"})), 400)
            .eq("/fields/colour", json!("unknown field")),
        case("service delete restricted by routes", "DELETE", "/services/svc", B::None, 400)
            .given("POST", "/services", svc()).given("POST", "/services/svc/routes", json!({"paths": ["/a"]}))
            .eq("/code", json!(4)).eq("/fields", json!({"@referenced_by": "routes"}))
            .eq("/message", json!("an existing 'routes' entity references this 'services' entity")),
        case("multiple schema violations", "POST", "/services", B::Json(json!({"port": -1, "retries": "x"})), 400)
            .contains("/message", "3 schema violations (")
            .eq("/fields/host", json!("required field missing")),
        // ---- §1.4 routes
        case("route needs one of methods/hosts/headers/paths", "POST", "/routes", B::Both(json!({"name": "r"})), 400)
            .eq("/fields/@entity", json!(["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"])),
        case("route defaults", "POST", "/routes", B::Both(json!({"hosts": ["a.test"]})), 201)
            .eq("/protocols", json!(["http", "https"])).eq("/strip_path", json!(true)).eq("/preserve_host", json!(false))
            .eq("/regex_priority", json!(0)).eq("/path_handling", json!("v0")).eq("/https_redirect_status_code", json!(426))
            .eq("/request_buffering", json!(true)).eq("/response_buffering", json!(true)).eq("/service", Value::Null)
            .eq("/methods", Value::Null).eq("/paths", Value::Null),
        case("route hosts via hosts[] form keys", "POST", "/routes", B::Raw("application/x-www-form-urlencoded", "hosts[]=a.test&hosts[]=b.test&methods=GET&methods=POST"), 201)
            .eq("/hosts", json!(["a.test", "b.test"])).eq("/methods", json!(["GET", "POST"])),
        case("route hosts via indexed form keys", "POST", "/routes", B::Raw("application/x-www-form-urlencoded", "hosts[1]=a.test&hosts[2]=b.test"), 201)
            .eq("/hosts", json!(["a.test", "b.test"])),
        case("route single form value wraps into array", "POST", "/routes", B::Raw("application/x-www-form-urlencoded", "paths=/x&strip_path=false"), 201)
            .eq("/paths", json!(["/x"])).eq("/strip_path", json!(false)),
        case("route service by name in form", "POST", "/routes", B::Raw("application/x-www-form-urlencoded", "paths=/x&service.name=svc"), 201)
            .given("POST", "/services", svc()).eq("/service", json!({"id": "{0}"})),
        case("route service by name resolves", "POST", "/routes", B::Json(json!({"paths": ["/x"], "service": {"name": "svc"}})), 201)
            .given("POST", "/services", svc()).eq("/service/id", json!("{0}")),
        case("route service by unknown name is code 13", "POST", "/routes", B::Both(json!({"paths": ["/x"], "service": {"name": "nope"}})), 400)
            .eq("/code", json!(13)).eq("/name", json!("foreign keys unresolved")),
        case("route service by unknown id is code 4", "POST", "/routes", B::Both(json!({"paths": ["/x"], "service": {"id": "6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d"}})), 400)
            .eq("/code", json!(4))
            .eq("/message", json!("the foreign key '{id=\"6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d\"}' does not reference an existing 'services' entity.")),
        case("route path must start with /", "POST", "/routes", B::Both(json!({"paths": ["x"]})), 400)
            .eq("/fields/paths", json!(["should start with: / (fixed path) or ~/ (regex path)"])),
        case("route host wildcard in the middle", "POST", "/routes", B::Both(json!({"hosts": ["a.*.test"]})), 400)
            .eq("/code", json!(2)).present("/fields/hosts"),
        case("route wildcard host ok", "POST", "/routes", B::Both(json!({"hosts": ["*.example.test"]})), 201),
        case("nested POST sets service from URL", "POST", "/services/svc/routes", B::Both(json!({"hosts": ["address.mydomain.com"]})), 201)
            .given("POST", "/services", svc()).eq("/service", json!({"id": "{0}"})),
        case("nested POST under missing service is 404", "POST", "/services/nope/routes", B::Both(json!({"paths": ["/a"]})), 404),
        case("GET /routes/{r}/service", "GET", "/routes/{1}/service", B::None, 200)
            .given("POST", "/services", svc()).given("POST", "/services/svc/routes", json!({"paths": ["/a"]}))
            .eq("/name", json!("svc")),
        case("DELETE /routes/{r}/service is 405", "DELETE", "/routes/{1}/service", B::None, 405)
            .given("POST", "/services", svc()).given("POST", "/services/svc/routes", json!({"paths": ["/a"]})),
        // ---- §1.5 tags
        case("tag with comma rejected", "POST", "/services", B::Json(json!({"host": "a.test", "tags": ["a,b"]})), 400)
            .eq("/code", json!(2)).present("/fields/tags"),
        case("tag with slash rejected", "POST", "/services", B::Both(json!({"host": "a.test", "tags": ["a/b"]})), 400)
            .present("/fields/tags"),
        case("tag with space allowed in 3.x", "POST", "/services", B::Both(json!({"host": "a.test", "tags": ["a b"]})), 201),
        case("tag with space rejected in 2.8", "POST", "/services", B::Both(json!({"host": "a.test", "tags": ["a b"]})), 400)
            .version("2.8.0"),
        case("tags deduplicated", "POST", "/services", B::Both(json!({"host": "a.test", "tags": ["a", "a", "b"]})), 201)
            .eq("/tags", json!(["a", "b"])),
        // ---- §0 addressing and routing rules
        case("UUID-looking name is not addressable by name", "GET", "/services/6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d", B::None, 404)
            .given("POST", "/services", json!({"name": "6c1fd5a6-4c5e-4f0a-9b5e-0e4a9f1b2c3d", "host": "a.test"})),
        case("percent-encoded name", "GET", "/services/s%C3%A9rvice", B::None, 200)
            .given("POST", "/services", json!({"name": "sérvice", "host": "a.test"})),
        case("trailing slash tolerated", "GET", "/services/", B::None, 200),
        case("unknown path 404", "GET", "/nope", B::None, 404).eq("", json!({"message": "Not found"})),
        case("decK dump: unmodelled collections list empty", "GET", "/plugins?size=1000", B::None, 200)
            .eq("", json!({"data": [], "next": null})),
        case("/targets is disabled", "GET", "/targets", B::None, 404),
        case("PUT on a collection is 405", "PUT", "/services", B::None, 405).eq("", json!({"message": "Method not allowed"})),
        case("PATCH on targets collection is 405", "PATCH", "/upstreams/up.test/targets", B::None, 405)
            .given("POST", "/upstreams", up()),
        case("HEAD answers like GET", "HEAD", "/services", B::None, 200),
        // Sorted, as `kong/api/api_helpers.lua` builds it (09-routes_routes_spec.lua:628).
        case("OPTIONS lists verbs", "OPTIONS", "/services", B::None, 204).header("allow", "GET, HEAD, OPTIONS, POST"),
        // ---- §4 bodies
        case("415 on text/plain", "POST", "/services", B::Raw("text/plain", "host=a.test"), 415).eq("", Value::Null),
        case("415 on body without content type", "POST", "/services", B::Raw("", "host=a.test"), 415),
        case("empty body is fine", "POST", "/services", B::Raw("", ""), 400)
            .eq("/fields/host", json!("required field missing")),
        case("malformed JSON", "POST", "/services", B::Raw("application/json", "{nope"), 400)
            .eq("", json!({"message": "Cannot parse JSON body"})),
        case("multipart body", "POST", "/services", B::Raw("multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nm.test\r\n--XyZ\r\nContent-Disposition: form-data; name=\"port\"\r\n\r\n8080\r\n--XyZ--\r\n"), 201)
            .eq("/host", json!("m.test")).eq("/port", json!(8080)),
        case("form dotted nesting", "POST", "/upstreams", B::Raw("application/x-www-form-urlencoded", "name=f.test&healthchecks.active.healthy.interval=5&healthchecks.threshold=25"), 201)
            .eq("/healthchecks/active/healthy/interval", json!(5)).eq("/healthchecks/threshold", json!(25))
            .eq("/healthchecks/active/unhealthy/interval", json!(0)),
        // ---- §5 node, status, schemas, auth, DB-less
        case("GET / reports version and node id", "GET", "/", B::None, 200)
            .eq("/version", json!("3.9.0")).eq("/tagline", json!("Welcome to kong")).present("/node_id")
            .eq("/edition", json!("community")).eq("/configuration/database", json!("postgres")),
        case("GET / in 2.8 has no edition", "GET", "/", B::None, 200).version("2.8.0").absent("/edition"),
        case("POST / is 405", "POST", "/", B::None, 405),
        case("GET /status", "GET", "/status", B::None, 200)
            .eq("/database/reachable", json!(true)).present("/server/total_requests").present("/memory"),
        case("GET /status DB-less", "GET", "/status", B::None, 200).db_less()
            .eq("/configuration_hash", json!("00000000000000000000000000000000")).absent("/database"),
        case("schemas for decK", "GET", "/schemas/targets", B::None, 200)
            .contains("", "\"weight\":{\"between\":[0,65535],\"default\":100"),
        case("schemas upstream healthchecks defaults", "GET", "/schemas/upstreams", B::None, 200)
            .contains("", "\"http_statuses\":{\"default\":[200,302]"),
        case("admin token required", "GET", "/services", B::None, 401).token("s3cret"),
        case("admin token accepted", "GET", "/services", B::None, 200).token("s3cret").with_header("kong-admin-token", "s3cret"),
        case("admin token wrong", "GET", "/", B::None, 401).token("s3cret").with_header("kong-admin-token", "nope"),
        case("DB-less POST is 405 code 12", "POST", "/services", B::Both(json!({"host": "a.test"})), 405).db_less()
            .eq("/code", json!(12)).eq("/name", json!("operation unsupported"))
            .eq("/message", json!("cannot create 'services' entities when not using a database")),
        case("DB-less PUT by name", "PUT", "/routes/r", B::Both(json!({"paths": ["/x"]})), 405).db_less()
            .eq("/message", json!("cannot create or update 'routes' entities by 'name' when not using a database")),
        case("DB-less PATCH of missing is 404", "PATCH", "/services/nope", B::Both(json!({"retries": 1})), 404).db_less(),
        case("DB-less DELETE of missing is 204", "DELETE", "/services/nope", B::None, 204).db_less(),
        case("DB-less POST /config loads", "POST", "/config", B::Json(json!({
                "_format_version": "3.0",
                "services": [{"name": "svc", "host": "up.test", "routes": [{"name": "r", "paths": ["/"]}]}],
                "upstreams": [{"name": "up.test", "targets": [{"target": "127.0.0.1:9", "weight": 10}]}],
            })), 201).db_less().present("/services").present("/targets"),
        case("DB-less entities readable after /config", "GET", "/upstreams/up.test/targets", B::None, 200).db_less()
            .given("POST", "/config", json!({"_format_version": "3.0", "upstreams": [{"name": "up.test", "targets": [{"target": "a.test"}]}]}))
            .eq("/data/0/target", json!("a.test:8000")),
        case("DB-less target DELETE is 405", "DELETE", "/upstreams/up.test/targets/a.test:8000", B::None, 405).db_less()
            .given("POST", "/config", json!({"_format_version": "3.0", "upstreams": [{"name": "up.test", "targets": [{"target": "a.test"}]}]}))
            .eq("/code", json!(12)),
        case("DB-less healthy PUT works", "PUT", "/upstreams/up.test/targets/a.test:8000/healthy", B::None, 204).db_less()
            .given("POST", "/config", json!({"_format_version": "3.0", "upstreams": [{"name": "up.test", "targets": [{"target": "a.test"}]}]})),
        case("DB-less invalid config is code 14", "POST", "/config", B::Json(json!({"_format_version": "3.0", "services": [{"name": "x"}]})), 400)
            .db_less().eq("/code", json!(14)).eq("/name", json!("invalid declarative configuration")),
        case("DB-less config as YAML string", "POST", "/config", B::Json(json!({"config": "_format_version: \"3.0\"\nupstreams:\n- name: y.test\n"})), 201)
            .db_less().present("/upstreams"),
        case("/config with a database is 400", "POST", "/config", B::Json(json!({"_format_version": "3.0"})), 400)
            .eq("/message", json!("this endpoint is only available when Kong is configured to not use a database")),
    ]
}
