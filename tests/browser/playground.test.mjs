// The playground page of `payer-rules serve` in a real browser: Debian's
// Chromium driven by playwright-core (no browser download). Run with
// `node --test tests/browser/` after `npm ci --prefix tests/browser`;
// `cargo test` runs it too (tests/bin/serve.rs, `the_playground_in_chromium_with_playwright`).
//
// It starts the built binary on a free loopback port, fills both editors (a
// bundled policy and a claim it denies a line of), clicks Evaluate and
// compares the page's cells with what `payer-rules eval` decides for the same
// text, follows a reason's `at` link into the policy editor, types a syntax
// error and waits for the diagnostic `payer-rules check` gives, and saves
// screenshots under target/browser/ (or $SCREENSHOT_DIR).
//
// Environment: PAYER_RULES_BIN (default target/debug/payer-rules), CHROMIUM
// (default /usr/bin/chromium), SCREENSHOT_DIR, CI (then a missing browser,
// binary or playwright-core fails instead of skipping).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.PAYER_RULES_BIN ?? path.join(root, "target/debug/payer-rules");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = process.env.SCREENSHOT_DIR ?? path.join(root, "target/browser");
const timeout = 15_000;

/// Why the test cannot run here, or null. Under CI a reason is a failure.
async function missing() {
  if (!existsSync(browserPath)) return `no Chromium at ${browserPath}`;
  if (!existsSync(bin)) return `no payer-rules binary at ${bin} (cargo build first)`;
  try {
    return { chromium: (await import("playwright-core")).chromium };
  } catch (e) {
    return `playwright-core is not installed (npm ci --prefix tests/browser): ${e.message}`;
  }
}

/// `payer-rules serve` on 127.0.0.1:0; resolves with its URL once it listens.
async function serve() {
  const child = spawn(
    bin,
    ["serve", "--addr", "127.0.0.1:0", "--no-watch", "--poll", "0", "--policies", path.join(root, "policies")],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, RUST_LOG: "warn" } },
  );
  const first = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`payer-rules serve exited with ${code} before listening`)));
  });
  const url = first.replace(/^listening on /, "").trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, `no address in ${JSON.stringify(first)}`);
  return { child, url };
}

/// What the CLI says about the same text, as the page must show it: `eval`
/// of the claim under the policy saved as `playground.policy` (the name the
/// playground gives its text), and `check --format json` of broken text.
function oracle(policy, claim, broken) {
  const dir = mkdtempSync(path.join(tmpdir(), "payer-rules-browser-"));
  try {
    writeFileSync(path.join(dir, "playground.policy"), policy);
    // One line: eval reads JSON Lines (the page takes the pretty text).
    writeFileSync(path.join(dir, "claim.jsonl"), `${JSON.stringify(claim)}\n`);
    const evaluated = spawnSync(bin, ["eval", "-q", "-p", "playground.policy", "claim.jsonl"], { cwd: dir, encoding: "utf8" });
    assert.equal(evaluated.status, 0, evaluated.stderr);
    writeFileSync(path.join(dir, "playground.policy"), broken);
    const checked = spawnSync(bin, ["check", "--format", "json", "playground.policy"], { cwd: dir, encoding: "utf8" });
    assert.equal(checked.status, 1, checked.stderr);
    return {
      decision: JSON.parse(evaluated.stdout),
      diagnostic: JSON.parse(checked.stdout.split("\n")[0]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/// The character offset of LINE:COLUMN (1-based) in `text`.
function offset(text, line, column) {
  const lines = text.split("\n");
  return lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
}

async function screenshot(page, name) {
  mkdirSync(shots, { recursive: true });
  const file = path.join(shots, name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(statSync(file).size > 0, `${file} is empty`);
}

test("playground: evaluate, reasons with their at link, diagnostics as you type", async (t) => {
  const found = await missing();
  if (typeof found === "string") {
    if (process.env.CI) assert.fail(`CI must run the browser test: ${found}`);
    t.skip(found);
    return;
  }
  // The bundled Medicare policy, and its example claim with modifier 50 on
  // line 1 (rule M6 denies it; line 2 is allowed).
  const policy = readFileSync(path.join(root, "policies/medicare-tpi.policy"), "utf8");
  const example = readFileSync(path.join(root, "examples/claims.jsonl"), "utf8")
    .split("\n")
    .find((l) => l.includes('"CLM-0000016"'));
  const claim = JSON.parse(example);
  claim.id = "BROWSER-1";
  claim.lines[0].modifiers = ["50"];
  const claimText = JSON.stringify(claim, null, 2);
  const broken = "policy broken {";
  const expected = oracle(policy, claim, broken);
  const denied = expected.decision.lines.find((l) => l.decision === "deny" && l.reasons.length);
  assert.ok(denied, `eval denies a line: ${JSON.stringify(expected.decision)}`);
  const because = denied.reasons[0];
  assert.match(because.at, /^playground\.policy:\d+:\d+$/);

  const { child, url } = await serve();
  const browser = await found.chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(timeout);
    const failures = [];
    page.on("pageerror", (e) => failures.push(e.message));
    await page.goto(`${url}/playground`);
    await page.getByTestId("policy").fill(policy);
    await page.getByTestId("claim").fill(claimText);
    await page.getByTestId("evaluate").click();

    // The claim decision, then the denied line's row: its decision, the
    // first reason's rule, CARC and `at`, as eval gives them.
    await page.waitForFunction(
      (d) => document.querySelector('[data-testid="decision"]').textContent === d,
      expected.decision.decision,
    );
    assert.equal(await page.getByTestId("decision").textContent(), expected.decision.decision);
    const rows = page.getByTestId("lines").locator("tbody tr");
    assert.equal(await rows.count(), expected.decision.lines.length);
    const row = page.getByTestId(`line-${denied.line}`);
    assert.equal(await row.getByTestId("line-decision").textContent(), "deny");
    assert.equal(await row.getByTestId("line-procedure").textContent(), denied.procedure);
    const reason = row.getByTestId("reason").first();
    assert.equal(await reason.getByTestId("reason-rule").textContent(), because.rule);
    assert.equal(await reason.getByTestId("reason-carc").textContent(), because.carc);
    const at = reason.getByTestId("reason-at");
    assert.equal(await at.textContent(), because.at);

    // The `at` link selects the rule's place in the policy editor.
    await at.click();
    const [, line, column] = /:(\d+):(\d+)$/.exec(because.at).map(Number);
    const selected = await page.getByTestId("policy").evaluate((el) => ({
      start: el.selectionStart,
      text: el.value.slice(el.selectionStart, el.selectionEnd),
      focused: document.activeElement === el,
    }));
    assert.equal(selected.start, offset(policy, line, column));
    assert.equal(selected.text, policy.split("\n")[line - 1].slice(column - 1));
    assert.ok(selected.text.includes(because.rule), `the selection is the rule: ${selected.text}`);
    assert.ok(selected.focused);
    await screenshot(page, "playground-decision.png");

    // A syntax error typed into the policy: its diagnostic appears (the page
    // checks 300 ms after the last keystroke), as `check --format json` has it.
    const editor = page.getByTestId("policy");
    await editor.fill("");
    await editor.pressSequentially(broken, { delay: 20 });
    const want = `${expected.diagnostic.code} ${expected.diagnostic.line}:${expected.diagnostic.column} error`;
    await page.waitForFunction(
      (w) => [...document.querySelectorAll('[data-testid="diagnostic"]')].some((li) => li.textContent.startsWith(w)),
      want,
    );
    await screenshot(page, "playground-diagnostic.png");
    assert.deepEqual(failures, [], "no script error on the page");
  } finally {
    await browser.close();
    child.kill();
  }
});
