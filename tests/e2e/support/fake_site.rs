//! Fake websites on 127.0.0.1:0 for tests: [`FakeSite`] (wiremock, scripted per path, counts
//! hits) and [`RawSite`] (hand-written HTTP for chunked and stalling bodies).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A website on 127.0.0.1 whose pages the test writes; it records every request.
pub struct FakeSite {
    server: MockServer,
}

impl FakeSite {
    /// Starts an empty site (every path answers 404 until mounted).
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// The site's socket address.
    pub fn addr(&self) -> SocketAddr {
        *self.server.address()
    }

    /// The site's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.server.uri())).expect("fake site URL")
    }

    /// Answers GET `path` with `response`.
    pub async fn serve(&self, at: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// Answers the next `times` GETs of `path` with `response`, ahead of what `path` serves
    /// after (mount that next).
    pub async fn serve_first(&self, at: &str, response: ResponseTemplate, times: u64) {
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(response)
            .up_to_n_times(times)
            .mount(&self.server)
            .await;
    }

    /// Answers GET `path` with an HTML page in UTF-8.
    pub async fn html(&self, at: &str, html: &str) {
        let page = ResponseTemplate::new(200)
            .set_body_raw(html.as_bytes().to_vec(), "text/html; charset=utf-8");
        self.serve(at, page).await;
    }

    /// Answers GET `path` with a 302 to `location` (absolute or relative).
    pub async fn redirect(&self, at: &str, location: &str) {
        let response = ResponseTemplate::new(302).insert_header("location", location);
        self.serve(at, response).await;
    }

    /// How many requests reached `path`.
    pub async fn hits(&self, at: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r.url.path() == at)
            .count()
    }

    /// Every request the site received, in order.
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

/// A one-response website written by hand, for bodies wiremock cannot send: chunked without
/// a Content-Length, or stalling halfway. It answers every request the same way.
pub struct RawSite {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl RawSite {
    /// Sends `body` chunked, in chunks of `chunk_size` bytes, with no Content-Length.
    pub async fn chunked(content_type: &str, body: Vec<u8>, chunk_size: usize) -> Self {
        let chunks = body.chunks(chunk_size.max(1)).map(<[u8]>::to_vec).collect();
        Self::start(content_type, chunks, false).await
    }

    /// Sends the headers and `first` as one chunk, then stalls without closing.
    pub async fn stalling(content_type: &str, first: &[u8]) -> Self {
        Self::start(content_type, vec![first.to_vec()], true).await
    }

    async fn start(content_type: &str, chunks: Vec<Vec<u8>>, stall: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let hits = Arc::new(AtomicUsize::new(0));
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        let counter = Arc::clone(&hits);
        let chunks = Arc::new(chunks);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let (head, chunks) = (head.clone(), Arc::clone(&chunks));
                tokio::spawn(async move {
                    let _ = respond(&mut socket, &head, &chunks, stall).await;
                });
            }
        });
        Self { addr, hits, task }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).expect("raw site URL")
    }

    /// How many connections the site accepted.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for RawSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn respond(
    socket: &mut tokio::net::TcpStream,
    head: &str,
    chunks: &[Vec<u8>],
    stall: bool,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    socket.write_all(head.as_bytes()).await?;
    for chunk in chunks {
        socket
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await?;
        socket.write_all(chunk).await?;
        socket.write_all(b"\r\n").await?;
    }
    socket.flush().await?;
    if stall {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    socket.write_all(b"0\r\n\r\n").await
}
