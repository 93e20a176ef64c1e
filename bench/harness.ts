/**
 * The benchmark harness shared by every bench file: benchmark.js suites whose results are
 * reported as ns/op and as ratios against a named baseline in the same run.
 */
import Benchmark from 'benchmark';

export interface Row {
  subject: string;
  variant: string;
  opsPerSec: number;
  note?: string;
}

/** Runs one benchmark.js case per variant of a subject; returns a row per variant. */
export function measure(subject: string, variants: Record<string, () => void>, maxTime = 0.4): Row[] {
  const suite = new Benchmark.Suite(subject);
  for (const [name, fn] of Object.entries(variants)) suite.add(name, fn, { maxTime, minSamples: 5 });
  const rows: Row[] = [];
  suite.on('cycle', (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark;
    rows.push({ subject, variant: String(b.name), opsPerSec: b.hz ?? 0 });
  });
  suite.run({ async: false });
  return rows;
}

/** ns/op or µs/op or ms/op, three significant digits. */
export function formatTime(opsPerSec: number): string {
  const ns = 1e9 / opsPerSec;
  if (ns < 1e3) return `${ns.toPrecision(3)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${(ns / 1e6).toPrecision(3)} ms`;
}

/** A markdown table: per subject, each variant's time and its speed-up of `baseline` over it. */
export function table(rows: Row[], baseline: string): string {
  const out = ['| subject | variant | time/op | vs ' + baseline + ' |', '| --- | --- | ---: | ---: |'];
  const bySubject = new Map<string, Row[]>();
  for (const r of rows) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r]);
  for (const [subject, rs] of bySubject) {
    const base = rs.find((r) => r.variant === baseline);
    for (const r of rs) {
      const ratio = base ? `${(base.opsPerSec / r.opsPerSec).toFixed(2)}× slower` : '';
      const cell = r.variant === baseline ? '1×' : base && r.opsPerSec > base.opsPerSec ? `${(r.opsPerSec / base.opsPerSec).toFixed(2)}× faster` : ratio;
      out.push(`| ${subject} | ${r.variant} | ${formatTime(r.opsPerSec)} | ${cell}${r.note ? ` (${r.note})` : ''} |`);
    }
  }
  return out.join('\n');
}
