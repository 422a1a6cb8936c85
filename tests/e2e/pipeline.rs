//! The digest service end to end: a fake site in, digests out, one fetch per link.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use linkdigest::cache::CacheConfig;
use linkdigest::digest::{Length, Requester, Service, WorkLimits};
use linkdigest::fetch::Fetcher;
use linkdigest::links::NormalizedUrl;
use linkdigest::store::{Store, StoreLimits};
use linkdigest::summarize::Extractive;
use linkdigest::summarize::openai::{OpenAi, OpenAiConfig};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fake_site::FakeSite;
use crate::support::fetch_config;

const SEED: &str = include_str!("../fixtures/seed.html");

fn service() -> Service {
    let fetcher = Fetcher::new(fetch_config()).expect("fetcher");
    Service::from_parts(fetcher, Arc::new(Extractive::new()), CacheConfig::default())
}

fn link(site: &FakeSite, path: &str) -> NormalizedUrl {
    NormalizedUrl::parse(site.url(path).as_str()).expect("a link")
}

#[tokio::test]
async fn the_seed_page_digest_has_its_title_and_none_of_the_boilerplate() {
    let site = FakeSite::start().await;
    site.html("/belarus", SEED).await;
    let digest = service()
        .get(&link(&site, "/belarus"), Requester::local())
        .await
        .expect("a digest");
    assert_eq!(
        digest.title,
        "Belarus and Russia in a regional security stance"
    );
    let everything = digest.view(Length::Long, true).join(" ");
    assert!(everything.contains("Lukashenko"), "{everything}");
    for boilerplate in [
        "cookie",
        "No time to read",
        "Previous Article",
        "Next Article",
        "newsletter",
        "Most read",
    ] {
        assert!(
            !everything
                .to_lowercase()
                .contains(&boilerplate.to_lowercase()),
            "{boilerplate:?} in {everything}"
        );
    }
    assert!(digest.reading_minutes >= 1);
    assert_eq!(digest.lang.as_deref(), Some("en"));
}

#[tokio::test]
async fn twenty_concurrent_requests_for_one_link_fetch_it_once() {
    let site = FakeSite::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_raw(SEED.as_bytes().to_vec(), "text/html; charset=utf-8")
        .set_delay(Duration::from_millis(200));
    site.serve("/belarus", slow).await;
    let service = service();
    let url = link(&site, "/belarus");
    let digests = join_all((0..20).map(|_| service.get(&url, Requester::local()))).await;
    assert!(
        digests
            .iter()
            .all(|d| d.as_ref().is_ok_and(|d| !d.sentences.is_empty()))
    );
    assert_eq!(site.hits("/belarus").await, 1);
}

#[tokio::test]
async fn a_dead_link_is_not_fetched_again_right_away() {
    let site = FakeSite::start().await;
    let service = service();
    let url = link(&site, "/missing");
    for _ in 0..3 {
        let err = service
            .get(&url, Requester::local())
            .await
            .expect_err("a 404");
        assert_eq!(err.to_string(), "the page was not found (HTTP 404)");
    }
    assert_eq!(
        site.hits("/missing").await,
        1,
        "the failure is remembered briefly"
    );
}

#[tokio::test]
async fn a_site_error_is_shared_by_a_burst_then_tried_again() {
    let site = FakeSite::start().await;
    site.serve_first("/belarus", ResponseTemplate::new(503), 1)
        .await;
    site.html("/belarus", SEED).await;
    let fetcher = Fetcher::new(fetch_config()).expect("fetcher");
    let window = Duration::from_millis(300);
    let cache = CacheConfig {
        transient_failure_ttl: window,
        ..CacheConfig::default()
    };
    let service = Service::from_parts(fetcher, Arc::new(Extractive::new()), cache);
    let url = link(&site, "/belarus");
    for _ in 0..3 {
        let err = service
            .get(&url, Requester::local())
            .await
            .expect_err("a 503");
        assert_eq!(err.to_string(), "the site had an error (HTTP 503)");
    }
    assert_eq!(site.hits("/belarus").await, 1, "a burst shares one try");
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    let digest = service
        .get(&url, Requester::local())
        .await
        .expect("a digest once the site is back");
    assert!(!digest.sentences.is_empty());
}

#[tokio::test]
async fn a_windows_1251_page_is_summarized_in_russian() {
    let site = FakeSite::start().await;
    let paragraphs = [
        "Правительство утвердило новый бюджет на следующий год после долгого обсуждения.",
        "Расходы на образование вырастут на двенадцать процентов, сообщили в министерстве.",
        "Депутаты оппозиции раскритиковали план, назвав прогнозы доходов слишком оптимистичными.",
        "Новые правила вступят в силу с первого января и будут действовать двенадцать месяцев.",
        "Эксперты считают, что решение поможет школам в небольших городах.",
    ];
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let html = format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">\
         <title>Новый бюджет</title></head><body><article><h1>Новый бюджет</h1>{body}</article></body></html>"
    );
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&html);
    site.serve(
        "/ru",
        ResponseTemplate::new(200).set_body_raw(bytes.into_owned(), "text/html"),
    )
    .await;
    let digest = service()
        .get(&link(&site, "/ru"), Requester::local())
        .await
        .expect("a digest");
    assert_eq!(digest.title, "Новый бюджет");
    assert_eq!(digest.lang.as_deref(), Some("ru"));
    let text = digest.view(Length::Long, false).join(" ");
    assert!(
        text.contains("бюджет") || text.contains("образование"),
        "{text}"
    );
    assert!(!text.contains('\u{FFFD}'), "decoded cleanly: {text}");
}

#[tokio::test]
async fn a_page_with_only_a_menu_has_no_digest() {
    let site = FakeSite::start().await;
    site.html(
        "/menu",
        "<html><body><nav><a href='/a'>Home</a> <a href='/b'>News</a></nav></body></html>",
    )
    .await;
    let err = service()
        .get(&link(&site, "/menu"), Requester::local())
        .await
        .expect_err("no article");
    assert_eq!(err.to_string(), "no article text found on that page");
}

/// An article of `paragraphs` paragraphs about a council's library budget.
fn long_article(paragraphs: usize) -> String {
    let body: String = (0..paragraphs)
        .map(|i| {
            format!(
                "<p>The council of district {i} approved the library budget after a long \
                 debate. Residents of district {i} asked for longer opening hours and more \
                 books for children.</p>"
            )
        })
        .collect();
    format!(
        "<html><head><title>Library budget</title></head><body><article>\
         <h1>Library budget</h1>{body}</article></body></html>"
    )
}

#[tokio::test]
async fn with_an_llm_a_huge_article_is_checked_on_a_cpu_slot_while_others_are_answered() {
    let site = FakeSite::start().await;
    site.html("/huge", &long_article(2_000)).await;
    site.html("/belarus", SEED).await;
    let llm = MockServer::start().await;
    let answer = |sentence: &str| {
        let content = serde_json::json!({ "sentences": [sentence] }).to_string();
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "choices": [{"message": {"role": "assistant", "content": content}}]
        }))
    };
    Mock::given(method("POST"))
        .and(body_string_contains("Lukashenko"))
        .respond_with(answer(
            "Lukashenko says Belarus will fight only if attacked.",
        ))
        .mount(&llm)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("The council approved the library budget."))
        .mount(&llm)
        .await;
    let summarizer = OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", llm.uri()).parse().expect("a URL"),
        model: "test-model".into(),
        timeout: Duration::from_secs(5),
        ..OpenAiConfig::default()
    })
    .expect("an LLM client");
    let fetcher = Fetcher::new(fetch_config()).expect("fetcher");
    let service = Service::from_parts(fetcher, Arc::new(summarizer), CacheConfig::default())
        .with_limits(WorkLimits {
            cpu_deadline: Duration::from_secs(30),
            ..WorkLimits::default()
        });

    let (huge_link, other_link) = (link(&site, "/huge"), link(&site, "/belarus"));
    let (huge, other) = tokio::join!(
        service.get(&huge_link, Requester::new(1, 1)),
        service.get(&other_link, Requester::new(2, 2)),
    );
    let huge = huge.expect("a digest of the huge article");
    assert_eq!(
        huge.view(Length::Long, true),
        ["The council approved the library budget."]
    );
    let other = other.expect("the other chat's digest");
    assert_eq!(
        other.view(Length::Long, true),
        ["Lukashenko says Belarus will fight only if attacked."]
    );
    // Each page is extracted in one CPU slot and its LLM answer checked (the article stemmed)
    // in another: never on an async worker, outside the slots and the link's deadline.
    assert_eq!(service.cpu_slots_granted(), 4);
}

/// An LLM on `llm` that fails its first `failures` requests (HTTP 500), then answers with
/// one sentence of the seed article.
async fn llm_failing_first(llm: &MockServer, failures: u64) -> OpenAi {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(failures)
        .mount(llm)
        .await;
    let content = serde_json::json!({ "sentences": [LLM_SENTENCE] }).to_string();
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "choices": [{"message": {"role": "assistant", "content": content}}]
        })))
        .mount(llm)
        .await;
    OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", llm.uri()).parse().expect("a URL"),
        model: "test-model".into(),
        timeout: Duration::from_secs(5),
        max_retries: 0,
        ..OpenAiConfig::default()
    })
    .expect("an LLM client")
}

const LLM_SENTENCE: &str = "Lukashenko says Belarus will fight only if attacked.";

/// The digest service with `summarizer`, failures that may pass kept for 200 ms, and the
/// SQLite store at `db` as its archive.
fn llm_service(summarizer: OpenAi, db: &std::path::Path) -> Service {
    let cache = CacheConfig {
        transient_failure_ttl: Duration::from_millis(200),
        ..CacheConfig::default()
    };
    let store = Store::open(db, StoreLimits::default()).expect("a store");
    let fetcher = Fetcher::new(fetch_config()).expect("fetcher");
    Service::from_parts(fetcher, Arc::new(summarizer), cache).with_archive(Arc::new(store))
}

#[tokio::test]
async fn the_extractive_fallback_is_kept_briefly_so_the_llm_digest_follows_its_recovery() {
    let site = FakeSite::start().await;
    site.html("/belarus", SEED).await;
    let llm = MockServer::start().await;
    let dir = tempfile::TempDir::new().expect("a temp dir");
    let service = llm_service(llm_failing_first(&llm, 1).await, &dir.path().join("db"));
    let belarus = link(&site, "/belarus");

    let fallback = service
        .get(&belarus, Requester::new(1, 1))
        .await
        .expect("a digest");
    assert_ne!(fallback.view(Length::Long, true), [LLM_SENTENCE]);
    assert!(!fallback.sentences.is_empty(), "the extractive summary");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let recovered = service
        .get(&belarus, Requester::new(2, 2))
        .await
        .expect("a digest");
    assert_eq!(recovered.view(Length::Long, true), [LLM_SENTENCE]);
}

#[tokio::test]
async fn after_a_restart_the_archived_fallback_is_not_served_as_the_llm_digest() {
    let site = FakeSite::start().await;
    site.html("/belarus", SEED).await;
    let llm = MockServer::start().await;
    let dir = tempfile::TempDir::new().expect("a temp dir");
    let db = dir.path().join("db");
    let belarus = link(&site, "/belarus");

    let before = llm_service(llm_failing_first(&llm, 1).await, &db);
    let fallback = before
        .get(&belarus, Requester::new(1, 1))
        .await
        .expect("a digest");
    assert_ne!(fallback.view(Length::Long, true), [LLM_SENTENCE]);
    drop(before);

    let summarizer = OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", llm.uri()).parse().expect("a URL"),
        model: "test-model".into(),
        max_retries: 0,
        ..OpenAiConfig::default()
    })
    .expect("an LLM client");
    let after = llm_service(summarizer, &db);
    let digest = after
        .get(&belarus, Requester::new(2, 2))
        .await
        .expect("a digest");
    assert_eq!(digest.view(Length::Long, true), [LLM_SENTENCE]);
}
