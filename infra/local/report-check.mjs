// Opens the demo's report in headless Chromium, fails on any error the page raises or logs,
// checks that the charts and the mail gallery are there, and takes a screenshot.
// Usage: node infra/local/report-check.mjs target/demo/report.html target/demo/report.png
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(path.resolve(".tools/npm/package.json"));
const { chromium } = require("playwright-core");

const [reportPath, screenshotPath] = process.argv.slice(2);
if (!reportPath || !screenshotPath) {
  console.error("usage: report-check.mjs <report.html> <screenshot.png>");
  process.exit(2);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  await page.goto(pathToFileURL(path.resolve(reportPath)).href, { waitUntil: "load" });
  const charts = await page.locator("svg").count();
  const bars = await page.locator("svg rect").count();
  const mails = await page.locator(".mail iframe").count();
  if (charts < 2) problems.push(`expected the segment chart and the RFM grid, found ${charts} svg`);
  if (bars < 26) problems.push(`expected segment bars and 25 grid cells, found ${bars} rects`);
  if (mails < 1) problems.push("the gallery shows no mail");
  // Each mail renders inside its sandboxed frame.
  for (const frame of page.frames().slice(1, 4)) {
    const text = (await frame.locator("body").innerText().catch(() => "")).trim();
    if (!text) problems.push(`a mail frame rendered nothing (${frame.url()})`);
  }
  await page.screenshot({ path: screenshotPath, fullPage: false });
  console.log(`report opened in ${await browser.version()}: ${charts} charts, ${mails} mails; screenshot ${screenshotPath}`);
} finally {
  await browser.close();
}
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
