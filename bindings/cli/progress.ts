/**
 * A progress bar on stderr for runs longer than a second: nothing is drawn before the first
 * second has passed, nothing at all when stderr is not a terminal or when `quiet` is set.
 * Redraws at most ten times a second; `done()` erases it.
 */

export interface Progress {
  update(done: number, total: number, what?: string): void;
  done(): void;
}

const WIDTH = 30;
const DELAY_MS = 1000;
const REDRAW_MS = 100;

export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY) return { update() {}, done() {} };
  const start = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total, what = '') {
      const now = Date.now();
      if (now - start < DELAY_MS || (now - last < REDRAW_MS && done < total)) return;
      last = now;
      const frac = total > 0 ? done / total : 0;
      const fill = Math.round(frac * WIDTH);
      const line = `[${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${done}/${total} ${((now - start) / 1000).toFixed(1)}s ${what}`;
      stream.write(`\r${line.slice(0, (stream.columns || 80) - 1)}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
