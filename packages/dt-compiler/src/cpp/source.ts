/**
 * Translation phases 2 and 3 (C11 5.1.1.2) on a whole file: line continuations are removed and
 * comments become one space, while the newlines they swallowed are put back at the end of the
 * logical line, so every line keeps its number. Strings and character constants are respected.
 */
export function cleanSource(text: string): string {
  let out = '';
  let pendingNewlines = 0;
  let i = 0;
  const n = text.length;
  const flushAtNewline = (): void => {
    out += '\n'.repeat(pendingNewlines);
    pendingNewlines = 0;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '\n') {
      pendingNewlines++;
      i += 2;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\r' && text[i + 2] === '\n') {
      pendingNewlines++;
      i += 3;
      continue;
    }
    if (c === '\n') {
      out += '\n';
      flushAtNewline();
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const body = end < 0 ? text.slice(i + 2) : text.slice(i + 2, end);
      pendingNewlines += (body.match(/\n/g) ?? []).length;
      out += ' ';
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') {
        if (text[i] === '\\' && text[i + 1] === '\n') (pendingNewlines++, (i += 2));
        else i++;
      }
      out += ' ';
      continue;
    }
    if (c === '"' || c === "'") {
      // copy a literal through unchanged, if it closes on this line
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] === c) {
        out += text.slice(i, j + 1);
        i = j + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  if (pendingNewlines) out += '\n'.repeat(pendingNewlines);
  return out;
}
