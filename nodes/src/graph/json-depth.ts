// How deeply a JSON text nests, read from the text itself: recursive code further on (schema checks, migrations,
// cloning) would run out of stack on a hostile document long before any workflow needs that depth.

/** Deeper than any workflow (document → nodes → node → params → value is 5) with room for editor `ui` data. */
export const MAX_JSON_DEPTH = 64;

/** Why the JSON text nests too deeply, or undefined; scans once, ignoring brackets inside strings. */
export function jsonDepthProblem(text: string, max = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return `JSON nests deeper than ${max} levels (at character ${i + 1})`;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return undefined;
}
