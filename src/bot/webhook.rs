//! Webhook mode: Telegram posts each update to our own axum handler, which checks the secret
//! before reading the body, reads at most `body_limit` bytes in `read_timeout`, and puts the
//! update in a bounded queue that the dispatcher reads. Telegram gets 200 for every update we
//! took or can never read (a refused update is resent and delays everyone), 401 without the
//! secret, and 503 only when the whole queue is full.
//!
//! The instance registers the webhook at start (`setWebhook` with the secret and the update
//! kinds it handles) and never deletes it at stop, so a rolling restart of several instances
//! behind one URL is no outage; `linkdigest webhook delete` removes it on purpose.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use teloxide::prelude::*;
use teloxide::stop::{StopToken, mk_stop_token};
use teloxide::types::{AllowedUpdate, Update};
use teloxide::update_listeners::{StatefulListener, UpdateListener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::RunError;

/// The header Telegram sends the secret token in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub use crate::config::WebhookLimits;

/// Everything webhook mode needs: where Telegram posts, the secret, the sockets and limits.
pub struct Webhook {
    /// The public HTTPS address registered with setWebhook; its path is served.
    pub url: url::Url,
    /// Sent by Telegram in `X-Telegram-Bot-Api-Secret-Token`; other requests get 401.
    pub secret: String,
    /// The bound socket the web server accepts on.
    pub listener: TcpListener,
    /// Where `/healthz` and `/metrics` are served instead of `listener`, if set.
    pub ops: Option<TcpListener>,
    /// Queue, connection, body and time limits.
    pub limits: WebhookLimits,
}

/// The web servers of webhook mode, running until the dispatcher stops.
pub struct Servers {
    webhook: JoinHandle<io::Result<()>>,
    ops: Option<(JoinHandle<io::Result<()>>, CancellationToken)>,
}

impl Servers {
    /// Waits for the webhook server to finish its last requests, then stops the operations
    /// server; call it once the dispatcher has returned.
    pub async fn finish(self) {
        super::log_server_end(self.webhook.await);
        if let Some((server, stop)) = self.ops {
            stop.cancel();
            super::log_server_end(server.await);
        }
    }
}

/// Registers the webhook and starts serving it; returns the update listener for the
/// dispatcher and the running servers. Stopping the listener stops taking new connections;
/// the queue is drained before the listener's stream ends. The webhook is never deleted;
/// `kinds` are the update kinds registered with it.
pub async fn start(
    bot: &Bot,
    webhook: Webhook,
    ops: Router,
    kinds: Vec<AllowedUpdate>,
) -> Result<(impl UpdateListener<Err = Infallible> + Send, Servers), RunError> {
    let Webhook {
        url,
        secret,
        listener,
        ops: ops_listener,
        limits,
    } = webhook;
    let max_connections = limits.max_connections.clamp(1, 100);
    bot.set_webhook(url.clone())
        .secret_token(secret.clone())
        .allowed_updates(kinds)
        .max_connections(max_connections)
        .await?;
    tracing::info!(url = %redacted(&url), "webhook registered");

    let (tx, rx) = mpsc::channel(limits.queue.max(1));
    let intake = Intake {
        tx,
        secret: Arc::new(Sha256::digest(secret.as_bytes()).into()),
        body_limit: limits.body_limit,
        read_timeout: limits.read_timeout,
    };
    let path = match url.path() {
        "" => "/",
        path => path,
    };
    let mut router = Router::new().route(path, post(receive)).with_state(intake);
    let ops = match ops_listener {
        None => {
            router = router.merge(ops);
            None
        }
        Some(tcp) => {
            let stop = CancellationToken::new();
            let stopped = stop.clone().cancelled_owned();
            let server =
                tokio::spawn(
                    async move { axum::serve(tcp, ops).with_graceful_shutdown(stopped).await },
                );
            Some((server, stop))
        }
    };
    let router = router.layer(axum::middleware::from_fn(close_unless_from_telegram));
    let (stop_token, stop_flag) = mk_stop_token();
    // Strangers may take every slot, but each for at most `read_timeout` (idle or trickling):
    // Telegram's next connection waits in the backlog that long at worst, and Telegram
    // resends what it could not deliver. A proxy with a per-address limit keeps even that off.
    let open = limits.open_connections.max(usize::from(max_connections));
    let connections = Connections {
        tcp: listener,
        slots: Arc::new(Semaphore::new(open)),
        read_timeout: limits.read_timeout,
    };
    // When the server has finished, the router and its senders are gone: the queue closes.
    let webhook = tokio::spawn(async move {
        axum::serve(connections, router)
            .with_graceful_shutdown(stop_flag)
            .await
    });
    let listener = StatefulListener::new((rx, stop_token), queued_updates, stop_token_of);
    Ok((listener, Servers { webhook, ops }))
}

fn queued_updates(
    state: &mut (mpsc::Receiver<Update>, StopToken),
) -> impl futures_util::Stream<Item = Result<Update, Infallible>> + Send + '_ {
    futures_util::stream::poll_fn(|cx| state.0.poll_recv(cx).map(|update| update.map(Ok)))
}

fn stop_token_of(state: &mut (mpsc::Receiver<Update>, StopToken)) -> StopToken {
    state.1.clone()
}

/// The state of the update handler.
#[derive(Clone)]
struct Intake {
    tx: mpsc::Sender<Update>,
    /// SHA-256 of the secret: compared in constant time with the header's, whatever its length.
    secret: Arc<[u8; 32]>,
    body_limit: usize,
    read_timeout: Duration,
}

/// Marks a response to a request that carried the secret: only such connections are kept.
#[derive(Clone, Copy)]
struct FromTelegram;

/// Closes the connection after every response except to a request with the secret, so a
/// stranger cannot hold a connection open with wrong-secret posts or `/healthz` on
/// keep-alive.
async fn close_unless_from_telegram(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if response.extensions().get::<FromTelegram>().is_none() {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// One update posted by Telegram.
async fn receive(
    State(intake): State<Intake>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let given = headers
        .get(SECRET_HEADER)
        .map_or(&[][..], |value| value.as_bytes());
    let given: [u8; 32] = Sha256::digest(given).into();
    if !bool::from(given[..].ct_eq(&intake.secret[..])) {
        metrics::counter!(crate::ops::WEBHOOK_REFUSED, "reason" => "secret").increment(1);
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut response = take(&intake, &headers, body).await.into_response();
    response.extensions_mut().insert(FromTelegram);
    response
}

/// Reads and queues the update of a request that carried the secret.
async fn take(intake: &Intake, headers: &HeaderMap, body: Body) -> StatusCode {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > intake.body_limit) {
        metrics::counter!(crate::ops::WEBHOOK_REFUSED, "reason" => "too_large").increment(1);
        return StatusCode::PAYLOAD_TOO_LARGE;
    }
    let bytes =
        match tokio::time::timeout(intake.read_timeout, read_body(body, intake.body_limit)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(status)) => {
                metrics::counter!(crate::ops::WEBHOOK_REFUSED, "reason" => "body").increment(1);
                return status;
            }
            Err(_) => {
                metrics::counter!(crate::ops::WEBHOOK_REFUSED, "reason" => "timeout").increment(1);
                return StatusCode::REQUEST_TIMEOUT;
            }
        };
    let update = match serde_json::from_slice::<Update>(&bytes) {
        Ok(update) => update,
        Err(e) => {
            // Telegram would resend it for ever: take it, say so, and move on.
            tracing::warn!(error = %e, bytes = bytes.len(), "an update that cannot be read was dropped");
            return StatusCode::OK;
        }
    };
    match intake.tx.try_send(update) {
        Ok(()) => StatusCode::OK,
        Err(mpsc::error::TrySendError::Full(update)) => {
            metrics::counter!(crate::ops::WEBHOOK_REFUSED, "reason" => "overloaded").increment(1);
            tracing::warn!(
                update = update.id.0,
                "every queued update is still waiting: 503 to Telegram"
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
        Err(mpsc::error::TrySendError::Closed(_)) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The body, at most `limit` bytes: 413 beyond it, 400 when the client breaks off.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, StatusCode> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
        if bytes.len() + chunk.len() > limit {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

/// The webhook URL for logs: its path can hold a token, so only scheme and host are shown.
fn redacted(url: &url::Url) -> String {
    format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or(""))
}

/// Accepts at most `slots` connections at once; each one is closed when a read waits longer
/// than `read_timeout` with nothing arriving (idle), or when a request takes longer than
/// that from its first byte to its answer (a client trickling its headers).
struct Connections {
    tcp: TcpListener,
    slots: Arc<Semaphore>,
    read_timeout: Duration,
}

impl axum::serve::Listener for Connections {
    type Io = Connection;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
                // The semaphore is never closed; wait rather than spin if it ever were.
                std::future::pending::<()>().await;
                continue;
            };
            match self.tcp.accept().await {
                Ok((stream, addr)) => {
                    let io = Connection {
                        stream,
                        _slot: slot,
                        read_timeout: self.read_timeout,
                        idle: None,
                        request: None,
                    };
                    return (io, addr);
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, then go on.
                    tracing::warn!(error = %e, "accepting a webhook connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// An accepted connection holding its slot, with a deadline on reads that wait and one on
/// each request as a whole.
struct Connection {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
    read_timeout: Duration,
    /// Set while a read waits: when it fires before bytes arrive, the read fails.
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set by a request's first byte and cleared by its response: a client trickling its
    /// headers a byte at a time is cut off when it fires.
    request: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Connection {
    /// The response is going out: the request arrived whole in time.
    fn answered(&mut self, written: usize) {
        if written > 0 {
            self.request = None;
        }
    }
}

fn timed_out(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what)
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(request) = &mut this.request
            && request.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(timed_out("the request did not arrive in time")));
        }
        let before = buf.filled().len();
        if let Poll::Ready(result) = Pin::new(&mut this.stream).poll_read(cx, buf) {
            this.idle = None;
            if this.request.is_none() && buf.filled().len() > before {
                let timeout = this.read_timeout;
                this.request = Some(Box::pin(tokio::time::sleep(timeout)));
            }
            return Poll::Ready(result);
        }
        let timeout = this.read_timeout;
        let idle = this
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(idle.as_mut().poll(cx));
        this.idle = None;
        Poll::Ready(Err(timed_out("the client sent nothing in time")))
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write(cx, buf))?;
        self.answered(written);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, bufs))?;
        self.answered(written);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_url_hides_its_path() {
        let url = url::Url::parse("https://bot.example.org/tg/123:secret").unwrap();
        assert_eq!(redacted(&url), "https://bot.example.org/…");
    }

    fn intake(queue: usize) -> (Intake, mpsc::Receiver<Update>) {
        let (tx, rx) = mpsc::channel(queue);
        let intake = Intake {
            tx,
            secret: Arc::new(Sha256::digest(b"s3cret").into()),
            body_limit: 1024,
            read_timeout: Duration::from_secs(1),
        };
        (intake, rx)
    }

    async fn post(intake: &Intake, secret: &str, id: u32) -> StatusCode {
        let mut headers = HeaderMap::new();
        headers.insert(SECRET_HEADER, secret.parse().unwrap());
        let update = format!(
            r#"{{"update_id":{id},"message":{{"message_id":1,"date":0,
            "chat":{{"id":1,"type":"private","first_name":"A"}},"text":"hi"}}}}"#
        );
        receive(State(intake.clone()), headers, Body::from(update))
            .await
            .status()
    }

    #[tokio::test]
    async fn a_full_queue_is_the_only_503_and_a_wrong_secret_the_only_401() {
        let (intake, mut rx) = intake(2);
        assert_eq!(post(&intake, "s3cret", 1).await, StatusCode::OK);
        assert_eq!(post(&intake, "s3cret2", 2).await, StatusCode::UNAUTHORIZED);
        assert_eq!(post(&intake, "s3cre", 2).await, StatusCode::UNAUTHORIZED);
        assert_eq!(post(&intake, "s3cret", 2).await, StatusCode::OK);
        assert_eq!(
            post(&intake, "s3cret", 3).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(rx.recv().await.map(|u| u.id.0), Some(1));
        assert_eq!(
            post(&intake, "s3cret", 3).await,
            StatusCode::OK,
            "room again"
        );
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let body = Body::from(vec![b'x'; 11]);
        assert_eq!(
            read_body(body, 10).await,
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
        let body = Body::from(vec![b'x'; 10]);
        assert_eq!(read_body(body, 10).await.map(|b| b.len()), Ok(10));
    }
}
