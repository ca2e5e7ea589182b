// The GraphiQL page of relgql: everything it needs is served by relgql itself.
import "./workers.js";
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { parse } from "graphql";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";

const endpoint = new URL("/graphql", window.location.href);
const subscriptions = new URL(endpoint);
subscriptions.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

// Subscriptions send the headers of the editor's "Headers" tab as the
// connection_init payload, so `{"Authorization": "Bearer <token>"}` signs in both.
const send = createGraphiQLFetcher({
  url: endpoint.toString(),
  subscriptionUrl: subscriptions.toString(),
});

// GraphiQL reads the operation names out of the editor 100 ms after a change, so a
// query pasted and run at once would go with the previous text's operation name
// (and be refused as naming no operation of its own). The name is checked against
// the text being sent: one the text does not have gives way to its only operation.
function operationNameOf(query, sent) {
  let names;
  try {
    names = parse(query)
      .definitions.filter((definition) => definition.kind === "OperationDefinition")
      .map((operation) => operation.name?.value);
  } catch {
    return sent;
  }
  if (names.includes(sent)) return sent;
  return names.length === 1 ? names[0] : sent;
}

const fetcher = (params, options) =>
  send({ ...params, operationName: operationNameOf(params.query, params.operationName) }, options);

const defaultQuery = `# Welcome to relgql. Run this with the play button (or Ctrl-Enter).
# The Explorer (the compass on the left) builds a query by clicking through the schema.
# To sign in: run the login mutation below, then put
#   {"Authorization": "Bearer <token>"}
# in the Headers tab; subscriptions use the same header.
query Feed {
  posts(first: 3, orderBy: {field: CREATED_AT, direction: DESC}) {
    nodes {
      title
      author { name profile { bio } }
      comments(first: 2) { totalCount nodes { body author { name } } }
    }
  }
}

mutation SignIn {
  login(input: {email: "demo@example.com", password: "relgql-demo"}) { token }
}

subscription Comments {
  commentAdded { body author { name } post { title } }
}
`;

const plugins = [explorerPlugin()];

createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    initialHeaders: "{}",
    shouldPersistHeaders: true,
    plugins,
  }),
);
