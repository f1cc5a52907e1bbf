// A dependency-free SVG bar chart: one panel per measured group, bars per series side by side,
// each labelled with its value, so the chart reads without the table beside it.

/** One panel: a title, category labels along the x axis, one bar per series per category. */
export interface ChartPanel {
  readonly title: string;
  readonly unit: string;
  readonly categories: readonly string[];
  /** Values per series, one per category; null where the series was not measured. */
  readonly series: readonly {
    readonly name: string;
    readonly values: readonly (number | null)[];
  }[];
}

const width = 760;
const panelHeight = 250;
const margin = { top: 46, right: 20, bottom: 42, left: 70 };
const colors = ['#2f6fbf', '#e07b28', '#3a9a5b', '#8e5cb5', '#b5485c'];

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function short(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

function panel(chart: ChartPanel, offsetY: number): string {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = panelHeight - margin.top - margin.bottom;
  const maximum = Math.max(
    1,
    ...chart.series.flatMap((series) => series.values.filter((value) => value !== null)),
  );
  const groupWidth = plotWidth / Math.max(1, chart.categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, chart.series.length);
  const parts: string[] = [
    `<text x="${margin.left}" y="${offsetY + 22}" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="${margin.left - 8}" y="${offsetY + margin.top - 6}" font-size="11" text-anchor="end">${escapeXml(chart.unit)}</text>`,
    `<line x1="${margin.left}" y1="${offsetY + margin.top + plotHeight}" x2="${width - margin.right}" y2="${offsetY + margin.top + plotHeight}" stroke="#444"/>`,
  ];
  chart.categories.forEach((category, categoryPosition) => {
    const groupX = margin.left + categoryPosition * groupWidth + groupWidth * 0.1;
    parts.push(
      `<text x="${groupX + groupWidth * 0.4}" y="${offsetY + margin.top + plotHeight + 16}" font-size="12" text-anchor="middle">${escapeXml(category)}</text>`,
    );
    chart.series.forEach((series, seriesPosition) => {
      const value = series.values[categoryPosition];
      if (value === null || value === undefined) return;
      const barHeight = (value / maximum) * plotHeight;
      const x = groupX + seriesPosition * barWidth;
      const y = offsetY + margin.top + plotHeight - barHeight;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${colors[seriesPosition % colors.length]}"/>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="10" text-anchor="middle">${short(value)}</text>`,
      );
    });
  });
  chart.series.forEach((series, seriesPosition) => {
    const x = margin.left + seriesPosition * 150;
    const y = offsetY + panelHeight - 12;
    parts.push(
      `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${colors[seriesPosition % colors.length]}"/>`,
      `<text x="${x + 14}" y="${y}" font-size="11">${escapeXml(series.name)}</text>`,
    );
  });
  return parts.join('\n');
}

/** The panels stacked in one SVG document, with `caption` (machine, date) at the bottom. */
export function renderChart(panels: readonly ChartPanel[], caption: string): string {
  const height = panels.length * panelHeight + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels.map((chart, position) => panel(chart, position * panelHeight)),
    `<text x="${margin.left}" y="${height - 8}" font-size="11" fill="#555">${escapeXml(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
