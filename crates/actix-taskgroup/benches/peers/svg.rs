//! A line plot of ns per child against N, log-log, as a small hand-written SVG: a plotting
//! crate would cost every build more than the plot is worth.

use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 6] = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
];

/// One line: a name and its points (N, ns per child).
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

pub fn plot(title: &str, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    let (lx0, lx1) = (x_min.log10(), x_max.log10().max(x_min.log10() + 1e-9));
    let (ly0, ly1) = ((y_min * 0.8).log10(), (y_max * 1.25).log10());
    let x = |v: f64| LEFT + (v.log10() - lx0) / (lx1 - lx0) * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| HEIGHT - BOTTOM - (v.log10() - ly0) / (ly1 - ly0) * (HEIGHT - TOP - BOTTOM);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{}" y="22" font-size="14">{title}</text>"#,
        LEFT
    );
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let _ = write!(
        svg,
        r#"<path d="M{x0},{y0} L{x0},{y1} L{x1},{y1}" stroke="black" fill="none"/>"#
    );
    for &(v, _) in series.first().map(|s| s.points.as_slice()).unwrap_or(&[]) {
        let px = x(v);
        let _ = write!(
            svg,
            r#"<text x="{px}" y="{}" text-anchor="middle">{}</text>"#,
            y1 + 18.0,
            v
        );
    }
    let mut tick = 10f64.powf(ly0.floor());
    while tick.log10() <= ly1 {
        for step in [1.0, 2.0, 5.0] {
            let value = tick * step;
            if value.log10() >= ly0 && value.log10() <= ly1 {
                let py = y(value);
                let _ = write!(
                    svg,
                    r##"<line x1="{x0}" y1="{py}" x2="{x1}" y2="{py}" stroke="#eee"/>"##
                );
                let _ = write!(
                    svg,
                    r#"<text x="{}" y="{}" text-anchor="end">{value}</text>"#,
                    x0 - 6.0,
                    py + 4.0
                );
            }
        }
        tick *= 10.0;
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">N (children)</text>"#,
        (x0 + x1) / 2.0,
        HEIGHT - 12.0
    );
    let _ = write!(
        svg,
        r#"<text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">ns per child</text>"#,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0
    );
    for (i, line) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(px, py)| format!("{},{}", x(px), y(py)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" stroke="{colour}" stroke-width="2" fill="none"/>"#,
            points.join(" ")
        );
        for &(px, py) in &line.points {
            let _ = write!(
                svg,
                r#"<circle cx="{}" cy="{}" r="3" fill="{colour}"/>"#,
                x(px),
                y(py)
            );
        }
        let ly = TOP + 16.0 * i as f64;
        let _ = write!(
            svg,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"/>"#,
            x1 + 12.0,
            x1 + 32.0
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}">{}</text>"#,
            x1 + 38.0,
            ly + 4.0,
            line.name
        );
    }
    svg.push_str("</svg>\n");
    svg
}
