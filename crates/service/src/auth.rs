//! Bearer tokens: checked before any handler logic, compared in constant
//! time. Without tokens the service refuses to listen beyond loopback.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Who may call what.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// Accepted on the API.
    pub api: Vec<String>,
    /// Accepted on the API and on reload and history.
    pub admin: Vec<String>,
}

/// Which class of endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Claims, check, policies, rules, status, metrics.
    Api,
    /// Reload and member history.
    Admin,
}

impl Tokens {
    /// True when no token is configured: every request passes (loopback only).
    pub fn is_off(&self) -> bool {
        self.api.is_empty() && self.admin.is_empty()
    }

    /// Whether `presented` opens endpoints of `class`.
    pub fn allows(&self, presented: Option<&str>, class: Class) -> bool {
        if self.is_off() {
            return true;
        }
        let Some(presented) = presented else {
            return false;
        };
        // Every candidate is compared, whichever matches, so the time taken
        // says nothing about which token (or which prefix) was close.
        let mut ok = false;
        for token in &self.admin {
            ok |= same(presented.as_bytes(), token.as_bytes());
        }
        if class == Class::Api {
            for token in &self.api {
                ok |= same(presented.as_bytes(), token.as_bytes());
            }
        }
        ok
    }
}

/// Constant-time equality (for equal lengths; a length says little about a
/// random token).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization: Bearer ...` header.
fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Middleware state: the tokens and the class of the routes it guards.
pub type Guard = (Arc<Tokens>, Class);

/// 401 unless the request carries a token for its class.
pub async fn require(
    State((tokens, class)): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    if tokens.allows(bearer(&request), class) {
        return next.run(request).await;
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        match class {
            Class::Api => "a valid bearer token is required",
            Class::Admin => "an admin bearer token is required",
        },
        Some("headers.authorization"),
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_by_class() {
        let t = Tokens {
            api: vec!["a".into()],
            admin: vec!["b".into()],
        };
        assert!(t.allows(Some("a"), Class::Api));
        assert!(!t.allows(Some("a"), Class::Admin));
        assert!(t.allows(Some("b"), Class::Admin));
        assert!(t.allows(Some("b"), Class::Api));
        assert!(!t.allows(Some("ab"), Class::Api));
        assert!(!t.allows(None, Class::Api));
        assert!(Tokens::default().allows(None, Class::Admin));
    }
}
