//! The slow tier under the digest cache: digests kept somewhere that outlives the process
//! (the bot's SQLite store), so a link posted again after a restart is not fetched again.
//!
//! A digest is found again only under the cache key, which starts with the summarizer's id
//! (`extractive-vN`, or `openai:<model>:p<prompt version>`): after a change of summarizer,
//! model, prompt or algorithm version the old digests are never served, and age out with the
//! store's retention. It stays fresh for the cache TTL counted from when it was made. When
//! the LLM fails, the extractive summary it falls back to is archived under the extractive
//! summarizer's id (and kept in the cache and Redis for the transient-failure time only), so
//! it is never served as the LLM's digest.

use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use super::Digest;

/// Why the archive could not answer; the service logs it and treats it as a miss.
#[derive(Debug, Error)]
#[error("digest archive: {0}")]
pub struct ArchiveError(#[from] pub Box<dyn std::error::Error + Send + Sync>);

/// A digest found in the archive, with how long ago it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    /// The digest as it was made.
    pub digest: Digest,
    /// Time since it was made (never since it was last read or saved again).
    pub age: Duration,
}

/// Digests that outlive the process, keyed like the cache (summarizer id and link), so a
/// digest is only found again by the summarizer that made it.
#[async_trait]
pub trait DigestArchive: Send + Sync {
    /// The digest kept under `key` if it was made less than `max_age` ago.
    async fn recall(&self, key: &str, max_age: Duration) -> Result<Option<Archived>, ArchiveError>;

    /// Keeps `digest`, just made, under `key`.
    async fn keep(&self, key: &str, digest: &Digest) -> Result<(), ArchiveError>;
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures_util::future::join_all;

    use super::*;
    use crate::cache::CacheConfig;
    use crate::digest::{DigestError, Requester, Service};
    use crate::fetch::{FetchConfig, Fetcher};
    use crate::links::NormalizedUrl;
    use crate::summarize::{Extractive, RankedSentence};

    /// An archive in memory that counts its reads and can be told to fail.
    #[derive(Default)]
    struct Shelf {
        kept: Mutex<Vec<(String, Archived)>>,
        recalls: Mutex<Vec<String>>,
        broken: bool,
    }

    #[async_trait]
    impl DigestArchive for Shelf {
        async fn recall(
            &self,
            key: &str,
            max_age: Duration,
        ) -> Result<Option<Archived>, ArchiveError> {
            self.recalls.lock().unwrap().push(key.to_owned());
            // Let every concurrent caller pile up behind the first one's read.
            tokio::task::yield_now().await;
            if self.broken {
                return Err(ArchiveError("disk on fire".into()));
            }
            let kept = self.kept.lock().unwrap();
            Ok(kept
                .iter()
                .find(|(k, found)| k == key && found.age < max_age)
                .map(|(_, found)| found.clone()))
        }

        async fn keep(&self, key: &str, digest: &Digest) -> Result<(), ArchiveError> {
            let found = Archived {
                digest: digest.clone(),
                age: Duration::ZERO,
            };
            self.kept.lock().unwrap().push((key.to_owned(), found));
            Ok(())
        }
    }

    fn digest(title: &str) -> Digest {
        Digest {
            title: title.into(),
            site: "example.org".into(),
            url: Some("http://127.0.0.1:9/a".into()),
            lang: Some("en".into()),
            reading_minutes: 1,
            sentences: vec![RankedSentence {
                text: "It was kept.".into(),
                position: 0,
            }],
            preview_only: false,
        }
    }

    /// A service whose fetcher refuses loopback, so any fetch fails with a fetch error.
    fn service(shelf: &Arc<Shelf>, ttl: Duration) -> Service {
        let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
        let cache = CacheConfig {
            ttl,
            ..CacheConfig::default()
        };
        Service::from_parts(fetcher, Arc::new(Extractive::new()), cache)
            .with_archive(Arc::clone(shelf) as Arc<dyn DigestArchive>)
    }

    fn link() -> NormalizedUrl {
        NormalizedUrl::parse("http://127.0.0.1:9/a").unwrap()
    }

    /// Files `digest` under the key the service uses for `link()`, made `age` ago.
    fn shelve(shelf: &Shelf, digest: Digest, age: Duration) {
        use crate::summarize::Summarizer;
        let key = format!("{}|{}", Extractive::new().id(), link().as_str());
        shelf
            .kept
            .lock()
            .unwrap()
            .push((key, Archived { digest, age }));
    }

    #[tokio::test]
    async fn fifty_callers_after_a_restart_read_the_archive_once_and_fetch_nothing() {
        let shelf = Arc::new(Shelf::default());
        shelve(&shelf, digest("Kept"), Duration::from_secs(60));
        let service = service(&shelf, Duration::from_secs(3600));
        let url = link();
        let answers =
            join_all((0..50).map(|chat| service.get(&url, Requester::new(chat, chat)))).await;
        for answer in answers {
            assert_eq!(answer.unwrap().title, "Kept", "answered from the archive");
        }
        assert_eq!(shelf.recalls.lock().unwrap().len(), 1, "one archive read");
        assert_eq!(
            shelf.kept.lock().unwrap().len(),
            1,
            "nothing made, nothing kept"
        );
    }

    #[tokio::test]
    async fn a_digest_older_than_the_ttl_is_fetched_again() {
        let shelf = Arc::new(Shelf::default());
        shelve(&shelf, digest("Stale"), Duration::from_secs(7200));
        let service = service(&shelf, Duration::from_secs(3600));
        let answer = service.get(&link(), Requester::new(1, 1)).await;
        assert!(
            matches!(answer, Err(DigestError::Fetch(_))),
            "went to the network: {answer:?}"
        );
    }

    #[tokio::test]
    async fn a_broken_archive_is_a_miss_not_an_error() {
        let shelf = Arc::new(Shelf {
            broken: true,
            ..Shelf::default()
        });
        let service = service(&shelf, Duration::from_secs(3600));
        let answer = service.get(&link(), Requester::new(1, 1)).await;
        assert!(
            matches!(answer, Err(DigestError::Fetch(_))),
            "went to the network: {answer:?}"
        );
        assert_eq!(shelf.recalls.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_archive_is_asked_under_the_summarizer_s_key() {
        let shelf = Arc::new(Shelf::default());
        let other = format!("openai:some-model:p2|{}", link().as_str());
        let found = Archived {
            digest: digest("By the LLM"),
            age: Duration::ZERO,
        };
        shelf.kept.lock().unwrap().push((other, found));
        let service = service(&shelf, Duration::from_secs(3600));
        let answer = service.get(&link(), Requester::new(1, 1)).await;
        assert!(
            matches!(answer, Err(DigestError::Fetch(_))),
            "another summarizer's digest is not served: {answer:?}"
        );
        let asked = shelf.recalls.lock().unwrap().clone();
        assert!(asked[0].starts_with("extractive-v"), "{asked:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_archived_digest_is_cached_only_for_the_rest_of_its_ttl() {
        let shelf = Arc::new(Shelf::default());
        shelve(&shelf, digest("Kept"), Duration::from_secs(50));
        let service = service(&shelf, Duration::from_secs(60));
        let url = link();
        assert!(service.get(&url, Requester::new(1, 1)).await.is_ok());
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(service.cached(&url).is_some(), "fresh for ten more seconds");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(
            service.cached(&url).is_none(),
            "gone when the TTL since it was made ran out"
        );
    }
}
