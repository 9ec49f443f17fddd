//! The documents' claims as data: `claims/claims.toml` holds, per claim, the documents' figure
//! in their words, the range read from it by a stated rule, and what measured here tests it.
//! This module reads that file and turns each entry into figures the report can evaluate.

use super::figures::{self, C10K_C32, C10K_CPU, C10K_CPU_POOL, C10K_IO, FOOTPRINT};
use super::figures::{CPU_INLINE, CPU_POOL, IO_5K_50MS, IO_10K};
use super::range_text::read_range;
use super::{Claim, Figure, Unit};
use crate::c10k::Model;
use crate::c10k::orchestrate::Measured;
use crate::probe::LatencySummary;
use serde::Deserialize;

/// The catalogue as the repository holds it.
const CATALOGUE: &str = include_str!("../../claims/claims.toml");

/// Every claim of the documents and the figures that test it.
pub fn claims() -> Vec<Claim> {
    // The file is part of the build and `tests` read it whole: a fault here is the repository's.
    read(CATALOGUE).unwrap_or_else(|why| panic!("claims/claims.toml: {why}"))
}

/// Reads a catalogue: every claim, each range checked against its figure's unit.
pub fn read(text: &str) -> Result<Vec<Claim>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
    file.claim.into_iter().map(ClaimEntry::into_claim).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    claim: Vec<ClaimEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimEntry {
    id: String,
    claim: String,
    docs: String,
    /// The range of each figure that gives none of its own.
    range: Option<String>,
    reading: Option<String>,
    beyond_this_machine: Option<String>,
    figure: Vec<FigureEntry>,
}

impl ClaimEntry {
    fn into_claim(self) -> Result<Claim, String> {
        let id = self.id;
        let figures = self
            .figure
            .into_iter()
            .map(|entry| {
                let label = entry.label.clone();
                entry
                    .into_figure(self.range.as_deref())
                    .map_err(|why| format!("{id}, \"{label}\": {why}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if figures.is_empty() {
            return Err(format!("{id} has no figure"));
        }
        Ok(Claim {
            id,
            claim: self.claim,
            docs: self.docs,
            reading: self.reading,
            figures,
            beyond_this_machine: self.beyond_this_machine,
        })
    }
}

/// One figure: a label, perhaps a range of its own, and exactly one source.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FigureEntry {
    label: String,
    range: Option<String>,
    reading: Option<String>,
    bench: Option<String>,
    ratio: Option<[String; 2]>,
    share_of_core: Option<ShareOfCore>,
    herd: Option<String>,
    footprint: Option<FootprintEntry>,
    footprint_ratio: Option<[String; 2]>,
    c10k: Option<C10kEntry>,
    c10k_ratio: Option<C10kRatioEntry>,
    blocked_loop: Option<BlockedLoopEntry>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareOfCore {
    bench: String,
    per_second: f64,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Size {
    Rss,
    Virtual,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FootprintEntry {
    unit: String,
    size: Size,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum C10kMetric {
    P50,
    P99,
    PeakRss,
    RssPerConnection,
    AllServed,
    InFlight,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct C10kEntry {
    scenario: String,
    model: String,
    metric: C10kMetric,
    /// For `in_flight`: how long each request is in service.
    service_ms: Option<f64>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RatioMetric {
    PeakRss,
    ServerCpu,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct C10kRatioEntry {
    scenario: String,
    of: String,
    over: String,
    metric: RatioMetric,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Percentile {
    P50,
    P99,
    Max,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockedLoopEntry {
    bench: String,
    percentile: Percentile,
}

/// What a source contributes to its figure.
struct Reads {
    unit: Unit,
    source: String,
    command: &'static str,
    benchmarks: Vec<String>,
    measure: super::Measure,
}

impl FigureEntry {
    fn into_figure(self, claim_range: Option<&str>) -> Result<Figure, String> {
        let range_text = self
            .range
            .as_deref()
            .or(claim_range)
            .ok_or("no range, neither its own nor its claim's")?;
        let (range, range_unit) = read_range(range_text)?;
        let reads = self.reads()?;
        if range_unit != reads.unit {
            return Err(format!(
                "the range \"{range_text}\" is in {range_unit:?}, the figure in {:?}",
                reads.unit
            ));
        }
        Ok(Figure {
            label: self.label,
            source: reads.source,
            unit: reads.unit,
            range,
            reading: self.reading,
            command: reads.command,
            benchmarks: reads.benchmarks,
            measure: reads.measure,
        })
    }

    fn reads(&self) -> Result<Reads, String> {
        let mut sources = Vec::new();
        if let Some(id) = &self.bench {
            sources.push(bench(id.clone()));
        }
        if let Some([many, one]) = &self.ratio {
            sources.push(ratio(many.clone(), one.clone()));
        }
        if let Some(share) = &self.share_of_core {
            sources.push(share_of_core(share.clone()));
        }
        if let Some(id) = &self.herd {
            sources.push(herd(id.clone()));
        }
        if let Some(entry) = &self.footprint {
            sources.push(footprint(entry.clone()));
        }
        if let Some([of, over]) = &self.footprint_ratio {
            sources.push(footprint_ratio(of.clone(), over.clone()));
        }
        if let Some(entry) = &self.c10k {
            sources.push(c10k(entry.clone())?);
        }
        if let Some(entry) = &self.c10k_ratio {
            sources.push(c10k_ratio(entry.clone())?);
        }
        if let Some(entry) = &self.blocked_loop {
            sources.push(blocked_loop(entry.clone()));
        }
        match sources.len() {
            1 => Ok(sources.pop().expect("one")),
            n => Err(format!(
                "reads {n} sources; give exactly one of bench, ratio, share_of_core, herd, \
                 footprint, footprint_ratio, c10k, c10k_ratio, blocked_loop"
            )),
        }
    }
}

fn bench(id: String) -> Reads {
    Reads {
        unit: Unit::Nanoseconds,
        source: id.clone(),
        command: figures::BENCH,
        benchmarks: vec![id.clone()],
        measure: Box::new(move |r| r.mean(&id)),
    }
}

fn ratio(many: String, one: String) -> Reads {
    Reads {
        unit: Unit::Number,
        source: format!("{many} ÷ {one}"),
        command: figures::BENCH,
        benchmarks: vec![many.clone(), one.clone()],
        measure: Box::new(move |r| Some(r.mean(&many)?.with(r.mean(&one)?, |m, o| m / o))),
    }
}

fn share_of_core(share: ShareOfCore) -> Reads {
    let ShareOfCore { bench, per_second } = share;
    Reads {
        unit: Unit::PercentOfCore,
        source: format!("{} × {bench}", crate::units::grouped(per_second)),
        command: figures::BENCH,
        benchmarks: vec![bench.clone()],
        measure: Box::new(move |r| Some(r.mean(&bench)?.map(|ns| per_second * ns / 1e9 * 100.0))),
    }
}

fn herd(id: String) -> Reads {
    Reads {
        unit: Unit::Number,
        source: format!("{id} (voluntary switches of the workers ÷ connections)"),
        command: figures::BENCH,
        benchmarks: vec![id.clone()],
        measure: Box::new(move |r| Some(r.herd_of(&id)?.map(|h| h.wakeups_per_connection))),
    }
}

fn footprint(entry: FootprintEntry) -> Reads {
    let FootprintEntry { unit, size } = entry;
    let field = match size {
        Size::Rss => "RSS",
        Size::Virtual => "virtual",
    };
    Reads {
        unit: Unit::Bytes,
        source: format!("costs footprint: {unit}, {field} per unit"),
        command: FOOTPRINT,
        benchmarks: Vec::new(),
        measure: Box::new(move |r| {
            Some(r.footprint_of(&unit)?.map(|f| match size {
                Size::Rss => f.rss_per_unit,
                Size::Virtual => f.virtual_per_unit,
            }))
        }),
    }
}

fn footprint_ratio(of: String, over: String) -> Reads {
    Reads {
        unit: Unit::Number,
        source: format!("costs footprint: {of} ÷ {over}"),
        command: FOOTPRINT,
        benchmarks: Vec::new(),
        measure: Box::new(move |r| {
            let (of, over) = (r.footprint_of(&of)?, r.footprint_of(&over)?);
            Some(of.with(over, |of, over| of.rss_per_unit / over.rss_per_unit))
        }),
    }
}

/// The command that measures a c10k scenario the claims read.
fn c10k_command(scenario: &str) -> Result<&'static str, String> {
    match scenario {
        IO_10K => Ok(C10K_IO),
        IO_5K_50MS => Ok(C10K_C32),
        CPU_INLINE => Ok(C10K_CPU),
        CPU_POOL => Ok(C10K_CPU_POOL),
        other => Err(format!(
            "no c10k scenario \"{other}\" (known: {IO_10K}, {IO_5K_50MS}, {CPU_INLINE}, {CPU_POOL})"
        )),
    }
}

fn model(id: &str) -> Result<Model, String> {
    Model::from_id(id).ok_or_else(|| format!("no c10k model \"{id}\""))
}

impl C10kMetric {
    fn unit(self) -> Unit {
        match self {
            C10kMetric::P50 | C10kMetric::P99 => Unit::Nanoseconds,
            C10kMetric::PeakRss | C10kMetric::RssPerConnection => Unit::Bytes,
            C10kMetric::AllServed | C10kMetric::InFlight => Unit::Number,
        }
    }

    /// What it reads of a run; `service_ms` for Little's law.
    fn describe(self, service_ms: f64) -> String {
        match self {
            C10kMetric::P50 => "p50".into(),
            C10kMetric::P99 => "p99".into(),
            C10kMetric::PeakRss => "peak RSS".into(),
            C10kMetric::RssPerConnection => "peak RSS ÷ connections held".into(),
            C10kMetric::AllServed => "connections held with every request answered".into(),
            C10kMetric::InFlight => format!("throughput × {service_ms} ms (Little's law)"),
        }
    }

    fn of(self, m: &Measured, service_ms: f64) -> Option<f64> {
        match self {
            C10kMetric::P50 => figures::p50(m),
            C10kMetric::P99 => figures::p99(m),
            C10kMetric::PeakRss => figures::rss(m),
            C10kMetric::RssPerConnection => figures::rss_per_connection(m),
            C10kMetric::AllServed => figures::all_served(m),
            C10kMetric::InFlight => figures::in_flight(m, service_ms / 1e3),
        }
    }
}

fn c10k(entry: C10kEntry) -> Result<Reads, String> {
    let command = c10k_command(&entry.scenario)?;
    let model = model(&entry.model)?;
    let metric = entry.metric;
    let service_ms = match metric {
        C10kMetric::InFlight => entry
            .service_ms
            .filter(|ms| *ms > 0.0)
            .ok_or("in_flight needs service_ms, each request's time in service")?,
        _ => 0.0,
    };
    let scenario = entry.scenario;
    Ok(Reads {
        unit: metric.unit(),
        source: format!(
            "costs c10k {scenario}: {}, {}",
            model.id(),
            metric.describe(service_ms)
        ),
        command,
        benchmarks: Vec::new(),
        measure: Box::new(move |r| {
            r.c10k_run(&scenario, model)?
                .and_then(|m| metric.of(m, service_ms))
        }),
    })
}

fn c10k_ratio(entry: C10kRatioEntry) -> Result<Reads, String> {
    let command = c10k_command(&entry.scenario)?;
    let (of, over) = (model(&entry.of)?, model(&entry.over)?);
    let (what, metric): (&str, fn(&Measured) -> f64) = match entry.metric {
        RatioMetric::PeakRss => ("peak RSS ratio", |m| m.server_peak_rss_bytes as f64),
        RatioMetric::ServerCpu => ("server CPU seconds ratio", |m| m.server_cpu_s),
    };
    let scenario = entry.scenario;
    Ok(Reads {
        unit: Unit::Number,
        source: format!("costs c10k {scenario}: {what}"),
        command,
        benchmarks: Vec::new(),
        measure: Box::new(move |r| {
            let (of, over) = (r.c10k_run(&scenario, of)?, r.c10k_run(&scenario, over)?);
            Some(of.with(over, |of, over| {
                metric(of) / metric(over).max(f64::MIN_POSITIVE)
            }))
        }),
    })
}

impl Percentile {
    fn name(self) -> &'static str {
        match self {
            Percentile::P50 => "p50",
            Percentile::P99 => "p99",
            Percentile::Max => "max",
        }
    }

    fn of(self, summary: &LatencySummary) -> f64 {
        (match self {
            Percentile::P50 => summary.p50_ns,
            Percentile::P99 => summary.p99_ns,
            Percentile::Max => summary.max_ns,
        }) as f64
    }
}

fn blocked_loop(entry: BlockedLoopEntry) -> Reads {
    let BlockedLoopEntry { bench, percentile } = entry;
    Reads {
        unit: Unit::Nanoseconds,
        source: format!("{bench} ({} probe latency)", percentile.name()),
        command: figures::BENCH,
        benchmarks: vec![bench.clone()],
        measure: Box::new(move |r| Some(r.latency(&bench)?.map(|s| percentile.of(s)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Range;

    const ONE: &str = r#"
        [[claim]]
        id = "C99"
        claim = "a claim"
        docs = "about 5 µs"
        range = "about 5 µs"
        figure = [{ label = "a bench", bench = "syscall/getppid" }]
    "#;

    #[test]
    fn a_catalogue_entry_becomes_a_claim_with_its_figures() {
        let claims = read(ONE).unwrap();
        assert_eq!(claims.len(), 1);
        let figure = &claims[0].figures[0];
        assert_eq!(figure.range, Range::between(2500.0, 10_000.0));
        assert_eq!(figure.benchmarks, ["syscall/getppid"]);
        assert_eq!(figure.command, figures::BENCH);
    }

    #[test]
    fn a_faulty_entry_is_refused_with_the_claim_and_figure_it_is_in() {
        let faults = [
            // A time range on a ratio.
            ONE.replace(
                "bench = \"syscall/getppid\"",
                "ratio = [\"syscall/getppid\", \"fork/x\"]",
            ),
            // Two sources, and none.
            ONE.replace("}]", ", herd = \"herd/accept/32\" }]"),
            ONE.replace(", bench = \"syscall/getppid\"", ""),
            // No range anywhere.
            ONE.replace("range = \"about 5 µs\"", ""),
            // A key the catalogue does not know, a model and a scenario it does not know.
            ONE.replace("docs =", "doc ="),
            ONE.replace(
                "bench = \"syscall/getppid\"",
                "c10k = { scenario = \"io_10000c_10ms\", model = \"node\", metric = \"p50\" }",
            ),
            ONE.replace(
                "bench = \"syscall/getppid\"",
                "c10k = { scenario = \"io_1c\", model = \"may\", metric = \"p50\" }",
            ),
            // Little's law without the time in service.
            ONE.replace("about 5 µs\"\n", "about 100\"\n").replace(
                "bench = \"syscall/getppid\"",
                "c10k = { scenario = \"io_10000c_10ms\", model = \"may\", metric = \"in_flight\" }",
            ),
        ];
        for fault in faults {
            assert!(read(&fault).is_err(), "read: {fault}");
        }
        let why = match read(&ONE.replace("}]", ", herd = \"herd/accept/32\" }]")) {
            Err(why) => why,
            Ok(_) => unreachable!(),
        };
        assert!(why.starts_with("C99, \"a bench\""), "{why}");
    }
}
