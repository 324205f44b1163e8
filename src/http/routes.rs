//! The route table: the one list both the router and the OpenAPI document are checked
//! against, so a route cannot be served without being documented.

use actix_web::http::Method;
use actix_web::{Route, web};

use super::{connect, method_not_allowed, openapi, ops, signup, signups, webhook};
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
        spec("/healthz", Method::GET, || web::get().to(ops::healthz)),
        spec("/readyz", Method::GET, || web::get().to(ops::readyz)),
        spec("/metrics", Method::GET, || web::get().to(ops::metrics)),
        spec("/openapi.json", Method::GET, || {
            web::get().to(openapi::serve)
        }),
    ]
}

/// Register every route of the table, one resource per path with each of its methods; other
/// methods on a known path are 405 problem+json.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let table = table();
    let mut paths: Vec<&'static str> = table.iter().map(|r| r.path).collect();
    paths.dedup();
    for path in paths {
        let resource = table
            .iter()
            .filter(|r| r.path == path)
            .fold(web::resource(path), |res, r| res.route((r.route)()));
        cfg.service(resource.default_service(web::to(method_not_allowed)));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn each_path_and_method_is_registered_once() {
        let table = table();
        let routes: HashSet<_> = table.iter().map(|r| (r.path, r.method.clone())).collect();
        assert_eq!(routes.len(), table.len());
        // One resource per path: a path's methods are listed next to each other.
        let mut paths: Vec<_> = table.iter().map(|r| r.path).collect();
        paths.dedup();
        assert_eq!(
            paths.len(),
            table.iter().map(|r| r.path).collect::<HashSet<_>>().len()
        );
    }
}
