// The few web-platform globals this isomorphic package relies on, for its own typecheck only
// (lib ES2023, no DOM, no @types/node). Node and browsers both provide them; consumers get their own.
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
declare function queueMicrotask(callback: () => void): void;
