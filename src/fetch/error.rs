//! `FetchError`: why a page could not be fetched, worded for the person who shared the link.

use std::error::Error as StdError;
use std::time::Duration;

/// Why a page could not be fetched; `Display` is the short reason a user reads in the chat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The link has no host or is otherwise not a usable web address.
    #[error("that link is not a valid web address")]
    InvalidUrl,
    /// The link (or a redirect) uses a scheme other than http or https.
    #[error("only http and https links can be read")]
    UnsupportedScheme(String),
    /// The host is, or resolves to, an address that is not on the public internet.
    #[error("that address is on a private network")]
    PrivateAddress {
        /// The refused host or address, for the logs.
        host: String,
        /// Which non-public range it fell in, for the logs.
        range: &'static str,
    },
    /// The link names a port other than the allowed ones (80 and 443 by default).
    #[error("only links on the usual web ports can be read")]
    Port(u16),
    /// The host name does not exist (NXDOMAIN, or no address at all): a dead link.
    #[error("the site could not be found")]
    NoSuchHost {
        /// The name that does not resolve.
        host: String,
    },
    /// The resolver gave no answer (a timeout, a server failure): it may pass by itself, so
    /// it reads like any other connection failure.
    #[error("the site could not be reached")]
    Dns {
        /// The name that failed to resolve.
        host: String,
        /// The resolver's own words, for the logs.
        detail: String,
    },
    /// The connection could not be made or broke off.
    #[error("the site could not be reached")]
    Connect {
        /// The underlying error chain, for the logs.
        detail: String,
    },
    /// The connect or whole-request time limit ran out; it reads like any other connection
    /// failure, so the reply tells nothing about what listens where.
    #[error("the site could not be reached")]
    Timeout(Duration),
    /// The site redirected more often than allowed.
    #[error("too many redirects")]
    TooManyRedirects,
    /// The site refused access (401, 402, 403, 407, 451): logins, paywalls, consent and legal walls.
    #[error("the site refused access (HTTP {0})")]
    Refused(u16),
    /// The page does not exist (404, 410).
    #[error("the page was not found (HTTP {0})")]
    NotFound(u16),
    /// The site failed with a 5xx status.
    #[error("the site had an error (HTTP {0})")]
    ServerError(u16),
    /// Any other status that is not a success (429, 400, an unfollowed 3xx, ...).
    #[error("the site would not serve the page (HTTP {0})")]
    Status(u16),
    /// The link points at something other than a web page; holds the media type.
    #[error("that link is {}, not a web page", describe_media_type(.0))]
    UnsupportedContent(String),
    /// The body (after decompression) exceeds the configured limit in bytes.
    #[error("the page is larger than {}", human_bytes(*.0))]
    TooLarge(usize),
    /// Too many large pages are being downloaded at once: the bytes in flight are spent.
    #[error("too many large pages are being read right now, try again in a minute")]
    Busy,
    /// The site sent a response that could not be read (bad compression, broken framing).
    #[error("the site sent a broken response")]
    BrokenResponse {
        /// The underlying error chain, for the logs.
        detail: String,
    },
    /// The HTTP client could not be built (bad configuration).
    #[error("the fetcher could not start: {0}")]
    Client(String),
}

impl FetchError {
    /// A short stable label for logs and metrics, e.g. `"timeout"` or `"private_address"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid_url",
            Self::UnsupportedScheme(_) => "scheme",
            Self::PrivateAddress { .. } => "private_address",
            Self::Port(_) => "port",
            Self::NoSuchHost { .. } => "no_such_host",
            Self::Dns { .. } => "dns",
            Self::Connect { .. } => "connect",
            Self::Timeout(_) => "timeout",
            Self::TooManyRedirects => "too_many_redirects",
            Self::Refused(_) => "refused",
            Self::NotFound(_) => "not_found",
            Self::ServerError(_) => "server_error",
            Self::Status(_) => "http_status",
            Self::UnsupportedContent(_) => "content_type",
            Self::TooLarge(_) => "too_large",
            Self::Busy => "busy",
            Self::BrokenResponse { .. } => "broken_response",
            Self::Client(_) => "client",
        }
    }

    /// The error for a final response status, or `None` for a success.
    pub(crate) fn from_status(code: u16) -> Option<Self> {
        match code {
            200..=299 => None,
            401 | 402 | 403 | 407 | 451 => Some(Self::Refused(code)),
            404 | 410 => Some(Self::NotFound(code)),
            500..=599 => Some(Self::ServerError(code)),
            _ => Some(Self::Status(code)),
        }
    }

    /// Classifies a reqwest error, recovering our own refusals (guard, redirects, DNS) from its chain.
    /// The detail leaves the URL out: its query or userinfo may hold a secret, and it is logged.
    pub(crate) fn from_reqwest(
        err: reqwest::Error,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Self {
        let err = err.without_url();
        let mut source: Option<&(dyn StdError + 'static)> = Some(&err);
        while let Some(e) = source {
            if let Some(ours) = e.downcast_ref::<FetchError>() {
                return ours.clone();
            }
            source = e.source();
        }
        let detail = chain(&err);
        if err.is_timeout() {
            Self::Timeout(if err.is_connect() {
                connect_timeout
            } else {
                timeout
            })
        } else if err.is_connect() {
            Self::Connect { detail }
        } else if err.is_redirect() {
            Self::TooManyRedirects
        } else if err.is_builder() {
            Self::InvalidUrl
        } else {
            Self::BrokenResponse { detail }
        }
    }
}

/// The whole error chain on one line, for the logs.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// "5 MB", "1.5 MB", "64 KB" or "100 bytes" (binary multiples, as users read them).
fn human_bytes(n: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MB", n as f64 / MIB as f64)
    } else if n >= KIB {
        format!("{} KB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// A plain-words name for a media type the fetcher does not read.
fn describe_media_type(essence: &str) -> String {
    let (top, sub) = essence.split_once('/').unwrap_or((essence, ""));
    let words = match top {
        "image" => "an image",
        "video" => "a video",
        "audio" => "an audio file",
        "font" => "a font",
        "model" => "a 3D model",
        _ if sub == "json" || sub.ends_with("+json") => "JSON data",
        _ if sub == "xml" || sub.ends_with("+xml") => "an XML document",
        _ if sub.contains("zip")
            || sub.contains("tar")
            || sub.contains("rar")
            || sub.contains("7z")
            || sub.contains("compressed") =>
        {
            "an archive"
        }
        _ if sub.contains("msword")
            || sub.contains("officedocument")
            || sub.contains("opendocument")
            || sub.contains("ms-excel")
            || sub.contains("ms-powerpoint") =>
        {
            "an office document"
        }
        _ if sub == "octet-stream" => "a binary file",
        // The type is the site's own words: shown only when it looks like a media type,
        // so a header can neither become a link in the bot's reply nor swell it.
        _ if plain_media_type(essence) => return format!("a file of type {essence}"),
        _ => "a file of an unsupported type",
    };
    words.to_owned()
}

/// Whether `essence` reads as an ordinary media type: `top/sub`, short, of lowercase
/// letters, digits, `+` and `-` (no dots: `x/evil.com` would read as a link).
fn plain_media_type(essence: &str) -> bool {
    let Some((top, sub)) = essence.split_once('/') else {
        return false;
    };
    let plain = |part: &str, max: usize| {
        !part.is_empty()
            && part.len() <= max
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-".contains(&b))
    };
    plain(top, 20) && plain(sub, 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sites_odd_content_type_is_not_repeated_to_the_user() {
        assert_eq!(describe_media_type("video/mp4"), "a video");
        assert_eq!(
            describe_media_type("x-app/x-thing"),
            "a file of type x-app/x-thing"
        );
        for odd in [
            "x/evil.com/login",
            "x/@admin",
            "x/a b",
            &format!("x/{}", "a".repeat(500)),
        ] {
            assert_eq!(
                describe_media_type(odd),
                "a file of an unsupported type",
                "{odd}"
            );
        }
    }

    #[tokio::test]
    async fn a_network_errors_detail_leaves_out_the_links_query_and_userinfo() {
        let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") else {
            return;
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(1);
        drop(listener); // Nothing listens there now: the connection is refused.
        let url = format!("http://ann:hunter2@127.0.0.1:{port}/reset?token=s3cret");
        let err = reqwest::Client::new().get(&url).send().await.unwrap_err();
        assert!(err.to_string().contains("s3cret"), "reqwest names the URL");
        let ours = FetchError::from_reqwest(err, Duration::from_secs(1), Duration::from_secs(1));
        assert!(matches!(ours, FetchError::Connect { .. }), "{ours:?}");
        for shown in [format!("{ours}"), format!("{ours:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn a_dns_server_that_does_not_answer_reads_like_a_connection_failure() {
        let silent = FetchError::Dns {
            host: "flaky.example".into(),
            detail: "Temporary failure in name resolution".into(),
        };
        assert_eq!(silent.to_string(), "the site could not be reached");
        assert_eq!(silent.kind(), "dns");
    }

    #[test]
    fn reasons_read_as_the_design_says() {
        let cases = [
            (
                FetchError::Timeout(Duration::from_secs(15)),
                "the site could not be reached",
            ),
            (
                FetchError::Timeout(Duration::from_millis(250)),
                "the site could not be reached",
            ),
            (
                FetchError::Timeout(Duration::from_millis(1500)),
                "the site could not be reached",
            ),
            (
                FetchError::TooLarge(5 * 1024 * 1024),
                "the page is larger than 5 MB",
            ),
            (
                FetchError::TooLarge(64 * 1024),
                "the page is larger than 64 KB",
            ),
            (
                FetchError::Refused(403),
                "the site refused access (HTTP 403)",
            ),
            (
                FetchError::NotFound(404),
                "the page was not found (HTTP 404)",
            ),
            (
                FetchError::ServerError(503),
                "the site had an error (HTTP 503)",
            ),
            (FetchError::TooManyRedirects, "too many redirects"),
            (
                FetchError::PrivateAddress {
                    host: "127.0.0.1".into(),
                    range: "loopback",
                },
                "that address is on a private network",
            ),
            (
                FetchError::NoSuchHost {
                    host: "nowhere.example".into(),
                },
                "the site could not be found",
            ),
            (
                FetchError::UnsupportedScheme("ftp".into()),
                "only http and https links can be read",
            ),
            (
                FetchError::UnsupportedContent("image/png".into()),
                "that link is an image, not a web page",
            ),
            (
                FetchError::UnsupportedContent("video/mp4".into()),
                "that link is a video, not a web page",
            ),
            (
                FetchError::UnsupportedContent("application/zip".into()),
                "that link is an archive, not a web page",
            ),
            (
                FetchError::UnsupportedContent("application/json".into()),
                "that link is JSON data, not a web page",
            ),
            (
                FetchError::UnsupportedContent("application/x-foo".into()),
                "that link is a file of type application/x-foo, not a web page",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text, "{err:?}");
        }
    }

    #[test]
    fn statuses_map_to_reasons_that_keep_walls_apart() {
        assert_eq!(FetchError::from_status(200), None);
        assert_eq!(FetchError::from_status(204), None);
        for code in [401, 402, 403, 451] {
            assert_eq!(
                FetchError::from_status(code),
                Some(FetchError::Refused(code))
            );
        }
        assert_eq!(
            FetchError::from_status(404),
            Some(FetchError::NotFound(404))
        );
        assert_eq!(
            FetchError::from_status(410),
            Some(FetchError::NotFound(410))
        );
        assert_eq!(
            FetchError::from_status(503),
            Some(FetchError::ServerError(503))
        );
        assert_eq!(FetchError::from_status(429), Some(FetchError::Status(429)));
        assert_eq!(FetchError::from_status(304), Some(FetchError::Status(304)));
    }

    #[test]
    fn kinds_are_distinct_labels() {
        let errors = [
            FetchError::Refused(403),
            FetchError::NotFound(404),
            FetchError::ServerError(500),
            FetchError::Status(429),
            FetchError::TooLarge(1),
            FetchError::Busy,
            FetchError::TooManyRedirects,
            FetchError::Timeout(Duration::from_secs(1)),
        ];
        let mut kinds: Vec<_> = errors.iter().map(FetchError::kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), errors.len());
    }
}
