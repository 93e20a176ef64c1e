/**
 * Command-line arguments: positionals and `--name value` / `--name=value` / `--flag` options,
 * checked against what the subcommand accepts so that a typo is an error, not a silent default.
 */
import { fail } from '../errors.js';

export interface OptionSpec {
  /** Options that take a value; repeated ones collect every value in order. */
  values: readonly string[];
  /** Options without a value. */
  flags: readonly string[];
}

export interface ParsedArgs {
  positionals: string[];
  /** Every value of each value option, in command-line order. */
  values: Map<string, string[]>;
  flags: Set<string>;
  /** Value options in command-line order (for left-to-right mask arithmetic). */
  ordered: { name: string; value: string }[];
}

export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: new Map(), flags: new Set(), ordered: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a.length === 2) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (spec.flags.includes(name)) {
      if (eq >= 0) fail('EINVAL', `option --${name} takes no value`);
      out.flags.add(name);
    } else if (spec.values.includes(name)) {
      let value: string;
      if (eq >= 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else fail('EINVAL', `option --${name} needs a value`);
      out.values.set(name, [...(out.values.get(name) ?? []), value]);
      out.ordered.push({ name, value });
    } else {
      const known = [...spec.values, ...spec.flags].map((o) => `--${o}`).join(', ') || 'none';
      fail('EINVAL', `unknown option --${name} (this command accepts: ${known})`);
    }
  }
  return out;
}

/** The last value given for an option, or undefined. */
export function lastValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.values.get(name);
  return v?.[v.length - 1];
}

/** A non-negative integer option (EINVAL naming the option when it is not one). */
export function intOption(args: ParsedArgs, name: string, dflt: number): number {
  const v = lastValue(args, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) fail('EINVAL', `--${name} ${JSON.stringify(v)}: expected a non-negative integer`);
  return Number(v);
}
