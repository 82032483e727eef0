/**
 * What a disk, a second writer or a careless caller can do to a recording: writes that fail part-way (every step
 * reported as written stays readable), a damaged frame length (told apart from a crash's cut), two recorders on
 * one file (the second refused, a crashed one's lock taken over), descriptors never leaked, junk arguments a Left.
 */
import { spawnSync } from "node:child_process";
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import * as fs from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates, ARITHMETIC, fork, lars, openRecording, readRecording, seek, verify, type RecordedStep, type Recorder, type Tree } from "larch";
import { runCli } from "../../src/cli/run.js";
import { nodeIo, type WriterIo } from "../../src/timetravel/frameWriter.js";
import { openRecordingWith } from "../../src/timetravel/recorder.js";
import { gradAt, larsChain, realParams } from "./runs.js";

const dir = mkdtempSync(join(tmpdir(), "larch-fail-"));
const file = (name: string) => join(dir, name);
const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/**
 * An fs layer whose writes fail once the file has `at` bytes: the write crossing that point takes part of its
 * bytes (as a disk filling up does) and the next one throws `code`; later writes succeed again, or with `forGood`
 * fail too.
 */
const failingIo = (at: number, code: string, forGood = false): WriterIo & { failures: number } => {
  let written = 0;
  let failing = false;
  const io = {
    ...nodeIo,
    failures: 0,
    writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number => {
      if (failing) {
        io.failures++;
        failing = forGood;
        throw Object.assign(new Error(`${code}: injected write failure`), { code });
      }
      if (io.failures === 0 && position + length > at) {
        const room = Math.max(1, at - position);
        written += nodeIo.writeSync(fd, buffer, offset, room, position);
        failing = true;
        return room;
      }
      written += length;
      return nodeIo.writeSync(fd, buffer, offset, length, position);
    },
  };
  return io;
};

/** Runs n steps through a recorder, retrying a step once when its write fails; the steps reported written. */
const drive = (rec: Recorder<unknown>, n: number) => {
  const opt = larsChain();
  let params: Tree = realParams("float32");
  let state = must(opt.init(params));
  let written = 0;
  let refused = 0;
  for (let t = 0; t < n; t++) {
    let step = rec.step(gradAt(params, t), state, params);
    if (E.isLeft(step)) {
      refused++;
      step = rec.step(gradAt(params, t), state, params);
    }
    if (E.isLeft(step)) break;
    written++;
    params = must(applyUpdates(params, step.right[0]));
    state = step.right[1];
  }
  return { written, refused, closed: rec.close() };
};

describe("a write that fails part-way", () => {
  for (const code of ["EIO", "ENOSPC", "EFBIG"])
    it(`(${code}) is a Left, the file is cut back to its last whole frame, and every step written stays readable and verifiable`, () => {
      const path = file(`torn-${code}.larch`);
      const io = failingIo(30_000, code);
      const { written, refused, closed } = drive(must(openRecordingWith(io, path, larsChain(), realParams("float32"), { keyframeEvery: 5, recordGrads: true })), 40);
      expect(io.failures).toBe(1); // after a partial write
      expect(refused).toBe(1);
      expect(written).toBe(40); // the retry went through
      expect(E.isRight(closed)).toBe(true);
      const rec = must(readRecording(path));
      expect(rec.branches.get(0)!.endStep).toBe(40);
      const report = must(verify(rec));
      expect(report.divergence).toBeNull();
      expect(report.branches[0]!.stepsReplayed).toBe(40);
    });

  it("for good (a full disk): each step a Left, close a Left, and the file holds every step reported written", () => {
    const path = file("full.larch");
    const io = failingIo(30_000, "ENOSPC", true);
    const { written, closed } = drive(must(openRecordingWith(io, path, larsChain(), realParams("float32"), { keyframeEvery: 5, recordGrads: true })), 40);
    expect(written).toBeGreaterThan(5);
    expect(written).toBeLessThan(40);
    expect(E.isLeft(closed) && closed.left.message).toMatch(/ENOSPC.*cut back to its last whole frame/);
    const rec = must(readRecording(path)); // unfinished (no end frame), but whole
    expect(rec.branches.get(0)!.endStep).toBe(written);
    expect(rec.branches.get(0)!.complete).toBe(false);
    expect(must(verify(rec)).divergence).toBeNull();
    for (let t = 0; t <= written - 1; t++) expect(E.isRight(seek(rec, t))).toBe(true);
  });

  it("when the file cannot be cut back either, nothing more is appended (and the intact part reads with allowTruncated)", () => {
    const path = file("broken.larch");
    const io = { ...failingIo(30_000, "EIO"), ftruncateSync: () => { throw new Error("EIO: cannot truncate"); } };
    const rec = must(openRecordingWith(io, path, larsChain(), realParams("float32"), { keyframeEvery: 5, recordGrads: true }));
    const { written, closed } = drive(rec, 40);
    expect(written).toBeLessThan(40);
    expect(E.isLeft(closed) && closed.left.message).toMatch(/could not be cut back/);
    const partial = must(readRecording(path, { allowTruncated: true }));
    expect(partial.branches.get(0)!.endStep).toBe(written);
  });
});

describe("a damaged frame length", () => {
  const path = file("run.larch");
  drive(must(openRecording(path, larsChain(), realParams("float32"), { keyframeEvery: 5, recordGrads: true })), 30);
  const bytes = readFileSync(path);
  /** the offsets of the frames of a format-2 file */
  const frames = (b: Buffer, head = 12): number[] => {
    const out: number[] = [];
    for (let at = 8; at < b.length; at += head + b.readUInt32LE(at + 4) + 4) out.push(at);
    return out;
  };
  const offsets = frames(bytes);

  it("is told apart from a cut: a Left naming the damaged head and the steps after it, even with allowTruncated", () => {
    const at = offsets[Math.floor(offsets.length / 2)]!;
    for (const bit of [0, 7, 20, 31]) {
      const copy = Buffer.from(bytes);
      copy.writeUInt32LE((copy.readUInt32LE(at + 4) ^ (1 << bit)) >>> 0, at + 4);
      const damaged = file(`length-${bit}.larch`);
      writeFileSync(damaged, copy);
      for (const allowTruncated of [false, true]) {
        const r = readRecording(damaged, { allowTruncated });
        expect(E.isLeft(r) && r.left.message).toMatch(new RegExp(`head of frame \\d+ \\(at byte ${at}\\) fails its CRC-32 check: its type or length is damaged .* not cut short\\); \\d+ more steps follow`));
      }
    }
  });

  it("a real cut, read with allowTruncated: verify says how much it could not read", async () => {
    const cut = file("cut.larch");
    const last = offsets[offsets.length - 1]!; // the end frame; cut inside the final keyframe before it
    writeFileSync(cut, bytes.subarray(0, last - 50));
    const rec = must(readRecording(cut, { allowTruncated: true }));
    const report = must(verify(rec));
    expect(report.divergence).toBeNull();
    expect(report.unread).toMatchObject({ at: offsets[offsets.length - 2], steps: 0 });
    // cut inside a stats frame: that step is lost, and counted
    const statsAt = offsets.find((o) => bytes.readUInt32LE(o) === 2 && o > bytes.length / 2)!;
    writeFileSync(cut, bytes.subarray(0, statsAt + 20));
    expect(must(verify(must(readRecording(cut, { allowTruncated: true })))).unread).toMatchObject({ at: statsAt, steps: 1 });
    const cli = await runCli(["verify", cut, "--allow-truncated"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/could not be read: the file is cut short at byte \d+ \(\d+ bytes unread, holding 1 more step\)/);
    expect(cli.stdout).not.toMatch(/bit for bit$/);
  });
});

describe("format 1 (recordings written before frame heads had a check of their own)", () => {
  const v1 = fileURLToPath(new URL("../fixtures/recording-v1.larch", import.meta.url));

  it("still reads, seeks and verifies (written by larch 0.1 at e41ae09: 6 steps and a fork at step 3)", () => {
    const rec = must(readRecording(v1));
    expect(rec.header.format).toBe("larch-recording/1");
    expect([...rec.branches.values()].map((b) => [b.branch, b.endStep])).toEqual([[0, 6], [1, 5]]);
    // written before float32 leaves were computed in float32 arithmetic: it replays within float32 rounding, and says so
    expect(rec.branches.get(0)!.arithmetic).toBeUndefined();
    const report = must(verify(rec));
    expect(report.divergence).toBeNull();
    expect(report.branches.map((b) => [b.stepsReplayed, b.exact])).toEqual([[6, false], [2, false]]);
    expect(report.branches[0]!.note).toMatch(/earlier larch.*within float32 rounding/);
    expect(E.isRight(seek(rec, 4, { branch: 1 }))).toBe(true);
  });

  it("its replay is held to float32 rounding, not waved through: a recorded number moved by 1e-4 is a divergence", () => {
    const rec = must(readRecording(v1));
    const forged = { ...rec, steps: (branch: number) => E.map((steps: readonly RecordedStep[]) => steps.map((s) => (s.step === 2 ? { ...s, lr: s.lr! + 1e-4 } : s)))(rec.steps(branch)) };
    const d = must(verify(forged as typeof rec)).divergence;
    expect(d).toMatchObject({ branch: 0, step: 2, path: "" });
    expect(d!.message).toMatch(/^lr recorded/);
  });

  it("a fork appends format-1 frames, so the file stays readable", () => {
    const copy = file("v1-copy.larch");
    fs.copyFileSync(v1, copy);
    const f = must(fork(must(readRecording(copy)), 2, lars({ lr: 0.02, momentum: 0.9, weightDecay: 5e-4 })));
    const step = must(f.recorder.step(gradAt(f.start.params, 2), f.start.state, f.start.params));
    expect(step).toHaveLength(2);
    must(f.recorder.close());
    const rec = must(readRecording(copy));
    expect(rec.branches.get(2)!.endStep).toBe(3);
    expect(rec.branches.get(2)!.arithmetic).toBe(ARITHMETIC); // the new branch, in this larch's arithmetic: bit for bit
    const report = must(verify(rec));
    expect(report.divergence).toBeNull();
    expect(report.branches.map((b) => b.exact)).toEqual([false, false, true]);
  });

  it("a damaged length that runs past the end is told apart from a cut by the whole frames after it", () => {
    const bytes = readFileSync(v1);
    const offsets: number[] = [];
    for (let at = 8; at < bytes.length; at += 12 + bytes.readUInt32LE(at + 4)) offsets.push(at);
    const at = offsets[5]!;
    const copy = Buffer.from(bytes);
    copy.writeUInt32LE((copy.readUInt32LE(at + 4) ^ (1 << 30)) >>> 0, at + 4);
    const damaged = file("v1-length.larch");
    writeFileSync(damaged, copy);
    const r = readRecording(damaged, { allowTruncated: true });
    expect(E.isLeft(r) && r.left.message).toMatch(/runs past the end of the file, yet whole frames follow from byte \d+: its length is damaged .*; \d+ more steps follow/);
  });
});

describe("two writers on one recording", () => {
  const params = realParams("float32");

  it("the second recorder (or a fork) is refused while the first is open; after close the file is free", () => {
    const path = file("locked.larch");
    const first = must(openRecording(path, larsChain(), params, { keyframeEvery: 2, recordGrads: true }));
    must(first.step(gradAt(params, 0), must(larsChain().init(params)), params));
    const second = openRecording(path, larsChain(), params, { keyframeEvery: 2, recordGrads: true });
    expect(E.isLeft(second) && second.left.message).toMatch(/is open in another recorder \(in this process\)/);
    // through a symbolic link too
    const link = file("locked-link.larch");
    symlinkSync(path, link);
    expect(E.isLeft(openRecording(link, larsChain(), params, { keyframeEvery: 2, recordGrads: true }))).toBe(true);
    must(first.close());
    const rec = must(readRecording(path));
    const f = must(fork(rec, 0, larsChain()));
    expect(E.isLeft(fork(rec, 0, larsChain()))).toBe(true);
    must(f.recorder.close());
    must(must(openRecording(path, larsChain(), params, { keyframeEvery: 2, recordGrads: true })).close());
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("a lock left by a process that is gone (a crash) is taken over; one from another host is refused", () => {
    const path = file("stale.larch");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // exited: no such process now
    writeFileSync(`${path}.lock`, `${dead}\n${hostname()}\n`);
    must(must(openRecording(path, larsChain(), params, {})).close());
    writeFileSync(`${path}.lock`, `${dead}\nsome-other-host\n`);
    const r = openRecording(path, larsChain(), params, {});
    expect(E.isLeft(r) && r.left.message).toMatch(/process \d+ on some-other-host.*delete .*stale\.larch\.lock/);
  });
});

describe("descriptors", () => {
  it.skipIf(!existsSync("/dev/full") || !existsSync("/proc/self/fd"))("openRecording on a target it cannot write (/dev/full) leaks no file descriptor", () => {
    const before = readdirSync("/proc/self/fd").length;
    for (let i = 0; i < 20; i++) {
      const r = openRecording("/dev/full", larsChain(), realParams("float32"), {});
      expect(E.isLeft(r) && r.left.message).toMatch(/ENOSPC/);
    }
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });

  it("every descriptor the writer opens is closed when creating the file fails", () => {
    let opened = 0;
    let closedCount = 0;
    const io: WriterIo = {
      ...nodeIo,
      openSync: (p, f) => (opened++, nodeIo.openSync(p, f)),
      closeSync: (fd) => (closedCount++, nodeIo.closeSync(fd)),
      writeSync: () => {
        throw Object.assign(new Error("EIO: injected"), { code: "EIO" });
      },
    };
    for (let i = 0; i < 5; i++) expect(E.isLeft(openRecordingWith(io, file("eio.larch"), larsChain(), realParams("float32"), {}))).toBe(true);
    expect([opened, closedCount]).toEqual([5, 5]);
    expect(existsSync(file("eio.larch.lock"))).toBe(false);
  });
});

describe("junk arguments", () => {
  const path = file("args.larch");
  drive(must(openRecording(path, larsChain(), realParams("float32"), { keyframeEvery: 5, recordGrads: true })), 6);
  const rec = must(readRecording(path));
  const junk: unknown[] = [null, undefined, 0, -1, 1.5, NaN, "", "x", [], {}, () => 1, Symbol("s"), { keyframe: 1 }];

  it("verify, seek, fork, openRecording, readRecording: a Left for each, never a throw", () => {
    const calls: (() => E.Either<unknown, unknown>)[] = [];
    for (const x of junk) {
      calls.push(() => verify(x as never));
      calls.push(() => seek(x as never, 1));
      calls.push(() => fork(x as never, 1, larsChain()));
      // (a non-empty string is a path: it would create that file)
      if (typeof x !== "string" || x === "") calls.push(() => openRecording(x as never, larsChain(), realParams("float32")));
      calls.push(() => openRecording(file("junk.larch"), x as never, realParams("float32")));
      calls.push(() => readRecording(x as never));
      if (typeof x !== "object" || x === null || Array.isArray(x)) {
        if (x !== undefined) {
          calls.push(() => verify(rec, x as never));
          calls.push(() => seek(rec, 1, x as never));
          calls.push(() => fork(rec, 1, larsChain(), x as never));
          calls.push(() => openRecording(file("junk.larch"), larsChain(), realParams("float32"), x as never));
        }
        if (!(typeof x === "number" && Number.isSafeInteger(x) && x >= 0)) {
          calls.push(() => seek(rec, x as never));
          calls.push(() => fork(rec, x as never, larsChain()));
        }
      }
      calls.push(() => fork(rec, 1, x as never));
      calls.push(() => openRecording(file("junk.larch"), larsChain(), realParams("float32"), { keyframeEvery: x as never }));
      calls.push(() => openRecording(file("junk.larch"), larsChain(), realParams("float32"), { recordGrads: x as never }));
      calls.push(() => seek(rec, 1, { optimizer: x as never }));
    }
    for (const call of calls) {
      let result: E.Either<unknown, unknown> | undefined;
      expect(() => (result = call())).not.toThrow();
      if (E.isRight(result!)) {
        // only options that are valid after all (an absent optimizer, a boolean...) may succeed
        const r = result.right as { close?: () => unknown; recorder?: { close: () => unknown } };
        r.close?.();
        r.recorder?.close();
      }
    }
    expect(E.isLeft(verify(null as never)) && (verify(null as never) as E.Left<{ message: string }>).left.message).toMatch(/verify needs a recording/);
    expect(E.isLeft(openRecording(file("k.larch"), larsChain(), realParams("float32"), { keyframeEvery: "5" as never }))).toBe(true);
  });

  it("openRecording's options default to a keyframe every 20 steps, gradients recorded", () => {
    const p = file("defaults.larch");
    must(must(openRecording(p, larsChain(), realParams("float32"))).close());
    expect(must(readRecording(p)).header).toMatchObject({ keyframeEvery: 20, recordGrads: true });
  });
});

describe("larch checkpoint and report refuse to write over their input", () => {
  const path = file("cli.larch");
  drive(must(openRecording(path, larsChain(), realParams("float32"), { keyframeEvery: 5, recordGrads: true })), 6);
  const original = readFileSync(path);
  const symlink = file("cli-symlink.larch");
  symlinkSync(path, symlink);
  const hardlink = file("cli-hardlink.larch");
  linkSync(path, hardlink);

  for (const out of [path, symlink, hardlink, `${dir}/./cli.larch`])
    it(`-o ${out.slice(dir.length + 1)}: exit 2, the recording unchanged`, async () => {
      const c = await runCli(["checkpoint", `${path}@5`, "-o", out]);
      expect(c.code).toBe(2);
      expect(c.stderr).toMatch(/is the recording it reads/);
      const r = await runCli(["report", path, "-o", out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is the recording it reads/);
      expect(Buffer.compare(readFileSync(path), original)).toBe(0);
    });
});
