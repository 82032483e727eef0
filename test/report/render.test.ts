import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect } from "vitest";
import { loadReportAssets } from "../../src/report/assets.js";
import { escapeHtml, jsonForScript } from "../../src/report/embed.js";
import { renderReport, renderReportHtml } from "../../src/report/render.js";
import { validateReportData } from "../../src/report/validate.js";
import { syntheticReport } from "./synthetic.js";

/** The inverse of jsonForScript, as the page's script does it. */
const parseLikeThePage = (text: string): unknown =>
  JSON.parse(text, (_key, value) =>
    value && typeof value === "object" && !Array.isArray(value) && typeof value.$num === "string" && Object.keys(value).length === 1
      ? Number(value.$num)
      : value,
  );

const assets = () => {
  const a = loadReportAssets();
  if (E.isLeft(a)) throw new Error(a.left.message);
  return a.right;
};

describe("jsonForScript", () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.string({ unit: "binary" }),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie("v"), { maxKeys: 4 }),
    ),
  })).v;

  test.prop([value])("contains no '<' nor line separators, and round-trips (NaN, ±Infinity and −0 too)", (v) => {
    const text = jsonForScript(v);
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(parseLikeThePage(text)).toEqual(v);
  });

  test.prop([fc.string()])("cannot close its script element", (s) => {
    expect(jsonForScript({ s: `</script>${s}<!--` }).toLowerCase()).not.toContain("</script");
  });
});

describe("escapeHtml", () => {
  test.prop([fc.string()])("leaves no markup characters", (s) => {
    expect(escapeHtml(s)).not.toMatch(/[<>"']/);
    expect(escapeHtml(s).replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)))).toBe(s);
  });
});

describe("validateReportData", () => {
  test("accepts the synthetic run", () => {
    expect(E.isRight(validateReportData(syntheticReport()))).toBe(true);
  });

  const broken: [string, (d: any) => void][] = [
    ["version", (d) => (d.version = 2)],
    ["run.title", (d) => (d.run.title = 3)],
    ["run.hyperparams.lr", (d) => (d.run.hyperparams.lr = { nested: 1 })],
    ["leaves[1].path", (d) => (d.leaves[1].path = d.leaves[0].path)],
    ["leaves[0].shape", (d) => (d.leaves[0].shape = [2, -1])],
    ["leaves[2].dtype", (d) => (d.leaves[2].dtype = "int8")],
    ["steps[3].step", (d) => (d.steps[3].step = d.steps[2].step)],
    ["steps[4].lr", (d) => (d.steps[4].lr = "0.1")],
    ["steps[5].leaves", (d) => d.steps[5].leaves.pop()],
    ["steps[6].leaves[0].gradNorm", (d) => (d.steps[6].leaves[0].gradNorm = null)],
    ["steps", (d) => (d.steps = [])],
  ];
  test.each(broken)("refuses a broken %s, naming it", (field, breakIt) => {
    const data = structuredClone(syntheticReport());
    breakIt(data);
    const result = validateReportData(data);
    expect(E.isLeft(result) && result.left.kind === "InvalidReportData").toBe(true);
    if (E.isLeft(result)) expect(result.left.message.startsWith(`${field}:`)).toBe(true);
  });

  test.prop([fc.anything()])("never throws on arbitrary input", (junk) => {
    expect(() => validateReportData(junk)).not.toThrow();
  });
});

describe("renderReport", () => {
  test("is one self-contained page: inline assets, a no-network policy, no external resources", () => {
    const html = renderReport(syntheticReport());
    if (E.isLeft(html)) throw new Error(html.left.message);
    const page = html.right;
    expect(page).toContain(assets().uplotJs);
    expect(page).toContain(assets().uplotCss);
    expect(page).toContain("default-src 'none'");
    expect(page).not.toMatch(/<(script|img|iframe)[^>]*\ssrc=/i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page.match(/<\/script>/g)).toHaveLength(3);
  });

  test("the summary shows the final batch accuracy only when the run recorded one", () => {
    const withAccuracy = syntheticReport();
    const without = { ...withAccuracy, steps: withAccuracy.steps.map((s) => ({ ...s, accuracy: null })) };
    const a = renderReport(withAccuracy);
    const b = renderReport(without);
    if (E.isLeft(a) || E.isLeft(b)) throw new Error("render failed");
    expect(a.right).toContain("final batch accuracy 0.");
    expect(b.right).toContain("final loss ");
    expect(b.right).not.toContain("final batch accuracy");
  });

  test.prop([fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 5 })], {
    numRuns: 10,
  })("embeds exactly the data it was given, and the same data gives the same bytes", (seed, steps, every) => {
    const data = syntheticReport({ seed, steps, every });
    const page = renderReportHtml(data, assets());
    const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(page)?.[1] ?? "";
    expect(parseLikeThePage(json)).toEqual(data);
    expect(renderReportHtml(structuredClone(data), assets())).toBe(page);
  });

  test("escapes hostile text in the title, hyper-parameters and leaf paths", () => {
    const evil = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`;
    const base = syntheticReport({ title: evil });
    const data = {
      ...base,
      run: { ...base.run, hyperparams: { [evil]: evil } },
      leaves: base.leaves.map((l, i) => (i === 0 ? { ...l, path: evil } : l)),
    };
    const html = renderReport(data);
    if (E.isLeft(html)) throw new Error(html.left.message);
    expect(html.right).not.toContain("<img");
    expect(html.right.match(/<script\b/g)).toHaveLength(3);
  });

  test("keeps NaN and infinities of a diverging run", () => {
    const base = syntheticReport({ steps: 5 });
    const steps = base.steps.map((s, i) => (i === 4 ? { ...s, loss: Number.NaN, lr: Number.POSITIVE_INFINITY } : s));
    const page = renderReportHtml({ ...base, steps }, assets());
    const json = /id="report-data">([^<]*)</.exec(page)?.[1] ?? "";
    const back = parseLikeThePage(json) as typeof base;
    expect(back.steps[4]?.loss).toBeNaN();
    expect(back.steps[4]?.lr).toBe(Number.POSITIVE_INFINITY);
  });

  test("refuses invalid data with a Left instead of rendering it", () => {
    const result = renderReport({ ...syntheticReport(), version: 7 as 1 });
    expect(E.isLeft(result)).toBe(true);
  });
});
