//! `GET /graphiql`: GraphiQL, served entirely by relgql (no other host is asked for
//! anything), under a Content-Security-Policy that allows nothing else.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// Each asset built by `build.rs` into `OUT_DIR/graphiql`: its name and type.
macro_rules! assets {
    ($($name:literal: $content_type:literal),+ $(,)?) => {
        [$((
            concat!("/graphiql/", $name),
            $content_type,
            include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $name)).as_slice(),
        )),+]
    };
}

/// The page's script and stylesheet, and the editor's workers (Monaco runs its
/// language services in them).
const ASSETS: [(&str, &str, &[u8]); 5] = assets![
    "graphiql.js": "text/javascript; charset=utf-8",
    "graphiql.css": "text/css; charset=utf-8",
    "editor.worker.js": "text/javascript; charset=utf-8",
    "json.worker.js": "text/javascript; charset=utf-8",
    "graphql.worker.js": "text/javascript; charset=utf-8",
];

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relgql · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/graphiql/graphiql.css">
</head>
<body style="margin:0">
<div id="graphiql" style="height:100vh">Loading GraphiQL…</div>
<script src="/graphiql/graphiql.js"></script>
</body>
</html>
"#;

/// Scripts, workers, styles, fonts and connections from this origin only. Styles
/// may be inline (the editor sets them as it lays out); scripts may not.
const POLICY: &str = "default-src 'none'; script-src 'self'; worker-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The GraphiQL page and its assets.
pub fn routes() -> Router<AppState> {
    ASSETS.into_iter().fold(
        Router::new().route(
            "/graphiql",
            get(|| async { asset("text/html; charset=utf-8", PAGE.as_bytes()) }),
        ),
        |routes, (path, content_type, body)| {
            routes.route(path, get(move || async move { asset(content_type, body) }))
        },
    )
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
