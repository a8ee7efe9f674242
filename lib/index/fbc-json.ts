// The text of a file-based catalog, as `opm migrate`/`opm render` write it: Go's json.Encoder
// with SetEscapeHTML(false) and SetIndent("", "    "), one object after another, each ended
// by "\n". The Encoder marshals compactly and then runs json.Indent over the bytes, so this
// does the same: raw property values (RawJson) are re-indented like everything else, empty
// arrays and objects stay `[]`/`{}`, and string contents are copied untouched.
import { goJsonMarshal } from './go-json.js';

const INDENT = '    ';

/** Go's json.Indent(dst, src, "", indent) over compact JSON text. */
export function goIndent(compact: string, indent = INDENT): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  const newline = (d: number) => `\n${indent.repeat(d)}`;
  for (let i = 0; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (c === 0x22) {
      // Copy a string verbatim, escapes included.
      let j = i + 1;
      while (j < compact.length) {
        const d = compact.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      if (needIndent) {
        out += newline(depth);
        needIndent = false;
      }
      out += compact.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (needIndent && c !== 0x5d && c !== 0x7d) {
      out += newline(depth);
      needIndent = false;
    }
    switch (c) {
      case 0x7b: // {
      case 0x5b: // [
        out += compact[i];
        depth++;
        needIndent = true;
        break;
      case 0x2c: // ,
        out += `,${newline(depth)}`;
        break;
      case 0x3a: // :
        out += ': ';
        break;
      case 0x7d: // }
      case 0x5d: // ]
        if (needIndent) needIndent = false;
        else out += newline(depth - 1);
        depth--;
        out += compact[i];
        break;
      default: {
        // A literal (number, true, false, null): copy the run.
        let j = i;
        while (j < compact.length && !',:]} \t\n\r'.includes(compact[j]!)) j++;
        out += compact.slice(i, j);
        i = j - 1;
      }
    }
  }
  return out;
}

/** One FBC document: the object (struct order, no HTML escaping), indented, then "\n". */
export function fbcDocument(value: unknown): string {
  return `${goIndent(goJsonMarshal(value, { escapeHtml: false, sortKeys: false }))}\n`;
}
