import type { Writable } from 'node:stream';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import { bar, formatBytes, formatMs } from './format.ts';

// Live run progress: on a terminal, one line per planned node redrawn in place (a progress bar for the
// running one) under one bar for the whole run with it/s and ETA; otherwise plain lines, progress at most
// every 10%, so logs stay readable.

type Status = 'pending' | 'running' | 'cached' | 'finished' | 'failed' | 'interrupted';
interface Row {
  status: Status;
  type: string;
  value?: number;
  max?: number;
  startedAt?: number;
  /** When the node reported its first step, and which: its it/s counts from there (warm-up excluded). */
  firstStepAt?: number;
  firstStep?: number;
  detail?: string;
}

const REDRAW_MS = 80;

export class ProgressView {
  readonly #rows = new Map<string, Row>();
  #drawn = 0;
  #lastDraw = 0;
  readonly #plainDecile = new Map<string, number>();
  // Keeps the elapsed time of a node without progress events (a model load) moving.
  #ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly tty: boolean,
    private readonly typeOf: (nodeId: string) => string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  handle(event: RunEvent): void {
    switch (event.type) {
      case 'runStarted':
        for (const id of event.nodes) this.#rows.set(id, { status: 'pending', type: this.typeOf(id) });
        if (!this.tty) this.#line(`run ${event.runId}: ${event.nodes.length} nodes`);
        else {
          this.#ticker = setInterval(() => this.#draw(), 250);
          this.#ticker.unref();
        }
        break;
      case 'nodeStarted':
        this.#set(event.nodeId, { status: 'running', startedAt: this.now() });
        if (!this.tty) this.#line(`${this.#name(event.nodeId)} started`);
        break;
      case 'nodeProgress': {
        const first = this.#rows.get(event.nodeId)?.firstStepAt === undefined;
        this.#set(event.nodeId, {
          value: event.value,
          max: event.max,
          ...(first ? { firstStepAt: this.now(), firstStep: event.value } : {}),
        });
        if (!this.tty && event.max > 0) {
          const decile = Math.floor((event.value / event.max) * 10);
          if (decile > (this.#plainDecile.get(event.nodeId) ?? 0) || event.value === event.max) {
            this.#plainDecile.set(event.nodeId, decile);
            this.#line(`${this.#name(event.nodeId)} ${event.value}/${event.max}`);
          }
        }
        if (this.tty && this.now() - this.#lastDraw < REDRAW_MS) return;
        break;
      }
      case 'nodeCached':
        this.#set(event.nodeId, { status: 'cached', detail: 'cached' });
        if (!this.tty) this.#line(`${this.#name(event.nodeId)} cached`);
        break;
      case 'nodeFinished': {
        const peak = event.peakBytes === undefined ? '' : `, peak ${formatBytes(event.peakBytes)}`;
        const files = event.files.length > 0 ? `, wrote ${event.files.join(', ')}` : '';
        const detail = `${formatMs(event.wallMs)}${peak}${files}`;
        this.#set(event.nodeId, { status: 'finished', detail });
        if (!this.tty) this.#line(`${this.#name(event.nodeId)} finished in ${detail}`);
        break;
      }
      case 'nodeFailed':
        this.#set(event.nodeId, { status: 'failed', detail: event.error });
        if (!this.tty) this.#line(`${this.#name(event.nodeId)} FAILED: ${event.error}`);
        break;
      case 'runInterrupted':
        this.#stop();
        if (event.nodeId) this.#set(event.nodeId, { status: 'interrupted', detail: 'interrupted' });
        if (!this.tty) this.#line(`run interrupted${event.nodeId ? ` at ${event.nodeId}` : ''}`);
        break;
      case 'runFinished':
        this.#stop();
        if (!this.tty) this.#line(`run finished in ${formatMs(event.wallMs)}`);
        break;
      case 'runFailed':
        this.#stop();
        if (!this.tty) this.#line(`run failed: ${event.error}`);
        break;
      default:
        return;
    }
    if (this.tty) this.#draw();
  }

  #stop(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #name(id: string): string {
    return `${id} (${this.#rows.get(id)?.type ?? this.typeOf(id)})`;
  }

  #set(id: string, patch: Partial<Row>): void {
    const row = this.#rows.get(id) ?? { status: 'pending', type: this.typeOf(id) };
    this.#rows.set(id, { ...row, ...patch });
  }

  #line(text: string): void {
    this.out.write(`${text}\n`);
  }

  /** The whole run: share of planned nodes done (a stepping node counts by its steps), it/s and ETA of the
   *  stepping node running now. */
  #overall(): string {
    const rows = [...this.#rows.values()];
    if (rows.length === 0) return '';
    let done = 0;
    let rate: number | undefined;
    let eta: number | undefined;
    for (const r of rows) {
      if (r.status === 'cached' || r.status === 'finished') done += 1;
      else if (r.status === 'running' && r.max) {
        done += Math.min(1, (r.value ?? 0) / r.max);
        const steps = (r.value ?? 0) - (r.firstStep ?? 0);
        const seconds = r.firstStepAt === undefined ? 0 : (this.now() - r.firstStepAt) / 1000;
        if (steps > 0 && seconds > 0) {
          rate = steps / seconds;
          eta = (r.max - (r.value ?? 0)) / rate;
        }
      }
    }
    const pct = Math.round((100 * done) / rows.length);
    const speed = rate === undefined ? '' : ` · ${rate.toFixed(rate < 10 ? 2 : 1)} it/s`;
    const left = eta === undefined ? '' : ` · ETA ${formatMs(eta * 1000)}`;
    return `run ${bar(done, rows.length)} ${pct}%${speed}${left}`;
  }

  #draw(): void {
    this.#lastDraw = this.now();
    const width = Math.max(...[...this.#rows.keys()].map((id) => this.#name(id).length), 0);
    const lines = [...this.#rows].map(([id, row]) => {
      const icon = { pending: '·', running: '▸', cached: '=', finished: '✓', failed: '✗', interrupted: '■' }[
        row.status
      ];
      let tail = row.detail ?? '';
      if (row.status === 'running') {
        const elapsed = row.startedAt === undefined ? '' : formatMs(this.now() - row.startedAt);
        tail = row.max ? `${bar(row.value ?? 0, row.max)} ${row.value}/${row.max} ${elapsed}` : elapsed;
      }
      return `${icon} ${this.#name(id).padEnd(width)}  ${tail}`;
    });
    lines.push(this.#overall());
    // A wrapped line would break the cursor arithmetic of the redraw.
    const columns = (this.out as NodeJS.WriteStream).columns ?? 120;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.length > columns - 1) lines[i] = `${lines[i]!.slice(0, Math.max(0, columns - 2))}…`;
    }
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    this.out.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
    this.#drawn = lines.length;
  }
}
