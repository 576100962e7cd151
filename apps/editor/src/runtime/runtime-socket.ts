import type { ServerMessage } from '@sdflow/nodes/protocol/channel.ts';
import type { ClientCommand } from '@sdflow/nodes/protocol/commands.ts';
import { parseServerEvent } from '@sdflow/nodes/protocol/events.ts';
import { decodePreviewFrame } from '@sdflow/nodes/protocol/preview-frame.ts';
import type { ConnectionStatus } from './run-state.ts';

// The editor's WebSocket to the runtime: every frame parsed, reconnecting with backoff while the page lives.

export interface RuntimeSocket {
  send(command: ClientCommand): boolean;
  close(): void;
}

export interface SocketHandlers {
  onMessage(message: ServerMessage): void;
  onStatus(status: ConnectionStatus): void;
  onBadFrame?(error: string): void;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 4000];

export function defaultSocketUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  return `${proto}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export function connectRuntime(handlers: SocketHandlers, url: string = defaultSocketUrl()): RuntimeSocket {
  let ws: WebSocket | undefined;
  let attempt = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    handlers.onStatus('connecting');
    const sock = new WebSocket(url);
    sock.binaryType = 'arraybuffer';
    ws = sock;
    sock.onopen = () => {
      attempt = 0;
      handlers.onStatus('open');
    };
    sock.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
      if (typeof ev.data === 'string') {
        const r = parseServerEvent(ev.data);
        if (r.ok) handlers.onMessage(r.value);
        else handlers.onBadFrame?.(r.error);
      } else {
        const r = decodePreviewFrame(ev.data);
        if (r.ok) handlers.onMessage(r.frame);
        else handlers.onBadFrame?.(r.error);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = undefined;
      if (closed) return;
      handlers.onStatus('closed');
      const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
      attempt++;
      timer = setTimeout(open, delay);
    };
  };
  open();

  return {
    send(command) {
      if (ws?.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(command));
      return true;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
  };
}
