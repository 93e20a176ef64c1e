/**
 * Test helpers: the built CLI (dist/cli/main.js), rebuilt first when missing or older than a
 * source file, and a way to run it as a child process.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli/main.js');

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

function stale(): boolean {
  return !existsSync(CLI) || statSync(CLI).mtimeMs < newestSource(join(ROOT, 'bindings'));
}

/** Builds dist/ when stale; one builder at a time across test files (a lock directory). */
export function ensureBuilt(): void {
  if (!stale()) return;
  const lock = join(ROOT, 'dist-build.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is older than any build takes.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmdirSync(lock);
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    // Type errors elsewhere in the tree do not stop tsc from emitting; the CLI file must exist.
    if (stale()) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
    if (!existsSync(CLI)) throw new Error('build did not produce dist/cli/main.js');
  } finally {
    rmdirSync(lock);
  }
}

/** Runs the CLI with `args`; stdin is closed and stdout/stderr are pipes (not TTYs). */
export function cli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20,
  });
}
