import { type Problem, problem } from './problem.ts';

// JSON.parse with a problem that says where: engines report a character position (V8, Node 20),
// a line and column (V8, Node 22+; Firefox), or nothing (end of input).

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; problem: Problem };

export function parseJson(raw: string): JsonParseResult {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw; // editors on Windows may save a byte-order mark
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const { line, column } = locateJsonError(text, message);
    return {
      ok: false,
      problem: problem('malformedJson', `malformed JSON at line ${line}, column ${column}: ${message}`, {
        line,
        column,
      }),
    };
  }
}

/** 1-based line and column of a JSON.parse error. */
export function locateJsonError(text: string, message: string): { line: number; column: number } {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return { line: Number(lineCol[1]), column: Number(lineCol[2]) };
  const position = /position (\d+)/.exec(message);
  const offset = position ? Math.min(Number(position[1]), text.length) : text.length;
  return lineColumnAt(text, offset);
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
