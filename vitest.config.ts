import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import the library by its package name, as users do; here the name maps to the sources
// so that a failing test points at a line of src/. test/package.test.ts checks the built package.
export default defineConfig({
  resolve: { alias: { larch: fileURLToPath(new URL("./src/index.ts", import.meta.url)) } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 20_000, isolate: false, setupFiles: ["test/support/fast-check-seed.ts"] },
});
