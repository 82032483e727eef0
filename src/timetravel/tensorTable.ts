/**
 * Second stage of decoding: the safetensors tensor table. Every entry must be
 * `{"dtype": "F32"|"F64", "shape": [non-negative integers], "data_offsets": [begin, end]}` with
 * end − begin = (product of shape) × (bytes per value), and the entries must tile the data section
 * exactly: sorted by begin they start at 0, neither overlap nor leave gaps, and the last ends at its end.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { dtypeOfSafetensors } from "./checkpointLayout.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { sizeOf, type Dtype } from "../core/leaf.js";
import { bytesPerValue, isPlainRecord } from "./stateValue.js";

/** One tensor of the table, checked. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

const isIndex = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** The checked entry of tensor `name`, or why it is malformed. */
const readEntry = (name: string, info: unknown, dataLength: number): E.Either<OptimizerError, TensorEntry> => {
  const bad = (why: string) =>
    E.left(optimizerError("DecodeError", `tensor ${showPath(name)} in the checkpoint header: ${why}`, { path: name }));
  if (!isPlainRecord(info)) return bad("its entry is not a JSON object");
  const keys = Object.keys(info).sort().join(",");
  if (keys !== "data_offsets,dtype,shape") return bad(`it has fields [${keys}], expected [data_offsets,dtype,shape]`);
  const { dtype: dtypeName, shape, data_offsets: offsets } = info;
  const dtype = typeof dtypeName === "string" ? dtypeOfSafetensors(dtypeName) : undefined;
  if (dtype === undefined) return bad(`dtype ${JSON.stringify(dtypeName)} is not "F32" or "F64"`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) return bad("its shape is not a list of non-negative integers");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex))
    return bad("its data_offsets are not two non-negative integers");
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength)
    return bad(`data_offsets [${begin}, ${end}] lie outside the ${dataLength} bytes of tensor data`);
  const expected = sizeOf(shape) * bytesPerValue(dtype);
  if (end - begin !== expected)
    return bad(`it spans ${end - begin} bytes but ${dtypeName} values of shape [${shape.join(", ")}] need ${expected}`);
  return E.right({ name, dtype, shape: [...shape], begin, end });
};

/**
 * The checked tensor table (name → entry) of a header whose data section holds `dataLength` bytes, or a
 * Left naming the first malformed entry, the first overlap, gap, or the bytes left over.
 */
export const readTensorTable = (
  tensors: Readonly<Record<string, unknown>>,
  dataLength: number,
): E.Either<OptimizerError, ReadonlyMap<string, TensorEntry>> => {
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(tensors)) {
    const entry = readEntry(name, info, dataLength);
    if (E.isLeft(entry)) return entry;
    entries.push(entry.right);
  }
  // tiling: sorted by (begin, end), each entry starts where the previous one ended
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const { name, begin, end } of sorted) {
    if (begin !== covered)
      return E.left(
        optimizerError(
          "DecodeError",
          begin < covered
            ? `tensor ${showPath(name)} overlaps another tensor's bytes (starts at ${begin}, before ${covered})`
            : `the bytes [${covered}, ${begin}) of tensor data belong to no tensor`,
          { path: name },
        ),
      );
    covered = end;
  }
  if (covered !== dataLength)
    return E.left(
      optimizerError("DecodeError", `the checkpoint has ${dataLength - covered} bytes after its last tensor's data`),
    );
  return E.right(new Map(entries.map((e) => [e.name, e])));
};
