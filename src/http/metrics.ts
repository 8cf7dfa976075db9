// Prometheus metrics, written by hand in the text exposition format (version 0.0.4): a few
// counters and fixed-bucket histograms kept in memory, plus values read at scrape time.
// Served at GET /metrics only when METRICS_TOKEN is set, to `Authorization: Bearer <token>`.
//
// Label values are bounded: routes are Hono route patterns ('/w/:ws/credentials'), never raw
// paths; toolkit types and outcomes come from fixed lists. No label ever holds user input.
import { createHash, timingSafeEqual } from 'node:crypto';

type Labels = Record<string, string>;

/** Seconds. Upstream calls time out at 15 s, so the top buckets are around that. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function number(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isNaN(n) ? 'NaN' : String(n);
}

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${number(value)}`);
    return lines;
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = DURATION_BUCKETS,
  ) {}

  observe(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    // Buckets are stored non-cumulative and summed when rendered.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i !== -1) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += counts[i];
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: number(b) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${number(Math.round(sum * 1e6) / 1e6)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines;
  }
}

export type Metrics = {
  /** One answered HTTP request; `route` is the matched route pattern. */
  httpRequest(route: string, method: string, status: number): void;
  /** One toolkit run: its outcome and how long it took in all, and (if it called out) upstream. */
  toolkitExecution(toolkitType: string, outcome: string, seconds: number, upstreamSeconds: number | null): void;
  /** One MCP tools/call: its outcome (as toolkitExecution's, or `unknown_tool`). */
  mcpToolCall(outcome: string): void;
  /** The exposition text; `auditEvents` is read from the database at scrape time. */
  render(scrape: { auditEvents: number }): string;
};

/** Returns an empty set of the application's metrics. */
export function createMetrics(): Metrics {
  const requests = new Counter('latchkey_http_requests_total', 'HTTP requests answered, by route pattern, method and status.');
  const executions = new Counter('latchkey_toolkit_executions_total', 'Toolkit tool runs, by toolkit type and outcome.');
  const executeDuration = new Histogram('latchkey_execute_duration_seconds', 'Time to run a toolkit tool, from input check to recorded result.');
  const mcpCalls = new Counter('latchkey_mcp_tool_calls_total', 'MCP tools/call requests, by outcome.');
  const upstreamDuration = new Histogram('latchkey_upstream_duration_seconds', 'Time spent calling the external service during a toolkit run.');
  const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

  return {
    httpRequest(route, method, status) {
      requests.inc({ route, method: KNOWN_METHODS.has(method) ? method : 'OTHER', status: String(status) });
    },
    toolkitExecution(toolkitType, outcome, seconds, upstreamSeconds) {
      executions.inc({ toolkit_type: toolkitType, outcome });
      executeDuration.observe({ toolkit_type: toolkitType }, seconds);
      if (upstreamSeconds !== null) upstreamDuration.observe({ toolkit_type: toolkitType }, upstreamSeconds);
    },
    mcpToolCall(outcome) {
      mcpCalls.inc({ outcome });
    },
    render(scrape) {
      const lines = [
        ...requests.render(),
        ...executions.render(),
        ...mcpCalls.render(),
        ...executeDuration.render(),
        ...upstreamDuration.render(),
        '# HELP latchkey_audit_events_total Audit events recorded (the audit log is append-only).',
        '# TYPE latchkey_audit_events_total counter',
        `latchkey_audit_events_total ${scrape.auditEvents}`,
        '# HELP process_resident_memory_bytes Resident memory size in bytes.',
        '# TYPE process_resident_memory_bytes gauge',
        `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
      ];
      return lines.join('\n') + '\n';
    },
  };
}

/** True when the Authorization header is exactly `Bearer <token>`; compares in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  // Comparing digests keeps the comparison constant-time even when the lengths differ.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m ? m[1] : ''), digest(token)) && !!m;
}
