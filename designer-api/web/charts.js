// Small charts drawn as inline SVG, no library: stacked bars and lines
// over time intervals. Each chart is a <figure> with a caption, an SVG
// with a <title> and a <desc> that say what it shows in words, a legend
// naming every series (series differ by pattern or marker too, never by
// colour alone) and the numbers as a table under "Show the data".

import { h } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 200;
const PAD = { left: 44, right: 12, top: 12, bottom: 26 };
let seq = 0;

// s builds an SVG element: s('rect', {x: 1}, children...).
function s(tag, attrs, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// patterns defines the fill of each bar series that is not solid: hatch,
// dots or cross, drawn in the series' colour (its class sets color on the
// pattern, whose content inherits it).
function patterns(id, series) {
  const shapes = {
    hatch: () => s('path', { d: 'M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2', class: 'pat-ink', 'stroke-width': 1.4 }),
    dots: () => s('circle', { cx: 3, cy: 3, r: 1.3, class: 'pat-dot' }),
    cross: () => s('path', { d: 'M0,3 h6 M3,0 v6', class: 'pat-ink', 'stroke-width': 1 }),
  };
  return s('defs', null, series.filter((sr) => shapes[sr.pattern]).map((sr) =>
    s('pattern', { id: `${id}-${sr.pattern}`, class: sr.cls, width: 6, height: 6, patternUnits: 'userSpaceOnUse' },
      s('rect', { width: 6, height: 6, class: 'pat-bg' }), shapes[sr.pattern]())));
}

function fillOf(id, series) {
  return series.pattern && series.pattern !== 'solid' ? `url(#${id}-${series.pattern})` : 'currentColor';
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const hhmm = (d) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

// frame draws the axes: y ticks (0, half, max, formatted by fmt) and up to
// eight x labels; it returns the scales.
function frame(svg, labels, yMax, fmt) {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const step = iw / Math.max(labels.length, 1);
  const x = (i) => PAD.left + i * step;
  const y = (v) => PAD.top + ih - (Math.min(v, yMax) / yMax) * ih;
  const g = s('g', { class: 'axes', 'aria-hidden': 'true' });
  for (const v of [0, yMax / 2, yMax]) {
    g.append(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((d, i) => {
    if (i % every === 0) g.append(s('text', { x: x(i) + step / 2, y: H - 8, 'text-anchor': 'middle' }, hhmm(d)));
  });
  svg.append(g);
  return { x, y, step, ih };
}

// figure wraps an SVG with its caption, legend and data table.
function figure(cls, { title, desc, legend, table }, svg) {
  const id = `chart-${++seq}`;
  svg.prepend(s('title', { id: `${id}-t` }, title), s('desc', { id: `${id}-d` }, desc));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', `${id}-t ${id}-d`);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'chart-svg');
  return h(`figure.chart.${cls}`, h('figcaption', title), svg, h('ul.legend', legend),
    h('details', h('summary', 'Show the data'), table));
}

function dataTable(labels, columns) {
  return h('table.table.small',
    h('thead', h('tr', h('th', { scope: 'col' }, 'Interval'), columns.map((c) => h('th', { scope: 'col' }, c.name)))),
    h('tbody', labels.map((d, i) => h('tr', h('th', { scope: 'row' }, hhmm(d)), columns.map((c) => h('td', c.text(i)))))));
}

function swatch(id, series, kind) {
  const svg = s('svg', { width: 22, height: 12, viewBox: '0 0 22 12', 'aria-hidden': 'true', class: series.cls });
  if (kind === 'bar') {
    svg.append(s('rect', { x: 1, y: 1, width: 20, height: 10, class: 'bar', fill: fillOf(id, series) })); // the chart's patterns
  } else {
    svg.append(s('line', { x1: 1, x2: 21, y1: 6, y2: 6, class: 'line' }), marker(series.marker, 11, 6));
  }
  return svg;
}

function marker(kind, cx, cy) {
  if (kind === 'square') return s('rect', { x: cx - 3, y: cy - 3, width: 6, height: 6, class: 'mark' });
  if (kind === 'diamond') return s('path', { d: `M${cx},${cy - 4} l4,4 l-4,4 l-4,-4 z`, class: 'mark' });
  return s('circle', { cx, cy, r: 3.2, class: 'mark' });
}

// stackedBars: labels are the intervals' starts (Dates), each series
// {name, cls, pattern, values: numbers}; desc says it in words.
export function stackedBars({ title, desc, labels, series }) {
  const id = `pat-${++seq}`;
  const totals = labels.map((_, i) => series.reduce((n, sr) => n + (sr.values[i] || 0), 0));
  const yMax = niceMax(Math.max(...totals, 1));
  const svg = s('svg', null, patterns(id, series));
  const { x, y, step } = frame(svg, labels, yMax, (v) => String(Math.round(v * 10) / 10));
  const bw = Math.max(2, step * 0.7);
  labels.forEach((d, i) => {
    let base = 0;
    for (const sr of series) {
      const v = sr.values[i] || 0;
      if (!v) continue;
      svg.append(s('rect', { x: x(i) + (step - bw) / 2, y: y(base + v), width: bw, height: y(base) - y(base + v),
        class: `bar ${sr.cls}`, fill: fillOf(id, sr) }, s('title', null, `${hhmm(d)}: ${v} ${sr.name.toLowerCase()}`)));
      base += v;
    }
  });
  const legend = series.map((sr) => h('li', swatch(id, sr, 'bar'), sr.name));
  const table = dataTable(labels, series.map((sr) => ({ name: sr.name, text: (i) => String(sr.values[i] || 0) })));
  return figure('bars', { title, desc, legend, table }, svg);
}

// lineChart: series {name, cls, marker, values: numbers or null (a gap)};
// yMax fixes the scale (else from the data), fmt formats a value, band
// {from, to, label} shades a target range.
export function lineChart({ title, desc, labels, series, yMax, fmt = String, band }) {
  const svg = s('svg');
  const top = yMax || niceMax(Math.max(...series.flatMap((sr) => sr.values.filter((v) => v != null)), 0));
  const { x, y, step } = frame(svg, labels, top, fmt);
  if (band) {
    svg.append(s('rect', { x: PAD.left, width: W - PAD.left - PAD.right, y: y(band.to), height: y(band.from) - y(band.to), class: 'band' }),
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(band.from), y2: y(band.from), class: 'band-edge' }),
      s('text', { x: W - PAD.right - 4, y: y(band.from) - 4, 'text-anchor': 'end', class: 'band-label' }, band.label));
  }
  for (const sr of series) {
    const g = s('g', { class: `series ${sr.cls}` });
    let d = '';
    sr.values.forEach((v, i) => {
      if (v == null) return;
      const cx = x(i) + step / 2;
      d += `${d && sr.values[i - 1] != null ? 'L' : 'M'}${cx.toFixed(1)},${y(v).toFixed(1)}`;
      g.append(s('g', null, marker(sr.marker, cx, y(v)), s('title', null, `${hhmm(labels[i])}: ${sr.name.toLowerCase()} ${fmt(v)}`)));
    });
    g.prepend(s('path', { d: d || 'M0,0', class: 'line' }));
    svg.append(g);
  }
  const legend = series.map((sr) => h('li', swatch('', sr, 'line'), sr.name));
  if (band) legend.push(h('li', h('span.band-swatch', { 'aria-hidden': 'true' }), band.label));
  const table = dataTable(labels, series.map((sr) => ({ name: sr.name, text: (i) => (sr.values[i] == null ? '—' : fmt(sr.values[i])) })));
  return figure('lines', { title, desc, legend, table }, svg);
}
