//! Hostile pages through the whole service: every page of the generator gets an answer (a
//! digest or a short reason), and one person's hostile links do not hold up another's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use linkdigest::cache::CacheConfig;
use linkdigest::digest::admission::Limits;
use linkdigest::digest::{Requester, Service, WorkLimits};
use linkdigest::fetch::Fetcher;
use linkdigest::links::NormalizedUrl;
use linkdigest::summarize::Extractive;

use crate::support::fake_site::FakeSite;
use crate::support::{fetch_config, hostile, pages};

/// A service with two CPU workers, one per user, and the given CPU deadline.
fn service(cpu_deadline: Duration) -> Service {
    let fetcher = Fetcher::new(linkdigest::fetch::FetchConfig {
        timeout: Duration::from_secs(10),
        ..fetch_config()
    })
    .expect("fetcher");
    Service::from_parts(fetcher, Arc::new(Extractive::new()), CacheConfig::default()).with_limits(
        WorkLimits {
            cpu: Limits {
                total: 2,
                per_user: 1,
                per_chat: 2,
                per_site: 2,
            },
            cpu_deadline,
            ..WorkLimits::default()
        },
    )
}

fn link(site: &FakeSite, path: &str) -> NormalizedUrl {
    NormalizedUrl::parse(site.url(path).as_str()).expect("a link")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_page_gets_an_answer_and_the_next_person_is_not_held_up() {
    let site = FakeSite::start().await;
    let hostile = hostile::all();
    for page in &hostile {
        site.html(&format!("/{}", page.name), &page.html).await;
    }
    let paragraphs = [
        "The city council approved a new budget for public libraries on Tuesday, adding late \
         opening hours in every district.",
        "The mayor said the library budget would be paid for by savings in road maintenance \
         over the next two years.",
        "Critics argued that the budget for libraries ignored the needs of smaller districts \
         and their schools.",
    ];
    site.html("/news", &pages::article("Libraries open late", &paragraphs))
        .await;
    let service = service(Duration::from_secs(1));
    let attacker = Requester::new(666, 666);
    let neighbour = Requester::new(7, 7);
    let answered = AtomicUsize::new(0);

    let attack = join_all(hostile.iter().map(|page| {
        let (service, answered) = (&service, &answered);
        let url = link(&site, &format!("/{}", page.name));
        async move {
            let result = service.get(&url, attacker).await;
            answered.fetch_add(1, Ordering::SeqCst);
            (page.name, result.map(|_| ()).map_err(|e| e.to_string()))
        }
    }));
    let neighbour_link = link(&site, "/news");
    let neighbour_asks = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let digest = service.get(&neighbour_link, neighbour).await;
        (digest, answered.load(Ordering::SeqCst))
    };
    let (results, (digest, attacker_answered)) = tokio::join!(attack, neighbour_asks);

    let digest = digest.expect("the neighbour's link is answered");
    assert_eq!(digest.title, "Libraries open late");
    assert!(
        attacker_answered < hostile.len(),
        "the neighbour waited for all {attacker_answered} hostile links"
    );
    for (name, result) in &results {
        if let Err(reason) = result {
            // a short reason a user can read, never a hang or a crash
            assert!(reason.len() < 80, "{name}: {reason}");
        }
    }
    let digests = results.iter().filter(|(_, r)| r.is_ok()).count();
    assert!(digests >= hostile.len() / 2, "{results:?}");
}

#[tokio::test]
async fn a_page_of_endless_sentences_gives_a_small_digest() {
    let site = FakeSite::start().await;
    site.html("/endless", &hostile::endless_sentences(12, 4 * 1024 * 1024))
        .await;
    // a debug build is slow: the deadline is not what this test is about
    let digest = service(Duration::from_secs(60))
        .get(&link(&site, "/endless"), Requester::local())
        .await
        .expect("a digest");
    let json = serde_json::to_string(digest.as_ref()).expect("json");
    assert!(json.len() < 20 * 1024, "{} bytes", json.len());
}
