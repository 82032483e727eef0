/**
 * A helper thread for the generated passes (`compiledStep.ts`) and the matrix products' tiles (`matmulWasm.ts`): a worker over the same shared kernel memory that
 * instantiates each chain's module the first time a task names it (modules arrive by message, read synchronously)
 * and takes tasks from the same table as the calling thread. A task is six int32 in kernel memory:
 * [module id, function (an index of TASK_FUNCTIONS: pass, sumsq, matmulTile, sumsq2), a0, a1, a2, a3], the function's arguments.
 *
 * Work sharing that never waits for a busy core: both threads take the next task from a shared counter. The helper
 * first claims the batch (IDLE → RUNNING); when the caller has run out of tasks and the helper has not claimed the
 * batch yet, the caller cancels it (IDLE → CANCELLED) and returns. A task is a whole sum of squares (its order is
 * fixed), a range of a pass (every value depends on its own inputs only) or a tile of a product (each element's sum
 * whole, in its fixed order), so the bits do not depend on who ran what.
 * @module
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { TASK_FUNCTIONS, TASK_INTS } from "./compileWasm.js";
import type { WasmMemory, WasmModule } from "./wasm-api.js";

/**
 * Control words: 0 sequence, 1 kind (0 run, 1 stop), 2 table address, 3 task count, 4 next task, 5 batch state,
 * 6 tasks ready (those below it have their inputs in place; the caller raises it while it copies them in).
 */
const SEQ = 0, KIND = 1, TABLE = 2, COUNT = 3, NEXT = 4, STATE = 5, READY = 6;
const IDLE = 0, RUNNING = 1, CANCELLED = 2, DONE = 3;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { memory, control, port } = workerData;
const ctl = new Int32Array(control);
const modules = new Map();
const names = ${JSON.stringify(TASK_FUNCTIONS)};
const exportsOf = (id) => {
  for (let m = modules.get(id); ; m = modules.get(id)) {
    if (m !== undefined) return m;
    const msg = receiveMessageOnPort(port);
    if (msg !== undefined) modules.set(msg.message.id, new WebAssembly.Instance(msg.message.module, { env: { memory } }).exports);
  }
};
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  if (Atomics.load(ctl, ${KIND}) === 1) break;
  if (Atomics.compareExchange(ctl, ${STATE}, ${IDLE}, ${RUNNING}) !== ${IDLE}) continue;
  // read the batch only now: a late wake-up may claim a later batch than the one it woke for
  const table = Atomics.load(ctl, ${TABLE}) >>> 2, count = Atomics.load(ctl, ${COUNT});
  const t = new Int32Array(memory.buffer);
  for (let i = Atomics.add(ctl, ${NEXT}, 1); i < count; i = Atomics.add(ctl, ${NEXT}, 1)) {
    for (let r = Atomics.load(ctl, ${READY}); r <= i; r = Atomics.load(ctl, ${READY})) Atomics.wait(ctl, ${READY}, r);
    const o = table + ${TASK_INTS} * i;
    const m = exportsOf(t[o]);
    m[names[t[o + 1]]](t[o + 2], t[o + 3], t[o + 4], t[o + 5]);
  }
  Atomics.store(ctl, ${STATE}, ${DONE});
  Atomics.notify(ctl, ${STATE});
}
`;

/** One helper thread for the generated passes. */
export interface PassHelperThread {
  /** The helper's id for a module (sent to it on first use). */
  idOf(module: WasmModule): number;
  /**
   * Offers the `count` tasks of the table at byte address `table` to the helper and runs tasks on the calling thread
   * through `runTask(i)` until none is left; returns when every task is done. Never waits for a helper that has
   * not started. With `prepare`, the calling thread first runs it, which calls `publish(n)` once tasks 0 … n − 1
   * have their inputs in place (n growing, `count` last): meanwhile the helper runs only tasks below the last n.
   */
  share(table: number, count: number, runTask: (index: number) => void, prepare?: (publish: (ready: number) => void) => void): void;
  close(): Promise<void>;
}

/**
 * Starts a helper thread over `memory` (a shared WebAssembly memory).
 * @example
 * const helper = startPassHelperThread(arena.memory);
 * helper.share(table, tasks, (i) => runTask(i)); // the caller and the helper take tasks in turn
 */
export function startPassHelperThread(memory: WasmMemory): PassHelperThread {
  const control = new SharedArrayBuffer(4 * 8);
  const ctl = new Int32Array(control);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, control, port: port2 }, transferList: [port2 as MessagePort] });
  worker.unref();
  port1.unref();
  const ids = new WeakMap<WasmModule, number>();
  let nextId = 0;
  return {
    idOf(module) {
      let id = ids.get(module);
      if (id === undefined) {
        ids.set(module, (id = nextId++));
        port1.postMessage({ id, module });
      }
      return id;
    },
    share(table, count, runTask, prepare) {
      // the batch is written before the claim opens (STATE = IDLE), so whoever claims it reads this one
      Atomics.store(ctl, KIND, 0);
      Atomics.store(ctl, TABLE, table);
      Atomics.store(ctl, COUNT, count);
      Atomics.store(ctl, NEXT, 0);
      Atomics.store(ctl, READY, prepare === undefined ? count : 0);
      Atomics.store(ctl, STATE, IDLE);
      Atomics.add(ctl, SEQ, 1);
      Atomics.notify(ctl, SEQ);
      // a prepare that throws still lets the batch finish (on whatever is in place) before the error goes on
      let failed: { error: unknown } | undefined;
      if (prepare !== undefined) {
        const publish = (ready: number) => {
          Atomics.store(ctl, READY, Math.min(ready, count));
          Atomics.notify(ctl, READY);
        };
        try {
          prepare(publish);
        } catch (error) {
          failed = { error };
        }
        publish(count); // (whatever prepare published)
      }
      for (let i = Atomics.add(ctl, NEXT, 1); i < count; i = Atomics.add(ctl, NEXT, 1)) runTask(i);
      if (Atomics.compareExchange(ctl, STATE, IDLE, CANCELLED) !== IDLE)
        for (let s = Atomics.load(ctl, STATE); s !== DONE; s = Atomics.load(ctl, STATE)) Atomics.wait(ctl, STATE, s);
      if (failed !== undefined) throw failed.error;
    },
    async close() {
      Atomics.store(ctl, KIND, 1);
      Atomics.add(ctl, SEQ, 1);
      Atomics.notify(ctl, SEQ);
      port1.close();
      await worker.terminate();
    },
  };
}
