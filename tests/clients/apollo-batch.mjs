// Apollo Client's BatchHttpLink against a running relgql: queries issued together
// travel in one HTTP request (a JSON array) and each gets its own answer; an error
// in one of them reaches that query alone. Exits non-zero on any problem.
// Usage: node apollo-batch.mjs http://127.0.0.1:8000/graphql
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";

const url = process.argv[2];
const sent = [];
const recording = (input, init) => {
  sent.push(JSON.parse(init.body));
  return fetch(input, init);
};
const client = new ApolloClient({
  link: new BatchHttpLink({ uri: url, batchMax: 10, batchInterval: 20, fetch: recording }),
  cache: new InMemoryCache(),
});
const problems = [];
const query = (text) => client.query({ query: gql(text), fetchPolicy: "network-only" });

const [users, posts, courses] = await Promise.all([
  query("query Users { users(first: 2) { nodes { id name } } }"),
  query("query Posts { posts(first: 3) { nodes { id title } } }"),
  query("query Courses { courses(first: 1) { nodes { id name } } }"),
]);
if (sent.length !== 1 || !Array.isArray(sent[0]) || sent[0].length !== 3) {
  problems.push(`expected one request holding three operations, sent ${JSON.stringify(sent)}`);
}
if (users.data?.users?.nodes?.length !== 2) problems.push(`users: ${JSON.stringify(users)}`);
if (posts.data?.posts?.nodes?.length !== 3) problems.push(`posts: ${JSON.stringify(posts)}`);
if (courses.data?.courses?.nodes?.length !== 1) problems.push(`courses: ${JSON.stringify(courses)}`);

sent.length = 0;
const [good, bad] = await Promise.allSettled([
  query("query Good { users(first: 1) { totalCount } }"),
  query("query Bad { users(first: -1) { totalCount } }"),
]);
if (sent.length !== 1) problems.push(`expected one request for the second pair, sent ${sent.length}`);
if (good.status !== "fulfilled" || typeof good.value.data?.users?.totalCount !== "number") {
  problems.push(`the good query of a batch with a bad one: ${JSON.stringify(good)}`);
}
const code = bad.reason?.errors?.[0]?.extensions?.code;
if (bad.status !== "rejected" || code !== "BAD_USER_INPUT") {
  problems.push(`the bad query should fail with BAD_USER_INPUT: ${bad.status} ${code} ${bad.reason}`);
}

for (const problem of problems) console.log(problem);
console.log(problems.length === 0 ? "BatchHttpLink: ok" : `${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
