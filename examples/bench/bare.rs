//! A bare actix-web handler: parse a JSON body, answer JSON. Nothing else.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn echo(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "created", "email": body["email"] }))
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let addr = args
        .first()
        .map_or("127.0.0.1:18090", String::as_str)
        .to_string();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().route("/webhooks/signup", web::post().to(echo)))
            .workers(2)
            .bind(addr)?
            .run()
            .await
    })?;
    Ok(())
}
