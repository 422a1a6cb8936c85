//! Article pages the tests write themselves, laid out as news sites lay them out.

/// An article page with a menu, a cookie banner, related links and a footer around it.
pub fn article(title: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Daily Test</title>
<meta property="og:site_name" content="Daily Test"></head>
<body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
<article><h1>{title}</h1>
{body}</article>
<aside class="related"><h3>Related articles</h3><ul><li><a href="/x">Another story entirely</a></li></ul></aside>
<footer>Copyright Daily Test. All rights reserved.</footer>
</body></html>"#
    )
}

/// A ten-paragraph article about a city council and its budget, sentences of varied length.
pub fn council_article() -> String {
    article(
        "City council approves new budget for schools",
        &[
            "The city council approved a new budget on Monday that raises spending on public schools by twelve percent.",
            "The vote was seven to four after a debate that lasted more than six hours.",
            "Supporters said the money would pay for smaller classes, new science labs and higher salaries for teachers.",
            "Opponents argued that the plan relies on optimistic revenue forecasts and could force tax increases next year.",
            "The mayor, who proposed the budget in March, called the vote a turning point for the city's children.",
            "Parents who attended the meeting applauded when the final tally was announced.",
            "The budget also includes funding for road repairs, a new library branch and extended bus service.",
            "Several council members asked for quarterly reports on how the school money is spent.",
            "The finance committee will publish its first report in October, according to the council clerk.",
            "The new budget takes effect on the first of July and runs for twelve months.",
        ],
    )
}
