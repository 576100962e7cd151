import type { ClientCommand } from './commands.ts';
import type { ServerEvent } from './events.ts';
import type { PreviewFrame } from './preview-frame.ts';

// A two-way message transport. The WebSocket adapters (runtime, editor) and the in-memory pair implement it,
// so protocol logic is testable without sockets.

export interface Channel<In, Out> {
  send(message: Out): void;
  /** Returns a function that removes the listener. */
  onMessage(listener: (message: In) => void): () => void;
  onClose(listener: (reason: string) => void): () => void;
  close(reason?: string): void;
  readonly closed: boolean;
}

/** What the runtime sends: JSON events and binary preview frames, decoded. */
export type ServerMessage = ServerEvent | PreviewFrame;
export type ClientChannel = Channel<ServerMessage, ClientCommand>;
export type ServerChannel = Channel<ClientCommand, ServerMessage>;

/**
 * Two connected in-memory ends. Delivery is asynchronous (a microtask), as over a socket, and in order;
 * `copy` (default: a deep copy of plain data) stops the ends sharing mutable objects.
 */
export function createChannelPair<A, B>(
  copy: (message: unknown) => unknown = deepCopy,
): [Channel<B, A>, Channel<A, B>] {
  const left = new End<B, A>(copy);
  const right = new End<A, B>(copy);
  left.peer = right;
  right.peer = left;
  return [left, right];
}

class End<In, Out> implements Channel<In, Out> {
  peer: End<Out, In> | undefined;
  closed = false;
  private readonly messageListeners = new Set<(message: In) => void>();
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor(private readonly copy: (message: unknown) => unknown) {}

  send(message: Out): void {
    if (this.closed) throw new Error('channel is closed');
    const peer = this.peer;
    const copied = this.copy(message) as Out;
    queueMicrotask(() => peer?.deliver(copied));
  }

  onMessage(listener: (message: In) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.shut(reason);
    const peer = this.peer;
    queueMicrotask(() => peer?.shut(reason));
  }

  private deliver(message: In): void {
    if (this.closed) return;
    for (const l of this.messageListeners) l(message);
  }

  private shut(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l(reason);
    this.closeListeners.clear();
    this.messageListeners.clear();
  }
}

function deepCopy(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map(deepCopy);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)]));
  }
  return value;
}
