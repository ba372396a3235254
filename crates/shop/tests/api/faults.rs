//! A faulty network between the shop and its built-in sandbox: an HTTP proxy the shop's
//! `public_url` points at, which forwards everything to the real shop and, for the next call of a
//! chosen gateway method, answers the way a real gateway or network sometimes does: too late, with
//! a 5xx, with `ACQ.SYSTEM_ERROR`, unsigned, with a bad signature, or with a definite refusal.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded (so the gateway acts on it), never answered: the client gives up on its timeout.
    Timeout,
    /// 502 from a proxy in between; the gateway never saw the call.
    BadGateway,
    /// A signed `ACQ.SYSTEM_ERROR`; the gateway never acted.
    SystemError,
    /// An unsigned business error with this `sub_code`; the gateway never acted.
    Unsigned(&'static str),
    /// Forwarded (so the gateway acts on it), the answer's signature replaced by a wrong one.
    BadSignature,
    /// A signed, definite business refusal with this `sub_code`; the gateway never acted.
    Refusal(&'static str),
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Faults per gateway method, each used by one call.
    faults: Arc<Mutex<HashMap<String, Vec<Fault>>>>,
    alipay_key: PathBuf,
}

pub struct FaultyNetwork {
    faults: Arc<Mutex<HashMap<String, Vec<Fault>>>>,
}

impl FaultyNetwork {
    /// Binds a port; `connect` then forwards to the shop at `upstream`.
    pub async fn bind() -> (tokio::net::TcpListener, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        (listener, base)
    }

    /// `alipay_key`: the sandbox's signing key (in the shop's data directory).
    pub fn serve(listener: tokio::net::TcpListener, upstream: String, alipay_key: PathBuf) -> Self {
        let faults = Arc::new(Mutex::new(HashMap::new()));
        let http =
            shop::outbound::http_client_builder().unwrap().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let proxy = Proxy { upstream, http, faults: faults.clone(), alipay_key };
        let router = axum::Router::new().fallback(forward).with_state(proxy);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { faults }
    }

    /// The next call of `method` meets `fault`.
    pub fn inject(&self, method: &str, fault: Fault) {
        self.faults.lock().unwrap().entry(method.to_owned()).or_default().push(fault);
    }
}

async fn forward(State(proxy): State<Proxy>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let api = uri
        .query()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "method").map(|(_, v)| v.into_owned()));
    let fault = api.as_ref().and_then(|api| {
        let mut faults = proxy.faults.lock().unwrap();
        let queue = faults.get_mut(api)?;
        (!queue.is_empty()).then(|| queue.remove(0))
    });
    let api = api.unwrap_or_default();
    let sign =
        |span: &str| alipay::PrivateKey::from_file(&proxy.alipay_key).unwrap().sign_rsa2(span.as_bytes()).unwrap();
    let error_span = |sub_code: &str| {
        format!(r#"{{"code":"40004","msg":"Business Failed","sub_code":"{sub_code}","sub_msg":"injected"}}"#)
    };
    let response_key = format!("{}_response", api.replace('.', "_"));
    match fault {
        Some(Fault::BadGateway) => return (StatusCode::BAD_GATEWAY, "Bad Gateway").into_response(),
        Some(Fault::SystemError) => {
            let span = error_span("ACQ.SYSTEM_ERROR");
            return json(format!(r#"{{"{response_key}":{span},"sign":"{}"}}"#, sign(&span)));
        }
        Some(Fault::Refusal(sub_code)) => {
            let span = error_span(sub_code);
            return json(format!(r#"{{"{response_key}":{span},"sign":"{}"}}"#, sign(&span)));
        }
        Some(Fault::Unsigned(sub_code)) => {
            return json(format!(r#"{{"{response_key}":{}}}"#, error_span(sub_code)));
        }
        _ => {}
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy.http.request(method, format!("{}{path}", proxy.upstream)).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let upstream = request.send().await.unwrap();
    let status = upstream.status();
    let upstream_headers = upstream.headers().clone();
    let mut bytes = upstream.bytes().await.unwrap().to_vec();
    match fault {
        Some(Fault::Timeout) => std::future::pending().await,
        Some(Fault::BadSignature) => {
            let text = String::from_utf8(bytes).unwrap();
            let (head, signature) = text.rsplit_once(r#""sign":""#).expect("a signed answer");
            let rest = &signature[signature.find('"').unwrap()..];
            bytes = format!(r#"{head}"sign":"{}{rest}"#, sign("something else")).into_bytes();
        }
        _ => {}
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &upstream_headers {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

fn json(body: String) -> Response {
    ([("content-type", "application/json;charset=utf-8")], body).into_response()
}
