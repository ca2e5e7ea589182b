// Relay's persisted queries against relgql's trusted documents.
//
//   node relay-persisted.mjs compile DIR
//     writes a Relay project into DIR and runs Relay's compiler on it, which
//     writes DIR/persisted.json ({id: document}, ids SHA-256) and the artifacts;
//   node relay-persisted.mjs run DIR URL
//     runs the compiled query through Relay's runtime against URL (a relgql
//     serving DIR/persisted.json with TRUSTED_DOCUMENTS_ONLY), sending only its
//     id, and checks that a query not in the manifest is refused.
// Exits non-zero on any problem.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import relay from "relay-runtime";

const here = dirname(fileURLToPath(import.meta.url));
const [mode, dir, url] = process.argv.slice(2);

if (mode === "compile") {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(
    join(dir, "src", "Posts.js"),
    "graphql`query PostsQuery($first: Int!) { posts(first: $first) { nodes { id title author { name } } } }`;\n",
  );
  // The compiler writes into the manifest, which must exist; its artifacts are
  // ES modules.
  writeFileSync(join(dir, "persisted.json"), "{}");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    join(dir, "relay.config.json"),
    JSON.stringify({
      src: "./src",
      schema: resolve(here, "../../schema.graphql"),
      language: "javascript",
      persistConfig: { file: "./persisted.json", algorithm: "SHA256" },
    }),
  );
  const compiler = join(here, "node_modules", "relay-compiler", "cli.js");
  const compiled = spawnSync(process.execPath, [compiler], { cwd: dir, encoding: "utf8" });
  const output = `${compiled.stdout}${compiled.stderr}`;
  if (compiled.status !== 0) {
    console.log(`relay-compiler failed:\n${output}`);
    process.exit(1);
  }
  console.log("relay-compiler: ok");
  process.exit(0);
}

const artifact = pathToFileURL(join(dir, "src", "__generated__", "PostsQuery.graphql.js"));
const { default: PostsQuery } = await import(artifact);
const problems = [];
const post = async (body) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify(body),
  });
  return response.json();
};
if (PostsQuery.params.text !== null || typeof PostsQuery.params.id !== "string") {
  problems.push(`the artifact should carry an id and no text: ${JSON.stringify(PostsQuery.params)}`);
}
const network = relay.Network.create((params, variables) => post({ doc_id: params.id, variables }));
const environment = new relay.Environment({ network, store: new relay.Store(new relay.RecordSource()) });
const data = await relay.fetchQuery(environment, PostsQuery, { first: 2 }).toPromise();
const nodes = data?.posts?.nodes;
if (nodes?.length !== 2 || typeof nodes[0].title !== "string" || typeof nodes[0].author?.name !== "string") {
  problems.push(`Relay's answer: ${JSON.stringify(data)}`);
}
const other = await post({ query: "{ posts { totalCount } }" });
if (other.errors?.[0]?.extensions?.code !== "FORBIDDEN") {
  problems.push(`a document not in the manifest should be refused: ${JSON.stringify(other)}`);
}

for (const problem of problems) console.log(problem);
console.log(problems.length === 0 ? "Relay persisted queries: ok" : `${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
