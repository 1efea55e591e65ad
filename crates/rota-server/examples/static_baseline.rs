//! The load test's baseline: the most trivial actix-web handler, configured like `rota serve`
//! (same actix-web build, same worker count, no logging middleware), so the load test can report
//! rota's throughput as a ratio of what actix itself does on this machine in the same run.
//!
//! `cargo run --release -p rota-server --example static_baseline -- 127.0.0.1:0`

use actix_web::{App, HttpResponse, HttpServer, web};

fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = std::net::TcpListener::bind(bind)?;
    println!("static: listening on http://{}", listener.local_addr()?);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .route(
                    "/static",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body("{\"ok\":true}")
                    }),
                )
                // The same, with a body the size of the load test's person feed (4.7 KB): what
                // sending that many bytes costs on its own.
                .route(
                    "/static-4k",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/calendar; charset=utf-8")
                            .body("X".repeat(4700))
                    }),
                )
        })
        .listen(listener)?
        .run()
        .await
    })
}
