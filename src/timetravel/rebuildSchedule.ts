/**
 * Rebuilding a learning rate (a number, or one of the library's schedules) from its description, as
 * `describeValue` writes it into a transformation's hyper-parameters.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { HyperRecord, HyperValue } from "../core/transform.js";
import { cosineDecay } from "../schedules/cosineDecay.js";
import { exponentialDecay } from "../schedules/exponentialDecay.js";
import { joinSchedules } from "../schedules/joinSchedules.js";
import { linearWarmup } from "../schedules/linearWarmup.js";
import { oneCycle } from "../schedules/oneCycle.js";
import { piecewiseConstant } from "../schedules/piecewiseConstant.js";
import { constantSchedule, polynomialDecay, type Schedule } from "../schedules/schedule.js";
import { sgdr } from "../schedules/sgdr.js";
import { warmupCosineDecay, type WarmupCosineDecayOptions } from "../schedules/warmupCosineDecay.js";
import { isPlainRecord } from "./stateValue.js";

type Rate = E.Either<OptimizerError, number | Schedule>;

/** The named fields of a record when each is a number, else undefined. */
export const numbersOf = <K extends string>(h: HyperRecord, keys: readonly K[]): Record<K, number> | undefined => {
  const out = {} as Record<K, number>;
  for (const key of keys) {
    const v = h[key];
    if (typeof v !== "number") return undefined;
    out[key] = v;
  }
  return out;
};

/** A field that is a list of numbers, else undefined. */
const numberList = (h: HyperRecord, key: string): number[] | undefined => {
  const v = h[key];
  return Array.isArray(v) && v.every((x) => typeof x === "number") ? (v as number[]) : undefined;
};

/** Each library schedule, from its spec (undefined when the spec lacks a field). */
const schedules: { readonly [name: string]: (s: HyperRecord) => Schedule | Rate | undefined } = {
  constant: (s) => {
    const o = numbersOf(s, ["value"]);
    return o && constantSchedule(o.value);
  },
  polynomialDecay: (s) => {
    const o = numbersOf(s, ["init", "power", "totalSteps"]);
    return o && polynomialDecay({ ...o, ...(typeof s["end"] === "number" ? { end: s["end"] } : {}) });
  },
  cosineDecay: (s) => {
    const o = numbersOf(s, ["init", "decaySteps", "alpha"]);
    return o && cosineDecay(o);
  },
  piecewiseConstant: (s) => {
    const values = numberList(s, "values");
    const boundaries = numberList(s, "boundaries");
    return values && boundaries && piecewiseConstant({ values, boundaries });
  },
  linearWarmup: (s) => {
    const o = numbersOf(s, ["steps", "start"]);
    return o && E.map((then: number | Schedule) => linearWarmup(o, then))(rebuildRate(s["then"]));
  },
  exponentialDecay: (s) => {
    const o = numbersOf(s, ["init", "transitionSteps", "decayRate", "transitionBegin"]);
    const end = s["end"];
    if (!o || typeof s["staircase"] !== "boolean" || !(end === null || typeof end === "number")) return undefined;
    return exponentialDecay({ ...o, staircase: s["staircase"], ...(end === null ? {} : { end }) });
  },
  warmupCosineDecay: (s) => {
    const o = warmupCosineOptions(s);
    return o && warmupCosineDecay(o);
  },
  sgdr: (s) => {
    const cycles = s["cycles"];
    if (!Array.isArray(cycles)) return undefined;
    const options = cycles.map((c) => (isPlainRecord(c) ? warmupCosineOptions(c as HyperRecord) : undefined));
    return options.every((c) => c !== undefined) ? sgdr(options as WarmupCosineDecayOptions[]) : undefined;
  },
  oneCycle: (s) => {
    const o = numbersOf(s, ["transitionSteps", "peak", "pctStart", "divFactor", "finalDivFactor"]);
    const anneal = s["anneal"];
    if (!o || (anneal !== "cosine" && anneal !== "linear")) return undefined;
    if (anneal === "cosine") return oneCycle({ ...o, anneal });
    return typeof s["pctFinal"] === "number" ? oneCycle({ ...o, anneal, pctFinal: s["pctFinal"] }) : undefined;
  },
  joinSchedules: (s) => {
    const parts = s["schedules"];
    const boundaries = numberList(s, "boundaries");
    if (!Array.isArray(parts) || !boundaries) return undefined;
    const schedules: (number | Schedule)[] = [];
    for (const part of parts) {
      const rebuilt = rebuildRate(part as HyperValue);
      if (E.isLeft(rebuilt)) return rebuilt;
      schedules.push(rebuilt.right);
    }
    return joinSchedules({ schedules, boundaries });
  },
};

/** The options of a warm-up-and-cosine schedule (or of one sgdr cycle) from its spec, else undefined. */
const warmupCosineOptions = (s: HyperRecord): WarmupCosineDecayOptions | undefined =>
  numbersOf(s, ["init", "peak", "warmupSteps", "decaySteps", "end", "exponent"]);

/**
 * A learning rate as described: a number, or `{ schedule: name, ... }` for the library's schedules (constant,
 * polynomialDecay, cosineDecay, piecewiseConstant, exponentialDecay, warmupCosineDecay, sgdr, oneCycle, and
 * linearWarmup or joinSchedules around any of these). A custom schedule
 * (`describedSchedule`, or a bare function: `{ schedule: "custom" }`) is a Left naming it.
 */
export const rebuildRate = (v: HyperValue | undefined): Rate => {
  if (typeof v === "number") return E.right(v);
  const name = isPlainRecord(v) ? v["schedule"] : undefined;
  const make = typeof name === "string" && Object.hasOwn(schedules, name) ? schedules[name] : undefined;
  const made = make?.(v as HyperRecord);
  if (made !== undefined) return typeof made === "function" ? E.right(made) : made;
  const why = make ? `a ${String(name)} schedule whose spec lacks a field` : "a custom schedule";
  return E.left(optimizerError("InvalidOption", `cannot rebuild the learning rate ${JSON.stringify(v ?? null)} (${why}); pass the optimizer`));
};
