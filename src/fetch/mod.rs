//! The safe fetcher: SSRF guard, time and size limits, content-type rules, charset decoding.
//!
//! Every URL a stranger posts goes through [`Fetcher::get`]. Only http(s) is fetched; IP-literal
//! hosts are checked before the first request and at every redirect hop ([`guard`]), and names
//! are checked when they resolve (the resolver module), so no connection is made to a non-public
//! address unless [`FetchConfig::allow_private_addresses`] is set.

mod charset;
mod content_type;
mod error;
pub mod guard;
mod own;
mod redirect;
mod resolver;

use std::sync::Arc;
use std::time::Instant;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use url::Url;

pub use error::FetchError;
pub use resolver::NoSuchName;

pub use crate::config::FetchConfig;

/// One fetch's room among the bodies in flight, held until the fetch returns.
type Room = Vec<tokio::sync::OwnedSemaphorePermit>;

/// What kind of text a fetched page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// HTML or XHTML, to be given to the extractor.
    Html,
    /// Plain text, to be summarized as it is.
    PlainText,
    /// A PDF document, kept as bytes for the PDF reader.
    Pdf,
}

/// A fetched page, decoded to UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The final URL, after redirects.
    pub url: Url,
    /// HTML or plain text.
    pub kind: PageKind,
    /// The body decoded to UTF-8 (empty for a PDF).
    pub text: String,
    /// The raw body of a PDF (empty for HTML and text).
    pub bytes: Vec<u8>,
}

/// Decodes a document that did not come over HTTP (a file, stdin) as a fetched page would
/// be: `kind` when the caller knows it, else sniffed from the bytes; the charset from a BOM,
/// a `<meta>` declaration, or a guess. A PDF is not decoded: its text is empty.
pub fn decode_document(
    body: &[u8],
    kind: Option<PageKind>,
) -> Result<(PageKind, String), FetchError> {
    let kind = match kind {
        Some(kind) => kind,
        None => content_type::sniff(body)?,
    };
    if kind == PageKind::Pdf {
        return Ok((kind, String::new()));
    }
    Ok((kind, charset::decode(body, None, kind, None)))
}

/// The safe HTTP fetcher; cheap to clone (clones share one connection pool).
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    config: Arc<FetchConfig>,
    /// Room for bodies in flight, in KiB: each chunk takes its share until the fetch ends.
    in_flight: Arc<tokio::sync::Semaphore>,
}

/// Room every fetch waits for before reading its body: most pages fit in it.
const FIRST_ROOM_KIB: u32 = 256;

/// The unit of [`Fetcher::in_flight`].
const KIB: usize = 1024;

/// Facts about one fetch for its log line.
#[derive(Default)]
struct Trace {
    status: Option<u16>,
    bytes: usize,
}

impl Fetcher {
    /// A fetcher using the system's DNS, with resolved addresses checked by the guard.
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let guard = !config.allow_private_addresses;
        let resolver = resolver::CheckedResolver::new(Arc::new(resolver::SystemResolver), guard);
        Self::build(config, resolver)
    }

    /// A fetcher whose DNS is `resolver` (tests map names to the fake site with it). Its answers
    /// are trusted, but IP-literal hosts and redirect targets are still checked by the guard.
    pub fn with_resolver(
        config: FetchConfig,
        resolver: Arc<dyn reqwest::dns::Resolve>,
    ) -> Result<Self, FetchError> {
        Self::build(config, resolver::CheckedResolver::new(resolver, false))
    }

    fn build(config: FetchConfig, resolver: resolver::CheckedResolver) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            .default_headers(
                [(
                    ACCEPT,
                    HeaderValue::from_static(
                        "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
                    ),
                )]
                .into_iter()
                .collect(),
            )
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(redirect::policy(
                config.max_redirects,
                config.allow_private_addresses,
                config.allowed_ports.clone(),
            ))
            .dns_resolver(Arc::new(resolver))
            // A proxy from the environment would connect on our behalf, past the guard.
            .no_proxy()
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        // At least one body of the largest kind fits, or it would be "busy" for ever.
        let largest = config.max_body_bytes.max(config.max_pdf_bytes);
        let room = config.max_bytes_in_flight.max(largest) / KIB + 1;
        Ok(Self {
            client,
            in_flight: Arc::new(tokio::sync::Semaphore::new(room)),
            config: Arc::new(config),
        })
    }

    /// Fetches `url` and returns the page as UTF-8 text, or the reason it cannot be read.
    pub async fn get(&self, url: &Url) -> Result<Page, FetchError> {
        let started = Instant::now();
        let mut trace = Trace::default();
        // reqwest's timeout covers the same ground; this one also bounds our own body loop.
        let result = tokio::time::timeout(self.config.timeout, self.fetch(url, &mut trace))
            .await
            .unwrap_or(Err(FetchError::Timeout(self.config.timeout)));
        let host = url.host_str().unwrap_or_default();
        let ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(_) => tracing::info!(
                host,
                url = %guard::loggable(url),
                status = trace.status,
                bytes = trace.bytes,
                ms,
                "fetched"
            ),
            Err(err) => tracing::info!(
                host,
                url = %guard::loggable(url),
                status = trace.status,
                bytes = trace.bytes,
                ms,
                kind = err.kind(),
                error = ?err,
                "fetch failed"
            ),
        }
        result
    }

    async fn fetch(&self, url: &Url, trace: &mut Trace) -> Result<Page, FetchError> {
        let config = &self.config;
        guard::check_url(url, config.allow_private_addresses)?;
        guard::check_port(url, &config.allowed_ports, config.allow_private_addresses)?;
        let network_error =
            |e: reqwest::Error| FetchError::from_reqwest(e, config.connect_timeout, config.timeout);

        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status().as_u16();
        trace.status = Some(status);
        if let Some(err) = FetchError::from_status(status) {
            return Err(err);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let declared = content_type::from_header(content_type.as_deref())?;
        let kind = match declared {
            content_type::Declared::Page(kind) => Some(kind),
            content_type::Declared::Sniff => None,
        };
        let (body, kind, _room) = self.read_body(&mut response, kind, trace).await?;
        let kind = match kind {
            Some(kind) => kind,
            None => content_type::sniff(&body)?,
        };
        let final_url = response.url().clone();
        if kind == PageKind::Pdf {
            return Ok(Page {
                url: final_url,
                kind,
                text: String::new(),
                bytes: body,
            });
        }
        let tld = final_url
            .domain()
            .and_then(|d| d.trim_end_matches('.').rsplit('.').next());
        let header_charset = content_type
            .as_deref()
            .and_then(content_type::charset_param);
        let text = charset::decode(&body, header_charset, kind, tld);
        Ok(Page {
            url: final_url,
            kind,
            text,
            bytes: Vec::new(),
        })
    }

    /// Streams the body within its size limit and this fetch's room among the bodies in
    /// flight (returned, to be held until the fetch returns), sniffing its kind as soon as
    /// the head is in when the header did not say.
    async fn read_body(
        &self,
        response: &mut reqwest::Response,
        mut kind: Option<PageKind>,
        trace: &mut Trace,
    ) -> Result<(Vec<u8>, Option<PageKind>, Room), FetchError> {
        let config = &self.config;
        let network_error =
            |e: reqwest::Error| FetchError::from_reqwest(e, config.connect_timeout, config.timeout);
        // PDFs have their own limit; an unlabelled body may turn out to be one.
        let limit = |kind: Option<PageKind>| match kind {
            Some(PageKind::Pdf) => config.max_pdf_bytes,
            Some(_) => config.max_body_bytes,
            None => config.max_body_bytes.max(config.max_pdf_bytes),
        };
        if response
            .content_length()
            .is_some_and(|n| n > limit(kind) as u64)
        {
            return Err(FetchError::TooLarge(limit(kind)));
        }
        let mut body = Vec::new();
        // Room for this body among all bodies in flight, held until the fetch returns. The
        // first part is waited for while holding nothing; beyond it a fetch never waits while
        // holding room (every fetch could then hold some and wait for more): it takes room
        // at once or gives up as busy.
        let shutting_down = |_| FetchError::Client("the fetcher is shutting down".into());
        let mut room = vec![
            Arc::clone(&self.in_flight)
                .acquire_many_owned(FIRST_ROOM_KIB)
                .await
                .map_err(shutting_down)?,
        ];
        let mut held = FIRST_ROOM_KIB as usize * KIB;
        while let Some(chunk) = response.chunk().await.map_err(network_error)? {
            trace.bytes += chunk.len();
            if body.len() + chunk.len() > limit(kind) {
                return Err(FetchError::TooLarge(limit(kind)));
            }
            let wanted = (body.len() + chunk.len()).saturating_sub(held);
            if wanted > 0 {
                let kib = u32::try_from(wanted.div_ceil(KIB)).unwrap_or(u32::MAX);
                room.push(
                    Arc::clone(&self.in_flight)
                        .try_acquire_many_owned(kib)
                        .map_err(|_| FetchError::Busy)?,
                );
                held += kib as usize * KIB;
            }
            body.extend_from_slice(&chunk);
            // Sniff as soon as the head is in, so a mislabelled video is not downloaded whole.
            if kind.is_none() && body.len() >= content_type::SNIFF_BYTES {
                kind = Some(content_type::sniff(&body)?);
            }
        }
        Ok((body, kind, room))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn production_defaults_match_the_design() {
        let config = FetchConfig::default();
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.timeout, Duration::from_secs(15));
        assert_eq!(config.max_redirects, 5);
        assert_eq!(config.max_body_bytes, 5 * 1024 * 1024);
        assert_eq!(config.max_pdf_bytes, 20 * 1024 * 1024);
        assert!(!config.allow_private_addresses);
        assert_eq!(config.allowed_ports, vec![80, 443]);
        assert!(
            config.user_agent.contains("linkdigest") && config.user_agent.contains("github.com")
        );
    }

    #[tokio::test]
    async fn refusals_happen_before_any_request() {
        let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
        let err = fetcher
            .get(&Url::parse("http://10.1.2.3/").unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "that address is on a private network");
        let err = fetcher
            .get(&Url::parse("ftp://example.org/").unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "only http and https links can be read");
    }
}
