//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched)
//! with the study's header, a per-cell table with intervals and paired differences, every
//! chart and the scenario file.

use super::chart::ChartSvg;
use crate::compare::analysis::{Analysis, Cell};
use crate::compare::metric::{Better, Metric};
use crate::compare::stats::PairedDiff;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The metrics the table shows, in column order.
const TABLE_METRICS: [Metric; 8] = [
    Metric::Availability,
    Metric::P50Ms,
    Metric::P99Ms,
    Metric::P999Ms,
    Metric::Failed,
    Metric::AttemptsPerRequest,
    Metric::Retries,
    Metric::RecoveryS,
];

/// The page's style sheet.
const CSS: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #212529;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 12px; border-bottom: 1px solid #dde1e6; padding-bottom: 6px; }
.description { color: #495057; margin: 0 0 16px; font-size: 16px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0;
  background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 12px 16px; }
dl.meta dt { color: #6c757d; }
dl.meta dd { margin: 0; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid #dde1e6; border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { padding: 6px 7px; text-align: right; vertical-align: top; border-bottom: 1px solid #edf0f3; white-space: nowrap; }
th { background: #f1f3f5; font-weight: 600; white-space: normal; vertical-align: bottom; }
th.left, td.left { text-align: left; }
td .ci { display: block; color: #6c757d; font-size: 11px; }
td .diff { display: block; font-size: 12px; color: #6c757d; }
td .diff.better.sig { color: #146c2e; font-weight: 700; }
td .diff.worse.sig { color: #b42318; font-weight: 700; }
td .diff.sig::before { content: "\25CF\00a0"; }
.legend { color: #6c757d; font-size: 13px; margin: 8px 2px 0; }
.legend .better { color: #146c2e; font-weight: 700; }
.legend .worse { color: #b42318; font-weight: 700; }
figure { margin: 0 0 22px; background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 10px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #495057; font-size: 13.5px; padding: 6px 4px 0; }
nav.toc a { margin-right: 14px; color: #1f5fa8; text-decoration: none; }
pre.scenario { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 14px; overflow-x: auto; }
footer { color: #6c757d; font-size: 12.5px; margin-top: 28px; }
"#;

/// `s` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A metric's value for people: fractions as percentages with four decimals, latencies
/// and counts with decimals that fit their size, infinity spelled out.
fn value(m: Metric, v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".to_string()
        } else {
            "−∞".to_string()
        };
    }
    if v.is_nan() {
        return "–".to_string();
    }
    if m.is_fraction() {
        return format!("{:.4}%", v * 100.0);
    }
    let decimals = match m {
        Metric::AttemptsPerRequest => 3,
        Metric::Retries
        | Metric::Hedges
        | Metric::BudgetRefused
        | Metric::Duplicates
        | Metric::Dropped => 1,
        _ if v.abs() >= 1000.0 => 0,
        _ if v.abs() >= 100.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$}")
}

/// A difference for people: signed, in percentage points for fractions.
fn difference(m: Metric, v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+∞".to_string()
        } else {
            "−∞".to_string()
        };
    }
    let sign = if v > 0.0 {
        "+"
    } else if v < 0.0 {
        "−"
    } else {
        "±"
    };
    if m.is_fraction() {
        format!("{sign}{:.4} pp", v.abs() * 100.0)
    } else {
        format!("{sign}{}", value(m, v.abs()))
    }
}

/// The table cell of metric `m` in `cell`: mean, interval, and difference from base.
fn metric_cell(cell: &Cell, m: Metric) -> String {
    let s = cell.metric(m);
    let mut out = String::from("<td>");
    out.push_str(&estimate_html(m, &s.estimate));
    // Without a value of its own, "vs base: –" under the cell's "–" would say nothing more.
    if let Some(d) = &s.diff
        && s.estimate.mean.is_some()
    {
        out.push_str(&diff_span(m, d));
    }
    out.push_str("</td>");
    out
}

/// The difference from base, classed by direction and significance.
fn diff_span(m: Metric, d: &PairedDiff) -> String {
    let Some(mean) = d.mean else {
        return "<span class=\"diff\">vs base: –</span>".to_string();
    };
    let better = match m.better() {
        Better::Higher => mean > 0.0,
        Better::Lower => mean < 0.0,
    };
    let direction = if mean == 0.0 {
        "same"
    } else if better {
        "better"
    } else {
        "worse"
    };
    let significant = d.significant == Some(true);
    let class = if significant {
        format!("diff {direction} sig")
    } else {
        format!("diff {direction}")
    };
    let title = match (significant, d.ci) {
        (true, Some((lo, hi))) => format!(
            "significant: 95% CI [{}, {}] excludes 0",
            difference(m, lo),
            difference(m, hi)
        ),
        (false, Some((lo, hi))) => format!(
            "not significant: 95% CI [{}, {}]",
            difference(m, lo),
            difference(m, hi)
        ),
        _ => "no interval".to_string(),
    };
    format!(
        "<span class=\"{class}\" title=\"{}\">{}</span>",
        escape(&title),
        escape(&difference(m, mean))
    )
}

/// The per-cell table.
/// An estimate of metric `m`: its mean ("–" without one) and its 95% interval.
fn estimate_html(m: Metric, e: &crate::compare::stats::Estimate) -> String {
    let mut out = match e.mean {
        Some(mean) => escape(&value(m, mean)),
        None => "–".to_string(),
    };
    if let Some((lo, hi)) = e.ci {
        let _ = write!(
            out,
            "<span class=\"ci\">[{}, {}]</span>",
            escape(&value(m, lo)),
            escape(&value(m, hi))
        );
    }
    out
}

/// The opening of a table with id `id` and its leading header cells: the variant, then
/// each swept path (its short name; the full path is in the header box above).
fn table_start(a: &Analysis, id: &str) -> String {
    let mut out = format!(
        "<div class=\"table-wrap\"><table id=\"{id}\">\n<thead><tr><th class=\"left\">variant</th>"
    );
    for path in &a.sweep_paths {
        let short = path.rsplit('.').next().unwrap_or(path);
        let _ = write!(
            out,
            "<th class=\"left\" title=\"{}\">{}</th>",
            escape(path),
            escape(short)
        );
    }
    out
}

/// The opening of `cell`'s row and its leading cells: its variant and sweep point.
fn row_start(a: &Analysis, cell: &Cell) -> String {
    let mut out = format!("<tr><td class=\"left\">{}</td>", escape(&cell.variant));
    for v in cell
        .point
        .iter()
        .chain(std::iter::repeat(&String::new()))
        .take(a.sweep_paths.len())
    {
        let _ = write!(out, "<td class=\"left\">{}</td>", escape(v));
    }
    out
}

/// The per-client table: one row per cell and client.
fn clients_table(a: &Analysis) -> String {
    let mut out = table_start(a, "clients");
    out.push_str(
        "<th class=\"left\">client</th><th class=\"left\">priority</th><th>availability (%)</th></tr></thead>\n<tbody>\n",
    );
    for cell in &a.cells {
        for c in &cell.clients {
            out.push_str(&row_start(a, cell));
            let _ = write!(
                out,
                "<td class=\"left\">{}</td><td class=\"left\">{}</td><td>",
                escape(&c.name),
                escape(&c.priority)
            );
            out.push_str(&estimate_html(Metric::Availability, &c.availability));
            out.push_str("</td></tr>\n");
        }
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn table(a: &Analysis) -> String {
    let mut out = table_start(a, "summary-table");
    out.push_str("<th>seeds</th>");
    for m in TABLE_METRICS {
        let unit = if m.is_fraction() { " (%)" } else { "" };
        let name = escape(m.name()).replace('_', "_<wbr>");
        let _ = write!(out, "<th>{name}{unit}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for cell in &a.cells {
        out.push_str(&row_start(a, cell));
        let _ = write!(
            out,
            "<td>{}</td>",
            cell.metric(Metric::Availability).estimate.n
        );
        for m in TABLE_METRICS {
            out.push_str(&metric_cell(cell, m));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// What each chart shows, for its caption.
fn caption(name: &str) -> &'static str {
    match name {
        "availability" => {
            "Availability per time bucket: mean across seeds, shaded band from the worst to the best seed; grey areas are fault windows."
        }
        "latency" => {
            "p99 (thick) and p50 (thin, dashed) latency of successful requests per time bucket, means across seeds."
        }
        "latency-cdf" => {
            "Share of requests slower than x on log-log axes: each line crosses 1% at its p99 and 0.1% at its p99.9, so the tails compare directly."
        }
        "summary" => {
            "Mean across seeds with 95% confidence intervals; * marks a cell whose paired difference from base is significant."
        }
        "clients" => {
            "Each client's availability, one dot per cell (mean across seeds) with its 95% confidence interval: who paid."
        }
        "sweep-availability" | "sweep-p99" => {
            "The metric along the first swept path, one line per variant, with 95% confidence intervals."
        }
        "policies" => {
            "Circuit-breaker states and retry-budget levels over time, in each cell's first seed."
        }
        _ => "",
    }
}

/// `svg` without an XML prologue, ready to inline.
fn inline_svg(svg: &str) -> &str {
    let s = svg.trim_start();
    if s.starts_with("<?xml") {
        s.find("?>").map_or(s, |end| s[end + 2..].trim_start())
    } else {
        s
    }
}

/// The self-contained report page: returns its HTML text.
pub fn render_report(a: &Analysis, charts: &[ChartSvg]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} – resim report</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        escape(&a.scenario)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&a.scenario));
    if !a.description.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"description\">{}</p>",
            escape(&a.description)
        );
    }
    out.push_str("<dl class=\"meta\">\n");
    let _ = writeln!(
        out,
        "<dt>command</dt><dd><code>{}</code></dd>",
        escape(&a.command)
    );
    let _ = writeln!(out, "<dt>resim</dt><dd>{}</dd>", escape(&a.version));
    let _ = writeln!(out, "<dt>seeds per cell</dt><dd>{}</dd>", a.seeds);
    let _ = writeln!(out, "<dt>cells</dt><dd>{}</dd>", a.cells.len());
    if !a.sweep_paths.is_empty() {
        let paths: Vec<String> = a.sweep_paths.iter().map(|p| escape(p)).collect();
        let _ = writeln!(out, "<dt>swept</dt><dd>{}</dd>", paths.join(", "));
    }
    out.push_str("</dl>\n");
    if !charts.is_empty() {
        out.push_str("<nav class=\"toc\"><h2>Contents</h2><a href=\"#summary-table\">table</a>");
        if a.cells.iter().any(|c| c.clients.len() > 1) {
            out.push_str("<a href=\"#clients-table\">per client</a>");
        }
        for c in charts {
            let _ = write!(out, "<a href=\"#chart-{0}\">{0}</a>", escape(&c.name));
        }
        out.push_str("<a href=\"#scenario\">scenario</a></nav>\n");
    }
    out.push_str("<h2>Per cell</h2>\n");
    out.push_str(&table(a));
    out.push_str(
        "<p class=\"legend\">Each cell: mean across seeds, its 95% confidence interval in brackets, \
         then the paired difference from base at the same sweep point (fractions in percentage points). \
         <span class=\"better\">&#9679; green</span> / <span class=\"worse\">&#9679; red</span>: \
         significantly better / worse (the 95% interval of the difference excludes 0); grey: not significant.</p>\n",
    );
    if a.cells.iter().any(|c| c.clients.len() > 1) {
        out.push_str("<h2 id=\"clients-table\">Per client</h2>\n");
        out.push_str(&clients_table(a));
        out.push_str(
            "<p class=\"legend\">Each client's availability in each cell: mean across seeds, its 95% \
             confidence interval in brackets (from <code>clients.csv</code>). Who paid for what the \
             cell's figures above add up.</p>\n",
        );
    }
    if !charts.is_empty() {
        out.push_str("<h2>Charts</h2>\n");
    }
    for c in charts {
        let _ = write!(
            out,
            "<figure id=\"chart-{}\">\n{}\n<figcaption><strong>{}</strong>. {}</figcaption>\n</figure>\n",
            escape(&c.name),
            inline_svg(&c.svg),
            escape(&c.title),
            caption(&c.name)
        );
    }
    let _ = write!(
        out,
        "<h2 id=\"scenario\">Scenario file</h2>\n<pre class=\"scenario\">{}</pre>\n\
         <footer>Generated by resim {} from the command above.</footer>\n</main>\n</body>\n</html>\n",
        escape(&a.scenario_text),
        escape(&a.version)
    );
    out
}

/// Writes `report.html` into `dir`, returns its path.
pub fn write_report(dir: &Path, a: &Analysis, charts: &[ChartSvg]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    super::atomic::write(&dir.join("report.html"), render_report(a, charts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::{fixtures, render_svgs};

    fn study_page() -> (Analysis, String) {
        let a = fixtures::study();
        let charts = render_svgs(&a).expect("charts");
        let page = render_report(&a, &charts);
        (a, page)
    }

    #[test]
    fn the_page_has_the_table_and_one_figure_per_chart() {
        let (a, page) = study_page();
        let charts = render_svgs(&a).expect("charts");
        assert!(page.contains("id=\"summary-table\""));
        assert_eq!(page.matches("<figure").count(), charts.len());
        assert_eq!(page.matches("<svg").count(), charts.len());
        assert!(!page.contains("<?xml"));
        assert!(page.contains("99."), "availability as a percentage");
        assert!(page.contains("diff better sig") && page.contains("diff worse sig"));
        assert!(page.contains("resim run scenarios/retry-storm.toml --seeds 20"));
    }

    #[test]
    fn user_strings_are_escaped() {
        let mut a = fixtures::study();
        a.description = "<script>alert(1)</script> & more".to_string();
        a.scenario = "x<y".to_string();
        a.cells[1].variant = "<b>v</b>".to_string();
        a.scenario_text = "name = \"</pre><script>\"".to_string();
        a.command = "resim run '<x>'".to_string();
        let page = render_report(&a, &[]);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert!(page.contains("x&lt;y") && page.contains("&lt;b&gt;v&lt;/b&gt;"));
        assert!(!page.contains("<b>v</b>"));
        assert!(page.contains("&lt;/pre&gt;&lt;script&gt;"));
    }

    #[test]
    fn nothing_is_fetched_from_elsewhere() {
        let (_, page) = study_page();
        assert!(!page.contains("src="), "no external sources");
        for (i, _) in page.match_indices("href=\"") {
            assert!(page[i + 6..].starts_with('#'), "only in-page links");
        }
        let without_xmlns = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_xmlns.contains("http://") && !without_xmlns.contains("https://"));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn sweep_columns_are_short_and_empty_cells_stay_quiet() {
        let a = fixtures::sweep();
        let page = render_report(&a, &[]);
        assert!(page.contains("title=\"clients.web.rate_per_s\">rate_per_s</th>"));
        let mut a = fixtures::study();
        let recovery = Metric::RecoveryS.index();
        a.cells[1].metrics[recovery].estimate.mean = None;
        a.cells[1].metrics[recovery].estimate.ci = None;
        if let Some(d) = &mut a.cells[1].metrics[recovery].diff {
            d.mean = None;
        }
        assert!(!render_report(&a, &[]).contains("vs base: –"));
    }

    #[test]
    fn values_read_well() {
        assert_eq!(value(Metric::Availability, 0.999_812), "99.9812%");
        assert_eq!(value(Metric::P99Ms, 251.234), "251.2");
        assert_eq!(value(Metric::RecoveryS, f64::INFINITY), "∞");
        assert_eq!(difference(Metric::Availability, -0.0012), "−0.1200 pp");
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
    }

    #[test]
    fn write_report_writes_the_page() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = fixtures::single();
        let charts = render_svgs(&a).expect("charts");
        let path = write_report(dir.path(), &a, &charts).expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, render_report(&a, &charts));
        assert!(path.ends_with("report.html"));
    }
}
