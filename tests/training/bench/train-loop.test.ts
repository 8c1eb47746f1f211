// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureTrainLoop } from '../../../training/bench/train-loop.ts';
import { loopLine, type BatchResult } from '../../../training/bench/report.ts';

void test("the bench's end-to-end line runs the trainer's own loop and reads its timed windows", async () => {
  const loop = await measureTrainLoop(4, 1, 2, 2, { latent: 8, width: 8 });
  assert.equal(loop.preset, 'projector');
  assert.equal(loop.steps, 4, 'two timed windows of two steps; the warm-up window is dropped');
  assert.ok(loop.secondsPerStep > 0 && Number.isFinite(loop.secondsPerStep));
  assert.ok(loop.hostShare > 0 && loop.hostShare < 1, `host share ${loop.hostShare}`);

  const row: BatchResult = {
    batch: 4,
    ort: [0.1, 0.2, 0.3],
    torch: null,
    denseFlops: 1,
    totalFlops: 1,
    ceilings: [1],
    background: [],
    lossesAgree: null,
    ortPeakMiB: null,
    torchPeakMiB: null,
    loop: { preset: 'projector', steps: 10, secondsPerStep: 0.25, hostShare: 0.04 },
  };
  assert.equal(
    loopLine(row),
    'batch 4: npm run train (preset projector, 10 steps after a warm-up window) 0.250 s/step = 80.0 % of the ' +
      "bench's speed (0.200 s/step); outside session.run 4.0 % of its wall time",
  );
  assert.equal(loopLine({ ...row, loop: null }), null);
});
