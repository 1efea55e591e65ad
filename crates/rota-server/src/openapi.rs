//! The API's contract: an OpenAPI 3.1 document generated from the handlers' annotations and the
//! JSON types themselves (utoipa), so it cannot drift from the code. Served at
//! `GET /api/v1/openapi.json`; CI runs schemathesis against the real server with it
//! (`scripts/contract.sh`), and a client generated from it calls the API (`scripts/client.sh`).

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "rota",
        description = "On-call rotations (Support Hero and team secondaries) with swaps that never \
            alter the order. Reads need no credentials; writes need `Authorization: Bearer TOKEN` \
            (`rota token issue PERSON`). Every error is `application/problem+json` (RFC 9457). \
            Instants are RFC 3339 in UTC; inputs may also be civil times or dates in the \
            rotation's zone.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        crate::api::whoishero,
        crate::api::oncall,
        crate::api::rotations,
        crate::api::rotation_shifts,
        crate::api::person_shifts,
        crate::api::coverage,
        crate::api::list_overrides,
        crate::api::create_override,
        crate::api::delete_override,
        crate::api::end_sessions,
        crate::api::webhook_deliveries,
        crate::swaps::create_swap,
        crate::swaps::list_swaps,
        crate::swaps::get_swap,
        crate::swaps::accept_swap,
        crate::swaps::decline_swap,
        crate::swaps::cancel_swap,
        crate::swaps::undo_swap,
        crate::swaps::slots,
        crate::swaps::audit,
        crate::notes::list_notes,
        crate::notes::create_note,
        crate::timeoff::conflicts,
        crate::timeoff::report,
    ),
    modifiers(&Bearer),
    tags(
        (name = "schedule", description = "Who is on call, rotations and shifts"),
        (name = "overrides", description = "Someone else on call for a while"),
        (name = "swaps", description = "Swap requests between two people"),
        (name = "time off", description = "Conflicts with absence calendars, and the fairness report"),
        (name = "people", description = "Page sign-ins"),
        (name = "notes", description = "Handoff notes on shifts"),
        (name = "audit", description = "Who changed what"),
        (name = "webhooks", description = "Signed webhook deliveries"),
    )
)]
pub struct ApiDoc;

/// The bearer token scheme the write operations name.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: `rota token issue PERSON`"))
                    .build(),
            ),
        );
    }
}

/// The document as JSON, made once.
pub fn document() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
    })
}

/// The methods the API answers at `path`, by the document's path templates (`{id}` matches one
/// segment): `None` when no operation is at that path. A `GET` also answers `HEAD`.
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    static ROUTES: std::sync::OnceLock<Vec<(String, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let doc = ApiDoc::openapi();
        let mut routes: Vec<(String, Vec<&'static str>)> = doc
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let mut methods: Vec<&'static str> = Vec::new();
                let ops = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                for (m, present) in ops {
                    if present {
                        methods.push(m);
                    }
                }
                (template.clone(), methods)
            })
            .collect();
        routes.push(("/api/v1/openapi.json".into(), vec!["GET", "HEAD"]));
        routes
    });
    let matches = |template: &str| {
        let (mut a, mut b) = (template.split('/'), path.split('/'));
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(t), Some(p)) if t == p || (t.starts_with('{') && !p.is_empty()) => {}
                _ => return false,
            }
        }
    };
    let mut found: Vec<&'static str> = Vec::new();
    for (template, methods) in routes {
        if matches(template) {
            for m in methods {
                if !found.contains(m) {
                    found.push(m);
                }
            }
        }
    }
    (!found.is_empty()).then_some(found)
}

/// `GET /api/v1/openapi.json`
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_methods_follow_the_document() {
        assert_eq!(
            allowed_methods("/api/v1/whoishero"),
            Some(vec!["GET", "HEAD"])
        );
        assert_eq!(
            allowed_methods("/api/v1/overrides"),
            Some(vec!["GET", "HEAD", "POST"])
        );
        assert_eq!(
            allowed_methods("/api/v1/overrides/ovr_1"),
            Some(vec!["DELETE"])
        );
        assert_eq!(
            allowed_methods("/api/v1/swaps/x/accept"),
            Some(vec!["POST"])
        );
        assert_eq!(allowed_methods("/api/v1/swaps//accept"), None);
        assert_eq!(allowed_methods("/api/v1/nothing"), None);
    }

    /// The `/api/v1` routes registered in the source: `.route("PATH", METHOD...)` in the API scope
    /// of `configure` and in the swaps, notes and time-off modules' `configure`s.
    fn registered() -> Vec<String> {
        let lib = include_str!("lib.rs");
        let scope = &lib[lib.find("web::scope(\"/api/v1\")").unwrap()..];
        let scope = &scope[..scope.find(".service(web::scope(\"/calendars\")").unwrap()];
        let swaps = include_str!("swaps.rs");
        let swaps = &swaps[swaps.find("pub fn configure").unwrap()..];
        let swaps = &swaps[..swaps.find("\n}\n").unwrap()];
        let timeoff = include_str!("timeoff.rs");
        let timeoff = &timeoff[timeoff.find("pub fn configure_api").unwrap()..];
        let timeoff = &timeoff[..timeoff.find("\n}\n").unwrap()];
        let notes = include_str!("notes.rs");
        let notes = &notes[notes.find("pub fn configure").unwrap()..];
        let notes = &notes[..notes.find("\n}\n").unwrap()];
        let mut out = Vec::new();
        for text in [scope, swaps, timeoff, notes] {
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join("");
            for piece in flat.split(".route(\"").skip(1) {
                let (path, rest) = piece.split_once('"').unwrap();
                let method = if rest.starts_with(",crate::get()") {
                    "GET"
                } else if rest.starts_with(",web::post()") {
                    "POST"
                } else if rest.starts_with(",web::delete()") {
                    "DELETE"
                } else {
                    panic!("an unknown method for {path}: {rest:.40}")
                };
                if path != "/openapi.json" {
                    out.push(format!("{method} /api/v1{path}"));
                }
            }
        }
        out.sort();
        out
    }

    /// Every `/api/v1` route the service registers is in the document, and nothing else.
    #[test]
    fn the_document_lists_every_api_route() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<String> = Vec::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.push(format!("{} {path}", method.to_uppercase()));
            }
        }
        documented.sort();
        let registered = registered();
        assert!(registered.len() >= 19, "{registered:?}");
        assert_eq!(documented, registered);
    }
}
