// The server's counters and gauges, rendered in Prometheus' text format for /metrics. Gauges that
// other parts own (connections, followers) are read through callbacks at scrape time, so nothing
// has to keep them in sync.

type Sample = () => number;

interface Metric {
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  read(): number;
}

export class Metrics {
  readonly #metrics = new Map<string, Metric>();
  readonly #counts = new Map<string, number>();

  /** Declares a counter; `increment(name)` adds to it. */
  counter(name: string, help: string): void {
    this.#counts.set(name, 0);
    this.#metrics.set(name, { help, type: 'counter', read: () => this.#counts.get(name) ?? 0 });
  }

  /** Declares a gauge read from `sample` at scrape time. */
  gauge(name: string, help: string, sample: Sample): void {
    this.#metrics.set(name, { help, type: 'gauge', read: sample });
  }

  increment(name: string, by = 1): void {
    const current = this.#counts.get(name);
    if (current === undefined) throw new Error(`metrics: unknown counter ${name}`);
    this.#counts.set(name, current + by);
  }

  value(name: string): number {
    return this.#metrics.get(name)?.read() ?? Number.NaN;
  }

  /** The Prometheus text exposition (version 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const [name, metric] of this.#metrics) {
      let value: number;
      try {
        value = metric.read();
      } catch {
        value = Number.NaN;
      }
      lines.push(
        `# HELP ${name} ${metric.help}`,
        `# TYPE ${name} ${metric.type}`,
        `${name} ${formatValue(value)}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
