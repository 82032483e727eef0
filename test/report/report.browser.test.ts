/**
 * The report in a real browser: Debian's headless Chromium, driven by playwright-core, opens a rendered report
 * from file://, moves the step slider, edits the diff inputs and checks what the page shows; it saves a
 * screenshot to out/report.png. Without /usr/bin/chromium the whole suite is skipped, and its name says why.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReportData } from "../../src/report/report-data.js";
import { renderReport } from "../../src/report/render.js";
import { syntheticReport } from "./synthetic.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const suiteName = hasChromium
  ? "the HTML report in headless Chromium"
  : `the HTML report in headless Chromium — SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium)`;
if (!hasChromium) console.warn(`report.browser.test: skipped, ${CHROMIUM} not found (apt-get install -y chromium)`);

const FIELDS = ["paramNorm", "gradNorm", "trustRatio", "updateNorm", "momentumNorm"] as const;
const outDir = fileURLToPath(new URL("../../out/", import.meta.url));

/** Recorded every 2nd step, so that the diff must map an unrecorded step to the one before it. */
const data: ReportData = syntheticReport({ seed: 42, steps: 160, every: 2, title: "synthetic LARS run · 4 leaves" });

describe.skipIf(!hasChromium)(suiteName, () => {
  let workDir = "";
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];
  let url = "";

  beforeAll(async () => {
    const html = renderReport(data);
    if (E.isLeft(html)) throw new Error(html.left.message);
    workDir = mkdtempSync(join(tmpdir(), "larch-report-"));
    const file = join(workDir, "report.html");
    writeFileSync(file, html.right);
    url = pathToFileURL(file).href;
    context = await chromium.launchPersistentContext(join(workDir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
  });

  const cell = (table: string, leaf: string, field: string) =>
    page.locator(`#${table} tr[data-leaf="${leaf}"] td[data-field="${field}"]`);

  /** Every cell of the step table shows the numbers of recorded step `index`. */
  const expectStepTable = async (index: number) => {
    const step = data.steps[index];
    if (step === undefined) throw new Error(`no step ${index}`);
    expect(await page.locator("#step-value").getAttribute("data-value")).toBe(String(step.step));
    expect(await page.locator("#step-value").textContent()).toBe(`step ${step.step}`);
    expect(await page.locator("#step-loss").getAttribute("data-value")).toBe(String(step.loss));
    expect(await page.locator("#step-lr").getAttribute("data-value")).toBe(String(step.lr));
    for (const [j, leaf] of data.leaves.entries()) {
      for (const field of FIELDS) {
        const value = step.leaves[j]?.[field];
        const td = cell("step-table", leaf.path, field);
        expect(await td.getAttribute("data-value")).toBe(String(value));
        const text = (await td.textContent()) ?? "";
        if (value === null || value === undefined) expect(text).toBe("—");
        else expect(Math.abs(Number(text) - value)).toBeLessThanOrEqual(1e-4 * Math.abs(value));
      }
    }
  };

  it("loads from file:// with no other request and no error", () => {
    expect(requests).toEqual([url]);
    expect(problems).toEqual([]);
  });

  it("opens at the last step, and the slider travels to any step's whole per-leaf table", async () => {
    const slider = page.locator("#step-slider");
    expect(await slider.getAttribute("max")).toBe(String(data.steps.length - 1));
    await expectStepTable(data.steps.length - 1);
    await slider.fill("17");
    await expectStepTable(17);
    await slider.focus();
    await page.keyboard.press("ArrowRight");
    await expectStepTable(18);
    await page.locator("#step-prev").click();
    await page.locator("#step-prev").click();
    await expectStepTable(16);
    await slider.fill("0");
    await expectStepTable(0);
  });

  it("clicking a chart travels to the step under the cursor", async () => {
    const over = page.locator("#chart-loss .u-over");
    const box = await over.boundingBox();
    if (box === null) throw new Error("no chart");
    await over.click({ position: { x: box.width * 0.6, y: box.height / 2 } }); // scrolls it into view first
    const shown = Number(await page.locator("#step-value").getAttribute("data-value"));
    const index = data.steps.findIndex((s) => s.step === shown);
    expect(index).toBeGreaterThan(data.steps.length * 0.5);
    expect(index).toBeLessThan(data.steps.length * 0.7);
    await expectStepTable(index);
  });

  it("diffs two chosen steps per leaf, mapping an unrecorded step to the recorded one before it", async () => {
    await page.locator("#diff-a").fill("10");
    await page.locator("#diff-b").fill("101"); // odd steps are not recorded: shows step 100
    const a = data.steps.find((s) => s.step === 10);
    const b = data.steps.find((s) => s.step === 100);
    if (a === undefined || b === undefined) throw new Error("synthetic data lacks steps 10 and 100");
    const summary = page.locator("#diff-steps");
    expect([await summary.getAttribute("data-a"), await summary.getAttribute("data-b")]).toEqual(["10", "100"]);
    expect(await page.locator("#diff-loss").getAttribute("data-delta")).toBe(String((b.loss ?? 0) - (a.loss ?? 0)));
    for (const [j, leaf] of data.leaves.entries()) {
      for (const field of FIELDS) {
        const va = a.leaves[j]?.[field] ?? null;
        const vb = b.leaves[j]?.[field] ?? null;
        const td = cell("diff-table", leaf.path, field);
        expect(await td.getAttribute("data-a")).toBe(String(va));
        expect(await td.getAttribute("data-b")).toBe(String(vb));
        expect(await td.getAttribute("data-delta")).toBe(va === null || vb === null ? "null" : String(vb - va));
        if (va !== null && vb !== null && vb !== va) expect(await td.getAttribute("class")).toBe(vb > va ? "up" : "down");
      }
    }
    // "B ← slider" takes the slider's step.
    await page.locator("#step-slider").fill("30");
    await page.locator("#diff-b-here").click();
    expect(await summary.getAttribute("data-b")).toBe(String(data.steps[30]?.step));
  });

  it("the leaf selector switches the per-leaf charts to that leaf's numbers", async () => {
    const options = await page.locator("#leaf-select option").allTextContents();
    expect(options.map((o) => o.split(" ")[0])).toEqual(data.leaves.map((l) => l.path));
    for (const j of [2, 0]) {
      await page.locator("#leaf-select").selectOption(String(j));
      const over = page.locator("#chart-norms .u-over");
      const box = await over.boundingBox();
      if (box === null) throw new Error("no chart");
      await over.hover({ position: { x: box.width * 0.4, y: box.height / 2 } });
      await page.evaluate("new Promise((done) => requestAnimationFrame(() => done(null)))"); // let the legend redraw
      const legend = page.locator("#chart-norms .u-legend .u-series");
      const stepShown = Number(await legend.nth(0).locator(".u-value").textContent());
      const step = data.steps.find((s) => s.step === stepShown);
      const pText = Number(await legend.nth(1).locator(".u-value").textContent());
      const expected = step?.leaves[j]?.paramNorm ?? Number.NaN;
      expect(Math.abs(pText - expected)).toBeLessThanOrEqual(1e-4 * expected);
    }
  });

  it("a leaf without a trust ratio says so above its γ chart instead of an empty chart", async () => {
    const last = data.leaves.length - 1; // the synthetic run's last leaf records no γ
    await page.locator("#leaf-select").selectOption(String(last));
    expect(await page.locator("#gamma-title").textContent()).toContain("none recorded for this leaf");
    await page.locator("#leaf-select").selectOption("0");
    expect(await page.locator("#gamma-title").textContent()).toBe("trust ratio γ");
  });

  it("saves a screenshot to out/report.png", async () => {
    await page.locator("#leaf-select").selectOption("0");
    await page.locator("#step-slider").fill(String(Math.round(data.steps.length * 0.4)));
    await page.locator("#diff-a").fill(String(data.steps[Math.round(data.steps.length * 0.2)]?.step));
    await page.locator("#diff-b").fill(String(data.steps[Math.round(data.steps.length * 0.75)]?.step));
    await page.mouse.move(0, 0);
    mkdirSync(outDir, { recursive: true });
    const png = await page.screenshot({ path: join(outDir, "report.png"), fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(problems).toEqual([]);
  });
});
