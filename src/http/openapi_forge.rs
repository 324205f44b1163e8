//! The OpenAPI operations of the Forge Remote routes (listed in `openapi::ApiDoc`).

#![allow(dead_code)] // the functions only carry the operations' descriptions

use crate::error::Problem;

#[utoipa::path(post, path = "/forge/lifecycle", tag = "forge",
    description = "Forge lifecycle events (`avi:forge:installed:app`, `avi:forge:upgraded:app`), bare or wrapped as `{\"payload\": {...}}`; `Authorization: Bearer <FIT>`, the app system token in `x-forge-oauth-system`. Other event types are answered 200 and logged.",
    responses((status = 200, description = "`{\"status\":\"ok\"}`", content_type = "application/json"),
        (status = 401, description = "`invalid_token`: the FIT does not verify or was used before; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: `forge.app_id` is not configured", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json")))]
pub(super) fn forge_lifecycle() {}

#[utoipa::path(post, path = "/forge/refresh", tag = "forge",
    description = "The hourly scheduled trigger: brings a fresh app system token.",
    responses((status = 200, description = "`{\"status\":\"ok\"}`", content_type = "application/json"),
        (status = 401, description = "`invalid_token`; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: `forge.app_id` is not configured", body = Problem, content_type = "application/problem+json")))]
pub(super) fn forge_refresh() {}

#[utoipa::path(post, path = "/forge/uninstall", tag = "forge",
    description = "preUninstall: the installation is marked uninstalled and its token erased.",
    responses((status = 200, description = "`{\"status\":\"ok\"}`", content_type = "application/json"),
        (status = 401, description = "`invalid_token`; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: `forge.app_id` is not configured", body = Problem, content_type = "application/problem+json")))]
pub(super) fn forge_uninstall() {}
