/** Reading a trace file written by `run --trace` (its envelope; the scenario inside is validated as any scenario). */
import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { TRACE_FORMAT, type Trace } from './runner.js';
import { scenarioError } from './scenario.js';

export function readTrace(file: string): Trace {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail('EINVAL', `${file}: cannot read a trace: ${(e as Error).message}`);
  }
  const t = doc as Partial<Trace> | null;
  if (t === null || typeof t !== 'object' || t.format !== TRACE_FORMAT) scenarioError(file, '$.format', `expected "${TRACE_FORMAT}"`);
  if (t.version !== 1) scenarioError(file, '$.version', 'expected 1');
  const steps = (t.scenario as { steps?: unknown[] } | undefined)?.steps;
  if (!Array.isArray(t.steps) || !Array.isArray(steps) || t.steps.length !== steps.length) {
    scenarioError(file, '$.steps', 'expected one recorded entry per scenario step');
  }
  t.steps.forEach((s, i) => {
    if (s === null || typeof s !== 'object' || !Array.isArray(s.ops)) scenarioError(file, `$.steps[${i}].ops`, 'expected an array of operations');
    s.ops.forEach((op, j) => {
      if (typeof op?.call !== 'string' || !Array.isArray(op.args)) scenarioError(file, `$.steps[${i}].ops[${j}]`, 'expected {call, args}');
    });
  });
  return t as Trace;
}
