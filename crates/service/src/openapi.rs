//! `/v1/openapi.json`: every endpoint, described from the handlers'
//! annotations; `tests/bin/serve.rs` snapshots it so that drift shows.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{claims, ops, playground, policies};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "payer-rules",
        description = "Claim editing against payer policies. Decisions and error records follow CLAIMS.md, byte for byte as `payer-rules eval` writes them.",
        license(name = "Apache-2.0"),
        version = "1"
    ),
    paths(
        claims::evaluate,
        claims::batch,
        policies::check,
        policies::list,
        policies::rule,
        policies::status,
        policies::reload,
        ops::history,
        playground::evaluate,
        ops::live,
        ops::ready,
        ops::metrics,
        ops::openapi,
    ),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub struct Api;

/// The bearer scheme (needed unless the service runs on loopback without
/// tokens).
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
