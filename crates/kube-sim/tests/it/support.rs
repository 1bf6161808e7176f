//! A tiny JSON client over reqwest for talking to a simulator.

use kube_sim::{KubeSim, SimConfig};
use serde_json::{json, Value};

pub async fn sim() -> KubeSim {
    KubeSim::start(SimConfig::default())
        .await
        .expect("start kube-sim")
}

pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(sim: &KubeSim) -> Self {
        Api {
            base: sim.url(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        ct: Option<&str>,
        body: Option<String>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("request");
        let code = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (code, v)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            Some("application/json"),
            Some(body.to_string()),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(
            reqwest::Method::PUT,
            path,
            Some("application/json"),
            Some(body.to_string()),
        )
        .await
    }

    pub async fn patch(&self, path: &str, ct: &str, body: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::PATCH,
            path,
            Some(ct),
            Some(body.to_string()),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None, None).await
    }
}

pub const MERGE: &str = "application/merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";
pub const STRATEGIC: &str = "application/strategic-merge-patch+json";
pub const APPLY: &str = "application/apply-patch+yaml";

pub const SERVICES: &str = "/api/v1/namespaces/default/services";
pub const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
pub const HTTPROUTES: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes";
pub const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/default/leases";

pub fn service(name: &str, version: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"selector": {"app": "web", "version": version}, "ports": [{"port": 80, "targetPort": 8080}]}
    })
}

pub fn deployment(name: &str, image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "version": name}},
            "template": {
                "metadata": {"labels": {"app": "web", "version": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    })
}

pub fn httproute(name: &str, blue: i64, green: i64) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": name},
        "spec": {
            "parentRefs": [{"name": "public-gw"}],
            "rules": [{"backendRefs": [
                {"name": "web-blue", "port": 80, "weight": blue},
                {"name": "web-green", "port": 80, "weight": green}
            ]}]
        }
    })
}

pub fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion is a string")
        .parse()
        .expect("numeric resourceVersion")
}
