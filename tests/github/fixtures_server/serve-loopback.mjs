// Runs @octokit/fixtures-server on 127.0.0.1 only, with modern GitHub headers accepted.
//
// Why a wrapper: the stock CLI (bin/server.js) listens on every interface and matches the
// recorded request headers exactly (`Accept: application/vnd.github.v3+json`,
// `Authorization: token …`, `Content-Type: application/json; charset=utf-8`, an exact
// Content-Length), which a client that sends `Authorization: Bearer` and
// `Accept: application/vnd.github+json` can never satisfy. nock accepts function matchers in
// `reqheaders`, and the server keeps them through its deep clone, so we relax those four.
//
// Environment: PORT (0 = any free port), FIXTURES_SERVER_PREFIX (the npm prefix holding
// node_modules/@octokit/fixtures-server), CUSTOM_SCENARIOS_DIR (optional nock JSON files authored
// by us, one scenario per file). Prints the bound address as one JSON line on stdout.
import { createRequire } from "node:module";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const prefix = process.env.FIXTURES_SERVER_PREFIX;
if (!prefix) throw new Error("FIXTURES_SERVER_PREFIX is not set");
// The packages live under .tools/, not beside this file, so resolve them from there.
const require = createRequire(join(prefix, "node_modules", "_resolve_from_here.js"));
const load = async (name) => (await import(pathToFileURL(require.resolve(name)).href)).default;
const express = await load("express");
const fixturesServer = await load("@octokit/fixtures-server");
const scenariosDir = join(
  dirname(require.resolve("@octokit/fixtures/package.json")),
  "scenarios",
  "api.github.com",
);

function relax(fx) {
  const h = fx.reqheaders || (fx.reqheaders = {});
  if (h.accept)
    h.accept = (v) => /^application\/vnd\.github(\.v3)?(\.[a-z0-9-]+)?(\+json)?/.test(String(v));
  if (h.authorization) h.authorization = (v) => /^(token|Bearer) \S+$/.test(String(v));
  if (typeof h["content-type"] === "string" && h["content-type"].startsWith("application/json"))
    h["content-type"] = (v) => String(v).startsWith("application/json");
  delete h["content-length"];
  return fx;
}

const recorded = (name) =>
  JSON.parse(readFileSync(join(scenariosDir, name, "normalized-fixture.json"), "utf8"));

// A custom scenario is a nock JSON array, or {"from": "<recorded scenario>", "query": {"<index>":
// "<query string>"}}: the recording as made, with the query of the listed requests replaced (nock
// matches a query exactly, so a client that asks for other parameters can replay real answers).
function derive(spec) {
  const list = recorded(spec.from);
  for (const [index, query] of Object.entries(spec.query || {})) {
    const fx = list[Number(index)];
    if (!fx) throw new Error(`${spec.from} has no request #${index}`);
    fx.path = fx.path.split("?")[0] + (query ? `?${query}` : "");
  }
  return list;
}

const fixtures = {};
for (const name of readdirSync(scenariosDir)) {
  fixtures[name] = recorded(name).map(relax);
}
const extra = process.env.CUSTOM_SCENARIOS_DIR;
if (extra && existsSync(extra)) {
  for (const f of readdirSync(extra).filter((f) => f.endsWith(".json"))) {
    const data = JSON.parse(readFileSync(join(extra, f), "utf8"));
    fixtures[basename(f, ".json")] = (Array.isArray(data) ? data : derive(data)).map(relax);
  }
}

const app = express();
app.get("/ping", (req, res) => res.json({ ok: true, scenarios: Object.keys(fixtures).sort() }));
const port = parseInt(process.env.PORT || "0", 10);
const server = app.listen(port, "127.0.0.1", () => {
  const { address, port: bound } = server.address();
  // fixturesUrl is baked into every rewritten URL (Link, html_url), so it needs the bound port;
  // mount the middleware only once the port is known (port 0 picks a free one).
  app.use(
    fixturesServer({
      port: bound,
      fixturesUrl: `http://127.0.0.1:${bound}`,
      logLevel: process.env.FIXTURES_LOG_LEVEL || "warn",
      fixtures,
    }),
  );
  console.log(JSON.stringify({ address, port: bound }));
});
