//! Line charts rendered to PNG (plotters' bitmap backend) or SVG bytes.
//!
//! Text goes through ab_glyph with DejaVu Sans embedded in the binary (the `dejavu` crate),
//! so figures need no fontconfig and no installed font, at build time or at run time. (An
//! SVG names the family `sans-serif` and leaves the glyphs to its viewer.)

use std::ops::Range;
use std::sync::OnceLock;

use anyhow::{anyhow, Context, Result};
use image::{codecs::png::PngEncoder, ExtendedColorType, ImageEncoder};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ticks::{fmt_tick, XAxis};
use super::FigureFormat;

/// Most points drawn per series: beyond it a series is reduced to the min and max of
/// each bucket, which keeps spikes visible while a million-step run still draws quickly.
const MAX_POINTS: usize = 4000;
/// Series up to this many points get a marker at each point (epoch curves).
const MARKER_POINTS: usize = 40;
/// Opacity of [`Style::Faint`] dots.
const FAINT_ALPHA: f64 = 0.25;

/// Distinct colours (Tableau 10), in the order runs are given.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Style {
    Line,
    Dashed,
    /// A line of short dashes, for the runs past those drawn solid and dashed.
    Dotted,
    /// Dots only (e.g. the steps where Newton's denominator was safeguarded).
    Dots,
    /// Small translucent dots, behind the lines: the raw values a line smooths.
    Faint,
    /// A thin dashed vertical line across the panel at each point's x (its y is ignored and
    /// does not widen the y axis): e.g. epoch boundaries on a step axis.
    Rules,
}

#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub label: String,
    pub color: RGBColor,
    pub style: Style,
    /// Non-finite y values are gaps in the line.
    pub points: Vec<(f64, f64)>,
    /// A shaded band under the line: (x, low, high), e.g. a confidence interval.
    pub band: Option<Vec<(f64, f64, f64)>>,
}

/// One set of axes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Consider a log y axis (losses, η); used when all values are positive and span more
    /// than two decades.
    pub log_y_allowed: bool,
    /// Shown instead of axes when no series has a finite point.
    pub empty_message: String,
}

/// The largest magnitude drawn: beyond it a value is left out like a non-finite one (a
/// gap). An axis reaching f64's ends overflows its own extent (plotters then counted its
/// ticks for ever); no loss, accuracy or η a run records comes near.
const DRAWABLE: f64 = 1e300;

impl Panel {
    /// The panel with every value beyond [`DRAWABLE`] made NaN, and each label cut to fit
    /// the widest legend ([`fitted_label`]).
    fn drawable(&self) -> Panel {
        let keep = |v: f64| if v.abs() <= DRAWABLE { v } else { f64::NAN };
        let mut panel = self.clone();
        for s in &mut panel.series {
            s.label = fitted_label(&s.label);
            for p in &mut s.points {
                *p = (keep(p.0), keep(p.1));
            }
            for b in s.band.iter_mut().flatten() {
                *b = (keep(b.0), keep(b.1), keep(b.2));
            }
        }
        panel
    }

    /// Every finite point that the axes must hold: bands' ends included, [`Style::Rules`]
    /// left out (they mark positions inside the data).
    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let bands = self.series.iter().flat_map(|s| {
            s.band
                .iter()
                .flatten()
                .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])
        });
        self.series
            .iter()
            .filter(|s| s.style != Style::Rules)
            .flat_map(|s| s.points.iter().copied())
            .chain(bands)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }
}

/// Registers the embedded font under the family name plotters uses by default.
fn register_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded DejaVu Sans font could not be loaded"))
    }
}

/// Renders panels side by side (one row) under an optional figure title; returns PNG bytes.
pub(crate) fn render_png(
    size: (u32, u32),
    title: Option<&str>,
    panels: &[Panel],
) -> Result<Vec<u8>> {
    render(FigureFormat::Png, size, title, panels)
}

/// Renders panels side by side (one row) under an optional figure title, as the bytes of
/// a `format` file. `size` is the figure's without legend columns: a panel whose legend
/// goes beside its axes widens the figure by that column (see [`legend_column`]).
pub(crate) fn render(
    format: FigureFormat,
    size: (u32, u32),
    title: Option<&str>,
    panels: &[Panel],
) -> Result<Vec<u8>> {
    register_font()?;
    let drawable: Vec<Panel> = panels.iter().map(Panel::drawable).collect();
    let panels = &drawable[..];
    let size = (
        size.0 + panels.iter().map(legend_column).sum::<u32>(),
        size.1,
    );
    match format {
        FigureFormat::Png => {
            let (w, h) = size;
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            draw_figure(
                BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area(),
                title,
                panels,
                LineJoins::Avoid,
            )?;
            let mut png = Vec::new();
            PngEncoder::new(&mut png)
                .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
                .context("cannot encode PNG")?;
            Ok(png)
        }
        FigureFormat::Svg => {
            let mut svg = String::new();
            draw_figure(
                SVGBackend::with_string(&mut svg, size).into_drawing_area(),
                title,
                panels,
                LineJoins::Keep,
            )?;
            Ok(svg.into_bytes())
        }
    }
}

/// How a wide line's consecutive segments are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LineJoins {
    /// One path per line: the SVG viewer joins the segments.
    Keep,
    /// One path per segment. plotters rasterises a wide polyline as one polygon whose
    /// corners are the intersections of the segments' offset edges; where a line turns back
    /// on itself (η or a loss jumping up and down from step to step) those intersections
    /// lie far away, and the polygon draws 1-pixel spikes across the whole figure. A
    /// two-point path is a plain quadrilateral.
    Avoid,
}

fn draw_figure<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: Option<&str>,
    panels: &[Panel],
    joins: LineJoins,
) -> Result<()> {
    root.fill(&WHITE).map_err(plot_err)?;
    let root = match title {
        Some(t) => root
            .margin(8, 0, 0, 0)
            .titled(t, ("sans-serif", 30).into_font())
            .map_err(plot_err)?,
        None => root,
    };
    // Each panel gets an equal share of the axes' width plus its own legend column.
    let columns: Vec<u32> = panels.iter().map(legend_column).collect();
    let (w, _) = root.dim_in_pixel();
    let share = w.saturating_sub(columns.iter().sum()) / panels.len().max(1) as u32;
    let breaks: Vec<i32> = columns
        .iter()
        .scan(0u32, |right, c| {
            *right += share + c;
            Some(*right as i32)
        })
        .take(panels.len().saturating_sub(1))
        .collect();
    let areas = root.split_by_breakpoints(breaks, [] as [i32; 0]);
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel, joins)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

fn plot_err<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    joins: LineJoins,
) -> Result<()> {
    let side = legend_column(panel);
    if side > 0 {
        // A legend this long would hide the curves in any corner: it gets a column of its
        // own, right of the axes (the figure was widened for it).
        let (w, _) = area.dim_in_pixel();
        let (plot, beside) = area.split_horizontally(w.saturating_sub(side));
        draw_plot(&plot, panel, joins, false)?;
        return draw_side_legend(&beside, &listed(panel));
    }
    draw_plot(area, panel, joins, true)
}

/// Legends of more series than this go beside the axes instead of in a corner.
const LEGEND_INSIDE_MAX: usize = 8;

/// The width of the column `panel`'s legend takes beside its axes: 0 when the legend fits
/// in a corner, else its longest label (16 px DejaVu Sans) plus the marks and the box's
/// padding, at most [`LEGEND_COLUMN_MAX`].
pub(crate) fn legend_column(panel: &Panel) -> u32 {
    let listed = listed(panel);
    if listed.is_empty() || register_font().is_err() {
        return 0;
    }
    let text = listed
        .iter()
        .map(|s| label_width(&s.label))
        .max()
        .unwrap_or(0);
    if listed.len() <= LEGEND_INSIDE_MAX && text <= LEGEND_INSIDE_WIDTH {
        return 0;
    }
    (text + 80).min(LEGEND_COLUMN_MAX)
}

/// The widest label a legend in a corner of the axes holds; a wider one goes beside them.
const LEGEND_INSIDE_WIDTH: u32 = 360;

/// A legend label's width in pixels (16 px DejaVu Sans).
fn label_width(label: &str) -> u32 {
    FontDesc::new(FontFamily::SansSerif, 16.0, FontStyle::Normal)
        .box_size(label)
        .map_or(0, |(w, _)| w)
}

/// `label` cut in its middle (…) to fit a legend column of [`LEGEND_COLUMN_MAX`]; its
/// beginning and end, which tell runs apart, stay.
fn fitted_label(label: &str) -> String {
    let fits = |l: &str| label_width(l) + 80 <= LEGEND_COLUMN_MAX;
    if register_font().is_err() || fits(label) {
        return label.to_string();
    }
    let chars: Vec<char> = label.chars().collect();
    let mut keep = chars.len();
    loop {
        keep = keep.saturating_sub(1.max(keep / 16));
        let head: String = chars[..keep.div_ceil(2)].iter().collect();
        let tail: String = chars[chars.len() - keep / 2..].iter().collect();
        let cut = format!("{head}…{tail}");
        if keep == 0 || fits(&cut) {
            return cut;
        }
    }
}

/// The widest a legend column gets (a longer label is cut at the figure's edge).
const LEGEND_COLUMN_MAX: u32 = 900;

/// The series a legend lists: labelled, with at least one finite point.
fn listed(panel: &Panel) -> Vec<&Series> {
    panel
        .series
        .iter()
        .filter(|s| {
            !s.label.is_empty() && s.points.iter().any(|(x, y)| x.is_finite() && y.is_finite())
        })
        .collect()
}

/// A legend in its own area, from the top: the corner legend's box, in a chart without axes.
fn draw_side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    listed: &[&Series],
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(56)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(plot_err)?;
    draw_legend(&mut chart, listed, SeriesLabelPosition::UpperLeft)
}

/// The axes and the curves; `with_legend`: the legend in the corner it hides least.
fn draw_plot<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    joins: LineJoins,
    with_legend: bool,
) -> Result<()> {
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    let mut whole_x = true;
    for (x, y) in panel.finite_points() {
        x_lo = x_lo.min(x);
        x_hi = x_hi.max(x);
        y_lo = y_lo.min(y);
        y_hi = y_hi.max(y);
        whole_x &= x.fract() == 0.0;
    }
    if x_lo > x_hi {
        return draw_message(area, &panel.title, &panel.empty_message);
    }
    let x_range = pad_linear(x_lo, x_hi, 0.02);
    let x_axis = XAxis::new(x_range.clone(), whole_x);
    // A log axis only where its ends and their ratio are normal numbers: an infinite ratio
    // (1e-200 to 1e120, or a subnormal value) made plotters count its decades for ever.
    let (log_lo, log_hi) = (y_lo / 1.25, y_hi * 1.25);
    let log_fits = log_lo >= f64::MIN_POSITIVE && (log_hi / log_lo).is_finite();
    if panel.log_y_allowed && log_fits && y_hi / y_lo > 100.0 {
        let y = log_lo..log_hi;
        let legend = with_legend.then(|| legend_corner(area, panel, &x_range, &y, f64::log10));
        draw_axes(area, panel, x_axis, y.log_scale(), None, legend, joins)
    } else {
        let y = pad_linear(y_lo, y_hi, 0.05);
        let legend = with_legend.then(|| legend_corner(area, panel, &x_range, &y, |v| v));
        let span = y.end - y.start;
        draw_axes(area, panel, x_axis, y, Some(span), legend, joins)
    }
}

/// The corner where the legend covers the least of the curves: each corner's box (about
/// the legend's size) is scored by how many points sampled along the lines fall in it.
fn legend_corner<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: &Range<f64>,
    y: &Range<f64>,
    map_y: fn(f64) -> f64,
) -> SeriesLabelPosition {
    let labels: Vec<&str> = panel
        .series
        .iter()
        .filter(|s| !s.label.is_empty())
        .map(|s| s.label.as_str())
        .collect();
    let (w, h) = area.dim_in_pixel();
    // Plot area in pixels, less label areas and margins (see draw_axes).
    let (pw, ph) = ((w as f64 - 110.0).max(1.0), (h as f64 - 110.0).max(1.0));
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let bw = ((chars * 8.5 + 60.0) / pw).min(1.0);
    let bh = ((labels.len() as f64 * 21.0 + 16.0) / ph).min(1.0);
    let (y0, y1) = (map_y(y.start), map_y(y.end));
    let norm = |(px, py): (f64, f64)| {
        (
            (px - x.start) / (x.end - x.start),
            (map_y(py) - y0) / (y1 - y0),
        )
    };
    let corners = [
        (SeriesLabelPosition::UpperRight, 1.0 - bw, 1.0 - bh),
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - bh),
        (SeriesLabelPosition::LowerRight, 1.0 - bw, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let mut hits = [0usize; 4];
    for s in panel.series.iter().filter(|s| s.style != Style::Rules) {
        for seg in finite_segments(&decimate(&s.points)) {
            let seg: Vec<(f64, f64)> = seg.into_iter().map(norm).collect();
            let mut samples = vec![seg[0]];
            for pair in seg.windows(2) {
                let ((ax, ay), (bx, by)) = (pair[0], pair[1]);
                for k in 1..=8 {
                    let t = k as f64 / 8.0;
                    samples.push((ax + (bx - ax) * t, ay + (by - ay) * t));
                }
            }
            for (u, v) in samples {
                for (i, &(_, cx, cy)) in corners.iter().enumerate() {
                    if u >= cx - 0.02
                        && u <= cx + bw + 0.02
                        && v >= cy - 0.02
                        && v <= cy + bh + 0.02
                    {
                        hits[i] += 1;
                    }
                }
            }
        }
    }
    // The first corner wins ties: upper right unless it hides more than another.
    let best = (0..4).min_by_key(|&i| hits[i]).unwrap_or(0);
    corners[best].0.clone()
}

/// The range with `frac` of its width added on both sides; a single value gets a width.
fn pad_linear(lo: f64, hi: f64, frac: f64) -> Range<f64> {
    if hi > lo {
        let d = (hi - lo) * frac;
        (lo - d)..(hi + d)
    } else {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - d)..(hi + d)
    }
}

fn draw_axes<DB: DrawingBackend, Y>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: XAxis,
    y: Y,
    // The linear y axis's extent, None for a log axis.
    y_span: Option<f64>,
    // Where the legend goes in the axes; None: drawn elsewhere.
    legend: Option<SeriesLabelPosition>,
    joins: LineJoins,
) -> Result<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let x_range = x.range();
    // Linear axes' spans, to tell a zero tick from float noise in the tick arithmetic.
    let x_span = x_range.end - x_range.start;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 24))
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)
        .map_err(plot_err)?;
    let y_desc = if y_span.is_none() {
        format!("{} (log scale)", panel.y_label)
    } else {
        panel.y_label.clone()
    };
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .x_label_formatter(&|v| fmt_tick(*v, Some(x_span)))
        .y_label_formatter(&|v| fmt_tick(*v, y_span))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_err)?;

    // Rules and bands first, under every line.
    let y_range = chart.y_range();
    for s in panel.series.iter().filter(|s| s.style == Style::Rules) {
        let inside = s
            .points
            .iter()
            .filter(|(x, _)| x_range.contains(x))
            .map(|&(x, _)| {
                DashedPathElement::new(
                    [(x, y_range.start), (x, y_range.end)],
                    4,
                    4,
                    s.color.stroke_width(1),
                )
            });
        chart.draw_series(inside).map_err(plot_err)?;
    }
    for s in &panel.series {
        for run in s.band.iter().flat_map(|b| finite_runs(b)) {
            let outline: Vec<(f64, f64)> = run
                .iter()
                .map(|&(x, _, hi)| (x, hi))
                .chain(run.iter().rev().map(|&(x, lo, _)| (x, lo)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    s.color.mix(0.18).filled(),
                )))
                .map_err(plot_err)?;
        }
    }
    // Faint dots under the lines they are the raw values of.
    let mut in_order: Vec<&Series> = panel.series.iter().collect();
    in_order.sort_by_key(|s| s.style != Style::Faint);
    for s in in_order {
        let color = s.color;
        let points = decimate(&s.points);
        let n = points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .count();
        if n == 0 {
            continue;
        }
        for segment in finite_segments(&points) {
            let line = color.stroke_width(2);
            match s.style {
                Style::Line if joins == LineJoins::Avoid => chart.draw_series(
                    segment
                        .windows(2)
                        .map(|pair| PathElement::new(pair.to_vec(), line)),
                ),
                Style::Line => chart.draw_series(LineSeries::new(segment.iter().copied(), line)),
                Style::Dashed => {
                    chart.draw_series(DashedLineSeries::new(segment.iter().copied(), 8, 5, line))
                }
                Style::Dotted => {
                    chart.draw_series(DashedLineSeries::new(segment.iter().copied(), 2, 4, line))
                }
                Style::Dots => {
                    chart.draw_series(segment.iter().map(|&p| Circle::new(p, 3, color.filled())))
                }
                Style::Faint => chart.draw_series(
                    segment
                        .iter()
                        .map(|&p| Circle::new(p, 2, color.mix(FAINT_ALPHA).filled())),
                ),
                // Drawn above, under everything.
                Style::Rules => continue,
            }
            .map_err(plot_err)?;
            // A lone point of a line has no segment to show it; epoch curves get markers.
            if s.style == Style::Line && (n <= MARKER_POINTS || segment.len() == 1) {
                chart
                    .draw_series(segment.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(plot_err)?;
            }
        }
    }
    let Some(legend) = legend else {
        return Ok(());
    };
    draw_legend(&mut chart, &listed(panel), legend)
}

/// The legend of `listed` in `chart`, at `position`: each series' mark and label in a box.
fn draw_legend<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    listed: &[&Series],
    position: SeriesLabelPosition,
) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for s in listed {
        let color = s.color;
        // An empty series carries the legend entry, so a line broken by gaps is listed once.
        let anno = chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(plot_err)?
            .label(s.label.as_str());
        match s.style {
            Style::Line => {
                anno.legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                });
            }
            Style::Dashed => {
                anno.legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (9, 0)], color.stroke_width(2))
                        + PathElement::new(vec![(15, 0), (24, 0)], color.stroke_width(2))
                });
            }
            Style::Dotted => {
                anno.legend(move |(x, y)| {
                    let dash = |at: i32| {
                        PathElement::new(vec![(at, 0), (at + 2, 0)], color.stroke_width(2))
                    };
                    EmptyElement::at((x, y)) + dash(0) + dash(6) + dash(12) + dash(18) + dash(24)
                });
            }
            Style::Dots => {
                anno.legend(move |(x, y)| Circle::new((x + 12, y), 3, color.filled()));
            }
            Style::Faint => {
                anno.legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Circle::new((4, 0), 2, color.mix(FAINT_ALPHA * 2.0).filled())
                        + Circle::new((12, -2), 2, color.mix(FAINT_ALPHA * 2.0).filled())
                        + Circle::new((20, 2), 2, color.mix(FAINT_ALPHA * 2.0).filled())
                });
            }
            Style::Rules => {
                anno.legend(move |(x, y)| {
                    PathElement::new(vec![(x + 12, y - 7), (x + 12, y + 7)], color)
                });
            }
        }
    }
    if !listed.is_empty() {
        chart
            .configure_series_labels()
            .position(position)
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(plot_err)?;
    }
    Ok(())
}

/// A panel with only a title and a centred message (no data to draw).
fn draw_message<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> Result<()> {
    let (w, h) = area.dim_in_pixel();
    let title_style =
        TextStyle::from(("sans-serif", 24).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 12),
        title_style,
    ))
    .map_err(plot_err)?;
    let style = TextStyle::from(("sans-serif", 20).into_font())
        .color(&RGBColor(90, 90, 90))
        .pos(Pos::new(HPos::Center, VPos::Center));
    let lines: Vec<&str> = message.lines().collect();
    let top = h as i32 / 2 - (lines.len() as i32 - 1) * 14;
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            line.to_string(),
            (w as i32 / 2, top + i as i32 * 28),
            style.clone(),
        ))
        .map_err(plot_err)?;
    }
    Ok(())
}

/// A band's stretches of finite values.
fn finite_runs(band: &[(f64, f64, f64)]) -> Vec<Vec<(f64, f64, f64)>> {
    let mut out = vec![];
    let mut cur = vec![];
    for &(x, lo, hi) in band {
        if x.is_finite() && lo.is_finite() && hi.is_finite() {
            cur.push((x, lo, hi));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits at non-finite points so that a diverged (NaN/inf) stretch shows as a gap.
fn finite_segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![];
    let mut cur = vec![];
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// At most about [`MAX_POINTS`] points: each bucket keeps its minimum and maximum (in x
/// order) and its non-finite points, so spikes and gaps survive.
pub(crate) fn decimate(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let bucket = points.len().div_ceil(MAX_POINTS / 2);
    let mut out = Vec::with_capacity(MAX_POINTS + 2);
    for chunk in points.chunks(bucket) {
        if let Some(&bad) = chunk.iter().find(|(_, y)| !y.is_finite()) {
            out.push(bad);
            continue;
        }
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = i;
            }
            if p.1 > chunk[hi].1 {
                hi = i;
            }
        }
        let (a, b) = (lo.min(hi), lo.max(hi));
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` epoch curves (markers drawn at every point), labelled "rule k".
    fn panel(n: usize) -> Panel {
        Panel {
            title: "accuracy".into(),
            x_label: "epoch".into(),
            y_label: "accuracy (%)".into(),
            series: (0..n)
                .map(|k| Series {
                    label: format!("rule {k}"),
                    color: PALETTE[k % PALETTE.len()],
                    style: Style::Line,
                    points: (1..=5).map(|e| (e as f64, 50.0 + (k + e) as f64)).collect(),
                    band: None,
                })
                .collect(),
            log_y_allowed: false,
            empty_message: String::new(),
        }
    }

    /// The x of each text element whose content starts with "rule ", and the largest x of
    /// the curves' markers, in an SVG figure.
    fn labels_and_markers(svg: &str) -> (Vec<f64>, f64) {
        let attr = |tag: &str, name: &str| -> Option<f64> {
            let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            tag[at..].split('"').next()?.parse().ok()
        };
        let labels = svg
            .split("<text")
            .skip(1)
            .filter(|t| {
                t.split_once('>')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with("rule "))
            })
            .filter_map(|t| attr(t, "x"))
            .collect();
        let markers = svg
            .split("<circle")
            .skip(1)
            .filter_map(|t| attr(t, "cx"))
            .fold(f64::MIN, f64::max);
        (labels, markers)
    }

    /// Values at the ends of f64 (a damaged or hand-edited record) draw a figure: no axis
    /// whose extent overflows (plotters then counted its ticks for ever).
    #[test]
    fn values_at_the_ends_of_f64_draw() {
        let tiny = f64::from_bits(1); // 5e-324, subnormal
        let cases: [&[(f64, f64)]; 8] = [
            &[(1.0, 1e120), (2.0, 1e-200)],
            &[(1.0, tiny), (2.0, 0.5)],
            &[(1.0, f64::MAX), (2.0, 1.0)],
            &[(1.0, f64::MAX), (2.0, f64::MAX)],
            &[(1.0, -f64::MAX), (2.0, f64::MAX)],
            &[(-f64::MAX, 1.0), (f64::MAX, 2.0)],
            &[(1.0, tiny), (2.0, tiny)],
            &[(tiny, 1.0), (1e-300, 1.0)],
        ];
        for (case, points) in cases.iter().enumerate() {
            for log_y_allowed in [true, false] {
                let panel = Panel {
                    log_y_allowed,
                    series: vec![Series {
                        label: "run".into(),
                        color: PALETTE[0],
                        style: Style::Line,
                        points: points.to_vec(),
                        band: None,
                    }],
                    ..panel(0)
                };
                for format in [FigureFormat::Svg, FigureFormat::Png] {
                    let drawn = render(format, (400, 300), None, std::slice::from_ref(&panel));
                    assert!(drawn.is_ok(), "case {case} {format:?}: {drawn:?}");
                }
            }
        }
    }

    #[test]
    fn a_long_label_goes_beside_the_axes_cut_in_its_middle_to_fit() {
        let mut one = panel(1);
        one.series[0].label = format!("start-{}-end", "x".repeat(400));
        let column = legend_column(&one.drawable());
        assert!(
            column > LEGEND_COLUMN_MAX - 40 && column <= LEGEND_COLUMN_MAX,
            "a label of 400 characters goes beside, cut to the widest column: {column}"
        );
        let fitted = fitted_label(&one.series[0].label);
        assert!(
            fitted.starts_with("start-x") && fitted.ends_with("x-end"),
            "{fitted}"
        );
        assert!(fitted.contains('…'));
        assert!(label_width(&fitted) + 80 <= LEGEND_COLUMN_MAX);
        // A short label keeps its corner, and its every character.
        assert_eq!(legend_column(&panel(1)), 0);
        assert_eq!(fitted_label("rule 0"), "rule 0");
        // Long enough to cover much of the axes, not too long for a column: beside, whole.
        one.series[0].label = "y".repeat(60);
        assert!(legend_column(&one) > 0);
        assert_eq!(fitted_label(&one.series[0].label), one.series[0].label);
    }

    #[test]
    fn a_long_legend_goes_beside_the_axes_and_a_short_one_inside() {
        let many = panel(LEGEND_INSIDE_MAX + 4);
        let column = legend_column(&many);
        assert!(column > 80, "{column}");
        // Beside a panel with a short legend: each keeps its share of the axes' width, and
        // the figure widens by the one column.
        let both = [panel(3), many];
        let svg = String::from_utf8(render(FigureFormat::Svg, (2048, 720), None, &both).unwrap())
            .unwrap();
        assert!(
            svg.contains(&format!("width=\"{}\"", 2048 + column)),
            "{}",
            &svg[..200]
        );
        let (labels, right_marker) = labels_and_markers(&svg);
        let labels: Vec<f64> = labels.into_iter().filter(|&x| x > 1024.0).collect();
        assert_eq!(
            labels.len(),
            LEGEND_INSIDE_MAX + 4,
            "every rule listed once"
        );
        assert!(
            labels.iter().all(|&x| x > right_marker),
            "labels at {labels:?}, curves up to x = {right_marker}"
        );
        // The column is as wide as the longest label: the labels end inside the figure,
        // less than its padding from the edge.
        let longest = FontDesc::new(FontFamily::SansSerif, 16.0, FontStyle::Normal)
            .box_size(&both[1].series.last().unwrap().label)
            .unwrap()
            .0 as f64;
        let end = labels.iter().fold(f64::MIN, |a, &x| a.max(x)) + longest;
        assert!(
            end < (2048 + column) as f64 && end > (2048 + column - 80) as f64,
            "labels end at {end}, figure {}",
            2048 + column
        );

        let few = panel(3);
        assert_eq!(legend_column(&few), 0);
        let svg = String::from_utf8(render(FigureFormat::Svg, (1024, 720), None, &[few]).unwrap())
            .unwrap();
        let (labels, right_marker) = labels_and_markers(&svg);
        assert_eq!(labels.len(), 3);
        assert!(
            labels.iter().all(|&x| x < right_marker),
            "{labels:?} {right_marker}"
        );
    }
}
