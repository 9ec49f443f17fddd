//! Every host's figures side by side. Each host that ran `scripts/claims.sh` leaves one
//! results file (every figure of the claims report, the ladder's costs, the host's
//! fingerprint and the run that measured it); [`page`] and [`ladder_svg`] put all of them in
//! one table and one ladder, with the documents' claim beside them. Costs depend on the host
//! far more than on anything in this code, so a figure is only ever compared with another
//! host's beside it, never merged with it.

use crate::claims::{LADDER, Results, Row, Standing, Unit, claims, evaluate, xml_escape};
use crate::environment::Environment;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The format of a host's results file.
pub const SCHEMA: u32 = 1;
/// Where the committed host files live, from the repository's root.
pub const HOSTS_DIR: &str = "results/hosts";

/// One host's results: what `scripts/claims.sh` measures there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostResults {
    pub schema: u32,
    /// The machine and the build: CPU and its family/model/stepping, CPU counts, kernel,
    /// virtualisation, THP, clock source, compiler, and the commit that measured.
    pub host: Environment,
    /// How the file was made: measured by `costs claims`, or imported from an earlier page.
    pub made_by: String,
    /// When the file was made, UTC.
    pub made_at: String,
    /// Every figure of the claims report, as judged when the file was made.
    pub rows: Vec<Row>,
    /// The ladder's costs this host measured.
    pub ladder: Vec<Step>,
}

/// One rung of the ladder on one host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub label: String,
    pub id: String,
    pub ns: f64,
}

impl HostResults {
    /// This host's figures from the results measured here.
    pub fn measured_here(results: &Results) -> HostResults {
        HostResults {
            schema: SCHEMA,
            host: Environment::capture(),
            made_by: "costs claims (scripts/claims.sh)".into(),
            made_at: crate::provenance::Run::now(crate::provenance::Mode::Tool).at,
            rows: evaluate(results),
            ladder: LADDER
                .iter()
                .filter_map(|(label, id)| {
                    Some(Step {
                        label: label.to_string(),
                        id: id.to_string(),
                        ns: results.mean(id)?.value,
                    })
                })
                .collect(),
        }
    }

    /// The file's name: the CPU, its family/model/stepping and the kernel build, which
    /// together decide the costs (one CPU under two kernel builds differed tenfold).
    pub fn file_name(&self) -> String {
        let h = &self.host;
        let name = format!(
            "{}-{}-{}-linux-{}",
            h.cpu_model,
            h.cpu_id,
            std::env::consts::ARCH,
            h.kernel
        );
        let slug: String = name
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mut collapsed = String::new();
        for c in slug.chars() {
            if !(c == '-' && collapsed.ends_with('-')) {
                collapsed.push(c);
            }
        }
        format!("{}.json", collapsed.trim_matches('-'))
    }

    /// A short column heading: CPU model, its family/model/stepping, the kernel.
    fn heading(&self) -> String {
        let h = &self.host;
        let id = match h.cpu_id.as_str() {
            "" => String::new(),
            id => format!(" {id}"),
        };
        format!("{}{id}<br>{}", h.cpu_model, h.kernel)
    }

    /// The host's fingerprint and build for the page, whatever of it the file records.
    fn machine(&self) -> String {
        let h = &self.host;
        let mut parts = vec![
            match h.cpu_id.as_str() {
                "" => h.cpu_model.clone(),
                id => format!("{} ({id})", h.cpu_model),
            },
            format!("{} CPUs ({} allowed)", h.cpus_online, h.cpus_allowed),
            format!("Linux {}", h.kernel),
        ];
        if h.virtualised {
            parts.push("virtualised".into());
        }
        if !h.thp.is_empty() {
            parts.push(format!("THP {}", h.thp));
        }
        if !h.clocksource.is_empty() {
            parts.push(format!("clock {}", h.clocksource));
        }
        parts.push(h.rustc.clone());
        parts.push(format!("commit {}", h.commit));
        if !h.mitigations.is_empty() {
            // The names only: how each is mitigated is in the host file.
            let names: Vec<&str> = h
                .mitigations
                .iter()
                .map(|m| m.split_once(':').map_or(m.as_str(), |(name, _)| name))
                .collect();
            parts.push(format!("mitigations: {}", names.join(", ")));
        }
        parts.join("; ")
    }

    /// How many figures were measured at all.
    fn measured(&self) -> usize {
        self.rows.iter().filter(|r| r.value.is_some()).count()
    }
}

/// Writes `results` as `dir/<host>.json` and returns the path.
pub fn keep(dir: &Path, results: &HostResults) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(results.file_name());
    let mut json = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    json.push('\n');
    crate::durable::write_atomically(&path, json.as_bytes())?;
    Ok(path)
}

/// Every host file in `dir`, oldest measurement first.
pub fn load_all(dir: &Path) -> Result<Vec<(PathBuf, HostResults)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut hosts = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let host: HostResults = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a host results file: {e}", path.display()))?;
        if host.schema != SCHEMA {
            return Err(format!(
                "{}: schema {}, this build reads {SCHEMA}",
                path.display(),
                host.schema
            ));
        }
        hosts.push((path, host));
    }
    hosts.sort_by(|a, b| a.1.made_at.cmp(&b.1.made_at).then(a.0.cmp(&b.0)));
    Ok(hosts)
}

/// A measured value and how it stands against the claim's range, in a few characters:
/// `255.9 µs ✓`, `3.06 ms ▲×3.1`, `71.3 µs ▼×1.4`.
fn cell(value: Option<f64>, unit: Unit, standing: Option<Standing>) -> String {
    let Some(value) = value else {
        return "—".into();
    };
    let mark = match standing {
        Some(Standing::Within) => "✓".to_string(),
        Some(Standing::Above { factor }) => format!("▲×{}", short_factor(factor)),
        Some(Standing::Below { factor }) => format!("▼×{}", short_factor(factor)),
        _ => "?".to_string(),
    };
    format!("{} {mark}", unit.format(value))
}

fn short_factor(factor: f64) -> String {
    match factor {
        f if f.is_infinite() => "∞".into(),
        f if f >= 10.0 => format!("{f:.0}"),
        f => format!("{f:.1}"),
    }
}

/// The page: one row per figure of the claims catalogue, one column per host, the
/// documents' claim and range beside them; then each host's fingerprint and provenance.
pub fn page(hosts: &[(PathBuf, HostResults)], files_from_page: &Path) -> String {
    let mut out = String::from(
        "# Every host's figures, side by side\n\n\
         Generated by `costs hosts` from the host files in `results/hosts/`: one file per host \
         that ran `scripts/claims.sh` (see [adding a host](#adding-a-host)). A cell is that \
         host's figure and how it stands against the documents' range: ✓ within it, ▲ dearer \
         by ×N, ▼ cheaper by ×N, ? measured but not judged there (a short or test run), — not \
         measured. Every host is judged against today's catalogue. Compare a figure across a \
         row, never add hosts together: the same CPU under two kernel builds differed tenfold.\n\n\
         ![The cost ladder, every host](hosts-ladder.svg)\n\n",
    );
    let _ = write!(out, "| claim | figure | the documents | range read |");
    for (_, host) in hosts {
        let _ = write!(out, " {} |", host.heading());
    }
    out.push_str("\n|---|---|---|---|");
    out.push_str(&"---|".repeat(hosts.len()));
    out.push('\n');
    for claim in claims() {
        for figure in &claim.figures {
            let _ = write!(
                out,
                "| {} | {} | {} | {} |",
                claim.id,
                figure.label,
                claim.docs,
                crate::claims::range_text(figure.range, figure.unit)
            );
            for (_, host) in hosts {
                let row = host
                    .rows
                    .iter()
                    .find(|r| r.claim == claim.id && r.label == figure.label);
                let value = row.and_then(|r| r.value);
                let judged = row.is_some_and(|r| !matches!(r.verdict, Standing::NotTrusted { .. }));
                let standing = value
                    .filter(|_| judged)
                    .map(|v| Standing::of(v, figure.range));
                let _ = write!(out, " {} |", cell(value, figure.unit, standing));
            }
            out.push('\n');
        }
    }
    out.push_str("\n## The hosts\n\n| host | machine | measured by | made | figures | file |\n|---|---|---|---|---|---|\n");
    for (path, host) in hosts {
        let file = path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} of {} | [{file}]({}/{file}) |",
            host.heading(),
            host.machine(),
            host.made_by,
            host.made_at,
            host.measured(),
            host.rows.len(),
            files_from_page.display()
        );
    }
    out.push_str(
        "\n## Adding a host\n\n\
         On the new machine, from a clone of this repository: `scripts/claims.sh` (about 15 \
         minutes on 2 vCPUs: `cargo bench`, `costs footprint`, the four `costs c10k` \
         scenarios). It writes this host's file into `results/hosts/` and this page again; \
         commit the one new file and the page. The `fleet` workflow does the same on \
         GitHub's hosted runners and uploads each runner's file.\n",
    );
    out
}

/// Colours of the hosts' bars, in page order; they repeat beyond eight hosts.
const COLOURS: [&str; 8] = [
    "#4a7ab7", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646", "#2c4d75", "#772c2a",
];

/// The cost ladder with a band per rung: one bar per host, on a log scale from 1 ns to
/// 100 ms, the documents' range shaded behind. Rungs in the ladder's order, cheapest first.
pub fn ladder_svg(hosts: &[(PathBuf, HostResults)]) -> String {
    const LEFT: f64 = 250.0;
    const WIDTH: f64 = 560.0;
    const BAR: f64 = 9.0;
    const GAP: f64 = 8.0;
    const DECADES: f64 = 8.0;
    let top = 40.0 + 14.0 * hosts.len() as f64;
    let band = BAR * hosts.len().max(1) as f64 + GAP;
    let bottom = top + band * LADDER.len() as f64;
    let height = bottom + 30.0;
    let x = |ns: f64| LEFT + WIDTH * (ns.max(1.0).log10() / DECADES).min(1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">The cost ladder, every host (log scale; shaded: the range the documents claim)</text>\n",
        w = LEFT + WIDTH + 120.0,
    );
    for (i, (_, host)) in hosts.iter().enumerate() {
        let y = 36.0 + 14.0 * i as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"10\" y=\"{:.1}\" width=\"12\" height=\"9\" fill=\"{}\"/><text x=\"28\" y=\"{y:.1}\" font-size=\"10\">{}</text>",
            y - 8.0,
            COLOURS[i % COLOURS.len()],
            xml_escape(&host.heading().replace("<br>", ", "))
        );
    }
    for decade in 0..=DECADES as u32 {
        let ns = 10f64.powi(decade as i32);
        let gx = x(ns);
        let _ = writeln!(
            svg,
            "<line x1=\"{gx:.1}\" y1=\"{top}\" x2=\"{gx:.1}\" y2=\"{bottom}\" stroke=\"#ddd\"/>\
             <text x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>",
            bottom + 14.0,
            crate::units::human_ns(ns)
                .replace(".0 ", " ")
                .replace(".00 ", " ")
        );
    }
    for (rung, (label, id)) in LADDER.iter().enumerate() {
        let y = top + band * rung as f64;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 8.0,
            y + band / 2.0,
            xml_escape(label)
        );
        if let Some(range) = crate::claims::claimed_range(id) {
            let (low, high) = (x(range.low), x(range.high.min(1e8)));
            let _ = write!(
                svg,
                "<rect class=\"claimed\" x=\"{low:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f0a030\" fill-opacity=\"0.25\" stroke=\"#d08000\"/>",
                (high - low).max(1.0),
                band - GAP
            );
        }
        for (i, (_, host)) in hosts.iter().enumerate() {
            let Some(step) = host.ladder.iter().find(|s| s.id == *id) else {
                continue;
            };
            let by = y + BAR * i as f64;
            let _ = write!(
                svg,
                "<g class=\"bar\"><title>{id}: {}</title><rect x=\"{LEFT}\" y=\"{by:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8\">{}</text></g>",
                xml_escape(&host.heading().replace("<br>", ", ")),
                (x(step.ns) - LEFT).max(1.0),
                BAR - 1.0,
                COLOURS[i % COLOURS.len()],
                x(step.ns) + 4.0,
                by + BAR - 2.0,
                xml_escape(&crate::units::human_ns(step.ns))
            );
        }
        svg.push('\n');
    }
    svg.push_str("</svg>\n");
    svg
}

/// What an import made of an earlier results page, and what it could not read.
pub struct Imported {
    pub results: HostResults,
    /// Table rows whose claim and figure today's catalogue no longer has, or whose value
    /// could not be read.
    pub left_out: Vec<String>,
}

/// Reads an earlier results page (its `Measured on:` line and its claims table) into a host
/// file. Each row is matched to today's catalogue by claim and figure, and re-judged
/// against today's range. `cpu_id` stands in where the page's line has no family/model.
pub fn import_page(
    text: &str,
    page: &str,
    made_at: &str,
    cpu_id: Option<&str>,
) -> Result<Imported, String> {
    let summary = text
        .lines()
        .find_map(|line| line.strip_prefix("Measured on: "))
        .ok_or_else(|| format!("{page}: no \"Measured on:\" line names the host"))?;
    let mut host = Environment::from_summary(summary.trim())
        .ok_or_else(|| format!("{page}: cannot read the host from \"{summary}\""))?;
    if let (true, Some(id)) = (host.cpu_id.is_empty(), cpu_id) {
        host.cpu_id = id.to_string();
    }
    let catalogue = claims();
    let (mut rows, mut left_out) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| l.starts_with("| C")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let [claim, _, label, _, here, ..] = cells[..] else {
            continue;
        };
        let figure = catalogue
            .iter()
            .filter(|c| c.id == claim)
            .flat_map(|c| c.figures.iter().map(move |f| (c, f)))
            .find(|(_, f)| f.label == label);
        let Some((of, figure)) = figure else {
            left_out.push(format!("{claim} \"{label}\": not in today's catalogue"));
            continue;
        };
        let value = here.trim_end_matches(" of a core");
        let Ok((value, unit)) = crate::claims::read_quantity(value) else {
            left_out.push(format!("{claim} \"{label}\": \"{here}\" is not a value"));
            continue;
        };
        if unit != figure.unit {
            left_out.push(format!(
                "{claim} \"{label}\": \"{here}\" is not in its unit"
            ));
            continue;
        }
        rows.push(Row {
            claim: claim.to_string(),
            docs: of.docs.clone(),
            label: label.to_string(),
            source: figure.source.clone(),
            unit,
            range: figure.range,
            value: Some(value),
            verdict: Standing::of(value, figure.range),
            behind: format!("imported from {page}"),
        });
    }
    if rows.is_empty() {
        return Err(format!(
            "{page}: no row of its claims table matches today's catalogue"
        ));
    }
    let ladder = LADDER
        .iter()
        .filter_map(|(label, id)| {
            let row = rows
                .iter()
                .find(|r| r.source == *id && r.unit == Unit::Nanoseconds)?;
            Some(Step {
                label: label.to_string(),
                id: id.to_string(),
                ns: row.value?,
            })
        })
        .collect();
    Ok(Imported {
        results: HostResults {
            schema: SCHEMA,
            made_by: format!("imported from {page}, measured by commit {}", host.commit),
            host,
            made_at: made_at.to_string(),
            rows,
            ladder,
        },
        left_out,
    })
}

/// Where the README's generated table starts and ends.
pub const README_START: &str = "<!-- generated by costs claims --readme: start -->";
pub const README_END: &str = "<!-- generated by costs claims --readme: end -->";

/// The README's table of the ladder's costs on this host, with the line that says which
/// host and build measured them.
pub fn readme_block(host: &HostResults) -> String {
    let mut out = format!(
        "{README_START}\nMeasured on: {}\n\n| cost | benchmark ID | here |\n|---|---|---|\n",
        host.host.summary()
    );
    for step in &host.ladder {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} |",
            step.label,
            step.id,
            crate::units::human_ns(step.ns)
        );
    }
    out.push_str(README_END);
    out
}

/// `text` with what lies between the README's markers replaced by `block`, or `None` when
/// the markers are not there, in that order.
pub fn replace_readme_block(text: &str, block: &str) -> Option<String> {
    let start = text.find(README_START)?;
    let end = text[start..].find(README_END)? + start + README_END.len();
    Some(format!("{}{block}{}", &text[..start], &text[end..]))
}
