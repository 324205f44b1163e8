//! The console's one stylesheet, embedded in the binary (no CDN, no build chain).

use actix_web::HttpResponse;

const CSS: &str = include_str!("console.css");

pub async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(CSS)
}
