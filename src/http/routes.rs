//! The route table: the one list both the router and the OpenAPI document are checked
//! against, so a route cannot be served without being documented.

use actix_web::http::Method;
use actix_web::{Route, web};

use super::{connect, forge, method_not_allowed, openapi, ops, signup, signups, webhook};
use crate::connect::descriptor::{DISABLED, ENABLED, INSTALLED, UNINSTALLED};

/// One registered route.
pub struct RouteSpec {
    /// actix path pattern; `{name}` segments read the same in OpenAPI.
    pub path: &'static str,
    pub method: Method,
    pub route: fn() -> Route,
}

/// Every route the service answers (404 and 405 aside).
pub fn table() -> Vec<RouteSpec> {
    let spec = |path, method, route| RouteSpec {
        path,
        method,
        route,
    };
    vec![
        spec("/webhooks/signup", Method::POST, || {
            web::post().to(signup::receive)
        }),
        spec("/webhooks/signup/{source_id}", Method::POST, || {
            web::post().to(webhook::receive)
        }),
        spec("/webhooks/signup/{source_id}", Method::GET, || {
            web::get().to(webhook::validate)
        }),
        spec("/signups/{id}", Method::GET, || {
            web::get().to(signups::show)
        }),
        spec("/atlassian-connect.json", Method::GET, || {
            web::get().to(connect::descriptor)
        }),
        spec(INSTALLED, Method::POST, || {
            web::post().to(connect::installed)
        }),
        spec(UNINSTALLED, Method::POST, || {
            web::post().to(connect::uninstalled)
        }),
        spec(ENABLED, Method::POST, || web::post().to(connect::enabled)),
        spec(DISABLED, Method::POST, || web::post().to(connect::disabled)),
        spec("/forge/lifecycle", Method::POST, || {
            web::post().to(forge::lifecycle)
        }),
        spec("/forge/refresh", Method::POST, || {
            web::post().to(forge::refresh)
        }),
        spec("/forge/uninstall", Method::POST, || {
            web::post().to(forge::uninstall)
        }),
        spec("/healthz", Method::GET, || web::get().to(ops::healthz)),
        spec("/readyz", Method::GET, || web::get().to(ops::readyz)),
        spec("/metrics", Method::GET, || web::get().to(ops::metrics)),
        spec("/openapi.json", Method::GET, || {
            web::get().to(openapi::serve)
        }),
    ]
}

/// Register every route of the table; other methods on a known path are 405 problem+json
/// with the `Allow` header naming the path's methods.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let table = table();
    let mut paths: Vec<&'static str> = table.iter().map(|r| r.path).collect();
    paths.dedup();
    for path in paths {
        let specs: Vec<&RouteSpec> = table.iter().filter(|r| r.path == path).collect();
        let allow = specs
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resource = web::resource(path);
        for spec in specs {
            resource = resource.route((spec.route)());
        }
        cfg.service(resource.default_service(web::to(move || method_not_allowed(allow.clone()))));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn each_path_and_method_is_registered_once_and_paths_are_grouped() {
        let table = table();
        let pairs: HashSet<_> = table.iter().map(|r| (r.path, r.method.clone())).collect();
        assert_eq!(pairs.len(), table.len());
        // The methods of one path sit next to each other, so `routes` registers one resource.
        let mut seen = Vec::new();
        for route in &table {
            if seen.last() != Some(&route.path) {
                assert!(!seen.contains(&route.path), "{} is split", route.path);
                seen.push(route.path);
            }
        }
    }
}
