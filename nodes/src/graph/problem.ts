import { z } from 'zod';

// A validation problem: one per thing wrong, naming where (node id, port or param, line/column for JSON).

export const PROBLEM_CODES = [
  'malformedJson',
  'invalidDocument',
  'unsupportedVersion',
  'migrationFailed',
  'invalidNodeId',
  'reservedKey',
  'invalidNode',
  'unknownNodeType',
  'nodeVersionTooNew',
  'missingInput',
  'unknownInput',
  'missingNode',
  'missingOutput',
  'typeMismatch',
  'cycle',
  'missingParam',
  'paramType',
  'paramRange',
  'paramInvalid',
  'unknownParam',
  'unknownTarget',
  'runTooLarge',
  'unknownModel',
  'latentSize',
  'noOutputs',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export const Problem = z.object({
  /** One of PROBLEM_CODES; a plain string on the wire so older clients accept newer codes. */
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  port: z.string().optional(),
  param: z.string().optional(),
  /** All nodes concerned, where there are several (a cycle). */
  nodes: z.array(z.string()).optional(),
  /** Where in the document, as a JSON path (for problems outside nodes). */
  path: z.array(z.union([z.string(), z.number()])).optional(),
  line: z.number().optional(),
  column: z.number().optional(),
});
export type Problem = z.infer<typeof Problem>;

export function problem(code: ProblemCode, message: string, where: Omit<Problem, 'code' | 'message'> = {}): Problem {
  return { code, message, ...where };
}

/** One line per problem, for CLIs and logs. */
export function formatProblem(p: Problem): string {
  const at = p.line !== undefined ? `line ${p.line}, column ${p.column ?? 1}: ` : '';
  return `${at}${p.message} [${p.code}]`;
}
