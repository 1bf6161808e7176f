//! Entity schemas for services, routes, upstreams and targets: fields, defaults, validators,
//! form-value inference and the `/schemas/{entity}` rendering that decK reads defaults from.
//! Field lists, defaults and messages follow shared/reference/kong-admin-api.md §1 and §3.5.
//!
//! Parts: this file holds the version, the field model and its builders; [`entities`] the field
//! lists of each entity; [`validators`] the field validators (names, hosts, paths, targets);
//! [`defaults`] defaults, merging and record validation; [`form`] form-value inference;
//! [`render`] the `/schemas/{entity}` rendering. Everything is re-exported here.

use serde_json::{json, Value};

mod defaults;
mod entities;
mod form;
mod render;
mod validators;

pub(crate) use defaults::*;
pub(crate) use entities::*;
pub(crate) use form::*;
pub(crate) use render::*;
pub(crate) use validators::*;

/// The Kong version being simulated; only major/minor matter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ver {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) text: String,
}

impl Ver {
    pub(crate) fn parse(text: &str) -> Ver {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        Ver {
            major: parts.next().unwrap_or(3),
            minor: parts.next().unwrap_or(0),
            text: text.to_string(),
        }
    }

    /// At least `major.minor`.
    pub(crate) fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

pub(crate) type Check = fn(&str, &Ver) -> Result<Option<String>, String>;

#[derive(Clone, Debug)]
pub(crate) enum Ty {
    Str,
    Int,
    Num,
    Bool,
    Set(Box<Field>),
    Arr(Box<Field>),
    Rec(Vec<Field>),
    Foreign(&'static str),
    Map(Box<Field>),
}

#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) default: Option<Value>,
    pub(crate) required: bool,
    pub(crate) unique: bool,
    pub(crate) auto: bool,
    pub(crate) uuid: bool,
    pub(crate) between: Option<(i64, i64)>,
    pub(crate) one_of: Option<Vec<Value>>,
    pub(crate) check: Option<Check>,
}

pub(super) fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        default: None,
        required: false,
        unique: false,
        auto: false,
        uuid: false,
        between: None,
        one_of: None,
        check: None,
    }
}

impl Field {
    fn def(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    fn req(mut self) -> Self {
        self.required = true;
        self
    }
    fn uniq(mut self) -> Self {
        self.unique = true;
        self
    }
    fn between(mut self, lo: i64, hi: i64) -> Self {
        self.between = Some((lo, hi));
        self
    }
    fn one_of(mut self, values: &[&str]) -> Self {
        self.one_of = Some(values.iter().map(|v| json!(v)).collect());
        self
    }
    fn one_of_int(mut self, values: &[i64]) -> Self {
        self.one_of = Some(values.iter().map(|v| json!(v)).collect());
        self
    }
    fn check(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }
}

pub(super) fn s(name: &'static str) -> Field {
    f(name, Ty::Str)
}
pub(super) fn int(name: &'static str) -> Field {
    f(name, Ty::Int)
}
pub(super) fn boolean(name: &'static str) -> Field {
    f(name, Ty::Bool)
}
pub(super) fn set_of(name: &'static str, el: Field) -> Field {
    f(name, Ty::Set(Box::new(el)))
}
pub(super) fn arr_of(name: &'static str, el: Field) -> Field {
    f(name, Ty::Arr(Box::new(el)))
}
pub(super) fn rec(name: &'static str, fields: Vec<Field>) -> Field {
    f(name, Ty::Rec(fields))
}

pub(super) fn id_field() -> Field {
    let mut id = s("id");
    id.auto = true;
    id.uuid = true;
    id
}
pub(super) fn ts(name: &'static str) -> Field {
    let mut field = int(name);
    field.auto = true;
    field
}
pub(super) fn ts_ms(name: &'static str) -> Field {
    let mut field = f(name, Ty::Num);
    field.auto = true;
    field
}
pub(super) fn tags() -> Field {
    set_of("tags", s("").check(check_tag))
}
pub(super) fn http_statuses(default: &[i64]) -> Field {
    arr_of("http_statuses", int("").between(100, 999)).def(json!(default))
}
