//! Prometheus metrics: one process-wide recorder (the `metrics` facade), the names the shop
//! records, and `/metrics`. Labels are always from a closed set (matched route patterns, status
//! classes, verdicts, rule names), never raw paths or ids, so the series count stays bounded.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Gauge, Histogram, Label, SharedString, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::http::ApiError;
use crate::http::client_ip::ClientIp;
use crate::http::routes::UNMATCHED;
use crate::state::AppState;

pub const HTTP_REQUESTS: &str = "mxshop_http_requests_total";
pub const HTTP_DURATION: &str = "mxshop_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "mxshop_http_requests_in_flight";
pub const CACHE_LOOKUPS: &str = "mxshop_catalog_cache_lookups_total";
pub const CACHE_BYTES: &str = "mxshop_catalog_cache_bytes";
pub const ORDERS: &str = "mxshop_orders_total";
pub const NOTIFICATIONS: &str = "mxshop_payment_notifications_total";
pub const NOTIFICATION_APPLY: &str = "mxshop_payment_notification_apply_seconds";
pub const REFUNDS: &str = "mxshop_refunds_total";
pub const JOB_RUNS: &str = "mxshop_job_runs_total";
pub const JOB_ERRORS: &str = "mxshop_job_errors_total";
pub const JOB_LAG: &str = "mxshop_job_lag_seconds";
pub const JOB_DURATION: &str = "mxshop_job_run_seconds";
pub const RATE_LIMITED: &str = "mxshop_rate_limit_refusals_total";
pub const DB_POOL_CONNECTIONS: &str = "mxshop_db_pool_connections";
pub const DB_POOL_IDLE: &str = "mxshop_db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "mxshop_db_pool_max_connections";
pub const DB_POOL_ACQUIRE: &str = "mxshop_db_pool_acquire_seconds";
pub const DB_POOL_ACQUIRE_TIMEOUTS: &str = "mxshop_db_pool_acquire_timeouts_total";

/// Latency buckets (seconds) for every histogram: from a cached read to a slow gateway call.
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's recorder, installed on first use. Every app built in this process (tests build
/// many) records into it; `/metrics` renders it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .map(PrometheusBuilder::build_recorder);
        let recorder = match recorder {
            Ok(recorder) => recorder,
            // Only an empty bucket list is refused, and the list above is not empty.
            Err(error) => unreachable!("metric buckets refused: {error}"),
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows only what reaches this one");
        }
        describe();
        // Histogram samples wait in a buffer until upkeep folds them in; without it a server that
        // nobody scrapes would grow by every request. A thread of its own, not a task, so it
        // outlives any one runtime (tests start many).
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the metrics upkeep thread; histograms grow until scraped");
        }
        handle
    })
}

/// How often buffered histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, matched route and status class");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "time to answer an HTTP request");
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being answered now");
    describe_counter!(CACHE_LOOKUPS, "catalogue cache lookups, by result (hit, miss)");
    describe_gauge!(CACHE_BYTES, Unit::Bytes, "bytes held by the catalogue cache");
    describe_counter!(ORDERS, "order events: created, cancelled (by the buyer), expired (unpaid at the deadline)");
    describe_counter!(
        NOTIFICATIONS,
        "Alipay notifications by verdict (applied, duplicate, late_payment, refused reasons)"
    );
    describe_histogram!(NOTIFICATION_APPLY, Unit::Seconds, "time to verify, check and apply one notification");
    describe_counter!(REFUNDS, "refunds by state: requested (recorded), then succeeded or failed (once each)");
    describe_counter!(JOB_RUNS, "background job runs");
    describe_counter!(JOB_ERRORS, "background job runs or orders that failed (retried later)");
    describe_gauge!(JOB_LAG, Unit::Seconds, "how late the oldest order due to a job was when the last run started");
    describe_histogram!(JOB_DURATION, Unit::Seconds, "time of one background job run");
    describe_counter!(RATE_LIMITED, "requests refused by a rate limit, by rule");
    describe_gauge!(DB_POOL_CONNECTIONS, "database connections open in the pool");
    describe_gauge!(DB_POOL_IDLE, "database connections idle in the pool");
    describe_gauge!(DB_POOL_MAX, "most database connections the pool opens");
    describe_histogram!(
        DB_POOL_ACQUIRE,
        Unit::Seconds,
        "time to get a database connection, sampled at each scrape (capped at 0.1 s)"
    );
    describe_counter!(DB_POOL_ACQUIRE_TIMEOUTS, "scrapes that could not get a database connection within 0.1 s");
}

/// Status class label of an HTTP status.
pub fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The handles of one request series (method, route, status class), kept so that a request
/// costs a map lookup, not the registry's label hashing and allocations.
#[derive(Clone)]
struct RequestSeries {
    count: Counter,
    duration: Histogram,
}

type SeriesKey = (&'static str, Arc<str>, &'static str);

/// Shared, so that a request outside every route allocates no label.
static UNMATCHED_LABEL: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(UNMATCHED));

static REQUEST_SERIES: LazyLock<RwLock<HashMap<SeriesKey, RequestSeries>>> = LazyLock::new(RwLock::default);

/// Counts an answered request and its latency.
pub fn record_request(method: &'static str, route: Option<Arc<str>>, status: StatusCode, elapsed: Duration) {
    let key: SeriesKey = (method, route.unwrap_or_else(|| UNMATCHED_LABEL.clone()), status_class(status));
    let cached = REQUEST_SERIES.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&key).cloned();
    let series = cached.unwrap_or_else(|| {
        let labels = vec![
            Label::from_static_parts("method", key.0),
            Label::new("route", SharedString::from(key.1.clone())),
            Label::from_static_parts("status", key.2),
        ];
        let series = RequestSeries {
            count: counter!(HTTP_REQUESTS, labels.clone()),
            duration: histogram!(HTTP_DURATION, labels),
        };
        REQUEST_SERIES.write().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(key, series.clone());
        series
    });
    series.count.increment(1);
    series.duration.record(elapsed);
}

static IN_FLIGHT: LazyLock<Gauge> = LazyLock::new(|| {
    handle();
    gauge!(HTTP_IN_FLIGHT)
});

/// Keeps the in-flight gauge up while a request is answered (also when its future is dropped).
pub struct InFlight(());

impl InFlight {
    pub fn enter() -> Self {
        IN_FLIGHT.increment(1.0);
        Self(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.decrement(1.0);
    }
}

pub fn order_event(event: &'static str) {
    counter!(ORDERS, "event" => event).increment(1);
}

pub fn notification(verdict: &'static str) {
    counter!(NOTIFICATIONS, "verdict" => verdict).increment(1);
}

pub fn notification_applied_in(started: Instant) {
    histogram!(NOTIFICATION_APPLY).record(started.elapsed());
}

pub fn refund(state: &'static str) {
    counter!(REFUNDS, "state" => state).increment(1);
}

pub fn rate_limited(rule: &'static str) {
    counter!(RATE_LIMITED, "rule" => rule).increment(1);
}

pub fn cache_lookup(hit: bool) {
    counter!(CACHE_LOOKUPS, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

pub fn cache_bytes(bytes: usize) {
    gauge!(CACHE_BYTES).set(bytes as f64);
}

/// One finished run of a background job.
pub fn job_run(job: &'static str, elapsed: Duration, ok: bool) {
    counter!(JOB_RUNS, "job" => job).increment(1);
    histogram!(JOB_DURATION, "job" => job).record(elapsed);
    if !ok {
        job_error(job);
    }
}

/// How long the oldest item due to a job had waited when its run started.
pub fn job_lag(job: &'static str, lag: Duration) {
    gauge!(JOB_LAG, "job" => job).set(lag.as_secs_f64());
}

pub fn job_error(job: &'static str) {
    counter!(JOB_ERRORS, "job" => job).increment(1);
}

/// Samples the database pool: size, idle, and the time to get a connection now — capped, so a
/// scrape during an exhausted pool answers at once (recording the cap) instead of waiting out
/// the pool's 30 s acquire timeout.
async fn sample_pool(state: &AppState) {
    let (size, idle, max) = crate::db::pool_stats(&state.db);
    gauge!(DB_POOL_CONNECTIONS).set(f64::from(size));
    gauge!(DB_POOL_IDLE).set(idle as f64);
    gauge!(DB_POOL_MAX).set(f64::from(max));
    let started = Instant::now();
    match tokio::time::timeout(ACQUIRE_PROBE_CAP, crate::db::acquire_probe(&state.db)).await {
        Ok(true) => histogram!(DB_POOL_ACQUIRE).record(started.elapsed()),
        Ok(false) | Err(_) => {
            histogram!(DB_POOL_ACQUIRE).record(ACQUIRE_PROBE_CAP);
            counter!(DB_POOL_ACQUIRE_TIMEOUTS).increment(1);
        }
    }
}

/// The longest a scrape waits for a database connection.
const ACQUIRE_PROBE_CAP: Duration = Duration::from_millis(100);

/// `GET /metrics`: the Prometheus text exposition. With `metrics_token` set, only for
/// `Authorization: Bearer <token>`; without it, only for clients on loopback (the counts of
/// orders, payments and refunds are the shop's business, not the internet's).
#[utoipa::path(
    summary = "Prometheus metrics",
    get, path = "/metrics", tag = "operations", security((), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 401, description = "`metrics_token` is set and the request does not carry it", body = crate::openapi::Detail),
        (status = 403, description = "No `metrics_token` is set and the client is not on loopback", body = crate::openapi::Detail),
    )
)]
pub async fn render_metrics(State(state): State<AppState>, ClientIp(client): ClientIp, headers: HeaderMap) -> Response {
    match state.config.metrics_token.as_ref().map(crate::config::Secret::expose).filter(|token| !token.is_empty()) {
        Some(expected) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .unwrap_or("");
            if !crate::secrets::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                return ApiError::Unauthorized(crate::http::auth::messages::NOT_PROVIDED).into_response();
            }
        }
        None if !client.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) => {
            return ApiError::PermissionDenied.into_response();
        }
        None => {}
    }
    sample_pool(&state).await;
    cache_bytes(state.catalog_cache.bytes());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle().render()).into_response()
}
