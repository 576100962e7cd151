// The CLI's contract with scripts.
export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_INVALID = 2;

/** Bad command-line usage: reported on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
