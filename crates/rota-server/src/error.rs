//! Errors as HTTP responses, in one place: every error the service returns is an
//! `application/problem+json` body (RFC 9457) with the status, a title, a detail that names the
//! problem and, where one field is at fault, that field.
//!
//! Bad input is always a 4xx. A 5xx means the service itself failed (the state file cannot be
//! written); its detail says so without leaking internals beyond the state file's error.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An error of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What is wrong, naming the field or resource.
    pub detail: String,
    /// The request field at fault, if one is.
    pub field: Option<String>,
}

/// An error as the API answers it: `application/problem+json` (RFC 9457).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The status's reason phrase.
    title: &'a str,
    /// The HTTP status.
    status: u16,
    /// What is wrong, naming the field or resource.
    detail: &'a str,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            field: None,
        }
    }

    /// 400, naming the field at fault.
    pub fn field(field: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
            field: Some(field.to_string()),
        }
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401: no or bad credentials.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403: authenticated but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, detail)
    }

    /// 413.
    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }

    /// 415.
    pub fn unsupported_media(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    /// 503: the state file failed; the request may be retried.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            field: self.field.as_deref(),
        };
        let mut res = HttpResponse::build(self.status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rota\""),
            ));
        }
        res.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

impl From<rota_store::Error> for ApiError {
    /// A refusal by the store (a conflict with the current state, a row that is not there) is the
    /// client's 409 or 404; anything else is the state file failing (503).
    fn from(e: rota_store::Error) -> ApiError {
        match e.kind() {
            rota_store::ErrorKind::Conflict(m) => ApiError::conflict(m.clone()),
            rota_store::ErrorKind::NotFound(m) => ApiError::not_found(m.clone()),
            rota_store::ErrorKind::Invalid(m) => ApiError::bad_request(m.clone()),
            _ => {
                tracing::error!(error = %e, "state file error");
                ApiError::unavailable(format!("the state file failed: {e}"))
            }
        }
    }
}

impl From<rota_core::Error> for ApiError {
    fn from(e: rota_core::Error) -> ApiError {
        use rota_core::ErrorKind;
        match e.kind() {
            ErrorKind::UnknownRotation(_) | ErrorKind::UnknownPerson(_) => {
                ApiError::not_found(e.to_string())
            }
            ErrorKind::NoHeroRotation => ApiError::not_found(e.to_string()),
            _ => ApiError::bad_request(e.to_string()),
        }
    }
}

/// Turns actix's extractor errors (bad JSON, bad query string, body too large) into problems that
/// say what was wrong.
pub(crate) fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match &err {
        J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
            ApiError::too_large(format!("request body is larger than {limit} bytes"))
        }
        J::ContentType => ApiError::unsupported_media(
            "the request body must be JSON (Content-Type: application/json)",
        ),
        J::Deserialize(e) => {
            // serde_json says which field and where: "unknown field `foo`, expected one of ...".
            let msg = e.to_string();
            let field = msg.split('`').nth(1).map(str::to_string);
            ApiError {
                status: StatusCode::BAD_REQUEST,
                detail: format!("invalid JSON body: {msg}"),
                field,
            }
        }
        _ => ApiError::bad_request(format!("invalid request body: {err}")),
    }
}

pub(crate) fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    let msg = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let field = msg.split('`').nth(1).map(str::to_string);
    ApiError {
        status: StatusCode::BAD_REQUEST,
        detail: format!("invalid query string: {msg}"),
        field,
    }
}
