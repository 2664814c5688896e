// Opens ticketdesk's GraphiQL in Debian's chromium, runs one query through the UI, prints a JSON report.
// Usage: GRAPHIQL_TOKEN=<jwt> node graphiql_check.mjs <url of /graphql> <screenshot.png>
// Driven by tests/test_graphiql_browser.py, which makes the assertions; this script only observes.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const token = process.env.GRAPHIQL_TOKEN ?? "";
const query = process.env.GRAPHIQL_QUERY ?? "{ viewer { id role } }";
const allowedHost = new URL(url).hostname;
const report = { requests: [], offHost: [], consoleErrors: [], steps: {} };
const started = Date.now();
const step = (name) => (report.steps[name] = Date.now() - started);

// Flags keep chromium from phoning home, so every request seen below comes from the page itself.
let page;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Every request is recorded; anything off the server's host is aborted, so a CDN fallback fails loudly.
  await context.route("**/*", (route) => {
    const requested = route.request().url();
    report.requests.push(requested);
    if (new URL(requested).hostname !== allowedHost) {
      report.offHost.push(requested);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  page = await context.newPage();
  page.on("websocket", (ws) => {
    report.requests.push(ws.url());
    if (new URL(ws.url()).hostname !== allowedHost) report.offHost.push(ws.url());
  });
  page.on("console", (msg) => msg.type() === "error" && report.consoleErrors.push(msg.text()));
  page.on("pageerror", (err) => report.consoleErrors.push(String(err)));
  page.on("requestfailed", (req) => report.consoleErrors.push(`failed: ${req.url()} ${req.failure()?.errorText}`));

  await page.goto(url, { waitUntil: "load" });
  report.title = await page.title();
  const queryEditor = page.locator("section.graphiql-query-editor .CodeMirror");
  await queryEditor.waitFor({ state: "visible", timeout: 20000 });
  step("editor");

  // Typed like a person would; CodeMirror's bracket closing overtypes the closing braces.
  await queryEditor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(query);
  await page.keyboard.press("Escape"); // close the autocomplete popup, if any
  report.query = await queryEditor.evaluate((el) => el.CodeMirror.getValue());

  await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
  const headersEditor = page.locator(
    'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror',
  );
  await headersEditor.waitFor({ state: "visible" });
  await headersEditor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  // Pasted rather than typed: a JWT typed key by key only costs seconds and proves nothing more.
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
  report.headers = await headersEditor.evaluate((el) => el.CodeMirror.getValue());
  step("typed");

  await page.locator("button.graphiql-execute-button").click();
  const response = page.locator(".graphiql-response .CodeMirror");
  await page.waitForFunction(
    () => document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue().trim(),
    null,
    { timeout: 15000 },
  );
  report.result = await response.evaluate((el) => el.CodeMirror.getValue());
  step("result");
  await page.screenshot({ path: screenshot });
} catch (err) {
  report.error = String(err?.stack ?? err);
  await page?.screenshot({ path: screenshot }).catch(() => {}); // what the page showed when it failed
} finally {
  await browser.close();
}
report.steps.total = Date.now() - started;
process.stdout.write(JSON.stringify(report) + "\n");
