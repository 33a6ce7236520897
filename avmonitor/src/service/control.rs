//! The control API on the service's HTTP listener: the streams this
//! instance runs, added, removed and retuned while it runs.
//!
//! - `GET /streams`, `GET /streams/{id}`: each stream's `id`, `uri`,
//!   `detectors`, `properties`, `state` (starting, up, down, ended),
//!   `open` defects, `restarts`, `frames` and `started-utc` (when its
//!   current pipeline was built);
//! - `POST /streams`: adds one, the body a `[[stream]]` table as JSON;
//! - `DELETE /streams/{id}`: removes one (its open defects end with reason
//!   `removed`);
//! - `PATCH /streams/{id}` with `{"properties": {DETECTOR: {NAME: VALUE}}}`:
//!   sets detector properties on the running pipeline, no restart.
//!
//! A request is checked whole before anything changes; a bad one is
//! refused (400, 404 or 409) with `{"error": ...}` naming the key. With a
//! token (`http.token` or `AVMONITOR_TOKEN`) every request needs
//! `Authorization: Bearer TOKEN`; without one the API answers only on a
//! loopback listener. `/metrics` and `/health` stay open.
//!
//! The HTTP thread hands each request to the main loop over a channel
//! and waits for its reply: the streams are only ever touched there.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use futures_channel::mpsc::UnboundedSender;
use serde::Deserialize;
use serde_json::{json, Value};

use super::config;

/// Detector properties, by detector then name.
pub type Properties = BTreeMap<String, BTreeMap<String, toml::Value>>;

/// What a control request asks of the main loop.
#[derive(Debug)]
pub enum Request {
    List,
    Get(String),
    Add(Box<config::Stream>),
    Remove(String),
    Patch(String, Properties),
}

/// An HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply { status: 200, body }
    }

    pub fn error(status: u16, message: impl std::fmt::Display) -> Reply {
        Reply {
            status,
            body: json!({ "error": message.to_string() }),
        }
    }
}

/// A request and where its reply goes.
pub type Call = (Request, mpsc::Sender<Reply>);

/// `PATCH /streams/{id}`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    properties: Properties,
}

/// The largest request body read.
const MAX_BODY: u64 = 1 << 20;
/// How long the HTTP thread waits for the main loop.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The HTTP side of the control API.
pub struct Control {
    pub calls: UnboundedSender<Call>,
    /// The bearer token asked for, if any.
    pub token: Option<String>,
    /// Whether the listener is on loopback (no token needed there).
    pub loopback: bool,
}

impl Control {
    /// Whether `request` is the control API's (its path under `/streams`).
    pub fn wants(&self, request: &tiny_http::Request) -> bool {
        route(request.url()).is_some()
    }

    /// Answers a request of the control API's.
    pub fn answer(&self, request: &mut tiny_http::Request) -> Reply {
        let Some(id) = route(request.url()) else {
            return Reply::error(404, "not the control API");
        };
        let auth = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.as_str().to_string());
        if let Err(refused) = self.authorise(auth.as_deref()) {
            return refused;
        }
        let method = request.method().clone();
        let mut body = || -> Result<String, Reply> {
            let mut text = String::new();
            request
                .as_reader()
                .take(MAX_BODY + 1)
                .read_to_string(&mut text)
                .map_err(|e| Reply::error(400, format!("body: {e}")))?;
            if text.len() as u64 > MAX_BODY {
                return Err(Reply::error(
                    413,
                    format!("body: larger than {MAX_BODY} bytes"),
                ));
            }
            Ok(text)
        };
        use tiny_http::Method::{Delete, Get, Patch as PatchM, Post};
        let call = match (method, id) {
            (Get, None) => Ok(Request::List),
            (Get, Some(id)) => Ok(Request::Get(id)),
            (Post, None) => body().and_then(|b| parse_stream(&b)),
            (Delete, Some(id)) => Ok(Request::Remove(id)),
            (PatchM, Some(id)) => body().and_then(|b| {
                serde_json::from_str::<Patch>(&b)
                    .map(|p| Request::Patch(id, p.properties))
                    .map_err(|e| Reply::error(400, format!("body: {e}")))
            }),
            (m, None) => Err(Reply::error(405, format!("{m} /streams: use GET or POST"))),
            (m, Some(_)) => Err(Reply::error(
                405,
                format!("{m} /streams/ID: use GET, PATCH or DELETE"),
            )),
        };
        match call {
            Ok(call) => self.call(call),
            Err(refused) => refused,
        }
    }

    /// Whether a request with `Authorization` header `auth` may use the API.
    fn authorise(&self, auth: Option<&str>) -> Result<(), Reply> {
        let Some(token) = &self.token else {
            return if self.loopback {
                Ok(())
            } else {
                Err(Reply::error(
                    403,
                    "the control API needs a token on a listener that is not loopback: \
                     set http.token or AVMONITOR_TOKEN",
                ))
            };
        };
        let given = auth.and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
        if same(given.trim().as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(Reply::error(
                401,
                "a valid token is needed: Authorization: Bearer TOKEN",
            ))
        }
    }

    /// Hands `request` to the main loop and waits for its reply.
    fn call(&self, request: Request) -> Reply {
        let (tx, rx) = mpsc::channel();
        if self.calls.unbounded_send((request, tx)).is_err() {
            return Reply::error(503, "the service is stopping");
        }
        rx.recv_timeout(ANSWER_WITHIN)
            .unwrap_or_else(|_| Reply::error(503, "the service did not answer in time"))
    }
}

/// The stream id a control API path names (`None` for `/streams`
/// itself), if it is the control API's.
fn route(url: &str) -> Option<Option<String>> {
    let path = url.split('?').next().unwrap_or_default();
    match path.strip_prefix("/streams")? {
        "" | "/" => Some(None),
        rest => rest.strip_prefix('/').map(|id| Some(id.to_string())),
    }
}

/// A stream as a `[[stream]]` table in JSON.
fn parse_stream(body: &str) -> Result<Request, Reply> {
    serde_json::from_str::<config::Stream>(body)
        .map(|s| Request::Add(Box::new(s)))
        .map_err(|e| Reply::error(400, format!("body: {e}")))
}

/// `a == b` in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(token: Option<&str>, loopback: bool) -> Control {
        Control {
            calls: futures_channel::mpsc::unbounded().0,
            token: token.map(String::from),
            loopback,
        }
    }

    #[test]
    fn tokens() {
        let open = control(None, true);
        assert!(open.authorise(None).is_ok());
        let exposed = control(None, false);
        assert_eq!(exposed.authorise(Some("Bearer x")).unwrap_err().status, 403);
        let guarded = control(Some("s3cret"), true);
        assert!(guarded.authorise(Some("Bearer s3cret")).is_ok());
        for bad in [
            None,
            Some("Bearer s3cre"),
            Some("s3cret"),
            Some("Bearer s3cretx"),
        ] {
            assert_eq!(guarded.authorise(bad).unwrap_err().status, 401, "{bad:?}");
        }
    }

    #[test]
    fn a_stream_body_is_read_strictly() {
        let Ok(Request::Add(s)) = parse_stream(r#"{"id": "a", "uri": "demo:1"}"#) else {
            panic!("a stream");
        };
        assert_eq!((s.id.as_str(), s.uri.as_str()), ("a", "demo:1"));
        let e = parse_stream(r#"{"id": "a", "url": "demo:1"}"#).unwrap_err();
        assert!(
            e.body["error"]
                .as_str()
                .unwrap()
                .contains("unknown field `url`"),
            "{e:?}"
        );
        let e = parse_stream(r#"{"id": "a"}"#).unwrap_err();
        assert!(
            e.body["error"]
                .as_str()
                .unwrap()
                .contains("missing field `uri`"),
            "{e:?}"
        );
    }
}
