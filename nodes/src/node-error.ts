// An error a kernel throws about one of its own ports or params; the executor copies port/param into nodeFailed.
export class NodeError extends Error {
  override readonly name = 'NodeError';
  readonly port: string | undefined;
  readonly param: string | undefined;

  constructor(message: string, where: { port?: string; param?: string } = {}) {
    super(message);
    this.port = where.port;
    this.param = where.param;
  }
}

export function isNodeError(e: unknown): e is NodeError {
  return e instanceof Error && e.name === 'NodeError';
}
