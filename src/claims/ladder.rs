//! The cost ladder: one bar per measured cost on a log scale, as SVG.

use super::results::Results;
use super::{Range, Unit, claims};

/// The costs on the ladder: label and benchmark ID, cheapest first as the documents order
/// them.
pub const LADDER: [(&str, &str); 16] = [
    ("function call", "coroutine_switch/function_call"),
    (
        "coroutine switch (corosensei)",
        "coroutine_switch/corosensei",
    ),
    (
        "task switch, tokio current_thread",
        "task_switch/yield/tokio_current_thread",
    ),
    ("task switch, smol", "task_switch/yield/smol_2w"),
    ("task switch, async-std", "task_switch/yield/async_std_2w"),
    ("coroutine switch, may", "coroutine_switch/may"),
    ("syscall (getppid)", "syscall/getppid"),
    ("epoll_wait, 1 ready of 10,000", "epoll_wait/epoll/10000"),
    (
        "task spawn, tokio multi_thread",
        "task_spawn/tokio_multi_thread_2w",
    ),
    (
        "thread switch, same core",
        "context_switch/thread_pipe/same_core",
    ),
    (
        "thread switch, cross core",
        "context_switch/thread_pipe/cross_core",
    ),
    ("thread spawn + join", "thread_spawn/spawn_join/2MiB"),
    ("fork, 1 MiB parent", "fork/fork_exit_wait/1MiB"),
    ("poll, 10,000 fds", "epoll_wait/poll/10000"),
    ("fork, 64 MiB parent", "fork/fork_exit_wait/64MiB"),
    ("fork, 1 GiB parent", "fork/fork_exit_wait/1GiB"),
];

/// `text` safe inside SVG's text and attributes.
pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The range the documents claim for benchmark `id`, where a claim's figure is its mean.
pub(crate) fn claimed_range(id: &str) -> Option<Range> {
    claims()
        .into_iter()
        .flat_map(|claim| claim.figures)
        .find(|figure| figure.source == id && figure.unit == Unit::Nanoseconds)
        .map(|figure| figure.range)
}

/// The cost ladder: one horizontal bar per measured cost on a log scale from 1 ns to 100 ms,
/// cheapest first, labelled with its value, titled with the machine; behind a bar, shaded,
/// the range the documents claim for it. Self-contained SVG: no fonts to embed, the
/// viewer's sans-serif draws the text.
pub fn ladder_svg(results: &Results, machine: &str) -> String {
    const LEFT: f64 = 250.0;
    const WIDTH: f64 = 560.0;
    const ROW: f64 = 24.0;
    const TOP: f64 = 62.0;
    const DECADES: f64 = 8.0; // 1 ns .. 100 ms
    let mut bars: Vec<(&str, &str, f64)> = LADDER
        .iter()
        .filter_map(|(label, id)| Some((*label, *id, results.mean(id)?.value)))
        .collect();
    bars.sort_by(|a, b| a.2.total_cmp(&b.2));
    // Which runs the bars come from: the report's build need not be the one that measured.
    let mut commits: Vec<&str> = bars
        .iter()
        .map(|(_, id, _)| {
            results
                .criterion_runs
                .get(*id)
                .map_or("an unrecorded run", |run| run.commit.as_str())
        })
        .collect();
    commits.sort_unstable();
    commits.dedup();
    let provenance = format!("bars measured by commit {}", commits.join(", "));
    let height = TOP + ROW * bars.len() as f64 + 40.0;
    let x = |ns: f64| LEFT + WIDTH * (ns.max(1.0).log10() / DECADES).min(1.0);
    // The machine line is long: the CPU and kernel on one line, the rest on the next.
    let machine_lines = match machine.match_indices(" | ").nth(3) {
        Some((at, _)) => (&machine[..at], &machine[at + 3..]),
        None => (machine, ""),
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">The cost ladder, measured (log scale)</text>\n\
         <text x=\"10\" y=\"36\" font-size=\"10\" fill=\"#555\">{}</text>\n\
         <text x=\"10\" y=\"49\" font-size=\"10\" fill=\"#555\">{}; {}</text>\n\
         <rect x=\"{legend:.1}\" y=\"12\" width=\"14\" height=\"10\" fill=\"#f0a030\" fill-opacity=\"0.35\"/>\n\
         <text x=\"{:.1}\" y=\"21\" font-size=\"10\" fill=\"#555\">the range the documents claim</text>\n",
        xml_escape(machine_lines.0),
        xml_escape(machine_lines.1),
        xml_escape(&provenance),
        LEFT + WIDTH - 160.0 + 18.0,
        w = LEFT + WIDTH + 120.0,
        legend = LEFT + WIDTH - 160.0,
    );
    for decade in 0..=DECADES as u32 {
        let ns = 10f64.powi(decade as i32);
        let gx = x(ns);
        let bottom = TOP + ROW * bars.len() as f64;
        svg.push_str(&format!(
            "<line x1=\"{gx:.1}\" y1=\"{TOP}\" x2=\"{gx:.1}\" y2=\"{bottom}\" stroke=\"#ddd\"/>\n\
             <text x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>\n",
            bottom + 14.0,
            crate::units::human_ns(ns).replace(".0 ", " ").replace(".00 ", " ")
        ));
    }
    for (i, (label, id, ns)) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        svg.push_str(&format!(
            "<g class=\"bar\"><title>{id}</title>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LEFT}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a7ab7\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>\n",
            LEFT - 8.0,
            y + ROW * 0.65,
            xml_escape(label),
            y + ROW * 0.25,
            (x(*ns) - LEFT).max(1.0),
            ROW * 0.5,
            x(*ns) + 6.0,
            y + ROW * 0.65,
            xml_escape(&crate::units::human_ns(*ns)),
        ));
        if let Some(range) = claimed_range(id) {
            let (low, high) = (x(range.low), x(range.high.min(1e8)));
            svg.push_str(&format!(
                "<rect class=\"claimed\" x=\"{low:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f0a030\" fill-opacity=\"0.25\" stroke=\"#d08000\"/>\n",
                y + 1.0,
                (high - low).max(1.0),
                ROW - 2.0,
            ));
        }
    }
    svg.push_str("</svg>\n");
    svg
}
