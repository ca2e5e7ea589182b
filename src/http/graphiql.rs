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

const SCRIPT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/graphiql.js"));
const STYLESHEET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/graphiql.css"));

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

/// Scripts, styles, fonts and connections from this origin only. Styles may be
/// inline (the editor sets them as it lays out); scripts may not.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The GraphiQL page and its two assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/graphiql",
            get(|| async { asset("text/html; charset=utf-8", PAGE.as_bytes()) }),
        )
        .route(
            "/graphiql/graphiql.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/graphiql/graphiql.css",
            get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }),
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
