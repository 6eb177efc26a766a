// What the designer opens a flow with, requested side by side: the flow,
// its stored graph (automatic layout and diagnostics), the node types and
// the flow schema. app.js starts these requests for /flows/{name} while it
// checks the session and loads the designer's modules.

import { request, flowSchema } from './api.js';
import { loadNodeTypes } from './nodetypes.js';

// flowData starts the requests for flow name and returns their promises
// {flow, graph, types, schema}; graph resolves to null when it fails (the
// designer then lays the flow out from its own check). quiet: a 401 does
// not end the session (it is being checked at the same time).
export function flowData(name, quiet = false) {
  const path = `/flows/${encodeURIComponent(name)}`;
  const data = {
    flow: request('GET', path, { quiet401: quiet }),
    graph: request('GET', `${path}/graph`, { quiet401: true }).catch(() => null),
    types: loadNodeTypes({ quiet401: quiet }),
    schema: flowSchema(),
  };
  // Unused when the session turns out to be over: not an unhandled rejection.
  for (const p of Object.values(data)) p.catch(() => {});
  return data;
}
