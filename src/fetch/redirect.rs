//! The redirect policy: count hops and re-check every target before it is requested.

use reqwest::redirect::Policy;
use url::Url;

use super::{FetchError, guard};

/// A reqwest redirect policy that follows at most `max` redirects to allowed URLs.
pub(crate) fn policy(max: usize, allow_private: bool, ports: Vec<u16>) -> Policy {
    Policy::custom(move |attempt| {
        // `previous` holds the first URL too, so its length is the number of this redirect.
        let hop = check_hop(attempt.url(), attempt.previous().len(), max, allow_private)
            .and_then(|()| guard::check_port(attempt.url(), &ports, allow_private));
        match hop {
            Ok(()) => attempt.follow(),
            Err(err) => {
                tracing::info!(target = %guard::loggable(attempt.url()), reason = %err, "redirect refused");
                attempt.error(err)
            }
        }
    })
}

/// Whether the `hop`-th redirect (counting from 1) to `next` may be followed.
fn check_hop(next: &Url, hop: usize, max: usize, allow_private: bool) -> Result<(), FetchError> {
    if hop > max {
        return Err(FetchError::TooManyRedirects);
    }
    guard::check_url(next, allow_private)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn up_to_max_redirects_are_followed() {
        let next = url("https://example.org/next");
        for hop in 1..=5 {
            assert_eq!(check_hop(&next, hop, 5, false), Ok(()), "hop {hop}");
        }
        assert_eq!(
            check_hop(&next, 6, 5, false),
            Err(FetchError::TooManyRedirects)
        );
        assert_eq!(
            check_hop(&next, 1, 0, false),
            Err(FetchError::TooManyRedirects)
        );
    }

    #[test]
    fn redirects_to_private_literals_or_other_schemes_are_refused() {
        let err = check_hop(&url("http://127.0.0.1:8080/admin"), 1, 5, false).unwrap_err();
        assert_eq!(err.to_string(), "that address is on a private network");
        let err = check_hop(&url("http://[::ffff:a9fe:a9fe]/"), 1, 5, false).unwrap_err();
        assert_eq!(err.to_string(), "that address is on a private network");
        let err = check_hop(&url("file:///etc/passwd"), 1, 5, true).unwrap_err();
        assert_eq!(err.to_string(), "only http and https links can be read");
        assert_eq!(
            check_hop(&url("http://127.0.0.1:8080/"), 1, 5, true),
            Ok(())
        );
    }
}
