// Apollo Client's persisted-queries link against a running relgql, hashed queries
// sent with GET: the first client's query is unknown, so the link sends it again
// with its text (POST), which registers it; a second client's same query then
// travels as its hash alone, in one GET whose answer a shared cache may keep.
// Exits non-zero on any problem.
// Usage: node apollo-persisted.mjs http://127.0.0.1:8000/graphql
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const url = process.argv[2];
const sent = [];
const recording = async (input, init) => {
  const response = await fetch(input, init);
  sent.push({
    method: init.method,
    hasQuery: init.method === "GET" ? new URL(input).searchParams.has("query") : "query" in JSON.parse(init.body),
    status: response.status,
    cacheControl: response.headers.get("cache-control"),
  });
  return response;
};
const newClient = () =>
  new ApolloClient({
    link: new PersistedQueryLink({
      sha256: (text) => createHash("sha256").update(text).digest("hex"),
      useGETForHashedQueries: true,
    }).concat(new HttpLink({ uri: url, fetch: recording })),
    cache: new InMemoryCache(),
  });
const problems = [];
const posts = gql("query Posts { posts(first: 2) { nodes { id title } } }");
const show = (value) => JSON.stringify(value);

const first = await newClient().query({ query: posts });
if (first.data?.posts?.nodes?.length !== 2) problems.push(`first answer: ${show(first)}`);
const [unknown, registering] = sent;
if (sent.length !== 2 || unknown.method !== "GET" || unknown.hasQuery || registering.method !== "POST" || !registering.hasQuery) {
  problems.push(`expected a GET of the hash, then a POST with the text; sent ${show(sent)}`);
}
if (unknown?.cacheControl !== "no-store") problems.push(`an unknown hash must not be cached: ${show(unknown)}`);

sent.length = 0;
const second = await newClient().query({ query: posts });
if (show(second.data) !== show(first.data)) problems.push(`second answer: ${show(second)}`);
if (sent.length !== 1 || sent[0].method !== "GET" || sent[0].hasQuery || sent[0].status !== 200) {
  problems.push(`expected one GET of the hash alone; sent ${show(sent)}`);
}
if (!sent[0]?.cacheControl?.startsWith("public")) problems.push(`an anonymous hashed GET may be cached: ${show(sent[0])}`);

for (const problem of problems) console.log(problem);
console.log(problems.length === 0 ? "PersistedQueryLink: ok" : `${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
