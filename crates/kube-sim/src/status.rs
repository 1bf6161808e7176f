//! `kind: Status` error bodies with the reasons, codes, messages and `details` the real API
//! server sends (apimachinery `errors.go`). Clients such as kube-rs and client-go only recognise
//! errors in this JSON shape, so every failure the simulator returns goes through [`ApiError`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::resources::Resource;

/// One field error for a 422 `Invalid` answer.
#[derive(Debug, Clone)]
pub(crate) struct FieldError {
    pub field: String,
    pub reason: &'static str,
    pub message: String,
}

impl FieldError {
    /// `field.Invalid`: `spec.x: Invalid value: 5: must be ...`.
    pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {}: {detail}", go_value(value)),
        }
    }

    /// `field.Required`: `spec.x: Required value`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueRequired",
            message: if detail.is_empty() {
                "Required value".to_string()
            } else {
                format!("Required value: {detail}")
            },
        }
    }

    /// `field.Forbidden`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueForbidden",
            message: format!("Forbidden: {detail}"),
        }
    }

    fn render(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// How Go's `%#v`-ish error formatting shows a value inside `Invalid value: …`.
fn go_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// An API failure, rendered as a `kind: Status` body.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    fn resource_details(r: &Resource, name: &str) -> Value {
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        if !r.group.is_empty() {
            d.insert("group".into(), json!(r.group));
        }
        d.insert("kind".into(), json!(r.plural));
        Value::Object(d)
    }

    /// 404 `deployments.apps "web" not found`.
    pub fn not_found(r: &Resource, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", r.qualified_resource()),
        )
        .with_details(Self::resource_details(r, name))
    }

    /// 404 for a path that names no resource.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 409 `AlreadyExists`.
    pub fn already_exists(r: &Resource, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", r.qualified_resource()),
        )
        .with_details(Self::resource_details(r, name))
    }

    /// 409 `Conflict`: a stale resourceVersion (`OptimisticLockErrorMsg`).
    pub fn conflict(r: &Resource, name: &str) -> Self {
        Self::conflict_msg(
            r,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 `Conflict` with another explanation (e.g. a failed delete precondition).
    pub fn conflict_msg(r: &Resource, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                r.qualified_resource()
            ),
        )
        .with_details(Self::resource_details(r, name))
    }

    /// 422 `Invalid` with causes (`NewInvalid`): `details.kind` is the Kind, not the plural.
    pub fn invalid(r: &Resource, name: &str, errors: &[FieldError]) -> Self {
        let rendered = if errors.len() == 1 {
            errors[0].render()
        } else {
            format!(
                "[{}]",
                errors
                    .iter()
                    .map(FieldError::render)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        if !r.group.is_empty() {
            d.insert("group".into(), json!(r.group));
        }
        d.insert("kind".into(), json!(r.kind));
        d.insert(
            "causes".into(),
            Value::Array(
                errors
                    .iter()
                    .map(|e| json!({"reason": e.reason, "message": e.message, "field": e.field}))
                    .collect(),
            ),
        );
        Self::new(
            422,
            "Invalid",
            format!("{} \"{name}\" is invalid: {rendered}", r.qualified_kind()),
        )
        .with_details(Value::Object(d))
    }

    /// 422 for invalid patch options (`PatchOptions.meta.k8s.io "" is invalid: …`).
    pub fn invalid_patch_options(e: &FieldError) -> Self {
        Self::new(
            422,
            "Invalid",
            format!("PatchOptions.meta.k8s.io \"\" is invalid: {}", e.render()),
        )
        .with_details(json!({
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [{"reason": e.reason, "message": e.message, "field": e.field}]
        }))
    }

    /// 422 from a JSON patch that cannot be applied (`NewGenericServerResponse`).
    pub fn patch_failed(server_message: &str) -> Self {
        Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        )
        .with_details(json!({
            "causes": [{"reason": "UnexpectedServerResponse", "message": server_message}]
        }))
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 415 `UnsupportedMediaType` for a PATCH content type the resource does not accept.
    pub fn unsupported_patch_type(builtin: bool) -> Self {
        let accepted = if builtin {
            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
        } else {
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        };
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: {accepted}"),
        )
    }

    /// 415 for a POST/PUT body that is neither JSON nor YAML.
    pub fn unsupported_body_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {content_type:?})"),
        )
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
        .with_details(json!({}))
    }

    /// Any other code, with the reason the real server uses for it (fault injection).
    pub fn from_code(code: u16, message: impl Into<String>) -> Self {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            410 => "Expired",
            415 => "UnsupportedMediaType",
            422 => "Invalid",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "",
        };
        Self::new(code, reason, message).with_details(json!({}))
    }

    /// The `kind: Status` body.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), json!("Status"));
        m.insert("apiVersion".into(), json!("v1"));
        m.insert("metadata".into(), json!({}));
        m.insert("status".into(), json!("Failure"));
        m.insert("message".into(), json!(self.message));
        if !self.reason.is_empty() {
            m.insert("reason".into(), json!(self.reason));
        }
        if let Some(d) = &self.details {
            m.insert("details".into(), d.clone());
        }
        m.insert("code".into(), json!(self.code));
        Value::Object(m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &self.body(),
        )
    }
}

/// A JSON response with `Content-Type: application/json`.
pub(crate) fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The `Status` a DELETE answers with once the object is gone.
pub(crate) fn delete_success(r: &Resource, name: &str, uid: &str) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !r.group.is_empty() {
        d.insert("group".into(), json!(r.group));
    }
    d.insert("kind".into(), json!(r.plural));
    d.insert("uid".into(), json!(uid));
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}
