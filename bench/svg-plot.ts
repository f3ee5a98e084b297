// A dependency-free SVG line chart: throughput over time, one line per tool, with axes and a legend.

export interface Line {
  name: string;
  /** [ms since start, cumulative bytes]. */
  points: Array<[number, number]>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

/** Cumulative byte samples to [seconds, MiB/s] over a sliding window of `windowMs`. */
export function toRates(points: Array<[number, number]>, windowMs = 1000): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let j = 0;
  for (let i = 1; i < points.length; i++) {
    const [t, b] = points[i]!;
    while (j < i - 1 && points[j + 1]![0] <= t - windowMs) j++;
    const [t0, b0] = points[j]!;
    if (t > t0) out.push([t / 1000, (b - b0) / 2 ** 20 / ((t - t0) / 1000)]);
  }
  return out;
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export function throughputSvg(title: string, lines: Line[], width = 860, height = 420): string {
  const rates = lines.map((l) => ({ name: l.name, pts: toRates(l.points) }));
  const maxT = Math.max(1, ...rates.flatMap((r) => r.pts.map((p) => p[0])));
  const maxR = Math.max(1, ...rates.flatMap((r) => r.pts.map((p) => p[1])));
  const m = { left: 60, right: 200, top: 36, bottom: 44 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xStep = niceStep(maxT, 8);
  const yStep = niceStep(maxR, 6);
  const xMax = Math.ceil(maxT / xStep) * xStep;
  const yMax = Math.ceil(maxR / yStep) * yStep;
  const x = (t: number) => m.left + (t / xMax) * w;
  const y = (r: number) => m.top + h - (r / yMax) * h;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${m.left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${+v.toFixed(2)}</text>`);
  }
  for (let t = 0; t <= xMax + 1e-9; t += xStep) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${m.top + h}" y2="${m.top + h + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${m.top + h + 18}" text-anchor="middle">${+t.toFixed(2)}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#333"/>`);
  parts.push(`<text x="${m.left + w / 2}" y="${height - 8}" text-anchor="middle">seconds</text>`);
  parts.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">MiB/s received</text>`);
  rates.forEach((r, i) => {
    const color = COLORS[i % COLORS.length]!;
    if (r.pts.length > 1) {
      const d = r.pts.map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    }
    const ly = m.top + 10 + i * 18;
    parts.push(`<line x1="${m.left + w + 14}" x2="${m.left + w + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${m.left + w + 40}" y="${ly + 4}">${escapeXml(r.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
