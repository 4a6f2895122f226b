// Copyright 2026 replicate-async developers
// SPDX-License-Identifier: Apache-2.0
// The official JS client's load for benchmarks/fanout.py:
//   node load.mjs BASE_URL MODEL N CONCURRENCY
// `replicate.run` with its defaults (wait: {mode: "block"}: a create with `Prefer: wait`, then
// polling every 0.5 s when the reply is `starting`), N predictions from CONCURRENCY workers.
// Prints one JSON line: wall and CPU seconds of the load (after the import), failures, RSS.
const [baseUrl, model, n, c] = process.argv.slice(2);
const total = Number(n);

const { default: Replicate } = await import("replicate");
const replicate = new Replicate({ auth: "r8_emulator0000000000000000000000000000", baseUrl });
const rssBefore = process.memoryUsage().rss;

const cpu0 = process.cpuUsage();
const t0 = performance.now();
let next = 0;
let failures = 0;

async function worker() {
  while (next < total) {
    const i = next++;
    try {
      const output = await replicate.run(model, { input: { prompt: `job ${i}` } });
      if (output === null || output === undefined) {
        throw new Error("run returned no output");
      }
    } catch (error) {
      failures += 1;
      if (failures <= 3) console.error(String(error).slice(0, 300));
    }
  }
}

await Promise.all(Array.from({ length: Math.min(Number(c), total) }, worker));
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    wall: (performance.now() - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    failures,
    rss_before_mb: rssBefore / 1048576,
  }),
);
