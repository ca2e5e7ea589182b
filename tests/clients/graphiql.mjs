// Opens relgql's GraphiQL in headless Chromium with every request to any other host
// refused: checks the default document (sign-in and a subscription), that the
// Explorer plugin shows the schema's fields, and that a query pasted into the
// editor and run as soon as it shows (before GraphiQL reads the new text's
// operation names) runs that query.
// Usage: node graphiql.mjs http://127.0.0.1:8000 [/usr/bin/chromium]
import { chromium } from "playwright-core";

const base = process.argv[2];
const executablePath = process.argv[3] ?? "/usr/bin/chromium";
const origin = new URL(base).origin;
const problems = [];

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    problems.push(`asked another host: ${url}`);
    return route.abort();
  });
  const sent = [];
  page.on("request", (request) => {
    if (request.url() === `${origin}/graphql` && request.method() === "POST") sent.push(request.postDataJSON());
  });

  // GraphiQL asks for the schema first.
  const schema = page.waitForResponse(
    (response) => response.url() === `${origin}/graphql` && response.request().method() === "POST",
    { timeout: 20000 },
  );
  await page.goto(`${base}/graphiql`, { waitUntil: "load" });
  if ((await schema).status() !== 200) problems.push("the schema did not load");
  const editor = ".graphiql-query-editor .monaco-editor";
  await page.waitForSelector(`${editor} .view-lines`, { timeout: 20000 });
  const shown = (await page.innerText(`${editor} .view-lines`)).replace(/\s+/g, " ");
  for (const part of ["query Feed", "mutation SignIn", "subscription Comments"]) {
    if (!shown.includes(part)) problems.push(`the default document lacks ${part}: ${shown}`);
  }

  // The Explorer lists the root fields once the schema is there.
  await page.click('button[aria-label="Show GraphiQL Explorer"]');
  await page.waitForFunction(
    () => /courses[\s\S]*posts[\s\S]*users/.test(document.querySelector(".graphiql-explorer-root")?.innerText ?? ""),
    null,
    { timeout: 20000 },
  );

  // Paste over the whole document and run it as soon as it shows.
  const query =
    "{ users(first: 1) { nodes { name posts(first: 1) { nodes { title comments(first: 1) { nodes { author { name } } } } } } } }";
  // The response is an editor too: its text comes with non-breaking spaces, and
  // wrapped.
  const text = (selector) => page.innerText(selector).then((shown) => shown.replace(/\s+/g, " "));
  await page.evaluate((text) => navigator.clipboard.writeText(text), query);
  // Monaco moves the focus to its text area after the click: keys pressed before
  // that go to the page, and the paste is lost.
  await page.click(`${editor} .view-lines`);
  await page.waitForSelector(`${editor}.focused`, { timeout: 20000 }).catch(async () => {
    problems.push("the query editor did not take the focus when clicked");
  });
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Control+V");
  // Monaco applies a paste after an asynchronous step: run as soon as it shows,
  // within GraphiQL's 100 ms wait to read the operation names from the new text.
  await page.waitForFunction(
    // Compared without spaces: Monaco may wrap the line after a bracket.
    ([selector, pasted]) => document.querySelector(selector)?.innerText.replace(/\s+/g, "") === pasted,
    [`${editor} .view-lines`, query.replace(/\s+/g, "")],
    { timeout: 20000, polling: 5 },
  ).catch(async () => {
    const [focused, clipboard] = await page.evaluate(async () => [
      `${document.activeElement?.tagName}.${document.activeElement?.className}`,
      await navigator.clipboard.readText().catch((error) => `unreadable: ${error}`),
    ]);
    problems.push(
      `the pasted query did not show in the editor: ${await text(`${editor} .view-lines`)}` +
        ` (focus on ${focused}; clipboard: ${clipboard})`,
    );
  });
  sent.length = 0;
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(
    () => document.querySelector(".graphiql-response")?.innerText.replace(/\s+/g, " ").includes("Ada Lovelace"),
    null,
    { timeout: 20000 },
  ).catch(async () => {
    problems.push(`no answer to the pasted query: ${await text(".graphiql-response")}`);
  });
  if (sent.length !== 1 || sent[0].query !== query || sent[0].operationName) {
    problems.push(`expected the pasted query alone, without the old operation name; sent ${JSON.stringify(sent)}`);
  }
  const result = await text(".graphiql-response");
  if (!result.includes("Notes on the Analytical Engine")) problems.push(`unexpected result: ${result}`);
  await page.screenshot({ path: process.env.SCREENSHOT ?? "/tmp/relgql-graphiql.png" });
} finally {
  await browser.close();
}

if (problems.length > 0) {
  console.log(problems.join("\n"));
  console.log("0 passed, 1 failed");
  process.exit(1);
}
console.log("GraphiQL showed its default document and the Explorer, and ran a pasted query at once, with no request to any other host");
console.log("1 passed, 0 failed");
