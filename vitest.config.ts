import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import the library by its package name, as users do; here the name maps to the sources
// so that a failing test points at a line of src/. test/package.test.ts checks the built package.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^larch\/tfjs$/, replacement: fileURLToPath(new URL("./src/tfjs/index.ts", import.meta.url)) },
      { find: /^larch$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // a limit to catch a hang, not to time anything: on a loaded two-core machine sound tests took over 20 s
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // the library keeps no mutable module state, so test files may share loaded modules (3x faster)
    isolate: false,
    // vitest's default is one worker fewer than the cores (one on two); the main process only waits, so use them all
    maxWorkers: Math.max(2, availableParallelism()),
    setupFiles: ["test/support/fast-check-seed.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
