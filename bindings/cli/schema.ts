/**
 * A small structural checker for scenario files: plain data describing the expected shape,
 * and one function that walks a value against it, reporting the JSON path of the first bad
 * field (`$.steps[3].vcpus: expected an integer ≥ 1`).
 */

export type Schema =
  | { t: 'int'; min?: number; max?: number }
  | { t: 'number'; min?: number; max?: number }
  | { t: 'string'; pattern?: RegExp; describe?: string }
  | { t: 'bool' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'array'; of: Schema; min?: number; max?: number }
  | { t: 'object'; fields: Record<string, Schema>; required?: readonly string[] }
  | { t: 'map'; of: Schema }
  | { t: 'oneOf'; options: readonly Schema[]; describe: string }
  | { t: 'cpus' }
  | { t: 'any' };

/** Checks that need the host: a CPU-set expression is parsed against it; undefined = fine. */
export interface CheckContext {
  cpus?(expr: string): string | undefined;
}

export const int = (min?: number, max?: number): Schema => ({ t: 'int', min, max });
export const num = (min?: number, max?: number): Schema => ({ t: 'number', min, max });
export const str = (pattern?: RegExp, describe?: string): Schema => ({ t: 'string', pattern, describe });
export const bool: Schema = { t: 'bool' };
export const any: Schema = { t: 'any' };
/** A CPU set in xl cpulist syntax (`0-3,^2`, `node:1`, `all`), parsed against the host. */
export const cpus: Schema = { t: 'cpus' };
export const oneOfValues = (...values: string[]): Schema => ({ t: 'enum', values });
export const arrayOf = (of: Schema, min?: number, max?: number): Schema => ({ t: 'array', of, min, max });
export const mapOf = (of: Schema): Schema => ({ t: 'map', of });
export const obj = (fields: Record<string, Schema>, required: readonly string[] = []): Schema => ({ t: 'object', fields, required });
export const oneOf = (describe: string, ...options: Schema[]): Schema => ({ t: 'oneOf', options, describe });

/** A problem found in a document: where (JSON path) and what. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/** JSON path of a member: `$.a.b`, `$.steps[3]`, `$["odd key"]`. */
export function member(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function range(what: string, min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `${what} in ${min}..${max}`;
  if (min !== undefined) return `${what} ≥ ${min}`;
  if (max !== undefined) return `${what} ≤ ${max}`;
  return what;
}

/** What a schema expects, in words (for messages). */
export function describe(s: Schema): string {
  switch (s.t) {
    case 'int': return range('an integer', s.min, s.max);
    case 'number': return range('a number', s.min, s.max);
    case 'string': return s.describe ?? 'a string';
    case 'bool': return 'true or false';
    case 'enum': return `one of ${s.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'array': return range(`an array of ${describe(s.of)}`.replace(/ of an? /, ' of '), s.min) + (s.min ? ' elements' : '');
    case 'object': return 'an object';
    case 'map': return 'an object';
    case 'oneOf': return s.describe;
    case 'cpus': return 'a CPU set in xl cpulist syntax (e.g. "0-3,^2", "node:1", "all")';
    case 'any': return 'anything';
  }
}

/** The first issue of `v` against `s` at `path`, or undefined when it conforms. */
export function check(v: unknown, s: Schema, path: string, ctx: CheckContext = {}): SchemaIssue | undefined {
  const bad = (message = `expected ${describe(s)}`): SchemaIssue => ({ path, message });
  switch (s.t) {
    case 'any':
      return undefined;
    case 'cpus': {
      if (typeof v !== 'string') return bad();
      const problem = ctx.cpus?.(v);
      return problem === undefined ? undefined : bad(problem);
    }
    case 'int':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || (s.t === 'int' && !Number.isInteger(v))) return bad();
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) return bad();
      return undefined;
    case 'string':
      return typeof v === 'string' && (!s.pattern || s.pattern.test(v)) ? undefined : bad();
    case 'bool':
      return typeof v === 'boolean' ? undefined : bad();
    case 'enum':
      return typeof v === 'string' && s.values.includes(v) ? undefined : bad();
    case 'array': {
      if (!Array.isArray(v)) return bad();
      if (s.min !== undefined && v.length < s.min) return bad(`expected at least ${s.min} element(s)`);
      if (s.max !== undefined && v.length > s.max) return bad(`expected at most ${s.max} element(s)`);
      for (let i = 0; i < v.length; i++) {
        const issue = check(v[i], s.of, member(path, i), ctx);
        if (issue) return issue;
      }
      return undefined;
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad();
      for (const [k, x] of Object.entries(v)) {
        const issue = check(x, s.of, member(path, k), ctx);
        if (issue) return issue;
      }
      return undefined;
    }
    case 'object': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad();
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (!(k in s.fields)) return { path: member(path, k), message: `unknown field (expected ${Object.keys(s.fields).join(', ')})` };
      }
      for (const k of s.required ?? []) {
        if (o[k] === undefined) return { path: member(path, k), message: `missing; expected ${describe(s.fields[k])}` };
      }
      for (const [k, fs] of Object.entries(s.fields)) {
        if (o[k] === undefined) continue;
        const issue = check(o[k], fs, member(path, k), ctx);
        if (issue) return issue;
      }
      return undefined;
    }
    case 'oneOf': {
      // The option whose issue is deepest is the one the author most likely meant.
      let best: SchemaIssue | undefined;
      for (const opt of s.options) {
        const issue = check(v, opt, path, ctx);
        if (!issue) return undefined;
        if (issue.path !== path && (!best || issue.path.length > best.path.length)) best = issue;
      }
      return best ?? bad();
    }
  }
}
