// ANSI colour escapes (SGR: ESC [ … m) in log lines turned into styled spans. The text between
// escapes goes in with textContent and the styles are a fixed set of class names, so a log line can
// colour text but never inject markup. Other escape sequences are dropped.

const ESCAPE = /\u001b\[([0-9;]*)([A-Za-z])/g;

function applyCodes(style, codes) {
  const next = { ...style };
  const list = codes === '' ? [0] : codes.split(';').map(Number);
  for (const code of list) {
    if (code === 0)
      Object.assign(next, { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 22) next.bold = next.dim = false;
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code === 39) next.fg = null;
    else if (code >= 40 && code <= 47) next.bg = code - 40;
    else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
    else if (code === 49) next.bg = null;
  }
  return next;
}

function classesOf(style) {
  const classes = [];
  if (style.fg !== null) classes.push(`fg${style.fg}`);
  if (style.bg !== null) classes.push(`bg${style.bg}`);
  if (style.bold) classes.push('b');
  if (style.dim) classes.push('dim');
  if (style.italic) classes.push('i');
  if (style.underline) classes.push('u');
  return classes;
}

/** A DocumentFragment showing `line` with its colours. */
export function renderAnsi(line) {
  const fragment = document.createDocumentFragment();
  let style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
  let last = 0;
  const emit = (text) => {
    if (text === '') return;
    const classes = classesOf(style);
    if (classes.length === 0) {
      fragment.append(text);
      return;
    }
    const span = document.createElement('span');
    span.className = classes.join(' ');
    span.textContent = text;
    fragment.append(span);
  };
  for (const match of line.matchAll(ESCAPE)) {
    emit(line.slice(last, match.index));
    if (match[2] === 'm') style = applyCodes(style, match[1]);
    last = match.index + match[0].length;
  }
  // Any other control character left (a lone ESC) is shown as a visible symbol.
  emit(line.slice(last).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd'));
  return fragment;
}
