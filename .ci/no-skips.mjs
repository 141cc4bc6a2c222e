// CI guard for F14 (tests skipped silently): reads vitest JSON reports and
// fails when a suite skipped, left pending or marked todo any test, or ran
// none at all. In CI every test must run: real PostgreSQL is there, Chromium
// is there, so a skip can only be a mistake (a stray skipIf, a missing binding).
//
//   node .ci/no-skips.mjs test-results/unit.json [more.json …]
import { existsSync, readFileSync } from "node:fs";

let failed = false;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`no-skips: ${file} is missing: the suite did not report`);
    failed = true;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  const notRun = [];
  for (const suite of report.testResults ?? []) {
    for (const t of suite.assertionResults ?? []) {
      if (t.status !== "passed" && t.status !== "failed") notRun.push(`${t.status}: ${suite.name.replace(`${process.cwd()}/`, "")} > ${t.fullName}`);
    }
  }
  const counted = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (counted > 0 || notRun.length > 0) {
    console.error(`no-skips: ${file}: ${Math.max(counted, notRun.length)} test(s) did not run; in CI every test runs (F14):`);
    for (const line of notRun) console.error(`  ${line}`);
    failed = true;
  } else if (!(report.numTotalTests > 0)) {
    console.error(`no-skips: ${file} reports no tests at all`);
    failed = true;
  } else {
    console.log(`no-skips: ${file}: all ${report.numTotalTests} tests ran`);
  }
}
if (failed) process.exit(1);
