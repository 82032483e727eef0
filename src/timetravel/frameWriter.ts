/**
 * The one place a recording is written: a file opened for appending frames, with every failure a Left. A write
 * that fails part-way (EIO, ENOSPC, EFBIG) is cut back, so the file always ends at a whole frame: every step
 * reported as written stays readable. While a writer is open its file is locked (see {@link lockRecording}).
 * @module
 */
import * as fs from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { encodeFrame } from "./recordingFrame.js";
import { lockRecording } from "./recordingLock.js";
import type { FrameLayout } from "./recordingLayout.js";

/** Appends frames to a file. */
export interface FrameWriter {
  /**
   * Appends these frames, all or none: when a write fails, the file is cut back to where it ended before and the
   * Left says so (a later call may succeed, once the disk has room again).
   */
  append(frames: readonly (readonly [type: number, payload: Uint8Array])[]): E.Either<OptimizerError, void>;
  /** Closes the file and releases its lock. */
  close(): E.Either<OptimizerError, void>;
}

/** The file operations a writer uses (node:fs's by default; tests pass failing ones). */
export interface WriterIo {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): { readonly size: number };
  closeSync(fd: number): void;
}

/** node:fs. */
export const nodeIo: WriterIo = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
};

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const ioError = (path: string, doing: string, e: unknown): OptimizerError => optimizerError("InvalidOption", `cannot ${doing} ${path}: ${reason(e)}`);

/** Writes all of `bytes` at `position` (a write may take fewer bytes than asked). */
const writeAll = (io: WriterIo, fd: number, bytes: Uint8Array, position: number): void => {
  for (let at = 0; at < bytes.length; ) {
    const n = io.writeSync(fd, bytes, at, bytes.length - at, position + at);
    if (!(n > 0)) throw new Error(`a write took no bytes at byte ${position + at}`);
    at += n;
  }
};

/**
 * Opens `path` to write frames in `layout`: "create" makes a new file (replacing any old one) starting with the
 * layout's magic, "append" adds to the end of an existing one. Fails, with nothing left open, when another
 * writer has the file open or the file cannot be opened or written.
 */
export const openFrameWriter = (path: string, mode: "create" | "append", layout: FrameLayout, io: WriterIo = nodeIo): E.Either<OptimizerError, FrameWriter> => {
  const lock = lockRecording(path);
  if (E.isLeft(lock)) return lock;
  let fd: number | undefined;
  let size: number;
  try {
    fd = io.openSync(path, mode === "create" ? "w" : "r+");
    if (mode === "create") {
      const magic = new TextEncoder().encode(layout.magic);
      writeAll(io, fd, magic, 0);
      size = magic.length;
    } else size = io.fstatSync(fd).size;
  } catch (e) {
    if (fd !== undefined)
      try {
        io.closeSync(fd);
      } catch {
        // the open failed already; that is the error to report
      }
    lock.right.release();
    return E.left(ioError(path, mode === "create" ? "create the recording" : "append to the recording", e));
  }
  const file = fd;
  let open = true;
  /** set when a failed write could not be cut back: the file ends in a torn frame, nothing more may be added */
  let broken: string | undefined;
  return E.right({
    append: (frames) => {
      if (!open) return E.left(optimizerError("InvalidOption", `the recording ${path} is closed`));
      if (broken !== undefined) return E.left(optimizerError("InvalidOption", broken));
      const encoded: Uint8Array[] = [];
      for (const [type, payload] of frames) {
        const frame = encodeFrame(type, payload, layout);
        if (E.isLeft(frame)) return frame;
        encoded.push(frame.right);
      }
      const before = size;
      let at = size;
      try {
        for (const frame of encoded) {
          writeAll(io, file, frame, at);
          at += frame.length;
        }
        size = at;
        return E.right(undefined);
      } catch (e) {
        try {
          io.ftruncateSync(file, before);
          return E.left(ioError(path, "write to", `${reason(e)}; the file is cut back to its last whole frame (byte ${before}), so every step written before stays readable`));
        } catch (t) {
          broken =
            `a write to the recording ${path} failed (${reason(e)}) and the file could not be cut back to byte ${before} (${reason(t)}): ` +
            `it ends in a torn frame; read its intact part with allowTruncated / --allow-truncated`;
          return E.left(optimizerError("InvalidOption", broken));
        }
      }
    },
    close: () => {
      if (!open) return E.right(undefined);
      open = false;
      try {
        io.closeSync(file);
        return E.right(undefined);
      } catch (e) {
        return E.left(ioError(path, "close", e));
      } finally {
        lock.right.release();
      }
    },
  });
};
