// A horizontal bar chart of ratios as standalone SVG text (no dependencies): one group of bars
// per workload, each bar drawn from the 1× line on a log2 scale, so 2× and 0.5× are as long.

const LABEL_WIDTH = 360;
const PLOT_WIDTH = 440;
const VALUE_WIDTH = 70;
const BAR_HEIGHT = 14;
const BAR_GAP = 3;
const GROUP_GAP = 14;
const TOP = 64;
const BOTTOM = 40;
const MIN_RATIO = 1 / 16;
const MAX_RATIO = 64;

function escapeXml(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/**
 * @param {{ title: string, subtitle: string,
 *   series: { name: string, color: string }[],
 *   groups: { label: string, ratios: (number | null)[] }[] }} chart
 *   `ratios[i]` belongs to `series[i]`; null draws no bar ("no value").
 * @returns {string} the SVG document
 */
export function ratioChartSvg({ title, subtitle, series, groups }) {
  const finite = groups.flatMap((group) => group.ratios).filter((r) => Number.isFinite(r) && r > 0);
  // The axis spans the powers of two around the values, at least 0.5×–2×.
  const low = clamp(2 ** Math.floor(Math.log2(Math.min(0.5, ...finite))), MIN_RATIO, 0.5);
  const high = clamp(2 ** Math.ceil(Math.log2(Math.max(2, ...finite))), 2, MAX_RATIO);
  const x = (ratio) =>
    LABEL_WIDTH +
    ((Math.log2(clamp(ratio, low, high)) - Math.log2(low)) / Math.log2(high / low)) * PLOT_WIDTH;
  const groupHeight = series.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const plotHeight = groups.length * (groupHeight + GROUP_GAP) - GROUP_GAP;
  const width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH;
  const height = TOP + plotHeight + BOTTOM;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="38" fill="#555555">${escapeXml(subtitle)}</text>`,
  ];
  series.forEach((s, i) => {
    const legendX = LABEL_WIDTH + i * 170;
    parts.push(
      `<rect x="${legendX}" y="47" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${legendX + 17}" y="57">${escapeXml(s.name)}</text>`,
    );
  });
  for (let tick = low; tick <= high; tick *= 2) {
    const tickX = x(tick).toFixed(1);
    const label = tick >= 1 ? `${tick}×` : `1/${1 / tick}×`;
    parts.push(
      `<line x1="${tickX}" y1="${TOP - 4}" x2="${tickX}" y2="${TOP + plotHeight}" ` +
        `stroke="${tick === 1 ? '#333333' : '#dddddd'}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`,
      `<text x="${tickX}" y="${TOP + plotHeight + 16}" text-anchor="middle" fill="#555555">${label}</text>`,
    );
  }
  groups.forEach((group, g) => {
    const groupY = TOP + g * (groupHeight + GROUP_GAP);
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${groupY + groupHeight / 2 + 4}" text-anchor="end">` +
        `${escapeXml(group.label)}</text>`,
    );
    group.ratios.forEach((ratio, i) => {
      const barY = groupY + i * (BAR_HEIGHT + BAR_GAP);
      if (!(Number.isFinite(ratio) && ratio > 0)) {
        parts.push(`<text x="${x(1) + 4}" y="${barY + 11}" fill="#999999">no value</text>`);
        return;
      }
      const from = Math.min(x(1), x(ratio));
      const barWidth = Math.max(1, Math.abs(x(ratio) - x(1)));
      const valueX = Math.max(x(1), x(ratio)) + 4;
      parts.push(
        `<rect x="${from.toFixed(1)}" y="${barY}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" ` +
          `fill="${series[i].color}"/>`,
        `<text x="${valueX.toFixed(1)}" y="${barY + 11}">${ratio.toFixed(2)}×</text>`,
      );
    });
  });
  parts.push(
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${height - 6}" text-anchor="middle" fill="#555555">` +
      'times ws (log scale; right of the 1× line is better than ws)</text>',
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
