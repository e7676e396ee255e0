// `npm run bench`: every figure the issues name, printed and written to bench/results.json.
// Timings are reported next to a floor measured in the same run, and goals as ratios to it.
// Each area adds its figures in its own file (bench/<area>.ts) exporting `run(ctx)`.

import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atomicsPingPongUs } from './floors.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the figure must reach, as text (e.g. "<= 60"), and whether it did. */
  goal?: string;
  met?: boolean;
  note?: string;
}

export interface BenchContext {
  /** The repository root. */
  repo: string;
  figures: Map<string, Figure>;
  add(f: Figure): void;
  get(name: string): number | undefined;
}

const AREAS = ['runtime', 'build', 'chain', 'net', 'modules', 'store', 'ui', 'run-tests', 'security'];

async function main(): Promise<void> {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const figures = new Map<string, Figure>();
  const ctx: BenchContext = {
    repo,
    figures,
    add(f) {
      figures.set(f.name, f);
      const goal = f.goal ? `  goal ${f.goal}: ${f.met ? 'met' : 'NOT met'}` : '';
      console.log(`${f.name.padEnd(32)} ${f.value.toFixed(f.value < 10 ? 2 : 1).padStart(12)} ${f.unit}${goal}${f.note ? `  (${f.note})` : ''}`);
    },
    get: (name) => figures.get(name)?.value,
  };
  ctx.add({ name: 'floor_atomics_pingpong_us', value: await atomicsPingPongUs(), unit: 'us' });
  const only = process.argv.slice(2);
  for (const area of AREAS) {
    if (only.length > 0 && !only.includes(area)) continue;
    const file = join(dirname(fileURLToPath(import.meta.url)), `${area}.js`);
    if (!existsSync(file)) continue;
    const mod = (await import(file)) as { run(ctx: BenchContext): Promise<void> };
    try {
      await mod.run(ctx);
    } catch (e) {
      console.error(`bench area ${area} failed: ${e instanceof Error ? e.stack : e}`);
      process.exitCode = 1;
    }
  }
  const out = join(repo, 'bench/results.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      { date: new Date().toISOString(), node: process.version, figures: Object.fromEntries([...figures].map(([k, f]) => [k, f])) },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

await main();
