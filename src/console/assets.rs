//! The console's stylesheet and scripts, compiled into the binary.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// ELK (Eclipse Layout Kernel) for JavaScript, a pinned release, vendored with its licence.
const ELK: &str = include_str!("assets/vendor/elkjs-0.12.1/elk.bundled.js");
const ELK_LICENSE: &str = include_str!("assets/vendor/elkjs-0.12.1/LICENSE.md");
const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind, cache) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8", "no-cache"),
        "console.js" => (JS, "text/javascript; charset=utf-8", "no-cache"),
        "elk.bundled.js" => (
            ELK,
            "text/javascript; charset=utf-8",
            "public, max-age=86400",
        ),
        "elk-LICENSE.md" => (ELK_LICENSE, "text/plain; charset=utf-8", "no-cache"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    (
        [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, cache)],
        body,
    )
        .into_response()
}
