import { defineConfig } from 'vitest/config';

/** Test files that drive the real Xenstore daemons and tools: run one at a time, so that two
 * sets of real daemons, ring proxies and client tools never compete for this machine's 2 cores. */
const REAL_XENSTORE = ['conformance', 'tools', 'differential', 'robustness'].map((f) => `test/xen/xenstore/${f}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: REAL_XENSTORE } },
      { extends: true, test: { name: 'real-xenstore', include: REAL_XENSTORE, fileParallelism: false } },
    ],
  },
});
