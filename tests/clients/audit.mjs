// Runs the graphql-http audit suite (the GraphQL-over-HTTP specification's MUST and
// SHOULD items) against a running relgql; exits non-zero if any item fails.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
let failed = 0;
for (const result of results) {
  if (result.status === "ok") continue;
  if (result.status === "error" || result.status === "warn") failed += 1;
  console.log(`${result.status.toUpperCase()} ${result.name}: ${result.reason}`);
}
const passed = results.filter((r) => r.status === "ok").length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
