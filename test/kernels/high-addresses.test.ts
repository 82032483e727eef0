/**
 * Kernel memory above 2 GiB (it may grow to 4): the helper thread read the task table's address as a signed int32,
 * so a table placed past 2³¹ sent it looking for a module that never came, and the step waited for it for ever (a
 * ResNet-50 run of five optimizers in one process hung so). Run in a process of its own, with a time limit.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the helper thread runs tasks from a table above 2 GiB of kernel memory", () => {
  const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
  const script = fileURLToPath(new URL("./high-addresses-run.ts", import.meta.url));
  const r = spawnSync(tsx, [script], { encoding: "utf8", timeout: 30_000 });
  expect(r.signal, r.stderr).toBeNull(); // not killed at the time limit: nothing hung
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim()) as { onHelper: number; wrong: number };
  expect(out.onHelper).toBeGreaterThan(0); // the helper took tasks
  expect(out.wrong).toBe(-1); // and every sum is right
}, 40_000);
