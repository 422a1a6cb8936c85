//! The safe fetcher against a fake site on 127.0.0.1: pages, limits, charsets and the SSRF guard.

use std::io::Write;
use std::time::Duration;

use encoding_rs::WINDOWS_1251;
use flate2::Compression;
use flate2::write::GzEncoder;
use linkdigest::fetch::{FetchConfig, Fetcher, PageKind};
use url::Url;
use wiremock::ResponseTemplate;

use crate::support::fake_site::{FakeSite, RawSite};
use crate::support::{StaticDns, fetch_config, guarded_fetch_config};

const RUSSIAN: &str = "Министерство сообщило, что новые правила вступят в силу с первого января.";

fn fetcher() -> Fetcher {
    Fetcher::new(fetch_config()).expect("fetcher")
}

async fn reason(fetcher: &Fetcher, url: &Url) -> String {
    match fetcher.get(url).await {
        Ok(page) => panic!("expected a failure for {url}, got a page at {}", page.url),
        Err(err) => err.to_string(),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

#[tokio::test]
async fn a_plain_page_is_fetched_with_an_honest_user_agent() {
    let site = FakeSite::start().await;
    site.html(
        "/article",
        "<html><title>Hello</title><p>Привет, мир</p></html>",
    )
    .await;

    let page = fetcher().get(&site.url("/article")).await.expect("page");

    assert_eq!(page.url, site.url("/article"));
    assert_eq!(page.kind, PageKind::Html);
    assert!(page.text.contains("<p>Привет, мир</p>"));
    let requests = site.requests().await;
    let agent = requests[0]
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok());
    assert_eq!(agent, Some(FetchConfig::default().user_agent.as_str()));
}

#[tokio::test]
async fn plain_text_and_undeclared_html_are_read() {
    let site = FakeSite::start().await;
    site.serve(
        "/notes.txt",
        ResponseTemplate::new(200).set_body_string("Just words."),
    )
    .await;
    site.serve(
        "/bare",
        ResponseTemplate::new(200)
            .set_body_bytes(b"<!doctype html><html><p>hi</p></html>".to_vec()),
    )
    .await;

    let text = fetcher().get(&site.url("/notes.txt")).await.expect("text");
    assert_eq!(
        (text.kind, text.text.as_str()),
        (PageKind::PlainText, "Just words.")
    );
    let bare = fetcher()
        .get(&site.url("/bare"))
        .await
        .expect("sniffed page");
    assert_eq!(bare.kind, PageKind::Html);
}

#[tokio::test]
async fn a_redirect_chain_of_five_hops_is_followed_to_the_final_url() {
    let site = FakeSite::start().await;
    for hop in 0..5 {
        site.redirect(&format!("/r{hop}"), &format!("/r{}", hop + 1))
            .await;
    }
    site.redirect("/r5", "/article").await;
    site.html("/article", "<html><p>arrived</p></html>").await;

    let page = fetcher()
        .get(&site.url("/r1"))
        .await
        .expect("page after 5 redirects");

    assert_eq!(page.url, site.url("/article"));
    assert!(page.text.contains("arrived"));
}

#[tokio::test]
async fn a_sixth_redirect_is_refused() {
    let site = FakeSite::start().await;
    for hop in 0..6 {
        site.redirect(&format!("/r{hop}"), &format!("/r{}", hop + 1))
            .await;
    }
    site.html("/r6", "<html><p>never</p></html>").await;

    assert_eq!(
        reason(&fetcher(), &site.url("/r0")).await,
        "too many redirects"
    );
    assert_eq!(site.hits("/r5").await, 1);
    assert_eq!(site.hits("/r6").await, 0);
}

#[tokio::test]
async fn error_statuses_read_as_reasons() {
    let site = FakeSite::start().await;
    site.serve("/paywall", ResponseTemplate::new(403)).await;
    site.serve("/legal", ResponseTemplate::new(451)).await;
    site.serve("/broken", ResponseTemplate::new(503)).await;
    site.serve("/busy", ResponseTemplate::new(429)).await;
    let fetcher = fetcher();

    assert_eq!(
        reason(&fetcher, &site.url("/missing")).await,
        "the page was not found (HTTP 404)"
    );
    assert_eq!(
        reason(&fetcher, &site.url("/paywall")).await,
        "the site refused access (HTTP 403)"
    );
    assert_eq!(
        reason(&fetcher, &site.url("/legal")).await,
        "the site refused access (HTTP 451)"
    );
    assert_eq!(
        reason(&fetcher, &site.url("/broken")).await,
        "the site had an error (HTTP 503)"
    );
    assert_eq!(
        reason(&fetcher, &site.url("/busy")).await,
        "the site would not serve the page (HTTP 429)"
    );
}

#[tokio::test]
async fn images_are_not_web_pages() {
    let site = FakeSite::start().await;
    site.serve(
        "/photo",
        ResponseTemplate::new(200).set_body_raw(vec![0xFF, 0xD8, 0xFF], "image/jpeg"),
    )
    .await;

    assert_eq!(
        reason(&fetcher(), &site.url("/photo")).await,
        "that link is an image, not a web page"
    );
}

#[tokio::test]
async fn an_oversized_page_with_a_content_length_is_refused() {
    let site = FakeSite::start().await;
    let big = format!("<html><p>{}</p></html>", "a".repeat(5 * 1024 * 1024));
    site.html("/big", &big).await;

    assert_eq!(
        reason(&fetcher(), &site.url("/big")).await,
        "the page is larger than 5 MB"
    );
}

#[tokio::test]
async fn an_oversized_chunked_page_is_cut_while_streaming() {
    let body = format!("<html><p>{}</p></html>", "a".repeat(6 * 1024 * 1024)).into_bytes();
    let site = RawSite::chunked("text/html", body, 64 * 1024).await;

    assert_eq!(
        reason(&fetcher(), &site.url("/big")).await,
        "the page is larger than 5 MB"
    );
}

#[tokio::test]
async fn a_small_chunked_page_is_read_whole() {
    let body = format!("<html><p>{RUSSIAN}</p></html>").into_bytes();
    let site = RawSite::chunked("text/html; charset=utf-8", body, 7).await;

    let page = fetcher().get(&site.url("/")).await.expect("page");
    assert!(page.text.contains(RUSSIAN));
}

#[tokio::test]
async fn a_gzip_page_is_decompressed() {
    let site = FakeSite::start().await;
    let html = format!("<html><p>{RUSSIAN}</p></html>");
    let response = ResponseTemplate::new(200)
        .insert_header("content-encoding", "gzip")
        .set_body_raw(gzip(html.as_bytes()), "text/html; charset=utf-8");
    site.serve("/zipped", response).await;

    let page = fetcher().get(&site.url("/zipped")).await.expect("page");

    assert_eq!(page.text, html);
}

#[tokio::test]
async fn a_gzip_page_is_limited_after_decompression() {
    let site = FakeSite::start().await;
    let html = format!("<html><p>{}</p></html>", "a".repeat(6 * 1024 * 1024));
    let packed = gzip(html.as_bytes());
    assert!(
        packed.len() < 64 * 1024,
        "the compressed body is far under the limit"
    );
    let response = ResponseTemplate::new(200)
        .insert_header("content-encoding", "gzip")
        .set_body_raw(packed, "text/html");
    site.serve("/bomb", response).await;

    assert_eq!(
        reason(&fetcher(), &site.url("/bomb")).await,
        "the page is larger than 5 MB"
    );
}

#[tokio::test]
async fn a_page_that_stalls_times_out_with_the_configured_limit() {
    let config = FetchConfig {
        timeout: Duration::from_millis(250),
        ..fetch_config()
    };
    let fetcher = Fetcher::new(config).expect("fetcher");
    let site = FakeSite::start().await;
    let slow = ResponseTemplate::new(200)
        .set_delay(Duration::from_secs(5))
        .set_body_raw("<html></html>", "text/html");
    site.serve("/slow", slow).await;
    let halfway = RawSite::stalling("text/html", b"<html><p>the first half").await;

    assert_eq!(
        reason(&fetcher, &site.url("/slow")).await,
        "the site could not be reached"
    );
    assert_eq!(
        reason(&fetcher, &halfway.url("/")).await,
        "the site could not be reached"
    );
    assert_eq!(halfway.hits(), 1);
}

#[tokio::test]
async fn windows_1251_declared_only_in_meta_is_decoded() {
    let site = FakeSite::start().await;
    let html = format!(
        r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body><p>{RUSSIAN}</p></body></html>"#
    );
    let body = WINDOWS_1251.encode(&html).0.into_owned();
    site.serve(
        "/meta",
        ResponseTemplate::new(200).set_body_raw(body, "text/html"),
    )
    .await;

    let page = fetcher().get(&site.url("/meta")).await.expect("page");

    assert!(page.text.contains(RUSSIAN), "{}", page.text);
}

#[tokio::test]
async fn windows_1251_declared_only_in_the_header_is_decoded() {
    let site = FakeSite::start().await;
    let body = WINDOWS_1251
        .encode(&format!("<html><p>{RUSSIAN}</p></html>"))
        .0
        .into_owned();
    let response = ResponseTemplate::new(200).set_body_raw(body, "text/html; charset=windows-1251");
    site.serve("/header", response).await;

    let page = fetcher().get(&site.url("/header")).await.expect("page");

    assert!(page.text.contains(RUSSIAN), "{}", page.text);
}

#[tokio::test]
async fn a_closed_port_and_an_unknown_name_read_as_reasons() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url");
    assert_eq!(
        reason(&fetcher(), &url).await,
        "the site could not be reached"
    );

    let dns = StaticDns::one("news.example", "127.0.0.1:9".parse().expect("addr"));
    let fetcher = Fetcher::with_resolver(guarded_fetch_config(), dns).expect("fetcher");
    let unknown = Url::parse("http://nowhere.example/").expect("url");
    assert_eq!(
        reason(&fetcher, &unknown).await,
        "the site could not be found"
    );
}

#[tokio::test]
async fn only_the_web_ports_are_fetched_in_production() {
    let site = FakeSite::start().await;
    site.html("/admin", "<html><p>internal</p></html>").await;
    let dns = StaticDns::one("news.example", site.addr());
    let config = FetchConfig {
        allow_private_addresses: false,
        ..fetch_config()
    };
    let fetcher = Fetcher::with_resolver(config, dns).expect("fetcher");
    let url = Url::parse(&format!("http://news.example:{}/admin", site.port())).expect("url");
    assert_eq!(
        reason(&fetcher, &url).await,
        "only links on the usual web ports can be read"
    );
    assert_eq!(site.hits("/admin").await, 0);
}

#[tokio::test]
async fn the_guard_refuses_loopback_in_every_spelling_before_connecting() {
    let site = FakeSite::start().await;
    site.html("/secret", "<html><p>internal</p></html>").await;
    let fetcher = Fetcher::new(guarded_fetch_config()).expect("fetcher");
    let port = site.port();

    for spelling in [
        format!("http://127.0.0.1:{port}/secret"),
        format!("http://localhost:{port}/secret"),
        format!("http://[::1]:{port}/secret"),
        format!("http://2130706433:{port}/secret"),
        format!("http://0x7f.1:{port}/secret"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret"),
        format!("http://news.example@127.0.0.1:{port}/secret"),
    ] {
        let url = Url::parse(&spelling).expect("url");
        assert_eq!(
            reason(&fetcher, &url).await,
            "that address is on a private network",
            "{spelling}"
        );
    }
    assert_eq!(site.hits("/secret").await, 0);
}

#[tokio::test]
async fn a_public_name_is_fetched_but_its_redirect_to_loopback_is_refused() {
    let site = FakeSite::start().await;
    site.html("/article", "<html><p>public news</p></html>")
        .await;
    site.redirect(
        "/moved",
        &format!("http://127.0.0.1:{}/secret", site.port()),
    )
    .await;
    site.redirect(
        "/sneaky",
        &format!("http://2130706433:{}/secret", site.port()),
    )
    .await;
    site.html("/secret", "<html><p>internal</p></html>").await;
    let dns = StaticDns::one("news.example", site.addr());
    let fetcher = Fetcher::with_resolver(guarded_fetch_config(), dns).expect("fetcher");

    let page = fetcher
        .get(&Url::parse("http://news.example/article").expect("url"))
        .await
        .expect("page");
    assert_eq!(page.url.as_str(), "http://news.example/article");
    assert!(page.text.contains("public news"));

    for path in ["/moved", "/sneaky"] {
        let url = Url::parse(&format!("http://news.example{path}")).expect("url");
        assert_eq!(
            reason(&fetcher, &url).await,
            "that address is on a private network",
            "{path}"
        );
        assert_eq!(site.hits(path).await, 1);
    }
    assert_eq!(site.hits("/secret").await, 0);
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused() {
    let site = FakeSite::start().await;
    site.redirect("/away", "ftp://files.example/report").await;

    assert_eq!(
        reason(&fetcher(), &site.url("/away")).await,
        "only http and https links can be read"
    );
}

#[tokio::test]
async fn a_pdf_is_fetched_as_bytes_by_its_type_or_its_signature() {
    let site = FakeSite::start().await;
    let body = b"%PDF-1.4\n1 0 obj << >> endobj\n".to_vec();
    site.serve(
        "/paper.pdf",
        ResponseTemplate::new(200).set_body_raw(body.clone(), "application/pdf"),
    )
    .await;
    site.serve(
        "/download",
        ResponseTemplate::new(200).set_body_raw(body.clone(), "application/octet-stream"),
    )
    .await;

    for path in ["/paper.pdf", "/download"] {
        let page = fetcher().get(&site.url(path)).await.expect(path);
        assert_eq!(
            (page.kind, &page.bytes, page.text.as_str()),
            (PageKind::Pdf, &body, "")
        );
    }
}

#[tokio::test]
async fn a_large_unlabelled_file_is_refused_for_what_it_is_not_its_size() {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(6 * 1024 * 1024, b'x');
    let site = RawSite::chunked("application/octet-stream", pdf.clone(), 64 * 1024).await;
    let mut video = vec![0u8, 0, 0, 0x18];
    video.extend_from_slice(b"ftypmp42");
    video.resize(6 * 1024 * 1024, 0);
    let other = RawSite::chunked("application/octet-stream", video, 64 * 1024).await;

    // Over the page limit but under the PDF limit: read as a PDF.
    let page = fetcher().get(&site.url("/doc")).await.expect("pdf");
    assert_eq!((page.kind, page.bytes.len()), (PageKind::Pdf, pdf.len()));
    assert_eq!(
        reason(&fetcher(), &other.url("/clip")).await,
        "that link is a binary file, not a web page"
    );
    let small_pdfs = Fetcher::new(FetchConfig {
        max_pdf_bytes: 1024 * 1024,
        ..fetch_config()
    })
    .expect("fetcher");
    let err = small_pdfs
        .get(&site.url("/doc"))
        .await
        .expect_err("too large");
    assert_eq!(
        (err.kind(), err.to_string().as_str()),
        ("too_large", "the page is larger than 1 MB")
    );
}

#[tokio::test]
async fn a_redirect_to_any_non_public_address_is_refused_before_connecting() {
    let site = FakeSite::start().await;
    site.html("/secret", "<html><p>internal</p></html>").await;
    let port = site.port();
    // Only 127.0.0.1 is a real target; the others are refused by the policy, no packet sent.
    let targets = [
        format!("http://127.0.0.1:{port}/secret"),
        format!("//127.0.0.1:{port}/secret"),
        format!("http://0.0.0.0:{port}/secret"),
        format!("http://0177.0.0.1:{port}/secret"),
        format!("http://0x7f000001:{port}/secret"),
        format!("http://127.1:{port}/secret"),
        format!("http://%31%32%37.0.0.1:{port}/secret"),
        format!("http://[::1]:{port}/secret"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret"),
        format!("http://[64:ff9b::7f00:1]:{port}/secret"),
        format!("http://news.example@127.0.0.1:{port}/secret"),
        format!("http://127.0.0.1:{port}/secret#@news.example"),
        "http://10.0.0.1/".to_owned(),
        "http://172.16.5.4/".to_owned(),
        "http://192.168.1.1/admin".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://2852039166/latest/meta-data/".to_owned(),
        "http://100.64.0.1/".to_owned(),
        "http://224.0.0.1/".to_owned(),
        "http://255.255.255.255/".to_owned(),
        "https://[fd00::1]/".to_owned(),
        "http://[fe80::1]/".to_owned(),
        "http://[ff02::1]/".to_owned(),
        "http://[::]/".to_owned(),
        "http://[2002:a9fe:a9fe::1]/".to_owned(),
    ];
    for (i, target) in targets.iter().enumerate() {
        site.redirect(&format!("/hop{i}"), target).await;
    }
    // A chain: the first hops are public, the last one is not.
    site.redirect("/chain0", "/chain1").await;
    site.redirect("/chain1", "http://news.example/chain2").await;
    site.redirect("/chain2", "http://169.254.169.254/").await;
    let dns = StaticDns::one("news.example", site.addr());
    let fetcher = Fetcher::with_resolver(guarded_fetch_config(), dns).expect("fetcher");

    for (i, target) in targets.iter().enumerate() {
        let url = Url::parse(&format!("http://news.example/hop{i}")).expect("url");
        let err = fetcher.get(&url).await.expect_err(target);
        assert_eq!(
            (err.to_string().as_str(), err.kind()),
            ("that address is on a private network", "private_address"),
            "{target}"
        );
    }
    let chain = Url::parse("http://news.example/chain0").expect("url");
    assert_eq!(
        reason(&fetcher, &chain).await,
        "that address is on a private network"
    );
    assert_eq!(
        site.hits("/chain2").await,
        1,
        "the public hops were followed"
    );
    assert_eq!(site.hits("/secret").await, 0);
}

#[tokio::test]
async fn a_pdf_over_the_bytes_in_flight_but_within_the_pdf_limit_is_read() {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(512 * 1024, b'x');
    let site = RawSite::chunked("application/pdf", pdf.clone(), 64 * 1024).await;
    let fetcher = Fetcher::new(FetchConfig {
        max_body_bytes: 128 * 1024,
        max_pdf_bytes: 1024 * 1024,
        max_bytes_in_flight: 256 * 1024,
        ..fetch_config()
    })
    .unwrap();
    let page = fetcher
        .get(&site.url("/doc"))
        .await
        .expect("read, not busy");
    assert_eq!((page.kind, page.bytes.len()), (PageKind::Pdf, pdf.len()));
}
