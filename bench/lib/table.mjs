// Markdown table and number formatting shared by the benchmark scripts.

/** A markdown table; numeric-looking columns are right-aligned. */
export function markdownTable(headers, rows, { alignRight = [] } = {}) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const rule = headers.map((_, i) => (alignRight.includes(i) ? '---:' : '---'));
  return [line(headers), line(rule), ...rows.map(line)].join('\n');
}

/** `value` with `digits` decimals, or an en dash when missing. */
export function formatNumber(value, digits = 0) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** "1.23×" for value / reference, or an en dash when either is missing. */
export function formatRatio(value, reference) {
  if (typeof value !== 'number' || typeof reference !== 'number' || !(reference > 0)) return '–';
  return `${(value / reference).toFixed(2)}×`;
}
