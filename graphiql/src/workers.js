// Monaco runs its language services in web workers: each is bundled on its own
// (see package.json) and served by relgql beside the page.
const workers = {
  json: "/graphiql/json.worker.js",
  graphql: "/graphiql/graphql.worker.js",
};

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    return new Worker(workers[label] ?? "/graphiql/editor.worker.js");
  },
};
