// The GraphiQL page of relgql: everything it needs is served by relgql itself.
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import "graphiql/graphiql.css";

const endpoint = new URL("/graphql", window.location.href);
const subscriptions = new URL(endpoint);
subscriptions.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

// Subscriptions send the headers of the editor's "Headers" tab as the
// connection_init payload, so `{"Authorization": "Bearer <token>"}` signs in both.
const fetcher = createGraphiQLFetcher({
  url: endpoint.toString(),
  subscriptionUrl: subscriptions.toString(),
});

const defaultQuery = `# Welcome to relgql. Run this with the play button (or Ctrl-Enter).
# To sign in: run the login mutation below, then put
#   {"Authorization": "Bearer <token>"}
# in the Headers tab; subscriptions use the same header.
query Feed {
  posts(first: 3, orderBy: [{field: CREATED_AT, direction: DESC}]) {
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

createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    headers: "{}",
    shouldPersistHeaders: true,
  }),
);
