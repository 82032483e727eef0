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
    testTimeout: 20_000,
    // the library keeps no mutable module state, so test files may share loaded modules (3x faster)
    isolate: false,
    setupFiles: ["test/support/fast-check-seed.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
