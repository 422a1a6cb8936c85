//! The fake news site on 127.0.0.1:0: generated articles, some slow, some 404, some huge.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::{Router, routing::get};

/// What a page does when fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An article, answered at once.
    Ok,
    /// An article, answered after this many milliseconds.
    Slow(u64),
    /// 404 Not Found.
    Missing,
    /// An HTML page larger than the fetcher's 5 MiB limit.
    Huge,
}

impl Kind {
    /// Whether the bot can make a digest of it.
    pub fn summarizable(self) -> bool {
        matches!(self, Kind::Ok | Kind::Slow(_))
    }
}

struct SiteState {
    kinds: Vec<Kind>,
    hits: Vec<AtomicU64>,
    huge: Bytes,
}

/// A running site; it stops when the runtime ends.
pub struct Site {
    addr: SocketAddr,
    state: Arc<SiteState>,
}

impl Site {
    /// Serves `/a/{n}` for every page kind in `kinds`.
    pub async fn start(kinds: Vec<Kind>) -> std::io::Result<Self> {
        let hits = kinds.iter().map(|_| AtomicU64::new(0)).collect();
        // One 6 MiB body shared by every huge page, so the site itself stays small.
        let filler = "<p>Filler text that goes on and on without an end in sight.</p>\n";
        let huge = format!(
            "<!doctype html><html><head><title>Huge</title></head><body>{}</body></html>",
            filler.repeat(6 * 1024 * 1024 / filler.len() + 1)
        );
        let state = Arc::new(SiteState {
            kinds,
            hits,
            huge: Bytes::from(huge),
        });
        let app = Router::new()
            .route("/a/{n}", get(page))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake site stopped: {e}");
            }
        });
        Ok(Self { addr, state })
    }

    /// The link to page `n`.
    pub fn url(&self, n: usize) -> String {
        format!("http://{}/a/{n}", self.addr)
    }

    /// How many times each page was fetched so far.
    pub fn hits(&self) -> Vec<u64> {
        let hits = self.state.hits.iter();
        hits.map(|h| h.load(Ordering::Relaxed)).collect()
    }
}

async fn page(State(state): State<Arc<SiteState>>, Path(n): Path<usize>) -> Response {
    let Some(kind) = state.kinds.get(n).copied() else {
        return status(StatusCode::NOT_FOUND);
    };
    state.hits[n].fetch_add(1, Ordering::Relaxed);
    let body = match kind {
        Kind::Missing => return status(StatusCode::NOT_FOUND),
        Kind::Huge => state.huge.clone(),
        Kind::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Bytes::from(article(n))
        }
        Kind::Ok => Bytes::from(article(n)),
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response {
    let mut response = Response::new(Body::from("not here"));
    *response.status_mut() = code;
    response
}

const SUBJECTS: &[&str] = &[
    "The city council",
    "A spokesperson for the ministry",
    "Local farmers",
    "The research team",
    "Several residents",
    "The company's chief executive",
    "Teachers at the school",
    "Officials in the region",
    "The museum's director",
    "Engineers working on the bridge",
];
const VERBS: &[&str] = &[
    "announced",
    "questioned",
    "welcomed",
    "criticised",
    "postponed",
    "described",
    "approved",
    "investigated",
    "defended",
    "outlined",
];
const OBJECTS: &[&str] = &[
    "a plan to rebuild the harbour",
    "the new budget for public transport",
    "changes to the water supply",
    "a study of the river's wildlife",
    "the decision to close the old library",
    "an agreement with neighbouring towns",
    "the results of last year's survey",
    "a proposal for cheaper housing",
    "the timetable for the festival",
    "a report on air quality",
];
const TAILS: &[&str] = &[
    "on Monday",
    "after a long debate",
    "despite strong objections from the opposition",
    "in a statement published late in the evening",
    "during a meeting that lasted more than four hours",
    "according to documents seen by reporters",
    "while promising further consultation with the public next spring",
    "",
];

/// A deterministic news article for page `n`: a title and 8-12 paragraphs of varied sentences.
pub fn article(n: usize) -> String {
    let mut rng = Rng(n as u64 * 7919 + 17);
    let pick = |rng: &mut Rng, list: &[&'static str]| list[rng.below(list.len())];
    let title = format!(
        "{} {} {} (story {n})",
        pick(&mut rng, SUBJECTS),
        pick(&mut rng, VERBS),
        pick(&mut rng, OBJECTS)
    );
    let paragraphs: Vec<String> = (0..8 + rng.below(5))
        .map(|_| {
            let mut paragraph = String::new();
            for _ in 0..2 + rng.below(4) {
                let tail = pick(&mut rng, TAILS);
                let sentence = format!(
                    "{} {} {}{}{}. ",
                    pick(&mut rng, SUBJECTS),
                    pick(&mut rng, VERBS),
                    pick(&mut rng, OBJECTS),
                    if tail.is_empty() { "" } else { " " },
                    tail
                );
                paragraph.push_str(&sentence);
            }
            paragraph
        })
        .collect();
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    super::pages::article(&title, &paragraphs)
}

/// A small deterministic generator (xorshift), so every run sends the same traffic.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0 | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
