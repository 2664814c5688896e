// Opens ticketdesk's GraphiQL in Debian's chromium, runs a query and then (if given) a subscription through
// the UI, and prints a JSON report.
// Usage: GRAPHIQL_TOKEN=<jwt> [GRAPHIQL_SUBSCRIPTION=... GRAPHIQL_EXPECT=<text>] \
//          node graphiql_check.mjs <url of /graphql> <screenshot.png>
// The subscription runs until its result pane contains GRAPHIQL_EXPECT: whoever drives this script makes
// the server publish that event meanwhile (it can see the subscription arrive on /readyz).
// Driven by tests/test_graphiql_browser.py, which makes the assertions; this script only observes.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const token = process.env.GRAPHIQL_TOKEN ?? "";
const query = process.env.GRAPHIQL_QUERY ?? "{ viewer { id role } }";
const subscription = process.env.GRAPHIQL_SUBSCRIPTION ?? "";
const expected = process.env.GRAPHIQL_EXPECT ?? "";
const eventTimeout = Number(process.env.GRAPHIQL_EVENT_TIMEOUT_MS ?? 30000);
const allowedHost = new URL(url).hostname;
const report = { requests: [], offHost: [], consoleErrors: [], sockets: [], steps: {} };
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
    // The message types each way, and what connection_init carried (where the server looks for the token).
    const socket = { url: ws.url(), sent: [], received: [], closed: false };
    report.sockets.push(socket);
    const parse = (frame) => { try { return JSON.parse(frame.payload); } catch { return {}; } };
    ws.on("framesent", (frame) => {
      const message = parse(frame);
      socket.sent.push(message.type);
      if (message.type === "connection_init") socket.connectionInit = message.payload ?? null;
    });
    ws.on("framereceived", (frame) => socket.received.push(parse(frame).type));
    ws.on("close", () => (socket.closed = true));
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
  const typeOperation = async (text) => {
    await queryEditor.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.type(text);
    await page.keyboard.press("Escape"); // close the autocomplete popup, if any
    // GraphiQL parses the editor 100 ms after the last key, and picks HTTP or WebSocket from that parse:
    // run before it and a subscription typed over a query goes out as a query. A person is never that fast.
    await page.waitForFunction(
      () => {
        const editor = document.querySelector("section.graphiql-query-editor .CodeMirror")?.CodeMirror;
        return editor?.documentAST?.loc?.source.body === editor?.getValue();
      },
      null,
      { timeout: 5000 },
    );
    return queryEditor.evaluate((el) => el.CodeMirror.getValue());
  };
  report.query = await typeOperation(query);

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

  if (subscription) {
    // Same editor, same Headers tab: GraphiQL sends a subscription over WebSocket, not HTTP.
    report.subscription = await typeOperation(subscription);
    await page.locator("button.graphiql-execute-button").click();
    step("subscribed");
    try {
      await page.waitForFunction(
        (text) => document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue().includes(text),
        expected,
        { timeout: eventTimeout },
      );
    } finally {
      report.event = await response.evaluate((el) => el.CodeMirror.getValue()); // also what a failure showed
    }
    // Live means the subscription still runs when the event shows: the button offers to stop it.
    report.runButton = await page.locator("button.graphiql-execute-button").getAttribute("aria-label");
    step("event");
  }
  await page.screenshot({ path: screenshot });
} catch (err) {
  report.error = String(err?.stack ?? err);
  await page?.screenshot({ path: screenshot }).catch(() => {}); // what the page showed when it failed
} finally {
  await browser.close();
}
report.steps.total = Date.now() - started;
process.stdout.write(JSON.stringify(report) + "\n");
