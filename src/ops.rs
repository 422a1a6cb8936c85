//! Operations: `/healthz` and `/metrics` (Prometheus text format), and the metrics we keep.

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Updates received from Telegram.
pub const UPDATES: &str = "linkdigest_updates_total";
/// Digests posted to chats.
pub const DIGESTS: &str = "linkdigest_digests_total";
/// Digest lookups answered from the cache.
pub const CACHE_HITS: &str = "linkdigest_cache_hits_total";
/// Digest lookups that had to fetch (or wait for a fetch in flight).
pub const CACHE_MISSES: &str = "linkdigest_cache_misses_total";
/// Cache misses answered from the digest archive (the SQLite store) without fetching.
pub const ARCHIVE_HITS: &str = "linkdigest_archive_hits_total";
/// Links that could not be digested, labelled by `kind` (timeout, pdf, not_found…).
pub const FETCH_ERRORS: &str = "linkdigest_fetch_errors_total";
/// Webhook requests refused, labelled by `reason` (secret, too_large, body, timeout,
/// overloaded).
pub const WEBHOOK_REFUSED: &str = "linkdigest_webhook_refused_total";
/// Seconds to fetch a page.
pub const FETCH_SECONDS: &str = "linkdigest_fetch_seconds";
/// Seconds to extract and summarize a page.
pub const SUMMARIZE_SECONDS: &str = "linkdigest_summarize_seconds";

/// Histogram buckets in seconds, from a cached page to a timeout.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

/// How often the recorder drains its histograms' buffers.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's metrics: the recorder is installed on first use and shared afterwards.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Histograms only shrink at upkeep: run it even when nobody scrapes /metrics.
            let upkeep = handle.clone();
            let started = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = started {
                tracing::warn!(error = %e, "no metrics upkeep: histograms will grow");
            }
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
            }
            handle
        })
        .clone()
}

/// The `/healthz` and `/metrics` routes.
pub fn router(metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move { metrics.render() }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn metrics_are_rendered_in_prometheus_text() {
        let handle = metrics();
        metrics::counter!(FETCH_ERRORS, "kind" => "timeout").increment(2);
        metrics::histogram!(FETCH_SECONDS).record(0.2);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(handle)).await });
        let get = |path: &str| reqwest::get(format!("http://{addr}{path}"));
        assert_eq!(get("/healthz").await.unwrap().text().await.unwrap(), "ok\n");
        let text = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(
            text.contains("linkdigest_fetch_errors_total{kind=\"timeout\"}"),
            "{text}"
        );
        assert!(
            text.contains("linkdigest_fetch_seconds_bucket{le=\"0.25\"}"),
            "{text}"
        );
    }
}
