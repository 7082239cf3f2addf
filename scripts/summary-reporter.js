// Prints vitest's totals as one plain line, "N passed, N failed, N skipped", for any CI.
export default class SummaryReporter {
  onFinished(files = []) {
    let passed = 0,
      failed = 0,
      skipped = 0;
    const walk = (t) => {
      if (t.type === 'test') {
        const s = t.result?.state;
        if (s === 'pass') passed++;
        else if (s === 'fail') failed++;
        else skipped++;
      }
      (t.tasks ?? []).forEach(walk);
    };
    files.forEach(walk);
    for (const f of files) if (f.result?.state === 'fail' && !(f.tasks ?? []).length) failed++;
    console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
