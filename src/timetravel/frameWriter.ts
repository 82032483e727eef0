/**
 * The one place a recording is written: a file opened for appending frames, with every failure a Left.
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { encodeFrame } from "./recordingFrame.js";

/** Appends frames to a file. */
export interface FrameWriter {
  append(type: number, payload: Uint8Array): E.Either<OptimizerError, void>;
  close(): E.Either<OptimizerError, void>;
}

const ioError = (path: string, doing: string, e: unknown): OptimizerError =>
  optimizerError("InvalidOption", `cannot ${doing} ${path}: ${e instanceof Error ? e.message : String(e)}`);

/**
 * Opens `path` to write frames: "create" makes a new file (replacing any old one) starting with `prefix`,
 * "append" adds to the end of an existing one.
 */
export const openFrameWriter = (path: string, mode: "create" | "append", prefix?: Uint8Array): E.Either<OptimizerError, FrameWriter> => {
  let fd: number;
  try {
    fd = openSync(path, mode === "create" ? "w" : "a");
    if (prefix) writeSync(fd, prefix);
  } catch (e) {
    return E.left(ioError(path, mode === "create" ? "create the recording" : "append to the recording", e));
  }
  let open = true;
  return E.right({
    append: (type, payload) => {
      if (!open) return E.left(optimizerError("InvalidOption", `the recording ${path} is closed`));
      const frame = encodeFrame(type, payload);
      if (E.isLeft(frame)) return frame;
      try {
        for (let at = 0; at < frame.right.length; ) at += writeSync(fd, frame.right, at);
        return E.right(undefined);
      } catch (e) {
        return E.left(ioError(path, "write to", e));
      }
    },
    close: () => {
      if (!open) return E.right(undefined);
      open = false;
      try {
        closeSync(fd);
        return E.right(undefined);
      } catch (e) {
        return E.left(ioError(path, "close", e));
      }
    },
  });
};
