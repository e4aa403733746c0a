//! The web console at `/console/`: pages over the engine's queries, rendered on the server,
//! with a small script for the graph (laid out by ELK, vendored), relative times and the live
//! update of a running execution.
//!
//! - [`machines`]: the state machines page and a machine's page;
//! - [`executions`]: an execution's page, its live part, and Stop and Redrive;
//! - [`graph`]: a definition as a graph; [`outcome`]: what happened to each state;
//! - [`layout`]: the frame, times, badges, JSON; [`assets`]: the stylesheet and scripts.
//!
//! Safety: with `auth.enabled` the console is off until `console.username` and
//! `console.password` are set, and asks for them (HTTP Basic) when they are. Actions go through
//! the API's own path ([`crate::api::perform`]): the same checks, permits and forwarding. A
//! form that changes something carries a token that must match a `SameSite=Strict` cookie, and
//! a request from another origin is refused. Every response forbids inline script, framing and
//! sniffing.

mod assets;
mod executions;
mod graph;
mod layout;
mod machines;
mod outcome;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::html;
use sha2::{Digest, Sha256};

use crate::api::App;
use crate::config::Config;
use crate::engine::Engine;
use crate::Db;

/// The cookie a form's token must match.
const CSRF_COOKIE: &str = "hourglass_console";

/// What every console handler can reach.
#[derive(Clone, Debug)]
pub struct Console {
    app: App,
    gate: Arc<Gate>,
}

/// Who may see the console.
#[derive(Debug)]
enum Gate {
    Open,
    /// HTTP Basic: the SHA-256 of `user:password`.
    Basic([u8; 32]),
    /// Off, and why.
    Off(&'static str),
}

impl Gate {
    fn of(config: &Config) -> Self {
        let c = &config.console;
        match (&c.username, &c.password) {
            _ if !c.enabled => Gate::Off("The console is off (console.enabled = false)."),
            (Some(u), Some(p)) => Gate::Basic(Sha256::digest(format!("{u}:{p}")).into()),
            _ if config.auth.enabled => Gate::Off(
                "The console is off: auth.enabled is set and console.username and \
                 console.password are not.",
            ),
            _ => Gate::Open,
        }
    }
}

/// The console's routes, under `/console`.
pub fn router(app: App, config: &Config) -> Router {
    let console = Console {
        app,
        gate: Arc::new(Gate::of(config)),
    };
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(machines::list))
        .route("/console/machine", get(machines::show))
        .route("/console/execution", get(executions::show))
        .route("/console/execution/live", get(executions::live))
        .route(
            "/console/execution/{action}",
            get(executions::confirm).post(executions::act),
        )
        .route("/console/map-run", get(executions::map_run))
        .route("/console/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn_with_state(console.clone(), guard))
        .with_state(console)
}

impl Console {
    /// The engine, once recovery is done.
    fn engine(&self) -> Result<Arc<Engine<Db>>, Fail> {
        match self.app.engine.get() {
            Some(e) if self.app.ready.load(Ordering::Acquire) => Ok(e.clone()),
            _ => Err(Fail::Unavailable),
        }
    }
}

/// The token of this browser's forms (the cookie's value), set by [`guard`].
#[derive(Clone, Debug)]
struct Token(String);

/// Refuse who may not see the console; give each browser its form token; set the headers that
/// keep pages from running foreign script or being framed.
async fn guard(State(console): State<Console>, mut req: Request, next: Next) -> Response {
    let refused = match &*console.gate {
        Gate::Open => None,
        Gate::Off(why) => Some((StatusCode::FORBIDDEN, *why, false)),
        Gate::Basic(want) => match basic(req.headers()) {
            Some(got) if constant_eq(&got, want) => None,
            _ => Some((
                StatusCode::UNAUTHORIZED,
                "The console asks for its user name and password.",
                true,
            )),
        },
    };
    if let Some((status, why, ask)) = refused {
        let mut resp = (status, why).into_response();
        if ask {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"hourglass console\", charset=\"UTF-8\""),
            );
        }
        return resp;
    }
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|t| t.len() == 32);
    let token = existing
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(Token(token.clone()));
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if existing.is_none() {
        let cookie = format!("{CSRF_COOKIE}={token}; Path=/console; SameSite=Strict; HttpOnly");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: under it a browser sends `Origin: null` with the console's own forms.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// The SHA-256 of the `user:password` of a Basic `Authorization` header.
fn basic(headers: &HeaderMap) -> Option<[u8; 32]> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    Some(Sha256::digest(decoded).into())
}

/// Equality that takes as long whatever the bytes.
fn constant_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether a form post is this console's own: its token matches the browser's cookie, and
/// the browser says it comes from this host (when it says where it comes from).
fn same_origin(headers: &HeaderMap, token: &Token, form_token: &str) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_ok = match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => true,
        Some(origin) => host.is_some_and(|h| {
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest.trim_end_matches('/') == h)
        }),
    };
    origin_ok && !form_token.is_empty() && form_token == token.0
}

/// A page that could not be shown, and why.
#[derive(Debug)]
enum Fail {
    NotFound(String),
    Bad(String),
    Forbidden(String),
    Unavailable,
    Internal(String),
}

impl From<crate::engine::Error> for Fail {
    fn from(e: crate::engine::Error) -> Self {
        use crate::engine::Error as E;
        match e {
            E::ExecutionDoesNotExist(_)
            | E::StateMachineDoesNotExist(_)
            | E::ResourceNotFound(_) => Fail::NotFound(e.to_string()),
            E::Invalid(m) => Fail::Bad(m),
            e => {
                tracing::warn!(error = %e, "a console page failed");
                Fail::Internal(e.to_string())
            }
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Fail::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            Fail::Bad(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
            Fail::Forbidden(m) => (StatusCode::FORBIDDEN, "Refused", m),
            Fail::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Starting",
                "The daemon is recovering its pending work; this page will answer shortly."
                    .to_owned(),
            ),
            Fail::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "Error", m),
        };
        let body = html! {
            h1 { (title) }
            p.notice { (message) }
            p { a href={(layout::BASE) "/"} { "Back to the state machines" } }
        };
        (status, html_page(layout::page(title, &[], body))).into_response()
    }
}

/// A rendered page as an HTML response.
fn html_page(m: maud::Markup) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        m.into_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_post_needs_the_cookies_token_and_this_hosts_origin() {
        let token = Token("a".repeat(32));
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8083"));
        assert!(same_origin(&h, &token, &"a".repeat(32)));
        assert!(!same_origin(&h, &token, &"b".repeat(32)));
        assert!(!same_origin(&h, &token, ""));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8083"),
        );
        assert!(same_origin(&h, &token, &"a".repeat(32)));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil.test"));
        assert!(!same_origin(&h, &token, &"a".repeat(32)));
    }

    #[test]
    fn basic_credentials_are_compared_by_digest() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWRtaW46c2VjcmV0"), // admin:secret
        );
        let want: [u8; 32] = Sha256::digest("admin:secret").into();
        assert!(basic(&h).is_some_and(|g| constant_eq(&g, &want)));
        let other: [u8; 32] = Sha256::digest("admin:other").into();
        assert!(basic(&h).is_some_and(|g| !constant_eq(&g, &other)));
    }
}
