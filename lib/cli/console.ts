// What the CLI shows a person: logs and progress on stderr (stdout carries only results, such
// as upstream's "Pushed sha256:… to <ref>"), a live single-line progress display when stderr
// is a terminal and one line per finished item otherwise, so CI logs stay readable.
import { redactText } from '../redact.js';
import type { Logger, ProgressEvent } from '../stages/types.js';

export interface ConsoleOptions {
  quiet?: boolean;
  verbose?: boolean;
  stream?: NodeJS.WriteStream;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v.toPrecision(4).replace(/\.?0+$/, '')}${units[u]}`;
}

export class CliConsole {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private liveLine = '';
  private downloads = { done: 0, cached: 0, bytes: 0 };

  constructor(private readonly options: ConsoleOptions = {}) {
    this.out = options.stream ?? process.stderr;
    this.tty = Boolean(this.out.isTTY) && !process.env.CI;
  }

  private write(raw: string): void {
    // The console is a boundary: nothing reaches the terminal without the redactor.
    const line = redactText(raw);
    if (this.liveLine) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.liveLine) this.out.write(this.liveLine);
  }

  private live(line: string): void {
    if (!this.tty || this.options.quiet) return;
    this.liveLine = redactText(line).slice(0, (this.out.columns ?? 100) - 1);
    this.out.write(`\r\x1b[2K${this.liveLine}`);
  }

  endLive(): void {
    if (this.liveLine) this.out.write('\r\x1b[2K');
    this.liveLine = '';
  }

  readonly log: Logger = {
    debug: (message, fields) => {
      if (this.options.verbose) this.write(`debug: ${message}${formatFields(fields)}`);
    },
    info: (message, fields) => {
      if (this.options.verbose) this.write(`${message}${formatFields(fields)}`);
    },
    warn: (message) => {
      if (!this.options.quiet) this.write(`warning: ${message}`);
    },
    error: (message) => this.write(`error: ${message}`),
  };

  /** A step of the build, always shown unless --quiet. */
  step(message: string): void {
    if (!this.options.quiet) this.write(message);
  }

  readonly progress = (event: ProgressEvent): void => {
    if (this.options.quiet) return;
    switch (event.kind) {
      case 'download': {
        if (!event.done) {
          this.live(
            `downloading ${event.package} ${formatBytes(event.bytes)}${event.total ? `/${formatBytes(event.total)}` : ''}`,
          );
          return;
        }
        this.downloads.done++;
        if (event.cached) this.downloads.cached++;
        else this.downloads.bytes += event.bytes;
        const line = `${event.cached ? 'cached     ' : 'downloaded '} ${event.package} (${formatBytes(event.bytes)})`;
        if (this.options.verbose || !this.tty) this.write(line);
        else
          this.live(
            `packages: ${this.downloads.done} (${this.downloads.cached} cached, ${formatBytes(this.downloads.bytes)} downloaded)`,
          );
        return;
      }
      case 'upload':
        if (!event.done) {
          this.live(
            `uploading ${event.what} ${formatBytes(event.bytes)}${event.total ? `/${formatBytes(event.total)}` : ''}`,
          );
          return;
        }
        if (this.options.verbose || !this.tty)
          this.write(`uploaded ${event.what} (${formatBytes(event.bytes)})`);
        return;
      case 'info':
        this.write(event.message);
        return;
    }
  };
}

function formatFields(fields?: Record<string, unknown>): string {
  if (!fields) return '';
  const parts = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return parts.length ? ` ${parts.join(' ')}` : '';
}
