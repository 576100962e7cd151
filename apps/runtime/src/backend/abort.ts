/** Throws the signal's reason (an AbortError) when the run was interrupted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw signal.reason instanceof Error ? signal.reason : new DOMException('Interrupted', 'AbortError');
}
