// The text of a file-based catalog, as `opm migrate`/`opm render` write it: Go's json.Encoder
// with SetEscapeHTML(false) and SetIndent("", "    "), one object after another, each ended
// by "\n". The Encoder marshals compactly and then runs json.Indent over the bytes, so this
// does the same: raw property values (RawJson) are re-indented like everything else, empty
// arrays and objects stay `[]`/`{}`, and string contents are copied untouched.
import { goJsonMarshal } from './go-json.js';

const INDENT = '    ';

/** Index of the quote that closes the string opening at `open` (escapes skipped). */
function stringEnd(text: string, open: number): number {
  let q = text.indexOf('"', open + 1);
  for (;;) {
    if (q < 0) return text.length - 1;
    let backslashes = 0;
    for (let k = q - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
}

/** Go's json.Indent(dst, src, "", indent) over compact JSON text. */
export function goIndent(compact: string, indent = INDENT): string {
  const parts: string[] = [];
  const newlines: string[] = [];
  const newline = (d: number) => {
    let nl = newlines[d];
    if (nl === undefined) {
      nl = `\n${indent.repeat(d)}`;
      newlines[d] = nl;
    }
    return nl;
  };
  let depth = 0;
  let needIndent = false;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (needIndent && c !== 0x5d && c !== 0x7d) {
      parts.push(newline(depth));
      needIndent = false;
    }
    switch (c) {
      case 0x22: {
        // A string, escapes included, copied verbatim.
        const end = stringEnd(compact, i);
        parts.push(compact.slice(i, end + 1));
        i = end;
        break;
      }
      case 0x7b: // {
      case 0x5b: // [
        parts.push(c === 0x7b ? '{' : '[');
        depth++;
        needIndent = true;
        break;
      case 0x2c: // ,
        parts.push(',', newline(depth));
        break;
      case 0x3a: // :
        parts.push(': ');
        break;
      case 0x7d: // }
      case 0x5d: // ]
        if (needIndent) needIndent = false;
        else parts.push(newline(depth - 1));
        depth--;
        parts.push(c === 0x7d ? '}' : ']');
        break;
      default: {
        // A literal (number, true, false, null): copy the run.
        let j = i;
        while (j < compact.length && !',:]} \t\n\r'.includes(compact[j]!)) j++;
        parts.push(compact.slice(i, j));
        i = j - 1;
      }
    }
  }
  return parts.join('');
}

/** One FBC document: the object (struct order, no HTML escaping), indented, then "\n". */
export function fbcDocument(value: unknown): string {
  return `${goIndent(goJsonMarshal(value, { escapeHtml: false, sortKeys: false }))}\n`;
}
