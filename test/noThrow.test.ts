/**
 * Nothing is thrown across the public API (issue 12): every function exported by "larch", called with arbitrary
 * junk (fast-check's `anything()`) and with crafted hostile values (null-prototype objects, throwing getters,
 * Proxies whose traps throw, revoked Proxies, cycles, deep nesting, huge numbers, Symbols), returns without
 * throwing, and an async one resolves; so do the init and update of every transformation they return.
 * LARCH_JUNK_RUNS sets the number of runs (a few seconds' worth by default).
 */
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ndarray from "ndarray";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as larch from "larch";

const RUNS = Number(process.env["LARCH_JUNK_RUNS"] ?? 1500);

/** Functions that change the process's shared state (the kernel's helper thread) are called with their own junk below. */
const SHARED_STATE = new Set(["kernelThreads"]);

const throwingGetter = Object.defineProperty({}, "lr", { get: () => { throw new Error("getter"); }, enumerable: true });
const throwingTraps = new Proxy({}, {
  get: () => { throw Object.create(null); },
  has: () => { throw new Error("has"); },
  ownKeys: () => { throw new Error("ownKeys"); },
  getPrototypeOf: () => { throw new Error("getPrototypeOf"); },
  getOwnPropertyDescriptor: () => { throw new Error("gOPD"); },
});
const revoked = (() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; })();
const cycle: Record<string, unknown> = { w: ndarray(new Float32Array(2), [2]) };
cycle["self"] = cycle;
let deep: unknown = ndarray(new Float64Array(1), [1]);
for (let i = 0; i < 10_000; i++) deep = { x: deep };
const badToString = { toString: () => { throw new Error("toString"); }, valueOf: () => { throw new Error("valueOf"); } };
const hostile: unknown[] = [
  Object.create(null),
  throwingGetter,
  throwingTraps,
  revoked,
  cycle,
  deep,
  badToString,
  Symbol("junk"),
  10n ** 30n,
  1e308,
  -Infinity,
  NaN,
  -0,
  2 ** 53 + 1,
  [, 1],
  { data: new Float32Array(2), shape: [1e9], stride: [1], offset: 0 },
  { kind: "scaleByLr", count: -1 },
  { lr: 0.1, momentum: throwingTraps },
  ndarray(new Float32Array([NaN, Infinity]), [2]),
  { w: ndarray(new Float32Array([1, 2]), [2]) },
];
// hostile values are drawn by index and looked up in the property: fast-check itself probes what it generates
type Junk = { readonly any: unknown } | { readonly hostile: number };
const junk: fc.Arbitrary<Junk> = fc.oneof(
  { weight: 3, arbitrary: fc.anything().map((any) => ({ any })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: hostile.length - 1 }).map((i) => ({ hostile: i })) },
);
const value = (j: Junk): unknown => ("any" in j ? j.any : hostile[j.hostile]);

const exported = Object.entries(larch).filter(([name, v]) => typeof v === "function" && !SHARED_STATE.has(name)) as [string, (...args: unknown[]) => unknown][];

/** Calls f, awaits a promise it returns, and records what it threw or rejected with. */
const outcome = async (f: () => unknown): Promise<{ value?: unknown; thrown?: unknown }> => {
  try {
    const value = f();
    return { value: value instanceof Promise ? await value : value };
  } catch (thrown) {
    return { thrown };
  }
};

const isTransformation = (x: unknown): x is { init: (...a: unknown[]) => unknown; update: (...a: unknown[]) => unknown } =>
  typeof x === "object" && x !== null && typeof (x as { init?: unknown }).init === "function" && typeof (x as { update?: unknown }).update === "function";

describe("nothing thrown across the public API", () => {
  let dir = "";
  let cwd = "";
  beforeAll(() => {
    // junk strings may be taken for paths by the recording functions: let them land in a scratch directory
    cwd = process.cwd();
    dir = mkdtempSync(join(tmpdir(), "larch-junk-"));
    process.chdir(dir);
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`every export, and the init/update of what it returns, given junk (${RUNS} runs)`, async () => {
    let calls = 0;
    const failures = new Set<string>(); // distinct: export and message
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...exported), fc.array(junk, { maxLength: 4 }), fc.array(junk, { minLength: 4, maxLength: 4 }), async ([name, f], junkArgs, junkMore) => {
        const args = junkArgs.map(value);
        const more = junkMore.map(value);
        calls++;
        const r = await outcome(() => f(...args));
        const seen = failures;
        if ("thrown" in r) seen.add(`${name}: ${String((r.thrown as Error)?.message ?? "?")}`);
        if (isTransformation(r.value)) {
          const t = r.value;
          calls += 2;
          const i = await outcome(() => t.init(more[0]));
          const u = await outcome(() => t.update(more[0], more[1], more[2], more[3]));
          if ("thrown" in i) seen.add(`${name}(…).init: ${String((i.thrown as Error)?.message)}`);
          if ("thrown" in u) seen.add(`${name}(…).update: ${String((u.thrown as Error)?.message)}`);
        }
        return true; // all failures collected and reported together below
      }),
      // one fixed seed in npm test, so that a landing never depends on luck; FC_SEED or LARCH_JUNK_RUNS explore anew
      { numRuns: RUNS, ...(process.env["FC_SEED"] === undefined && process.env["LARCH_JUNK_RUNS"] === undefined ? { seed: 1212 } : {}) },
    );
    expect([...failures]).toEqual([]);
    console.log(`no-throw property: ${RUNS} runs, ${calls} calls with junk arguments over ${exported.length} exports`);
  }, 60_000);

  it("every export, and the init/update of what it returns, given each hostile value in every argument", async () => {
    const failures = new Set<string>();
    let calls = 0;
    // the 10⁴-deep tree is a valid tree now, which every export walks in full (7 s for all of them on a loaded
    // machine): the property above draws it, and test/hardening.test.ts walks deep trees through each tree function
    for (const [name, f] of exported)
      for (const h of hostile.filter((x) => x !== deep))
        for (const args of [[h], [{ lr: 0.1 }, h, h], [ndarray(new Float32Array(4), [2, 2]), h, h]]) {
          calls++;
          const r = await outcome(() => f(...args));
          if ("thrown" in r) failures.add(`${name}: ${String((r.thrown as Error)?.message ?? "?")}`);
          if (isTransformation(r.value)) {
            const t = r.value;
            calls += 2;
            const i = await outcome(() => t.init(h));
            const u = await outcome(() => t.update(h, h, h, h));
            if ("thrown" in i) failures.add(`${name}(…).init: ${String((i.thrown as Error)?.message)}`);
            if ("thrown" in u) failures.add(`${name}(…).update: ${String((u.thrown as Error)?.message)}`);
          }
        }
    expect([...failures]).toEqual([]);
    console.log(`no-throw sweep: ${calls} calls with each of ${hostile.length - 1} hostile values`);
  });

  it("kernelThreads refuses junk without touching the helper thread", async () => {
    const before = await larch.kernelThreads(1);
    for (const bad of hostile) {
      const r = await outcome(() => larch.kernelThreads(bad as never, bad as never));
      expect(r.thrown).toBeUndefined();
      expect(await larch.kernelThreads(bad as never)).toBe(before); // no helper started for junk
      const validMin = Number.isSafeInteger(bad) && (bad as number) >= 0; // -0 is a valid minValues
      if (!validMin) expect(await larch.kernelThreads(2 as never, bad as never)).toBe(before); // nor for a junk minValues
    }
  });
});
